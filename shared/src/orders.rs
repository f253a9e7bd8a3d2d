//! Orders after checkout: listing (buyer, shop), detail, shipment, cancellation with stock
//! restored and the payment refunded, reviews that update the shop's rating atomically, and the
//! notifications the notifier wrote.
//!
//! Who may do what: the buyer and the shop's owner may read an order; anyone else gets `404` (the
//! order's existence must not leak). Only the owner ships or cancels (`403` for the buyer), only
//! the buyer reviews (`403` for the owner).

use crate::checkout::{OrderRecord, OrderStatus, OrderView, Shipment, order_key};
use crate::dynamo::{Item, ShopItem, conditional, from_item, from_sdk, key, keys, s};
use crate::error::{Error, Resource};
use crate::model::rfc3339;
use crate::payment::PaymentGateway;
use crate::validate::{Checker, Int};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

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
    #[serde(default)]
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

fn encode_cursor(key: &Item) -> Result<String, Error> {
    let plain: HashMap<String, String> = key
        .iter()
        .filter_map(|(k, v)| v.as_s().ok().map(|s| (k.clone(), s.clone())))
        .collect();
    let json = serde_json::to_vec(&plain).map_err(Error::internal)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json))
}

fn decode_cursor(cursor: &str, index_pk: &str, expected: &str) -> Result<Item, Error> {
    let invalid = || Error::InvalidParameter {
        name: "cursor".into(),
        reason: "is not a cursor this list returned".into(),
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| invalid())?;
    let plain: HashMap<String, String> = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    // A cursor only continues the list it came from.
    if plain.get(index_pk).map(String::as_str) != Some(expected) || plain.len() != 4 {
        return Err(invalid());
    }
    Ok(plain
        .into_iter()
        .map(|(k, v)| (k, AttributeValue::S(v)))
        .collect())
}

/// The DynamoDB implementation of order reads and changes.
#[derive(Debug, Clone)]
pub struct DynamoOrders {
    client: Client,
    table: String,
}

