//! Cold start: configuration, logging and the DynamoDB client once; then [`favorites::App`] for
//! every request.

use bazaar::config::Config;
use bazaar::dynamo::{client, sdk_config};
use bazaar::personalize::favorites::DynamoFavorites;
use favorites::App;
use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    bazaar::telemetry::init_tracing();
    let config = Config::from_env("favorites")?;
    let store = DynamoFavorites::new(client(&sdk_config().await), &config.table_name);
    let app = App::new(store, &config);
    let app = &app;
    run(service_fn(move |req| app.handle(req))).await
}
