//! Publishing to SQS: the [`Publisher`] of the stream relay.

use bazaar_domain::ports::Publisher;

pub use aws_sdk_sqs::Client;

/// An SQS client from the cold start's SDK configuration, its calls timed per request
/// ([`crate::calls::CountAwsCalls`]).
pub fn client(sdk: &aws_config::SdkConfig) -> Client {
    let config = aws_sdk_sqs::config::Builder::from(sdk)
        .interceptor(crate::calls::CountAwsCalls)
        .build();
    Client::from_conf(config)
}

/// `SendMessageBatch` to a queue URL.
#[derive(Debug, Clone)]
pub struct SqsPublisher {
    client: Client,
}

impl SqsPublisher {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

impl Publisher for SqsPublisher {
    async fn publish(&self, queue: &str, bodies: &[&str]) -> Result<(), usize> {
        use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
        let entries: Vec<SendMessageBatchRequestEntry> = bodies
            .iter()
            .enumerate()
            .filter_map(|(i, body)| {
                SendMessageBatchRequestEntry::builder()
                    .id(format!("m{i}"))
                    .message_body(*body)
                    .build()
                    .ok()
            })
            .collect();
        let result = self
            .client
            .send_message_batch()
            .queue_url(queue)
            .set_entries(Some(entries))
            .send()
            .await;
        match result {
            Ok(out) => match out
                .failed()
                .iter()
                .filter_map(|f| f.id().strip_prefix('m')?.parse::<usize>().ok())
                .min()
            {
                Some(first) => Err(first),
                None => Ok(()),
            },
            Err(err) => {
                tracing::error!(error = %aws_sdk_sqs::error::DisplayErrorContext(err), %queue, "publishing events failed");
                Err(0)
            }
        }
    }
}
