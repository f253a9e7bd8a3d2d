//! The DynamoDB side of checkout: one `TransactWriteItems` per checkout (see the saga in
//! `bazaar_domain::checkout`), the committed-checkout record and the orders it wrote.

use crate::records::order_item;
use crate::table::{Item, cancellation_codes, from_item, from_sdk, key, keys, s, to_item};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use bazaar_domain::cart;
use bazaar_domain::checkout::*;
use bazaar_domain::error::Error;
use bazaar_domain::payments::Authorization;
use bazaar_domain::ports::PaymentGateway;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The record that marks a committed checkout.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CheckoutRecord {
    pk: String,
    sk: String,
    entity: String,
    checkout_id: String,
    buyer_id: String,
    order_ids: Vec<String>,
    total_cents: i64,
    payment_id: String,
    created_at: DateTime<Utc>,
}

/// The lines whose actions a cancelled transaction reports as failed, read from its
/// `CancellationReasons` (one code per action, in the order [`DynamoCheckout`] lays them out:
/// each line's hold items, its product, its cart line; then the orders and the record).
pub fn failed_lines<'a>(lines: &'a [PlannedLine], codes: &[String]) -> Vec<&'a PlannedLine> {
    let mut start = 0;
    let mut failed = Vec::new();
    for line in lines {
        let end = start + line_actions(&line.plan);
        if codes
            .get(start..end.min(codes.len()))
            .is_some_and(|c| c.iter().any(|code| code != "None"))
        {
            failed.push(line);
        }
        start = end;
    }
    failed
}

/// The DynamoDB implementation of checkout and its orders.
#[derive(Debug, Clone)]
pub struct DynamoCheckout {
    client: Client,
    table: String,
}

fn random_pick(n: usize) -> usize {
    if n <= 1 {
        return 0;
    }
    let b = *uuid::Uuid::new_v4().as_bytes();
    (u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) % n as u64) as usize
}

impl DynamoCheckout {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, Error> {
        crate::table::batch_get(&self.client, &self.table, keys).await
    }

