//! The DynamoDB side of checkout: the [`CheckoutStore`] port. One `TransactWriteItems` per
//! checkout (the saga is `bazaar_domain::services::checkout`), the committed-checkout record and
//! the orders it wrote. The adapter reads and writes; it decides nothing.
//!
//! Each action of the transaction is named ([`Step`]) by the line it belongs to, or as the
//! record, so a cancelled transaction is mapped to the failed lines by name, never by position.

use crate::cart::{Held, hold_update};
use crate::payment_store::payment_item;
use crate::records::order_item;
use crate::schema::keys;
use crate::table::{Table, Tx, TxError, from_item, from_sdk, key, s, to_item};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, Update};
use bazaar_domain::cart::StoredCart;
use bazaar_domain::checkout::{CheckoutRecord, CheckoutWrite, CheckoutWritten, Order};
use bazaar_domain::error::Error;
use bazaar_domain::ports::{CheckoutStore, LineCatalog, QuotaStore};
use bazaar_domain::quota::Charge;

/// What an action of a checkout's transaction stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The action of the line at this index (its product: stock and holds).
    Line(usize),
    /// The checkout's record: its failure means a duplicate committed first.
    Record,
    /// The cart's version bump: its failure means the cart changed since it was read.
    Cart,
    /// The checkout quota's increment: its failure means the window is full.
    Quota,
}

/// The DynamoDB implementation of [`CheckoutStore`].
#[derive(Debug, Clone)]
pub struct DynamoCheckout {
    table: Table,
}

impl DynamoCheckout {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table),
        }
    }

    /// The transaction of a checkout, each action named by its [`Step`] (orders and sales
    /// counts are unnamed: their conditions cannot fail while the record's holds).
    fn transaction(&self, write: &CheckoutWrite<'_>) -> Result<Tx<Step>, Error> {
        let buyer = write.buyer;
        let mut tx = Tx::new();
        for (index, line) in write.lines.iter().enumerate() {
            // One action per line whatever its quantity: the product's stock and its holds.
            let mut u = hold_update(&line.plan, buyer, write.now, Held::Consume)?;
            u.names.insert("#quantity".into(), "quantity".into());
            u.names.insert("#version".into(), "version".into());
            u.values
                .insert(":q".into(), AttributeValue::N(line.quantity.to_string()));
            u.values
                .insert(":one".into(), AttributeValue::N("1".into()));
            u.values
                .insert(":now".into(), s(&write.record.created_at.to_rfc3339()));
            let mut expression =
                "SET #quantity = #quantity - :q, #version = #version + :one, updated_at = :now"
                    .to_owned();
            if !u.removes.is_empty() {
                expression.push_str(&format!(" REMOVE {}", u.removes.join(", ")));
            }
            let mut conditions = vec![
                "attribute_exists(pk)".to_owned(),
                "#quantity >= :q".to_owned(),
            ];
            conditions.append(&mut u.conditions);
            let update = Update::builder()
                .table_name(self.table.name())
                .set_key(Some(key(keys::product(&line.product_id))))
                .update_expression(expression)
                .condition_expression(conditions.join(" AND "))
                .set_expression_attribute_names(Some(u.names))
                .set_expression_attribute_values(Some(u.values))
                .build()
                .map_err(Error::internal)?;
            tx.update(update).or(Step::Line(index));
        }
        for order in write.orders {
            let put = Put::builder()
                .table_name(self.table.name())
                .set_item(Some(order_item(order)?))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(Error::internal)?;
            tx.put(put).unnamed();
            let units: i64 = order.items.iter().map(|i| i.quantity).sum();
            let sales = Update::builder()
                .table_name(self.table.name())
                .set_key(Some(key(keys::shop(&order.shop_id))))
                .update_expression("ADD sales_count :units")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":units", AttributeValue::N(units.to_string()))
                .build()
                .map_err(Error::internal)?;
            tx.update(sales).unnamed();
        }
        let put = Put::builder()
            .table_name(self.table.name())
            .set_item(Some(record_item(write.record)?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(Error::internal)?;
        tx.put(put).or(Step::Record);
        // The payment's record, open and due at reconciliation's safety net: its stream event
        // starts settlement, and the due keys make sure someone looks at it if that is lost.
        // It exists exactly when the checkout's record does, so its failure means the same.
        let payment = Put::builder()
            .table_name(self.table.name())
            .set_item(Some(payment_item(
                write.payment,
                Some(write.now + PAYMENT_SAFETY_NET_SECS),
            )?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(Error::internal)?;
        tx.put(payment).or(Step::Record);
        // The cart empties in one action, on the condition that nothing changed it since it was
        // read (a line added meanwhile would otherwise be dropped unbought).
        let cart = Update::builder()
            .table_name(self.table.name())
            .set_key(Some(key(keys::cart_item(buyer))))
            .update_expression("SET #v = #v + :one, #l = :empty")
            .condition_expression("#v = :seen")
            .expression_attribute_names("#v", "version")
            .expression_attribute_names("#l", "lines")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":empty", AttributeValue::M(Default::default()))
            .expression_attribute_values(":seen", AttributeValue::N(write.cart_version.to_string()))
            .build()
            .map_err(Error::internal)?;
        tx.update(cart).or(Step::Cart);
        if let Some(charge) = &write.quota {
            tx.update(crate::quota::charge_update(&self.table, buyer, charge)?)
                .or(Step::Quota);
        }
        debug_assert!(tx.len() <= bazaar_domain::checkout::MAX_TRANSACTION_ACTIONS);
        tx.token(request_token(
            &write.record.checkout_id,
            &write.payment.payment_id,
        ));
        Ok(tx)
    }
}

/// How long after its checkout an authorized payment is due for reconciliation (unix seconds),
/// should its stream event never start settlement.
pub const PAYMENT_SAFETY_NET_SECS: i64 = 15 * 60;

/// The `ClientRequestToken` of a checkout's transaction: one per (checkout, authorization), i.e.
/// per commit attempt, so the SDK's retry of the same request is answered as committed instead
/// of as a duplicate (DynamoDB keeps a token 10 minutes). A UUID v5 (36 characters, the limit).
pub fn request_token(checkout_id: &str, payment_id: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_OID,
        format!("bazaar-checkout#{checkout_id}#{payment_id}").as_bytes(),
    )
    .hyphenated()
    .to_string()
}

