//! The DynamoDB adapter of the cart port: cart lines, hold items and the products' hold mirrors.
//!
//! | item       | pk               | sk               | attributes                                      |
//! |------------|------------------|------------------|-------------------------------------------------|
//! | cart line  | `CART#<user>`    | `LINE#<product>` | shop_id, quantity, title/price snapshot, times  |
//! | hold       | `PRODUCT#<id>`   | `HOLD#<slot>`    | holder, expires_at (unix s), ttl                |
//! | product    | `PRODUCT#<id>`   | `PRODUCT`        | … `holds` mirror: slot → {h: holder, x: expiry} |
//!
//! One cart write is one `TransactWriteItems`: a conditional put per held slot
//! (`attribute_not_exists(pk) OR expires_at <= :now OR holder = :me`), a conditional delete per
//! released slot, the product's mirror update (conditioned on the slots being in stock) and the cart
//! line (conditioned on the quantity read, so two concurrent adds by one buyer cannot lose one).
//! If any condition fails because another request got there first, the write is planned again from
//! a fresh read; nothing is ever decided by a read alone.

use crate::table::batch_get;
use crate::table::{
    Item, ProductItem, ShopItem, UpdateBuilder, cancellation_codes, from_item, from_sdk, key, keys,
    s, to_av, to_item,
};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use bazaar_domain::cart::{
    self, HoldEntry, Line, LineChange, LineProduct, LineShop, MAX_CART_LINES, MAX_LINE_QUANTITY,
    Plan,
};
use bazaar_domain::catalog::{Product, Shop};
use bazaar_domain::error::{Error, Resource};
use bazaar_domain::ports::CartStore;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How often a write is re-planned after losing a race before giving up with `503`.
const MAX_ATTEMPTS: usize = 6;

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
}

impl LineItem {
    fn into_line(self) -> Line {
        Line {
            product_id: self.product_id,
            shop_id: self.shop_id,
            quantity: self.quantity,
            title: self.title,
            price_cents: self.price_cents,
            added_at: self.added_at,
        }
    }
}

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

/// The DynamoDB implementation of [`CartStore`].
#[derive(Debug, Clone)]
pub struct DynamoCart {
    client: Client,
    table: String,
}

fn unix_now() -> i64 {
    Utc::now().timestamp()
}

fn random_pick(n: usize) -> usize {
    if n <= 1 {
        return 0;
    }
    let bytes = *uuid::Uuid::new_v4().as_bytes();
    let x = u64::from_le_bytes([
        bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
    ]);
    (x % n as u64) as usize
}

/// The buyer's cart lines (consistent, every page).
pub(crate) async fn cart_lines(
    client: &Client,
    table: &str,
    user: &str,
) -> Result<Vec<Line>, Error> {
    let mut lines = Vec::new();
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
            lines.push(from_item::<LineItem>(item)?.into_line());
        }
        start = out.last_evaluated_key;
        if start.is_none() {
            return Ok(lines);
        }
    }
}

/// The current products (with their hold mirrors) and shops of `lines`: one consistent
/// `BatchGetItem` (two past 100 keys). Deleted products are simply absent.
pub(crate) async fn products_and_shops(
    client: &Client,
    table: &str,
    lines: &[Line],
) -> Result<(BTreeMap<String, Product>, BTreeMap<String, Shop>), Error> {
    let mut wanted: Vec<Item> = Vec::new();
    let mut shop_ids: Vec<&str> = Vec::new();
    for line in lines {
        wanted.push(key(keys::product(&line.product_id)));
        if !shop_ids.contains(&line.shop_id.as_str()) {
            shop_ids.push(&line.shop_id);
            wanted.push(key(keys::shop(&line.shop_id)));
        }
    }
    let mut products = BTreeMap::new();
    let mut shops = BTreeMap::new();
    if wanted.is_empty() {
        return Ok((products, shops));
    }
    for item in batch_get(client, table, wanted).await? {
        match item
            .get("entity")
            .and_then(|e| e.as_s().ok())
            .map(String::as_str)
        {
            Some("product") => {
                let p = from_item::<ProductItem>(item)?.into_product();
                products.insert(p.id.clone(), p);
            }
            Some("shop") => {
                let shop = from_item::<ShopItem>(item)?.into_shop();
                shops.insert(shop.id.clone(), shop);
            }
            _ => {}
        }
    }
    Ok((products, shops))
}

