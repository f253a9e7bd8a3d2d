//! Cold start: configuration, logging, the DynamoDB client and the payment gateway once; then
//! [`checkout::App`].

use bazaar_aws::checkout::DynamoCheckout;
use bazaar_aws::idempotency::DynamoIdempotency;
use bazaar_aws::payments::TestGateway;
use bazaar_aws::table::client;
use bazaar_aws::table::sdk_config;
use bazaar_lambda::env::Config;
use checkout::{App, Faults};
use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    bazaar_lambda::telemetry::init_tracing();
    let config = Config::from_env("checkout")?;
    let dynamo = client(&sdk_config().await);
    let table = &config.table_name;
    let app = App::new(
        DynamoCheckout::new(dynamo.clone(), table),
        TestGateway::new(dynamo.clone(), table),
        DynamoIdempotency::new(dynamo, table),
        Faults::from_env(&config),
        &config,
    );
    let app = &app;
    run(service_fn(move |req| app.handle(req))).await
}
