//! The built-in test gateway (`PAYMENTS=test`, the local default): a small emulation of the
//! provider — [`PaymentGateway`] and [`Payouts`] — whose objects are items of the table, so its
//! idempotency survives a crashed function like a real provider's would.
//!
//! - Payments (`TESTPAY#pi_test_…`) follow Stripe's manual-capture PaymentIntents:
//!   `requires_capture` → `succeeded` (capture of at most the authorized amount) or `canceled`;
//!   refunds (each with its order id) never exceed what was captured. Authorization answers
//!   Stripe's test methods ([`check_test_method`]): `pm_card_visa` approves,
//!   `pm_card_chargeDeclined` declines, `pm_card_authenticationRequired` needs 3-D Secure, an
//!   unknown method is `422` — nothing is written for those.
//! - Connected accounts (`TESTACCT#acct_test_…`) are enabled at once (local onboarding is
//!   instant; the onboarding link is `<return_url>?account=<id>`), transfers (`tr_test_…`, listed
//!   under their transfer group) and their reversals never take back more than was sent.
//! - Idempotency: every mutation is one transaction that also claims `TESTKEY#<operation>#<key>`
//!   (pointing at the object it created or changed). A repeated key answers that object as it
//!   is now, and moves nothing.
//! - Each object carries a `version`; a change is read, applied in memory and written on the
//!   condition that the version is unchanged (a concurrent change is retried), which keeps every
//!   rule here plain Rust.

use crate::schema::keys;
use crate::table::{Item, Table, Tx, TxError, batch_get, from_item, from_sdk, key, s, to_item};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put};
use bazaar_domain::error::Error;
use bazaar_domain::payments::{
    Authorization, AuthorizeRequest, ConnectedAccount, IntentStatus, ProviderPayment,
    ProviderRefund, Transfer, TransferRequest, check_test_method,
};
use bazaar_domain::ports::{PaymentGateway, Payouts};
use serde::{Deserialize, Serialize};

/// How many times a change that met a concurrent change is tried.
const ATTEMPTS: usize = 5;

