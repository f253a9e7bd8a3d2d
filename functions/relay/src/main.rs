//! Cold start: the SQS client and the queue URL once; then [`relay::Relay`] for every batch.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use relay::{Relay, StreamEvent};
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), Error> {
    bazaar::telemetry::init_tracing();
    let queue_url = std::env::var("ORDER_EVENTS_QUEUE_URL")
        .map_err(|_| "environment variable ORDER_EVENTS_QUEUE_URL is required")?;
    let sdk = bazaar::dynamo::sdk_config().await;
    let relay = Relay::new(aws_sdk_sqs::Client::new(&sdk), queue_url);
    let relay = &relay;
    run(service_fn(move |event: LambdaEvent<StreamEvent>| {
        let span = tracing::info_span!("invocation", request_id = %event.context.request_id);
        async move { Ok::<_, Error>(relay.handle(event.payload).await) }.instrument(span)
    }))
    .await
}
