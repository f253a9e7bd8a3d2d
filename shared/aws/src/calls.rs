//! Round trips counted per request: every client built by [`crate::table::client`] carries
//! [`CountAwsCalls`], and the HTTP layer logs the count of each request.

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use std::cell::Cell;

tokio::task_local! {
    static AWS_CALLS: Cell<u32>;
}

/// Runs `f` and counts the AWS round trips (attempts, retries included) that clients carrying
/// [`CountAwsCalls`] make inside it. Every request is served inside this, and its count is logged.
/// Nested scopes share the outer counter, so an enclosing count includes the inner ones.
pub async fn counting_aws_calls<F: Future>(f: F) -> (F::Output, u32) {
    if let Ok(before) = AWS_CALLS.try_with(Cell::get) {
        let out = f.await;
        let after = AWS_CALLS.try_with(Cell::get).unwrap_or(before);
        return (out, after.saturating_sub(before));
    }
    AWS_CALLS
        .scope(Cell::new(0), async {
            let out = f.await;
            (out, AWS_CALLS.with(Cell::get))
        })
        .await
}

/// An SDK interceptor that counts every transmitted request into the current
/// [`counting_aws_calls`] scope (and does nothing outside one).
#[derive(Debug, Clone, Copy, Default)]
pub struct CountAwsCalls;

impl Intercept for CountAwsCalls {
    fn name(&self) -> &'static str {
        "CountAwsCalls"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let _ = AWS_CALLS.try_with(|c| c.set(c.get() + 1));
        Ok(())
    }
}
