//! The checkout saga (see [`crate::checkout`] for the steps and why each is safe to repeat):
//! derive the checkout id, return a committed checkout's orders, else read the cart, plan every
//! line, price one order per shop, authorize, and commit everything — the orders and the
//! payment's record in state `authorized` — in one atomic write. Capture is not on this path:
//! the payment record's event drives it ([`crate::services::payments`]).
//!
//! A commit cancelled by a concurrent change is certain not to have happened: the authorization
//! is voided and the checkout planned again from fresh reads, so a lost slot may be replaced by
//! another free one and a line that can no longer be had is named with its current availability
//! (`409 items_unavailable`). A commit whose outcome is unknown (a timeout, a 5xx) is resolved
//! by reading what was written; when that cannot tell either, nothing is voided — the answer is
//! `503`, a retry returns the orders if they exist, and reconciliation voids an authorization
//! that no committed checkout owns.
//!
//! Round trips of a first attempt: the cart read (the cart with the checkout quota's counter, then
//! its products and shops), one provider call (authorize), the commit (which also empties the cart
//! and counts the quota) — `3` of the store's, whatever the cart. A first attempt does not look for
//! a committed checkout first: the idempotency layer replays completed ones, and one that committed
//! without its answer being stored (a crash) is found when its cart turns out to be empty (that
//! commit emptied it) or when the commit's record condition fails.

use crate::cart::{self, Line};
use crate::checkout::{
    CheckoutHooks, CheckoutRecord, CheckoutView, CheckoutWrite, CheckoutWritten, OrderShop,
    PlannedLine, ShippingAddress, UnavailableItem, build_orders, checkout_id, checkout_view,
    items_unavailable, max_lines,
};
use crate::error::Error;
use crate::metrics::Metrics;
use crate::payments::{AuthorizeRequest, Payment, keys};
use crate::ports::{CheckoutStore, LineCatalog, PaymentGateway};
use crate::quota::{Charge, QuotaClass, Quotas};
use chrono::Utc;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Attempts of one checkout before `503`: each lost race is re-planned from fresh reads.
pub const ATTEMPTS: usize = 4;

/// The smallest and largest charge the provider takes (Stripe, USD): a checkout outside is `422
/// amount_out_of_range` before anything is authorized.
pub const CHARGE_CENTS_MIN: i64 = 50;
pub const CHARGE_CENTS_MAX: i64 = 99_999_999;

/// The marketplace fee when none is configured: 10 %.
pub const DEFAULT_FEE_BPS: u32 = 1_000;

/// The saga over a [`CheckoutStore`] and a [`PaymentGateway`].
#[derive(Debug, Clone)]
pub struct CheckoutService<S, P> {
    store: S,
    payments: P,
    fee_bps: u32,
    quotas: Quotas,
}

impl<S: CheckoutStore, P: PaymentGateway> CheckoutService<S, P> {
    pub fn new(store: S, payments: P) -> Self {
        Self {
            store,
            payments,
            fee_bps: DEFAULT_FEE_BPS,
            quotas: Quotas::off(),
        }
    }

    /// Every checkout attempt spends one `checkout` write of `quotas` (see [`Self::checkout`]).
    pub fn with_quotas(mut self, quotas: Quotas) -> Self {
        self.quotas = quotas;
        self
    }

