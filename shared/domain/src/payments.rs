//! Money: the payment of one checkout as a state machine, the provider's view of it, seller
//! payouts, and the ledger that records every movement.
//!
//! A checkout authorizes the buyer's whole cart once (one provider call on the request path) and
//! commits its orders together with a [`Payment`] record in state `authorized`. From there the
//! record is driven — never by the request path — by [`crate::services::payments`]:
//!
//! ```text
//! authorized ──capture (live orders' amount)──▶ captured ──refund (a cancelled order)──▶ partially_refunded ──▶ refunded
//!      │
//!      └──cancel (every order cancelled before capture)──▶ voided
//! ```
//!
//! Every movement carries a provider idempotency key derived from our own ids
//! ([`keys`]) *and* is looked up at the provider before it is repeated (the provider's view,
//! [`ProviderPayment`] and [`Transfer`], is the truth the record adopts), so a redelivered
//! event, a crashed worker or a webhook that arrives twice can never move an amount twice.
//!
//! The ledger ([`LedgerEntry`]) is double entry: every entry moves one amount from one account to
//! another, so an order's entries always sum to zero, and once the order is settled the
//! platform's balance for it is zero too (the buyer paid, the seller got the amount minus the
//! fee, the marketplace kept the fee — or everything went back).

use crate::error::Error;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

// ------------------------------------------------------------------ provider

/// What checkout asks of the provider: reserve `amount_cents` on `method` for one checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub checkout_id: String,
    pub buyer_id: String,
    pub amount_cents: i64,
    pub method: String,
    /// The provider's idempotency key: the same checkout, amount and method → the same
    /// authorization ([`keys::authorize`]).
    pub idempotency_key: String,
}

/// An approved authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The provider's id of the payment (a Stripe PaymentIntent id).
    pub id: String,
    pub amount_cents: i64,
}

/// Where the provider says a payment is (Stripe's PaymentIntent statuses, folded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentStatus {
    /// Authorized, waiting for capture.
    RequiresCapture,
    /// Captured (some or all of the authorized amount).
    Succeeded,
    /// Released without capture (by us, or by the provider when the authorization expired).
    Canceled,
    /// Anything else (`requires_action`, `processing`, `requires_payment_method`, …).
    Other,
}

/// One refund as the provider records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRefund {
    pub id: String,
    pub amount_cents: i64,
    /// Our order id (the refund's metadata), when the refund was ours.
    pub order_id: Option<String>,
}

/// The provider's view of one payment: the truth a [`Payment`] record adopts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderPayment {
    pub id: String,
    pub status: IntentStatus,
    /// The authorized amount.
    pub amount_cents: i64,
    /// Captured so far.
    pub amount_received: i64,
    /// The charge behind the payment, once there is one (transfers name it as their source).
    pub charge_id: Option<String>,
    pub refunds: Vec<ProviderRefund>,
    /// Our checkout id (the payment's metadata), when the payment was ours.
    pub checkout_id: Option<String>,
    /// Unix seconds.
    pub created: i64,
}

impl ProviderPayment {
    /// What the provider has refunded for `order_id`.
    pub fn refunded_for(&self, order_id: &str) -> i64 {
        self.refunds
            .iter()
            .filter(|r| r.order_id.as_deref() == Some(order_id))
            .map(|r| r.amount_cents)
            .sum()
    }
}

/// A seller's connected account, as the provider reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectedAccount {
    pub id: String,
    /// Transfers may be made to it.
    pub payouts_enabled: bool,
    /// The seller finished onboarding.
    pub details_submitted: bool,
}

/// One payout of an order's share to its shop's connected account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRequest {
    pub amount_cents: i64,
    /// The connected account.
    pub destination: String,
    /// The checkout id: every transfer of one buyer payment is grouped under it.
    pub transfer_group: String,
    /// The charge the money comes from (so the transfer need not wait for the balance).
    pub source_transaction: Option<String>,
    pub order_id: String,
    /// The order id: one transfer per order, ever ([`keys::transfer`]).
    pub idempotency_key: String,
}

