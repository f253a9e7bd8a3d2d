//! The relevance suite: one set of expectations every search engine must meet. It runs against
//! the embedded engine always, and against OpenSearch when `OPENSEARCH_URL` is set (an index of
//! its own, deleted afterwards).

#![cfg(any(feature = "embedded", feature = "opensearch"))]

use bazaar_domain::ports::SearchIndex;
use bazaar_domain::search::{Applied, IndexChange, SearchDoc, SearchPage, SearchQuery, Sort};
use chrono::{DateTime, Duration, TimeZone, Utc};
use std::collections::BTreeSet;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0)
        .single()
        .expect("time")
}

#[allow(clippy::too_many_arguments)]
fn doc(
    id: &str,
    title: &str,
    description: &str,
    tags: &[&str],
    category: &str,
    price_cents: i64,
    is_vintage: bool,
    quantity: i64,
    days_old: i64,
) -> SearchDoc {
    SearchDoc {
        id: id.into(),
        title: title.into(),
        description: description.into(),
        tags: tags.iter().map(|t| (*t).into()).collect(),
        category: category.into(),
        price_cents,
        currency: "USD".into(),
        shop_id: format!("shop-{}", &id[..1]),
        shop_name: "The Copper Kiln".into(),
        shop_rating: None,
        shop_sales_count: 0,
        is_vintage,
        quantity,
        image: None,
        created_at: now() - Duration::days(days_old),
        version: 1,
        deleted: false,
    }
}

/// The catalog the suite searches: handmade listings in their makers' own words.
fn catalog() -> Vec<SearchDoc> {
    vec![
        doc(
            "a1",
            "Handcrafted leather billfold",
            "Stitched by hand, slim, six card slots.",
            &["gift", "men"],
            "bags-and-purses",
            4_500,
            false,
            1,
            3,
        ),
        doc(
            "a2",
            "Cowhide card case",
            "A small case for cards, saddle stitched.",
            &["minimalist"],
            "bags-and-purses",
            2_800,
            false,
            1,
            10,
        ),
        doc(
            "a3",
            "Leather journal cover",
            "Refillable A5 notebook cover.",
            &["notebook", "travel"],
            "paper-goods",
            3_900,
            false,
            2,
            5,
        ),
        doc(
            "a4",
            "Brass buckle belt",
            "Belt of full grain leather with a brass buckle.",
            &["belt"],
            "accessories",
            5_200,
            false,
            1,
            20,
        ),
        doc(
            "b1",
            "Vintage brass candle holder",
            "From a 1960s estate sale.",
            &["candles", "brass"],
            "home-decor",
            3_200,
            true,
            1,
            40,
        ),
        doc(
            "b2",
            "Retro enamel coffee pot",
            "Speckled blue enamel, 1970s.",
            &["kitchen"],
            "home-decor",
            2_400,
            true,
            1,
            60,
        ),
        doc(
            "b3",
            "Antique oak writing box",
            "Victorian, brass inlay, original key.",
            &["wood"],
            "home-decor",
            18_500,
            true,
            1,
            90,
        ),
        doc(
            "c1",
            "Sterling silver pendant necklace",
            "A hammered disc on an 18 inch chain.",
            &["jewelry", "minimalist"],
            "jewelry",
            8_900,
            false,
            1,
            2,
        ),
        doc(
            "c2",
            "Gold hoop earrings",
            "14k gold filled hoops, lightweight.",
            &["hoops"],
            "jewelry",
            12_000,
            false,
            3,
            7,
        ),
        doc(
            "c3",
            "Beaded choker",
            "Glass seed beads, adjustable.",
            &["beads"],
            "jewelry",
            1_800,
            false,
            1,
            1,
        ),
        doc(
            "c4",
            "Signet ring",
            "Solid brass, engraved to order.",
            &["ring", "custom"],
            "jewelry",
            6_500,
            false,
            1,
            15,
        ),
        doc(
            "d1",
            "Hand knitted wool hat",
            "Chunky knit in merino.",
            &["winter", "knitwear"],
            "clothing",
            3_500,
            false,
            1,
            4,
        ),
        doc(
            "d2",
            "Knitting pattern for socks",
            "A PDF pattern, beginner friendly.",
            &["pattern"],
            "craft-supplies",
            600,
            false,
            99,
            30,
        ),
        doc(
            "d3",
            "Ceramic mug with speckled glaze",
            "Wheel thrown stoneware, 12 oz.",
            &["coffee", "mug"],
            "home-decor",
            2_600,
            false,
            4,
            6,
        ),
        // Sold out: matches "wallet" and "leather" but must never be shown.
        doc(
            "e1",
            "Leather wallet with coin pocket",
            "Full grain leather wallet.",
            &["wallet"],
            "bags-and-purses",
            3_000,
            false,
            0,
            2,
        ),
    ]
}

