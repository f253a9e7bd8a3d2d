//! Product search: the [`SearchIndex`] port, the documents and queries both engines share, and
//! the rules that make the engines behave the same (analysis, synonyms, ranking, facets).
//!
//! The engines live in `bazaar-search` (OpenSearch, and the embedded tantivy engine), each a Cargo
//! feature; the port is [`crate::ports::SearchIndex`].
//!
//! Versions: every document carries its product's `version`. An engine applies a change only when
//! its version is greater than the one it holds, and a removal leaves a tombstone with its version,
//! so an old or repeated event can never overwrite a newer document or resurrect a deleted one.

pub mod params;
pub mod synonyms;

use crate::catalog::{CURRENCY, Product, Shop};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The deepest result an engine serves (`page × page_size`), OpenSearch's default
/// `index.max_result_window`; deeper pages are answered `422`.
pub const MAX_RESULT_WINDOW: u64 = 10_000;

/// Category facet buckets returned, as the seed's `terms` aggregation (`size: 20`).
pub const CATEGORY_FACET_SIZE: usize = 20;

/// The price facet's ranges: key, lower bound (inclusive), upper bound (exclusive), in cents.
pub const PRICE_RANGES: [(&str, Option<i64>, Option<i64>); 4] = [
    ("Under $25", None, Some(2_500)),
    ("$25 to $50", Some(2_500), Some(5_000)),
    ("$50 to $100", Some(5_000), Some(10_000)),
    ("Over $100", Some(10_000), None),
];

/// Ranking boosts of the seed's `function_score`, in one place for both engines.
pub mod ranking {
    /// Fields searched and their boosts: `title^3, tags^2, description`.
    pub const FIELDS: [(&str, f32); 3] = [("title", 3.0), ("tags", 2.0), ("description", 1.0)];
    /// `field_value_factor` on the shop rating: `sqrt(1.5 × rating)`, rating 3.0 when unrated.
    pub const RATING_FACTOR: f64 = 1.5;
    pub const RATING_MISSING: f64 = 3.0;
    /// `field_value_factor` on the shop's sales: `log10(2 + 1.2 × sales)`. The seed used `log1p`,
    /// which is 0 for a shop without sales and so zeroed every new shop's listings; `log2p` keeps
    /// the same curve without that cliff.
    pub const SALES_FACTOR: f64 = 1.2;
    /// Recency: `1 + gauss(created_at; origin now, scale 30 days, decay 0.5)`. The seed multiplied
    /// by the bare gaussian, which is ≈ 0 for anything older than three months and so buried every
    /// older listing whatever its relevance; adding 1 keeps a new listing's boost up to ×2.
    pub const RECENCY_SCALE_DAYS: f64 = 30.0;
    pub const RECENCY_DECAY: f64 = 0.5;

    /// The multiplier a document's text score is multiplied by.
    pub fn boost(shop_rating: Option<f64>, shop_sales: i64, age_days: f64) -> f64 {
        let rating = shop_rating.unwrap_or(RATING_MISSING).max(0.0);
        let rating = (RATING_FACTOR * rating).sqrt();
        let sales = (2.0 + SALES_FACTOR * shop_sales.max(0) as f64).log10();
        let age = age_days.max(0.0) / RECENCY_SCALE_DAYS;
        let recency = 1.0 + RECENCY_DECAY.powf(age * age);
        rating * sales * recency
    }
}

/// What the index holds for one product: the listing, its shop's ranking signals, and its version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchDoc {
    pub id: String,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    pub category: String,
    pub price_cents: i64,
    pub currency: String,
    pub shop_id: String,
    pub shop_name: String,
    /// The shop's average rating; absent before its first review (ranked as 3.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shop_rating: Option<f64>,
    pub shop_sales_count: i64,
    pub is_vintage: bool,
    pub quantity: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    pub created_at: DateTime<Utc>,
    pub version: i64,
    /// A tombstone: the product was deleted at `version`. Never shown; kept so that an older
    /// event cannot bring the product back.
    #[serde(default)]
    pub deleted: bool,
}

