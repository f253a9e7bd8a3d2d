//! The payment store, the payment record in the checkout and cancel transactions, and the test
//! gateway, against the AWS emulator (moto: `AWS_ENDPOINT_URL`). Each test has its own table.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use bazaar_aws::checkout::DynamoCheckout;
use bazaar_aws::orders::DynamoOrders;
use bazaar_aws::payment_store::{DynamoPayments, payment_item};
use bazaar_aws::payments::TestGateway;
use bazaar_aws::table::Table;
use bazaar_domain::checkout::{CheckoutRecord, CheckoutWrite, CheckoutWritten, Order};
use bazaar_domain::error::Error;
use bazaar_domain::payments::{
    Authorization, AuthorizeRequest, EntryKind, IntentStatus, LedgerEntry, Payment, PaymentStatus,
    PayoutAccount, PayoutStatus, TransferRequest,
};
use bazaar_domain::ports::{
    CheckoutStore, Commit, Leased, OrderStore, PaymentGateway, PaymentStore, Payouts,
};
use chrono::{DateTime, TimeZone, Utc};

async fn fresh_table(test: &str) -> Table {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| {
        panic!("these tests need the AWS emulator: set AWS_ENDPOINT_URL to a running moto (`make test` does)")
    });
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "emulator"))
        .load()
        .await;
    let client = bazaar_aws::table::client(&sdk);
    let name = format!(
        "t-{test}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("attribute")
    };
    let keys = |pk: &str, sk: &str| {
        vec![
            KeySchemaElement::builder()
                .attribute_name(pk)
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
            KeySchemaElement::builder()
                .attribute_name(sk)
                .key_type(KeyType::Range)
                .build()
                .expect("key"),
        ]
    };
    let gsi = |index: &str, pk: &str, sk: &str| {
        GlobalSecondaryIndex::builder()
            .index_name(index)
            .set_key_schema(Some(keys(pk, sk)))
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .expect("index")
    };
    client
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(
            ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"]
                .into_iter()
                .map(attr)
                .collect(),
        ))
        .set_key_schema(Some(keys("pk", "sk")))
        .global_secondary_indexes(gsi("GSI1", "gsi1pk", "gsi1sk"))
        .global_secondary_indexes(gsi("GSI2", "gsi2pk", "gsi2sk"))
        .send()
        .await
        .expect("table created");
    Table::new(client, name)
}

fn client(t: &Table) -> &Client {
    t.client()
}

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().expect("a time")
}

fn order(checkout: &str, shop: &str, total: i64, created: i64) -> Order {
    serde_json::from_value(serde_json::json!({
        "order_id": format!("{checkout}-{shop}"),
        "checkout_id": checkout,
        "buyer_id": "ada",
        "shop_id": shop,
        "shop_name": format!("Shop {shop}"),
        "owner_id": format!("owner-{shop}"),
        "items": [{"product_id": "p1", "title": "Scarf", "quantity": 1, "price_cents": total}],
        "subtotal_cents": total,
        "shipping_cents": 0,
        "total_cents": total,
        "status": "paid",
        "shipping_address": {"name": "Ada", "line1": "1 Loom St", "city": "Bristol", "postal_code": "BS1", "country": "GB"},
        "created_at": at(created),
        "updated_at": at(created),
        "version": 1
    }))
    .expect("an order")
}

fn payment(checkout: &str, orders: &[Order], created: i64) -> Payment {
    let total = orders.iter().map(|o| o.total_cents).sum();
    Payment::authorized(
        checkout,
        "ada",
        &Authorization {
            id: format!("pi_{checkout}"),
            amount_cents: total,
        },
        orders,
        1000,
        at(created),
    )
}

async fn put_payment(t: &Table, p: &Payment, due: Option<i64>) {
    client(t)
        .put_item()
        .table_name(t.name())
        .set_item(Some(payment_item(p, due).expect("item")))
        .send()
        .await
        .expect("payment put");
}

