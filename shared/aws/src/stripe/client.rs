//! The HTTP side of the Stripe adapter: one `reqwest` client, form encoding with Stripe's bracket
//! syntax, and the one mapping of Stripe's answers to [`Error`].

use bazaar_domain::error::Error;
use bazaar_domain::timing::{self, Kind, Outcome};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Stripe's API, where [`StripeClient::new`] points unless told otherwise (`STRIPE_API_BASE`).
pub const API_BASE: &str = "https://api.stripe.com";

/// The API version every request pins (`Stripe-Version`), so that an account upgrade on Stripe's
/// dashboard cannot change the shapes this adapter reads.
pub const API_VERSION: &str = "2024-06-20";

/// Connecting to Stripe gives up after this long.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A whole request (connect, send, read the answer) gives up after this long.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A thin client of Stripe's REST API: the bearer secret key, a pinned `Stripe-Version`, form
/// bodies, an `Idempotency-Key` on every `POST`, short timeouts.
///
/// Build it once per cold start: it is cheap to clone, and clones share one connection pool.
#[derive(Clone)]
pub struct StripeClient {
    http: reqwest::Client,
    base: Arc<Url>,
    key: Arc<str>,
}

impl fmt::Debug for StripeClient {
    /// Never prints the secret key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeClient")
            .field("base", &self.base.as_str())
            .field("key", &"[redacted]")
            .finish()
    }
}

/// Request parameters, in order, encoded the way Stripe reads them: nested keys in brackets
/// (`metadata[checkout_id]=…`, `capabilities[transfers][requested]=true`), list items with `[]`
/// (`payment_method_types[]=card`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `key=value` (`key` is taken as written: brackets included).
    pub fn set(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.0.push((key.into(), value.to_string()));
        self
    }

    /// Adds `key=value` when there is a value.
    pub fn set_opt(self, key: impl Into<String>, value: Option<impl ToString>) -> Self {
        match value {
            Some(value) => self.set(key, value),
            None => self,
        }
    }

    /// Adds `metadata[name]=value`.
    pub fn metadata(self, name: &str, value: impl ToString) -> Self {
        self.set(format!("metadata[{name}]"), value)
    }

    /// The parameters, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// `application/x-www-form-urlencoded`, brackets percent-encoded as any form encoder does
    /// (Stripe decodes them).
    pub fn encode(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.0.iter())
            .finish()
    }
}

/// Stripe's error body: `{"error": {"type", "code", "decline_code", "message", "param"}}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ApiError {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub decline_code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub param: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ApiError,
}

/// Why a request failed, before it is folded into an [`Error`] (the search fallback needs to
/// know a `404` apart).
#[derive(Debug)]
pub(crate) enum Failure {
    /// Stripe answered with an error status.
    Api { status: u16, error: ApiError },
    /// Stripe could not be reached, timed out, or the answer could not be read.
    Transport(String),
    /// A `2xx` whose body is not what was expected.
    Decode(String),
}

