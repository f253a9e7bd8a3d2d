//! Integration tests of checkout against DynamoDB in the emulator: the real catalog, add-to-cart
//! and checkout handlers, the built-in test payment gateway, the payment store and settlement (run
//! here where the stack's settlement function would run it from the record's event), each test on
//! its own table.

use aws_sdk_dynamodb::types::AttributeValue;
use bazaar_aws::calls::counting_aws_calls;
use bazaar_aws::cart::DynamoCart;
use bazaar_aws::catalog::DynamoCatalog;
use bazaar_aws::checkout::DynamoCheckout;
use bazaar_aws::idempotency::DynamoIdempotency;
use bazaar_aws::orders::DynamoOrders;
use bazaar_aws::payment_store::DynamoPayments;
use bazaar_aws::payments::TestGateway;
use bazaar_aws::personalize::DynamoDiscovery;
use bazaar_aws::quota::DynamoQuota;
use bazaar_domain::checkout::{CheckoutHooks, ShippingAddress};
use bazaar_domain::ports::{IdempotencyStore, PaymentGateway, PaymentStore};
use bazaar_domain::services::cart::CartService;
use bazaar_domain::services::checkout::CheckoutService;
use bazaar_domain::services::payments::{PaymentService, Settled};
use bazaar_lambda::auth::mint_local_token;
use bazaar_lambda::env::Config;
use bazaar_lambda::http::HttpApp;
use bazaar_lambda::idempotent::payload_hash;
use checkout::Faults;
use futures::FutureExt;
use lambda_http::Body;
use lambda_http::http::Request;
use serde_json::{Value, json};

const SECRET: &str = "checkout-test-secret";

struct Stack {
    client: aws_sdk_dynamodb::Client,
    table: String,
    catalog: catalog::App<DynamoCatalog>,
    add: add_to_cart::App<DynamoCart>,
    checkout: checkout::App<TestGateway, DynamoIdempotency>,
    orders: orders::App,
    payments: PaymentService<DynamoPayments, TestGateway, TestGateway>,
}

#[derive(Debug)]
struct Reply {
    status: u16,
    replayed: bool,
    retry_after: Option<String>,
    body: Value,
    aws_calls: u32,
}

fn address() -> Value {
    json!({"name": "Ada Lovelace", "line1": "12 Loom Street", "city": "Bristol", "postal_code": "BS1 4DJ", "country": "GB"})
}

