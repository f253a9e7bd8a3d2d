//! Cold start: the DynamoDB client once; then [`notifier::Notifier`] for every SQS batch.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use notifier::Notifier;

#[tokio::main]
async fn main() -> Result<(), Error> {
    bazaar::telemetry::init_tracing();
    let table =
        std::env::var("TABLE_NAME").map_err(|_| "environment variable TABLE_NAME is required")?;
    let dynamo = bazaar::dynamo::client(&bazaar::dynamo::sdk_config().await);
    let notifier = Notifier::new(dynamo, table);
    let notifier = &notifier;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(notifier.handle(event.payload).await)
    }))
    .await
}
