//! The DynamoDB side of orders: the [`OrderStore`] port. Listings by buyer and shop (GSI1,
//! GSI2) with opaque cursors, the conditional shipment, cancellation with stock restored and
//! reviews that update the shop's rating atomically. Who may do what is
//! `bazaar_domain::services::orders`'s; this adapter translates.
use crate::records::ShopItem;
use crate::schema::keys;
use crate::table::{
    Item, Table, Tx, conditional, decode_cursor, encode_cursor, from_item, from_sdk, key, s,
};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, Update};
use bazaar_domain::checkout::{Order, OrderItem, Shipment};
use bazaar_domain::error::Error;
use bazaar_domain::orders::{NotificationView, OrderPage, Review};
use bazaar_domain::ports::{Commit, OrderStore};
use chrono::{DateTime, Utc};

/// The DynamoDB implementation of [`OrderStore`].
#[derive(Debug, Clone)]
pub struct DynamoOrders {
    table: Table,
}

impl DynamoOrders {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table),
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
            .map(|c| decode_cursor(c, index_pk, value, 4))
            .transpose()?;
        let out = self
            .table
            .client()
            .query()
            .table_name(self.table.name())
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

    /// The order's update of a change decided on `order` as read: conditioned on its status
    /// (`from`) and version being unchanged.
    fn order_change(
        &self,
        order: &Order,
        from: &str,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.table
            .client()
            .update_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::order(&order.order_id))))
            .condition_expression("#status = :from AND #version = :seen")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":from", s(from))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":seen", AttributeValue::N(order.version.to_string()))
    }

    /// Sends `tx`; any cancellation means another change won (`LostRace`).
    async fn commit(&self, tx: Tx) -> Result<Commit, Error> {
        match tx.commit(self.table.client()).await {
            Ok(()) => Ok(Commit::Committed),
            Err(crate::table::TxError::Cancelled { .. }) => Ok(Commit::LostRace),
            Err(e) => Err(e.into_error()),
        }
    }
}

