//! Cold start: the DynamoDB client once; then [`recommender::Recommender`] for every SQS batch.

use aws_lambda_events::event::sqs::SqsEvent;
use bazaar_aws::personalize::also_bought::DynamoAlsoBought;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use recommender::Recommender;
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), Error> {
    bazaar_lambda::telemetry::init_tracing();
    let table =
        std::env::var("TABLE_NAME").map_err(|_| "environment variable TABLE_NAME is required")?;
    let sdk = bazaar_aws::table::sdk_config().await;
    let recommender = Recommender::new(DynamoAlsoBought::new(
        bazaar_aws::table::client(&sdk),
        table,
    ));
    let recommender = &recommender;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let span = tracing::info_span!("invocation", request_id = %event.context.request_id);
        async move { Ok::<_, Error>(recommender.handle(event.payload).await) }.instrument(span)
    }))
    .await
}
