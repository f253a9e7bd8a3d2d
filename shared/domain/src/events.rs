//! Domain events that leave the table: their wire format, shared by the relay that publishes them
//! and the workers that consume them.

use crate::catalog::Product;
use crate::checkout::Order;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `order.created`: one per order, published when the order item reaches the table's stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCreated {
    /// Always `order.created`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Stable per order and event: consumers use it to ignore redeliveries.
    pub event_id: String,
    pub order_id: String,
    pub checkout_id: String,
    pub buyer_id: String,
    pub shop_id: String,
    pub shop_name: String,
    /// The shop owner: the seller to notify.
    pub owner_id: String,
    /// The seller's e-mail address, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_email: Option<String>,
    pub item_count: i64,
    pub total_cents: i64,
    /// What this order bought.
    #[serde(default)]
    pub items: Vec<PurchasedItem>,
    /// Every product of the checkout this order belongs to (all shops), this order's included.
    #[serde(default)]
    pub basket: Vec<String>,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// The order's version when the event was produced.
    pub version: i64,
}

/// One line of an order, as events carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchasedItem {
    pub product_id: String,
    pub quantity: i64,
}

pub const ORDER_CREATED: &str = "order.created";
/// An order was cancelled: the purchase events queue carries it (with the order's lines and
/// basket, in the shape of [`OrderCreated`]) so that the recommender takes the order's units
/// sold and co-purchases back out of trending and "customers also bought".
pub const ORDER_CANCELLED: &str = "order.cancelled";

impl OrderCreated {
    pub fn from_order(order: &Order) -> Self {
        OrderCreated {
            kind: ORDER_CREATED.to_owned(),
            event_id: format!("{}:{ORDER_CREATED}", order.order_id),
            order_id: order.order_id.clone(),
            checkout_id: order.checkout_id.clone(),
            buyer_id: order.buyer_id.clone(),
            shop_id: order.shop_id.clone(),
            shop_name: order.shop_name.clone(),
            owner_id: order.owner_id.clone(),
            owner_email: order.owner_email.clone(),
            item_count: order.items.iter().map(|i| i.quantity).sum(),
            total_cents: order.total_cents,
            items: order
                .items
                .iter()
                .map(|i| PurchasedItem {
                    product_id: i.product_id.clone(),
                    quantity: i.quantity,
                })
                .collect(),
            basket: if order.basket.is_empty() {
                order.items.iter().map(|i| i.product_id.clone()).collect()
            } else {
                order.basket.clone()
            },
            created_at: order
                .created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            version: order.version,
        }
    }

    /// The `order.cancelled` event of a cancelled order (its own event id).
    pub fn cancelled(order: &Order) -> Self {
        OrderCreated {
            kind: ORDER_CANCELLED.to_owned(),
            event_id: format!("{}:{ORDER_CANCELLED}", order.order_id),
            ..Self::from_order(order)
        }
    }

    /// Whether this is an `order.cancelled` event (its counts are taken back).
    pub fn is_cancellation(&self) -> bool {
        self.kind == ORDER_CANCELLED
    }

    /// Reads an SQS message body as an `order.created` event; why not, otherwise (consumers
    /// report such a message as failed, so it reaches the DLQ).
    pub fn from_message(body: Option<&str>) -> Result<Self, String> {
        Self::from_message_of(body, &[ORDER_CREATED])
    }

    /// Reads an SQS message body as an order event of one of `kinds`.
    pub fn from_message_of(body: Option<&str>, kinds: &[&str]) -> Result<Self, String> {
        let body = body.ok_or_else(|| "empty message".to_owned())?;
        let event: OrderCreated = serde_json::from_str(body).map_err(|e| e.to_string())?;
        if kinds.contains(&event.kind.as_str()) {
            Ok(event)
        } else {
            Err(format!("unexpected event type {}", event.kind))
        }
    }

    /// The seller-facing message.
    pub fn message(&self) -> String {
        format!(
            "New order for {}: {} item{}, ${}.{:02}.",
            self.shop_name,
            self.item_count,
            if self.item_count == 1 { "" } else { "s" },
            self.total_cents / 100,
            self.total_cents % 100
        )
    }
}

/// What happened to a product, for the search indexer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProductChange {
    #[serde(rename = "product.created")]
    Created,
    #[serde(rename = "product.updated")]
    Updated,
    /// Its last unit sold (quantity reached 0).
    #[serde(rename = "product.sold")]
    Sold,
    #[serde(rename = "product.deleted")]
    Deleted,
}

