//! Trending products: computed by a scheduled job from the last 72 hours of activity (views,
//! favorites, units sold; halved every 24 hours), stored as ready-to-serve lists so that reading
//! one is a single `GetItem`.

use super::{keys, partition};
use crate::records::{products_by_id, shops_by_id};
use crate::table::Table;
use crate::table::{conditional, from_sdk, key, s};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, PutRequest, WriteRequest};
use bazaar_domain::error::Error;
use bazaar_domain::personalize::trending::{Lists, TrendingList, TrendingRun};
use bazaar_domain::personalize::{ACTIVITY_SHARDS, Activity, trending_hours, trending_scores};
use bazaar_domain::ports::TrendingSource;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// Products whose details the job reads (the best-scored ones): enough for every category's list.
const CANDIDATES: usize = 2_000;
/// Activity partitions queried at once.
const QUERY_CONCURRENCY: usize = 16;

/// The DynamoDB adapter: reads the lists, and runs the job.
#[derive(Debug, Clone)]
pub struct DynamoTrending {
    table: Table,
}

impl TrendingSource for DynamoTrending {
    async fn trending(&self, category: Option<&str>) -> Result<TrendingList, Error> {
        let out = self
            .table
            .client()
            .get_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::trending(category))))
            .send()
            .await
            .map_err(from_sdk)?;
        let Some(item) = out.item else {
            return Ok(TrendingList::default());
        };
        let products = match item.get("products") {
            Some(AttributeValue::S(json)) => {
                serde_json::from_str::<Vec<Value>>(json).map_err(Error::internal)?
            }
            _ => Vec::new(),
        };
        let computed_at = match item.get("computed_at") {
            Some(AttributeValue::S(t)) => DateTime::parse_from_rfc3339(t)
                .ok()
                .map(|t| t.with_timezone(&Utc)),
            _ => None,
        };
        Ok(TrendingList {
            products,
            computed_at,
        })
    }
}