impl Stack {
    async fn new(test: &str, hold_seconds: &str) -> Self {
        let (client, table) = bazaar_infra::testing::fresh_table(test).await;
        let config = Config::from_lookup("test", |k| match k {
            "TABLE_NAME" => Some(table.clone()),
            "AUTH_MODE" => Some("local".into()),
            "LOCAL_JWT_SECRET" => Some(SECRET.into()),
            "HOLD_SECONDS" => Some(hold_seconds.into()),
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
            checkout: checkout::App::new(
                DynamoCheckout::new(client.clone(), &table),
                TestGateway::new(client.clone(), &table),
                DynamoIdempotency::new(client.clone(), &table),
                Faults {
                    crash_after_commit: false,
                },
                &config,
            ),
            orders: orders::App::new(
                DynamoOrders::new(client.clone(), &table),
                DynamoQuota::new(client.clone(), &table),
                &config,
            ),
            payments: PaymentService::new(
                DynamoPayments::new(client.clone(), &table),
                TestGateway::new(client.clone(), &table),
                TestGateway::new(client.clone(), &table),
            ),
            client,
            table,
        }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        user: Option<&str>,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(user) = user {
            let token = mint_local_token(SECRET, user, 300, None).expect("token");
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        if let Some(key) = key {
            builder = builder.header("idempotency-key", key);
        }
        let req = builder
            .body(body.map_or(Body::Empty, |b| Body::Text(b.to_string())))
            .expect("request");
        let (response, aws_calls) = counting_aws_calls(async {
            let bare = path.split('?').next().unwrap_or(path);
            if bare == "/checkout" {
                self.checkout.handle(req).await
            } else if bare == "/cart/items" {
                self.add.handle(req).await
            } else if bare.starts_with("/orders")
                || bare == "/notifications"
                || bare.ends_with("/orders")
            {
                self.orders.handle(req).await
            } else {
                self.catalog.handle(req).await
            }
        })
        .await;
        let response = response.expect("handlers never fail");
        let status = response.status().as_u16();
        let replayed = response
            .headers()
            .get("idempotent-replayed")
            .is_some_and(|v| v == "true");
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response.body().to_vec();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("json")
        };
        assert!(status < 500, "{method} {path}: {status} {body}");
        Reply {
            status,
            replayed,
            retry_after,
            body,
            aws_calls,
        }
    }

    async fn shop(&self, owner: &str, name: &str, base: i64, extra: i64) -> String {
        let r = self
            .call("POST", "/shops", Some(owner), None, Some(json!({"name": name, "shipping": {"base_cents": base, "per_extra_item_cents": extra}})))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_str().expect("id").to_owned()
    }

    async fn product(&self, owner: &str, shop: &str, price: i64, quantity: i64) -> String {
        let r = self
            .call("POST", &format!("/shops/{shop}/products"), Some(owner), None,
                  Some(json!({"title": format!("Item {price}"), "price_cents": price, "category": "home-decor", "quantity": quantity})))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_str().expect("id").to_owned()
    }

    async fn add(&self, buyer: &str, product: &str, quantity: i64) {
        let r = self
            .call(
                "POST",
                "/cart/items",
                Some(buyer),
                None,
                Some(json!({"product_id": product, "quantity": quantity})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }

    async fn checkout(&self, buyer: &str, key: &str, method: &str) -> Reply {
        self.call(
            "POST",
            "/checkout",
            Some(buyer),
            Some(key),
            Some(json!({"shipping_address": address(), "payment_method": method})),
        )
        .await
    }

    async fn product_json(&self, id: &str) -> Value {
        self.call("GET", &format!("/products/{id}"), None, None, None)
            .await
            .body
    }

    /// A checkout's payment: the record's status and what the test gateway has captured.
    async fn payment(&self, checkout_id: &str) -> Option<(String, i64)> {
        let record = self
            .payments
            .store()
            .payment(checkout_id)
            .await
            .expect("read")?;
        let at_gateway = self
            .payments
            .gateway()
            .payment(&record.payment_id)
            .await
            .expect("gateway");
        Some((
            record.status.as_str().to_owned(),
            at_gateway.amount_received,
        ))
    }

    /// Settles a checkout's payment, as the settlement function does on the record's event.
    async fn settle(&self, checkout_id: &str) {
        match self.payments.settle(checkout_id).await.expect("settled") {
            Settled::Done(_) => {}
            other => panic!("not settled: {other:?}"),
        }
    }

    /// The lines of `buyer`'s cart item.
    async fn cart_lines(&self, buyer: &str) -> usize {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(format!("CART#{buyer}")))
            .key("sk", AttributeValue::S("CART".into()))
            .consistent_read(true)
            .send()
            .await
            .expect("get");
        out.item
            .and_then(|i| i.get("lines").and_then(|l| l.as_m().ok()).map(|m| m.len()))
            .unwrap_or(0)
    }

    /// Hold entries on every product (live or lapsed).
    async fn hold_entries(&self) -> usize {
        let out = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("entity = :e")
            .expression_attribute_values(":e", AttributeValue::S("product".into()))
            .consistent_read(true)
            .send()
            .await
            .expect("scan");
        out.items
            .unwrap_or_default()
            .iter()
            .map(|i| {
                i.get("holds")
                    .and_then(|h| h.as_m().ok())
                    .map_or(0, |m| m.len())
            })
            .sum()
    }

    async fn count_entities(&self, entity: &str) -> usize {
        let out = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("entity = :e")
            .expression_attribute_values(":e", AttributeValue::S(entity.into()))
            .send()
            .await
            .expect("scan");
        out.items.unwrap_or_default().len()
    }
}

#[tokio::test]
async fn a_cart_from_two_shops_becomes_two_orders() {
    let s = Stack::new("checkout-two-shops", "900").await;
    let kiln = s.shop("kiln", "The Copper Kiln", 500, 150).await;
    let loom = s.shop("loom", "Loom & Larch", 300, 0).await;
    let vase = s.product("kiln", &kiln, 4200, 1).await;
    let mugs = s.product("kiln", &kiln, 2800, 6).await;
    let scarf = s.product("loom", &loom, 6500, 2).await;
    s.add("buyer", &vase, 1).await;
    s.add("buyer", &mugs, 2).await;
    s.add("buyer", &scarf, 1).await;

    let r = s.checkout("buyer", "order-1", "pm_card_visa").await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(!r.replayed);
    let orders = r.body["orders"].as_array().expect("orders");
    assert_eq!(orders.len(), 2);
    let k = orders
        .iter()
        .find(|o| o["shop_id"] == kiln.as_str())
        .expect("kiln order");
    assert_eq!(k["subtotal_cents"], 4200 + 2 * 2800);
    assert_eq!(k["shipping_cents"], 500 + 150 * 2);
    assert_eq!(k["total_cents"], 9800 + 800);
    assert_eq!(k["status"], "paid");
    assert_eq!(k["buyer_id"], "buyer");
    assert_eq!(k["shop_name"], "The Copper Kiln");
    assert_eq!(k["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(k["shipping_address"]["country"], "GB");
    let l = orders
        .iter()
        .find(|o| o["shop_id"] == loom.as_str())
        .expect("loom order");
    assert_eq!(
        (
            l["subtotal_cents"].as_i64(),
            l["shipping_cents"].as_i64(),
            l["total_cents"].as_i64()
        ),
        (Some(6500), Some(300), Some(6800))
    );
    assert_eq!(r.body["total_cents"], 10600 + 6800);

    // Stock decremented, holds consumed, cart emptied, payment authorized; settlement captures.
    let p = s.product_json(&mugs).await;
    assert_eq!(
        (p["quantity"].as_i64(), p["available"].as_i64()),
        (Some(4), Some(4))
    );
    assert_eq!(s.product_json(&vase).await["quantity"], 0);
    assert_eq!(s.cart_lines("buyer").await, 0);
    assert_eq!(s.hold_entries().await, 0);
    let checkout_id = r.body["checkout_id"].as_str().expect("id");
    assert_eq!(s.payment(checkout_id).await, Some(("authorized".into(), 0)));
    s.settle(checkout_id).await;
    s.settle(checkout_id).await;
    assert_eq!(
        s.payment(checkout_id).await,
        Some(("captured".into(), 10600 + 6800))
    );
    let shop = s
        .call("GET", &format!("/shops/{kiln}"), None, None, None)
        .await;
    assert_eq!(shop.body["sales_count"], 3);

    // The same key again: the same answer, replayed; an empty cart with a new key: 422.
    let again = s.checkout("buyer", "order-1", "pm_card_visa").await;
    assert_eq!(again.aws_calls, 1, "a replay is the claim's answer");
    assert_eq!((again.status, again.replayed), (201, true));
    assert_eq!(again.body, r.body);
    assert_eq!(
        s.payment(checkout_id).await,
        Some(("captured".into(), 10600 + 6800))
    );
    let empty = s.checkout("buyer", "order-2", "pm_card_visa").await;
    assert_eq!(
        (empty.status, empty.body["code"].as_str()),
        (422, Some("cart_empty"))
    );
}

#[tokio::test]
async fn idempotency_key_rules() {
    let s = Stack::new("checkout-keys", "900").await;
    let shop = s.shop("seller", "Keys Ltd", 0, 0).await;
    let item = s.product("seller", &shop, 1000, 5).await;
    s.add("buyer", &item, 1).await;
    let body = json!({"shipping_address": address(), "payment_method": "pm_card_visa"});
    let r = s
        .call("POST", "/checkout", Some("buyer"), None, Some(body.clone()))
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (400, Some("idempotency_key_required"))
    );
    let r = s
        .call(
            "POST",
            "/checkout",
            Some("buyer"),
            Some(&"k".repeat(256)),
            Some(body.clone()),
        )
        .await;
    assert_eq!(r.status, 422);
    let r = s
        .call("POST", "/checkout", None, Some("k1"), Some(body.clone()))
        .await;
    assert_eq!(r.status, 401);
    let r = s
        .call(
            "POST",
            "/checkout",
            Some("buyer"),
            Some("k1"),
            Some(json!({"payment_method": "pm_card_visa"})),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = s
        .call(
            "POST",
            "/checkout",
            Some("buyer"),
            Some("k1"),
            Some(json!({"shipping_address": address(), "payment_method": "tok_bogus"})),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (422, Some("validation_failed"))
    );

    let first = s
        .call(
            "POST",
            "/checkout",
            Some("buyer"),
            Some("k2"),
            Some(body.clone()),
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    // Same key, different body → 422; whitespace and key order do not make a body different.
    let mut other = body.clone();
    other["shipping_address"]["city"] = json!("Bath");
    let r = s
        .call("POST", "/checkout", Some("buyer"), Some("k2"), Some(other))
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (422, Some("idempotency_key_reused"))
    );
    let reordered: Value = serde_json::from_str(&format!(
        r#"{{ "payment_method": "pm_card_visa", "shipping_address": {} }}"#,
        address()
    ))
    .expect("json");
    assert_eq!(payload_hash(&reordered), payload_hash(&body));
    let r = s
        .call(
            "POST",
            "/checkout",
            Some("buyer"),
            Some("k2"),
            Some(reordered),
        )
        .await;
    assert_eq!((r.status, r.replayed), (201, true));
    // Another buyer's identical key is another checkout.
    s.add("someone-else", &item, 1).await;
    let r = s
        .call(
            "POST",
            "/checkout",
            Some("someone-else"),
            Some("k2"),
            Some(body),
        )
        .await;
    assert_eq!((r.status, r.replayed), (201, false));
}

/// 20 concurrent POSTs with one key: one set of orders, one capture; the others replay the same
/// body or are told the first is still in progress.
#[tokio::test]
async fn twenty_concurrent_retries_make_one_checkout() {
    let s = Stack::new("checkout-exactly-once", "900").await;
    let shop = s.shop("seller", "Once Only", 400, 100).await;
    let a = s.product("seller", &shop, 1500, 3).await;
    let b = s.product("seller", &shop, 2500, 1).await;
    s.add("buyer", &a, 2).await;
    s.add("buyer", &b, 1).await;
    let replies =
        futures::future::join_all((0..20).map(|_| s.checkout("buyer", "same-key", "pm_card_visa")))
            .await;
    let created: Vec<&Reply> = replies.iter().filter(|r| r.status == 201).collect();
    assert!(!created.is_empty());
    let fresh: Vec<&&Reply> = created.iter().filter(|r| !r.replayed).collect();
    assert_eq!(
        fresh.len(),
        1,
        "exactly one attempt ran: {:?}",
        replies
            .iter()
            .map(|r| (r.status, r.replayed))
            .collect::<Vec<_>>()
    );
    for r in &created {
        assert_eq!(r.body, fresh[0].body);
    }
    for r in replies.iter().filter(|r| r.status != 201) {
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (409, Some("checkout_in_progress"))
        );
        assert!(
            r.retry_after
                .as_deref()
                .is_some_and(|v| v.parse::<u64>().is_ok_and(|n| n >= 1))
        );
    }
    assert_eq!(s.count_entities("order").await, 1);
    let checkout_id = fresh[0].body["checkout_id"].as_str().expect("id");
    assert_eq!(s.payment(checkout_id).await, Some(("authorized".into(), 0)));
    assert_eq!(s.count_entities("payment").await, 1, "one payment record");
    // Redelivered settlement events, at once.
    let settles: Vec<_> = (0..5).map(|_| s.payments.settle(checkout_id)).collect();
    for r in futures::future::join_all(settles).await {
        r.expect("settled or busy");
    }
    s.settle(checkout_id).await;
    let captured = s.payment(checkout_id).await.expect("payment").1;
    assert!(
        captured > 0,
        "captured once, for the cart's total: {captured}"
    );
    assert_eq!(
        s.count_entities("ledger").await,
        2,
        "one charge and one fee"
    );
    assert_eq!(s.product_json(&a).await["quantity"], 1);
}

struct CrashAfterCommit;
impl CheckoutHooks for CrashAfterCommit {
    fn after_commit(&self, _checkout_id: &str) {
        panic!("simulated crash after the commit");
    }
}

/// The attempt dies after its transaction committed, before the response was stored. Once its
/// in-progress claim lapses, the retry returns the same orders and never captures; settlement
/// captures exactly once.
#[tokio::test]
async fn a_crash_after_commit_then_a_retry() {
    let s = Stack::new("checkout-crash", "900").await;
    let shop = s.shop("seller", "Crash Test Pottery", 0, 0).await;
    let item = s.product("seller", &shop, 3300, 1).await;
    s.add("buyer", &item, 1).await;
    let body = json!({"shipping_address": address(), "payment_method": "pm_card_visa"});
    let idem = DynamoIdempotency::new(s.client.clone(), &s.table);
    let deadline = chrono::Utc::now().timestamp_millis() + 1500;
    let claim = idem
        .claim("buyer", "crash-key", &payload_hash(&body), deadline)
        .await
        .expect("claim");
    assert!(matches!(
        claim,
        bazaar_domain::idempotency::Claim::Fresh { .. }
    ));
    let store = CheckoutService::new(
        DynamoCheckout::new(s.client.clone(), &s.table),
        TestGateway::new(s.client.clone(), &s.table),
    );
    let addr: ShippingAddress = serde_json::from_value(address()).expect("address");
    let crashed = std::panic::AssertUnwindSafe(store.checkout(
        &CrashAfterCommit,
        "buyer",
        "crash-key",
        &addr,
        "pm_card_visa",
    ))
    .catch_unwind()
    .await;
    assert!(crashed.is_err(), "the attempt crashed");
    let checkout_id = bazaar_domain::checkout::checkout_id("buyer", "crash-key");
    assert_eq!(
        s.payment(&checkout_id).await,
        Some(("authorized".into(), 0)),
        "committed, not captured"
    );
    assert_eq!(s.count_entities("order").await, 1);

    // While the dead attempt's claim lasts, a retry is told to wait.
    let r = s.checkout("buyer", "crash-key", "pm_card_visa").await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("checkout_in_progress"))
    );
    tokio::time::sleep(std::time::Duration::from_millis(1700)).await;
    let r = s.checkout("buyer", "crash-key", "pm_card_visa").await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["checkout_id"], checkout_id.as_str());
    assert_eq!(
        r.body["orders"][0]["order_id"],
        bazaar_domain::checkout::order_id(&checkout_id, &shop).as_str()
    );
    assert_eq!(
        s.count_entities("order").await,
        1,
        "no second set of orders"
    );
    assert_eq!(
        s.payment(&checkout_id).await,
        Some(("authorized".into(), 0)),
        "a retry never captures"
    );
    s.settle(&checkout_id).await;
    assert_eq!(
        s.payment(&checkout_id).await,
        Some(("captured".into(), 3300))
    );
    let again = s.checkout("buyer", "crash-key", "pm_card_visa").await;
    assert_eq!((again.status, again.replayed), (201, true));
    assert_eq!(
        s.payment(&checkout_id).await,
        Some(("captured".into(), 3300))
    );
}

