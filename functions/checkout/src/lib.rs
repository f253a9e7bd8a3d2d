//! The checkout function: `POST /checkout` turns the buyer's cart into one order per shop, paid
//! once, exactly once per `Idempotency-Key` (see `bazaar_domain::services::checkout` and
//! `bazaar_lambda::idempotent`).

use bazaar_aws::checkout::DynamoCheckout;
use bazaar_domain::checkout::{CheckoutHooks, CheckoutRequest};
use bazaar_domain::error::Error;
use bazaar_domain::metrics::Metrics;
use bazaar_domain::ports::{CheckoutStore, IdempotencyStore, PaymentGateway};
use bazaar_domain::services::checkout::CheckoutService;
use bazaar_domain::validate::parse_json;
use bazaar_lambda::auth::AuthMode;
use bazaar_lambda::env::Config;
use bazaar_lambda::http::{Route, json, match_route, request_id};
use bazaar_lambda::{http, idempotent};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use std::time::Instant;

/// The one route of this function (template.yaml must agree; a test checks).
pub const ROUTES: &[(Route, ())] = &[(Route::new("POST", "/checkout"), ())];

/// How long an attempt may hold its key when the invocation deadline is unknown or implausible
/// (the function's timeout in template.yaml).
const DEFAULT_IN_PROGRESS_MS: i64 = 15_000;

/// The in-progress expiry of an attempt: the invocation's deadline (its remaining time, as
/// Powertools does), bounded to something plausible so that a missing or odd deadline from a local
/// runtime neither lets a second attempt in at once nor blocks retries for long.
pub fn in_progress_until(deadline_ms: Option<i64>, now_ms: i64) -> i64 {
    match deadline_ms {
        Some(d) if d > now_ms + 1_000 && d <= now_ms + DEFAULT_IN_PROGRESS_MS => d,
        _ => now_ms + DEFAULT_IN_PROGRESS_MS,
    }
}

/// A test-only fault: with `FAULT_INJECTION=crash-after-commit` (honoured only with
/// `AUTH_MODE=local`), a checkout whose Idempotency-Key starts with `fault-crash-after-commit`
/// kills the process right after its transaction committed — before the payment is captured and
/// before the idempotent response is stored — as a crashed Lambda would. Only in builds with
/// bazaar-lambda's feature `local` ([`bazaar_lambda::LOCAL_BUILD`]): compiled out of the AWS
/// binaries.
pub struct Faults {
    pub crash_after_commit: bool,
}

impl Faults {
    pub fn from_env(config: &Config) -> Self {
        Faults {
            crash_after_commit: bazaar_lambda::LOCAL_BUILD
                && config.auth.is_local()
                && std::env::var("FAULT_INJECTION").as_deref() == Ok("crash-after-commit"),
        }
    }
}

struct KeyedFaults<'a> {
    faults: &'a Faults,
    key: &'a str,
}

impl CheckoutHooks for KeyedFaults<'_> {
    fn after_commit(&self, checkout_id: &str) {
        if bazaar_lambda::LOCAL_BUILD
            && self.faults.crash_after_commit
            && self.key.starts_with("fault-crash-after-commit")
        {
            tracing::error!(checkout_id, "FAULT_INJECTION: crashing after the commit");
            std::process::abort();
        }
    }
}

/// State built once per cold start. (`S` defaults to the DynamoDB store.)
pub struct App<P, I, S = DynamoCheckout> {
    checkout: CheckoutService<S, P>,
    idempotency: I,
    faults: Faults,
    auth: AuthMode,
    service: String,
}

impl<P: PaymentGateway, I: IdempotencyStore, S: CheckoutStore> App<P, I, S> {
    /// The write quota (`checkout`) is counted in the checkout's own transaction (see
    /// [`CheckoutService::with_quotas`]).
    pub fn new(checkout: S, payments: P, idempotency: I, faults: Faults, config: &Config) -> Self {
        Self {
            checkout: CheckoutService::new(checkout, payments).with_quotas(config.quotas.clone()),
            idempotency,
            faults,
            auth: config.auth.clone(),
            service: config.service.clone(),
        }
    }

    /// The marketplace fee recorded on each order's share of the payment.
    pub fn with_fee_bps(mut self, fee_bps: u32) -> Self {
        self.checkout = self.checkout.with_fee_bps(fee_bps);
        self
    }

    async fn checkout(&self, req: Request) -> Result<Response<Body>, Error> {
        let started = Instant::now();
        match_route(ROUTES, req.method().as_str(), req.uri().path())?;
        let buyer = self.auth.require(&req)?;
        let key = idempotent::validate_key(req.headers().get("idempotency-key"))?;
        let body: serde_json::Value = parse_json(req.body().as_ref())?;
        let hash = idempotent::payload_hash(&body);
        let (address, method) = parse_json::<CheckoutRequest>(req.body().as_ref())?.validate()?;
        let deadline = in_progress_until(
            req.lambda_context_ref()
                .and_then(|c| i64::try_from(c.deadline).ok()),
            chrono::Utc::now().timestamp_millis(),
        );
        let hooks = KeyedFaults {
            faults: &self.faults,
            key: &key,
        };
        let request_id = request_id(&req);
        let response = idempotent::run(
            &self.idempotency,
            &buyer.user_id,
            &key,
            &hash,
            deadline,
            "checkout_in_progress",
            &request_id,
            || async {
                // Inside the claim: a replay is not counted (the quota is counted by the
                // checkout's own commit), and a 429 is not stored.
                let view = self
                    .checkout
                    .checkout(&hooks, &buyer.user_id, &key, &address, &method)
                    .await?;
                Metrics::new(&self.service)
                    .count("OrdersCreated", view.orders.len() as u64)
                    .count("Checkouts", 1)
                    .millis("CheckoutLatency", started.elapsed().as_secs_f64() * 1000.0)
                    .property("checkout_id", view.checkout_id.clone())
                    .emit();
                json(StatusCode::CREATED, &view)
            },
        )
        .await?;
        Ok(response)
    }
}

impl<P: PaymentGateway, I: IdempotencyStore> bazaar_lambda::http::HttpApp for App<P, I> {
    /// Serves one API Gateway request; errors become problem responses.
    async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        http::serve(&self.service, req, |req| self.checkout(req)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_progress_expiry_follows_the_deadline_within_bounds() {
        let now = 1_000_000;
        assert_eq!(in_progress_until(Some(now + 9_000), now), now + 9_000);
        assert_eq!(in_progress_until(None, now), now + 15_000);
        assert_eq!(
            in_progress_until(Some(now - 5), now),
            now + 15_000,
            "a past deadline"
        );
        assert_eq!(
            in_progress_until(Some(now + 3_600_000), now),
            now + 15_000,
            "an implausible one"
        );
    }
}
