//! The search function: `GET /search`. Validates the parameters, asks the configured engine
//! through a circuit breaker (the seed's search settings), and when the engine is unreachable or
//! the circuit is open answers from DynamoDB's category listing with `degraded: true` — search
//! degrades, it does not fail.

use bazaar_domain::error::Error;
use bazaar_domain::metrics::Metrics;
use bazaar_domain::ports::{CategoryListing, SearchIndex};
use bazaar_domain::search::{Facets, SearchPage, SearchQuery, params};
use bazaar_lambda::http;
use bazaar_lambda::http::{CachePolicy, HttpApp, Route, cacheable, json, match_route};
use bazaar_search::breaker::{BreakerConfig, CircuitBreaker, Rejected};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Search,
}

/// The routes of this function (template.yaml must agree; a test checks).
pub const ROUTES: &[(Route, Op)] = &[(Route::new("GET", "/search"), Op::Search)];

/// `GET /search`: the contract shows a change in search within 5 s; the index follows the table
/// within about 2 s, so a result page is reused for 2 s at most (browser and CloudFront).
pub const SEARCH_CACHE: CachePolicy = CachePolicy::seconds(2, 2);

/// One product of a result page (the contract's shape).
#[derive(Debug, Serialize)]
pub struct ProductHit {
    pub id: String,
    pub title: String,
    pub price_cents: i64,
    pub currency: String,
    pub shop_id: String,
    pub shop_name: String,
    pub category: String,
    pub tags: Vec<String>,
    pub is_vintage: bool,
    pub image: Option<String>,
    pub score: f64,
}

#[derive(Debug, Serialize)]
pub struct SearchResponse {
    pub products: Vec<ProductHit>,
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
    pub facets: Facets,
    pub degraded: bool,
}

impl SearchResponse {
    pub fn new(query: &SearchQuery, page: SearchPage, degraded: bool) -> Self {
        SearchResponse {
            products: page
                .hits
                .into_iter()
                .map(|hit| ProductHit {
                    id: hit.doc.id,
                    title: hit.doc.title,
                    price_cents: hit.doc.price_cents,
                    currency: hit.doc.currency,
                    shop_id: hit.doc.shop_id,
                    shop_name: hit.doc.shop_name,
                    category: hit.doc.category,
                    tags: hit.doc.tags,
                    is_vintage: hit.doc.is_vintage,
                    image: hit.doc.image,
                    score: (hit.score * 1e4).round() / 1e4,
                })
                .collect(),
            total: page.total,
            page: query.page,
            page_size: query.page_size,
            facets: page.facets,
            degraded,
        }
    }
}

/// State built once per cold start: the engine, the fallback listing and the breaker.
pub struct App<S, L> {
    engine: S,
    listing: L,
    breaker: CircuitBreaker,
    service: String,
}

impl<S: SearchIndex, L: CategoryListing> HttpApp for App<S, L> {
    /// Serves one API Gateway request; errors become problem responses.
    async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        http::serve(&self.service, req, |req| self.dispatch(req)).await
    }
}

impl<S: SearchIndex, L: CategoryListing> App<S, L> {
    pub fn new(engine: S, listing: L, breaker: BreakerConfig, service: &str) -> Self {
        App {
            engine,
            listing,
            breaker: CircuitBreaker::new(breaker),
            service: service.to_owned(),
        }
    }

    async fn dispatch(&self, req: Request) -> Result<Response<Body>, Error> {
        let (Op::Search, _) = match_route(ROUTES, req.method().as_str(), req.uri().path())?;
        let query = params::parse(req.uri().query().unwrap_or(""), chrono::Utc::now())?;
        let started = Instant::now();
        let (page, degraded) = match self.breaker.call(self.engine.search(&query)).await {
            Ok(page) => (page, false),
            Err(rejected) => {
                match &rejected {
                    Rejected::Open => {
                        tracing::warn!("search circuit open: answering from the category listing")
                    }
                    Rejected::TimedOut => tracing::warn!(
                        "search engine timed out: answering from the category listing"
                    ),
                    Rejected::Failed(err) => {
                        tracing::warn!(error = %err, "search engine failed: answering from the category listing")
                    }
                }
                (self.listing.listing(&query).await?, true)
            }
        };
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        let filtered = query.category.is_some()
            || query.min_price_cents.is_some()
            || query.max_price_cents.is_some()
            || query.vintage.is_some();
        Metrics::new(&self.service)
            .millis("SearchLatency", elapsed)
            .count("SearchResults", page.total)
            .count("SearchDegraded", u64::from(degraded))
            .count(
                "SearchCircuitState",
                u64::from(self.breaker.state(Instant::now()).metric()),
            )
            .property("has_filters", filtered)
            .property("has_text", query.text.is_some())
            .emit();
        Ok(cacheable(
            json(StatusCode::OK, &SearchResponse::new(&query, page, degraded))?,
            SEARCH_CACHE,
        ))
    }
}
