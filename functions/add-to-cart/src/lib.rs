//! The add-to-cart function: `POST /cart/items` adds units to the buyer's line and holds them
//! for `HOLD_SECONDS`. The holding rules live in `bazaar_domain::services::cart`; the atomic
//! write in `bazaar_aws::cart`.

use bazaar_domain::cart::LineChange;
use bazaar_domain::error::{Error, Resource};
use bazaar_domain::metrics::Metrics;
use bazaar_domain::ports::CartStore;
use bazaar_domain::services::cart::CartService;
use bazaar_domain::validate::CartItemAdd;
use bazaar_lambda::auth::AuthMode;
use bazaar_lambda::env::Config;
use bazaar_lambda::http;
use bazaar_lambda::http::{Route, is_plausible_id, json, json_body, match_route};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

/// The one route of this function (template.yaml must agree; a test checks).
pub const ROUTES: &[(Route, ())] = &[(Route::new("POST", "/cart/items"), ())];

/// State built once per cold start.
pub struct App<S> {
    carts: CartService<S>,
    auth: AuthMode,
    hold_seconds: i64,
    service: String,
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

    async fn add(&self, req: Request) -> Result<Response<Body>, Error> {
        match_route(ROUTES, req.method().as_str(), req.uri().path())?;
        let buyer = self.auth.require(&req)?;
        let (product_id, quantity) = json_body::<CartItemAdd>(&req)?.validate()?;
        if !is_plausible_id(&product_id) {
            return Err(Error::not_found(Resource::Product, product_id));
        }
        let result = self
            .carts
            .write_line(
                &buyer.user_id,
                &product_id,
                LineChange::Add(quantity),
                self.hold_seconds,
            )
            .await;
        let metric = match &result {
            Ok(_) => Some("HoldsPlaced"),
            Err(e) if e.status() == 409 => Some("HoldsRefused"),
            Err(e) if e.is_server_error() => Some("HoldErrors"),
            Err(_) => None,
        };
        if let Some(metric) = metric {
            Metrics::new(&self.service).count(metric, 1).emit();
        }
        json(StatusCode::OK, &result?)
    }
}

impl<S: CartStore> bazaar_lambda::http::HttpApp for App<S> {
    /// Serves one API Gateway request; errors become problem responses.
    async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        http::serve(&self.service, req, |req| self.add(req)).await
    }
}
