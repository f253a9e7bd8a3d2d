//! The OpenSearch adapter (Amazon OpenSearch Service): the index's settings and mappings, the
//! seed's query, bulk indexing, and the mapping of HTTP answers to [`SearchError`].
//!
//! Requests are built and answers read by pure functions ([`index_body`], [`search_body`],
//! [`bulk_body`], [`parse_search`], [`parse_bulk`]), so that they can be tested without a cluster;
//! [`OpenSearchIndex`] only sends them.
//!
//! Versions: every bulk action is an `index` with `version_type: external` and the product's
//! version, so OpenSearch itself refuses (`409 version_conflict_engine_exception`) a change that is
//! not newer than the document it holds; that answer is [`Applied::Stale`], not a failure. A
//! removal is indexed as a tombstone (`deleted: true`, `quantity: 0`), never `delete`d: a deleted
//! document's version is forgotten (after `index.gc_deletes`), and an older event could then bring
//! the product back. Every query filters tombstones out.
//!
//! Analysis: text is indexed with `bazaar_text` (standard tokenizer, lowercase, English stemmer).
//! Synonyms are applied at search time only, by a second `multi_match` with the `bazaar_synonyms`
//! analyzer: a `synonym_graph` filter is only correct at query time (at index time it flattens
//! multi-word synonyms), and changing the synonym file then needs no reindex. The synonym filter
//! comes after the stemmer, so OpenSearch stems the rules too and plurals match them.
//!
//! Ranking: the seed's `function_score` (shop rating, shop sales) with two deviations documented
//! in [`ranking`]: sales use `log2p` instead of `log1p`, and recency is `1 + gauss(created_at)`
//! instead of the bare gaussian. OpenSearch has no function to add a constant to one function's
//! score only, so recency is an outer `function_score` summing the gaussian and a `weight: 1`,
//! multiplied into the inner score.

use bazaar_domain::ports::SearchIndex;
use bazaar_domain::search::{
    Applied, CATEGORY_FACET_SIZE, Facets, Hit, IndexChange, MAX_RESULT_WINDOW, PRICE_RANGES,
    SearchDoc, SearchError, SearchPage, SearchQuery, Sort, ranking, synonyms,
};
use chrono::SecondsFormat;
use opensearch::auth::Credentials;
use opensearch::http::headers::{CONTENT_TYPE, HeaderValue};
use opensearch::http::request::JsonBody;
use opensearch::http::response::Response;
use opensearch::http::transport::{SingleNodeConnectionPool, TransportBuilder};
use opensearch::http::{StatusCode, Url};
use opensearch::indices::{IndicesCreateParts, IndicesExistsParts};
use opensearch::{BulkParts, OpenSearch, SearchParts};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::time::Duration;

/// Every request's deadline (connect to last body byte), the seed circuit breaker's timeout.
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// The SigV4 service name of Amazon OpenSearch Service domains.
pub const SIGV4_SERVICE: &str = "es";

/// Content type of bulk bodies (newline-delimited JSON), as OpenSearch documents it.
const NDJSON: &str = "application/x-ndjson";

/// An OpenSearch index over HTTP(S), optionally signing every request with SigV4.
#[derive(Debug, Clone)]
pub struct OpenSearchIndex {
    client: OpenSearch,
    index: String,
}

impl OpenSearchIndex {
    /// A client for index `index` at `url` (e.g. `https://search-bazaar-….es.amazonaws.com`; a
    /// URL without a scheme gets `https://`). With `sdk`, requests are signed with its credentials
    /// and region for service `es`. Does no I/O: the cluster is first reached by a request.
    pub fn connect(
        url: &str,
        index: &str,
        sdk: Option<&aws_config::SdkConfig>,
    ) -> Result<OpenSearchIndex, SearchError> {
        let url = url.trim();
        let parsed = if url.contains("://") {
            Url::parse(url)
        } else {
            Url::parse(&format!("https://{url}"))
        }
        .map_err(|e| SearchError::Unavailable(format!("invalid OpenSearch URL {url:?}: {e}")))?;
        let mut builder =
            TransportBuilder::new(SingleNodeConnectionPool::new(parsed)).timeout(TIMEOUT);
        if let Some(sdk) = sdk {
            let credentials = Credentials::try_from(sdk).map_err(|e| {
                SearchError::Unavailable(format!("cannot sign OpenSearch requests: {e}"))
            })?;
            builder = builder.auth(credentials).service_name(SIGV4_SERVICE);
        }
        let transport = builder
            .build()
            .map_err(|e| SearchError::Unavailable(format!("OpenSearch client: {e}")))?;
        Ok(OpenSearchIndex {
            client: OpenSearch::new(transport),
            index: index.to_owned(),
        })
    }

