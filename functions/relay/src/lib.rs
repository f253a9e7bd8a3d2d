//! The stream relay: the table's stream is the transactional outbox. Every change reaches the
//! stream whatever happens to the function that committed it, and this function publishes the ones
//! other parts of the system consume:
//!
//! - an order inserted → `order.created` on the order events queue (notifier) and on the purchase
//!   events queue (the recommender: "customers also bought" and trending sales); an order
//!   cancelled → `order.cancelled` on the purchase events queue (its counts are taken back);
//! - a product created, changed (a new version), sold or deleted → `product.*` on the product
//!   events queue (search indexer). Hold bookkeeping does not change a product's version and is
//!   not published;
//! - a payment record committed or changed by a cancellation → `payment.changed` on the payment
//!   events queue (settlement; see `bazaar_aws::stream::payment_changed`).
//!
//! Failures are reported per record (`ReportBatchItemFailures` with the record's sequence number):
//! Lambda retries from the first failed record, so nothing is skipped; a redelivered record
//! publishes the same event id again, and consumers ignore it.

use bazaar_aws::sqs::SqsPublisher;
use bazaar_aws::stream::{self, DynamoDbEventResponse, Event, EventRecord};
use bazaar_domain::checkout::OrderStatus;
use bazaar_domain::events::{OrderCreated, ProductChanged};
use bazaar_domain::ports::Publisher;
use bazaar_lambda::Env;
use bazaar_lambda::batch::StreamHandler;
use bazaar_lambda::env::{ConfigError, required};
use futures::StreamExt;

/// The `order.created` event of a stream record, if it is an order insert.
pub fn order_event(record: &EventRecord) -> Result<Option<OrderCreated>, String> {
    if record.event_name != "INSERT" {
        return Ok(None);
    }
    let Some(image) = stream::new_image(record) else {
        return Ok(None);
    };
    if stream::entity(Some(image)) != Some("order") {
        return Ok(None);
    }
    let order = stream::order(image)?;
    Ok(Some(OrderCreated::from_order(&order)))
}

/// The `order.cancelled` event of a stream record, if it cancels an order (the status becomes
/// `cancelled`; a later change of a cancelled order is not another cancellation).
pub fn order_cancelled(record: &EventRecord) -> Result<Option<OrderCreated>, String> {
    if record.event_name != "MODIFY" {
        return Ok(None);
    }
    let (Some(old), Some(new)) = (stream::old_image(record), stream::new_image(record)) else {
        return Ok(None);
    };
    if stream::entity(Some(new)) != Some("order") {
        return Ok(None);
    }
    let (old, new) = (stream::order(old)?, stream::order(new)?);
    if old.status == OrderStatus::Cancelled || new.status != OrderStatus::Cancelled {
        return Ok(None);
    }
    Ok(Some(OrderCreated::cancelled(&new)))
}

/// The `product.*` event of a stream record, if it changes a product's listing.
pub fn product_event(record: &EventRecord) -> Result<Option<ProductChanged>, String> {
    let (old, new) = (stream::old_image(record), stream::new_image(record));
    if stream::entity(new).or(stream::entity(old)) != Some("product") {
        return Ok(None);
    }
    let old = if record.event_name == "INSERT" {
        None
    } else {
        stream::product(old)?
    };
    let new = if record.event_name == "REMOVE" {
        None
    } else {
        stream::product(new)?
    };
    Ok(ProductChanged::between(old.as_ref(), new.as_ref()))
}

/// Publish calls (`SendMessageBatch`) in flight at once per invocation.
pub const CONCURRENT_SENDS: usize = 4;

/// The queues events go to.
#[derive(Debug, Clone)]
pub struct Queues {
    pub order_events: String,
    pub product_events: String,
    pub purchase_events: String,
    pub payment_events: String,
}

impl Queues {
    /// `ORDER_EVENTS_QUEUE_URL`, `PRODUCT_EVENTS_QUEUE_URL`, `PURCHASE_EVENTS_QUEUE_URL`,
    /// `PAYMENT_EVENTS_QUEUE_URL`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Queues {
            order_events: required("ORDER_EVENTS_QUEUE_URL")?,
            product_events: required("PRODUCT_EVENTS_QUEUE_URL")?,
            purchase_events: required("PURCHASE_EVENTS_QUEUE_URL")?,
            payment_events: required("PAYMENT_EVENTS_QUEUE_URL")?,
        })
    }
}

/// The relay, with its publisher built once per cold start.
pub struct Relay<P = SqsPublisher> {
    publisher: P,
    queues: Queues,
}

/// An event to publish: the record's sequence number, its queue, its body.
struct Outgoing<'a> {
    sequence: String,
    queue: &'a str,
    body: String,
}

impl Relay {
    /// The relay publishing to SQS, with the queues of the environment.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Relay::new(
            SqsPublisher::new(env.sqs()),
            Queues::from_env()?,
        ))
    }
}

impl<P: Publisher> Relay<P> {
    pub fn new(publisher: P, queues: Queues) -> Self {
        Self { publisher, queues }
    }

