//! The Cognito verifier of public routes (`AuthMode::optional_verified`) against a mock JWKS
//! endpoint: Cognito's verification rules, the JWKS cache (one fetch, single flight, refetch for an
//! unknown `kid` at most once per cooldown) and an unreachable JWKS.
//!
//! The RSA keys below were generated for these tests only (`openssl genrsa -traditional 2048`).

/// Named so that `cargo test auth` selects these tests.
mod auth {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use bazaar_lambda::auth::{AuthMode, CognitoVerifier, Identity, mint_local_token};
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use serde_json::{Value, json};
    use std::time::{Duration, Instant};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC";
    const CLIENT_ID: &str = "3n4b5urk1ft4fl3mg5e62d9ado";
    const KID: &str = "test-key-1";

    /// The signing key of the mock user pool (PKCS#1). Test-only.
    const PRIVATE_KEY_PEM: &str = "\
-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEA1NdcDCuPSocriV0RHzspI85WGMw5JBayo4up3yD99Q2RO7NH
AgqZVNFRa80nDJW4UvtoNwq4x/BcIdVxUE4wku5NY6sEg6xoLl+plDpRWaQ4LQuf
lRoifZNIoBqGlgt6n93W6pwrsHugIbCaHUJt5PMEwHB2Dema+nE30NY01j98+lgi
KBOoUq0fmEOq/zV+CZdxjgtyhsG1vSnYwbdVUXUjEj09Yus637/Jg/muTgocvfhZ
7TSRngYceaamonzvZFWgWE597slJ7y577+1C7Xu9dsqpbkQdzJoMH+aMjxI8xQdQ
SZSGlK6g0bkgfWy9uOvS2imZ3GFEm5GIfZpugwIDAQABAoIBAGLaGxAz8vskSF4l
8VvV+Ed+/5HI2Akg2ZsHtL/C7PAxevCFVUdncMtp5CzzPV2k89TmmwJlYmjKA6Bb
J6OqjPjQ4PSXayNUoZZYK8SCSWIe2VBig52WY8p661Igv71UW4GAYN7Z5Ziz8i1z
fkB0p+Gb1Osj0FCp3KbQiqHduvB99s7nBG/Fi0z2taaB3YSkPtHZfJN2JIxUIeu9
lEKtDIUuS4Ag3fW2f8RZr+L18eAS2BJYCuRXPCEeF7aULWfyG4WmTzt42wraLAER
7PKCfxvGR/NsBFAyw9QuR9Z0RrckO1oJbofc5+rTRLECJWj0V6hftQlEoPND5XF0
hLvn1iECgYEA+idgMMgZwzaQ/4f5Do5msTWFnf+mECqwjbOL0vQMjqijMHZOPW3H
5TRzm9KzG7CiWvFQWYYHfhFUJwAl7b0y4yUOZUs1DZBc4MMwAQ+fVusBNNwHxJbR
gtKhwzKPBzlM5vZS7xQyDklChabJYpARu7TV+iIdjrRDv4PkBjOm7bkCgYEA2dC/
5o1kqojXWwLjnYvs5cX0RKc3yD2us1WAWavP49vhzeKYietPhyqapZZyjYSWkaF1
cZ9bf6ONmf72UYvBNnyo5zvLQA+oL4yZHbNYqC9P3GBCA1YeP1gVN4t1hRIgFKyI
zvA4mqVA8oJDtY7OaYKRgNZg1ji+hnourSmIPBsCgYBzA2+ifh36NzhrhGTqYGau
y2DnyAbeIAKU5BxBnZu4a6i8O2i1rafepkMRPcrDzG6ZSaIbxxfiyqzaUaMer4Ka
FQuNXwrBdcJ+RL/pfPlRyTMAzrlzlbQ2Zgmh6bkBJUNKXa675ZkuIFjJgmnNO1gr
6XUIUG8ukYsknstUXqM9YQKBgFbI1a0GqRVJcITSod4j4j+qn6i6937RFMpfRsRz
sGEZOt7NafmJyCYS04smZn38VgGwUxryY4J3p/OzonDbPiB3itSW/mSH2HsZiehL
jQd10lv7/lFV/rc+YTXAWxKqJh4WoGvTSrpTHY2CWXf9bkCbxV2QDQVNlpv+Eprr
8VwBAoGBAOvAWcbx5vm+CPXhIdaoOMV7ctnTesbCqEiwxks1z34c/3n1+ryXkgJo
N5fRItyWAPRze6BiTDTkzX3aIvil4dKvSjWsy4NfUYFU7q4jf6jgN5gv2z9SZxzT
jriEr8tmcFpMMoTbPdArNJhs0QIMkdKXK4OvXaSNArucv9RXxRKr
-----END RSA PRIVATE KEY-----
";
    /// Its public half, as published (the bytes an alg-confusion attacker would HMAC with).
    const PUBLIC_KEY_PEM: &str = "\
-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA1NdcDCuPSocriV0RHzsp
I85WGMw5JBayo4up3yD99Q2RO7NHAgqZVNFRa80nDJW4UvtoNwq4x/BcIdVxUE4w
ku5NY6sEg6xoLl+plDpRWaQ4LQuflRoifZNIoBqGlgt6n93W6pwrsHugIbCaHUJt
5PMEwHB2Dema+nE30NY01j98+lgiKBOoUq0fmEOq/zV+CZdxjgtyhsG1vSnYwbdV
UXUjEj09Yus637/Jg/muTgocvfhZ7TSRngYceaamonzvZFWgWE597slJ7y577+1C
7Xu9dsqpbkQdzJoMH+aMjxI8xQdQSZSGlK6g0bkgfWy9uOvS2imZ3GFEm5GIfZpu
gwIDAQAB
-----END PUBLIC KEY-----
";
    /// Its modulus and exponent, base64url, as in the JWKS.
    const PUBLIC_N: &str = "1NdcDCuPSocriV0RHzspI85WGMw5JBayo4up3yD99Q2RO7NHAgqZVNFRa80nDJW4UvtoNwq4x_BcIdVxUE4wku5NY6sEg6xoLl-plDpRWaQ4LQuflRoifZNIoBqGlgt6n93W6pwrsHugIbCaHUJt5PMEwHB2Dema-nE30NY01j98-lgiKBOoUq0fmEOq_zV-CZdxjgtyhsG1vSnYwbdVUXUjEj09Yus637_Jg_muTgocvfhZ7TSRngYceaamonzvZFWgWE597slJ7y577-1C7Xu9dsqpbkQdzJoMH-aMjxI8xQdQSZSGlK6g0bkgfWy9uOvS2imZ3GFEm5GIfZpugw";
    const PUBLIC_E: &str = "AQAB";
    /// A key the pool never published. Test-only.
    const OTHER_PRIVATE_KEY_PEM: &str = "\
-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEA7Z//3GpdOyFWSuAYeO5lsSEUNxKZjG+n59iQH4esA4RsS6Vx
/XPu8yMYkdpOCzG8ppMbCfcgan7xjhE26oYig3fXSs+X0r9dLvN05Q4qIjeTFJMr
lYeQwxMEWeGNmjIU2FquT0yk4u2XP3RVdbzqxWPj/gj3S9+DxvIYalDjY4E7iyBc
Y7f/54aaA1b4M0BcmpGcgoi6uwf6zut+xZMjNjcKrUrmwYH4TU32hTyIMTKnTVIW
bsNa54DkqvfcaWWzCiJQtBuYg6jblUq28SljU0FQ6/wlJax92g0XorHtOOwsLEkv
2hL2gKZXVvxzfLVznWhw8vJy/XvldnOR/L/ecQIDAQABAoIBABmEuzdyfLyi4d98
nWQvReB1yvP3HWJFg2SUjzWznjdqey7Mf6dWUezuce8H4KW3G6lP1vGFBogpRcuZ
8anR6dbwgcBY9tb9Ega+wmju0nuGOFdXTrDqNBOe8TKt1EUg57gsVNfTRUnRdhKs
bZkNRrEX/x4C3Hvbbw1oZlLUiPbgbwNbhHEcN4w2i/MlIOCwR9dCRYzAw7NZ5oIm
kRlvWFST4KkgQpgUMikP5Ok0+7lk+iQs7nrQFj4ZN4BMxgejBFCA6jSYjSTpnmFN
roeK/MVlf5kgAcCLbIJVSZ/PHsX7nzNOJXnQ6R4axYwta/SLgsZV9V63T1Z5442q
uWymu4ECgYEA/fAQKSgmbit/rEKZaNA7Tvhr2c9AS8+fUx/lelpA6Lh89QCyKDz8
TReiwYSqdN6BkQ3SBZsUkql8e8X7sBmNPK2ezyALnPzSFic5CoKYCh6MPkIyjRDM
oPNzTxAtlrIvmecPd4zgvRs0lW2hqESWVbeJBF53l6DpPuVxkUfYBlkCgYEA744F
qLKiDyLjo9opvEdn+KBAgJug4NawrjqpEprh12lG889WMKWX/hi2joPPzfsBRaNF
etR2XTkpq9cUiBrY0+7D3L/URBNu1xL8go6qzH9WPwRM30gedeYGsE6wVE3Ctj82
Ddq/5zoXMu1krsaneJ7Fdr18KhUpmf9Ime/AxdkCgYEAg3UueI/vbSMZogyMLGV3
/oa+FnCjAVwHR9oASxnD9nXjQlZM5GXF2wb8W6AZOg0iF/yGmB5TRSV2awDwLZbc
tefPibw2Jtv+yjcd4WH/4WU1BtnwH3Tt6fh93hUq9JNj7xFdwW7tvRgDXcP2Zwyy
osczqE5bLOTBOq0+4I3HuGkCgYB24Fl6j7rQHBYvF3IilqTHwm5/47sAGEnxC/ce
3nE4PmwRTVCOL36vf4AIVOzoYKkO76jo/UoHlPhS6BauO/Rhp1jW0PL7HVGhtTBN
cZLcjEw2VWH4Y4eKJi4ni8UA8N2xJskiMu2MR01/3kJaYQZ2WwPOmtVk5L+SRha3
HTzicQKBgFM+CMI3LqIcyh6cyPLLpbnKcvC9Lz2hoyb8CG/kHZd4YS6ecEogDtB+
6pEwCJCcgfXJKjGHjDZjDV7Z8T7nsIxKJYnzBrJ5SrSFDMvBDgxVEtII0QGXnwXk
iFTqNT6z8CoziJttgHvy5AtreOP3EObWwwVfwZM4WUVpex1g30Q9
-----END RSA PRIVATE KEY-----
";