    /// The index's name.
    pub fn index(&self) -> &str {
        &self.index
    }
}

impl SearchIndex for OpenSearchIndex {
    /// `HEAD /<index>`; when it is missing, `PUT /<index>` with [`index_body`]. Another instance
    /// creating it first (`resource_already_exists_exception`) is success.
    async fn prepare(&self) -> Result<(), SearchError> {
        let exists = self
            .client
            .indices()
            .exists(IndicesExistsParts::Index(&[&self.index]))
            .send()
            .await
            .map_err(transport_error)?;
        match exists.status_code() {
            s if s.is_success() => return Ok(()),
            StatusCode::NOT_FOUND => {}
            s => return Err(status_error(s, b"")),
        }
        let created = self
            .client
            .indices()
            .create(IndicesCreateParts::Index(&self.index))
            .body(index_body())
            .send()
            .await;
        let (status, body) = read(created).await?;
        if status.is_success()
            || (status == StatusCode::BAD_REQUEST
                && error_type(&body).as_deref() == Some("resource_already_exists_exception"))
        {
            return Ok(());
        }
        Err(status_error(status, &body))
    }

    /// `POST /<index>/_bulk` (no refresh: documents become searchable within the index's refresh
    /// interval). No request for no changes.
    async fn apply(&self, changes: Vec<IndexChange>) -> Result<Vec<Applied>, SearchError> {
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        let lines: Vec<JsonBody<Value>> = bulk_body(&self.index, &changes)?
            .into_iter()
            .map(JsonBody::new)
            .collect();
        let response = self
            .client
            .bulk(BulkParts::Index(&self.index))
            .header(CONTENT_TYPE, HeaderValue::from_static(NDJSON))
            .body(lines)
            .send()
            .await;
        parse_bulk(&read_json(response).await?, changes.len())
    }

    /// `POST /<index>/_search` with [`search_body`].
    async fn search(&self, query: &SearchQuery) -> Result<SearchPage, SearchError> {
        let response = self
            .client
            .search(SearchParts::Index(&[&self.index]))
            .body(search_body(query))
            .send()
            .await;
        parse_search(&read_json(response).await?)
    }
}

/// The index's settings (analysis, result window) and its strict mapping.
pub fn index_body() -> Value {
    let text = json!({"type": "text", "analyzer": "bazaar_text"});
    json!({
        "settings": {
            "index": {"max_result_window": MAX_RESULT_WINDOW},
            "analysis": {
                "filter": {
                    "bazaar_stemmer": {"type": "stemmer", "language": "english"},
                    "bazaar_synonyms": {
                        "type": "synonym_graph",
                        "synonyms": synonyms::rules(),
                        "lenient": false
                    }
                },
                "analyzer": {
                    "bazaar_text": {
                        "type": "custom",
                        "tokenizer": "standard",
                        "filter": ["lowercase", "bazaar_stemmer"]
                    },
                    "bazaar_synonyms": {
                        "type": "custom",
                        "tokenizer": "standard",
                        "filter": ["lowercase", "bazaar_stemmer", "bazaar_synonyms"]
                    }
                }
            }
        },
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "id": {"type": "keyword"},
                "title": text,
                "description": text,
                "tags": text,
                "category": {"type": "keyword"},
                "price_cents": {"type": "long"},
                "currency": {"type": "keyword", "index": false},
                "shop_id": {"type": "keyword"},
                "shop_name": {"type": "keyword", "index": false},
                "shop_rating": {"type": "float"},
                "shop_sales_count": {"type": "long"},
                "is_vintage": {"type": "boolean"},
                "quantity": {"type": "long"},
                "image": {"type": "keyword", "index": false},
                "created_at": {"type": "date"},
                "version": {"type": "long"},
                "deleted": {"type": "boolean"}
            }
        }
    })
}