#[tokio::test]
async fn a_declined_card_writes_nothing_and_keeps_the_holds() {
    let s = Stack::new("checkout-declined", "900").await;
    let shop = s.shop("seller", "Declined Designs", 0, 0).await;
    let item = s.product("seller", &shop, 2000, 1).await;
    s.add("buyer", &item, 1).await;
    let r = s
        .checkout("buyer", "declined-1", "pm_card_chargeDeclined")
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (402, Some("payment_declined"))
    );
    assert_eq!(s.count_entities("order").await, 0);
    assert_eq!(s.cart_lines("buyer").await, 1);
    assert_eq!(s.hold_entries().await, 1, "the hold is intact");
    assert_eq!(s.product_json(&item).await["quantity"], 1);
    let checkout_id = bazaar_domain::checkout::checkout_id("buyer", "declined-1");
    assert_eq!(s.payment(&checkout_id).await, None);
    // The same key replays the decline; a new key with a good card succeeds.
    let again = s
        .checkout("buyer", "declined-1", "pm_card_chargeDeclined")
        .await;
    assert_eq!((again.status, again.replayed), (402, true));
    let ok = s.checkout("buyer", "declined-2", "pm_card_visa").await;
    assert_eq!(ok.status, 201, "{}", ok.body);
}

/// The buyer's hold lapsed and someone else bought the item: 409 naming it, nothing written.
#[tokio::test]
async fn an_item_sold_after_the_hold_lapsed() {
    let s = Stack::new("checkout-sold", "1").await;
    let shop = s.shop("seller", "Lapsed Holds", 0, 0).await;
    let lamp = s.product("seller", &shop, 9000, 1).await;
    let cup = s.product("seller", &shop, 1200, 5).await;
    s.add("slow", &lamp, 1).await;
    s.add("slow", &cup, 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    s.add("fast", &lamp, 1).await;
    assert_eq!(
        s.checkout("fast", "fast-1", "pm_card_visa").await.status,
        201
    );
    let r = s.checkout("slow", "slow-1", "pm_card_visa").await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("items_unavailable"))
    );
    assert_eq!(
        r.body["unavailable_items"],
        json!([{"product_id": lamp, "title": "Item 9000", "requested": 1, "available": 0}])
    );
    assert_eq!(s.count_entities("order").await, 1, "only the fast buyer's");
    assert_eq!(
        s.product_json(&cup).await["quantity"],
        5,
        "nothing of the slow cart was sold"
    );
    assert_eq!(
        s.payment(&bazaar_domain::checkout::checkout_id("slow", "slow-1"))
            .await,
        None,
        "nothing charged"
    );
}

