//! Cold start: configuration, logging and the DynamoDB client are built once, then every
//! invocation is served by [`catalog::App`].

use bazaar::config::Config;
use bazaar::dynamo::{DynamoCatalog, client, sdk_config};
use bazaar::personalize::DynamoDiscovery;
use catalog::App;
use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    bazaar::telemetry::init_tracing();
    let config = Config::from_env("catalog")?;
    let client = client(&sdk_config().await);
    let store = DynamoCatalog::new(client.clone(), &config.table_name);
    let discovery = DynamoDiscovery::new(client, &config.table_name);
    let app = App::new(store, discovery, &config);
    let app = &app;
    run(service_fn(move |req| app.handle(req))).await
}
