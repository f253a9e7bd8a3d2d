//! Per-user write counters (`QUOTA#<user>` / `<class>#<window start>`): one conditional
//! `UpdateItem` per guarded write, which adds one unless the window's count has reached the
//! limit. Counters expire by TTL an hour after their window ends.

use crate::schema::keys;
use crate::table::{Table, conditional, key};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use bazaar_domain::error::Error;
use bazaar_domain::ports::QuotaStore;
use bazaar_domain::quota::{Limit, QuotaClass};

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
