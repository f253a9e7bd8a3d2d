//! The settlement function: each `payment.changed` message settles its checkout's payment
//! (`bazaar_domain::services::payments`). A message whose settlement fails is reported as a
//! batch item failure: SQS redelivers it, and after the queue's `maxReceiveCount` it lands in
//! the DLQ (alarmed) — reconciliation settles the payment anyway, since it stays due.

use aws_lambda_events::event::sqs::SqsMessage;
use bazaar_domain::error::Error;
use bazaar_domain::events::PaymentChanged;
use bazaar_domain::ports::{PaymentGateway, PaymentStore, Payouts};
use bazaar_domain::services::payments::{PaymentService, Settled};
use bazaar_lambda::batch::{BatchHandler, each_message};

/// Messages of one batch settled at once (each is a few provider calls).
const CONCURRENCY: usize = 4;

/// State built once per cold start.
pub struct Settlement<S, G, P> {
    payments: PaymentService<S, G, P>,
}

impl<S: PaymentStore, G: PaymentGateway, P: Payouts> Settlement<S, G, P> {
    pub fn new(store: S, gateway: G, payouts: P) -> Self {
        Self {
            payments: PaymentService::new(store, gateway, payouts),
        }
    }

    /// Settles the payment one message names.
    pub async fn settle(&self, body: &str) -> Result<(), Error> {
        let event: PaymentChanged = serde_json::from_str(body)
            .map_err(|e| Error::internal(format!("not a payment.changed message: {e}")))?;
        match self.payments.settle(&event.checkout_id).await? {
            Settled::Done(p) => {
                tracing::info!(
                    checkout_id = event.checkout_id,
                    status = p.status.as_str(),
                    version = p.version,
                    "payment settled"
                );
                Ok(())
            }
            Settled::Missing => {
                tracing::warn!(
                    checkout_id = event.checkout_id,
                    "no payment for this checkout; dropped"
                );
                Ok(())
            }
            // Another settler has it now; retry later in case it stopped short of this change.
            Settled::Busy => Err(Error::Unavailable(
                "another settler holds the payment".into(),
            )),
        }
    }
}

impl<S: PaymentStore, G: PaymentGateway, P: Payouts> BatchHandler for Settlement<S, G, P> {
    async fn handle_batch(&self, messages: Vec<SqsMessage>) -> Vec<String> {
        each_message(messages, CONCURRENCY, |m| async move {
            self.settle(m.body.as_deref().unwrap_or_default()).await
        })
        .await
        .into_iter()
        .filter_map(|(id, outcome)| match outcome {
            Ok(()) => None,
            Err(err) => {
                tracing::error!(message_id = id, error = %err, "settlement failed; the message is retried");
                Some(id)
            }
        })
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bazaar_domain::fakes::{FakeGateway, FakeStore, GatewayCall};

    #[tokio::test]
    async fn a_malformed_message_fails_and_a_missing_payment_is_dropped() {
        let s = Settlement::new(
            FakeStore::default(),
            FakeGateway::default(),
            FakeGateway::default(),
        );
        assert!(s.settle("{}").await.is_err());
        let body = serde_json::to_string(&PaymentChanged::new("nope", 1)).expect("json");
        s.settle(&body).await.expect("dropped");
        let gateway = FakeGateway::default();
        let s = Settlement::new(FakeStore::default(), gateway.clone(), gateway.clone());
        let mut message = SqsMessage::default();
        message.message_id = Some("m1".into());
        message.body = Some("not json".into());
        let failures = s.handle_batch(vec![message]).await;
        assert_eq!(failures, ["m1"]);
        assert_eq!(gateway.calls(GatewayCall::Capture), 0);
    }
}
