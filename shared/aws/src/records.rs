//! The stored forms of the catalog's entities: each wraps the domain type with its keys.

use crate::schema::keys;
use crate::table::{Item, Table, batch_get, from_item, key, to_item};
use aws_sdk_dynamodb::types::AttributeValue;
use bazaar_domain::cart::HoldEntry;
use bazaar_domain::catalog::{Product, Shipping, Shop};
use bazaar_domain::checkout::Order;
use bazaar_domain::error::Error;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The stored form of a shop.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShopItem {
    pub pk: String,
    pub sk: String,
    pub entity: String,
    pub id: String,
    pub owner_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_email: Option<String>,
    pub name: String,
    /// The key of the shop's name lock (see [`keys::normalize_name`]).
    pub name_key: String,
    pub description: String,
    pub shipping: Shipping,
    #[serde(default)]
    pub rating_sum: i64,
    #[serde(default)]
    pub review_count: i64,
    #[serde(default)]
    pub sales_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Written by the payment store when the owner connects a payout account (never by the
    /// catalog, whose updates set only the attributes they change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout_account: Option<bazaar_domain::payments::PayoutAccount>,
}

impl ShopItem {
    pub fn from_shop(shop: &Shop) -> Self {
        let (pk, sk) = keys::shop(&shop.id);
        ShopItem {
            pk,
            sk,
            entity: "shop".into(),
            id: shop.id.clone(),
            owner_id: shop.owner_id.clone(),
            owner_email: shop.owner_email.clone(),
            name: shop.name.clone(),
            name_key: keys::normalize_name(&shop.name),
            description: shop.description.clone(),
            shipping: shop.shipping,
            rating_sum: shop.rating_sum,
            review_count: shop.review_count,
            sales_count: shop.sales_count,
            created_at: shop.created_at,
            updated_at: shop.updated_at,
            payout_account: None,
        }
    }

    pub fn into_shop(self) -> Shop {
        Shop {
            id: self.id,
            owner_id: self.owner_id,
            owner_email: self.owner_email,
            name: self.name,
            description: self.description,
            shipping: self.shipping,
            rating_sum: self.rating_sum,
            review_count: self.review_count,
            sales_count: self.sales_count,
            created_at: self.created_at,
            updated_at: self.updated_at,
            payout_status: self.payout_account.map(|a| a.status),
        }
    }
}

/// The stored form of a product.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProductItem {
    pub pk: String,
    pub sk: String,
    pub entity: String,
    pub gsi1pk: String,
    pub gsi1sk: String,
    pub id: String,
    pub shop_id: String,
    pub owner_id: String,
    pub title: String,
    pub description: String,
    pub price_cents: i64,
    pub quantity: i64,
    pub category: String,
    pub tags: Vec<String>,
    pub is_vintage: bool,
    pub images: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    /// Mirror of the product's hold items (slot → holder, expiry); see `crate::cart`.
    #[serde(default)]
    pub holds: BTreeMap<String, HoldEntry>,
}

pub(crate) fn category_index(
    category: &str,
    created_at: &DateTime<Utc>,
    id: &str,
) -> (String, String) {
    (
        keys::category(category),
        format!("{}#{id}", created_at.to_rfc3339()),
    )
}

impl ProductItem {
    pub fn from_product(p: &Product) -> Self {
        let (pk, sk) = keys::product(&p.id);
        let (gsi1pk, gsi1sk) = category_index(&p.category, &p.created_at, &p.id);
        ProductItem {
            pk,
            sk,
            entity: "product".into(),
            gsi1pk,
            gsi1sk,
            id: p.id.clone(),
            shop_id: p.shop_id.clone(),
            owner_id: p.owner_id.clone(),
            title: p.title.clone(),
            description: p.description.clone(),
            price_cents: p.price_cents,
            quantity: p.quantity,
            category: p.category.clone(),
            tags: p.tags.clone(),
            is_vintage: p.is_vintage,
            images: p.images.clone(),
            created_at: p.created_at,
            updated_at: p.updated_at,
            version: p.version,
            holds: p
                .holds
                .iter()
                .map(|(slot, h)| (slot.to_string(), h.clone()))
                .collect(),
        }
    }

