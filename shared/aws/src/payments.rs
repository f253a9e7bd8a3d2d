//! Payments: the [`PaymentGateway`] port and the built-in test gateway.
//!
//! Checkout authorizes before it writes, captures after the write committed and voids the
//! authorization when the write failed. Every operation is idempotent per checkout (`reference`),
//! so a retried checkout can never charge twice.
//!
//! [`TestGateway`] follows Stripe's test payment methods (`pm_card_visa` approves,
//! `pm_card_chargeDeclined` declines, …) and records each payment durably in the table
//! (`PAYMENT#<reference>`), so its idempotency survives a crashed function like a real
//! provider's would. It is the local default; a real provider is another adapter of the trait.

use crate::schema::keys;
use crate::table::Table;
use crate::table::{conditional, key, s};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use bazaar_domain::error::Error;
use bazaar_domain::payments::{Authorization, check_test_method};
use bazaar_domain::ports::PaymentGateway;

/// The built-in test gateway, persisting payments in the table.
#[derive(Debug, Clone)]
pub struct TestGateway {
    table: Table,
}

impl TestGateway {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table),
        }
    }

    /// Moves the payment from `authorized` to `to`; repeating a finished move is a no-op.
    async fn settle(&self, auth: &Authorization, to: &str, counter: &str) -> Result<(), Error> {
        let result = self
            .table
            .client()
            .update_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::payment(&auth.id))))
            .update_expression(
                "SET #status = :to, #counter = if_not_exists(#counter, :zero) + :one",
            )
            .condition_expression("#status = :authorized")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#counter", counter)
            .expression_attribute_values(":to", s(to))
            .expression_attribute_values(":authorized", s("authorized"))
            .expression_attribute_values(":zero", AttributeValue::N("0".into()))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match conditional(result)? {
            Ok(_) => Ok(()),
            Err(old) => {
                let status = old
                    .as_ref()
                    .and_then(|i| i.get("status"))
                    .and_then(|v| v.as_s().ok())
                    .cloned();
                match status.as_deref() {
                    Some(done) if done == to => Ok(()),
                    other => Err(Error::internal(format!(
                        "payment {} cannot become {to}: it is {other:?}",
                        auth.id
                    ))),
                }
            }
        }
    }
}

impl PaymentGateway for TestGateway {
    async fn authorize(
        &self,
        reference: &str,
        amount_cents: i64,
        method: &str,
    ) -> Result<Authorization, Error> {
        check_test_method(method)?;
        let (pk, sk) = keys::payment(reference);
        let result = self
            .table
            .client()
            .put_item()
            .table_name(self.table.name())
            .item("pk", s(&pk))
            .item("sk", s(&sk))
            .item("entity", s("payment"))
            .item("status", s("authorized"))
            .item("amount_cents", AttributeValue::N(amount_cents.to_string()))
            .item("method", s(method))
            .item("captures", AttributeValue::N("0".into()))
            .item("refunds", AttributeValue::M(Default::default()))
            .item("created_at", s(&chrono::Utc::now().to_rfc3339()))
            // A voided authorization (a cancelled attempt of this checkout) may be renewed.
            .condition_expression("attribute_not_exists(pk) OR #status = :voided")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":voided", s("voided"))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let auth = Authorization {
            id: reference.to_owned(),
            amount_cents,
        };
        match conditional(result)? {
            Ok(_) => Ok(auth),
            // The same checkout authorized before (a retry): same amount → same authorization.
            Err(old) => {
                let existing = old
                    .as_ref()
                    .and_then(|i| i.get("amount_cents"))
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse::<i64>().ok());
                if existing == Some(amount_cents) {
                    Ok(auth)
                } else {
                    Err(Error::internal(format!(
                        "payment {reference} was authorized for {existing:?}, not {amount_cents}"
                    )))
                }
            }
        }
    }

    async fn capture(&self, auth: &Authorization) -> Result<(), Error> {
        self.settle(auth, "captured", "captures").await
    }

    async fn void(&self, auth: &Authorization) -> Result<(), Error> {
        self.settle(auth, "voided", "voids").await
    }

    async fn refund(
        &self,
        payment_id: &str,
        order_id: &str,
        amount_cents: i64,
    ) -> Result<(), Error> {
        let result = self
            .table
            .client()
            .update_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::payment(payment_id))))
            .update_expression("SET refunds.#order = :amount")
            .condition_expression("#status = :captured AND attribute_not_exists(refunds.#order)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#order", order_id)
            .expression_attribute_values(":captured", s("captured"))
            .expression_attribute_values(":amount", AttributeValue::N(amount_cents.to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match conditional(result)? {
            Ok(_) => Ok(()),
            Err(old) => {
                let refunded = old
                    .as_ref()
                    .and_then(|i| i.get("refunds"))
                    .and_then(|r| r.as_m().ok())
                    .is_some_and(|m| m.contains_key(order_id));
                if refunded {
                    Ok(())
                } else {
                    Err(Error::internal(format!(
                        "payment {payment_id} is not captured; cannot refund"
                    )))
                }
            }
        }
    }
}
