//! Integration tests of the favorites function: the real handler against DynamoDB in the emulator.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use bazaar_aws::calls::counting_aws_calls;
use bazaar_aws::personalize::favorites::DynamoFavorites;
use bazaar_aws::quota::DynamoQuota;
use bazaar_domain::personalize::FAVORITES_MAX;
use bazaar_domain::ports::CatalogStore;
use bazaar_infra::testing::{Listing, fresh_table, list_products};
use bazaar_lambda::auth::mint_local_token;
use bazaar_lambda::env::Config;
use bazaar_lambda::http::HttpApp;
use favorites::{App, ROUTES};
use lambda_http::Body;
use lambda_http::http::Request;
use serde_json::Value;

const SECRET: &str = "favorites-test-secret";

struct Harness {
    app: App<DynamoFavorites>,
    client: Client,
    table: String,
}

struct Reply {
    status: u16,
    body: Value,
    aws_calls: u32,
}

impl Harness {
    async fn new(test: &str) -> Self {
        let (client, table) = fresh_table(test).await;
        let config = Config::from_lookup("favorites", |k| match k {
            "TABLE_NAME" => Some(table.clone()),
            "AUTH_MODE" => Some("local".into()),
            "LOCAL_JWT_SECRET" => Some(SECRET.into()),
            _ => None,
        })
        .expect("config");
        Harness {
            app: App::new(
                DynamoFavorites::new(client.clone(), &table),
                DynamoQuota::new(client.clone(), &table),
                &config,
            ),
            client,
            table,
        }
    }

    async fn call(&self, method: &str, path: &str, user: Option<&str>) -> Reply {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(user) = user {
            let token = mint_local_token(SECRET, user, 300, None).expect("token");
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        let (response, aws_calls) =
            counting_aws_calls(self.app.handle(builder.body(Body::Empty).expect("request"))).await;
        let response = response.expect("handler never returns Err");
        let status = response.status().as_u16();
        let bytes = response.body().to_vec();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("JSON")
        };
        if status >= 400 {
            assert_eq!(body["status"], status, "{body}");
        }
        Reply {
            status,
            body,
            aws_calls,
        }
    }

    /// A numeric attribute of an item (0 when absent).
    async fn number(&self, pk: &str, sk: &str, attr: &str) -> i64 {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk.into()))
            .key("sk", AttributeValue::S(sk.into()))
            .consistent_read(true)
            .send()
            .await
            .expect("get");
        match out.item.and_then(|mut i| i.remove(attr)) {
            Some(AttributeValue::N(n)) => n.parse().expect("number"),
            _ => 0,
        }
    }
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("array")
        .iter()
        .map(|p| p["id"].as_str().expect("id").to_owned())
        .collect()
}

#[test]
fn routes_match_the_template() {
    bazaar_infra::testing::assert_routes_match("favorites", ROUTES);
}

