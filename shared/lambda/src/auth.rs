//! Who is calling.
//!
//! In AWS the HttpApi JWT authorizer (Cognito) verifies the bearer token before the function runs and
//! passes the claims in `requestContext.authorizer.jwt.claims`; protected routes trust only those.
//! Public routes have no authorizer (an HttpApi route cannot have an optional one), so when
//! `COGNITO_ISSUER` and `COGNITO_CLIENT_ID` are set, [`AuthMode::optional_verified`] verifies the
//! Cognito token itself against the user pool's JWKS ([`CognitoVerifier`]).
//! Locally (`AUTH_MODE=local`) there is no authorizer, so the function verifies an HS256 token itself.
//! In no mode is an unverified token trusted.

use crate::config_error::ConfigError;
use bazaar_domain::error::Error;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, RwLock};

/// The local stack's secret (published in the docs): `bazaar-local env` gives it to the local
/// functions explicitly, and a function accepts it only there ([`crate::env::Config`] refuses it
/// without [`crate::env::LOCAL_STACK`], and refuses local auth in AWS Lambda altogether).
#[cfg(feature = "local")]
pub const DEFAULT_LOCAL_SECRET: &str = "bazaar-local-dev-secret";

/// A signed-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The JWT `sub`: the user id everything is keyed by.
    pub user_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// How identities are established.
#[derive(Clone)]
pub enum AuthMode {
    /// Trust only claims placed in the request context by API Gateway's JWT authorizer. With
    /// `cognito`, public routes (no authorizer) may verify a Cognito token themselves through
    /// [`AuthMode::optional_verified`]; protected routes still trust only the authorizer.
    Authorizer {
        cognito: Option<Arc<CognitoVerifier>>,
    },
    /// Verify `Authorization: Bearer <HS256 JWT>` with a shared secret (local stack only: never
    /// in AWS Lambda, see [`crate::env::Config::from_lookup`]). Only in builds with the feature
    /// `local`, which the local tooling enables: the AWS binaries do not contain it.
    #[cfg(feature = "local")]
    Local { key: DecodingKey },
}

impl std::fmt::Debug for AuthMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthMode::Authorizer { cognito: None } => f.write_str("Authorizer"),
            AuthMode::Authorizer {
                cognito: Some(verifier),
            } => f
                .debug_struct("Authorizer")
                .field("cognito", verifier)
                .finish(),
            #[cfg(feature = "local")]
            AuthMode::Local { .. } => f.write_str("Local { key: <redacted> }"),
        }
    }
}

impl AuthMode {
    #[cfg(feature = "local")]
    pub fn local(secret: &str) -> Self {
        AuthMode::Local {
            key: DecodingKey::from_secret(secret.as_bytes()),
        }
    }

    /// Whether this is the local stack's HS256 mode (always `false` in builds without the
    /// feature `local`, so code guarded by it is compiled out of the AWS binaries).
    pub fn is_local(&self) -> bool {
        #[cfg(feature = "local")]
        if let AuthMode::Local { .. } = self {
            return true;
        }
        false
    }

    /// Authorizer mode without a verifier: public routes are always anonymous.
    pub fn authorizer() -> Self {
        AuthMode::Authorizer { cognito: None }
    }

    /// Authorizer mode whose public routes verify Cognito tokens with `verifier`.
    pub fn cognito(verifier: CognitoVerifier) -> Self {
        AuthMode::Authorizer {
            cognito: Some(Arc::new(verifier)),
        }
    }
}

/// The claims of a local token (a subset of what Cognito issues).
#[cfg(feature = "local")]
#[derive(Debug, serde::Serialize, Deserialize)]
pub struct LocalClaims {
    pub sub: String,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// As Cognito: the address is used only when this is `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
}

/// Whether an `email_verified` claim says yes: `true`, or `"true"` (API Gateway's JWT
/// authorizer hands every claim over as a string).
fn verified(claim: Option<&serde_json::Value>) -> bool {
    match claim {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::String(s)) => s == "true",
        _ => false,
    }
}