/// A transfer as the provider records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub id: String,
    pub amount_cents: i64,
    /// Taken back so far.
    pub reversed_cents: i64,
    pub destination: String,
    /// Our order id (the transfer's metadata).
    pub order_id: Option<String>,
}

/// Provider idempotency keys, derived from our own ids: a retry of the same movement sends the
/// same key, so the provider performs it once.
pub mod keys {
    /// One authorization per checkout attempt (`attempt` is a fresh id per attempt: an attempt
    /// whose commit lost a race voids its authorization, and the next must not get it back).
    /// A retried provider call within the attempt sends the same key.
    pub fn authorize(checkout_id: &str, attempt: &str) -> String {
        format!("bazaar-authorize-{checkout_id}-{attempt}")
    }
    /// A payment is captured once; the amount is in the key because a capture retried after a
    /// cancellation landed asks for less (the provider refuses a key reused with other values).
    pub fn capture(checkout_id: &str, amount_cents: i64) -> String {
        format!("bazaar-capture-{checkout_id}-{amount_cents}")
    }
    pub fn cancel(payment_id: &str) -> String {
        format!("bazaar-cancel-{payment_id}")
    }
    pub fn refund(order_id: &str, amount_cents: i64) -> String {
        format!("bazaar-refund-{order_id}-{amount_cents}")
    }
    /// The order id, as the contract of payouts says.
    pub fn transfer(order_id: &str) -> String {
        order_id.to_owned()
    }
    pub fn reversal(order_id: &str, amount_cents: i64) -> String {
        format!("bazaar-reversal-{order_id}-{amount_cents}")
    }
    pub fn account(shop_id: &str) -> String {
        format!("bazaar-account-{shop_id}")
    }
}

// ------------------------------------------------------------------ webhooks

/// A verified provider event, reduced to what Bazaar acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEvent {
    /// The provider's event id: each is applied once.
    pub id: String,
    pub kind: ProviderEventKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderEventKind {
    /// Something happened to a payment (`payment_intent.*`, `charge.refunded`): settle its
    /// checkout against the provider's view. `checkout_id` is the payment's metadata.
    Payment {
        payment_id: String,
        checkout_id: Option<String>,
    },
    /// `charge.dispute.created`: the buyer disputes the payment.
    Dispute {
        payment_id: String,
        checkout_id: Option<String>,
    },
    /// `account.updated`: a connected account's onboarding moved; `shop_id` is its metadata.
    Account {
        account_id: String,
        shop_id: Option<String>,
    },
    /// Acknowledged and ignored.
    Ignored { kind: String },
}

// ------------------------------------------------------------------ the record

/// Where a checkout's payment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Authorized,
    Captured,
    PartiallyRefunded,
    Refunded,
    Voided,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Authorized => "authorized",
            PaymentStatus::Captured => "captured",
            PaymentStatus::PartiallyRefunded => "partially_refunded",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::Voided => "voided",
        }
    }
}

/// One order's share of a payment and what has happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderShare {
    pub order_id: String,
    pub shop_id: String,
    pub amount_cents: i64,
    /// The marketplace's fee on this order.
    pub fee_cents: i64,
    /// When the order was placed (orders the ledger).
    pub created_at: DateTime<Utc>,
    /// The seller cancelled the order.
    #[serde(default)]
    pub cancelled: bool,
    /// The order's amount was part of the capture.
    #[serde(default)]
    pub captured: bool,
    /// The order is covered by the capture being made (saved before the capture is asked for,
    /// so that a capture read back after a lost answer says exactly which orders it took).
    #[serde(default)]
    pub in_capture: bool,
    #[serde(default)]
    pub refunded_cents: i64,
    /// The payout of `amount - fee` to the shop, once made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_id: Option<String>,
    #[serde(default)]
    pub transferred_cents: i64,
    #[serde(default)]
    pub reversed_cents: i64,
}

impl OrderShare {
    /// What the seller is owed for a live, captured order.
    pub fn payout_cents(&self) -> i64 {
        self.amount_cents - self.fee_cents
    }