impl OrderStore for DynamoOrders {
    async fn order(&self, id: &str) -> Result<Option<Order>, Error> {
        let out = self
            .table
            .client()
            .get_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::order(id))))
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?;
        out.item.map(from_item::<Order>).transpose()
    }

    async fn buyer_orders(
        &self,
        buyer: &str,
        cursor: Option<&str>,
        limit: i32,
    ) -> Result<OrderPage, Error> {
        self.page("GSI1", "gsi1pk", &keys::buyer_orders(buyer), cursor, limit)
            .await
    }

    async fn shop_orders(
        &self,
        shop_id: &str,
        cursor: Option<&str>,
        limit: i32,
    ) -> Result<OrderPage, Error> {
        self.page("GSI2", "gsi2pk", &keys::shop_orders(shop_id), cursor, limit)
            .await
    }

    async fn shop_owner(&self, shop_id: &str) -> Result<Option<String>, Error> {
        Ok(self
            .table
            .client()
            .get_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::shop(shop_id))))
            .send()
            .await
            .map_err(from_sdk)?
            .item
            .map(from_item::<ShopItem>)
            .transpose()?
            .map(|shop| shop.owner_id))
    }

    async fn ship(
        &self,
        order: &Order,
        shipment: &Shipment,
        now: DateTime<Utc>,
    ) -> Result<Option<Order>, Error> {
        let shipment_av = serde_dynamo::to_attribute_value(shipment).map_err(Error::internal)?;
        let result = self
            .order_change(order, "paid")
            .update_expression("SET #status = :shipped, shipment = :shipment, updated_at = :now, #version = #version + :one")
            .expression_attribute_values(":shipped", s("shipped"))
            .expression_attribute_values(":shipment", shipment_av)
            .expression_attribute_values(":now", s(&now.to_rfc3339()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        match conditional(result)? {
            Ok(out) => Ok(Some(from_item::<Order>(
                out.attributes.unwrap_or_default(),
            )?)),
            Err(_) => Ok(None),
        }
    }

    async fn existing_products(&self, products: &[String]) -> Result<Vec<String>, Error> {
        let existing = crate::table::batch_get(
            self.table.client(),
            self.table.name(),
            products.iter().map(|id| key(keys::product(id))).collect(),
        )
        .await?;
        Ok(existing
            .iter()
            .filter_map(|i| i.get("id").and_then(|v| v.as_s().ok()).cloned())
            .collect())
    }

    async fn cancel(
        &self,
        order: &Order,
        restock: &[OrderItem],
        now: DateTime<Utc>,
    ) -> Result<Commit, Error> {
        let mut tx = Tx::new();
        tx.update(
            Update::builder()
                .table_name(self.table.name())
                .set_key(Some(key(keys::order(&order.order_id))))
                .update_expression(
                    "SET #status = :cancelled, updated_at = :now, #version = #version + :one",
                )
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
        .or("order_changed");
        for item in restock {
            tx.update(
                Update::builder()
                    .table_name(self.table.name())
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
            .or("product_deleted");
        }
        let units: i64 = order.items.iter().map(|i| i.quantity).sum();
        tx.update(
            Update::builder()
                .table_name(self.table.name())
                .set_key(Some(key(keys::shop(&order.shop_id))))
                .update_expression("ADD sales_count :minus")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":minus", AttributeValue::N((-units).to_string()))
                .build()
                .map_err(Error::internal)?,
        )
        .or("shop_deleted");
        // The payment's record learns of the cancellation without a read: the order joins its
        // `cancelled_orders` set, its version moves (a settler holding an older copy loses its
        // save) and it is re-opened, due now.
        let (due_pk, due_sk) = keys::payment_due(now.timestamp(), &order.checkout_id);
        tx.update(
            Update::builder()
                .table_name(self.table.name())
                .set_key(Some(key(keys::payment(&order.checkout_id))))
                .update_expression(
                    "ADD cancelled_orders :order, #version :one SET gsi1pk = :due_pk, gsi1sk = :due_sk, opened_at = if_not_exists(opened_at, :now), updated_at = :now",
                )
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":order", AttributeValue::Ss(vec![order.order_id.clone()]))
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .expression_attribute_values(":due_pk", s(&due_pk))
                .expression_attribute_values(":due_sk", s(&due_sk))
                .expression_attribute_values(":now", s(&now.to_rfc3339()))
                .build()
                .map_err(Error::internal)?,
        )
        .or("payment_missing");
        self.commit(tx).await
    }

    async fn review(&self, order: &Order, review: &Review) -> Result<Commit, Error> {
        let order_id = &order.order_id;
        let mut item = serde_dynamo::to_item::<_, Item>(review).map_err(Error::internal)?;
        item.insert("pk".into(), s(&keys::review(order_id)));
        item.insert("sk".into(), s("REVIEW"));
        item.insert("entity".into(), s("review"));
        item.insert("gsi1pk".into(), s(&keys::shop_reviews(&order.shop_id)));
        item.insert(
            "gsi1sk".into(),
            s(&format!("{}#{order_id}", review.created_at.to_rfc3339())),
        );
        let mut tx = Tx::new();
        tx.update(
            Update::builder()
                .table_name(self.table.name())
                .set_key(Some(key(keys::order(order_id))))
                .update_expression("SET reviewed = :yes")
                .condition_expression("#status = :shipped AND buyer_id = :me AND (attribute_not_exists(reviewed) OR reviewed = :no)")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":yes", AttributeValue::Bool(true))
                .expression_attribute_values(":no", AttributeValue::Bool(false))
                .expression_attribute_values(":shipped", s("shipped"))
                .expression_attribute_values(":me", s(&review.buyer_id))
                .build()
                .map_err(Error::internal)?,
        )
        .or("already_reviewed");
        tx.put(
            Put::builder()
                .table_name(self.table.name())
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(Error::internal)?,
        )
        .or("already_reviewed");
        tx.update(
            Update::builder()
                .table_name(self.table.name())
                .set_key(Some(key(keys::shop(&order.shop_id))))
                .update_expression("ADD rating_sum :r, review_count :one")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":r", AttributeValue::N(review.rating.to_string()))
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .build()
                .map_err(Error::internal)?,
        )
        .or("shop_deleted");
        self.commit(tx).await
    }

    async fn notifications(&self, user: &str) -> Result<Vec<NotificationView>, Error> {
        let out = self
            .table
            .client()
            .query()
            .table_name(self.table.name())
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
            decode_cursor(&cursor, "gsi1pk", "BUYER#alice", 4).expect("decodes"),
            key
        );
        assert_eq!(
            decode_cursor(&cursor, "gsi1pk", "BUYER#mallory", 4)
                .expect_err("other list")
                .status(),
            400
        );
        assert_eq!(
            decode_cursor("not a cursor!", "gsi1pk", "BUYER#alice", 4)
                .expect_err("junk")
                .status(),
            400
        );
    }

    /// Hardening (issue 14): valid base64 JSON of this list's partition but with other key
    /// names used to reach DynamoDB as an invalid `ExclusiveStartKey` — a 500. Now a 400.
    #[test]
    fn a_forged_cursor_with_other_key_names_is_400() {
        use base64::Engine;
        let forge = |json: serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json.to_string())
        };
        for forged in [
            serde_json::json!({"pk": "ORDER#1", "sk": "ORDER", "gsi1pk": "BUYER#alice", "other": "x"}),
            serde_json::json!({"pk": "ORDER#1", "gsi2sk": "x", "gsi1pk": "BUYER#alice", "gsi1sk": "y"}),
            serde_json::json!({"pk": "", "sk": "ORDER", "gsi1pk": "BUYER#alice", "gsi1sk": "y"}),
            serde_json::json!({"pk": "ORDER#1", "sk": 1, "gsi1pk": "BUYER#alice", "gsi1sk": "y"}),
        ] {
            assert_eq!(
                decode_cursor(&forge(forged.clone()), "gsi1pk", "BUYER#alice", 4)
                    .expect_err("forged")
                    .status(),
                400,
                "{forged}"
            );
        }
    }
}