/// `product.*`: one per change of a product's listing (holds do not count: they do not change its
/// version), published when the change reaches the table's stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductChanged {
    #[serde(rename = "type")]
    pub kind: ProductChange,
    /// `<product id>:v<version>`: a redelivery carries the same id.
    pub event_id: String,
    pub product_id: String,
    /// The product's version after the change (a deletion counts as one more version).
    pub version: i64,
    /// The listing after the change; absent for a deletion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<ProductSnapshot>,
}

/// The listing fields search needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductSnapshot {
    pub id: String,
    pub shop_id: String,
    pub title: String,
    pub description: String,
    pub price_cents: i64,
    pub quantity: i64,
    pub category: String,
    pub tags: Vec<String>,
    pub is_vintage: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl ProductSnapshot {
    pub fn of(p: &Product) -> Self {
        ProductSnapshot {
            id: p.id.clone(),
            shop_id: p.shop_id.clone(),
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
        }
    }

    /// The product again (without holds, which search does not need).
    pub fn to_product(&self) -> Product {
        Product {
            id: self.id.clone(),
            shop_id: self.shop_id.clone(),
            owner_id: String::new(),
            title: self.title.clone(),
            description: self.description.clone(),
            price_cents: self.price_cents,
            quantity: self.quantity,
            category: self.category.clone(),
            tags: self.tags.clone(),
            is_vintage: self.is_vintage,
            images: self.images.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
            holds: Default::default(),
        }
    }
}

impl ProductChanged {
    /// The event of a product write seen on the stream: `old` and `new` are the product before and
    /// after (`None` for an insert / a delete). `None` when nothing search sees changed (a hold).
    pub fn between(old: Option<&Product>, new: Option<&Product>) -> Option<ProductChanged> {
        let (kind, id, version, product) = match (old, new) {
            (None, Some(new)) => (ProductChange::Created, &new.id, new.version, Some(new)),
            (Some(old), Some(new)) if new.version > old.version => {
                let kind = if new.quantity <= 0 && old.quantity > 0 {
                    ProductChange::Sold
                } else {
                    ProductChange::Updated
                };
                (kind, &new.id, new.version, Some(new))
            }
            (Some(old), None) => (ProductChange::Deleted, &old.id, old.version + 1, None),
            _ => return None,
        };
        Some(ProductChanged {
            kind,
            event_id: format!("{id}:v{version}"),
            product_id: id.clone(),
            version,
            product: product.map(ProductSnapshot::of),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_well() {
        let e = OrderCreated {
            kind: ORDER_CREATED.into(),
            event_id: "o1:order.created".into(),
            order_id: "o1".into(),
            checkout_id: "c1".into(),
            buyer_id: "b".into(),
            shop_id: "s".into(),
            shop_name: "The Copper Kiln".into(),
            owner_id: "kiln".into(),
            owner_email: None,
            item_count: 3,
            total_cents: 10605,
            items: vec![PurchasedItem {
                product_id: "p1".into(),
                quantity: 3,
            }],
            basket: vec!["p1".into(), "p2".into()],
            created_at: "2026-11-21T00:00:00.000Z".into(),
            version: 1,
        };
        assert_eq!(
            e.message(),
            "New order for The Copper Kiln: 3 items, $106.05."
        );
        let json = serde_json::to_value(&e).expect("json");
        assert_eq!(json["type"], "order.created");
        assert_eq!(json["basket"], serde_json::json!(["p1", "p2"]));
        // Events published before lines and baskets were carried still read.
        let mut old = json.clone();
        if let Some(o) = old.as_object_mut() {
            o.remove("items");
            o.remove("basket");
        }
        let old: OrderCreated = serde_json::from_value(old).expect("old event");
        assert!(old.items.is_empty() && old.basket.is_empty());
    }
}

/// `payment.changed`: a checkout's payment needs settling (it was committed, or an order of it
/// was cancelled). Published by the relay when a payment record reaches the stream with a new
/// version and nobody holds its settlement lease; consumed by the settlement function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentChanged {
    /// Always `payment.changed`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `<checkout id>:<version>`.
    pub event_id: String,
    pub checkout_id: String,
    pub version: i64,
}

pub const PAYMENT_CHANGED: &str = "payment.changed";

impl PaymentChanged {
    pub fn new(checkout_id: &str, version: i64) -> Self {
        PaymentChanged {
            kind: PAYMENT_CHANGED.to_owned(),
            event_id: format!("{checkout_id}:{version}"),
            checkout_id: checkout_id.to_owned(),
            version,
        }
    }
}
