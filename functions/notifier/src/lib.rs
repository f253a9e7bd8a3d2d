//! The notifier: for every `order.created` it writes a notification for the seller (what
//! `GET /notifications` returns) and, when a sender is configured (`NOTIFY_SENDER`) and the seller's
//! address is known, e-mails them through SES. Idempotent: the notification's key derives from the
//! event id, so a redelivered message writes nothing new; the notification remembers whether its
//! e-mail is still owed (`email_pending`), so a failed send is retried and a sent one is not
//! repeated. Unreadable messages are reported as batch item failures and reach the queue's DLQ
//! after its `maxReceiveCount`.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use aws_sdk_dynamodb::types::AttributeValue;
use bazaar_domain::events::OrderCreated;

/// E-mail through SES v2 from a verified sender.
#[derive(Debug, Clone)]
pub struct SesMailer {
    pub client: aws_sdk_sesv2::Client,
    pub sender: String,
}

impl SesMailer {
    async fn send(&self, to: &str, event: &OrderCreated) -> Result<(), String> {
        use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
        let text = |s: String| {
            Content::builder()
                .data(s)
                .charset("UTF-8")
                .build()
                .map_err(|e| e.to_string())
        };
        let message = Message::builder()
            .subject(text(format!(
                "New order {} for {}",
                event.order_id, event.shop_name
            ))?)
            .body(
                Body::builder()
                    .text(text(format!(
                        "{}\n\nOrder {}",
                        event.message(),
                        event.order_id
                    ))?)
                    .build(),
            )
            .build();
        self.client
            .send_email()
            .from_email_address(&self.sender)
            .destination(Destination::builder().to_addresses(to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_sdk_sesv2::error::DisplayErrorContext(e).to_string())
    }
}

/// The notifier, with its clients built once per cold start.
pub struct Notifier {
    dynamo: aws_sdk_dynamodb::Client,
    table: String,
    mailer: Option<SesMailer>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Written,
    Duplicate,
}

impl Notifier {
    pub fn new(
        dynamo: aws_sdk_dynamodb::Client,
        table: impl Into<String>,
        mailer: Option<SesMailer>,
    ) -> Self {
        Self {
            dynamo,
            table: table.into(),
            mailer,
        }
    }

    /// Writes the seller's notification for one event and sends its e-mail if one is owed;
    /// a repeat writes and sends nothing.
    pub async fn notify(&self, event: &OrderCreated) -> Result<Outcome, String> {
        let s = |v: &str| AttributeValue::S(v.to_owned());
        let key = (
            format!("NOTIFY#{}", event.owner_id),
            format!("{}#{}", event.created_at, event.event_id),
        );
        let to = event
            .owner_email
            .as_deref()
            .filter(|_| self.mailer.is_some());
        let result = self
            .dynamo
            .put_item()
            .table_name(&self.table)
            .item("pk", s(&key.0))
            .item("sk", s(&key.1))
            .item("email_pending", AttributeValue::Bool(to.is_some()))
            .item("entity", s("notification"))
            .item("id", s(&event.event_id))
            .item("kind", s(&event.kind))
            .item("order_id", s(&event.order_id))
            .item("message", s(&event.message()))
            .item("created_at", s(&event.created_at))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(
                aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
            )
            .send()
            .await;
        let (outcome, pending) =
            match bazaar_aws::table::conditional(result).map_err(|e| e.to_string())? {
                Ok(_) => (Outcome::Written, to.is_some()),
                Err(old) => {
                    let pending = old
                        .as_ref()
                        .and_then(|i| i.get("email_pending"))
                        .is_some_and(|v| v.as_bool().is_ok_and(|b| *b));
                    (Outcome::Duplicate, pending)
                }
            };
        if let (true, Some(to), Some(mailer)) = (pending, to, &self.mailer) {
            mailer.send(to, event).await?;
            self.dynamo
                .update_item()
                .table_name(&self.table)
                .key("pk", s(&key.0))
                .key("sk", s(&key.1))
                .update_expression("SET email_pending = :no")
                .expression_attribute_values(":no", AttributeValue::Bool(false))
                .send()
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(outcome)
    }

    /// Handles one SQS batch, reporting only the messages that failed.
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        let mut failures = Vec::new();
        let mut written = 0u64;
        for message in event.records {
            let id = message.message_id.clone().unwrap_or_default();
            let parsed = OrderCreated::from_message(message.body.as_deref());
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
        bazaar_domain::metrics::Metrics::new("notifier")
            .count("NotificationsWritten", written)
            .count("NotificationFailures", failures.len() as u64)
            .emit();
        let mut response = SqsBatchResponse::default();
        response.batch_item_failures = failures;
        response
    }
}
