//! The DynamoDB adapter of the cart port: carts, hold clocks and the products' holds.
//!
//! | item       | pk               | sk                | attributes                                         |
//! |------------|------------------|-------------------|----------------------------------------------------|
//! | cart       | `CART#<user>`    | `CART`            | `version`, `lines`: product → shop_id, quantity, title/price snapshot, times, hold_since |
//! | hold clock | `CART#<user>`    | `CLOCK#<product>` | hold_since, ttl (a removed line's window)           |
//! | product    | `PRODUCT#<id>`   | `PRODUCT`         | … `holds`: slot → {h: holder ref, x: expiry}        |
//!
//! A cart is one item, so that a write reads it, the product and the product's clock in one
//! `BatchGetItem`, and a checkout empties it with one action whatever its size. Every write is
//! conditioned on the cart's `version` as read and bumps it: two writes of one buyer (or a write and
//! a checkout) cannot interleave. A hold clock is its own item (read by key alongside), so that
//! the clocks of many removed lines never weigh on the cart; DynamoDB's TTL tidies it once its
//! cool-down is over (readers ignore it before that anyway).
//!
//! The product's `holds` map is the hold record: taking `q` units is one update of the product
//! item whose condition checks each slot's entry (absent or expired at the write's `now`:
//! `attribute_not_exists(#h.#sK) OR #h.#sK.x <= :n`; kept or released: `#h.#sK.h = :m`), so a
//! line costs one action whatever its quantity ([`hold_update`]; a unit test proves the largest
//! expressions fit DynamoDB's 4 KB). The map is bounded by the domain (slots below
//! `MAX_HELD_UNITS`, holders by `holder_ref`); this adapter refuses to write a slot past the bound.
//!
//! One [`CartWrite`] is one `TransactWriteItems`: the product's update, the cart's (conditioned on
//! its version), the clock's put or delete, and the write quota's conditional increment. A
//! failed quota condition is `429`; any other failed condition or a conflicting transaction is
//! [`Commit::LostRace`]: the rules, the limits and the re-planning are
//! `bazaar_domain::services::cart`'s; this adapter only reads and translates.

use crate::records::ProductItem;
use crate::schema::keys;
use crate::table::{Item, Table, Tx, TxError, from_item, from_sdk, key, s, to_av, to_item};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, Update};
use bazaar_domain::cart::{
    CartWrite, HoldClock, HoldEntry, Line, LineWrite, MAX_HELD_UNITS, Plan, StoredCart, holder_ref,
};
use bazaar_domain::error::Error;
use bazaar_domain::ports::{CartRead, CartStore, Commit, LineCatalog};
use bazaar_domain::quota::Charge;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The stored form of a cart line (inside the cart item's `lines`, keyed by product).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LineEntry {
    shop_id: String,
    quantity: i64,
    title: String,
    price_cents: i64,
    added_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Unix seconds the buyer's hold window opened.
    hold_since: i64,
}

impl LineEntry {
    fn from_line(line: &Line) -> Self {
        Self {
            shop_id: line.shop_id.clone(),
            quantity: line.quantity,
            title: line.title.clone(),
            price_cents: line.price_cents,
            added_at: line.added_at,
            updated_at: Utc::now(),
            hold_since: line.hold_since,
        }
    }

    fn into_line(self, product_id: String) -> Line {
        Line {
            product_id,
            shop_id: self.shop_id,
            quantity: self.quantity,
            title: self.title,
            price_cents: self.price_cents,
            added_at: self.added_at,
            hold_since: self.hold_since,
        }
    }
}

/// The stored form of a cart.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CartItem {
    pk: String,
    sk: String,
    entity: String,
    version: i64,
    #[serde(default)]
    lines: BTreeMap<String, LineEntry>,
}

impl CartItem {
    fn into_cart(self) -> StoredCart {
        StoredCart {
            lines: self
                .lines
                .into_iter()
                .map(|(product_id, entry)| entry.into_line(product_id))
                .collect(),
            version: self.version,
        }
    }
}

