//! The feed function: `GET /feed`. Public: an anonymous caller (or one whose token does not
//! verify) gets the trending feed; a signed-in caller gets personalized sections once they have
//! signals (see [`bazaar::personalize::feed`]). Personalization never turns into an error: it
//! degrades to trending.

use bazaar::auth::AuthMode;
use bazaar::config::Config;
use bazaar::error::Error;
use bazaar::http::{self, Route, json, match_route};
use bazaar::personalize::feed::{FeedBuilder, FeedStore, Outcome};
use bazaar::search::SearchIndex;
use bazaar::telemetry::Metrics;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Feed,
}

/// The routes of this function (template.yaml must agree; a test checks).
pub const ROUTES: &[(Route, Op)] = &[(Route::new("GET", "/feed"), Op::Feed)];

pub struct App<S, E> {
    feeds: FeedBuilder<S, E>,
    auth: AuthMode,
    service: String,
}

impl<S: FeedStore, E: SearchIndex> App<S, E> {
    pub fn new(store: S, engine: E, config: &Config) -> Self {
        Self {
            feeds: FeedBuilder::new(store, engine),
            auth: config.auth.clone(),
            service: config.service.clone(),
        }
    }

    pub async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        http::serve(&self.service, req, |req| self.dispatch(req)).await
    }

    async fn dispatch(&self, req: Request) -> Result<Response<Body>, Error> {
        let (Op::Feed, _) = match_route(ROUTES, req.method().as_str(), req.uri().path())?;
        let viewer = self.auth.optional_verified(&req).await;
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
                u64::from(outcome == Outcome::Personalized),
            )
            .count("FeedDegraded", u64::from(outcome == Outcome::Degraded))
            .count("FeedSections", feed.sections.len() as u64)
            .property("outcome", format!("{outcome:?}").to_lowercase())
            .emit();
        json(StatusCode::OK, &feed)
    }
}
