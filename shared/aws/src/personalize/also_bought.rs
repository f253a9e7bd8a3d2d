//! "Customers also bought": co-purchase counts per product and purchase day, kept by the
//! recommender from `order.created` events, read over the last [`ALSO_BOUGHT_DAYS`] days.
//!
//! Each order's event carries its own lines and the whole checkout's basket (every shop's), so a
//! checkout that bought X from one shop and Y from another counts X→Y once (in X's order's event)
//! and Y→X once (in Y's). An event is applied in one transaction together with a marker item
//! keyed by its event id: a redelivered event finds the marker and changes nothing. An
//! `order.cancelled` event (its own event id) adds the same counts with the opposite sign, so a
//! cancelled order leaves neither co-purchases nor units sold behind; the two events may arrive
//! in either order (additions commute).

use super::favorites::activity_update;
use super::{keys, partition};
use crate::records::{products_by_id, shops_by_id};
use crate::table::{Table, Tx, TxError, key, s};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, Update};
use bazaar_domain::catalog::{Product, ProductView};
use bazaar_domain::error::{Error, Resource};
use bazaar_domain::events::OrderCreated;
use bazaar_domain::personalize::also_bought::Recorded;
use bazaar_domain::personalize::{ALSO_BOUGHT_DAYS, RECOMMENDATIONS, TRENDING_WINDOW_HOURS};
use bazaar_domain::ports::AlsoBought;
use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeSet, HashMap};

/// Order lines per transaction (two actions each, plus the marker: ≤ 100 actions).
const LINES_PER_TRANSACTION: usize = 45;
/// A processed-event marker outlives SQS's longest retention (14 days).
const MARKER_TTL_SECONDS: i64 = 15 * 86_400;
/// Co-purchase days are kept one day longer than the window reads them.
const DAY_TTL_SECONDS: i64 = (ALSO_BOUGHT_DAYS + 1) * 86_400;
/// Candidates read for the in-stock check (the best-counted ones).
const CANDIDATES: usize = 40;
/// Attribute prefix of a co-purchase count on a day item (`c_<product id>`).
const COUNT_PREFIX: &str = "c_";

#[derive(Debug, Clone)]
pub struct DynamoAlsoBought {
    table: Table,
}

impl DynamoAlsoBought {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table),
        }
    }

    fn marker(&self, event_id: &str, part: usize, now: DateTime<Utc>) -> Result<Put, Error> {
        let mut item = key(keys::processed(event_id, part));
        item.insert("entity".into(), s("processed"));
        item.insert(
            "ttl".into(),
            AttributeValue::N((now.timestamp() + MARKER_TTL_SECONDS).to_string()),
        );
        Put::builder()
            .table_name(self.table.name())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(Error::internal)
    }

    fn co_purchases(
        &self,
        product: &str,
        others: &[&str],
        day: &DateTime<Utc>,
        sign: i64,
    ) -> Result<Update, Error> {
        let mut b = Update::builder()
            .table_name(self.table.name())
            .set_key(Some(key((
                keys::also_bought(product),
                keys::also_bought_day(&day.format("%Y-%m-%d").to_string()),
            ))))
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", AttributeValue::N(sign.to_string()))
            .expression_attribute_values(
                ":ttl",
                AttributeValue::N((day.timestamp() + DAY_TTL_SECONDS).to_string()),
            );
        let mut adds = Vec::with_capacity(others.len());
        for (i, other) in others.iter().enumerate() {
            b = b.expression_attribute_names(format!("#c{i}"), format!("{COUNT_PREFIX}{other}"));
            adds.push(format!("#c{i} :one"));
        }
        b.update_expression(format!("ADD {} SET #ttl = :ttl", adds.join(", ")))
            .build()
            .map_err(Error::internal)
    }
}

