//! Cold start: configuration, the search engine and the DynamoDB client once; then [`feed::App`]
//! for every request (`GET /feed`, `GET /trending`).

use bazaar_aws::personalize::feed::DynamoFeedStore;
use bazaar_aws::table::client;
use bazaar_aws::table::sdk_config;
use bazaar_lambda::env::Config;
use bazaar_search::Engine;
use bazaar_search::EngineConfig;
use feed::App;
use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    bazaar_lambda::telemetry::init_tracing();
    let config = Config::from_env("feed")?;
    let sdk = sdk_config().await;
    let engine = Engine::open(&EngineConfig::from_env()?, &sdk).await?;
    let store = DynamoFeedStore::new(client(&sdk), &config.table_name);
    let app = App::new(store, engine, &config);
    let app = &app;
    run(service_fn(move |req| app.handle(req))).await
}