/// The built-in test gateway, persisting its objects in the table.
#[derive(Debug, Clone)]
pub struct TestGateway {
    table: Table,
    /// A fixed delay before each authorization (`PAYMENTS_STUB_DELAY_MS`, local only): stands in
    /// for a real provider's latency when checkout is measured.
    delay: Option<std::time::Duration>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TestPayment {
    id: String,
    status: IntentStatus,
    amount_cents: i64,
    amount_received: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    charge_id: Option<String>,
    refunds: Vec<TestRefund>,
    checkout_id: String,
    buyer_id: String,
    method: String,
    created: i64,
    version: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TestRefund {
    id: String,
    amount_cents: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    order_id: Option<String>,
}

impl From<&TestRefund> for ProviderRefund {
    fn from(r: &TestRefund) -> Self {
        ProviderRefund {
            id: r.id.clone(),
            amount_cents: r.amount_cents,
            order_id: r.order_id.clone(),
        }
    }
}

impl TestPayment {
    fn view(&self) -> ProviderPayment {
        ProviderPayment {
            id: self.id.clone(),
            status: self.status,
            amount_cents: self.amount_cents,
            amount_received: self.amount_received,
            charge_id: self.charge_id.clone(),
            refunds: self.refunds.iter().map(ProviderRefund::from).collect(),
            checkout_id: Some(self.checkout_id.clone()),
            created: self.created,
        }
    }

    fn refunded(&self) -> i64 {
        self.refunds.iter().map(|r| r.amount_cents).sum()
    }

    fn item(&self) -> Result<Item, Error> {
        with_keys(to_item(self)?, keys::test_payment(&self.id), "test_payment")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TestAccount {
    id: String,
    shop_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    payouts_enabled: bool,
    details_submitted: bool,
    version: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TestTransfer {
    id: String,
    amount_cents: i64,
    reversed_cents: i64,
    destination: String,
    transfer_group: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source_transaction: Option<String>,
    order_id: String,
    version: i64,
}

impl TestTransfer {
    fn view(&self) -> Transfer {
        Transfer {
            id: self.id.clone(),
            amount_cents: self.amount_cents,
            reversed_cents: self.reversed_cents,
            destination: self.destination.clone(),
            order_id: Some(self.order_id.clone()),
        }
    }

    fn item(&self) -> Result<Item, Error> {
        with_keys(
            to_item(self)?,
            keys::test_transfer(&self.transfer_group, &self.id),
            "test_transfer",
        )
    }
}

fn with_keys(mut item: Item, (pk, sk): (String, String), entity: &str) -> Result<Item, Error> {
    item.insert(keys::PK.to_owned(), s(&pk));
    item.insert(keys::SK.to_owned(), s(&sk));
    item.insert("entity".to_owned(), s(entity));
    Ok(item)
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// How a keyed write ended.
enum Keyed {
    Written,
    /// The key was used before, for this object id.
    KeyUsed(String),
    /// An object changed since it was read: read again.
    Raced,
}

fn rejected(detail: String) -> Error {
    Error::internal(format!("test gateway: {detail}"))
}

impl TestGateway {
    /// The gateway over table `table` (see [`Table::test_gateway`]).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table),
            delay: None,
        }
    }

    /// Waits `delay` before each authorization, like a remote provider would (local
    /// measurements only).
    pub fn with_delay(mut self, delay: std::time::Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    async fn get(&self, pk_sk: (String, String)) -> Result<Option<Item>, Error> {
        Ok(self
            .table
            .client()
            .get_item()
            .table_name(self.table.name())
            .set_key(Some(key(pk_sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?
            .item)
    }

    /// The object id an idempotency key of `operation` was used for, if it was.
    async fn prior(&self, operation: &str, idempotency_key: &str) -> Result<Option<String>, Error> {
        Ok(self
            .get(keys::test_key(operation, idempotency_key))
            .await?
            .and_then(|item| item.get("object_id").and_then(|v| v.as_s().ok()).cloned()))
    }

    /// One transaction: claims the key for `object_id` and writes `items`, each `(item,
    /// version it had when read)` — `None` for a new item.
    async fn keyed_write(
        &self,
        operation: &str,
        idempotency_key: &str,
        object_id: &str,
        items: Vec<(Item, Option<i64>)>,
    ) -> Result<Keyed, Error> {
        let (pk, sk) = keys::test_key(operation, idempotency_key);
        let mut tx: Tx = Tx::new();
        tx.put(
            Put::builder()
                .table_name(self.table.name())
                .item(keys::PK, s(&pk))
                .item(keys::SK, s(&sk))
                .item("entity", s("test_key"))
                .item("object_id", s(object_id))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(Error::internal)?,
        )
        .or("key");
        for (item, seen) in items {
            let put = Put::builder()
                .table_name(self.table.name())
                .set_item(Some(item));
            let put = match seen {
                None => put.condition_expression("attribute_not_exists(pk)"),
                Some(v) => put
                    .condition_expression("#version = :seen")
                    .expression_attribute_names("#version", "version")
                    .expression_attribute_values(":seen", AttributeValue::N(v.to_string())),
            };
            tx.put(put.build().map_err(Error::internal)?).or("state");
        }
        match tx.commit(self.table.client()).await {
            Ok(()) => Ok(Keyed::Written),
            Err(e) if e.failed(&"key") => match self.prior(operation, idempotency_key).await? {
                Some(id) => Ok(Keyed::KeyUsed(id)),
                None => Ok(Keyed::Raced),
            },
            Err(TxError::Cancelled { .. }) => Ok(Keyed::Raced),
            Err(e) => Err(e.into_error()),
        }
    }

    async fn load_payment(&self, id: &str) -> Result<TestPayment, Error> {
        let item = self
            .get(keys::test_payment(id))
            .await?
            .ok_or_else(|| rejected(format!("no such payment {id}")))?;
        from_item(item)
    }

    async fn load_transfer(&self, id: &str) -> Result<TestTransfer, Error> {
        let group = self
            .get(keys::test_transfer_pointer(id))
            .await?
            .and_then(|item| {
                item.get("transfer_group")
                    .and_then(|v| v.as_s().ok())
                    .cloned()
            })
            .ok_or_else(|| rejected(format!("no such transfer {id}")))?;
        let item = self
            .get(keys::test_transfer(&group, id))
            .await?
            .ok_or_else(|| rejected(format!("no such transfer {id}")))?;
        from_item(item)
    }

    /// Applies `change` to payment `id` under `operation`'s `idempotency_key`; the change answers
    /// the object id the key points at (the payment's, or a refund's).
    async fn change_payment(
        &self,
        operation: &str,
        id: &str,
        idempotency_key: &str,
        change: impl Fn(&mut TestPayment) -> Result<Option<String>, Error>,
    ) -> Result<(TestPayment, String), Error> {
        for _ in 0..ATTEMPTS {
            if let Some(object) = self.prior(operation, idempotency_key).await? {
                return Ok((self.load_payment(id).await?, object));
            }
            let mut payment = self.load_payment(id).await?;
            let seen = payment.version;
            let Some(object) = change(&mut payment)? else {
                // Nothing to do (already there): nothing is written.
                return Ok((payment, id.to_owned()));
            };
            payment.version += 1;
            match self
                .keyed_write(
                    operation,
                    idempotency_key,
                    &object,
                    vec![(payment.item()?, Some(seen))],
                )
                .await?
            {
                Keyed::Written => return Ok((payment, object)),
                Keyed::KeyUsed(object) => return Ok((self.load_payment(id).await?, object)),
                Keyed::Raced => continue,
            }
        }
        Err(Error::Unavailable(
            format!("test gateway: payment {id} kept changing").into(),
        ))
    }
}

impl PaymentGateway for TestGateway {
    async fn authorize(&self, request: &AuthorizeRequest) -> Result<Authorization, Error> {
        if let Some(delay) = self.delay {
            // The stand-in for a remote provider's answer: timed as the provider call it models.
            bazaar_domain::timing::timed(
                bazaar_domain::timing::Kind::Provider,
                "TestProvider",
                "authorize",
                tokio::time::sleep(delay),
                |_| bazaar_domain::timing::Outcome::Ok,
            )
            .await;
        }
        check_test_method(&request.method)?;
        if request.amount_cents <= 0 {
            return Err(rejected(format!(
                "cannot authorize {} cents",
                request.amount_cents
            )));
        }
        for _ in 0..ATTEMPTS {
            if let Some(id) = self.prior("authorize", &request.idempotency_key).await? {
                let payment = self.load_payment(&id).await?;
                return Ok(Authorization {
                    id,
                    amount_cents: payment.amount_cents,
                });
            }
            let payment = TestPayment {
                id: new_id("pi_test"),
                status: IntentStatus::RequiresCapture,
                amount_cents: request.amount_cents,
                amount_received: 0,
                charge_id: None,
                refunds: Vec::new(),
                checkout_id: request.checkout_id.clone(),
                buyer_id: request.buyer_id.clone(),
                method: request.method.clone(),
                created: chrono::Utc::now().timestamp(),
                version: 1,
            };
            let listed = with_keys(
                Item::from([("payment_id".to_owned(), s(&payment.id))]),
                keys::test_payment_listed(payment.created, &payment.id),
                "test_payment_listed",
            )?;
            match self
                .keyed_write(
                    "authorize",
                    &request.idempotency_key,
                    &payment.id,
                    vec![(payment.item()?, None), (listed, None)],
                )
                .await?
            {
                Keyed::Written => {
                    return Ok(Authorization {
                        id: payment.id,
                        amount_cents: payment.amount_cents,
                    });
                }
                Keyed::KeyUsed(_) | Keyed::Raced => continue,
            }
        }
        Err(Error::Unavailable(
            "test gateway: authorize kept racing".into(),
        ))
    }

    async fn payment(&self, id: &str) -> Result<ProviderPayment, Error> {
        Ok(self.load_payment(id).await?.view())
    }

    async fn capture(
        &self,
        id: &str,
        amount_cents: i64,
        idempotency_key: &str,
    ) -> Result<ProviderPayment, Error> {
        let (payment, _) = self
            .change_payment("capture", id, idempotency_key, |p| {
                if p.status != IntentStatus::RequiresCapture {
                    return Err(rejected(format!(
                        "payment {id} is {:?}: it cannot be captured",
                        p.status
                    )));
                }
                if amount_cents <= 0 || amount_cents > p.amount_cents {
                    return Err(rejected(format!(
                        "cannot capture {amount_cents} of {} cents",
                        p.amount_cents
                    )));
                }
                p.status = IntentStatus::Succeeded;
                p.amount_received = amount_cents;
                p.charge_id = Some(new_id("ch_test"));
                Ok(Some(p.id.clone()))
            })
            .await?;
        Ok(payment.view())
    }

    async fn cancel(&self, id: &str, idempotency_key: &str) -> Result<ProviderPayment, Error> {
        let (payment, _) = self
            .change_payment("cancel", id, idempotency_key, |p| match p.status {
                IntentStatus::Canceled => Ok(None),
                IntentStatus::RequiresCapture => {
                    p.status = IntentStatus::Canceled;
                    Ok(Some(p.id.clone()))
                }
                other => Err(rejected(format!(
                    "payment {id} is {other:?}: it cannot be canceled"
                ))),
            })
            .await?;
        Ok(payment.view())
    }

    async fn refund(
        &self,
        id: &str,
        order_id: &str,
        amount_cents: i64,
        idempotency_key: &str,
    ) -> Result<ProviderRefund, Error> {
        let (payment, refund_id) = self
            .change_payment("refund", id, idempotency_key, |p| {
                if p.status != IntentStatus::Succeeded {
                    return Err(rejected(format!(
                        "payment {id} is {:?}: nothing to refund",
                        p.status
                    )));
                }
                if amount_cents <= 0 || p.refunded() + amount_cents > p.amount_received {
                    return Err(rejected(format!(
                        "cannot refund {amount_cents} cents: {} of {} captured are refunded",
                        p.refunded(),
                        p.amount_received
                    )));
                }
                let refund = TestRefund {
                    id: new_id("re_test"),
                    amount_cents,
                    order_id: Some(order_id.to_owned()),
                };
                let refund_id = refund.id.clone();
                p.refunds.push(refund);
                Ok(Some(refund_id))
            })
            .await?;
        payment
            .refunds
            .iter()
            .find(|r| r.id == refund_id)
            .map(ProviderRefund::from)
            .ok_or_else(|| rejected(format!("refund {refund_id} of {id} is missing")))
    }

    async fn stale_authorizations(
        &self,
        created_before: i64,
    ) -> Result<Vec<ProviderPayment>, Error> {
        let mut ids = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .table
                .client()
                .query()
                .table_name(self.table.name())
                .key_condition_expression("pk = :pk AND sk < :before")
                .expression_attribute_values(":pk", s(keys::TEST_PAYMENTS))
                .expression_attribute_values(":before", s(&keys::due_stamp(created_before)))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(from_sdk)?;
            ids.extend(
                out.items
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|i| i.get("payment_id").and_then(|v| v.as_s().ok()).cloned()),
            );
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        let items = batch_get(
            self.table.client(),
            self.table.name(),
            ids.iter().map(|id| key(keys::test_payment(id))).collect(),
        )
        .await?;
        let mut stale: Vec<ProviderPayment> = items
            .into_iter()
            .map(from_item::<TestPayment>)
            .filter(|p| {
                p.as_ref()
                    .map_or(true, |p| p.status == IntentStatus::RequiresCapture)
            })
            .map(|p| p.map(|p| p.view()))
            .collect::<Result<_, _>>()?;
        stale.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
        Ok(stale)
    }
}

impl Payouts for TestGateway {
    async fn create_account(
        &self,
        shop_id: &str,
        email: Option<&str>,
        idempotency_key: &str,
    ) -> Result<ConnectedAccount, Error> {
        for _ in 0..ATTEMPTS {
            if let Some(id) = self.prior("account", idempotency_key).await? {
                return self.account(&id).await;
            }
            let account = TestAccount {
                id: new_id("acct_test"),
                shop_id: shop_id.to_owned(),
                email: email.map(str::to_owned),
                payouts_enabled: true,
                details_submitted: true,
                version: 1,
            };
            let item = with_keys(
                to_item(&account)?,
                keys::test_account(&account.id),
                "test_account",
            )?;
            match self
                .keyed_write("account", idempotency_key, &account.id, vec![(item, None)])
                .await?
            {
                Keyed::Written => {
                    return Ok(ConnectedAccount {
                        id: account.id,
                        payouts_enabled: account.payouts_enabled,
                        details_submitted: account.details_submitted,
                    });
                }
                Keyed::KeyUsed(_) | Keyed::Raced => continue,
            }
        }
        Err(Error::Unavailable(
            "test gateway: create_account kept racing".into(),
        ))
    }

    /// Local onboarding is instant: the link goes straight back to `return_url` (the refresh URL
    /// is never needed).
    async fn onboarding_link(
        &self,
        account_id: &str,
        return_url: &str,
        _refresh_url: &str,
    ) -> Result<String, Error> {
        let separator = if return_url.contains('?') { '&' } else { '?' };
        Ok(format!("{return_url}{separator}account={account_id}"))
    }

    async fn account(&self, account_id: &str) -> Result<ConnectedAccount, Error> {
        let item = self
            .get(keys::test_account(account_id))
            .await?
            .ok_or_else(|| rejected(format!("no such account {account_id}")))?;
        let account: TestAccount = from_item(item)?;
        Ok(ConnectedAccount {
            id: account.id,
            payouts_enabled: account.payouts_enabled,
            details_submitted: account.details_submitted,
        })
    }

    async fn transfer(&self, request: &TransferRequest) -> Result<Transfer, Error> {
        if request.amount_cents <= 0 {
            return Err(rejected(format!(
                "cannot transfer {} cents",
                request.amount_cents
            )));
        }
        for _ in 0..ATTEMPTS {
            if let Some(id) = self.prior("transfer", &request.idempotency_key).await? {
                return Ok(self.load_transfer(&id).await?.view());
            }
            if !self.account(&request.destination).await?.payouts_enabled {
                return Err(rejected(format!(
                    "account {} cannot receive transfers",
                    request.destination
                )));
            }
            let transfer = TestTransfer {
                id: new_id("tr_test"),
                amount_cents: request.amount_cents,
                reversed_cents: 0,
                destination: request.destination.clone(),
                transfer_group: request.transfer_group.clone(),
                source_transaction: request.source_transaction.clone(),
                order_id: request.order_id.clone(),
                version: 1,
            };
            let pointer = with_keys(
                Item::from([("transfer_group".to_owned(), s(&transfer.transfer_group))]),
                keys::test_transfer_pointer(&transfer.id),
                "test_transfer_pointer",
            )?;
            match self
                .keyed_write(
                    "transfer",
                    &request.idempotency_key,
                    &transfer.id,
                    vec![(transfer.item()?, None), (pointer, None)],
                )
                .await?
            {
                Keyed::Written => return Ok(transfer.view()),
                Keyed::KeyUsed(_) | Keyed::Raced => continue,
            }
        }
        Err(Error::Unavailable(
            "test gateway: transfer kept racing".into(),
        ))
    }

    async fn transfers(&self, transfer_group: &str) -> Result<Vec<Transfer>, Error> {
        let mut transfers = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .table
                .client()
                .query()
                .table_name(self.table.name())
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(&keys::test_transfer_group(transfer_group)))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(from_sdk)?;
            for item in out.items.unwrap_or_default() {
                transfers.push(from_item::<TestTransfer>(item)?.view());
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(transfers);
            }
        }
    }

    async fn reverse(
        &self,
        transfer_id: &str,
        amount_cents: i64,
        idempotency_key: &str,
    ) -> Result<Transfer, Error> {
        for _ in 0..ATTEMPTS {
            if self.prior("reversal", idempotency_key).await?.is_some() {
                return Ok(self.load_transfer(transfer_id).await?.view());
            }
            let mut transfer = self.load_transfer(transfer_id).await?;
            if amount_cents <= 0 || transfer.reversed_cents + amount_cents > transfer.amount_cents {
                return Err(rejected(format!(
                    "cannot reverse {amount_cents} cents of transfer {transfer_id}: {} of {} already reversed",
                    transfer.reversed_cents, transfer.amount_cents
                )));
            }
            let seen = transfer.version;
            transfer.reversed_cents += amount_cents;
            transfer.version += 1;
            match self
                .keyed_write(
                    "reversal",
                    idempotency_key,
                    transfer_id,
                    vec![(transfer.item()?, Some(seen))],
                )
                .await?
            {
                Keyed::Written => return Ok(transfer.view()),
                Keyed::KeyUsed(_) => return Ok(self.load_transfer(transfer_id).await?.view()),
                Keyed::Raced => continue,
            }
        }
        Err(Error::Unavailable(
            format!("test gateway: transfer {transfer_id} kept changing").into(),
        ))
    }
}
