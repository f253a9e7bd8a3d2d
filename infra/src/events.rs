//! Sample API Gateway (HTTP API, payload 2.0) events for `cargo lambda invoke`, one per route of
//! the template, aimed at the default seeded catalog so that they work against `make dev`.
//!
//! Each event of a protected route carries the JWT authorizer's claims — what API Gateway passes
//! to the function once its authorizer has verified the caller — and no bearer token: a function
//! in `AUTH_MODE=authorizer` (the template's, and the default of a function run by hand, e.g. under
//! `cargo lambda watch`) trusts those claims as in AWS. The local stack's functions run
//! `AUTH_MODE=local` and verify a token themselves: [`sign`] adds a fresh one, valid minutes, for
//! the event's user (`bazaar-local sign-event FILE`, which `make invoke EVENT=FILE` uses). No
//! committed file holds a token.

use crate::seed::{SeedOptions, domain_catalog};
use crate::seed_data;
use crate::template::{HttpRoute, Template};
use bazaar_lambda::auth::mint_local_token;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The ids the sample events point at (from the default seed).
#[derive(Debug, Clone)]
pub struct SampleIds {
    pub shop_id: String,
    pub owner_id: String,
    pub product_id: String,
    pub deletable_product_id: String,
    /// The order `events/checkout/checkout.json` creates after `events/add-to-cart/add-to-cart.json`.
    pub order_id: String,
}

impl SampleIds {
    pub fn from_default_seed() -> Self {
        let opts = SeedOptions::default();
        let catalog = seed_data::generate(opts.shops, opts.products, opts.seed);
        let (shops, products) = domain_catalog(&catalog, chrono::Utc::now());
        let shop = &shops[0];
        let mut own = products
            .iter()
            .filter(|p| p.shop_id == shop.id && p.quantity > 0);
        let product = own.next().map(|p| p.id.clone()).unwrap_or_default();
        let deletable = own.next_back().map(|p| p.id.clone()).unwrap_or_default();
        let checkout = bazaar_domain::checkout::checkout_id("event-buyer", EVENT_IDEMPOTENCY_KEY);
        SampleIds {
            order_id: bazaar_domain::checkout::order_id(&checkout, &shop.id),
            shop_id: shop.id.clone(),
            owner_id: shop.owner_id.clone(),
            product_id: product,
            deletable_product_id: deletable,
        }
    }
}

/// The Idempotency-Key of the sample checkout event.
pub const EVENT_IDEMPOTENCY_KEY: &str = "event-checkout-1";

