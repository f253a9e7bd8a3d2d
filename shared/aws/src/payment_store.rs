//! The DynamoDB side of money: the [`PaymentStore`] port (payment records, their settlement
//! lease, the ledger, waiting payouts, payout accounts on shops, webhook event claims).
//!
//! The payment record (`PAYMENT#<checkout id>`) is the domain's [`Payment`] with:
//! - `cancelled_orders`, a string set that an order's cancel transaction `ADD`s to without reading
//!   the record; [`payment_from_item`] merges it into [`OrderShare::cancelled`];
//! - `lease_holder` / `lease_until` (unix seconds): the settlement lease;
//! - while open, the sparse GSI1 keys `PAYMENTS#DUE` / `<due>#<checkout id>` and `opened_at`
//!   (when it was first opened since it was last closed).
//!
//! Round trips: `payment`, `lease`, `release`, `shop_payouts`, `shop_of_account`,
//! `first_delivery`, `set_payout_account`: one each. `save`: one `TransactWriteItems` (plus one
//! more per 100 ledger entries that do not fit in it — never in practice). `due`, `ledger`,
//! `waiting_payouts`: one query per page. `payout_accounts`: one `BatchGetItem` per 100 shops.
//!
//! [`OrderShare::cancelled`]: bazaar_domain::payments::OrderShare::cancelled

use crate::schema::keys;
use crate::table::{
    Item, Table, Tx, TxError, batch_get, conditional, decode_cursor, encode_cursor, from_item,
    from_sdk, key, s, to_av, to_item,
};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, Update,
};
use bazaar_domain::error::{Error, Resource};
use bazaar_domain::payments::{LedgerEntry, LedgerPage, Payment, PayoutAccount};
use bazaar_domain::ports::{Commit, Leased, PaymentStore, ShopPayouts};
use chrono::{DateTime, Utc};
use std::collections::{BTreeSet, HashMap};

/// How long a claimed webhook event id is remembered (the provider retries for 3 days).
pub const WEBHOOK_TTL_SECS: i64 = 30 * 24 * 3600;

/// DynamoDB's limit on actions in one transaction.
const MAX_ACTIONS: usize = 100;

/// Record attributes a save never overwrites: the keys, what other writers own (the cancel
/// transaction's set, the lease) and what the save sets itself.
const NOT_SAVED: &[&str] = &[
    "pk",
    "sk",
    "checkout_id",
    "version",
    "cancelled_orders",
    "lease_holder",
    "lease_until",
    "gsi1pk",
    "gsi1sk",
    "opened_at",
];

/// Decodes a payment record (a table item, or a stream image in `serde_dynamo`'s form): the
/// stored [`Payment`] with every order in `cancelled_orders` marked cancelled.
pub fn payment_from_item(item: impl Into<serde_dynamo::Item>) -> Result<Payment, Error> {
    let item: serde_dynamo::Item = item.into();
    let cancelled: BTreeSet<String> = match item.get("cancelled_orders") {
        Some(serde_dynamo::AttributeValue::Ss(ids)) => ids.iter().cloned().collect(),
        _ => BTreeSet::new(),
    };
    let mut payment: Payment = serde_dynamo::from_item(item).map_err(Error::internal)?;
    for order in &mut payment.orders {
        if cancelled.contains(&order.order_id) {
            order.cancelled = true;
        }
    }
    Ok(payment)
}

/// The stored item of a new payment record (checkout writes it), open and due at `due` (unix
/// seconds) when given.
pub fn payment_item(payment: &Payment, due: Option<i64>) -> Result<Item, Error> {
    let mut item = to_item(payment)?;
    let (pk, sk) = keys::payment(&payment.checkout_id);
    item.insert(keys::PK.to_owned(), s(&pk));
    item.insert(keys::SK.to_owned(), s(&sk));
    item.insert("entity".to_owned(), s("payment"));
    if let Some(due) = due {
        let (gsi1pk, gsi1sk) = keys::payment_due(due, &payment.checkout_id);
        item.insert("gsi1pk".to_owned(), s(&gsi1pk));
        item.insert("gsi1sk".to_owned(), s(&gsi1sk));
        item.insert("opened_at".to_owned(), s(&payment.created_at.to_rfc3339()));
    }
    Ok(item)
}