/// The stored item of a checkout record: the record with its keys.
fn record_item(record: &CheckoutRecord) -> Result<crate::table::Item, Error> {
    let mut item = to_item(record)?;
    let (pk, sk) = keys::checkout(&record.checkout_id);
    item.insert(keys::PK.to_owned(), s(&pk));
    item.insert(keys::SK.to_owned(), s(&sk));
    item.insert("entity".to_owned(), s("checkout"));
    Ok(item)
}

/// The lines a cancelled checkout names: those whose actions failed their condition or met
/// another transaction, each once, in order.
pub fn failed_lines(failed: &[Step], raced: &[Step]) -> Vec<usize> {
    let mut lines: Vec<usize> = failed
        .iter()
        .chain(raced)
        .filter_map(|step| match step {
            Step::Line(i) => Some(*i),
            Step::Record | Step::Cart | Step::Quota => None,
        })
        .collect();
    lines.sort_unstable();
    lines.dedup();
    lines
}

impl CheckoutStore for DynamoCheckout {
    async fn committed(
        &self,
        checkout_id: &str,
    ) -> Result<Option<(CheckoutRecord, Vec<Order>)>, Error> {
        let out = self
            .table
            .client()
            .get_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::checkout(checkout_id))))
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let record: CheckoutRecord = from_item(item)?;
        let items = crate::table::batch_get(
            self.table.client(),
            self.table.name(),
            record
                .order_ids
                .iter()
                .map(|id| key(keys::order(id)))
                .collect(),
        )
        .await?;
        let mut orders: Vec<Order> = items
            .into_iter()
            .map(from_item::<Order>)
            .collect::<Result<_, _>>()?;
        orders.sort_by_key(|o| record.order_ids.iter().position(|id| *id == o.order_id));
        Ok(Some((record, orders)))
    }

    async fn cart(
        &self,
        buyer: &str,
        quota: Option<&Charge>,
    ) -> Result<(StoredCart, LineCatalog, u32), Error> {
        // The cart and the quota's counter in one read; hold clocks are no lines: checkout
        // neither buys nor deletes them.
        let (cart, used) = match quota {
            None => (
                crate::cart::read_cart(self.table.client(), self.table.name(), buyer).await?,
                0,
            ),
            Some(charge) => {
                let cart_key = keys::cart_item(buyer);
                let quota_key = keys::quota(buyer, charge.class.name(), charge.window_start);
                let mut found =
                    crate::cart::read_keys(&self.table, vec![cart_key.clone(), quota_key.clone()])
                        .await?;
                (
                    crate::cart::cart_of(found.remove(&cart_key))?,
                    crate::quota::used(found.get(&quota_key)),
                )
            }
        };
        let catalog = crate::cart::products_and_shops(&self.table, &cart.lines).await?;
        Ok((cart, catalog, used))
    }

    async fn spend(&self, buyer: &str, quota: &Charge) -> Result<bool, Error> {
        crate::quota::DynamoQuota::new(self.table.client().clone(), self.table.name())
            .spend(buyer, quota.class, quota.limit, quota.window_start)
            .await
    }

    async fn commit(&self, write: &CheckoutWrite<'_>) -> Result<CheckoutWritten, Error> {
        match self.transaction(write)?.commit(self.table.client()).await {
            Ok(()) => Ok(CheckoutWritten::Committed),
            Err(TxError::Cancelled { failed, .. }) if failed.contains(&Step::Record) => {
                Ok(CheckoutWritten::Duplicate)
            }
            Err(TxError::Cancelled { failed, .. }) if failed.contains(&Step::Quota) => {
                Ok(CheckoutWritten::RateLimited)
            }
            Err(TxError::Cancelled { failed, raced, .. }) => Ok(CheckoutWritten::Cancelled {
                lines: failed_lines(&failed, &raced),
            }),
            Err(TxError::Other(e)) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_tokens_are_per_attempt_and_fit_dynamodb() {
        let token = request_token("c1", "pi_1");
        assert_eq!(token.len(), 36, "DynamoDB's ClientRequestToken limit");
        assert_eq!(
            token,
            request_token("c1", "pi_1"),
            "a retry sends the same token"
        );
        assert_ne!(
            token,
            request_token("c1", "pi_2"),
            "another attempt, another token"
        );
        assert_ne!(token, request_token("c2", "pi_1"));
        // Due keys sort by time, and strictly before the bound.
        let (_, sk) = keys::payment_due(99, "c");
        assert!(sk.as_str() < keys::due_stamp(100).as_str());
        assert!(sk.as_str() > keys::due_stamp(99).as_str());
        assert!(keys::due_stamp(1_000_000_000) > keys::due_stamp(999_999_999));
    }

    #[test]
    fn cancellation_reasons_name_the_lines() {
        // Names laid out per action (a line may name several actions in this test; a checkout
        // names one per line); then the shop's order and sales (unnamed) and the record.
        let mut names: Vec<Option<Step>> = Vec::new();
        for (line, actions) in [(0, 3), (1, 4), (2, 3)] {
            names.extend(std::iter::repeat_n(Some(Step::Line(line)), actions));
        }
        names.extend([None, None, Some(Step::Record)]);
        let mut codes = vec!["None".to_owned(); 13];
        codes[4] = "ConditionalCheckFailed".into(); // b's second hold item
        let failed = crate::table::named_by_code(&codes, &names, "ConditionalCheckFailed");
        assert_eq!(failed_lines(&failed, &[]), [1]);
        codes[9] = "TransactionConflict".into(); // c's cart line
        let raced = crate::table::named_by_code(&codes, &names, "TransactionConflict");
        assert_eq!(failed_lines(&failed, &raced), [1, 2]);
        // A failed record is no line: a duplicate committed first.
        codes[12] = "ConditionalCheckFailed".into();
        let failed = crate::table::named_by_code(&codes, &names, "ConditionalCheckFailed");
        assert_eq!(failed, [Step::Line(1), Step::Record]);
        assert_eq!(failed_lines(&failed, &raced), [1, 2]);
    }
}
