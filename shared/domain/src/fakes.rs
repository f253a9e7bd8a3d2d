//! In-memory adapters of the ports the services use (feature `fakes`), so that the use cases are
//! proven in milliseconds without the emulator.
//!
//! [`FakeStore`] is one table in memory behind one lock: it is the cart, checkout and order
//! store at once, so a test can add to a cart, check out and cancel over the same state. Every
//! write checks the same conditions the DynamoDB adapter puts in its transaction (see
//! [`CartWrite`], [`CheckoutWrite`], [`OrderStore`]) and applies all of it or nothing, so a
//! service that forgets a rule fails here as it would against DynamoDB. Faults are injected by
//! count: [`FakeStore::lose_races`] (the next writes answer a lost race, as a
//! `TransactionConflict` would) and [`FakeStore::fail_writes`] (the next writes fail with `503`).
//!
//! [`FakeGateway`] is a payment provider with Stripe's rules (manual capture, idempotency keys,
//! refunds, connected accounts, transfers), with faults per call and a switch that makes it
//! ignore idempotency keys; [`FakeStore`] is also the payment store (records, leases, ledger).
//!
//! [`FakeFeedStore`] and [`FakeSearchIndex`] are what the home feed reads: signals, stored
//! trending lists and products by id; and the search engine over in-memory documents. Their
//! faults ([`Fault`]) last until healed: a call fails, or answers late (`tokio::time::sleep`, so
//! that a test of the personalization budget pauses time instead of waiting).

use crate::cart::{
    CartWrite, HoldClock, HoldEntry, Line, LineWrite, MAX_HELD_UNITS, StoredCart, holder_ref,
};
use crate::catalog::{Product, Shipping, Shop, new_id};
use crate::checkout::{
    CheckoutRecord, CheckoutWrite, CheckoutWritten, Order, OrderItem, OrderStatus, Shipment,
};
use crate::error::Error;
use crate::orders::{NotificationView, OrderPage, Review};
use crate::payments::{
    Authorization, AuthorizeRequest, ConnectedAccount, EntryKind, IntentStatus, LedgerEntry,
    LedgerPage, Payment, PayoutAccount, PayoutStatus, ProviderPayment, ProviderRefund, Transfer,
    TransferRequest, check_test_method,
};
use crate::personalize::trending::TrendingList;
use crate::personalize::{Signal, VIEWS_READ};
use crate::ports::{
    CartRead, CartStore, CheckoutStore, Commit, FeedStore, Leased, LineCatalog, Loaded, OrderStore,
    PaymentGateway, PaymentStore, Payouts, SearchIndex, ShopPayouts, TrendingSource,
};
use crate::search::{
    Applied, Facets, Hit, IndexChange, SearchDoc, SearchError, SearchPage, SearchQuery, Sort,
    ranking,
};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Writes a hold entry into a product's mirror (both fakes seed holds the same way).
fn put_hold(
    products: &mut BTreeMap<String, Product>,
    product_id: &str,
    slot: u32,
    holder: &str,
    expires_at: i64,
) {
    if let Some(p) = products.get_mut(product_id) {
        p.holds.insert(slot, HoldEntry::new(holder, expires_at));
    }
}

/// Everything [`FakeStore`] holds.
#[derive(Debug, Default)]
struct State {
    shops: BTreeMap<String, Shop>,
    products: BTreeMap<String, Product>,
    /// Cart lines by buyer, then product.
    carts: BTreeMap<String, BTreeMap<String, Line>>,
    /// The hold clocks removed lines left (when each window opened), by buyer, then product.
    clocks: BTreeMap<String, BTreeMap<String, i64>>,
    /// Each buyer's cart version (absent: 0), bumped by every cart write and checkout.
    cart_versions: BTreeMap<String, i64>,
    /// The write quota counters cart writes and checkouts spend in their own commit.
    quota: HashMap<QuotaKey, u32>,
    checkouts: BTreeMap<String, CheckoutRecord>,
    orders: BTreeMap<String, Order>,
    reviews: BTreeMap<String, Review>,
    notifications: BTreeMap<String, Vec<NotificationView>>,
    /// Payment records by checkout, with their lease and due time.
    payments: BTreeMap<String, StoredPayment>,
    /// Ledger entries by (shop, order, kind): one of each.
    ledger: BTreeMap<(String, String, EntryKind), LedgerEntry>,
    payout_accounts: BTreeMap<String, PayoutAccount>,
    /// Checkouts whose payout to a shop waits for its account, by shop.
    waiting: BTreeMap<String, BTreeSet<String>>,
    deliveries: BTreeSet<String>,
    /// Faults to inject into the next writes.
    races_to_lose: usize,
    failures: usize,
    /// Checkout commits that are applied and then answer an error (an unknown outcome).
    apply_then_fail: usize,
    /// Writes refused outright (a `ValidationException`-like `500`: certainly not applied).
    refusals: usize,
    /// Writes asked for (committed or not).
    attempts: usize,
}

impl State {
    /// Counts an attempted write and answers the fault injected into it, if any.
    fn fault(&mut self) -> Option<Result<(), Error>> {
        self.attempts += 1;
        if self.refusals > 0 {
            self.refusals -= 1;
            return Some(Err(Error::internal("injected refusal: nothing written")));
        }
        if self.failures > 0 {
            self.failures -= 1;
            return Some(Err(Error::Unavailable("injected store failure".into())));
        }
        if self.races_to_lose > 0 {
            self.races_to_lose -= 1;
            return Some(Ok(()));
        }
        None
    }

    /// Whether `me` may take `slot` of `product` at `now`: free, lapsed or already mine.
    fn takeable(&self, product: &Product, slot: u32, me: &str, now: i64) -> bool {
        let me = holder_ref(me);
        product
            .holds
            .get(&slot)
            .is_none_or(|h| h.expires_at <= now || h.holder == me)
    }

    /// Writes `charge`'s window already counts for `user`.
    fn quota_used(&self, user: &str, charge: Option<&crate::quota::Charge>) -> u32 {
        charge.map_or(0, |c| {
            self.quota
                .get(&(user.to_owned(), c.class, c.window_start))
                .copied()
                .unwrap_or(0)
        })
    }

    /// Counts `charge` for `user` (the caller checked that it fits).
    fn count(&mut self, user: &str, charge: Option<&crate::quota::Charge>) {
        if let Some(c) = charge {
            *self
                .quota
                .entry((user.to_owned(), c.class, c.window_start))
                .or_default() += 1;
        }
    }

    fn cart_version(&self, user: &str) -> i64 {
        self.cart_versions.get(user).copied().unwrap_or(0)
    }

    /// Whether `me` may release `slot`: free or mine.
    fn releasable(&self, product: &Product, slot: u32, me: &str) -> bool {
        let me = holder_ref(me);
        product.holds.get(&slot).is_none_or(|h| h.holder == me)
    }
}

/// The cart, checkout and order stores in memory. Clones share the state.
#[derive(Debug, Clone, Default)]
pub struct FakeStore {
    state: Arc<Mutex<State>>,
}

