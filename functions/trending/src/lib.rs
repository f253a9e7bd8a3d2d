//! The trending job: every scheduled invocation recomputes the trending lists (see
//! [`bazaar_domain::personalize::trending`]). A failed run is an error: EventBridge retries it,
//! and the lists of the previous run stay served meanwhile.

use bazaar_aws::personalize::trending::DynamoTrending;
use bazaar_domain::metrics::Metrics;
use bazaar_lambda::BoxError;
use bazaar_lambda::batch::ScheduledJob;
use std::time::Instant;

/// The job, with its store built once per cold start.
pub struct Job {
    trending: DynamoTrending,
}

impl Job {
    pub fn new(trending: DynamoTrending) -> Self {
        Self { trending }
    }
}

impl ScheduledJob for Job {
    /// Computes and stores the lists; logs and emits the run's size and time.
    async fn run(&self) -> Result<serde_json::Value, BoxError> {
        let started = Instant::now();
        let run = self.trending.run(chrono::Utc::now()).await?;
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        tracing::info!(
            active_products = run.active_products,
            trending = run.trending,
            categories = run.categories,
            queries = run.queries,
            elapsed_ms = elapsed,
            "trending lists stored"
        );
        Metrics::new("trending")
            .millis("TrendingRunTime", elapsed)
            .count("TrendingActiveProducts", run.active_products as u64)
            .count("TrendingProducts", run.trending as u64)
            .emit();
        Ok(serde_json::json!({
            "active_products": run.active_products,
            "trending": run.trending,
            "categories": run.categories,
        }))
    }
}
