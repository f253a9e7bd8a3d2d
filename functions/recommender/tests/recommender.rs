//! Integration tests of the recommender: SQS batches of `order.created` events → co-purchase
//! counts in DynamoDB (emulator), read back as "customers also bought".

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use bazaar_aws::personalize::also_bought::DynamoAlsoBought;
use bazaar_domain::events::{ORDER_CREATED, OrderCreated, PurchasedItem};
use bazaar_domain::ports::{AlsoBought, CatalogStore};
use bazaar_domain::validate::ProductChanges;
use bazaar_infra::testing::{Listing, fresh_table, list_products};
use bazaar_lambda::batch::BatchHandler;
use chrono::{Duration, Utc};
use recommender::Recommender;

fn listing(title: &str) -> Listing<'_> {
    Listing {
        title,
        category: "home-decor",
        price_cents: 2500,
        tags: &["ceramic"],
        quantity: 1,
    }
}

/// The event of one shop's order in a checkout whose basket is `basket`.
fn order(order_id: &str, items: &[&str], basket: &[&str], days_ago: i64) -> OrderCreated {
    OrderCreated {
        kind: ORDER_CREATED.into(),
        event_id: format!("{order_id}:{ORDER_CREATED}"),
        order_id: order_id.into(),
        checkout_id: format!("c-{order_id}"),
        buyer_id: "buyer".into(),
        shop_id: "s".into(),
        shop_name: "Shop".into(),
        owner_id: "o".into(),
        owner_email: None,
        item_count: items.len() as i64,
        total_cents: 1000,
        items: items
            .iter()
            .map(|p| PurchasedItem {
                product_id: (*p).to_owned(),
                quantity: 1,
            })
            .collect(),
        basket: basket.iter().map(|p| (*p).to_owned()).collect(),
        created_at: (Utc::now() - Duration::days(days_ago))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        version: 1,
    }
}

fn batch(bodies: &[String]) -> SqsEvent {
    let mut event = SqsEvent::default();
    for (i, body) in bodies.iter().enumerate() {
        let mut m = SqsMessage::default();
        m.message_id = Some(format!("m{i}"));
        m.body = Some(body.clone());
        event.records.push(m);
    }
    event
}

fn ids(products: &[bazaar_domain::catalog::ProductView]) -> Vec<&str> {
    products.iter().map(|p| p.id.as_str()).collect()
}

#[tokio::test]
async fn co_purchases_are_counted_once_per_event_across_shops() {
    let (client, table) = fresh_table("recommender-counts").await;
    let (_, a) = list_products(
        &client,
        &table,
        "seller-a",
        "Shop A",
        &[listing("X mug"), listing("Y bowl"), listing("Z plate")],
    )
    .await;
    let (_, b) = list_products(&client, &table, "seller-b", "Shop B", &[listing("W vase")]).await;
    let (x, y, z, w) = (&a[0].id, &a[1].id, &a[2].id, &b[0].id);
    let worker = Recommender::new(DynamoAlsoBought::new(client.clone(), &table));

    // Checkout 1: X with Y (one shop). Checkout 2: X and Z from shop A, W from shop B — two
    // orders, each event carrying the whole basket. Checkout 3 is older than 90 days.
    let events = [
        order("o1", &[x, y], &[x, y], 0),
        order("o2a", &[x, z], &[x, z, w], 0),
        order("o2b", &[w], &[x, z, w], 0),
        order("o3", &[x, w], &[x, w], 91),
    ];
    let bodies: Vec<String> = events
        .iter()
        .map(|e| serde_json::to_string(e).expect("json"))
        .collect();
    let mut with_poison = bodies.clone();
    with_poison.push("not json".into());
    let response = worker.handle(batch(&with_poison)).await;
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, vec!["m4"], "only the unreadable message fails");

    let now = Utc::now();
    let store = worker.store();
    let recs = store.recommendations(x, now).await.expect("recs");
    let mut got = ids(&recs);
    got.sort_unstable();
    let mut want = vec![y.as_str(), z.as_str(), w.as_str()];
    want.sort_unstable();
    assert_eq!(
        got, want,
        "X was bought with Y, Z and (cross-shop) W; o3 is too old"
    );
    let w_recs = store.recommendations(w, now).await.expect("recs");
    let mut got = ids(&w_recs);
    got.sort_unstable();
    let mut want = vec![x.as_str(), z.as_str()];
    want.sort_unstable();
    assert_eq!(got, want);
    assert!(
        store
            .recommendations(y, now)
            .await
            .expect("recs")
            .iter()
            .all(|p| p.id == *x)
    );

    // Redelivery (the whole batch again, then one event twice at once) changes nothing.
    let again = worker.handle(batch(&bodies)).await;
    assert!(again.batch_item_failures.is_empty());
    let twice = worker
        .handle(batch(&[bodies[0].clone(), bodies[0].clone()]))
        .await;
    assert!(twice.batch_item_failures.is_empty());
    // One more real co-purchase of X with Z makes Z the top recommendation; had a redelivery
    // counted, Y (bought with X in o1, redelivered three times) would lead.
    worker
        .handle(batch(&[serde_json::to_string(&order(
            "o4",
            &[x, z],
            &[x, z],
            0,
        ))
        .expect("json")]))
        .await;
    let recs = store.recommendations(x, now).await.expect("recs");
    assert_eq!(recs[0].id, *z, "{:?}", ids(&recs));
    assert_eq!(recs.len(), 3);

    // Sold out → left out; unknown product → 404; a product nobody bought with → empty.
    bazaar_aws::catalog::DynamoCatalog::new(client.clone(), &table)
        .update_product(
            "seller-a",
            z,
            ProductChanges {
                quantity: Some(0),
                ..ProductChanges::default()
            },
        )
        .await
        .expect("sold out");
    let recs = store.recommendations(x, now).await.expect("recs");
    assert!(!ids(&recs).contains(&z.as_str()), "{:?}", ids(&recs));
    assert_eq!(recs.len(), 2);
    let err = store
        .recommendations("no-such-product", now)
        .await
        .expect_err("unknown");
    assert_eq!(err.status(), 404);
    let (_, lonely) =
        list_products(&client, &table, "seller-c", "Shop C", &[listing("Lonely")]).await;
    assert!(
        store
            .recommendations(&lonely[0].id, now)
            .await
            .expect("recs")
            .is_empty()
    );
}

