//! Idempotent requests: a reusable layer at least as strong as AWS Lambda Powertools' idempotency
//! utility (which has no Rust port).
//!
//! * A record per (scope, key) — scope is the caller, so two users' keys never collide — claimed
//!   with a conditional put. Statuses: `IN_PROGRESS`, `COMPLETED`.
//! * The in-progress claim expires with the function's remaining time (the invocation deadline), so
//!   a crashed attempt can be retried once its invocation is certainly over.
//! * A SHA-256 of the canonical request body is stored: the same key with another body is refused
//!   (`422 idempotency_key_reused`).
//! * The response (status, content type, body) is stored and replayed with
//!   `Idempotent-Replayed: true`. Client errors (4xx) are stored like successes, so a retry sees the
//!   same answer; server errors and `429` (a spent quota: "later", not "no") release the record
//!   so the request can run again.
//! * Expiry is checked inside the claim's condition; the `ttl` attribute (24 h) only tidies up.

use bazaar_domain::error::Error;
use bazaar_domain::idempotency::{Claim, StoredResponse};
use bazaar_domain::ports::IdempotencyStore;
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use std::future::Future;

/// The response header that marks a replay.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// A response as stored for replay.
pub fn stored(response: &Response<Body>) -> StoredResponse {
    let body = match response.body() {
        Body::Empty => String::new(),
        Body::Text(t) => t.clone(),
        Body::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    };
    StoredResponse {
        status: response.status().as_u16(),
        content_type: response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/json")
            .to_owned(),
        body,
    }
}

/// The replayed response, marked as such.
pub fn replay(stored: &StoredResponse) -> Result<Response<Body>, Error> {
    Response::builder()
        .status(StatusCode::from_u16(stored.status).map_err(Error::internal)?)
        .header(header::CONTENT_TYPE, stored.content_type.as_str())
        .header(REPLAYED_HEADER, HeaderValue::from_static("true"))
        .body(Body::Text(stored.body.clone()))
        .map_err(Error::internal)
}

/// SHA-256 (hex) of the canonical form of a JSON body: keys sorted, no insignificant whitespace.
pub fn payload_hash(body: &serde_json::Value) -> String {
    // serde_json's Map is ordered by key, so serialization is canonical.
    let canonical = body.to_string();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Validates an `Idempotency-Key` header: 1..255 visible ASCII characters.
pub fn validate_key(key: Option<&HeaderValue>) -> Result<String, Error> {
    let Some(value) = key else {
        return Err(Error::MissingHeader {
            code: "idempotency_key_required",
            detail: "Send an `Idempotency-Key` header (1 to 255 visible ASCII characters) so that a retried request cannot run twice.",
        });
    };
    let text = value.to_str().unwrap_or("");
    let ok = (1..=255).contains(&value.len())
        && value.as_bytes().iter().all(|b| (0x21..=0x7e).contains(b))
        && text.len() == value.len();
    if ok {
        Ok(text.to_owned())
    } else {
        Err(Error::validation(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters (no spaces)",
        ))
    }
}

/// Runs `f` at most once per (scope, key, body): the first call runs it and stores its answer;
/// later calls replay the answer, or are told to retry while the first is still running.
#[allow(clippy::too_many_arguments)]
pub async fn run<S, F, Fut>(
    store: &S,
    scope: &str,
    key: &str,
    payload_hash: &str,
    in_progress_until_ms: i64,
    in_progress_code: &'static str,
    request_id: &str,
    f: F,
) -> Result<Response<Body>, Error>
where
    S: IdempotencyStore,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Response<Body>, Error>>,
{
    let token = match store
        .claim(scope, key, payload_hash, in_progress_until_ms)
        .await?
    {
        Claim::Replay(stored) => return replay(&stored),
        Claim::InProgress { retry_after } => {
            return Err(Error::InProgress {
                code: in_progress_code,
                detail:
                    "A request with this Idempotency-Key is still being processed; retry shortly."
                        .into(),
                retry_after,
            });
        }
        Claim::Fresh { token } => token,
    };
    let response = match f().await {
        Ok(response) => response,
        Err(err) if !err.is_server_error() && err.status() != 429 => {
            crate::http::problem_response(&err, request_id)
        }
        Err(err) => {
            if let Err(release) = store.release(scope, key, &token).await {
                tracing::warn!(error = %release, "could not release the idempotency record");
            }
            return Err(err);
        }
    };
    if response.status().is_server_error() {
        if let Err(release) = store.release(scope, key, &token).await {
            tracing::warn!(error = %release, "could not release the idempotency record");
        }
        return Ok(response);
    }
    store
        .complete(scope, key, &token, &stored(&response))
        .await?;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_canonical() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"b": 1, "a": {"y": 2, "x": [1, 2]}}"#).expect("json");
        let b: serde_json::Value =
            serde_json::from_str(r#"{ "a":{"x":[1,2],"y":2},"b":1 }"#).expect("json");
        let c: serde_json::Value =
            serde_json::from_str(r#"{"a": {"x": [2, 1], "y": 2}, "b": 1}"#).expect("json");
        assert_eq!(payload_hash(&a), payload_hash(&b));
        assert_ne!(payload_hash(&a), payload_hash(&c));
        assert_eq!(payload_hash(&a).len(), 64);
    }

    #[test]
    fn keys_are_visible_ascii_up_to_255() {
        let ok = |s: &str| validate_key(Some(&HeaderValue::from_str(s).expect("header")));
        assert_eq!(ok("order-123_ABC:~").expect("valid"), "order-123_ABC:~");
        assert!(ok(&"k".repeat(255)).is_ok());
        assert_eq!(ok(&"k".repeat(256)).expect_err("long").status(), 422);
        assert_eq!(ok("has space").expect_err("space").status(), 422);
        assert_eq!(validate_key(None).expect_err("missing").status(), 400);
        let missing = validate_key(None).expect_err("missing").problem();
        assert_eq!(missing.code, "idempotency_key_required");
    }
}
