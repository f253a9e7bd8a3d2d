//! The cart function: `GET /cart`, `PATCH /cart/items/{product_id}` (set a line, refreshing its
//! hold) and `DELETE /cart/items/{product_id}` (remove a line, releasing its hold at once).

use bazaar_domain::cart::LineChange;
use bazaar_domain::error::{Error, Resource};
use bazaar_domain::ports::CartStore;
use bazaar_domain::services::cart::CartService;
use bazaar_domain::validate::CartItemPatch;
use bazaar_lambda::auth::AuthMode;
use bazaar_lambda::env::Config;
use bazaar_lambda::http;
use bazaar_lambda::http::{Params, Route, is_plausible_id, json, json_body, match_route};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Get,
    SetLine,
    RemoveLine,
}

/// The routes of this function (template.yaml must agree; a test checks).
pub const ROUTES: &[(Route, Op)] = &[
    (Route::new("GET", "/cart"), Op::Get),
    (Route::new("PATCH", "/cart/items/{product_id}"), Op::SetLine),
    (
        Route::new("DELETE", "/cart/items/{product_id}"),
        Op::RemoveLine,
    ),
];

/// State built once per cold start.
pub struct App<S> {
    carts: CartService<S>,
    auth: AuthMode,
    hold_seconds: i64,
    service: String,
}

fn product_param(params: &Params) -> Result<String, Error> {
    let id = params.get("product_id")?;
    if is_plausible_id(id) {
        Ok(id.to_owned())
    } else {
        Err(Error::not_found(Resource::Product, id))
    }
}

impl<S: CartStore> App<S> {
    /// The write quota (`cart`) is counted in each write's own transaction.
    pub fn new(store: S, config: &Config) -> Self {
        Self {
            carts: CartService::new(store).with_quotas(config.quotas.clone()),
            auth: config.auth.clone(),
            hold_seconds: config.hold_seconds,
            service: config.service.clone(),
        }
    }

    async fn dispatch(&self, req: Request) -> Result<Response<Body>, Error> {
        let (op, params) = match_route(ROUTES, req.method().as_str(), req.uri().path())?;
        let buyer = self.auth.require(&req)?;
        let cart = match op {
            Op::Get => self.carts.cart(&buyer.user_id).await?,
            Op::SetLine => {
                let product_id = product_param(&params)?;
                let quantity = json_body::<CartItemPatch>(&req)?.validate()?;
                self.carts
                    .write_line(
                        &buyer.user_id,
                        &product_id,
                        LineChange::Set(quantity),
                        self.hold_seconds,
                    )
                    .await?
            }
            Op::RemoveLine => {
                let product_id = product_param(&params)?;
                self.carts
                    .remove_line(&buyer.user_id, &product_id, self.hold_seconds)
                    .await?
            }
        };
        json(StatusCode::OK, &cart)
    }
}

impl<S: CartStore> bazaar_lambda::http::HttpApp for App<S> {
    /// Serves one API Gateway request; errors become problem responses.
    async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        http::serve(&self.service, req, |req| self.dispatch(req)).await
    }
}
