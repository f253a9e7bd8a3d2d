//! The DynamoDB side of orders: listings by buyer and shop (GSI1, GSI2) with opaque cursors,
//! shipment, cancellation with stock restored, reviews that update the shop's rating atomically.
use crate::table::{Item, ShopItem, conditional, from_item, from_sdk, key, keys, s};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use base64::Engine;
use bazaar_domain::checkout::{Order, OrderStatus, OrderView, Shipment};
use bazaar_domain::error::{Error, Resource};
use bazaar_domain::orders::{NotificationView, OrderPage, Review};
use bazaar_domain::ports::PaymentGateway;
use chrono::Utc;
use std::collections::HashMap;

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

    async fn record(&self, order_id: &str) -> Result<Option<Order>, Error> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::order(order_id))))
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?;
        out.item.map(from_item::<Order>).transpose()
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
            Err(err) => Err(match crate::table::cancellation_codes(&err) {
                Some(_) => Error::conflict(code, detail),
                None => from_sdk(err),
            }),
        }
    }

    /// The order if `caller` is its buyer or its shop's owner; `404` otherwise.
    pub async fn visible(&self, caller: &str, order_id: &str) -> Result<Order, Error> {
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
            .map(|i| from_item::<Order>(i).map(|o| o.view()))
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
        self.page("GSI1", "gsi1pk", &keys::buyer_orders(buyer), cursor, limit)
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
        self.page("GSI2", "gsi2pk", &keys::shop_orders(shop_id), cursor, limit)
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
            .set_key(Some(key(keys::order(order_id))))
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
            Ok(out) => Ok(from_item::<Order>(out.attributes.unwrap_or_default())?.view()),
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
        let existing = crate::table::batch_get(
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
                    .set_key(Some(key(keys::order(order_id))))
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
        item.insert("pk".into(), s(&keys::review(order_id)));
        item.insert("sk".into(), s("REVIEW"));
        item.insert("entity".into(), s("review"));
        item.insert("gsi1pk".into(), s(&keys::shop_reviews(&order.shop_id)));
        item.insert(
            "gsi1sk".into(),
            s(&format!("{}#{order_id}", review.created_at.to_rfc3339())),
        );
        let actions = vec![
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(key(keys::order(order_id))))
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
            .expression_attribute_values(":pk", s(&keys::notifications(user)))
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
}