const VISIBLE: usize = 14;

fn query(text: &str) -> SearchQuery {
    SearchQuery {
        text: (!text.is_empty()).then(|| text.to_owned()),
        page: 1,
        page_size: 50,
        now: now(),
        ..SearchQuery::default()
    }
}

fn ids(page: &SearchPage) -> Vec<String> {
    page.hits.iter().map(|h| h.doc.id.clone()).collect()
}

async fn search(engine: &impl SearchIndex, q: &SearchQuery) -> SearchPage {
    engine.search(q).await.expect("search")
}

/// Applies changes and waits until the engine shows them (OpenSearch refreshes once a second).
async fn index(engine: &impl SearchIndex, changes: Vec<IndexChange>, expect_total: u64) {
    let outcomes = engine.apply(changes).await.expect("apply");
    assert!(
        outcomes.iter().all(|o| *o == Applied::Indexed),
        "{outcomes:?}"
    );
    for _ in 0..100 {
        if search(engine, &query("")).await.total == expect_total {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the engine never showed {expect_total} products");
}

async fn suite(engine: &impl SearchIndex) {
    engine.prepare().await.expect("prepare");
    index(
        engine,
        catalog().into_iter().map(IndexChange::Upsert).collect(),
        VISIBLE as u64,
    )
    .await;

    // Synonyms: "wallet" finds the billfold (and the cowhide case through "leather"? no: only
    // wallet's group), "antique" finds vintage and retro listings, "leather" finds cowhide.
    let wallet = ids(&search(engine, &query("wallet")).await);
    assert!(
        wallet.contains(&"a1".to_owned()),
        "wallet → billfold: {wallet:?}"
    );
    assert!(
        !wallet.contains(&"e1".to_owned()),
        "sold out shown: {wallet:?}"
    );
    let antique = ids(&search(engine, &query("antique")).await);
    for id in ["b1", "b2", "b3"] {
        assert!(
            antique.contains(&id.to_owned()),
            "antique → {id}: {antique:?}"
        );
    }
    let vintage = ids(&search(engine, &query("vintage")).await);
    assert!(
        vintage.contains(&"b3".to_owned()),
        "vintage → antique: {vintage:?}"
    );
    let leather = ids(&search(engine, &query("leather")).await);
    for id in ["a1", "a2", "a3", "a4"] {
        assert!(
            leather.contains(&id.to_owned()),
            "leather → {id}: {leather:?}"
        );
    }
    let handmade = ids(&search(engine, &query("handmade wallet")).await);
    assert_eq!(
        handmade.first().map(String::as_str),
        Some("a1"),
        "{handmade:?}"
    );
    let silver = ids(&search(engine, &query("925 necklace")).await);
    assert_eq!(silver.first().map(String::as_str), Some("c1"), "{silver:?}");

    // Misspellings.
    let necklace = ids(&search(engine, &query("neckalce")).await);
    assert!(
        necklace.contains(&"c1".to_owned()),
        "neckalce: {necklace:?}"
    );
    let lether = ids(&search(engine, &query("lether")).await);
    for id in ["a3", "a4"] {
        assert!(lether.contains(&id.to_owned()), "lether → {id}: {lether:?}");
    }
    assert!(search(engine, &query("xq")).await.hits.is_empty());

    // Stemming: "knitting" finds "knitted", "candle" finds "candles".
    let knitting = ids(&search(engine, &query("knitting")).await);
    for id in ["d1", "d2"] {
        assert!(
            knitting.contains(&id.to_owned()),
            "knitting → {id}: {knitting:?}"
        );
    }
    let candle = ids(&search(engine, &query("candle")).await);
    assert_eq!(candle, ["b1"]);

    // Field boosts: a title match outranks a description match.
    let journal = ids(&search(engine, &query("leather")).await);
    let pos = |id: &str| journal.iter().position(|x| x == id).unwrap_or(usize::MAX);
    assert!(
        pos("a3") < pos("a4"),
        "title^3 before description: {journal:?}"
    );

    // Filters.
    let mut q = query("");
    q.category = Some("jewelry".into());
    let jewelry = search(engine, &q).await;
    assert_eq!(
        ids(&jewelry).into_iter().collect::<BTreeSet<_>>(),
        ["c1", "c2", "c3", "c4"].map(String::from).into()
    );
    assert_eq!(jewelry.total, 4);
    let mut q = query("");
    q.min_price_cents = Some(2_500);
    q.max_price_cents = Some(5_000);
    let priced = search(engine, &q).await;
    assert!(
        priced
            .hits
            .iter()
            .all(|h| (2_500..=5_000).contains(&h.doc.price_cents))
    );
    assert_eq!(priced.total, 6, "{:?}", ids(&priced));
    let mut q = query("");
    q.vintage = Some(true);
    assert_eq!(
        ids(&search(engine, &q).await)
            .into_iter()
            .collect::<BTreeSet<_>>(),
        ["b1", "b2", "b3"].map(String::from).into()
    );
    let mut q = query("brass");
    q.vintage = Some(false);
    assert_eq!(
        ids(&search(engine, &q).await)
            .into_iter()
            .collect::<BTreeSet<_>>(),
        ["a4", "c4"].map(String::from).into()
    );

    // Facets count every matching in-stock product.
    let all = search(engine, &query("")).await;
    assert_eq!(all.total, VISIBLE as u64);
    let visible: Vec<SearchDoc> = catalog().into_iter().filter(SearchDoc::visible).collect();
    let expected = bazaar_domain::search::Facets::count(&visible);
    assert_eq!(all.facets, expected);
    let leather = search(engine, &query("leather")).await;
    let counted: u64 = leather.facets.categories.iter().map(|c| c.count).sum();
    assert_eq!(counted, leather.total);
    let ranged: u64 = leather.facets.price_ranges.iter().map(|c| c.count).sum();
    assert_eq!(ranged, leather.total);

    // Sorts.
    for (sort, check) in [
        (
            Sort::PriceAsc,
            (|a: &SearchDoc, b: &SearchDoc| a.price_cents <= b.price_cents)
                as fn(&SearchDoc, &SearchDoc) -> bool,
        ),
        (Sort::PriceDesc, |a, b| a.price_cents >= b.price_cents),
        (Sort::Newest, |a, b| a.created_at >= b.created_at),
    ] {
        let mut q = query("");
        q.sort = sort;
        let page = search(engine, &q).await;
        assert_eq!(page.hits.len(), VISIBLE);
        assert!(
            page.hits.windows(2).all(|w| check(&w[0].doc, &w[1].doc)),
            "{sort:?}: {:?}",
            ids(&page)
        );
    }

    // Pagination walks every result once, in order, with a stable total.
    for sort in [Sort::Relevance, Sort::Newest, Sort::PriceAsc] {
        let mut seen = Vec::new();
        for page in 1..=8 {
            let mut q = query("");
            q.sort = sort;
            q.page = page;
            q.page_size = 2;
            let result = search(engine, &q).await;
            assert_eq!(result.total, VISIBLE as u64);
            seen.extend(ids(&result));
        }
        let mut q = query("");
        q.sort = sort;
        assert_eq!(seen, ids(&search(engine, &q).await), "{sort:?}");
    }

    // Versions: an older event never overwrites a newer document or resurrects a deleted one.
    let mut v3 = doc(
        "c3",
        "Beaded choker, now in blue",
        "",
        &[],
        "jewelry",
        1_900,
        false,
        1,
        1,
    );
    v3.version = 3;
    let mut v2 = v3.clone();
    v2.title = "Beaded choker, stale".into();
    v2.version = 2;
    let outcomes = engine
        .apply(vec![
            IndexChange::Upsert(v3),
            IndexChange::Upsert(v2.clone()),
        ])
        .await
        .expect("apply");
    assert_eq!(outcomes, [Applied::Indexed, Applied::Stale]);
    let outcomes = engine
        .apply(vec![IndexChange::Upsert(v2)])
        .await
        .expect("apply");
    assert_eq!(outcomes, [Applied::Stale]);
    let removal = IndexChange::Remove {
        id: "c4".into(),
        version: 5,
    };
    assert_eq!(
        engine.apply(vec![removal]).await.expect("apply"),
        [Applied::Indexed]
    );
    let mut old = catalog().into_iter().find(|d| d.id == "c4").expect("c4");
    old.version = 4;
    assert_eq!(
        engine
            .apply(vec![IndexChange::Upsert(old)])
            .await
            .expect("apply"),
        [Applied::Stale]
    );
    // Sold: quantity 0 at a newer version hides it.
    let mut sold = catalog().into_iter().find(|d| d.id == "c1").expect("c1");
    sold.quantity = 0;
    sold.version = 2;
    assert_eq!(
        engine
            .apply(vec![IndexChange::Upsert(sold)])
            .await
            .expect("apply"),
        [Applied::Indexed]
    );
    for _ in 0..100 {
        let mut q = query("");
        q.category = Some("jewelry".into());
        let page = search(engine, &q).await;
        if page.total == 2 {
            let titles: Vec<&str> = page.hits.iter().map(|h| h.doc.title.as_str()).collect();
            assert!(titles.contains(&"Beaded choker, now in blue"), "{titles:?}");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the removal and the sale never showed");
}

#[cfg(feature = "embedded")]
#[tokio::test]
async fn the_embedded_engine_meets_the_relevance_suite() {
    let engine = bazaar_search::embedded::EmbeddedIndex::in_memory().expect("index");
    suite(&engine).await;
}

#[cfg(feature = "embedded")]
#[tokio::test]
async fn the_embedded_engine_on_disk_meets_the_relevance_suite() {
    let dir = std::env::temp_dir().join(format!("bazaar-relevance-{}", uuid::Uuid::new_v4()));
    let engine = bazaar_search::embedded::EmbeddedIndex::open(&dir).expect("index");
    suite(&engine).await;
    // A second handle on the same directory (another process's view) sees the same index.
    let again = bazaar_search::embedded::EmbeddedIndex::open(&dir).expect("reopen");
    assert_eq!(search(&again, &query("")).await.total, (VISIBLE - 2) as u64);
    drop((engine, again));
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "opensearch")]
#[tokio::test]
async fn opensearch_meets_the_relevance_suite_when_a_cluster_is_configured() {
    let Ok(url) = std::env::var("OPENSEARCH_URL") else {
        eprintln!(
            "OPENSEARCH_URL is not set: the OpenSearch run of the relevance suite is skipped"
        );
        return;
    };
    let index = format!("bazaar-relevance-{}", uuid::Uuid::new_v4().simple());
    let sigv4 = std::env::var("OPENSEARCH_SIGV4").is_ok_and(|v| v == "true");
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let engine =
        bazaar_search::opensearch::OpenSearchIndex::connect(&url, &index, sigv4.then_some(&sdk))
            .expect("connect");
    suite(&engine).await;
}
