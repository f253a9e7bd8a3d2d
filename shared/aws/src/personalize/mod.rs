//! Personalization from sparse signals: favorites, views, trending, the home feed and "customers
//! also bought".
//!
//! | item | `pk` | `sk` | written by |
//! |---|---|---|---|
//! | favorite | `FAV#<user>` | `P#<product>` / `S#<shop>` | `PUT /favorites/...` (with the product's category, price, tags) |
//! | favorite counter | `FAV#<user>` | `COUNT` | same transaction (per-user limits) |
//! | view | `VIEWS#<user>` | `P#<product>` | a signed-in `GET /products/{id}`; GSI2 `VIEWS#<user>` / epoch µs; TTL 30 days |
//! | activity | `ACTIVITY#<yyyymmddhh>#<shard>` | `<product>` | views, favorites, sales per hour; TTL 4 days |
//! | trending | `TRENDING` | `ALL` / `CAT#<slug>` | the trending job (every 15 minutes) |
//! | co-purchases | `ALSOBOUGHT#<product>` | `DAY#<yyyy-mm-dd>` | the recommender; TTL 91 days |
//! | processed event | `PROCESSED#<event id>` | `RECOMMENDER#<part>` | the recommender; TTL 15 days |
//!
//! The pure rules are `bazaar_domain::personalize`; this is the DynamoDB work.

pub mod also_bought;
pub mod favorites;
pub mod feed;
pub mod trending;
pub mod views;

use crate::schema::keys;
use crate::table::{Item, Table, from_sdk};
use also_bought::DynamoAlsoBought;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use bazaar_domain::catalog::{Product, ProductView};
use bazaar_domain::error::Error;
use bazaar_domain::events::OrderCreated;
use bazaar_domain::personalize::also_bought::Recorded;
use bazaar_domain::ports::{AlsoBought, ViewLog};
use chrono::{DateTime, Utc};
use views::DynamoViews;

/// The DynamoDB [`Discovery`].
#[derive(Debug, Clone)]
pub struct DynamoDiscovery {
    views: DynamoViews,
    also_bought: DynamoAlsoBought,
}

impl DynamoDiscovery {
    pub fn new(client: Client, table: &str) -> Self {
        Table::new(client, table).discovery()
    }

    /// Views and co-purchases over `table`.
    pub fn from_table(table: &Table) -> Self {
        Self {
            views: table.views(),
            also_bought: table.also_bought(),
        }
    }
}

impl ViewLog for DynamoDiscovery {
    async fn record(&self, user: &str, product: &Product) -> Result<(), Error> {
        self.views.record(user, product).await
    }
}

impl AlsoBought for DynamoDiscovery {
    async fn record(&self, event: &OrderCreated) -> Result<Recorded, Error> {
        AlsoBought::record(&self.also_bought, event).await
    }

    async fn recommendations(
        &self,
        product: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<ProductView>, Error> {
        self.also_bought.recommendations(product, now).await
    }
}

/// Every item of the partition `pk` (all pages), with sort keys from `sk_from` on when given.
pub(crate) async fn partition(
    client: &Client,
    table: &str,
    pk: &str,
    sk_from: Option<&str>,
) -> Result<Vec<Item>, Error> {
    let mut found = Vec::new();
    let mut start: Option<Item> = None;
    loop {
        let mut query = client
            .query()
            .table_name(table)
            .key_condition_expression(if sk_from.is_some() {
                "pk = :pk AND sk >= :from"
            } else {
                "pk = :pk"
            })
            .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
            .set_exclusive_start_key(start.take());
        if let Some(from) = sk_from {
            query = query.expression_attribute_values(":from", AttributeValue::S(from.to_owned()));
        }
        let out = query.send().await.map_err(from_sdk)?;
        found.extend(out.items.unwrap_or_default());
        start = out.last_evaluated_key.filter(|k| !k.is_empty());
        if start.is_none() {
            return Ok(found);
        }
    }
}
