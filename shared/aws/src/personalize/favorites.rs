//! Favorites of products and shops: idempotent, per user, counted on the product and the shop
//! (`favorite_count`) and in the hour's trending activity, all in one transaction.

use super::{keys, partition};
use crate::records::ProductItem;
use crate::records::{products_by_id, shops_by_id};
use crate::schema::keys as table_keys;
use crate::table::Table;
use crate::table::{Item, Tx, TxError, from_item, from_sdk, key, to_item};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, Update};
use bazaar_domain::catalog::Shop;
use bazaar_domain::error::{Error, Resource};
use bazaar_domain::personalize::favorites::{FavoriteKind, FavoritesView};
use bazaar_domain::personalize::{FAVORITES_MAX, Signal};
use bazaar_domain::ports::FavoritesStore;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Activity items live four days: the trending window is three.
const ACTIVITY_TTL_SECONDS: i64 = 4 * 86_400;

/// The favorite item and the target's own item.
fn favorite_keys(kind: FavoriteKind, user: &str, id: &str) -> ((String, String), (String, String)) {
    match kind {
        FavoriteKind::Product => (keys::favorite_product(user, id), table_keys::product(id)),
        FavoriteKind::Shop => (keys::favorite_shop(user, id), table_keys::shop(id)),
    }
}

/// A favorite as stored. Product favorites keep what the feed needs about the product's taste
/// (category, price, tags), so the feed reads them with one query.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct FavoriteItem {
    pk: String,
    sk: String,
    entity: String,
    target_id: String,
    created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shop_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    price_cents: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
}

/// The DynamoDB adapter of favorites.
#[derive(Debug, Clone)]
pub struct DynamoFavorites {
    table: Table,
}

/// `ADD <counter> :delta` on an hour's activity item of `product` (the trending job's input).
pub(crate) fn activity_update(
    table: &str,
    product: &str,
    counter: &str,
    delta: i64,
    at: DateTime<Utc>,
) -> Result<Update, Error> {
    Update::builder()
        .table_name(table)
        .set_key(Some(key(keys::activity(at, product))))
        .update_expression("ADD #c :d SET #ttl = :ttl")
        .expression_attribute_names("#c", counter)
        .expression_attribute_names("#ttl", "ttl")
        .expression_attribute_values(":d", AttributeValue::N(delta.to_string()))
        .expression_attribute_values(
            ":ttl",
            AttributeValue::N((at.timestamp() + ACTIVITY_TTL_SECONDS).to_string()),
        )
        .build()
        .map_err(Error::internal)
}

fn counter_update(
    table: &str,
    key_of: (String, String),
    attr: &str,
    delta: i64,
    condition: Option<&str>,
) -> Result<Update, Error> {
    let mut b = Update::builder()
        .table_name(table)
        .set_key(Some(key(key_of)))
        .update_expression("ADD #n :d")
        .expression_attribute_names("#n", attr)
        .expression_attribute_values(":d", AttributeValue::N(delta.to_string()));
    if let Some(c) = condition {
        b = b.condition_expression(c);
        if c.contains(":max") {
            b = b.expression_attribute_values(":max", AttributeValue::N(FAVORITES_MAX.to_string()));
        }
    }
    b.build().map_err(Error::internal)
}

impl DynamoFavorites {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table),
        }
    }

    async fn get(&self, key_of: (String, String)) -> Result<Option<Item>, Error> {
        Ok(self
            .table
            .client()
            .get_item()
            .table_name(self.table.name())
            .set_key(Some(key(key_of)))
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?
            .item)
    }

    async fn exists(&self, key_of: (String, String)) -> Result<bool, Error> {
        Ok(self.get(key_of).await?.is_some())
    }

    /// Commits `tx`, retrying a few times when only concurrent transactions on the same items
    /// cancelled it (e.g. a double-tapped favorite button).
    async fn transact(&self, tx: Tx) -> Result<(), TxError<&'static str>> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match tx.clone().commit(self.table.client()).await {
                Err(e) if attempt < 4 && e.race_only() => {
                    tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
                }
                done => return done,
            }
        }
    }

    /// The user's product favorites as taste signals (one query; shops are left out).
    pub async fn signals(&self, user: &str) -> Result<Vec<Signal>, Error> {
        Ok(self
            .query_all(user)
            .await?
            .into_iter()
            .filter(|f| f.sk.starts_with("P#"))
            .map(|f| Signal {
                product_id: f.target_id,
                shop_id: f.shop_id.unwrap_or_default(),
                category: f.category.unwrap_or_default(),
                price_cents: f.price_cents.unwrap_or_default(),
                tags: f.tags,
                at: f.created_at,
            })
            .collect())
    }

    /// The user's favorites (their counter item left out): one Query (a page holds them all).
    async fn query_all(&self, user: &str) -> Result<Vec<FavoriteItem>, Error> {
        partition(
            self.table.client(),
            self.table.name(),
            &keys::favorites(user),
            None,
        )
        .await?
        .into_iter()
        .filter(|item| matches!(item.get("entity"), Some(AttributeValue::S(e)) if e == "favorite"))
        .map(from_item::<FavoriteItem>)
        .collect()
    }
}