impl SearchDoc {
    pub fn new(product: &Product, shop: &Shop) -> Self {
        SearchDoc {
            id: product.id.clone(),
            title: product.title.clone(),
            description: product.description.clone(),
            tags: product.tags.clone(),
            category: product.category.clone(),
            price_cents: product.price_cents,
            currency: CURRENCY.to_owned(),
            shop_id: product.shop_id.clone(),
            shop_name: shop.name.clone(),
            shop_rating: shop.rating(),
            shop_sales_count: shop.sales_count,
            is_vintage: product.is_vintage,
            quantity: product.quantity.max(0),
            image: product.images.first().cloned(),
            created_at: product.created_at,
            version: product.version,
            deleted: false,
        }
    }

    /// The tombstone left by deleting product `id` at `version`.
    pub fn tombstone(id: &str, version: i64) -> Self {
        SearchDoc {
            id: id.to_owned(),
            title: String::new(),
            description: String::new(),
            tags: Vec::new(),
            category: String::new(),
            price_cents: 0,
            currency: CURRENCY.to_owned(),
            shop_id: String::new(),
            shop_name: String::new(),
            shop_rating: None,
            shop_sales_count: 0,
            is_vintage: false,
            quantity: 0,
            image: None,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            version,
            deleted: true,
        }
    }

    /// Whether search may show it: not deleted and in stock.
    pub fn visible(&self) -> bool {
        !self.deleted && self.quantity > 0
    }
}

/// One change to apply: a document (created, updated, sold) or a removal, each with its version.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // short-lived, built in batches of at most a few thousand
pub enum IndexChange {
    Upsert(SearchDoc),
    Remove { id: String, version: i64 },
}

impl IndexChange {
    pub fn id(&self) -> &str {
        match self {
            IndexChange::Upsert(doc) => &doc.id,
            IndexChange::Remove { id, .. } => id,
        }
    }

    pub fn version(&self) -> i64 {
        match self {
            IndexChange::Upsert(doc) => doc.version,
            IndexChange::Remove { version, .. } => *version,
        }
    }

    /// The document the engine stores for this change (a tombstone for a removal).
    pub fn into_doc(self) -> SearchDoc {
        match self {
            IndexChange::Upsert(doc) => doc,
            IndexChange::Remove { id, version } => SearchDoc::tombstone(&id, version),
        }
    }
}

/// What became of one change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The engine now holds this version.
    Indexed,
    /// The engine already held this or a newer version; nothing changed (not an error).
    Stale,
    /// This change failed and should be retried.
    Failed(String),
}

/// Result order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    #[default]
    Relevance,
    Newest,
    PriceAsc,
    PriceDesc,
}

impl Sort {
    pub fn parse(s: &str) -> Option<Sort> {
        Some(match s {
            "relevance" => Sort::Relevance,
            "newest" => Sort::Newest,
            "price_asc" => Sort::PriceAsc,
            "price_desc" => Sort::PriceDesc,
            _ => return None,
        })
    }
}

/// A validated search request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchQuery {
    /// Free text; `None` browses (every in-stock product matches).
    pub text: Option<String>,
    pub category: Option<String>,
    pub min_price_cents: Option<i64>,
    pub max_price_cents: Option<i64>,
    pub vintage: Option<bool>,
    pub sort: Sort,
    /// 1-based.
    pub page: u64,
    pub page_size: u64,
    /// When ranking started: the origin of the recency boost (fixed per query so that every
    /// document is ranked against the same instant).
    pub now: DateTime<Utc>,
}

impl SearchQuery {
    pub fn offset(&self) -> u64 {
        self.page.saturating_sub(1) * self.page_size
    }
}

