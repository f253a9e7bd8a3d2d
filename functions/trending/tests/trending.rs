//! Integration test of the trending job against DynamoDB in the emulator: activity written by the
//! real paths (views, favorites, purchases) → stored lists, overall and per category.

use aws_sdk_dynamodb::types::AttributeValue;
use bazaar_aws::personalize::also_bought::DynamoAlsoBought;
use bazaar_aws::personalize::favorites::DynamoFavorites;
use bazaar_aws::personalize::trending::DynamoTrending;
use bazaar_aws::personalize::views::DynamoViews;
use bazaar_aws::schema::keys;
use bazaar_domain::events::{ORDER_CREATED, OrderCreated, PurchasedItem};
use bazaar_domain::personalize::favorites::FavoriteKind;
use bazaar_domain::personalize::trending::TrendingList;
use bazaar_domain::personalize::{ACTIVITY_SHARDS, TRENDING_WINDOW_HOURS};
use bazaar_domain::ports::{AlsoBought, CatalogStore, FavoritesStore, TrendingSource, ViewLog};
use bazaar_domain::validate::ProductChanges;
use bazaar_infra::testing::{Listing, fresh_table, list_products};
use chrono::{Duration, Utc};

fn listing<'a>(title: &'a str, category: &'a str) -> Listing<'a> {
    Listing {
        title,
        category,
        price_cents: 3000,
        tags: &[],
        quantity: 1,
    }
}

fn titles(list: &TrendingList) -> Vec<String> {
    list.products
        .iter()
        .map(|p| p["title"].as_str().expect("title").to_owned())
        .collect()
}

fn sold_out() -> ProductChanges {
    ProductChanges {
        quantity: Some(0),
        ..ProductChanges::default()
    }
}

#[tokio::test]
async fn trending_lists_weigh_and_decay_activity_and_leave_out_sold_out_products() {
    let (client, table) = fresh_table("trending-job").await;
    let (_, p) = list_products(
        &client,
        &table,
        "seller",
        "Trend Shop",
        &[
            listing("A ring", "jewelry"),
            listing("B necklace", "jewelry"),
            listing("C print", "art"),
            listing("D poster", "art"),
            listing("E earrings", "jewelry"),
            listing("F painting", "art"),
        ],
    )
    .await;
    let (a, b, c, d, e, f) = (&p[0], &p[1], &p[2], &p[3], &p[4], &p[5]);
    let views = DynamoViews::new(client.clone(), &table);
    for (product, viewers) in [(a, 5), (c, 2), (d, 10)] {
        for v in 0..viewers {
            views
                .record(&format!("viewer-{v}"), product)
                .await
                .expect("view");
        }
    }
    // One user reloading a page 20 times within the hour is one view.
    for _ in 0..20 {
        views.record("reloader", e).await.expect("view");
    }
    // B: one favorite (3) and one unit sold (5) = 8.
    DynamoFavorites::new(client.clone(), &table)
        .add("fan", FavoriteKind::Product, &b.id)
        .await
        .expect("favorite");
    DynamoAlsoBought::new(client.clone(), &table)
        .record(&OrderCreated {
            kind: ORDER_CREATED.into(),
            event_id: "o1:order.created".into(),
            order_id: "o1".into(),
            checkout_id: "c1".into(),
            buyer_id: "buyer".into(),
            shop_id: b.shop_id.clone(),
            shop_name: "Trend Shop".into(),
            owner_id: "seller".into(),
            owner_email: None,
            item_count: 1,
            total_cents: 3000,
            items: vec![PurchasedItem {
                product_id: b.id.clone(),
                quantity: 1,
            }],
            basket: vec![b.id.clone()],
            created_at: Utc::now().to_rfc3339(),
            version: 1,
        })
        .await
        .expect("sale");
    // F: 20 views 60 hours ago ≈ 20 × 0.5^2.5 ≈ 3.5 (below A's 5, above C's 2). And 50 views of C
    // 80 hours ago, outside the 72-hour window.
    for (product, hours_ago, n) in [(f, 60, 20), (c, 80, 50)] {
        let (pk, sk) = keys::activity(Utc::now() - Duration::hours(hours_ago), &product.id);
        client
            .put_item()
            .table_name(&table)
            .item("pk", AttributeValue::S(pk))
            .item("sk", AttributeValue::S(sk))
            .item("views", AttributeValue::N(n.to_string()))
            .send()
            .await
            .expect("old activity");
    }
    let catalog = bazaar_aws::catalog::DynamoCatalog::new(client.clone(), &table);
    catalog
        .update_product("seller", &d.id, sold_out())
        .await
        .expect("D sold out");

    let job = DynamoTrending::new(client.clone(), &table);
    let run = job.run(Utc::now()).await.expect("run");
    assert_eq!(
        run.queries,
        TRENDING_WINDOW_HOURS as usize * ACTIVITY_SHARDS as usize
    );
    assert_eq!(
        run.active_products, 6,
        "A, B, C, D, E, F had activity in the window"
    );
    let all = job.trending(None).await.expect("all");
    assert_eq!(
        titles(&all),
        vec![
            "B necklace",
            "A ring",
            "F painting",
            "C print",
            "E earrings"
        ]
    );
    assert!(all.computed_at.is_some());
    assert_eq!(all.products[0]["shop"]["name"], "Trend Shop");
    assert_eq!(all.products[0]["available"], 1);
    assert_eq!(
        titles(&job.trending(Some("jewelry")).await.expect("jewelry")),
        vec!["B necklace", "A ring", "E earrings"]
    );
    assert_eq!(
        titles(&job.trending(Some("art")).await.expect("art")),
        vec!["F painting", "C print"]
    );
    assert!(
        job.trending(Some("toys"))
            .await
            .expect("toys")
            .products
            .is_empty()
    );

    // Once no art product is in stock, the art list disappears at the next run.
    for product in [c, f] {
        catalog
            .update_product("seller", &product.id, sold_out())
            .await
            .expect("sold out");
    }
    job.run(Utc::now()).await.expect("second run");
    assert!(
        job.trending(Some("art"))
            .await
            .expect("art")
            .products
            .is_empty()
    );
    assert_eq!(
        titles(&job.trending(None).await.expect("all")),
        vec!["B necklace", "A ring", "E earrings"]
    );
}

