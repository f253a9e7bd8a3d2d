//! Cold start: the search engine and the DynamoDB client once; then [`indexer::Indexer`] for every
//! SQS batch.

use aws_lambda_events::event::sqs::SqsEvent;
use bazaar_aws::personalize::trending::DynamoTrending;
use bazaar_aws::source::TableSource;
use bazaar_domain::ports::SearchIndex;
use bazaar_search::Engine;
use bazaar_search::EngineConfig;
use indexer::Indexer;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), Error> {
    bazaar_lambda::telemetry::init_tracing();
    let table =
        std::env::var("TABLE_NAME").map_err(|_| "environment variable TABLE_NAME is required")?;
    let sdk = bazaar_aws::table::sdk_config().await;
    let engine = Engine::open(&EngineConfig::from_env()?, &sdk).await?;
    // Creates the index (settings, mappings) on a new domain; a no-op afterwards.
    engine.prepare().await?;
    let client = bazaar_aws::table::client(&sdk);
    let indexer = Indexer::new(engine, TableSource::new(client.clone(), &table))
        .evicting_from(DynamoTrending::new(client, table));
    let indexer = &indexer;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let span = tracing::info_span!("invocation", request_id = %event.context.request_id);
        async move { Ok::<_, Error>(indexer.handle(event.payload).await) }.instrument(span)
    }))
    .await
}
