//! The stream relay: the table's stream is the transactional outbox. Every change reaches the
//! stream whatever happens to the function that committed it, and this function publishes the ones
//! other parts of the system consume:
//!
//! - an order inserted → `order.created` on the order events queue (notifier) and on the purchase
//!   events queue (the recommender: "customers also bought" and trending sales);
//! - a product created, changed (a new version), sold or deleted → `product.*` on the product
//!   events queue (search indexer). Hold bookkeeping does not change a product's version and is
//!   not published.
//!
//! Failures are reported per record (`ReportBatchItemFailures` with the record's sequence number):
//! Lambda retries from the first failed record, so nothing is skipped; a redelivered record
//! publishes the same event id again, and consumers ignore it.

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use bazaar_aws::records::ProductItem;
use bazaar_domain::catalog::Product;
use bazaar_domain::checkout::Order;
use bazaar_domain::events::OrderCreated;
use bazaar_domain::events::ProductChanged;
use futures::StreamExt;
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
    #[serde(rename = "OldImage", default)]
    pub old_image: Option<serde_dynamo::Item>,
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
    let order: Order = serde_dynamo::from_item(image.clone()).map_err(|e| e.to_string())?;
    Ok(Some(OrderCreated::from_order(&order)))
}

fn entity(image: Option<&serde_dynamo::Item>) -> Option<&str> {
    match image?.get("entity") {
        Some(serde_dynamo::AttributeValue::S(e)) => Some(e),
        _ => None,
    }
}

fn product(image: Option<&serde_dynamo::Item>) -> Result<Option<Product>, String> {
    image
        .map(|i| {
            serde_dynamo::from_item::<_, ProductItem>(i.clone())
                .map(ProductItem::into_product)
                .map_err(|e| e.to_string())
        })
        .transpose()
}

/// The `product.*` event of a stream record, if it changes a product's listing.
pub fn product_event(record: &StreamRecord) -> Result<Option<ProductChanged>, String> {
    let change = &record.dynamodb;
    let (old, new) = (change.old_image.as_ref(), change.new_image.as_ref());
    if entity(new).or(entity(old)) != Some("product") {
        return Ok(None);
    }
    let old = if record.event_name == "INSERT" {
        None
    } else {
        product(old)?
    };
    let new = if record.event_name == "REMOVE" {
        None
    } else {
        product(new)?
    };
    Ok(ProductChanged::between(old.as_ref(), new.as_ref()))
}

/// `SendMessageBatch` calls in flight at once per invocation.
pub const CONCURRENT_SENDS: usize = 4;

/// The queues events go to.
#[derive(Debug, Clone)]
pub struct Queues {
    pub order_events: String,
    pub product_events: String,
    pub purchase_events: String,
}

/// The relay, with its queue client built once per cold start.
pub struct Relay {
    sqs: aws_sdk_sqs::Client,
    queues: Queues,
}

/// An event to publish: the record's sequence number, its queue, its body.
struct Outgoing<'a> {
    sequence: String,
    queue: &'a str,
    body: String,
}

impl Relay {
    pub fn new(sqs: aws_sdk_sqs::Client, queues: Queues) -> Self {
        Self { sqs, queues }
    }

