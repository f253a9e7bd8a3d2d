//! End-to-end: carts and holds over HTTP through the local stack. The races are real concurrent
//! requests through `cargo lambda watch` (several function instances) to the emulator.

use bazaar_e2e::{Client, short_hold_api_url, unique};
use futures::future::join_all;
use serde_json::{Value, json};

async fn seller_with_shop() -> (Client, String) {
    let seller = Client::as_user(&unique("seller"));
    let r = seller
        .post("/shops", json!({"name": unique("Race Shop"), "shipping": {"base_cents": 400, "per_extra_item_cents": 100}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let shop = r.body["id"].as_str().expect("id").to_owned();
    (seller, shop)
}

async fn product(seller: &Client, shop: &str, quantity: i64) -> String {
    let r = seller
        .post(
            &format!("/shops/{shop}/products"),
            json!({"title": "Hand-thrown porcelain bowl", "price_cents": 3800, "category": "ceramics-and-pottery", "quantity": quantity}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().expect("id").to_owned()
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

/// 50 buyers add the same unique item at once, 20 times over: each time exactly one 200 and 49
/// `409 unavailable` with `held_until`.
#[tokio::test]
async fn fifty_buyers_one_unique_item_twenty_times() {
    let (seller, shop) = seller_with_shop().await;
    for run in 0..20 {
        let item = product(&seller, &shop, 1).await;
        let buyers: Vec<Client> = (0..50).map(|_| Client::as_user(&unique("buyer"))).collect();
        let replies = join_all(
            buyers
                .iter()
                .map(|b| b.post("/cart/items", json!({"product_id": item}))),
        )
        .await;
        let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "run {run}: {statuses:?}"
        );
        for r in replies.iter().filter(|r| r.status != 200) {
            assert_eq!(
                (r.status, r.body["code"].as_str()),
                (409, Some("unavailable")),
                "run {run}"
            );
            assert!(
                r.body["held_until"].as_str().is_some(),
                "run {run}: {}",
                r.body
            );
            assert_eq!(r.body["available"], 0);
        }
        let p = Client::anonymous().get(&format!("/products/{item}")).await;
        assert_eq!(p.body["available"], 0, "run {run}");
    }
}

/// 30 buyers race for an item with 3 in stock, 20 times over: exactly 3 units held each time.
#[tokio::test]
async fn thirty_buyers_three_units_twenty_times() {
    let (seller, shop) = seller_with_shop().await;
    for run in 0..20 {
        let item = product(&seller, &shop, 3).await;
        let buyers: Vec<Client> = (0..30).map(|_| Client::as_user(&unique("buyer"))).collect();
        let replies = join_all(
            buyers
                .iter()
                .map(|b| b.post("/cart/items", json!({"product_id": item, "quantity": 1}))),
        )
        .await;
        let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            3,
            "run {run}: {statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| *s == 200 || *s == 409),
            "run {run}: {statuses:?}"
        );
        // The three winners' carts hold one unit each; the product shows none left.
        let mut held = 0;
        for (buyer, reply) in buyers.iter().zip(&replies) {
            if reply.status == 200 {
                let cart = buyer.get("/cart").await.body;
                let l = line(&cart, &item);
                assert_eq!(l["held"], true);
                held += l["quantity"].as_i64().unwrap_or(0);
            }
        }
        assert_eq!(held, 3, "run {run}");
        let p = Client::anonymous().get(&format!("/products/{item}")).await;
        assert_eq!(
            (p.body["quantity"].as_i64(), p.body["available"].as_i64()),
            (Some(3), Some(0))
        );
    }
}

/// With `HOLD_SECONDS=2`: 2 s after the first buyer's hold lapsed, a second buyer gets the item,
/// with no sweeper running, and the first buyer's cart still shows the line, unheld.
#[tokio::test]
async fn holds_lapse_without_a_sweeper() {
    let base = short_hold_api_url();
    let (seller, shop) = seller_with_shop().await;
    let item = product(&seller, &shop, 1).await;
    let first = Client::as_user(&unique("first")).at(base.clone());
    let second = Client::as_user(&unique("second")).at(base);
    let r = first.post("/cart/items", json!({"product_id": item})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let expires = line(&r.body, &item)["hold_expires_at"]
        .as_str()
        .expect("held")
        .to_owned();
    let r = second
        .post("/cart/items", json!({"product_id": item}))
        .await;
    assert_eq!(r.status, 409);
    let held_until = r.body["held_until"].as_str().expect("held_until");
    assert_eq!(
        held_until[..19],
        expires[..19],
        "the first buyer's hold expiry"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let r = second
        .post("/cart/items", json!({"product_id": item}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let cart = first.get("/cart").await.body;
    let l = line(&cart, &item);
    assert_eq!(
        (l["quantity"].as_i64(), l["held"].as_bool()),
        (Some(1), Some(false)),
        "{cart}"
    );
    assert!(l["hold_expires_at"].is_null());
}

#[tokio::test]
async fn cart_contract_over_http() {
    let (seller, shop) = seller_with_shop().await;
    let item = product(&seller, &shop, 2).await;
    let buyer = Client::as_user(&unique("buyer"));
    let other = Client::as_user(&unique("other"));
    assert_eq!(Client::anonymous().get("/cart").await.status, 401);
    assert_eq!(
        Client::anonymous()
            .post("/cart/items", json!({"product_id": item}))
            .await
            .status,
        401
    );
    let r = buyer
        .post(
            "/cart/items",
            json!({"product_id": "00000000-0000-7000-8000-000000000000"}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (404, Some("product_not_found"))
    );
    for q in [json!(0), json!(-3)] {
        assert_eq!(
            buyer
                .post("/cart/items", json!({"product_id": item, "quantity": q}))
                .await
                .status,
            422
        );
    }
    assert_eq!(
        buyer
            .post("/cart/items", json!({"product_id": item, "quantity": 2.5}))
            .await
            .status,
        400
    );
    assert_eq!(
        buyer
            .send("POST", "/cart/items", Some(b"{oops".to_vec()))
            .await
            .status,
        400
    );
    let r = buyer
        .post("/cart/items", json!({"product_id": item, "quantity": 3}))
        .await;
    assert_eq!((r.status, r.body["available"].as_i64()), (409, Some(2)));

    let r = buyer
        .post("/cart/items", json!({"product_id": item, "quantity": 2}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["shops"][0]["shipping_cents"], 500,
        "400 + 100 × (2 − 1)"
    );
    assert_eq!(r.body["total_cents"], 2 * 3800 + 500);
    // A buyer never sees another's cart, and the other buyer cannot take held units.
    assert_eq!(other.get("/cart").await.body["item_count"], 0);
    assert_eq!(
        other
            .post("/cart/items", json!({"product_id": item}))
            .await
            .status,
        409
    );
    let r = other
        .patch(&format!("/cart/items/{item}"), json!({"quantity": 1}))
        .await;
    assert_eq!(r.status, 404, "not in the other buyer's cart");
    let r = buyer
        .patch(&format!("/cart/items/{item}"), json!({"quantity": 1}))
        .await;
    assert_eq!(line(&r.body, &item)["quantity"], 1);
    assert_eq!(
        other
            .post("/cart/items", json!({"product_id": item}))
            .await
            .status,
        200
    );
    let r = buyer.delete(&format!("/cart/items/{item}")).await;
    assert_eq!((r.status, r.body["item_count"].as_i64()), (200, Some(0)));
}