const MISSING: &str = "This route needs a bearer token: send `Authorization: Bearer <JWT>`.";
#[cfg(feature = "local")]
const INVALID: &str = "The bearer token is invalid or expired.";

impl AuthMode {
    /// The caller's identity: `Ok(None)` when no credentials were sent, `Err(401)` when they do not verify.
    pub fn identify(&self, req: &Request) -> Result<Option<Identity>, Error> {
        match self {
            AuthMode::Authorizer { .. } => Ok(authorizer_identity(req)),
            #[cfg(feature = "local")]
            AuthMode::Local { key } => match bearer_token(req) {
                None => Ok(None),
                Some(Err(())) => Err(Error::Unauthorized(INVALID)),
                Some(Ok(token)) => verify_local(key, token).map(Some),
            },
        }
    }

    /// The identity a protected route requires: `401` without one.
    pub fn require(&self, req: &Request) -> Result<Identity, Error> {
        self.identify(req)?.ok_or(Error::Unauthorized(MISSING))
    }

    /// The identity on a public route: a token that does not verify counts as anonymous, as it does
    /// in AWS where public routes have no authorizer. In AWS this is always `None` on public routes;
    /// use [`AuthMode::optional_verified`] there.
    pub fn optional(&self, req: &Request) -> Option<Identity> {
        self.identify(req).ok().flatten()
    }

    /// The identity on a public route, verifying a Cognito token when no authorizer ran.
    ///
    /// The authorizer's claims when present; else, in authorizer mode with a [`CognitoVerifier`],
    /// the verified `Authorization: Bearer <Cognito JWT>`; in local mode, as [`AuthMode::optional`].
    /// Anything that does not verify (or a JWKS that cannot be fetched) counts as anonymous.
    pub async fn optional_verified(&self, req: &Request) -> Option<Identity> {
        match self {
            AuthMode::Authorizer { cognito } => {
                if let Some(identity) = authorizer_identity(req) {
                    return Some(identity);
                }
                let verifier = cognito.as_deref()?;
                match bearer_token(req)? {
                    Ok(token) => verifier.verify(token).await,
                    Err(()) => {
                        tracing::debug!("authorization header is not a bearer token; anonymous");
                        None
                    }
                }
            }
            #[cfg(feature = "local")]
            AuthMode::Local { .. } => self.optional(req),
        }
    }
}

mod http_header {
    pub use lambda_http::http::header::AUTHORIZATION;
}

/// The bearer token of the request: `None` without an `Authorization` header, `Some(Err(()))` when
/// the header is not `Bearer <token>`.
fn bearer_token(req: &Request) -> Option<Result<&str, ()>> {
    let header = req.headers().get(http_header::AUTHORIZATION)?;
    Some(
        header
            .to_str()
            .ok()
            .and_then(|h| {
                let (scheme, token) = h.trim().split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then_some(token.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or(()),
    )
}

/// The longest user id (`sub`) accepted: Cognito's are 36-character UUIDs.
pub const MAX_USER_ID_LEN: usize = 128;

impl Identity {
    /// The identity when its claims are fit to key data by: a `sub` of 1..=[`MAX_USER_ID_LEN`]
    /// characters without control characters or `#` (the table's key separator) — else `None`,
    /// which is `401` (a 3,000-character `sub` once reached DynamoDB's key limit as a `500`).
    /// A display name or e-mail out of bounds is dropped, not trusted.
    fn bounded(mut self) -> Option<Identity> {
        let sub_ok = !self.user_id.trim().is_empty()
            && self.user_id.chars().count() <= MAX_USER_ID_LEN
            && !self.user_id.chars().any(|c| c.is_control() || c == '#');
        if !sub_ok {
            return None;
        }
        let fits =
            |v: &String, max: usize| v.chars().count() <= max && !v.chars().any(char::is_control);
        self.name = self.name.filter(|n| fits(n, 200));
        self.email = self.email.filter(|e| fits(e, 254) && e.contains('@'));
        Some(self)
    }
}

fn authorizer_identity(req: &Request) -> Option<Identity> {
    let RequestContext::ApiGatewayV2(ctx) = req.request_context_ref()? else {
        return None;
    };
    let claims = &ctx.authorizer.as_ref()?.jwt.as_ref()?.claims;
    let sub = claims.get("sub").filter(|s| !s.is_empty())?;
    Identity {
        user_id: sub.clone(),
        name: claims
            .get("name")
            .or_else(|| claims.get("cognito:username"))
            .cloned(),
        // An address nobody proved to own is never used (it would receive order e-mails).
        email: claims
            .get("email")
            .filter(|_| claims.get("email_verified").map(String::as_str) == Some("true"))
            .cloned(),
    }
    .bounded()
}

#[cfg(feature = "local")]
fn verify_local(key: &DecodingKey, token: &str) -> Result<Identity, Error> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "sub"]);
    validation.validate_aud = false;
    validation.leeway = 5;
    let data = jsonwebtoken::decode::<LocalClaims>(token, key, &validation)
        .map_err(|_| Error::Unauthorized(INVALID))?;
    let claims = data.claims;
    Identity {
        user_id: claims.sub,
        name: claims.name,
        email: claims.email.filter(|_| claims.email_verified == Some(true)),
    }
    .bounded()
    .ok_or(Error::Unauthorized(INVALID))
}

