//! Degraded search: when the engine is unreachable (or its circuit is open), GET /search answers
//! from DynamoDB instead of failing — the seed's "fall back to the database" rule, shaped by what
//! DynamoDB can list cheaply: a category's products newest first (GSI1 `CATEGORY#<slug>`), in stock,
//! with the price and vintage filters, and no text matching. Without a category there is nothing
//! to list cheaply, so the answer is an empty page (still `degraded: true`, never a 5xx).
//!
//! Costs at most [`MAX_QUERY_CALLS`] queries plus one BatchGetItem for the shops' names. Totals
//! and facets count what was read, so they are exact for small categories and lower bounds for
//! large ones.

use crate::records::ProductItem;
use crate::schema::keys;
use crate::table::Table;
use crate::table::{Item, from_item, from_sdk};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use bazaar_domain::error::Error;
use bazaar_domain::ports::CategoryListing;
use bazaar_domain::search::{Facets, Hit, SearchDoc, SearchPage, SearchQuery, Sort};
use std::collections::HashMap;

/// Queries made at most for one degraded answer.
pub const MAX_QUERY_CALLS: usize = 5;

/// Items read per query page (before the stock and price filters).
const PAGE_ITEMS: i32 = 200;

/// The DynamoDB listing.
#[derive(Clone)]
pub struct DynamoListing {
    table: Table,
}

impl DynamoListing {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoListing {
            table: Table::new(client, table),
        }
    }
}

impl CategoryListing for DynamoListing {
    async fn listing(&self, q: &SearchQuery) -> Result<SearchPage, Error> {
        let Some(category) = &q.category else {
            return Ok(SearchPage::default());
        };
        let wanted = (q.offset() + q.page_size) as usize;
        let mut filter = vec!["#quantity > :zero"];
        let mut values = HashMap::from([
            (
                ":pk".to_owned(),
                AttributeValue::S(keys::category(category)),
            ),
            (":zero".to_owned(), AttributeValue::N("0".into())),
        ]);
        if let Some(min) = q.min_price_cents {
            filter.push("price_cents >= :min");
            values.insert(":min".into(), AttributeValue::N(min.to_string()));
        }
        if let Some(max) = q.max_price_cents {
            filter.push("price_cents <= :max");
            values.insert(":max".into(), AttributeValue::N(max.to_string()));
        }
        if let Some(vintage) = q.vintage {
            filter.push("is_vintage = :vintage");
            values.insert(":vintage".into(), AttributeValue::Bool(vintage));
        }
        let filter = filter.join(" AND ");

        let mut products: Vec<ProductItem> = Vec::new();
        let mut start: Option<Item> = None;
        for _ in 0..MAX_QUERY_CALLS {
            let out = self
                .table
                .client()
                .query()
                .table_name(self.table.name())
                .index_name("GSI1")
                .key_condition_expression("gsi1pk = :pk")
                .filter_expression(&filter)
                .expression_attribute_names("#quantity", "quantity")
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(false)
                .limit(PAGE_ITEMS)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(from_sdk)?;
            for item in out.items.unwrap_or_default() {
                products.push(from_item(item)?);
            }
            start = out.last_evaluated_key.filter(|k| !k.is_empty());
            if start.is_none() || products.len() >= wanted.max(PAGE_ITEMS as usize) {
                break;
            }
        }

        let shops = self
            .table
            .source()
            .shops(products.iter().map(|p| p.shop_id.as_str()))
            .await?;
        let mut docs: Vec<SearchDoc> = products
            .into_iter()
            .filter_map(|item| {
                let product = item.into_product();
                let shop = shops.get(&product.shop_id)?;
                Some(SearchDoc::new(&product, shop))
            })
            .collect();
        match q.sort {
            Sort::Relevance | Sort::Newest => {} // the index's order: newest first
            Sort::PriceAsc => docs.sort_by_key(|d| d.price_cents),
            Sort::PriceDesc => docs.sort_by_key(|d| std::cmp::Reverse(d.price_cents)),
        }
        let facets = Facets::count(&docs);
        let total = docs.len() as u64;
        let hits = docs
            .into_iter()
            .skip(q.offset() as usize)
            .take(q.page_size as usize)
            .map(|doc| Hit { doc, score: 0.0 })
            .collect();
        Ok(SearchPage {
            hits,
            total,
            facets,
        })
    }
}
