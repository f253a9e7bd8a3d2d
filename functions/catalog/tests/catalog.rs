//! Integration tests of the catalog function: the real handler against DynamoDB in the emulator,
//! over the real AWS wire protocol. Each test has its own table (see `bazaar_infra::testing`).

use bazaar_aws::calls::counting_aws_calls;
use bazaar_aws::catalog::DynamoCatalog;
use bazaar_aws::personalize::DynamoDiscovery;
use bazaar_aws::quota::DynamoQuota;
use bazaar_lambda::auth::mint_local_token;
use bazaar_lambda::env::Config;
use bazaar_lambda::http::HttpApp;
use catalog::{App, ROUTES};
use lambda_http::http::Request;
use lambda_http::{Body, http};
use serde_json::{Value, json};

const SECRET: &str = "catalog-test-secret";

struct Harness {
    app: App<DynamoCatalog>,
    client: aws_sdk_dynamodb::Client,
    table: String,
}

struct Reply {
    status: u16,
    content_type: String,
    body: Value,
    /// DynamoDB round trips the request made.
    aws_calls: u32,
}

impl Harness {
    async fn new(test: &str) -> Self {
        let (client, table) = bazaar_infra::testing::fresh_table(test).await;
        let config = Config::from_lookup("catalog", |k| match k {
            "TABLE_NAME" => Some(table.clone()),
            "AUTH_MODE" => Some("local".into()),
            "LOCAL_JWT_SECRET" => Some(SECRET.into()),
            _ => None,
        })
        .expect("config");
        Harness {
            app: App::new(
                DynamoCatalog::new(client.clone(), &table),
                DynamoDiscovery::new(client.clone(), &table),
                DynamoQuota::new(client.clone(), &table),
                &config,
            ),
            client,
            table,
        }
    }