async fn put_shop(t: &Table, shop: &str) {
    client(t)
        .put_item()
        .table_name(t.name())
        .item("pk", attr_s(&format!("SHOP#{shop}")))
        .item("sk", attr_s("SHOP"))
        .item("entity", attr_s("shop"))
        .item("id", attr_s(shop))
        .item("owner_id", attr_s(&format!("owner-{shop}")))
        .item("owner_email", attr_s(&format!("{shop}@example.com")))
        .send()
        .await
        .expect("shop put");
}

fn attr_s(v: &str) -> aws_sdk_dynamodb::types::AttributeValue {
    aws_sdk_dynamodb::types::AttributeValue::S(v.to_owned())
}

async fn leased(store: &DynamoPayments, checkout: &str, holder: &str, now: i64) -> Payment {
    match store
        .lease(checkout, holder, now, now + 60)
        .await
        .expect("lease")
    {
        Leased::Taken(p) => p,
        other => panic!("expected the lease, got {other:?}"),
    }
}

#[tokio::test]
async fn the_lease_is_taken_busy_missing_and_lapses() {
    let t = fresh_table("lease").await;
    let store = t.payments();
    let p = payment("c1", &[order("c1", "s1", 1000, 1_000)], 1_000);
    put_payment(&t, &p, Some(2_000)).await;

    assert_eq!(leased(&store, "c1", "a", 100).await, p);
    assert_eq!(
        store.lease("c1", "b", 120, 180).await.expect("lease"),
        Leased::Busy
    );
    // The holder renews its own lease.
    leased(&store, "c1", "a", 150).await;
    assert_eq!(
        store.lease("c1", "b", 200, 260).await.expect("lease"),
        Leased::Busy,
        "a's renewed lease runs until 210"
    );
    // Lapsed: another holder takes it.
    leased(&store, "c1", "b", 211).await;
    assert_eq!(
        store.lease("nope", "a", 100, 160).await.expect("lease"),
        Leased::Missing
    );
    // Released by its holder only.
    store.release("c1", "a").await.expect("release");
    assert_eq!(
        store.lease("c1", "a", 212, 270).await.expect("lease"),
        Leased::Busy
    );
    store.release("c1", "b").await.expect("release");
    leased(&store, "c1", "a", 212).await;
}

fn captured(mut p: Payment) -> Payment {
    p.status = PaymentStatus::Captured;
    p.captured_cents = p.live_cents();
    p.charge_id = Some("ch_1".into());
    for o in &mut p.orders {
        o.captured = true;
    }
    p
}

fn capture_entries(p: &Payment, now: i64) -> Vec<LedgerEntry> {
    p.orders
        .iter()
        .flat_map(|o| {
            [
                LedgerEntry::new(
                    p,
                    o,
                    EntryKind::Charge,
                    o.amount_cents,
                    p.charge_id.clone(),
                    at(now),
                ),
                LedgerEntry::new(p, o, EntryKind::Fee, o.fee_cents, None, at(now)),
            ]
        })
        .collect()
}