/// `GetShop` → `get-shop`.
fn kebab(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// What each sample does: who calls, which ids fill the path, and the body.
fn sample(
    route: &HttpRoute,
    ids: &SampleIds,
) -> (
    Option<String>,
    BTreeMap<&'static str, String>,
    Option<Value>,
) {
    let mut params = BTreeMap::new();
    let (user, body) = match (route.method.as_str(), route.path.as_str()) {
        ("POST", "/shops") => (
            Some("event-user".to_owned()),
            Some(
                json!({"name": "Event Sample Shop", "description": "Made by events/create-shop.json",
                        "shipping": {"base_cents": 450, "per_extra_item_cents": 100}}),
            ),
        ),
        ("PATCH", "/shops/{shop_id}") => (
            Some(ids.owner_id.clone()),
            Some(json!({"description": "Updated through events/update-shop.json"})),
        ),
        ("POST", "/shops/{shop_id}/products") => (
            Some(ids.owner_id.clone()),
            Some(
                json!({"title": "Handcrafted leather billfold", "description": "Full grain cowhide, hand stitched.",
                        "price_cents": 5400, "category": "bags-and-purses", "quantity": 1,
                        "tags": ["leather", "wallet", "billfold"], "is_vintage": false}),
            ),
        ),
        ("PATCH", "/products/{product_id}") => (
            Some(ids.owner_id.clone()),
            Some(json!({"price_cents": 4900})),
        ),
        ("DELETE", "/products/{product_id}") => (Some(ids.owner_id.clone()), None),
        ("POST", "/cart/items") => (
            Some("event-buyer".to_owned()),
            Some(json!({"product_id": ids.product_id, "quantity": 1})),
        ),
        ("PATCH", "/cart/items/{product_id}") => {
            (Some("event-buyer".to_owned()), Some(json!({"quantity": 1})))
        }
        (_, path) if path.starts_with("/cart") => (Some("event-buyer".to_owned()), None),
        ("POST", "/checkout") => (
            Some("event-buyer".to_owned()),
            Some(
                json!({"shipping_address": {"name": "Event Buyer", "line1": "1 Sample Street",
                        "city": "Portland", "region": "OR", "postal_code": "97201", "country": "US"},
                        "payment_method": "pm_card_visa"}),
            ),
        ),
        ("POST", "/orders/{order_id}/shipment") => (
            Some(ids.owner_id.clone()),
            Some(json!({"carrier": "USPS", "tracking_number": "9400111899223100000000"})),
        ),
        ("POST", "/orders/{order_id}/cancel") => (Some(ids.owner_id.clone()), None),
        ("POST", "/orders/{order_id}/review") => (
            Some("event-buyer".to_owned()),
            Some(json!({"rating": 5, "comment": "Beautifully made, arrived quickly."})),
        ),
        ("GET", "/shops/{shop_id}/orders") => (Some(ids.owner_id.clone()), None),
        (_, path) if path.starts_with("/shops/{shop_id}/payouts") => {
            (Some(ids.owner_id.clone()), None)
        }
        // A Stripe event as Stripe posts it; a committed sample cannot carry a valid
        // Stripe-Signature (it is timestamped), so invoking it shows the 400 invalid_signature.
        ("POST", "/payments/webhook") => (
            None,
            Some(
                json!({"id": "evt_sample", "object": "event", "type": "payment_intent.succeeded",
                        "created": 1_795_219_200_i64, "livemode": false,
                        "data": {"object": {"id": "pi_sample", "object": "payment_intent",
                                            "status": "succeeded", "amount": 5400,
                                            "amount_received": 5400, "currency": "usd",
                                            "metadata": {"checkout_id": "sample"}}}}),
            ),
        ),
        (_, path) if path.starts_with("/orders") || path == "/notifications" => {
            (Some("event-buyer".to_owned()), None)
        }
        _ => (None, None),
    };
    if route.path.contains("{shop_id}") {
        params.insert("shop_id", ids.shop_id.clone());
    }
    if route.path.contains("{order_id}") {
        params.insert("order_id", ids.order_id.clone());
    }
    if route.path.contains("{product_id}") {
        let id = if route.method == "DELETE" && route.path.starts_with("/products") {
            &ids.deletable_product_id
        } else {
            &ids.product_id
        };
        params.insert("product_id", id.clone());
    }
    (user, params, body)
}

/// The API Gateway v2 event for one route.
pub fn event(route: &HttpRoute, name: &str, ids: &SampleIds) -> Value {
    let (user, params, body) = sample(route, ids);
    let mut path = route.path.clone();
    for (k, v) in &params {
        path = path.replace(&format!("{{{k}}}"), v);
    }
    let route_key = format!("{} {}", route.method, route.path);
    let mut headers =
        json!({"content-type": "application/json", "user-agent": "cargo-lambda-invoke"});
    let mut context = json!({
        "accountId": "123456789012", "apiId": "local", "domainName": "localhost", "domainPrefix": "local",
        "http": {"method": route.method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "cargo-lambda-invoke"},
        "requestId": format!("event-{name}"), "routeKey": route_key, "stage": "$default",
        "time": "21/Nov/2026:00:00:00 +0000", "timeEpoch": 1_795_219_200_000_i64
    });
    if route.path == "/checkout" {
        headers["idempotency-key"] = Value::from(EVENT_IDEMPOTENCY_KEY);
    }
    if let Some(user) = &user {
        context["authorizer"] =
            json!({"jwt": {"claims": {"sub": user, "name": user}, "scopes": null}});
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": false
    });
    if !params.is_empty() {
        event["pathParameters"] = json!(params);
    }
    if let Some(body) = body {
        event["body"] = Value::from(body.to_string());
    }
    event
}

/// How long [`sign`]'s tokens last unless told otherwise: long enough to send the event, too short
/// to be worth keeping.
pub const SIGNED_EVENT_TTL_SECONDS: i64 = 300;

