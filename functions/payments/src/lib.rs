//! The payments function: the provider's webhook (`POST /payments/webhook`, public, verified by
//! its signature) and a shop's payouts (`POST /shops/{shop_id}/payouts/account` connects the
//! shop's payout account and answers an onboarding link; `GET /shops/{shop_id}/payouts` lists the
//! shop's ledger). See `bazaar_domain::services::payments`.

use bazaar_domain::error::{Error, Resource};
use bazaar_domain::orders::page_size;
use bazaar_domain::ports::{PaymentGateway, PaymentStore, Payouts, WebhookVerifier};
use bazaar_domain::services::payments::{Applied, PaymentService};
use bazaar_lambda::auth::AuthMode;
use bazaar_lambda::env::Config;
use bazaar_lambda::http;
use bazaar_lambda::http::{Params, Route, is_plausible_id, json, match_route};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Webhook,
    Connect,
    Ledger,
}

/// The routes of this function (template.yaml must agree; a test checks).
pub const ROUTES: &[(Route, Op)] = &[
    (Route::new("POST", "/payments/webhook"), Op::Webhook),
    (
        Route::new("POST", "/shops/{shop_id}/payouts/account"),
        Op::Connect,
    ),
    (Route::new("GET", "/shops/{shop_id}/payouts"), Op::Ledger),
];

/// The largest webhook body accepted (Stripe's events are a few KB).
pub const MAX_WEBHOOK_BYTES: usize = 256 * 1024;

/// State built once per cold start.
pub struct App<S, G, P, V> {
    payments: PaymentService<S, G, P>,
    verifier: V,
    auth: AuthMode,
    service: String,
}

impl<S: PaymentStore, G: PaymentGateway, P: Payouts, V: WebhookVerifier> App<S, G, P, V> {
    pub fn new(
        store: S,
        (gateway, payouts): (G, P),
        verifier: V,
        return_url: &str,
        config: &Config,
    ) -> Self {
        Self {
            payments: PaymentService::new(store, gateway, payouts).with_return_url(return_url),
            verifier,
            auth: config.auth.clone(),
            service: config.service.clone(),
        }
    }

    async fn dispatch(&self, req: Request) -> Result<Response<Body>, Error> {
        let (op, params) = match_route(ROUTES, req.method().as_str(), req.uri().path())?;
        match op {
            Op::Webhook => {
                let body = req.body().as_ref();
                if body.len() > MAX_WEBHOOK_BYTES {
                    return Err(Error::InvalidBody(format!(
                        "a webhook body is at most {MAX_WEBHOOK_BYTES} bytes"
                    )));
                }
                let signature = req
                    .headers()
                    .get("stripe-signature")
                    .and_then(|v| v.to_str().ok());
                let event =
                    self.verifier
                        .verify(signature, body, chrono::Utc::now().timestamp())?;
                let applied = self.payments.webhook(&event).await?;
                let outcome = match applied {
                    Applied::Applied => "applied",
                    Applied::Duplicate => "duplicate",
                    Applied::Ignored => "ignored",
                };
                tracing::info!(event_id = event.id, outcome, "webhook");
                json(
                    StatusCode::OK,
                    &json!({ "received": true, "outcome": outcome }),
                )
            }
            Op::Connect => {
                let me = self.auth.require(&req)?.user_id;
                let shop_id = shop(&params)?;
                json(StatusCode::OK, &self.payments.connect(&me, &shop_id).await?)
            }
            Op::Ledger => {
                let me = self.auth.require(&req)?.user_id;
                let shop_id = shop(&params)?;
                let (limit, cursor) = paging(&req)?;
                json(
                    StatusCode::OK,
                    &self
                        .payments
                        .ledger(&me, &shop_id, cursor.as_deref(), limit)
                        .await?,
                )
            }
        }
    }
}

fn shop(params: &Params) -> Result<String, Error> {
    let value = params.get("shop_id")?;
    if is_plausible_id(value) {
        Ok(value.to_owned())
    } else {
        Err(Error::not_found(Resource::Shop, value))
    }
}

/// `limit` and `cursor` from the query string.
fn paging(req: &Request) -> Result<(i32, Option<String>), Error> {
    let mut limit = None;
    let mut cursor = None;
    for (k, v) in url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "limit" => limit = Some(v.into_owned()),
            "cursor" => cursor = Some(v.into_owned()),
            _ => {}
        }
    }
    Ok((
        page_size(limit.as_deref())?,
        cursor.filter(|c| !c.is_empty()),
    ))
}

impl<S: PaymentStore, G: PaymentGateway, P: Payouts, V: WebhookVerifier> http::HttpApp
    for App<S, G, P, V>
{
    /// Serves one API Gateway request; errors become problem responses.
    async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        http::serve(&self.service, req, |req| self.dispatch(req)).await
    }
}