/// The stored form of a hold clock: what a removed line leaves.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ClockItem {
    pk: String,
    sk: String,
    entity: String,
    product_id: String,
    hold_since: i64,
    /// DynamoDB TTL: the end of the cool-down, after which the clock no longer matters.
    ttl: i64,
}

/// A stored cart (absent: the empty cart of version 0).
pub(crate) fn cart_of(item: Option<Item>) -> Result<StoredCart, Error> {
    Ok(item
        .map(from_item::<CartItem>)
        .transpose()?
        .map(CartItem::into_cart)
        .unwrap_or_default())
}

/// The buyer's cart, read consistently (one `GetItem`).
pub(crate) async fn read_cart(
    client: &Client,
    table: &str,
    user: &str,
) -> Result<StoredCart, Error> {
    let out = client
        .get_item()
        .table_name(table)
        .set_key(Some(key(keys::cart_item(user))))
        .consistent_read(true)
        .send()
        .await
        .map_err(from_sdk)?;
    cart_of(out.item)
}

/// The current products (with their holds) and shops of `lines`: one consistent `BatchGetItem`
/// (two past 100 keys). Deleted products are simply absent.
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

/// The key of an item as `(pk, sk)`, to tell the items of one `BatchGetItem` apart.
fn key_of(item: &Item) -> Option<(String, String)> {
    let pk = item.get(keys::PK)?.as_s().ok()?.clone();
    let sk = item.get(keys::SK)?.as_s().ok()?.clone();
    Some((pk, sk))
}

/// Reads `keys` in one consistent `BatchGetItem`, answering the items by key.
pub(crate) async fn read_keys(
    table: &Table,
    wanted: Vec<(String, String)>,
) -> Result<HashMap<(String, String), Item>, Error> {
    let items = crate::table::batch_get(
        table.client(),
        table.name(),
        wanted.into_iter().map(key).collect(),
    )
    .await?;
    Ok(items
        .into_iter()
        .filter_map(|item| key_of(&item).map(|k| (k, item)))
        .collect())
}

/// The expressions of one product update that changes its holds.
#[derive(Debug, Default)]
pub(crate) struct HoldUpdate {
    pub(crate) sets: Vec<String>,
    pub(crate) removes: Vec<String>,
    pub(crate) conditions: Vec<String>,
    pub(crate) names: HashMap<String, String>,
    pub(crate) values: HashMap<String, AttributeValue>,
}

/// What a hold update does with the slots the plan holds.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Held<'a> {
    /// A cart write: they are set to this entry.
    Set(&'a HoldEntry),
    /// A checkout: they are bought, so their entries go.
    Consume,
}