impl FakeStore {
    fn state(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock has failed already; keep the state readable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next `n` writes lose a race (nothing is written).
    pub fn lose_races(&self, n: usize) {
        self.state().races_to_lose = n;
    }

    /// The next `n` writes fail with `503` (nothing is written).
    /// The next `n` writes are refused (certainly not applied; answered `500`).
    pub fn refuse_writes(&self, n: usize) {
        self.state().refusals = n;
    }

    /// The next `n` checkout commits are applied, then answer `503` (the outcome looks unknown).
    pub fn commit_then_fail(&self, n: usize) {
        self.state().apply_then_fail = n;
    }

    /// A checkout's payment record.
    pub fn payment_record(&self, checkout_id: &str) -> Option<Payment> {
        self.state()
            .payments
            .get(checkout_id)
            .map(|p| p.payment.clone())
    }

    /// When reconciliation is to look at a payment next (`None`: closed).
    pub fn payment_due(&self, checkout_id: &str) -> Option<i64> {
        self.state().payments.get(checkout_id).and_then(|p| p.due)
    }

    /// Moves a payment's opening time back (a payment that has been open for long).
    pub fn age_payment(&self, checkout_id: &str, by: chrono::Duration) {
        if let Some(p) = self.state().payments.get_mut(checkout_id) {
            p.opened_at -= by;
            p.due = p.due.map(|d| d - by.num_seconds());
        }
    }

    /// Every ledger entry of an order.
    pub fn ledger_of(&self, order_id: &str) -> Vec<LedgerEntry> {
        self.state()
            .ledger
            .values()
            .filter(|e| e.order_id == order_id)
            .cloned()
            .collect()
    }

    /// Every ledger entry.
    pub fn ledger_entries(&self) -> Vec<LedgerEntry> {
        self.state().ledger.values().cloned().collect()
    }

    pub fn fail_writes(&self, n: usize) {
        self.state().failures = n;
    }

    /// Writes asked for so far, committed or not.
    pub fn writes_attempted(&self) -> usize {
        self.state().attempts
    }

    // ---- seeding and inspection

    /// Adds a shop; answers its id.
    pub fn add_shop(&self, owner: &str, name: &str, base_cents: i64, per_extra: i64) -> String {
        let now = Utc::now();
        let shop = Shop {
            id: new_id(),
            owner_id: owner.to_owned(),
            owner_email: Some(format!("{owner}@example.com")),
            name: name.to_owned(),
            description: String::new(),
            shipping: Shipping {
                base_cents,
                per_extra_item_cents: per_extra,
            },
            rating_sum: 0,
            review_count: 0,
            sales_count: 0,
            created_at: now,
            updated_at: now,
            payout_status: None,
        };
        let id = shop.id.clone();
        self.state().shops.insert(id.clone(), shop);
        id
    }

    /// Adds a product to a shop added before; answers its id.
    pub fn add_product(
        &self,
        shop_id: &str,
        title: &str,
        price_cents: i64,
        quantity: i64,
    ) -> String {
        let now = Utc::now();
        let mut state = self.state();
        let owner_id = state
            .shops
            .get(shop_id)
            .map(|s| s.owner_id.clone())
            .unwrap_or_default();
        let product = Product {
            id: new_id(),
            shop_id: shop_id.to_owned(),
            owner_id,
            title: title.to_owned(),
            description: String::new(),
            price_cents,
            quantity,
            category: "jewelry".into(),
            tags: Vec::new(),
            is_vintage: false,
            images: Vec::new(),
            created_at: now,
            updated_at: now,
            version: 1,
            holds: Default::default(),
        };
        let id = product.id.clone();
        state.products.insert(id.clone(), product);
        id
    }

    pub fn delete_product(&self, id: &str) {
        self.state().products.remove(id);
    }

    /// Replaces a hold entry (e.g. another buyer's, or a lapsed one).
    pub fn set_hold(&self, product_id: &str, slot: u32, holder: &str, expires_at: i64) {
        put_hold(
            &mut self.state().products,
            product_id,
            slot,
            holder,
            expires_at,
        );
    }

    pub fn get_product(&self, id: &str) -> Option<Product> {
        self.state().products.get(id).cloned()
    }

    pub fn get_shop(&self, id: &str) -> Option<Shop> {
        self.state().shops.get(id).cloned()
    }

    /// Slots of `product_id` whose mirror entry names `holder` (live or not).
    pub fn holds_of(&self, product_id: &str, holder: &str) -> usize {
        let holder = holder_ref(holder);
        self.state().products.get(product_id).map_or(0, |p| {
            p.holds.values().filter(|h| h.holder == holder).count()
        })
    }

    /// When `user`'s hold window on `product_id` opened: on the line, or on the clock a removed
    /// line left.
    pub fn hold_since(&self, user: &str, product_id: &str) -> Option<i64> {
        let state = self.state();
        match state.carts.get(user).and_then(|c| c.get(product_id)) {
            Some(line) => Some(line.hold_since),
            None => state
                .clocks
                .get(user)
                .and_then(|c| c.get(product_id))
                .copied(),
        }
    }

    /// Moves the start of `user`'s hold window on `product_id` (as if it had opened at `since`).
    pub fn set_hold_since(&self, user: &str, product_id: &str, since: i64) {
        let mut state = self.state();
        if let Some(line) = state
            .carts
            .get_mut(user)
            .and_then(|c| c.get_mut(product_id))
        {
            line.hold_since = since;
        } else if let Some(clock) = state
            .clocks
            .get_mut(user)
            .and_then(|c| c.get_mut(product_id))
        {
            *clock = since;
        }
    }

    /// Puts a line in `user`'s cart as it is, with no rule checked (e.g. one written before a
    /// rule existed).
    pub fn put_line(&self, user: &str, line: Line) {
        self.state()
            .carts
            .entry(user.to_owned())
            .or_default()
            .insert(line.product_id.clone(), line);
    }

    /// Writes of `class` the cart and checkout commits counted for `user`, over every window.
    pub fn quota_count(&self, user: &str, class: crate::quota::QuotaClass) -> u32 {
        self.state()
            .quota
            .iter()
            .filter(|((u, c, _), _)| u == user && *c == class)
            .map(|(_, n)| *n)
            .sum()
    }

    pub fn line(&self, user: &str, product_id: &str) -> Option<Line> {
        self.state()
            .carts
            .get(user)
            .and_then(|c| c.get(product_id))
            .cloned()
    }

    pub fn lines_of(&self, user: &str) -> Vec<Line> {
        self.state()
            .carts
            .get(user)
            .map(|c| c.values().cloned().collect())
            .unwrap_or_default()
    }

    pub fn orders(&self) -> Vec<Order> {
        self.state().orders.values().cloned().collect()
    }

    pub fn get_order(&self, id: &str) -> Option<Order> {
        self.state().orders.get(id).cloned()
    }

    /// Stores an order as it is, with no rule checked (e.g. one placed before a rule existed).
    pub fn put_order(&self, order: Order) {
        self.state().orders.insert(order.order_id.clone(), order);
    }

    pub fn checkout_record(&self, checkout_id: &str) -> Option<CheckoutRecord> {
        self.state().checkouts.get(checkout_id).cloned()
    }

    pub fn reviews(&self) -> Vec<Review> {
        self.state().reviews.values().cloned().collect()
    }

    pub fn add_notification(&self, user: &str, notification: NotificationView) {
        self.state()
            .notifications
            .entry(user.to_owned())
            .or_default()
            .insert(0, notification);
    }

    fn catalog_of(state: &State, lines: &[Line]) -> LineCatalog {
        let mut products = BTreeMap::new();
        let mut shops = BTreeMap::new();
        for line in lines {
            if let Some(p) = state.products.get(&line.product_id) {
                products.insert(p.id.clone(), p.clone());
            }
            if let Some(s) = state.shops.get(&line.shop_id) {
                shops.insert(s.id.clone(), s.clone());
            }
        }
        (products, shops)
    }

    fn page(mut orders: Vec<Order>, cursor: Option<&str>, limit: i32) -> Result<OrderPage, Error> {
        orders.sort_by(|a, b| (b.created_at, &b.order_id).cmp(&(a.created_at, &a.order_id)));
        let start = match cursor {
            None => 0,
            Some(c) => c.parse::<usize>().map_err(|_| Error::InvalidParameter {
                name: "cursor".into(),
                reason: "is not a cursor this list returned".into(),
            })?,
        };
        let limit = usize::try_from(limit.max(1)).unwrap_or(1);
        let end = (start + limit).min(orders.len());
        Ok(OrderPage {
            orders: orders
                .get(start..end)
                .unwrap_or_default()
                .iter()
                .map(Order::view)
                .collect(),
            next_cursor: (end < orders.len()).then(|| end.to_string()),
        })
    }
}

impl CartStore for FakeStore {
    type Seen = ();

    async fn read(
        &self,
        user: &str,
        product: Option<&str>,
        quota: Option<&crate::quota::Charge>,
    ) -> Result<CartRead<()>, Error> {
        let state = self.state();
        let cart = StoredCart {
            lines: state
                .carts
                .get(user)
                .map(|c| c.values().cloned().collect())
                .unwrap_or_default(),
            version: state.cart_version(user),
        };
        Ok(CartRead {
            cart,
            product: product.and_then(|id| state.products.get(id).cloned().map(|p| (p, ()))),
            clock: product.and_then(|id| {
                state
                    .clocks
                    .get(user)
                    .and_then(|c| c.get(id))
                    .map(|since| HoldClock {
                        product_id: id.to_owned(),
                        since: *since,
                    })
            }),
            quota_used: state.quota_used(user, quota),
        })
    }