#[tokio::test]
async fn saves_are_conditioned_on_version_and_lease_and_entries_are_written_once() {
    let t = fresh_table("save").await;
    let store = t.payments();
    let orders = [
        order("c1", "s1", 1000, 1_000),
        order("c1", "s2", 500, 1_000),
    ];
    put_payment(&t, &payment("c1", &orders, 1_000), Some(2_000)).await;
    let p = leased(&store, "c1", "a", 100).await;

    let next = captured(p.clone());
    let entries = capture_entries(&next, 110);
    assert_eq!(
        store
            .save(&next, &entries, "a", Some(5_000))
            .await
            .expect("save"),
        Commit::Committed
    );
    let stored = store.payment("c1").await.expect("read").expect("exists");
    assert_eq!(stored.version, 2);
    assert_eq!(stored.status, PaymentStatus::Captured);
    assert!(stored.orders.iter().all(|o| o.captured));

    // A stale copy (version 1) loses; so does a save by someone who does not hold the lease.
    assert_eq!(
        store.save(&next, &entries, "a", None).await.expect("save"),
        Commit::LostRace
    );
    assert_eq!(
        store
            .save(&stored, &entries, "b", None)
            .await
            .expect("save"),
        Commit::LostRace
    );

    // Both orders are captured without a transfer: they wait for their shops.
    assert_eq!(store.waiting_payouts("s1").await.expect("waits"), ["c1"]);
    assert_eq!(store.waiting_payouts("s2").await.expect("waits"), ["c1"]);

    // Saved again with the same movements (later timestamps) and s1's transfer: the entries
    // stay as first written, s1's wait is gone.
    let mut again = stored.clone();
    again.orders[0].transfer_id = Some("tr_1".into());
    again.orders[0].transferred_cents = again.orders[0].payout_cents();
    let mut entries2 = capture_entries(&again, 999);
    entries2.push(LedgerEntry::new(
        &again,
        &again.orders[0],
        EntryKind::Transfer,
        again.orders[0].payout_cents(),
        Some("tr_1".into()),
        at(999),
    ));
    assert_eq!(
        store
            .save(&again, &entries2, "a", None)
            .await
            .expect("save"),
        Commit::Committed
    );
    let page = store.ledger("s1", None, 50).await.expect("ledger");
    assert_eq!(page.entries.len(), 3, "charge, fee, transfer: each once");
    let charge = page
        .entries
        .iter()
        .find(|e| e.kind == EntryKind::Charge)
        .expect("charge");
    assert_eq!(charge.created_at, at(110), "the first write stays");
    assert!(store.waiting_payouts("s1").await.expect("waits").is_empty());
    assert_eq!(store.waiting_payouts("s2").await.expect("waits"), ["c1"]);
    assert_eq!(
        store
            .payment("c1")
            .await
            .expect("read")
            .expect("exists")
            .version,
        3
    );
    // Closed (due None): no longer due.
    assert!(store.due(i64::MAX / 2, 10).await.expect("due").is_empty());
}

#[tokio::test]
async fn due_lists_open_payments_oldest_due_first() {
    let t = fresh_table("due").await;
    let store = t.payments();
    for (c, due) in [("c1", Some(300)), ("c2", Some(100)), ("c3", None)] {
        put_payment(&t, &payment(c, &[order(c, "s1", 100, 50)], 50), due).await;
    }
    let due = store.due(200, 10).await.expect("due");
    assert_eq!(due, [("c2".to_owned(), at(50))]);
    let due: Vec<String> = store
        .due(1_000, 10)
        .await
        .expect("due")
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    assert_eq!(due, ["c2", "c1"]);
    assert_eq!(store.due(1_000, 1).await.expect("due").len(), 1);
    assert!(
        store.due(100, 10).await.expect("due").is_empty(),
        "strictly before"
    );
}

fn record(checkout: &str, orders: &[Order], payment_id: &str) -> CheckoutRecord {
    CheckoutRecord {
        checkout_id: checkout.to_owned(),
        buyer_id: "ada".into(),
        order_ids: orders.iter().map(|o| o.order_id.clone()).collect(),
        total_cents: orders.iter().map(|o| o.total_cents).sum(),
        payment_id: payment_id.to_owned(),
        created_at: at(1_000),
    }
}

