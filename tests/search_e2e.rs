//! End-to-end: search over HTTP through the local stack, and its freshness — catalog writes and
//! checkout sales travel table stream → relay → product events queue → indexer → the embedded
//! index, and must show in GET /search within 5 s (the contract).

use bazaar_e2e::{Client, eventually as within, unique};
use serde_json::{Value, json};
use std::time::Duration;

/// The contract's freshness budget.
const FRESH: Duration = Duration::from_secs(5);

/// A made-up word no seeded listing contains (letters only, so it is one token).
fn word() -> String {
    unique("x")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| {
            if c.is_ascii_digit() {
                (b'g' + (c as u8 - b'0')) as char
            } else {
                c
            }
        })
        .collect()
}

async fn ids_for(client: &Client, q: &str) -> Vec<String> {
    let r = client.get(&format!("/search?q={q}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["degraded"], false, "{}", r.body);
    r.body["products"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter_map(|p| p["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn create(seller: &Client, shop: &str, title: &str) -> String {
    let r = seller
        .post(
            &format!("/shops/{shop}/products"),
            json!({"title": title, "description": "Wheel thrown, glazed.", "price_cents": 3_200,
                   "category": "home-decor", "quantity": 1, "tags": ["teapot"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn created_edited_sold_and_deleted_products_show_in_search_within_5_s() {
    let seller = Client::as_user(&unique("potter"));
    let r = seller
        .post("/shops", json!({"name": unique("Kiln Works")}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let shop = r.body["id"].as_str().expect("id").to_owned();
    let anyone = Client::anonymous();

    // A canary first: the stack may still be indexing the seeded catalog's events, which queue
    // ahead of ours. Once the canary shows, the backlog is behind us.
    let canary_word = word();
    let canary = create(&seller, &shop, &format!("Canary {canary_word} teapot")).await;
    within(Duration::from_secs(120), || async {
        ids_for(&anyone, &canary_word).await.contains(&canary)
    })
    .await
    .expect("the canary never showed in search");

    // Created.
    let first = word();
    let id = create(&seller, &shop, &format!("Marbled {first} teapot")).await;
    let created = within(FRESH, || async {
        ids_for(&anyone, &first).await.contains(&id)
    })
    .await
    .expect("a new product did not show within 5 s");

    // Edited: found by its new title, no longer by the old one.
    let second = word();
    let r = seller
        .patch(
            &format!("/products/{id}"),
            json!({"title": format!("Speckled {second} teapot")}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let edited = within(FRESH, || async {
        ids_for(&anyone, &second).await.contains(&id)
            && !ids_for(&anyone, &first).await.contains(&id)
    })
    .await
    .expect("an edit did not show within 5 s");

    // Sold through checkout: quantity 0 disappears.
    let buyer = Client::as_user(&unique("buyer"));
    let r = buyer
        .post("/cart/items", json!({"product_id": id, "quantity": 1}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let key = unique("search-sale");
    let r = buyer
        .post_with(
            "/checkout",
            &[("idempotency-key", &key)],
            json!({
                "shipping_address": {"name": "Grace Hopper", "line1": "1 Harbor Way", "city": "Arlington",
                                     "region": "VA", "postal_code": "22201", "country": "US"},
                "payment_method": "pm_card_visa"
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let sold = within(FRESH, || async {
        !ids_for(&anyone, &second).await.contains(&id)
    })
    .await
    .expect("a sold product was still found after 5 s");

    // Deleted.
    let third = word();
    let gone = create(&seller, &shop, &format!("Ribbed {third} teapot")).await;
    within(FRESH, || async {
        ids_for(&anyone, &third).await.contains(&gone)
    })
    .await
    .expect("the product to delete never showed");
    let r = seller.delete(&format!("/products/{gone}")).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let deleted = within(FRESH, || async {
        !ids_for(&anyone, &third).await.contains(&gone)
    })
    .await
    .expect("a deleted product was still found after 5 s");

    eprintln!(
        "search freshness: created {:.2}s, edited {:.2}s, sold {:.2}s, deleted {:.2}s",
        created.as_secs_f64(),
        edited.as_secs_f64(),
        sold.as_secs_f64(),
        deleted.as_secs_f64()
    );
}

#[tokio::test]
async fn the_seeded_catalog_is_searchable_with_synonyms_typos_filters_and_facets() {
    let anyone = Client::anonymous();
    // Seeded listings say "billfold", "cardholder" and the like; a search for wallet finds them.
    let r = anyone.get("/search?q=wallet&page_size=50").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["total"].as_u64().unwrap_or(0) > 0, "{}", r.body);
    let r = anyone
        .get("/search?q=neckalce&category=jewelry&sort=price_asc&page_size=10")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let products = r.body["products"].as_array().cloned().unwrap_or_default();
    assert!(
        !products.is_empty(),
        "a misspelling finds necklaces: {}",
        r.body
    );
    assert!(products.iter().all(|p| p["category"] == "jewelry"));
    let prices: Vec<i64> = products
        .iter()
        .filter_map(|p| p["price_cents"].as_i64())
        .collect();
    assert!(prices.windows(2).all(|w| w[0] <= w[1]), "{prices:?}");
    let facets: &Value = &r.body["facets"];
    let counted: u64 = facets["categories"]
        .as_array()
        .map(|c| c.iter().filter_map(|b| b["count"].as_u64()).sum())
        .unwrap_or(0);
    assert_eq!(Some(counted), r.body["total"].as_u64());
    // Bad parameters are the client's mistake.
    assert_eq!(anyone.get("/search?page_size=0").await.status, 422);
    assert_eq!(anyone.get("/search?vintage=maybe").await.status, 400);
}