/// Someone takes the item between the read and the write: the transaction is cancelled, the
/// authorization voided, and the line is named.
#[tokio::test]
async fn a_race_lost_at_commit_voids_the_authorization() {
    struct Thief<'a> {
        stack: &'a Stack,
        lamp: String,
        struck: std::sync::atomic::AtomicBool,
    }
    impl CheckoutHooks for Thief<'_> {
        async fn before_commit(&self, _checkout_id: &str) {
            // The buyer's hold has lapsed; another buyer takes the lamp first — once, and for a
            // minute, so that the checkout's re-plan finds it held however slow this machine is
            // (a 1-second hold could lapse again before the re-plan and let the buyer win).
            if self.struck.swap(true, std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            CartService::new(DynamoCart::new(
                self.stack.client.clone(),
                &self.stack.table,
            ))
            .write_line(
                "thief",
                &self.lamp,
                bazaar_domain::cart::LineChange::Add(1),
                60,
            )
            .await
            .expect("the thief holds the lamp");
        }
    }
    let s = Stack::new("checkout-race", "1").await;
    let shop = s.shop("seller", "Racy Lamps", 0, 0).await;
    let lamp = s.product("seller", &shop, 9000, 1).await;
    s.add("buyer", &lamp, 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    let store = CheckoutService::new(
        DynamoCheckout::new(s.client.clone(), &s.table),
        TestGateway::new(s.client.clone(), &s.table),
    );
    let addr: ShippingAddress = serde_json::from_value(address()).expect("address");
    let thief = Thief {
        stack: &s,
        lamp: lamp.clone(),
        struck: std::sync::atomic::AtomicBool::new(false),
    };
    let err = store
        .checkout(&thief, "buyer", "race-1", &addr, "pm_card_visa")
        .await
        .expect_err("lost the race");
    let problem = err.problem();
    assert_eq!((problem.status, problem.code), (409, "items_unavailable"));
    let checkout_id = bazaar_domain::checkout::checkout_id("buyer", "race-1");
    assert_eq!(
        s.payment(&checkout_id).await,
        None,
        "no payment record: nothing committed"
    );
    assert_eq!(
        s.count_entities("test_payment").await,
        1,
        "one authorization at the gateway"
    );
    let voided = s
        .client
        .scan()
        .table_name(&s.table)
        .filter_expression("entity = :e AND #status = :s")
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":e", AttributeValue::S("test_payment".into()))
        .expression_attribute_values(":s", AttributeValue::S("canceled".into()))
        .send()
        .await
        .expect("scan");
    assert_eq!(voided.count, 1, "the attempt's authorization is voided");
    assert_eq!(s.count_entities("order").await, 0);
    assert_eq!(s.product_json(&lamp).await["quantity"], 1);
}