    /// The marketplace fee in basis points, recorded on each order's share of the payment.
    pub fn with_fee_bps(mut self, fee_bps: u32) -> Self {
        self.fee_bps = fee_bps;
        self
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn payments(&self) -> &P {
        &self.payments
    }

    /// Places the buyer's cart as orders, exactly once per `idempotency_key`. `hooks` are the
    /// fault-injection points of the tests ([`crate::checkout::NoHooks`] in production).
    ///
    /// With quotas on, every attempt counts once: a committed one in its own transaction, a
    /// refused one (an empty cart, a declined card, …) with one write after the refusal — the
    /// happy path pays no round trip for the quota. A full window is `429` before anything is
    /// authorized, and is not counted itself.
    pub async fn checkout<H: CheckoutHooks>(
        &self,
        hooks: &H,
        buyer: &str,
        idempotency_key: &str,
        address: &ShippingAddress,
        payment_method: &str,
    ) -> Result<CheckoutView, Error> {
        let charge = self
            .quotas
            .charge(QuotaClass::Checkout, Utc::now().timestamp());
        let result = self
            .attempts(
                hooks,
                buyer,
                idempotency_key,
                address,
                payment_method,
                charge.as_ref(),
            )
            .await;
        if let Err(err) = &result
            && !matches!(err, Error::TooManyRequests { .. })
        {
            self.count_failed(buyer, charge.as_ref()).await;
        }
        result
    }

    async fn attempts<H: CheckoutHooks>(
        &self,
        hooks: &H,
        buyer: &str,
        idempotency_key: &str,
        address: &ShippingAddress,
        payment_method: &str,
        charge: Option<&Charge>,
    ) -> Result<CheckoutView, Error> {
        let checkout_id = checkout_id(buyer, idempotency_key);
        for attempt in 0..ATTEMPTS {
            if attempt > 0
                && let Some((_record, orders)) = self.store.committed(&checkout_id).await?
            {
                // A racing duplicate committed first: same orders.
                return Ok(checkout_view(&checkout_id, &orders));
            }
            let now = Utc::now();
            let (lines, shops, cart_version) = match self.plan(buyer, now.timestamp(), charge).await
            {
                Ok(planned) => planned,
                Err(err) => {
                    // This checkout may have committed before (a retry after a crash): its
                    // commit emptied the cart. Then the answer is its orders.
                    if attempt == 0
                        && err.status() < 500
                        && let Some((_, orders)) = self.store.committed(&checkout_id).await?
                    {
                        return Ok(checkout_view(&checkout_id, &orders));
                    }
                    return Err(err);
                }
            };
            let fits = max_lines(&lines);
            if fits < lines.len() {
                let mut extra = Map::new();
                extra.insert("max_lines".into(), Value::from(fits));
                return Err(Error::Unprocessable {
                    code: "cart_too_large",
                    detail: format!(
                        "One checkout can take {fits} of these {} lines; remove some and check out in parts.",
                        lines.len()
                    ),
                    extra,
                });
            }
            let orders = build_orders(&checkout_id, buyer, &lines, &shops, address, now)?;
            let total: i64 = orders.iter().map(|o| o.total_cents).sum();
            if !(CHARGE_CENTS_MIN..=CHARGE_CENTS_MAX).contains(&total) {
                let mut extra = Map::new();
                extra.insert("total_cents".into(), Value::from(total));
                extra.insert("min_cents".into(), Value::from(CHARGE_CENTS_MIN));
                extra.insert("max_cents".into(), Value::from(CHARGE_CENTS_MAX));
                return Err(Error::Unprocessable {
                    code: "amount_out_of_range",
                    detail: format!(
                        "A checkout's total must be between {CHARGE_CENTS_MIN} and {CHARGE_CENTS_MAX} cents; this one is {total}."
                    ),
                    extra,
                });
            }
            let attempt = uuid::Uuid::new_v4().simple().to_string();
            let auth = self
                .payments
                .authorize(&AuthorizeRequest {
                    checkout_id: checkout_id.clone(),
                    buyer_id: buyer.to_owned(),
                    amount_cents: total,
                    method: payment_method.to_owned(),
                    idempotency_key: keys::authorize(&checkout_id, &attempt),
                })
                .await?;
            let record = CheckoutRecord {
                checkout_id: checkout_id.clone(),
                buyer_id: buyer.to_owned(),
                order_ids: orders.iter().map(|o| o.order_id.clone()).collect(),
                total_cents: total,
                payment_id: auth.id.clone(),
                created_at: now,
            };
            let payment =
                Payment::authorized(&checkout_id, buyer, &auth, &orders, self.fee_bps, now);
            hooks.before_commit(&checkout_id).await;
            let written = self
                .store
                .commit(&CheckoutWrite {
                    buyer,
                    lines: &lines,
                    orders: &orders,
                    record: &record,
                    payment: &payment,
                    now: now.timestamp(),
                    cart_version,
                    quota: charge.copied(),
                })
                .await;
            match written {
                Ok(CheckoutWritten::Committed) => {
                    hooks.after_commit(&checkout_id);
                    Metrics::new("checkout")
                        .count("PaymentsAuthorized", 1)
                        .count("AuthorizedCents", u64::try_from(total).unwrap_or(0))
                        .emit();
                    return Ok(checkout_view(&checkout_id, &orders));
                }
                // A duplicate of this checkout committed first: the next round returns its
                // orders. This attempt's authorization is not theirs: release it.
                Ok(CheckoutWritten::Duplicate) => {
                    self.release(&checkout_id, &auth.id).await;
                    continue;
                }
                Ok(CheckoutWritten::RateLimited) => {
                    self.release(&checkout_id, &auth.id).await;
                    return Err(charge.map_or_else(
                        || Error::internal("a checkout without a quota was rate limited"),
                        |c| c.refused(),
                    ));
                }
                Ok(CheckoutWritten::Cancelled { lines: failed }) => {
                    // Certainly not written: the authorization can go.
                    self.release(&checkout_id, &auth.id).await;
                    let lost: Vec<&str> = failed
                        .iter()
                        .filter_map(|i| lines.get(*i))
                        .map(|l| l.product_id.as_str())
                        .collect();
                    tracing::info!(checkout_id, lost = ?lost, "checkout transaction cancelled by a concurrent change; planning again");
                    Metrics::new("checkout")
                        .count("CheckoutConflicts", 1)
                        .property("products", lost.join(","))
                        .emit();
                    continue;
                }
                Err(err) => {
                    // Read what was written before touching the payment.
                    return match self.store.committed(&checkout_id).await {
                        Ok(Some((record, orders))) if record.payment_id == auth.id => {
                            tracing::warn!(checkout_id, error = %err, "checkout commit answered an error but committed");
                            Ok(checkout_view(&checkout_id, &orders))
                        }
                        // Another attempt's orders: ours did not commit (the record is unique).
                        Ok(Some((_, orders))) => {
                            self.release(&checkout_id, &auth.id).await;
                            Ok(checkout_view(&checkout_id, &orders))
                        }
                        // A refusal (not a timeout or a 5xx) wrote nothing: release at once.
                        Ok(None) if !matches!(err, Error::Unavailable(_)) => {
                            self.release(&checkout_id, &auth.id).await;
                            Err(err)
                        }
                        // Unknown and not visible (yet): a transaction may still land, so the
                        // authorization is left to reconciliation, which voids it once no
                        // committed checkout can own it.
                        Ok(None) | Err(_) => {
                            tracing::error!(checkout_id, payment_id = auth.id, error = %err, "checkout commit outcome unknown; authorization left for reconciliation");
                            Err(Error::Unavailable(
                                "the checkout could not be confirmed; retry with the same Idempotency-Key".into(),
                            ))
                        }
                    };
                }
            }
        }
        Err(Error::Unavailable(
            "checkout kept losing races; retry".into(),
        ))
    }

    /// Counts a refused checkout against the quota (best effort: the answer is the refusal
    /// either way).
    async fn count_failed(&self, buyer: &str, charge: Option<&Charge>) {
        if let Some(charge) = charge
            && let Err(err) = self.store.spend(buyer, charge).await
        {
            tracing::warn!(buyer, error = %err, "could not count a refused checkout");
        }
    }

    /// Voids an authorization of ours that no committed checkout uses — best effort: the answer
    /// the buyer gets does not depend on it, and reconciliation voids what is left over.
    async fn release(&self, checkout_id: &str, payment_id: &str) {
        if let Err(err) = self
            .payments
            .cancel(payment_id, &keys::cancel(payment_id))
            .await
        {
            tracing::warn!(checkout_id, payment_id, error = %err, "could not void an unused authorization; reconciliation will");
        }
    }

    /// Reads the cart with its products and shops and plans every line (or names every line
    /// that cannot be had: `409 items_unavailable`; an empty cart is `422 cart_empty`; lines of
    /// the buyer's own listings are `403 own_listing`; a spent quota `429`). Answers the cart's
    /// version too.
    async fn plan(
        &self,
        buyer: &str,
        now: i64,
        charge: Option<&Charge>,
    ) -> Result<(Vec<PlannedLine>, BTreeMap<String, OrderShop>, i64), Error> {
        let (stored, catalog, used) = self.store.cart(buyer, charge).await?;
        if let Some(charge) = charge
            && !charge.fits(used)
        {
            return Err(charge.refused());
        }
        if stored.lines.is_empty() {
            return Err(Error::unprocessable("cart_empty", "The cart is empty."));
        }
        let (lines, shops) = plan_lines(buyer, stored.lines, catalog, now, &mut cart::random_pick)?;
        Ok((lines, shops, stored.version))
    }
}

/// Plans every cart line like a cart write (the buyer's own holds, else free units), in cart
/// order, with the shops' order terms. A line of one of the buyer's own listings (put in the
/// cart before add-to-cart refused them) refuses the whole checkout: `403 own_listing` with
/// their `product_ids`, before anything is authorized.
fn plan_lines(
    buyer: &str,
    rows: Vec<Line>,
    (products, shops): LineCatalog,
    now: i64,
    pick: &mut dyn FnMut(usize) -> usize,
) -> Result<(Vec<PlannedLine>, BTreeMap<String, OrderShop>), Error> {
    let own: Vec<&str> = rows
        .iter()
        .filter(|row| {
            products
                .get(&row.product_id)
                .is_some_and(|p| p.owner_id == buyer)
                || shops.get(&row.shop_id).is_some_and(|s| s.owner_id == buyer)
        })
        .map(|row| row.product_id.as_str())
        .collect();
    if !own.is_empty() {
        let mut extra = Map::new();
        extra.insert("product_ids".into(), Value::from(own.clone()));
        return Err(Error::Denied {
            code: "own_listing",
            detail: format!(
                "Sellers cannot buy their own listings: remove {} from the cart to check out the rest.",
                if own.len() == 1 {
                    "that line"
                } else {
                    "those lines"
                }
            ),
            extra,
        });
    }
    let shops: BTreeMap<String, OrderShop> = shops
        .into_iter()
        .map(|(id, shop)| {
            (
                id,
                OrderShop {
                    name: shop.name,
                    owner_id: shop.owner_id,
                    owner_email: shop.owner_email,
                    shipping: shop.shipping,
                },
            )
        })
        .collect();
    let mut planned = Vec::new();
    let mut unavailable = Vec::new();
    for row in rows {
        // Stock is decremented only when the units are there: below zero is an oversell.
        if let Some(p) = products.get(&row.product_id)
            && let Some(oversold) = crate::inventory::oversell_metric(&row.product_id, p.quantity)
        {
            oversold.emit();
        }
        match products.get(&row.product_id) {
            None => unavailable.push(UnavailableItem {
                product_id: row.product_id,
                title: row.title,
                requested: row.quantity,
                available: 0,
            }),
            Some(p) => match cart::plan(p.quantity, &p.holds, buyer, row.quantity, now, pick) {
                Ok(plan) => planned.push(PlannedLine {
                    product_id: row.product_id,
                    shop_id: row.shop_id,
                    quantity: row.quantity,
                    title: p.title.clone(),
                    price_cents: p.price_cents,
                    plan,
                }),
                Err(u) => unavailable.push(UnavailableItem {
                    product_id: row.product_id,
                    title: p.title.clone(),
                    requested: row.quantity,
                    available: u.available,
                }),
            },
        }
    }
    if !unavailable.is_empty() {
        return Err(items_unavailable(unavailable));
    }
    Ok((planned, shops))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cart::LineChange;
    use crate::checkout::{NoHooks, OrderStatus, order_id};
    use crate::fakes::{FakeGateway, FakeStore, GatewayCall};
    use crate::payments::{IntentStatus, PaymentStatus};
    use crate::quota::Quotas;
    use crate::services::cart::CartService;
    use std::sync::atomic::{AtomicBool, Ordering};

    fn address() -> ShippingAddress {
        ShippingAddress {
            name: "Ada Lovelace".into(),
            line1: "12 Loom Street".into(),
            line2: None,
            city: "Bristol".into(),
            region: None,
            postal_code: "BS1 4DJ".into(),
            country: "GB".into(),
        }
    }

    struct World {
        store: FakeStore,
        gateway: FakeGateway,
        carts: CartService<FakeStore>,
        checkout: CheckoutService<FakeStore, FakeGateway>,
        kiln: String,
        loom: String,
        vase: String,
        scarf: String,
    }

    /// Two shops, a vase (4200, 2 in stock) and a scarf (6500, 1), both in Ada's cart.
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
            store,
            gateway,
            carts,
            kiln,
            loom,
            vase,
            scarf,
        }
    }

    async fn place(w: &World, key: &str, method: &str) -> Result<CheckoutView, Error> {
        w.checkout
            .checkout(&NoHooks, "ada", key, &address(), method)
            .await
    }

    #[tokio::test]
    async fn a_checkout_places_one_order_per_shop_and_authorizes_the_total_without_capturing() {
        let w = world().await;
        let view = place(&w, "k1", "pm_card_visa").await.expect("placed");
        let vase_total = 2 * 4200 + 500 + 150;
        let scarf_total = 6500 + 300;
        assert_eq!(view.total_cents, vase_total + scarf_total);
        assert_eq!(view.orders.len(), 2);
        assert_eq!(
            view.orders[0].order_id,
            order_id(&view.checkout_id, &w.kiln)
        );
        assert_eq!(view.orders[0].total_cents, vase_total);
        assert_eq!(view.orders[1].shop_id, w.loom);
        assert_eq!(view.orders[1].status, OrderStatus::Paid);
        let intents = w.gateway.intents_of(&view.checkout_id);
        assert_eq!(intents.len(), 1);
        assert_eq!(
            (intents[0].status, intents[0].amount_cents),
            (IntentStatus::RequiresCapture, vase_total + scarf_total),
            "capture is not on the request path"
        );
        let record = w
            .store
            .payment_record(&view.checkout_id)
            .expect("payment record");
        assert_eq!(
            (
                record.status,
                record.payment_id.as_str(),
                record.amount_cents,
                record.orders.len()
            ),
            (
                PaymentStatus::Authorized,
                intents[0].id.as_str(),
                vase_total + scarf_total,
                2
            )
        );
        assert_eq!(
            record.orders[0].fee_cents,
            vase_total / 10,
            "the default fee is 10 %"
        );
        let vase = w.store.get_product(&w.vase).expect("vase");
        assert_eq!((vase.quantity, vase.version, vase.holds.len()), (0, 2, 0));
        assert!(w.store.lines_of("ada").is_empty(), "the cart is emptied");
        assert_eq!(w.store.get_shop(&w.kiln).map(|s| s.sales_count), Some(2));
    }

    #[tokio::test]
    async fn a_line_of_the_buyers_own_listing_refuses_checkout_before_anything_is_authorized() {
        let w = world().await;
        // The kiln's owner has the scarf, and a vase of their own from before the rule.
        w.carts
            .write_line("kiln", &w.scarf, LineChange::Add(1), 900)
            .await
            .expect_err("ada holds the only scarf");
        let mut own = w.store.line("ada", &w.vase).expect("ada's line");
        own.quantity = 1;
        w.store.put_line("kiln", own);
        let err = w
            .checkout
            .checkout(&NoHooks, "kiln", "k1", &address(), "pm_card_visa")
            .await
            .expect_err("own listing");
        let problem = err.problem();
        assert_eq!((problem.status, problem.code), (403, "own_listing"));
        assert_eq!(problem.extra["product_ids"], serde_json::json!([w.vase]));
        assert_eq!(w.gateway.calls(GatewayCall::Authorize), 0);
        assert!(w.store.orders().is_empty());
        assert_eq!(w.store.get_product(&w.vase).map(|p| p.quantity), Some(2));
        assert_eq!(w.store.lines_of("kiln").len(), 1, "nothing written");
    }

    #[tokio::test]
    async fn a_checkout_closes_the_hold_window() {
        let w = world().await;
        assert!(w.store.hold_since("ada", &w.vase).is_some());
        place(&w, "k1", "pm_card_visa").await.expect("placed");
        assert_eq!(w.store.hold_since("ada", &w.vase), None, "no clock is left");
    }

    #[tokio::test]
    async fn a_retried_checkout_after_commit_returns_the_same_orders_and_authorizes_once() {
        let w = world().await;
        let first = place(&w, "k1", "pm_card_visa").await.expect("placed");
        let again = place(&w, "k1", "pm_card_visa").await.expect("replayed");
        assert_eq!(again, first);
        assert_eq!(w.store.orders().len(), 2, "no second set of orders");
        assert_eq!(w.gateway.intents_of(&first.checkout_id).len(), 1);
        assert_eq!(w.gateway.calls(GatewayCall::Authorize), 1);
        assert_eq!(w.gateway.calls(GatewayCall::Capture), 0);
    }

    #[tokio::test]
    async fn a_crash_after_the_commit_is_answered_by_the_retry_without_any_capture() {
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
        assert!(crashed.is_err(), "the attempt crashed");
        let id = checkout_id("ada", "k1");
        let view = place(&w, "k1", "pm_card_visa").await.expect("retried");
        assert_eq!(view.orders.len(), 2);
        assert_eq!(w.store.orders().len(), 2);
        let intents = w.gateway.intents_of(&id);
        assert_eq!(intents.len(), 1);
        assert_eq!(intents[0].status, IntentStatus::RequiresCapture);
        assert_eq!(
            w.gateway.calls(GatewayCall::Capture),
            0,
            "a retry never captures"
        );
    }

    #[tokio::test]
    async fn a_declined_card_writes_nothing() {
        let w = world().await;
        let err = place(&w, "k1", "pm_card_chargeDeclined")
            .await
            .expect_err("declined");
        assert_eq!(
            (err.status(), err.problem().code),
            (402, "payment_declined")
        );
        assert_eq!(w.store.writes_attempted(), 2, "only the two cart writes");
        assert!(w.store.orders().is_empty());
        assert_eq!(w.store.lines_of("ada").len(), 2);
        assert_eq!(w.store.holds_of(&w.vase, "ada"), 2, "the holds are intact");
        assert!(w.gateway.intents_of(&checkout_id("ada", "k1")).is_empty());
    }

    #[tokio::test]
    async fn a_cancelled_commit_voids_the_authorization_and_names_the_unavailable_lines() {
        /// Before the first commit, Ada's hold on the scarf has lapsed and Bob takes it.
        struct Thief {
            carts: CartService<FakeStore>,
            store: FakeStore,
            scarf: String,
            struck: AtomicBool,
        }
        impl CheckoutHooks for Thief {
            async fn before_commit(&self, _: &str) {
                if self.struck.swap(true, Ordering::SeqCst) {
                    return;
                }
                self.store.set_hold(&self.scarf, 0, "ada", 0);
                self.carts
                    .write_line("bob", &self.scarf, LineChange::Add(1), 60)
                    .await
                    .expect("bob holds the scarf");
            }
        }
        let w = world().await;
        let thief = Thief {
            carts: w.carts.clone(),
            store: w.store.clone(),
            scarf: w.scarf.clone(),
            struck: AtomicBool::new(false),
        };
        let err = w
            .checkout
            .checkout(&thief, "ada", "k1", &address(), "pm_card_visa")
            .await
            .expect_err("lost the scarf");
        let problem = err.problem();
        assert_eq!((problem.status, problem.code), (409, "items_unavailable"));
        assert_eq!(
            problem.extra["unavailable_items"],
            serde_json::json!([{"product_id": w.scarf, "title": "Scarf", "requested": 1, "available": 0}])
        );
        let intents = w.gateway.intents_of(&checkout_id("ada", "k1"));
        assert_eq!(
            intents.len(),
            1,
            "the second plan cannot be had: no second authorization"
        );
        assert_eq!(intents[0].status, IntentStatus::Canceled);
        assert!(w.store.orders().is_empty());
        assert_eq!(w.store.get_product(&w.vase).map(|p| p.quantity), Some(2));
        assert_eq!(w.store.holds_of(&w.scarf, "bob"), 1);
    }

    #[tokio::test]
    async fn a_lost_race_at_commit_is_planned_again_and_succeeds() {
        let w = world().await;
        w.store.lose_races(2);
        let view = place(&w, "k1", "pm_card_visa")
            .await
            .expect("third attempt");
        assert_eq!(view.orders.len(), 2);
        // One authorization per attempt; the two that lost are voided.
        let intents = w.gateway.intents_of(&view.checkout_id);
        let statuses: Vec<_> = intents.iter().map(|i| i.status).collect();
        assert_eq!(
            statuses,
            [
                IntentStatus::Canceled,
                IntentStatus::Canceled,
                IntentStatus::RequiresCapture
            ]
        );
        let record = w.store.payment_record(&view.checkout_id).expect("record");
        assert_eq!(
            record.payment_id, intents[2].id,
            "the record names the live one"
        );
    }

    #[tokio::test]
    async fn four_lost_races_answer_503_with_the_authorization_voided() {
        let w = world().await;
        w.store.lose_races(ATTEMPTS);
        let err = place(&w, "k1", "pm_card_visa").await.expect_err("gave up");
        assert_eq!(err.status(), 503);
        let intents = w.gateway.intents_of(&checkout_id("ada", "k1"));
        assert_eq!(intents.len(), ATTEMPTS);
        assert!(intents.iter().all(|i| i.status == IntentStatus::Canceled));
        assert!(w.store.orders().is_empty());
    }

    #[tokio::test]
    async fn a_commit_of_unknown_outcome_that_committed_answers_the_orders_and_voids_nothing() {
        let w = world().await;
        w.store.commit_then_fail(1);
        let view = place(&w, "k1", "pm_card_visa")
            .await
            .expect("resolved by a read");
        assert_eq!(view.orders.len(), 2);
        let intents = w.gateway.intents_of(&view.checkout_id);
        assert_eq!(intents.len(), 1);
        assert_eq!(
            intents[0].status,
            IntentStatus::RequiresCapture,
            "not voided"
        );
        let record = w.store.payment_record(&view.checkout_id).expect("record");
        assert_eq!(
            (record.status, record.payment_id.as_str()),
            (PaymentStatus::Authorized, intents[0].id.as_str())
        );
        assert_eq!(w.gateway.calls(GatewayCall::Cancel), 0);
    }

    #[tokio::test]
    async fn a_store_failure_at_commit_is_503_and_leaves_the_authorization_to_reconciliation() {
        let w = world().await;
        w.store.fail_writes(1);
        let err = place(&w, "k1", "pm_card_visa").await.expect_err("failed");
        assert_eq!(err.status(), 503);
        let intents = w.gateway.intents_of(&checkout_id("ada", "k1"));
        assert_eq!(intents.len(), 1);
        assert_eq!(
            intents[0].status,
            IntentStatus::RequiresCapture,
            "the outcome was unknown: nothing is voided on the request path"
        );
        assert_eq!(w.gateway.calls(GatewayCall::Cancel), 0);
        assert!(w.store.orders().is_empty());
    }

    #[tokio::test]
    async fn a_refused_commit_releases_the_authorization_at_once() {
        let w = world().await;
        w.store.refuse_writes(1);
        let err = place(&w, "k1", "pm_card_visa").await.expect_err("refused");
        assert_eq!(err.status(), 500);
        let intents = w.gateway.intents_of(&checkout_id("ada", "k1"));
        assert_eq!(intents.len(), 1);
        assert_eq!(
            intents[0].status,
            IntentStatus::Canceled,
            "nothing was written: no hold left on the card"
        );
    }

    #[tokio::test]
    async fn a_total_outside_what_the_provider_charges_is_422_before_any_authorization() {
        let store = FakeStore::default();
        let shop = store.add_shop("seller", "Tiny Things", 0, 0);
        let pin = store.add_product(&shop, "Pin", 10, 5);
        CartService::new(store.clone())
            .write_line("cheap", &pin, LineChange::Add(1), 900)
            .await
            .expect("added");
        let gateway = FakeGateway::default();
        let err = CheckoutService::new(store.clone(), gateway.clone())
            .checkout(&NoHooks, "cheap", "k", &address(), "pm_card_visa")
            .await
            .expect_err("too small");
        let problem = err.problem();
        assert_eq!((problem.status, problem.code), (422, "amount_out_of_range"));
        assert_eq!(problem.extra["min_cents"], CHARGE_CENTS_MIN);
        assert_eq!(gateway.calls(GatewayCall::Authorize), 0);
    }

    #[tokio::test]
    async fn an_empty_cart_is_422_and_a_deleted_product_is_named() {
        let w = world().await;
        let err = w
            .checkout
            .checkout(&NoHooks, "bob", "k1", &address(), "pm_card_visa")
            .await
            .expect_err("empty");
        assert_eq!((err.status(), err.problem().code), (422, "cart_empty"));
        w.store.delete_product(&w.scarf);
        let err = place(&w, "k1", "pm_card_visa").await.expect_err("gone");
        let problem = err.problem();
        assert_eq!((problem.status, problem.code), (409, "items_unavailable"));
        assert_eq!(
            problem.extra["unavailable_items"][0]["product_id"],
            w.scarf.as_str()
        );
        assert!(
            w.gateway.intents_of(&checkout_id("ada", "k1")).is_empty(),
            "nothing authorized"
        );
    }

    /// 40 lines (the most one checkout is promised) from 10 shops, one unit and many units per
    /// line: one commit, 10 orders, the cart emptied, the quota counted once.
    #[tokio::test]
    async fn forty_lines_from_ten_shops_check_out_in_one_commit() {
        for units in [1, 2] {
            let store = FakeStore::default();
            let gateway = FakeGateway::default();
            let quotas = Quotas::parse("checkout=5/60").expect("quotas");
            let carts = CartService::new(store.clone());
            let shops: Vec<String> = (0..10)
                .map(|i| store.add_shop(&format!("seller-{i}"), &format!("Shop {i}"), 100, 10))
                .collect();
            for i in 0..40 {
                let p = store.add_product(&shops[i % 10], &format!("P{i}"), 500, 5);
                carts
                    .write_line("big", &p, LineChange::Add(units), 900)
                    .await
                    .expect("added");
            }
            let checkout = CheckoutService::new(store.clone(), gateway.clone()).with_quotas(quotas);
            let view = checkout
                .checkout(&NoHooks, "big", "k", &address(), "pm_card_visa")
                .await
                .expect("one checkout");
            assert_eq!(view.orders.len(), 10);
            assert_eq!(view.orders.iter().map(|o| o.items.len()).sum::<usize>(), 40);
            assert_eq!(
                store.writes_attempted(),
                40 + 1,
                "40 cart writes, one commit"
            );
            assert!(store.lines_of("big").is_empty());
            assert_eq!(store.quota_count("big", QuotaClass::Checkout), 1);
            assert_eq!(gateway.intents_of(&view.checkout_id).len(), 1);
            // The replay is free: the idempotency layer answers it, and the store would too.
            let again = checkout
                .checkout(&NoHooks, "big", "k", &address(), "pm_card_visa")
                .await
                .expect("same orders");
            assert_eq!(again, view);
            assert_eq!(store.quota_count("big", QuotaClass::Checkout), 1);
        }
    }

    #[tokio::test]
    async fn a_spent_checkout_quota_is_429_before_anything_is_authorized_and_refusals_count() {
        let w = world().await;
        let checkout = CheckoutService::new(w.store.clone(), w.gateway.clone())
            .with_quotas(Quotas::parse("checkout=2/3600").expect("quotas"));
        let place = |key: &'static str, method: &'static str| {
            let checkout = &checkout;
            async move {
                checkout
                    .checkout(&NoHooks, "ada", key, &address(), method)
                    .await
            }
        };
        // Refusals are counted (trying cards in a loop meets the limit), one each.
        for key in ["d1", "d2"] {
            let err = place(key, "pm_card_chargeDeclined")
                .await
                .expect_err("declined");
            assert_eq!(err.status(), 402);
        }
        assert_eq!(w.store.quota_count("ada", QuotaClass::Checkout), 2);
        let authorized = w.gateway.calls(GatewayCall::Authorize);
        let err = place("k1", "pm_card_visa").await.expect_err("spent");
        let problem = err.problem();
        assert_eq!((problem.status, problem.code), (429, "rate_limited"));
        assert_eq!(
            w.gateway.calls(GatewayCall::Authorize),
            authorized,
            "nothing was authorized"
        );
        assert_eq!(w.store.lines_of("ada").len(), 2, "the cart is intact");
    }

    #[tokio::test]
    async fn a_cart_past_one_transaction_is_422_with_the_lines_that_fit() {
        // 40 lines from 40 shops: 3 actions each (product, order, sales) and 4 for the
        // checkout — 124 past DynamoDB's 100; 32 fit.
        let store = FakeStore::default();
        let carts = CartService::new(store.clone());
        for i in 0..40 {
            let shop = store.add_shop(&format!("seller-{i}"), &format!("Shop {i}"), 0, 0);
            let p = store.add_product(&shop, &format!("P{i}"), 100 + i, 10);
            carts
                .write_line("big", &p, LineChange::Add(1), 900)
                .await
                .expect("added");
        }
        let checkout = CheckoutService::new(store.clone(), FakeGateway::default());
        let err = checkout
            .checkout(&NoHooks, "big", "k", &address(), "pm_card_visa")
            .await
            .expect_err("too big");
        let problem = err.problem();
        assert_eq!((problem.status, problem.code), (422, "cart_too_large"));
        assert_eq!(problem.extra["max_lines"], 32);
    }
}
