//! The embedded engine: a tantivy index on local disk (`INDEX_DIR`), the default locally and an
//! option for small deployments. It behaves as the OpenSearch adapter does:
//!
//! - Analysis: words split on anything that is not a letter or digit, lowercased, English
//!   (Snowball) stemmed — [`analyze`] is the one analyzer for indexed text and queries.
//! - Query: for text, the sum of two best-field (`dis_max`) matches over `title^3, tags^2,
//!   description`: every query word with typo tolerance (fuzziness AUTO: 0 edits up to 2 letters, 1
//!   up to 5, else 2; the first 2 letters exact; transpositions count as one edit), and the query
//!   with its synonyms expanded (a multi-word synonym is a phrase). Expanded typo terms are scored
//!   by BM25 like the exact term, scaled by their similarity, the best one per word counts.
//! - Filters: category, price range, vintage, and only in-stock, non-deleted products.
//! - Ranking: the text score times [`super::ranking::boost`] (shop rating, shop sales, recency).
//! - Facets: tantivy's `terms` and `range` aggregations over every match.
//! - Versions: a change is applied only when its version is newer than the indexed one; removals
//!   leave a tombstone.
//!
//! One process writes at a time (tantivy's directory lock): `apply` takes the writer for the batch
//! and releases it after the commit, waiting while another process (the reindex command) holds it.
//! Readers in other processes see a commit within about half a second (`OnCommitWithDelay`).

mod query;

pub use query::{QueryPlan, fuzziness};

use bazaar_domain::ports::SearchIndex;
use bazaar_domain::search::{
    Applied, CATEGORY_FACET_SIZE, Facets, Hit, IndexChange, PRICE_RANGES, SearchDoc, SearchError,
    SearchPage, SearchQuery, Sort, ranking,
};
use std::collections::HashMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::{AggContextParams, AggregationCollector, AggregationLimitsGuard};
use tantivy::collector::{Count, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::directory::error::LockError;
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, Occur, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer,
};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, SegmentReader,
    TantivyDocument, TantivyError, Term,
};

/// The analyzer's name in the index's tokenizer manager.
const ANALYZER: &str = "bazaar";

/// Indexing memory per write (tantivy needs at least 15 MB per thread).
const WRITER_MEMORY: usize = 64 * 1024 * 1024;

/// How long `apply` waits for another process's writer to finish.
const WRITER_WAIT: Duration = Duration::from_secs(60);

/// The analyzer of indexed text and queries.
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// The terms `text` is indexed (or searched) as.
pub fn analyze(text: &str) -> Vec<String> {
    let mut analyzer = analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut terms = Vec::new();
    while let Some(token) = stream.next() {
        terms.push(token.text.clone());
    }
    terms
}

/// The schema's fields.
#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    title: Field,
    description: Field,
    tags: Field,
    category: Field,
    price_cents: Field,
    is_vintage: Field,
    quantity: Field,
    shop_rating: Field,
    shop_sales_count: Field,
    created_at: Field,
    version: Field,
    source: Field,
}

fn schema() -> Schema {
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let mut b = Schema::builder();
    b.add_text_field("id", STRING | FAST);
    b.add_text_field("title", text.clone());
    b.add_text_field("description", text.clone());
    b.add_text_field("tags", text);
    b.add_text_field("category", STRING | FAST);
    b.add_i64_field("price_cents", INDEXED | FAST);
    b.add_bool_field("is_vintage", INDEXED | FAST);
    b.add_i64_field("quantity", INDEXED | FAST);
    b.add_f64_field("shop_rating", FAST);
    b.add_i64_field("shop_sales_count", FAST);
    b.add_i64_field("created_at", FAST);
    b.add_i64_field("version", FAST);
    b.add_text_field("source", STORED);
    b.build()
}

impl Fields {
    fn of(schema: &Schema) -> Result<Fields, SearchError> {
        let f = |name: &str| {
            schema
                .get_field(name)
                .map_err(|e| SearchError::Index(format!("index schema: {e}")))
        };
        Ok(Fields {
            id: f("id")?,
            title: f("title")?,
            description: f("description")?,
            tags: f("tags")?,
            category: f("category")?,
            price_cents: f("price_cents")?,
            is_vintage: f("is_vintage")?,
            quantity: f("quantity")?,
            shop_rating: f("shop_rating")?,
            shop_sales_count: f("shop_sales_count")?,
            created_at: f("created_at")?,
            version: f("version")?,
            source: f("source")?,
        })
    }