/// One product in a result page, with its final score.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub doc: SearchDoc,
    pub score: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryCount {
    pub key: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PriceRangeCount {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_cents: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_cents: Option<i64>,
    pub count: u64,
}

/// Counts over every matching in-stock product (not just the page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Facets {
    pub categories: Vec<CategoryCount>,
    pub price_ranges: Vec<PriceRangeCount>,
}

impl Facets {
    /// Facets counted from documents in hand (the degraded fallback's listing).
    pub fn count<'a>(docs: impl IntoIterator<Item = &'a SearchDoc>) -> Facets {
        let mut categories: std::collections::BTreeMap<&str, u64> = Default::default();
        let mut ranges = [0u64; PRICE_RANGES.len()];
        for doc in docs {
            *categories.entry(doc.category.as_str()).or_default() += 1;
            for (i, (_, from, to)) in PRICE_RANGES.iter().enumerate() {
                if from.is_none_or(|f| doc.price_cents >= f)
                    && to.is_none_or(|t| doc.price_cents < t)
                {
                    ranges[i] += 1;
                }
            }
        }
        let mut categories: Vec<CategoryCount> = categories
            .into_iter()
            .map(|(key, count)| CategoryCount {
                key: key.to_owned(),
                count,
            })
            .collect();
        categories.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
        categories.truncate(CATEGORY_FACET_SIZE);
        Facets {
            categories,
            price_ranges: PRICE_RANGES
                .iter()
                .zip(ranges)
                .map(|((key, from, to), count)| PriceRangeCount {
                    key: (*key).to_owned(),
                    from_cents: *from,
                    to_cents: *to,
                    count,
                })
                .collect(),
        }
    }

    /// Facets from an aggregation result in OpenSearch's shape
    /// (`{"categories": {"buckets": [{"key", "doc_count"}]}, "price_ranges": {"buckets": [...]}}`),
    /// which tantivy's aggregations produce too. Every price range is listed, empty ones with 0.
    pub fn from_aggregations(aggs: &serde_json::Value) -> Result<Facets, SearchError> {
        #[derive(Deserialize)]
        struct Buckets<T> {
            buckets: Vec<T>,
        }
        #[derive(Deserialize)]
        struct TermBucket {
            key: serde_json::Value,
            doc_count: u64,
        }
        #[derive(Deserialize)]
        struct RangeBucket {
            key: String,
            doc_count: u64,
        }
        let malformed = |what: &str, e: serde_json::Error| {
            SearchError::Malformed(format!("aggregation {what}: {e}"))
        };
        let categories: Buckets<TermBucket> =
            serde_json::from_value(aggs.get("categories").cloned().unwrap_or_default())
                .map_err(|e| malformed("categories", e))?;
        let ranges: Buckets<RangeBucket> =
            serde_json::from_value(aggs.get("price_ranges").cloned().unwrap_or_default())
                .map_err(|e| malformed("price_ranges", e))?;
        let mut categories: Vec<CategoryCount> = categories
            .buckets
            .into_iter()
            .filter(|b| b.doc_count > 0)
            .map(|b| CategoryCount {
                key: match b.key {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                },
                count: b.doc_count,
            })
            .collect();
        // Ties in a stable order whatever the engine: most products first, then by key.
        categories.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
        let price_ranges = PRICE_RANGES
            .iter()
            .map(|(key, from, to)| PriceRangeCount {
                key: (*key).to_owned(),
                from_cents: *from,
                to_cents: *to,
                count: ranges
                    .buckets
                    .iter()
                    .find(|b| b.key == *key)
                    .map_or(0, |b| b.doc_count),
            })
            .collect();
        Ok(Facets {
            categories,
            price_ranges,
        })
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchPage {
    pub hits: Vec<Hit>,
    /// Every matching in-stock product.
    pub total: u64,
    pub facets: Facets,
}

/// Why an engine could not answer. The search function treats all of these as the engine being
/// unavailable (its circuit breaker counts them and the fallback answers).
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// Could not reach the engine, or it answered 5xx / timed out.
    #[error("search engine unavailable: {0}")]
    Unavailable(String),
    /// The engine refused the request (4xx): a bug in the request we built.
    #[error("search engine rejected the request: {0}")]
    Rejected(String),
    /// The engine's answer could not be read.
    #[error("unreadable search engine response: {0}")]
    Malformed(String),
    /// The local index failed (embedded engine).
    #[error("search index error: {0}")]
    Index(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn boosts_follow_the_seed_curves() {
        // Unrated shop counts as 3.0; no sales no longer zeroes the score.
        let fresh = ranking::boost(None, 0, 0.0);
        assert!((fresh - (4.5f64).sqrt() * 2f64.log10() * 2.0).abs() < 1e-9);
        // Better rating, more sales and newer listings rank higher.
        assert!(ranking::boost(Some(5.0), 0, 0.0) > ranking::boost(Some(2.0), 0, 0.0));
        assert!(ranking::boost(None, 500, 0.0) > ranking::boost(None, 5, 0.0));
        assert!(ranking::boost(None, 0, 1.0) > ranking::boost(None, 0, 60.0));
        // At the scale (30 days) the recency part has decayed to 1 + 0.5.
        let at_scale = ranking::boost(None, 0, 30.0) / ranking::boost(None, 0, 0.0);
        assert!((at_scale - 1.5 / 2.0).abs() < 1e-9);
        // Old listings keep a positive score.
        assert!(ranking::boost(None, 0, 3650.0) > 0.0);
    }

    #[test]
    fn facets_parse_the_opensearch_shape_and_list_every_price_range() {
        let aggs = json!({
            "categories": {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0,
                "buckets": [{"key": "jewelry", "doc_count": 3}, {"key": "bags", "doc_count": 1}]},
            "price_ranges": {"buckets": [
                {"key": "Under $25", "to": 2500.0, "doc_count": 2},
                {"key": "Over $100", "from": 10000.0, "doc_count": 2}]}
        });
        let f = Facets::from_aggregations(&aggs).expect("facets");
        assert_eq!(f.categories.len(), 2);
        assert_eq!(f.categories[0].key, "jewelry");
        assert_eq!(f.categories[0].count, 3);
        let counts: Vec<_> = f
            .price_ranges
            .iter()
            .map(|r| (r.key.as_str(), r.count))
            .collect();
        assert_eq!(
            counts,
            [
                ("Under $25", 2),
                ("$25 to $50", 0),
                ("$50 to $100", 0),
                ("Over $100", 2)
            ]
        );
        assert_eq!(f.price_ranges[1].from_cents, Some(2500));
        assert_eq!(f.price_ranges[1].to_cents, Some(5000));
        assert!(Facets::from_aggregations(&json!({"categories": {"buckets": 3}})).is_err());
    }

    #[test]
    fn counted_facets_use_the_same_ranges() {
        let mut a = SearchDoc::tombstone("a", 1);
        a.category = "jewelry".into();
        a.price_cents = 2_499;
        let mut b = a.clone();
        b.price_cents = 2_500;
        let mut c = a.clone();
        c.category = "bags".into();
        c.price_cents = 10_000;
        let f = Facets::count([&a, &b, &c]);
        assert_eq!(
            f.categories[0],
            CategoryCount {
                key: "jewelry".into(),
                count: 2
            }
        );
        let counts: Vec<_> = f.price_ranges.iter().map(|r| r.count).collect();
        assert_eq!(counts, [1, 1, 0, 1]);
    }

    #[test]
    fn stale_tombstones_and_sold_out_documents_are_invisible() {
        let t = SearchDoc::tombstone("a", 4);
        assert!(t.deleted && !t.visible());
        assert_eq!(
            IndexChange::Remove {
                id: "a".into(),
                version: 4
            }
            .into_doc(),
            t
        );
    }
}