    /// The messages a record becomes: an order goes to both of its consumers' queues (each
    /// consumer has its own queue, so that one's failures never hold up the other).
    fn outgoing(&self, record: &StreamRecord) -> Result<Vec<Outgoing<'_>>, String> {
        let (queues, body) = if let Some(e) = order_event(record)? {
            (
                vec![&self.queues.order_events, &self.queues.purchase_events],
                serde_json::to_string(&e),
            )
        } else if let Some(e) = product_event(record)? {
            (vec![&self.queues.product_events], serde_json::to_string(&e))
        } else {
            return Ok(Vec::new());
        };
        let body = body.map_err(|e| e.to_string())?;
        Ok(queues
            .into_iter()
            .map(|queue| Outgoing {
                sequence: record.dynamodb.sequence_number.clone(),
                queue,
                body: body.clone(),
            })
            .collect())
    }

    /// Publishes the batch's events (runs of up to 10 for the same queue per `SendMessageBatch`,
    /// a few at once) and reports the records that could not be published. From the first failure
    /// in stream order, later records are reported too, so that Lambda resumes from there.
    pub async fn handle(&self, event: StreamEvent) -> BatchResponse {
        let mut pending: Vec<Outgoing> = Vec::new();
        let mut response = BatchResponse::default();
        for record in &event.records {
            match self.outgoing(record) {
                Ok(out) => pending.extend(out),
                Err(reason) => {
                    // A malformed image can never succeed: log it loudly, do not block the stream.
                    tracing::error!(sequence = %record.dynamodb.sequence_number, %reason, "unreadable image skipped");
                }
            }
        }
        // Runs of up to 10 events for the same queue, one `SendMessageBatch` each, sent
        // [`CONCURRENT_SENDS`] at a time; the first failure in stream order decides what is
        // reported (runs after it that went out are sent again on the retry: consumers ignore
        // repeated event ids).
        let mut runs: Vec<(usize, usize)> = Vec::new();
        let mut start = 0;
        while start < pending.len() {
            let queue = pending[start].queue;
            let run = pending[start..]
                .iter()
                .take(10)
                .take_while(|o| o.queue == queue)
                .count();
            runs.push((start, run));
            start += run;
        }
        let sends = runs.iter().map(|&(start, run)| {
            let chunk = &pending[start..start + run];
            let entries: Vec<SendMessageBatchRequestEntry> = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, o)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(format!("m{i}"))
                        .message_body(&o.body)
                        .build()
                        .ok()
                })
                .collect();
            let queue = chunk[0].queue;
            async move {
                let result = self
                    .sqs
                    .send_message_batch()
                    .queue_url(queue)
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
                        tracing::error!(error = %aws_sdk_sqs::error::DisplayErrorContext(err), %queue, "publishing events failed");
                        Some(0)
                    }
                };
                first_failed.map(|i| start + i)
            }
        });
        let failed_from: Option<usize> = futures::stream::iter(sends)
            .buffered(CONCURRENT_SENDS)
            .collect::<Vec<Option<usize>>>()
            .await
            .into_iter()
            .flatten()
            .min();
        if let Some(from) = failed_from {
            // A record whose first message went out and whose second did not is reported (and
            // both are sent again: consumers ignore repeated event ids).
            let mut failed: Vec<ItemFailure> = Vec::new();
            for o in &pending[from..] {
                if failed
                    .last()
                    .is_none_or(|f| f.item_identifier != o.sequence)
                {
                    failed.push(ItemFailure {
                        item_identifier: o.sequence.clone(),
                    });
                }
            }
            response.batch_item_failures = failed;
        }
        let published = &pending[..failed_from.unwrap_or(pending.len())];
        let orders = published
            .iter()
            .filter(|o| o.queue == self.queues.order_events)
            .count();
        let products = published
            .iter()
            .filter(|o| o.queue == self.queues.product_events)
            .count();
        if !published.is_empty() {
            bazaar_domain::metrics::Metrics::new("relay")
                .count("OrderEventsPublished", orders as u64)
                .count("ProductEventsPublished", products as u64)
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

    fn product_image(version: i64, quantity: i64, holds: bool) -> serde_json::Value {
        let mut image = serde_json::json!({
            "pk": {"S": "PRODUCT#p1"}, "sk": {"S": "PRODUCT"}, "entity": {"S": "product"},
            "gsi1pk": {"S": "CATEGORY#jewelry"}, "gsi1sk": {"S": "x"},
            "id": {"S": "p1"}, "shop_id": {"S": "s1"}, "owner_id": {"S": "o"},
            "title": {"S": "Ring"}, "description": {"S": "Silver"}, "price_cents": {"N": "4500"},
            "quantity": {"N": quantity.to_string()}, "category": {"S": "jewelry"},
            "tags": {"L": [{"S": "silver"}]}, "is_vintage": {"BOOL": false}, "images": {"L": []},
            "created_at": {"S": "2026-11-21T00:00:00Z"}, "updated_at": {"S": "2026-11-21T00:00:00Z"},
            "version": {"N": version.to_string()}
        });
        if holds {
            image["holds"] =
                serde_json::json!({"M": {"0": {"M": {"h": {"S": "b"}, "x": {"N": "99"}}}}});
        }
        image
    }

    fn product_record(
        event: &str,
        old: Option<serde_json::Value>,
        new: Option<serde_json::Value>,
    ) -> StreamRecord {
        let mut change = serde_json::json!({"SequenceNumber": "7"});
        if let Some(old) = old {
            change["OldImage"] = old;
        }
        if let Some(new) = new {
            change["NewImage"] = new;
        }
        serde_json::from_value(serde_json::json!({"eventName": event, "dynamodb": change}))
            .expect("record")
    }

    #[test]
    fn product_writes_become_versioned_events_and_holds_do_not() {
        use bazaar_domain::events::ProductChange;
        let created = product_event(&product_record(
            "INSERT",
            None,
            Some(product_image(1, 1, false)),
        ))
        .expect("ok")
        .expect("event");
        assert_eq!((created.kind, created.version), (ProductChange::Created, 1));
        assert_eq!(created.event_id, "p1:v1");
        assert_eq!(
            created.product.as_ref().map(|p| p.title.as_str()),
            Some("Ring")
        );

        let held = product_record(
            "MODIFY",
            Some(product_image(1, 1, false)),
            Some(product_image(1, 1, true)),
        );
        assert!(product_event(&held).expect("ok").is_none());

        let edited = product_record(
            "MODIFY",
            Some(product_image(1, 2, false)),
            Some(product_image(2, 2, false)),
        );
        let edited = product_event(&edited).expect("ok").expect("event");
        assert_eq!((edited.kind, edited.version), (ProductChange::Updated, 2));

        let sold = product_record(
            "MODIFY",
            Some(product_image(2, 1, true)),
            Some(product_image(3, 0, false)),
        );
        let sold = product_event(&sold).expect("ok").expect("event");
        assert_eq!((sold.kind, sold.version), (ProductChange::Sold, 3));

        let deleted = product_record("REMOVE", Some(product_image(3, 0, false)), None);
        let deleted = product_event(&deleted).expect("ok").expect("event");
        assert_eq!((deleted.kind, deleted.version), (ProductChange::Deleted, 4));
        assert!(deleted.product.is_none());

        // Orders are not product events, and product writes are not order events.
        assert!(
            product_event(&record("INSERT", "order"))
                .expect("ok")
                .is_none()
        );
        assert!(
            order_event(&product_record(
                "INSERT",
                None,
                Some(product_image(1, 1, false))
            ))
            .expect("ok")
            .is_none()
        );
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
        // An order stored before baskets existed: its basket is its own lines.
        assert_eq!(e.basket, vec!["p".to_owned()]);
        assert_eq!(
            e.items,
            vec![bazaar_domain::events::PurchasedItem {
                product_id: "p".into(),
                quantity: 2
            }]
        );
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
