//! Settlement: drives a checkout's [`Payment`] to a final state, off the request path.
//!
//! [`PaymentService::settle`] is the one way money moves after checkout. Whoever calls it — the
//! settlement worker on the record's event, the webhook, reconciliation, a shop connecting its
//! payout account — it does the same thing, and doing it twice does nothing more:
//!
//! 1. take the checkout's lease (one settler at a time; a busy lease is someone else's work);
//! 2. read the provider's view of the payment and adopt it (a capture, cancel or refund that
//!    happened before a crash is found here, not repeated);
//! 3. pick the next movement from the record ([`next_step`]: capture the live orders' amount or
//!    void when none is live; reverse a cancelled order's payout, then refund it; pay a live
//!    order's share out to its shop's enabled account), perform it with an idempotency key
//!    derived from our ids, adopt its result and save the record with its ledger entries on the
//!    condition that nothing changed meanwhile — a cancellation that landed is read and the loop
//!    continues;
//! 4. when nothing is left, save the record closed (no longer due) and give the lease back.
//!
//! Before a payout is made the provider's transfers of the checkout are read, so a transfer whose
//! answer was lost is adopted, not repeated; a shop without an enabled account keeps its share
//! on the platform until it connects ([`PaymentService::refresh_account`]).

use crate::error::{Error, Resource};
use crate::metrics::Metrics;
use crate::payments::{
    EntryKind, IntentStatus, LedgerEntry, LedgerPage, Payment, PaymentStatus, PayoutAccount,
    PayoutStatus, ProviderEvent, ProviderEventKind, ProviderPayment, Transfer, TransferRequest,
    keys,
};
use crate::ports::{Commit, Leased, PaymentGateway, PaymentStore, Payouts};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::HashMap;

/// How long one settler holds a checkout (longer than the settlement function's timeout).
pub const LEASE_SECS: i64 = 60;
/// When an open payment is looked at again by reconciliation if no event comes first.
pub const RETRY_SECS: i64 = 600;
/// Saves one settle may lose to concurrent changes before it gives up (and is retried).
const ROUNDS: usize = 16;
/// An authorization no committed checkout owns is voided once it is this old (any checkout
/// attempt that could still commit it has long timed out).
pub const ORPHAN_AFTER_SECS: i64 = 3600;
/// A payment still open after this long is stuck: reconciliation alarms.
pub const STUCK_AFTER_SECS: i64 = 3 * 24 * 3600;

/// What [`PaymentService::settle`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// The payment as left: final, or waiting for something outside (a shop to connect).
    Done(Payment),
    /// Another settler holds the checkout; it will see what this one would have.
    Busy,
    /// No payment for this checkout.
    Missing,
}

/// The next movement of a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Capture { amount_cents: i64 },
    Void,
    /// Take a cancelled order's payout back from its shop.
    Reverse { order: usize, transfer_id: String, amount_cents: i64 },
    /// Give a cancelled, captured order's amount back to the buyer.
    Refund { order: usize, amount_cents: i64 },
    /// Pay a live order's share out to its shop's account.
    Transfer { order: usize, destination: String, amount_cents: i64 },
}

/// The next movement `payment` needs, given the shops' payout accounts; `None` when it is final
/// (or waits for a shop to connect).
pub fn next_step(payment: &Payment, accounts: &HashMap<String, PayoutAccount>) -> Option<Step> {
    match payment.status {
        PaymentStatus::Voided => return None,
        PaymentStatus::Authorized => {
            let live = payment.live_cents();
            return Some(if live > 0 {
                Step::Capture { amount_cents: live }
            } else {
                Step::Void
            });
        }
        _ => {}
    }
    for (i, o) in payment.orders.iter().enumerate() {
        if !o.cancelled {
            continue;
        }
        if o.transferred_cents > o.reversed_cents
            && let Some(transfer_id) = &o.transfer_id
        {
            return Some(Step::Reverse {
                order: i,
                transfer_id: transfer_id.clone(),
                amount_cents: o.transferred_cents - o.reversed_cents,
            });
        }
        if o.captured && o.refunded_cents < o.amount_cents {
            return Some(Step::Refund {
                order: i,
                amount_cents: o.amount_cents - o.refunded_cents,
            });
        }
    }
    for (i, o) in payment.orders.iter().enumerate() {
        if o.cancelled || !o.captured || o.transfer_id.is_some() || o.payout_cents() <= 0 {
            continue;
        }
        if let Some(account) = accounts.get(&o.shop_id)
            && account.status == PayoutStatus::Enabled
        {
            return Some(Step::Transfer {
                order: i,
                destination: account.account_id.clone(),
                amount_cents: o.payout_cents(),
            });
        }
    }
    None
}