    /// The searched text fields with their boosts, in [`ranking::FIELDS`] order.
    fn text(&self) -> [(Field, f32); 3] {
        let by_name = |name: &str| match name {
            "title" => self.title,
            "tags" => self.tags,
            _ => self.description,
        };
        ranking::FIELDS.map(|(name, boost)| (by_name(name), boost))
    }
}

fn index_error(e: impl std::fmt::Display) -> SearchError {
    SearchError::Index(e.to_string())
}

struct Inner {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    plan: query::Planner,
}

/// The embedded engine; cheap to clone (one index per process).
#[derive(Clone)]
pub struct EmbeddedIndex {
    inner: Arc<Inner>,
}

impl EmbeddedIndex {
    /// Opens the index in `dir`, creating the directory and an empty index if needed.
    pub fn open(dir: &Path) -> Result<EmbeddedIndex, SearchError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| SearchError::Index(format!("{}: {e}", dir.display())))?;
        let directory = MmapDirectory::open(dir).map_err(index_error)?;
        let index = Index::open_or_create(directory, schema()).map_err(|e| {
            SearchError::Index(format!(
                "{}: {e} (an index of an older schema: delete the directory and reindex)",
                dir.display()
            ))
        })?;
        Self::with_index(index)
    }

    /// An index in memory (tests, benchmarks).
    pub fn in_memory() -> Result<EmbeddedIndex, SearchError> {
        Self::with_index(Index::create_in_ram(schema()))
    }

    fn with_index(index: Index) -> Result<EmbeddedIndex, SearchError> {
        index.tokenizers().register(ANALYZER, analyzer());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .try_into()
            .map_err(index_error)?;
        let fields = Fields::of(&index.schema())?;
        Ok(EmbeddedIndex {
            inner: Arc::new(Inner {
                index,
                reader,
                fields,
                plan: query::Planner::new(),
            }),
        })
    }

    /// Documents held, tombstones and sold-out products included.
    pub fn num_docs(&self) -> u64 {
        self.inner.reader.searcher().num_docs()
    }

    /// [`SearchIndex::apply`] without the async wrapper (benchmarks, the reindex command).
    pub fn apply_blocking(&self, changes: Vec<IndexChange>) -> Result<Vec<Applied>, SearchError> {
        self.inner.apply(changes)
    }

    /// [`SearchIndex::search`] without the async wrapper (benchmarks).
    pub fn search_blocking(&self, query: &SearchQuery) -> Result<SearchPage, SearchError> {
        self.inner.search(query)
    }
}

/// tantivy's log merge policy with layers from 100 documents instead of 10,000: a batch's
/// segment of a few hundred documents is merged with its peers, never with the catalog's large
/// segment, which the default policy re-merged (about 2 s at 10,000 products) every 8 batches while
/// the writer — and every other batch — waited.
fn merge_policy() -> tantivy::merge_policy::LogMergePolicy {
    let mut policy = tantivy::merge_policy::LogMergePolicy::default();
    policy.set_min_layer_size(100);
    policy
}

