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
//! [`FakeGateway`] follows the built-in test gateway: Stripe's test methods, idempotent per
//! reference, and it counts captures, voids and refunds.

use crate::cart::{CartWrite, HoldEntry, Line, LineWrite};
use crate::catalog::{Product, Shipping, Shop, new_id};
use crate::checkout::{
    CheckoutRecord, CheckoutWrite, CheckoutWritten, Order, OrderItem, OrderStatus, Shipment,
};
use crate::error::Error;
use crate::orders::{NotificationView, OrderPage, Review};
use crate::payments::{Authorization, check_test_method};
use crate::ports::{CartStore, CheckoutStore, Commit, LineCatalog, OrderStore, PaymentGateway};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Everything [`FakeStore`] holds.
#[derive(Debug, Default)]
struct State {
    shops: BTreeMap<String, Shop>,
    products: BTreeMap<String, Product>,
    /// Cart lines by buyer, then product.
    carts: BTreeMap<String, BTreeMap<String, Line>>,
    checkouts: BTreeMap<String, CheckoutRecord>,
    orders: BTreeMap<String, Order>,
    reviews: BTreeMap<String, Review>,
    notifications: BTreeMap<String, Vec<NotificationView>>,
    /// Faults to inject into the next writes.
    races_to_lose: usize,
    failures: usize,
    /// Writes asked for (committed or not).
    attempts: usize,
}

impl State {
    /// Counts an attempted write and answers the fault injected into it, if any.
    fn fault(&mut self) -> Option<Result<(), Error>> {
        self.attempts += 1;
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
        product
            .holds
            .get(&slot)
            .is_none_or(|h| h.expires_at <= now || h.holder == me)
    }

    /// Whether `me` may release `slot`: free or mine.
    fn releasable(&self, product: &Product, slot: u32, me: &str) -> bool {
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
        if let Some(p) = self.state().products.get_mut(product_id) {
            p.holds.insert(
                slot,
                HoldEntry {
                    holder: holder.to_owned(),
                    expires_at,
                },
            );
        }
    }

    pub fn get_product(&self, id: &str) -> Option<Product> {
        self.state().products.get(id).cloned()
    }

    pub fn get_shop(&self, id: &str) -> Option<Shop> {
        self.state().shops.get(id).cloned()
    }

    /// Slots of `product_id` whose mirror entry names `holder` (live or not).
    pub fn holds_of(&self, product_id: &str, holder: &str) -> usize {
        self.state().products.get(product_id).map_or(0, |p| {
            p.holds.values().filter(|h| h.holder == holder).count()
        })
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

    async fn lines(&self, user: &str) -> Result<Vec<Line>, Error> {
        Ok(self.lines_of(user))
    }

    async fn product(&self, id: &str) -> Result<Option<(Product, ())>, Error> {
        Ok(self.get_product(id).map(|p| (p, ())))
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
        let current = state
            .carts
            .get(me)
            .and_then(|c| c.get(write.product_id))
            .map(|l| l.quantity);
        let line_ok = match &write.line {
            LineWrite::Put { seen, .. } => current == *seen,
            LineWrite::Remove { seen } => current == Some(*seen),
        };
        if !line_ok {
            return Ok(Commit::LostRace);
        }
        if touches_product && let Some(p) = state.products.get_mut(write.product_id) {
            for slot in plan.held() {
                p.holds.insert(
                    slot,
                    HoldEntry {
                        holder: me.to_owned(),
                        expires_at: write.expires_at,
                    },
                );
            }
            for slot in plan.release.iter().chain(plan.prune.iter().map(|(s, _)| s)) {
                p.holds.remove(slot);
            }
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

    async fn cart(&self, buyer: &str) -> Result<(Vec<Line>, LineCatalog), Error> {
        let state = self.state();
        let lines: Vec<Line> = state
            .carts
            .get(buyer)
            .map(|c| c.values().cloned().collect())
            .unwrap_or_default();
        let catalog = Self::catalog_of(&state, &lines);
        Ok((lines, catalog))
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
                let line_ok = state
                    .carts
                    .get(buyer)
                    .and_then(|c| c.get(&line.product_id))
                    .is_some_and(|l| l.quantity == line.seen_quantity);
                !(product_ok && line_ok)
            })
            .map(|(i, _)| i)
            .collect();
        let orders_ok = write.orders.iter().all(|o| {
            !state.orders.contains_key(&o.order_id) && state.shops.contains_key(&o.shop_id)
        });
        if !failed.is_empty() || !orders_ok {
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
            if let Some(cart) = state.carts.get_mut(buyer) {
                cart.remove(&line.product_id);
            }
        }
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

/// Where a fake payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStatus {
    Authorized,
    Captured,
    Voided,
}

/// A payment as [`FakeGateway`] records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakePayment {
    pub amount_cents: i64,
    pub status: PaymentStatus,
    /// Authorizations asked for with this reference (a retry asks again).
    pub authorizations: u32,
    /// Captures and voids that moved the payment (repeats are not counted).
    pub captures: u32,
    pub voids: u32,
    /// Refunded amounts by order.
    pub refunds: BTreeMap<String, i64>,
}

/// The payment gateway in memory, with the built-in test gateway's rules. Clones share state.
#[derive(Debug, Clone, Default)]
pub struct FakeGateway {
    payments: Arc<Mutex<BTreeMap<String, FakePayment>>>,
}

impl FakeGateway {
    fn payments(&self) -> MutexGuard<'_, BTreeMap<String, FakePayment>> {
        self.payments.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The payment of `reference`, if one was authorized.
    pub fn payment(&self, reference: &str) -> Option<FakePayment> {
        self.payments().get(reference).cloned()
    }