#[tokio::test]
async fn checkout_writes_the_payment_and_cancel_marks_its_order() {
    let t = fresh_table("commit").await;
    put_shop(&t, "s1").await;
    put_shop(&t, "s2").await;
    let checkout: DynamoCheckout = t.checkout();
    let orders = [
        order("c1", "s1", 1000, 1_000),
        order("c1", "s2", 500, 1_000),
    ];
    let pay = payment("c1", &orders, 1_000);
    let rec = record("c1", &orders, &pay.payment_id);
    // The buyer's cart, which the checkout empties (conditioned on its version).
    client(&t)
        .put_item()
        .table_name(t.name())
        .item("pk", attr_s("CART#ada"))
        .item("sk", attr_s("CART"))
        .item("entity", attr_s("cart"))
        .item(
            "version",
            aws_sdk_dynamodb::types::AttributeValue::N("1".into()),
        )
        .send()
        .await
        .expect("cart put");
    let write = CheckoutWrite {
        buyer: "ada",
        lines: &[],
        orders: &orders,
        record: &rec,
        payment: &pay,
        now: 1_000,
        cart_version: 1,
        quota: None,
    };
    assert_eq!(
        checkout.commit(&write).await.expect("commit"),
        CheckoutWritten::Committed
    );
    let store = t.payments();
    assert_eq!(store.payment("c1").await.expect("read"), Some(pay.clone()));
    assert_eq!(
        store.due(1_000 + 15 * 60 + 1, 10).await.expect("due"),
        [("c1".to_owned(), at(1_000))],
        "due at the safety net"
    );
    assert!(
        store
            .due(1_000 + 15 * 60, 10)
            .await
            .expect("due")
            .is_empty()
    );

    // Another attempt (another authorization) of the same checkout: a duplicate.
    let mut other = pay.clone();
    other.payment_id = "pi_other".into();
    let rec2 = record("c1", &orders, "pi_other");
    let write2 = CheckoutWrite {
        record: &rec2,
        payment: &other,
        ..write
    };
    assert_eq!(
        checkout.commit(&write2).await.expect("commit"),
        CheckoutWritten::Duplicate
    );

    // The seller cancels s2's order: the payment learns it without a read.
    let orders_store: DynamoOrders = t.orders();
    let o2 = orders_store
        .order("c1-s2")
        .await
        .expect("read")
        .expect("order");
    assert_eq!(
        orders_store
            .cancel(&o2, &[], at(5_000))
            .await
            .expect("cancel"),
        Commit::Committed
    );
    let after = store.payment("c1").await.expect("read").expect("exists");
    assert_eq!(after.version, 2);
    assert!(!after.order("c1-s1").expect("s1").cancelled);
    assert!(after.order("c1-s2").expect("s2").cancelled);
    assert_eq!(after.live_cents(), 1000);
    // Re-opened, due now (opened_at kept from the checkout).
    assert_eq!(
        store.due(5_001, 10).await.expect("due"),
        [("c1".to_owned(), at(1_000))]
    );
    // A settler holding the version before the cancellation loses its save.
    leased(&store, "c1", "a", 5_000).await;
    assert_eq!(
        store
            .save(&captured(pay), &[], "a", None)
            .await
            .expect("save"),
        Commit::LostRace
    );
}

#[tokio::test]
async fn the_ledger_pages_newest_first_and_refuses_forged_cursors() {
    let t = fresh_table("ledger").await;
    let store = t.payments();
    // Three checkouts' orders at s1, placed at 1000, 2000, 3000.
    for (i, c) in ["c1", "c2", "c3"].into_iter().enumerate() {
        let created = 1_000 * (i as i64 + 1);
        put_payment(
            &t,
            &payment(c, &[order(c, "s1", 1000, created)], created),
            None,
        )
        .await;
        let p = leased(&store, c, "a", 10).await;
        let next = captured(p);
        assert_eq!(
            store
                .save(&next, &capture_entries(&next, 20), "a", None)
                .await
                .expect("save"),
            Commit::Committed
        );
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let page = store
            .ledger("s1", cursor.as_deref(), 4)
            .await
            .expect("page");
        seen.extend(page.entries.iter().map(|e| (e.checkout_id.clone(), e.kind)));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), 6);
    assert_eq!(seen[0].0, "c3", "newest order first");
    assert_eq!(seen[5].0, "c1");

    let first = store.ledger("s1", None, 2).await.expect("page");
    let cursor = first.next_cursor.expect("more");
    let other_shop = store
        .ledger("s2", Some(&cursor), 2)
        .await
        .expect_err("other list");
    assert_eq!(other_shop.status(), 400);
    assert!(matches!(other_shop, Error::InvalidParameter { .. }));
    for forged in ["junk!", "e30", "eyJwayI6IkxFREdFUiNzMSJ9"] {
        assert_eq!(
            store
                .ledger("s1", Some(forged), 2)
                .await
                .expect_err("forged")
                .status(),
            400,
            "{forged}"
        );
    }
}

