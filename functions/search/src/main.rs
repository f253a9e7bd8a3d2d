//! Cold start: configuration, the search engine, the DynamoDB fallback listing and the circuit
//! breaker once; then [`search::App`] for every request.

use bazaar_aws::listing::DynamoListing;
use bazaar_aws::table::client;
use bazaar_aws::table::sdk_config;
use bazaar_lambda::env::Config;
use bazaar_search::Engine;
use bazaar_search::EngineConfig;
use bazaar_search::breaker::BreakerConfig;
use lambda_http::{Error, run, service_fn};
use search::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    bazaar_lambda::telemetry::init_tracing();
    let config = Config::from_env("search")?;
    let sdk = sdk_config().await;
    let engine = Engine::open(&EngineConfig::from_env()?, &sdk).await?;
    let listing = DynamoListing::new(client(&sdk), &config.table_name);
    let app = App::new(engine, listing, BreakerConfig::default(), &config.service);
    let app = &app;
    run(service_fn(move |req| app.handle(req))).await
}
