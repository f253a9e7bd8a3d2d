//! Integration tests of the indexer: product events as SQS delivers them (batches, redeliveries,
//! reordering, poison messages) applied to the embedded engine, with shops read from DynamoDB in
//! the emulator (a table per test).

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use bazaar_aws::catalog::DynamoCatalog;
use bazaar_aws::source::TableSource;
use bazaar_domain::catalog::{Product, Shipping};
use bazaar_domain::events::{ProductChanged, ProductSnapshot};
use bazaar_domain::ports::{CatalogStore, SearchIndex};
use bazaar_domain::search::{SearchPage, SearchQuery};
use bazaar_domain::validate::{NewProduct, NewShop};
use bazaar_lambda::batch::BatchHandler;
use bazaar_search::embedded::EmbeddedIndex;
use indexer::Indexer;

async fn setup(test: &str) -> (Indexer<EmbeddedIndex>, Product) {
    let (client, table) = bazaar_infra::testing::fresh_table(test).await;
    let store = DynamoCatalog::new(client.clone(), &table);
    let owner = format!("owner-{test}");
    let shop = store
        .create_shop(
            &owner,
            None,
            NewShop {
                name: format!("Shop {test}"),
                description: String::new(),
                shipping: Shipping::default(),
            },
        )
        .await
        .expect("shop");
    let (product, _) = store
        .create_product(
            &owner,
            &shop.id,
            NewProduct {
                title: "Hammered silver cuff".into(),
                description: "Sterling, hand forged.".into(),
                price_cents: 5_400,
                quantity: 1,
                category: "jewelry".into(),
                tags: vec!["bracelet".into()],
                is_vintage: false,
                images: vec![],
            },
        )
        .await
        .expect("product");
    let engine = EmbeddedIndex::in_memory().expect("index");
    (
        Indexer::new(engine, TableSource::new(client, table)),
        product,
    )
}

fn message(id: &str, body: &str) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(id.to_owned());
    m.body = Some(body.to_owned());
    m
}

fn batch(messages: Vec<SqsMessage>) -> SqsEvent {
    let mut e = SqsEvent::default();
    e.records = messages;
    e
}

fn event(old: Option<&Product>, new: Option<&Product>) -> String {
    serde_json::to_string(&ProductChanged::between(old, new).expect("an event")).expect("json")
}

fn failures(r: &aws_lambda_events::event::sqs::SqsBatchResponse) -> Vec<String> {
    r.batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect()
}

async fn search(indexer: &Indexer<EmbeddedIndex>, text: &str) -> SearchPage {
    indexer
        .engine()
        .search(&SearchQuery {
            text: Some(text.to_owned()),
            page: 1,
            page_size: 10,
            now: chrono::Utc::now(),
            ..SearchQuery::default()
        })
        .await
        .expect("search")
}

async fn titles(indexer: &Indexer<EmbeddedIndex>, text: &str) -> Vec<String> {
    let page = search(indexer, text).await;
    page.hits.into_iter().map(|h| h.doc.title).collect()
}

#[tokio::test]
async fn events_apply_in_version_order_whatever_the_delivery_order() {
    let (indexer, v1) = setup("indexer-order").await;
    let mut v2 = v1.clone();
    v2.title = "Hammered silver cuff, wide".into();
    v2.version = 2;
    let mut v3 = v2.clone();
    v3.price_cents = 5_000;
    v3.version = 3;

    // v3 arrives first, then the older events (SQS standard queues reorder).
    let r = indexer
        .handle(batch(vec![message("m3", &event(Some(&v2), Some(&v3)))]))
        .await;
    assert!(failures(&r).is_empty());
    let r = indexer
        .handle(batch(vec![
            message("m1", &event(None, Some(&v1))),
            message("m2", &event(Some(&v1), Some(&v2))),
            message("m3", &event(Some(&v2), Some(&v3))), // a redelivery
        ]))
        .await;
    assert!(failures(&r).is_empty(), "stale events are not failures");
    assert_eq!(
        titles(&indexer, "cuff").await,
        ["Hammered silver cuff, wide"]
    );
    let page = search(&indexer, "sterling").await;
    assert_eq!(page.hits[0].doc.price_cents, 5_000);
    assert_eq!(page.hits[0].doc.version, 3);
    assert!(page.hits[0].doc.shop_name.starts_with("Shop indexer-order"));

    // Sold, then deleted: gone from search; an old "created" redelivered does not bring it back.
    let mut sold = v3.clone();
    sold.quantity = 0;
    sold.version = 4;
    let r = indexer
        .handle(batch(vec![
            message("m4", &event(Some(&v3), Some(&sold))),
            message("m5", &event(Some(&sold), None)),
        ]))
        .await;
    assert!(failures(&r).is_empty());
    assert!(titles(&indexer, "cuff").await.is_empty());
    let r = indexer
        .handle(batch(vec![message("m1", &event(None, Some(&v1)))]))
        .await;
    assert!(failures(&r).is_empty());
    assert!(titles(&indexer, "cuff").await.is_empty());
}

