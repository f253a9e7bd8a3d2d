//! Loads the deterministic demo catalog (see `seed_data`) into the table, in parallel batches,
//! through the same item mapping the functions use. Seeding is skipped when the table already
//! holds the same catalog.

use crate::local::{InfraError, aws_err};
use crate::seed_data::{self, Catalog};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use bazaar_aws::records::{product_item, shop_items};
use bazaar_aws::table::Item;
use bazaar_domain::catalog::{Product, Shipping, Shop};
use chrono::{DateTime, Duration, Utc};
use futures::{StreamExt, TryStreamExt, stream};
use std::collections::HashMap;

/// What to seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedOptions {
    pub shops: usize,
    pub products: usize,
    pub seed: u64,
}

impl Default for SeedOptions {
    fn default() -> Self {
        Self {
            shops: 100,
            products: 10_000,
            seed: 42,
        }
    }
}

/// What seeding did.
#[derive(Debug, Clone)]
pub enum SeedOutcome {
    Skipped,
    Seeded {
        /// The shops and products written, exactly as stored (for building the search index from
        /// them without reading the table back).
        shops: Vec<Shop>,
        products: Vec<Product>,
        items: usize,
    },
}

/// The seeded shop owners' user ids (`make token USER=seed-owner-000` acts as the first shop's owner).
pub fn owner_id(index: usize) -> String {
    format!("seed-owner-{index:03}")
}

const MARKER_PK: &str = "SEED";

fn marker_key() -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(MARKER_PK.into())),
        ("sk".to_owned(), AttributeValue::S("CATALOG".into())),
    ])
}

fn marker_value(opts: &SeedOptions) -> String {
    format!(
        "shops={};products={};seed={}",
        opts.shops, opts.products, opts.seed
    )
}

