//! The DynamoDB adapter of the cart port: cart lines, hold items and the products' hold mirrors.
//!
//! | item       | pk               | sk               | attributes                                      |
//! |------------|------------------|------------------|-------------------------------------------------|
//! | cart line  | `CART#<user>`    | `LINE#<product>` | shop_id, quantity, title/price snapshot, times, hold_since |
//! | hold clock | `CART#<user>`    | `LINE#<product>` | quantity 0, hold_since, ttl (a removed line's window) |
//! | hold       | `PRODUCT#<id>`   | `HOLD#<slot>`    | holder, expires_at (unix s), ttl                |
//! | product    | `PRODUCT#<id>`   | `PRODUCT`        | … `holds` mirror: slot → {h: holder ref, x: expiry} |
//!
//! A hold clock takes a removed line's place (same key, `quantity` 0, so the line write's
//! `quantity = :seen` condition covers it), so the lines query returns it with no extra round
//! trip; DynamoDB's TTL tidies it once its cool-down is over (readers ignore it before that
//! anyway). The mirror is bounded by the domain (slots below `MAX_HELD_UNITS`, holders by
//! `holder_ref`); this adapter refuses to write a slot past the bound.
//!
//! One [`CartWrite`] is one `TransactWriteItems`: a conditional put per held slot
//! (`attribute_not_exists(pk) OR expires_at <= :now OR holder = :me`), a conditional delete per
//! released slot, the product's mirror update (conditioned on the slots being in stock) and the cart
//! line (conditioned on the quantity read, so two concurrent adds by one buyer cannot lose one).
//! A failed condition or a conflicting transaction is [`Commit::LostRace`]: the rules, the limits and
//! the re-planning are `bazaar_domain::services::cart`'s; this adapter only reads and translates.

use crate::records::ProductItem;
use crate::schema::keys;
use crate::table::{
    Table, Tx, TxError, UpdateBuilder, from_item, from_sdk, key, s, to_av, to_item,
};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, Update};
use bazaar_domain::cart::{
    CartWrite, HoldClock, HoldEntry, Line, LineWrite, MAX_HELD_UNITS, StoredCart,
};
use bazaar_domain::catalog::Product;
use bazaar_domain::error::Error;
use bazaar_domain::ports::{CartStore, Commit, LineCatalog};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The stored form of a cart line.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LineItem {
    pk: String,
    sk: String,
    entity: String,
    product_id: String,
    shop_id: String,
    quantity: i64,
    title: String,
    price_cents: i64,
    added_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Unix seconds the buyer's hold window opened (absent on lines written before windows
    /// existed: their `added_at` stands in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hold_since: Option<i64>,
}

impl LineItem {
    fn into_line(self) -> Line {
        Line {
            hold_since: self.hold_since.unwrap_or_else(|| self.added_at.timestamp()),
            product_id: self.product_id,
            shop_id: self.shop_id,
            quantity: self.quantity,
            title: self.title,
            price_cents: self.price_cents,
            added_at: self.added_at,
        }
    }
}

/// The stored form of a hold clock: what a removed line leaves in its place.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ClockItem {
    pk: String,
    sk: String,
    entity: String,
    product_id: String,
    /// Always 0: a line write over the clock is conditioned on `quantity = 0`.
    quantity: i64,
    hold_since: i64,
    /// DynamoDB TTL: the end of the cool-down, after which the clock no longer matters.
    ttl: i64,
}

/// The `entity` of a hold clock.
const CLOCK_ENTITY: &str = "hold_clock";

/// The stored form of a hold.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct HoldItem {
    pk: String,
    sk: String,
    entity: String,
    product_id: String,
    slot: u32,
    holder: String,
    /// Unix seconds; compared with the current time in every condition.
    expires_at: i64,
    /// DynamoDB TTL: tidies expired holds away (late, maybe days; correctness never waits for it).
    ttl: i64,
}

/// The DynamoDB implementation of the [`CartStore`] port.
#[derive(Debug, Clone)]
pub struct DynamoCart {
    table: Table,
}

/// The buyer's cart lines and hold clocks (consistent, every page).
pub(crate) async fn cart_lines(
    client: &Client,
    table: &str,
    user: &str,
) -> Result<StoredCart, Error> {
    let mut cart = StoredCart::default();
    let mut start = None;
    loop {
        let out = client
            .query()
            .table_name(table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :line)")
            .expression_attribute_values(":pk", s(&keys::cart(user)))
            .expression_attribute_values(":line", s(keys::LINE_PREFIX))
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(from_sdk)?;
        for item in out.items.unwrap_or_default() {
            match item.get("entity") {
                Some(AttributeValue::S(e)) if e == CLOCK_ENTITY => {
                    let clock: ClockItem = from_item(item)?;
                    cart.clocks.push(HoldClock {
                        product_id: clock.product_id,
                        since: clock.hold_since,
                    });
                }
                _ => cart.lines.push(from_item::<LineItem>(item)?.into_line()),
            }
        }
        start = out.last_evaluated_key;
        if start.is_none() {
            return Ok(cart);
        }
    }
}