    async fn write(&self, write: &CartWrite<'_>, product: Option<&()>) -> Result<Commit, Error> {
        let mut state = self.state();
        match state.fault() {
            Some(Err(e)) => return Err(e),
            Some(Ok(())) => return Ok(Commit::LostRace),
            None => {}
        }
        let me = write.user;
        let plan = &write.plan;
        let touches_product = product.is_some()
            && (plan.held().next().is_some() || !plan.release.is_empty() || !plan.prune.is_empty());
        if touches_product {
            // The bound on the mirror is the domain's to keep: a plan past it is a defect.
            if plan.held().any(|s| i64::from(s) >= MAX_HELD_UNITS) {
                return Err(Error::internal("a plan holds a slot past MAX_HELD_UNITS"));
            }
            let Some(p) = state.products.get(write.product_id) else {
                return Ok(Commit::LostRace);
            };
            let holds_ok = plan.held().all(|s| state.takeable(p, s, me, write.now))
                && plan.release.iter().all(|s| state.releasable(p, *s, me))
                && plan
                    .prune
                    .iter()
                    .all(|(s, seen)| p.holds.get(s).is_some_and(|h| h.expires_at == *seen))
                && plan
                    .held()
                    .max()
                    .is_none_or(|max| p.quantity > i64::from(max));
            if !holds_ok {
                return Ok(Commit::LostRace);
            }
        }
        // The cart is as read: nothing else of this buyer's wrote in between.
        if state.cart_version(me) != write.version {
            return Ok(Commit::LostRace);
        }
        if let Some(charge) = &write.quota
            && !charge.fits(state.quota_used(me, Some(charge)))
        {
            return Err(charge.refused());
        }
        if touches_product && let Some(p) = state.products.get_mut(write.product_id) {
            for slot in plan.held() {
                p.holds.insert(slot, HoldEntry::new(me, write.expires_at));
            }
            for slot in plan.release.iter().chain(plan.prune.iter().map(|(s, _)| s)) {
                p.holds.remove(slot);
            }
        }
        let clocks = state.clocks.entry(me.to_owned()).or_default();
        clocks.remove(write.product_id);
        if let LineWrite::Remove {
            keep: Some(kept), ..
        } = &write.line
        {
            clocks.insert(write.product_id.to_owned(), kept.since);
        }
        let cart = state.carts.entry(me.to_owned()).or_default();
        match &write.line {
            LineWrite::Put { line, .. } => {
                cart.insert(write.product_id.to_owned(), line.clone());
            }
            LineWrite::Remove { .. } => {
                cart.remove(write.product_id);
            }
        }
        *state.cart_versions.entry(me.to_owned()).or_default() += 1;
        state.count(me, write.quota.as_ref());
        Ok(Commit::Committed)
    }

    async fn catalog(&self, lines: &[Line]) -> Result<LineCatalog, Error> {
        Ok(Self::catalog_of(&self.state(), lines))
    }
}

impl CheckoutStore for FakeStore {
    async fn committed(
        &self,
        checkout_id: &str,
    ) -> Result<Option<(CheckoutRecord, Vec<Order>)>, Error> {
        let state = self.state();
        Ok(state.checkouts.get(checkout_id).map(|record| {
            let orders = record
                .order_ids
                .iter()
                .filter_map(|id| state.orders.get(id).cloned())
                .collect();
            (record.clone(), orders)
        }))
    }

    async fn cart(
        &self,
        buyer: &str,
        quota: Option<&crate::quota::Charge>,
    ) -> Result<(StoredCart, LineCatalog, u32), Error> {
        let state = self.state();
        let lines: Vec<Line> = state
            .carts
            .get(buyer)
            .map(|c| c.values().cloned().collect())
            .unwrap_or_default();
        let catalog = Self::catalog_of(&state, &lines);
        let cart = StoredCart {
            lines,
            version: state.cart_version(buyer),
        };
        Ok((cart, catalog, state.quota_used(buyer, quota)))
    }

    async fn spend(&self, buyer: &str, quota: &crate::quota::Charge) -> Result<bool, Error> {
        let mut state = self.state();
        if !quota.fits(state.quota_used(buyer, Some(quota))) {
            return Ok(false);
        }
        state.count(buyer, Some(quota));
        Ok(true)
    }

    async fn commit(&self, write: &CheckoutWrite<'_>) -> Result<CheckoutWritten, Error> {
        let mut state = self.state();
        match state.fault() {
            Some(Err(e)) => return Err(e),
            // A conflict on every item: every line is named, nothing is decided.
            Some(Ok(())) => {
                return Ok(CheckoutWritten::Cancelled {
                    lines: (0..write.lines.len()).collect(),
                });
            }
            None => {}
        }
        if state.checkouts.contains_key(&write.record.checkout_id) {
            return Ok(CheckoutWritten::Duplicate);
        }
        let buyer = write.buyer;
        if let Some(charge) = &write.quota
            && !charge.fits(state.quota_used(buyer, Some(charge)))
        {
            return Ok(CheckoutWritten::RateLimited);
        }
        let cart_ok = state.cart_version(buyer) == write.cart_version;
        let failed: Vec<usize> = write
            .lines
            .iter()
            .enumerate()
            .filter(|(_, line)| {
                let product_ok = state.products.get(&line.product_id).is_some_and(|p| {
                    line.plan
                        .held()
                        .all(|s| state.takeable(p, s, buyer, write.now))
                        && line
                            .plan
                            .release
                            .iter()
                            .all(|s| state.releasable(p, *s, buyer))
                        && p.quantity >= line.quantity
                });
                !product_ok
            })
            .map(|(i, _)| i)
            .collect();
        let orders_ok = write.orders.iter().all(|o| {
            !state.orders.contains_key(&o.order_id) && state.shops.contains_key(&o.shop_id)
        });
        if !failed.is_empty() || !orders_ok || !cart_ok {
            return Ok(CheckoutWritten::Cancelled { lines: failed });
        }
        let now = Utc::now();
        for line in write.lines {
            if let Some(p) = state.products.get_mut(&line.product_id) {
                p.quantity -= line.quantity;
                p.version += 1;
                p.updated_at = now;
                for slot in line.plan.held().chain(line.plan.release.iter().copied()) {
                    p.holds.remove(&slot);
                }
            }
        }
        // The cart empties in one step, whatever was planned from it.
        state.carts.remove(buyer);
        *state.cart_versions.entry(buyer.to_owned()).or_default() += 1;
        state.count(buyer, write.quota.as_ref());
        for order in write.orders {
            let units: i64 = order.items.iter().map(|i| i.quantity).sum();
            if let Some(shop) = state.shops.get_mut(&order.shop_id) {
                shop.sales_count += units;
            }
            state.orders.insert(order.order_id.clone(), order.clone());
        }
        state
            .checkouts
            .insert(write.record.checkout_id.clone(), write.record.clone());
        state.payments.insert(
            write.payment.checkout_id.clone(),
            StoredPayment {
                payment: write.payment.clone(),
                lease: None,
                due: Some(write.now + 900),
                opened_at: now,
            },
        );
        if state.apply_then_fail > 0 {
            state.apply_then_fail -= 1;
            return Err(Error::Unavailable(
                "injected: committed, answer lost".into(),
            ));
        }
        Ok(CheckoutWritten::Committed)
    }
}

impl OrderStore for FakeStore {
    async fn order(&self, id: &str) -> Result<Option<Order>, Error> {
        Ok(self.get_order(id))
    }

    async fn buyer_orders(
        &self,
        buyer: &str,
        cursor: Option<&str>,
        limit: i32,
    ) -> Result<OrderPage, Error> {
        let orders = self
            .orders()
            .into_iter()
            .filter(|o| o.buyer_id == buyer)
            .collect();
        Self::page(orders, cursor, limit)
    }

    async fn shop_orders(
        &self,
        shop_id: &str,
        cursor: Option<&str>,
        limit: i32,
    ) -> Result<OrderPage, Error> {
        let orders = self
            .orders()
            .into_iter()
            .filter(|o| o.shop_id == shop_id)
            .collect();
        Self::page(orders, cursor, limit)
    }

