//! Cold start: configuration, logging and the DynamoDB client are built once, then every
//! invocation is served by [`catalog::App`].

use bazaar_aws::catalog::DynamoCatalog;
use bazaar_aws::personalize::DynamoDiscovery;
use bazaar_aws::table::client;
use bazaar_aws::table::sdk_config;
use bazaar_lambda::env::Config;
use catalog::App;
use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    bazaar_lambda::telemetry::init_tracing();
    let config = Config::from_env("catalog")?;
    let client = client(&sdk_config().await);
    let store = DynamoCatalog::new(client.clone(), &config.table_name);
    let discovery = DynamoDiscovery::new(client, &config.table_name);
    let app = App::new(store, discovery, &config);
    let app = &app;
    run(service_fn(move |req| app.handle(req))).await
}