/// The current products (with their hold mirrors) and shops of `lines`: one consistent
/// `BatchGetItem` (two past 100 keys). Deleted products are simply absent.
pub(crate) async fn products_and_shops(
    table: &Table,
    lines: &[Line],
) -> Result<LineCatalog, Error> {
    let (products, shops) = crate::records::products_and_shops(
        table,
        lines.iter().map(|l| l.product_id.as_str()),
        lines.iter().map(|l| l.shop_id.as_str()),
    )
    .await?;
    Ok((products.into_iter().collect(), shops.into_iter().collect()))
}

/// Deletes `holder`'s hold on a slot (a slot already free counts as released): the one way a
/// cart write and a checkout give a slot back.
pub(crate) fn release_hold(
    table: &Table,
    product_id: &str,
    slot: u32,
    holder: &str,
) -> Result<Delete, Error> {
    Delete::builder()
        .table_name(table.name())
        .set_key(Some(key(keys::hold(product_id, slot))))
        .condition_expression("attribute_not_exists(pk) OR holder = :me")
        .expression_attribute_values(":me", s(holder))
        .build()
        .map_err(Error::internal)
}

impl DynamoCart {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table),
        }
    }

    /// The product with its hold mirror, read consistently; `true` when the mirror attribute exists.
    async fn read_product(&self, product_id: &str) -> Result<Option<(ProductItem, bool)>, Error> {
        let out = self
            .table
            .client()
            .get_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::product(product_id))))
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?;
        out.item
            .map(|item| {
                let has_mirror = item.contains_key("holds");
                from_item::<ProductItem>(item).map(|p| (p, has_mirror))
            })
            .transpose()
    }

    /// Adds the hold-item and mirror actions of `write`'s plan to `tx`, with the product's
    /// condition (`has_mirror`: whether the product item has its `holds` attribute yet).
    fn plan_actions(
        &self,
        tx: &mut Tx,
        write: &CartWrite<'_>,
        has_mirror: bool,
    ) -> Result<(), Error> {
        let CartWrite {
            user,
            product_id,
            ref plan,
            now,
            expires_at,
            ..
        } = *write;
        // The domain keeps the mirror bounded; a plan past the bound is a defect, never written.
        if plan.held().any(|slot| i64::from(slot) >= MAX_HELD_UNITS) {
            return Err(Error::internal(format!(
                "a cart plan for {product_id} holds a slot past MAX_HELD_UNITS"
            )));
        }
        for slot in plan.held() {
            let (pk, sk) = keys::hold(product_id, slot);
            let hold = HoldItem {
                pk,
                sk,
                entity: "hold".into(),
                product_id: product_id.to_owned(),
                slot,
                holder: user.to_owned(),
                expires_at,
                ttl: expires_at,
            };
            let put = Put::builder()
                .table_name(self.table.name())
                .set_item(Some(to_item(&hold)?))
                .condition_expression(
                    "attribute_not_exists(pk) OR expires_at <= :now OR holder = :me",
                )
                .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
                .expression_attribute_values(":me", s(user))
                .build()
                .map_err(Error::internal)?;
            tx.put(put).or("hold");
        }
        for slot in &plan.release {
            tx.delete(release_hold(&self.table, product_id, *slot, user)?)
                .or("release");
        }
        // The mirror on the product item, in the same transaction.
        let mut update = UpdateBuilder::default();
        let mut removes = Vec::new();
        let mut conditions = vec!["attribute_exists(pk)".to_owned()];
        update.name("#holds", "holds");
        let entry = || HoldEntry::new(user, expires_at);
        if has_mirror {
            for (i, slot) in plan.held().enumerate() {
                update.name(&format!("#k{i}"), &slot.to_string());
                update.value(&format!(":k{i}"), to_av(&entry())?);
                update.sets.push(format!("#holds.#k{i} = :k{i}"));
            }
            for (i, slot) in plan.release.iter().enumerate() {
                update.name(&format!("#r{i}"), &slot.to_string());
                removes.push(format!("#holds.#r{i}"));
            }
            for (i, (slot, seen)) in plan.prune.iter().enumerate() {
                update.name(&format!("#p{i}"), &slot.to_string());
                update.value(&format!(":p{i}"), AttributeValue::N(seen.to_string()));
                removes.push(format!("#holds.#p{i}"));
                conditions.push(format!("#holds.#p{i}.x = :p{i}"));
            }
        } else {
            // A product written before mirrors existed: create the mirror whole.
            let mirror: BTreeMap<String, HoldEntry> = plan
                .held()
                .map(|slot| (slot.to_string(), entry()))
                .collect();
            update.value(":mirror", to_av(&mirror)?);
            update.sets.push("#holds = :mirror".into());
            conditions.push("attribute_not_exists(#holds)".into());
        }
        if let Some(max_slot) = plan.held().max() {
            update.name("#quantity", "quantity");
            update.value(":maxslot", AttributeValue::N(max_slot.to_string()));
            conditions.push("#quantity > :maxslot".into());
        }
        let mut expression = String::new();
        if !update.sets.is_empty() {
            expression.push_str(&format!("SET {}", update.sets.join(", ")));
        }
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        if !expression.is_empty() {
            let names = std::mem::take(&mut update.names);
            let values = std::mem::take(&mut update.values);
            let product_update = Update::builder()
                .table_name(self.table.name())
                .set_key(Some(key(keys::product(product_id))))
                .update_expression(expression.trim())
                .condition_expression(conditions.join(" AND "))
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values((!values.is_empty()).then_some(values))
                .build()
                .map_err(Error::internal)?;
            tx.update(product_update).or("product");
        }
        Ok(())
    }

    /// Adds the cart line's put or delete, conditioned on the quantity read.
    fn line_action(&self, tx: &mut Tx, write: &CartWrite<'_>) -> Result<(), Error> {
        match &write.line {
            LineWrite::Put { line, seen } => {
                let (pk, sk) = keys::cart_line(write.user, write.product_id);
                let item = LineItem {
                    pk,
                    sk,
                    entity: "cart_line".into(),
                    product_id: line.product_id.clone(),
                    shop_id: line.shop_id.clone(),
                    quantity: line.quantity,
                    title: line.title.clone(),
                    price_cents: line.price_cents,
                    added_at: line.added_at,
                    updated_at: Utc::now(),
                    hold_since: Some(line.hold_since),
                };
                let put = Put::builder()
                    .table_name(self.table.name())
                    .set_item(Some(to_item(&item)?));
                let put = match seen {
                    None => put.condition_expression("attribute_not_exists(pk)"),
                    Some(seen) => put
                        .condition_expression("quantity = :seen")
                        .expression_attribute_values(":seen", AttributeValue::N(seen.to_string())),
                };
                tx.put(put.build().map_err(Error::internal)?).or("line");
            }
            LineWrite::Remove { seen, keep: None } => {
                let delete = Delete::builder()
                    .table_name(self.table.name())
                    .set_key(Some(key(keys::cart_line(write.user, write.product_id))))
                    .condition_expression("quantity = :seen")
                    .expression_attribute_values(":seen", AttributeValue::N(seen.to_string()))
                    .build()
                    .map_err(Error::internal)?;
                tx.delete(delete).or("line");
            }
            LineWrite::Remove {
                seen,
                keep: Some(kept),
            } => {
                let (pk, sk) = keys::cart_line(write.user, write.product_id);
                let clock = ClockItem {
                    pk,
                    sk,
                    entity: CLOCK_ENTITY.into(),
                    product_id: write.product_id.to_owned(),
                    quantity: 0,
                    hold_since: kept.since,
                    ttl: kept.until,
                };
                let put = Put::builder()
                    .table_name(self.table.name())
                    .set_item(Some(to_item(&clock)?))
                    .condition_expression("quantity = :seen")
                    .expression_attribute_values(":seen", AttributeValue::N(seen.to_string()))
                    .build()
                    .map_err(Error::internal)?;
                tx.put(put).or("line");
            }
        }
        Ok(())
    }
}

