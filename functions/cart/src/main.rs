//! Cold start: configuration, logging and the DynamoDB client once; then [`cart::App`].

use bazaar_aws::cart::DynamoCart;
use bazaar_aws::table::sdk_config;
use bazaar_lambda::env::Config;
use cart::App;
use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    bazaar_lambda::telemetry::init_tracing();
    let config = Config::from_env("cart")?;
    let store = DynamoCart::from_sdk_config(&sdk_config().await, &config.table_name);
    let app = App::new(store, &config);
    let app = &app;
    run(service_fn(move |req| app.handle(req))).await
}
