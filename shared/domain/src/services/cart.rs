//! The cart use cases: add to a line or set it (holding every unit), remove it (releasing its
//! holds at once), read the cart.
//!
//! A write reads the buyer's lines and the product (with its holds), checks the rules (a seller
//! cannot hold their own listing: `403 own_listing`) and the limits ([`MAX_LINE_QUANTITY`] units
//! per line, [`MAX_CART_LINES`] lines, [`MAX_CART_UNITS`] units per cart, the hold lifetime of
//! [`HoldPolicy`]), plans which slots to take,
//! keep and release ([`cart::plan`]) and hands the store one [`CartWrite`], which is applied
//! atomically under conditions that make it safe against every concurrent request. Nothing is
//! decided by a read alone: when another request got there first the store answers
//! [`Commit::LostRace`], and the write is planned again from fresh reads, up to
//! [`MAX_ATTEMPTS`] times (then `503`, retryable).
//!
//! Round trips per write: one read (the cart, the product with its holds, the clock of a removed
//! line of it, the write quota's counter), the write (with the quota's count in it), the render
//! read (the lines' products and shops) — `3`; per read: `2`.

use crate::cart::{
    self, CartView, CartWrite, HoldPolicy, KeptClock, Line, LineChange, LineProduct, LineShop,
    LineWrite, MAX_CART_LINES, MAX_CART_UNITS, MAX_LINE_QUANTITY, Plan,
};
use crate::error::{Error, Resource};
use crate::ports::{CartStore, Commit};
use crate::quota::{QuotaClass, Quotas};
use chrono::Utc;
use std::collections::BTreeMap;

/// How often a write is planned again after losing a race before giving up with `503`.
pub const MAX_ATTEMPTS: usize = 6;

/// The cart rules over a [`CartStore`].
#[derive(Debug, Clone)]
pub struct CartService<S> {
    store: S,
    quotas: Quotas,
}

impl<S: CartStore> CartService<S> {
    /// The service with quotas off (see [`Self::with_quotas`]).
    pub fn new(store: S) -> Self {
        Self {
            store,
            quotas: Quotas::off(),
        }
    }

