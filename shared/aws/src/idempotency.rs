//! The DynamoDB store of idempotency records (`IDEMPOTENCY#<scope>` / `KEY#<key>`): claimed with a
//! conditional put whose condition also checks expiry; completed and released by token.

use crate::schema::keys;
use crate::table::Table;
use crate::table::{self, Item, conditional, from_sdk, s};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use bazaar_domain::error::Error;
use bazaar_domain::idempotency::{Claim, RECORD_TTL_SECONDS, StoredResponse};
use bazaar_domain::ports::IdempotencyStore;

/// The DynamoDB implementation of [`IdempotencyStore`].
#[derive(Debug, Clone)]
pub struct DynamoIdempotency {
    table: Table,
}

fn attr_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

fn attr_n(item: &Item, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
}

impl DynamoIdempotency {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table),
        }
    }
}

impl IdempotencyStore for DynamoIdempotency {
    async fn claim(
        &self,
        scope: &str,
        key: &str,
        payload_hash: &str,
        in_progress_until_ms: i64,
    ) -> Result<Claim, Error> {
        let now = chrono::Utc::now();
        let token = uuid::Uuid::new_v4().to_string();
        let (pk, sk) = keys::idempotency(scope, key);
        let result = self.table
            .client()
            .put_item()
            .table_name(self.table.name())
            .item("pk", s(&pk))
            .item("sk", s(&sk))
            .item("entity", s("idempotency"))
            .item("status", s("IN_PROGRESS"))
            .item("payload_hash", s(payload_hash))
            .item("token", s(&token))
            .item(
                "in_progress_expiry",
                AttributeValue::N(in_progress_until_ms.to_string()),
            )
            .item(
                "ttl",
                AttributeValue::N((now.timestamp() + RECORD_TTL_SECONDS).to_string()),
            )
            .condition_expression(
                "attribute_not_exists(pk) OR #ttl < :now_s OR (#status = :in_progress AND in_progress_expiry < :now_ms)",
            )
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":now_s", AttributeValue::N(now.timestamp().to_string()))
            .expression_attribute_values(
                ":now_ms",
                AttributeValue::N(now.timestamp_millis().to_string()),
            )
            .expression_attribute_values(":in_progress", s("IN_PROGRESS"))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let existing = match conditional(result)? {
            Ok(_) => return Ok(Claim::Fresh { token }),
            Err(old) => old,
        };
        let existing = match existing {
            Some(item) => item,
            // The emulator or an old API version may omit the item: read it.
            None => self
                .table
                .client()
                .get_item()
                .table_name(self.table.name())
                .set_key(Some(table::key(keys::idempotency(scope, key))))
                .consistent_read(true)
                .send()
                .await
                .map_err(from_sdk)?
                .item
                .ok_or_else(|| Error::internal("idempotency record vanished during the claim"))?,
        };
        if attr_s(&existing, "payload_hash") != Some(payload_hash) {
            return Err(Error::unprocessable(
                "idempotency_key_reused",
                "This Idempotency-Key was used with a different request body; use a new key for a new request.",
            ));
        }
        if attr_s(&existing, "status") == Some("COMPLETED") {
            let stored = existing
                .get("response")
                .cloned()
                .ok_or_else(|| Error::internal("completed idempotency record without a response"))
                .and_then(|r| serde_dynamo::from_attribute_value(r).map_err(Error::internal))?;
            return Ok(Claim::Replay(stored));
        }
        let until = attr_n(&existing, "in_progress_expiry").unwrap_or(0);
        let wait_ms = (until - now.timestamp_millis()).max(0);
        Ok(Claim::InProgress {
            retry_after: u64::try_from(((wait_ms + 999) / 1000).max(1)).unwrap_or(1),
        })
    }

    async fn complete(
        &self,
        scope: &str,
        key: &str,
        token: &str,
        response: &StoredResponse,
    ) -> Result<(), Error> {
        let stored = serde_dynamo::to_attribute_value(response).map_err(Error::internal)?;
        let result = self
            .table
            .client()
            .update_item()
            .table_name(self.table.name())
            .set_key(Some(table::key(keys::idempotency(scope, key))))
            .update_expression(
                "SET #status = :completed, #response = :response REMOVE in_progress_expiry",
            )
            .condition_expression("#token = :token")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#response", "response")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":completed", s("COMPLETED"))
            .expression_attribute_values(":response", stored)
            .expression_attribute_values(":token", s(token))
            .send()
            .await;
        match conditional(result)? {
            Ok(_) => Ok(()),
            // Our claim lapsed and another attempt took the key; its answer will be stored instead.
            Err(_) => {
                tracing::warn!("idempotency claim was taken over before completion");
                Ok(())
            }
        }
    }

    async fn release(&self, scope: &str, key: &str, token: &str) -> Result<(), Error> {
        let result = self
            .table
            .client()
            .delete_item()
            .table_name(self.table.name())
            .set_key(Some(table::key(keys::idempotency(scope, key))))
            .condition_expression("#token = :token")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":token", s(token))
            .send()
            .await;
        match conditional(result)? {
            Ok(_) => Ok(()),
            // Someone else's claim now: not ours to release.
            Err(_) => Ok(()),
        }
    }
}
