//! Per-user write counters (`QUOTA#<user>` / `<class>#<window start>`): one conditional
//! `UpdateItem` per guarded write, which adds one unless the window's count has reached the
//! limit. Counters expire by TTL an hour after their window ends. Cart writes and checkouts put
//! the same increment in their own transaction ([`charge_update`]) instead of a call of its own.

use crate::schema::keys;
use crate::table::{Table, conditional, key};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Update};
use bazaar_domain::error::Error;
use bazaar_domain::ports::QuotaStore;
use bazaar_domain::quota::{Charge, Limit, QuotaClass};

/// How long a counter outlives its window before TTL removes it.
const TTL_GRACE_SECONDS: i64 = 3_600;

/// The DynamoDB implementation of [`QuotaStore`].
#[derive(Debug, Clone)]
pub struct DynamoQuota {
    table: Table,
}

impl DynamoQuota {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table),
        }
    }
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// The key of `charge`'s counter for `user`.
pub(crate) fn charge_key(user: &str, charge: &Charge) -> crate::table::Item {
    key(keys::quota(user, charge.class.name(), charge.window_start))
}

/// The writes a counter item read by [`charge_key`] counts (0 when absent).
pub(crate) fn used(item: Option<&crate::table::Item>) -> u32 {
    item.and_then(|i| i.get("n"))
        .and_then(|n| n.as_n().ok())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// `charge`'s conditional increment as a transaction action: its condition fails when the
/// window is full.
pub(crate) fn charge_update(table: &Table, user: &str, charge: &Charge) -> Result<Update, Error> {
    let expires = charge.window_end + TTL_GRACE_SECONDS;
    Update::builder()
        .table_name(table.name())
        .set_key(Some(charge_key(user, charge)))
        .update_expression("ADD #n :one SET #ttl = :ttl")
        .condition_expression("attribute_not_exists(#n) OR #n < :max")
        .expression_attribute_names("#n", "n")
        .expression_attribute_names("#ttl", "ttl")
        .expression_attribute_values(":one", n(1))
        .expression_attribute_values(":max", n(i64::from(charge.limit.max)))
        .expression_attribute_values(":ttl", n(expires))
        .build()
        .map_err(Error::internal)
}

impl QuotaStore for DynamoQuota {
    async fn spend(
        &self,
        user: &str,
        class: QuotaClass,
        limit: Limit,
        window_start: i64,
    ) -> Result<bool, Error> {
        let expires = window_start + i64::from(limit.window_seconds) + TTL_GRACE_SECONDS;
        let result = self
            .table
            .client()
            .update_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::quota(user, class.name(), window_start))))
            .update_expression("ADD #n :one SET #ttl = :ttl")
            .condition_expression("attribute_not_exists(#n) OR #n < :max")
            .expression_attribute_names("#n", "n")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(i64::from(limit.max)))
            .expression_attribute_values(":ttl", n(expires))
            .send()
            .await;
        Ok(conditional(result)?.is_ok())
    }
}