#[tokio::test]
async fn favorites_are_idempotent_per_user_and_counted() {
    let h = Harness::new("fav-idempotent").await;
    let (shop, products) = list_products(
        &h.client,
        &h.table,
        "seller",
        "Ring Shop",
        &[
            Listing {
                title: "Silver ring",
                category: "jewelry",
                price_cents: 4500,
                tags: &["silver"],
                quantity: 1,
            },
            Listing {
                title: "Gold ring",
                category: "jewelry",
                price_cents: 9500,
                tags: &["gold"],
                quantity: 1,
            },
        ],
    )
    .await;
    let (p1, p2) = (&products[0].id, &products[1].id);

    // 401 without a token, on every route.
    for (method, path) in [
        ("GET", "/favorites".to_owned()),
        ("PUT", format!("/favorites/products/{p1}")),
        ("DELETE", format!("/favorites/products/{p1}")),
        ("PUT", format!("/favorites/shops/{}", shop.id)),
        ("DELETE", format!("/favorites/shops/{}", shop.id)),
    ] {
        assert_eq!(
            h.call(method, &path, None).await.status,
            401,
            "{method} {path}"
        );
    }

    // PUT twice: 204 both times, one favorite, counted once.
    for _ in 0..2 {
        let r = h
            .call("PUT", &format!("/favorites/products/{p1}"), Some("alice"))
            .await;
        assert_eq!(r.status, 204, "{}", r.body);
        assert_eq!(
            r.aws_calls, 3,
            "write quota UpdateItem, GetItem product, TransactWriteItems"
        );
    }
    assert_eq!(
        h.call(
            "PUT",
            &format!("/favorites/shops/{}", shop.id),
            Some("alice")
        )
        .await
        .status,
        204
    );
    assert_eq!(
        h.call("PUT", &format!("/favorites/products/{p2}"), Some("bob"))
            .await
            .status,
        204
    );
    assert_eq!(
        h.number(&format!("PRODUCT#{p1}"), "PRODUCT", "favorite_count")
            .await,
        1
    );
    assert_eq!(
        h.number(&format!("SHOP#{}", shop.id), "SHOP", "favorite_count")
            .await,
        1
    );

    // Per user: each sees only their own.
    let alice = h.call("GET", "/favorites", Some("alice")).await;
    assert_eq!(alice.status, 200);
    assert_eq!(ids(&alice.body["products"]), vec![p1.clone()]);
    assert_eq!(ids(&alice.body["shops"]), vec![shop.id.clone()]);
    assert_eq!(alice.body["products"][0]["shop"]["name"], "Ring Shop");
    assert!(
        alice.aws_calls <= 3,
        "Query + 2 BatchGetItem: {}",
        alice.aws_calls
    );
    let bob = h.call("GET", "/favorites", Some("bob")).await;
    assert_eq!(ids(&bob.body["products"]), vec![p2.clone()]);
    assert!(bob.body["shops"].as_array().expect("shops").is_empty());
    let carol = h.call("GET", "/favorites", Some("carol")).await;
    assert_eq!(carol.body, serde_json::json!({"products": [], "shops": []}));

    // DELETE twice: 204 both times, uncounted once.
    for _ in 0..2 {
        let r = h
            .call(
                "DELETE",
                &format!("/favorites/products/{p1}"),
                Some("alice"),
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.body);
    }
    assert_eq!(
        h.number(&format!("PRODUCT#{p1}"), "PRODUCT", "favorite_count")
            .await,
        0
    );
    // Never favorited by carol, product exists: still 204.
    assert_eq!(
        h.call(
            "DELETE",
            &format!("/favorites/products/{p2}"),
            Some("carol")
        )
        .await
        .status,
        204
    );
    assert_eq!(
        h.number(&format!("PRODUCT#{p2}"), "PRODUCT", "favorite_count")
            .await,
        1,
        "carol's delete must not touch bob's count"
    );
    let alice = h.call("GET", "/favorites", Some("alice")).await;
    assert!(ids(&alice.body["products"]).is_empty());
    assert_eq!(h.number("FAV#alice", "COUNT", "products").await, 0);
    assert_eq!(h.number("FAV#alice", "COUNT", "shops").await, 1);
}