fn uuid_from(bytes: [u8; 16]) -> String {
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// Turns the generated catalog into domain objects; `now` anchors listing ages.
pub fn domain_catalog(catalog: &Catalog, now: DateTime<Utc>) -> (Vec<Shop>, Vec<Product>) {
    let shops: Vec<Shop> = catalog
        .shops
        .iter()
        .map(|s| {
            // Deterministic reputations so that ranking by rating and sales has something to rank.
            let review_count = ((s.index * 7) % 40) as i64;
            let stars = 3 + (s.index % 3) as i64;
            Shop {
                id: uuid_from(s.id_bytes),
                owner_id: owner_id(s.owner_index),
                owner_email: None,
                name: s.name.clone(),
                description: s.description.clone(),
                shipping: Shipping {
                    base_cents: s.base_shipping_cents,
                    per_extra_item_cents: s.per_extra_item_cents,
                },
                rating_sum: review_count * stars - (review_count / 4),
                review_count,
                sales_count: ((s.index * 13) % 200) as i64,
                created_at: now - Duration::days(400),
                updated_at: now - Duration::days(400),
                payout_status: None,
            }
        })
        .collect();
    let products = catalog
        .products
        .iter()
        .map(|p| {
            let shop = &shops[p.shop_index];
            let created =
                now - Duration::days(i64::from(p.age_days)) - Duration::minutes(p.index as i64);
            Product {
                id: uuid_from(p.id_bytes),
                shop_id: shop.id.clone(),
                owner_id: shop.owner_id.clone(),
                title: p.title.clone(),
                description: p.description.clone(),
                price_cents: p.price_cents,
                quantity: p.quantity,
                category: p.category.clone(),
                tags: p.tags.clone(),
                is_vintage: p.is_vintage,
                images: p.images.clone(),
                created_at: created,
                updated_at: created,
                version: 1,
                holds: Default::default(),
            }
        })
        .collect();
    (shops, products)
}

async fn write_batch(client: &Client, table: &str, items: Vec<Item>) -> Result<(), InfraError> {
    let mut requests: Vec<WriteRequest> = items
        .into_iter()
        .map(|item| {
            PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map(|put| WriteRequest::builder().put_request(put).build())
                .map_err(|e| InfraError::Shape(e.to_string()))
        })
        .collect::<Result<_, _>>()?;
    let mut attempt = 0u32;
    while !requests.is_empty() {
        let out = client
            .batch_write_item()
            .request_items(table, std::mem::take(&mut requests))
            .send()
            .await
            .map_err(aws_err)?;
        requests = out
            .unprocessed_items
            .and_then(|mut m| m.remove(table))
            .unwrap_or_default();
        if !requests.is_empty() {
            attempt += 1;
            if attempt > 10 {
                return Err(InfraError::Aws(
                    "BatchWriteItem kept returning unprocessed items".into(),
                ));
            }
            tokio::time::sleep(std::time::Duration::from_millis(50 << attempt.min(6))).await;
        }
    }
    Ok(())
}

/// Writes `items` in `BatchWriteItem`s of 25, `parallel` at once.
async fn write_items(
    client: &Client,
    table: &str,
    mut items: Vec<Item>,
    parallel: usize,
) -> Result<(), InfraError> {
    let mut batches = Vec::new();
    while !items.is_empty() {
        let rest = items.split_off(items.len().min(25));
        batches.push(std::mem::replace(&mut items, rest));
    }
    stream::iter(batches.into_iter().map(|b| write_batch(client, table, b)))
        .buffer_unordered(parallel)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

/// `n` new in-stock listings of the demo catalog's shops (`opts` names the catalog), each title
/// ending in `marker`, written straight into the table (25 per `BatchWriteItem`, 2 at once): a
/// burst of writes faster than the API takes them, for measuring the event pipeline (`make load
/// SCENARIO=pipeline`). Unlike [`seed`] the table's stream is on, so every listing becomes a
/// `product.created` event. Returns the listings' ids.
pub async fn burst(
    client: &Client,
    table: &str,
    opts: SeedOptions,
    n: usize,
    marker: &str,
) -> Result<Vec<String>, InfraError> {
    // The seeded catalog itself (its shops are in the table), its listings under new ids.
    let catalog = seed_data::generate(opts.shops, opts.products.max(n), opts.seed);
    let (_, mut products) = domain_catalog(&catalog, Utc::now());
    products.truncate(n);
    let now = Utc::now();
    let mut items = Vec::with_capacity(products.len());
    for p in &mut products {
        p.id = uuid::Uuid::now_v7().to_string();
        p.title = format!("{} {marker}", p.title.chars().take(150).collect::<String>());
        p.quantity = p.quantity.max(1);
        p.created_at = now;
        p.updated_at = now;
        items.push(product_item(p).map_err(|e| InfraError::Shape(e.to_string()))?);
    }
    // Two writers already feed the stream several times faster than the pipeline drains it; more
    // would only take the single-threaded emulator's time from the pipeline being measured.
    write_items(client, table, items, 2).await?;
    Ok(products.into_iter().map(|p| p.id).collect())
}

/// Seeds the table unless it already holds this catalog.
pub async fn seed(
    client: &Client,
    table: &str,
    opts: SeedOptions,
) -> Result<SeedOutcome, InfraError> {
    let marker = client
        .get_item()
        .table_name(table)
        .set_key(Some(marker_key()))
        .consistent_read(true)
        .send()
        .await
        .map_err(aws_err)?;
    let wanted = marker_value(&opts);
    if marker
        .item
        .as_ref()
        .and_then(|i| i.get("catalog"))
        .and_then(|v| v.as_s().ok())
        == Some(&wanted)
    {
        return Ok(SeedOutcome::Skipped);
    }
    let catalog = seed_data::generate(opts.shops, opts.products, opts.seed);
    let (shops, products) = domain_catalog(&catalog, Utc::now());
    let mut items: Vec<Item> = Vec::with_capacity(shops.len() * 3 + products.len());
    for shop in &shops {
        items.extend(shop_items(shop).map_err(|e| InfraError::Shape(e.to_string()))?);
    }
    for product in &products {
        items.push(product_item(product).map_err(|e| InfraError::Shape(e.to_string()))?);
    }
    let total = items.len();
    write_items(client, table, items, 8).await?;
    let mut marker_item = marker_key();
    marker_item.insert("catalog".into(), AttributeValue::S(wanted));
    client
        .put_item()
        .table_name(table)
        .set_item(Some(marker_item))
        .send()
        .await
        .map_err(aws_err)?;
    Ok(SeedOutcome::Seeded {
        shops,
        products,
        items: total,
    })
}