/// The holds part of a product update for `plan` by `user` at `now`, with its conditions:
/// - a slot taken (free when planned): absent, or expired at `now` —
///   `(attribute_not_exists(#h.#sK) OR #h.#sK.x <= :n)`;
/// - a slot kept or released (the user's when planned): still the user's — `#h.#sK.h = :m`
///   (an entry someone else took or pruned meanwhile fails it, and the write is planned again);
/// - a pruned entry (another buyer's, lapsed): still with the expiry seen — `#h.#sK.x = :pK`;
/// - with slots held: the product has more units than the highest of them.
///
/// Placeholders are short so that the largest plan (40 slots taken, 40 released, 16 pruned)
/// stays far below DynamoDB's 4 KB per expression (a unit test proves it).
pub(crate) fn hold_update(
    plan: &Plan,
    user: &str,
    now: i64,
    held: Held<'_>,
) -> Result<HoldUpdate, Error> {
    // The domain keeps the holds bounded; a plan past the bound is a defect, never written.
    if plan.held().any(|slot| i64::from(slot) >= MAX_HELD_UNITS) {
        return Err(Error::internal(
            "a hold plan holds a slot past MAX_HELD_UNITS",
        ));
    }
    let mut u = HoldUpdate::default();
    let mut slot_name = {
        let mut next = 0usize;
        move |u: &mut HoldUpdate, slot: u32| {
            let name = format!("#s{next}");
            next += 1;
            u.names.insert(name.clone(), slot.to_string());
            name
        }
    };
    let mine_before: Vec<u32> = plan.keep.clone();
    let mut uses_me = false;
    let mut uses_now = false;
    for slot in &mine_before {
        let n = slot_name(&mut u, *slot);
        u.conditions.push(format!("#h.{n}.h = :m"));
        uses_me = true;
        match held {
            Held::Set(_) => u.sets.push(format!("#h.{n} = :e")),
            Held::Consume => u.removes.push(format!("#h.{n}")),
        }
    }
    for slot in &plan.take {
        let n = slot_name(&mut u, *slot);
        u.conditions
            .push(format!("(attribute_not_exists(#h.{n}) OR #h.{n}.x <= :n)"));
        uses_now = true;
        match held {
            Held::Set(_) => u.sets.push(format!("#h.{n} = :e")),
            Held::Consume => u.removes.push(format!("#h.{n}")),
        }
    }
    for slot in &plan.release {
        let n = slot_name(&mut u, *slot);
        u.conditions.push(format!("#h.{n}.h = :m"));
        uses_me = true;
        u.removes.push(format!("#h.{n}"));
    }
    if let Held::Set(_) = held {
        for (i, (slot, seen)) in plan.prune.iter().enumerate() {
            let n = slot_name(&mut u, *slot);
            u.values
                .insert(format!(":p{i}"), AttributeValue::N(seen.to_string()));
            u.conditions.push(format!("#h.{n}.x = :p{i}"));
            u.removes.push(format!("#h.{n}"));
        }
    }
    if let Held::Set(entry) = held
        && !u.sets.is_empty()
    {
        u.values.insert(":e".into(), to_av(entry)?);
    }
    if uses_me {
        u.values.insert(":m".into(), s(&holder_ref(user)));
    }
    if uses_now {
        u.values
            .insert(":n".into(), AttributeValue::N(now.to_string()));
    }
    if !u.names.is_empty() {
        u.names.insert("#h".into(), "holds".into());
    }
    if let Some(max_slot) = plan.held().max() {
        u.names.insert("#quantity".into(), "quantity".into());
        u.values
            .insert(":maxslot".into(), AttributeValue::N(max_slot.to_string()));
        u.conditions.push("#quantity > :maxslot".into());
    }
    Ok(u)
}

/// The DynamoDB implementation of the [`CartStore`] port.
#[derive(Debug, Clone)]
pub struct DynamoCart {
    table: Table,
}

