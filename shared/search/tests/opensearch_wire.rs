//! The OpenSearch adapter on the wire: the requests it sends (method, path, headers, body, SigV4)
//! and how it reads the answers, against a mock HTTP server.
#![cfg(feature = "opensearch")]

/// Named so that `cargo test opensearch` selects these tests.
mod opensearch {
    use aws_credential_types::Credentials;
    use aws_credential_types::provider::SharedCredentialsProvider;
    use bazaar_domain::ports::SearchIndex;
    use bazaar_domain::search::{Applied, IndexChange, SearchDoc, SearchError, SearchQuery, Sort};
    use bazaar_search::opensearch::{OpenSearchIndex, index_body, search_body};
    use chrono::{TimeZone, Utc};
    use serde_json::{Value, json};
    use std::time::{Duration, Instant};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, Request, ResponseTemplate};

    fn connect(server: &MockServer) -> OpenSearchIndex {
        OpenSearchIndex::connect(&server.uri(), "products", None).expect("connect")
    }

    async fn requests(server: &MockServer) -> Vec<Request> {
        server.received_requests().await.expect("recording")
    }

    fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
        request.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn query() -> SearchQuery {
        SearchQuery {
            text: Some("leather wallet".into()),
            category: Some("bags".into()),
            min_price_cents: Some(1_000),
            max_price_cents: None,
            vintage: None,
            sort: Sort::Relevance,
            page: 1,
            page_size: 20,
            now: Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap(),
        }
    }

    fn doc(id: &str, version: i64) -> SearchDoc {
        let mut d = SearchDoc::tombstone(id, version);
        d.deleted = false;
        d.title = "Leather wallet".into();
        d.category = "bags".into();
        d.price_cents = 3_500;
        d.quantity = 1;
        d.created_at = Utc.with_ymd_and_hms(2024, 4, 30, 8, 0, 0).unwrap();
        d
    }

    fn search_answer() -> Value {
        json!({
            "took": 5,
            "timed_out": false,
            "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
            "hits": {
                "total": {"value": 1, "relation": "eq"},
                "max_score": 3.5,
                "hits": [{"_index": "products", "_id": "p1", "_score": 3.5,
                    "_source": serde_json::to_value(doc("p1", 4)).unwrap()}]
            },
            "aggregations": {
                "categories": {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0,
                    "buckets": [{"key": "bags", "doc_count": 1}]},
                "price_ranges": {"buckets": [
                    {"key": "Under $25", "to": 2500.0, "doc_count": 0},
                    {"key": "$25 to $50", "from": 2500.0, "to": 5000.0, "doc_count": 1},
                    {"key": "$50 to $100", "from": 5000.0, "to": 10000.0, "doc_count": 0},
                    {"key": "Over $100", "from": 10000.0, "doc_count": 0}]}
            }
        })
    }

    #[tokio::test]
    async fn prepare_creates_a_missing_index_with_its_settings() {
        let server = MockServer::start().await;
        Mock::given(method("HEAD"))
            .and(path("/products"))
            .respond_with(ResponseTemplate::new(404))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("PUT"))
            .and(path("/products"))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"acknowledged": true, "shards_acknowledged": true, "index": "products"}),
            ))
            .expect(1)
            .mount(&server)
            .await;

        connect(&server).prepare().await.expect("prepare");

        let sent = requests(&server).await;
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0].method.as_str(), "HEAD");
        assert_eq!(sent[1].method.as_str(), "PUT");
        assert_eq!(header(&sent[1], "content-type"), Some("application/json"));
        assert_eq!(sent[1].body_json::<Value>().unwrap(), index_body());
        assert!(header(&sent[0], "authorization").is_none());
    }

    #[tokio::test]
    async fn prepare_leaves_an_existing_index_alone() {
        let server = MockServer::start().await;
        Mock::given(method("HEAD"))
            .and(path("/products"))
            .respond_with(ResponseTemplate::new(200))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("PUT"))
            .respond_with(ResponseTemplate::new(200))
            .expect(0)
            .mount(&server)
            .await;

        connect(&server).prepare().await.expect("prepare");
    }

    #[tokio::test]
    async fn prepare_accepts_losing_the_creation_race() {
        let server = MockServer::start().await;
        Mock::given(method("HEAD"))
            .respond_with(ResponseTemplate::new(404))
            .mount(&server)
            .await;
        Mock::given(method("PUT"))
            .respond_with(ResponseTemplate::new(400).set_body_json(json!({
                "error": {
                    "root_cause": [{"type": "resource_already_exists_exception",
                        "reason": "index [products/abc] already exists"}],
                    "type": "resource_already_exists_exception",
                    "reason": "index [products/abc] already exists",
                    "index": "products"},
                "status": 400})))
            .mount(&server)
            .await;
        connect(&server).prepare().await.expect("prepare");

        // Any other refusal is an error.
        server.reset().await;
        Mock::given(method("HEAD"))
            .respond_with(ResponseTemplate::new(404))
            .mount(&server)
            .await;
        Mock::given(method("PUT"))
            .respond_with(ResponseTemplate::new(400).set_body_json(json!({
                "error": {"type": "illegal_argument_exception", "reason": "unknown setting"},
                "status": 400})))
            .mount(&server)
            .await;
        let err = connect(&server).prepare().await.unwrap_err();
        assert!(
            matches!(&err, SearchError::Rejected(m) if m.contains("unknown setting")),
            "{err}"
        );
    }

    #[tokio::test]
    async fn apply_sends_external_versions_as_ndjson() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/products/_bulk"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "took": 7,
                "errors": true,
                "items": [
                    {"index": {"_index": "products", "_id": "p1", "_version": 4,
                        "result": "created", "status": 201}},
                    {"index": {"_index": "products", "_id": "p2", "status": 409, "error": {
                        "type": "version_conflict_engine_exception",
                        "reason": "[p2]: version conflict, current version [9] is higher or equal to the one provided [9]"}}},
                    {"index": {"_index": "products", "_id": "p3", "status": 400, "error": {
                        "type": "strict_dynamic_mapping_exception",
                        "reason": "mapping set to strict, dynamic introduction of [x] within [_doc] is not allowed"}}}
                ]
            })))
            .expect(1)
            .mount(&server)
            .await;

        let changes = vec![
            IndexChange::Upsert(doc("p1", 4)),
            IndexChange::Remove {
                id: "p2".into(),
                version: 9,
            },
            IndexChange::Upsert(doc("p3", 1)),
        ];
        let outcomes = connect(&server).apply(changes).await.expect("apply");
        assert_eq!(outcomes[..2], [Applied::Indexed, Applied::Stale]);
        assert!(
            matches!(&outcomes[2], Applied::Failed(m) if m.contains("strict_dynamic_mapping_exception"))
        );

        let sent = requests(&server).await;
        assert_eq!(sent.len(), 1);
        let bulk = &sent[0];
        assert_eq!(header(bulk, "content-type"), Some("application/x-ndjson"));
        // Not refreshed per request.
        assert!(
            bulk.url.query_pairs().all(|(k, _)| k != "refresh"),
            "{}",
            bulk.url
        );
        let text = String::from_utf8(bulk.body.clone()).unwrap();
        assert!(text.ends_with('\n'));
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 6);
        assert_eq!(
            lines[0],
            json!({"index": {"_index": "products", "_id": "p1", "version": 4,
                "version_type": "external"}})
        );
        assert_eq!(lines[1]["title"], "Leather wallet");
        assert_eq!(
            lines[2],
            json!({"index": {"_index": "products", "_id": "p2", "version": 9,
                "version_type": "external"}})
        );
        assert_eq!(lines[3]["deleted"], true);
        assert_eq!(lines[3]["quantity"], 0);
        assert_eq!(lines[4]["index"]["version"], 1);
    }

    #[tokio::test]
    async fn apply_of_nothing_sends_nothing() {
        let server = MockServer::start().await;
        assert_eq!(connect(&server).apply(vec![]).await.unwrap(), vec![]);
        assert!(requests(&server).await.is_empty());
    }

    #[tokio::test]
    async fn search_posts_the_query_and_reads_the_page() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/products/_search"))
            .respond_with(ResponseTemplate::new(200).set_body_json(search_answer()))
            .expect(1)
            .mount(&server)
            .await;

        let page = connect(&server).search(&query()).await.expect("search");
        assert_eq!(page.total, 1);
        assert_eq!(page.hits.len(), 1);
        assert_eq!(page.hits[0].doc, doc("p1", 4));
        assert_eq!(page.hits[0].score, 3.5);
        assert_eq!(page.facets.categories[0].key, "bags");
        assert_eq!(page.facets.price_ranges[1].count, 1);

        let sent = requests(&server).await;
        assert_eq!(sent[0].body_json::<Value>().unwrap(), search_body(&query()));
        assert_eq!(header(&sent[0], "content-type"), Some("application/json"));
        assert!(header(&sent[0], "authorization").is_none());
        assert!(header(&sent[0], "x-amz-date").is_none());
    }

    #[tokio::test]
    async fn overload_is_unavailable_and_a_refusal_is_rejected() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(503).set_body_string("Service Unavailable"))
            .mount(&server)
            .await;
        let err = connect(&server).search(&query()).await.unwrap_err();
        assert!(matches!(err, SearchError::Unavailable(_)), "{err}");

        server.reset().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(429).set_body_json(json!({
                "error": {"type": "es_rejected_execution_exception", "reason": "queue full"},
                "status": 429})))
            .mount(&server)
            .await;
        let err = connect(&server)
            .apply(vec![IndexChange::Upsert(doc("p1", 1))])
            .await
            .unwrap_err();
        assert!(matches!(err, SearchError::Unavailable(_)), "{err}");

        server.reset().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(400).set_body_json(json!({
                "error": {
                    "root_cause": [{"type": "query_shard_exception", "reason": "failed to create query"}],
                    "type": "search_phase_execution_exception",
                    "reason": "all shards failed"},
                "status": 400})))
            .mount(&server)
            .await;
        let err = connect(&server).search(&query()).await.unwrap_err();
        assert!(
            matches!(&err, SearchError::Rejected(m) if m.contains("search_phase_execution_exception")),
            "{err}"
        );

        server.reset().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_string("<html>proxy</html>"))
            .mount(&server)
            .await;
        let err = connect(&server).search(&query()).await.unwrap_err();
        assert!(matches!(err, SearchError::Malformed(_)), "{err}");
    }

    #[tokio::test]
    async fn an_unreachable_engine_is_unavailable() {
        // A port nobody listens on any more.
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let index = OpenSearchIndex::connect(&format!("http://127.0.0.1:{port}"), "products", None)
            .expect("connect does no I/O");
        let err = index.search(&query()).await.unwrap_err();
        assert!(matches!(err, SearchError::Unavailable(_)), "{err}");
        let err = index.prepare().await.unwrap_err();
        assert!(matches!(err, SearchError::Unavailable(_)), "{err}");
    }

    #[tokio::test]
    async fn a_slow_engine_times_out_after_three_seconds() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(search_answer())
                    .set_delay(Duration::from_secs(10)),
            )
            .mount(&server)
            .await;
        let started = Instant::now();
        let err = connect(&server).search(&query()).await.unwrap_err();
        let took = started.elapsed();
        assert!(matches!(err, SearchError::Unavailable(_)), "{err}");
        assert!(
            took >= Duration::from_millis(2_900) && took < Duration::from_secs(6),
            "{took:?}"
        );
    }

    #[tokio::test]
    async fn requests_are_signed_with_sigv4_for_es() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/products/_search"))
            .respond_with(ResponseTemplate::new(200).set_body_json(search_answer()))
            .mount(&server)
            .await;
        let sdk = aws_config::SdkConfig::builder()
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                None,
                None,
                "test",
            )))
            .region(aws_config::Region::new("us-east-1"))
            .build();

        let index =
            OpenSearchIndex::connect(&server.uri(), "products", Some(&sdk)).expect("connect");
        index.search(&query()).await.expect("search");

        let sent = requests(&server).await;
        let auth = header(&sent[0], "authorization").expect("authorization header");
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
            "{auth}"
        );
        assert!(auth.contains("/us-east-1/es/aws4_request"), "{auth}");
        assert!(auth.contains("SignedHeaders="), "{auth}");
        assert!(auth.contains("Signature="), "{auth}");
        let date = header(&sent[0], "x-amz-date").expect("x-amz-date");
        assert_eq!(date.len(), "20240501T120000Z".len(), "{date}");
        // The payload hash is sent (and signed), as OpenSearch Serverless requires.
        let sha = header(&sent[0], "x-amz-content-sha256").expect("x-amz-content-sha256");
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &sent[0].body);
        let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(sha, hex);
        assert!(auth.contains("x-amz-content-sha256"), "{auth}");
    }
}