/// The stored item of a ledger entry (without its keys' write-once update; see
/// [`DynamoPayments`]'s `save`).
pub fn ledger_item(entry: &LedgerEntry) -> Result<Item, Error> {
    let mut item = to_item(entry)?;
    let (pk, sk) = keys::ledger_entry(
        &entry.shop_id,
        entry.order_created_at,
        &entry.order_id,
        entry.kind.as_str(),
    );
    item.insert(keys::PK.to_owned(), s(&pk));
    item.insert(keys::SK.to_owned(), s(&sk));
    item.insert("entity".to_owned(), s("ledger"));
    Ok(item)
}

/// The DynamoDB implementation of [`PaymentStore`].
#[derive(Debug, Clone)]
pub struct DynamoPayments {
    table: Table,
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn string_attr(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn payout_account_of(item: &Item) -> Result<Option<PayoutAccount>, Error> {
    item.get("payout_account")
        .map(|v| serde_dynamo::from_attribute_value(v.clone()).map_err(Error::internal))
        .transpose()
}

impl DynamoPayments {
    /// The store over table `table` (see [`Table::payments`]).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table),
        }
    }

    fn client(&self) -> &Client {
        self.table.client()
    }

    /// The write-once update of a ledger entry: every attribute `if_not_exists`, so an entry
    /// written before stays as it was (and the write neither fails nor changes anything — no
    /// stream record either). An entry's identity is (order, kind): the same movement.
    fn entry_update(&self, entry: &LedgerEntry) -> Result<Update, Error> {
        let mut item = ledger_item(entry)?;
        let key_item = HashMap::from([
            (keys::PK.to_owned(), item.remove(keys::PK).unwrap_or(s(""))),
            (keys::SK.to_owned(), item.remove(keys::SK).unwrap_or(s(""))),
        ]);
        let mut update = Update::builder()
            .table_name(self.table.name())
            .set_key(Some(key_item));
        let mut sets = Vec::new();
        for (i, (name, value)) in item.into_iter().enumerate() {
            sets.push(format!("#a{i} = if_not_exists(#a{i}, :a{i})"));
            update = update
                .expression_attribute_names(format!("#a{i}"), name)
                .expression_attribute_values(format!(":a{i}"), value);
        }
        update
            .update_expression(format!("SET {}", sets.join(", ")))
            .build()
            .map_err(Error::internal)
    }