/// The searched fields with their boosts, `title^3` style.
fn boosted_fields() -> Vec<String> {
    ranking::FIELDS
        .iter()
        .map(|(field, boost)| {
            if *boost == 1.0 {
                (*field).to_owned()
            } else {
                format!("{field}^{boost}")
            }
        })
        .collect()
}

/// The seed's query: text (fuzzy, plus synonyms) or everything, the filters, the ranking
/// functions, the facets, the page and the order.
pub fn search_body(q: &SearchQuery) -> Value {
    let mut filter = Vec::new();
    if let Some(category) = &q.category {
        filter.push(json!({"term": {"category": category}}));
    }
    if q.min_price_cents.is_some() || q.max_price_cents.is_some() {
        let mut range = Map::new();
        if let Some(min) = q.min_price_cents {
            range.insert("gte".into(), min.into());
        }
        if let Some(max) = q.max_price_cents {
            range.insert("lte".into(), max.into());
        }
        filter.push(json!({"range": {"price_cents": range}}));
    }
    if let Some(vintage) = q.vintage {
        filter.push(json!({"term": {"is_vintage": vintage}}));
    }
    filter.push(json!({"range": {"quantity": {"gt": 0}}}));
    filter.push(json!({"term": {"deleted": false}}));

    let text = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty());
    // A bool with only filters scores 0, so browsing matches everything with score 1 instead.
    let query = match text {
        Some(text) => {
            let fields = boosted_fields();
            json!({"bool": {
                "should": [
                    {"multi_match": {
                        "query": text,
                        "fields": fields,
                        "fuzziness": "AUTO",
                        "prefix_length": 2,
                        "analyzer": "bazaar_text"
                    }},
                    {"multi_match": {
                        "query": text,
                        "fields": fields,
                        "analyzer": "bazaar_synonyms"
                    }}
                ],
                "minimum_should_match": 1,
                "filter": filter
            }})
        }
        None => json!({"bool": {"must": [{"match_all": {}}], "filter": filter}}),
    };

    let shop = json!({"function_score": {
        "query": query,
        "functions": [
            {"field_value_factor": {
                "field": "shop_rating",
                "factor": ranking::RATING_FACTOR,
                "modifier": "sqrt",
                "missing": ranking::RATING_MISSING
            }},
            {"field_value_factor": {
                "field": "shop_sales_count",
                "factor": ranking::SALES_FACTOR,
                "modifier": "log2p",
                "missing": 0
            }}
        ],
        "score_mode": "multiply",
        "boost_mode": "multiply"
    }});
    let recency = json!({"function_score": {
        "query": shop,
        "functions": [
            {"gauss": {"created_at": {
                "origin": q.now.to_rfc3339_opts(SecondsFormat::Millis, true),
                "scale": format!("{}d", ranking::RECENCY_SCALE_DAYS),
                "decay": ranking::RECENCY_DECAY
            }}},
            {"weight": 1}
        ],
        "score_mode": "sum",
        "boost_mode": "multiply"
    }});

    let tiebreak = [json!({"created_at": "desc"}), json!({"id": "asc"})];
    let sort: Vec<Value> = match q.sort {
        Sort::Relevance => vec![json!("_score")],
        Sort::Newest => vec![],
        Sort::PriceAsc => vec![json!({"price_cents": "asc"})],
        Sort::PriceDesc => vec![json!({"price_cents": "desc"})],
    }
    .into_iter()
    .chain(tiebreak)
    .collect();

    let ranges: Vec<Value> = PRICE_RANGES
        .iter()
        .map(|(key, from, to)| {
            let mut range = Map::new();
            range.insert("key".into(), (*key).into());
            if let Some(from) = from {
                range.insert("from".into(), (*from).into());
            }
            if let Some(to) = to {
                range.insert("to".into(), (*to).into());
            }
            Value::Object(range)
        })
        .collect();

    json!({
        "from": q.offset(),
        "size": q.page_size,
        "track_total_hits": true,
        "track_scores": true,
        "query": recency,
        "sort": sort,
        "aggs": {
            "categories": {"terms": {"field": "category", "size": CATEGORY_FACET_SIZE}},
            "price_ranges": {"range": {"field": "price_cents", "ranges": ranges}}
        }
    })
}