/// Adds `Authorization: Bearer <token>` for the event's user (its authorizer claims' `sub`),
/// HS256 with `secret`, valid `ttl_seconds`: what a local function (`AUTH_MODE=local`) verifies.
/// An event without a user (a public route) is left as it is; answers whether it was signed.
pub fn sign(event: &mut Value, secret: &str, ttl_seconds: i64) -> Result<bool, String> {
    let Some(user) = event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"]
        .as_str()
        .map(str::to_owned)
    else {
        return Ok(false);
    };
    let token = mint_local_token(secret, &user, ttl_seconds, Some(&user))
        .map_err(|e| format!("signing a token for {user}: {e}"))?;
    let headers = event
        .get_mut("headers")
        .and_then(Value::as_object_mut)
        .ok_or("the event has no headers")?;
    headers.insert(
        "authorization".into(),
        Value::from(format!("Bearer {token}")),
    );
    Ok(true)
}

/// Every route's sample event as `(relative file path, event)`: `events/<binary>/<event-name>.json`.
pub fn all(
    template: &Template,
    ids: &SampleIds,
) -> Result<Vec<(String, Value)>, crate::template::TemplateError> {
    let mut out = Vec::new();
    for (route, name) in template.http_routes_with_names()? {
        let file = format!("events/{}/{}.json", route.function, kebab(&name));
        out.push((file, event(&route, &kebab(&name), ids)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kebab_case() {
        assert_eq!(kebab("GetShop"), "get-shop");
        assert_eq!(kebab("Health"), "health");
    }

    /// Every template route has a committed sample event, and every committed event is a valid
    /// API Gateway request for its route (run `make events` to regenerate).
    #[test]
    fn committed_events_cover_every_route() {
        let template = Template::load_repo().expect("template");
        let ids = SampleIds::from_default_seed();
        let root = crate::template::repo_root();
        for (file, expected) in all(&template, &ids).expect("events") {
            let text = std::fs::read_to_string(root.join(&file))
                .unwrap_or_else(|_| panic!("{file} is missing: run `make events`"));
            let committed: Value = serde_json::from_str(&text).expect("valid JSON");
            assert_eq!(committed["routeKey"], expected["routeKey"], "{file}");
            assert_eq!(
                committed["rawPath"], expected["rawPath"],
                "{file}: run `make events`"
            );
            assert_eq!(
                committed["body"], expected["body"],
                "{file}: run `make events`"
            );
            let request =
                lambda_http::request::from_str(&text).expect("a valid API Gateway v2 event");
            assert_eq!(
                request.method().as_str(),
                expected["requestContext"]["http"]["method"]
            );
            // No committed token: the claims are what API Gateway passes; `sign` adds a
            // short-lived token for the local stack.
            assert!(
                committed["headers"].get("authorization").is_none(),
                "{file} carries a bearer token: run `make events`"
            );
            assert_eq!(
                committed["requestContext"]["authorizer"], expected["requestContext"]["authorizer"],
                "{file}"
            );
        }
    }

    /// A signed event carries a token for its user that the local functions accept, valid
    /// minutes; a public route's event is left unsigned.
    #[test]
    fn signed_events_carry_a_short_lived_token_for_their_user() {
        let template = Template::load_repo().expect("template");
        let ids = SampleIds::from_default_seed();
        let events = all(&template, &ids).expect("events");
        let (_, mut cart) = events
            .iter()
            .find(|(f, _)| f == "events/cart/get-cart.json")
            .cloned()
            .expect("the cart event");
        assert!(sign(&mut cart, "s3cret-for-this-test", 60).expect("signs"));
        let bearer = cart["headers"]["authorization"].as_str().expect("a token");
        let token = bearer.strip_prefix("Bearer ").expect("a bearer token");
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        let claims = jsonwebtoken::decode::<Value>(
            token,
            &jsonwebtoken::DecodingKey::from_secret(b"s3cret-for-this-test"),
            &validation,
        )
        .expect("verifies with the secret")
        .claims;
        assert_eq!(claims["sub"], "event-buyer");
        let left = claims["exp"].as_i64().expect("exp") - chrono::Utc::now().timestamp();
        assert!((1..=60).contains(&left), "valid {left} s");
        let (_, mut health) = events
            .iter()
            .find(|(f, _)| f == "events/catalog/health.json")
            .cloned()
            .expect("the health event");
        assert!(!sign(&mut health, "s3cret-for-this-test", 60).expect("signs"));
        assert!(health["headers"].get("authorization").is_none());
    }
}
