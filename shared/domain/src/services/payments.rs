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
    ConnectedAccount, EntryKind, IntentStatus, LedgerEntry, LedgerPage, Payment, PaymentStatus,
    PayoutAccount, PayoutStatus, ProviderEvent, ProviderEventKind, ProviderPayment, Transfer,
    TransferRequest, keys,
};
use crate::ports::{Commit, Leased, PaymentGateway, PaymentStore, Payouts};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::HashMap;

/// How long one settler holds a checkout (longer than the settlement function's timeout).
pub const LEASE_SECS: i64 = 60;
/// When an open payment is looked at again by reconciliation if no event comes first.
pub const RETRY_SECS: i64 = 600;
/// Steps of one settle (movements, saves lost to concurrent changes) before it gives up and is
/// retried: enough for a checkout of many shops (capture, then a payout per order).
const ROUNDS: usize = 48;
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
    Capture {
        amount_cents: i64,
    },
    Void,
    /// Take a cancelled order's payout back from its shop.
    Reverse {
        order: usize,
        transfer_id: String,
        amount_cents: i64,
    },
    /// Give a cancelled, captured order's amount back to the buyer.
    Refund {
        order: usize,
        amount_cents: i64,
    },
    /// Pay a live order's share out to its shop's account.
    Transfer {
        order: usize,
        destination: String,
        amount_cents: i64,
    },
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
pub fn adopt(
    payment: &mut Payment,
    truth: &ProviderPayment,
    now: DateTime<Utc>,
) -> Vec<LedgerEntry> {
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
                // The capture took the orders saved as covered before it was asked for. A capture
                // made without that record (outside settlement) is attributed to the live orders,
                // then to cancelled ones while it lasts; what no order accounts for is logged.
                let covered: i64 = payment
                    .orders
                    .iter()
                    .filter(|o| o.in_capture)
                    .map(|o| o.amount_cents)
                    .sum();
                if covered == truth.amount_received {
                    for o in payment.orders.iter_mut() {
                        o.captured = o.in_capture;
                    }
                } else {
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
                    if left != 0 {
                        tracing::error!(
                            checkout_id = payment.checkout_id,
                            unaccounted = left,
                            "a capture no order accounts for"
                        );
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
        out.push(LedgerEntry::new(
            payment,
            o,
            EntryKind::FeeRefund,
            o.fee_cents,
            None,
            now,
        ));
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
fn adopt_transfer(
    payment: &mut Payment,
    i: usize,
    t: &Transfer,
    now: DateTime<Utc>,
) -> Vec<LedgerEntry> {
    let mut kinds = Vec::new();
    let o = &mut payment.orders[i];
    if o.transfer_id.is_none() {
        o.transfer_id = Some(t.id.clone());
        o.transferred_cents = t.amount_cents;
        kinds.push((EntryKind::Transfer, t.amount_cents));
    }
    if t.reversed_cents > o.reversed_cents {
        o.reversed_cents = t.reversed_cents;
        kinds.push((EntryKind::Reversal, t.reversed_cents));
    }
    let order = &payment.orders[i];
    kinds
        .into_iter()
        .map(|(kind, amount)| {
            LedgerEntry::new(payment, order, kind, amount, Some(t.id.clone()), now)
        })
        .collect()
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
    return_url: String,
}

impl<S: PaymentStore, G: PaymentGateway, P: Payouts> PaymentService<S, G, P> {
    pub fn new(store: S, gateway: G, payouts: P) -> Self {
        Self {
            store,
            gateway,
            payouts,
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
        // One holder per settlement, not per instance: two messages of one batch for the same
        // checkout must not both think they hold it.
        let holder = uuid::Uuid::new_v4().to_string();
        let now = Utc::now().timestamp();
        let payment = match self
            .store
            .lease(checkout_id, &holder, now, now + LEASE_SECS)
            .await?
        {
            Leased::Taken(p) => p,
            Leased::Busy => return Ok(Settled::Busy),
            Leased::Missing => return Ok(Settled::Missing),
        };
        // Boxed: the settle future is deep (every provider and store call), and callers nest it.
        let result = Box::pin(self.drive(payment, &holder)).await;
        if let Err(err) = &result
            && let Err(deferring) = self.defer(checkout_id, &holder).await
        {
            tracing::warn!(checkout_id, error = %err, %deferring, "could not defer a failed settlement");
        }
        if let Err(err) = self.store.release(checkout_id, &holder).await {
            // The lease lapses by itself; the work is done or will be retried.
            tracing::warn!(checkout_id, error = %err, "could not release the settlement lease");
        }
        result.map(Settled::Done)
    }

    async fn drive(&self, payment: Payment, holder: &str) -> Result<Payment, Error> {
        let shops: Vec<String> = payment.orders.iter().map(|o| o.shop_id.clone()).collect();
        let accounts = self.store.payout_accounts(&shops).await?;
        let (mut payment, mut truth, mut pending) = self.fresh_view(payment).await?;
        let mut transfers_read = false;
        for _round in 0..ROUNDS {
            let step = next_step(&payment, &accounts);
            let Some(step) = step else {
                let done = self.save(&mut payment, &pending, holder, None).await?;
                if done {
                    self.emit_final(&payment);
                    return Ok(payment);
                }
                (payment, truth, pending) =
                    self.fresh_view(self.relet(&payment, holder).await?).await?;
                transfers_read = false;
                continue;
            };
            let now = Utc::now();
            match step {
                Step::Capture { .. }
                    if payment.orders.iter().any(|o| o.in_capture == o.cancelled) =>
                {
                    // Say which orders the capture covers before asking for it.
                    for o in payment.orders.iter_mut() {
                        o.in_capture = !o.cancelled;
                    }
                    let due = Some(now.timestamp() + RETRY_SECS);
                    if self.save(&mut payment, &pending, holder, due).await? {
                        pending.clear();
                    } else {
                        (payment, truth, pending) =
                            self.fresh_view(self.relet(&payment, holder).await?).await?;
                        transfers_read = false;
                    }
                    continue;
                }
                Step::Capture { amount_cents } => {
                    let after = self
                        .gateway
                        .capture(
                            &payment.payment_id,
                            amount_cents,
                            &keys::capture(&payment.checkout_id, amount_cents),
                        )
                        .await?;
                    truth = after;
                    pending.extend(adopt(&mut payment, &truth, now));
                }
                Step::Void => {
                    let after = self
                        .gateway
                        .cancel(&payment.payment_id, &keys::cancel(&payment.payment_id))
                        .await?;
                    truth = after;
                    pending.extend(adopt(&mut payment, &truth, now));
                }
                Step::Reverse { .. } | Step::Transfer { .. } | Step::Refund { .. }
                    if !transfers_read =>
                {
                    // Before a payout moves — or a refund, which must follow the reversal of a
                    // payout whose answer was lost — read the provider's transfers of this
                    // checkout: a transfer or reversal made before is adopted, not repeated.
                    transfers_read = true;
                    for t in self.payouts.transfers(&payment.checkout_id).await? {
                        if let Some(i) = payment
                            .orders
                            .iter()
                            .position(|o| t.order_id.as_deref() == Some(o.order_id.as_str()))
                        {
                            pending.extend(adopt_transfer(&mut payment, i, &t, now));
                        }
                    }
                    continue;
                }
                Step::Reverse {
                    order,
                    transfer_id,
                    amount_cents,
                } => {
                    let order_id = payment.orders[order].order_id.clone();
                    let after = self
                        .payouts
                        .reverse(
                            &transfer_id,
                            amount_cents,
                            &keys::reversal(&order_id, amount_cents),
                        )
                        .await?;
                    pending.extend(adopt_transfer(&mut payment, order, &after, now));
                }
                Step::Refund {
                    order,
                    amount_cents,
                } => {
                    let order_id = payment.orders[order].order_id.clone();
                    let refund = self
                        .gateway
                        .refund(
                            &payment.payment_id,
                            &order_id,
                            amount_cents,
                            &keys::refund(&order_id, amount_cents),
                        )
                        .await?;
                    // The provider's view is the one read, plus this refund (once: a replayed
                    // key answers a refund the view may already hold).
                    if !truth.refunds.iter().any(|r| r.id == refund.id) {
                        truth.refunds.push(refund);
                    }
                    pending.extend(adopt(&mut payment, &truth, now));
                }
                Step::Transfer {
                    order,
                    destination,
                    amount_cents,
                } => {
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
            // Record the movement at once: a crash after this point repeats nothing. When it was
            // the last one, the same write closes the payment (one save per movement).
            let last = next_step(&payment, &accounts).is_none();
            let due = (!last).then(|| Utc::now().timestamp() + RETRY_SECS);
            if self.save(&mut payment, &pending, holder, due).await? {
                if last {
                    self.emit_final(&payment);
                    return Ok(payment);
                }
                pending.clear();
            } else {
                // A cancellation landed meanwhile: read it (keeping the lease, or stopping when
                // another settler has it), adopt the provider's view again.
                (payment, truth, pending) =
                    self.fresh_view(self.relet(&payment, holder).await?).await?;
                transfers_read = false;
            }
        }
        Err(Error::Unavailable(
            format!(
                "payment {} kept changing while it was settled",
                payment.checkout_id
            )
            .into(),
        ))
    }

    /// Saves `payment` (version + 1 on success); `false` when it changed meanwhile.
    async fn save(
        &self,
        payment: &mut Payment,
        entries: &[LedgerEntry],
        holder: &str,
        due: Option<i64>,
    ) -> Result<bool, Error> {
        payment.updated_at = Utc::now();
        match self.store.save(payment, entries, holder, due).await? {
            Commit::Committed => {
                payment.version += 1;
                Ok(true)
            }
            Commit::LostRace => Ok(false),
        }
    }

    /// `payment` with the provider's view of it adopted: the view, and the ledger entries the
    /// adopted movements imply.
    async fn fresh_view(
        &self,
        mut payment: Payment,
    ) -> Result<(Payment, ProviderPayment, Vec<LedgerEntry>), Error> {
        let truth = self.gateway.payment(&payment.payment_id).await?;
        let pending = adopt(&mut payment, &truth, Utc::now());
        Ok((payment, truth, pending))
    }

    /// Reads the payment again by taking its lease again: a settler whose save lost because its
    /// lease lapsed and another took it stops here instead of moving money beside it.
    async fn relet(&self, payment: &Payment, holder: &str) -> Result<Payment, Error> {
        let now = Utc::now().timestamp();
        match self
            .store
            .lease(&payment.checkout_id, holder, now, now + LEASE_SECS)
            .await?
        {
            Leased::Taken(p) => Ok(p),
            Leased::Busy => Err(Error::Unavailable(
                format!("payment {}: another settler took over", payment.checkout_id).into(),
            )),
            Leased::Missing => Err(Error::internal(format!(
                "payment {} vanished",
                payment.checkout_id
            ))),
        }
    }

    /// After a failed settlement: due again in [`RETRY_SECS`] (so reconciliation's batch moves
    /// on to others), then the lease goes.
    async fn defer(&self, checkout_id: &str, holder: &str) -> Result<(), Error> {
        let now = Utc::now().timestamp();
        if let Leased::Taken(mut p) = self
            .store
            .lease(checkout_id, holder, now, now + LEASE_SECS)
            .await?
        {
            self.save(&mut p, &[], holder, Some(now + RETRY_SECS))
                .await?;
        }
        Ok(())
    }

    fn emit_final(&self, payment: &Payment) {
        let mut m = Metrics::new("settlement");
        m = m.property("checkout_id", payment.checkout_id.clone());
        match payment.status {
            PaymentStatus::Voided => m = m.count("PaymentsVoided", 1),
            PaymentStatus::Captured => {
                m = m.count("PaymentsCaptured", 1).count(
                    "CapturedCents",
                    u64::try_from(payment.captured_cents).unwrap_or(0),
                )
            }
            PaymentStatus::PartiallyRefunded | PaymentStatus::Refunded => {
                m = m.count(
                    "RefundedCents",
                    u64::try_from(payment.refunded_cents).unwrap_or(0),
                )
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
            ProviderEventKind::Payment {
                payment_id,
                checkout_id,
            } => {
                let Some(checkout_id) =
                    self.checkout_of(payment_id, checkout_id.as_deref()).await?
                else {
                    return Ok(Applied::Ignored);
                };
                match self.settle(&checkout_id).await? {
                    Settled::Missing => Ok(Applied::Ignored),
                    // The holder reads the provider's view itself, after this event.
                    Settled::Busy | Settled::Done(_) => Ok(Applied::Applied),
                }
            }
            ProviderEventKind::Dispute {
                payment_id,
                checkout_id,
            } => {
                let Some(checkout_id) =
                    self.checkout_of(payment_id, checkout_id.as_deref()).await?
                else {
                    return Ok(Applied::Ignored);
                };
                self.mark_disputed(&checkout_id).await
            }
            ProviderEventKind::Account {
                account_id,
                shop_id,
            } => {
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
    async fn checkout_of(
        &self,
        payment_id: &str,
        hint: Option<&str>,
    ) -> Result<Option<String>, Error> {
        if let Some(c) = hint {
            return Ok(Some(c.to_owned()));
        }
        Ok(self.gateway.payment(payment_id).await?.checkout_id)
    }

    async fn mark_disputed(&self, checkout_id: &str) -> Result<Applied, Error> {
        let holder = uuid::Uuid::new_v4().to_string();
        for _ in 0..ROUNDS {
            let now = Utc::now().timestamp();
            let mut payment = match self
                .store
                .lease(checkout_id, &holder, now, now + LEASE_SECS)
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
                self.store.release(checkout_id, &holder).await?;
                return Ok(Applied::Applied);
            }
            payment.disputed = true;
            let due = (!payment.buyer_settled()).then_some(now);
            let saved = self.save(&mut payment, &[], &holder, due).await;
            self.store.release(checkout_id, &holder).await?;
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
            match Box::pin(self.settle(&checkout_id)).await {
                Ok(Settled::Busy) => report.busy += 1,
                Ok(_) => report.settled += 1,
                Err(err) => {
                    report.failed += 1;
                    tracing::error!(checkout_id, error = %err, "reconciliation could not settle a payment");
                }
            }
        }
        // Orphans: one failure is counted and logged, never the end of the run.
        match self
            .gateway
            .stale_authorizations(now.timestamp() - ORPHAN_AFTER_SECS)
            .await
        {
            Ok(stale) => {
                for auth in stale {
                    match self.void_orphan(&auth).await {
                        Ok(true) => report.orphans_voided += 1,
                        Ok(false) => {}
                        Err(err) => {
                            report.failed += 1;
                            tracing::error!(payment_id = auth.id, error = %err, "could not void an orphan authorization");
                        }
                    }
                }
            }
            Err(err) => {
                report.failed += 1;
                tracing::error!(error = %err, "could not list stale authorizations");
            }
        }
        Metrics::new("reconcile")
            .count("PaymentsStuck", report.stuck as u64)
            .count("PaymentsReconciled", report.settled as u64)
            .count("ReconcileFailures", report.failed as u64)
            .count("OrphanAuthorizationsVoided", report.orphans_voided as u64)
            .emit();
        Ok(report)
    }

    /// Voids `auth` unless a committed checkout owns it; `true` when it was voided.
    async fn void_orphan(&self, auth: &ProviderPayment) -> Result<bool, Error> {
        let owned = match &auth.checkout_id {
            Some(c) => self
                .store
                .payment(c)
                .await?
                .is_some_and(|p| p.payment_id == auth.id),
            None => false,
        };
        if owned {
            return Ok(false);
        }
        self.gateway
            .cancel(&auth.id, &keys::cancel(&auth.id))
            .await?;
        tracing::warn!(payment_id = auth.id, checkout_id = ?auth.checkout_id, "voided an authorization no checkout owns");
        Ok(true)
    }

    /// The shop's owner connects a payout account: created once per shop, then a fresh
    /// onboarding link. `404` for an unknown shop, `403` for anyone but its owner.
    pub async fn connect(&self, caller: &str, shop_id: &str) -> Result<Onboarding, Error> {
        let shop = self
            .owned_shop(caller, shop_id, "connect a payout account for")
            .await?;
        // A new account comes back with its status; an existing one is read at the provider.
        let (account, remote) = match shop.account {
            Some(a) => (a, None),
            None => {
                let created = self
                    .payouts
                    .create_account(
                        shop_id,
                        shop.owner_email.as_deref(),
                        &keys::account(shop_id),
                    )
                    .await?;
                let account = PayoutAccount {
                    account_id: created.id.clone(),
                    status: PayoutStatus::of(&created),
                };
                self.store.set_payout_account(shop_id, &account).await?;
                (account, Some(created))
            }
        };
        let base = if self.return_url.is_empty() {
            "https://bazaar.invalid/payouts"
        } else {
            &self.return_url
        };
        let return_url = format!("{base}?shop_id={shop_id}");
        let url = self
            .payouts
            .onboarding_link(
                &account.account_id,
                &return_url,
                &format!("{return_url}&refresh=1"),
            )
            .await?;
        // A payout being settled meanwhile is retried by the account's own event.
        let status = match self.sync_account(shop_id, account.clone(), remote).await {
            Ok(synced) => synced.status,
            Err(err) => {
                tracing::warn!(shop_id, error = %err, "payouts not all released yet");
                account.status
            }
        };
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
        let Some(account) = shop.account else {
            return Ok(None);
        };
        self.sync_account(shop_id, account, None).await.map(Some)
    }

    /// Stores the account's status as the provider reports it (`remote`, or read now), and once
    /// payouts are enabled settles every checkout whose payout waited for it.
    async fn sync_account(
        &self,
        shop_id: &str,
        mut account: PayoutAccount,
        remote: Option<ConnectedAccount>,
    ) -> Result<PayoutAccount, Error> {
        let remote = match remote {
            Some(r) => r,
            None => self.payouts.account(&account.account_id).await?,
        };
        let status = PayoutStatus::of(&remote);
        if status != account.status {
            account.status = status;
            self.store.set_payout_account(shop_id, &account).await?;
        }
        if account.status == PayoutStatus::Enabled {
            let mut busy = 0;
            for checkout_id in self.store.waiting_payouts(shop_id).await? {
                if let Settled::Busy = Box::pin(self.settle(&checkout_id)).await? {
                    // Its settler may have read the account before it was enabled.
                    tracing::info!(checkout_id, "payout waits for the current settler");
                    busy += 1;
                }
            }
            if busy > 0 {
                // Answered as a failure so that the account's event is delivered again.
                return Err(Error::Unavailable(
                    format!("{busy} payouts of shop {shop_id} were being settled; retry").into(),
                ));
            }
        }
        Ok(account)
    }

    /// A shop's ledger, for its owner.
    pub async fn ledger(
        &self,
        caller: &str,
        shop_id: &str,
        cursor: Option<&str>,
        limit: i32,
    ) -> Result<LedgerPage, Error> {
        self.owned_shop(caller, shop_id, "read the payouts of")
            .await?;
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
            return Err(Error::Forbidden(format!(
                "Only the shop's owner may {verb} the shop."
            )));
        }
        Ok(shop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cart::LineChange;
    use crate::checkout::{CheckoutHooks, NoHooks, ShippingAddress, checkout_id};
    use crate::fakes::{FakeGateway, FakeStore, GatewayCall};
    use crate::payments::{Account, balances};
    use crate::ports::PaymentStore;
    use crate::services::cart::CartService;
    use crate::services::checkout::CheckoutService;
    use crate::services::orders::OrderService;

    fn address() -> ShippingAddress {
        ShippingAddress {
            name: "Ada".into(),
            line1: "1 Loom St".into(),
            line2: None,
            city: "Bristol".into(),
            region: None,
            postal_code: "BS1".into(),
            country: "GB".into(),
        }
    }

    struct World {
        store: FakeStore,
        gateway: FakeGateway,
        checkout: CheckoutService<FakeStore, FakeGateway>,
        orders: OrderService<FakeStore>,
        payments: PaymentService<FakeStore, FakeGateway, FakeGateway>,
        kiln: String,
        loom: String,
    }

    /// Two shops; Ada's cart holds a vase from the kiln (2 × 4200 + 500 + 150 = 9050) and a
    /// scarf from the loom (6500 + 300 = 6800).
    async fn world() -> World {
        let store = FakeStore::default();
        let gateway = FakeGateway::default();
        let kiln = store.add_shop("kiln", "The Copper Kiln", 500, 150);
        let loom = store.add_shop("loom", "Loom & Larch", 300, 0);
        let vase = store.add_product(&kiln, "Vase", 4200, 2);
        let scarf = store.add_product(&loom, "Scarf", 6500, 1);
        let carts = CartService::new(store.clone());
        for (p, q) in [(&vase, 2), (&scarf, 1)] {
            carts
                .write_line("ada", p, LineChange::Add(q), 900)
                .await
                .expect("in the cart");
        }
        World {
            checkout: CheckoutService::new(store.clone(), gateway.clone()),
            orders: OrderService::new(store.clone()),
            payments: PaymentService::new(store.clone(), gateway.clone(), gateway.clone()),
            store,
            gateway,
            kiln,
            loom,
        }
    }

    async fn place(w: &World, key: &str) -> crate::checkout::CheckoutView {
        w.checkout
            .checkout(&NoHooks, "ada", key, &address(), "pm_card_visa")
            .await
            .expect("placed")
    }

    fn done(s: Settled) -> Payment {
        match s {
            Settled::Done(p) => p,
            other => panic!("not settled: {other:?}"),
        }
    }

    /// Every order's ledger sums to zero, and a settled order leaves nothing on the platform
    /// (paid out, or everything given back) unless its shop has not connected yet.
    fn assert_ledgers_balance(w: &World, payment: &Payment) {
        for o in &payment.orders {
            let entries = w.store.ledger_of(&o.order_id);
            let b = balances(&entries);
            assert_eq!(b.values().sum::<i64>(), 0, "order {} balances", o.order_id);
            let platform = b.get(&Account::Platform).copied().unwrap_or(0);
            if o.cancelled || o.transfer_id.is_some() || !o.captured {
                assert_eq!(platform, 0, "nothing left on the platform for {o:?}: {b:?}");
            } else {
                assert_eq!(platform, o.payout_cents(), "the shop's share waits: {b:?}");
            }
        }
    }

    #[tokio::test]
    async fn settlement_captures_the_live_amount_once_and_records_charge_and_fee() {
        let w = world().await;
        let view = place(&w, "k1").await;
        let p = done(w.payments.settle(&view.checkout_id).await.expect("settled"));
        assert_eq!(
            (p.status, p.captured_cents),
            (PaymentStatus::Captured, 9050 + 6800)
        );
        assert_eq!(w.store.payment_due(&view.checkout_id), None, "closed");
        assert_eq!(
            (
                w.gateway.calls(GatewayCall::Payment),
                w.gateway.calls(GatewayCall::Capture)
            ),
            (1, 1),
            "two provider calls: the provider's view, the capture"
        );
        // Settling again moves nothing.
        done(w.payments.settle(&view.checkout_id).await.expect("again"));
        assert_eq!(w.gateway.calls(GatewayCall::Capture), 1);
        let kinds: Vec<_> = w
            .store
            .ledger_of(&p.orders[0].order_id)
            .iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds.len(), 2, "charge and fee: {kinds:?}");
        assert_ledgers_balance(&w, &p);
    }

    /// Failure 1 of the issue: the checkout function died after its commit, the seller cancels,
    /// the buyer retries — the payment is never captured and the authorization is voided.
    #[tokio::test]
    async fn a_crash_after_commit_then_cancel_then_retry_never_captures_and_voids() {
        struct Crash;
        impl CheckoutHooks for Crash {
            fn after_commit(&self, _: &str) {
                panic!("simulated crash after the commit");
            }
        }
        let w = world().await;
        let crashed = tokio::spawn({
            let checkout = w.checkout.clone();
            async move {
                checkout
                    .checkout(&Crash, "ada", "k1", &address(), "pm_card_visa")
                    .await
            }
        })
        .await;
        assert!(crashed.is_err());
        let id = checkout_id("ada", "k1");
        for (owner, order) in w
            .store
            .orders()
            .iter()
            .map(|o| (o.owner_id.clone(), o.order_id.clone()))
        {
            w.orders
                .cancel(&owner, &order)
                .await
                .expect("cancelled before any capture");
        }
        let view = place(&w, "k1").await;
        assert_eq!(view.checkout_id, id);
        let p = done(w.payments.settle(&id).await.expect("settled"));
        assert_eq!(p.status, PaymentStatus::Voided);
        assert_eq!(w.gateway.calls(GatewayCall::Capture), 0, "never captured");
        let intents = w.gateway.intents_of(&id);
        assert_eq!(intents.len(), 1);
        assert_eq!(
            (intents[0].status, intents[0].amount_received),
            (IntentStatus::Canceled, 0)
        );
        assert!(w.store.ledger_entries().is_empty(), "no money moved");
    }

    #[tokio::test]
    async fn one_order_cancelled_before_capture_is_left_out_of_the_capture() {
        let w = world().await;
        let view = place(&w, "k1").await;
        w.orders
            .cancel("kiln", &view.orders[0].order_id)
            .await
            .expect("cancelled");
        let p = done(w.payments.settle(&view.checkout_id).await.expect("settled"));
        assert_eq!(
            (p.status, p.captured_cents),
            (PaymentStatus::Captured, 6800)
        );
        assert_eq!(
            w.gateway.calls(GatewayCall::Refund),
            0,
            "nothing to give back"
        );
        assert_ledgers_balance(&w, &p);
    }

    #[tokio::test]
    async fn a_cancel_after_capture_and_payout_reverses_then_refunds_once() {
        let w = world().await;
        w.gateway.instant_onboarding();
        let onboarding = w
            .payments
            .connect("kiln", &w.kiln)
            .await
            .expect("connected");
        assert_eq!(onboarding.status, PayoutStatus::Enabled);
        let view = place(&w, "k1").await;
        let p = done(
            w.payments
                .settle(&view.checkout_id)
                .await
                .expect("captured and paid out"),
        );
        let kiln_order = &p.orders[0];
        assert_eq!(kiln_order.transferred_cents, 9050 - 905);
        assert_eq!(
            w.store.waiting_payouts(&w.loom).await.expect("waiting"),
            std::slice::from_ref(&view.checkout_id)
        );
        w.orders
            .cancel("kiln", &kiln_order.order_id)
            .await
            .expect("cancelled");
        // Redelivered events: settle three times.
        for _ in 0..3 {
            done(w.payments.settle(&view.checkout_id).await.expect("settled"));
        }
        let p = w.store.payment_record(&view.checkout_id).expect("record");
        assert_eq!(p.status, PaymentStatus::PartiallyRefunded);
        assert_eq!(
            (p.orders[0].reversed_cents, p.orders[0].refunded_cents),
            (8145, 9050)
        );
        assert_eq!(
            (
                w.gateway.calls(GatewayCall::Reverse),
                w.gateway.calls(GatewayCall::Refund)
            ),
            (1, 1)
        );
        assert_ledgers_balance(&w, &p);
    }

    #[tokio::test]
    async fn a_shop_that_connects_later_is_paid_what_waited() {
        let w = world().await;
        let view = place(&w, "k1").await;
        let p = done(
            w.payments
                .settle(&view.checkout_id)
                .await
                .expect("captured"),
        );
        assert!(
            p.orders.iter().all(|o| o.transfer_id.is_none()),
            "no account yet"
        );
        let onboarding = w.payments.connect("loom", &w.loom).await.expect("link");
        assert_eq!(onboarding.status, PayoutStatus::Pending);
        assert_eq!(
            w.gateway.calls(GatewayCall::Account),
            0,
            "a new account's status comes with its creation: no second read"
        );
        assert!(onboarding.onboarding_url.contains(&onboarding.account_id));
        assert_eq!(
            w.payments
                .connect("kiln", &w.loom)
                .await
                .expect_err("not theirs")
                .status(),
            403
        );
        w.gateway.enable_account(&onboarding.account_id);
        w.payments
            .webhook(&ProviderEvent {
                id: "evt_account".into(),
                kind: ProviderEventKind::Account {
                    account_id: onboarding.account_id.clone(),
                    shop_id: None,
                },
            })
            .await
            .expect("applied");
        let p = w.store.payment_record(&view.checkout_id).expect("record");
        let loom_order = p
            .orders
            .iter()
            .find(|o| o.shop_id == w.loom)
            .expect("loom order");
        assert_eq!(loom_order.transferred_cents, 6800 - 680);
        assert!(
            w.store
                .waiting_payouts(&w.loom)
                .await
                .expect("none")
                .is_empty()
        );
        let page = w
            .payments
            .ledger("loom", &w.loom, None, 50)
            .await
            .expect("ledger");
        let kinds: Vec<_> = page.entries.iter().map(|e| e.kind).collect();
        assert_eq!(kinds.len(), 3, "charge, fee, transfer: {kinds:?}");
        assert_eq!(
            w.payments
                .ledger("kiln", &w.loom, None, 50)
                .await
                .expect_err("owner only")
                .status(),
            403
        );
    }

    /// Failure 3 of the issue: an authorization whose settlement event was lost is found by
    /// reconciliation and captured; one that no checkout owns is voided.
    #[tokio::test]
    async fn reconciliation_settles_a_stuck_authorization_and_voids_an_orphan() {
        let w = world().await;
        let view = place(&w, "k1").await;
        // The event never reached the worker; the record's due time passes.
        w.store
            .age_payment(&view.checkout_id, chrono::Duration::hours(1));
        // An orphan: authorized by an attempt whose commit never landed.
        let jug = w.store.add_product(&w.kiln, "Jug", 1500, 1);
        CartService::new(w.store.clone())
            .write_line("ada", &jug, LineChange::Add(1), 900)
            .await
            .expect("in the cart");
        w.store.fail_writes(1);
        let orphan_err = w
            .checkout
            .checkout(&NoHooks, "ada", "k2", &address(), "pm_card_visa")
            .await;
        assert_eq!(orphan_err.expect_err("commit failed").status(), 503);
        let orphan = w.gateway.intents_of(&checkout_id("ada", "k2"));
        assert_eq!(orphan.len(), 1, "authorized, never committed");
        w.gateway.age(&orphan[0].id, 2 * ORPHAN_AFTER_SECS);
        let report = w.payments.reconcile(100).await.expect("ran");
        assert_eq!((report.settled, report.failed, report.stuck), (1, 0, 0));
        assert_eq!(report.orphans_voided, 1);
        let p = w.store.payment_record(&view.checkout_id).expect("record");
        assert_eq!(p.status, PaymentStatus::Captured);
        for o in orphan {
            assert_eq!(
                w.gateway.intent(&o.id).map(|i| i.status),
                Some(IntentStatus::Canceled)
            );
        }
    }

    #[tokio::test]
    async fn a_payment_open_for_days_is_counted_stuck() {
        let w = world().await;
        let view = place(&w, "k1").await;
        w.store
            .age_payment(&view.checkout_id, chrono::Duration::days(4));
        w.gateway.fail(GatewayCall::Capture, 1);
        let report = w.payments.reconcile(100).await.expect("ran");
        assert_eq!((report.stuck, report.failed), (1, 1));
        assert!(
            w.store.payment_due(&view.checkout_id).is_some(),
            "still due"
        );
    }

    /// Lost answers (timeouts after the provider did the work) with a provider that ignores
    /// idempotency keys, as localstripe does: every amount still moves once.
    #[tokio::test]
    async fn lost_answers_never_move_an_amount_twice_even_without_provider_keys() {
        let w = world().await;
        w.gateway.ignore_keys();
        w.gateway.instant_onboarding();
        w.payments
            .connect("kiln", &w.kiln)
            .await
            .expect("connected");
        let view = place(&w, "k1").await;
        w.gateway.lose_answers(GatewayCall::Capture, 1);
        assert!(
            w.payments.settle(&view.checkout_id).await.is_err(),
            "the capture's answer was lost"
        );
        w.gateway.lose_answers(GatewayCall::Transfer, 1);
        assert!(
            w.payments.settle(&view.checkout_id).await.is_err(),
            "the transfer's answer was lost"
        );
        done(w.payments.settle(&view.checkout_id).await.expect("settled"));
        let kiln_order = view.orders[0].order_id.clone();
        assert_eq!(w.gateway.transfers_of(&kiln_order).len(), 1, "one transfer");
        w.orders
            .cancel("kiln", &kiln_order)
            .await
            .expect("cancelled");
        w.gateway.lose_answers(GatewayCall::Reverse, 1);
        assert!(w.payments.settle(&view.checkout_id).await.is_err());
        w.gateway.lose_answers(GatewayCall::Refund, 1);
        assert!(w.payments.settle(&view.checkout_id).await.is_err());
        let p = done(w.payments.settle(&view.checkout_id).await.expect("settled"));
        let intent = w.gateway.intent(&p.payment_id).expect("intent");
        assert_eq!(intent.amount_received, 9050 + 6800, "captured once");
        assert_eq!(
            intent.refunds.len(),
            1,
            "refunded once: {:?}",
            intent.refunds
        );
        assert_eq!(
            w.gateway.transfers_of(&kiln_order)[0]
                .transfer
                .reversed_cents,
            8145,
            "reversed once"
        );
        assert_ledgers_balance(&w, &p);
    }

    #[tokio::test]
    async fn twenty_concurrent_checkouts_and_settlements_move_the_amount_once() {
        let w = world().await;
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let checkout = w.checkout.clone();
            tasks.push(tokio::spawn(async move {
                checkout
                    .checkout(&NoHooks, "ada", "storm", &address(), "pm_card_visa")
                    .await
            }));
        }
        let mut ids = std::collections::BTreeSet::new();
        for t in tasks {
            if let Ok(Ok(view)) = t.await {
                ids.insert(
                    view.orders
                        .iter()
                        .map(|o| o.order_id.clone())
                        .collect::<Vec<_>>(),
                );
            }
        }
        assert_eq!(ids.len(), 1, "every answer names the same orders");
        assert_eq!(w.store.orders().len(), 2);
        let id = checkout_id("ada", "storm");
        let mut settlers = Vec::new();
        for _ in 0..20 {
            let payments = w.payments.clone();
            let id = id.clone();
            settlers.push(tokio::spawn(async move { payments.settle(&id).await }));
        }
        for s in settlers {
            s.await.expect("joined").expect("settled or busy");
        }
        // Whatever the interleaving, one more pass finds it final.
        let p = done(w.payments.settle(&id).await.expect("final"));
        let live: Vec<_> = w
            .gateway
            .intents_of(&id)
            .into_iter()
            .filter(|i| i.status != IntentStatus::Canceled)
            .collect();
        assert_eq!(
            live.len(),
            1,
            "one authorization survives, the others are voided"
        );
        assert_eq!(
            (live[0].amount_received, p.status),
            (9050 + 6800, PaymentStatus::Captured)
        );
        assert_eq!(w.gateway.calls(GatewayCall::Capture), 1);
        assert_ledgers_balance(&w, &p);
    }

    #[tokio::test]
    async fn webhooks_delivered_twice_and_out_of_order_apply_once() {
        let w = world().await;
        let view = place(&w, "k1").await;
        let record = w.store.payment_record(&view.checkout_id).expect("record");
        let refunded = ProviderEvent {
            id: "evt_2".into(),
            kind: ProviderEventKind::Payment {
                payment_id: record.payment_id.clone(),
                checkout_id: None,
            },
        };
        let succeeded = ProviderEvent {
            id: "evt_1".into(),
            kind: ProviderEventKind::Payment {
                payment_id: record.payment_id.clone(),
                checkout_id: Some(view.checkout_id.clone()),
            },
        };
        for e in [&refunded, &succeeded, &refunded, &succeeded] {
            let applied = w.payments.webhook(e).await.expect("acknowledged");
            assert_ne!(applied, Applied::Ignored);
        }
        assert_eq!(w.gateway.calls(GatewayCall::Capture), 1);
        let dispute = ProviderEvent {
            id: "evt_3".into(),
            kind: ProviderEventKind::Dispute {
                payment_id: record.payment_id.clone(),
                checkout_id: None,
            },
        };
        assert_eq!(
            w.payments.webhook(&dispute).await.expect("applied"),
            Applied::Applied
        );
        assert_eq!(
            w.payments.webhook(&dispute).await.expect("again"),
            Applied::Duplicate
        );
        assert!(
            w.store
                .payment_record(&view.checkout_id)
                .is_some_and(|p| p.disputed)
        );
        let unknown = ProviderEvent {
            id: "evt_4".into(),
            kind: ProviderEventKind::Ignored {
                kind: "customer.created".into(),
            },
        };
        assert_eq!(
            w.payments.webhook(&unknown).await.expect("ack"),
            Applied::Ignored
        );
    }

    #[tokio::test]
    async fn a_failed_webhook_application_is_applied_on_redelivery() {
        let w = world().await;
        let view = place(&w, "k1").await;
        let record = w.store.payment_record(&view.checkout_id).expect("record");
        let e = ProviderEvent {
            id: "evt_1".into(),
            kind: ProviderEventKind::Payment {
                payment_id: record.payment_id,
                checkout_id: Some(view.checkout_id.clone()),
            },
        };
        w.gateway.fail(GatewayCall::Payment, 1);
        assert!(w.payments.webhook(&e).await.is_err());
        assert_eq!(
            w.payments.webhook(&e).await.expect("redelivered"),
            Applied::Applied
        );
        assert_eq!(
            w.store.payment_record(&view.checkout_id).map(|p| p.status),
            Some(PaymentStatus::Captured)
        );
    }

    /// A capture whose answer was lost, with an order cancelled before it and another cancelled
    /// after it: the capture took exactly the orders saved as covered, and exactly the captured
    /// cancelled one is refunded — the buyer keeps paying only for the live order.
    #[tokio::test]
    async fn a_lost_capture_answer_with_cancels_around_it_refunds_exactly_what_was_taken() {
        let store = FakeStore::default();
        let gateway = FakeGateway::default();
        gateway.ignore_keys();
        let shops: Vec<String> = ["a", "b", "c"]
            .iter()
            .map(|o| store.add_shop(o, &format!("Shop {o}"), 0, 0))
            .collect();
        let carts = CartService::new(store.clone());
        for (shop, price) in shops.iter().zip([300, 500, 700]) {
            let p = store.add_product(shop, "Thing", price, 1);
            carts
                .write_line("ada", &p, LineChange::Add(1), 900)
                .await
                .expect("added");
        }
        let checkout = CheckoutService::new(store.clone(), gateway.clone());
        let payments = PaymentService::new(store.clone(), gateway.clone(), gateway.clone());
        let orders = OrderService::new(store.clone());
        let view = checkout
            .checkout(&NoHooks, "ada", "k", &address(), "pm_card_visa")
            .await
            .expect("placed");
        let order_of = |owner: &str| {
            view.orders
                .iter()
                .zip(["a", "b", "c"])
                .find(|(_, o)| *o == owner)
                .map(|(v, _)| v.order_id.clone())
                .expect("order")
        };
        orders
            .cancel("a", &order_of("a"))
            .await
            .expect("cancelled before");
        gateway.lose_answers(GatewayCall::Capture, 1);
        assert!(
            payments.settle(&view.checkout_id).await.is_err(),
            "the answer was lost"
        );
        orders
            .cancel("b", &order_of("b"))
            .await
            .expect("cancelled after");
        let p = done(payments.settle(&view.checkout_id).await.expect("settled"));
        let intent = gateway.intent(&p.payment_id).expect("intent");
        assert_eq!(
            intent.amount_received,
            500 + 700,
            "the capture took b and c"
        );
        assert_eq!(
            intent.refunds.iter().map(|r| r.amount_cents).sum::<i64>(),
            500,
            "b refunded, a never taken"
        );
        assert_eq!(
            intent.amount_received - 500,
            700,
            "the buyer pays for c only"
        );
        for o in &p.orders {
            let b = balances(&store.ledger_of(&o.order_id));
            assert_eq!(b.values().sum::<i64>(), 0);
        }
    }

    /// A payout whose answer was lost, then the order is cancelled: the payout is found at the
    /// provider and reversed before the refund — the shop does not keep the money.
    #[tokio::test]
    async fn a_lost_payout_answer_then_a_cancel_reverses_before_refunding() {
        let w = world().await;
        w.gateway.ignore_keys();
        w.gateway.instant_onboarding();
        w.payments
            .connect("kiln", &w.kiln)
            .await
            .expect("connected");
        let view = place(&w, "k1").await;
        w.gateway.lose_answers(GatewayCall::Transfer, 1);
        assert!(w.payments.settle(&view.checkout_id).await.is_err());
        let kiln_order = view.orders[0].order_id.clone();
        w.orders
            .cancel("kiln", &kiln_order)
            .await
            .expect("cancelled");
        let p = done(w.payments.settle(&view.checkout_id).await.expect("settled"));
        let transfers = w.gateway.transfers_of(&kiln_order);
        assert_eq!(transfers.len(), 1, "one payout");
        assert_eq!(
            transfers[0].transfer.reversed_cents, transfers[0].transfer.amount_cents,
            "reversed"
        );
        let intent = w.gateway.intent(&p.payment_id).expect("intent");
        assert_eq!(intent.refunds.len(), 1);
        assert_ledgers_balance(&w, &p);
    }

    #[tokio::test]
    async fn a_failed_settlement_is_due_again_later_not_at_once() {
        let w = world().await;
        let view = place(&w, "k1").await;
        w.gateway.fail(GatewayCall::Capture, 1);
        assert!(w.payments.settle(&view.checkout_id).await.is_err());
        let due = w.store.payment_due(&view.checkout_id).expect("still due");
        assert!(
            due >= Utc::now().timestamp() + RETRY_SECS - 5,
            "deferred: {due}"
        );
    }

    #[test]
    fn next_step_orders_reversal_before_refund_and_waits_for_unconnected_shops() {
        let now = Utc::now();
        let share = |id: &str, shop: &str| crate::payments::OrderShare {
            order_id: id.into(),
            shop_id: shop.into(),
            amount_cents: 1000,
            fee_cents: 100,
            created_at: now,
            cancelled: false,
            captured: true,
            in_capture: true,
            refunded_cents: 0,
            transfer_id: None,
            transferred_cents: 0,
            reversed_cents: 0,
        };
        let mut p = Payment {
            checkout_id: "c".into(),
            buyer_id: "b".into(),
            payment_id: "pi".into(),
            amount_cents: 2000,
            status: PaymentStatus::Captured,
            captured_cents: 2000,
            refunded_cents: 0,
            charge_id: Some("ch".into()),
            orders: vec![share("o1", "s1"), share("o2", "s2")],
            disputed: false,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        assert_eq!(
            next_step(&p, &HashMap::new()),
            None,
            "no accounts: payouts wait"
        );
        p.orders[0].cancelled = true;
        p.orders[0].transfer_id = Some("tr".into());
        p.orders[0].transferred_cents = 900;
        assert_eq!(
            next_step(&p, &HashMap::new()),
            Some(Step::Reverse {
                order: 0,
                transfer_id: "tr".into(),
                amount_cents: 900
            })
        );
        p.orders[0].reversed_cents = 900;
        assert_eq!(
            next_step(&p, &HashMap::new()),
            Some(Step::Refund {
                order: 0,
                amount_cents: 1000
            })
        );
        p.orders[0].refunded_cents = 1000;
        let accounts = HashMap::from([(
            "s2".to_owned(),
            PayoutAccount {
                account_id: "acct".into(),
                status: PayoutStatus::Enabled,
            },
        )]);
        assert_eq!(
            next_step(&p, &accounts),
            Some(Step::Transfer {
                order: 1,
                destination: "acct".into(),
                amount_cents: 900
            })
        );
        p.status = PaymentStatus::Authorized;
        p.orders[1].cancelled = true;
        assert_eq!(next_step(&p, &accounts), Some(Step::Void));
    }
}
