//! The catalog's domain types. Money is integer cents everywhere; times are UTC.

use crate::inventory::{Holds, available_to};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize, Serializer};

/// The only currency the marketplace settles in.
pub const CURRENCY: &str = "USD";

/// Serializes a time as RFC 3339 UTC with millisecond precision and a `Z` suffix.
pub fn rfc3339<S: Serializer>(time: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&time.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// A new opaque identifier: a UUIDv7, so that ids sort by creation time.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// How a shop charges for shipping one order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipping {
    pub base_cents: i64,
    pub per_extra_item_cents: i64,
}

impl Shipping {
    /// `base + per_extra × (units − 1)` for a non-empty order, 0 for none (the contract's formula).
    pub fn cost_cents(&self, units: i64) -> i64 {
        if units <= 0 {
            0
        } else {
            self.base_cents + self.per_extra_item_cents * (units - 1)
        }
    }
}

/// A seller's shop as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Shop {
    pub id: String,
    pub owner_id: String,
    /// Where seller notifications are e-mailed (from the owner's token at creation; never shown).
    pub owner_email: Option<String>,
    pub name: String,
    pub description: String,
    pub shipping: Shipping,
    /// Sum of all review ratings (1..5 each); with `review_count` it gives the average.
    pub rating_sum: i64,
    pub review_count: i64,
    pub sales_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Where the shop's payouts stand (`None`: no payout account connected yet).
    pub payout_status: Option<crate::payments::PayoutStatus>,
}

impl Shop {
    /// The average review rating rounded to one decimal, or `None` before the first review.
    pub fn rating(&self) -> Option<f64> {
        (self.review_count > 0).then(|| {
            let avg = self.rating_sum as f64 / self.review_count as f64;
            (avg * 10.0).round() / 10.0
        })
    }

    pub fn view(&self) -> ShopView {
        ShopView {
            id: self.id.clone(),
            owner_id: self.owner_id.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            shipping: self.shipping,
            rating: self.rating(),
            review_count: self.review_count,
            sales_count: self.sales_count,
            created_at: self.created_at,
            payouts_status: match self.payout_status {
                None => "none",
                Some(crate::payments::PayoutStatus::Pending) => "pending",
                Some(crate::payments::PayoutStatus::Enabled) => "enabled",
            },
        }
    }

    pub fn summary(&self) -> ShopSummary {
        ShopSummary {
            id: self.id.clone(),
            name: self.name.clone(),
            rating: self.rating(),
        }
    }
}

/// The Shop object of the API contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShopView {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    pub description: String,
    pub shipping: Shipping,
    pub rating: Option<f64>,
    pub review_count: i64,
    pub sales_count: i64,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    /// `none` (no payout account yet: sales wait on the platform), `pending` (onboarding not
    /// finished) or `enabled` (each captured order is paid out).
    pub payouts_status: &'static str,
}

/// The `shop` member of a Product.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShopSummary {
    pub id: String,
    pub name: String,
    pub rating: Option<f64>,
}

/// A listing as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub id: String,
    pub shop_id: String,
    /// The shop owner's user id, copied from the shop (it never changes) so that ownership is
    /// checked inside the write's condition rather than by a separate read.
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
    /// Starts at 1 and grows by one with every change; consumers use it to ignore stale events.
    pub version: i64,
    /// Who holds which units right now (the mirror of the hold items; see `crate::cart`).
    pub holds: Holds,
}

impl Product {
    /// Units `me` (or anyone, for `None`) could put in a cart now: stock minus other buyers' live holds.
    pub fn available_to(&self, me: Option<&str>, now: i64) -> i64 {
        available_to(self.quantity, &self.holds, me, now)
    }

    /// The Product object of the API contract. `available` is the stock other buyers may still take.
    pub fn view(&self, shop: ShopSummary, available: i64) -> ProductView {
        ProductView {
            id: self.id.clone(),
            shop_id: self.shop_id.clone(),
            shop,
            title: self.title.clone(),
            description: self.description.clone(),
            price_cents: self.price_cents,
            currency: CURRENCY,
            quantity: self.quantity,
            available: available.clamp(0, self.quantity.max(0)),
            category: self.category.clone(),
            tags: self.tags.clone(),
            is_vintage: self.is_vintage,
            images: self.images.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        }
    }
}

/// The Product object of the API contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductView {
    pub id: String,
    pub shop_id: String,
    pub shop: ShopSummary,
    pub title: String,
    pub description: String,
    pub price_cents: i64,
    pub currency: &'static str,
    pub quantity: i64,
    pub available: i64,
    pub category: String,
    pub tags: Vec<String>,
    pub is_vintage: bool,
    pub images: Vec<String>,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop(rating_sum: i64, review_count: i64) -> Shop {
        let now = Utc::now();
        Shop {
            id: "s".into(),
            owner_id: "o".into(),
            owner_email: None,
            name: "n".into(),
            description: String::new(),
            shipping: Shipping::default(),
            rating_sum,
            review_count,
            sales_count: 0,
            created_at: now,
            updated_at: now,
            payout_status: None,
        }
    }

    #[test]
    fn rating_is_null_before_reviews_and_rounded_after() {
        assert_eq!(shop(0, 0).rating(), None);
        assert_eq!(shop(14, 3).rating(), Some(4.7));
        assert_eq!(shop(5, 1).rating(), Some(5.0));
        assert_eq!(shop(3, 3).rating(), Some(1.0));
    }

    #[test]
    fn shipping_follows_the_contract_formula() {
        let s = Shipping {
            base_cents: 500,
            per_extra_item_cents: 150,
        };
        assert_eq!(s.cost_cents(0), 0);
        assert_eq!(s.cost_cents(1), 500);
        assert_eq!(s.cost_cents(3), 800);
    }

    #[test]
    fn times_serialize_as_rfc3339_utc() {
        let view = shop(0, 0).view();
        let json = serde_json::to_value(&view).expect("serializes");
        let text = json["created_at"].as_str().expect("string");
        assert!(text.ends_with('Z'), "{text}");
        assert!(DateTime::parse_from_rfc3339(text).is_ok());
        assert!(json["rating"].is_null());
    }

    #[test]
    fn ids_are_unique_and_sortable() {
        let a = new_id();
        let b = new_id();
        assert_ne!(a, b);
        assert!(a < b || a[..13] == b[..13]);
    }
}