impl DynamoOrders {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn record(&self, order_id: &str) -> Result<Option<OrderRecord>, Error> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(order_key(order_id))))
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?;
        out.item.map(from_item::<OrderRecord>).transpose()
    }

    /// Sends one transaction; a cancellation (another change won) is a `409` with `code`.
    async fn transact_or_conflict(
        &self,
        actions: Vec<TransactWriteItem>,
        code: &'static str,
        detail: &str,
    ) -> Result<(), Error> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) => Err(match crate::dynamo::cancellation_codes(&err) {
                Some(_) => Error::conflict(code, detail),
                None => from_sdk(err),
            }),
        }
    }

    /// The order if `caller` is its buyer or its shop's owner; `404` otherwise.
    pub async fn visible(&self, caller: &str, order_id: &str) -> Result<OrderRecord, Error> {
        match self.record(order_id).await? {
            Some(o) if o.buyer_id == caller || o.owner_id == caller => Ok(o),
            _ => Err(Error::not_found(Resource::Order, order_id)),
        }
    }

    async fn page(
        &self,
        index: &str,
        index_pk: &str,
        value: &str,
        cursor: Option<&str>,
        limit: i32,
    ) -> Result<OrderPage, Error> {
        let start = cursor
            .map(|c| decode_cursor(c, index_pk, value))
            .transpose()?;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#pk = :v")
            .expression_attribute_names("#pk", index_pk)
            .expression_attribute_values(":v", s(value))
            .scan_index_forward(false)
            .limit(limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(from_sdk)?;
        let orders = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|i| from_item::<OrderRecord>(i).map(|o| o.view()))
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = out
            .last_evaluated_key
            .as_ref()
            .map(encode_cursor)
            .transpose()?;
        Ok(OrderPage {
            orders,
            next_cursor,
        })
    }

    /// The buyer's orders, newest first.
    pub async fn by_buyer(
        &self,
        buyer: &str,
        cursor: Option<&str>,
        limit: i32,
    ) -> Result<OrderPage, Error> {
        self.page("GSI1", "gsi1pk", &format!("BUYER#{buyer}"), cursor, limit)
            .await
    }

    /// A shop's orders, newest first; only its owner may list them.
    pub async fn by_shop(
        &self,
        caller: &str,
        shop_id: &str,
        cursor: Option<&str>,
        limit: i32,
    ) -> Result<OrderPage, Error> {
        let shop = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::shop(shop_id))))
            .send()
            .await
            .map_err(from_sdk)?
            .item
            .map(from_item::<ShopItem>)
            .transpose()?
            .ok_or_else(|| Error::not_found(Resource::Shop, shop_id))?;
        if shop.owner_id != caller {
            return Err(Error::Forbidden(
                "Only the shop's owner may list its orders.".into(),
            ));
        }
        self.page(
            "GSI2",
            "gsi2pk",
            &format!("SHOPORDERS#{shop_id}"),
            cursor,
            limit,
        )
        .await
    }

    /// The owner marks a paid order shipped.
    pub async fn ship(
        &self,
        caller: &str,
        order_id: &str,
        shipment: Shipment,
    ) -> Result<OrderView, Error> {
        let order = self.visible(caller, order_id).await?;
        if order.owner_id != caller {
            return Err(Error::Forbidden(
                "Only the shop's owner may ship the order.".into(),
            ));
        }
        if order.status != OrderStatus::Paid {
            return Err(Error::conflict(
                "order_not_shippable",
                format!("The order is {:?} and cannot be shipped.", order.status).to_lowercase(),
            ));
        }
        let now = Utc::now();
        let shipment_av = serde_dynamo::to_attribute_value(&shipment).map_err(Error::internal)?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(order_key(order_id))))
            .update_expression("SET #status = :shipped, shipment = :shipment, updated_at = :now, #version = #version + :one")
            .condition_expression("#status = :paid AND #version = :seen")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":shipped", s("shipped"))
            .expression_attribute_values(":paid", s("paid"))
            .expression_attribute_values(":shipment", shipment_av)
            .expression_attribute_values(":now", s(&now.to_rfc3339()))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":seen", AttributeValue::N(order.version.to_string()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        match conditional(result)? {
            Ok(out) => Ok(from_item::<OrderRecord>(out.attributes.unwrap_or_default())?.view()),
            Err(_) => Err(Error::conflict(
                "order_not_shippable",
                "The order changed meanwhile; read it and retry.",
            )),
        }
    }

    /// The owner cancels a paid order: status, stock back, sales count back, in one transaction;
    /// then the order's amount is refunded.
    pub async fn cancel<P: PaymentGateway>(
        &self,
        payments: &P,
        caller: &str,
        order_id: &str,
    ) -> Result<OrderView, Error> {
        let order = self.visible(caller, order_id).await?;
        if order.owner_id != caller {
            return Err(Error::Forbidden(
                "Only the shop's owner may cancel the order.".into(),
            ));
        }
        if order.status != OrderStatus::Paid {
            return Err(Error::conflict(
                "order_not_cancellable",
                "Only a paid order that has not shipped can be cancelled.",
            ));
        }
        // Stock goes back to the products that still exist.
        let existing = crate::cart_store::batch_get(
            &self.client,
            &self.table,
            order
                .items
                .iter()
                .map(|i| key(keys::product(&i.product_id)))
                .collect(),
        )
        .await?;
        let live: Vec<String> = existing
            .iter()
            .filter_map(|i| i.get("id").and_then(|v| v.as_s().ok()).cloned())
            .collect();
        let now = Utc::now();
        let mut actions = vec![TransactWriteItem::builder()
            .update(
                Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(order_key(order_id))))
                    .update_expression("SET #status = :cancelled, updated_at = :now, #version = #version + :one")
                    .condition_expression("#status = :paid AND #version = :seen")
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_names("#version", "version")
                    .expression_attribute_values(":cancelled", s("cancelled"))
                    .expression_attribute_values(":paid", s("paid"))
                    .expression_attribute_values(":now", s(&now.to_rfc3339()))
                    .expression_attribute_values(":one", AttributeValue::N("1".into()))
                    .expression_attribute_values(":seen", AttributeValue::N(order.version.to_string()))
                    .build()
                    .map_err(Error::internal)?,
            )
            .build()];
        for item in order.items.iter().filter(|i| live.contains(&i.product_id)) {
            actions.push(
                TransactWriteItem::builder()
                    .update(
                        Update::builder()
                            .table_name(&self.table)
                            .set_key(Some(key(keys::product(&item.product_id))))
                            .update_expression("SET #quantity = #quantity + :q, #version = #version + :one, updated_at = :now")
                            .condition_expression("attribute_exists(pk)")
                            .expression_attribute_names("#quantity", "quantity")
                            .expression_attribute_names("#version", "version")
                            .expression_attribute_values(":q", AttributeValue::N(item.quantity.to_string()))
                            .expression_attribute_values(":one", AttributeValue::N("1".into()))
                            .expression_attribute_values(":now", s(&now.to_rfc3339()))
                            .build()
                            .map_err(Error::internal)?,
                    )
                    .build(),
            );
        }
        let units: i64 = order.items.iter().map(|i| i.quantity).sum();
        actions.push(
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(key(keys::shop(&order.shop_id))))
                        .update_expression("ADD sales_count :minus")
                        .condition_expression("attribute_exists(pk)")
                        .expression_attribute_values(
                            ":minus",
                            AttributeValue::N((-units).to_string()),
                        )
                        .build()
                        .map_err(Error::internal)?,
                )
                .build(),
        );
        self.transact_or_conflict(
            actions,
            "order_not_cancellable",
            "The order changed meanwhile; read it and retry.",
        )
        .await?;
        payments
            .refund(&order.checkout_id, order_id, order.total_cents)
            .await?;
        let mut view = order.view();
        view.status = OrderStatus::Cancelled;
        Ok(view)
    }

    /// The buyer reviews a shipped order once; the shop's rating moves in the same transaction.
    pub async fn review(
        &self,
        caller: &str,
        order_id: &str,
        rating: i64,
        comment: String,
    ) -> Result<Review, Error> {
        let order = self.visible(caller, order_id).await?;
        if order.buyer_id != caller {
            return Err(Error::Forbidden(
                "Only the buyer may review the order.".into(),
            ));
        }
        if order.reviewed {
            return Err(Error::conflict(
                "already_reviewed",
                "This order has been reviewed already.",
            ));
        }
        if order.status != OrderStatus::Shipped {
            return Err(Error::conflict(
                "order_not_shipped",
                "An order can be reviewed once it has shipped.",
            ));
        }
        let review = Review {
            order_id: order_id.to_owned(),
            shop_id: order.shop_id.clone(),
            buyer_id: caller.to_owned(),
            rating,
            comment,
            created_at: Utc::now(),
        };
        let mut item = serde_dynamo::to_item::<_, Item>(&review).map_err(Error::internal)?;
        item.insert("pk".into(), s(&format!("REVIEW#{order_id}")));
        item.insert("sk".into(), s("REVIEW"));
        item.insert("entity".into(), s("review"));
        item.insert(
            "gsi1pk".into(),
            s(&format!("SHOPREVIEWS#{}", order.shop_id)),
        );
        item.insert(
            "gsi1sk".into(),
            s(&format!("{}#{order_id}", review.created_at.to_rfc3339())),
        );
        let actions = vec![
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(key(order_key(order_id))))
                        .update_expression("SET reviewed = :yes")
                        .condition_expression("#status = :shipped AND buyer_id = :me AND (attribute_not_exists(reviewed) OR reviewed = :no)")
                        .expression_attribute_names("#status", "status")
                        .expression_attribute_values(":yes", AttributeValue::Bool(true))
                        .expression_attribute_values(":no", AttributeValue::Bool(false))
                        .expression_attribute_values(":shipped", s("shipped"))
                        .expression_attribute_values(":me", s(caller))
                        .build()
                        .map_err(Error::internal)?,
                )
                .build(),
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(item))
                        .condition_expression("attribute_not_exists(pk)")
                        .build()
                        .map_err(Error::internal)?,
                )
                .build(),
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(key(keys::shop(&order.shop_id))))
                        .update_expression("ADD rating_sum :r, review_count :one")
                        .condition_expression("attribute_exists(pk)")
                        .expression_attribute_values(":r", AttributeValue::N(rating.to_string()))
                        .expression_attribute_values(":one", AttributeValue::N("1".into()))
                        .build()
                        .map_err(Error::internal)?,
                )
                .build(),
        ];
        self.transact_or_conflict(
            actions,
            "already_reviewed",
            "This order has been reviewed already.",
        )
        .await?;
        Ok(review)
    }

    /// The user's notifications, newest first (the 50 latest).
    pub async fn notifications(&self, user: &str) -> Result<Vec<NotificationView>, Error> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(&format!("NOTIFY#{user}")))
            .scan_index_forward(false)
            .limit(50)
            .send()
            .await
            .map_err(from_sdk)?;
        Ok(out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|i| {
                let get = |k: &str| i.get(k).and_then(|v| v.as_s().ok()).cloned();
                NotificationView {
                    id: get("id").unwrap_or_default(),
                    kind: get("kind").unwrap_or_default(),
                    order_id: get("order_id"),
                    message: get("message").unwrap_or_default(),
                    created_at: get("created_at").unwrap_or_default(),
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_stay_in_their_list() {
        let key: Item = [
            ("pk", "ORDER#1"),
            ("sk", "ORDER"),
            ("gsi1pk", "BUYER#alice"),
            ("gsi1sk", "2026-11-21T00:00:00.000Z#1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), AttributeValue::S(v.to_owned())))
        .collect();
        let cursor = encode_cursor(&key).expect("encodes");
        assert_eq!(
            decode_cursor(&cursor, "gsi1pk", "BUYER#alice").expect("decodes"),
            key
        );
        assert_eq!(
            decode_cursor(&cursor, "gsi1pk", "BUYER#mallory")
                .expect_err("other list")
                .status(),
            400
        );
        assert_eq!(
            decode_cursor("not a cursor!", "gsi1pk", "BUYER#alice")
                .expect_err("junk")
                .status(),
            400
        );
    }

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
