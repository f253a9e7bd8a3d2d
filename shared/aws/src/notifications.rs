//! The sellers' notifications: one item per `order.created`, under the seller's partition.
//!
//! | `pk` | `sk` | attributes |
//! |---|---|---|
//! | `NOTIFY#<owner>` | `<created_at>#<event id>` | `entity=notification`, `id`, `kind`, `order_id`, `message`, `created_at`, `email_pending` |
//!
//! The key derives from the event, so a redelivered event finds its notification (a failed
//! condition) and writes nothing; `email_pending` remembers whether the e-mail is still owed.

use crate::table::{Table, conditional, from_sdk, s};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use bazaar_domain::error::Error;
use bazaar_domain::events::OrderCreated;
use bazaar_domain::ports::{NotificationStore, NotificationWrite};

/// The DynamoDB [`NotificationStore`].
#[derive(Debug, Clone)]
pub struct DynamoNotifications {
    table: Table,
}

impl DynamoNotifications {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table),
        }
    }

    fn key(event: &OrderCreated) -> (String, String) {
        (
            crate::schema::keys::notifications(&event.owner_id),
            format!("{}#{}", event.created_at, event.event_id),
        )
    }
}

impl NotificationStore for DynamoNotifications {
    async fn record(&self, event: &OrderCreated, email: bool) -> Result<NotificationWrite, Error> {
        let key = Self::key(event);
        let result = self
            .table
            .client()
            .put_item()
            .table_name(self.table.name())
            .item("pk", s(&key.0))
            .item("sk", s(&key.1))
            .item("email_pending", AttributeValue::Bool(email))
            .item("entity", s("notification"))
            .item("id", s(&event.event_id))
            .item("kind", s(&event.kind))
            .item("order_id", s(&event.order_id))
            .item("message", s(&event.message()))
            .item("created_at", s(&event.created_at))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        Ok(match conditional(result)? {
            Ok(_) => NotificationWrite {
                written: true,
                email_pending: email,
            },
            Err(old) => NotificationWrite {
                written: false,
                email_pending: old
                    .as_ref()
                    .and_then(|i| i.get("email_pending"))
                    .is_some_and(|v| v.as_bool().is_ok_and(|b| *b)),
            },
        })
    }

    async fn email_sent(&self, event: &OrderCreated) -> Result<(), Error> {
        let key = Self::key(event);
        self.table
            .client()
            .update_item()
            .table_name(self.table.name())
            .key("pk", s(&key.0))
            .key("sk", s(&key.1))
            .update_expression("SET email_pending = :no")
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .send()
            .await
            .map_err(from_sdk)?;
        Ok(())
    }
}