/// Mints a local HS256 token (for `make token`, tests and the seed tooling).
#[cfg(feature = "local")]
pub fn mint_local_token(
    secret: &str,
    sub: &str,
    ttl_seconds: i64,
    name: Option<&str>,
) -> Result<String, Error> {
    let claims = LocalClaims {
        sub: sub.to_owned(),
        exp: chrono::Utc::now().timestamp() + ttl_seconds,
        name: name.map(str::to_owned),
        email: None,
        email_verified: None,
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(Error::internal)
}

/// How long one JWKS request may take (connect to last byte).
pub const JWKS_FETCH_TIMEOUT: Duration = Duration::from_secs(2);
/// A `kid` not in the cached JWKS refetches it (key rotation) at most once per this long.
pub const JWKS_REFETCH_COOLDOWN: Duration = Duration::from_secs(60);
/// After a failed JWKS fetch, the next attempt waits this long (or the cooldown, if shorter).
const JWKS_FAILURE_BACKOFF: Duration = Duration::from_secs(5);
/// A JWKS larger than this is refused (Cognito's holds two keys, about 1 KiB).
const MAX_JWKS_BYTES: usize = 64 * 1024;
/// A bearer token larger than this is not parsed (Cognito tokens are a few KiB).
const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Clock skew allowed on `exp`.
const COGNITO_LEEWAY_SECONDS: u64 = 5;

/// Verifies Cognito user-pool tokens (id or access) against the pool's JWKS, following Cognito's
/// documented rules: header `alg` RS256 with a `kid` in the JWKS, the signature, `exp` (5 s leeway),
/// `iss` equal to the issuer, `token_use` `id` (with `aud` one of the app client ids) or `access`
/// (with `client_id` one of them), and a non-empty `sub`. The stack has several app clients (the
/// API's, the storefront's, the optional smoke-test client), and the JWT authorizer of the
/// protected routes accepts the same list.
///
/// The JWKS is fetched on first need (timeout [`JWKS_FETCH_TIMEOUT`]) and cached; a `kid` not in the
/// cache refetches it at most once per [`JWKS_REFETCH_COOLDOWN`] (key rotation), and a failed fetch
/// is retried after 5 s at the earliest. Fetches are single-flight: concurrent requests wait for the
/// one in progress instead of starting their own. Any failure makes the token anonymous (`None`).
pub struct CognitoVerifier {
    issuer: String,
    client_ids: Vec<String>,
    jwks_url: String,
    http: reqwest::Client,
    fetch_timeout: Duration,
    refetch_cooldown: Duration,
    /// The RS256 signing keys by `kid`, as of the last successful fetch.
    keys: RwLock<HashMap<String, Arc<DecodingKey>>>,
    /// Held while fetching (single flight).
    fetches: Mutex<Fetches>,
}

#[derive(Default)]
struct Fetches {
    /// The last fetch made while keys were already cached (for an unknown `kid`).
    last_refetch: Option<Instant>,
    /// The last fetch that failed, if the last fetch failed.
    last_failure: Option<Instant>,
}

impl std::fmt::Debug for CognitoVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CognitoVerifier")
            .field("issuer", &self.issuer)
            .field("client_ids", &self.client_ids)
            .field("jwks_url", &self.jwks_url)
            .finish_non_exhaustive()
    }
}

