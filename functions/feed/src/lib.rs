//! The feed function: `GET /feed` and `GET /trending`, the two reads that serve trending lists and
//! fill a short one from the search engine (see [`bazaar_domain::services::feed`]).
//!
//! `GET /feed` is public: an anonymous caller (or one whose token does not verify) gets the
//! trending feed; a signed-in caller gets personalized sections once they have signals.
//! Personalization never turns into an error: it degrades to trending.
//!
//! `GET /trending` (public, `?category=`) answers the stored list; while it holds fewer products
//! than a full list, the engine's best-ranked in-stock listings follow the real trending products.
//! Filling never turns into an error: the stored list alone is answered.

use bazaar_domain::error::Error;
use bazaar_domain::metrics::Metrics;
use bazaar_domain::ports::{FeedStore, SearchIndex};
use bazaar_domain::services::feed::{FeedBuilder, FeedOutcome, Padding};
use bazaar_lambda::auth::AuthMode;
use bazaar_lambda::env::Config;
use bazaar_lambda::http;
use bazaar_lambda::http::{CachePolicy, HttpApp, Route, cacheable, json, match_route};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Feed,
    Trending,
}

/// The routes of this function (template.yaml must agree; a test checks).
pub const ROUTES: &[(Route, Op)] = &[
    (Route::new("GET", "/feed"), Op::Feed),
    (Route::new("GET", "/trending"), Op::Trending),
];

/// `GET /feed` (anonymous) and `GET /trending`: the stored lists change every 15 minutes; the
/// products filling a short list are re-read for stock, so the answer is reused 10 s at most.
/// A signed-in feed is personal: never cacheable (the shared layer's rule for any token).
pub const FEED_CACHE: CachePolicy = CachePolicy::seconds(10, 10);

pub struct App<S, E> {
    feeds: FeedBuilder<S, E>,
    auth: AuthMode,
    service: String,
}

impl<S: FeedStore, E: SearchIndex> HttpApp for App<S, E> {
    /// Serves one API Gateway request; errors become problem responses.
    async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        http::serve(&self.service, req, |req| self.dispatch(req)).await
    }
}

impl<S: FeedStore, E: SearchIndex> App<S, E> {
    pub fn new(store: S, engine: E, config: &Config) -> Self {
        Self {
            feeds: FeedBuilder::new(store, engine),
            auth: config.auth.clone(),
            service: config.service.clone(),
        }
    }

    async fn dispatch(&self, req: Request) -> Result<Response<Body>, Error> {
        match match_route(ROUTES, req.method().as_str(), req.uri().path())?.0 {
            Op::Feed => self.feed(&req).await,
            Op::Trending => self.trending(&req).await,
        }
    }

    async fn feed(&self, req: &Request) -> Result<Response<Body>, Error> {
        let viewer = self.auth.optional_verified(req).await;
        let started = Instant::now();
        let (feed, outcome) = self
            .feeds
            .feed(
                viewer.as_ref().map(|v| v.user_id.as_str()),
                chrono::Utc::now(),
            )
            .await?;
        Metrics::new(&self.service)
            .millis("FeedLatency", started.elapsed().as_secs_f64() * 1000.0)
            .count(
                "FeedPersonalized",
                u64::from(outcome == FeedOutcome::Personalized),
            )
            .count("FeedDegraded", u64::from(outcome == FeedOutcome::Degraded))
            .count("FeedSections", feed.sections.len() as u64)
            .property("outcome", format!("{outcome:?}").to_lowercase())
            .emit();
        Ok(cacheable(json(StatusCode::OK, &feed)?, FEED_CACHE))
    }

    async fn trending(&self, req: &Request) -> Result<Response<Body>, Error> {
        let category = params::category(req.uri().query().unwrap_or(""))?;
        let started = Instant::now();
        let (page, padding) = self
            .feeds
            .trending(category.as_deref(), chrono::Utc::now())
            .await?;
        let padded = match padding {
            Padding::Filled(n) => n as u64,
            Padding::NotNeeded | Padding::Failed => 0,
        };
        Metrics::new(&self.service)
            .millis("TrendingLatency", started.elapsed().as_secs_f64() * 1000.0)
            .count("TrendingPadded", padded)
            .count(
                "TrendingPaddingFailed",
                u64::from(padding == Padding::Failed),
            )
            .property(
                "list",
                if category.is_some() {
                    "category"
                } else {
                    "all"
                },
            )
            .emit();
        Ok(cacheable(json(StatusCode::OK, &page)?, FEED_CACHE))
    }
}

/// Query parameters of `GET /trending`.
mod params {
    use bazaar_domain::error::{Error, FieldError};
    use bazaar_domain::validate::is_slug;

    /// `?category=`: absent or blank → overall; a slug → that category; anything else `422`;
    /// repeated `400`. Other parameters are ignored.
    pub fn category(query: &str) -> Result<Option<String>, Error> {
        let mut found: Option<String> = None;
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            if k == "category" && found.replace(v.into_owned()).is_some() {
                return Err(Error::InvalidParameter {
                    name: "category".into(),
                    reason: "is given more than once".into(),
                });
            }
        }
        let category = found.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
        if category.as_deref().is_some_and(|c| !is_slug(c)) {
            return Err(Error::Validation(vec![FieldError::new(
                "category",
                "must be a category slug (lowercase words joined by hyphens)",
            )]));
        }
        Ok(category)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn category_parameter() {
            assert_eq!(category("").expect("ok"), None);
            assert_eq!(category("category=").expect("ok"), None);
            assert_eq!(
                category("category=home-decor&x=1").expect("ok").as_deref(),
                Some("home-decor")
            );
            assert_eq!(
                category("category=Home%20Decor").expect_err("bad").status(),
                422
            );
            assert_eq!(
                category("category=a&category=b").expect_err("dup").status(),
                400
            );
        }
    }
}
