//! The DynamoDB adapter: one table, overloaded keys, item mapping through `serde_dynamo`.
//!
//! | item            | pk                  | sk         | notes                                        |
//! |-----------------|---------------------|------------|----------------------------------------------|
//! | shop            | `SHOP#<id>`         | `SHOP`     | counters (`sales_count`, ratings) live here   |
//! | owner lock      | `OWNER#<user_id>`   | `SHOP`     | one shop per owner, claimed in the create txn |
//! | shop name lock  | `SHOPNAME#<name>`   | `SHOPNAME` | case-insensitive unique shop names            |
//! | product         | `PRODUCT#<id>`      | `PRODUCT`  | GSI1: `CATEGORY#<slug>` / `<created_at>#<id>` |
//!
//! Correctness lives in conditions: ownership is part of every write's condition expression, and
//! the uniqueness locks are claimed in the same transaction as the shop they protect.

use crate::cart::HoldEntry;
use crate::error::Error;
use crate::model::{Product, Shipping, Shop, new_id};
use crate::ports::CatalogStore;
use crate::validate::{NewProduct, NewShop, ProductChanges, ShopChanges};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

pub type Item = HashMap<String, AttributeValue>;

/// Builds the AWS SDK configuration once per cold start. `AWS_ENDPOINT_URL` (moto, LocalStack) and
/// the usual credential and region variables are honoured by the SDK itself.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// A DynamoDB client built from `sdk` whose round trips are counted per request
/// (see [`crate::telemetry::counting_aws_calls`]).
pub fn client(sdk: &aws_config::SdkConfig) -> Client {
    let config = aws_sdk_dynamodb::config::Builder::from(sdk)
        .interceptor(crate::telemetry::CountAwsCalls)
        .build();
    Client::from_conf(config)
}

/// Maps an SDK failure: throttling and transport trouble are `503` (retryable), the rest `500`.
pub fn from_sdk<E, R>(err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let transient = matches!(
        err,
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_)
    ) || matches!(
        err.code(),
        Some(
            "ThrottlingException"
                | "ProvisionedThroughputExceededException"
                | "RequestLimitExceeded"
                | "InternalServerError"
                | "ServiceUnavailable"
        )
    );
    if transient {
        Error::Unavailable(Box::new(err))
    } else {
        Error::Internal(Box::new(err))
    }
}

/// Write errors that can be a failed condition (`PutItem`, `UpdateItem`, `DeleteItem`).
pub trait ConditionFailure {
    /// `Some(old item, if DynamoDB returned it)` when the write's condition failed.
    fn condition_failed(&self) -> Option<Option<&Item>>;
}

macro_rules! condition_failure {
    ($($error:path),*) => {$(
        impl ConditionFailure for $error {
            fn condition_failed(&self) -> Option<Option<&Item>> {
                match self {
                    Self::ConditionalCheckFailedException(c) => Some(c.item()),
                    _ => None,
                }
            }
        }
    )*};
}

condition_failure!(
    aws_sdk_dynamodb::operation::put_item::PutItemError,
    aws_sdk_dynamodb::operation::update_item::UpdateItemError,
    aws_sdk_dynamodb::operation::delete_item::DeleteItemError
);

/// Splits a conditional write's result: `Ok(Ok(output))` when it was written, `Ok(Err(old))` when
/// its condition failed (with the old item when `ReturnValuesOnConditionCheckFailure=ALL_OLD`
/// returned it), `Err` for every other failure.
pub fn conditional<O, E>(
    result: Result<O, SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>>,
) -> Result<Result<O, Option<Item>>, Error>
where
    E: ConditionFailure + ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(output) => Ok(Ok(output)),
        Err(SdkError::ServiceError(e)) if e.err().condition_failed().is_some() => {
            Ok(Err(e.err().condition_failed().flatten().cloned()))
        }
        Err(err) => Err(from_sdk(err)),
    }
}

/// Item keys, in one place.
pub mod keys {
    pub const PK: &str = "pk";
    pub const SK: &str = "sk";

