//! The notifier: for every `order.created` it writes a notification for the seller (what
//! `GET /notifications` returns) and, when a sender is configured (`NOTIFY_SENDER`) and the seller's
//! address is known, e-mails them (SES). Idempotent: the notification's key derives from the
//! event id, so a redelivered message writes nothing new; the notification remembers whether its
//! e-mail is still owed (`email_pending`), so a failed send is retried and a sent one is not
//! repeated. Unreadable messages are reported as batch item failures and reach the queue's DLQ
//! after its `maxReceiveCount`.

use aws_lambda_events::event::sqs::SqsMessage;
use bazaar_aws::notifications::DynamoNotifications;
use bazaar_aws::ses::SesMailer;
use bazaar_domain::events::OrderCreated;
use bazaar_domain::ports::{Mailer, NotificationStore};
use bazaar_lambda::Env;
use bazaar_lambda::batch::{BatchHandler, each_message};

/// The notifier, with its store and mailer built once per cold start.
pub struct Notifier<N = DynamoNotifications, M = SesMailer> {
    store: N,
    mailer: Option<M>,
}

/// What notifying one event did.
#[derive(Debug, PartialEq, Eq)]
pub enum Notified {
    Written,
    Duplicate,
}

impl Notifier {
    /// The notifier over the table, e-mailing only when a verified sender is configured
    /// (`NOTIFY_SENDER`).
    pub fn from_env(env: &Env) -> Self {
        let mailer = std::env::var("NOTIFY_SENDER")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .map(|sender| SesMailer {
                client: env.ses(),
                sender,
            });
        Notifier::new(env.table.notifications(), mailer)
    }
}

impl<N: NotificationStore, M: Mailer> Notifier<N, M> {
    pub fn new(store: N, mailer: Option<M>) -> Self {
        Self { store, mailer }
    }

    /// Writes the seller's notification for one event and sends its e-mail if one is owed;
    /// a repeat writes and sends nothing.
    pub async fn notify(&self, event: &OrderCreated) -> Result<Notified, String> {
        let to = event
            .owner_email
            .as_deref()
            .filter(|_| self.mailer.is_some());
        let write = self
            .store
            .record(event, to.is_some())
            .await
            .map_err(|e| e.to_string())?;
        if let (true, Some(to), Some(mailer)) = (write.email_pending, to, &self.mailer) {
            mailer
                .order_created(to, event)
                .await
                .map_err(|e| e.to_string())?;
            self.store
                .email_sent(event)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(if write.written {
            Notified::Written
        } else {
            Notified::Duplicate
        })
    }
}

impl<N: NotificationStore, M: Mailer> BatchHandler for Notifier<N, M> {
    /// Handles the batch's messages one after the other, reporting only those that failed.
    async fn handle_batch(&self, messages: Vec<SqsMessage>) -> Vec<String> {
        let outcomes = each_message(messages, 1, |message| async move {
            let event = OrderCreated::from_message(message.body.as_deref())?;
            self.notify(&event).await
        })
        .await;
        let mut failures = Vec::new();
        let mut written = 0u64;
        for (id, outcome) in outcomes {
            match outcome {
                Ok(Notified::Written) => written += 1,
                Ok(Notified::Duplicate) => {
                    tracing::info!(message_id = %id, "duplicate event ignored")
                }
                Err(reason) => {
                    tracing::warn!(message_id = %id, %reason, "message failed; it will be retried");
                    failures.push(id);
                }
            }
        }
        bazaar_domain::metrics::Metrics::new("notifier")
            .count("NotificationsWritten", written)
            .count("NotificationFailures", failures.len() as u64)
            .emit();
        failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bazaar_domain::error::Error;
    use bazaar_domain::ports::NotificationWrite;
    use std::collections::HashMap;
    use std::sync::Mutex;

    /// Notifications by event id, with whether their e-mail is owed.
    #[derive(Default)]
    struct Notes(Mutex<HashMap<String, bool>>);

    impl NotificationStore for Notes {
        async fn record(&self, e: &OrderCreated, email: bool) -> Result<NotificationWrite, Error> {
            let mut notes = self.0.lock().expect("lock");
            let written = !notes.contains_key(&e.event_id);
            let pending = *notes.entry(e.event_id.clone()).or_insert(email);
            Ok(NotificationWrite {
                written,
                email_pending: pending,
            })
        }

        async fn email_sent(&self, e: &OrderCreated) -> Result<(), Error> {
            self.0
                .lock()
                .expect("lock")
                .insert(e.event_id.clone(), false);
            Ok(())
        }
    }

    /// Records what it sends; refuses while `down`.
    #[derive(Default)]
    struct Outbox {
        sent: Mutex<Vec<String>>,
        down: std::sync::atomic::AtomicBool,
    }

    impl Mailer for Outbox {
        async fn order_created(&self, to: &str, _: &OrderCreated) -> Result<(), Error> {
            if self.down.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(Error::internal("mail is down"));
            }
            self.sent.lock().expect("lock").push(to.to_owned());
            Ok(())
        }
    }

    fn message(id: &str, order: &str, email: Option<&str>) -> SqsMessage {
        let mut body = serde_json::json!({
            "type": "order.created", "event_id": format!("{order}:order.created"), "order_id": order,
            "checkout_id": "c1", "buyer_id": "buyer", "shop_id": "s1", "shop_name": "Kiln", "owner_id": "owner",
            "item_count": 1, "total_cents": 100, "created_at": "2026-11-21T06:00:00.000Z", "version": 1
        });
        if let Some(email) = email {
            body["owner_email"] = email.into();
        }
        let mut m = SqsMessage::default();
        m.message_id = Some(id.to_owned());
        m.body = Some(body.to_string());
        m
    }

    #[tokio::test]
    async fn an_owed_email_is_sent_once_even_after_a_failed_send() {
        let notifier = Notifier::new(Notes::default(), Some(Outbox::default()));
        let mailer = notifier.mailer.as_ref().expect("mailer");
        mailer.down.store(true, std::sync::atomic::Ordering::SeqCst);
        let failed = notifier
            .handle_batch(vec![
                message("m1", "o1", Some("kiln@example.com")),
                message("m2", "o2", None),
            ])
            .await;
        assert_eq!(failed, ["m1"], "the failed send fails its message only");
        mailer
            .down
            .store(false, std::sync::atomic::Ordering::SeqCst);
        for _ in 0..2 {
            let failed = notifier
                .handle_batch(vec![message("m1", "o1", Some("kiln@example.com"))])
                .await;
            assert!(failed.is_empty());
        }
        assert_eq!(*mailer.sent.lock().expect("lock"), ["kiln@example.com"]);
    }
}