    /// The messages a record becomes: an order goes to both of its consumers' queues (each
    /// consumer has its own queue, so that one's failures never hold up the other).
    fn outgoing(&self, record: &EventRecord) -> Result<Vec<Outgoing<'_>>, String> {
        let (queues, body) = if let Some(e) = order_event(record)? {
            (
                vec![&self.queues.order_events, &self.queues.purchase_events],
                serde_json::to_string(&e),
            )
        } else if let Some(e) = order_cancelled(record)? {
            (
                vec![&self.queues.purchase_events],
                serde_json::to_string(&e),
            )
        } else if let Some(e) = product_event(record)? {
            (vec![&self.queues.product_events], serde_json::to_string(&e))
        } else if let Some(e) = stream::payment_changed(record) {
            (vec![&self.queues.payment_events], serde_json::to_string(&e))
        } else {
            return Ok(Vec::new());
        };
        let body = body.map_err(|e| e.to_string())?;
        Ok(queues
            .into_iter()
            .map(|queue| Outgoing {
                sequence: stream::sequence_number(record).to_owned(),
                queue,
                body: body.clone(),
            })
            .collect())
    }
}

impl<P: Publisher> StreamHandler for Relay<P> {
    /// Publishes the batch's events (runs of up to [`Publisher::MAX_BATCH`] for the same queue per
    /// call, a few at once) and reports the records that could not be published. From the first
    /// failure in stream order, later records are reported too, so that Lambda resumes from there.
    async fn handle(&self, event: Event) -> DynamoDbEventResponse {
        let mut pending: Vec<Outgoing> = Vec::new();
        for record in &event.records {
            match self.outgoing(record) {
                Ok(out) => pending.extend(out),
                Err(reason) => {
                    // A malformed image can never succeed: log it loudly, do not block the stream.
                    tracing::error!(sequence = %stream::sequence_number(record), %reason, "unreadable image skipped");
                }
            }
        }
        // Runs of up to MAX_BATCH events for the same queue, one publish call each, sent
        // [`CONCURRENT_SENDS`] at a time; the first failure in stream order decides what is
        // reported (runs after it that went out are sent again on the retry: consumers ignore
        // repeated event ids).
        let mut runs: Vec<(usize, usize)> = Vec::new();
        let mut start = 0;
        while start < pending.len() {
            let queue = pending[start].queue;
            let run = pending[start..]
                .iter()
                .take(P::MAX_BATCH)
                .take_while(|o| o.queue == queue)
                .count();
            runs.push((start, run));
            start += run;
        }
        let sends = runs.into_iter().map(|(start, run)| {
            let chunk = &pending[start..start + run];
            let bodies: Vec<&str> = chunk.iter().map(|o| o.body.as_str()).collect();
            let queue = chunk[0].queue;
            async move {
                self.publisher
                    .publish(queue, &bodies)
                    .await
                    .err()
                    .map(|i| start + i)
            }
        });
        let failed_from: Option<usize> = futures::stream::iter(sends)
            .buffered(CONCURRENT_SENDS)
            .collect::<Vec<Option<usize>>>()
            .await
            .into_iter()
            .flatten()
            .min();
        let mut failed: Vec<String> = Vec::new();
        if let Some(from) = failed_from {
            // A record whose first message went out and whose second did not is reported (and
            // both are sent again: consumers ignore repeated event ids).
            for o in &pending[from..] {
                if failed.last() != Some(&o.sequence) {
                    failed.push(o.sequence.clone());
                }
            }
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
        stream::failures(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(event: &str, entity: &str) -> EventRecord {
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
            "eventID": "e100", "eventName": event, "awsRegion": "us-east-1",
            "dynamodb": {"NewImage": image, "SequenceNumber": "100", "SizeBytes": 1}
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
    ) -> EventRecord {
        let mut change = serde_json::json!({"SequenceNumber": "7", "SizeBytes": 1});
        if let Some(old) = old {
            change["OldImage"] = old;
        }
        if let Some(new) = new {
            change["NewImage"] = new;
        }
        serde_json::from_value(serde_json::json!({
            "eventID": "e7", "eventName": event, "awsRegion": "us-east-1", "dynamodb": change
        }))
        .expect("record")
    }

    /// An order record changing from `old` to `new` status.
    fn status_change(old: &str, new: &str) -> EventRecord {
        let created = record("INSERT", "order");
        let image = |status: &str| {
            let mut image =
                serde_json::to_value(stream::new_image(&created).expect("image")).expect("json");
            image["status"] = serde_json::json!({"S": status});
            image
        };
        serde_json::from_value(serde_json::json!({
            "eventID": "e101", "eventName": "MODIFY", "awsRegion": "us-east-1",
            "dynamodb": {"OldImage": image(old), "NewImage": image(new), "SequenceNumber": "101", "SizeBytes": 1}
        }))
        .expect("record")
    }

    #[test]
    fn a_cancellation_becomes_order_cancelled_once() {
        let event = order_cancelled(&status_change("paid", "cancelled"))
            .expect("ok")
            .expect("an event");
        assert!(event.is_cancellation());
        assert_eq!(event.event_id, "o1:order.cancelled");
        assert_eq!(event.items[0].quantity, 2);
        // Not a cancellation: shipping, a later change of a cancelled order, an insert.
        for (old, new) in [("paid", "shipped"), ("cancelled", "cancelled")] {
            assert!(
                order_cancelled(&status_change(old, new))
                    .expect("ok")
                    .is_none()
            );
        }
        assert!(
            order_cancelled(&record("INSERT", "order"))
                .expect("ok")
                .is_none()
        );
        // It goes to the purchase events queue only (the recommender), not to the notifier.
        let relay = Relay::new(FakeQueues::default(), queues());
        let out = relay
            .outgoing(&status_change("paid", "cancelled"))
            .expect("ok");
        assert_eq!(
            out.iter().map(|o| o.queue).collect::<Vec<_>>(),
            vec!["purchases"]
        );
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

    /// The stream event of the local emulation (`bazaar_infra::pump`), in the shape Lambda sends:
    /// the relay reads it with `aws_lambda_events`' types.
    fn pump_event(records: Vec<serde_json::Value>) -> Event {
        serde_json::from_value(serde_json::json!({ "Records": records })).expect("stream event")
    }

    fn pump_record(
        sequence: &str,
        event: &str,
        old: serde_json::Value,
        new: serde_json::Value,
    ) -> serde_json::Value {
        serde_json::json!({
            "eventID": format!("id-{sequence}"), "eventName": event,
            "eventVersion": "1.1", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026",
            "dynamodb": {
                "ApproximateCreationDateTime": 1_795_000_000,
                "Keys": {"pk": {"S": "PRODUCT#p1"}, "sk": {"S": "PRODUCT"}},
                "NewImage": new, "OldImage": old,
                "SequenceNumber": sequence, "SizeBytes": 321, "StreamViewType": "NEW_AND_OLD_IMAGES",
            }
        })
    }

    #[test]
    fn the_pumps_stream_records_are_read() {
        let event = pump_event(vec![
            pump_record(
                "1",
                "INSERT",
                serde_json::Value::Null,
                product_image(1, 1, false),
            ),
            pump_record(
                "2",
                "REMOVE",
                product_image(1, 1, false),
                serde_json::Value::Null,
            ),
        ]);
        assert_eq!(stream::sequence_number(&event.records[0]), "1");
        let created = product_event(&event.records[0])
            .expect("ok")
            .expect("event");
        assert_eq!(created.event_id, "p1:v1");
        let deleted = product_event(&event.records[1])
            .expect("ok")
            .expect("event");
        assert!(deleted.product.is_none());
    }

    /// Accepts every body except those containing `refuse`; records what it was given.
    #[derive(Default)]
    struct FakeQueues {
        sent: std::sync::Mutex<Vec<(String, usize)>>,
    }

    impl Publisher for FakeQueues {
        async fn publish(&self, queue: &str, bodies: &[&str]) -> Result<(), usize> {
            self.sent
                .lock()
                .expect("lock")
                .push((queue.to_owned(), bodies.len()));
            match bodies.iter().position(|b| b.contains("refuse")) {
                Some(i) => Err(i),
                None => Ok(()),
            }
        }
    }

    fn queues() -> Queues {
        Queues {
            order_events: "orders".into(),
            product_events: "products".into(),
            purchase_events: "purchases".into(),
            payment_events: "payments".into(),
        }
    }

    fn titled(title: &str, version: i64) -> serde_json::Value {
        let mut image = product_image(version, 1, false);
        image["title"] = serde_json::json!({"S": title});
        image
    }

    #[tokio::test]
    async fn from_the_first_unpublished_record_on_everything_is_reported() {
        let relay = Relay::new(FakeQueues::default(), queues());
        let mut order = serde_json::to_value(record("INSERT", "order")).expect("json");
        order["dynamodb"]["SequenceNumber"] = "3".into();
        let event = pump_event(vec![
            pump_record("1", "INSERT", serde_json::Value::Null, titled("a", 1)),
            pump_record("2", "MODIFY", titled("a", 1), titled("refuse", 2)),
            order,
            pump_record("4", "MODIFY", titled("refuse", 2), titled("b", 3)),
        ]);
        let response = relay.handle(event).await;
        let failed: Vec<&str> = response
            .batch_item_failures
            .iter()
            .filter_map(|f| f.item_identifier.as_deref())
            .collect();
        assert_eq!(failed, ["2", "3", "4"]);
        let sent = relay.publisher.sent.lock().expect("lock").clone();
        assert_eq!(
            sent,
            [
                ("products".to_owned(), 2),
                ("orders".to_owned(), 1),
                ("purchases".to_owned(), 1),
                ("products".to_owned(), 1),
            ]
        );

        // Nothing refused: nothing reported.
        let event = pump_event(vec![pump_record(
            "5",
            "INSERT",
            serde_json::Value::Null,
            titled("c", 1),
        )]);
        assert!(relay.handle(event).await.batch_item_failures.is_empty());
    }
}
