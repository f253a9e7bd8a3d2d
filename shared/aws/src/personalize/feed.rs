//! The DynamoDB store of the home feed: favorites and views (one query each), the trending lists,
//! products and shops by id.

use super::favorites::DynamoFavorites;
use super::trending::DynamoTrending;
use super::views::DynamoViews;
use crate::table::Table;
use aws_sdk_dynamodb::Client;
use bazaar_domain::error::Error;
use bazaar_domain::personalize::Signal;
use bazaar_domain::personalize::trending::TrendingList;
use bazaar_domain::ports::{FeedStore, Loaded, TrendingSource};

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
        crate::records::products_and_shops(
            &self.table,
            products.iter().map(String::as_str),
            shops.iter().map(String::as_str),
        )
        .await
    }
}
