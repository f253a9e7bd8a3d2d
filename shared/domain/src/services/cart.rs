//! The cart use cases: add to a line or set it (holding every unit), remove it (releasing its
//! holds at once), read the cart.
//!
//! A write reads the buyer's lines and the product (with its holds), checks the limits
//! ([`MAX_LINE_QUANTITY`] units per line, [`MAX_CART_LINES`] lines), plans which slots to take,
//! keep and release ([`cart::plan`]) and hands the store one [`CartWrite`], which is applied
//! atomically under conditions that make it safe against every concurrent request. Nothing is
//! decided by a read alone: when another request got there first the store answers
//! [`Commit::LostRace`], and the write is planned again from fresh reads, up to
//! [`MAX_ATTEMPTS`] times (then `503`, retryable).
//!
//! Round trips per write: lines, product, the write, the render read (`4`); per read: `2`.

use crate::cart::{
    self, CartView, CartWrite, Line, LineChange, LineProduct, LineShop, LineWrite, MAX_CART_LINES,
    MAX_LINE_QUANTITY, Plan,
};
use crate::error::{Error, Resource};
use crate::ports::{CartStore, Commit};
use chrono::Utc;
use std::collections::BTreeMap;

/// How often a write is planned again after losing a race before giving up with `503`.
pub const MAX_ATTEMPTS: usize = 6;

/// The cart rules over a [`CartStore`].
#[derive(Debug, Clone)]
pub struct CartService<S> {
    store: S,
}

impl<S: CartStore> CartService<S> {
    pub fn new(store: S) -> Self {
        Self { store }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// Adds units to the buyer's line (`LineChange::Add`) or sets it (`LineChange::Set`),
    /// holding every unit for `hold_seconds`. `404` for an unknown product (or, for `Set`, a
    /// product not in the cart), `409 unavailable` when the units cannot be held, `422` past the
    /// line or cart limits, `503` after [`MAX_ATTEMPTS`] lost races. Answers the whole cart.
    pub async fn write_line(
        &self,
        user: &str,
        product_id: &str,
        change: LineChange,
        hold_seconds: i64,
    ) -> Result<CartView, Error> {
        for _ in 0..MAX_ATTEMPTS {
            let mut lines = self.store.lines(user).await?;
            let now = cart::unix_now();
            let Some((product, seen)) = self.store.product(product_id).await? else {
                return Err(Error::not_found(Resource::Product, product_id));
            };
            let index = lines.iter().position(|l| l.product_id == product_id);
            let current = index.and_then(|i| lines.get(i)).map(|l| l.quantity);
            let want = wanted(change, current, product_id)?;
            if index.is_none() && lines.len() >= MAX_CART_LINES {
                return Err(Error::validation(
                    "product_id",
                    format!("a cart holds at most {MAX_CART_LINES} different products"),
                ));
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
            };
            let write = CartWrite {
                user,
                product_id,
                plan,
                now,
                expires_at: now + hold_seconds,
                line: LineWrite::Put {
                    line: line.clone(),
                    seen: current,
                },
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

    /// Removes the line and releases the buyer's holds on its product at once. `404` when the
    /// cart has no such line. Answers the whole cart.
    pub async fn remove_line(&self, user: &str, product_id: &str) -> Result<CartView, Error> {
        for _ in 0..MAX_ATTEMPTS {
            let mut lines = self.store.lines(user).await?;
            let now = cart::unix_now();
            let Some(index) = lines.iter().position(|l| l.product_id == product_id) else {
                return Err(Error::not_found(Resource::Product, product_id));
            };
            let product = self.store.product(product_id).await?;
            // Every slot the buyer holds goes, live or lapsed; a deleted product has none.
            let plan = Plan {
                release: product.as_ref().map_or_else(Vec::new, |(p, _)| {
                    p.holds
                        .iter()
                        .filter(|(_, h)| h.holder == user)
                        .map(|(s, _)| *s)
                        .collect()
                }),
                ..Plan::default()
            };
            let write = CartWrite {
                user,
                product_id,
                plan,
                now,
                expires_at: now,
                line: LineWrite::Remove {
                    seen: lines[index].quantity,
                },
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
        let lines = self.store.lines(user).await?;
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
        let cart = carts.remove_line("ada", &vase).await.expect("removed");
        assert_eq!((cart.item_count, cart.total_cents), (1, 1200 + 500));
        assert_eq!(store.holds_of(&vase, "ada"), 0);
        assert_eq!(
            carts
                .remove_line("ada", &vase)
                .await
                .expect_err("gone")
                .status(),
            404
        );
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
        let cart = carts.remove_line("ada", &vase).await.expect("removed");
        assert_eq!(cart.item_count, 0);
    }
}
