//! Cold start: configuration, the search engine, the DynamoDB fallback listing and the circuit
//! breaker once; then [`search::App`] for every request.

use bazaar::config::Config;
use bazaar::dynamo::{client, sdk_config};
use bazaar::search::breaker::BreakerConfig;
use bazaar::search::fallback::DynamoListing;
use bazaar::search::{Engine, EngineConfig};
use lambda_http::{Error, run, service_fn};
use search::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    bazaar::telemetry::init_tracing();
    let config = Config::from_env("search")?;
    let sdk = sdk_config().await;
    let engine = Engine::open(&EngineConfig::from_env()?, &sdk).await?;
    let listing = DynamoListing::new(client(&sdk), &config.table_name);
    let app = App::new(engine, listing, BreakerConfig::default(), &config.service);
    let app = &app;
    run(service_fn(move |req| app.handle(req))).await
}