    /// Nothing is left to do for this order.
    pub fn settled(&self, shop_connected: bool) -> bool {
        if self.cancelled {
            (!self.captured || self.refunded_cents >= self.amount_cents)
                && self.reversed_cents >= self.transferred_cents
        } else {
            !self.captured || self.transfer_id.is_some() || !shop_connected
        }
    }
}

/// The payment of one checkout. Stored with a version: every change is written on the condition
/// that the version is still the one read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub checkout_id: String,
    pub buyer_id: String,
    /// The provider's payment id.
    pub payment_id: String,
    /// The authorized amount.
    pub amount_cents: i64,
    pub status: PaymentStatus,
    #[serde(default)]
    pub captured_cents: i64,
    #[serde(default)]
    pub refunded_cents: i64,
    /// The charge behind the payment, once captured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_id: Option<String>,
    pub orders: Vec<OrderShare>,
    #[serde(default)]
    pub disputed: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// The marketplace fee on `amount_cents` at `fee_bps` basis points, rounded down.
pub fn fee_cents(amount_cents: i64, fee_bps: u32) -> i64 {
    amount_cents.saturating_mul(i64::from(fee_bps)) / 10_000
}

impl Payment {
    /// The record a checkout commits: every order live, nothing captured.
    pub fn authorized(
        checkout_id: &str,
        buyer_id: &str,
        auth: &Authorization,
        orders: &[crate::checkout::Order],
        fee_bps: u32,
        now: DateTime<Utc>,
    ) -> Payment {
        Payment {
            checkout_id: checkout_id.to_owned(),
            buyer_id: buyer_id.to_owned(),
            payment_id: auth.id.clone(),
            amount_cents: auth.amount_cents,
            status: PaymentStatus::Authorized,
            captured_cents: 0,
            refunded_cents: 0,
            charge_id: None,
            orders: orders
                .iter()
                .map(|o| OrderShare {
                    order_id: o.order_id.clone(),
                    shop_id: o.shop_id.clone(),
                    amount_cents: o.total_cents,
                    fee_cents: fee_cents(o.total_cents, fee_bps),
                    created_at: o.created_at,
                    cancelled: false,
                    captured: false,
                    in_capture: false,
                    refunded_cents: 0,
                    transfer_id: None,
                    transferred_cents: 0,
                    reversed_cents: 0,
                })
                .collect(),
            disputed: false,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// The amount of the orders still live: what a capture takes.
    pub fn live_cents(&self) -> i64 {
        self.orders
            .iter()
            .filter(|o| !o.cancelled)
            .map(|o| o.amount_cents)
            .sum()
    }

    pub fn order(&self, order_id: &str) -> Option<&OrderShare> {
        self.orders.iter().find(|o| o.order_id == order_id)
    }

    /// The buyer's side is final: voided, or captured with every cancelled order refunded.
    /// (Payouts waiting for a shop to connect do not keep a payment open.)
    pub fn buyer_settled(&self) -> bool {
        match self.status {
            PaymentStatus::Voided | PaymentStatus::Refunded => true,
            PaymentStatus::Authorized => false,
            PaymentStatus::Captured | PaymentStatus::PartiallyRefunded => self
                .orders
                .iter()
                .all(|o| !o.cancelled || !o.captured || o.refunded_cents >= o.amount_cents),
        }
    }

    /// The status that the amounts imply once captured.
    pub fn refresh_status(&mut self) {
        if matches!(
            self.status,
            PaymentStatus::Authorized | PaymentStatus::Voided
        ) {
            return;
        }
        self.refunded_cents = self.orders.iter().map(|o| o.refunded_cents).sum();
        self.status = if self.refunded_cents == 0 {
            PaymentStatus::Captured
        } else if self.refunded_cents >= self.captured_cents {
            PaymentStatus::Refunded
        } else {
            PaymentStatus::PartiallyRefunded
        };
    }
}

// ------------------------------------------------------------------ ledger

/// The accounts money moves between, per order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Account {
    /// The buyer's card.
    Buyer,
    /// The marketplace's provider balance, where a captured charge lands.
    Platform,
    /// The marketplace's fee income.
    Revenue,
    /// The shop's connected account.
    Shop,
}

/// What a ledger entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// Buyer → platform: the order's amount captured.
    Charge,
    /// Platform → revenue: the marketplace fee.
    Fee,
    /// Platform → shop: the payout.
    Transfer,
    /// Shop → platform: a payout taken back (the order was cancelled after it was paid out).
    Reversal,
    /// Revenue → platform: the fee given back with a refund.
    FeeRefund,
    /// Platform → buyer: the order's amount refunded.
    Refund,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Charge => "charge",
            EntryKind::Fee => "fee",
            EntryKind::Transfer => "transfer",
            EntryKind::Reversal => "reversal",
            EntryKind::FeeRefund => "fee_refund",
            EntryKind::Refund => "refund",
        }
    }

    /// Where the money of this kind of entry comes from and goes to.
    pub fn accounts(self) -> (Account, Account) {
        match self {
            EntryKind::Charge => (Account::Buyer, Account::Platform),
            EntryKind::Fee => (Account::Platform, Account::Revenue),
            EntryKind::Transfer => (Account::Platform, Account::Shop),
            EntryKind::Reversal => (Account::Shop, Account::Platform),
            EntryKind::FeeRefund => (Account::Revenue, Account::Platform),
            EntryKind::Refund => (Account::Platform, Account::Buyer),
        }
    }
}