#[tokio::test]
async fn unreadable_messages_and_unknown_shops_fail_alone() {
    let (indexer, v1) = setup("indexer-poison").await;
    let mut orphan = v1.clone();
    orphan.id = "0190f0f0-0000-7000-8000-000000000001".into();
    orphan.shop_id = "no-such-shop".into();
    let orphan_event = ProductChanged {
        product: Some(ProductSnapshot::of(&orphan)),
        ..ProductChanged::between(None, Some(&orphan)).expect("event")
    };
    let r = indexer
        .handle(batch(vec![
            message("good", &event(None, Some(&v1))),
            message("junk", "{not json"),
            message(
                "orphan",
                &serde_json::to_string(&orphan_event).expect("json"),
            ),
        ]))
        .await;
    let mut failed = failures(&r);
    failed.sort();
    assert_eq!(failed, ["junk", "orphan"]);
    assert_eq!(titles(&indexer, "cuff").await, ["Hammered silver cuff"]);
}

/// A sale takes the product out of the stored trending lists at once (the seeds' "product sold →
/// invalidate trending"), without waiting for the next run of the trending job.
#[tokio::test]
async fn a_sold_out_product_leaves_the_trending_lists() {
    use bazaar_aws::personalize::trending::DynamoTrending;
    use bazaar_aws::personalize::views::DynamoViews;
    use bazaar_domain::ports::{TrendingSource, ViewLog};
    use bazaar_infra::testing::{Listing, fresh_table, list_products};

    let (client, table) = fresh_table("indexer-trending").await;
    let listing = |title| Listing {
        title,
        category: "jewelry",
        price_cents: 5_000,
        tags: &[],
        quantity: 1,
    };
    let (_, p) = list_products(
        &client,
        &table,
        "smith",
        "Trend Smith",
        &[listing("Ring"), listing("Bangle")],
    )
    .await;
    let views = DynamoViews::new(client.clone(), &table);
    for product in &p {
        views.record("fan", product).await.expect("view");
    }
    let trending = DynamoTrending::new(client.clone(), &table);
    trending.run(chrono::Utc::now()).await.expect("run");
    let ids = |list: bazaar_domain::personalize::trending::TrendingList| -> Vec<String> {
        list.ids().map(str::to_owned).collect()
    };
    assert_eq!(
        ids(trending.trending(None).await.expect("all")).len(),
        2,
        "both are trending"
    );

    let indexer = Indexer::new(
        EmbeddedIndex::in_memory().expect("index"),
        TableSource::new(client.clone(), &table),
    )
    .evicting_from(DynamoTrending::new(client.clone(), &table));
    let mut sold = p[0].clone();
    sold.quantity = 0;
    sold.version += 1;
    let r = indexer
        .handle(batch(vec![
            message("m1", &event(None, Some(&p[0]))),
            message("m2", &event(Some(&p[0]), Some(&sold))),
        ]))
        .await;
    assert!(failures(&r).is_empty());
    for list in [
        trending.trending(None).await.expect("all"),
        trending.trending(Some("jewelry")).await.expect("jewelry"),
    ] {
        assert_eq!(ids(list), vec![p[1].id.clone()]);
    }
}
