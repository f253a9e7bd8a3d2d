//! Cold start: the DynamoDB client once; then [`notifier::Notifier`] for every SQS batch.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use notifier::{Notifier, SesMailer};
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), Error> {
    bazaar_lambda::telemetry::init_tracing();
    let table =
        std::env::var("TABLE_NAME").map_err(|_| "environment variable TABLE_NAME is required")?;
    let sdk = bazaar_aws::table::sdk_config().await;
    let dynamo = bazaar_aws::table::client(&sdk);
    // E-mail only when a verified sender is configured.
    let mailer = std::env::var("NOTIFY_SENDER")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .map(|sender| SesMailer {
            client: aws_sdk_sesv2::Client::new(&sdk),
            sender,
        });
    let notifier = Notifier::new(dynamo, table, mailer);
    let notifier = &notifier;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let span = tracing::info_span!("invocation", request_id = %event.context.request_id);
        async move { Ok::<_, Error>(notifier.handle(event.payload).await) }.instrument(span)
    }))
    .await
}