    fn pem_der(pem: &str) -> Vec<u8> {
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        STANDARD.decode(body).expect("PEM body")
    }

    fn jwk(kid: &str) -> Value {
        json!({"alg": "RS256", "e": PUBLIC_E, "kid": kid, "kty": "RSA", "n": PUBLIC_N, "use": "sig"})
    }

    /// A JWKS like Cognito's, plus entries a verifier must ignore.
    fn jwks(kids: &[&str]) -> Value {
        let mut keys: Vec<Value> = kids.iter().map(|k| jwk(k)).collect();
        keys.push(
            json!({"kty": "oct", "kid": "hmac", "k": URL_SAFE_NO_PAD.encode(PUBLIC_KEY_PEM)}),
        );
        keys.push(json!({"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"}));
        keys.push(
            json!({"kty": "RSA", "kid": "rs512", "alg": "RS512", "n": PUBLIC_N, "e": PUBLIC_E}),
        );
        json!({ "keys": keys })
    }

    fn jwks_response(kids: &[&str]) -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_json(jwks(kids))
    }

    async fn jwks_server(kids: &[&str], expected_fetches: u64) -> MockServer {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/jwks.json"))
            .respond_with(jwks_response(kids))
            .expect(expected_fetches)
            .mount(&server)
            .await;
        server
    }

    fn verifier_at(server: &MockServer) -> CognitoVerifier {
        CognitoVerifier::new(
            ISSUER,
            CLIENT_ID,
            Some(&format!("{}/jwks.json", server.uri())),
        )
        .expect("valid settings")
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    fn id_claims() -> Value {
        json!({
            "sub": "5f1c1a6e-0000-4000-8000-000000000001",
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "token_use": "id",
            "auth_time": now(),
            "iat": now(),
            "exp": now() + 3600,
            "cognito:username": "alice",
            "email": "alice@example.com",
            "email_verified": true
        })
    }

    fn access_claims() -> Value {
        json!({
            "sub": "5f1c1a6e-0000-4000-8000-000000000002",
            "iss": ISSUER,
            "client_id": CLIENT_ID,
            "token_use": "access",
            "scope": "aws.cognito.signin.user.admin",
            "iat": now(),
            "exp": now() + 3600,
            "username": "bob"
        })
    }

    fn with(mut claims: Value, key: &str, value: Value) -> Value {
        claims[key] = value;
        claims
    }

    fn without(mut claims: Value, key: &str) -> Value {
        claims.as_object_mut().expect("object").remove(key);
        claims
    }

    fn sign_with(alg: Algorithm, kid: Option<&str>, claims: &Value, key: &EncodingKey) -> String {
        let mut header = Header::new(alg);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, key).expect("sign")
    }

    fn rsa_key() -> EncodingKey {
        EncodingKey::from_rsa_der(&pem_der(PRIVATE_KEY_PEM))
    }

    /// An RS256 token of the mock pool's key.
    fn sign(kid: &str, claims: &Value) -> String {
        sign_with(Algorithm::RS256, Some(kid), claims, &rsa_key())
    }

    fn unsigned(header: Value, claims: &Value) -> String {
        format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    }

    fn request(auth: Option<&str>, authorizer_sub: Option<&str>) -> lambda_http::Request {
        let mut event = json!({
            "version": "2.0",
            "routeKey": "GET /products/{id}",
            "rawPath": "/products/p1",
            "rawQueryString": "",
            "headers": {},
            "requestContext": {
                "accountId": "123", "apiId": "api", "domainName": "x", "domainPrefix": "x",
                "http": {"method": "GET", "path": "/products/p1", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "t"},
                "requestId": "r1", "routeKey": "GET /products/{id}", "stage": "$default",
                "time": "21/Nov/2026:05:00:00 +0000", "timeEpoch": 0
            },
            "isBase64Encoded": false
        });
        if let Some(a) = auth {
            event["headers"]["authorization"] = a.into();
        }
        if let Some(sub) = authorizer_sub {
            event["requestContext"]["authorizer"] =
                json!({"jwt": {"claims": {"sub": sub, "name": "From Authorizer"}, "scopes": null}});
        }
        lambda_http::request::from_str(&event.to_string()).expect("valid event")
    }

    fn bearer(token: &str) -> lambda_http::Request {
        request(Some(&format!("Bearer {token}")), None)
    }

    #[tokio::test]
    async fn valid_id_and_access_tokens_identify_the_user() {
        let server = jwks_server(&[KID], 1).await;
        let verifier = verifier_at(&server);

        let id = verifier.verify(&sign(KID, &id_claims())).await;
        assert_eq!(
            id,
            Some(Identity {
                user_id: "5f1c1a6e-0000-4000-8000-000000000001".to_owned(),
                name: Some("alice".to_owned()),
                email: Some("alice@example.com".to_owned()),
            })
        );
        let named = with(id_claims(), "name", json!("Alice A."));
        assert_eq!(
            verifier
                .verify(&sign(KID, &named))
                .await
                .and_then(|i| i.name),
            Some("Alice A.".to_owned())
        );

        let access = verifier.verify(&sign(KID, &access_claims())).await;
        assert_eq!(
            access,
            Some(Identity {
                user_id: "5f1c1a6e-0000-4000-8000-000000000002".to_owned(),
                name: Some("bob".to_owned()),
                email: None,
            })
        );

        // Within the 5 s leeway.
        let just_expired = with(id_claims(), "exp", json!(now() - 2));
        assert!(verifier.verify(&sign(KID, &just_expired)).await.is_some());

        // Many verifications, one JWKS fetch.
        for _ in 0..20 {
            assert!(verifier.verify(&sign(KID, &id_claims())).await.is_some());
        }
        server.verify().await;
    }

    /// The stack's app clients (the API's, the storefront's, the smoke-test one) all sign users in:
    /// `COGNITO_CLIENT_ID` lists them, and a token of any of them identifies its user on public
    /// routes, while a client not listed stays anonymous.
    #[tokio::test]
    async fn tokens_of_every_listed_app_client_verify() {
        let server = jwks_server(&[KID], 1).await;
        let verifier = CognitoVerifier::new(
            ISSUER,
            &format!(" {CLIENT_ID} , storefront-client,smoke-client "),
            Some(&format!("{}/jwks.json", server.uri())),
        )
        .expect("valid settings");
        assert_eq!(
            verifier.client_ids(),
            [CLIENT_ID, "storefront-client", "smoke-client"]
        );
        for client in [CLIENT_ID, "storefront-client", "smoke-client"] {
            let id = with(id_claims(), "aud", json!(client));
            assert!(
                verifier.verify(&sign(KID, &id)).await.is_some(),
                "id token of {client}"
            );
            let access = with(access_claims(), "client_id", json!(client));
            assert!(
                verifier.verify(&sign(KID, &access)).await.is_some(),
                "access token of {client}"
            );
        }
        let stranger = with(id_claims(), "aud", json!("unlisted-client"));
        assert_eq!(verifier.verify(&sign(KID, &stranger)).await, None);
        let stranger = with(access_claims(), "client_id", json!("unlisted-client"));
        assert_eq!(verifier.verify(&sign(KID, &stranger)).await, None);
        // A list with nothing in it is a configuration error.
        assert!(CognitoVerifier::new(ISSUER, " , ", None).is_err());
        server.verify().await;
    }

    #[tokio::test]
    async fn tokens_breaking_cognitos_rules_are_anonymous() {
        // One load, and one refetch for the kid "hmac" (not an RSA key, so never cached).
        let server = jwks_server(&[KID], 2).await;
        let verifier = verifier_at(&server);
        let other_key = EncodingKey::from_rsa_der(&pem_der(OTHER_PRIVATE_KEY_PEM));
        let public_pem = EncodingKey::from_secret(PUBLIC_KEY_PEM.as_bytes());
        let none_claims = id_claims();

        let cases: Vec<(&str, String)> = vec![
            (
                "wrong issuer",
                sign(
                    KID,
                    &with(
                        id_claims(),
                        "iss",
                        json!("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"),
                    ),
                ),
            ),
            (
                "issuer with a trailing slash",
                sign(KID, &with(id_claims(), "iss", json!(format!("{ISSUER}/")))),
            ),
            (
                "issuer as an array",
                sign(KID, &with(id_claims(), "iss", json!([ISSUER]))),
            ),
            ("no issuer", sign(KID, &without(id_claims(), "iss"))),
            (
                "id token for another client",
                sign(KID, &with(id_claims(), "aud", json!("another-client"))),
            ),
            (
                "id token without aud",
                sign(
                    KID,
                    &with(without(id_claims(), "aud"), "client_id", json!(CLIENT_ID)),
                ),
            ),
            (
                "access token for another client",
                sign(
                    KID,
                    &with(access_claims(), "client_id", json!("another-client")),
                ),
            ),
            (
                "access token with aud but no client_id",
                sign(
                    KID,
                    &with(
                        without(access_claims(), "client_id"),
                        "aud",
                        json!(CLIENT_ID),
                    ),
                ),
            ),
            (
                "expired",
                sign(KID, &with(id_claims(), "exp", json!(now() - 60))),
            ),
            ("no exp", sign(KID, &without(id_claims(), "exp"))),
            (
                "refresh token_use",
                sign(KID, &with(id_claims(), "token_use", json!("refresh"))),
            ),
            (
                "no token_use",
                sign(KID, &without(id_claims(), "token_use")),
            ),
            ("empty sub", sign(KID, &with(id_claims(), "sub", json!("")))),
            ("no sub", sign(KID, &without(access_claims(), "sub"))),
            (
                "signed by another key",
                sign_with(Algorithm::RS256, Some(KID), &id_claims(), &other_key),
            ),
            (
                "no kid",
                sign_with(Algorithm::RS256, None, &id_claims(), &rsa_key()),
            ),
            (
                "RS512",
                sign_with(Algorithm::RS512, Some(KID), &id_claims(), &rsa_key()),
            ),
            (
                "RS512 with an RS512 jwk",
                sign_with(Algorithm::RS512, Some("rs512"), &id_claims(), &rsa_key()),
            ),
            (
                "HS256 with the public key PEM",
                sign_with(Algorithm::HS256, Some(KID), &id_claims(), &public_pem),
            ),
            (
                "HS256 with the JWKS oct key",
                sign_with(Algorithm::HS256, Some("hmac"), &id_claims(), &public_pem),
            ),
            (
                "HS256 with the modulus",
                sign_with(
                    Algorithm::HS256,
                    Some(KID),
                    &id_claims(),
                    &EncodingKey::from_secret(&URL_SAFE_NO_PAD.decode(PUBLIC_N).expect("n")),
                ),
            ),
            ("RS256 naming the oct key", sign("hmac", &id_claims())),
            (
                "alg none",
                unsigned(
                    json!({"alg": "none", "kid": KID, "typ": "JWT"}),
                    &none_claims,
                ),
            ),
            (
                "alg None",
                unsigned(json!({"alg": "None", "kid": KID}), &none_claims),
            ),
            (
                "RS256 without a signature",
                unsigned(json!({"alg": "RS256", "kid": KID}), &none_claims),
            ),
            (
                "a local token",
                mint_local_token(
                    bazaar_lambda::auth::DEFAULT_LOCAL_SECRET,
                    "mallory",
                    60,
                    None,
                )
                .expect("mint"),
            ),
            ("garbage", "garbage".to_owned()),
            ("three dots of garbage", "a.b.c".to_owned()),
            ("huge", "A".repeat(100_000)),
        ];
        for (case, token) in &cases {
            assert_eq!(verifier.verify(token).await, None, "{case}");
        }
        // The token's signature re-attached to other claims.
        let valid = sign(KID, &id_claims());
        let (_, signature) = valid.rsplit_once('.').expect("jwt");
        let forged = format!(
            "{}.{}.{signature}",
            URL_SAFE_NO_PAD.encode(json!({"alg": "RS256", "kid": KID}).to_string()),
            URL_SAFE_NO_PAD.encode(with(id_claims(), "sub", json!("mallory")).to_string())
        );
        assert_eq!(verifier.verify(&forged).await, None, "forged claims");
        // After all that, a good token still verifies: nothing poisoned the cache.
        assert!(verifier.verify(&valid).await.is_some());
        server.verify().await;
    }

    #[tokio::test]
    async fn an_unknown_kid_refetches_at_most_once_per_cooldown() {
        // Default cooldown (60 s): the first fetch loads, one unknown kid refetches, later ones wait.
        let server = jwks_server(&[KID], 2).await;
        let verifier = verifier_at(&server);
        assert!(verifier.verify(&sign(KID, &id_claims())).await.is_some());
        for _ in 0..5 {
            assert_eq!(
                verifier.verify(&sign("rotated-away", &id_claims())).await,
                None
            );
        }
        assert!(verifier.verify(&sign(KID, &id_claims())).await.is_some());
        server.verify().await;

        // A short cooldown: once it has passed, an unknown kid may refetch again.
        let server = jwks_server(&[KID], 3).await;
        let verifier = verifier_at(&server).with_refetch_cooldown(Duration::from_millis(300));
        assert!(verifier.verify(&sign(KID, &id_claims())).await.is_some());
        assert_eq!(verifier.verify(&sign("unknown", &id_claims())).await, None);
        assert_eq!(verifier.verify(&sign("unknown", &id_claims())).await, None);
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(verifier.verify(&sign("unknown", &id_claims())).await, None);
        server.verify().await;
    }

    #[tokio::test]
    async fn a_rotated_key_is_found_by_refetching() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/jwks.json"))
            .respond_with(jwks_response(&[KID]))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/jwks.json"))
            .respond_with(jwks_response(&[KID, "test-key-2"]))
            .expect(1)
            .mount(&server)
            .await;
        let verifier = verifier_at(&server);
        assert!(verifier.verify(&sign(KID, &id_claims())).await.is_some());
        assert!(
            verifier
                .verify(&sign("test-key-2", &id_claims()))
                .await
                .is_some()
        );
        assert!(
            verifier
                .verify(&sign("test-key-2", &access_claims()))
                .await
                .is_some()
        );
        server.verify().await;
    }

    #[tokio::test]
    async fn concurrent_requests_share_one_fetch() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/jwks.json"))
            .respond_with(jwks_response(&[KID]).set_delay(Duration::from_millis(200)))
            .expect(2)
            .mount(&server)
            .await;
        let verifier = verifier_at(&server);
        let token = sign(KID, &id_claims());
        let results = futures::future::join_all((0..25).map(|_| verifier.verify(&token))).await;
        assert!(results.iter().all(Option::is_some));
        assert_eq!(server.received_requests().await.map(|r| r.len()), Some(1));

        // The same for an unknown kid: one refetch for all of them.
        let unknown = sign("unknown", &id_claims());
        let results = futures::future::join_all((0..25).map(|_| verifier.verify(&unknown))).await;
        assert!(results.iter().all(Option::is_none));
        // One load, one refetch.
        assert_eq!(server.received_requests().await.map(|r| r.len()), Some(2));
    }

    #[tokio::test]
    async fn an_unreachable_jwks_means_anonymous_within_the_timeout() {
        // Slower than the timeout.
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/jwks.json"))
            .respond_with(jwks_response(&[KID]).set_delay(Duration::from_secs(10)))
            .mount(&server)
            .await;
        let verifier = verifier_at(&server).with_fetch_timeout(Duration::from_millis(300));
        let token = sign(KID, &id_claims());
        let started = Instant::now();
        let results = futures::future::join_all((0..10).map(|_| verifier.verify(&token))).await;
        assert!(results.iter().all(Option::is_none));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        // Failed just now: the next request does not wait for another attempt.
        let started = Instant::now();
        assert_eq!(verifier.verify(&token).await, None);
        assert!(started.elapsed() < Duration::from_millis(100));
        assert_eq!(server.received_requests().await.map(|r| r.len()), Some(1));

        // Nothing listening.
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("addr").port()
        };
        let refused = CognitoVerifier::new(
            ISSUER,
            CLIENT_ID,
            Some(&format!("http://127.0.0.1:{port}/jwks.json")),
        )
        .expect("valid settings");
        assert_eq!(refused.verify(&token).await, None);

        // Errors and junk.
        for response in [
            ResponseTemplate::new(500),
            ResponseTemplate::new(404),
            ResponseTemplate::new(200).set_body_string("<html>not json</html>"),
            ResponseTemplate::new(200).set_body_json(json!({"keys": []})),
            ResponseTemplate::new(200).set_body_json(
                json!({"keys": [{"kty": "RSA", "kid": KID, "n": "!!", "e": "AQAB"}]}),
            ),
            ResponseTemplate::new(200).set_body_string("x".repeat(100 * 1024)),
        ] {
            let server = MockServer::start().await;
            Mock::given(method("GET"))
                .and(path("/jwks.json"))
                .respond_with(response)
                .mount(&server)
                .await;
            assert_eq!(verifier_at(&server).verify(&token).await, None);
        }
    }

    #[tokio::test]
    async fn a_failed_fetch_is_retried_after_a_backoff() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/jwks.json"))
            .respond_with(ResponseTemplate::new(503))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/jwks.json"))
            .respond_with(jwks_response(&[KID]))
            .expect(1)
            .mount(&server)
            .await;
        // The failure backoff is 5 s, or the cooldown when shorter.
        let verifier = verifier_at(&server).with_refetch_cooldown(Duration::from_millis(200));
        let token = sign(KID, &id_claims());
        assert_eq!(verifier.verify(&token).await, None);
        assert_eq!(verifier.verify(&token).await, None, "within the backoff");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(verifier.verify(&token).await.is_some());
        server.verify().await;
    }

    #[tokio::test]
    async fn public_routes_verify_cognito_tokens_themselves() {
        let server = jwks_server(&[KID], 1).await;
        let mode = AuthMode::cognito(verifier_at(&server));
        let id_token = sign(KID, &id_claims());

        let viewer = mode.optional_verified(&bearer(&id_token)).await;
        assert_eq!(
            viewer.map(|i| i.user_id).as_deref(),
            Some("5f1c1a6e-0000-4000-8000-000000000001")
        );
        let access = mode
            .optional_verified(&bearer(&sign(KID, &access_claims())))
            .await;
        assert_eq!(access.and_then(|i| i.name).as_deref(), Some("bob"));

        // Anonymous: no header, not a bearer, bad tokens.
        assert_eq!(mode.optional_verified(&request(None, None)).await, None);
        for header in [
            "Bearer".to_owned(),
            "Bearer ".to_owned(),
            format!("Basic {id_token}"),
            format!(
                "Bearer {}",
                sign(KID, &with(id_claims(), "exp", json!(now() - 60)))
            ),
            "Bearer not.a.jwt".to_owned(),
        ] {
            assert_eq!(
                mode.optional_verified(&request(Some(&header), None)).await,
                None,
                "{header}"
            );
        }

        // The authorizer's claims win when present.
        let both = request(Some("Bearer garbage"), Some("from-authorizer"));
        assert_eq!(
            mode.optional_verified(&both)
                .await
                .map(|i| i.user_id)
                .as_deref(),
            Some("from-authorizer")
        );

        // Protected routes still trust only the authorizer.
        assert_eq!(
            mode.require(&bearer(&id_token))
                .expect_err("no authorizer")
                .status(),
            401
        );
        assert_eq!(mode.optional(&bearer(&id_token)), None);
        server.verify().await;
    }

    #[tokio::test]
    async fn without_a_verifier_public_routes_stay_as_before() {
        let server = jwks_server(&[KID], 0).await;
        let id_token = sign(KID, &id_claims());

        // Authorizer mode without a verifier: no token is verified, nothing is fetched.
        let mode = AuthMode::authorizer();
        assert_eq!(mode.optional_verified(&bearer(&id_token)).await, None);
        assert_eq!(
            mode.optional_verified(&request(None, Some("bob")))
                .await
                .map(|i| i.user_id)
                .as_deref(),
            Some("bob")
        );

        // Local mode: as `optional`.
        let mode = AuthMode::local("s3cret");
        let local = mint_local_token("s3cret", "carol", 60, None).expect("mint");
        assert_eq!(
            mode.optional_verified(&bearer(&local))
                .await
                .map(|i| i.user_id)
                .as_deref(),
            Some("carol")
        );
        assert_eq!(mode.optional_verified(&bearer(&id_token)).await, None);
        server.verify().await;
    }

    #[test]
    fn the_auth_mode_is_shareable_and_its_future_is_send() {
        fn shareable<T: Clone + Send + Sync + 'static>() {}
        fn send<T: Send>(_: &T) {}
        shareable::<AuthMode>();
        let mode = AuthMode::cognito(
            CognitoVerifier::new(ISSUER, CLIENT_ID, None).expect("valid settings"),
        );
        let req = request(None, None);
        send(&mode.optional_verified(&req));
        let debug = format!("{mode:?}");
        assert!(
            debug.contains(CLIENT_ID) && debug.contains("jwks.json"),
            "{debug}"
        );
    }
}
