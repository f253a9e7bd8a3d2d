//! Cold start: configuration, logging and the DynamoDB client are built once, then every
//! invocation is served by [`catalog::App`].

use bazaar::config::Config;
use bazaar::dynamo::{DynamoCatalog, sdk_config};
use catalog::App;
use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    bazaar::telemetry::init_tracing();
    let config = Config::from_env("catalog")?;
    let store = DynamoCatalog::from_sdk_config(&sdk_config().await, &config.table_name);
    let app = App::new(store, &config);
    let app = &app;
    run(service_fn(move |req| app.handle(req))).await
}