    async fn shop_owner(&self, shop_id: &str) -> Result<Option<String>, Error> {
        Ok(self.get_shop(shop_id).map(|s| s.owner_id))
    }

    async fn ship(
        &self,
        order: &Order,
        shipment: &Shipment,
        now: DateTime<Utc>,
    ) -> Result<Option<Order>, Error> {
        let mut state = self.state();
        match state.fault() {
            Some(Err(e)) => return Err(e),
            Some(Ok(())) => return Ok(None),
            None => {}
        }
        match state.orders.get_mut(&order.order_id) {
            Some(o) if o.status == OrderStatus::Paid && o.version == order.version => {
                o.status = OrderStatus::Shipped;
                o.shipment = Some(shipment.clone());
                o.updated_at = now;
                o.version += 1;
                Ok(Some(o.clone()))
            }
            _ => Ok(None),
        }
    }

    async fn existing_products(&self, products: &[String]) -> Result<Vec<String>, Error> {
        let state = self.state();
        Ok(products
            .iter()
            .filter(|id| state.products.contains_key(*id))
            .cloned()
            .collect())
    }

    async fn cancel(
        &self,
        order: &Order,
        restock: &[OrderItem],
        now: DateTime<Utc>,
    ) -> Result<Commit, Error> {
        let mut state = self.state();
        match state.fault() {
            Some(Err(e)) => return Err(e),
            Some(Ok(())) => return Ok(Commit::LostRace),
            None => {}
        }
        let order_ok = state
            .orders
            .get(&order.order_id)
            .is_some_and(|o| o.status == OrderStatus::Paid && o.version == order.version);
        let products_ok = restock
            .iter()
            .all(|i| state.products.contains_key(&i.product_id));
        if !(order_ok && products_ok && state.shops.contains_key(&order.shop_id)) {
            return Ok(Commit::LostRace);
        }
        if let Some(o) = state.orders.get_mut(&order.order_id) {
            o.status = OrderStatus::Cancelled;
            o.updated_at = now;
            o.version += 1;
        }
        for item in restock {
            if let Some(p) = state.products.get_mut(&item.product_id) {
                p.quantity += item.quantity;
                p.version += 1;
                p.updated_at = now;
            }
        }
        let units: i64 = order.items.iter().map(|i| i.quantity).sum();
        if let Some(shop) = state.shops.get_mut(&order.shop_id) {
            shop.sales_count -= units;
        }
        if let Some(stored) = state.payments.get_mut(&order.checkout_id) {
            if let Some(share) = stored
                .payment
                .orders
                .iter_mut()
                .find(|o| o.order_id == order.order_id)
            {
                share.cancelled = true;
            }
            stored.payment.version += 1;
            if stored.due.is_none() {
                stored.opened_at = now;
            }
            stored.due = Some(now.timestamp());
        }
        Ok(Commit::Committed)
    }

    async fn review(&self, order: &Order, review: &Review) -> Result<Commit, Error> {
        let mut state = self.state();
        match state.fault() {
            Some(Err(e)) => return Err(e),
            Some(Ok(())) => return Ok(Commit::LostRace),
            None => {}
        }
        let order_ok = state.orders.get(&order.order_id).is_some_and(|o| {
            o.status == OrderStatus::Shipped && o.buyer_id == review.buyer_id && !o.reviewed
        });
        if !order_ok
            || state.reviews.contains_key(&review.order_id)
            || !state.shops.contains_key(&order.shop_id)
        {
            return Ok(Commit::LostRace);
        }
        if let Some(o) = state.orders.get_mut(&order.order_id) {
            o.reviewed = true;
        }
        state
            .reviews
            .insert(review.order_id.clone(), review.clone());
        if let Some(shop) = state.shops.get_mut(&order.shop_id) {
            shop.rating_sum += review.rating;
            shop.review_count += 1;
        }
        Ok(Commit::Committed)
    }

    async fn notifications(&self, user: &str) -> Result<Vec<NotificationView>, Error> {
        Ok(self
            .state()
            .notifications
            .get(user)
            .map(|n| n.iter().take(50).cloned().collect())
            .unwrap_or_default())
    }
}

// ------------------------------------------------------------------ payments

/// A payment record with what only the store knows of it.
#[derive(Debug, Clone)]
struct StoredPayment {
    payment: Payment,
    /// (holder, until unix seconds).
    lease: Option<(String, i64)>,
    due: Option<i64>,
    opened_at: DateTime<Utc>,
}

impl PaymentStore for FakeStore {
    async fn payment(&self, checkout_id: &str) -> Result<Option<Payment>, Error> {
        Ok(self.payment_record(checkout_id))
    }

    async fn lease(
        &self,
        checkout_id: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> Result<Leased, Error> {
        let mut state = self.state();
        let Some(stored) = state.payments.get_mut(checkout_id) else {
            return Ok(Leased::Missing);
        };
        match &stored.lease {
            Some((h, u)) if h != holder && *u > now => Ok(Leased::Busy),
            _ => {
                stored.lease = Some((holder.to_owned(), until));
                Ok(Leased::Taken(stored.payment.clone()))
            }
        }
    }

    async fn save(
        &self,
        payment: &Payment,
        entries: &[LedgerEntry],
        holder: &str,
        due: Option<i64>,
    ) -> Result<Commit, Error> {
        let mut state = self.state();
        let accounts = state.payout_accounts.clone();
        let Some(stored) = state.payments.get_mut(&payment.checkout_id) else {
            return Ok(Commit::LostRace);
        };
        let holds = stored.lease.as_ref().is_some_and(|(h, _)| h == holder);
        if !holds || stored.payment.version != payment.version {
            return Ok(Commit::LostRace);
        }
        let mut saved = payment.clone();
        saved.version += 1;
        stored.payment = saved;
        if stored.due.is_none() && due.is_some() {
            stored.opened_at = Utc::now();
        }
        stored.due = due;
        for e in entries {
            state
                .ledger
                .entry((e.shop_id.clone(), e.order_id.clone(), e.kind))
                .or_insert_with(|| e.clone());
        }
        for o in &payment.orders {
            let waits = !o.cancelled
                && o.captured
                && o.transfer_id.is_none()
                && accounts
                    .get(&o.shop_id)
                    .is_none_or(|a| a.status != PayoutStatus::Enabled);
            let set = state.waiting.entry(o.shop_id.clone()).or_default();
            if waits {
                set.insert(payment.checkout_id.clone());
            } else {
                set.remove(&payment.checkout_id);
            }
        }
        Ok(Commit::Committed)
    }

    async fn release(&self, checkout_id: &str, holder: &str) -> Result<(), Error> {
        if let Some(stored) = self.state().payments.get_mut(checkout_id)
            && stored.lease.as_ref().is_some_and(|(h, _)| h == holder)
        {
            stored.lease = None;
        }
        Ok(())
    }

    async fn due(&self, before: i64, limit: usize) -> Result<Vec<(String, DateTime<Utc>)>, Error> {
        let state = self.state();
        let mut due: Vec<(i64, String, DateTime<Utc>)> = state
            .payments
            .iter()
            .filter_map(|(id, p)| {
                p.due
                    .filter(|d| *d <= before)
                    .map(|d| (d, id.clone(), p.opened_at))
            })
            .collect();
        due.sort();
        Ok(due
            .into_iter()
            .take(limit)
            .map(|(_, id, at)| (id, at))
            .collect())
    }

    async fn payout_accounts(
        &self,
        shop_ids: &[String],
    ) -> Result<HashMap<String, PayoutAccount>, Error> {
        let state = self.state();
        Ok(shop_ids
            .iter()
            .filter_map(|s| state.payout_accounts.get(s).map(|a| (s.clone(), a.clone())))
            .collect())
    }

    async fn shop_payouts(&self, shop_id: &str) -> Result<Option<ShopPayouts>, Error> {
        let state = self.state();
        Ok(state.shops.get(shop_id).map(|s| ShopPayouts {
            owner_id: s.owner_id.clone(),
            owner_email: s.owner_email.clone(),
            account: state.payout_accounts.get(shop_id).cloned(),
        }))
    }

    async fn set_payout_account(
        &self,
        shop_id: &str,
        account: &PayoutAccount,
    ) -> Result<(), Error> {
        let mut state = self.state();
        if !state.shops.contains_key(shop_id) {
            return Err(Error::not_found(crate::error::Resource::Shop, shop_id));
        }
        state
            .payout_accounts
            .insert(shop_id.to_owned(), account.clone());
        Ok(())
    }

    async fn shop_of_account(&self, account_id: &str) -> Result<Option<String>, Error> {
        Ok(self
            .state()
            .payout_accounts
            .iter()
            .find(|(_, a)| a.account_id == account_id)
            .map(|(s, _)| s.clone()))
    }

    async fn waiting_payouts(&self, shop_id: &str) -> Result<Vec<String>, Error> {
        Ok(self
            .state()
            .waiting
            .get(shop_id)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default())
    }

    async fn ledger(
        &self,
        shop_id: &str,
        cursor: Option<&str>,
        limit: i32,
    ) -> Result<LedgerPage, Error> {
        let state = self.state();
        let mut entries: Vec<LedgerEntry> = state
            .ledger
            .values()
            .filter(|e| e.shop_id == shop_id)
            .cloned()
            .collect();
        entries.sort_by_key(|e| std::cmp::Reverse(e.order_created_at));
        let skip: usize = match cursor {
            None => 0,
            Some(c) => c.parse().map_err(|_| Error::InvalidParameter {
                name: "cursor".into(),
                reason: "not a cursor of this list".into(),
            })?,
        };
        let limit = usize::try_from(limit.max(1)).unwrap_or(1);
        let page: Vec<LedgerEntry> = entries.iter().skip(skip).take(limit).cloned().collect();
        let next = (skip + page.len() < entries.len()).then(|| (skip + page.len()).to_string());
        Ok(LedgerPage {
            entries: page,
            next_cursor: next,
        })
    }

    async fn first_delivery(&self, event_id: &str) -> Result<bool, Error> {
        Ok(self.state().deliveries.insert(event_id.to_owned()))
    }

    async fn forget_delivery(&self, event_id: &str) -> Result<(), Error> {
        self.state().deliveries.remove(event_id);
        Ok(())
    }
}

/// A call of [`FakeGateway`] that faults can be injected into (and that is counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GatewayCall {
    Authorize,
    Payment,
    Capture,
    Cancel,
    Refund,
    Stale,
    CreateAccount,
    Account,
    Transfer,
    Transfers,
    Reverse,
}

/// A payment as [`FakeGateway`] holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeIntent {
    pub id: String,
    pub checkout_id: String,
    pub amount_cents: i64,
    pub method: String,
    pub status: IntentStatus,
    pub amount_received: i64,
    pub refunds: Vec<ProviderRefund>,
    pub created: i64,
}

