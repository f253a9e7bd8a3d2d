//! Cold start: configuration, logging, the DynamoDB client and the payment gateway once; then
//! [`orders::App`].

use bazaar::config::Config;
use bazaar::dynamo::{client, sdk_config};
use bazaar::orders::DynamoOrders;
use bazaar::payment::TestGateway;
use lambda_http::{Error, run, service_fn};
use orders::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    bazaar::telemetry::init_tracing();
    let config = Config::from_env("orders")?;
    let dynamo = client(&sdk_config().await);
    let app = App::new(
        DynamoOrders::new(dynamo.clone(), &config.table_name),
        TestGateway::new(dynamo, &config.table_name),
        &config,
    );
    let app = &app;
    run(service_fn(move |req| app.handle(req))).await
}
