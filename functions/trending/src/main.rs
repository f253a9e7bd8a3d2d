//! Cold start: the DynamoDB client once; then every scheduled invocation recomputes the trending
//! lists (see [`bazaar_domain::personalize::trending`]). A failed run is an error: EventBridge retries it,
//! and the lists of the previous run stay served meanwhile.

use bazaar_aws::personalize::trending::DynamoTrending;
use bazaar_domain::metrics::Metrics;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use std::time::Instant;
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), Error> {
    bazaar_lambda::telemetry::init_tracing();
    let table =
        std::env::var("TABLE_NAME").map_err(|_| "environment variable TABLE_NAME is required")?;
    let sdk = bazaar_aws::table::sdk_config().await;
    let job = DynamoTrending::new(bazaar_aws::table::client(&sdk), table);
    let job = &job;
    run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let span = tracing::info_span!("invocation", request_id = %event.context.request_id);
        async move {
            let started = Instant::now();
            let run = job.run(chrono::Utc::now()).await?;
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
            Ok::<_, Error>(serde_json::json!({
                "active_products": run.active_products,
                "trending": run.trending,
                "categories": run.categories,
            }))
        }
        .instrument(span)
    }))
    .await
}
