//! The DynamoDB store of the home feed: favorites and views (one query each), the trending lists,
//! products and shops by id.

use super::favorites::DynamoFavorites;
use super::trending::DynamoTrending;
use super::views::DynamoViews;
use crate::records::{ProductItem, ShopItem};
use crate::schema::keys as table_keys;
use crate::table::Table;
use crate::table::{batch_get, from_item, key};
use aws_sdk_dynamodb::Client;
use bazaar_domain::error::Error;
use bazaar_domain::personalize::Signal;
use bazaar_domain::personalize::trending::TrendingList;
use bazaar_domain::ports::{FeedStore, Loaded, TrendingSource};
use std::collections::HashMap;

/// The DynamoDB feed store.
#[derive(Debug, Clone)]
pub struct DynamoFeedStore {
    table: Table,
    favorites: DynamoFavorites,
    views: DynamoViews,
    trending: DynamoTrending,
}

impl DynamoFeedStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        let table = Table::new(client, table);
        Self {
            favorites: table.favorites(),
            views: table.views(),
            trending: table.trending(),
            table,
        }
    }
}

impl TrendingSource for DynamoFeedStore {
    async fn trending(&self, category: Option<&str>) -> Result<TrendingList, Error> {
        self.trending.trending(category).await
    }
}

impl FeedStore for DynamoFeedStore {
    async fn favorites(&self, user: &str) -> Result<Vec<Signal>, Error> {
        self.favorites.signals(user).await
    }

    async fn views(&self, user: &str) -> Result<Vec<Signal>, Error> {
        self.views.recent(user).await
    }

    async fn load(&self, products: Vec<String>, shops: Vec<String>) -> Result<Loaded, Error> {
        let keys = products
            .iter()
            .map(|id| key(table_keys::product(id)))
            .chain(shops.iter().map(|id| key(table_keys::shop(id))))
            .collect();
        let mut found_products = HashMap::new();
        let mut found_shops = HashMap::new();
        for item in batch_get(self.table.client(), self.table.name(), keys).await? {
            let is_shop = matches!(
                item.get("entity"),
                Some(aws_sdk_dynamodb::types::AttributeValue::S(e)) if e == "shop"
            );
            if is_shop {
                let shop = from_item::<ShopItem>(item)?.into_shop();
                found_shops.insert(shop.id.clone(), shop);
            } else {
                let product = from_item::<ProductItem>(item)?.into_product();
                found_products.insert(product.id.clone(), product);
            }
        }
        Ok((found_products, found_shops))
    }
}
