//! End-to-end: the catalog routes over HTTP through the local stack (the local API Gateway and
//! Lambda service + moto), exactly as a client sees them.

use bazaar_e2e::{Client, token_with_secret, unique};
use serde_json::json;

#[tokio::test]
async fn health_is_ok() {
    let r = Client::anonymous().get("/health").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "ok");
    assert_eq!(r.body["checks"]["dynamodb"], "ok");
}

/// Every route is guarded as template.yaml declares it, as API Gateway would: a route with the JWT
/// authorizer answers an anonymous or forged request 401 `{"message":"Unauthorized"}` before any
/// function runs; a public route (`Authorizer: NONE`) never does (GET /search among them).
#[tokio::test]
async fn every_route_is_guarded_as_the_template_declares() {
    let routes = bazaar_infra::template::Template::load_repo()
        .expect("template")
        .http_routes()
        .expect("routes");
    let forged = Client::with_raw_token(&token_with_secret("mallory", "not-the-secret"));
    let mut checked = (0, 0);
    for route in routes {
        let path = route
            .path
            .split('/')
            .map(|s| if s.starts_with('{') { "no-such-id" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        for client in [Client::anonymous(), forged.clone()] {
            let r = client.send(&route.method, &path, None).await;
            let gateway_401 = r.status == 401 && r.body == json!({"message": "Unauthorized"});
            match &route.authorizer {
                Some(_) => assert!(
                    gateway_401,
                    "{} {} is protected: {} {}",
                    route.method, route.path, r.status, r.body
                ),
                None => assert!(
                    !gateway_401 && r.status != 401,
                    "{} {} is public: {} {}",
                    route.method,
                    route.path,
                    r.status,
                    r.body
                ),
            }
        }
        if route.authorizer.is_some() {
            checked.0 += 1;
        } else {
            checked.1 += 1;
        }
    }
    assert!(
        checked.0 > 10 && checked.1 >= 6,
        "protected/public routes checked: {checked:?}"
    );
    // An unknown route never reaches a function.
    let r = Client::anonymous().get("/no/such/route").await;
    assert_eq!(
        (r.status, r.body.clone()),
        (404, json!({"message": "Not Found"}))
    );
}

/// The seeded catalog (deterministic, see infra/src/seed_data.rs) is readable product by product.
#[tokio::test]
async fn seeded_catalog_is_readable() {
    let env = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let opts = bazaar_infra::seed::SeedOptions {
        shops: env("SEED_SHOPS", 100),
        products: env("SEED_PRODUCTS", 10_000),
        seed: env("SEED", 42) as u64,
    };
    let catalog = bazaar_infra::seed_data::generate(opts.shops, opts.products, opts.seed);
    let (shops, products) = bazaar_infra::seed::domain_catalog(&catalog, chrono::Utc::now());
    let client = Client::anonymous();
    // The sample events of events/ (sent by `sample_events_invoke`, at the same time) edit the
    // first shop and its products of this very catalog: those are left out here.
    let edited = bazaar_infra::events::SampleIds::from_default_seed().shop_id;
    let untouched: Vec<_> = products.iter().filter(|p| p.shop_id != edited).collect();
    for product in untouched.iter().step_by((untouched.len() / 25).max(1)) {
        let r = client.get(&format!("/products/{}", product.id)).await;
        assert_eq!(
            r.status, 200,
            "seeded product {} readable: {}",
            product.id, r.body
        );
        assert_eq!(r.body["title"], product.title.as_str());
        assert_eq!(r.body["price_cents"], product.price_cents);
        assert_eq!(r.body["quantity"], product.quantity);
        let shop = shops
            .iter()
            .find(|s| s.id == product.shop_id)
            .expect("its shop");
        assert_eq!(r.body["shop"]["name"], shop.name.as_str());
    }
    let r = client.get(&format!("/shops/{}", shops[0].id)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["owner_id"], "seed-owner-000");
}

#[tokio::test]
async fn catalog_contract_over_http() {
    let owner_name = unique("owner");
    let owner = Client::as_user(&owner_name);
    let stranger = Client::as_user(&unique("stranger"));
    let anonymous = Client::anonymous();
    let shop_name = unique("Shop");

    // 401: no token, a forged token, a token of the wrong scheme — answered by the route's JWT
    // authorizer (API Gateway's body, as in AWS) before the function runs.
    let r = anonymous.post("/shops", json!({"name": shop_name})).await;
    assert_eq!(
        (r.status, r.body["message"].as_str()),
        (401, Some("Unauthorized"))
    );
    let forged = Client::with_raw_token(&token_with_secret(&owner_name, "not-the-secret"));
    assert_eq!(
        forged
            .post("/shops", json!({"name": shop_name}))
            .await
            .status,
        401
    );
    assert_eq!(
        Client::with_raw_token("garbage")
            .post("/shops", json!({"name": shop_name}))
            .await
            .status,
        401
    );

    // 400 malformed JSON, 422 out of range.
    assert_eq!(
        owner
            .send("POST", "/shops", Some(b"{\"name\":".to_vec()))
            .await
            .status,
        400
    );
    let r = owner.post("/shops", json!({"name": "x".repeat(101)})).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (422, Some("validation_failed"))
    );

    let r = owner.post("/shops", json!({"name": shop_name, "shipping": {"base_cents": 400, "per_extra_item_cents": 100}})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let shop_id = r.body["id"].as_str().expect("id").to_owned();

    // 409: a second shop for the same owner.
    let r = owner
        .post("/shops", json!({"name": unique("Second")}))
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("shop_exists"))
    );

    // Products: owner creates, stranger is refused, anyone reads.
    let r = owner
        .post(&format!("/shops/{shop_id}/products"), json!({"title": "Sterling silver choker", "price_cents": 6400, "category": "jewelry", "tags": ["silver", "necklace"]}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let product_id = r.body["id"].as_str().expect("id").to_owned();
    let product_path = format!("/products/{product_id}");
    let r = stranger
        .post(
            &format!("/shops/{shop_id}/products"),
            json!({"title": "x", "price_cents": 1, "category": "art"}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (403, Some("forbidden"))
    );
    assert_eq!(
        stranger
            .patch(&product_path, json!({"price_cents": 1}))
            .await
            .status,
        403
    );
    assert_eq!(stranger.delete(&product_path).await.status, 403);
    assert_eq!(
        stranger
            .patch(&format!("/shops/{shop_id}"), json!({"description": "x"}))
            .await
            .status,
        403
    );
    let r = anonymous.get(&product_path).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["shop"]["name"], shop_name.as_str());
    assert_eq!(r.body["available"], 1);

    let r = owner
        .patch(&product_path, json!({"price_cents": 5900}))
        .await;
    assert_eq!((r.status, r.body["version"].as_i64()), (200, Some(2)));

    // 404s.
    assert_eq!(
        anonymous
            .get("/products/00000000-0000-7000-8000-000000000000")
            .await
            .body["code"],
        "product_not_found"
    );
    assert_eq!(
        anonymous
            .get("/shops/00000000-0000-7000-8000-000000000000")
            .await
            .body["code"],
        "shop_not_found"
    );

    assert_eq!(owner.delete(&product_path).await.status, 204);
    assert_eq!(anonymous.get(&product_path).await.status, 404);
}

/// Twenty concurrent requests over HTTP to create a shop for one owner: exactly one succeeds.
#[tokio::test]
async fn one_shop_per_owner_under_concurrency() {
    let owner = Client::as_user(&unique("racer"));
    let replies = futures::future::join_all(
        (0..20).map(|_| owner.post("/shops", json!({"name": unique("Race")}))),
    )
    .await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    assert_eq!(
        created,
        1,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(
        replies
            .iter()
            .filter(|r| r.status != 201)
            .all(|r| r.status == 409 && r.body["code"] == "shop_exists")
    );
}

/// Every sample event in events/ is a valid invocation: sent to the local Lambda invoke API
/// (what `cargo lambda invoke --data-file` does) with a fresh short-lived token for its user (what
/// `make invoke` adds: no committed event carries one), each gets an API Gateway response, never a
/// 5xx, and a signed one is never refused as unauthenticated.
#[tokio::test]
async fn sample_events_invoke() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    let http = reqwest::Client::new();
    let mut invoked = 0;
    let mut signed = 0;
    for function in std::fs::read_dir(&dir).expect("events/ exists") {
        let function = function.expect("entry").path();
        let name = function
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_owned();
        for file in std::fs::read_dir(&function).expect("function dir") {
            let file = file.expect("entry").path();
            let mut event: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&file).expect("readable")).expect("JSON");
            let has_user =
                bazaar_infra::events::sign(&mut event, &bazaar_e2e::secret(), 300).expect("signs");
            let url = format!(
                "{}/2015-03-31/functions/{name}/invocations",
                bazaar_e2e::api_url()
            );
            let reply: serde_json::Value = http
                .post(url)
                .body(event.to_string())
                .send()
                .await
                .expect("invoke API answers")
                .json()
                .await
                .expect("an API Gateway response");
            let status = reply["statusCode"].as_u64().expect("statusCode");
            assert!((200..500).contains(&status), "{}: {reply}", file.display());
            if has_user {
                assert_ne!(status, 401, "{}: {reply}", file.display());
                signed += 1;
            }
            if file.ends_with("health.json") {
                assert_eq!(status, 200);
            }
            invoked += 1;
        }
    }
    assert!(invoked >= 8, "every catalog route has an event ({invoked})");
    assert!(signed >= 8, "the protected routes' events ({signed})");
}

/// Hardening (issue 14): a token whose `sub` cannot key data (3,000 characters; a `#`) is 401 —
/// it once reached DynamoDB's key-size limit as a 500 on `POST /shops`.
#[tokio::test]
async fn a_token_subject_out_of_bounds_is_401() {
    for sub in ["a".repeat(3000), "mallory#k".to_owned()] {
        let token = bazaar_e2e::token_with_secret(&sub, &bazaar_e2e::secret());
        let r = bazaar_e2e::Client::with_raw_token(&token)
            .post(
                "/shops",
                serde_json::json!({"name": bazaar_e2e::unique("Long Sub"), "shipping": {"base_cents": 0, "per_extra_item_cents": 0}}),
            )
            .await;
        assert_eq!(r.status, 401, "{}", r.body);
        assert_eq!(r.body["code"], "unauthorized");
    }
}
