//! Integration tests of the feed function: the real handler, DynamoDB in the emulator and the
//! embedded search engine (in memory) holding the same catalog.

use bazaar_aws::calls::counting_aws_calls;
use bazaar_aws::personalize::favorites::DynamoFavorites;
use bazaar_aws::personalize::feed::DynamoFeedStore;
use bazaar_aws::personalize::trending::DynamoTrending;
use bazaar_aws::personalize::views::DynamoViews;
use bazaar_domain::catalog::{Product, Shop};
use bazaar_domain::personalize::favorites::FavoriteKind;
use bazaar_domain::ports::{CatalogStore, FavoritesStore, SearchIndex, ViewLog};
use bazaar_domain::search::{
    Applied, IndexChange, SearchDoc, SearchError, SearchPage, SearchQuery,
};
use bazaar_domain::services::feed::PERSONALIZATION_BUDGET;
use bazaar_infra::testing::{Listing, fresh_table, list_products};
use bazaar_lambda::auth::mint_local_token;
use bazaar_lambda::env::Config;
use bazaar_lambda::http::HttpApp;
use bazaar_search::embedded::EmbeddedIndex;
use feed::{App, ROUTES};
use lambda_http::Body;
use lambda_http::http::Request;
use serde_json::Value;
use std::collections::HashSet;

const SECRET: &str = "feed-test-secret";

/// An engine that is down: every search fails.
struct Down;

impl SearchIndex for Down {
    async fn prepare(&self) -> Result<(), SearchError> {
        Ok(())
    }
    async fn apply(&self, _: Vec<IndexChange>) -> Result<Vec<Applied>, SearchError> {
        Err(SearchError::Unavailable("down".into()))
    }
    async fn search(&self, _: &SearchQuery) -> Result<SearchPage, SearchError> {
        Err(SearchError::Unavailable("connection refused".into()))
    }
}

struct Reply {
    status: u16,
    body: Value,
    aws_calls: u32,
}

/// An engine that must not be asked.
struct Unasked;

impl SearchIndex for Unasked {
    async fn prepare(&self) -> Result<(), SearchError> {
        Ok(())
    }
    async fn apply(&self, _: Vec<IndexChange>) -> Result<Vec<Applied>, SearchError> {
        unreachable!("the engine was asked to index")
    }
    async fn search(&self, _: &SearchQuery) -> Result<SearchPage, SearchError> {
        unreachable!("the engine was asked although the stored list is full")
    }
}

/// An engine that answers, but only after the padding budget.
struct Slow(EmbeddedIndex);

impl SearchIndex for Slow {
    async fn prepare(&self) -> Result<(), SearchError> {
        Ok(())
    }
    async fn apply(&self, changes: Vec<IndexChange>) -> Result<Vec<Applied>, SearchError> {
        self.0.apply(changes).await
    }
    async fn search(&self, q: &SearchQuery) -> Result<SearchPage, SearchError> {
        tokio::time::sleep(PERSONALIZATION_BUDGET + std::time::Duration::from_secs(1)).await;
        self.0.search(q).await
    }
}

async fn get<E: SearchIndex>(app: &App<DynamoFeedStore, E>, user: Option<&str>) -> Reply {
    request(app, "/feed", user).await
}