/// Listings at every size limit (title, description in 4-byte characters, ten longest image
/// URLs: about 42 KB per card) cannot push a stored list past DynamoDB's 400 KB item limit: the
/// job succeeds and each list item holds as many cards as fit its budget.
#[tokio::test]
async fn maximal_listings_keep_every_list_under_the_item_limit() {
    use bazaar_domain::validate::{DESCRIPTION_MAX, IMAGE_URL_MAX, IMAGES_MAX, TITLE_MAX};
    let (client, table) = fresh_table("trending-maximal").await;
    let titles: Vec<String> = (0..30).map(|i| format!("Huge {i}")).collect();
    let listings: Vec<Listing> = titles.iter().map(|t| listing(t, "art")).collect();
    let (_, products) = list_products(&client, &table, "seller", "Huge Shop", &listings).await;
    let catalog = bazaar_aws::catalog::DynamoCatalog::new(client.clone(), &table);
    let views = DynamoViews::new(client.clone(), &table);
    for (i, p) in products.iter().enumerate() {
        let url = format!("https://img.example/{i}/{}", "a".repeat(IMAGE_URL_MAX - 30));
        let changes = ProductChanges {
            title: Some(format!("{i:02}{}", "𝔸".repeat(TITLE_MAX - 2))),
            description: Some("𝔸".repeat(DESCRIPTION_MAX)),
            images: Some(vec![url; IMAGES_MAX]),
            ..ProductChanges::default()
        };
        catalog
            .update_product("seller", &p.id, changes)
            .await
            .expect("maximal listing");
        views.record("viewer", p).await.expect("view");
    }
    let job = DynamoTrending::new(client.clone(), &table);
    let run = job.run(Utc::now()).await.expect("the job does not fail");
    assert_eq!(run.active_products, 30);
    for category in [None, Some("art")] {
        let (pk, sk) = keys::trending(category);
        let item = client
            .get_item()
            .table_name(&table)
            .key("pk", AttributeValue::S(pk))
            .key("sk", AttributeValue::S(sk))
            .send()
            .await
            .expect("read")
            .item
            .expect("a stored list");
        // DynamoDB's item size: attribute names plus values (strings as UTF-8).
        let size: usize = item
            .iter()
            .map(|(k, v)| {
                k.len()
                    + match v {
                        AttributeValue::S(s) => s.len(),
                        AttributeValue::L(l) => l
                            .iter()
                            .map(|v| v.as_s().map(String::len).unwrap_or(0) + 1)
                            .sum(),
                        _ => 8,
                    }
            })
            .sum();
        assert!(size < 400_000, "{category:?}: {size} bytes");
        let list = job.trending(category).await.expect("list");
        assert!(
            (4..12).contains(&list.products.len()),
            "{category:?}: {} cards fit",
            list.products.len()
        );
    }
}