impl FavoritesStore for DynamoFavorites {
    async fn add(&self, user: &str, kind: FavoriteKind, id: &str) -> Result<(), Error> {
        let now = Utc::now();
        let (fav_key, target_key) = favorite_keys(kind, user, id);
        let mut favorite = FavoriteItem {
            pk: fav_key.0.clone(),
            sk: fav_key.1.clone(),
            entity: "favorite".into(),
            target_id: id.to_owned(),
            created_at: now,
            shop_id: None,
            category: None,
            price_cents: None,
            tags: Vec::new(),
        };
        if kind == FavoriteKind::Product {
            // The taste snapshot; the transaction below still checks that the product exists.
            let item = self
                .get(target_key.clone())
                .await?
                .ok_or_else(|| Error::not_found(Resource::Product, id))?;
            let product = from_item::<ProductItem>(item)?;
            favorite.shop_id = Some(product.shop_id);
            favorite.category = Some(product.category);
            favorite.price_cents = Some(product.price_cents);
            favorite.tags = product.tags;
        }
        let mut tx = Tx::new();
        tx.put(
            Put::builder()
                .table_name(self.table.name())
                .set_item(Some(to_item(&favorite)?))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(Error::internal)?,
        )
        .or("already_favorite");
        tx.update(counter_update(
            self.table.name(),
            target_key,
            "favorite_count",
            1,
            Some("attribute_exists(pk)"),
        )?)
        .or("target_missing");
        tx.update(counter_update(
            self.table.name(),
            keys::favorite_counter(user),
            kind.counter(),
            1,
            Some("attribute_not_exists(#n) OR #n < :max"),
        )?)
        .or("favorites_limit");
        if kind == FavoriteKind::Product {
            tx.update(activity_update(self.table.name(), id, "favorites", 1, now)?)
                .unnamed();
        }
        match self.transact(tx).await {
            Ok(()) => Ok(()),
            Err(e) if e.failed(&"already_favorite") => Ok(()), // nothing changes
            Err(e) if e.failed(&"target_missing") => Err(Error::not_found(kind.resource(), id)),
            Err(e) if e.failed(&"favorites_limit") => Err(Error::unprocessable(
                "favorites_limit",
                format!(
                    "A user can keep at most {FAVORITES_MAX} favorite {}; remove one first.",
                    kind.counter()
                ),
            )),
            Err(TxError::Cancelled { error, .. }) => Err(Error::Unavailable(
                format!("favorite transaction cancelled: {error}").into(),
            )),
            Err(TxError::Other(error)) => Err(error),
        }
    }

    async fn remove(&self, user: &str, kind: FavoriteKind, id: &str) -> Result<(), Error> {
        let now = Utc::now();
        let (fav_key, target_key) = favorite_keys(kind, user, id);
        let delete_favorite = || -> Result<Delete, Error> {
            Delete::builder()
                .table_name(self.table.name())
                .set_key(Some(key(fav_key.clone())))
                .condition_expression("attribute_exists(pk)")
                .build()
                .map_err(Error::internal)
        };
        let user_counter = || -> Result<Update, Error> {
            counter_update(
                self.table.name(),
                keys::favorite_counter(user),
                kind.counter(),
                -1,
                None,
            )
        };
        let mut tx = Tx::new();
        tx.delete(delete_favorite()?).or("not_a_favorite");
        tx.update(counter_update(
            self.table.name(),
            target_key.clone(),
            "favorite_count",
            -1,
            Some("attribute_exists(pk)"),
        )?)
        .or("target_missing");
        tx.update(user_counter()?).unnamed();
        if kind == FavoriteKind::Product {
            tx.update(activity_update(
                self.table.name(),
                id,
                "favorites",
                -1,
                now,
            )?)
            .unnamed();
        }
        let cancelled = |error: Error| {
            Error::Unavailable(format!("unfavorite transaction cancelled: {error}").into())
        };
        match self.transact(tx).await {
            Ok(()) => Ok(()),
            // Not a favorite (or removed by a concurrent request): fine, if the target exists.
            Err(e) if e.failed(&"not_a_favorite") => {
                if self.exists(target_key).await? {
                    Ok(())
                } else {
                    Err(Error::not_found(kind.resource(), id))
                }
            }
            // The target is gone but the user still has it as a favorite: let them remove it.
            Err(e) if e.failed(&"target_missing") => {
                let mut tx = Tx::new();
                tx.delete(delete_favorite()?).or("not_a_favorite");
                tx.update(user_counter()?).unnamed();
                match self.transact(tx).await {
                    Ok(()) => Ok(()),
                    Err(e) if e.failed(&"not_a_favorite") => Ok(()),
                    Err(TxError::Cancelled { error, .. }) => Err(cancelled(error)),
                    Err(TxError::Other(error)) => Err(error),
                }
            }
            Err(TxError::Cancelled { error, .. }) => Err(cancelled(error)),
            Err(TxError::Other(error)) => Err(error),
        }
    }

    async fn list(&self, user: &str) -> Result<FavoritesView, Error> {
        let mut favorites = self.query_all(user).await?;
        favorites.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.sk.cmp(&b.sk)));
        let (products, shops): (Vec<_>, Vec<_>) =
            favorites.into_iter().partition(|f| f.sk.starts_with("P#"));
        let by_id =
            products_by_id(&self.table, products.iter().map(|f| f.target_id.as_str())).await?;
        let shop_by_id = shops_by_id(
            &self.table,
            by_id
                .values()
                .map(|p| p.shop_id.as_str())
                .chain(shops.iter().map(|f| f.target_id.as_str())),
        )
        .await?;
        let now = Utc::now().timestamp();
        Ok(FavoritesView {
            // A favorite whose product or shop is gone is not shown (it can still be removed).
            products: products
                .iter()
                .filter_map(|f| {
                    let p = by_id.get(&f.target_id)?;
                    let shop = shop_by_id.get(&p.shop_id)?;
                    Some(p.view(shop.summary(), p.available_to(Some(user), now)))
                })
                .collect(),
            shops: shops
                .iter()
                .filter_map(|f| shop_by_id.get(&f.target_id).map(Shop::view))
                .collect(),
        })
    }
}