/// Reads a search answer: hits with their scores (`null` when not scored: 0), the total and the
/// facets.
pub fn parse_search(body: &Value) -> Result<SearchPage, SearchError> {
    #[derive(Deserialize)]
    struct Answer {
        hits: Hits,
        aggregations: Value,
    }
    #[derive(Deserialize)]
    struct Hits {
        total: Total,
        hits: Vec<RawHit>,
    }
    /// `{"value": n, "relation": "eq"}`, or a bare number (before 7.0 / `rest_total_hits_as_int`).
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Total {
        Count(u64),
        Object { value: u64 },
    }
    #[derive(Deserialize)]
    struct RawHit {
        #[serde(rename = "_score", default)]
        score: Option<f64>,
        #[serde(rename = "_source")]
        source: SearchDoc,
    }
    let answer = Answer::deserialize(body)
        .map_err(|e| SearchError::Malformed(format!("search response: {e}")))?;
    Ok(SearchPage {
        hits: answer
            .hits
            .hits
            .into_iter()
            .map(|h| Hit {
                doc: h.source,
                score: h.score.unwrap_or(0.0),
            })
            .collect(),
        total: match answer.hits.total {
            Total::Count(n) | Total::Object { value: n } => n,
        },
        facets: Facets::from_aggregations(&answer.aggregations)?,
    })
}

/// The bulk body's lines: per change an external-version `index` action and its document (a
/// tombstone for a removal).
pub fn bulk_body(index: &str, changes: &[IndexChange]) -> Result<Vec<Value>, SearchError> {
    let mut lines = Vec::with_capacity(changes.len() * 2);
    for change in changes {
        lines.push(json!({"index": {
            "_index": index,
            "_id": change.id(),
            "version": change.version(),
            "version_type": "external"
        }}));
        let doc = serde_json::to_value(change.clone().into_doc()).map_err(|e| {
            SearchError::Rejected(format!("document {} not serializable: {e}", change.id()))
        })?;
        lines.push(doc);
    }
    Ok(lines)
}

/// Reads a bulk answer: one outcome per change, in order. `409` (the version conflict of an
/// external version that is not newer) is [`Applied::Stale`].
pub fn parse_bulk(body: &Value, n: usize) -> Result<Vec<Applied>, SearchError> {
    let malformed = |what: String| SearchError::Malformed(format!("bulk response: {what}"));
    let items = body
        .get("items")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("no items".into()))?;
    if items.len() != n {
        return Err(malformed(format!("{} items for {n} changes", items.len())));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            // `{"index": {...}}` (or another action's name).
            let result = item
                .as_object()
                .and_then(|o| o.values().next())
                .ok_or_else(|| malformed(format!("item {i} is not an action result")))?;
            let status = result
                .get("status")
                .and_then(Value::as_u64)
                .ok_or_else(|| malformed(format!("item {i} has no status")))?;
            Ok(match status {
                200 | 201 => Applied::Indexed,
                409 => Applied::Stale,
                _ => Applied::Failed(format!(
                    "{status} {}",
                    describe(result.get("error").unwrap_or(&Value::Null))
                )),
            })
        })
        .collect()
}

/// `type: reason` of an OpenSearch error object (or the error itself when it is a plain string).
fn describe(error: &Value) -> String {
    match error {
        Value::String(s) => s.clone(),
        Value::Object(o) => {
            let field = |k: &str| o.get(k).and_then(Value::as_str);
            match (field("type"), field("reason")) {
                (Some(t), Some(r)) => format!("{t}: {r}"),
                (Some(s), None) | (None, Some(s)) => s.to_owned(),
                (None, None) => error.to_string(),
            }
        }
        Value::Null => "no error given".to_owned(),
        other => other.to_string(),
    }
}

/// The `error.type` of an error answer's body.
fn error_type(body: &[u8]) -> Option<String> {
    let body: Value = serde_json::from_slice(body).ok()?;
    body.pointer("/error/type")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// What a non-2xx answer means: the engine is overloaded or down (`429`, `5xx`: the breaker
/// counts it) or refused our request (other `4xx`).
pub(crate) fn status_error(status: StatusCode, body: &[u8]) -> SearchError {
    let detail = match serde_json::from_slice::<Value>(body) {
        Ok(json) => describe(json.get("error").unwrap_or(&json)),
        Err(_) if body.is_empty() => "no body".to_owned(),
        Err(_) => String::from_utf8_lossy(&body[..body.len().min(500)]).into_owned(),
    };
    let message = format!("{status}: {detail}");
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        SearchError::Unavailable(message)
    } else if status.is_client_error() {
        SearchError::Rejected(message)
    } else {
        SearchError::Malformed(format!("unexpected status {message}"))
    }
}