    /// The record's update of a save (see [`PaymentStore::save`]).
    fn record_update(
        &self,
        payment: &Payment,
        holder: &str,
        due: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Update, Error> {
        let mut update = crate::table::UpdateBuilder::default();
        for (name, value) in to_item(payment)? {
            if !NOT_SAVED.contains(&name.as_str()) {
                update.set(&name, value);
            }
        }
        update.name("#version", "version");
        update.value(":seen", n(payment.version));
        update.value(":next", n(payment.version + 1));
        update.value(":holder", s(holder));
        let mut extra = vec!["#version = :next"];
        let remove = match due {
            Some(due) => {
                let (gsi1pk, gsi1sk) = keys::payment_due(due, &payment.checkout_id);
                update.set("gsi1pk", s(&gsi1pk));
                update.set("gsi1sk", s(&gsi1sk));
                update.value(":opened", s(&now.to_rfc3339()));
                extra.push("opened_at = if_not_exists(opened_at, :opened)");
                ""
            }
            None => " REMOVE gsi1pk, gsi1sk, opened_at",
        };
        let expression = format!("{}{remove}", update.expression(&extra));
        Update::builder()
            .table_name(self.table.name())
            .set_key(Some(key(keys::payment(&payment.checkout_id))))
            .update_expression(expression)
            .condition_expression("#version = :seen AND lease_holder = :holder")
            .set_expression_attribute_names(Some(update.names))
            .set_expression_attribute_values(Some(update.values))
            .build()
            .map_err(Error::internal)
    }

    /// The waiting-payout items of a save: present for every live, captured order without a
    /// transfer (its shop had no enabled account when settlement ran — settlement transfers in
    /// the same pass when it has one), deleted for every captured order that got its transfer
    /// or was cancelled. Orders never captured never had one.
    fn waits(&self, payment: &Payment) -> Result<(Vec<Put>, Vec<Delete>), Error> {
        let (mut puts, mut deletes) = (Vec::new(), Vec::new());
        for order in payment.orders.iter().filter(|o| o.captured) {
            let (pk, sk) = keys::payout_wait(&order.shop_id, &payment.checkout_id, &order.order_id);
            if !order.cancelled && order.transfer_id.is_none() {
                let item = HashMap::from([
                    (keys::PK.to_owned(), s(&pk)),
                    (keys::SK.to_owned(), s(&sk)),
                    ("entity".to_owned(), s("payout_wait")),
                    ("checkout_id".to_owned(), s(&payment.checkout_id)),
                    ("order_id".to_owned(), s(&order.order_id)),
                    ("shop_id".to_owned(), s(&order.shop_id)),
                    ("payout_cents".to_owned(), n(order.payout_cents())),
                ]);
                puts.push(
                    Put::builder()
                        .table_name(self.table.name())
                        .set_item(Some(item))
                        .build()
                        .map_err(Error::internal)?,
                );
            } else {
                deletes.push(
                    Delete::builder()
                        .table_name(self.table.name())
                        .set_key(Some(key((pk, sk))))
                        .build()
                        .map_err(Error::internal)?,
                );
            }
        }
        Ok((puts, deletes))
    }

    /// Every item of a query (all pages), at most `limit`.
    async fn query_all(
        &self,
        index: Option<&str>,
        value: &str,
        below: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Item>, Error> {
        let (pk_name, sk_name) = match index {
            Some(_) => ("gsi1pk", "gsi1sk"),
            None => (keys::PK, keys::SK),
        };
        let mut found = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut query = self
                .client()
                .query()
                .table_name(self.table.name())
                .set_index_name(index.map(str::to_owned))
                .expression_attribute_names("#pk", pk_name)
                .expression_attribute_values(":pk", s(value))
                .limit(i32::try_from(limit - found.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take());
            query = match below {
                Some(bound) => query
                    .key_condition_expression("#pk = :pk AND #sk < :below")
                    .expression_attribute_names("#sk", sk_name)
                    .expression_attribute_values(":below", s(bound)),
                None => query.key_condition_expression("#pk = :pk"),
            };
            let out = query.send().await.map_err(from_sdk)?;
            found.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() || found.len() >= limit {
                found.truncate(limit);
                return Ok(found);
            }
        }
    }
}

impl PaymentStore for DynamoPayments {
    async fn payment(&self, checkout_id: &str) -> Result<Option<Payment>, Error> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::payment(checkout_id))))
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?;
        out.item.map(payment_from_item).transpose()
    }

    /// One `UpdateItem`: taken when the record exists and the lease is free, lapsed or already
    /// `holder`'s; a failed condition returns the old item (`ALL_OLD`), which tells a busy lease
    /// from a missing record without a second read.
    async fn lease(
        &self,
        checkout_id: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> Result<Leased, Error> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::payment(checkout_id))))
            .update_expression("SET lease_holder = :holder, lease_until = :until")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(lease_until) OR lease_until < :now OR lease_holder = :holder)",
            )
            .expression_attribute_values(":holder", s(holder))
            .expression_attribute_values(":until", n(until))
            .expression_attribute_values(":now", n(now))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match conditional(result)? {
            Ok(out) => Ok(Leased::Taken(payment_from_item(
                out.attributes.unwrap_or_default(),
            )?)),
            Err(Some(old)) if !old.is_empty() => Ok(Leased::Busy),
            Err(_) => Ok(Leased::Missing),
        }
    }

    /// One `TransactWriteItems`: the record's update (conditioned on `version` and
    /// `lease_holder`, named so its failure is a lost race), the ledger entries as write-once
    /// updates (an entry written by an earlier save is left as it was: no read first, and no
    /// condition that could cancel the save), the waiting-payout puts and deletes. Entries beyond
    /// the 100-action limit are written first in transactions of their own — they record
    /// movements the provider already made, so they are true whether or not the record's save
    /// then wins, and the retry writes the same (order, kind) entries as no-ops.
    async fn save(
        &self,
        payment: &Payment,
        entries: &[LedgerEntry],
        holder: &str,
        due: Option<i64>,
    ) -> Result<Commit, Error> {
        let now = Utc::now();
        let (puts, deletes) = self.waits(payment)?;
        let room = MAX_ACTIONS.saturating_sub(1 + puts.len() + deletes.len());
        let spill = entries.len().saturating_sub(room);
        for chunk in entries[..spill].chunks(MAX_ACTIONS) {
            let mut tx: Tx = Tx::new();
            for entry in chunk {
                tx.update(self.entry_update(entry)?).unnamed();
            }
            if let Err(e) = tx.commit(self.client()).await {
                return match e {
                    TxError::Cancelled { .. } => Ok(Commit::LostRace),
                    other => Err(other.into_error()),
                };
            }
        }
        let mut tx: Tx = Tx::new();
        tx.update(self.record_update(payment, holder, due, now)?)
            .or("record");
        for entry in &entries[spill..] {
            tx.update(self.entry_update(entry)?).unnamed();
        }
        for put in puts {
            tx.put(put).unnamed();
        }
        for delete in deletes {
            tx.delete(delete).unnamed();
        }
        match tx.commit(self.client()).await {
            Ok(()) => Ok(Commit::Committed),
            // The record changed (version or lease), or another write was on one of these items
            // at that moment: nothing was written, and a fresh read decides.
            Err(TxError::Cancelled { .. }) => Ok(Commit::LostRace),
            Err(TxError::Other(e)) => Err(e),
        }
    }

    async fn release(&self, checkout_id: &str, holder: &str) -> Result<(), Error> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::payment(checkout_id))))
            .update_expression("REMOVE lease_holder, lease_until")
            .condition_expression("lease_holder = :holder")
            .expression_attribute_values(":holder", s(holder))
            .send()
            .await;
        // Not held by `holder` (taken over after it lapsed, or never taken): nothing to give up.
        conditional(result)?.ok();
        Ok(())
    }

    /// Queries the sparse GSI1 partition `PAYMENTS#DUE` below `due_stamp(before)` (eventually
    /// consistent: reconciliation's safety net runs again).
    async fn due(&self, before: i64, limit: usize) -> Result<Vec<(String, DateTime<Utc>)>, Error> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let items = self
            .query_all(
                Some("GSI1"),
                keys::PAYMENTS_DUE,
                Some(&keys::due_stamp(before)),
                limit,
            )
            .await?;
        // A record that cannot be read is logged and skipped: it must not stop reconciliation
        // of every other payment.
        Ok(items
            .iter()
            .filter_map(|item| {
                let checkout_id = string_attr(item, "checkout_id");
                let opened_at = string_attr(item, "opened_at")
                    .and_then(|at| DateTime::parse_from_rfc3339(&at).ok())
                    .map(|at| at.with_timezone(&Utc));
                match (checkout_id, opened_at) {
                    (Some(c), Some(at)) => Some((c, at)),
                    (c, _) => {
                        tracing::error!(checkout_id = ?c, "a due payment record that cannot be read; skipped");
                        None
                    }
                }
            })
            .collect())
    }

    async fn payout_accounts(
        &self,
        shop_ids: &[String],
    ) -> Result<HashMap<String, PayoutAccount>, Error> {
        let wanted: BTreeSet<&String> = shop_ids.iter().collect();
        if wanted.is_empty() {
            return Ok(HashMap::new());
        }
        let items = batch_get(
            self.client(),
            self.table.name(),
            wanted.into_iter().map(|id| key(keys::shop(id))).collect(),
        )
        .await?;
        let mut accounts = HashMap::new();
        for item in &items {
            if let (Some(id), Some(account)) = (string_attr(item, "id"), payout_account_of(item)?) {
                accounts.insert(id, account);
            }
        }
        Ok(accounts)
    }

    async fn shop_payouts(&self, shop_id: &str) -> Result<Option<ShopPayouts>, Error> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::shop(shop_id))))
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let owner_id = string_attr(&item, "owner_id")
            .ok_or_else(|| Error::internal(format!("shop {shop_id} has no owner_id")))?;
        Ok(Some(ShopPayouts {
            owner_id,
            owner_email: string_attr(&item, "owner_email"),
            account: payout_account_of(&item)?,
        }))
    }

    /// One transaction: the shop's `payout_account` (the shop must exist: `404` otherwise) and
    /// the account → shop lookup item.
    async fn set_payout_account(
        &self,
        shop_id: &str,
        account: &PayoutAccount,
    ) -> Result<(), Error> {
        let (pk, sk) = keys::payout_account(&account.account_id);
        let mut tx: Tx = Tx::new();
        tx.update(
            Update::builder()
                .table_name(self.table.name())
                .set_key(Some(key(keys::shop(shop_id))))
                .update_expression("SET payout_account = :account")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":account", to_av(account)?)
                .build()
                .map_err(Error::internal)?,
        )
        .or("shop_missing");
        tx.put(
            Put::builder()
                .table_name(self.table.name())
                .item(keys::PK, s(&pk))
                .item(keys::SK, s(&sk))
                .item("entity", s("payout_account"))
                .item("account_id", s(&account.account_id))
                .item("shop_id", s(shop_id))
                .build()
                .map_err(Error::internal)?,
        )
        .unnamed();
        match tx.commit(self.client()).await {
            Ok(()) => Ok(()),
            Err(e) if e.failed(&"shop_missing") => Err(Error::not_found(Resource::Shop, shop_id)),
            Err(e) => Err(e.into_error()),
        }
    }

    async fn shop_of_account(&self, account_id: &str) -> Result<Option<String>, Error> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::payout_account(account_id))))
            .send()
            .await
            .map_err(from_sdk)?;
        Ok(out.item.and_then(|item| string_attr(&item, "shop_id")))
    }

    async fn waiting_payouts(&self, shop_id: &str) -> Result<Vec<String>, Error> {
        let items = self
            .query_all(None, &keys::payout_waits(shop_id), None, usize::MAX)
            .await?;
        let ids: BTreeSet<String> = items
            .iter()
            .filter_map(|item| string_attr(item, "checkout_id"))
            .collect();
        Ok(ids.into_iter().collect())
    }

    async fn ledger(
        &self,
        shop_id: &str,
        cursor: Option<&str>,
        limit: i32,
    ) -> Result<LedgerPage, Error> {
        let partition = keys::ledger(shop_id);
        let start = cursor
            .map(|c| decode_cursor(c, keys::PK, &partition, 2))
            .transpose()?;
        let out = self
            .client()
            .query()
            .table_name(self.table.name())
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(&partition))
            .scan_index_forward(false)
            .limit(limit.max(1))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(from_sdk)?;
        let entries = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_item::<LedgerEntry>)
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = out
            .last_evaluated_key
            .as_ref()
            .map(encode_cursor)
            .transpose()?;
        Ok(LedgerPage {
            entries,
            next_cursor,
        })
    }

    async fn first_delivery(&self, event_id: &str) -> Result<bool, Error> {
        let (pk, sk) = keys::webhook(event_id);
        let result = self
            .client()
            .put_item()
            .table_name(self.table.name())
            .item(keys::PK, s(&pk))
            .item(keys::SK, s(&sk))
            .item("entity", s("webhook_event"))
            .item("ttl", n(Utc::now().timestamp() + WEBHOOK_TTL_SECS))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        Ok(conditional(result)?.is_ok())
    }

    async fn forget_delivery(&self, event_id: &str) -> Result<(), Error> {
        let result = self
            .client()
            .delete_item()
            .table_name(self.table.name())
            .set_key(Some(crate::table::key(keys::webhook(event_id))))
            .send()
            .await;
        // No condition: a failed delete surfaces as the store error it is.
        conditional(result)?.map(|_| ()).or(Ok(()))
    }
}