impl AlsoBought for DynamoAlsoBought {
    async fn record(&self, event: &OrderCreated) -> Result<Recorded, Error> {
        let bought_at = DateTime::parse_from_rfc3339(&event.created_at)
            .map_err(|e| Error::internal(format!("order.created_at: {e}")))?
            .with_timezone(&Utc);
        let now = Utc::now();
        let basket: BTreeSet<&str> = event
            .basket
            .iter()
            .map(String::as_str)
            .chain(event.items.iter().map(|i| i.product_id.as_str()))
            .collect();
        let in_window = now - bought_at < Duration::days(ALSO_BOUGHT_DAYS);
        // A cancellation takes back what its order's creation added, on the same day and hour
        // items; an hour past the trending window is left alone (nobody reads it again, and a
        // decrement would only recreate an expired item).
        let sign: i64 = if event.is_cancellation() { -1 } else { 1 };
        let sales_in_window =
            !event.is_cancellation() || now - bought_at < Duration::hours(TRENDING_WINDOW_HOURS);
        let mut outcome = Recorded::Applied;
        for (part, lines) in event.items.chunks(LINES_PER_TRANSACTION).enumerate() {
            let mut tx = Tx::new();
            tx.put(self.marker(&event.event_id, part, now)?)
                .or("already_applied");
            for line in lines {
                let others: Vec<&str> = basket
                    .iter()
                    .copied()
                    .filter(|p| *p != line.product_id)
                    .collect();
                if in_window && !others.is_empty() {
                    tx.update(self.co_purchases(&line.product_id, &others, &bought_at, sign)?)
                        .unnamed();
                }
                if line.quantity > 0 && sales_in_window {
                    tx.update(activity_update(
                        self.table.name(),
                        &line.product_id,
                        "sales",
                        sign * line.quantity,
                        bought_at,
                    )?)
                    .unnamed();
                }
            }
            let mut attempt = 0;
            loop {
                attempt += 1;
                match tx.clone().commit(self.table.client()).await {
                    Ok(()) => break,
                    Err(e) if e.failed(&"already_applied") => {
                        outcome = Recorded::Duplicate;
                        break;
                    }
                    // Another event touching the same counters at the same moment
                    // (`TransactionConflict`): try again shortly, then let SQS retry.
                    Err(TxError::Cancelled { error, .. }) if attempt < 4 => {
                        tracing::debug!(%error, attempt, "co-purchase transaction conflict");
                        tokio::time::sleep(std::time::Duration::from_millis(25 * (1 << attempt)))
                            .await;
                    }
                    Err(TxError::Cancelled { error, .. }) => {
                        return Err(Error::Unavailable(
                            format!("co-purchase transaction cancelled: {error}").into(),
                        ));
                    }
                    Err(TxError::Other(error)) => return Err(error),
                }
            }
        }
        Ok(outcome)
    }

    async fn recommendations(
        &self,
        product: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<ProductView>, Error> {
        let since = (now - Duration::days(ALSO_BOUGHT_DAYS - 1))
            .format("%Y-%m-%d")
            .to_string();
        let mut counts: HashMap<String, i64> = HashMap::new();
        let days = partition(
            self.table.client(),
            self.table.name(),
            &keys::also_bought(product),
            Some(&keys::also_bought_day(&since)),
        )
        .await?;
        for item in days {
            for (name, value) in item {
                if let (Some(id), AttributeValue::N(n)) = (name.strip_prefix(COUNT_PREFIX), value) {
                    *counts.entry(id.to_owned()).or_default() += n.parse::<i64>().unwrap_or(0);
                }
            }
        }
        let mut ranked: Vec<(String, i64)> = counts
            .into_iter()
            .filter(|(id, n)| *n > 0 && id != product)
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(CANDIDATES);

        // The product itself rides along to tell an unknown product (404) from one never bought.
        let products = products_by_id(
            &self.table,
            std::iter::once(product).chain(ranked.iter().map(|(id, _)| id.as_str())),
        )
        .await?;
        if !products.contains_key(product) {
            return Err(Error::not_found(Resource::Product, product));
        }
        let picks: Vec<&Product> = ranked
            .iter()
            .filter_map(|(id, _)| products.get(id))
            .filter(|p| p.quantity > 0)
            .take(RECOMMENDATIONS)
            .collect();
        let shops = if picks.is_empty() {
            HashMap::new()
        } else {
            shops_by_id(&self.table, picks.iter().map(|p| p.shop_id.as_str())).await?
        };
        let at = now.timestamp();
        Ok(picks
            .into_iter()
            .filter_map(|p| {
                let shop = shops.get(&p.shop_id)?;
                Some(p.view(shop.summary(), p.available_to(None, at)))
            })
            .collect())
    }
}