impl Inner {
    /// Takes the index's writer, waiting while another process holds it.
    fn writer(&self) -> Result<IndexWriter, SearchError> {
        let started = Instant::now();
        loop {
            match self.index.writer_with_num_threads(1, WRITER_MEMORY) {
                Ok(writer) => {
                    writer.set_merge_policy(Box::new(merge_policy()));
                    return Ok(writer);
                }
                Err(TantivyError::LockFailure(LockError::LockBusy, _))
                    if started.elapsed() < WRITER_WAIT =>
                {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => return Err(index_error(e)),
            }
        }
    }

    fn apply(&self, changes: Vec<IndexChange>) -> Result<Vec<Applied>, SearchError> {
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        let mut writer = self.writer()?;
        // Holding the writer, no one else commits: the reader now sees the latest versions.
        self.reader.reload().map_err(index_error)?;
        let searcher = self.reader.searcher();
        // The newest change per product in this batch; the others are stale already.
        let mut newest: HashMap<&str, usize> = HashMap::new();
        for (i, change) in changes.iter().enumerate() {
            newest
                .entry(change.id())
                .and_modify(|best| {
                    if change.version() > changes[*best].version() {
                        *best = i;
                    }
                })
                .or_insert(i);
        }
        let chosen: Vec<usize> = {
            let mut v: Vec<usize> = newest.into_values().collect();
            v.sort_unstable();
            v
        };
        let mut outcomes = vec![Applied::Stale; changes.len()];
        let mut written = 0usize;
        for i in chosen {
            let change = &changes[i];
            let current = if searcher.num_docs() == 0 {
                None
            } else {
                self.indexed_version(&searcher, change.id())?
            };
            if current.is_some_and(|v| v >= change.version()) {
                continue;
            }
            let doc = change.clone().into_doc();
            writer.delete_term(Term::from_field_text(self.fields.id, &doc.id));
            writer
                .add_document(self.document(&doc)?)
                .map_err(index_error)?;
            outcomes[i] = Applied::Indexed;
            written += 1;
        }
        if written > 0 {
            writer.commit().map_err(index_error)?;
        }
        writer.wait_merging_threads().map_err(index_error)?;
        self.reader.reload().map_err(index_error)?;
        Ok(outcomes)
    }

    fn indexed_version(
        &self,
        searcher: &tantivy::Searcher,
        id: &str,
    ) -> Result<Option<i64>, SearchError> {
        let query = TermQuery::new(
            Term::from_field_text(self.fields.id, id),
            IndexRecordOption::Basic,
        );
        let found: Vec<(Option<i64>, DocAddress)> = searcher
            .search(
                &query,
                &TopDocs::with_limit(1).order_by_fast_field::<i64>("version", Order::Desc),
            )
            .map_err(index_error)?;
        Ok(found.first().and_then(|(v, _)| *v))
    }

    fn document(&self, doc: &SearchDoc) -> Result<TantivyDocument, SearchError> {
        let f = &self.fields;
        let mut d = TantivyDocument::default();
        d.add_text(f.id, &doc.id);
        d.add_text(f.title, &doc.title);
        d.add_text(f.description, &doc.description);
        for tag in &doc.tags {
            d.add_text(f.tags, tag);
        }
        d.add_text(f.category, &doc.category);
        d.add_i64(f.price_cents, doc.price_cents);
        d.add_bool(f.is_vintage, doc.is_vintage);
        d.add_i64(f.quantity, if doc.visible() { doc.quantity } else { 0 });
        if let Some(rating) = doc.shop_rating {
            d.add_f64(f.shop_rating, rating);
        }
        d.add_i64(f.shop_sales_count, doc.shop_sales_count);
        d.add_i64(f.created_at, doc.created_at.timestamp());
        d.add_i64(f.version, doc.version);
        let source = serde_json::to_string(doc).map_err(index_error)?;
        d.add_text(f.source, source);
        Ok(d)
    }

    fn filters(&self, q: &SearchQuery) -> Vec<Box<dyn Query>> {
        let f = &self.fields;
        let mut filters: Vec<Box<dyn Query>> = vec![Box::new(RangeQuery::new(
            Bound::Included(Term::from_field_i64(f.quantity, 1)),
            Bound::Unbounded,
        ))];
        if let Some(category) = &q.category {
            filters.push(Box::new(TermQuery::new(
                Term::from_field_text(f.category, category),
                IndexRecordOption::Basic,
            )));
        }
        if q.min_price_cents.is_some() || q.max_price_cents.is_some() {
            let bound = |v: Option<i64>| match v {
                Some(v) => Bound::Included(Term::from_field_i64(f.price_cents, v)),
                None => Bound::Unbounded,
            };
            filters.push(Box::new(RangeQuery::new(
                bound(q.min_price_cents),
                bound(q.max_price_cents),
            )));
        }
        if let Some(vintage) = q.vintage {
            filters.push(Box::new(TermQuery::new(
                Term::from_field_bool(f.is_vintage, vintage),
                IndexRecordOption::Basic,
            )));
        }
        filters
    }

    fn search(&self, q: &SearchQuery) -> Result<SearchPage, SearchError> {
        let searcher = self.reader.searcher();
        let text: Box<dyn Query> = match q.text.as_deref().map(str::trim) {
            Some(text) if !text.is_empty() => {
                let plan = self.plan.plan(text);
                plan.query(&searcher, &self.fields.text())?
            }
            _ => Box::new(AllQuery),
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, text)];
        for filter in self.filters(q) {
            clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(filter, 0.0))));
        }
        let query = BooleanQuery::new(clauses);

        let sort = q.sort;
        let now = q.now.timestamp();
        let top = TopDocs::with_limit(q.page_size.max(1) as usize)
            .and_offset(q.offset() as usize)
            .tweak_score(move |segment: &SegmentReader| {
                let fast = segment.fast_fields();
                let rating = fast.f64("shop_rating").ok();
                let sales = fast.i64("shop_sales_count").ok();
                let created = fast.i64("created_at").ok();
                let price = fast.i64("price_cents").ok();
                move |doc, score: tantivy::Score| {
                    let rating = rating.as_ref().and_then(|c| c.first(doc));
                    let sales = sales.as_ref().and_then(|c| c.first(doc)).unwrap_or(0);
                    let created = created.as_ref().and_then(|c| c.first(doc)).unwrap_or(0);
                    let price = price.as_ref().and_then(|c| c.first(doc)).unwrap_or(0);
                    let age_days = (now - created) as f64 / 86_400.0;
                    let score = f64::from(score) * ranking::boost(rating, sales, age_days);
                    // (primary, tie-break, reported score); larger ranks first.
                    let (primary, tie) = match sort {
                        Sort::Relevance => (score, created),
                        Sort::Newest => (created as f64, 0),
                        Sort::PriceAsc => (-(price as f64), created),
                        Sort::PriceDesc => (price as f64, created),
                    };
                    (primary, tie, score)
                }
            });
        let aggs = AggregationCollector::from_aggs(
            facet_request()?,
            AggContextParams::new(
                AggregationLimitsGuard::default(),
                self.index.tokenizers().clone(),
            ),
        );
        let (top, total, aggs) = searcher
            .search(&query, &(top, Count, aggs))
            .map_err(index_error)?;
        let aggs = serde_json::to_value(&aggs).map_err(index_error)?;
        let facets = Facets::from_aggregations(&aggs)?;
        let mut hits = Vec::with_capacity(top.len());
        for (key, address) in top {
            let stored: TantivyDocument = searcher.doc(address).map_err(index_error)?;
            let source = stored
                .get_first(self.fields.source)
                .and_then(|v| v.as_str())
                .ok_or_else(|| SearchError::Index("a document without its source".into()))?;
            let doc: SearchDoc = serde_json::from_str(source).map_err(index_error)?;
            hits.push(Hit { doc, score: key.2 });
        }
        Ok(SearchPage {
            hits,
            total: total as u64,
            facets,
        })
    }
}