/// The DynamoDB calls of the test gateway's authorization (a key read and a transaction; Stripe
/// makes one HTTPS call and none), measured on their own.
async fn gateway_share(s: &Stack) -> u32 {
    let gateway = TestGateway::new(s.client.clone(), &s.table);
    let request = bazaar_domain::payments::AuthorizeRequest {
        checkout_id: "share".into(),
        buyer_id: "share".into(),
        amount_cents: 100,
        method: "pm_card_visa".into(),
        idempotency_key: "share-1".into(),
    };
    let (auth, calls) = counting_aws_calls(gateway.authorize(&request)).await;
    auth.expect("authorized");
    calls
}

/// DynamoDB calls per checkout do not grow with the cart: 1, 10, 30 and 40 lines, one unit and
/// two units per line, from one shop and from ten — always the claim, the cart (with the quota's
/// counter), its products and shops, one transaction (products, orders, sales, record, payment,
/// the cart emptied, the quota counted), the stored answer: 5, plus the authorization. Cart
/// writes stay 3 on the largest carts (`GET /cart`: functions/cart/tests); a replay is 1.
#[tokio::test]
async fn calls_per_checkout_do_not_grow_with_lines_or_shops() {
    let s = Stack::new("checkout-calls", "900").await;
    let mut shops = Vec::new();
    for i in 0..10 {
        shops.push(
            s.shop(&format!("seller-{i}"), &format!("Shop {i}"), 100, 10)
                .await,
        );
    }
    // 40 products of shop 0, and 40 spread over the ten shops (4 each).
    let mut one_shop = Vec::new();
    let mut ten_shops = Vec::new();
    for i in 0..40 {
        one_shop.push(s.product("seller-0", &shops[0], 100 + i, 10).await);
        let shop = i as usize % 10;
        ten_shops.push(
            s.product(&format!("seller-{shop}"), &shops[shop], 200 + i, 10)
                .await,
        );
    }
    let share = gateway_share(&s).await;
    assert_eq!(share, 2, "the test gateway's authorization");
    let rounds: [(usize, &[String], i64, usize); 8] = [
        (1, &one_shop, 1, 1),
        (10, &one_shop, 1, 1),
        (30, &one_shop, 1, 1),
        (40, &one_shop, 1, 1),
        (10, &ten_shops, 1, 10),
        (30, &ten_shops, 1, 10),
        (40, &ten_shops, 1, 10),
        (40, &ten_shops, 2, 10),
    ];
    let mut calls = Vec::new();
    for (round, (lines, products, units, shop_count)) in rounds.into_iter().enumerate() {
        let buyer = format!("buyer-{round}");
        for p in &products[..lines] {
            let r = s
                .call(
                    "POST",
                    "/cart/items",
                    Some(&buyer),
                    None,
                    Some(json!({"product_id": p, "quantity": units})),
                )
                .await;
            assert_eq!((r.status, r.aws_calls), (200, 3), "add-to-cart: {}", r.body);
        }
        assert_eq!(
            s.cart_lines(&buyer).await,
            lines,
            "every line in the one cart item"
        );
        let key = format!("calls-{round}");
        let r = s.checkout(&buyer, &key, "pm_card_visa").await;
        assert_eq!(r.status, 201, "{lines} lines: {}", r.body);
        assert_eq!(
            r.body["orders"].as_array().map(Vec::len),
            Some(shop_count),
            "one order per shop"
        );
        calls.push((lines, units, shop_count, r.aws_calls));
        assert_eq!(s.cart_lines(&buyer).await, 0, "the cart is emptied");
        let again = s.checkout(&buyer, &key, "pm_card_visa").await;
        assert_eq!(
            (again.status, again.replayed, again.aws_calls),
            (201, true, 1)
        );
    }
    assert!(
        calls.iter().all(|(.., c)| *c == 5 + share),
        "claim, cart + quota counter, products + shops, authorize (the gateway's share), \
         transaction, stored answer: {calls:?}"
    );
}