    /// Every cart write spends one `cart` write of `quotas`, counted in the write's own
    /// transaction (`429 rate_limited` when the window is full).
    pub fn with_quotas(mut self, quotas: Quotas) -> Self {
        self.quotas = quotas;
        self
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// Adds units to the buyer's line (`LineChange::Add`) or sets it (`LineChange::Set`),
    /// holding every unit for `hold_seconds` (never past the hold lifetime of
    /// [`HoldPolicy::new`]`(hold_seconds)`). `403 own_listing` for the caller's own listing,
    /// `404` for an unknown product (or, for `Set`, a product not in the cart), `409
    /// hold_cooldown` after the hold lifetime, `409 unavailable` when the units cannot be held,
    /// `422` past the line or cart limits (`422 hold_limit` past [`MAX_CART_UNITS`]), `429` when
    /// the write quota is spent, `503` after [`MAX_ATTEMPTS`] lost races. Answers the whole cart.
    pub async fn write_line(
        &self,
        user: &str,
        product_id: &str,
        change: LineChange,
        hold_seconds: i64,
    ) -> Result<CartView, Error> {
        let policy = HoldPolicy::new(hold_seconds);
        for _ in 0..MAX_ATTEMPTS {
            let now = cart::unix_now();
            let charge = self.quotas.charge(QuotaClass::Cart, now);
            let read = self
                .store
                .read(user, Some(product_id), charge.as_ref())
                .await?;
            if let Some(charge) = &charge
                && !charge.fits(read.quota_used)
            {
                return Err(charge.refused());
            }
            let mut lines = read.cart.lines;
            let Some((product, seen)) = read.product else {
                return Err(Error::not_found(Resource::Product, product_id));
            };
            if product.owner_id == user {
                return Err(cart::own_listing(
                    "This is your own listing: sellers cannot put their own listings in a cart.",
                ));
            }
            let index = lines.iter().position(|l| l.product_id == product_id);
            let current = index.and_then(|i| lines.get(i)).map(|l| l.quantity);
            let want = wanted(change, current, product_id)?;
            if index.is_none() && lines.len() >= MAX_CART_LINES {
                return Err(Error::validation(
                    "product_id",
                    format!("a cart holds at most {MAX_CART_LINES} different products"),
                ));
            }
            // The cart's units after the write; only growing past the cap is refused.
            let units: i64 = lines
                .iter()
                .filter(|l| l.product_id != product_id)
                .map(|l| l.quantity)
                .sum::<i64>()
                .saturating_add(want);
            if units > MAX_CART_UNITS && want > current.unwrap_or(0) {
                return Err(cart::hold_limit(units));
            }
            let since = match index.and_then(|i| lines.get(i)) {
                Some(line) => Some(line.hold_since),
                None => read.clock.as_ref().map(|c| c.since),
            };
            let window = policy
                .window(since, now)
                .map_err(|c| cart::cooling_down(&c, &policy, now))?;
            if let Some(oversold) = crate::inventory::oversell_metric(product_id, product.quantity)
            {
                oversold.emit();
            }
            let plan = cart::plan(
                product.quantity,
                &product.holds,
                user,
                want,
                now,
                &mut cart::random_pick,
            )
            .map_err(|u| cart::unavailable(&u, want))?;
            let line = Line {
                product_id: product_id.to_owned(),
                shop_id: product.shop_id.clone(),
                quantity: want,
                title: product.title.clone(),
                price_cents: product.price_cents,
                added_at: index
                    .and_then(|i| lines.get(i))
                    .map_or_else(Utc::now, |l| l.added_at),
                hold_since: window.since,
            };
            let write = CartWrite {
                user,
                product_id,
                plan,
                now,
                expires_at: policy.expires_at(&window, now),
                line: LineWrite::Put {
                    line: line.clone(),
                    // The clock a removed line left goes: the line carries its window now.
                    clock: index.is_none() && read.clock.is_some(),
                },
                version: read.cart.version,
                quota: charge,
            };
            match self.store.write(&write, Some(&seen)).await? {
                Commit::Committed => {
                    match index {
                        Some(i) => lines[i] = line,
                        None => lines.push(line),
                    }
                    return self.render(user, lines).await;
                }
                Commit::LostRace => {
                    tracing::debug!(product_id, "cart write lost a race; planning again");
                }
            }
        }
        Err(Error::Unavailable(
            "too many concurrent changes to this product; retry".into(),
        ))
    }

    /// Removes the line and releases the buyer's holds on its product at once; the line's hold
    /// window is kept (a [`crate::cart::HoldClock`]) until it no longer matters under
    /// [`HoldPolicy::new`]`(hold_seconds)`, so that re-adding does not reset it. `404` when the
    /// cart has no such line, `429` when the write quota is spent. Answers the whole cart.
    pub async fn remove_line(
        &self,
        user: &str,
        product_id: &str,
        hold_seconds: i64,
    ) -> Result<CartView, Error> {
        let policy = HoldPolicy::new(hold_seconds);
        for _ in 0..MAX_ATTEMPTS {
            let now = cart::unix_now();
            let charge = self.quotas.charge(QuotaClass::Cart, now);
            let read = self
                .store
                .read(user, Some(product_id), charge.as_ref())
                .await?;
            if let Some(charge) = &charge
                && !charge.fits(read.quota_used)
            {
                return Err(charge.refused());
            }
            let mut lines = read.cart.lines;
            let Some(index) = lines.iter().position(|l| l.product_id == product_id) else {
                return Err(Error::not_found(Resource::Product, product_id));
            };
            let product = read.product;
            // Every slot the buyer holds goes, live or lapsed; a deleted product has none.
            let plan = Plan {
                release: product
                    .as_ref()
                    .map_or_else(Vec::new, |(p, _)| cart::slots_of(&p.holds, user)),
                ..Plan::default()
            };
            let since = lines[index].hold_since;
            let until = policy.forget_at(since);
            let write = CartWrite {
                user,
                product_id,
                plan,
                now,
                expires_at: now,
                line: LineWrite::Remove {
                    keep: (now < until).then_some(KeptClock { since, until }),
                },
                version: read.cart.version,
                quota: charge,
            };
            match self
                .store
                .write(&write, product.as_ref().map(|(_, seen)| seen))
                .await?
            {
                Commit::Committed => {
                    lines.remove(index);
                    return self.render(user, lines).await;
                }
                Commit::LostRace => {
                    tracing::debug!(product_id, "cart removal lost a race; planning again");
                }
            }
        }
        Err(Error::Unavailable(
            "too many concurrent changes to this cart line; retry".into(),
        ))
    }

    /// The buyer's cart.
    pub async fn cart(&self, user: &str) -> Result<CartView, Error> {
        let lines = self.store.read(user, None, None).await?.cart.lines;
        self.render(user, lines).await
    }

    /// Renders `lines` with their current products (prices, stock, holds) and shops.
    async fn render(&self, user: &str, lines: Vec<Line>) -> Result<CartView, Error> {
        let (products, shops) = self.store.catalog(&lines).await?;
        let products: BTreeMap<String, LineProduct> = products
            .into_iter()
            .map(|(id, p)| {
                (
                    id,
                    LineProduct {
                        title: p.title,
                        price_cents: p.price_cents,
                        quantity: p.quantity,
                        holds: p.holds,
                    },
                )
            })
            .collect();
        let shops: BTreeMap<String, LineShop> = shops
            .into_iter()
            .map(|(id, shop)| {
                (
                    id,
                    LineShop {
                        name: shop.name,
                        shipping: shop.shipping,
                    },
                )
            })
            .collect();
        Ok(cart::render(
            user,
            &lines,
            &products,
            &shops,
            cart::unix_now(),
        ))
    }
}

/// The units the line should have after `change` (`current`: the line's units, if it exists);
/// `404` for setting a line that is not in the cart, `422` past [`MAX_LINE_QUANTITY`].
fn wanted(change: LineChange, current: Option<i64>, product_id: &str) -> Result<i64, Error> {
    let want = match (change, current) {
        (LineChange::Add(q), current) => current.unwrap_or(0).saturating_add(q),
        (LineChange::Set(q), Some(_)) => q,
        (LineChange::Set(_), None) => return Err(Error::not_found(Resource::Product, product_id)),
    };
    if want > MAX_LINE_QUANTITY {
        return Err(Error::validation(
            "quantity",
            format!("a cart line holds at most {MAX_LINE_QUANTITY} units (this would make {want})"),
        ));
    }
    Ok(want)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::FakeStore;

    const HOLD: i64 = 900;

    fn world() -> (FakeStore, CartService<FakeStore>, String, String) {
        let store = FakeStore::default();
        let shop = store.add_shop("seller", "Copper Kiln", 500, 150);
        let vase = store.add_product(&shop, "Vase", 4200, 45);
        (store.clone(), CartService::new(store), shop, vase)
    }

    #[tokio::test]
    async fn adding_holds_every_unit_and_renders_the_cart() {
        let (store, carts, _, vase) = world();
        let cart = carts
            .write_line("ada", &vase, LineChange::Add(3), HOLD)
            .await
            .expect("added");
        assert_eq!(
            (cart.item_count, cart.total_cents),
            (3, 3 * 4200 + 500 + 2 * 150)
        );
        let item = &cart.shops[0].items[0];
        assert_eq!((item.quantity, item.held, item.available), (3, true, 45));
        assert_eq!(store.holds_of(&vase, "ada"), 3);
        assert_eq!(store.line("ada", &vase).map(|l| l.quantity), Some(3));
    }

    #[tokio::test]
    async fn adding_past_40_units_is_422_and_writes_nothing() {
        let (store, carts, _, vase) = world();
        carts
            .write_line("ada", &vase, LineChange::Add(30), HOLD)
            .await
            .expect("30 fit");
        let err = carts
            .write_line("ada", &vase, LineChange::Add(11), HOLD)
            .await
            .expect_err("41 do not");
        assert_eq!(err.status(), 422);
        assert_eq!(store.line("ada", &vase).map(|l| l.quantity), Some(30));
        assert_eq!(store.holds_of(&vase, "ada"), 30);
    }

    #[tokio::test]
    async fn a_101st_product_is_422() {
        let store = FakeStore::default();
        let shop = store.add_shop("seller", "Many", 0, 0);
        let carts = CartService::new(store.clone());
        for i in 0..MAX_CART_LINES {
            let p = store.add_product(&shop, &format!("P{i}"), 100, 1);
            carts
                .write_line("ada", &p, LineChange::Add(1), HOLD)
                .await
                .expect("fits");
        }
        let extra = store.add_product(&shop, "One too many", 100, 1);
        let err = carts
            .write_line("ada", &extra, LineChange::Add(1), HOLD)
            .await
            .expect_err("full");
        assert_eq!(err.status(), 422);
        assert_eq!(store.lines_of("ada").len(), MAX_CART_LINES);
    }

    #[tokio::test]
    async fn units_another_buyer_holds_are_409_with_what_is_available() {
        let (store, carts, shop, _) = world();
        let lamp = store.add_product(&shop, "Lamp", 9000, 2);
        carts
            .write_line("bob", &lamp, LineChange::Add(1), HOLD)
            .await
            .expect("bob holds one");
        let err = carts
            .write_line("ada", &lamp, LineChange::Add(2), HOLD)
            .await
            .expect_err("only one left");
        let problem = err.problem();
        assert_eq!((problem.status, problem.code), (409, "unavailable"));
        assert_eq!(
            serde_json::to_value(&problem).expect("json")["available"],
            1
        );
        assert!(store.line("ada", &lamp).is_none());
    }

    #[tokio::test]
    async fn setting_a_line_not_in_the_cart_is_404_and_an_unknown_product_too() {
        let (_, carts, _, vase) = world();
        let err = carts
            .write_line("ada", &vase, LineChange::Set(2), HOLD)
            .await
            .expect_err("not in the cart");
        assert_eq!(err.status(), 404);
        let err = carts
            .write_line("ada", "no-such-product", LineChange::Add(1), HOLD)
            .await
            .expect_err("unknown");
        assert_eq!(err.status(), 404);
    }

    #[tokio::test]
    async fn setting_a_smaller_quantity_releases_the_extra_holds() {
        let (store, carts, _, vase) = world();
        carts
            .write_line("ada", &vase, LineChange::Add(5), HOLD)
            .await
            .expect("5");
        let cart = carts
            .write_line("ada", &vase, LineChange::Set(2), HOLD)
            .await
            .expect("2");
        assert_eq!(cart.item_count, 2);
        assert_eq!(store.holds_of(&vase, "ada"), 2);
    }

    #[tokio::test]
    async fn a_lost_race_is_planned_again_and_succeeds() {
        let (store, carts, _, vase) = world();
        store.lose_races(3);
        let cart = carts
            .write_line("ada", &vase, LineChange::Add(2), HOLD)
            .await
            .expect("the fourth attempt wins");
        assert_eq!(cart.item_count, 2);
        assert_eq!(store.writes_attempted(), 4);
        assert_eq!(store.holds_of(&vase, "ada"), 2);
    }

    #[tokio::test]
    async fn six_lost_races_answer_503_and_write_nothing() {
        let (store, carts, _, vase) = world();
        store.lose_races(MAX_ATTEMPTS);
        let err = carts
            .write_line("ada", &vase, LineChange::Add(1), HOLD)
            .await
            .expect_err("gave up");
        assert_eq!(err.status(), 503);
        assert_eq!(store.writes_attempted(), MAX_ATTEMPTS);
        assert!(store.line("ada", &vase).is_none());
        assert_eq!(store.holds_of(&vase, "ada"), 0);
    }

    #[tokio::test]
    async fn a_store_failure_is_answered_as_is() {
        let (store, carts, _, vase) = world();
        store.fail_writes(1);
        let err = carts
            .write_line("ada", &vase, LineChange::Add(1), HOLD)
            .await
            .expect_err("failed");
        assert_eq!(err.status(), 503);
        assert_eq!(store.writes_attempted(), 1, "a failure is not retried");
    }

    #[tokio::test]
    async fn removing_a_line_releases_its_holds_at_once() {
        let (store, carts, shop, vase) = world();
        let cup = store.add_product(&shop, "Cup", 1200, 3);
        carts
            .write_line("ada", &vase, LineChange::Add(2), HOLD)
            .await
            .expect("vase");
        carts
            .write_line("ada", &cup, LineChange::Add(1), HOLD)
            .await
            .expect("cup");
        let cart = carts
            .remove_line("ada", &vase, HOLD)
            .await
            .expect("removed");
        assert_eq!((cart.item_count, cart.total_cents), (1, 1200 + 500));
        assert_eq!(store.holds_of(&vase, "ada"), 0);
        assert_eq!(
            carts
                .remove_line("ada", &vase, HOLD)
                .await
                .expect_err("gone")
                .status(),
            404
        );
    }

    #[tokio::test]
    async fn a_seller_cannot_hold_their_own_listing() {
        let (store, carts, _, vase) = world();
        for change in [LineChange::Add(1), LineChange::Set(1)] {
            let err = carts
                .write_line("seller", &vase, change, HOLD)
                .await
                .expect_err("own listing");
            assert_eq!((err.status(), err.problem().code), (403, "own_listing"));
        }
        assert_eq!(store.writes_attempted(), 0);
        assert_eq!(store.holds_of(&vase, "seller"), 0);
        assert!(store.line("seller", &vase).is_none());
    }

    #[tokio::test]
    async fn a_cart_holds_at_most_100_units_and_may_always_shrink() {
        let (store, carts, shop, _) = world();
        let jars: Vec<String> = (0..4)
            .map(|i| store.add_product(&shop, &format!("Jar {i}"), 500, 100))
            .collect();
        for (jar, q) in jars.iter().zip([40, 40, 20]) {
            carts
                .write_line("ada", jar, LineChange::Add(q), HOLD)
                .await
                .expect("within the cap");
        }
        let err = carts
            .write_line("ada", &jars[3], LineChange::Add(1), HOLD)
            .await
            .expect_err("101 units");
        let problem = err.problem();
        assert_eq!((problem.status, problem.code), (422, "hold_limit"));
        assert_eq!(
            (&problem.extra["max_units"], &problem.extra["units"]),
            (&serde_json::json!(MAX_CART_UNITS), &serde_json::json!(101))
        );
        assert_eq!(store.holds_of(&jars[3], "ada"), 0);
        let err = carts
            .write_line("ada", &jars[2], LineChange::Set(21), HOLD)
            .await
            .expect_err("growing a line past the cap");
        assert_eq!(err.problem().code, "hold_limit");
        // A cart over the cap (from before it) may still renew and shrink its lines.
        store.put_line(
            "ada",
            Line {
                quantity: 30,
                ..store.line("ada", &jars[2]).expect("line")
            },
        );
        carts
            .write_line("ada", &jars[2], LineChange::Set(30), HOLD)
            .await
            .expect("renewing at 110 units");
        let cart = carts
            .write_line("ada", &jars[2], LineChange::Set(10), HOLD)
            .await
            .expect("shrinking");
        assert_eq!(cart.item_count, 90);
        carts
            .write_line("ada", &jars[3], LineChange::Add(10), HOLD)
            .await
            .expect("back to 100");
    }

    #[tokio::test]
    async fn a_hold_lasts_a_lifetime_and_removing_the_line_does_not_reset_it() {
        let (store, carts, _, vase) = world();
        let policy = HoldPolicy::new(HOLD);
        let now = cart::unix_now();
        carts
            .write_line("ada", &vase, LineChange::Add(1), HOLD)
            .await
            .expect("held");
        let since = store.hold_since("ada", &vase).expect("window");
        assert!((now..now + 5).contains(&since));
        // Renewing near the end of the lifetime holds only until its end.
        store.set_hold_since("ada", &vase, now - policy.lifetime_seconds + 100);
        let cart = carts
            .write_line("ada", &vase, LineChange::Set(1), HOLD)
            .await
            .expect("renewed");
        let expiry = cart.shops[0].items[0]
            .hold_expires_at
            .expect("held")
            .timestamp();
        assert!(expiry <= now + 100, "{expiry} is past the window's end");
        // Past the lifetime: 409 hold_cooldown, for adding and for setting.
        store.set_hold_since("ada", &vase, now - policy.lifetime_seconds - 1);
        for change in [LineChange::Add(1), LineChange::Set(1)] {
            let err = carts
                .write_line("ada", &vase, change, HOLD)
                .await
                .expect_err("cooling down");
            let problem = err.problem();
            assert_eq!((problem.status, problem.code), (409, "hold_cooldown"));
            let retry = problem.extra["retry_after"].as_i64().expect("retry_after");
            assert!((1..=policy.cooldown_seconds).contains(&retry), "{retry}");
        }
        // Removing releases the units at once but keeps the clock; re-adding is still refused.
        let cart = carts
            .remove_line("ada", &vase, HOLD)
            .await
            .expect("removed");
        assert_eq!(cart.item_count, 0);
        assert_eq!(store.holds_of(&vase, "ada"), 0);
        assert_eq!(
            store.hold_since("ada", &vase),
            Some(now - policy.lifetime_seconds - 1)
        );
        assert!(carts.cart("ada").await.expect("cart").shops.is_empty());
        let err = carts
            .write_line("ada", &vase, LineChange::Add(1), HOLD)
            .await
            .expect_err("still cooling down");
        assert_eq!(err.problem().code, "hold_cooldown");
        let cart = carts
            .write_line("bob", &vase, LineChange::Add(40), HOLD)
            .await
            .expect("others may hold it");
        assert_eq!(cart.shops[0].items[0].available, 45, "ada holds none");
        carts
            .remove_line("bob", &vase, HOLD)
            .await
            .expect("bob lets go");
        // After the cool-down, a new window opens over the clock.
        store.set_hold_since("ada", &vase, now - policy.forget_at(0) - 1);
        carts
            .write_line("ada", &vase, LineChange::Add(1), HOLD)
            .await
            .expect("a new window");
        assert!(store.hold_since("ada", &vase).is_some_and(|s| s >= now));
        // A line whose window no longer matters leaves no clock.
        store.set_hold_since("ada", &vase, now - policy.forget_at(0) - 1);
        carts
            .remove_line("ada", &vase, HOLD)
            .await
            .expect("removed");
        assert_eq!(store.hold_since("ada", &vase), None);
    }

    #[tokio::test]
    async fn the_write_quota_is_counted_by_the_write_itself_and_429_past_it() {
        let (store, _, shop, vase) = world();
        let carts = CartService::new(store.clone())
            .with_quotas(Quotas::parse("cart=3/3600").expect("quotas"));
        let cup = store.add_product(&shop, "Cup", 1200, 3);
        carts
            .write_line("ada", &vase, LineChange::Add(1), HOLD)
            .await
            .expect("1");
        carts
            .write_line("ada", &cup, LineChange::Add(1), HOLD)
            .await
            .expect("2");
        // A refused write (409) is not counted: only committed writes are.
        let err = carts
            .write_line("ada", &cup, LineChange::Set(4), HOLD)
            .await
            .expect_err("only 3 cups");
        assert_eq!(err.status(), 409);
        assert_eq!(store.quota_count("ada", QuotaClass::Cart), 2);
        carts
            .remove_line("ada", &cup, HOLD)
            .await
            .expect("3: a removal counts too");
        let writes = store.writes_attempted();
        let err = carts
            .write_line("ada", &vase, LineChange::Set(2), HOLD)
            .await
            .expect_err("the window is full");
        let problem = err.problem();
        assert_eq!((problem.status, problem.code), (429, "rate_limited"));
        assert!(
            matches!(err, Error::TooManyRequests { retry_after, .. } if (1..=3600).contains(&retry_after))
        );
        assert_eq!(store.writes_attempted(), writes, "refused before any write");
        assert_eq!(store.holds_of(&vase, "ada"), 1);
        // Reads are not writes; other buyers have their own window.
        carts.cart("ada").await.expect("read");
        carts
            .write_line("bob", &cup, LineChange::Add(1), HOLD)
            .await
            .expect("bob");
        assert_eq!(store.quota_count("ada", QuotaClass::Cart), 3);
    }

    #[tokio::test]
    async fn two_writes_planned_from_one_cart_version_cannot_both_commit() {
        let (store, carts, shop, vase) = world();
        let cup = store.add_product(&shop, "Cup", 1200, 3);
        carts
            .write_line("ada", &vase, LineChange::Add(1), HOLD)
            .await
            .expect("vase");
        let read = store.read("ada", Some(&cup), None).await.expect("read");
        let line = |q| Line {
            product_id: cup.clone(),
            shop_id: shop.clone(),
            quantity: q,
            title: "Cup".into(),
            price_cents: 1200,
            added_at: Utc::now(),
            hold_since: 0,
        };
        let write = |q| CartWrite {
            user: "ada",
            product_id: &cup,
            plan: Plan::default(),
            now: 0,
            expires_at: 0,
            line: LineWrite::Put {
                line: line(q),
                clock: false,
            },
            version: read.cart.version,
            quota: None,
        };
        assert_eq!(
            store.write(&write(1), Some(&())).await.expect("first"),
            Commit::Committed
        );
        assert_eq!(
            store.write(&write(2), Some(&())).await.expect("second"),
            Commit::LostRace,
            "the cart changed since it was read"
        );
        assert_eq!(store.line("ada", &cup).map(|l| l.quantity), Some(1));
    }

    #[tokio::test]
    async fn a_deleted_product_stays_in_the_cart_and_can_be_removed() {
        let (store, carts, _, vase) = world();
        carts
            .write_line("ada", &vase, LineChange::Add(1), HOLD)
            .await
            .expect("added");
        store.delete_product(&vase);
        let cart = carts.cart("ada").await.expect("read");
        let item = &cart.shops[0].items[0];
        assert_eq!(
            (item.available, item.held, item.price_cents),
            (0, false, 4200)
        );
        let cart = carts
            .remove_line("ada", &vase, HOLD)
            .await
            .expect("removed");
        assert_eq!(cart.item_count, 0);
    }
}
