//! Who is calling.
//!
//! In AWS the HttpApi JWT authorizer (Cognito) verifies the bearer token before the function runs and
//! passes the claims in `requestContext.authorizer.jwt.claims`; the function trusts only those.
//! Locally (`AUTH_MODE=local`) there is no authorizer, so the function verifies an HS256 token itself.
//! In no mode is an unverified token trusted.

use crate::error::Error;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde::{Deserialize, Serialize};

/// The default secret of the local stack (documented; never used in AWS).
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
    /// Trust only claims placed in the request context by API Gateway's JWT authorizer.
    Authorizer,
    /// Verify `Authorization: Bearer <HS256 JWT>` with a shared secret (local stack only).
    Local { key: DecodingKey },
}

impl std::fmt::Debug for AuthMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthMode::Authorizer => f.write_str("Authorizer"),
            AuthMode::Local { .. } => f.write_str("Local { key: <redacted> }"),
        }
    }
}

impl AuthMode {
    pub fn local(secret: &str) -> Self {
        AuthMode::Local {
            key: DecodingKey::from_secret(secret.as_bytes()),
        }
    }
}

/// The claims of a local token (a subset of what Cognito issues).
#[derive(Debug, Serialize, Deserialize)]
pub struct LocalClaims {
    pub sub: String,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

const MISSING: &str = "This route needs a bearer token: send `Authorization: Bearer <JWT>`.";
const INVALID: &str = "The bearer token is invalid or expired.";

impl AuthMode {
    /// The caller's identity: `Ok(None)` when no credentials were sent, `Err(401)` when they do not verify.
    pub fn identify(&self, req: &Request) -> Result<Option<Identity>, Error> {
        match self {
            AuthMode::Authorizer => Ok(authorizer_identity(req)),
            AuthMode::Local { key } => {
                let Some(header) = req.headers().get(http_header::AUTHORIZATION) else {
                    return Ok(None);
                };
                let token = header
                    .to_str()
                    .ok()
                    .and_then(|h| {
                        let (scheme, token) = h.trim().split_once(' ')?;
                        scheme
                            .eq_ignore_ascii_case("bearer")
                            .then_some(token.trim())
                    })
                    .filter(|t| !t.is_empty())
                    .ok_or(Error::Unauthorized(INVALID))?;
                verify_local(key, token).map(Some)
            }
        }
    }

    /// The identity a protected route requires: `401` without one.
    pub fn require(&self, req: &Request) -> Result<Identity, Error> {
        self.identify(req)?.ok_or(Error::Unauthorized(MISSING))
    }

    /// The identity on a public route: a token that does not verify counts as anonymous, as it does
    /// in AWS where public routes have no authorizer.
    pub fn optional(&self, req: &Request) -> Option<Identity> {
        self.identify(req).ok().flatten()
    }
}

mod http_header {
    pub use lambda_http::http::header::AUTHORIZATION;
}

fn authorizer_identity(req: &Request) -> Option<Identity> {
    let RequestContext::ApiGatewayV2(ctx) = req.request_context_ref()? else {
        return None;
    };
    let claims = &ctx.authorizer.as_ref()?.jwt.as_ref()?.claims;
    let sub = claims.get("sub").filter(|s| !s.is_empty())?;
    Some(Identity {
        user_id: sub.clone(),
        name: claims
            .get("name")
            .or_else(|| claims.get("cognito:username"))
            .cloned(),
        email: claims.get("email").cloned(),
    })
}

fn verify_local(key: &DecodingKey, token: &str) -> Result<Identity, Error> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "sub"]);
    validation.validate_aud = false;
    validation.leeway = 5;
    let data = jsonwebtoken::decode::<LocalClaims>(token, key, &validation)
        .map_err(|_| Error::Unauthorized(INVALID))?;
    let claims = data.claims;
    if claims.sub.trim().is_empty() {
        return Err(Error::Unauthorized(INVALID));
    }
    Ok(Identity {
        user_id: claims.sub,
        name: claims.name,
        email: claims.email,
    })
}

/// Mints a local HS256 token (for `make token`, tests and the seed tooling).
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
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(Error::internal)
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
                "authorizer": {"jwt": {"claims": {"sub": sub, "email": "a@example.com"}, "scopes": null}}
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
        let mode = AuthMode::Authorizer;
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
}