/// A transfer as [`FakeGateway`] holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeTransfer {
    pub transfer: Transfer,
    pub group: String,
    pub source_transaction: Option<String>,
}

#[derive(Debug, Default)]
struct GatewayState {
    intents: BTreeMap<String, FakeIntent>,
    /// Idempotency key → the id of what the first request with it created.
    keys: BTreeMap<String, String>,
    transfers: BTreeMap<String, FakeTransfer>,
    accounts: BTreeMap<String, ConnectedAccount>,
    /// Calls that fail before doing anything.
    fail: BTreeMap<GatewayCall, usize>,
    /// Calls that do their work, then fail (the answer is lost: a timeout).
    lose: BTreeMap<GatewayCall, usize>,
    calls: BTreeMap<GatewayCall, usize>,
    /// Like localstripe: idempotency keys are not honoured.
    ignore_keys: bool,
    /// New connected accounts have payouts enabled at once.
    instant_onboarding: bool,
    next: u64,
}

impl GatewayState {
    fn id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}_fake_{}", self.next)
    }

    /// Counts the call and answers an injected failure.
    fn enter(&mut self, call: GatewayCall) -> Result<(), Error> {
        *self.calls.entry(call).or_default() += 1;
        if let Some(n) = self.fail.get_mut(&call).filter(|n| **n > 0) {
            *n -= 1;
            return Err(Error::Unavailable(
                format!("injected {call:?} failure").into(),
            ));
        }
        Ok(())
    }

    /// After the work: answers an injected lost answer.
    fn leave<T>(&mut self, call: GatewayCall, value: T) -> Result<T, Error> {
        if let Some(n) = self.lose.get_mut(&call).filter(|n| **n > 0) {
            *n -= 1;
            return Err(Error::Unavailable(
                format!("injected {call:?} timeout after the work").into(),
            ));
        }
        Ok(value)
    }

    fn keyed(&self, key: &str) -> Option<String> {
        if self.ignore_keys {
            None
        } else {
            self.keys.get(key).cloned()
        }
    }

    fn view(&self, id: &str) -> Result<ProviderPayment, Error> {
        let i = self
            .intents
            .get(id)
            .ok_or_else(|| Error::internal(format!("no such payment {id}")))?;
        Ok(ProviderPayment {
            id: i.id.clone(),
            status: i.status,
            amount_cents: i.amount_cents,
            amount_received: i.amount_received,
            charge_id: (i.status != IntentStatus::Canceled || i.amount_received > 0)
                .then(|| format!("ch_{}", i.id)),
            refunds: i.refunds.clone(),
            checkout_id: Some(i.checkout_id.clone()),
            created: i.created,
        })
    }
}

/// A payment provider in memory with Stripe's rules: manual capture, idempotency keys, partial
/// capture and refunds, connected accounts and transfers. Faults are injected per call (fail
/// before the work, or lose the answer after it), and it can ignore idempotency keys as
/// localstripe does, to show that settlement does not depend on them. Clones share state.
#[derive(Debug, Clone, Default)]
pub struct FakeGateway {
    state: Arc<Mutex<GatewayState>>,
}

impl FakeGateway {
    fn state(&self) -> MutexGuard<'_, GatewayState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Idempotency keys are ignored from now on (every request acts anew).
    pub fn ignore_keys(&self) {
        self.state().ignore_keys = true;
    }

    /// Connected accounts are enabled as soon as they are created.
    pub fn instant_onboarding(&self) {
        self.state().instant_onboarding = true;
    }

    /// Finishes the onboarding of an account.
    pub fn enable_account(&self, account_id: &str) {
        if let Some(a) = self.state().accounts.get_mut(account_id) {
            a.payouts_enabled = true;
            a.details_submitted = true;
        }
    }

    /// The next `n` calls of `call` fail before doing anything.
    pub fn fail(&self, call: GatewayCall, n: usize) {
        self.state().fail.insert(call, n);
    }

    /// The next `n` calls of `call` do their work, then answer an error.
    pub fn lose_answers(&self, call: GatewayCall, n: usize) {
        self.state().lose.insert(call, n);
    }

    pub fn calls(&self, call: GatewayCall) -> usize {
        self.state().calls.get(&call).copied().unwrap_or(0)
    }

    /// Every payment made for `checkout_id`.
    pub fn intents_of(&self, checkout_id: &str) -> Vec<FakeIntent> {
        self.state()
            .intents
            .values()
            .filter(|i| i.checkout_id == checkout_id)
            .cloned()
            .collect()
    }

    pub fn intent(&self, id: &str) -> Option<FakeIntent> {
        self.state().intents.get(id).cloned()
    }

    /// Every transfer made for `order_id`.
    pub fn transfers_of(&self, order_id: &str) -> Vec<FakeTransfer> {
        self.state()
            .transfers
            .values()
            .filter(|t| t.transfer.order_id.as_deref() == Some(order_id))
            .cloned()
            .collect()
    }

    /// Ages a payment by `secs` (an authorization created long ago).
    pub fn age(&self, id: &str, secs: i64) {
        if let Some(i) = self.state().intents.get_mut(id) {
            i.created -= secs;
        }
    }
}

impl PaymentGateway for FakeGateway {
    async fn authorize(&self, request: &AuthorizeRequest) -> Result<Authorization, Error> {
        let mut state = self.state();
        state.enter(GatewayCall::Authorize)?;
        check_test_method(&request.method)?;
        let id = match state.keyed(&request.idempotency_key) {
            Some(id) => id,
            None => {
                let id = state.id("pi");
                state.intents.insert(
                    id.clone(),
                    FakeIntent {
                        id: id.clone(),
                        checkout_id: request.checkout_id.clone(),
                        amount_cents: request.amount_cents,
                        method: request.method.clone(),
                        status: IntentStatus::RequiresCapture,
                        amount_received: 0,
                        refunds: Vec::new(),
                        created: Utc::now().timestamp(),
                    },
                );
                state
                    .keys
                    .insert(request.idempotency_key.clone(), id.clone());
                id
            }
        };
        let auth = Authorization {
            id,
            amount_cents: request.amount_cents,
        };
        state.leave(GatewayCall::Authorize, auth)
    }

