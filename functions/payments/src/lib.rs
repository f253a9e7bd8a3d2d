//! The payments function: the provider's webhook (`POST /payments/webhook`, public, verified by
//! its signature) and a shop's payouts (`POST /shops/{shop_id}/payouts/account` connects the
//! shop's payout account and answers an onboarding link; `GET /shops/{shop_id}/payouts` lists the
//! shop's ledger). See `bazaar_domain::services::payments`.

use bazaar_domain::error::{Error, Resource};
use bazaar_domain::ports::{PaymentGateway, PaymentStore, Payouts, WebhookVerifier};
use bazaar_domain::services::payments::{Applied, PaymentService};
use bazaar_lambda::auth::AuthMode;
use bazaar_lambda::env::Config;
use bazaar_lambda::http;
use bazaar_lambda::http::{Params, Route, is_plausible_id, json, match_route, paging};
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

impl<S: PaymentStore, G: PaymentGateway, P: Payouts, V: WebhookVerifier> http::HttpApp
    for App<S, G, P, V>
{
    /// Serves one API Gateway request; errors become problem responses.
    async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        // Provider events can be larger than the API's bodies (up to MAX_WEBHOOK_BYTES).
        http::serve_limited(&self.service, MAX_WEBHOOK_BYTES, req, |req| {
            self.dispatch(req)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bazaar_aws::provider::StripeWebhooks;
    use bazaar_aws::stripe::sign_webhook;
    use bazaar_domain::fakes::{FakeGateway, FakeStore};
    use bazaar_lambda::auth::mint_local_token;
    use bazaar_lambda::http::HttpApp;

    const SECRET: &str = "payments-test-secret";

    fn app() -> (
        App<FakeStore, FakeGateway, FakeGateway, StripeWebhooks>,
        FakeStore,
    ) {
        let config = Config::from_lookup("payments", |k| match k {
            "TABLE_NAME" => Some("unused".into()),
            "AUTH_MODE" => Some("local".into()),
            "LOCAL_JWT_SECRET" => Some(SECRET.into()),
            _ => None,
        })
        .expect("config");
        let store = FakeStore::default();
        let gateway = FakeGateway::default();
        gateway.instant_onboarding();
        let app = App::new(
            store.clone(),
            (gateway.clone(), gateway),
            StripeWebhooks::new(Some("whsec_test".into())),
            "https://bazaar.example/payouts",
            &config,
        );
        (app, store)
    }

    async fn call(
        app: &App<FakeStore, FakeGateway, FakeGateway, StripeWebhooks>,
        method: &str,
        path: &str,
        user: Option<&str>,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> (u16, serde_json::Value) {
        let mut builder = lambda_http::http::Request::builder()
            .method(method)
            .uri(path);
        if let Some(user) = user {
            let token = mint_local_token(SECRET, user, 300, None).expect("token");
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        for (k, v) in headers {
            builder = builder.header(*k, v);
        }
        let response = app
            .handle(builder.body(Body::Binary(body)).expect("request"))
            .await
            .expect("answered");
        let status = response.status().as_u16();
        let body = serde_json::from_slice(response.body().as_ref()).unwrap_or_default();
        (status, body)
    }

    #[tokio::test]
    async fn a_webhook_needs_a_valid_signature_and_each_event_applies_once() {
        let (app, _) = app();
        let event = serde_json::json!({"id": "evt_1", "type": "customer.created",
                                       "data": {"object": {"id": "cus_1"}}});
        let body = serde_json::to_vec(&event).expect("json");
        let (status, problem) =
            call(&app, "POST", "/payments/webhook", None, &[], body.clone()).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (400, Some("invalid_signature"))
        );
        let forged = sign_webhook("whsec_other", &body, chrono::Utc::now().timestamp());
        let (status, _) = call(
            &app,
            "POST",
            "/payments/webhook",
            None,
            &[("stripe-signature", forged)],
            body.clone(),
        )
        .await;
        assert_eq!(status, 400);
        let signed = sign_webhook("whsec_test", &body, chrono::Utc::now().timestamp());
        let (status, answer) = call(
            &app,
            "POST",
            "/payments/webhook",
            None,
            &[("stripe-signature", signed.clone())],
            body.clone(),
        )
        .await;
        assert_eq!((status, answer["outcome"].as_str()), (200, Some("ignored")));
        let (status, answer) = call(
            &app,
            "POST",
            "/payments/webhook",
            None,
            &[("stripe-signature", signed)],
            body,
        )
        .await;
        assert_eq!(
            (status, answer["outcome"].as_str()),
            (200, Some("duplicate"))
        );
        let huge = vec![b' '; MAX_WEBHOOK_BYTES + 1];
        let (status, _) = call(&app, "POST", "/payments/webhook", None, &[], huge).await;
        assert_eq!(status, 413, "bounded before anything is verified");
    }

    #[tokio::test]
    async fn payouts_are_for_the_shop_owner_only() {
        let (app, store) = app();
        let shop = store.add_shop("owner", "Juniper Clay", 500, 100);
        let connect = format!("/shops/{shop}/payouts/account");
        assert_eq!(call(&app, "POST", &connect, None, &[], vec![]).await.0, 401);
        assert_eq!(
            call(&app, "POST", &connect, Some("stranger"), &[], vec![])
                .await
                .0,
            403
        );
        assert_eq!(
            call(
                &app,
                "POST",
                "/shops/nope/payouts/account",
                Some("owner"),
                &[],
                vec![]
            )
            .await
            .0,
            404
        );
        let (status, onboarding) = call(&app, "POST", &connect, Some("owner"), &[], vec![]).await;
        assert_eq!(
            (status, onboarding["status"].as_str()),
            (200, Some("enabled")),
            "{onboarding}"
        );
        let ledger = format!("/shops/{shop}/payouts");
        assert_eq!(
            call(&app, "GET", &ledger, Some("stranger"), &[], vec![])
                .await
                .0,
            403
        );
        let (status, page) = call(&app, "GET", &ledger, Some("owner"), &[], vec![]).await;
        assert_eq!(
            (status, page["entries"].as_array().map(Vec::len)),
            (200, Some(0))
        );
        let (status, _) = call(
            &app,
            "GET",
            &format!("{ledger}?cursor=garbage"),
            Some("owner"),
            &[],
            vec![],
        )
        .await;
        assert_eq!(status, 400, "a cursor not of this list");
    }

    #[test]
    fn routes_match_the_template() {
        bazaar_infra::testing::assert_routes_match("payments", ROUTES);
    }
}
