//! End-to-end: checkout, orders and seller notifications over HTTP through the local stack
//! (`cargo lambda watch` + moto + the local event-source pump: table stream → relay → SQS →
//! notifier).

use aws_sdk_dynamodb::types::AttributeValue;
use bazaar_e2e::{Client, checkout_body, eventually, stack_resource, unique};
use futures::future::join_all;
use serde_json::json;
use std::time::{Duration, Instant};

async fn shop_with(seller: &Client, name: &str, base: i64, extra: i64) -> String {
    let r = seller
        .post(
            "/shops",
            json!({"name": name, "shipping": {"base_cents": base, "per_extra_item_cents": extra}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().expect("id").to_owned()
}

async fn product(seller: &Client, shop: &str, price: i64, quantity: i64) -> String {
    let r = seller
        .post(
            &format!("/shops/{shop}/products"),
            json!({"title": "Hand-bound notebook", "price_cents": price, "category": "paper-goods", "quantity": quantity}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().expect("id").to_owned()
}

async fn notified(owner: &Client, order_id: &str) -> bool {
    let r = owner.get("/notifications").await;
    r.body["notifications"].as_array().is_some_and(|n| {
        n.iter()
            .any(|n| n["order_id"] == order_id && n["kind"] == "order.created")
    })
}

/// A cart from two shops → two orders with the contract's totals, stock decremented, cart emptied,
/// and both sellers notified within 5 s.
#[tokio::test]
async fn two_shops_two_orders_two_sellers_notified() {
    let (kiln_owner, loom_owner) = (
        Client::as_user(&unique("kiln")),
        Client::as_user(&unique("loom")),
    );
    let kiln = shop_with(&kiln_owner, &unique("Kiln"), 500, 150).await;
    let loom = shop_with(&loom_owner, &unique("Loom"), 300, 0).await;
    let bowl = product(&kiln_owner, &kiln, 4200, 3).await;
    let scarf = product(&loom_owner, &loom, 6500, 1).await;
    let buyer = Client::as_user(&unique("buyer"));
    assert_eq!(
        buyer
            .post("/cart/items", json!({"product_id": bowl, "quantity": 2}))
            .await
            .status,
        200
    );
    assert_eq!(
        buyer
            .post("/cart/items", json!({"product_id": scarf}))
            .await
            .status,
        200
    );

    let key = unique("checkout");
    let r = buyer
        .post_with(
            "/checkout",
            &[("idempotency-key", &key)],
            checkout_body("pm_card_visa"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let orders = r.body["orders"].as_array().expect("orders").clone();
    assert_eq!(orders.len(), 2);
    let k = orders
        .iter()
        .find(|o| o["shop_id"] == kiln.as_str())
        .expect("kiln");
    assert_eq!(
        (
            k["subtotal_cents"].as_i64(),
            k["shipping_cents"].as_i64(),
            k["total_cents"].as_i64()
        ),
        (Some(8400), Some(650), Some(9050))
    );
    let l = orders
        .iter()
        .find(|o| o["shop_id"] == loom.as_str())
        .expect("loom");
    assert_eq!(l["total_cents"], 6800);
    assert_eq!(r.body["total_cents"], 9050 + 6800);
    assert_eq!(
        Client::anonymous()
            .get(&format!("/products/{bowl}"))
            .await
            .body["quantity"],
        1
    );
    assert_eq!(
        Client::anonymous()
            .get(&format!("/products/{scarf}"))
            .await
            .body["quantity"],
        0
    );
    assert_eq!(buyer.get("/cart").await.body["item_count"], 0);

    let kiln_order = k["order_id"].as_str().expect("id").to_owned();
    let loom_order = l["order_id"].as_str().expect("id").to_owned();
    let took = eventually(Duration::from_secs(5), || async {
        notified(&kiln_owner, &kiln_order).await && notified(&loom_owner, &loom_order).await
    })
    .await;
    assert!(took.is_some(), "both sellers notified within 5 s");
    println!(
        "sellers notified {:?} after checkout",
        took.unwrap_or_default()
    );
    // Sellers see their own orders; the buyer sees both.
    assert_eq!(
        kiln_owner
            .get(&format!("/orders/{kiln_order}"))
            .await
            .status,
        200
    );
    assert_eq!(
        kiln_owner
            .get(&format!("/orders/{loom_order}"))
            .await
            .status,
        404
    );
    assert_eq!(
        buyer.get("/orders").await.body["orders"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}

/// 20 concurrent POSTs with one key over HTTP: one set of orders, one capture; the others replay
/// the same body or get 409 `checkout_in_progress`. The same key with a new body: 422.
#[tokio::test]
async fn twenty_concurrent_posts_one_checkout() {
    let seller = Client::as_user(&unique("seller"));
    let shop = shop_with(&seller, &unique("Once"), 400, 100).await;
    let item = product(&seller, &shop, 2500, 5).await;
    let buyer = Client::as_user(&unique("buyer"));
    assert_eq!(
        buyer
            .post("/cart/items", json!({"product_id": item, "quantity": 2}))
            .await
            .status,
        200
    );
    let key = unique("same");
    let headers = [("idempotency-key", key.as_str())];
    let replies = join_all(
        (0..20).map(|_| buyer.post_with("/checkout", &headers, checkout_body("pm_card_visa"))),
    )
    .await;
    let created: Vec<_> = replies.iter().filter(|r| r.status == 201).collect();
    let fresh: Vec<_> = created
        .iter()
        .filter(|r| r.headers.get("idempotent-replayed").is_none())
        .collect();
    assert_eq!(
        fresh.len(),
        1,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for r in &created {
        assert_eq!(r.body, fresh[0].body);
    }
    for r in replies.iter().filter(|r| r.status != 201) {
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (409, Some("checkout_in_progress"))
        );
        assert!(r.headers.get("retry-after").is_some());
    }
    assert_eq!(
        buyer.get("/orders").await.body["orders"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        Client::anonymous()
            .get(&format!("/products/{item}"))
            .await
            .body["quantity"],
        3
    );
    let mut other = checkout_body("pm_card_visa");
    other["payment_method"] = json!("pm_card_mastercard");
    let r = buyer
        .post_with("/checkout", &[("idempotency-key", &key)], other)
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (422, Some("idempotency_key_reused"))
    );
}

async fn payment(checkout_id: &str) -> (String, i64) {
    let dynamo = bazaar_infra::testing::dynamo().await;
    let item = dynamo
        .get_item()
        .table_name(stack_resource("Table"))
        .key("pk", AttributeValue::S(format!("PAYMENT#{checkout_id}")))
        .key("sk", AttributeValue::S("PAYMENT".into()))
        .consistent_read(true)
        .send()
        .await
        .expect("get")
        .item
        .expect("a payment");
    (
        item["status"].as_s().expect("status").clone(),
        item.get("captured_cents")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0),
    )
}

/// Fault injection through the real stack: the checkout function process is killed right after its
/// transaction committed (before the idempotent response was stored). Retrying the same request
/// returns the same orders; settlement captures once.
#[tokio::test]
async fn killed_after_commit_then_retried() {
    let seller = Client::as_user(&unique("seller"));
    let shop = shop_with(&seller, &unique("Crash"), 0, 0).await;
    let item = product(&seller, &shop, 3100, 1).await;
    let buyer = Client::as_user(&unique("buyer"));
    assert_eq!(
        buyer
            .post("/cart/items", json!({"product_id": item}))
            .await
            .status,
        200
    );
    let key = unique("fault-crash-after-commit");
    let first = buyer
        .send_unchecked(
            "POST",
            "/checkout",
            &[("idempotency-key", &key)],
            Some(checkout_body("pm_card_visa")),
        )
        .await;
    assert!(
        first.as_ref().map_or(true, |(s, _)| *s >= 500),
        "the attempt died: {first:?}"
    );
    // Retry like a client would, until the dead attempt's claim lapses.
    let mut answer = None;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(90) {
        let r = buyer
            .post_with(
                "/checkout",
                &[("idempotency-key", &key)],
                checkout_body("pm_card_visa"),
            )
            .await;
        if r.status == 201 {
            answer = Some(r);
            break;
        }
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (409, Some("checkout_in_progress"))
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let answer = answer.expect("the retry succeeded once the claim lapsed");
    let checkout_id = answer.body["checkout_id"].as_str().expect("id").to_owned();
    assert_eq!(
        buyer.get("/orders").await.body["orders"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "one set of orders"
    );
    assert!(
        eventually(Duration::from_secs(20), || async {
            payment(&checkout_id).await == ("captured".into(), 3100)
        })
        .await
        .is_some(),
        "settlement captured: {:?}",
        payment(&checkout_id).await
    );
    let again = buyer
        .post_with(
            "/checkout",
            &[("idempotency-key", &key)],
            checkout_body("pm_card_visa"),
        )
        .await;
    assert_eq!(
        (again.status, again.body["checkout_id"].as_str()),
        (201, Some(checkout_id.as_str()))
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        payment(&checkout_id).await,
        ("captured".into(), 3100),
        "no second capture"
    );
}

/// A poison message lands in the notifier's DLQ after the queue's maxReceiveCount; the rest of
/// its batch succeeds.
#[tokio::test]
async fn poison_messages_go_to_the_dlq() {
    let sqs = aws_sdk_sqs::Client::new(&bazaar_infra::testing::emulator_config().await);
    let endpoint = bazaar_infra::testing::endpoint();
    let queue = bazaar_infra::local::queue_url(&endpoint, &stack_resource("OrderEventsQueue"));
    let dlq = bazaar_infra::local::queue_url(&endpoint, &stack_resource("OrderEventsDLQ"));
    let owner = unique("owner");
    let order_id = unique("order");
    let good = json!({
        "type": "order.created", "event_id": format!("{order_id}:order.created"), "order_id": order_id,
        "checkout_id": "c", "buyer_id": "b", "shop_id": "s", "shop_name": "Poison Test Shop", "owner_id": owner,
        "item_count": 1, "total_cents": 1000, "created_at": "2026-11-21T00:00:00.000Z", "version": 1
    });
    let poison = format!("poison-{}", unique("msg"));
    let entries = vec![
        aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
            .id("poison")
            .message_body(&poison)
            .build()
            .expect("entry"),
        aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
            .id("good")
            .message_body(good.to_string())
            .build()
            .expect("entry"),
    ];
    sqs.send_message_batch()
        .queue_url(&queue)
        .set_entries(Some(entries))
        .send()
        .await
        .expect("sent");
    let seller = Client::as_user(&owner);
    assert!(
        eventually(Duration::from_secs(10), || notified(&seller, &order_id))
            .await
            .is_some(),
        "the good message was processed"
    );
    let in_dlq = eventually(Duration::from_secs(30), || {
        let sqs = sqs.clone();
        let dlq = dlq.clone();
        let poison = poison.clone();
        async move {
            let out = sqs
                .receive_message()
                .queue_url(&dlq)
                .max_number_of_messages(10)
                .visibility_timeout(0)
                .send()
                .await;
            out.ok()
                .and_then(|o| o.messages)
                .unwrap_or_default()
                .iter()
                .any(|m| m.body() == Some(poison.as_str()))
        }
    })
    .await;
    assert!(in_dlq.is_some(), "the poison message reached the DLQ");
}

/// Finding: a seller could buy their own listing, ship it and review it five stars. Now: adding
/// it is `403 own_listing`; a line of it already in the cart (from before the rule, written here
/// straight to the table) makes checkout `403 own_listing` with nothing authorized; and an order
/// of their own shop (again from before, rewritten here) cannot be reviewed by them.
#[tokio::test]
async fn abuse_a_seller_cannot_buy_or_review_their_own_listing() {
    let maker_id = unique("maker");
    let maker = Client::as_user(&maker_id);
    let shop = shop_with(&maker, &unique("Own Goods"), 0, 0).await;
    let own = product(&maker, &shop, 2500, 2).await;
    let r = maker.post("/cart/items", json!({"product_id": own})).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (403, Some("own_listing")),
        "{}",
        r.body
    );
    let dynamo = bazaar_infra::testing::dynamo().await;
    let now = chrono::Utc::now().to_rfc3339();
    let entry: std::collections::HashMap<String, AttributeValue> = [
        ("shop_id", AttributeValue::S(shop.clone())),
        ("quantity", AttributeValue::N("1".into())),
        ("title", AttributeValue::S("Hand-bound notebook".into())),
        ("price_cents", AttributeValue::N("2500".into())),
        ("added_at", AttributeValue::S(now.clone())),
        ("updated_at", AttributeValue::S(now)),
        ("hold_since", AttributeValue::N("0".into())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let cart = [
        ("pk", AttributeValue::S(format!("CART#{maker_id}"))),
        ("sk", AttributeValue::S("CART".into())),
        ("entity", AttributeValue::S("cart".into())),
        ("version", AttributeValue::N("1".into())),
        (
            "lines",
            AttributeValue::M([(own.clone(), AttributeValue::M(entry))].into()),
        ),
    ];
    dynamo
        .put_item()
        .table_name(stack_resource("Table"))
        .set_item(Some(
            cart.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        ))
        .send()
        .await
        .expect("an old cart line");
    let r = maker
        .post_with(
            "/checkout",
            &[("idempotency-key", &unique("own"))],
            checkout_body("pm_card_visa"),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (403, Some("own_listing")),
        "{}",
        r.body
    );
    assert_eq!(r.body["product_ids"], json!([own]));
    assert_eq!(
        Client::anonymous()
            .get(&format!("/products/{own}"))
            .await
            .body["quantity"],
        2
    );

    // An order of the maker's shop, rewritten as if the maker had bought it, then shipped.
    let buyer = Client::as_user(&unique("buyer"));
    let r = buyer.post("/cart/items", json!({"product_id": own})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = buyer
        .post_with(
            "/checkout",
            &[("idempotency-key", &unique("k"))],
            checkout_body("pm_card_visa"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let order = r.body["orders"][0]["order_id"]
        .as_str()
        .expect("order")
        .to_owned();
    dynamo
        .update_item()
        .table_name(stack_resource("Table"))
        .key("pk", AttributeValue::S(format!("ORDER#{order}")))
        .key("sk", AttributeValue::S("ORDER".into()))
        .update_expression("SET buyer_id = :maker")
        .expression_attribute_values(":maker", AttributeValue::S(maker_id.clone()))
        .send()
        .await
        .expect("rewritten");
    let r = maker
        .post(
            &format!("/orders/{order}/shipment"),
            json!({"carrier": "USPS", "tracking_number": "9400 1"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = maker
        .post(
            &format!("/orders/{order}/review"),
            json!({"rating": 5, "comment": "Superb seller"}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (403, Some("own_listing")),
        "{}",
        r.body
    );
    let s = Client::anonymous().get(&format!("/shops/{shop}")).await;
    assert_eq!(s.body["review_count"], 0);
}

/// A 40-line cart (one unit from each of 40 listings of 10 shops, the most lines one checkout is
/// promised) checks out over HTTP in one order set: 10 orders of 4 lines, every unit sold, the
/// cart emptied; a replay answers the same orders.
#[tokio::test]
async fn forty_lines_from_ten_shops_check_out_as_ten_orders() {
    let mut listings = Vec::new();
    let mut shops = Vec::new();
    for s in 0..10 {
        let seller = Client::as_user(&unique(&format!("seller{s}")));
        let shop = shop_with(&seller, &unique(&format!("Forty {s}")), 300, 50).await;
        for i in 0..4 {
            listings.push(product(&seller, &shop, 1000 + 100 * s + i, 1).await);
        }
        shops.push(shop);
    }
    let buyer = Client::as_user(&unique("buyer"));
    for p in &listings {
        let r = buyer.post("/cart/items", json!({"product_id": p})).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let cart = buyer.get("/cart").await;
    assert_eq!(
        (
            cart.body["item_count"].as_i64(),
            cart.body["shops"].as_array().map(Vec::len)
        ),
        (Some(40), Some(10))
    );
    let key = unique("forty");
    let r = buyer
        .post_with(
            "/checkout",
            &[("idempotency-key", &key)],
            checkout_body("pm_card_visa"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let orders = r.body["orders"].as_array().expect("orders").clone();
    assert_eq!(orders.len(), 10, "one order per shop");
    for order in &orders {
        assert!(shops.iter().any(|s| order["shop_id"] == s.as_str()));
        assert_eq!(order["items"].as_array().map(Vec::len), Some(4));
        assert_eq!(order["checkout_id"], r.body["checkout_id"]);
    }
    let total: i64 = orders
        .iter()
        .filter_map(|o| o["total_cents"].as_i64())
        .sum();
    assert_eq!(r.body["total_cents"].as_i64(), Some(total));
    for p in &listings {
        let got = buyer.get(&format!("/products/{p}")).await;
        assert_eq!(
            (
                got.body["quantity"].as_i64(),
                got.body["available"].as_i64()
            ),
            (Some(0), Some(0)),
            "{p} sold"
        );
    }
    let cart = buyer.get("/cart").await;
    assert_eq!(cart.body["item_count"], 0, "{}", cart.body);
    let again = buyer
        .post_with(
            "/checkout",
            &[("idempotency-key", &key)],
            checkout_body("pm_card_visa"),
        )
        .await;
    assert_eq!((again.status, &again.body), (201, &r.body));
}