/// Adopts the provider's view of the payment into `payment`, returning the ledger entries the
/// adopted movements imply (entries are per (order, kind): adopting twice writes them once).
pub fn adopt(payment: &mut Payment, truth: &ProviderPayment, now: DateTime<Utc>) -> Vec<LedgerEntry> {
    let mut entries = Vec::new();
    if payment.status == PaymentStatus::Authorized {
        match truth.status {
            IntentStatus::Canceled if truth.amount_received == 0 => {
                payment.status = PaymentStatus::Voided;
            }
            _ if truth.amount_received > 0 => {
                payment.status = PaymentStatus::Captured;
                payment.captured_cents = truth.amount_received;
                payment.charge_id = truth.charge_id.clone();
                // The capture took the orders live when it was made: the live ones, and
                // cancelled ones (cancelled after the capture was sent) up to what it took.
                let mut left = truth.amount_received;
                for o in payment.orders.iter_mut().filter(|o| !o.cancelled) {
                    o.captured = true;
                    left -= o.amount_cents;
                }
                for o in payment.orders.iter_mut().filter(|o| o.cancelled) {
                    if left >= o.amount_cents {
                        o.captured = true;
                        left -= o.amount_cents;
                    }
                }
                let snapshot = payment.clone();
                for o in snapshot.orders.iter().filter(|o| o.captured) {
                    entries.push(LedgerEntry::new(
                        &snapshot,
                        o,
                        EntryKind::Charge,
                        o.amount_cents,
                        truth.charge_id.clone(),
                        now,
                    ));
                    if o.fee_cents > 0 {
                        entries.push(LedgerEntry::new(
                            &snapshot,
                            o,
                            EntryKind::Fee,
                            o.fee_cents,
                            None,
                            now,
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    if payment.charge_id.is_none() {
        payment.charge_id = truth.charge_id.clone();
    }
    for i in 0..payment.orders.len() {
        let refunded = truth.refunded_for(&payment.orders[i].order_id);
        if refunded > payment.orders[i].refunded_cents {
            payment.orders[i].refunded_cents = refunded;
            entries.extend(refund_entries(payment, i, truth, now));
        }
    }
    payment.refresh_status();
    entries
}

/// The entries of a refunded order: the fee given back and the amount refunded.
fn refund_entries(
    payment: &Payment,
    i: usize,
    truth: &ProviderPayment,
    now: DateTime<Utc>,
) -> Vec<LedgerEntry> {
    let o = &payment.orders[i];
    let reference = truth
        .refunds
        .iter()
        .find(|r| r.order_id.as_deref() == Some(o.order_id.as_str()))
        .map(|r| r.id.clone());
    let mut out = Vec::new();
    if o.fee_cents > 0 {
        out.push(LedgerEntry::new(payment, o, EntryKind::FeeRefund, o.fee_cents, None, now));
    }
    out.push(LedgerEntry::new(
        payment,
        o,
        EntryKind::Refund,
        o.refunded_cents,
        reference,
        now,
    ));
    out
}

/// Adopts a transfer of order `i` (made now, or found at the provider).
fn adopt_transfer(payment: &mut Payment, i: usize, t: &Transfer, now: DateTime<Utc>) -> Vec<LedgerEntry> {
    let mut entries = Vec::new();
    let o = &mut payment.orders[i];
    if o.transfer_id.is_none() {
        o.transfer_id = Some(t.id.clone());
        o.transferred_cents = t.amount_cents;
        let snapshot = payment.orders[i].clone();
        entries.push(LedgerEntry::new(
            payment,
            &snapshot,
            EntryKind::Transfer,
            t.amount_cents,
            Some(t.id.clone()),
            now,
        ));
    }
    let o = &mut payment.orders[i];
    if t.reversed_cents > o.reversed_cents {
        o.reversed_cents = t.reversed_cents;
        let snapshot = payment.orders[i].clone();
        entries.push(LedgerEntry::new(
            payment,
            &snapshot,
            EntryKind::Reversal,
            t.reversed_cents,
            Some(t.id.clone()),
            now,
        ));
    }
    entries
}

/// What one reconciliation run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Reconciled {
    /// Due payments settled (or found final).
    pub settled: usize,
    /// Due payments another settler held.
    pub busy: usize,
    /// Due payments whose settlement failed (they stay due).
    pub failed: usize,
    /// Payments open for longer than [`STUCK_AFTER_SECS`].
    pub stuck: usize,
    /// Authorizations no committed checkout owned, voided.
    pub orphans_voided: usize,
}

/// What a webhook delivery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The event was applied.
    Applied,
    /// The event id was applied before.
    Duplicate,
    /// Not ours or not a kind Bazaar acts on: acknowledged.
    Ignored,
}

/// `POST /shops/{shop_id}/payouts/account`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Onboarding {
    pub shop_id: String,
    pub account_id: String,
    pub status: PayoutStatus,
    /// Where the seller finishes onboarding (one-time link).
    pub onboarding_url: String,
}

/// Settlement, webhooks, reconciliation and payouts over a [`PaymentStore`], a
/// [`PaymentGateway`] and [`Payouts`].
#[derive(Debug, Clone)]
pub struct PaymentService<S, G, P> {
    store: S,
    gateway: G,
    payouts: P,
    /// This instance's lease holder id.
    holder: String,
    return_url: String,
}

impl<S: PaymentStore, G: PaymentGateway, P: Payouts> PaymentService<S, G, P> {
    pub fn new(store: S, gateway: G, payouts: P) -> Self {
        Self {
            store,
            gateway,
            payouts,
            holder: uuid::Uuid::new_v4().to_string(),
            return_url: String::new(),
        }
    }

    /// Where onboarding links send the seller back to.
    pub fn with_return_url(mut self, url: impl Into<String>) -> Self {
        self.return_url = url.into();
        self
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn gateway(&self) -> &G {
        &self.gateway
    }

    pub fn payouts(&self) -> &P {
        &self.payouts
    }

    /// Drives the checkout's payment as far as it can go now (see the module doc).
    pub async fn settle(&self, checkout_id: &str) -> Result<Settled, Error> {
        let now = Utc::now().timestamp();
        let payment = match self
            .store
            .lease(checkout_id, &self.holder, now, now + LEASE_SECS)
            .await?
        {
            Leased::Taken(p) => p,
            Leased::Busy => return Ok(Settled::Busy),
            Leased::Missing => return Ok(Settled::Missing),
        };
        let result = self.drive(payment).await;
        if let Err(err) = self.store.release(checkout_id, &self.holder).await {
            // The lease lapses by itself; the work is done or will be retried.
            tracing::warn!(checkout_id, error = %err, "could not release the settlement lease");
        }
        result.map(Settled::Done)
    }

    async fn drive(&self, mut payment: Payment) -> Result<Payment, Error> {
        let shops: Vec<String> = payment.orders.iter().map(|o| o.shop_id.clone()).collect();
        let accounts = self.store.payout_accounts(&shops).await?;
        let truth = self.gateway.payment(&payment.payment_id).await?;
        let mut pending = adopt(&mut payment, &truth, Utc::now());
        // Read the provider's transfers once, before the first payout of this run, so that a
        // payout whose answer was lost is adopted instead of repeated.
        let mut transfers_read = false;
        for _round in 0..ROUNDS {
            let step = next_step(&payment, &accounts);
            let Some(step) = step else {
                let done = self.save(&mut payment, &pending, None).await?;
                if done {
                    self.emit_final(&payment);
                    return Ok(payment);
                }
                payment = self.reread(&payment).await?;
                let truth = self.gateway.payment(&payment.payment_id).await?;
                pending = adopt(&mut payment, &truth, Utc::now());
                continue;
            };
            let now = Utc::now();
            match step {
                Step::Capture { amount_cents } => {
                    let after = self
                        .gateway
                        .capture(&payment.payment_id, amount_cents, &keys::capture(&payment.checkout_id, amount_cents))
                        .await?;
                    pending.extend(adopt(&mut payment, &after, now));
                }
                Step::Void => {
                    let after = self
                        .gateway
                        .cancel(&payment.payment_id, &keys::cancel(&payment.payment_id))
                        .await?;
                    pending.extend(adopt(&mut payment, &after, now));
                }
                Step::Reverse { order, transfer_id, amount_cents } => {
                    let order_id = payment.orders[order].order_id.clone();
                    let after = self
                        .payouts
                        .reverse(&transfer_id, amount_cents, &keys::reversal(&order_id, amount_cents))
                        .await?;
                    pending.extend(adopt_transfer(&mut payment, order, &after, now));
                }
                Step::Refund { order, amount_cents } => {
                    let order_id = payment.orders[order].order_id.clone();
                    self.gateway
                        .refund(&payment.payment_id, &order_id, amount_cents, &keys::refund(&order_id, amount_cents))
                        .await?;
                    let after = self.gateway.payment(&payment.payment_id).await?;
                    pending.extend(adopt(&mut payment, &after, now));
                }
                Step::Transfer { order, destination, amount_cents } => {
                    if !transfers_read {
                        transfers_read = true;
                        let found = self.payouts.transfers(&payment.checkout_id).await?;
                        let mut adopted = false;
                        for t in &found {
                            if let Some(i) = payment
                                .orders
                                .iter()
                                .position(|o| t.order_id.as_deref() == Some(o.order_id.as_str()))
                            {
                                let entries = adopt_transfer(&mut payment, i, t, now);
                                adopted |= !entries.is_empty();
                                pending.extend(entries);
                            }
                        }
                        if adopted {
                            continue;
                        }
                    }
                    let o = &payment.orders[order];
                    let t = self
                        .payouts
                        .transfer(&TransferRequest {
                            amount_cents,
                            destination,
                            transfer_group: payment.checkout_id.clone(),
                            source_transaction: payment.charge_id.clone(),
                            order_id: o.order_id.clone(),
                            idempotency_key: keys::transfer(&o.order_id),
                        })
                        .await?;
                    pending.extend(adopt_transfer(&mut payment, order, &t, now));
                }
            }
            // Record the movement at once: a crash after this point repeats nothing.
            let due = Some(Utc::now().timestamp() + RETRY_SECS);
            if self.save(&mut payment, &pending, due).await? {
                pending.clear();
            } else {
                // A cancellation landed meanwhile: read it, adopt the provider's view again.
                payment = self.reread(&payment).await?;
                let truth = self.gateway.payment(&payment.payment_id).await?;
                pending = adopt(&mut payment, &truth, Utc::now());
            }
        }
        Err(Error::Unavailable(
            format!("payment {} kept changing while it was settled", payment.checkout_id).into(),
        ))
    }

    /// Saves `payment` (version + 1 on success); `false` when it changed meanwhile.
    async fn save(
        &self,
        payment: &mut Payment,
        entries: &[LedgerEntry],
        due: Option<i64>,
    ) -> Result<bool, Error> {
        payment.updated_at = Utc::now();
        match self.store.save(payment, entries, &self.holder, due).await? {
            Commit::Committed => {
                payment.version += 1;
                Ok(true)
            }
            Commit::LostRace => Ok(false),
        }
    }

    async fn reread(&self, payment: &Payment) -> Result<Payment, Error> {
        self.store
            .payment(&payment.checkout_id)
            .await?
            .ok_or_else(|| Error::internal(format!("payment {} vanished", payment.checkout_id)))
    }

    fn emit_final(&self, payment: &Payment) {
        let mut m = Metrics::new("settlement");
        m = m.property("checkout_id", payment.checkout_id.clone());
        match payment.status {
            PaymentStatus::Voided => m = m.count("PaymentsVoided", 1),
            PaymentStatus::Captured => {
                m = m
                    .count("PaymentsCaptured", 1)
                    .count("CapturedCents", u64::try_from(payment.captured_cents).unwrap_or(0))
            }
            PaymentStatus::PartiallyRefunded | PaymentStatus::Refunded => {
                m = m.count("RefundedCents", u64::try_from(payment.refunded_cents).unwrap_or(0))
            }
            PaymentStatus::Authorized => {}
        }
        m.emit();
    }

    /// Applies a verified provider event once per event id.
    pub async fn webhook(&self, event: &ProviderEvent) -> Result<Applied, Error> {
        if !self.store.first_delivery(&event.id).await? {
            return Ok(Applied::Duplicate);
        }
        let outcome = self.apply(&event.kind).await;
        if outcome.is_err() {
            // Let the provider deliver it again: the claim must not hide a failed application.
            self.store.forget_delivery(&event.id).await?;
        }
        outcome
    }

    async fn apply(&self, kind: &ProviderEventKind) -> Result<Applied, Error> {
        match kind {
            ProviderEventKind::Payment { payment_id, checkout_id } => {
                let Some(checkout_id) = self.checkout_of(payment_id, checkout_id.as_deref()).await?
                else {
                    return Ok(Applied::Ignored);
                };
                match self.settle(&checkout_id).await? {
                    Settled::Missing => Ok(Applied::Ignored),
                    // The holder reads the provider's view itself, after this event.
                    Settled::Busy | Settled::Done(_) => Ok(Applied::Applied),
                }
            }
            ProviderEventKind::Dispute { payment_id, checkout_id } => {
                let Some(checkout_id) = self.checkout_of(payment_id, checkout_id.as_deref()).await?
                else {
                    return Ok(Applied::Ignored);
                };
                self.mark_disputed(&checkout_id).await
            }
            ProviderEventKind::Account { account_id, shop_id } => {
                let shop = match shop_id {
                    Some(s) => Some(s.clone()),
                    None => self.store.shop_of_account(account_id).await?,
                };
                match shop {
                    Some(shop) => {
                        self.refresh_account(&shop).await?;
                        Ok(Applied::Applied)
                    }
                    None => Ok(Applied::Ignored),
                }
            }
            ProviderEventKind::Ignored { .. } => Ok(Applied::Ignored),
        }
    }

    /// The checkout a provider payment belongs to: its metadata, else the provider's record.
    async fn checkout_of(&self, payment_id: &str, hint: Option<&str>) -> Result<Option<String>, Error> {
        if let Some(c) = hint {
            return Ok(Some(c.to_owned()));
        }
        Ok(self.gateway.payment(payment_id).await?.checkout_id)
    }

    async fn mark_disputed(&self, checkout_id: &str) -> Result<Applied, Error> {
        for _ in 0..ROUNDS {
            let now = Utc::now().timestamp();
            let mut payment = match self
                .store
                .lease(checkout_id, &self.holder, now, now + LEASE_SECS)
                .await?
            {
                Leased::Taken(p) => p,
                Leased::Missing => return Ok(Applied::Ignored),
                Leased::Busy => {
                    return Err(Error::Unavailable(
                        "the payment is being settled; deliver the dispute again".into(),
                    ));
                }
            };
            if payment.disputed {
                self.store.release(checkout_id, &self.holder).await?;
                return Ok(Applied::Applied);
            }
            payment.disputed = true;
            let due = (!payment.buyer_settled()).then_some(now);
            let saved = self.save(&mut payment, &[], due).await;
            self.store.release(checkout_id, &self.holder).await?;
            if saved? {
                tracing::warn!(checkout_id, "payment disputed");
                Metrics::new("settlement")
                    .count("PaymentsDisputed", 1)
                    .property("checkout_id", checkout_id.to_owned())
                    .emit();
                return Ok(Applied::Applied);
            }
        }
        Err(Error::Unavailable("the payment kept changing".into()))
    }

    /// Settles every payment due by now, voids orphan authorizations, counts stuck payments.
    pub async fn reconcile(&self, limit: usize) -> Result<Reconciled, Error> {
        let now = Utc::now();
        let mut report = Reconciled::default();
        for (checkout_id, opened_at) in self.store.due(now.timestamp(), limit).await? {
            if now - opened_at > Duration::seconds(STUCK_AFTER_SECS) {
                report.stuck += 1;
                tracing::error!(checkout_id, %opened_at, "payment open for more than 3 days");
            }
            match self.settle(&checkout_id).await {
                Ok(Settled::Busy) => report.busy += 1,
                Ok(_) => report.settled += 1,
                Err(err) => {
                    report.failed += 1;
                    tracing::error!(checkout_id, error = %err, "reconciliation could not settle a payment");
                }
            }
        }
        let stale = self
            .gateway
            .stale_authorizations(now.timestamp() - ORPHAN_AFTER_SECS)
            .await?;
        for auth in stale {
            let owned = match &auth.checkout_id {
                Some(c) => self
                    .store
                    .payment(c)
                    .await?
                    .is_some_and(|p| p.payment_id == auth.id),
                None => false,
            };
            if owned {
                continue;
            }
            self.gateway.cancel(&auth.id, &keys::cancel(&auth.id)).await?;
            report.orphans_voided += 1;
            tracing::warn!(payment_id = auth.id, checkout_id = ?auth.checkout_id, "voided an authorization no checkout owns");
        }
        Metrics::new("reconcile")
            .count("PaymentsStuck", report.stuck as u64)
            .count("PaymentsReconciled", report.settled as u64)
            .count("ReconcileFailures", report.failed as u64)
            .count("OrphanAuthorizationsVoided", report.orphans_voided as u64)
            .emit();
        Ok(report)
    }

    /// The shop's owner connects a payout account: created once per shop, then a fresh
    /// onboarding link. `404` for an unknown shop, `403` for anyone but its owner.
    pub async fn connect(&self, caller: &str, shop_id: &str) -> Result<Onboarding, Error> {
        let shop = self.owned_shop(caller, shop_id, "connect a payout account for").await?;
        let account = match shop.account {
            Some(a) => a,
            None => {
                let created = self
                    .payouts
                    .create_account(shop_id, shop.owner_email.as_deref(), &keys::account(shop_id))
                    .await?;
                let account = PayoutAccount {
                    account_id: created.id.clone(),
                    status: PayoutStatus::of(&created),
                };
                self.store.set_payout_account(shop_id, &account).await?;
                account
            }
        };
        let base = if self.return_url.is_empty() { "https://bazaar.invalid/payouts" } else { &self.return_url };
        let return_url = format!("{base}?shop_id={shop_id}");
        let url = self
            .payouts
            .onboarding_link(&account.account_id, &return_url, &format!("{return_url}&refresh=1"))
            .await?;
        let status = self.refresh_account(shop_id).await?.map_or(account.status, |a| a.status);
        Ok(Onboarding {
            shop_id: shop_id.to_owned(),
            account_id: account.account_id,
            status,
            onboarding_url: url,
        })
    }

    /// Reads the shop's account at the provider, stores its status, and once payouts are
    /// enabled settles every checkout whose payout waited for it.
    pub async fn refresh_account(&self, shop_id: &str) -> Result<Option<PayoutAccount>, Error> {
        let Some(shop) = self.store.shop_payouts(shop_id).await? else {
            return Ok(None);
        };
        let Some(mut account) = shop.account else {
            return Ok(None);
        };
        let remote = self.payouts.account(&account.account_id).await?;
        let status = PayoutStatus::of(&remote);
        if status != account.status {
            account.status = status;
            self.store.set_payout_account(shop_id, &account).await?;
        }
        if account.status == PayoutStatus::Enabled {
            for checkout_id in self.store.waiting_payouts(shop_id).await? {
                if let Settled::Busy = self.settle(&checkout_id).await? {
                    tracing::info!(checkout_id, "payout waits for the current settler");
                }
            }
        }
        Ok(Some(account))
    }

    /// A shop's ledger, for its owner.
    pub async fn ledger(
        &self,
        caller: &str,
        shop_id: &str,
        cursor: Option<&str>,
        limit: i32,
    ) -> Result<LedgerPage, Error> {
        self.owned_shop(caller, shop_id, "read the payouts of").await?;
        self.store.ledger(shop_id, cursor, limit).await
    }

    async fn owned_shop(
        &self,
        caller: &str,
        shop_id: &str,
        verb: &str,
    ) -> Result<crate::ports::ShopPayouts, Error> {
        let shop = self
            .store
            .shop_payouts(shop_id)
            .await?
            .ok_or_else(|| Error::not_found(Resource::Shop, shop_id))?;
        if shop.owner_id != caller {
            return Err(Error::Forbidden(format!("Only the shop's owner may {verb} the shop.")));
        }
        Ok(shop)
    }
}