#[tokio::test]
async fn webhook_events_are_claimed_once_and_payout_accounts_live_on_shops() {
    let t = fresh_table("claims").await;
    let store = t.payments();
    assert!(store.first_delivery("evt_1").await.expect("claim"));
    assert!(!store.first_delivery("evt_1").await.expect("claim"));
    assert!(store.first_delivery("evt_2").await.expect("claim"));

    put_shop(&t, "s1").await;
    put_shop(&t, "s2").await;
    let account = PayoutAccount {
        account_id: "acct_1".into(),
        status: PayoutStatus::Pending,
    };
    store.set_payout_account("s1", &account).await.expect("set");
    assert_eq!(
        store
            .set_payout_account("nope", &account)
            .await
            .expect_err("no shop")
            .status(),
        404
    );
    assert_eq!(
        store.shop_of_account("acct_1").await.expect("lookup"),
        Some("s1".into())
    );
    assert_eq!(store.shop_of_account("acct_x").await.expect("lookup"), None);
    let accounts = store
        .payout_accounts(&["s1".into(), "s2".into(), "s9".into()])
        .await
        .expect("accounts");
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts["s1"], account);
    let shop = store
        .shop_payouts("s1")
        .await
        .expect("shop")
        .expect("exists");
    assert_eq!(shop.owner_id, "owner-s1");
    assert_eq!(shop.owner_email.as_deref(), Some("s1@example.com"));
    assert_eq!(shop.account, Some(account));
    assert_eq!(store.shop_payouts("s9").await.expect("shop"), None);
}

fn authorize(key: &str, method: &str, amount: i64) -> AuthorizeRequest {
    AuthorizeRequest {
        checkout_id: "c1".into(),
        buyer_id: "ada".into(),
        amount_cents: amount,
        method: method.into(),
        idempotency_key: key.into(),
    }
}

