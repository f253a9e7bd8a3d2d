//! End-to-end test support: an HTTP client for the local stack that `make test` starts
//! (`BAZAAR_API_URL`), and local tokens signed with the stack's secret.

use serde_json::Value;

/// The base URL of the local API.
pub fn api_url() -> String {
    std::env::var("BAZAAR_API_URL").unwrap_or_else(|_| {
        panic!("end-to-end tests drive the local stack: run them with `make test` (or set BAZAAR_API_URL to a running `make dev`)")
    })
}

/// The base URL of a second local API whose holds last 2 seconds (`HOLD_SECONDS=2`), same tables.
pub fn short_hold_api_url() -> String {
    std::env::var("BAZAAR_SHORT_HOLD_API_URL").unwrap_or_else(|_| {
        panic!("the expiry test needs the short-hold stack that `make test` starts (BAZAAR_SHORT_HOLD_API_URL)")
    })
}

/// A local bearer token for `user`, signed with `LOCAL_JWT_SECRET` (default as in api.md).
pub fn token(user: &str) -> String {
    token_with_secret(user, &secret())
}

pub fn secret() -> String {
    std::env::var("LOCAL_JWT_SECRET")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "bazaar-local-dev-secret".to_owned())
}

pub fn token_with_secret(user: &str, secret: &str) -> String {
    let claims = serde_json::json!({
        "sub": user,
        "exp": chrono::Utc::now().timestamp() + 3600,
        "name": user,
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("token encodes")
}

/// A unique name for this run, so that tests never collide on shop names or users.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    )
}

/// One HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

/// A client of the local API acting as one user (or anonymously).
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Client {
    pub fn anonymous() -> Self {
        Client {
            // Bounded: a request must never hang a test run (the crash test expects a dead attempt).
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .expect("http client"),
            base: api_url(),
            token: None,
        }
    }

    pub fn as_user(user: &str) -> Self {
        Client {
            token: Some(token(user)),
            ..Self::anonymous()
        }
    }

    /// The same user against another base URL (e.g. [`short_hold_api_url`]).
    pub fn at(mut self, base: String) -> Self {
        self.base = base;
        self
    }

    pub fn with_raw_token(token: &str) -> Self {
        Client {
            token: Some(token.to_owned()),
            ..Self::anonymous()
        }
    }

    /// The request, signed in as this client's user, with extra headers and a JSON body.
    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> reqwest::RequestBuilder {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        req
    }

    /// Sends and checks the answer: never a 5xx, every error a problem document.
    pub async fn send_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Reply {
        let resp = self
            .request(method, path, headers, body)
            .send()
            .await
            .expect("the local API answers");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = resp.bytes().await.expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        assert!(status < 500, "server error {status} for {path}: {body}");
        if status >= 400 {
            // Answers of API Gateway itself (the JWT authorizer's 401, an unknown route's 404,
            // 413) are its own `{"message"}` JSON, as in AWS (see api/openapi.yaml); every
            // function's error is a problem document.
            let gateway = content_type.starts_with("application/json")
                && matches!(status, 401 | 404 | 413)
                && body
                    .as_object()
                    .is_some_and(|o| o.len() == 1 && o["message"].is_string());
            assert!(
                gateway || content_type.starts_with("application/problem+json"),
                "{status} {path}: {content_type} {body}"
            );
        }
        Reply {
            status,
            content_type,
            headers,
            body,
        }
    }

    pub async fn send(&self, method: &str, path: &str, body: Option<Vec<u8>>) -> Reply {
        self.send_with(method, path, &[], body).await
    }

    /// Sends without judging the answer (for requests expected to fail at the transport or with
    /// a 5xx, e.g. fault injection): the status, or the transport error.
    pub async fn send_unchecked(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Result<(u16, Value), String> {
        let body = body.map(|b| serde_json::to_vec(&b).expect("json"));
        let resp = self
            .request(method, path, headers, body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let body = resp.json().await.unwrap_or(Value::Null);
        Ok((status, body))
    }

    /// A POST with extra headers (checked like [`Client::send`]).
    pub async fn post_with(&self, path: &str, headers: &[(&str, &str)], body: Value) -> Reply {
        let body = serde_json::to_vec(&body).expect("json");
        self.send_with("POST", path, headers, Some(body)).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send("POST", path, Some(serde_json::to_vec(&body).expect("json")))
            .await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(
            "PATCH",
            path,
            Some(serde_json::to_vec(&body).expect("json")),
        )
        .await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send("DELETE", path, None).await
    }
}

/// The local stack's resource names (`<BAZAAR_STACK>-<LogicalId>`) and the emulator endpoint.
pub fn stack_resource(logical_id: &str) -> String {
    format!(
        "{}-{logical_id}",
        std::env::var("BAZAAR_STACK").unwrap_or_else(|_| "bazaar-dev".into())
    )
}

/// Polls `check` until it holds or `within` elapses; returns how long it took.
pub async fn eventually<F, Fut>(
    within: std::time::Duration,
    mut check: F,
) -> Option<std::time::Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while started.elapsed() < within {
        if check().await {
            return Some(started.elapsed());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    None
}

/// A checkout body: a US shipping address and `payment_method` (a Stripe test method such as
/// `pm_card_visa` or `pm_card_chargeDeclined`).
pub fn checkout_body(payment_method: &str) -> serde_json::Value {
    serde_json::json!({
        "shipping_address": {"name": "Grace Hopper", "line1": "1 Harbor Way", "city": "Arlington",
                             "region": "VA", "postal_code": "22201", "country": "US"},
        "payment_method": payment_method
    })
}