impl DynamoCart {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn from_sdk_config(sdk: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self::new(crate::table::client(sdk), table)
    }

    /// The product with its hold mirror, read consistently; `true` when the mirror attribute exists.
    async fn read_product(&self, product_id: &str) -> Result<Option<(ProductItem, bool)>, Error> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
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

    /// The hold-item and mirror actions of a plan, with the product's condition.
    fn plan_actions(
        &self,
        user: &str,
        product_id: &str,
        has_mirror: bool,
        plan: &Plan,
        now: i64,
        expires_at: i64,
    ) -> Result<Vec<TransactWriteItem>, Error> {
        let mut actions = Vec::with_capacity(plan.hold_actions() + 1);
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
                .table_name(&self.table)
                .set_item(Some(to_item(&hold)?))
                .condition_expression(
                    "attribute_not_exists(pk) OR expires_at <= :now OR holder = :me",
                )
                .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
                .expression_attribute_values(":me", s(user))
                .build()
                .map_err(Error::internal)?;
            actions.push(TransactWriteItem::builder().put(put).build());
        }
        for slot in &plan.release {
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(keys::hold(product_id, *slot))))
                .condition_expression("attribute_not_exists(pk) OR holder = :me")
                .expression_attribute_values(":me", s(user))
                .build()
                .map_err(Error::internal)?;
            actions.push(TransactWriteItem::builder().delete(delete).build());
        }
        // The mirror on the product item, in the same transaction.
        let mut update = UpdateBuilder::default();
        let mut removes = Vec::new();
        let mut conditions = vec!["attribute_exists(pk)".to_owned()];
        update.name("#holds", "holds");
        let entry = || HoldEntry {
            holder: user.to_owned(),
            expires_at,
        };
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
                .table_name(&self.table)
                .set_key(Some(key(keys::product(product_id))))
                .update_expression(expression.trim())
                .condition_expression(conditions.join(" AND "))
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values((!values.is_empty()).then_some(values))
                .build()
                .map_err(Error::internal)?;
            actions.push(TransactWriteItem::builder().update(product_update).build());
        }
        Ok(actions)
    }

    async fn transact(&self, actions: Vec<TransactWriteItem>) -> Result<bool, Error> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(err) => match cancellation_codes(&err) {
                // Lost a race (a condition failed or another transaction touched an item): re-plan.
                Some(codes)
                    if codes
                        .iter()
                        .any(|c| c == "ConditionalCheckFailed" || c == "TransactionConflict") =>
                {
                    Ok(false)
                }
                _ => Err(from_sdk(err)),
            },
        }
    }

    async fn lines(&self, user: &str) -> Result<Vec<Line>, Error> {
        cart_lines(&self.client, &self.table, user).await
    }
}

impl DynamoCart {
    /// Renders the cart of `lines` with fresh products (and their holds) and shops: one
    /// `BatchGetItem` (two past 100 keys).
    async fn render(&self, user: &str, lines: Vec<Line>) -> Result<cart::CartView, Error> {
        let now = unix_now();
        let (products, shops) = products_and_shops(&self.client, &self.table, &lines).await?;
        let products: BTreeMap<String, LineProduct> = products
            .into_iter()
            .map(|(id, p)| {
                (
                    id,
                    LineProduct {
                        title: p.title,
                        price_cents: p.price_cents,
                        quantity: p.quantity,
                        holds: p.holds,
                    },
                )
            })
            .collect();
        let shops: BTreeMap<String, LineShop> = shops
            .into_iter()
            .map(|(id, shop)| {
                (
                    id,
                    LineShop {
                        name: shop.name,
                        shipping: shop.shipping,
                    },
                )
            })
            .collect();
        Ok(cart::render(user, &lines, &products, &shops, now))
    }
}

