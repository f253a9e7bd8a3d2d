//! Integration tests of the cart: the real add-to-cart, cart and catalog handlers against DynamoDB
//! in the emulator, each test on its own table.

use aws_sdk_dynamodb::types::AttributeValue;
use bazaar_aws::calls::counting_aws_calls;
use bazaar_aws::cart::DynamoCart;
use bazaar_aws::catalog::DynamoCatalog;
use bazaar_aws::personalize::DynamoDiscovery;
use bazaar_aws::quota::DynamoQuota;
use bazaar_lambda::auth::mint_local_token;
use bazaar_lambda::env::Config;
use bazaar_lambda::http::HttpApp;
use lambda_http::Body;
use lambda_http::http::Request;
use serde_json::{Value, json};

const SECRET: &str = "cart-test-secret";

struct Stack {
    client: aws_sdk_dynamodb::Client,
    table: String,
    catalog: catalog::App<DynamoCatalog>,
    add: add_to_cart::App<DynamoCart>,
    cart: cart::App<DynamoCart>,
}

#[derive(Debug)]
struct Reply {
    status: u16,
    body: Value,
    aws_calls: u32,
}

impl Stack {
    async fn new(test: &str, hold_seconds: &str) -> Self {
        Self::with_quotas(test, hold_seconds, None).await
    }

    async fn with_quotas(test: &str, hold_seconds: &str, quotas: Option<&str>) -> Self {
        let (client, table) = bazaar_infra::testing::fresh_table(test).await;
        let config = Config::from_lookup("test", |k| match k {
            "TABLE_NAME" => Some(table.clone()),
            "AUTH_MODE" => Some("local".into()),
            "LOCAL_JWT_SECRET" => Some(SECRET.into()),
            "HOLD_SECONDS" => Some(hold_seconds.into()),
            "QUOTAS" => quotas.map(str::to_owned),
            _ => None,
        })
        .expect("config");
        Stack {
            catalog: catalog::App::new(
                DynamoCatalog::new(client.clone(), &table),
                DynamoDiscovery::new(client.clone(), &table),
                DynamoQuota::new(client.clone(), &table),
                &config,
            ),
            add: add_to_cart::App::new(DynamoCart::new(client.clone(), &table), &config),
            cart: cart::App::new(DynamoCart::new(client.clone(), &table), &config),
            client,
            table,
        }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        user: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(user) = user {
            let token = mint_local_token(SECRET, user, 300, None).expect("token");
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        let body = body.map_or(Body::Empty, |b| Body::Text(b.to_string()));
        let req = builder.body(body).expect("request");
        let (response, aws_calls) = counting_aws_calls(async {
            if path.starts_with("/cart/items") && method == "POST" {
                self.add.handle(req).await
            } else if path.starts_with("/cart") {
                self.cart.handle(req).await
            } else {
                self.catalog.handle(req).await
            }
        })
        .await;
        let response = response.expect("handlers never fail");
        let status = response.status().as_u16();
        let bytes = response.body().to_vec();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("json")
        };
        assert!(status < 500, "{method} {path}: {status} {body}");
        Reply {
            status,
            body,
            aws_calls,
        }
    }

    async fn shop(&self, owner: &str, name: &str, base: i64, extra: i64) -> String {
        let r = self
            .call("POST", "/shops", Some(owner), Some(json!({"name": name, "shipping": {"base_cents": base, "per_extra_item_cents": extra}})))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_str().expect("id").to_owned()
    }

    async fn product(
        &self,
        owner: &str,
        shop: &str,
        title: &str,
        price: i64,
        quantity: i64,
    ) -> String {
        let r = self
            .call(
                "POST",
                &format!("/shops/{shop}/products"),
                Some(owner),
                Some(json!({"title": title, "price_cents": price, "category": "jewelry", "quantity": quantity})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_str().expect("id").to_owned()
    }

    async fn add(&self, buyer: &str, product: &str, quantity: i64) -> Reply {
        self.call(
            "POST",
            "/cart/items",
            Some(buyer),
            Some(json!({"product_id": product, "quantity": quantity})),
        )
        .await
    }
}

fn line<'a>(cart: &'a Value, product: &str) -> &'a Value {
    cart["shops"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["items"].as_array().into_iter().flatten())
        .find(|i| i["product_id"] == product)
        .unwrap_or(&Value::Null)
}