/// Past ten shops the transaction's 100 actions can run out (3 per line of a shop of its own):
/// 40 lines from 40 shops are `422 cart_too_large` with the 32 that fit, nothing authorized.
#[tokio::test]
async fn forty_lines_from_forty_shops_exceed_one_transaction() {
    let s = Stack::new("checkout-too-large", "900").await;
    for i in 0..40 {
        let seller = format!("seller-{i}");
        let shop = s.shop(&seller, &format!("Shop {i}"), 0, 0).await;
        let p = s.product(&seller, &shop, 100 + i, 1).await;
        s.add("big-cart", &p, 1).await;
    }
    let r = s.checkout("big-cart", "too-big", "pm_card_visa").await;
    assert_eq!(
        (
            r.status,
            r.body["code"].as_str(),
            r.body["max_lines"].as_i64()
        ),
        (422, Some("cart_too_large"), Some(32))
    );
    assert_eq!(
        s.count_entities("test_payment").await,
        0,
        "nothing authorized"
    );
    assert_eq!(s.cart_lines("big-cart").await, 40);
}

/// After checkout: lists, detail, who may see what, shipment, review (rating), cancellation
/// (stock restored; settlement refunds).
#[tokio::test]
async fn orders_after_checkout() {
    let s = Stack::new("orders-lifecycle", "900").await;
    let kiln = s.shop("kiln", "The Copper Kiln", 500, 0).await;
    let loom = s.shop("loom", "Loom & Larch", 300, 0).await;
    let vase = s.product("kiln", &kiln, 4200, 2).await;
    let scarf = s.product("loom", &loom, 6500, 2).await;
    s.add("buyer", &vase, 1).await;
    s.add("buyer", &scarf, 1).await;
    let placed = s.checkout("buyer", "orders-1", "pm_card_visa").await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let kiln_order = placed.body["orders"]
        .as_array()
        .expect("orders")
        .iter()
        .find(|o| o["shop_id"] == kiln.as_str())
        .expect("kiln")
        .clone();
    let loom_order = placed.body["orders"]
        .as_array()
        .expect("orders")
        .iter()
        .find(|o| o["shop_id"] == loom.as_str())
        .expect("loom")
        .clone();
    let kiln_id = kiln_order["order_id"].as_str().expect("id").to_owned();
    let loom_id = loom_order["order_id"].as_str().expect("id").to_owned();
    s.add("buyer", &vase, 1).await;
    let second = s.checkout("buyer", "orders-2", "pm_card_visa").await;
    assert_eq!(second.status, 201);

    // The buyer's list, newest first, paged with an opaque cursor.
    let all = s.call("GET", "/orders", Some("buyer"), None, None).await;
    assert_eq!(all.body["orders"].as_array().map(Vec::len), Some(3));
    assert_eq!(all.aws_calls, 1, "one GSI query");
    assert_eq!(
        all.body["orders"][0]["checkout_id"],
        second.body["checkout_id"]
    );
    assert!(all.body["next_cursor"].is_null());
    let page1 = s
        .call("GET", "/orders?limit=2", Some("buyer"), None, None)
        .await;
    assert_eq!(page1.body["orders"].as_array().map(Vec::len), Some(2));
    let cursor = page1.body["next_cursor"].as_str().expect("more").to_owned();
    let page2 = s
        .call(
            "GET",
            &format!("/orders?limit=2&cursor={cursor}"),
            Some("buyer"),
            None,
            None,
        )
        .await;
    assert_eq!(page2.body["orders"].as_array().map(Vec::len), Some(1));
    assert_ne!(
        page2.body["orders"][0]["order_id"],
        page1.body["orders"][0]["order_id"]
    );
    assert_eq!(
        s.call("GET", "/orders?limit=0", Some("buyer"), None, None)
            .await
            .status,
        422
    );
    assert_eq!(
        s.call("GET", "/orders?cursor=garbage", Some("buyer"), None, None)
            .await
            .status,
        400
    );
    assert_eq!(
        s.call(
            "GET",
            &format!("/orders?cursor={cursor}"),
            Some("someone"),
            None,
            None
        )
        .await
        .status,
        400
    );
    assert_eq!(s.call("GET", "/orders", None, None, None).await.status, 401);

    // Detail: buyer and owner yes; anyone else (the other shop's owner too) 404.
    let path = format!("/orders/{kiln_id}");
    assert_eq!(
        s.call("GET", &path, Some("buyer"), None, None).await.body,
        kiln_order
    );
    assert_eq!(
        s.call("GET", &path, Some("kiln"), None, None).await.status,
        200
    );
    for stranger in ["loom", "someone"] {
        let r = s.call("GET", &path, Some(stranger), None, None).await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (404, Some("order_not_found"))
        );
    }
    let shop_orders = s
        .call(
            "GET",
            &format!("/shops/{kiln}/orders"),
            Some("kiln"),
            None,
            None,
        )
        .await;
    assert_eq!(shop_orders.body["orders"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        s.call(
            "GET",
            &format!("/shops/{kiln}/orders"),
            Some("buyer"),
            None,
            None
        )
        .await
        .status,
        403
    );

    // Reviews wait for shipment; only the owner ships; only the buyer reviews, once.
    let review = json!({"rating": 4, "comment": "Lovely glaze"});
    let r = s
        .call(
            "POST",
            &format!("{path}/review"),
            Some("buyer"),
            None,
            Some(review.clone()),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("order_not_shipped"))
    );
    let shipment = json!({"carrier": "USPS", "tracking_number": "9400 1118 9922"});
    assert_eq!(
        s.call(
            "POST",
            &format!("{path}/shipment"),
            Some("buyer"),
            None,
            Some(shipment.clone())
        )
        .await
        .status,
        403
    );
    let shipped = s
        .call(
            "POST",
            &format!("{path}/shipment"),
            Some("kiln"),
            None,
            Some(shipment.clone()),
        )
        .await;
    assert_eq!(shipped.status, 200, "{}", shipped.body);
    assert_eq!(shipped.body["status"], "shipped");
    assert_eq!(shipped.body["shipment"], shipment);
    assert_eq!(shipped.aws_calls, 2, "read, conditional update");
    let r = s
        .call(
            "POST",
            &format!("{path}/shipment"),
            Some("kiln"),
            None,
            Some(shipment),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("order_not_shippable"))
    );
    let r = s
        .call("POST", &format!("{path}/cancel"), Some("kiln"), None, None)
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("order_not_cancellable"))
    );
    assert_eq!(
        s.call(
            "POST",
            &format!("{path}/review"),
            Some("kiln"),
            None,
            Some(review.clone())
        )
        .await
        .status,
        403
    );
    let r = s
        .call(
            "POST",
            &format!("{path}/review"),
            Some("buyer"),
            None,
            Some(review.clone()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.aws_calls, 3, "write quota, read, transaction");
    assert_eq!(
        (r.body["rating"].as_i64(), r.body["comment"].as_str()),
        (Some(4), Some("Lovely glaze"))
    );
    let r = s
        .call(
            "POST",
            &format!("{path}/review"),
            Some("buyer"),
            None,
            Some(review),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("already_reviewed"))
    );
    let shop = s
        .call("GET", &format!("/shops/{kiln}"), None, None, None)
        .await;
    assert_eq!(
        (
            shop.body["rating"].as_f64(),
            shop.body["review_count"].as_i64()
        ),
        (Some(4.0), Some(1))
    );

    // The loom owner cancels before shipment: stock back, sales back; settlement refunds.
    assert_eq!(s.product_json(&scarf).await["quantity"], 1);
    let cancel = format!("/orders/{loom_id}/cancel");
    assert_eq!(
        s.call("POST", &cancel, Some("buyer"), None, None)
            .await
            .status,
        403
    );
    let r = s.call("POST", &cancel, Some("loom"), None, None).await;
    assert_eq!(
        r.aws_calls, 3,
        "read, stock read, transaction (no money moves here)"
    );
    assert_eq!(
        (r.status, r.body["status"].as_str()),
        (200, Some("cancelled")),
        "{}",
        r.body
    );
    assert_eq!(
        s.product_json(&scarf).await["quantity"],
        2,
        "stock restored"
    );
    assert_eq!(
        s.call("GET", &format!("/shops/{loom}"), None, None, None)
            .await
            .body["sales_count"],
        0
    );
    let r = s.call("POST", &cancel, Some("loom"), None, None).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("order_not_cancellable"))
    );
    let checkout_id = placed.body["checkout_id"].as_str().expect("id");
    s.settle(checkout_id).await;
    let record = s
        .payments
        .store()
        .payment(checkout_id)
        .await
        .expect("read")
        .expect("record");
    let loom_share = record.order(&loom_id).expect("loom order");
    // Cancelled before settlement ran: never captured, so nothing to refund.
    assert_eq!(
        (
            loom_share.cancelled,
            loom_share.captured,
            loom_share.refunded_cents
        ),
        (true, false, 0)
    );
    assert_eq!(record.status.as_str(), "captured");
    let total = placed.body["total_cents"].as_i64().expect("total");
    assert_eq!(
        record.captured_cents,
        total - 6800,
        "the capture leaves the cancelled order out"
    );
    s.settle(checkout_id).await;
    let at_gateway = s
        .payments
        .gateway()
        .payment(&record.payment_id)
        .await
        .expect("gateway");
    assert_eq!(
        (at_gateway.amount_received, at_gateway.refunds.len()),
        (total - 6800, 0)
    );
}