impl CartStore for DynamoCart {
    async fn write_line(
        &self,
        user: &str,
        product_id: &str,
        change: LineChange,
        hold_seconds: i64,
    ) -> Result<cart::CartView, Error> {
        for _ in 0..MAX_ATTEMPTS {
            let mut lines = self.lines(user).await?;
            let now = unix_now();
            let Some((product, has_mirror)) = self.read_product(product_id).await? else {
                return Err(Error::not_found(Resource::Product, product_id));
            };
            let line = lines.iter().position(|l| l.product_id == product_id);
            let current = line.map_or(0, |i| lines[i].quantity);
            let want = match change {
                LineChange::Add(q) => current.saturating_add(q),
                LineChange::Set(q) if line.is_some() => q,
                LineChange::Set(_) => return Err(Error::not_found(Resource::Product, product_id)),
            };
            if want > MAX_LINE_QUANTITY {
                return Err(Error::validation(
                    "quantity",
                    format!(
                        "a cart line holds at most {MAX_LINE_QUANTITY} units (this would make {want})"
                    ),
                ));
            }
            if line.is_none() && lines.len() >= MAX_CART_LINES {
                return Err(Error::validation(
                    "product_id",
                    format!("a cart holds at most {MAX_CART_LINES} different products"),
                ));
            }
            let product = product.into_product();
            let plan = cart::plan(
                product.quantity,
                &product.holds,
                user,
                want,
                now,
                &mut random_pick,
            )
            .map_err(|u| cart::unavailable(&u, want))?;
            let expires_at = now + hold_seconds;
            let mut actions =
                self.plan_actions(user, product_id, has_mirror, &plan, now, expires_at)?;
            let stamp = Utc::now();
            let (pk, sk) = keys::cart_line(user, product_id);
            let line_item = LineItem {
                pk,
                sk,
                entity: "cart_line".into(),
                product_id: product_id.to_owned(),
                shop_id: product.shop_id.clone(),
                quantity: want,
                title: product.title.clone(),
                price_cents: product.price_cents,
                added_at: line.map_or(stamp, |i| lines[i].added_at),
                updated_at: stamp,
            };
            let mut put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(to_item(&line_item)?));
            put = match line {
                None => put.condition_expression("attribute_not_exists(pk)"),
                Some(_) => put
                    .condition_expression("quantity = :seen")
                    .expression_attribute_values(":seen", AttributeValue::N(current.to_string())),
            };
            actions.push(
                TransactWriteItem::builder()
                    .put(put.build().map_err(Error::internal)?)
                    .build(),
            );
            if self.transact(actions).await? {
                match line {
                    Some(i) => lines[i] = line_item.into_line(),
                    None => lines.push(line_item.into_line()),
                }
                return self.render(user, lines).await;
            }
            tracing::debug!(product_id, "cart write lost a race; planning again");
        }
        Err(Error::Unavailable(
            "too many concurrent changes to this product; retry".into(),
        ))
    }

    async fn remove_line(&self, user: &str, product_id: &str) -> Result<cart::CartView, Error> {
        for _ in 0..MAX_ATTEMPTS {
            let mut lines = self.lines(user).await?;
            let now = unix_now();
            let Some(index) = lines.iter().position(|l| l.product_id == product_id) else {
                return Err(Error::not_found(Resource::Product, product_id));
            };
            let mut actions = Vec::new();
            if let Some((product, has_mirror)) = self.read_product(product_id).await? {
                let mine: Vec<u32> = product
                    .into_product()
                    .holds
                    .iter()
                    .filter(|(_, h)| h.holder == user)
                    .map(|(s, _)| *s)
                    .collect();
                if has_mirror && !mine.is_empty() {
                    let plan = Plan {
                        release: mine,
                        ..Plan::default()
                    };
                    actions = self.plan_actions(user, product_id, true, &plan, now, now)?;
                }
            }
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(keys::cart_line(user, product_id))))
                .condition_expression("quantity = :seen")
                .expression_attribute_values(
                    ":seen",
                    AttributeValue::N(lines[index].quantity.to_string()),
                )
                .build()
                .map_err(Error::internal)?;
            actions.push(TransactWriteItem::builder().delete(delete).build());
            if self.transact(actions).await? {
                lines.remove(index);
                return self.render(user, lines).await;
            }
        }
        Err(Error::Unavailable(
            "too many concurrent changes to this cart line; retry".into(),
        ))
    }

    async fn cart(&self, user: &str) -> Result<cart::CartView, Error> {
        let lines = self.lines(user).await?;
        self.render(user, lines).await
    }
}