impl CognitoVerifier {
    /// A verifier for the user pool `issuer` (`https://cognito-idp.<region>.amazonaws.com/<pool id>`)
    /// and the app clients `client_ids` (comma-separated: `id1,id2`). The JWKS is read from `jwks_url`, by default
    /// `<issuer>/.well-known/jwks.json`. Nothing is fetched until a token needs verifying.
    ///
    /// Errors name the environment variable the value comes from (`COGNITO_ISSUER`,
    /// `COGNITO_CLIENT_ID`, `COGNITO_JWKS_URL`).
    pub fn new(
        issuer: &str,
        client_ids: &str,
        jwks_url: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let issuer = issuer.trim();
        let parsed = url::Url::parse(issuer).map_err(|e| ConfigError::Invalid {
            name: "COGNITO_ISSUER",
            reason: format!("`{issuer}` is not a URL: {e}"),
        })?;
        if parsed.scheme() != "https"
            || parsed.host_str().is_none()
            || issuer.ends_with('/')
            || parsed.query().is_some()
            || parsed.fragment().is_some()
        {
            return Err(ConfigError::Invalid {
                name: "COGNITO_ISSUER",
                reason: format!(
                    "`{issuer}` is not an issuer such as https://cognito-idp.<region>.amazonaws.com/<user pool id> (https, no trailing slash)"
                ),
            });
        }
        let client_ids: Vec<String> = client_ids
            .split(',')
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .collect();
        if client_ids.is_empty()
            || client_ids
                .iter()
                .any(|id| id.chars().any(char::is_whitespace))
        {
            return Err(ConfigError::Invalid {
                name: "COGNITO_CLIENT_ID",
                reason: "app client ids, comma-separated, each one word".to_owned(),
            });
        }
        let jwks_url = match jwks_url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => {
                let parsed = url::Url::parse(url).map_err(|e| ConfigError::Invalid {
                    name: "COGNITO_JWKS_URL",
                    reason: format!("`{url}` is not a URL: {e}"),
                })?;
                if !matches!(parsed.scheme(), "https" | "http") {
                    return Err(ConfigError::Invalid {
                        name: "COGNITO_JWKS_URL",
                        reason: format!("`{url}` is not an http(s) URL"),
                    });
                }
                url.to_owned()
            }
            None => format!("{issuer}/.well-known/jwks.json"),
        };
        let http = reqwest::Client::builder()
            .build()
            .map_err(|e| ConfigError::Invalid {
                name: "COGNITO_JWKS_URL",
                reason: format!("cannot build an HTTP client: {e}"),
            })?;
        Ok(CognitoVerifier {
            issuer: issuer.to_owned(),
            client_ids,
            jwks_url,
            http,
            fetch_timeout: JWKS_FETCH_TIMEOUT,
            refetch_cooldown: JWKS_REFETCH_COOLDOWN,
            keys: RwLock::new(HashMap::new()),
            fetches: Mutex::new(Fetches::default()),
        })
    }

    /// Overrides [`JWKS_FETCH_TIMEOUT`].
    pub fn with_fetch_timeout(mut self, timeout: Duration) -> Self {
        self.fetch_timeout = timeout;
        self
    }

    /// Overrides [`JWKS_REFETCH_COOLDOWN`].
    pub fn with_refetch_cooldown(mut self, cooldown: Duration) -> Self {
        self.refetch_cooldown = cooldown;
        self
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn client_ids(&self) -> &[String] {
        &self.client_ids
    }

    pub fn jwks_url(&self) -> &str {
        &self.jwks_url
    }

    /// The identity of a Cognito token, or `None` when it does not verify (logged without the token).
    pub async fn verify(&self, token: &str) -> Option<Identity> {
        match self.check(token).await {
            Ok(identity) => Some(identity),
            Err(reason) => {
                tracing::debug!(reason, "cognito token not accepted; anonymous");
                None
            }
        }
    }

    async fn check(&self, token: &str) -> Result<Identity, &'static str> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err("token too large");
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| "malformed header")?;
        if header.alg != Algorithm::RS256 {
            return Err("alg is not RS256");
        }
        let kid = header
            .kid
            .filter(|k| !k.is_empty())
            .ok_or("no kid in the header")?;
        let key = self.key(&kid).await.ok_or("kid not in the JWKS")?;

        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.set_issuer(&[&self.issuer]);
        validation.leeway = COGNITO_LEEWAY_SECONDS;
        // `aud` is checked below: only id tokens carry one.
        validation.validate_aud = false;
        let claims = jsonwebtoken::decode::<CognitoClaims>(token, &key, &validation)
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidSignature => "bad signature",
                ErrorKind::ExpiredSignature => "expired",
                ErrorKind::InvalidIssuer => "wrong issuer",
                ErrorKind::InvalidAlgorithm => "wrong algorithm",
                ErrorKind::MissingRequiredClaim(_) => "missing claim",
                _ => "malformed token",
            })?
            .claims;

        if claims.iss.as_deref() != Some(self.issuer.as_str()) {
            return Err("wrong issuer");
        }
        match claims.token_use.as_deref() {
            Some("id") => {
                if !matches!(&claims.aud, Some(serde_json::Value::String(aud)) if self.client_ids.contains(aud))
                {
                    return Err("wrong audience");
                }
            }
            Some("access") => {
                if !claims
                    .client_id
                    .as_ref()
                    .is_some_and(|id| self.client_ids.contains(id))
                {
                    return Err("wrong client_id");
                }
            }
            _ => return Err("token_use is neither id nor access"),
        }
        let sub = claims
            .sub
            .filter(|s| !s.trim().is_empty())
            .ok_or("empty sub")?;
        Identity {
            user_id: sub,
            name: claims.name.or(claims.cognito_username).or(claims.username),
            email: claims
                .email
                .filter(|_| verified(claims.email_verified.as_ref())),
        }
        .bounded()
        .ok_or("sub out of bounds")
    }

    /// The key `kid`: the JWKS is fetched on first need; a `kid` it lacks refetches it at most once
    /// per cooldown; after a failed fetch the next waits `JWKS_FAILURE_BACKOFF` (at most the
    /// cooldown).
    async fn key(&self, kid: &str) -> Option<Arc<DecodingKey>> {
        if let Some(key) = self.keys.read().await.get(kid) {
            return Some(key.clone());
        }
        // Single flight: whoever holds this fetches; the others wait, then see its result.
        let mut fetches = self.fetches.lock().await;
        let loaded = {
            let keys = self.keys.read().await;
            if let Some(key) = keys.get(kid) {
                return Some(key.clone());
            }
            !keys.is_empty()
        };
        let within = |at: Option<Instant>, wait: Duration| at.is_some_and(|at| at.elapsed() < wait);
        if within(
            fetches.last_failure,
            self.refetch_cooldown.min(JWKS_FAILURE_BACKOFF),
        ) {
            return None;
        }
        if loaded && within(fetches.last_refetch, self.refetch_cooldown) {
            tracing::debug!("kid not in the JWKS, which was refetched recently");
            return None;
        }
        let fetched = self.fetch_jwks().await;
        let now = Instant::now();
        if loaded {
            fetches.last_refetch = Some(now);
        }
        match fetched {
            Ok(keys) => {
                fetches.last_failure = None;
                tracing::debug!(keys = keys.len(), url = %self.jwks_url, "fetched the Cognito JWKS");
                let key = keys.get(kid).cloned();
                *self.keys.write().await = keys;
                key
            }
            Err(error) => {
                fetches.last_failure = Some(now);
                tracing::warn!(%error, url = %self.jwks_url, "cannot fetch the Cognito JWKS; tokens count as anonymous");
                None
            }
        }
    }

    async fn fetch_jwks(&self) -> Result<HashMap<String, Arc<DecodingKey>>, String> {
        let response = self
            .http
            .get(&self.jwks_url)
            .timeout(self.fetch_timeout)
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("status {status}"));
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_JWKS_BYTES as u64)
        {
            return Err("response too large".to_owned());
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| format!("reading the body failed: {e}"))?;
        if body.len() > MAX_JWKS_BYTES {
            return Err("response too large".to_owned());
        }
        let set: JwksDocument =
            serde_json::from_slice(&body).map_err(|e| format!("not a JWKS: {e}"))?;
        // Only RSA signing keys for RS256; anything else (an `oct` key above all) is ignored.
        let keys: HashMap<_, _> = set
            .keys
            .into_iter()
            .filter_map(|value| serde_json::from_value::<RsaJwk>(value).ok())
            .filter(|jwk| {
                jwk.kty == "RSA"
                    && !jwk.kid.is_empty()
                    && jwk.alg.as_deref().is_none_or(|alg| alg == "RS256")
                    && jwk.key_use.as_deref().is_none_or(|u| u == "sig")
            })
            .filter_map(|jwk| {
                let key = DecodingKey::from_rsa_components(&jwk.n, &jwk.e).ok()?;
                Some((jwk.kid, Arc::new(key)))
            })
            .collect();
        if keys.is_empty() {
            return Err("no RS256 signing keys in the JWKS".to_owned());
        }
        Ok(keys)
    }
}

