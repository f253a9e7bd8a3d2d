//! Cold start: configuration, logging, the DynamoDB client and the payment gateway once; then
//! [`orders::App`].

use bazaar_aws::orders::DynamoOrders;
use bazaar_aws::payments::TestGateway;
use bazaar_aws::table::client;
use bazaar_aws::table::sdk_config;
use bazaar_lambda::env::Config;
use lambda_http::{Error, run, service_fn};
use orders::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    bazaar_lambda::telemetry::init_tracing();
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