#[tokio::test]
async fn the_test_gateway_authorizes_captures_and_refunds_once_per_key() {
    let t = fresh_table("gateway").await;
    let gw: TestGateway = t.test_gateway();
    let a = gw
        .authorize(&authorize("k1", "pm_card_visa", 1500))
        .await
        .expect("authorized");
    assert!(a.id.starts_with("pi_test_"));
    assert_eq!(
        gw.authorize(&authorize("k1", "pm_card_visa", 1500))
            .await
            .expect("again"),
        a
    );
    let b = gw
        .authorize(&authorize("k2", "pm_card_visa", 700))
        .await
        .expect("another");
    assert_ne!(a.id, b.id);
    assert_eq!(
        gw.authorize(&authorize("k3", "pm_card_chargeDeclined", 1))
            .await
            .expect_err("declined")
            .status(),
        402
    );
    assert!(matches!(
        gw.authorize(&authorize("k4", "pm_card_authenticationRequired", 1))
            .await,
        Err(Error::PaymentActionRequired(_))
    ));
    assert_eq!(
        gw.authorize(&authorize("k5", "tok_nope", 1))
            .await
            .expect_err("unknown")
            .status(),
        422
    );

    let view = gw.payment(&a.id).await.expect("view");
    assert_eq!(view.status, IntentStatus::RequiresCapture);
    assert_eq!(view.checkout_id.as_deref(), Some("c1"));
    // Every authorization still waiting counts as stale once old enough.
    let stale = gw.stale_authorizations(i64::MAX / 2).await.expect("stale");
    assert_eq!(stale.len(), 2);
    assert!(gw.stale_authorizations(0).await.expect("stale").is_empty());

    assert!(
        gw.capture(&a.id, 1600, "cap-a").await.is_err(),
        "more than authorized"
    );
    let captured = gw.capture(&a.id, 1000, "cap-a").await.expect("captured");
    assert_eq!(captured.status, IntentStatus::Succeeded);
    assert_eq!(captured.amount_received, 1000);
    assert!(captured.charge_id.is_some());
    assert_eq!(
        gw.capture(&a.id, 1000, "cap-a").await.expect("same key"),
        captured
    );
    assert!(
        gw.capture(&a.id, 1000, "cap-other").await.is_err(),
        "captured already"
    );
    assert!(
        gw.cancel(&a.id, "cancel-a").await.is_err(),
        "captured: no cancel"
    );

    let r1 = gw.refund(&a.id, "o1", 600, "ref-o1").await.expect("refund");
    assert_eq!(r1.order_id.as_deref(), Some("o1"));
    assert_eq!(
        gw.refund(&a.id, "o1", 600, "ref-o1")
            .await
            .expect("same key"),
        r1
    );
    assert!(
        gw.refund(&a.id, "o2", 401, "ref-o2").await.is_err(),
        "over the captured amount"
    );
    gw.refund(&a.id, "o2", 400, "ref-o2")
        .await
        .expect("the rest");
    let view = gw.payment(&a.id).await.expect("view");
    assert_eq!(view.refunds.len(), 2);
    assert_eq!(view.refunded_for("o1"), 600);

    let cancelled = gw.cancel(&b.id, "cancel-b").await.expect("cancelled");
    assert_eq!(cancelled.status, IntentStatus::Canceled);
    assert_eq!(
        gw.cancel(&b.id, "cancel-b").await.expect("same key"),
        cancelled
    );
    assert!(gw.capture(&b.id, 100, "cap-b").await.is_err(), "canceled");
    assert!(
        gw.stale_authorizations(i64::MAX / 2)
            .await
            .expect("stale")
            .is_empty()
    );
}

#[tokio::test]
async fn the_test_gateway_pays_out_once_per_key() {
    let t = fresh_table("payouts").await;
    let gw: TestGateway = t.test_gateway();
    let account = gw
        .create_account("s1", Some("s1@example.com"), "acct-s1")
        .await
        .expect("account");
    assert!(account.payouts_enabled && account.details_submitted);
    assert_eq!(
        gw.create_account("s1", None, "acct-s1")
            .await
            .expect("same key"),
        account
    );
    assert_eq!(gw.account(&account.id).await.expect("read"), account);
    assert_eq!(
        gw.onboarding_link(&account.id, "http://localhost/shops/s1", "http://x")
            .await
            .expect("link"),
        format!("http://localhost/shops/s1?account={}", account.id)
    );
    let request = TransferRequest {
        amount_cents: 900,
        destination: account.id.clone(),
        transfer_group: "c1".into(),
        source_transaction: Some("ch_1".into()),
        order_id: "o1".into(),
        idempotency_key: "o1".into(),
    };
    let tr = gw.transfer(&request).await.expect("transfer");
    assert_eq!(gw.transfer(&request).await.expect("same key"), tr);
    assert_eq!(
        gw.transfers("c1").await.expect("group"),
        std::slice::from_ref(&tr)
    );
    assert!(gw.transfers("c2").await.expect("group").is_empty());

    let reversed = gw.reverse(&tr.id, 900, "rev-o1").await.expect("reversed");
    assert_eq!(reversed.reversed_cents, 900);
    assert_eq!(
        gw.reverse(&tr.id, 900, "rev-o1").await.expect("same key"),
        reversed
    );
    assert!(
        gw.reverse(&tr.id, 1, "rev-more").await.is_err(),
        "nothing left"
    );
    let bad = TransferRequest {
        destination: "acct_nope".into(),
        idempotency_key: "o2".into(),
        ..request
    };
    assert!(gw.transfer(&bad).await.is_err());
}