/// One movement of one order's money. An order has at most one entry of each kind, so the
/// entry's identity is (order, kind) and writing it twice writes it once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub shop_id: String,
    pub order_id: String,
    pub checkout_id: String,
    pub kind: EntryKind,
    pub amount_cents: i64,
    pub debit: Account,
    pub credit: Account,
    /// The provider's id of the movement (charge, transfer, reversal, refund), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// When the order was placed (entries of one order sort together).
    pub order_created_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl LedgerEntry {
    pub fn new(
        payment: &Payment,
        order: &OrderShare,
        kind: EntryKind,
        amount_cents: i64,
        reference: Option<String>,
        now: DateTime<Utc>,
    ) -> LedgerEntry {
        let (debit, credit) = kind.accounts();
        LedgerEntry {
            shop_id: order.shop_id.clone(),
            order_id: order.order_id.clone(),
            checkout_id: payment.checkout_id.clone(),
            kind,
            amount_cents,
            debit,
            credit,
            reference,
            order_created_at: order.created_at,
            created_at: now,
        }
    }
}

/// Each account's balance over `entries` (money in minus money out). The balances of any set of
/// entries sum to zero.
pub fn balances(entries: &[LedgerEntry]) -> BTreeMap<Account, i64> {
    let mut out = BTreeMap::new();
    for e in entries {
        *out.entry(e.debit).or_insert(0) -= e.amount_cents;
        *out.entry(e.credit).or_insert(0) += e.amount_cents;
    }
    out
}

/// A page of a shop's ledger (`GET /shops/{shop_id}/payouts`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LedgerPage {
    pub entries: Vec<LedgerEntry>,
    pub next_cursor: Option<String>,
}

// ------------------------------------------------------------------ payouts on the shop

/// A shop's payout account, as stored on the shop and shown by `GET /shops/{shop_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutAccount {
    pub account_id: String,
    /// `pending` until the seller finished onboarding and payouts are enabled, then `enabled`.
    pub status: PayoutStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutStatus {
    Pending,
    Enabled,
}

impl PayoutStatus {
    pub fn of(account: &ConnectedAccount) -> PayoutStatus {
        if account.payouts_enabled {
            PayoutStatus::Enabled
        } else {
            PayoutStatus::Pending
        }
    }
}

// ------------------------------------------------------------------ test methods

/// Stripe's test payment methods that approve.
pub const APPROVING: &[&str] = &[
    "pm_card_visa",
    "pm_card_visa_debit",
    "pm_card_mastercard",
    "pm_card_amex",
];
/// Stripe's test payment methods that decline, with the decline reason.
pub const DECLINING: &[(&str, &str)] = &[
    ("pm_card_chargeDeclined", "card_declined"),
    ("pm_card_visa_chargeDeclined", "card_declined"),
    ("pm_card_chargeCustomerFail", "card_declined"),
    (
        "pm_card_chargeDeclinedInsufficientFunds",
        "insufficient_funds",
    ),
    ("pm_card_chargeDeclinedExpiredCard", "expired_card"),
    ("pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc"),
];
/// Stripe's test payment methods that require 3-D Secure authentication.
pub const AUTHENTICATING: &[&str] = &[
    "pm_card_authenticationRequired",
    "pm_card_threeDSecure2Required",
];

