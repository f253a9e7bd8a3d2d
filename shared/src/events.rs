//! Domain events that leave the table: their wire format, shared by the relay that publishes them
//! and the workers that consume them.

use crate::checkout::OrderRecord;
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
    /// RFC 3339 UTC.
    pub created_at: String,
    /// The order's version when the event was produced.
    pub version: i64,
}

pub const ORDER_CREATED: &str = "order.created";

impl OrderCreated {
    pub fn from_order(order: &OrderRecord) -> Self {
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
            created_at: order
                .created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            version: order.version,
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
            created_at: "2026-11-21T00:00:00.000Z".into(),
            version: 1,
        };
        assert_eq!(
            e.message(),
            "New order for The Copper Kiln: 3 items, $106.05."
        );
        let json = serde_json::to_value(&e).expect("json");
        assert_eq!(json["type"], "order.created");
    }
}