    async fn payment(&self, id: &str) -> Result<ProviderPayment, Error> {
        let mut state = self.state();
        state.enter(GatewayCall::Payment)?;
        let view = state.view(id)?;
        state.leave(GatewayCall::Payment, view)
    }

    async fn capture(
        &self,
        id: &str,
        amount_cents: i64,
        key: &str,
    ) -> Result<ProviderPayment, Error> {
        let mut state = self.state();
        state.enter(GatewayCall::Capture)?;
        if state.keyed(key).is_none() {
            let intent = state
                .intents
                .get_mut(id)
                .ok_or_else(|| Error::internal(format!("no such payment {id}")))?;
            if intent.status != IntentStatus::RequiresCapture || amount_cents > intent.amount_cents
            {
                return Err(Error::internal(format!(
                    "payment {id} cannot be captured: it is {:?}",
                    intent.status
                )));
            }
            intent.status = IntentStatus::Succeeded;
            intent.amount_received = amount_cents;
            state.keys.insert(key.to_owned(), id.to_owned());
        }
        let view = state.view(id)?;
        state.leave(GatewayCall::Capture, view)
    }

    async fn cancel(&self, id: &str, key: &str) -> Result<ProviderPayment, Error> {
        let mut state = self.state();
        state.enter(GatewayCall::Cancel)?;
        if state.keyed(key).is_none() {
            let intent = state
                .intents
                .get_mut(id)
                .ok_or_else(|| Error::internal(format!("no such payment {id}")))?;
            if intent.status != IntentStatus::RequiresCapture {
                return Err(Error::internal(format!(
                    "payment {id} cannot be cancelled: it is {:?}",
                    intent.status
                )));
            }
            intent.status = IntentStatus::Canceled;
            state.keys.insert(key.to_owned(), id.to_owned());
        }
        let view = state.view(id)?;
        state.leave(GatewayCall::Cancel, view)
    }

    async fn refund(
        &self,
        id: &str,
        order_id: &str,
        amount_cents: i64,
        key: &str,
    ) -> Result<ProviderRefund, Error> {
        let mut state = self.state();
        state.enter(GatewayCall::Refund)?;
        let refund = match state.keyed(key) {
            Some(refund_id) => state
                .intents
                .get(id)
                .and_then(|i| i.refunds.iter().find(|r| r.id == refund_id).cloned())
                .ok_or_else(|| Error::internal("refund vanished"))?,
            None => {
                let refund_id = state.id("re");
                let intent = state
                    .intents
                    .get_mut(id)
                    .ok_or_else(|| Error::internal(format!("no such payment {id}")))?;
                let refunded: i64 = intent.refunds.iter().map(|r| r.amount_cents).sum();
                if intent.status != IntentStatus::Succeeded
                    || refunded + amount_cents > intent.amount_received
                {
                    return Err(Error::internal(format!(
                        "payment {id} cannot refund {amount_cents}: {refunded} of {} refunded",
                        intent.amount_received
                    )));
                }
                let refund = ProviderRefund {
                    id: refund_id.clone(),
                    amount_cents,
                    order_id: Some(order_id.to_owned()),
                };
                intent.refunds.push(refund.clone());
                state.keys.insert(key.to_owned(), refund_id);
                refund
            }
        };
        state.leave(GatewayCall::Refund, refund)
    }

    async fn stale_authorizations(
        &self,
        created_before: i64,
    ) -> Result<Vec<ProviderPayment>, Error> {
        let mut state = self.state();
        state.enter(GatewayCall::Stale)?;
        let ids: Vec<String> = state
            .intents
            .values()
            .filter(|i| i.status == IntentStatus::RequiresCapture && i.created < created_before)
            .map(|i| i.id.clone())
            .collect();
        ids.iter().map(|id| state.view(id)).collect()
    }
}

impl Payouts for FakeGateway {
    async fn create_account(
        &self,
        _shop_id: &str,
        _email: Option<&str>,
        key: &str,
    ) -> Result<ConnectedAccount, Error> {
        let mut state = self.state();
        state.enter(GatewayCall::CreateAccount)?;
        let id = match state.keyed(key) {
            Some(id) => id,
            None => {
                let id = state.id("acct");
                let enabled = state.instant_onboarding;
                state.accounts.insert(
                    id.clone(),
                    ConnectedAccount {
                        id: id.clone(),
                        payouts_enabled: enabled,
                        details_submitted: enabled,
                    },
                );
                state.keys.insert(key.to_owned(), id.clone());
                id
            }
        };
        let account = state
            .accounts
            .get(&id)
            .cloned()
            .ok_or_else(|| Error::internal("account vanished"))?;
        state.leave(GatewayCall::CreateAccount, account)
    }

    async fn onboarding_link(
        &self,
        account_id: &str,
        return_url: &str,
        _refresh_url: &str,
    ) -> Result<String, Error> {
        Ok(format!(
            "https://connect.fake/onboarding/{account_id}?return={return_url}"
        ))
    }

    async fn account(&self, account_id: &str) -> Result<ConnectedAccount, Error> {
        let mut state = self.state();
        state.enter(GatewayCall::Account)?;
        let account = state
            .accounts
            .get(account_id)
            .cloned()
            .ok_or_else(|| Error::internal(format!("no such account {account_id}")))?;
        state.leave(GatewayCall::Account, account)
    }

    async fn transfer(&self, request: &TransferRequest) -> Result<Transfer, Error> {
        let mut state = self.state();
        state.enter(GatewayCall::Transfer)?;
        let id = match state.keyed(&request.idempotency_key) {
            Some(id) => id,
            None => {
                if !state
                    .accounts
                    .get(&request.destination)
                    .is_some_and(|a| a.payouts_enabled)
                {
                    return Err(Error::internal(format!(
                        "account {} cannot receive transfers",
                        request.destination
                    )));
                }
                let id = state.id("tr");
                state.transfers.insert(
                    id.clone(),
                    FakeTransfer {
                        transfer: Transfer {
                            id: id.clone(),
                            amount_cents: request.amount_cents,
                            reversed_cents: 0,
                            destination: request.destination.clone(),
                            order_id: Some(request.order_id.clone()),
                        },
                        group: request.transfer_group.clone(),
                        source_transaction: request.source_transaction.clone(),
                    },
                );
                state
                    .keys
                    .insert(request.idempotency_key.clone(), id.clone());
                id
            }
        };
        let t = state
            .transfers
            .get(&id)
            .map(|t| t.transfer.clone())
            .ok_or_else(|| Error::internal("transfer vanished"))?;
        state.leave(GatewayCall::Transfer, t)
    }

    async fn transfers(&self, transfer_group: &str) -> Result<Vec<Transfer>, Error> {
        let mut state = self.state();
        state.enter(GatewayCall::Transfers)?;
        let found = state
            .transfers
            .values()
            .filter(|t| t.group == transfer_group)
            .map(|t| t.transfer.clone())
            .collect();
        state.leave(GatewayCall::Transfers, found)
    }

    async fn reverse(
        &self,
        transfer_id: &str,
        amount_cents: i64,
        key: &str,
    ) -> Result<Transfer, Error> {
        let mut state = self.state();
        state.enter(GatewayCall::Reverse)?;
        if state.keyed(key).is_none() {
            let t = state
                .transfers
                .get_mut(transfer_id)
                .ok_or_else(|| Error::internal(format!("no such transfer {transfer_id}")))?;
            if t.transfer.reversed_cents + amount_cents > t.transfer.amount_cents {
                return Err(Error::internal(format!(
                    "transfer {transfer_id} cannot reverse {amount_cents}"
                )));
            }
            t.transfer.reversed_cents += amount_cents;
            state.keys.insert(key.to_owned(), transfer_id.to_owned());
        }
        let t = state
            .transfers
            .get(transfer_id)
            .map(|t| t.transfer.clone())
            .ok_or_else(|| Error::internal("transfer vanished"))?;
        state.leave(GatewayCall::Reverse, t)
    }
}