    pub fn shop(id: &str) -> (String, String) {
        (format!("SHOP#{id}"), "SHOP".to_owned())
    }
    pub fn owner(user_id: &str) -> (String, String) {
        (format!("OWNER#{user_id}"), "SHOP".to_owned())
    }
    pub fn shop_name(name_key: &str) -> (String, String) {
        (format!("SHOPNAME#{name_key}"), "SHOPNAME".to_owned())
    }
    pub fn product(id: &str) -> (String, String) {
        (format!("PRODUCT#{id}"), "PRODUCT".to_owned())
    }
    pub fn health() -> (String, String) {
        ("HEALTH".to_owned(), "HEALTH".to_owned())
    }

    /// The case- and space-insensitive form under which shop names are unique.
    pub fn normalize_name(name: &str) -> String {
        name.split_whitespace()
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

pub(crate) fn key(pk_sk: (String, String)) -> Item {
    HashMap::from([
        (keys::PK.to_owned(), AttributeValue::S(pk_sk.0)),
        (keys::SK.to_owned(), AttributeValue::S(pk_sk.1)),
    ])
}

pub(crate) fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

pub(crate) fn to_item<T: Serialize>(value: &T) -> Result<Item, Error> {
    serde_dynamo::to_item(value).map_err(Error::internal)
}

pub(crate) fn from_item<'a, T: Deserialize<'a>>(item: Item) -> Result<T, Error> {
    serde_dynamo::from_item(item).map_err(Error::internal)
}

pub(crate) fn to_av<T: Serialize>(value: &T) -> Result<AttributeValue, Error> {
    serde_dynamo::to_attribute_value(value).map_err(Error::internal)
}

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

fn category_index(category: &str, created_at: &DateTime<Utc>, id: &str) -> (String, String) {
    (
        format!("CATEGORY#{category}"),
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
struct LockItem {
    pk: String,
    sk: String,
    entity: String,
    shop_id: String,
}

fn lock_item(pk_sk: (String, String), entity: &str, shop_id: &str) -> LockItem {
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

/// Accumulates `SET` clauses with placeholder names and values.
#[derive(Default)]
pub(crate) struct UpdateBuilder {
    pub(crate) sets: Vec<String>,
    pub(crate) names: HashMap<String, String>,
    pub(crate) values: HashMap<String, AttributeValue>,
}

impl UpdateBuilder {
    pub(crate) fn set(&mut self, attr: &str, value: AttributeValue) {
        let n = self.sets.len();
        self.names.insert(format!("#u{n}"), attr.to_owned());
        self.values.insert(format!(":u{n}"), value);
        self.sets.push(format!("#u{n} = :u{n}"));
    }

    pub(crate) fn value(&mut self, placeholder: &str, value: AttributeValue) {
        self.values.insert(placeholder.to_owned(), value);
    }

    pub(crate) fn name(&mut self, placeholder: &str, attr: &str) {
        self.names.insert(placeholder.to_owned(), attr.to_owned());
    }

    pub(crate) fn expression(&self, extra: &[&str]) -> String {
        let mut clauses: Vec<&str> = self.sets.iter().map(String::as_str).collect();
        clauses.extend_from_slice(extra);
        format!("SET {}", clauses.join(", "))
    }
}

/// The reasons of a cancelled transaction, one per action (`"None"` for actions that passed).
pub(crate) fn cancellation_codes(
    err: &SdkError<TransactWriteItemsError, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> Option<Vec<String>> {
    match err {
        SdkError::ServiceError(e) => match e.err() {
            TransactWriteItemsError::TransactionCanceledException(t) => Some(
                t.cancellation_reasons()
                    .iter()
                    .map(|r| r.code().unwrap_or("None").to_owned())
                    .collect(),
            ),
            _ => None,
        },
        _ => None,
    }
}

pub(crate) fn failed(codes: &[String], index: usize) -> bool {
    codes
        .get(index)
        .is_some_and(|c| c == "ConditionalCheckFailed")
}

/// The DynamoDB implementation of the catalog port.
#[derive(Debug, Clone)]
pub struct DynamoCatalog {
    client: Client,
    table: String,
}

impl DynamoCatalog {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The adapter over a client built from `sdk` (one per cold start).
    pub fn from_sdk_config(sdk: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self::new(client(sdk), table)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    async fn get_raw(
        &self,
        pk_sk: (String, String),
        consistent: bool,
    ) -> Result<Option<Item>, Error> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk_sk)))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(from_sdk)?;
        Ok(out.item)
    }

    async fn shop_item(&self, id: &str, consistent: bool) -> Result<Option<ShopItem>, Error> {
        self.get_raw(keys::shop(id), consistent)
            .await?
            .map(from_item::<ShopItem>)
            .transpose()
    }

    /// The shop, `404` if missing, `403` unless `caller` owns it.
    async fn owned_shop(
        &self,
        caller: &str,
        id: &str,
        consistent: bool,
    ) -> Result<ShopItem, Error> {
        let shop = self
            .shop_item(id, consistent)
            .await?
            .ok_or_else(|| Error::not_found(crate::error::Resource::Shop, id))?;
        if shop.owner_id != caller {
            return Err(Error::Forbidden(
                "Only the shop's owner may change it.".into(),
            ));
        }
        Ok(shop)
    }

    /// After a failed `owner_id = :caller` condition: `404` if the item is gone, else `403`.
    /// Uses the item DynamoDB returned with the failure when it did, else reads it.
    async fn ownership_failure(
        &self,
        resource: crate::error::Resource,
        id: &str,
        pk_sk: (String, String),
        returned: Option<&Item>,
    ) -> Error {
        let exists = match returned {
            Some(item) => !item.is_empty(),
            None => match self.get_raw(pk_sk, true).await {
                Ok(item) => item.is_some(),
                Err(e) => return e,
            },
        };
        if exists {
            Error::Forbidden("Only the shop's owner may change its listings.".into())
        } else {
            Error::not_found(resource, id)
        }
    }

    async fn product_with_shop(&self, item: Item) -> Result<(Product, Shop), Error> {
        let product = from_item::<ProductItem>(item)?.into_product();
        let shop = self
            .shop_item(&product.shop_id, false)
            .await?
            .ok_or_else(|| {
                Error::internal(format!(
                    "product {} points at missing shop {}",
                    product.id, product.shop_id
                ))
            })?;
        Ok((product, shop.into_shop()))
    }

    async fn rename_shop(&self, current: ShopItem, changes: ShopChanges) -> Result<(), Error> {
        let now = Utc::now();
        let new_name = changes.name.clone().unwrap_or_else(|| current.name.clone());
        let new_key = keys::normalize_name(&new_name);
        let mut update = UpdateBuilder::default();
        update.set("name", s(&new_name));
        update.set("name_key", s(&new_key));
        update.set("updated_at", to_av(&now)?);
        if let Some(d) = &changes.description {
            update.set("description", s(d));
        }
        if let Some(shipping) = &changes.shipping {
            update.set("shipping", to_av(shipping)?);
        }
        update.name("#owner", "owner_id");
        update.name("#namekey", "name_key");
        update.value(":caller", s(&current.owner_id));
        update.value(":oldkey", s(&current.name_key));
        let update_shop = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::shop(&current.id))))
            .update_expression(update.expression(&[]))
            .condition_expression("#owner = :caller AND #namekey = :oldkey")
            .set_expression_attribute_names(Some(update.names))
            .set_expression_attribute_values(Some(update.values))
            .build()
            .map_err(Error::internal)?;
        let release_old = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::shop_name(&current.name_key))))
            .condition_expression("shop_id = :id")
            .expression_attribute_values(":id", s(&current.id))
            .build()
            .map_err(Error::internal)?;
        let claim_new = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(&lock_item(
                keys::shop_name(&new_key),
                "shop_name",
                &current.id,
            ))?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(Error::internal)?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(update_shop).build())
            .transact_items(TransactWriteItem::builder().delete(release_old).build())
            .transact_items(TransactWriteItem::builder().put(claim_new).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) => match cancellation_codes(&err) {
                Some(codes) if failed(&codes, 2) => Err(Error::conflict(
                    "name_taken",
                    format!("A shop named \"{new_name}\" already exists."),
                )),
                Some(codes) if failed(&codes, 0) || failed(&codes, 1) => Err(Error::conflict(
                    "concurrent_update",
                    "The shop was changed by another request at the same time; retry.",
                )),
                _ => Err(from_sdk(err)),
            },
        }
    }
}