impl CartStore for DynamoCart {
    /// Whether the product item has its hold mirror (`holds`) yet: a product written before
    /// mirrors existed gets the mirror created whole.
    type Seen = bool;

    async fn lines(&self, user: &str) -> Result<StoredCart, Error> {
        cart_lines(self.table.client(), self.table.name(), user).await
    }

    async fn product(&self, id: &str) -> Result<Option<(Product, bool)>, Error> {
        Ok(self
            .read_product(id)
            .await?
            .map(|(item, has_mirror)| (item.into_product(), has_mirror)))
    }

    async fn write(&self, write: &CartWrite<'_>, product: Option<&bool>) -> Result<Commit, Error> {
        let mut tx = Tx::new();
        let plan = &write.plan;
        let touches_product =
            plan.held().next().is_some() || !plan.release.is_empty() || !plan.prune.is_empty();
        if let Some(has_mirror) = product
            && touches_product
        {
            self.plan_actions(&mut tx, write, *has_mirror)?;
        }
        self.line_action(&mut tx, write)?;
        match tx.commit(self.table.client()).await {
            Ok(()) => Ok(Commit::Committed),
            // A condition failed or another transaction was writing one of the items: another
            // request got there first.
            Err(TxError::Cancelled { failed, raced, .. })
                if !failed.is_empty() || !raced.is_empty() =>
            {
                Ok(Commit::LostRace)
            }
            Err(e) => Err(e.into_error()),
        }
    }

    async fn catalog(&self, lines: &[Line]) -> Result<LineCatalog, Error> {
        products_and_shops(&self.table, lines).await
    }
}