    async fn raw(
        &self,
        method: &str,
        path: &str,
        user: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Reply {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(user) = user {
            let token = mint_local_token(SECRET, user, 300, None).expect("token");
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        let body = match body {
            Some(b) => Body::Binary(b),
            None => Body::Empty,
        };
        let (response, aws_calls) =
            counting_aws_calls(self.app.handle(builder.body(body).expect("request"))).await;
        let response = response.expect("handler never returns Err");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = response.body().to_vec();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("responses are JSON")
        };
        if status >= 400 {
            assert_eq!(
                content_type, "application/problem+json",
                "{method} {path}: {body}"
            );
            assert_eq!(body["status"], status, "{body}");
            assert!(
                body["code"].is_string() && body["type"].is_string() && body["title"].is_string()
            );
        }
        Reply {
            status,
            content_type,
            body,
            aws_calls,
        }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        user: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        self.raw(
            method,
            path,
            user,
            body.map(|b| serde_json::to_vec(&b).expect("json")),
        )
        .await
    }

    async fn shop(&self, owner: &str, name: &str) -> String {
        let r = self
            .call("POST", "/shops", Some(owner), Some(json!({"name": name})))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_str().expect("id").to_owned()
    }

    async fn product(&self, owner: &str, shop: &str, quantity: i64) -> String {
        let r = self
            .call(
                "POST",
                &format!("/shops/{shop}/products"),
                Some(owner),
                Some(
                    json!({"title": "Handcrafted leather billfold", "price_cents": 4500,
                            "category": "bags-and-purses", "quantity": quantity,
                            "tags": ["leather", "wallet"]}),
                ),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_str().expect("id").to_owned()
    }
}

#[tokio::test]
async fn health_reports_dynamodb() {
    let h = Harness::new("health").await;
    let r = h.call("GET", "/health", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type, "application/json");
    assert_eq!(
        r.body,
        json!({"status": "ok", "checks": {"dynamodb": "ok"}})
    );
}

#[tokio::test]
async fn shops_lifecycle_and_ownership() {
    let h = Harness::new("shops").await;
    let created = h
        .call(
            "POST",
            "/shops",
            Some("alice"),
            Some(json!({"name": "  Juniper & Ash Leatherworks ", "description": "Belts and billfolds",
                        "shipping": {"base_cents": 500, "per_extra_item_cents": 150}})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let shop = created.body;
    let id = shop["id"].as_str().expect("id");
    assert_eq!(shop["owner_id"], "alice");
    assert_eq!(shop["name"], "Juniper & Ash Leatherworks");
    assert_eq!(
        shop["shipping"],
        json!({"base_cents": 500, "per_extra_item_cents": 150})
    );
    assert_eq!(shop["rating"], Value::Null);
    assert_eq!(shop["review_count"], 0);
    assert_eq!(shop["sales_count"], 0);

    let got = h.call("GET", &format!("/shops/{id}"), None, None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, shop);

    // One shop per owner; names are unique case-insensitively.
    let again = h
        .call(
            "POST",
            "/shops",
            Some("alice"),
            Some(json!({"name": "Another"})),
        )
        .await;
    assert_eq!(
        (again.status, again.body["code"].as_str()),
        (409, Some("shop_exists"))
    );
    let taken = h
        .call(
            "POST",
            "/shops",
            Some("bob"),
            Some(json!({"name": "JUNIPER &  ash leatherworks"})),
        )
        .await;
    assert_eq!(
        (taken.status, taken.body["code"].as_str()),
        (409, Some("name_taken"))
    );

    // Only the owner may change it.
    let path = format!("/shops/{id}");
    let r = h
        .call(
            "PATCH",
            &path,
            Some("bob"),
            Some(json!({"description": "mine now"})),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (403, Some("forbidden"))
    );
    let r = h
        .call("PATCH", &path, None, Some(json!({"description": "x"})))
        .await;
    assert_eq!(r.status, 401);
    let r = h
        .call(
            "PATCH",
            "/shops/nope",
            Some("alice"),
            Some(json!({"description": "x"})),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (404, Some("shop_not_found"))
    );
    let r = h
        .call(
            "PATCH",
            &path,
            Some("alice"),
            Some(json!({"description": "Belts, billfolds, bags"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["description"], "Belts, billfolds, bags");
    assert_eq!(r.body["name"], "Juniper & Ash Leatherworks");

    // Renaming moves the name lock: the old name becomes free, a taken one is refused.
    let bob_shop = h.shop("bob", "The Copper Kiln").await;
    let r = h
        .call(
            "PATCH",
            &path,
            Some("alice"),
            Some(json!({"name": "the copper kiln"})),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("name_taken"))
    );
    let r = h
        .call(
            "PATCH",
            &path,
            Some("alice"),
            Some(json!({"name": "Juniper Leather Co"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["name"], "Juniper Leather Co");
    let r = h
        .call(
            "PATCH",
            &format!("/shops/{bob_shop}"),
            Some("bob"),
            Some(json!({"name": "Juniper & Ash Leatherworks"})),
        )
        .await;
    assert_eq!(r.status, 200, "the old name was released: {}", r.body);
    // Changing only the case keeps the lock.
    let r = h
        .call(
            "PATCH",
            &path,
            Some("alice"),
            Some(json!({"name": "JUNIPER LEATHER CO"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let r = h.call("GET", "/shops/does-not-exist", None, None).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (404, Some("shop_not_found"))
    );
    let r = h.call("GET", "/shops/%00weird%20id", None, None).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn products_lifecycle_and_ownership() {
    let h = Harness::new("products").await;
    let shop = h.shop("carol", "Moss Hollow Vintage").await;
    let r = h
        .call(
            "POST",
            &format!("/shops/{shop}/products"),
            Some("carol"),
            Some(json!({"title": "1970s retro ceramic vase", "description": "Mid-century green glaze.",
                        "price_cents": 8800, "currency": "USD", "category": "home-decor",
                        "tags": ["vintage", "vase"], "is_vintage": true,
                        "images": ["https://images.example/v1.jpg"]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let product = r.body;
    let id = product["id"].as_str().expect("id").to_owned();
    assert_eq!(product["shop_id"], shop.as_str());
    assert_eq!(
        product["shop"],
        json!({"id": shop, "name": "Moss Hollow Vintage", "rating": null})
    );
    assert_eq!(product["quantity"], 1);
    assert_eq!(product["available"], 1);
    assert_eq!(product["currency"], "USD");
    assert_eq!(product["version"], 1);
    assert_eq!(product["is_vintage"], true);

    let path = format!("/products/{id}");
    let got = h.call("GET", &path, None, None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, product);
    // A signed-in read is the same product.
    assert_eq!(h.call("GET", &path, Some("dave"), None).await.body, product);

    // Others may not list in, change or delete from carol's shop.
    let r = h
        .call(
            "POST",
            &format!("/shops/{shop}/products"),
            Some("dave"),
            Some(json!({"title": "x", "price_cents": 100, "category": "art"})),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = h
        .call(
            "POST",
            "/shops/no-such-shop/products",
            Some("dave"),
            Some(json!({"title": "x", "price_cents": 100, "category": "art"})),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (404, Some("shop_not_found"))
    );
    let r = h
        .call(
            "PATCH",
            &path,
            Some("dave"),
            Some(json!({"price_cents": 1})),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = h.call("DELETE", &path, Some("dave"), None).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        h.call("GET", &path, None, None).await.body["price_cents"],
        8800,
        "nothing changed"
    );

    // The owner's patch changes only what it names and bumps the version.
    let r = h
        .call("PATCH", &path, Some("carol"), Some(json!({"price_cents": 7900, "quantity": 3, "category": "vintage-finds", "title": null})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["price_cents"], 7900);
    assert_eq!(r.body["quantity"], 3);
    assert_eq!(r.body["available"], 3);
    assert_eq!(r.body["category"], "vintage-finds");
    assert_eq!(r.body["title"], "1970s retro ceramic vase");
    assert_eq!(r.body["version"], 2);
    assert_eq!(r.body["created_at"], product["created_at"]);

    // Deleting: 204, then gone for everyone.
    let r = h.call("DELETE", &path, None, None).await;
    assert_eq!(r.status, 401);
    let r = h.call("DELETE", &path, Some("carol"), None).await;
    assert_eq!(r.status, 204);
    assert_eq!(r.body, Value::Null);
    for (method, body) in [
        ("GET", None),
        ("PATCH", Some(json!({"price_cents": 5}))),
        ("DELETE", None),
    ] {
        let r = h.call(method, &path, Some("carol"), body).await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (404, Some("product_not_found")),
            "{method}"
        );
    }
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let h = Harness::new("routes").await;
    let r = h.call("GET", "/nope", None, None).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (404, Some("route_not_found"))
    );
    let r = h.call("PUT", "/shops/abc", Some("alice"), None).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (405, Some("method_not_allowed"))
    );
}

/// No body of any shape yields a 5xx: each bad body gets the contract's 4xx and a problem document.
#[tokio::test]
async fn bad_bodies_are_client_errors() {
    let h = Harness::new("bad-bodies").await;
    let shop = h.shop("erin", "Bad Body Shop").await;
    let product = h.product("erin", &shop, 1).await;
    let huge = "x".repeat(1 << 20);
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    // (route, body, expected status)
    let shop_path = format!("/shops/{shop}");
    let products_path = format!("/shops/{shop}/products");
    let product_path = format!("/products/{product}");
    let routes: [(&str, &str); 4] = [
        ("POST", "/shops"),
        ("PATCH", &shop_path),
        ("POST", &products_path),
        ("PATCH", &product_path),
    ];
    let universal: Vec<(Vec<u8>, u16)> = vec![
        (b"".to_vec(), 400),
        (b"   ".to_vec(), 400),
        (b"{".to_vec(), 400),
        (b"{\"name\": }".to_vec(), 400),
        (b"null".to_vec(), 400),
        (b"[]".to_vec(), 400),
        (b"42".to_vec(), 400),
        (b"\"a string\"".to_vec(), 400),
        (vec![0xff, 0xfe, 0x00, 0x7b], 400),
        (deep.into_bytes(), 400),
        (br#"{"unexpected": 1}"#.to_vec(), 400),
        (
            br#"{"id": "mine", "name": "x", "title": "x"}"#.to_vec(),
            400,
        ),
    ];
    for (method, path) in routes {
        for (body, status) in &universal {
            let r = h.raw(method, path, Some("erin"), Some(body.clone())).await;
            assert_eq!(
                r.status,
                *status,
                "{method} {path} {:?}",
                String::from_utf8_lossy(&body[..body.len().min(40)])
            );
        }
    }
    let specific: Vec<(&str, &str, Value, u16)> = vec![
        ("POST", "/shops", json!({"name": 5}), 400),
        ("POST", "/shops", json!({"name": ["a"]}), 400),
        (
            "POST",
            "/shops",
            json!({"name": "x", "shipping": {"base_cents": "5", "per_extra_item_cents": 0}}),
            400,
        ),
        (
            "POST",
            "/shops",
            json!({"name": "x", "shipping": {"base_cents": 5}}),
            400,
        ),
        (
            "POST",
            "/shops",
            json!({"name": "x", "shipping": {"base_cents": -1, "per_extra_item_cents": 0}}),
            422,
        ),
        ("POST", "/shops", json!({"name": ""}), 422),
        // Over the body limit (128 KiB): refused before it is parsed.
        ("POST", "/shops", json!({"name": huge.clone()}), 413),
        (
            "POST",
            "/shops",
            json!({"name": "x", "description": "d".repeat(5001)}),
            422,
        ),
        ("PATCH", &shop_path, json!({}), 422),
        ("PATCH", &shop_path, json!({"name": "   "}), 422),
        (
            "PATCH",
            &shop_path,
            json!({"shipping": {"base_cents": 1e12, "per_extra_item_cents": 0}}),
            422,
        ),
        ("PATCH", &shop_path, json!({"shipping": null}), 422),
        ("PATCH", &shop_path, json!({"shipping": [100, 0]}), 400),
        (
            "PATCH",
            &shop_path,
            json!({"shipping": {"base_cents": 1, "per_extra_item_cents": 0, "free": true}}),
            400,
        ),
        (
            "POST",
            &products_path,
            json!({"title": "x", "price_cents": 1.5, "category": "art"}),
            400,
        ),
        (
            "POST",
            &products_path,
            json!({"title": "x", "price_cents": "100", "category": "art"}),
            400,
        ),
        (
            "POST",
            &products_path,
            json!({"title": "x", "price_cents": true, "category": "art"}),
            400,
        ),
        (
            "POST",
            &products_path,
            json!({"title": "x", "category": "art"}),
            400,
        ),
        (
            "POST",
            &products_path,
            json!({"title": "x", "price_cents": 100, "category": "art", "tags": "a,b"}),
            400,
        ),
        (
            "POST",
            &products_path,
            json!({"title": "x", "price_cents": 100, "category": "art", "is_vintage": "yes"}),
            400,
        ),
        (
            "POST",
            &products_path,
            json!({"title": "x", "price_cents": 0, "category": "art"}),
            422,
        ),
        (
            "POST",
            &products_path,
            json!({"title": "x", "price_cents": 100000001, "category": "art"}),
            422,
        ),
        (
            "POST",
            &products_path,
            json!({"title": "x", "price_cents": 100, "category": "art", "quantity": -1}),
            422,
        ),
        (
            "POST",
            &products_path,
            json!({"title": "x", "price_cents": 100, "category": "art", "quantity": 10001}),
            422,
        ),
        (
            "POST",
            &products_path,
            json!({"title": "x", "price_cents": 100, "category": "Art & Craft"}),
            422,
        ),
        (
            "POST",
            &products_path,
            json!({"title": "x", "price_cents": 100, "category": "art", "currency": "EUR"}),
            422,
        ),
        (
            "POST",
            &products_path,
            json!({"title": "x", "price_cents": 100, "category": "art", "tags": vec!["t"; 14]}),
            422,
        ),
        (
            "POST",
            &products_path,
            json!({"title": "x", "price_cents": 100, "category": "art", "images": vec!["https://a.example/i.jpg"; 11]}),
            422,
        ),
        (
            "POST",
            &products_path,
            json!({"title": "x", "price_cents": 100, "category": "art", "images": ["javascript:alert(1)"]}),
            422,
        ),
        (
            "POST",
            &products_path,
            json!({"title": "t".repeat(201), "price_cents": 100, "category": "art"}),
            422,
        ),
        ("PATCH", &product_path, json!({}), 422),
        (
            "PATCH",
            &product_path,
            json!({"quantity": 99999999999999999999u128 as f64}),
            422,
        ),
        (
            "PATCH",
            &product_path,
            json!({"description": "d".repeat(5001)}),
            422,
        ),
    ];
    for (method, path, body, status) in specific {
        let r = h.call(method, path, Some("erin"), Some(body.clone())).await;
        let shown = body.to_string();
        assert_eq!(
            r.status,
            status,
            "{method} {path} {} -> {}",
            &shown[..shown.len().min(120)],
            r.body
        );
        if status == 422 {
            assert_eq!(r.body["code"], "validation_failed");
            assert!(r.body["errors"].as_array().is_some_and(|e| !e.is_empty()));
        }
    }
    // Nothing above changed the product.
    let r = h.call("GET", &product_path, None, None).await;
    assert_eq!(r.body["version"], 1);
}

/// Ten concurrent shop creations by one owner: exactly one shop. Ten owners racing for one
/// name: exactly one winner. The uniqueness lives in DynamoDB's transaction conditions.
#[tokio::test]
async fn racing_shop_creations_keep_uniqueness() {
    let h = Harness::new("race-shops").await;
    let same_owner = futures::future::join_all((0..10).map(|i| {
        h.call(
            "POST",
            "/shops",
            Some("frank"),
            Some(json!({"name": format!("Frank's shop {i}")})),
        )
    }))
    .await;
    let statuses: Vec<u16> = same_owner.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        same_owner
            .iter()
            .filter(|r| r.status != 201)
            .all(|r| r.body["code"] == "shop_exists")
    );

    let owners: Vec<String> = (0..10).map(|i| format!("owner-{i}")).collect();
    let same_name = futures::future::join_all(owners.iter().map(|owner| {
        h.call(
            "POST",
            "/shops",
            Some(owner),
            Some(json!({"name": "The One Name"})),
        )
    }))
    .await;
    let statuses: Vec<u16> = same_name.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        same_name
            .iter()
            .filter(|r| r.status != 201)
            .all(|r| r.body["code"] == "name_taken")
    );
}

/// DynamoDB round trips per catalog operation: constant, and what docs/architecture.md states.
#[tokio::test]
async fn dynamodb_round_trips_per_route() {
    let h = Harness::new("round-trips").await;
    let shop = h.shop("gina", "Round Trip Goods").await;
    let product = h.product("gina", &shop, 2).await;
    let shop_path = format!("/shops/{shop}");
    let product_path = format!("/products/{product}");
    // (method, path, caller, body, expected status, expected DynamoDB calls). Every signed-in
    // write first spends the caller's write quota: one conditional UpdateItem.
    type Case<'a> = (&'a str, String, Option<&'a str>, Option<Value>, u16, u32);
    let cases: Vec<Case> = vec![
        ("GET", "/health".into(), None, None, 200, 1),
        (
            "POST",
            "/shops".into(),
            Some("hank"),
            Some(json!({"name": "Hank's Hats"})),
            201,
            2,
        ),
        ("GET", shop_path.clone(), None, None, 200, 1),
        (
            "PATCH",
            shop_path.clone(),
            Some("gina"),
            Some(json!({"description": "d"})),
            200,
            2,
        ),
        (
            "PATCH",
            shop_path.clone(),
            Some("gina"),
            Some(json!({"name": "Round Trip Wares"})),
            200,
            4,
        ),
        (
            "POST",
            format!("{shop_path}/products"),
            Some("gina"),
            Some(json!({"title": "Ring", "price_cents": 900, "category": "jewelry"})),
            201,
            3,
        ),
        ("GET", product_path.clone(), None, None, 200, 2),
        // Signed in: GetItem product, then GetItem shop ∥ TransactWriteItems (view + trending
        // count); again within the hour: the transaction is cancelled, one PutItem refreshes.
        ("GET", product_path.clone(), Some("viewer"), None, 200, 3),
        ("GET", product_path.clone(), Some("viewer"), None, 200, 4),
        // `GET /trending` is the feed function's now (functions/feed/tests: its round trips).
        // Query co-purchases, BatchGetItem products (the product itself rides along).
        (
            "GET",
            format!("{product_path}/recommendations"),
            None,
            None,
            200,
            2,
        ),
        (
            "GET",
            "/products/no-such-product/recommendations".into(),
            None,
            None,
            404,
            2,
        ),
        (
            "PATCH",
            product_path.clone(),
            Some("gina"),
            Some(json!({"price_cents": 1000})),
            200,
            3,
        ),
        // A non-owner's write fails its condition; the failure carries the old item, so telling
        // 403 from 404 costs no extra read.
        (
            "PATCH",
            product_path.clone(),
            Some("mallory"),
            Some(json!({"price_cents": 1})),
            403,
            2,
        ),
        (
            "DELETE",
            product_path.clone(),
            Some("mallory"),
            None,
            403,
            2,
        ),
        (
            "PATCH",
            shop_path.clone(),
            Some("mallory"),
            Some(json!({"description": "x"})),
            403,
            2,
        ),
        ("DELETE", product_path.clone(), Some("gina"), None, 204, 2),
        // An invalid body: authorization decides first (one read of the target, on this path
        // only), so a non-owner learns 403 and nothing about the body; the owner gets the 422.
        (
            "PATCH",
            shop_path.clone(),
            Some("mallory"),
            Some(json!({"name": ""})),
            403,
            2,
        ),
        (
            "PATCH",
            shop_path.clone(),
            Some("gina"),
            Some(json!({"name": ""})),
            422,
            2,
        ),
        (
            "POST",
            format!("{shop_path}/products"),
            Some("mallory"),
            Some(json!({"title": "", "price_cents": -1, "category": "jewelry"})),
            403,
            2,
        ),
        (
            "POST",
            "/shops/no-such-shop/products".into(),
            Some("mallory"),
            Some(json!({"title": ""})),
            404,
            2,
        ),
        // Auth failures never reach DynamoDB; a signed-in invalid shop costs its quota only.
        (
            "POST",
            "/shops".into(),
            None,
            Some(json!({"name": "x"})),
            401,
            0,
        ),
        (
            "POST",
            "/shops".into(),
            Some("ivy"),
            Some(json!({"name": ""})),
            422,
            1,
        ),
        ("GET", "/products/not%20an%20id".into(), None, None, 404, 0),
    ];
    for (method, path, user, body, status, calls) in cases {
        let r = h.call(method, &path, user, body).await;
        assert_eq!(r.status, status, "{method} {path}: {}", r.body);
        assert_eq!(r.aws_calls, calls, "{method} {path}");
    }
    // The signed-in read above was recorded as a view, with what the feed needs.
    let views = bazaar_aws::personalize::views::DynamoViews::new(h.client.clone(), &h.table)
        .recent("viewer")
        .await
        .expect("views");
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].product_id, product);
    assert_eq!(views[0].category, "bags-and-purses");
}

/// The function's route table and template.yaml's routes for this function are the same set.
#[test]
fn routes_match_the_template() {
    bazaar_infra::testing::assert_routes_match("catalog", ROUTES);
}

/// DynamoDB round trips of 1,000 anonymous `GET /products/{id}` of one hot product on `app`, as
/// 20 bursts of 50 concurrent requests.
async fn thousand_hot_reads(app: &impl HttpApp, path: &str) -> u32 {
    let mut total = 0;
    for _ in 0..20 {
        let burst = (0..50).map(|_| async {
            let req = Request::builder()
                .method("GET")
                .uri(path)
                .body(Body::Empty)
                .expect("request");
            let (response, calls) = counting_aws_calls(app.handle(req)).await;
            assert_eq!(response.expect("a response").status(), 200);
            calls
        });
        total += futures::future::join_all(burst).await.iter().sum::<u32>();
    }
    total
}

/// The README's "calls per 1,000 hot reads" of a product page: without the per-instance cache
/// every read gets the product and then its shop (2,000 calls); with it (as the function is
/// built), the product is still read every time — its availability is live — and the shop once
/// per instance per freshness window (here one window: the cache's clock does not move), and
/// concurrent readers of the cold shop share that one load: 1,001.
#[tokio::test]
async fn hot_product_reads_cost_one_call_each_with_the_shop_cache() {
    use bazaar_domain::cache::{CachedCatalog, ManualClock};
    let h = Harness::new("hot-product").await;
    let shop = h.shop("alice", "Hot Shop").await;
    let product = h.product("alice", &shop, 5).await;
    let config = Config::from_lookup("catalog", |k| match k {
        "TABLE_NAME" => Some(h.table.clone()),
        "AUTH_MODE" => Some("local".into()),
        "LOCAL_JWT_SECRET" => Some(SECRET.into()),
        _ => None,
    })
    .expect("config");
    let cached = App::new(
        CachedCatalog::with_clock(
            DynamoCatalog::new(h.client.clone(), &h.table),
            std::sync::Arc::new(ManualClock::default()),
        ),
        DynamoDiscovery::new(h.client.clone(), &h.table),
        DynamoQuota::new(h.client.clone(), &h.table),
        &config,
    );
    let path = format!("/products/{product}");
    let before = thousand_hot_reads(&h.app, &path).await;
    let after = thousand_hot_reads(&cached, &path).await;
    println!("calls per 1,000 reads of a hot product: before {before}, after {after}");
    assert_eq!((before, after), (2_000, 1_001));
}