/// Writes a cart line as add-to-cart wrote it before sellers were refused their own listings
/// (into the buyer's existing cart, bumping its version as a write does).
async fn legacy_line(s: &Stack, buyer: &str, product: &str, shop: &str) {
    let now = chrono::Utc::now().to_rfc3339();
    let line: std::collections::HashMap<String, AttributeValue> = [
        ("shop_id", AttributeValue::S(shop.into())),
        ("quantity", AttributeValue::N("1".into())),
        ("title", AttributeValue::S("Old line".into())),
        ("price_cents", AttributeValue::N("2500".into())),
        ("added_at", AttributeValue::S(now.clone())),
        ("updated_at", AttributeValue::S(now)),
        ("hold_since", AttributeValue::N("0".into())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    s.client
        .update_item()
        .table_name(&s.table)
        .key("pk", AttributeValue::S(format!("CART#{buyer}")))
        .key("sk", AttributeValue::S("CART".into()))
        .update_expression("SET #l.#p = :line ADD version :one")
        .condition_expression("attribute_exists(pk)")
        .expression_attribute_names("#l", "lines")
        .expression_attribute_names("#p", product)
        .expression_attribute_values(":line", AttributeValue::M(line))
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .send()
        .await
        .expect("line written");
}

/// A seller cannot buy their own listing: add-to-cart refuses it, and a line of their own
/// listing already in the cart (written before the rule) makes checkout `403 own_listing`
/// before anything is authorized or written.
#[tokio::test]
async fn a_seller_cannot_buy_their_own_listing() {
    let s = Stack::new("checkout-own-listing", "900").await;
    let shop = s.shop("maker", "Maker's Yard", 0, 0).await;
    let own = s.product("maker", &shop, 2500, 1).await;
    let other_shop = s.shop("neighbour", "Next Door", 0, 0).await;
    let theirs = s.product("neighbour", &other_shop, 3000, 1).await;
    let r = s
        .call(
            "POST",
            "/cart/items",
            Some("maker"),
            None,
            Some(json!({"product_id": own})),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (403, Some("own_listing")),
        "{}",
        r.body
    );
    s.add("maker", &theirs, 1).await;
    legacy_line(&s, "maker", &own, &shop).await;
    let r = s.checkout("maker", "own-1", "pm_card_visa").await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (403, Some("own_listing")),
        "{}",
        r.body
    );
    assert_eq!(r.body["product_ids"], json!([own]));
    assert_eq!(s.count_entities("order").await, 0);
    assert_eq!(s.count_entities("payment").await, 0);
    assert_eq!(s.product_json(&own).await["quantity"], 1);
    // Without that line, the rest of the cart checks out.
    s.client
        .update_item()
        .table_name(&s.table)
        .key("pk", AttributeValue::S("CART#maker".into()))
        .key("sk", AttributeValue::S("CART".into()))
        .update_expression("REMOVE #l.#p ADD version :one")
        .expression_attribute_names("#l", "lines")
        .expression_attribute_names("#p", own.as_str())
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .send()
        .await
        .expect("line removed");
    let r = s.checkout("maker", "own-2", "pm_card_visa").await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["orders"][0]["shop_id"], other_shop.as_str());
}

