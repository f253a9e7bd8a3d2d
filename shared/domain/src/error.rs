//! The one error type of the domain and its one mapping to RFC 9457 problem responses.
//!
//! Every failure a handler can meet is a variant of [`Error`]. [`Error::problem`] is the only place
//! that decides a status code, a problem `code` and what a client may see; internal causes are
//! logged, never sent.

use serde::Serialize;
use serde_json::{Map, Value};

/// A boxed cause for errors that are not the client's fault.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// One failed field of a request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON path of the field, e.g. `shipping.base_cents` or `tags[3]`.
    pub field: String,
    /// What is wrong, for a human.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The resources a `404` can be about; each has its own problem code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Shop,
    Product,
    Order,
}

impl Resource {
    fn code(self) -> &'static str {
        match self {
            Resource::Shop => "shop_not_found",
            Resource::Product => "product_not_found",
            Resource::Order => "order_not_found",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Resource::Shop => "shop",
            Resource::Product => "product",
            Resource::Order => "order",
        }
    }
}

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The body is not JSON at all (syntax error, truncated, not UTF-8).
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(String),
    /// The body is JSON but not of the expected shape (wrong type, missing field).
    #[error("the request body does not have the expected shape: {0}")]
    InvalidBody(String),
    /// The body names a field this operation does not take.
    #[error("{0}")]
    UnknownField(String),
    /// A path or query parameter that cannot be parsed.
    #[error("parameter `{name}` is invalid: {reason}")]
    InvalidParameter { name: String, reason: String },
    /// Well-formed input whose values are out of range.
    #[error("{} field(s) failed validation", .0.len())]
    Validation(Vec<FieldError>),
    /// A required header is missing.
    #[error("{detail}")]
    MissingHeader {
        code: &'static str,
        detail: &'static str,
    },
    /// A well-formed request the domain cannot process (`cart_empty`, `cart_too_large`, ...).
    #[error("{detail}")]
    Unprocessable {
        code: &'static str,
        detail: String,
        extra: Map<String, Value>,
    },
    /// No credentials, or credentials that do not verify.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Authenticated, but not allowed to touch this resource.
    #[error("{0}")]
    Forbidden(String),
    /// Authenticated, but refused this action by a rule with its own code (`own_listing`), with
    /// optional extra members.
    #[error("{detail}")]
    Denied {
        code: &'static str,
        detail: String,
        extra: Map<String, Value>,
    },
    #[error("{} `{id}` was not found", .resource.name())]
    NotFound { resource: Resource, id: String },
    #[error("no route matches {method} {path}")]
    RouteNotFound { method: String, path: String },
    #[error("method {method} is not allowed on {path}")]
    MethodNotAllowed {
        method: String,
        path: String,
        allow: Vec<&'static str>,
    },
    /// A state conflict with a stable code (`shop_exists`, `name_taken`, ...) and optional extra members.
    #[error("{detail}")]
    Conflict {
        code: &'static str,
        detail: String,
        extra: Map<String, Value>,
    },
    /// The payment provider declined the payment.
    #[error("{0}")]
    PaymentDeclined(String),
    /// A provider webhook whose `Stripe-Signature` is missing, malformed, stale or wrong.
    #[error("{0}")]
    BadSignature(&'static str),
    /// The payment method needs the buyer's action (3-D Secure), which checkout cannot take.
    #[error("{0}")]
    PaymentActionRequired(String),
    /// The same idempotent request is still being processed; retry after `retry_after` seconds.
    #[error("{detail}")]
    InProgress {
        code: &'static str,
        detail: String,
        retry_after: u64,
    },
    /// The request body is larger than the operation accepts (`413`).
    #[error("the request body is {size} bytes; this operation accepts at most {limit}")]
    PayloadTooLarge { size: usize, limit: usize },
    /// The caller spent a quota (`429`); retry after `retry_after` seconds.
    #[error("{detail}")]
    TooManyRequests {
        code: &'static str,
        detail: String,
        retry_after: u64,
    },
    /// A dependency (DynamoDB, ...) could not be reached or throttled us; the client may retry.
    #[error("a backing service is unavailable: {0}")]
    Unavailable(#[source] BoxError),
    /// A defect or an unexpected answer from a dependency.
    #[error("internal error: {0}")]
    Internal(#[source] BoxError),
}

impl Error {
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Error::Conflict {
            code,
            detail: detail.into(),
            extra: Map::new(),
        }
    }

    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> Self {
        Error::Unprocessable {
            code,
            detail: detail.into(),
            extra: Map::new(),
        }
    }

    pub fn not_found(resource: Resource, id: impl Into<String>) -> Self {
        Error::NotFound {
            resource,
            id: id.into(),
        }
    }

    pub fn internal(cause: impl Into<BoxError>) -> Self {
        Error::Internal(cause.into())
    }

    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation(vec![FieldError::new(field, message)])
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> u16 {
        self.problem_parts().0
    }

    /// Whether this error is the server's fault (logged at error level).
    pub fn is_server_error(&self) -> bool {
        self.status() >= 500
    }

    fn problem_parts(&self) -> (u16, &'static str, &'static str) {
        match self {
            Error::MalformedJson(_) => (400, "malformed_json", "Malformed JSON"),
            Error::InvalidBody(_) => (400, "invalid_body", "Invalid request body"),
            Error::UnknownField(_) => (400, "unknown_field", "Unknown field"),
            Error::InvalidParameter { .. } => (400, "invalid_parameter", "Invalid parameter"),
            Error::Validation(_) => (422, "validation_failed", "Validation failed"),
            Error::MissingHeader { code, .. } => (400, code, "Missing header"),
            Error::Unprocessable { code, .. } => (422, code, "Unprocessable request"),
            Error::Unauthorized(_) => (401, "unauthorized", "Unauthorized"),
            Error::Forbidden(_) => (403, "forbidden", "Forbidden"),
            Error::Denied { code, .. } => (403, code, "Forbidden"),
            Error::NotFound { resource, .. } => (404, resource.code(), "Not found"),
            Error::RouteNotFound { .. } => (404, "route_not_found", "Not found"),
            Error::MethodNotAllowed { .. } => (405, "method_not_allowed", "Method not allowed"),
            Error::Conflict { code, .. } => (409, code, "Conflict"),
            Error::PaymentDeclined(_) => (402, "payment_declined", "Payment declined"),
            Error::BadSignature(_) => (400, "invalid_signature", "Invalid signature"),
            Error::PaymentActionRequired(_) => (
                402,
                "payment_action_required",
                "Payment needs authentication",
            ),
            Error::InProgress { code, .. } => (409, code, "Conflict"),
            Error::PayloadTooLarge { .. } => (413, "payload_too_large", "Payload too large"),
            Error::TooManyRequests { code, .. } => (429, code, "Too many requests"),
            Error::Unavailable(_) => (503, "service_unavailable", "Service unavailable"),
            Error::Internal(_) => (500, "internal", "Internal server error"),
        }
    }

    /// The RFC 9457 problem document a client sees for this error.
    pub fn problem(&self) -> Problem {
        let (status, code, title) = self.problem_parts();
        let detail = match self {
            // Never leak internals: the cause is logged with the request id instead.
            Error::Internal(_) => "An unexpected error occurred. It has been logged.".to_owned(),
            Error::Unavailable(_) => {
                "A backing service is temporarily unavailable. Retry shortly.".to_owned()
            }
            other => other.to_string(),
        };
        let mut extra = Map::new();
        match self {
            Error::Validation(errors) => {
                extra.insert(
                    "errors".into(),
                    serde_json::to_value(errors).unwrap_or(Value::Null),
                );
            }
            Error::Conflict { extra: more, .. }
            | Error::Unprocessable { extra: more, .. }
            | Error::Denied { extra: more, .. } => extra.extend(more.clone()),
            Error::MethodNotAllowed { allow, .. } => {
                extra.insert("allow".into(), Value::from(allow.clone()));
            }
            Error::PayloadTooLarge { limit, .. } => {
                extra.insert("max_bytes".into(), Value::from(*limit));
            }
            Error::TooManyRequests { retry_after, .. } => {
                extra.insert("retry_after".into(), Value::from(*retry_after));
            }
            _ => {}
        }
        Problem {
            problem_type: format!("https://bazaar.dev/problems/{code}"),
            title,
            status,
            detail,
            code,
            extra,
        }
    }
}

/// An RFC 9457 problem details document (`application/problem+json`).
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    pub code: &'static str,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Problem {
    /// Adds the request id so that a client can quote it.
    pub fn with_instance(mut self, request_id: &str) -> Self {
        if !request_id.is_empty() {
            self.extra
                .insert("request_id".into(), Value::from(request_id.to_owned()));
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_mistakes_are_4xx_and_defects_5xx() {
        let cases: Vec<(Error, u16, &str)> = vec![
            (Error::MalformedJson("x".into()), 400, "malformed_json"),
            (Error::InvalidBody("x".into()), 400, "invalid_body"),
            (Error::UnknownField("x".into()), 400, "unknown_field"),
            (
                Error::validation("name", "too long"),
                422,
                "validation_failed",
            ),
            (Error::Unauthorized("no token"), 401, "unauthorized"),
            (Error::Forbidden("not yours".into()), 403, "forbidden"),
            (
                Error::Denied {
                    code: "own_listing",
                    detail: "yours".into(),
                    extra: Map::new(),
                },
                403,
                "own_listing",
            ),
            (
                Error::not_found(Resource::Shop, "s1"),
                404,
                "shop_not_found",
            ),
            (
                Error::not_found(Resource::Product, "p1"),
                404,
                "product_not_found",
            ),
            (
                Error::conflict("shop_exists", "one shop per owner"),
                409,
                "shop_exists",
            ),
            (Error::internal("boom"), 500, "internal"),
        ];
        for (err, status, code) in cases {
            let problem = err.problem();
            assert_eq!(problem.status, status, "{err:?}");
            assert_eq!(problem.code, code, "{err:?}");
            assert!(problem.problem_type.ends_with(code));
        }
    }

    #[test]
    fn internal_causes_are_not_exposed() {
        let problem = Error::internal("password=hunter2 at db.rs:42").problem();
        assert!(!problem.detail.contains("hunter2"));
        let json = serde_json::to_value(&problem).expect("serializes");
        assert!(!json.to_string().contains("hunter2"));
    }

    #[test]
    fn validation_problem_lists_fields() {
        let err = Error::Validation(vec![
            FieldError::new("title", "must not be blank"),
            FieldError::new("price_cents", "must be between 1 and 100000000"),
        ]);
        let json = serde_json::to_value(err.problem().with_instance("req-1")).expect("serializes");
        assert_eq!(json["status"], 422);
        assert_eq!(json["errors"][1]["field"], "price_cents");
        assert_eq!(json["request_id"], "req-1");
        assert_eq!(
            json["type"],
            "https://bazaar.dev/problems/validation_failed"
        );
    }

    #[test]
    fn conflict_extra_members_are_top_level() {
        let mut extra = Map::new();
        extra.insert("available".into(), Value::from(0));
        let err = Error::Conflict {
            code: "unavailable",
            detail: "held by another buyer".into(),
            extra,
        };
        let json = serde_json::to_value(err.problem()).expect("serializes");
        assert_eq!(json["available"], 0);
        assert_eq!(json["code"], "unavailable");
    }
}
