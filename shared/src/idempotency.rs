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
//!   same answer; server errors release the record so the request can run again.
//! * Expiry is checked inside the claim's condition; the `ttl` attribute (24 h) only tidies up.

use crate::dynamo::{conditional, from_sdk, s};
use crate::error::Error;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize};
use std::future::Future;

/// How long a completed record is kept (and replayed).
pub const RECORD_TTL_SECONDS: i64 = 24 * 3600;
/// The response header that marks a replay.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// A response as stored for replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl StoredResponse {
    pub fn from_response(response: &Response<Body>) -> Self {
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
    pub fn replay(&self) -> Result<Response<Body>, Error> {
        Response::builder()
            .status(StatusCode::from_u16(self.status).map_err(Error::internal)?)
            .header(header::CONTENT_TYPE, self.content_type.as_str())
            .header(REPLAYED_HEADER, HeaderValue::from_static("true"))
            .body(Body::Text(self.body.clone()))
            .map_err(Error::internal)
    }
}

/// The outcome of claiming a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The caller owns the key now; `token` proves it when completing or releasing.
    Fresh { token: String },
    /// The request already completed: replay this.
    Replay(StoredResponse),
    /// Another attempt is running; retry after this many seconds.
    InProgress { retry_after: u64 },
}

/// Where idempotency records live.
pub trait IdempotencyStore: Send + Sync {
    fn claim(
        &self,
        scope: &str,
        key: &str,
        payload_hash: &str,
        in_progress_until_ms: i64,
    ) -> impl Future<Output = Result<Claim, Error>> + Send;

    fn complete(
        &self,
        scope: &str,
        key: &str,
        token: &str,
        response: &StoredResponse,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    fn release(
        &self,
        scope: &str,
        key: &str,
        token: &str,
    ) -> impl Future<Output = Result<(), Error>> + Send;
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
        Claim::Replay(stored) => return stored.replay(),
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
        Err(err) if !err.is_server_error() => crate::http::problem_response(&err, request_id),
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
        .complete(
            scope,
            key,
            &token,
            &StoredResponse::from_response(&response),
        )
        .await?;
    Ok(response)
}

/// The DynamoDB implementation of [`IdempotencyStore`].
#[derive(Debug, Clone)]
pub struct DynamoIdempotency {
    client: Client,
    table: String,
}

fn record_key(scope: &str, key: &str) -> (String, String) {
    (
        format!("IDEMPOTENCY#{scope}#{key}"),
        "IDEMPOTENCY".to_owned(),
    )
}

fn attr_s<'a>(item: &'a crate::dynamo::Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

fn attr_n(item: &crate::dynamo::Item, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
}

impl DynamoIdempotency {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

impl IdempotencyStore for DynamoIdempotency {
    async fn claim(
        &self,
        scope: &str,
        key: &str,
        payload_hash: &str,
        in_progress_until_ms: i64,
    ) -> Result<Claim, Error> {
        let now = chrono::Utc::now();
        let token = uuid::Uuid::new_v4().to_string();
        let (pk, sk) = record_key(scope, key);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(&pk))
            .item("sk", s(&sk))
            .item("entity", s("idempotency"))
            .item("status", s("IN_PROGRESS"))
            .item("payload_hash", s(payload_hash))
            .item("token", s(&token))
            .item(
                "in_progress_expiry",
                AttributeValue::N(in_progress_until_ms.to_string()),
            )
            .item(
                "ttl",
                AttributeValue::N((now.timestamp() + RECORD_TTL_SECONDS).to_string()),
            )
            .condition_expression(
                "attribute_not_exists(pk) OR #ttl < :now_s OR (#status = :in_progress AND in_progress_expiry < :now_ms)",
            )
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":now_s", AttributeValue::N(now.timestamp().to_string()))
            .expression_attribute_values(
                ":now_ms",
                AttributeValue::N(now.timestamp_millis().to_string()),
            )
            .expression_attribute_values(":in_progress", s("IN_PROGRESS"))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let existing = match conditional(result)? {
            Ok(_) => return Ok(Claim::Fresh { token }),
            Err(old) => old,
        };
        let existing = match existing {
            Some(item) => item,
            // The emulator or an old API version may omit the item: read it.
            None => self
                .client
                .get_item()
                .table_name(&self.table)
                .set_key(Some(crate::dynamo::key(record_key(scope, key))))
                .consistent_read(true)
                .send()
                .await
                .map_err(from_sdk)?
                .item
                .ok_or_else(|| Error::internal("idempotency record vanished during the claim"))?,
        };
        if attr_s(&existing, "payload_hash") != Some(payload_hash) {
            return Err(Error::unprocessable(
                "idempotency_key_reused",
                "This Idempotency-Key was used with a different request body; use a new key for a new request.",
            ));
        }
        if attr_s(&existing, "status") == Some("COMPLETED") {
            let stored = existing
                .get("response")
                .cloned()
                .ok_or_else(|| Error::internal("completed idempotency record without a response"))
                .and_then(|r| serde_dynamo::from_attribute_value(r).map_err(Error::internal))?;
            return Ok(Claim::Replay(stored));
        }
        let until = attr_n(&existing, "in_progress_expiry").unwrap_or(0);
        let wait_ms = (until - now.timestamp_millis()).max(0);
        Ok(Claim::InProgress {
            retry_after: u64::try_from(((wait_ms + 999) / 1000).max(1)).unwrap_or(1),
        })
    }

    async fn complete(
        &self,
        scope: &str,
        key: &str,
        token: &str,
        response: &StoredResponse,
    ) -> Result<(), Error> {
        let stored = serde_dynamo::to_attribute_value(response).map_err(Error::internal)?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(crate::dynamo::key(record_key(scope, key))))
            .update_expression(
                "SET #status = :completed, #response = :response REMOVE in_progress_expiry",
            )
            .condition_expression("#token = :token")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#response", "response")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":completed", s("COMPLETED"))
            .expression_attribute_values(":response", stored)
            .expression_attribute_values(":token", s(token))
            .send()
            .await;
        match conditional(result)? {
            Ok(_) => Ok(()),
            // Our claim lapsed and another attempt took the key; its answer will be stored instead.
            Err(_) => {
                tracing::warn!("idempotency claim was taken over before completion");
                Ok(())
            }
        }
    }

    async fn release(&self, scope: &str, key: &str, token: &str) -> Result<(), Error> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(crate::dynamo::key(record_key(scope, key))))
            .condition_expression("#token = :token")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":token", s(token))
            .send()
            .await;
        match conditional(result)? {
            Ok(_) => Ok(()),
            // Someone else's claim now: not ours to release.
            Err(_) => Ok(()),
        }
    }
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