impl DynamoCart {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table),
        }
    }

    /// Adds the product's update for `write`'s plan to `tx` (`has_mirror`: whether the product
    /// item has its `holds` attribute yet).
    fn product_action(
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
        let entry = HoldEntry::new(user, expires_at);
        let mut u = if has_mirror {
            hold_update(plan, user, now, Held::Set(&entry))?
        } else {
            // A product written before holds existed: create the map whole.
            let mut u = hold_update(&Plan::default(), user, now, Held::Set(&entry))?;
            if plan.held().any(|slot| i64::from(slot) >= MAX_HELD_UNITS) {
                return Err(Error::internal(
                    "a hold plan holds a slot past MAX_HELD_UNITS",
                ));
            }
            let mirror: BTreeMap<String, HoldEntry> = plan
                .held()
                .map(|slot| (slot.to_string(), entry.clone()))
                .collect();
            u.names.insert("#h".into(), "holds".into());
            u.values.insert(":mirror".into(), to_av(&mirror)?);
            u.sets.push("#h = :mirror".into());
            u.conditions.push("attribute_not_exists(#h)".into());
            if let Some(max_slot) = plan.held().max() {
                u.names.insert("#quantity".into(), "quantity".into());
                u.values
                    .insert(":maxslot".into(), AttributeValue::N(max_slot.to_string()));
                u.conditions.push("#quantity > :maxslot".into());
            }
            u
        };
        let mut expression = String::new();
        if !u.sets.is_empty() {
            expression.push_str(&format!("SET {}", u.sets.join(", ")));
        }
        if !u.removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", u.removes.join(", ")));
        }
        if expression.is_empty() {
            return Ok(());
        }
        let mut conditions = vec!["attribute_exists(pk)".to_owned()];
        conditions.append(&mut u.conditions);
        let update = Update::builder()
            .table_name(self.table.name())
            .set_key(Some(key(keys::product(product_id))))
            .update_expression(expression.trim())
            .condition_expression(conditions.join(" AND "))
            .set_expression_attribute_names(Some(u.names))
            .set_expression_attribute_values((!u.values.is_empty()).then_some(u.values))
            .build()
            .map_err(Error::internal)?;
        tx.update(update).or("product");
        Ok(())
    }

    /// Adds the cart's update (conditioned on its version) and the clock's put or delete.
    fn cart_actions(&self, tx: &mut Tx, write: &CartWrite<'_>) -> Result<(), Error> {
        let user = write.user;
        let mut update = Update::builder()
            .table_name(self.table.name())
            .set_key(Some(key(keys::cart_item(user))))
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":one", AttributeValue::N("1".into()));
        update = match (&write.line, write.version) {
            // No cart yet: it is created with this one line.
            (LineWrite::Put { line, .. }, 0) => {
                let mut lines = BTreeMap::new();
                lines.insert(line.product_id.clone(), LineEntry::from_line(line));
                update
                    .update_expression("SET #v = :one, #l = :lines, entity = :entity")
                    .condition_expression("attribute_not_exists(pk)")
                    .expression_attribute_names("#l", "lines")
                    .expression_attribute_values(":lines", to_av(&lines)?)
                    .expression_attribute_values(":entity", s("cart"))
            }
            (LineWrite::Put { line, .. }, seen) => update
                .update_expression("SET #v = #v + :one, #l.#p = :line")
                .condition_expression("#v = :seen")
                .expression_attribute_names("#l", "lines")
                .expression_attribute_names("#p", write.product_id)
                .expression_attribute_values(":line", to_av(&LineEntry::from_line(line))?)
                .expression_attribute_values(":seen", AttributeValue::N(seen.to_string())),
            (LineWrite::Remove { .. }, seen) => update
                .update_expression("SET #v = #v + :one REMOVE #l.#p")
                .condition_expression("#v = :seen")
                .expression_attribute_names("#l", "lines")
                .expression_attribute_names("#p", write.product_id)
                .expression_attribute_values(":seen", AttributeValue::N(seen.to_string())),
        };
        tx.update(update.build().map_err(Error::internal)?)
            .or("cart");
        match &write.line {
            LineWrite::Put { clock: true, .. } => {
                let delete = Delete::builder()
                    .table_name(self.table.name())
                    .set_key(Some(key(keys::cart_clock(user, write.product_id))))
                    .build()
                    .map_err(Error::internal)?;
                tx.delete(delete).or("clock");
            }
            LineWrite::Remove { keep: Some(kept) } => {
                let (pk, sk) = keys::cart_clock(user, write.product_id);
                let clock = ClockItem {
                    pk,
                    sk,
                    entity: CLOCK_ENTITY.into(),
                    product_id: write.product_id.to_owned(),
                    hold_since: kept.since,
                    ttl: kept.until,
                };
                let put = Put::builder()
                    .table_name(self.table.name())
                    .set_item(Some(to_item(&clock)?))
                    .build()
                    .map_err(Error::internal)?;
                tx.put(put).or("clock");
            }
            _ => {}
        }
        Ok(())
    }
}

/// The `entity` of a hold clock.
const CLOCK_ENTITY: &str = "hold_clock";

impl CartStore for DynamoCart {
    /// Whether the product item has its `holds` attribute yet: a product written before holds
    /// existed gets the map created whole.
    type Seen = bool;