// ------------------------------------------------------------------ feed

/// A call of [`FakeFeedStore`] a fault can be injected into (and that is counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FeedCall {
    Favorites,
    Views,
    /// Reading a stored trending list ([`TrendingSource::trending`]).
    Trending,
    /// Reading products and shops by id ([`FeedStore::load`]).
    Load,
}

/// What an injected fault does to a call of [`FakeFeedStore`] or [`FakeSearchIndex`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The call fails (`503` from the store, [`SearchError::Unavailable`] from the engine).
    Fail,
    /// The call answers, after this long (`tokio::time::sleep`: tests of budgets pause time).
    Slow(Duration),
}

/// Waits out a slow fault; answers whether the call must fail.
async fn suffer(fault: Option<Fault>) -> bool {
    match fault {
        Some(Fault::Fail) => true,
        Some(Fault::Slow(d)) => {
            tokio::time::sleep(d).await;
            false
        }
        None => false,
    }
}

/// Everything [`FakeFeedStore`] holds.
#[derive(Debug, Default)]
struct FeedState {
    shops: BTreeMap<String, Shop>,
    products: BTreeMap<String, Product>,
    favorites: BTreeMap<String, Vec<Signal>>,
    views: BTreeMap<String, Vec<Signal>>,
    /// Stored trending lists: overall (`None`) and per category.
    trending: BTreeMap<Option<String>, TrendingList>,
    /// Faults injected into every call of a kind until [`FakeFeedStore::heal`].
    faults: BTreeMap<FeedCall, Fault>,
    calls: BTreeMap<FeedCall, usize>,
}

/// What the feed reads from the table, in memory: products and shops by id, each user's
/// favorites and views (snapshots of the product when they happened, as the real store keeps
/// them) and the stored trending lists (Product objects with `available` as it was when the list
/// was computed). Calls are counted per [`FeedCall`]; [`FakeFeedStore::fail`] and
/// [`FakeFeedStore::slow`] inject faults into every call of a kind. Clones share the state.
#[derive(Debug, Clone, Default)]
pub struct FakeFeedStore {
    state: Arc<Mutex<FeedState>>,
}

impl FakeFeedStore {
    fn state(&self) -> MutexGuard<'_, FeedState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a call and answers the fault injected into it, if any.
    fn call(&self, call: FeedCall) -> Option<Fault> {
        let mut state = self.state();
        *state.calls.entry(call).or_default() += 1;
        state.faults.get(&call).copied()
    }

    /// Every call of `call`'s kind fails with `503` until [`Self::heal`].
    pub fn fail(&self, call: FeedCall) {
        self.state().faults.insert(call, Fault::Fail);
    }

    /// Every call of `call`'s kind answers after `delay` until [`Self::heal`].
    pub fn slow(&self, call: FeedCall, delay: Duration) {
        self.state().faults.insert(call, Fault::Slow(delay));
    }

    /// Removes every injected fault.
    pub fn heal(&self) {
        self.state().faults.clear();
    }

    /// Calls of `call`'s kind so far (failed ones included).
    pub fn calls(&self, call: FeedCall) -> usize {
        self.state().calls.get(&call).copied().unwrap_or(0)
    }

    // ---- seeding and inspection

    /// Adds a shop with id `id` (owned by `owner-<id>`).
    pub fn add_shop(&self, id: &str, name: &str) {
        let now = Utc::now();
        let shop = Shop {
            id: id.to_owned(),
            owner_id: format!("owner-{id}"),
            owner_email: None,
            name: name.to_owned(),
            description: String::new(),
            shipping: Shipping::default(),
            rating_sum: 0,
            review_count: 0,
            sales_count: 0,
            created_at: now,
            updated_at: now,
            payout_status: None,
        };
        self.state().shops.insert(id.to_owned(), shop);
    }

    /// Adds a product with id `id` (and title `id`) to a shop added before.
    pub fn add_product(
        &self,
        shop_id: &str,
        id: &str,
        category: &str,
        price_cents: i64,
        quantity: i64,
        tags: &[&str],
    ) {
        let now = Utc::now();
        let mut state = self.state();
        let owner_id = state
            .shops
            .get(shop_id)
            .map(|s| s.owner_id.clone())
            .unwrap_or_default();
        let product = Product {
            id: id.to_owned(),
            shop_id: shop_id.to_owned(),
            owner_id,
            title: id.to_owned(),
            description: String::new(),
            price_cents,
            quantity,
            category: category.to_owned(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            is_vintage: false,
            images: Vec::new(),
            created_at: now,
            updated_at: now,
            version: 1,
            holds: Default::default(),
        };
        state.products.insert(id.to_owned(), product);
    }

    /// Changes a stored product (repriced, sold out, moved...) and bumps its version; the search
    /// index does not see it until it is given the new [`Self::docs`].
    pub fn update_product(&self, id: &str, change: impl FnOnce(&mut Product)) {
        if let Some(p) = self.state().products.get_mut(id) {
            change(p);
            p.version += 1;
            p.updated_at = Utc::now();
        }
    }

    /// Replaces a hold entry of a product (another buyer's, the user's own, a lapsed one).
    pub fn set_hold(&self, product_id: &str, slot: u32, holder: &str, expires_at: i64) {
        put_hold(
            &mut self.state().products,
            product_id,
            slot,
            holder,
            expires_at,
        );
    }

    pub fn get_product(&self, id: &str) -> Option<Product> {
        self.state().products.get(id).cloned()
    }

    fn signal(state: &FeedState, product_id: &str, at: DateTime<Utc>) -> Option<Signal> {
        state.products.get(product_id).map(|p| Signal {
            product_id: p.id.clone(),
            shop_id: p.shop_id.clone(),
            category: p.category.clone(),
            price_cents: p.price_cents,
            tags: p.tags.clone(),
            at,
        })
    }

    /// `user` favorited a stored product at `at` (a snapshot of it is kept).
    pub fn favorite(&self, user: &str, product_id: &str, at: DateTime<Utc>) {
        let mut state = self.state();
        if let Some(s) = Self::signal(&state, product_id, at) {
            state.favorites.entry(user.to_owned()).or_default().push(s);
        }
    }

    /// `user` viewed a stored product at `at` (a snapshot of it is kept; every view is a signal).
    pub fn view(&self, user: &str, product_id: &str, at: DateTime<Utc>) {
        let mut state = self.state();
        if let Some(s) = Self::signal(&state, product_id, at) {
            state.views.entry(user.to_owned()).or_default().push(s);
        }
    }

    /// Stores the trending list of `category` (overall when `None`) as the trending job would at
    /// `now`: the stored products `ids`, best first, as Product objects with their availability
    /// at `now` (unknown ids are left out).
    pub fn set_trending(&self, category: Option<&str>, ids: &[&str], now: DateTime<Utc>) {
        let mut state = self.state();
        let at = now.timestamp();
        let products = ids
            .iter()
            .filter_map(|id| {
                let p = state.products.get(*id)?;
                let shop = state.shops.get(&p.shop_id)?;
                serde_json::to_value(p.view(shop.summary(), p.available_to(None, at))).ok()
            })
            .collect();
        state.trending.insert(
            category.map(str::to_owned),
            TrendingList {
                products,
                computed_at: Some(now),
            },
        );
    }

    /// The search documents of every stored product, with its shop (what an indexer would write).
    pub fn docs(&self) -> Vec<SearchDoc> {
        let state = self.state();
        state
            .products
            .values()
            .filter_map(|p| state.shops.get(&p.shop_id).map(|s| SearchDoc::new(p, s)))
            .collect()
    }
}

impl TrendingSource for FakeFeedStore {
    async fn trending(&self, category: Option<&str>) -> Result<TrendingList, Error> {
        if suffer(self.call(FeedCall::Trending)).await {
            return Err(Error::Unavailable("injected trending read failure".into()));
        }
        Ok(self
            .state()
            .trending
            .get(&category.map(str::to_owned))
            .cloned()
            .unwrap_or_default())
    }
}

impl FeedStore for FakeFeedStore {
    async fn favorites(&self, user: &str) -> Result<Vec<Signal>, Error> {
        if suffer(self.call(FeedCall::Favorites)).await {
            return Err(Error::Unavailable("injected favorites read failure".into()));
        }
        Ok(self
            .state()
            .favorites
            .get(user)
            .cloned()
            .unwrap_or_default())
    }

