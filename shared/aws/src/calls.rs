//! Round trips counted and timed per request: every client built by [`crate::table::client`]
//! (and the SQS and SES clients) carries [`CountAwsCalls`], which records each attempt into the
//! current [`bazaar_domain::timing`] scope: the HTTP layer logs the count and the time awaited.

use aws_sdk_dynamodb::config::interceptors::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::config_bag::{Storable, StoreReplace};
use bazaar_domain::timing::{self, Kind, Outcome, Pending};

/// Runs `f` and counts the AWS round trips (attempts, retries included) that clients carrying
/// [`CountAwsCalls`] make inside it. Every request is served inside this, and its count is logged.
/// Nested scopes share the outer counter, so an enclosing count includes the inner ones.
/// ([`timing::measured`] answers the time awaited as well.)
pub async fn counting_aws_calls<F: Future>(f: F) -> (F::Output, u32) {
    let (out, measured) = timing::measured(f).await;
    (out, measured.timings.aws_calls)
}

/// An SDK interceptor that times every transmitted attempt (from just before it is sent to its
/// response, retries each their own) into the current [`timing::measured`] scope, and does
/// nothing outside one.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountAwsCalls;

/// The attempt in flight, kept in the operation's config bag between the two hooks.
#[derive(Debug, Clone)]
struct InFlight(Option<Pending>);

impl Storable for InFlight {
    type Storer = StoreReplace<Self>;
}

fn kind_of(service: &str) -> Kind {
    match service {
        "dynamodb" | "DynamoDB" => Kind::DynamoDb,
        "sqs" | "SQS" => Kind::Sqs,
        _ => Kind::Aws,
    }
}

impl Intercept for CountAwsCalls {
    fn name(&self) -> &'static str {
        "CountAwsCalls"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let (service, operation) = cfg
            .load::<Metadata>()
            .map(|m| (m.service().to_owned(), m.name().to_owned()))
            .unwrap_or_default();
        let kind = kind_of(&service);
        let pending = timing::begin(kind, service, operation);
        cfg.interceptor_state().store_put(InFlight(pending));
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        if let Some(pending) = cfg.load::<InFlight>().and_then(|f| f.0.clone()) {
            cfg.interceptor_state().store_put(InFlight(None));
            let status = context.response().map(|r| r.status().as_u16());
            timing::end(pending, Outcome::of_status(status));
        }
        Ok(())
    }
}