    fn settle(&self, auth: &Authorization, to: PaymentStatus) -> Result<(), Error> {
        let mut payments = self.payments();
        let Some(p) = payments.get_mut(&auth.id) else {
            return Err(Error::internal(format!("no payment {}", auth.id)));
        };
        match p.status {
            PaymentStatus::Authorized => {
                p.status = to;
                match to {
                    PaymentStatus::Captured => p.captures += 1,
                    PaymentStatus::Voided => p.voids += 1,
                    PaymentStatus::Authorized => {}
                }
                Ok(())
            }
            done if done == to => Ok(()),
            other => Err(Error::internal(format!(
                "payment {} cannot become {to:?}: it is {other:?}",
                auth.id
            ))),
        }
    }
}

impl PaymentGateway for FakeGateway {
    async fn authorize(
        &self,
        reference: &str,
        amount_cents: i64,
        method: &str,
    ) -> Result<Authorization, Error> {
        check_test_method(method)?;
        let mut payments = self.payments();
        let auth = Authorization {
            id: reference.to_owned(),
            amount_cents,
        };
        match payments.get_mut(reference) {
            // A voided authorization (a cancelled attempt) is renewed.
            Some(p) if p.status == PaymentStatus::Voided => {
                p.status = PaymentStatus::Authorized;
                p.amount_cents = amount_cents;
                p.authorizations += 1;
                Ok(auth)
            }
            Some(p) if p.amount_cents == amount_cents => {
                p.authorizations += 1;
                Ok(auth)
            }
            Some(p) => Err(Error::internal(format!(
                "payment {reference} was authorized for {}, not {amount_cents}",
                p.amount_cents
            ))),
            None => {
                payments.insert(
                    reference.to_owned(),
                    FakePayment {
                        amount_cents,
                        status: PaymentStatus::Authorized,
                        authorizations: 1,
                        captures: 0,
                        voids: 0,
                        refunds: BTreeMap::new(),
                    },
                );
                Ok(auth)
            }
        }
    }

    async fn capture(&self, auth: &Authorization) -> Result<(), Error> {
        self.settle(auth, PaymentStatus::Captured)
    }

    async fn void(&self, auth: &Authorization) -> Result<(), Error> {
        self.settle(auth, PaymentStatus::Voided)
    }

    async fn refund(
        &self,
        payment_id: &str,
        order_id: &str,
        amount_cents: i64,
    ) -> Result<(), Error> {
        let mut payments = self.payments();
        match payments.get_mut(payment_id) {
            Some(p) if p.refunds.contains_key(order_id) => Ok(()),
            Some(p) if p.status == PaymentStatus::Captured => {
                p.refunds.insert(order_id.to_owned(), amount_cents);
                Ok(())
            }
            _ => Err(Error::internal(format!(
                "payment {payment_id} is not captured; cannot refund"
            ))),
        }
    }
}