/// A cancelled order is taken back out of "customers also bought" and of trending's units sold,
/// once, whichever of its two events arrives first; a redelivered cancellation changes nothing.
#[tokio::test]
async fn cancelled_orders_are_taken_back_out_of_the_counts() {
    use bazaar_aws::personalize::trending::DynamoTrending;
    use bazaar_domain::events::ORDER_CANCELLED;
    use bazaar_domain::ports::TrendingSource;
    let (client, table) = fresh_table("recommender-cancel").await;
    let (_, a) = list_products(
        &client,
        &table,
        "seller-a",
        "Shop Cancel",
        &[listing("X mug"), listing("Y bowl"), listing("Z plate")],
    )
    .await;
    let (x, y, z) = (&a[0].id, &a[1].id, &a[2].id);
    let worker = Recommender::new(DynamoAlsoBought::new(client.clone(), &table));
    let cancelled = |e: &OrderCreated| OrderCreated {
        kind: ORDER_CANCELLED.into(),
        event_id: format!("{}:{ORDER_CANCELLED}", e.order_id),
        ..e.clone()
    };
    let json = |e: &OrderCreated| serde_json::to_string(e).expect("json");
    // o1 (X with Y) is created then cancelled, and its cancellation is redelivered; o2 (X with
    // Z) arrives as cancellation first, then creation; o3 (Y with Z) stands.
    let o1 = order("o1", &[x, y], &[x, y], 0);
    let o2 = order("o2", &[x, z], &[x, z], 0);
    let o3 = order("o3", &[y, z], &[y, z], 0);
    for bodies in [
        vec![json(&o1), json(&cancelled(&o2)), json(&o3)],
        vec![json(&cancelled(&o1)), json(&o2)],
        vec![json(&cancelled(&o1))],
    ] {
        let response = worker.handle(batch(&bodies)).await;
        assert!(response.batch_item_failures.is_empty());
    }
    let now = Utc::now();
    let store = worker.store();
    assert!(
        store
            .recommendations(x, now)
            .await
            .expect("recs")
            .is_empty(),
        "X was only in cancelled orders"
    );
    assert_eq!(
        ids(&store.recommendations(y, now).await.expect("recs")),
        vec![z.as_str()]
    );
    // Trending counts units sold: only o3's Y and Z remain.
    let job = DynamoTrending::new(client.clone(), &table);
    let run = job.run(now).await.expect("trending");
    assert_eq!(run.active_products, 2, "X's sales were taken back");
    let trending = job.trending(None).await.expect("list");
    let mut listed: Vec<&str> = trending.ids().collect();
    listed.sort_unstable();
    let mut want = vec![y.as_str(), z.as_str()];
    want.sort_unstable();
    assert_eq!(listed, want);
}