/// The facet aggregations: the seed's `terms` on category and `range` on price.
fn facet_request() -> Result<Aggregations, SearchError> {
    let ranges: Vec<serde_json::Value> = PRICE_RANGES
        .iter()
        .map(|(key, from, to)| {
            let mut r = serde_json::json!({ "key": key });
            if let Some(from) = from {
                r["from"] = (*from as f64).into();
            }
            if let Some(to) = to {
                r["to"] = (*to as f64).into();
            }
            r
        })
        .collect();
    serde_json::from_value(serde_json::json!({
        "categories": { "terms": { "field": "category", "size": CATEGORY_FACET_SIZE } },
        "price_ranges": { "range": { "field": "price_cents", "ranges": ranges } }
    }))
    .map_err(index_error)
}

impl SearchIndex for EmbeddedIndex {
    async fn prepare(&self) -> Result<(), SearchError> {
        // `open` created the index already.
        Ok(())
    }

    async fn apply(&self, changes: Vec<IndexChange>) -> Result<Vec<Applied>, SearchError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.apply(changes))
            .await
            .map_err(index_error)?
    }

    async fn search(&self, query: &SearchQuery) -> Result<SearchPage, SearchError> {
        let inner = self.inner.clone();
        let query = query.clone();
        tokio::task::spawn_blocking(move || inner.search(&query))
            .await
            .map_err(index_error)?
    }
}
