//! End-to-end abuse tests of the hardening issue, over HTTP against the local stack (`make test`
//! starts it as `make dev` does): oversized bodies, authorization before validation, per-user
//! write quotas, and cancelled orders leaving "customers also bought".

use bazaar_e2e::{Client, checkout_body, eventually, unique};
use serde_json::json;
use std::time::Duration;

async fn shop(seller: &Client) -> String {
    let r = seller
        .post("/shops", json!({"name": unique("Hardening Shop")}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().expect("id").to_owned()
}

async fn product(seller: &Client, shop: &str, quantity: i64) -> String {
    let r = seller
        .post(
            &format!("/shops/{shop}/products"),
            json!({"title": "Salt-glazed jug", "price_cents": 2400, "category": "home-decor",
                   "quantity": quantity}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().expect("id").to_owned()
}

/// The finding: a 600 KB product body with 200,000 blank tags was answered with an 11 MB 422
/// (over Lambda's 6 MB response limit in AWS), to anyone. Now: `413 payload_too_large`, small,
/// for the owner and a stranger alike, before anything is parsed.
#[tokio::test]
async fn oversized_bodies_are_413_and_small() {
    let seller = Client::as_user(&unique("seller"));
    let shop_id = shop(&seller).await;
    let tags = vec![""; 200_000];
    let body = serde_json::to_vec(
        &json!({"title": "x", "price_cents": 100, "category": "art", "tags": tags}),
    )
    .expect("json");
    assert!(body.len() > 600_000, "{}", body.len());
    for caller in [seller.clone(), Client::as_user(&unique("stranger"))] {
        let r = caller
            .send(
                "POST",
                &format!("/shops/{shop_id}/products"),
                Some(body.clone()),
            )
            .await;
        assert_eq!(r.status, 413, "{}", r.body);
        assert_eq!(r.body["code"], "payload_too_large");
        assert_eq!(r.body["max_bytes"], 131_072);
        assert!(r.body.to_string().len() < 2_000);
    }
}

/// The finding: validation ran before the ownership check, so any signed-in user could make a
/// shop's write answer with its body's errors. Now a stranger's invalid write is the 403 (or
/// 404) the write itself would be; only the owner sees the 422. Error lists stay capped.
#[tokio::test]
async fn strangers_learn_403_not_the_bodys_errors() {
    let seller = Client::as_user(&unique("seller"));
    let stranger = Client::as_user(&unique("stranger"));
    let shop_id = shop(&seller).await;
    let product_id = product(&seller, &shop_id, 1).await;
    let invalid = json!({"title": "", "price_cents": -5, "category": "Not A Slug",
                         "tags": vec![" "; 500]});
    let create = format!("/shops/{shop_id}/products");
    let patch = format!("/products/{product_id}");
    let r = stranger.post(&create, invalid.clone()).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (403, Some("forbidden"))
    );
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    let r = stranger.patch(&patch, invalid.clone()).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = stranger
        .patch(&format!("/shops/{shop_id}"), json!({"name": ""}))
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = stranger
        .post("/shops/no-such-shop/products", invalid.clone())
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    // The owner gets the validation errors, at most 20 of them plus a count of the rest.
    let r = seller.post(&create, invalid).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (422, Some("validation_failed"))
    );
    let errors = r.body["errors"].as_array().expect("errors");
    assert!(errors.len() <= 21, "{}", errors.len());
}

/// Per-user write quotas: the 21st checkout attempt within a minute (each a fresh
/// `Idempotency-Key`, here on an empty cart) is `429 rate_limited` with `Retry-After`; a 429 is
/// not stored, so retrying its key is not a replay; other users are not affected.
#[tokio::test]
async fn checkout_attempts_past_the_quota_are_429_with_retry_after() {
    let buyer = Client::as_user(&unique("buyer"));
    let mut refused = None;
    // Windows are fixed minutes: if the loop crosses a minute boundary the count starts again,
    // so the first 429 comes at the 21st attempt of a window — never earlier.
    for i in 0..45 {
        let key = unique(&format!("quota-{i}"));
        let r = buyer
            .post_with(
                "/checkout",
                &[("idempotency-key", &key)],
                checkout_body("pm_card_visa"),
            )
            .await;
        if r.status == 429 {
            refused = Some((i, key, r));
            break;
        }
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (422, Some("cart_empty"))
        );
    }
    let (i, key, r) = refused.expect("a 429 within 45 attempts");
    assert!(
        i >= 20,
        "20 checkouts per minute are allowed, refused at attempt {i}"
    );
    assert_eq!(r.body["code"], "rate_limited");
    let retry: u64 = r.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(r.body["retry_after"], retry);
    let again = buyer
        .post_with(
            "/checkout",
            &[("idempotency-key", &key)],
            checkout_body("pm_card_visa"),
        )
        .await;
    assert_eq!(again.status, 429);
    assert!(again.headers.get("idempotent-replayed").is_none());
    let other = Client::as_user(&unique("buyer"));
    let r = other
        .post_with(
            "/checkout",
            &[("idempotency-key", &unique("other"))],
            checkout_body("pm_card_visa"),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
}

/// The finding: a cancelled order kept counting in "customers also bought". Now the relay
/// publishes `order.cancelled` and the recommender takes the co-purchases back.
#[tokio::test]
async fn cancelled_orders_leave_customers_also_bought() {
    let seller = Client::as_user(&unique("seller"));
    let shop_id = shop(&seller).await;
    let x = product(&seller, &shop_id, 5).await;
    let y = product(&seller, &shop_id, 5).await;
    let buyer = Client::as_user(&unique("buyer"));
    for p in [&x, &y] {
        let r = buyer.post("/cart/items", json!({"product_id": p})).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = buyer
        .post_with(
            "/checkout",
            &[("idempotency-key", &unique("cancel"))],
            checkout_body("pm_card_visa"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let order_id = r.body["orders"][0]["order_id"]
        .as_str()
        .expect("order id")
        .to_owned();
    let anonymous = Client::anonymous();
    let lists = |p: String, want: bool| {
        let (anonymous, y) = (anonymous.clone(), y.clone());
        async move {
            let r = anonymous
                .get(&format!("/products/{p}/recommendations"))
                .await;
            let listed = r.body["products"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|q| q["id"] == y.as_str()));
            r.status == 200 && listed == want
        }
    };
    assert!(
        eventually(Duration::from_secs(20), || lists(x.clone(), true))
            .await
            .is_some(),
        "X's recommendations never listed Y"
    );
    let r = seller
        .post(&format!("/orders/{order_id}/cancel"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        eventually(Duration::from_secs(20), || lists(x.clone(), false))
            .await
            .is_some(),
        "the cancelled order still counts in X's recommendations"
    );
}