impl CatalogStore for DynamoCatalog {
    async fn health(&self) -> Result<(), Error> {
        self.get_raw(keys::health(), false).await.map(|_| ())
    }

    async fn create_shop(
        &self,
        owner: &str,
        owner_email: Option<&str>,
        new: NewShop,
    ) -> Result<Shop, Error> {
        let now = Utc::now();
        let shop = Shop {
            id: new_id(),
            owner_id: owner.to_owned(),
            owner_email: owner_email.map(str::to_owned),
            name: new.name,
            description: new.description,
            shipping: new.shipping,
            rating_sum: 0,
            review_count: 0,
            sales_count: 0,
            created_at: now,
            updated_at: now,
        };
        let put = |item: Item| {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(Error::internal)
        };
        let [owner_lock, name_lock, shop_item] = shop_items(&shop)?;
        let (owner_lock, name_lock, shop_put) =
            (put(owner_lock)?, put(name_lock)?, put(shop_item)?);
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(owner_lock).build())
            .transact_items(TransactWriteItem::builder().put(name_lock).build())
            .transact_items(TransactWriteItem::builder().put(shop_put).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(shop),
            Err(err) => match cancellation_codes(&err) {
                Some(codes) if failed(&codes, 0) => Err(Error::conflict(
                    "shop_exists",
                    "You already own a shop; each account may own one.",
                )),
                Some(codes) if failed(&codes, 1) => Err(Error::conflict(
                    "name_taken",
                    format!("A shop named \"{}\" already exists.", shop.name),
                )),
                _ => Err(from_sdk(err)),
            },
        }
    }

    async fn get_shop(&self, id: &str) -> Result<Option<Shop>, Error> {
        Ok(self.shop_item(id, false).await?.map(ShopItem::into_shop))
    }

    async fn update_shop(
        &self,
        caller: &str,
        id: &str,
        changes: ShopChanges,
    ) -> Result<Shop, Error> {
        let renames = changes.name.as_deref().map(keys::normalize_name);
        if renames.is_some() {
            let current = self.owned_shop(caller, id, true).await?;
            if renames.as_deref() != Some(current.name_key.as_str()) {
                self.rename_shop(current, changes).await?;
                return self
                    .shop_item(id, true)
                    .await?
                    .map(ShopItem::into_shop)
                    .ok_or_else(|| Error::not_found(crate::error::Resource::Shop, id));
            }
        }
        // No lock changes: one conditional update that returns the new shop.
        let mut update = UpdateBuilder::default();
        if let Some(name) = &changes.name {
            update.set("name", s(name));
        }
        if let Some(d) = &changes.description {
            update.set("description", s(d));
        }
        if let Some(shipping) = &changes.shipping {
            update.set("shipping", to_av(shipping)?);
        }
        update.set("updated_at", to_av(&Utc::now())?);
        update.name("#owner", "owner_id");
        update.value(":caller", s(caller));
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::shop(id))))
            .update_expression(update.expression(&[]))
            .condition_expression("attribute_exists(pk) AND #owner = :caller")
            .set_expression_attribute_names(Some(update.names))
            .set_expression_attribute_values(Some(update.values))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match conditional(result)? {
            Ok(out) => Ok(from_item::<ShopItem>(out.attributes.unwrap_or_default())?.into_shop()),
            Err(returned) => Err(
                match self
                    .ownership_failure(
                        crate::error::Resource::Shop,
                        id,
                        keys::shop(id),
                        returned.as_ref(),
                    )
                    .await
                {
                    Error::Forbidden(_) => {
                        Error::Forbidden("Only the shop's owner may change it.".into())
                    }
                    other => other,
                },
            ),
        }
    }

    async fn create_product(
        &self,
        caller: &str,
        shop_id: &str,
        new: NewProduct,
    ) -> Result<(Product, Shop), Error> {
        let shop = self.owned_shop(caller, shop_id, false).await?;
        let now = Utc::now();
        let product = Product {
            id: new_id(),
            shop_id: shop.id.clone(),
            owner_id: shop.owner_id.clone(),
            title: new.title,
            description: new.description,
            price_cents: new.price_cents,
            quantity: new.quantity,
            category: new.category,
            tags: new.tags,
            is_vintage: new.is_vintage,
            images: new.images,
            created_at: now,
            updated_at: now,
            version: 1,
            holds: Default::default(),
        };
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(product_item(&product)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(from_sdk)?;
        Ok((product, shop.into_shop()))
    }

    async fn get_listing(&self, id: &str) -> Result<Option<Product>, Error> {
        self.get_raw(keys::product(id), false)
            .await?
            .map(|item| Ok(from_item::<ProductItem>(item)?.into_product()))
            .transpose()
    }

    async fn get_product(&self, id: &str) -> Result<Option<(Product, Shop)>, Error> {
        match self.get_raw(keys::product(id), false).await? {
            None => Ok(None),
            Some(item) => self.product_with_shop(item).await.map(Some),
        }
    }

    async fn update_product(
        &self,
        caller: &str,
        id: &str,
        changes: ProductChanges,
    ) -> Result<(Product, Shop), Error> {
        let now = Utc::now();
        let mut update = UpdateBuilder::default();
        if let Some(v) = &changes.title {
            update.set("title", s(v));
        }
        if let Some(v) = &changes.description {
            update.set("description", s(v));
        }
        if let Some(v) = changes.price_cents {
            update.set("price_cents", to_av(&v)?);
        }
        if let Some(v) = changes.quantity {
            update.set("quantity", to_av(&v)?);
        }
        if let Some(v) = &changes.category {
            update.set("category", s(v));
            update.set("gsi1pk", s(&format!("CATEGORY#{v}")));
        }
        if let Some(v) = &changes.tags {
            update.set("tags", to_av(v)?);
        }
        if let Some(v) = changes.is_vintage {
            update.set("is_vintage", AttributeValue::Bool(v));
        }
        if let Some(v) = &changes.images {
            update.set("images", to_av(v)?);
        }
        update.set("updated_at", to_av(&now)?);
        update.name("#owner", "owner_id");
        update.name("#version", "version");
        update.value(":caller", s(caller));
        update.value(":one", AttributeValue::N("1".into()));
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::product(id))))
            .update_expression(update.expression(&["#version = #version + :one"]))
            .condition_expression("attribute_exists(pk) AND #owner = :caller")
            .set_expression_attribute_names(Some(update.names))
            .set_expression_attribute_values(Some(update.values))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match conditional(result)? {
            Ok(out) => {
                self.product_with_shop(out.attributes.unwrap_or_default())
                    .await
            }
            Err(returned) => Err(self
                .ownership_failure(
                    crate::error::Resource::Product,
                    id,
                    keys::product(id),
                    returned.as_ref(),
                )
                .await),
        }
    }

    async fn delete_product(&self, caller: &str, id: &str) -> Result<Product, Error> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::product(id))))
            .condition_expression("attribute_exists(pk) AND #owner = :caller")
            .expression_attribute_names("#owner", "owner_id")
            .expression_attribute_values(":caller", s(caller))
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match conditional(result)? {
            Ok(out) => {
                Ok(from_item::<ProductItem>(out.attributes.unwrap_or_default())?.into_product())
            }
            Err(returned) => Err(self
                .ownership_failure(
                    crate::error::Resource::Product,
                    id,
                    keys::product(id),
                    returned.as_ref(),
                )
                .await),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalize_for_uniqueness() {
        assert_eq!(
            keys::normalize_name("  The Copper   Kiln "),
            "the copper kiln"
        );
        assert_eq!(keys::normalize_name("THE COPPER KILN"), "the copper kiln");
        assert_ne!(
            keys::normalize_name("Copper Kiln"),
            keys::normalize_name("CopperKiln")
        );
    }

    #[test]
    fn product_items_round_trip() {
        let now = Utc::now();
        let p = Product {
            id: "p1".into(),
            shop_id: "s1".into(),
            owner_id: "o1".into(),
            title: "Leather billfold".into(),
            description: String::new(),
            price_cents: 4500,
            quantity: 1,
            category: "bags-and-purses".into(),
            tags: vec![],
            is_vintage: false,
            images: vec![],
            created_at: now,
            updated_at: now,
            version: 1,
            holds: Default::default(),
        };
        let item = to_item(&ProductItem::from_product(&p)).expect("to item");
        assert_eq!(item["pk"], AttributeValue::S("PRODUCT#p1".into()));
        assert_eq!(
            item["gsi1pk"],
            AttributeValue::S("CATEGORY#bags-and-purses".into())
        );
        assert_eq!(item["price_cents"], AttributeValue::N("4500".into()));
        let back = from_item::<ProductItem>(item)
            .expect("from item")
            .into_product();
        assert_eq!(back, p);
    }
}