    pub fn into_product(self) -> Product {
        Product {
            id: self.id,
            shop_id: self.shop_id,
            owner_id: self.owner_id,
            title: self.title,
            description: self.description,
            price_cents: self.price_cents,
            quantity: self.quantity,
            category: self.category,
            tags: self.tags,
            is_vintage: self.is_vintage,
            images: self.images,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
            holds: self
                .holds
                .into_iter()
                .filter_map(|(slot, h)| Some((slot.parse().ok()?, h)))
                .collect(),
        }
    }
}

/// Owner and name locks, stored as tiny items that point at their shop.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct LockItem {
    pk: String,
    sk: String,
    entity: String,
    shop_id: String,
}

pub(crate) fn lock_item(pk_sk: (String, String), entity: &str, shop_id: &str) -> LockItem {
    LockItem {
        pk: pk_sk.0,
        sk: pk_sk.1,
        entity: entity.to_owned(),
        shop_id: shop_id.to_owned(),
    }
}

/// The three items a shop is made of, in the order `create_shop` claims them: the owner lock,
/// the name lock and the shop itself. Seeding writes the same items.
pub fn shop_items(shop: &Shop) -> Result<[Item; 3], Error> {
    let item = ShopItem::from_shop(shop);
    Ok([
        to_item(&lock_item(
            keys::owner(&shop.owner_id),
            "shop_owner",
            &shop.id,
        ))?,
        to_item(&lock_item(
            keys::shop_name(&item.name_key),
            "shop_name",
            &shop.id,
        ))?,
        to_item(&item)?,
    ])
}

/// The stored item of a product.
pub fn product_item(product: &Product) -> Result<Item, Error> {
    to_item(&ProductItem::from_product(product))
}

/// The stored item of an order: the order with its keys — GSI1 the buyer's orders and GSI2 the
/// shop's, both newest first (`<created_at ms>#<order id>`).
pub fn order_item(order: &Order) -> Result<Item, Error> {
    let mut item = to_item(order)?;
    let (pk, sk) = keys::order(&order.order_id);
    let stamp = format!(
        "{}#{}",
        order
            .created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        order.order_id
    );
    for (name, value) in [
        ("pk", pk),
        ("sk", sk),
        ("entity", "order".to_owned()),
        ("gsi1pk", keys::buyer_orders(&order.buyer_id)),
        ("gsi1sk", stamp.clone()),
        ("gsi2pk", keys::shop_orders(&order.shop_id)),
        ("gsi2sk", stamp),
    ] {
        item.insert(name.to_owned(), AttributeValue::S(value));
    }
    Ok(item)
}

/// Products and shops by id, unknown ids left out: one consistent `BatchGetItem` per 100
/// distinct keys, the calls in parallel. Every read of the catalog by id goes through here.
pub async fn products_and_shops<'a>(
    table: &Table,
    products: impl IntoIterator<Item = &'a str>,
    shops: impl IntoIterator<Item = &'a str>,
) -> Result<(HashMap<String, Product>, HashMap<String, Shop>), Error> {
    let products: BTreeSet<&str> = products.into_iter().collect();
    let shops: BTreeSet<&str> = shops.into_iter().collect();
    let wanted: Vec<Item> = products
        .iter()
        .map(|id| key(keys::product(id)))
        .chain(shops.iter().map(|id| key(keys::shop(id))))
        .collect();
    let (mut found_products, mut found_shops) = (HashMap::new(), HashMap::new());
    if wanted.is_empty() {
        return Ok((found_products, found_shops));
    }
    for item in batch_get(table.client(), table.name(), wanted).await? {
        match item
            .get("entity")
            .and_then(|e| e.as_s().ok())
            .map(String::as_str)
        {
            Some("shop") => {
                let shop = from_item::<ShopItem>(item)?.into_shop();
                found_shops.insert(shop.id.clone(), shop);
            }
            Some("product") => {
                let product = from_item::<ProductItem>(item)?.into_product();
                found_products.insert(product.id.clone(), product);
            }
            _ => {}
        }
    }
    Ok((found_products, found_shops))
}

/// Products by id (see [`products_and_shops`]).
pub async fn products_by_id<'a>(
    table: &Table,
    ids: impl IntoIterator<Item = &'a str>,
) -> Result<HashMap<String, Product>, Error> {
    Ok(products_and_shops(table, ids, std::iter::empty()).await?.0)
}