/// The test gateways' answer to `method` before any money moves: a declined Stripe test method
/// is `402 payment_declined` (with its reason), one that needs 3-D Secure `402
/// payment_action_required`, an unknown one `422`.
pub fn check_test_method(method: &str) -> Result<(), Error> {
    if let Some((_, reason)) = DECLINING.iter().find(|(m, _)| *m == method) {
        return Err(Error::PaymentDeclined(format!(
            "The card was declined ({reason})."
        )));
    }
    if AUTHENTICATING.contains(&method) {
        return Err(Error::PaymentActionRequired(
            "The card requires 3-D Secure authentication, which checkout does not support yet; use another card.".into(),
        ));
    }
    if !APPROVING.contains(&method) {
        return Err(Error::validation(
            "payment_method",
            "unknown payment method: use a Stripe test method such as pm_card_visa",
        ));
    }
    Ok(())
}

/// Whether the test gateway knows `method` (an unknown one is a `422` before any payment call).
pub fn is_known_test_method(method: &str) -> bool {
    APPROVING.contains(&method)
        || AUTHENTICATING.contains(&method)
        || DECLINING.iter().any(|(m, _)| *m == method)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripe_test_methods() {
        assert!(is_known_test_method("pm_card_visa"));
        assert!(is_known_test_method("pm_card_chargeDeclined"));
        assert!(is_known_test_method("pm_card_authenticationRequired"));
        assert!(!is_known_test_method("tok_visa"));
        assert!(!is_known_test_method(""));
        assert!(matches!(
            check_test_method("pm_card_authenticationRequired"),
            Err(Error::PaymentActionRequired(_))
        ));
    }

    #[test]
    fn fees_round_down_and_never_overflow() {
        assert_eq!(fee_cents(10_000, 1_000), 1_000);
        assert_eq!(fee_cents(999, 1_000), 99);
        assert_eq!(fee_cents(1, 250), 0);
        assert_eq!(fee_cents(i64::MAX, 10_000), i64::MAX / 10_000);
    }

    #[test]
    fn every_entry_balances() {
        let now = Utc::now();
        let p = Payment {
            checkout_id: "c".into(),
            buyer_id: "b".into(),
            payment_id: "pi".into(),
            amount_cents: 1000,
            status: PaymentStatus::Captured,
            captured_cents: 1000,
            refunded_cents: 0,
            charge_id: None,
            orders: vec![],
            disputed: false,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let o = OrderShare {
            order_id: "o".into(),
            shop_id: "s".into(),
            amount_cents: 1000,
            fee_cents: 100,
            created_at: now,
            cancelled: true,
            captured: true,
            in_capture: true,
            refunded_cents: 1000,
            transfer_id: Some("tr".into()),
            transferred_cents: 900,
            reversed_cents: 900,
        };
        let entries: Vec<_> = [
            (EntryKind::Charge, 1000),
            (EntryKind::Fee, 100),
            (EntryKind::Transfer, 900),
            (EntryKind::Reversal, 900),
            (EntryKind::FeeRefund, 100),
            (EntryKind::Refund, 1000),
        ]
        .into_iter()
        .map(|(k, a)| LedgerEntry::new(&p, &o, k, a, None, now))
        .collect();
        let b = balances(&entries);
        assert_eq!(b.values().sum::<i64>(), 0);
        assert!(
            b.values().all(|v| *v == 0),
            "a fully reversed order leaves nothing anywhere: {b:?}"
        );
        let settled = balances(&entries[..3]);
        assert_eq!(settled[&Account::Buyer], -1000);
        assert_eq!(settled[&Account::Shop], 900);
        assert_eq!(settled[&Account::Revenue], 100);
        assert_eq!(settled[&Account::Platform], 0);
    }
}
