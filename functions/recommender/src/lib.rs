//! The recommender: `order.created` events from the purchase events queue → co-purchase counts
//! ("customers also bought") and units sold in the trending activity; `order.cancelled` events
//! take the same counts back. Each event is applied once
//! (a marker keyed by its event id commits in the same transaction as the counts), so SQS
//! redeliveries change nothing. Messages that cannot be read or applied are reported as batch
//! item failures: SQS retries them and, after `maxReceiveCount`, moves them to the DLQ.

use aws_lambda_events::event::sqs::SqsMessage;
use bazaar_domain::events::{ORDER_CANCELLED, ORDER_CREATED, OrderCreated};
use bazaar_domain::metrics::Metrics;
use bazaar_domain::personalize::also_bought::Recorded;
use bazaar_domain::ports::AlsoBought;
use bazaar_lambda::batch::{BatchHandler, each_message};

/// Events applied at once (the queue's batch size: the whole batch in parallel).
pub const CONCURRENT_EVENTS: usize = 10;

pub struct Recommender<S> {
    store: S,
}

impl<S: AlsoBought> Recommender<S> {
    pub fn new(store: S) -> Self {
        Self { store }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// Applies one message's event.
    async fn apply(&self, message: SqsMessage) -> Result<Recorded, ()> {
        let id = message.message_id.clone().unwrap_or_default();
        let event = match OrderCreated::from_message_of(
            message.body.as_deref(),
            &[ORDER_CREATED, ORDER_CANCELLED],
        ) {
            Ok(e) => e,
            Err(reason) => {
                tracing::error!(message_id = %id, %reason, "unreadable order event");
                return Err(());
            }
        };
        self.store.record(&event).await.map_err(|err| {
            tracing::error!(message_id = %id, event_id = %event.event_id, error = %err, "co-purchases not recorded");
        })
    }
}

impl<S: AlsoBought> BatchHandler for Recommender<S> {
    /// Applies the batch's events ([`CONCURRENT_EVENTS`] at once), reporting only the messages
    /// that failed.
    async fn handle_batch(&self, messages: Vec<SqsMessage>) -> Vec<String> {
        let outcomes = each_message(messages, CONCURRENT_EVENTS, |m| self.apply(m)).await;
        let (mut applied, mut duplicates) = (0u64, 0u64);
        let mut failed = Vec::new();
        for (id, outcome) in outcomes {
            match outcome {
                Ok(Recorded::Applied) => applied += 1,
                Ok(Recorded::Duplicate) => duplicates += 1,
                Err(()) => failed.push(id),
            }
        }
        Metrics::new("recommender")
            .count("PurchaseEventsApplied", applied)
            .count("PurchaseEventsDuplicate", duplicates)
            .count("PurchaseEventFailures", failed.len() as u64)
            .emit();
        failed
    }
}
