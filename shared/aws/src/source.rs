//! The table as the source of search documents: the shops a batch of products needs (for their
//! names and ranking signals) and a full read of the catalog for rebuilding an index.

use crate::records::ProductItem;
use crate::table::Table;
use crate::table::{Item, from_item, from_sdk};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use bazaar_domain::catalog::Shop;
use bazaar_domain::error::Error;
use bazaar_domain::search::SearchDoc;
use std::collections::HashMap;

/// Parallel scan segments of a rebuild.
const SCAN_SEGMENTS: i32 = 4;

#[derive(Clone)]
pub struct TableSource {
    table: Table,
}

impl TableSource {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        TableSource {
            table: Table::new(client, table),
        }
    }

    /// The shops with these ids (unknown ids are left out): one BatchGetItem per 100.
    pub async fn shops<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<HashMap<String, Shop>, Error> {
        crate::records::shops_by_id(&self.table, ids).await
    }

    /// Every product in the table as a search document (a parallel scan, then its shops), for
    /// rebuilding an index. Sold-out products are included: the engine needs their versions.
    pub async fn all_documents(&self) -> Result<Vec<SearchDoc>, Error> {
        let scans = (0..SCAN_SEGMENTS).map(|segment| self.scan_products(segment));
        let mut products = Vec::new();
        for result in futures::future::join_all(scans).await {
            products.extend(result?);
        }
        let shops = self
            .shops(
                products
                    .iter()
                    .map(|p: &bazaar_domain::catalog::Product| p.shop_id.as_str()),
            )
            .await?;
        Ok(products
            .iter()
            .filter_map(|p| Some(SearchDoc::new(p, shops.get(&p.shop_id)?)))
            .collect())
    }

    async fn scan_products(
        &self,
        segment: i32,
    ) -> Result<Vec<bazaar_domain::catalog::Product>, Error> {
        let mut products = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .table
                .client()
                .scan()
                .table_name(self.table.name())
                .segment(segment)
                .total_segments(SCAN_SEGMENTS)
                .filter_expression("entity = :product")
                .expression_attribute_values(":product", AttributeValue::S("product".into()))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(from_sdk)?;
            for item in out.items.unwrap_or_default() {
                products.push(from_item::<ProductItem>(item)?.into_product());
            }
            start = out.last_evaluated_key.filter(|k| !k.is_empty());
            if start.is_none() {
                return Ok(products);
            }
        }
    }
}