    async fn read(
        &self,
        user: &str,
        product: Option<&str>,
        quota: Option<&Charge>,
    ) -> Result<CartRead<bool>, Error> {
        let Some(product_id) = product else {
            // Only the cart: one GetItem.
            let cart = read_cart(self.table.client(), self.table.name(), user).await?;
            return Ok(CartRead {
                cart,
                product: None,
                clock: None,
                quota_used: 0,
            });
        };
        let cart_key = keys::cart_item(user);
        let product_key = keys::product(product_id);
        let clock_key = keys::cart_clock(user, product_id);
        let quota_key = quota.map(|c| keys::quota(user, c.class.name(), c.window_start));
        let mut wanted = vec![cart_key.clone(), product_key.clone(), clock_key.clone()];
        wanted.extend(quota_key.clone());
        let mut found = read_keys(&self.table, wanted).await?;
        let cart = cart_of(found.remove(&cart_key))?;
        let product = found
            .remove(&product_key)
            .map(|item| {
                let has_mirror = item.contains_key("holds");
                from_item::<ProductItem>(item).map(|p| (p.into_product(), has_mirror))
            })
            .transpose()?;
        let clock = found
            .remove(&clock_key)
            .map(from_item::<ClockItem>)
            .transpose()?
            .map(|c| HoldClock {
                product_id: c.product_id,
                since: c.hold_since,
            });
        let quota_used = crate::quota::used(quota_key.and_then(|k| found.get(&k)));
        Ok(CartRead {
            cart,
            product,
            clock,
            quota_used,
        })
    }

    async fn write(&self, write: &CartWrite<'_>, product: Option<&bool>) -> Result<Commit, Error> {
        let mut tx = Tx::new();
        let plan = &write.plan;
        let touches_product =
            plan.held().next().is_some() || !plan.release.is_empty() || !plan.prune.is_empty();
        if let Some(has_mirror) = product
            && touches_product
        {
            self.product_action(&mut tx, write, *has_mirror)?;
        }
        self.cart_actions(&mut tx, write)?;
        if let Some(charge) = &write.quota {
            tx.update(crate::quota::charge_update(
                &self.table,
                write.user,
                charge,
            )?)
            .or("quota");
        }
        match tx.commit(self.table.client()).await {
            Ok(()) => Ok(Commit::Committed),
            Err(TxError::Cancelled { failed, .. })
                if failed.contains(&"quota") && write.quota.is_some() =>
            {
                Err(write
                    .quota
                    .map_or_else(|| Error::internal("quota"), |c| c.refused()))
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use bazaar_domain::cart::MAX_LINE_QUANTITY;

    /// DynamoDB's limit on one expression string.
    const EXPRESSION_MAX: usize = 4096;

    #[test]
    fn the_largest_hold_updates_fit_dynamodbs_expression_limits() {
        let line = u32::try_from(MAX_LINE_QUANTITY).expect("fits");
        // The widest plan there is: a whole line taken on the highest slots, a whole line's
        // worth released, the most pruned entries.
        let plan = Plan {
            keep: Vec::new(),
            take: (999 - line..999).collect(),
            release: (900..900 + line).collect(),
            prune: (800..816).map(|s| (s, i64::MAX)).collect(),
        };
        let entry = HoldEntry::new("a", i64::MAX);
        for held in [Held::Set(&entry), Held::Consume] {
            let u = hold_update(&plan, "a", i64::MAX, held).expect("update");
            let condition = format!("attribute_exists(pk) AND {}", u.conditions.join(" AND "));
            let update = format!(
                "SET #quantity = #quantity - :q, #version = #version + :one, updated_at = :now, {} REMOVE {}",
                u.sets.join(", "),
                u.removes.join(", ")
            );
            assert!(
                condition.len() < EXPRESSION_MAX * 9 / 10,
                "{} bytes of condition",
                condition.len()
            );
            assert!(update.len() < EXPRESSION_MAX / 2, "{} bytes", update.len());
            // Names and values stay few (one name per slot, one shared entry).
            assert!(u.names.len() <= 2 + 2 * line as usize + 16);
            assert!(u.values.len() <= 4 + 16);
        }
        // Keeping a whole line: one short condition per slot.
        let keep = Plan {
            keep: (0..line).collect(),
            ..Plan::default()
        };
        let u = hold_update(&keep, "a", 0, Held::Set(&entry)).expect("update");
        assert_eq!(u.conditions.len(), line as usize + 1);
        assert!(u.conditions.iter().all(|c| c.len() < 40));
    }

    #[test]
    fn a_plan_past_the_bound_is_never_written() {
        let plan = Plan {
            take: vec![u32::try_from(MAX_HELD_UNITS).expect("fits")],
            ..Plan::default()
        };
        assert!(hold_update(&plan, "a", 0, Held::Consume).is_err());
    }
}