    async fn views(&self, user: &str) -> Result<Vec<Signal>, Error> {
        if suffer(self.call(FeedCall::Views)).await {
            return Err(Error::Unavailable("injected views read failure".into()));
        }
        let state = self.state();
        let mut views = state.views.get(user).cloned().unwrap_or_default();
        // The newest VIEWS_READ, as the real store's query reads them.
        views.sort_by_key(|v| std::cmp::Reverse(v.at));
        views.truncate(usize::try_from(VIEWS_READ).unwrap_or(usize::MAX));
        Ok(views)
    }

    async fn load(&self, products: Vec<String>, shops: Vec<String>) -> Result<Loaded, Error> {
        if suffer(self.call(FeedCall::Load)).await {
            return Err(Error::Unavailable("injected load failure".into()));
        }
        let state = self.state();
        Ok((
            products
                .iter()
                .filter_map(|id| state.products.get(id).map(|p| (id.clone(), p.clone())))
                .collect(),
            shops
                .iter()
                .filter_map(|id| state.shops.get(id).map(|s| (id.clone(), s.clone())))
                .collect(),
        ))
    }
}

/// Everything [`FakeSearchIndex`] holds.
#[derive(Debug, Default)]
struct IndexState {
    /// Documents and tombstones by id.
    docs: BTreeMap<String, SearchDoc>,
    fault: Option<Fault>,
    /// Every search asked for, failed ones included.
    queries: Vec<SearchQuery>,
}

/// The search engine in memory. It keeps versions as the engines do (an older change is
/// [`Applied::Stale`], a removal leaves a tombstone) and searches in-stock documents with the
/// query's filters (category, price range, vintage). Text matches whole lowercase words of the
/// title, tags or description, any word of the query (no stemming, no synonyms); relevance is the
/// engines' field boosts (`title^3, tags^2, description`) times [`ranking::boost`], ties by id.
/// Facets count every match. [`FakeSearchIndex::fail`] and [`FakeSearchIndex::slow`] inject a
/// fault into every search. Clones share the state.
#[derive(Debug, Clone, Default)]
pub struct FakeSearchIndex {
    state: Arc<Mutex<IndexState>>,
}

/// The lowercase words of `text`.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

impl FakeSearchIndex {
    fn state(&self) -> MutexGuard<'_, IndexState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// An index holding `docs` (as if indexed).
    pub fn with_docs(docs: impl IntoIterator<Item = SearchDoc>) -> Self {
        let index = Self::default();
        index.put(docs);
        index
    }

    /// Stores `docs` whatever their versions (a reindex).
    pub fn put(&self, docs: impl IntoIterator<Item = SearchDoc>) {
        let mut state = self.state();
        for doc in docs {
            state.docs.insert(doc.id.clone(), doc);
        }
    }

    pub fn doc(&self, id: &str) -> Option<SearchDoc> {
        self.state().docs.get(id).cloned()
    }

    /// Every search fails until [`Self::heal`].
    pub fn fail(&self) {
        self.state().fault = Some(Fault::Fail);
    }

    /// Every search answers after `delay` until [`Self::heal`].
    pub fn slow(&self, delay: Duration) {
        self.state().fault = Some(Fault::Slow(delay));
    }

    pub fn heal(&self) {
        self.state().fault = None;
    }

    /// The searches asked for so far, in order (failed ones included).
    pub fn queries(&self) -> Vec<SearchQuery> {
        self.state().queries.clone()
    }

    /// The relevance of `doc` for `query`; `None` when it does not match.
    fn score(doc: &SearchDoc, query: &SearchQuery) -> Option<f64> {
        if !doc.visible()
            || query.category.as_ref().is_some_and(|c| *c != doc.category)
            || query.min_price_cents.is_some_and(|m| doc.price_cents < m)
            || query.max_price_cents.is_some_and(|m| doc.price_cents > m)
            || query.vintage.is_some_and(|v| v != doc.is_vintage)
        {
            return None;
        }
        let age_days = (query.now - doc.created_at).num_seconds() as f64 / 86_400.0;
        let boost = ranking::boost(doc.shop_rating, doc.shop_sales_count, age_days);
        let Some(text) = query.text.as_deref().filter(|t| !t.trim().is_empty()) else {
            return Some(boost);
        };
        let fields: [Vec<String>; 3] = [
            words(&doc.title).collect(),
            doc.tags.iter().flat_map(|t| words(t)).collect(),
            words(&doc.description).collect(),
        ];
        let mut text_score = 0.0;
        for word in words(text) {
            for (field, (_, weight)) in fields.iter().zip(ranking::FIELDS) {
                if field.contains(&word) {
                    text_score += f64::from(weight);
                }
            }
        }
        (text_score > 0.0).then_some(text_score * boost)
    }
}

impl SearchIndex for FakeSearchIndex {
    async fn prepare(&self) -> Result<(), SearchError> {
        let fault = self.state().fault;
        if suffer(fault).await {
            return Err(SearchError::Unavailable("injected engine failure".into()));
        }
        Ok(())
    }

    async fn apply(&self, changes: Vec<IndexChange>) -> Result<Vec<Applied>, SearchError> {
        let fault = self.state().fault;
        if suffer(fault).await {
            return Err(SearchError::Unavailable("injected engine failure".into()));
        }
        let mut state = self.state();
        Ok(changes
            .into_iter()
            .map(|change| {
                if state
                    .docs
                    .get(change.id())
                    .is_some_and(|d| d.version >= change.version())
                {
                    return Applied::Stale;
                }
                let doc = change.into_doc();
                state.docs.insert(doc.id.clone(), doc);
                Applied::Indexed
            })
            .collect())
    }

    async fn search(&self, query: &SearchQuery) -> Result<SearchPage, SearchError> {
        let fault = {
            let mut state = self.state();
            state.queries.push(query.clone());
            state.fault
        };
        if suffer(fault).await {
            return Err(SearchError::Unavailable("injected engine failure".into()));
        }
        let state = self.state();
        let mut hits: Vec<Hit> = state
            .docs
            .values()
            .filter_map(|doc| {
                Self::score(doc, query).map(|score| Hit {
                    doc: doc.clone(),
                    score,
                })
            })
            .collect();
        hits.sort_by(|a, b| {
            let order = match query.sort {
                Sort::Relevance => b.score.total_cmp(&a.score),
                Sort::Newest => b.doc.created_at.cmp(&a.doc.created_at),
                Sort::PriceAsc => a.doc.price_cents.cmp(&b.doc.price_cents),
                Sort::PriceDesc => b.doc.price_cents.cmp(&a.doc.price_cents),
            };
            order.then_with(|| a.doc.id.cmp(&b.doc.id))
        });
        let facets = Facets::count(hits.iter().map(|h| &h.doc));
        let total = hits.len() as u64;
        let offset = usize::try_from(query.offset()).unwrap_or(usize::MAX);
        let size = usize::try_from(query.page_size).unwrap_or(usize::MAX);
        Ok(SearchPage {
            hits: hits.into_iter().skip(offset).take(size).collect(),
            total,
            facets,
        })
    }
}

/// A counter's key: user, class, window start.
type QuotaKey = (String, crate::quota::QuotaClass, i64);

/// In-memory per-user write counters ([`crate::quota`]).
#[derive(Debug, Clone, Default)]
pub struct FakeQuota {
    counts: Arc<Mutex<HashMap<QuotaKey, u32>>>,
}

impl FakeQuota {
    /// The writes of `class` counted for `user`, over every window.
    pub fn count(&self, user: &str, class: crate::quota::QuotaClass) -> u32 {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|((u, c, _), _)| u == user && *c == class)
            .map(|(_, n)| *n)
            .sum()
    }
}

impl crate::ports::QuotaStore for FakeQuota {
    async fn spend(
        &self,
        user: &str,
        class: crate::quota::QuotaClass,
        limit: crate::quota::Limit,
        window_start: i64,
    ) -> Result<bool, Error> {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let n = counts
            .entry((user.to_owned(), class, window_start))
            .or_default();
        if *n >= limit.max {
            return Ok(false);
        }
        *n += 1;
        Ok(true)
    }
}