#[tokio::test]
async fn unknown_targets_are_404_and_deleted_products_can_still_be_unfavorited() {
    let h = Harness::new("fav-404").await;
    let (shop, products) = list_products(
        &h.client,
        &h.table,
        "seller",
        "Vase Shop",
        &[Listing {
            title: "Blue vase",
            category: "home-decor",
            price_cents: 3000,
            tags: &["vase"],
            quantity: 1,
        }],
    )
    .await;
    let p = &products[0].id;
    for (method, path, code) in [
        (
            "PUT",
            "/favorites/products/no-such-product",
            "product_not_found",
        ),
        (
            "DELETE",
            "/favorites/products/no-such-product",
            "product_not_found",
        ),
        ("PUT", "/favorites/shops/no-such-shop", "shop_not_found"),
        ("DELETE", "/favorites/shops/no-such-shop", "shop_not_found"),
        (
            "PUT",
            "/favorites/products/not%20an%20id!",
            "product_not_found",
        ),
    ] {
        let r = h.call(method, path, Some("alice")).await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (404, Some(code)),
            "{method} {path}"
        );
    }
    assert_eq!(
        h.call("PATCH", "/favorites", Some("alice")).await.status,
        405
    );

    assert_eq!(
        h.call("PUT", &format!("/favorites/products/{p}"), Some("alice"))
            .await
            .status,
        204
    );
    bazaar_aws::catalog::DynamoCatalog::new(h.client.clone(), &h.table)
        .delete_product("seller", p)
        .await
        .expect("deleted");
    // The list leaves the deleted product out; removing the favorite still works, once.
    let list = h.call("GET", "/favorites", Some("alice")).await;
    assert!(ids(&list.body["products"]).is_empty());
    assert_eq!(
        h.call("DELETE", &format!("/favorites/products/{p}"), Some("alice"))
            .await
            .status,
        204
    );
    assert_eq!(h.number("FAV#alice", "COUNT", "products").await, 0);
    assert_eq!(
        h.call("DELETE", &format!("/favorites/products/{p}"), Some("alice"))
            .await
            .status,
        404,
        "once the favorite is gone, the deleted product is unknown"
    );
    assert_eq!(
        h.call("PUT", &format!("/favorites/products/{p}"), Some("alice"))
            .await
            .status,
        404
    );
    let _ = shop;
}

#[tokio::test]
async fn concurrent_puts_count_once() {
    let h = Harness::new("fav-race").await;
    let (_, products) = list_products(
        &h.client,
        &h.table,
        "seller",
        "Race Shop",
        &[Listing {
            title: "Quilt",
            category: "home-decor",
            price_cents: 12000,
            tags: &["quilt"],
            quantity: 1,
        }],
    )
    .await;
    let path = format!("/favorites/products/{}", products[0].id);
    let replies =
        futures::future::join_all((0..12).map(|_| h.call("PUT", &path, Some("alice")))).await;
    for r in &replies {
        assert_eq!(r.status, 204, "{}", r.body);
    }
    assert_eq!(
        h.number(
            &format!("PRODUCT#{}", products[0].id),
            "PRODUCT",
            "favorite_count"
        )
        .await,
        1
    );
    assert_eq!(h.number("FAV#alice", "COUNT", "products").await, 1);
}

#[tokio::test]
async fn favorites_are_limited_per_user() {
    let h = Harness::new("fav-limit").await;
    let listings: Vec<String> = (0..=FAVORITES_MAX).map(|i| format!("Print {i}")).collect();
    let listings: Vec<Listing> = listings
        .iter()
        .map(|t| Listing {
            title: t,
            category: "art",
            price_cents: 1000,
            tags: &[],
            quantity: 1,
        })
        .collect();
    let (_, products) = list_products(&h.client, &h.table, "seller", "Print Shop", &listings).await;
    for p in &products[..FAVORITES_MAX as usize] {
        let r = h
            .call(
                "PUT",
                &format!("/favorites/products/{}", p.id),
                Some("alice"),
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.body);
    }
    let last = &products[FAVORITES_MAX as usize].id;
    let r = h
        .call("PUT", &format!("/favorites/products/{last}"), Some("alice"))
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (422, Some("favorites_limit"))
    );
    // Re-favoriting one already there is still fine at the limit.
    let r = h
        .call(
            "PUT",
            &format!("/favorites/products/{}", products[0].id),
            Some("alice"),
        )
        .await;
    assert_eq!(r.status, 204);
    let list = h.call("GET", "/favorites", Some("alice")).await;
    assert_eq!(
        list.body["products"].as_array().expect("products").len(),
        FAVORITES_MAX as usize
    );
}