impl DynamoTrending {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table),
        }
    }

    async fn hour_shard(&self, pk: String) -> Result<HashMap<String, Activity>, Error> {
        let mut found = HashMap::new();
        for item in partition(self.table.client(), self.table.name(), &pk, None).await? {
            let number = |name: &str| match item.get(name) {
                Some(AttributeValue::N(n)) => n.parse::<i64>().unwrap_or(0),
                _ => 0,
            };
            let Some(AttributeValue::S(id)) = item.get("sk") else {
                continue;
            };
            found.insert(
                id.clone(),
                Activity {
                    views: number("views"),
                    favorites: number("favorites"),
                    sales: number("sales"),
                },
            );
        }
        Ok(found)
    }

    /// Computes the lists at `now` and stores them: the overall list, one per category with
    /// trending products, and removes the lists of categories that no longer have any.
    pub async fn run(&self, now: DateTime<Utc>) -> Result<TrendingRun, Error> {
        let hours = trending_hours(now);
        let partitions: Vec<(f64, String)> = hours
            .iter()
            .flat_map(|(hour, age)| {
                (0..ACTIVITY_SHARDS).map(move |shard| (*age, keys::activity_partition(hour, shard)))
            })
            .collect();
        let queries = partitions.len();
        type HourShard = (f64, Result<HashMap<String, Activity>, Error>);
        let results: Vec<HourShard> = futures::stream::iter(partitions)
            .map(|(age, pk)| async move { (age, self.hour_shard(pk).await) })
            .buffer_unordered(QUERY_CONCURRENCY)
            .collect()
            .await;
        let mut activity = Vec::with_capacity(results.len());
        for (age, result) in results {
            activity.push((age, result?));
        }
        let scores = trending_scores(&activity);
        let active_products = scores.len();
        let candidates: Vec<&(String, f64)> = scores.iter().take(CANDIDATES).collect();

        let products =
            products_by_id(&self.table, candidates.iter().map(|(id, _)| id.as_str())).await?;
        let shops = shops_by_id(&self.table, products.values().map(|p| p.shop_id.as_str())).await?;

        let at = now.timestamp();
        let mut lists = Lists::default();
        for (id, _) in &candidates {
            let Some(p) = products.get(id) else { continue };
            let Some(shop) = shops.get(&p.shop_id) else {
                continue;
            };
            if p.quantity <= 0 {
                continue; // sold out: never trending
            }
            let card = serde_json::to_value(p.view(shop.summary(), p.available_to(None, at)))
                .map_err(Error::internal)?;
            lists.offer(&p.category, card);
        }
        if lists.over_budget > 0 {
            tracing::warn!(
                left_out = lists.over_budget,
                "trending: large listings filled a list's size budget before its count"
            );
        }
        let Lists {
            all, by_category, ..
        } = lists;

        let previous = self.previous_categories().await?;
        let stamp = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut writes = vec![put(
            keys::trending(None),
            &all,
            &stamp,
            Some(by_category.keys().cloned().collect()),
        )?];
        for (category, list) in &by_category {
            writes.push(put(keys::trending(Some(category)), list, &stamp, None)?);
        }
        for gone in previous
            .iter()
            .filter(|c| !by_category.contains_key(c.as_str()))
        {
            writes.push(
                WriteRequest::builder()
                    .delete_request(
                        DeleteRequest::builder()
                            .set_key(Some(key(keys::trending(Some(gone)))))
                            .build()
                            .map_err(Error::internal)?,
                    )
                    .build(),
            );
        }
        self.write_all(writes).await?;
        Ok(TrendingRun {
            active_products,
            trending: all.len(),
            categories: by_category.len(),
            queries,
        })
    }

    /// Takes products out of every stored list: they sold out or were deleted since the last run
    /// (the seeds' "product sold → invalidate `trending:*`"). One `Query` of the lists, then one
    /// conditional `PutItem` per list that held one of them; a list the job rewrote meanwhile is
    /// left alone (the run read the stock after the sale). Returns how many lists changed.
    pub async fn evict(&self, products: &HashSet<&str>) -> Result<usize, Error> {
        if products.is_empty() {
            return Ok(0);
        }
        let (pk, _) = keys::trending(None);
        let mut changed = 0;
        for mut item in partition(self.table.client(), self.table.name(), &pk, None).await? {
            let (Some(AttributeValue::S(json)), Some(AttributeValue::S(seen))) =
                (item.get("products"), item.get("computed_at").cloned())
            else {
                continue;
            };
            let mut list: Vec<Value> = serde_json::from_str(json).map_err(Error::internal)?;
            let before = list.len();
            list.retain(|p| {
                !p.get("id")
                    .and_then(Value::as_str)
                    .is_some_and(|id| products.contains(id))
            });
            if list.len() == before {
                continue;
            }
            item.insert(
                "products".into(),
                AttributeValue::S(serde_json::to_string(&list).map_err(Error::internal)?),
            );
            let written = self
                .table
                .client()
                .put_item()
                .table_name(self.table.name())
                .set_item(Some(item))
                .condition_expression("computed_at = :seen")
                .expression_attribute_values(":seen", AttributeValue::S(seen))
                .send()
                .await;
            // A failed condition: a newer run rewrote the list meanwhile.
            if conditional(written)?.is_ok() {
                changed += 1;
            }
        }
        Ok(changed)
    }

    async fn previous_categories(&self) -> Result<Vec<String>, Error> {
        let out = self
            .table
            .client()
            .get_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::trending(None))))
            .projection_expression("categories")
            .send()
            .await
            .map_err(from_sdk)?;
        Ok(match out.item.and_then(|mut i| i.remove("categories")) {
            Some(AttributeValue::L(list)) => list
                .into_iter()
                .filter_map(|v| match v {
                    AttributeValue::S(c) => Some(c),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        })
    }

    /// `BatchWriteItem` in chunks of 25, retrying unprocessed items.
    async fn write_all(&self, writes: Vec<WriteRequest>) -> Result<(), Error> {
        for chunk in writes.chunks(25) {
            let mut pending = chunk.to_vec();
            let mut attempt = 0u32;
            while !pending.is_empty() {
                if attempt > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(20 << attempt.min(5)))
                        .await;
                }
                attempt += 1;
                if attempt > 8 {
                    return Err(Error::Unavailable(
                        "BatchWriteItem kept returning unprocessed items".into(),
                    ));
                }
                let out = self
                    .table
                    .client()
                    .batch_write_item()
                    .request_items(self.table.name(), pending)
                    .send()
                    .await
                    .map_err(from_sdk)?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(self.table.name()))
                    .unwrap_or_default();
            }
        }
        Ok(())
    }
}

fn put(
    key_of: (String, String),
    products: &[Value],
    stamp: &str,
    categories: Option<Vec<String>>,
) -> Result<WriteRequest, Error> {
    let mut item = key(key_of);
    item.insert("entity".into(), s("trending"));
    item.insert(
        "products".into(),
        AttributeValue::S(serde_json::to_string(products).map_err(Error::internal)?),
    );
    item.insert("computed_at".into(), s(stamp));
    if let Some(categories) = categories {
        item.insert(
            "categories".into(),
            AttributeValue::L(categories.into_iter().map(AttributeValue::S).collect()),
        );
    }
    Ok(WriteRequest::builder()
        .put_request(
            PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map_err(Error::internal)?,
        )
        .build())
}