/// Shops by id (see [`products_and_shops`]).
pub async fn shops_by_id<'a>(
    table: &Table,
    ids: impl IntoIterator<Item = &'a str>,
) -> Result<HashMap<String, Shop>, Error> {
    Ok(products_and_shops(table, std::iter::empty(), ids).await?.1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{ITEM_SIZE_MAX, item_size};
    use bazaar_domain::cart::{MAX_HELD_UNITS, MAX_LINE_QUANTITY};
    use bazaar_domain::validate::{
        CATEGORY_MAX, DESCRIPTION_MAX, IMAGE_URL_MAX, IMAGES_MAX, PRICE_CENTS_MAX, QUANTITY_MAX,
        TAG_LEN_MAX, TAGS_MAX, TITLE_MAX,
    };

    /// `n` four-byte characters (the most bytes a character of a text field can take).
    fn widest(n: usize) -> String {
        std::iter::repeat_n('\u{1F9F6}', n).collect()
    }

    /// The longest user id the API accepts (`Identity::bounded`: 128 characters), distinct per `n`.
    fn longest_user_id(n: u32) -> String {
        let tag = char::from_u32(0x1_0000 + n).expect("a Linear B character");
        std::iter::once(tag).chain(widest(127).chars()).collect()
    }

    /// The largest product item there can be: every field at its limit in its widest characters,
    /// the longest owner id, the largest numbers, and a hold mirror full to `MAX_HELD_UNITS`
    /// entries of holders with the longest ids (each of whom could hold at most a line's worth).
    #[test]
    fn the_largest_product_item_fits_dynamodbs_item_limit() {
        let now = chrono::Utc::now();
        let uuid = "01890a5d-ac96-774b-bcce-b302099a8057".to_owned();
        let holders = u32::try_from(MAX_HELD_UNITS / MAX_LINE_QUANTITY).expect("fits");
        let holds: bazaar_domain::cart::Holds = (0..u32::try_from(MAX_HELD_UNITS).expect("fits"))
            .map(|slot| {
                let holder = longest_user_id(slot % holders);
                (slot, HoldEntry::new(&holder, i64::MAX))
            })
            .collect();
        let product = Product {
            id: uuid.clone(),
            shop_id: uuid,
            owner_id: longest_user_id(u32::MAX >> 16),
            title: widest(TITLE_MAX),
            description: widest(DESCRIPTION_MAX),
            price_cents: PRICE_CENTS_MAX,
            quantity: QUANTITY_MAX,
            category: "a".repeat(CATEGORY_MAX),
            tags: (0..TAGS_MAX).map(|_| widest(TAG_LEN_MAX)).collect(),
            is_vintage: true,
            images: (0..IMAGES_MAX).map(|_| "h".repeat(IMAGE_URL_MAX)).collect(),
            created_at: now,
            updated_at: now,
            version: i64::MAX,
            holds,
        };
        let item = product_item(&product).expect("item");
        let size = item_size(&item);
        let mirror = item.get("holds").map_or(0, |m| {
            let mut only = Item::new();
            only.insert("holds".into(), m.clone());
            item_size(&only)
        });
        assert!(
            size < ITEM_SIZE_MAX,
            "the largest product item is {size} bytes, its mirror {mirror}"
        );
        // With room to spare for attributes added later (about 98 KB with 55 KB of mirror).
        assert!(size < ITEM_SIZE_MAX / 2, "{size} bytes (mirror {mirror})");
        // The mirror's entries are the same size whoever holds them.
        let short: bazaar_domain::cart::Holds = (0..u32::try_from(MAX_HELD_UNITS).expect("fits"))
            .map(|slot| (slot, HoldEntry::new("a", i64::MAX)))
            .collect();
        let short_item = product_item(&Product {
            holds: short,
            ..product
        })
        .expect("item");
        assert_eq!(item_size(&short_item), size, "holder refs have one size");
    }

    #[test]
    fn item_sizes_count_names_values_and_overheads() {
        let mut item = Item::new();
        item.insert("pk".into(), AttributeValue::S("PRODUCT#p".into()));
        item.insert("n".into(), AttributeValue::N("12345".into()));
        item.insert(
            "m".into(),
            AttributeValue::M(
                [("h".to_owned(), AttributeValue::S("ab".into()))]
                    .into_iter()
                    .collect(),
            ),
        );
        item.insert(
            "l".into(),
            AttributeValue::L(vec![AttributeValue::Bool(true)]),
        );
        // 2 + 9, 1 + (1 + 5), 1 + (3 + 1 + 1 + 2), 1 + (3 + 1 + 1)
        assert_eq!(item_size(&item), 11 + 7 + 8 + 6);
    }
}
