//! The DynamoDB adapter of the catalog port: shops with their owner and name locks (claimed in the
//! shop's own transaction), products.

use crate::records::{ProductItem, ShopItem};
use crate::records::{lock_item, product_item, shop_items};
use crate::schema::keys;
use crate::table::Table;
use crate::table::{
    Item, Tx, UpdateBuilder, conditional, from_item, from_sdk, key, s, to_av, to_item,
};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, Update,
};
use bazaar_domain::catalog::{Product, Shop};
use bazaar_domain::error::Error;
use bazaar_domain::ports::CatalogStore;
use bazaar_domain::validate::{NewProduct, NewShop, ProductChanges, ShopChanges};
use chrono::Utc;

/// The DynamoDB implementation of the catalog port.
#[derive(Debug, Clone)]
pub struct DynamoCatalog {
    table: Table,
}

impl DynamoCatalog {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table),
        }
    }

    async fn get_raw(
        &self,
        pk_sk: (String, String),
        consistent: bool,
    ) -> Result<Option<Item>, Error> {
        let out = self
            .table
            .client()
            .get_item()
            .table_name(self.table.name())
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
            .ok_or_else(|| Error::not_found(bazaar_domain::error::Resource::Shop, id))?;
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
        resource: bazaar_domain::error::Resource,
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
            .table_name(self.table.name())
            .set_key(Some(key(keys::shop(&current.id))))
            .update_expression(update.expression(&[]))
            .condition_expression("#owner = :caller AND #namekey = :oldkey")
            .set_expression_attribute_names(Some(update.names))
            .set_expression_attribute_values(Some(update.values))
            .build()
            .map_err(Error::internal)?;
        let release_old = Delete::builder()
            .table_name(self.table.name())
            .set_key(Some(key(keys::shop_name(&current.name_key))))
            .condition_expression("shop_id = :id")
            .expression_attribute_values(":id", s(&current.id))
            .build()
            .map_err(Error::internal)?;
        let claim_new = Put::builder()
            .table_name(self.table.name())
            .set_item(Some(to_item(&lock_item(
                keys::shop_name(&new_key),
                "shop_name",
                &current.id,
            ))?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(Error::internal)?;
        let mut tx = Tx::new();
        tx.update(update_shop).or("concurrent_update");
        tx.delete(release_old).or("concurrent_update");
        tx.put(claim_new).or("name_taken");
        match tx.commit(self.table.client()).await {
            Ok(()) => Ok(()),
            Err(e) if e.failed(&"name_taken") => Err(Error::conflict(
                "name_taken",
                format!("A shop named \"{new_name}\" already exists."),
            )),
            Err(e) if e.failed(&"concurrent_update") => Err(Error::conflict(
                "concurrent_update",
                "The shop was changed by another request at the same time; retry.",
            )),
            Err(e) => Err(e.into_error()),
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
        let shop = new.into_shop(owner, owner_email, now);
        let put = |item: Item| {
            Put::builder()
                .table_name(self.table.name())
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(Error::internal)
        };
        let [owner_lock, name_lock, shop_item] = shop_items(&shop)?;
        let (owner_lock, name_lock, shop_put) =
            (put(owner_lock)?, put(name_lock)?, put(shop_item)?);
        let mut tx = Tx::new();
        tx.put(owner_lock).or("shop_exists");
        tx.put(name_lock).or("name_taken");
        tx.put(shop_put).unnamed();
        match tx.commit(self.table.client()).await {
            Ok(()) => Ok(shop),
            Err(e) if e.failed(&"shop_exists") => Err(Error::conflict(
                "shop_exists",
                "You already own a shop; each account may own one.",
            )),
            Err(e) if e.failed(&"name_taken") => Err(Error::conflict(
                "name_taken",
                format!("A shop named \"{}\" already exists.", shop.name),
            )),
            Err(e) => Err(e.into_error()),
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
                    .ok_or_else(|| Error::not_found(bazaar_domain::error::Resource::Shop, id));
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
            .table
            .client()
            .update_item()
            .table_name(self.table.name())
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
                        bazaar_domain::error::Resource::Shop,
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
        let shop = self.owned_shop(caller, shop_id, false).await?.into_shop();
        let product = new.into_product(&shop, Utc::now());
        self.table
            .client()
            .put_item()
            .table_name(self.table.name())
            .set_item(Some(product_item(&product)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(from_sdk)?;
        Ok((product, shop))
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
            update.set("gsi1pk", s(&keys::category(v)));
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
            .table
            .client()
            .update_item()
            .table_name(self.table.name())
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
                    bazaar_domain::error::Resource::Product,
                    id,
                    keys::product(id),
                    returned.as_ref(),
                )
                .await),
        }
    }

    async fn delete_product(&self, caller: &str, id: &str) -> Result<Product, Error> {
        let result = self
            .table
            .client()
            .delete_item()
            .table_name(self.table.name())
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
                    bazaar_domain::error::Resource::Product,
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
        // Hardening (issue 14): names differing only by a zero-width space, full-width letters
        // or a ligature were two names.
        for look_alike in [
            "The Copper Ki\u{200B}ln",
            "The Copper \u{FF2B}iln",
            "\u{FEFF}The Copper Kiln\u{2060}",
        ] {
            assert_eq!(
                keys::normalize_name(look_alike),
                "the copper kiln",
                "{look_alike:?}"
            );
        }
        assert_eq!(keys::normalize_name("\u{FB01}ne Things"), "fine things");
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
