//! Cold start: the SQS client and the queue URLs once; then [`relay::Relay`] for every batch.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use relay::{Queues, Relay, StreamEvent};
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), Error> {
    bazaar_lambda::telemetry::init_tracing();
    let var = |name: &str| {
        std::env::var(name).map_err(|_| format!("environment variable {name} is required"))
    };
    let queues = Queues {
        order_events: var("ORDER_EVENTS_QUEUE_URL")?,
        product_events: var("PRODUCT_EVENTS_QUEUE_URL")?,
        purchase_events: var("PURCHASE_EVENTS_QUEUE_URL")?,
    };
    let sdk = bazaar_aws::table::sdk_config().await;
    let relay = Relay::new(aws_sdk_sqs::Client::new(&sdk), queues);
    let relay = &relay;
    run(service_fn(move |event: LambdaEvent<StreamEvent>| {
        let span = tracing::info_span!("invocation", request_id = %event.context.request_id);
        async move { Ok::<_, Error>(relay.handle(event.payload).await) }.instrument(span)
    }))
    .await
}
