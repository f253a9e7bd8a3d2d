//! Orders after checkout: listing (buyer, shop), detail, shipment, cancellation with stock
//! restored and the payment refunded, reviews that update the shop's rating atomically, and the
//! notifications the notifier wrote.
//!
//! Who may do what: the buyer and the shop's owner may read an order; anyone else gets `404` (the
//! order's existence must not leak). Only the owner ships or cancels (`403` for the buyer), only
//! the buyer reviews (`403` for the owner).

use crate::catalog::rfc3339;
use crate::checkout::{OrderView, Shipment};
use crate::error::Error;
use crate::validate::{Checker, Int, present};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const DEFAULT_PAGE: i32 = 20;
pub const MAX_PAGE: i32 = 100;

/// A page of orders.
#[derive(Debug, Clone, Serialize)]
pub struct OrderPage {
    pub orders: Vec<OrderView>,
    pub next_cursor: Option<String>,
}

/// `POST /orders/{id}/shipment`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShipmentRequest {
    pub carrier: String,
    pub tracking_number: String,
}

impl ShipmentRequest {
    pub fn validate(self) -> Result<Shipment, Error> {
        let mut c = Checker::default();
        let shipment = Shipment {
            carrier: c.text("carrier", &self.carrier, 1, 100),
            tracking_number: c.text("tracking_number", &self.tracking_number, 1, 100),
        };
        c.finish(shipment)
    }
}

/// `POST /orders/{id}/review`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    pub rating: Int,
    #[serde(default, deserialize_with = "present")]
    pub comment: Option<String>,
}

impl ReviewRequest {
    pub fn validate(self) -> Result<(i64, String), Error> {
        let mut c = Checker::default();
        let rating = c.range("rating", self.rating, 1, 5);
        let comment = c.text("comment", self.comment.as_deref().unwrap_or(""), 0, 2000);
        c.finish((rating, comment))
    }
}

/// The Review object of the contract.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Review {
    pub order_id: String,
    pub shop_id: String,
    pub buyer_id: String,
    pub rating: i64,
    pub comment: String,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
}

/// A notification as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct NotificationView {
    pub id: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    pub message: String,
    pub created_at: String,
}

/// Parses a page size (`limit`, 1..=100, default 20).
pub fn page_size(raw: Option<&str>) -> Result<i32, Error> {
    match raw {
        None => Ok(DEFAULT_PAGE),
        Some(v) => {
            let n: i64 = v.parse().map_err(|_| Error::InvalidParameter {
                name: "limit".into(),
                reason: "must be a whole number".into(),
            })?;
            if (1..=i64::from(MAX_PAGE)).contains(&n) {
                Ok(n as i32)
            } else {
                Err(Error::validation(
                    "limit",
                    format!("must be from 1 to {MAX_PAGE}"),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes() {
        assert_eq!(page_size(None).expect("default"), 20);
        assert_eq!(page_size(Some("100")).expect("max"), 100);
        assert_eq!(page_size(Some("0")).expect_err("0").status(), 422);
        assert_eq!(page_size(Some("ten")).expect_err("word").status(), 400);
    }

    #[test]
    fn review_and_shipment_bodies() {
        use crate::validate::parse_json;
        let r = parse_json::<ReviewRequest>(br#"{"rating": 5, "comment": "Lovely"}"#)
            .and_then(ReviewRequest::validate);
        assert_eq!(r.expect("valid"), (5, "Lovely".to_owned()));
        for body in [&br#"{"rating": 0}"#[..], br#"{"rating": 6}"#] {
            assert_eq!(
                parse_json::<ReviewRequest>(body)
                    .and_then(ReviewRequest::validate)
                    .expect_err("range")
                    .status(),
                422
            );
        }
        let long =
            serde_json::to_vec(&serde_json::json!({"rating": 3, "comment": "x".repeat(2001)}))
                .expect("json");
        assert_eq!(
            parse_json::<ReviewRequest>(&long)
                .and_then(ReviewRequest::validate)
                .expect_err("long")
                .status(),
            422
        );
        assert_eq!(
            parse_json::<ShipmentRequest>(br#"{"carrier": "USPS"}"#)
                .expect_err("missing")
                .status(),
            400
        );
        assert!(
            parse_json::<ShipmentRequest>(br#"{"carrier": "USPS", "tracking_number": "9400"}"#)
                .and_then(ShipmentRequest::validate)
                .is_ok()
        );
    }
}