#[tokio::test]
async fn a_cart_from_two_shops() {
    let s = Stack::new("cart-two-shops", "900").await;
    let kiln = s.shop("kiln", "The Copper Kiln", 500, 150).await;
    let loom = s.shop("loom", "Loom & Larch", 300, 0).await;
    let vase = s.product("kiln", &kiln, "Stoneware vase", 4200, 1).await;
    let mugs = s.product("kiln", &kiln, "Speckled mug", 2800, 6).await;
    let scarf = s.product("loom", &loom, "Alpaca scarf", 6500, 2).await;

    assert_eq!(s.add("buyer", &vase, 1).await.status, 200);
    assert_eq!(s.add("buyer", &mugs, 2).await.status, 200);
    let r = s.add("buyer", &scarf, 1).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let cart = r.body;
    assert_eq!(cart["shops"].as_array().map(Vec::len), Some(2));
    let k = &cart["shops"][0];
    assert_eq!(k["shop_id"], kiln.as_str());
    assert_eq!(k["shop_name"], "The Copper Kiln");
    assert_eq!(k["subtotal_cents"], 4200 + 2 * 2800);
    assert_eq!(
        k["shipping_cents"],
        500 + 150 * 2,
        "base + per extra × (units − 1)"
    );
    let l = &cart["shops"][1];
    assert_eq!(
        (l["subtotal_cents"].as_i64(), l["shipping_cents"].as_i64()),
        (Some(6500), Some(300))
    );
    assert_eq!(cart["item_count"], 4);
    assert_eq!(cart["total_cents"], 9800 + 800 + 6500 + 300);
    let mug_line = line(&cart, &mugs);
    assert_eq!(mug_line["quantity"], 2);
    assert_eq!(mug_line["available"], 6, "nobody else holds any");
    assert_eq!(mug_line["held"], true);
    assert!(
        mug_line["hold_expires_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );

    // Adding again adds to the line; GET shows the same cart; another buyer's cart is empty.
    let r = s.add("buyer", &mugs, 1).await;
    assert_eq!(line(&r.body, &mugs)["quantity"], 3);
    let got = s.call("GET", "/cart", Some("buyer"), None).await;
    assert_eq!(got.body, r.body);
    let other = s.call("GET", "/cart", Some("someone-else"), None).await;
    assert_eq!(
        other.body,
        json!({"shops": [], "item_count": 0, "total_cents": 0})
    );

    // Others see the held units as unavailable, in the product and in their carts.
    let p = s
        .call("GET", &format!("/products/{mugs}"), None, None)
        .await;
    assert_eq!(
        (p.body["quantity"].as_i64(), p.body["available"].as_i64()),
        (Some(6), Some(3))
    );
    let p = s
        .call(
            "GET",
            &format!("/products/{vase}"),
            Some("someone-else"),
            None,
        )
        .await;
    assert_eq!(p.body["available"], 0);
    let p = s
        .call("GET", &format!("/products/{vase}"), Some("buyer"), None)
        .await;
    assert_eq!(p.body["available"], 1, "the holder still sees its own unit");
}

#[tokio::test]
async fn contract_errors() {
    let s = Stack::new("cart-errors", "900").await;
    let shop = s.shop("seller", "Errors Inc", 0, 0).await;
    let one = s.product("seller", &shop, "One of a kind", 1000, 1).await;
    let r = s
        .call(
            "POST",
            "/cart/items",
            None,
            Some(json!({"product_id": one})),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(s.call("GET", "/cart", None, None).await.status, 401);
    let r = s.add("b", "00000000-0000-7000-8000-000000000000", 1).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (404, Some("product_not_found"))
    );
    let r = s.add("b", "not an id!", 1).await;
    assert_eq!(r.status, 404);
    for q in [json!(0), json!(-1), json!(41)] {
        let r = s
            .call(
                "POST",
                "/cart/items",
                Some("b"),
                Some(json!({"product_id": one, "quantity": q})),
            )
            .await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (422, Some("validation_failed")),
            "{q}"
        );
    }
    // A wrong type is 400; `null` too (the API fuzz suite found null taken for an absent
    // quantity: only a PATCH gives null a meaning).
    for q in [json!(1.5), json!("1"), json!(null)] {
        let r = s
            .call(
                "POST",
                "/cart/items",
                Some("b"),
                Some(json!({"product_id": one, "quantity": q})),
            )
            .await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (400, Some("invalid_body")),
            "{q}: {}",
            r.body
        );
    }
    // The one unit in stock, held; then over stock: 409 unavailable with what is available.
    let r = s.add("b", &one, 1).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = s.add("b", &one, 1).await;
    assert_eq!(
        (
            r.status,
            r.body["code"].as_str(),
            r.body["available"].as_i64()
        ),
        (409, Some("unavailable"), Some(1))
    );
    assert!(
        r.body["held_until"].is_null(),
        "nobody else holds it: {}",
        r.body
    );
    // PATCH and DELETE of a line that is not in the cart.
    let r = s
        .call(
            "PATCH",
            &format!("/cart/items/{one}"),
            Some("c"),
            Some(json!({"quantity": 1})),
        )
        .await;
    assert_eq!(r.status, 404);
    let r = s
        .call("DELETE", &format!("/cart/items/{one}"), Some("c"), None)
        .await;
    assert_eq!(r.status, 404);
    let r = s
        .call(
            "PATCH",
            &format!("/cart/items/{one}"),
            Some("b"),
            Some(json!({"quantity": 0})),
        )
        .await;
    assert_eq!(r.status, 422);
    let r = s
        .call(
            "PATCH",
            &format!("/cart/items/{one}"),
            Some("b"),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn delete_releases_at_once_and_patch_refreshes_within_stock() {
    let s = Stack::new("cart-release", "900").await;
    let shop = s.shop("seller", "Release Co", 0, 0).await;
    let ring = s.product("seller", &shop, "Silver ring", 3000, 1).await;
    let beads = s.product("seller", &shop, "Glass beads", 500, 2).await;

    assert_eq!(s.add("alice", &ring, 1).await.status, 200);
    let r = s.add("bob", &ring, 1).await;
    assert_eq!((r.status, r.body["available"].as_i64()), (409, Some(0)));
    assert!(r.body["held_until"].as_str().is_some(), "{}", r.body);
    let r = s
        .call(
            "DELETE",
            &format!("/cart/items/{ring}"),
            Some("alice"),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["item_count"], 0);
    assert_eq!(
        s.add("bob", &ring, 1).await.status,
        200,
        "released immediately"
    );

    // PATCH sets the line, refreshes the hold, and respects stock.
    let first = s.add("alice", &beads, 1).await;
    let held_at = line(&first.body, &beads)["hold_expires_at"].clone();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = s
        .call(
            "PATCH",
            &format!("/cart/items/{beads}"),
            Some("alice"),
            Some(json!({"quantity": 2})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(line(&r.body, &beads)["quantity"], 2);
    assert!(
        line(&r.body, &beads)["hold_expires_at"].as_str() > held_at.as_str(),
        "refreshed"
    );
    let r = s
        .call(
            "PATCH",
            &format!("/cart/items/{beads}"),
            Some("alice"),
            Some(json!({"quantity": 3})),
        )
        .await;
    assert_eq!((r.status, r.body["available"].as_i64()), (409, Some(2)));
    assert_eq!(s.add("carol", &beads, 1).await.status, 409);
    let r = s
        .call(
            "PATCH",
            &format!("/cart/items/{beads}"),
            Some("alice"),
            Some(json!({"quantity": 1})),
        )
        .await;
    assert_eq!(line(&r.body, &beads)["quantity"], 1);
    assert_eq!(
        s.add("carol", &beads, 1).await.status,
        200,
        "shrinking released a unit"
    );
}

/// With `HOLD_SECONDS=2`, the hold lapses on its own: no sweeper, the next buyer gets the item,
/// and the first buyer's cart still shows the line, unheld.
#[tokio::test]
async fn holds_expire_without_a_sweeper() {
    let s = Stack::new("cart-expiry", "2").await;
    let shop = s.shop("seller", "Expiry Goods", 0, 0).await;
    let lamp = s
        .product("seller", &shop, "Vintage brass lamp", 12000, 1)
        .await;
    assert_eq!(s.add("first", &lamp, 1).await.status, 200);
    assert_eq!(s.add("second", &lamp, 1).await.status, 409);
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    let r = s.add("second", &lamp, 1).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(line(&r.body, &lamp)["held"], true);
    let first = s.call("GET", "/cart", Some("first"), None).await;
    let l = line(&first.body, &lamp);
    assert_eq!(
        (l["quantity"].as_i64(), l["held"].as_bool()),
        (Some(1), Some(false))
    );
    assert!(l["hold_expires_at"].is_null());
    assert_eq!(l["available"], 0);
}

/// 50 buyers race for one unique item: exactly one gets it. 30 buyers race for three units:
/// exactly three units are held. Repeated, with zero oversells.
#[tokio::test]
async fn races_never_oversell() {
    let s = Stack::new("cart-races", "900").await;
    let shop = s.shop("seller", "Race Track Crafts", 0, 0).await;
    for round in 0..3 {
        let unique = s
            .product("seller", &shop, &format!("Unique {round}"), 1000, 1)
            .await;
        let buyers: Vec<String> = (0..50).map(|i| format!("u{round}-{i}")).collect();
        let replies = futures::future::join_all(buyers.iter().map(|b| s.add(b, &unique, 1))).await;
        let ok = replies.iter().filter(|r| r.status == 200).count();
        assert_eq!(
            ok,
            1,
            "{:?}",
            replies.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        for r in replies.iter().filter(|r| r.status != 200) {
            assert_eq!(
                (r.status, r.body["code"].as_str()),
                (409, Some("unavailable"))
            );
            assert!(r.body["held_until"].as_str().is_some());
        }

        let three = s
            .product("seller", &shop, &format!("Three {round}"), 1000, 3)
            .await;
        let buyers: Vec<String> = (0..30).map(|i| format!("t{round}-{i}")).collect();
        let replies = futures::future::join_all(buyers.iter().map(|b| s.add(b, &three, 1))).await;
        let ok = replies.iter().filter(|r| r.status == 200).count();
        assert_eq!(
            ok,
            3,
            "{:?}",
            replies.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        let p = s
            .call("GET", &format!("/products/{three}"), None, None)
            .await;
        assert_eq!(p.body["available"], 0);
    }
}

/// DynamoDB round trips: constant, whatever the cart's size.
#[tokio::test]
async fn round_trips_do_not_grow_with_the_cart() {
    let s = Stack::new("cart-round-trips", "900").await;
    let shop = s.shop("seller", "Round Trip Carts", 0, 0).await;
    let mut products = Vec::new();
    for i in 0..12 {
        products.push(
            s.product("seller", &shop, &format!("Item {i}"), 100 + i, 5)
                .await,
        );
    }
    let mut add_calls = Vec::new();
    let mut get_calls = Vec::new();
    for p in &products {
        add_calls.push(s.add("buyer", p, 1).await.aws_calls);
        get_calls.push(s.call("GET", "/cart", Some("buyer"), None).await.aws_calls);
    }
    // One read (cart, product, its clock, the quota's counter), the write (with the quota's
    // increment in it), the render read.
    assert!(
        add_calls.iter().all(|c| *c == 3),
        "add-to-cart: {add_calls:?}"
    );
    assert!(
        get_calls.iter().all(|c| *c == 2),
        "GET /cart: {get_calls:?}"
    );
    let r = s
        .call(
            "PATCH",
            &format!("/cart/items/{}", products[0]),
            Some("buyer"),
            Some(json!({"quantity": 2})),
        )
        .await;
    assert_eq!((r.status, r.aws_calls), (200, 3));
    let r = s
        .call(
            "DELETE",
            &format!("/cart/items/{}", products[0]),
            Some("buyer"),
            None,
        )
        .await;
    assert_eq!((r.status, r.aws_calls), (200, 3));
    let r = s.call("GET", "/cart", Some("buyer"), None).await;
    assert_eq!(
        (r.aws_calls, r.body["item_count"].as_i64()),
        (2, Some(11)),
        "GET /cart: the cart item, then its products and shops"
    );
    let r = s
        .call("GET", &format!("/products/{}", products[1]), None, None)
        .await;
    assert_eq!(r.aws_calls, 2, "availability comes with the product item");
}

/// The cart write quota is counted inside each write's own transaction (no call of its own):
/// the write past it is `429 rate_limited` with `Retry-After`, before anything is written.
#[tokio::test]
async fn the_cart_quota_is_counted_in_the_write_itself() {
    let s = Stack::with_quotas("cart-quota-folded", "900", Some("cart=3/3600")).await;
    let shop = s.shop("seller", "Quota Quilts", 0, 0).await;
    let a = s.product("seller", &shop, "A", 100, 5).await;
    let b = s.product("seller", &shop, "B", 100, 5).await;
    for q in [1, 1] {
        let r = s.add("buyer", &a, q).await;
        assert_eq!((r.status, r.aws_calls), (200, 3), "{}", r.body);
    }
    let r = s
        .call("DELETE", &format!("/cart/items/{a}"), Some("buyer"), None)
        .await;
    // The cart is empty afterwards: nothing to render, so no render read.
    assert_eq!((r.status, r.aws_calls), (200, 2), "{}", r.body);
    let r = s.add("buyer", &b, 1).await;
    assert_eq!(
        (r.status, r.body["code"].as_str(), r.aws_calls),
        (429, Some("rate_limited"), 1),
        "refused from the read, nothing written"
    );
    assert!(
        r.body["retry_after"]
            .as_u64()
            .is_some_and(|s| (1..=3600).contains(&s))
    );
    let p = s.call("GET", &format!("/products/{b}"), None, None).await;
    assert_eq!(p.body["available"], 5, "nothing held");
    let counters = s
        .client
        .query()
        .table_name(&s.table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S("QUOTA#buyer".into()))
        .send()
        .await
        .expect("query");
    let counted: Vec<String> = counters
        .items()
        .iter()
        .filter_map(|i| i.get("n").and_then(|n| n.as_n().ok()).cloned())
        .collect();
    assert_eq!(counted, ["3"]);
    // Other buyers have their own window.
    assert_eq!(s.add("other", &b, 1).await.status, 200);
}

/// A user id of the longest kind the API accepts: 128 characters of four UTF-8 bytes each,
/// distinct per `n`.
fn longest_user_id(n: u32) -> String {
    let tag = char::from_u32(0x1_0000 + n).expect("a Linear B character");
    std::iter::once(tag)
        .chain(std::iter::repeat_n('\u{1F9F6}', 127))
        .collect()
}

/// The largest product body the API accepts: every text field at its limit in four-byte
/// characters, every list full, the longest image URLs, 10,000 units.
fn largest_product_body() -> Value {
    let wide = |n: usize, c: char| -> String { std::iter::repeat_n(c, n).collect() };
    let tags: Vec<String> = (0..13u32)
        .map(|i| {
            let c = char::from_u32(0x1_0400 + i).expect("a Deseret character");
            wide(20, c)
        })
        .collect();
    let images: Vec<String> = (0..10)
        .map(|i| {
            let prefix = format!("https://images.example.com/{i}/");
            format!("{prefix}{}", "a".repeat(2048 - prefix.len()))
        })
        .collect();
    json!({
        "title": wide(200, '\u{1F3FA}'),
        "description": wide(5000, '\u{1F9F5}'),
        "price_cents": 100_000_000,
        "quantity": 10_000,
        "category": format!("a{}", "-b".repeat(24)) + "c",
        "tags": tags,
        "is_vintage": true,
        "images": images,
    })
}

/// The product item as stored, and its size as DynamoDB counts it.
async fn stored_product(
    s: &Stack,
    id: &str,
) -> (std::collections::HashMap<String, AttributeValue>, usize) {
    let item = s
        .client
        .get_item()
        .table_name(&s.table)
        .key("pk", AttributeValue::S(format!("PRODUCT#{id}")))
        .key("sk", AttributeValue::S("PRODUCT".into()))
        .consistent_read(true)
        .send()
        .await
        .expect("read")
        .item
        .expect("the product item");
    let size = bazaar_aws::table::item_size(&item);
    (item, size)
}

/// The hold mirror on the product item is bounded by design: the largest product the API accepts
/// (every field at its limit, 10,000 units, a seller with the longest user id), held to the limit
/// by buyers with the longest user ids (40 units each), stays under DynamoDB's 400 KB item limit,
/// and the next buyer is told the listing is fully held (409), never a 500.
#[tokio::test]
async fn the_largest_product_item_stays_under_the_item_limit() {
    let s = Stack::new("cart-item-limit", "900").await;
    let seller = longest_user_id(0);
    let shop = s.shop(&seller, "Largest Listing", 0, 0).await;
    let r = s
        .call(
            "POST",
            &format!("/shops/{shop}/products"),
            Some(&seller),
            Some(largest_product_body()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let product = r.body["id"].as_str().expect("id").to_owned();
    let (_, empty) = stored_product(&s, &product).await;
    // 1,000 units (the most held at once) in 25 lines of 40.
    for n in 1..=25 {
        let r = s.add(&longest_user_id(n), &product, 40).await;
        assert_eq!(r.status, 200, "buyer {n}: {}", r.body);
        assert_eq!(line(&r.body, &product)["held"], true);
    }
    let (item, full) = stored_product(&s, &product).await;
    let mirror = match item.get("holds") {
        Some(AttributeValue::M(m)) => m.len(),
        other => panic!("no mirror: {other:?}"),
    };
    assert_eq!(mirror, 1000);
    assert!(
        full < 400_000,
        "the product item is {full} bytes with a full mirror ({empty} without)"
    );
    // The next buyer: the listing is fully held, a 409 with when units free up.
    let r = s.add(&longest_user_id(26), &product, 1).await;
    assert_eq!(
        (
            r.status,
            r.body["code"].as_str(),
            r.body["available"].as_i64()
        ),
        (409, Some("unavailable"), Some(0)),
        "{}",
        r.body
    );
    assert!(r.body["held_until"].is_string(), "{}", r.body);
    // The holders still renew and shrink their lines, and the mirror does not grow.
    let r = s
        .call(
            "PATCH",
            &format!("/cart/items/{product}"),
            Some(&longest_user_id(3)),
            Some(json!({"quantity": 39})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(s.add(&longest_user_id(26), &product, 1).await.status, 200);
    let (_, after) = stored_product(&s, &product).await;
    assert!(after <= full, "{after} > {full}");
}

/// A buyer holds at most 100 units across the whole cart (`422 hold_limit`); shrinking a line is
/// always allowed.
#[tokio::test]
async fn a_cart_holds_at_most_100_units() {
    let s = Stack::new("cart-unit-cap", "900").await;
    let shop = s.shop("seller", "Bulk Beads", 0, 0).await;
    let mut products = Vec::new();
    for i in 0..4 {
        products.push(
            s.product("seller", &shop, &format!("Bead jar {i}"), 500, 100)
                .await,
        );
    }
    for (p, q) in products.iter().zip([40, 40, 20]) {
        let r = s.add("hoarder", p, q).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = s.add("hoarder", &products[3], 1).await;
    assert_eq!(
        (
            r.status,
            r.body["code"].as_str(),
            r.body["max_units"].as_i64()
        ),
        (422, Some("hold_limit"), Some(100)),
        "{}",
        r.body
    );
    let r = s
        .call(
            "PATCH",
            &format!("/cart/items/{}", products[2]),
            Some("hoarder"),
            Some(json!({"quantity": 21})),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (422, Some("hold_limit"))
    );
    let r = s
        .call(
            "PATCH",
            &format!("/cart/items/{}", products[2]),
            Some("hoarder"),
            Some(json!({"quantity": 10})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = s.add("hoarder", &products[3], 10).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["item_count"], 100);
    let p = s
        .call("GET", &format!("/products/{}", products[3]), None, None)
        .await;
    assert_eq!(p.body["available"], 90, "nothing beyond the cap was held");
}

/// Moves the start of `buyer`'s hold window on `product` `seconds` into the past, as if the
/// buyer had been holding it that long (the line or the removed line's record).
async fn age_hold_window(s: &Stack, buyer: &str, product: &str, seconds: i64) {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
        - seconds;
    let on_line = s
        .client
        .update_item()
        .table_name(&s.table)
        .key("pk", AttributeValue::S(format!("CART#{buyer}")))
        .key("sk", AttributeValue::S("CART".into()))
        .update_expression("SET #l.#p.hold_since = :since")
        .condition_expression("attribute_exists(#l.#p)")
        .expression_attribute_names("#l", "lines")
        .expression_attribute_names("#p", product)
        .expression_attribute_values(":since", AttributeValue::N(since.to_string()))
        .send()
        .await;
    if on_line.is_ok() {
        return;
    }
    s.client
        .update_item()
        .table_name(&s.table)
        .key("pk", AttributeValue::S(format!("CART#{buyer}")))
        .key("sk", AttributeValue::S(format!("CLOCK#{product}")))
        .update_expression("SET hold_since = :since")
        .condition_expression("attribute_exists(pk)")
        .expression_attribute_values(":since", AttributeValue::N(since.to_string()))
        .send()
        .await
        .expect("the line (or its clock) exists");
}

/// A buyer cannot renew a hold forever: after an hour of holding one product without checking
/// out, `409 hold_cooldown` (with `retry_after`) for an hour — and removing and re-adding the
/// line does not reset it. Other buyers can have the item meanwhile; after the cool-down the
/// buyer can hold it again.
#[tokio::test]
async fn a_hold_cannot_be_renewed_forever_nor_reset_by_removing_the_line() {
    let s = Stack::new("cart-hold-lifetime", "900").await;
    let shop = s.shop("seller", "Rare Finds", 0, 0).await;
    let clock = s
        .product("seller", &shop, "Carriage clock", 25_000, 2)
        .await;
    let path = format!("/cart/items/{clock}");
    let renew = || s.call("PATCH", &path, Some("camper"), Some(json!({"quantity": 1})));
    assert_eq!(s.add("camper", &clock, 1).await.status, 200);
    // Renewing within the hour is fine.
    age_hold_window(&s, "camper", &clock, 3000).await;
    assert_eq!(renew().await.status, 200);
    age_hold_window(&s, "camper", &clock, 3601).await;
    let r = renew().await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("hold_cooldown")),
        "{}",
        r.body
    );
    let retry = r.body["retry_after"].as_i64().expect("retry_after");
    assert!((1..=3600).contains(&retry), "{}", r.body);
    assert!(r.body["hold_again_at"].is_string(), "{}", r.body);
    let r = s.add("camper", &clock, 1).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("hold_cooldown"))
    );
    // Removing the line releases the units, but the clock stays.
    let r = s
        .call(
            "DELETE",
            &format!("/cart/items/{clock}"),
            Some("camper"),
            None,
        )
        .await;
    assert_eq!((r.status, r.body["item_count"].as_i64()), (200, Some(0)));
    let r = s.add("camper", &clock, 1).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("hold_cooldown")),
        "{}",
        r.body
    );
    let cart = s.call("GET", "/cart", Some("camper"), None).await;
    assert_eq!(cart.body["item_count"], 0, "the record is no cart line");
    assert_eq!(
        s.add("rival", &clock, 2).await.status,
        200,
        "free for others"
    );
    // After the cool-down the buyer may hold it again (once the rival lets go).
    age_hold_window(&s, "camper", &clock, 7201).await;
    let r = s
        .call(
            "DELETE",
            &format!("/cart/items/{clock}"),
            Some("rival"),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    let r = s.add("camper", &clock, 1).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(line(&r.body, &clock)["held"], true);
}

/// A seller cannot hold their own listing: `403 own_listing`, and nothing is held.
#[tokio::test]
async fn a_seller_cannot_hold_their_own_listing() {
    let s = Stack::new("cart-own-listing", "900").await;
    let shop = s.shop("maker", "Maker's Corner", 0, 0).await;
    let bowl = s.product("maker", &shop, "Turned bowl", 6000, 1).await;
    let r = s.add("maker", &bowl, 1).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (403, Some("own_listing")),
        "{}",
        r.body
    );
    let cart = s.call("GET", "/cart", Some("maker"), None).await;
    assert_eq!(cart.body["item_count"], 0);
    let p = s
        .call("GET", &format!("/products/{bowl}"), None, None)
        .await;
    assert_eq!(p.body["available"], 1);
    assert_eq!(s.add("buyer", &bowl, 1).await.status, 200);
}

/// The functions' route tables and template.yaml agree.
#[test]
fn routes_match_the_template() {
    bazaar_infra::testing::assert_routes_match("cart", cart::ROUTES);
    bazaar_infra::testing::assert_routes_match("add-to-cart", add_to_cart::ROUTES);
}
