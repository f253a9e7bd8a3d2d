//! Cold start: configuration, logging and the DynamoDB client once; then [`favorites::App`] for
//! every request.

use bazaar_aws::personalize::favorites::DynamoFavorites;
use bazaar_aws::table::client;
use bazaar_aws::table::sdk_config;
use bazaar_lambda::env::Config;
use favorites::App;
use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    bazaar_lambda::telemetry::init_tracing();
    let config = Config::from_env("favorites")?;
    let store = DynamoFavorites::new(client(&sdk_config().await), &config.table_name);
    let app = App::new(store, &config);
    let app = &app;
    run(service_fn(move |req| app.handle(req))).await
}