impl Failure {
    pub fn status(&self) -> Option<u16> {
        match self {
            Failure::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The one mapping of Stripe's failures to the domain's errors.
    pub fn into_error(self) -> Error {
        match self {
            Failure::Transport(message) => {
                Error::Unavailable(format!("stripe could not be reached: {message}").into())
            }
            Failure::Decode(message) => {
                Error::Internal(format!("unexpected answer from stripe: {message}").into())
            }
            Failure::Api { status, error } => {
                let message = error.message.clone().unwrap_or_default();
                if status == 429 || status >= 500 {
                    return Error::Unavailable(
                        format!("stripe answered {status}: {message}").into(),
                    );
                }
                // Stripe answers declines with `402` and `type: card_error` (localstripe answers
                // `402` with `type: invalid_request_error`, `code: card_declined`).
                if status == 402 || error.kind.as_deref() == Some("card_error") {
                    let reason = error
                        .decline_code
                        .as_deref()
                        .or(error.code.as_deref())
                        .unwrap_or("declined");
                    return Error::PaymentDeclined(format!("The card was declined ({reason})."));
                }
                if error.param.as_deref() == Some("payment_method")
                    && matches!(error.code.as_deref(), Some("resource_missing"))
                {
                    return Error::validation("payment_method", "unknown payment method");
                }
                let kind = error.kind.as_deref().unwrap_or("error");
                let code = error.code.as_deref().unwrap_or("-");
                Error::Internal(
                    format!("stripe answered {status} ({kind}/{code}): {message}").into(),
                )
            }
        }
    }
}

impl StripeClient {
    /// A client of the API at `base` (`https://api.stripe.com`, or a localstripe) with the secret
    /// key `secret_key`.
    pub fn new(base: &str, secret_key: &str) -> Result<Self, Error> {
        let mut base = Url::parse(base)
            .map_err(|e| Error::Internal(format!("STRIPE_API_BASE `{base}`: {e}").into()))?;
        if base.cannot_be_a_base() {
            return Err(Error::Internal("STRIPE_API_BASE is not a base URL".into()));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("bazaar/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Internal(format!("building the stripe client: {e}").into()))?;
        Ok(Self {
            http,
            base: Arc::new(base),
            key: Arc::from(secret_key),
        })
    }

    /// The API base this client talks to.
    pub fn base(&self) -> &str {
        self.base.as_str()
    }

    fn url(&self, path: &str, query: &Form) -> Result<Url, Failure> {
        let mut url = self
            .base
            .join(path.trim_start_matches('/'))
            .map_err(|e| Failure::Decode(format!("bad path `{path}`: {e}")))?;
        if !query.pairs().is_empty() {
            url.query_pairs_mut().extend_pairs(query.pairs().iter());
        }
        Ok(url)
    }

    /// `GET path?query`.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &Form,
    ) -> Result<T, Failure> {
        let url = self.url(path, query)?;
        self.send(self.http.get(url), operation("GET", path)).await
    }

    /// `POST path` with `form` and `Idempotency-Key: idempotency_key`.
    pub(crate) async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        form: &Form,
        idempotency_key: &str,
    ) -> Result<T, Failure> {
        let url = self.url(path, &Form::new())?;
        let request = self
            .http
            .post(url)
            .header("Idempotency-Key", idempotency_key)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form.encode());
        self.send(request, operation("POST", path)).await
    }

    /// Sends `request`, timed as one provider call ([`bazaar_domain::timing`]) named `op`.
    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        op: String,
    ) -> Result<T, Failure> {
        let exchange = async {
            let response = request
                .bearer_auth(&*self.key)
                .header("Stripe-Version", API_VERSION)
                .send()
                .await?;
            let status = response.status().as_u16();
            Ok::<_, reqwest::Error>((status, response.bytes().await?))
        };
        let (status, body) = timing::timed(Kind::Provider, "Stripe", op, exchange, |r| match r {
            Ok((status, _)) => Outcome::of_status(Some(*status)),
            Err(_) => Outcome::Fault,
        })
        .await
        .map_err(|e| Failure::Transport(self.redact(&e.without_url().to_string())))?;
        if !(200..300).contains(&status) {
            let mut error = serde_json::from_slice::<ErrorBody>(&body)
                .map(|b| b.error)
                .unwrap_or_default();
            error.message = error.message.map(|m| self.redact(&m));
            return Err(Failure::Api { status, error });
        }
        serde_json::from_slice(&body).map_err(|e| Failure::Decode(e.to_string()))
    }

    /// Removes the secret key from a text that goes into an error or a log.
    fn redact(&self, text: &str) -> String {
        if self.key.is_empty() {
            text.to_owned()
        } else {
            text.replace(&*self.key, "[redacted]")
        }
    }
}

/// A provider call's name for traces: the method and the path with its ids elided
/// (`POST /v1/payment_intents/{id}/capture`), so that one operation is one name.
fn operation(method: &str, path: &str) -> String {
    let path: Vec<&str> = path
        .trim_start_matches('/')
        .split('/')
        .enumerate()
        .map(|(i, seg)| {
            if i > 0
                && seg
                    .bytes()
                    .any(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
            {
                "{id}"
            } else {
                seg
            }
        })
        .collect();
    format!("{method} /{}", path.join("/"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn operations_elide_ids() {
        assert_eq!(
            super::operation("POST", "/v1/payment_intents/pi_3NxA9b/capture"),
            "POST /v1/payment_intents/{id}/capture"
        );
        assert_eq!(
            super::operation("GET", "v1/payment_intents"),
            "GET /v1/payment_intents"
        );
    }
}
