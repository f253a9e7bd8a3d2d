//! Views: what signed-in users looked at.
//!
//! One item per user and product (`VIEWS#<user>` / `P#<product>`), rewritten by every view and
//! expiring [`VIEW_TTL_DAYS`] after the last one, so a user's history holds each product once and
//! re-reading a page adds nothing. GSI2 (`VIEWS#<user>` / the view's epoch microseconds) orders
//! them: the feed reads the newest [`VIEWS_READ`] with one query.
//!
//! A view counts towards trending once per user, product and hour: the first view of the hour
//! writes the item and the activity count in one transaction whose condition is "not counted this
//! hour"; a repeat cancels it and only refreshes the item. So refreshing a page cannot push a
//! product up the trending list.

use super::favorites::activity_update;
use super::keys;
use crate::table::{Table, Tx, from_item, from_sdk, s, to_item};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put};
use bazaar_domain::catalog::Product;
use bazaar_domain::error::Error;
use bazaar_domain::personalize::{Signal, VIEW_TTL_DAYS, VIEWS_READ};
use bazaar_domain::ports::ViewLog;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The index that orders a user's views by time.
const VIEWS_INDEX: &str = "GSI2";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ViewItem {
    pk: String,
    sk: String,
    /// GSI2: the user's views, newest first.
    gsi2pk: String,
    gsi2sk: String,
    entity: String,
    product_id: String,
    shop_id: String,
    category: String,
    price_cents: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    viewed_at: DateTime<Utc>,
    /// The hour (`yyyymmddhh`) in which this user's view of this product was last counted.
    counted_hour: String,
    ttl: i64,
}

/// The DynamoDB adapter of views.
#[derive(Debug, Clone)]
pub struct DynamoViews {
    table: Table,
}

impl DynamoViews {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table),
        }
    }

    /// The user's most recently viewed products (at most [`VIEWS_READ`], newest first, each
    /// once): one query of GSI2.
    pub async fn recent(&self, user: &str) -> Result<Vec<Signal>, Error> {
        let out = self
            .table
            .client()
            .query()
            .table_name(self.table.name())
            .index_name(VIEWS_INDEX)
            .key_condition_expression("gsi2pk = :pk")
            .expression_attribute_values(":pk", s(&keys::views(user)))
            .scan_index_forward(false)
            .limit(VIEWS_READ)
            .send()
            .await
            .map_err(from_sdk)?;
        let now = Utc::now().timestamp();
        let mut signals = Vec::new();
        for item in out.items.unwrap_or_default() {
            let v = from_item::<ViewItem>(item)?;
            if v.ttl <= now {
                continue; // expired; DynamoDB's TTL deletes it eventually
            }
            signals.push(Signal {
                product_id: v.product_id,
                shop_id: v.shop_id,
                category: v.category,
                price_cents: v.price_cents,
                tags: v.tags,
                at: v.viewed_at,
            });
        }
        Ok(signals)
    }
}

impl ViewLog for DynamoViews {
    async fn record(&self, user: &str, product: &Product) -> Result<(), Error> {
        let now = Utc::now();
        let (pk, sk) = keys::view(user, &product.id);
        let hour = keys::hour(now);
        let item = to_item(&ViewItem {
            gsi2pk: pk.clone(),
            gsi2sk: format!("{:016}", now.timestamp_micros()),
            pk,
            sk,
            entity: "view".into(),
            product_id: product.id.clone(),
            shop_id: product.shop_id.clone(),
            category: product.category.clone(),
            price_cents: product.price_cents,
            tags: product.tags.clone(),
            viewed_at: now,
            counted_hour: hour.clone(),
            ttl: now.timestamp() + VIEW_TTL_DAYS * 86_400,
        })?;
        let first_this_hour = Put::builder()
            .table_name(self.table.name())
            .set_item(Some(item.clone()))
            .condition_expression("attribute_not_exists(pk) OR counted_hour <> :hour")
            .expression_attribute_values(":hour", AttributeValue::S(hour))
            .build()
            .map_err(Error::internal)?;
        let mut tx = Tx::new();
        tx.put(first_this_hour).or("counted_this_hour");
        tx.update(activity_update(
            self.table.name(),
            &product.id,
            "views",
            1,
            now,
        )?)
        .unnamed();
        match tx.commit(self.table.client()).await {
            Ok(()) => Ok(()),
            // Counted already this hour (or a concurrent view of the same page counted it):
            // only move the product to the top of the user's history.
            Err(e) if e.failed(&"counted_this_hour") => {
                self.table
                    .client()
                    .put_item()
                    .table_name(self.table.name())
                    .set_item(Some(item))
                    .send()
                    .await
                    .map_err(from_sdk)?;
                Ok(())
            }
            Err(e) => Err(e.into_error()),
        }
    }
}