#[derive(Deserialize)]
struct JwksDocument {
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct RsaJwk {
    kty: String,
    kid: String,
    n: String,
    e: String,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    key_use: Option<String>,
}

/// The claims of a Cognito id or access token that are checked or read.
#[derive(Deserialize)]
struct CognitoClaims {
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    iss: Option<String>,
    #[serde(default)]
    token_use: Option<String>,
    #[serde(default)]
    aud: Option<serde_json::Value>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "cognito:username")]
    cognito_username: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(auth: Option<&str>) -> Request {
        let mut event = serde_json::json!({
            "version": "2.0",
            "routeKey": "GET /cart",
            "rawPath": "/cart",
            "rawQueryString": "",
            "headers": {},
            "requestContext": {
                "accountId": "123", "apiId": "api", "domainName": "x", "domainPrefix": "x",
                "http": {"method": "GET", "path": "/cart", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "t"},
                "requestId": "r1", "routeKey": "GET /cart", "stage": "$default",
                "time": "21/Nov/2026:05:00:00 +0000", "timeEpoch": 0
            },
            "isBase64Encoded": false
        });
        if let Some(a) = auth {
            event["headers"]["authorization"] = a.into();
        }
        lambda_http::request::from_str(&event.to_string()).expect("valid event")
    }

    fn authorizer_request(sub: &str) -> Request {
        authorizer_request_with(
            serde_json::json!({"sub": sub, "email": "a@example.com", "email_verified": "true"}),
        )
    }

    fn authorizer_request_with(claims: serde_json::Value) -> Request {
        let event = serde_json::json!({
            "version": "2.0",
            "routeKey": "GET /cart",
            "rawPath": "/cart",
            "rawQueryString": "",
            "headers": {"authorization": "Bearer whatever"},
            "requestContext": {
                "accountId": "123", "apiId": "api", "domainName": "x", "domainPrefix": "x",
                "http": {"method": "GET", "path": "/cart", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "t"},
                "requestId": "r1", "routeKey": "GET /cart", "stage": "$default",
                "time": "21/Nov/2026:05:00:00 +0000", "timeEpoch": 0,
                "authorizer": {"jwt": {"claims": claims, "scopes": null}}
            },
            "isBase64Encoded": false
        });
        lambda_http::request::from_str(&event.to_string()).expect("valid event")
    }

    #[test]
    fn local_tokens_verify() {
        let mode = AuthMode::local("s3cret");
        let token = mint_local_token("s3cret", "alice", 60, Some("Alice")).expect("mint");
        let id = mode
            .require(&request(Some(&format!("Bearer {token}"))))
            .expect("verifies");
        assert_eq!(id.user_id, "alice");
        // Hardening (issue 14): a `sub` that cannot key data is a 401, never a DynamoDB 500.
        for sub in [
            "a".repeat(3000),
            "alice#k".to_owned(),
            "ali\u{0}ce".to_owned(),
        ] {
            let token = mint_local_token("s3cret", &sub, 60, None).expect("mint");
            let err = mode
                .require(&request(Some(&format!("Bearer {token}"))))
                .expect_err("out of bounds");
            assert_eq!(err.status(), 401, "{sub:.20}");
        }
        assert_eq!(id.name.as_deref(), Some("Alice"));
    }

    #[test]
    fn forged_expired_and_malformed_tokens_are_401() {
        let mode = AuthMode::local("s3cret");
        let forged = mint_local_token("other-secret", "alice", 60, None).expect("mint");
        let expired = mint_local_token("s3cret", "alice", -3600, None).expect("mint");
        let blank_sub = mint_local_token("s3cret", " ", 60, None).expect("mint");
        for header in [
            format!("Bearer {forged}"),
            format!("Bearer {expired}"),
            format!("Bearer {blank_sub}"),
            "Bearer".to_owned(),
            "Bearer not.a.jwt".to_owned(),
            "Basic YWxpY2U6cHc=".to_owned(),
        ] {
            let err = mode.require(&request(Some(&header))).expect_err(&header);
            assert_eq!(err.status(), 401, "{header}");
            assert_eq!(mode.optional(&request(Some(&header))), None);
        }
        assert_eq!(
            mode.require(&request(None)).expect_err("missing").status(),
            401
        );
    }

    #[test]
    fn unsigned_tokens_are_refused() {
        // header {"alg":"none"} with a valid-looking payload
        let none =
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhbGljZSIsImV4cCI6OTk5OTk5OTk5OX0.";
        let mode = AuthMode::local("s3cret");
        assert!(
            mode.require(&request(Some(&format!("Bearer {none}"))))
                .is_err()
        );
    }

    #[test]
    fn authorizer_mode_trusts_only_the_request_context() {
        let mode = AuthMode::authorizer();
        let token = mint_local_token(DEFAULT_LOCAL_SECRET, "mallory", 60, None).expect("mint");
        // A perfectly valid local token is not trusted without the authorizer's claims.
        assert_eq!(
            mode.require(&request(Some(&format!("Bearer {token}"))))
                .expect_err("untrusted")
                .status(),
            401
        );
        let id = mode.require(&authorizer_request("bob")).expect("claims");
        assert_eq!(id.user_id, "bob");
        assert_eq!(id.email.as_deref(), Some("a@example.com"));
    }

    /// E-mail addresses come only from verified claims (issue 14): an unverified or absent
    /// `email_verified` leaves the identity without one, in every auth mode.
    #[test]
    fn unverified_e_mail_addresses_are_not_used() {
        let mode = AuthMode::authorizer();
        for (claim, kept) in [(Some("true"), true), (Some("false"), false), (None, false)] {
            let mut claims = serde_json::json!({"sub": "bob", "email": "bob@example.com"});
            if let Some(v) = claim {
                claims["email_verified"] = serde_json::Value::from(v);
            }
            let id = mode.require(&authorizer_request_with(claims)).expect("id");
            assert_eq!(id.email.is_some(), kept, "{claim:?}");
        }
        let local = AuthMode::local("s3cret");
        for (verified, kept) in [(Some(true), true), (Some(false), false), (None, false)] {
            let claims = LocalClaims {
                sub: "carol".into(),
                exp: chrono::Utc::now().timestamp() + 60,
                name: None,
                email: Some("carol@example.com".into()),
                email_verified: verified,
            };
            let token = jsonwebtoken::encode(
                &jsonwebtoken::Header::new(Algorithm::HS256),
                &claims,
                &jsonwebtoken::EncodingKey::from_secret(b"s3cret"),
            )
            .expect("token");
            let id = local
                .require(&request(Some(&format!("Bearer {token}"))))
                .expect("id");
            assert_eq!(id.email.is_some(), kept, "{verified:?}");
        }
        assert!(verified(Some(&serde_json::json!(true))));
        assert!(!verified(Some(&serde_json::json!("yes"))));
    }
}
