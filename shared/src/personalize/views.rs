//! Views: what signed-in users looked at. A view is one item per product page read (newest first by
//! its sort key, expiring after [`VIEW_TTL_DAYS`]) plus one count in the hour's trending activity.
//! The feed reads the newest [`VIEWS_READ`] with one query.

use super::favorites::activity_update;
use super::{Signal, VIEW_TTL_DAYS, VIEWS_READ, keys};
use crate::dynamo::{from_item, from_sdk, s, to_item};
use crate::error::Error;
use crate::model::Product;
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::future::Future;

/// Records and reads views.
pub trait ViewLog: Send + Sync {
    /// Records that `user` viewed `product` (two writes, run concurrently).
    fn record(
        &self,
        user: &str,
        product: &Product,
    ) -> impl Future<Output = Result<(), Error>> + Send;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ViewItem {
    pk: String,
    sk: String,
    entity: String,
    product_id: String,
    shop_id: String,
    category: String,
    price_cents: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    viewed_at: DateTime<Utc>,
    ttl: i64,
}

/// The DynamoDB adapter of views.
#[derive(Debug, Clone)]
pub struct DynamoViews {
    client: Client,
    table: String,
}

impl DynamoViews {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The user's newest views (at most [`VIEWS_READ`], newest first): one query.
    pub async fn recent(&self, user: &str) -> Result<Vec<Signal>, Error> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(&keys::views(user)))
            .scan_index_forward(false)
            .limit(VIEWS_READ)
            .send()
            .await
            .map_err(from_sdk)?;
        let now = Utc::now().timestamp();
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(from_item::<ViewItem>)
            .filter(|v| v.as_ref().map_or(true, |v| v.ttl > now))
            .map(|v| {
                let v = v?;
                Ok(Signal {
                    product_id: v.product_id,
                    shop_id: v.shop_id,
                    category: v.category,
                    price_cents: v.price_cents,
                    tags: v.tags,
                    at: v.viewed_at,
                })
            })
            .collect()
    }
}

impl ViewLog for DynamoViews {
    async fn record(&self, user: &str, product: &Product) -> Result<(), Error> {
        let now = Utc::now();
        let (pk, sk) = keys::view(user, now, &product.id);
        let item = ViewItem {
            pk,
            sk,
            entity: "view".into(),
            product_id: product.id.clone(),
            shop_id: product.shop_id.clone(),
            category: product.category.clone(),
            price_cents: product.price_cents,
            tags: product.tags.clone(),
            viewed_at: now,
            ttl: now.timestamp() + VIEW_TTL_DAYS * 86_400,
        };
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&item)?))
            .send();
        let activity = activity_update(&self.table, &product.id, "views", 1, now)?;
        let count = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(activity.key))
            .update_expression(activity.update_expression)
            .set_expression_attribute_names(activity.expression_attribute_names)
            .set_expression_attribute_values(activity.expression_attribute_values)
            .send();
        let (put, count) = tokio::join!(put, count);
        put.map_err(from_sdk)?;
        count.map_err(from_sdk)?;
        Ok(())
    }
}
