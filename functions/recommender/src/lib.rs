//! The recommender: `order.created` events from the purchase events queue → co-purchase counts
//! ("customers also bought") and units sold in the trending activity. Each event is applied once
//! (a marker keyed by its event id commits in the same transaction as the counts), so SQS
//! redeliveries change nothing. Messages that cannot be read or applied are reported as batch
//! item failures: SQS retries them and, after `maxReceiveCount`, moves them to the DLQ.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use bazaar_domain::events::OrderCreated;
use bazaar_domain::metrics::Metrics;
use bazaar_domain::personalize::also_bought::Recorded;
use bazaar_domain::ports::AlsoBought;

pub struct Recommender<S> {
    store: S,
}

fn failure(id: String) -> BatchItemFailure {
    let mut f = BatchItemFailure::default();
    f.item_identifier = id;
    f
}

impl<S: AlsoBought> Recommender<S> {
    pub fn new(store: S) -> Self {
        Self { store }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// Handles one SQS batch (events in parallel), reporting only the messages that failed.
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        let outcomes = futures::future::join_all(event.records.into_iter().map(|message| async move {
            let id = message.message_id.clone().unwrap_or_default();
            let parsed = OrderCreated::from_message(message.body.as_deref());
            let event = match parsed {
                Ok(e) => e,
                Err(reason) => {
                    tracing::error!(message_id = %id, %reason, "unreadable order event");
                    return (id, Err(()));
                }
            };
            match self.store.record(&event).await {
                Ok(recorded) => (id, Ok(recorded)),
                Err(err) => {
                    tracing::error!(message_id = %id, event_id = %event.event_id, error = %err, "co-purchases not recorded");
                    (id, Err(()))
                }
            }
        }))
        .await;
        let mut response = SqsBatchResponse::default();
        let (mut applied, mut duplicates) = (0u64, 0u64);
        for (id, outcome) in outcomes {
            match outcome {
                Ok(Recorded::Applied) => applied += 1,
                Ok(Recorded::Duplicate) => duplicates += 1,
                Err(()) => response.batch_item_failures.push(failure(id)),
            }
        }
        Metrics::new("recommender")
            .count("PurchaseEventsApplied", applied)
            .count("PurchaseEventsDuplicate", duplicates)
            .count(
                "PurchaseEventFailures",
                response.batch_item_failures.len() as u64,
            )
            .emit();
        response
    }
}