/// A seller cannot review an order of their own shop, even one placed before the rules above
/// (`403 own_listing`); the shop's rating does not move.
#[tokio::test]
async fn a_seller_cannot_review_their_own_shop() {
    let s = Stack::new("checkout-own-review", "900").await;
    let shop = s.shop("maker", "Self Starter", 0, 0).await;
    let mug = s.product("maker", &shop, 2500, 2).await;
    s.add("buyer", &mug, 1).await;
    let placed = s.checkout("buyer", "k-1", "pm_card_visa").await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let order = placed.body["orders"][0]["order_id"]
        .as_str()
        .expect("order id")
        .to_owned();
    // The order as a self-purchase of the old rules would have left it: bought by the owner.
    s.client
        .update_item()
        .table_name(&s.table)
        .key("pk", AttributeValue::S(format!("ORDER#{order}")))
        .key("sk", AttributeValue::S("ORDER".into()))
        .update_expression("SET buyer_id = :owner")
        .expression_attribute_values(":owner", AttributeValue::S("maker".into()))
        .send()
        .await
        .expect("rewritten");
    let shipped = s
        .call(
            "POST",
            &format!("/orders/{order}/shipment"),
            Some("maker"),
            None,
            Some(json!({"carrier": "USPS", "tracking_number": "9400 1"})),
        )
        .await;
    assert_eq!(shipped.status, 200, "{}", shipped.body);
    let r = s
        .call(
            "POST",
            &format!("/orders/{order}/review"),
            Some("maker"),
            None,
            Some(json!({"rating": 5, "comment": "Superb seller"})),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (403, Some("own_listing")),
        "{}",
        r.body
    );
    let shop = s
        .call("GET", &format!("/shops/{shop}"), None, None, None)
        .await;
    assert_eq!(shop.body["review_count"], 0);
}

#[test]
fn routes_match_the_template() {
    bazaar_infra::testing::assert_routes_match("checkout", checkout::ROUTES);
    bazaar_infra::testing::assert_routes_match("orders", orders::ROUTES);
}
