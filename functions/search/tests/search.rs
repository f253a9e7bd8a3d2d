//! Integration tests of the search function: the real handler over the embedded engine, and over
//! the OpenSearch adapter pointed at a local HTTP endpoint playing a cluster that goes down and
//! comes back, with the DynamoDB fallback listing in the emulator (a table per test).

use bazaar_aws::catalog::DynamoCatalog;
use bazaar_aws::listing::DynamoListing;
use bazaar_domain::catalog::Shipping;
use bazaar_domain::ports::{CatalogStore, CategoryListing, SearchIndex};
use bazaar_domain::search::{IndexChange, SearchDoc};
use bazaar_domain::validate::{NewProduct, NewShop};
use bazaar_lambda::http::HttpApp;
use bazaar_search::breaker::BreakerConfig;
use bazaar_search::embedded::EmbeddedIndex;
use bazaar_search::opensearch::OpenSearchIndex;
use lambda_http::Body;
use lambda_http::http::Request;
use serde_json::{Value, json};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[test]
fn routes_match_the_template() {
    bazaar_infra::testing::assert_routes_match("search", search::ROUTES);
}

async fn call<S: SearchIndex, L: CategoryListing>(
    app: &search::App<S, L>,
    method: &str,
    uri: &str,
) -> (u16, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::Empty)
        .expect("request");
    let response = app.handle(req).await.expect("response");
    let status = response.status().as_u16();
    let body = match response.body() {
        Body::Text(t) => serde_json::from_str(t).expect("json"),
        Body::Binary(b) => serde_json::from_slice(b).expect("json"),
        Body::Empty => Value::Null,
        _ => Value::Null,
    };
    (status, body)
}

/// A shop with three products: two jewelry listings and a mug.
async fn catalog(test: &str) -> (aws_sdk_dynamodb::Client, String, Vec<SearchDoc>) {
    let (client, table) = bazaar_infra::testing::fresh_table(test).await;
    let store = DynamoCatalog::new(client.clone(), &table);
    let owner = format!("owner-{test}");
    let shop = store
        .create_shop(
            &owner,
            None,
            NewShop {
                name: format!("Silver Birch {test}"),
                description: String::new(),
                shipping: Shipping::default(),
            },
        )
        .await
        .expect("shop");
    let mut docs = Vec::new();
    for (title, category, price, vintage) in [
        ("Silver band ring", "jewelry", 3_800, false),
        ("Antique garnet ring", "jewelry", 12_500, true),
        ("Speckled mug", "home-decor", 2_400, false),
    ] {
        let (product, shop) = store
            .create_product(
                &owner,
                &shop.id,
                NewProduct {
                    title: title.into(),
                    description: String::new(),
                    price_cents: price,
                    quantity: 1,
                    category: category.into(),
                    tags: vec![],
                    is_vintage: vintage,
                    images: vec!["https://img.example/1.jpg".into()],
                },
            )
            .await
            .expect("product");
        docs.push(SearchDoc::new(&product, &shop));
    }
    (client, table, docs)
}

#[tokio::test]
async fn search_validates_its_parameters_and_answers_the_contract_shape() {
    let (client, table, docs) = catalog("search-shape").await;
    let engine = EmbeddedIndex::in_memory().expect("index");
    engine
        .apply(docs.into_iter().map(IndexChange::Upsert).collect())
        .await
        .expect("indexed");
    let app = search::App::new(
        engine,
        DynamoListing::new(client, table),
        BreakerConfig::default(),
        "search",
    );

    let (status, body) = call(&app, "GET", "/search?q=rings&sort=price_desc&page_size=1").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["total"], 2);
    assert_eq!(
        (body["page"].as_u64(), body["page_size"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(body["degraded"], false);
    let p = &body["products"][0];
    assert_eq!(p["title"], "Antique garnet ring");
    for field in [
        "id",
        "shop_id",
        "shop_name",
        "category",
        "tags",
        "is_vintage",
        "image",
        "score",
        "currency",
        "price_cents",
    ] {
        assert!(p.get(field).is_some(), "{field} missing: {p}");
    }
    assert_eq!(p["image"], "https://img.example/1.jpg");
    assert_eq!(
        body["facets"]["categories"],
        json!([{"key": "jewelry", "count": 2}])
    );
    assert_eq!(
        body["facets"]["price_ranges"].as_array().map(Vec::len),
        Some(4)
    );
    assert_eq!(
        body["facets"]["price_ranges"][0],
        json!({"key": "Under $25", "to_cents": 2500, "count": 0})
    );

    let (status, body) = call(&app, "GET", "/search?vintage=true").await;
    assert_eq!((status, body["total"].as_u64()), (200, Some(1)));

    let (status, body) = call(&app, "GET", "/search?page=0&page_size=500").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "validation_failed");
    let (status, body) = call(&app, "GET", "/search?sort=popular").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("validation_failed"))
    );
    let (status, body) = call(&app, "GET", "/search?vintage=yes").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_parameter"))
    );
    let (status, _) = call(&app, "POST", "/search").await;
    assert_eq!(status, 405);
}