/// A request that got no answer (refused, reset, timed out, not signable).
fn transport_error(e: opensearch::Error) -> SearchError {
    if e.is_timeout() {
        SearchError::Unavailable(format!("timed out after {TIMEOUT:?}: {e}"))
    } else {
        SearchError::Unavailable(e.to_string())
    }
}

/// The answer's status and body.
async fn read(
    response: Result<Response, opensearch::Error>,
) -> Result<(StatusCode, Vec<u8>), SearchError> {
    let response = response.map_err(transport_error)?;
    let status = response.status_code();
    let body = response.bytes().await.map_err(transport_error)?;
    Ok((status, body.to_vec()))
}

/// The body of a 2xx answer as JSON, or the error the status means.
async fn read_json(response: Result<Response, opensearch::Error>) -> Result<Value, SearchError> {
    let (status, body) = read(response).await?;
    if !status.is_success() {
        return Err(status_error(status, &body));
    }
    serde_json::from_slice(&body)
        .map_err(|e| SearchError::Malformed(format!("{status} answer is not JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn query(text: Option<&str>, sort: Sort) -> SearchQuery {
        SearchQuery {
            text: text.map(str::to_owned),
            category: Some("jewelry".into()),
            min_price_cents: Some(1_000),
            max_price_cents: Some(5_000),
            vintage: Some(true),
            sort,
            page: 3,
            page_size: 24,
            now: Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap(),
        }
    }

    fn doc(id: &str, version: i64) -> SearchDoc {
        let mut d = SearchDoc::tombstone(id, version);
        d.deleted = false;
        d.title = "Silver ring".into();
        d.quantity = 2;
        d.created_at = Utc.with_ymd_and_hms(2024, 4, 1, 0, 0, 0).unwrap();
        d
    }

    #[test]
    fn index_body_carries_every_synonym_rule_and_the_analyzer_chains() {
        let body = index_body();
        let analysis = &body["settings"]["analysis"];
        let rules: Vec<&str> = analysis["filter"]["bazaar_synonyms"]["synonyms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert_eq!(rules, synonyms::rules());
        assert!(rules.iter().any(|r| r.starts_with("wallet, billfold")));
        assert_eq!(
            analysis["filter"]["bazaar_synonyms"],
            json!({"type": "synonym_graph", "synonyms": synonyms::rules(), "lenient": false})
        );
        assert_eq!(
            analysis["filter"]["bazaar_stemmer"],
            json!({"type": "stemmer", "language": "english"})
        );
        assert_eq!(analysis["analyzer"]["bazaar_text"]["tokenizer"], "standard");
        assert_eq!(
            analysis["analyzer"]["bazaar_text"]["filter"],
            json!(["lowercase", "bazaar_stemmer"])
        );
        assert_eq!(
            analysis["analyzer"]["bazaar_synonyms"]["tokenizer"],
            "standard"
        );
        assert_eq!(
            analysis["analyzer"]["bazaar_synonyms"]["filter"],
            json!(["lowercase", "bazaar_stemmer", "bazaar_synonyms"])
        );
        assert_eq!(body["settings"]["index"]["max_result_window"], 10_000);

        let mappings = &body["mappings"];
        assert_eq!(mappings["dynamic"], "strict");
        let props = mappings["properties"].as_object().unwrap();
        for field in ["title", "description", "tags"] {
            assert_eq!(
                props[field],
                json!({"type": "text", "analyzer": "bazaar_text"})
            );
        }
        for (field, ty) in [
            ("id", "keyword"),
            ("category", "keyword"),
            ("price_cents", "long"),
            ("shop_id", "keyword"),
            ("shop_rating", "float"),
            ("shop_sales_count", "long"),
            ("is_vintage", "boolean"),
            ("quantity", "long"),
            ("created_at", "date"),
            ("version", "long"),
            ("deleted", "boolean"),
            ("currency", "keyword"),
            ("shop_name", "keyword"),
            ("image", "keyword"),
        ] {
            assert_eq!(props[field]["type"], ty, "{field}");
        }
        // The mapping is strict: every field a document serializes must be mapped.
        let mut full = doc("p1", 1);
        full.shop_rating = Some(4.5);
        full.image = Some("https://img/1.jpg".into());
        for key in serde_json::to_value(&full)
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
        {
            assert!(props.contains_key(key), "{key} is not mapped");
        }
        assert_eq!(props.len(), 17);
    }

    #[test]
    fn text_query_is_fuzzy_plus_synonyms_with_every_filter() {
        let body = search_body(&query(Some("  silver rings "), Sort::Relevance));
        let outer = &body["query"]["function_score"];
        let inner = &outer["query"]["function_score"];
        let bool_ = &inner["query"]["bool"];
        let fields = json!(["title^3", "tags^2", "description"]);
        assert_eq!(
            bool_["should"][0],
            json!({"multi_match": {"query": "silver rings", "fields": fields,
                "fuzziness": "AUTO", "prefix_length": 2, "analyzer": "bazaar_text"}})
        );
        assert_eq!(
            bool_["should"][1],
            json!({"multi_match": {"query": "silver rings", "fields": fields,
                "analyzer": "bazaar_synonyms"}})
        );
        assert_eq!(bool_["minimum_should_match"], 1);
        assert_eq!(
            bool_["filter"],
            json!([
                {"term": {"category": "jewelry"}},
                {"range": {"price_cents": {"gte": 1000, "lte": 5000}}},
                {"term": {"is_vintage": true}},
                {"range": {"quantity": {"gt": 0}}},
                {"term": {"deleted": false}}
            ])
        );

        assert_eq!(
            inner["functions"],
            json!([
                {"field_value_factor": {"field": "shop_rating", "factor": 1.5,
                    "modifier": "sqrt", "missing": 3.0}},
                {"field_value_factor": {"field": "shop_sales_count", "factor": 1.2,
                    "modifier": "log2p", "missing": 0}}
            ])
        );
        assert_eq!(inner["score_mode"], "multiply");
        assert_eq!(inner["boost_mode"], "multiply");
        assert_eq!(
            outer["functions"],
            json!([
                {"gauss": {"created_at": {"origin": "2024-05-01T12:00:00.000Z",
                    "scale": "30d", "decay": 0.5}}},
                {"weight": 1}
            ])
        );
        assert_eq!(outer["score_mode"], "sum");
        assert_eq!(outer["boost_mode"], "multiply");

        assert_eq!(body["from"], 48);
        assert_eq!(body["size"], 24);
        assert_eq!(body["track_total_hits"], true);
        assert_eq!(body["track_scores"], true);
        assert_eq!(
            body["aggs"],
            json!({
                "categories": {"terms": {"field": "category", "size": 20}},
                "price_ranges": {"range": {"field": "price_cents", "ranges": [
                    {"key": "Under $25", "to": 2500},
                    {"key": "$25 to $50", "from": 2500, "to": 5000},
                    {"key": "$50 to $100", "from": 5000, "to": 10000},
                    {"key": "Over $100", "from": 10000}
                ]}}
            })
        );
    }

    #[test]
    fn browsing_matches_everything_in_stock_with_a_constant_score() {
        let mut q = query(None, Sort::Newest);
        q.category = None;
        q.min_price_cents = None;
        q.max_price_cents = Some(900);
        q.vintage = None;
        let body = search_body(&q);
        let bool_ = &body["query"]["function_score"]["query"]["function_score"]["query"]["bool"];
        assert_eq!(bool_["must"], json!([{"match_all": {}}]));
        assert!(bool_.get("should").is_none());
        assert_eq!(
            bool_["filter"],
            json!([
                {"range": {"price_cents": {"lte": 900}}},
                {"range": {"quantity": {"gt": 0}}},
                {"term": {"deleted": false}}
            ])
        );
        // Blank text browses too.
        let blank = search_body(&SearchQuery {
            text: Some("   ".into()),
            ..q.clone()
        });
        assert_eq!(blank, body);
    }

    #[test]
    fn every_sort_ends_with_the_same_tiebreak() {
        let sort = |s| search_body(&query(Some("ring"), s))["sort"].clone();
        assert_eq!(
            sort(Sort::Relevance),
            json!(["_score", {"created_at": "desc"}, {"id": "asc"}])
        );
        assert_eq!(
            sort(Sort::Newest),
            json!([{"created_at": "desc"}, {"id": "asc"}])
        );
        assert_eq!(
            sort(Sort::PriceAsc),
            json!([{"price_cents": "asc"}, {"created_at": "desc"}, {"id": "asc"}])
        );
        assert_eq!(
            sort(Sort::PriceDesc),
            json!([{"price_cents": "desc"}, {"created_at": "desc"}, {"id": "asc"}])
        );
    }

    /// A search answer as OpenSearch 2.x documents it.
    fn search_response() -> Value {
        json!({
            "took": 12,
            "timed_out": false,
            "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
            "hits": {
                "total": {"value": 37, "relation": "eq"},
                "max_score": 8.25,
                "hits": [
                    {"_index": "products", "_id": "p1", "_score": 8.25, "_source": {
                        "id": "p1", "title": "Sterling silver ring", "description": "925 band",
                        "tags": ["ring", "silver"], "category": "jewelry", "price_cents": 4200,
                        "currency": "USD", "shop_id": "s1", "shop_name": "Silverworks",
                        "shop_rating": 4.8, "shop_sales_count": 120, "is_vintage": false,
                        "quantity": 3, "image": "https://img.example/p1.jpg",
                        "created_at": "2024-04-20T10:00:00Z", "version": 7, "deleted": false
                    }},
                    {"_index": "products", "_id": "p2", "_score": null, "_source": {
                        "id": "p2", "title": "Old ring", "description": "", "tags": [],
                        "category": "jewelry", "price_cents": 900, "currency": "USD",
                        "shop_id": "s2", "shop_name": "Attic", "shop_sales_count": 0,
                        "is_vintage": true, "quantity": 1,
                        "created_at": "2023-01-02T03:04:05.678Z", "version": 2
                    }}
                ]
            },
            "aggregations": {
                "categories": {
                    "doc_count_error_upper_bound": 0,
                    "sum_other_doc_count": 0,
                    "buckets": [
                        {"key": "jewelry", "doc_count": 30},
                        {"key": "accessories", "doc_count": 7}
                    ]
                },
                "price_ranges": {
                    "buckets": [
                        {"key": "Under $25", "to": 2500.0, "doc_count": 10},
                        {"key": "$25 to $50", "from": 2500.0, "to": 5000.0, "doc_count": 20},
                        {"key": "$50 to $100", "from": 5000.0, "to": 10000.0, "doc_count": 0},
                        {"key": "Over $100", "from": 10000.0, "doc_count": 7}
                    ]
                }
            }
        })
    }

    #[test]
    fn parses_a_search_answer() {
        let page = parse_search(&search_response()).unwrap();
        assert_eq!(page.total, 37);
        assert_eq!(page.hits.len(), 2);
        assert_eq!(page.hits[0].doc.id, "p1");
        assert_eq!(page.hits[0].score, 8.25);
        assert_eq!(page.hits[0].doc.shop_rating, Some(4.8));
        assert_eq!(page.hits[0].doc.version, 7);
        assert_eq!(page.hits[1].score, 0.0);
        assert_eq!(page.hits[1].doc.shop_rating, None);
        assert!(page.hits[1].doc.visible());
        assert_eq!(page.facets.categories[0].key, "jewelry");
        assert_eq!(page.facets.categories[1].count, 7);
        let ranges: Vec<u64> = page.facets.price_ranges.iter().map(|r| r.count).collect();
        assert_eq!(ranges, [10, 20, 0, 7]);

        // The total as a bare number (older shape).
        let mut old = search_response();
        old["hits"]["total"] = json!(37);
        assert_eq!(parse_search(&old).unwrap().total, 37);
    }

    #[test]
    fn malformed_search_answers_are_errors() {
        let mut bad = search_response();
        bad["hits"]["hits"][0]["_source"]["price_cents"] = json!("cheap");
        assert!(matches!(parse_search(&bad), Err(SearchError::Malformed(_))));
        let mut no_aggs = search_response();
        no_aggs.as_object_mut().unwrap().remove("aggregations");
        assert!(matches!(
            parse_search(&no_aggs),
            Err(SearchError::Malformed(_))
        ));
        assert!(matches!(
            parse_search(&json!({})),
            Err(SearchError::Malformed(_))
        ));
    }

    #[test]
    fn bulk_lines_are_external_versions_and_tombstones() {
        let changes = [
            IndexChange::Upsert(doc("p1", 3)),
            IndexChange::Remove {
                id: "p2".into(),
                version: 9,
            },
        ];
        let lines = bulk_body("products", &changes).unwrap();
        assert_eq!(lines.len(), 4);
        assert_eq!(
            lines[0],
            json!({"index": {"_index": "products", "_id": "p1", "version": 3,
                "version_type": "external"}})
        );
        assert_eq!(lines[1], serde_json::to_value(doc("p1", 3)).unwrap());
        assert_eq!(
            lines[2],
            json!({"index": {"_index": "products", "_id": "p2", "version": 9,
                "version_type": "external"}})
        );
        assert_eq!(lines[3]["deleted"], true);
        assert_eq!(lines[3]["quantity"], 0);
        assert_eq!(lines[3]["version"], 9);
        assert!(lines.iter().all(|l| l.get("delete").is_none()));
    }

    #[test]
    fn parses_bulk_outcomes_in_order() {
        let answer = json!({
            "took": 30,
            "errors": true,
            "items": [
                {"index": {"_index": "products", "_id": "p1", "_version": 3, "result": "created",
                    "_shards": {"total": 2, "successful": 1, "failed": 0},
                    "_seq_no": 0, "_primary_term": 1, "status": 201}},
                {"index": {"_index": "products", "_id": "p2", "_version": 9, "result": "updated",
                    "_shards": {"total": 2, "successful": 1, "failed": 0},
                    "_seq_no": 1, "_primary_term": 1, "status": 200}},
                {"index": {"_index": "products", "_id": "p3", "status": 409, "error": {
                    "type": "version_conflict_engine_exception",
                    "reason": "[p3]: version conflict, current version [5] is higher or equal to the one provided [4]",
                    "index": "products", "shard": "0", "index_uuid": "aAsFqTI0Tc2W0LCWgPNrOA"}}},
                {"index": {"_index": "products", "_id": "p4", "status": 400, "error": {
                    "type": "mapper_parsing_exception",
                    "reason": "failed to parse field [price_cents] of type [long]"}}}
            ]
        });
        let outcomes = parse_bulk(&answer, 4).unwrap();
        assert_eq!(
            outcomes[..3],
            [Applied::Indexed, Applied::Indexed, Applied::Stale]
        );
        match &outcomes[3] {
            Applied::Failed(why) => {
                assert!(why.contains("400"), "{why}");
                assert!(why.contains("mapper_parsing_exception"), "{why}");
                assert!(why.contains("failed to parse field"), "{why}");
            }
            other => panic!("expected a failure, got {other:?}"),
        }
        assert!(matches!(
            parse_bulk(&answer, 3),
            Err(SearchError::Malformed(_))
        ));
        assert!(matches!(
            parse_bulk(&json!({}), 0),
            Err(SearchError::Malformed(_))
        ));
        assert!(matches!(
            parse_bulk(&json!({"items": [{"index": {}}]}), 1),
            Err(SearchError::Malformed(_))
        ));
    }

    #[test]
    fn statuses_map_to_unavailable_or_rejected() {
        let body = br#"{"error":{"root_cause":[],"type":"parsing_exception","reason":"unknown query [mach]"},"status":400}"#;
        match status_error(StatusCode::BAD_REQUEST, body) {
            SearchError::Rejected(m) => assert!(m.contains("parsing_exception: unknown query")),
            other => panic!("{other:?}"),
        }
        for s in [429, 500, 502, 503, 504] {
            let status = StatusCode::from_u16(s).unwrap();
            assert!(matches!(
                status_error(status, b"busy"),
                SearchError::Unavailable(_)
            ));
        }
        assert!(matches!(
            status_error(StatusCode::FORBIDDEN, br#"{"message":"no permissions"}"#),
            SearchError::Rejected(m) if m.contains("no permissions")
        ));
        assert_eq!(
            error_type(br#"{"error":{"type":"resource_already_exists_exception"}}"#).as_deref(),
            Some("resource_already_exists_exception")
        );
    }

    #[test]
    fn connect_does_no_io_and_accepts_a_bare_host() {
        assert!(OpenSearchIndex::connect("http://127.0.0.1:1", "products", None).is_ok());
        let index = OpenSearchIndex::connect("search-bazaar.us-east-1.es.amazonaws.com", "p", None)
            .unwrap();
        assert_eq!(index.index(), "p");
        assert!(OpenSearchIndex::connect("http://[::1", "products", None).is_err());
    }
}