    /// The orders of a committed checkout, if it committed.
    async fn committed(
        &self,
        checkout_id: &str,
    ) -> Result<Option<(CheckoutRecord, Vec<Order>)>, Error> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::checkout(checkout_id))))
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let record: CheckoutRecord = from_item(item)?;
        let items = self
            .batch_get(
                record
                    .order_ids
                    .iter()
                    .map(|id| key(keys::order(id)))
                    .collect(),
            )
            .await?;
        let mut orders: Vec<Order> = items
            .into_iter()
            .map(from_item::<Order>)
            .collect::<Result<_, _>>()?;
        orders.sort_by_key(|o| record.order_ids.iter().position(|id| *id == o.order_id));
        Ok(Some((record, orders)))
    }

    /// Reads the cart, its products and shops, and plans every line (or names what is missing).
    async fn plan(
        &self,
        buyer: &str,
        now: i64,
    ) -> Result<(Vec<PlannedLine>, BTreeMap<String, OrderShop>), Error> {
        let rows = crate::cart::cart_lines(&self.client, &self.table, buyer).await?;
        if rows.is_empty() {
            return Err(Error::unprocessable("cart_empty", "The cart is empty."));
        }
        let (products, shops) =
            crate::cart::products_and_shops(&self.client, &self.table, &rows).await?;
        let shops: BTreeMap<String, OrderShop> = shops
            .into_iter()
            .map(|(id, shop)| {
                (
                    id,
                    OrderShop {
                        name: shop.name,
                        owner_id: shop.owner_id,
                        owner_email: shop.owner_email,
                        shipping: shop.shipping,
                    },
                )
            })
            .collect();
        let mut planned = Vec::new();
        let mut unavailable = Vec::new();
        for row in rows {
            match products.get(&row.product_id) {
                None => unavailable.push(UnavailableItem {
                    product_id: row.product_id,
                    title: row.title,
                    requested: row.quantity,
                    available: 0,
                }),
                Some(p) => match cart::plan(
                    p.quantity,
                    &p.holds,
                    buyer,
                    row.quantity,
                    now,
                    &mut random_pick,
                ) {
                    Ok(plan) => planned.push(PlannedLine {
                        product_id: row.product_id,
                        shop_id: row.shop_id,
                        quantity: row.quantity,
                        title: p.title.clone(),
                        price_cents: p.price_cents,
                        seen_quantity: row.quantity,
                        plan,
                    }),
                    Err(u) => unavailable.push(UnavailableItem {
                        product_id: row.product_id,
                        title: p.title.clone(),
                        requested: row.quantity,
                        available: u.available,
                    }),
                },
            }
        }
        if !unavailable.is_empty() {
            return Err(items_unavailable(unavailable));
        }
        Ok((planned, shops))
    }

    /// The transaction of a checkout.
    fn actions(
        &self,
        buyer: &str,
        lines: &[PlannedLine],
        orders: &[Order],
        record: &CheckoutRecord,
        now: i64,
    ) -> Result<Vec<TransactWriteItem>, Error> {
        let mut actions = Vec::new();
        for line in lines {
            for slot in line.plan.held() {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(keys::hold(&line.product_id, slot))))
                    .condition_expression(
                        "attribute_not_exists(pk) OR expires_at <= :now OR holder = :me",
                    )
                    .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
                    .expression_attribute_values(":me", s(buyer))
                    .build()
                    .map_err(Error::internal)?;
                actions.push(TransactWriteItem::builder().delete(delete).build());
            }
            for slot in &line.plan.release {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(keys::hold(&line.product_id, *slot))))
                    .condition_expression("attribute_not_exists(pk) OR holder = :me")
                    .expression_attribute_values(":me", s(buyer))
                    .build()
                    .map_err(Error::internal)?;
                actions.push(TransactWriteItem::builder().delete(delete).build());
            }
            let mut removes = Vec::new();
            let mut update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(keys::product(&line.product_id))))
                .expression_attribute_names("#quantity", "quantity")
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":q", AttributeValue::N(line.quantity.to_string()))
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .expression_attribute_values(":now", s(&Utc::now().to_rfc3339()));
            for (i, slot) in line
                .plan
                .held()
                .chain(line.plan.release.iter().copied())
                .enumerate()
            {
                update = update.expression_attribute_names(format!("#s{i}"), slot.to_string());
                removes.push(format!("#holds.#s{i}"));
            }
            let mut expression =
                "SET #quantity = #quantity - :q, #version = #version + :one, updated_at = :now"
                    .to_owned();
            if !removes.is_empty() {
                update = update.expression_attribute_names("#holds", "holds");
                expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
            }
            let update = update
                .update_expression(expression)
                .condition_expression("attribute_exists(pk) AND #quantity >= :q")
                .build()
                .map_err(Error::internal)?;
            actions.push(TransactWriteItem::builder().update(update).build());
            let delete_line = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(keys::cart_line(buyer, &line.product_id))))
                .condition_expression("quantity = :seen")
                .expression_attribute_values(
                    ":seen",
                    AttributeValue::N(line.seen_quantity.to_string()),
                )
                .build()
                .map_err(Error::internal)?;
            actions.push(TransactWriteItem::builder().delete(delete_line).build());
        }
        for order in orders {
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(order_item(order)?))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(Error::internal)?;
            actions.push(TransactWriteItem::builder().put(put).build());
            let units: i64 = order.items.iter().map(|i| i.quantity).sum();
            let sales = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(keys::shop(&order.shop_id))))
                .update_expression("ADD sales_count :units")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":units", AttributeValue::N(units.to_string()))
                .build()
                .map_err(Error::internal)?;
            actions.push(TransactWriteItem::builder().update(sales).build());
        }
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(record)?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(Error::internal)?;
        actions.push(TransactWriteItem::builder().put(put).build());
        Ok(actions)
    }

    /// Places the buyer's cart as orders, exactly once per `idempotency_key`.
    pub async fn checkout<P: PaymentGateway, H: CheckoutHooks>(
        &self,
        payments: &P,
        hooks: &H,
        buyer: &str,
        idempotency_key: &str,
        address: &ShippingAddress,
        payment_method: &str,
    ) -> Result<CheckoutView, Error> {
        let checkout_id = checkout_id(buyer, idempotency_key);
        for _attempt in 0..4 {
            if let Some((record, orders)) = self.committed(&checkout_id).await? {
                // Committed before (a retry after a crash, or a racing duplicate): same orders.
                payments
                    .capture(&Authorization {
                        id: record.payment_id.clone(),
                        amount_cents: record.total_cents,
                    })
                    .await?;
                return Ok(checkout_view(&checkout_id, &orders));
            }
            let now = Utc::now();
            let (lines, shops) = self.plan(buyer, now.timestamp()).await?;
            let fits = max_lines(&lines);
            if fits < lines.len() {
                let mut extra = Map::new();
                extra.insert("max_lines".into(), Value::from(fits));
                return Err(Error::Unprocessable {
                    code: "cart_too_large",
                    detail: format!(
                        "One checkout can take {fits} of these {} lines; remove some and check out in parts.",
                        lines.len()
                    ),
                    extra,
                });
            }
            let orders = build_orders(&checkout_id, buyer, &lines, &shops, address, now)?;
            let total: i64 = orders.iter().map(|o| o.total_cents).sum();
            let auth = payments
                .authorize(&checkout_id, total, payment_method)
                .await?;
            let (pk, sk) = keys::checkout(&checkout_id);
            let record = CheckoutRecord {
                pk,
                sk,
                entity: "checkout".into(),
                checkout_id: checkout_id.clone(),
                buyer_id: buyer.to_owned(),
                order_ids: orders.iter().map(|o| o.order_id.clone()).collect(),
                total_cents: total,
                payment_id: auth.id.clone(),
                created_at: now,
            };
            let actions = self.actions(buyer, &lines, &orders, &record, now.timestamp())?;
            let last = actions.len() - 1;
            hooks.before_commit(&checkout_id).await;
            match self
                .client
                .transact_write_items()
                .set_transact_items(Some(actions))
                .send()
                .await
            {
                Ok(_) => {
                    hooks.after_commit(&checkout_id);
                    payments.capture(&auth).await?;
                    return Ok(checkout_view(&checkout_id, &orders));
                }
                Err(err) => {
                    let Some(codes) = cancellation_codes(&err) else {
                        let _ = payments.void(&auth).await;
                        return Err(from_sdk(err));
                    };
                    if codes
                        .get(last)
                        .is_some_and(|c| c == "ConditionalCheckFailed")
                    {
                        // A duplicate of this checkout committed first: loop to return its orders.
                        continue;
                    }
                    payments.void(&auth).await?;
                    let lost: Vec<&str> = failed_lines(&lines, &codes)
                        .iter()
                        .map(|l| l.product_id.as_str())
                        .collect();
                    tracing::info!(checkout_id, lost = ?lost, "checkout transaction cancelled by a concurrent change; planning again");
                    bazaar_domain::metrics::Metrics::new("checkout")
                        .count("CheckoutConflicts", 1)
                        .property("products", lost.join(","))
                        .emit();
                    // Re-plan from fresh reads: a lost slot may be replaced by another free one;
                    // a line that can no longer be had is named with its current availability.
                    continue;
                }
            }
        }
        Err(Error::Unavailable(
            "checkout kept losing races; retry".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bazaar_domain::cart::Plan;

    fn line(product: &str, shop: &str, q: i64, price: i64, slots: usize) -> PlannedLine {
        PlannedLine {
            product_id: product.into(),
            shop_id: shop.into(),
            quantity: q,
            title: product.to_uppercase(),
            price_cents: price,
            seen_quantity: q,
            plan: Plan {
                keep: (0..slots as u32).collect(),
                ..Plan::default()
            },
        }
    }

    #[test]
    fn cancellation_reasons_name_the_lines() {
        let lines = vec![
            line("a", "s", 1, 100, 1),
            line("b", "s", 2, 100, 2),
            line("c", "s", 1, 100, 1),
        ];
        // a: 3 actions, b: 4, c: 3, then order, sales, record.
        let mut codes = vec!["None".to_owned(); 13];
        codes[4] = "ConditionalCheckFailed".into(); // b's second hold item
        let failed: Vec<&str> = failed_lines(&lines, &codes)
            .iter()
            .map(|l| l.product_id.as_str())
            .collect();
        assert_eq!(failed, ["b"]);
        codes[9] = "ConditionalCheckFailed".into(); // c's cart line
        assert_eq!(failed_lines(&lines, &codes).len(), 2);
    }
}
