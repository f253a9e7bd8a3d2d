//! The notifier: for every `order.created` it writes a notification for the seller (what
//! `GET /notifications` returns). Idempotent: the notification's key derives from the event id,
//! so a redelivered message writes nothing new. Unreadable messages are reported as batch item
//! failures and reach the queue's DLQ after its `maxReceiveCount`.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;
use bazaar::events::{ORDER_CREATED, OrderCreated};

/// The notifier, with its DynamoDB client built once per cold start.
pub struct Notifier {
    dynamo: aws_sdk_dynamodb::Client,
    table: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Written,
    Duplicate,
}

impl Notifier {
    pub fn new(dynamo: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            dynamo,
            table: table.into(),
        }
    }

    /// Writes the seller's notification for one event; a repeat is a no-op.
    pub async fn notify(&self, event: &OrderCreated) -> Result<Outcome, String> {
        let s = |v: &str| AttributeValue::S(v.to_owned());
        let result = self
            .dynamo
            .put_item()
            .table_name(&self.table)
            .item("pk", s(&format!("NOTIFY#{}", event.owner_id)))
            .item("sk", s(&format!("{}#{}", event.created_at, event.event_id)))
            .item("entity", s("notification"))
            .item("id", s(&event.event_id))
            .item("kind", s(&event.kind))
            .item("order_id", s(&event.order_id))
            .item("message", s(&event.message()))
            .item("created_at", s(&event.created_at))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(Outcome::Written),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(Outcome::Duplicate)
            }
            Err(err) => Err(err.to_string()),
        }
    }

    /// Handles one SQS batch, reporting only the messages that failed.
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        let mut failures = Vec::new();
        let mut written = 0u64;
        for message in event.records {
            let id = message.message_id.clone().unwrap_or_default();
            let parsed = message
                .body
                .as_deref()
                .ok_or_else(|| "empty message".to_owned())
                .and_then(|b| serde_json::from_str::<OrderCreated>(b).map_err(|e| e.to_string()))
                .and_then(|e| {
                    if e.kind == ORDER_CREATED {
                        Ok(e)
                    } else {
                        Err(format!("unknown event type {}", e.kind))
                    }
                });
            let outcome = match parsed {
                Ok(event) => self.notify(&event).await,
                Err(reason) => Err(reason),
            };
            match outcome {
                Ok(Outcome::Written) => written += 1,
                Ok(Outcome::Duplicate) => {
                    tracing::info!(message_id = %id, "duplicate event ignored")
                }
                Err(reason) => {
                    tracing::warn!(message_id = %id, %reason, "message failed; it will be retried");
                    let mut failure = BatchItemFailure::default();
                    failure.item_identifier = id;
                    failures.push(failure);
                }
            }
        }
        bazaar::telemetry::Metrics::new("notifier")
            .count("NotificationsWritten", written)
            .count("NotificationFailures", failures.len() as u64)
            .emit();
        let mut response = SqsBatchResponse::default();
        response.batch_item_failures = failures;
        response
    }
}