async fn request<E: SearchIndex>(
    app: &App<DynamoFeedStore, E>,
    path: &str,
    user: Option<&str>,
) -> Reply {
    let mut builder = Request::builder().method("GET").uri(path);
    if let Some(user) = user {
        let token = mint_local_token(SECRET, user, 300, None).expect("token");
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    let (response, aws_calls) =
        counting_aws_calls(app.handle(builder.body(Body::Empty).expect("request"))).await;
    let response = response.expect("handler never returns Err");
    Reply {
        status: response.status().as_u16(),
        body: serde_json::from_slice(response.body()).expect("JSON"),
        aws_calls,
    }
}

fn config(table: &str) -> Config {
    Config::from_lookup("feed", |k| match k {
        "TABLE_NAME" => Some(table.to_owned()),
        "AUTH_MODE" => Some("local".into()),
        "LOCAL_JWT_SECRET" => Some(SECRET.into()),
        _ => None,
    })
    .expect("config")
}

/// Every product id in the feed's sections of `kind` (all sections when `None`).
fn section_ids(feed: &Value, kind: Option<&str>) -> Vec<String> {
    feed["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .filter(|s| kind.is_none_or(|k| s["kind"] == k))
        .flat_map(|s| s["products"].as_array().expect("products").iter())
        .map(|p| p["id"].as_str().expect("id").to_owned())
        .collect()
}

fn kinds(feed: &Value) -> Vec<String> {
    feed["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .map(|s| s["kind"].as_str().expect("kind").to_owned())
        .collect()
}

struct Catalog {
    client: aws_sdk_dynamodb::Client,
    table: String,
    jewelry: Vec<Product>,
    art: Vec<Product>,
}

async fn catalog(test: &str) -> (Catalog, EmbeddedIndex) {
    let (client, table) = fresh_table(test).await;
    let jewelry_titles: Vec<String> = (0..20).map(|i| format!("Silver ring {i}")).collect();
    let mut jewelry_listings: Vec<Listing> = jewelry_titles
        .iter()
        .enumerate()
        .map(|(i, t)| Listing {
            title: t,
            category: "jewelry",
            price_cents: 3000 + 50 * i as i64,
            tags: &["silver", "ring"],
            quantity: 1,
        })
        .collect();
    jewelry_listings.push(Listing {
        title: "Platinum ring",
        category: "jewelry",
        price_cents: 90_000, // far above 1.5 × the user's average: never suggested
        tags: &["silver", "ring"],
        quantity: 1,
    });
    jewelry_listings.push(Listing {
        title: "Sold silver ring",
        category: "jewelry",
        price_cents: 3000,
        tags: &["silver", "ring"],
        quantity: 0,
    });
    let (jewelry_shop, jewelry) =
        list_products(&client, &table, "smith", "Silver Smith", &jewelry_listings).await;
    let art_titles: Vec<String> = (0..5).map(|i| format!("Watercolor print {i}")).collect();
    let art_listings: Vec<Listing> = art_titles
        .iter()
        .map(|t| Listing {
            title: t,
            category: "art",
            price_cents: 2000,
            tags: &["watercolor"],
            quantity: 1,
        })
        .collect();
    let (art_shop, art) =
        list_products(&client, &table, "painter", "Paint Pots", &art_listings).await;
    let engine = EmbeddedIndex::in_memory().expect("index");
    let docs = |shop: &Shop, products: &[Product]| -> Vec<IndexChange> {
        products
            .iter()
            .map(|p| IndexChange::Upsert(SearchDoc::new(p, shop)))
            .collect()
    };
    let mut changes = docs(&jewelry_shop, &jewelry);
    changes.extend(docs(&art_shop, &art));
    engine.apply(changes).await.expect("indexed");
    (
        Catalog {
            client,
            table,
            jewelry,
            art,
        },
        engine,
    )
}

#[test]
fn routes_match_the_template() {
    bazaar_infra::testing::assert_routes_match("feed", ROUTES);
}

#[tokio::test]
async fn anonymous_and_cold_start_feeds_are_trending_then_favorites_personalize_it() {
    let (c, engine) = catalog("feed-personalized").await;
    // Somebody else's activity makes two art prints trending; the trending job stores the lists.
    let views = DynamoViews::new(c.client.clone(), &c.table);
    for p in &c.art[..2] {
        views.record("browser", p).await.expect("view");
    }
    DynamoTrending::new(c.client.clone(), &c.table)
        .run(chrono::Utc::now())
        .await
        .expect("trending");
    let app = App::new(
        DynamoFeedStore::new(c.client.clone(), &c.table),
        engine,
        &config(&c.table),
    );

    let anonymous = get(&app, None).await;
    assert_eq!(anonymous.status, 200);
    assert_eq!(anonymous.body["personalized"], false);
    assert_eq!(kinds(&anonymous.body), vec!["trending"]);
    assert_eq!(anonymous.body["sections"][0]["title"], "Trending now");
    // The two trending prints first, then the engine's best-ranked listings fill the section.
    let shown = section_ids(&anonymous.body, None);
    let mut trending = shown[..2].to_vec();
    trending.sort();
    let mut want: Vec<String> = c.art[..2].iter().map(|p| p.id.clone()).collect();
    want.sort();
    assert_eq!(trending, want);
    assert_eq!(shown.len(), 8);
    let unique: HashSet<&String> = shown.iter().collect();
    assert_eq!(unique.len(), 8);
    assert_eq!(
        anonymous.aws_calls, 2,
        "GetItem of the trending list, then BatchGetItem of the listings that fill it"
    );

    // Two favorites: still cold start (fewer than 3 favorites, fewer than 5 views).
    let favorites = DynamoFavorites::new(c.client.clone(), &c.table);
    for p in &c.jewelry[..2] {
        favorites
            .add("alice", FavoriteKind::Product, &p.id)
            .await
            .expect("favorite");
    }
    let cold = get(&app, Some("alice")).await;
    assert_eq!(cold.body["personalized"], false);
    assert_eq!(kinds(&cold.body), vec!["trending"]);
    let shown = section_ids(&cold.body, None);
    assert_eq!(shown.len(), 8);
    assert!(
        c.jewelry[..2].iter().all(|f| !shown.contains(&f.id)),
        "favorites are never suggested"
    );
    assert_eq!(
        cold.aws_calls, 4,
        "2 Query + 1 GetItem in parallel, then the filling BatchGetItem"
    );

    // A third favorite of the same category: personalized, suggesting other in-stock jewelry.
    favorites
        .add("alice", FavoriteKind::Product, &c.jewelry[2].id)
        .await
        .expect("favorite");
    // One ring is repriced far above alice's range; the index has not caught up yet.
    bazaar_aws::catalog::DynamoCatalog::new(c.client.clone(), &c.table)
        .update_product(
            "smith",
            &c.jewelry[3].id,
            bazaar_domain::validate::ProductChanges {
                price_cents: Some(80_000),
                ..Default::default()
            },
        )
        .await
        .expect("repriced");
    let feed = get(&app, Some("alice")).await;
    assert_eq!(feed.status, 200);
    assert_eq!(feed.body["personalized"], true, "{}", feed.body);
    let kinds = kinds(&feed.body);
    assert!(kinds.contains(&"favorites".to_owned()), "{kinds:?}");
    assert!(kinds.contains(&"category".to_owned()), "{kinds:?}");
    let category = feed.body["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .find(|s| s["kind"] == "category")
        .expect("a category section");
    assert_eq!(category["title"], "More in jewelry");
    let favorited: HashSet<&str> = c.jewelry[..3].iter().map(|p| p.id.as_str()).collect();
    let other_jewelry: HashSet<&str> = c.jewelry[4..20].iter().map(|p| p.id.as_str()).collect();
    let suggested: Vec<String> = section_ids(&feed.body, Some("category"))
        .into_iter()
        .chain(section_ids(&feed.body, Some("favorites")))
        .collect();
    assert!(!suggested.is_empty());
    for id in &suggested {
        assert!(
            other_jewelry.contains(id.as_str()),
            "{id} is not another in-stock jewelry product within the price cap"
        );
    }
    let all = section_ids(&feed.body, None);
    assert!(
        all.iter().all(|id| !favorited.contains(id.as_str())),
        "favorites are never suggested"
    );
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "each product in one section only");
    for section in feed.body["sections"].as_array().expect("sections") {
        for p in section["products"].as_array().expect("products") {
            assert!(p["available"].as_i64().expect("available") > 0, "{p}");
            assert!(p["shop"]["name"].is_string());
        }
    }
    assert_eq!(
        feed.aws_calls, 4,
        "2 Query + GetItem (parallel), then one BatchGetItem"
    );

    // The engine being down degrades to trending, never to an error.
    let degraded = App::new(
        DynamoFeedStore::new(c.client.clone(), &c.table),
        Down,
        &config(&c.table),
    );
    let feed = get(&degraded, Some("alice")).await;
    assert_eq!(feed.status, 200);
    assert_eq!(feed.body["personalized"], false);
    assert_eq!(self::kinds(&feed.body), vec!["trending"]);
}

#[tokio::test]
async fn views_alone_personalize_and_are_shown_as_recently_viewed() {
    let (c, engine) = catalog("feed-views").await;
    let views = DynamoViews::new(c.client.clone(), &c.table);
    // Five art prints viewed (the threshold), newest last.
    for p in &c.art {
        views.record("bob", p).await.expect("view");
    }
    let app = App::new(
        DynamoFeedStore::new(c.client.clone(), &c.table),
        engine,
        &config(&c.table),
    );
    // Nothing is trending yet (the job has not run): the feed is not empty, it shows the engine's
    // best-ranked in-stock listings, sold-out ones left out.
    let anonymous = get(&app, None).await;
    assert_eq!(anonymous.body["sections"][0]["title"], "Popular right now");
    assert_eq!(kinds(&anonymous.body), vec!["trending"]);
    let popular = section_ids(&anonymous.body, None);
    assert_eq!(popular.len(), 8);
    let sold = &c.jewelry.last().expect("the sold-out ring").id;
    assert!(!popular.contains(sold));

    let feed = get(&app, Some("bob")).await;
    assert_eq!(feed.body["personalized"], true, "{}", feed.body);
    // No favorites: no "favorites" section. Every art print was viewed, so "More in art" has
    // nothing new to suggest and the prints are shown once, newest view first, as recently viewed.
    assert_eq!(kinds(&feed.body), vec!["recent"], "{}", feed.body);
    let recent = section_ids(&feed.body, Some("recent"));
    let newest_first: Vec<String> = c.art.iter().rev().map(|p| p.id.clone()).collect();
    assert_eq!(recent, newest_first);
}

/// The product ids of a `GET /trending` answer, in order.
fn trending_ids(body: &Value) -> Vec<String> {
    body["products"]
        .as_array()
        .expect("products")
        .iter()
        .map(|p| p["id"].as_str().expect("id").to_owned())
        .collect()
}

/// What every `GET /trending` answer keeps: each product once, and every product filled from the
/// engine (after the first `stored`) in stock and of `category` when one was asked for.
fn assert_trending_list(body: &Value, stored: usize, category: Option<&str>) {
    let ids = trending_ids(body);
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "each product once: {ids:?}");
    for p in &body["products"].as_array().expect("products")[stored..] {
        assert!(p["available"].as_i64().expect("available") > 0, "{p}");
        assert!(p["shop"]["name"].is_string(), "{p}");
        if let Some(category) = category {
            assert_eq!(p["category"], category, "{p}");
        }
    }
}

fn ids_of(products: &[Product]) -> HashSet<String> {
    products.iter().map(|p| p.id.clone()).collect()
}

/// Nothing has happened yet: `GET /trending` is not empty, the engine's best-ranked in-stock
/// listings fill it (of the category asked for), re-read for live stock.
#[tokio::test]
async fn a_quiet_marketplaces_trending_is_filled_from_the_engine() {
    let (c, engine) = catalog("trending-quiet").await;
    // Since they were indexed, one ring sold out and one print moved to another category.
    let catalog = bazaar_aws::catalog::DynamoCatalog::new(c.client.clone(), &c.table);
    catalog
        .update_product(
            "smith",
            &c.jewelry[0].id,
            bazaar_domain::validate::ProductChanges {
                quantity: Some(0),
                ..Default::default()
            },
        )
        .await
        .expect("sold out");
    catalog
        .update_product(
            "painter",
            &c.art[4].id,
            bazaar_domain::validate::ProductChanges {
                category: Some("home-decor".into()),
                ..Default::default()
            },
        )
        .await
        .expect("moved");
    let app = App::new(
        DynamoFeedStore::new(c.client.clone(), &c.table),
        engine,
        &config(&c.table),
    );
    let sold: HashSet<String> = [
        c.jewelry[0].id.clone(),
        c.jewelry.last().expect("the sold-out ring").id.clone(),
    ]
    .into();

    // Overall: a full list (24) of the 25 listings still in stock.
    let all = request(&app, "/trending", None).await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_trending_list(&all.body, 0, None);
    let ids = trending_ids(&all.body);
    assert_eq!(ids.len(), 24);
    assert!(ids.iter().all(|id| !sold.contains(id)), "{ids:?}");
    assert_eq!(
        all.aws_calls, 2,
        "GetItem of the stored list, then BatchGetItem of the listings that fill it"
    );

    // A category: a full category list (12) of its in-stock listings only.
    let jewelry = request(&app, "/trending?category=jewelry", None).await;
    assert_eq!(jewelry.status, 200);
    assert_trending_list(&jewelry.body, 0, Some("jewelry"));
    let ids = trending_ids(&jewelry.body);
    assert_eq!(ids.len(), 12);
    let rings = ids_of(&c.jewelry);
    assert!(
        ids.iter()
            .all(|id| rings.contains(id) && !sold.contains(id))
    );
    assert_eq!(jewelry.aws_calls, 2);

    // Fewer listings than a full list: all of them, the moved print left out.
    let art = request(&app, "/trending?category=art", None).await;
    assert_trending_list(&art.body, 0, Some("art"));
    let mut ids = trending_ids(&art.body);
    ids.sort();
    let mut want: Vec<String> = c.art[..4].iter().map(|p| p.id.clone()).collect();
    want.sort();
    assert_eq!(ids, want);

    // A category nobody lists in: empty, and nothing read beyond the stored list.
    let toys = request(&app, "/trending?category=toys", None).await;
    assert_eq!(toys.status, 200);
    assert_eq!(
        toys.body,
        serde_json::json!({"products": [], "trending": 0})
    );
    assert_eq!(toys.aws_calls, 1);

    // `?category=` is validated as before, before anything is read.
    let bad = request(&app, "/trending?category=Not%20A%20Slug", None).await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["code"], "validation_failed");
    assert_eq!(bad.aws_calls, 0);
    let twice = request(&app, "/trending?category=art&category=jewelry", None).await;
    assert_eq!(twice.status, 400);
    assert_eq!(twice.aws_calls, 0);
    // Blank is overall.
    let blank = request(&app, "/trending?category=", None).await;
    assert_eq!(trending_ids(&blank.body).len(), 24);
}

/// Real trending products come first, as stored, then the engine's listings fill the list, each
/// product once; when the engine is down or slow, the stored list alone is the answer.
#[tokio::test]
async fn trending_products_come_first_and_the_stored_list_survives_the_engine() {
    let (c, engine) = catalog("trending-padded").await;
    // Activity makes two prints trending: the first viewed by two users, the second by one.
    let views = DynamoViews::new(c.client.clone(), &c.table);
    for user in ["browser", "visitor"] {
        views.record(user, &c.art[0]).await.expect("view");
    }
    views.record("browser", &c.art[1]).await.expect("view");
    DynamoTrending::new(c.client.clone(), &c.table)
        .run(chrono::Utc::now())
        .await
        .expect("trending");
    let hot = vec![c.art[0].id.clone(), c.art[1].id.clone()];
    let app = App::new(
        DynamoFeedStore::new(c.client.clone(), &c.table),
        engine.clone(),
        &config(&c.table),
    );

    let all = request(&app, "/trending", None).await;
    assert_eq!(all.status, 200);
    let ids = trending_ids(&all.body);
    assert_eq!(ids[..2], hot[..], "the trending products first, best first");
    assert_eq!(ids.len(), 24);
    assert_trending_list(&all.body, 2, None);
    assert_eq!(all.aws_calls, 2);

    // The category's list after activity: its trending products, then its other listings.
    let art = request(&app, "/trending?category=art", None).await;
    let ids = trending_ids(&art.body);
    assert_eq!(ids[..2], hot[..]);
    assert_trending_list(&art.body, 2, Some("art"));
    let mut rest = ids[2..].to_vec();
    rest.sort();
    let mut others: Vec<String> = c.art[2..].iter().map(|p| p.id.clone()).collect();
    others.sort();
    assert_eq!(rest, others);

    // Nothing trending in jewelry: filled from the engine, never with the trending prints.
    let jewelry = request(&app, "/trending?category=jewelry", None).await;
    let ids = trending_ids(&jewelry.body);
    assert_eq!(ids.len(), 12);
    assert_trending_list(&jewelry.body, 0, Some("jewelry"));
    assert!(ids.iter().all(|id| ids_of(&c.jewelry).contains(id)));

    // The engine down: the stored lists alone, never an error, and only the GetItem.
    let down = App::new(
        DynamoFeedStore::new(c.client.clone(), &c.table),
        Down,
        &config(&c.table),
    );
    for (path, want) in [
        ("/trending", hot.clone()),
        ("/trending?category=art", hot.clone()),
        ("/trending?category=jewelry", Vec::new()),
    ] {
        let r = request(&down, path, None).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert_eq!(trending_ids(&r.body), want, "{path}");
        assert_eq!(r.aws_calls, 1, "{path}");
    }

    // The engine too slow (it would have filled the list): the same.
    let slow = App::new(
        DynamoFeedStore::new(c.client.clone(), &c.table),
        Slow(engine.clone()),
        &config(&c.table),
    );
    let r = request(&slow, "/trending", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(trending_ids(&r.body), hot);
}

/// A full stored list is answered as stored: one `GetItem`, the engine never asked.
#[tokio::test]
async fn a_full_trending_list_is_one_get_item() {
    let (c, _engine) = catalog("trending-full").await;
    let views = DynamoViews::new(c.client.clone(), &c.table);
    let in_stock: Vec<&Product> = c
        .jewelry
        .iter()
        .filter(|p| p.quantity > 0)
        .chain(c.art.iter())
        .take(24)
        .collect();
    for p in &in_stock {
        views.record("browser", p).await.expect("view");
    }
    DynamoTrending::new(c.client.clone(), &c.table)
        .run(chrono::Utc::now())
        .await
        .expect("trending");
    let app = App::new(
        DynamoFeedStore::new(c.client.clone(), &c.table),
        Unasked,
        &config(&c.table),
    );
    let all = request(&app, "/trending", None).await;
    assert_eq!(all.status, 200);
    let ids: HashSet<String> = trending_ids(&all.body).into_iter().collect();
    assert_eq!(
        ids,
        in_stock
            .iter()
            .map(|p| p.id.clone())
            .collect::<HashSet<String>>()
    );
    assert_eq!(all.aws_calls, 1, "GetItem of the stored list");
    let jewelry = request(&app, "/trending?category=jewelry", None).await;
    assert_eq!(trending_ids(&jewelry.body).len(), 12);
    assert_eq!(jewelry.aws_calls, 1);
}

/// DynamoDB round trips of 1,000 anonymous `GET /feed` on `app`, as 20 bursts of 50 concurrent
/// requests.
async fn thousand_feed_reads(app: &impl HttpApp) -> u32 {
    let mut total = 0;
    for _ in 0..20 {
        let burst = (0..50).map(|_| async {
            let req = Request::builder()
                .method("GET")
                .uri("/feed")
                .body(Body::Empty)
                .expect("request");
            let (response, calls) = counting_aws_calls(app.handle(req)).await;
            assert_eq!(response.expect("a response").status(), 200);
            calls
        });
        total += futures::future::join_all(burst).await.iter().sum::<u32>();
    }
    total
}

/// The README's "calls per 1,000 reads of the home feed" (anonymous), without and with the
/// per-instance cache of the stored trending lists (as the function is built; here one freshness
/// window: the cache's clock does not move). A full list: 1 `GetItem` a read before, one per
/// window after. A short list (a quiet marketplace) is filled from the engine and its products
/// re-read for live stock, which stays uncached: at most 2 calls a read before, 1 after.
#[tokio::test]
async fn hot_feed_reads_cost_one_stored_list_read_per_window() {
    use bazaar_domain::cache::{CachedFeed, ManualClock};
    let cached = |c: &Catalog| {
        CachedFeed::with_clock(
            DynamoFeedStore::new(c.client.clone(), &c.table),
            std::sync::Arc::new(ManualClock::default()),
        )
    };
    // A full list.
    let (c, _engine) = catalog("feed-hot-full").await;
    let views = DynamoViews::new(c.client.clone(), &c.table);
    let in_stock: Vec<&Product> = c
        .jewelry
        .iter()
        .filter(|p| p.quantity > 0)
        .chain(c.art.iter())
        .take(24)
        .collect();
    for p in &in_stock {
        views.record("browser", p).await.expect("view");
    }
    DynamoTrending::new(c.client.clone(), &c.table)
        .run(chrono::Utc::now())
        .await
        .expect("trending");
    let plain = App::new(
        DynamoFeedStore::new(c.client.clone(), &c.table),
        Unasked,
        &config(&c.table),
    );
    let full_before = thousand_feed_reads(&plain).await;
    let full_after = thousand_feed_reads(&App::new(cached(&c), Unasked, &config(&c.table))).await;

    // A short list, filled from the engine.
    let (c, engine) = catalog("feed-hot-short").await;
    let views = DynamoViews::new(c.client.clone(), &c.table);
    for p in &c.art[..2] {
        views.record("browser", p).await.expect("view");
    }
    DynamoTrending::new(c.client.clone(), &c.table)
        .run(chrono::Utc::now())
        .await
        .expect("trending");
    let plain = App::new(
        DynamoFeedStore::new(c.client.clone(), &c.table),
        engine.clone(),
        &config(&c.table),
    );
    let short_before = thousand_feed_reads(&plain).await;
    let short_after = thousand_feed_reads(&App::new(cached(&c), engine, &config(&c.table))).await;
    println!(
        "calls per 1,000 anonymous feed reads: full list before {full_before}, after {full_after}; \
         short list before {short_before}, after {short_after}"
    );
    assert_eq!((full_before, full_after), (1_000, 1));
    // A fill that misses its time budget answers the stored list alone (no re-read), which
    // 50 concurrent reads on a busy machine often do: hence bounds, not exact counts.
    assert!(short_before <= 2_000, "{short_before}");
    assert!(short_after <= 1_001, "{short_after}");
    assert!(
        short_after < short_before,
        "{short_after} vs {short_before}"
    );
}