fn opensearch_hit(doc: &SearchDoc) -> Value {
    json!({
        "took": 3, "timed_out": false,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": 1, "relation": "eq"}, "max_score": 4.2,
                 "hits": [{"_index": "products", "_id": doc.id, "_score": 4.2, "_source": doc}]},
        "aggregations": {
            "categories": {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0,
                           "buckets": [{"key": doc.category, "doc_count": 1}]},
            "price_ranges": {"buckets": [{"key": "$25 to $50", "from": 2500.0, "to": 5000.0, "doc_count": 1}]}
        }
    })
}

#[tokio::test]
async fn the_breaker_opens_on_a_failing_engine_search_degrades_and_recovers() {
    let (client, table, docs) = catalog("search-breaker").await;
    let cluster = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/products/_search"))
        .respond_with(ResponseTemplate::new(503).set_body_string("cluster unavailable"))
        .mount(&cluster)
        .await;
    let engine = OpenSearchIndex::connect(&cluster.uri(), "products", None).expect("connect");
    let app = search::App::new(
        engine,
        DynamoListing::new(client, table),
        BreakerConfig {
            reset_timeout: Duration::from_millis(400),
            ..BreakerConfig::default()
        },
        "search",
    );

    // Every answer is a degraded 200 from the category listing, newest first, in stock only.
    for _ in 0..15 {
        let (status, body) = call(&app, "GET", "/search?q=ring&category=jewelry").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["degraded"], true);
        assert_eq!(body["total"], 2);
        let titles: Vec<&str> = body["products"]
            .as_array()
            .expect("products")
            .iter()
            .filter_map(|p| p["title"].as_str())
            .collect();
        assert_eq!(titles, ["Antique garnet ring", "Silver band ring"]);
        assert_eq!(
            body["facets"]["categories"],
            json!([{"key": "jewelry", "count": 2}])
        );
    }
    // The circuit opened after the seed's volume threshold: 10 calls reached the engine, not 15.
    let calls = cluster.received_requests().await.expect("recorded").len();
    assert_eq!(calls, 10);
    // Filters still apply, and without a category there is nothing cheap to list.
    let (_, body) = call(&app, "GET", "/search?category=jewelry&vintage=false").await;
    assert_eq!(
        (body["degraded"].as_bool(), body["total"].as_u64()),
        (Some(true), Some(1))
    );
    let (status, body) = call(&app, "GET", "/search?q=ring").await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["degraded"].as_bool(), body["total"].as_u64()),
        (Some(true), Some(0))
    );

    // The engine comes back: after the reset timeout one trial call closes the circuit.
    cluster.reset().await;
    Mock::given(method("POST"))
        .and(path("/products/_search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(opensearch_hit(&docs[0])))
        .mount(&cluster)
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for _ in 0..3 {
        let (status, body) = call(&app, "GET", "/search?q=ring&category=jewelry").await;
        assert_eq!(status, 200);
        assert_eq!(body["degraded"], false, "{body}");
        assert_eq!(body["products"][0]["title"], "Silver band ring");
        assert_eq!(body["products"][0]["score"], 4.2);
    }
    assert_eq!(
        cluster.received_requests().await.expect("recorded").len(),
        3
    );
}
