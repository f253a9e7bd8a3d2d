//! End-to-end: favorites, the feed, trending and "customers also bought" over HTTP through the
//! local stack (`cargo lambda watch`, moto, and the pump playing the table stream → relay →
//! purchase events queue → recommender, and the trending schedule, which the test stack fires
//! every few seconds).

use bazaar_e2e::{Client, checkout_body, eventually, unique};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::Duration;

async fn shop(seller: &Client) -> String {
    let r = seller
        .post("/shops", json!({"name": unique("Feed Shop")}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().expect("id").to_owned()
}

async fn product(seller: &Client, shop: &str, category: &str, price: i64, quantity: i64) -> String {
    let r = seller
        .post(
            &format!("/shops/{shop}/products"),
            json!({"title": "Hand-thrown stoneware cup", "price_cents": price, "category": category,
                   "quantity": quantity, "tags": ["stoneware", "cup"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().expect("id").to_owned()
}

fn ids(products: &Value) -> Vec<String> {
    products
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter_map(|p| p["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn section_kinds(feed: &Value) -> Vec<String> {
    feed["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .map(|s| s["kind"].as_str().expect("kind").to_owned())
        .collect()
}

/// A category of its own for this test run (a valid slug).
fn category() -> String {
    unique("e2e")
}

#[tokio::test]
async fn favorites_are_idempotent_per_user_404_for_unknown_401_without_token() {
    let seller = Client::as_user(&unique("seller"));
    let shop_id = shop(&seller).await;
    let cup = product(&seller, &shop_id, &category(), 2500, 1).await;
    let (alice, bob) = (
        Client::as_user(&unique("alice")),
        Client::as_user(&unique("bob")),
    );
    let anonymous = Client::anonymous();
    for (method, path) in [
        ("GET", "/favorites".to_owned()),
        ("PUT", format!("/favorites/products/{cup}")),
        ("DELETE", format!("/favorites/shops/{shop_id}")),
    ] {
        let r = anonymous.send(method, &path, None).await;
        assert_eq!(r.status, 401, "{method} {path}");
    }
    for _ in 0..2 {
        assert_eq!(
            alice
                .send("PUT", &format!("/favorites/products/{cup}"), None)
                .await
                .status,
            204
        );
        assert_eq!(
            alice
                .send("PUT", &format!("/favorites/shops/{shop_id}"), None)
                .await
                .status,
            204
        );
    }
    let r = alice.get("/favorites").await;
    assert_eq!(r.status, 200);
    assert_eq!(ids(&r.body["products"]), vec![cup.clone()]);
    assert_eq!(ids(&r.body["shops"]), vec![shop_id.clone()]);
    let r = bob.get("/favorites").await;
    assert!(ids(&r.body["products"]).is_empty() && ids(&r.body["shops"]).is_empty());

    for path in ["/favorites/products/nope", "/favorites/shops/nope"] {
        let r = alice.send("PUT", path, None).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.content_type, "application/problem+json");
    }
    for _ in 0..2 {
        assert_eq!(
            alice
                .send("DELETE", &format!("/favorites/products/{cup}"), None)
                .await
                .status,
            204
        );
    }
    assert!(ids(&alice.get("/favorites").await.body["products"]).is_empty());
}

#[tokio::test]
async fn cold_start_and_anonymous_feeds_are_trending_then_three_favorites_personalize_it() {
    for client in [Client::anonymous(), Client::as_user(&unique("newcomer"))] {
        let r = client.get("/feed").await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["personalized"], false);
        assert!(
            section_kinds(&r.body).iter().all(|k| k == "trending"),
            "{}",
            r.body
        );
    }

    // A category of this run's own: 12 cups, one sold out, one far above the user's price range.
    let seller = Client::as_user(&unique("potter"));
    let shop_id = shop(&seller).await;
    let cat = category();
    let mut cups = Vec::new();
    for i in 0..10 {
        cups.push(product(&seller, &shop_id, &cat, 3000 + 100 * i, 1).await);
    }
    let sold_out = product(&seller, &shop_id, &cat, 3000, 0).await;
    let pricey = product(&seller, &shop_id, &cat, 500_000, 1).await;
    // The listings reach the search index through the stream, relay and indexer.
    let searcher = Client::anonymous();
    let indexed = eventually(Duration::from_secs(10), || {
        let searcher = &searcher;
        let cat = &cat;
        async move {
            let r = searcher.get(&format!("/search?category={cat}")).await;
            r.body["total"].as_u64() == Some(11)
        }
    })
    .await;
    assert!(
        indexed.is_some(),
        "the new listings were not searchable in 10 s"
    );

    let fan = Client::as_user(&unique("fan"));
    for cup in &cups[..2] {
        assert_eq!(
            fan.send("PUT", &format!("/favorites/products/{cup}"), None)
                .await
                .status,
            204
        );
    }
    let r = fan.get("/feed").await;
    assert_eq!(
        r.body["personalized"], false,
        "two favorites: still cold start"
    );
    assert_eq!(
        fan.send("PUT", &format!("/favorites/products/{}", cups[2]), None)
            .await
            .status,
        204
    );
    // Each function instance's view of the search index refreshes within about half a second of
    // a commit (as an OpenSearch refresh does): the feed may see the new listings a moment after
    // `GET /search` did.
    let has_category = |r: &bazaar_e2e::Reply| {
        r.body["sections"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["kind"] == "category"))
    };
    let mut r = fan.get("/feed").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !has_category(&r) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        r = fan.get("/feed").await;
    }
    assert_eq!(r.status, 200);
    assert_eq!(r.body["personalized"], true, "{}", r.body);
    let sections = r.body["sections"].as_array().expect("sections");
    let category = sections
        .iter()
        .find(|s| s["kind"] == "category")
        .unwrap_or_else(|| panic!("no category section: {}", r.body));
    assert_eq!(category["title"], format!("More in {cat}"));
    let favorited: HashSet<&String> = cups[..3].iter().collect();
    let others: HashSet<&String> = cups[3..].iter().collect();
    let suggested: Vec<String> = sections
        .iter()
        .filter(|s| s["kind"] == "category" || s["kind"] == "favorites")
        .flat_map(|s| ids(&s["products"]))
        .filter(|id| {
            favorited.contains(id) || others.contains(id) || *id == sold_out || *id == pricey
        })
        .collect();
    assert!(!suggested.is_empty(), "{}", r.body);
    for id in &suggested {
        assert!(
            others.contains(id),
            "{id}: a favorite, sold out or over the price cap"
        );
    }
    for p in sections
        .iter()
        .flat_map(|s| s["products"].as_array().expect("products"))
    {
        assert!(p["available"].as_i64().expect("available") > 0);
        assert!(!favorited.contains(&p["id"].as_str().expect("id").to_owned()));
    }
}

#[tokio::test]
async fn customers_also_bought_within_10_seconds() {
    let seller = Client::as_user(&unique("seller"));
    let shop_id = shop(&seller).await;
    let cat = category();
    let x = product(&seller, &shop_id, &cat, 1500, 5).await;
    let y = product(&seller, &shop_id, &cat, 1600, 3).await;
    let z = product(&seller, &shop_id, &cat, 1700, 3).await;
    for other in [&y, &z] {
        let buyer = Client::as_user(&unique("buyer"));
        for p in [&x, other] {
            let r = buyer.post("/cart/items", json!({"product_id": p})).await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
        let key = unique("checkout");
        let r = buyer
            .post_with(
                "/checkout",
                &[("idempotency-key", &key)],
                checkout_body("pm_card_visa"),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let anonymous = Client::anonymous();
    let took = eventually(Duration::from_secs(10), || {
        let (anonymous, x, y, z) = (&anonymous, &x, &y, &z);
        async move {
            let r = anonymous
                .get(&format!("/products/{x}/recommendations"))
                .await;
            let got = ids(&r.body["products"]);
            r.status == 200 && got.contains(y) && got.contains(z)
        }
    })
    .await;
    assert!(
        took.is_some(),
        "X's recommendations did not list Y and Z within 10 s"
    );
    eprintln!("customers also bought: visible after {took:?}");
    let r = anonymous
        .get(&format!("/products/{y}/recommendations"))
        .await;
    assert_eq!(ids(&r.body["products"]), vec![x.clone()]);
    let r = anonymous.get("/products/nope/recommendations").await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn signed_in_views_and_favorites_make_a_product_trending() {
    let seller = Client::as_user(&unique("seller"));
    let shop_id = shop(&seller).await;
    let cat = category();
    let hot = product(&seller, &shop_id, &cat, 4200, 2).await;
    let _cold = product(&seller, &shop_id, &cat, 4200, 2).await;
    for i in 0..3 {
        let viewer = Client::as_user(&unique(&format!("viewer{i}")));
        assert_eq!(viewer.get(&format!("/products/{hot}")).await.status, 200);
        assert_eq!(
            viewer
                .send("PUT", &format!("/favorites/products/{hot}"), None)
                .await
                .status,
            204
        );
    }
    // The test stack fires the trending job every few seconds.
    let anonymous = Client::anonymous();
    let seen = eventually(Duration::from_secs(30), || {
        let (anonymous, cat, hot) = (&anonymous, &cat, &hot);
        async move {
            // The list is filled from the engine while the category is quiet (its other
            // listing among them); `trending` counts the leading products trending by activity.
            let r = anonymous.get(&format!("/trending?category={cat}")).await;
            r.body["trending"] == 1 && ids(&r.body["products"]).first() == Some(hot)
        }
    })
    .await;
    assert!(
        seen.is_some(),
        "the product did not become trending in its category"
    );
    let r = anonymous.get("/trending?category=Not%20a%20slug").await;
    assert_eq!(r.status, 422);
}
