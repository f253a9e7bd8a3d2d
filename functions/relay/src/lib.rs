//! The stream relay: the table's stream is the transactional outbox. Every order item that is
//! inserted reaches the stream (whatever happens to the function that committed it), and this
//! function publishes it as `order.created` to the order events queue.
//!
//! Failures are reported per record (`ReportBatchItemFailures` with the record's sequence number):
//! Lambda retries from the first failed record, so nothing is skipped; a redelivered record
//! publishes the same event id again, and consumers ignore it.

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use bazaar::checkout::OrderRecord;
use bazaar::events::OrderCreated;
use serde::{Deserialize, Serialize};

/// The parts of a DynamoDB stream event the relay reads.
#[derive(Debug, Deserialize)]
pub struct StreamEvent {
    #[serde(rename = "Records", default)]
    pub records: Vec<StreamRecord>,
}

#[derive(Debug, Deserialize)]
pub struct StreamRecord {
    #[serde(rename = "eventName", default)]
    pub event_name: String,
    pub dynamodb: StreamChange,
}

#[derive(Debug, Deserialize)]
pub struct StreamChange {
    #[serde(rename = "NewImage", default)]
    pub new_image: Option<serde_dynamo::Item>,
    #[serde(rename = "SequenceNumber", default)]
    pub sequence_number: String,
}

/// The `ReportBatchItemFailures` answer.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct BatchResponse {
    #[serde(rename = "batchItemFailures")]
    pub batch_item_failures: Vec<ItemFailure>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ItemFailure {
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

/// The `order.created` event of a stream record, if it is an order insert.
pub fn order_event(record: &StreamRecord) -> Result<Option<OrderCreated>, String> {
    if record.event_name != "INSERT" {
        return Ok(None);
    }
    let Some(image) = &record.dynamodb.new_image else {
        return Ok(None);
    };
    let is_order = matches!(
        image.get("entity"),
        Some(serde_dynamo::AttributeValue::S(e)) if e == "order"
    );
    if !is_order {
        return Ok(None);
    }
    let order: OrderRecord = serde_dynamo::from_item(image.clone()).map_err(|e| e.to_string())?;
    Ok(Some(OrderCreated::from_order(&order)))
}

/// The relay, with its queue client built once per cold start.
pub struct Relay {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
}

impl Relay {
    pub fn new(sqs: aws_sdk_sqs::Client, queue_url: String) -> Self {
        Self { sqs, queue_url }
    }

    /// Publishes the batch's order events (10 per `SendMessageBatch`) and reports the records that
    /// could not be published. After the first failure, later records are reported too, so that
    /// Lambda resumes from the first failure in stream order.
    pub async fn handle(&self, event: StreamEvent) -> BatchResponse {
        let mut pending: Vec<(String, OrderCreated)> = Vec::new();
        let mut response = BatchResponse::default();
        for record in &event.records {
            match order_event(record) {
                Ok(Some(e)) => pending.push((record.dynamodb.sequence_number.clone(), e)),
                Ok(None) => {}
                Err(reason) => {
                    // A malformed order image can never succeed: log it loudly, do not block the stream.
                    tracing::error!(sequence = %record.dynamodb.sequence_number, %reason, "unreadable order image skipped");
                }
            }
        }
        let mut failed_from: Option<usize> = None;
        for (chunk_index, chunk) in pending.chunks(10).enumerate() {
            let entries: Vec<SendMessageBatchRequestEntry> = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, (_, e))| {
                    SendMessageBatchRequestEntry::builder()
                        .id(format!("m{i}"))
                        .message_body(serde_json::to_string(e).ok()?)
                        .build()
                        .ok()
                })
                .collect();
            let result = self
                .sqs
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await;
            let first_failed = match result {
                Ok(out) => out
                    .failed()
                    .iter()
                    .filter_map(|f| f.id().strip_prefix('m')?.parse::<usize>().ok())
                    .min(),
                Err(err) => {
                    tracing::error!(error = %err, "publishing order events failed");
                    Some(0)
                }
            };
            if let Some(i) = first_failed {
                failed_from = Some(chunk_index * 10 + i);
                break;
            }
        }
        if let Some(from) = failed_from {
            response.batch_item_failures = pending[from..]
                .iter()
                .map(|(sequence, _)| ItemFailure {
                    item_identifier: sequence.clone(),
                })
                .collect();
        }
        let published = failed_from.unwrap_or(pending.len());
        if published > 0 {
            bazaar::telemetry::Metrics::new("relay")
                .count("OrderEventsPublished", published as u64)
                .emit();
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(event: &str, entity: &str) -> StreamRecord {
        let image = serde_json::json!({
            "pk": {"S": "ORDER#o1"}, "sk": {"S": "ORDER"}, "entity": {"S": entity},
            "gsi1pk": {"S": "BUYER#b"}, "gsi1sk": {"S": "x"}, "gsi2pk": {"S": "SHOPORDERS#s"}, "gsi2sk": {"S": "x"},
            "order_id": {"S": "o1"}, "checkout_id": {"S": "c1"}, "buyer_id": {"S": "b"}, "shop_id": {"S": "s"},
            "shop_name": {"S": "Shop"}, "owner_id": {"S": "owner"},
            "items": {"L": [{"M": {"product_id": {"S": "p"}, "title": {"S": "T"}, "quantity": {"N": "2"}, "price_cents": {"N": "500"}}}]},
            "subtotal_cents": {"N": "1000"}, "shipping_cents": {"N": "0"}, "total_cents": {"N": "1000"},
            "status": {"S": "paid"},
            "shipping_address": {"M": {"name": {"S": "A"}, "line1": {"S": "L"}, "city": {"S": "C"}, "postal_code": {"S": "P"}, "country": {"S": "US"}}},
            "reviewed": {"BOOL": false},
            "created_at": {"S": "2026-11-21T00:00:00Z"}, "updated_at": {"S": "2026-11-21T00:00:00Z"}, "version": {"N": "1"}
        });
        serde_json::from_value(serde_json::json!({
            "eventName": event,
            "dynamodb": {"NewImage": image, "SequenceNumber": "100"}
        }))
        .expect("record")
    }

    #[test]
    fn only_order_inserts_become_events() {
        let e = order_event(&record("INSERT", "order"))
            .expect("ok")
            .expect("event");
        assert_eq!(
            (e.order_id.as_str(), e.owner_id.as_str(), e.item_count),
            ("o1", "owner", 2)
        );
        assert_eq!(e.event_id, "o1:order.created");
        assert!(
            order_event(&record("MODIFY", "order"))
                .expect("ok")
                .is_none()
        );
        assert!(
            order_event(&record("INSERT", "product"))
                .expect("ok")
                .is_none()
        );
    }
}
