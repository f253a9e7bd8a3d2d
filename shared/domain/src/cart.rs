//! Carts and inventory holds: the pure rules (no I/O).
//!
//! Every unit of a product's stock is a *slot* `0..quantity`. A buyer's cart line of `q` units holds
//! `q` slots. The holds are kept on the product item itself (`holds`: slot → holder, expiry),
//! and that map is the hold record: a write takes a slot with a condition on its entry (absent,
//! expired at the write's `now`, or already the buyer's), so an expired hold is simply free again —
//! no sweeper — and holding `q` units of a product is one update of one item, whatever `q`. The
//! map is bounded by design (slots below [`MAX_HELD_UNITS`], holders by [`holder_ref`]).
//!
//! Holds are limited so that a buyer cannot use them as a weapon: a cart holds at most
//! [`MAX_CART_UNITS`] units in all, and a buyer holds one product for at most a hold lifetime
//! ([`HoldPolicy`]: 4 hold periods, an hour by default) from the first hold, renewals included,
//! then not again for a cool-down as long. The start of that window is kept on the cart line and,
//! when the line is removed, on a [`HoldClock`] left in its place, so removing and re-adding the
//! line does not reset it; checking out does.
//!
//! A buyer's cart is one item with a version: every cart write and every checkout is conditioned
//! on the version read and bumps it, so no two of them can interleave, and a checkout empties the
//! cart with one action whatever its size.
//!
//! This module decides *which* slots a request takes, keeps or releases (a [`Plan`]) and renders
//! carts; the holds and availability themselves are [`crate::inventory`]. The DynamoDB adapter turns a plan into one transaction whose
//! conditions make it safe against every concurrent request.

use crate::catalog::{Shipping, rfc3339};
use crate::error::Error;
use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub use crate::inventory::{
    HoldEntry, Holds, MAX_HELD_UNITS, available_to, held_by_others, holdable, holder_ref, my_hold,
    others_hold_until, slots_of,
};

/// The most units one cart line may hold (each unit is one slot condition on the product's update).
pub const MAX_LINE_QUANTITY: i64 = 40;

/// Why a plan cannot be made: the units are not there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    pub available: i64,
    pub held_until: Option<i64>,
}

/// The slot changes of one cart write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Slots `me` holds already and keeps (their expiry is refreshed).
    pub keep: Vec<u32>,
    /// Free slots `me` takes.
    pub take: Vec<u32>,
    /// Slots `me` holds and gives up.
    pub release: Vec<u32>,
    /// Expired mirror entries of other buyers to drop, with the expiry seen (a guard).
    pub prune: Vec<(u32, i64)>,
}

impl Plan {
    /// Slots `me` will hold after the write.
    pub fn held(&self) -> impl Iterator<Item = u32> + '_ {
        self.keep.iter().chain(self.take.iter()).copied()
    }
}

/// The most expired entries one write prunes from a mirror (bounds the expression size).
const PRUNE_MAX: usize = 16;

/// Plans for `me` to hold exactly `want` units of a product with `quantity` in stock.
/// `pick` chooses an index below its argument (random in production, to spread buyers racing for
/// the same product over different free slots; deterministic in tests).
pub fn plan(
    quantity: i64,
    holds: &Holds,
    me: &str,
    want: i64,
    now: i64,
    pick: &mut dyn FnMut(usize) -> usize,
) -> Result<Plan, Unavailable> {
    let available = available_to(quantity, holds, Some(me), now);
    if want > available {
        return Err(Unavailable {
            available,
            held_until: others_hold_until(holds, Some(me), now),
        });
    }
    // Holds take slots below `holdable` only: that bounds the product's mirror.
    let slots = holdable(quantity);
    let in_range = |slot: u32| i64::from(slot) < slots;
    let want = usize::try_from(want.max(0)).unwrap_or(0);
    let me = holder_ref(me);
    // My slots, the live ones in range first: those are kept in preference.
    let mut mine: Vec<u32> = holds
        .iter()
        .filter(|(_, h)| h.holder == me)
        .map(|(s, _)| *s)
        .collect();
    mine.sort_by_key(|s| (!in_range(*s), !holds[s].is_live(now), *s));
    let keepable = mine.iter().take_while(|s| in_range(**s)).count();
    let keep_n = keepable.min(want);
    let mut out = Plan {
        keep: mine[..keep_n].to_vec(),
        release: mine[keep_n..].to_vec(),
        ..Plan::default()
    };
    let mut free: Vec<u32> = (0..u32::try_from(slots).unwrap_or(0))
        .filter(|s| match holds.get(s) {
            None => true,
            Some(h) => h.holder != me && !h.is_live(now),
        })
        .collect();
    for _ in keep_n..want {
        if free.is_empty() {
            // Cannot happen when `want <= available`; refuse rather than oversell.
            return Err(Unavailable {
                available,
                held_until: holds
                    .values()
                    .filter(|h| h.is_live(now) && h.holder != me)
                    .map(|h| h.expires_at)
                    .min(),
            });
        }
        let i = pick(free.len()) % free.len();
        out.take.push(free.swap_remove(i));
    }
    out.take.sort_unstable();
    out.prune = holds
        .iter()
        .filter(|(s, h)| h.holder != me && !h.is_live(now) && !out.take.contains(s))
        .map(|(s, h)| (*s, h.expires_at))
        .take(PRUNE_MAX)
        .collect();
    Ok(out)
}

/// A time from Unix seconds.
pub fn from_unix(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

/// What the cart needs to know about a line's product right now.
#[derive(Debug, Clone)]
pub struct LineProduct {
    pub title: String,
    pub price_cents: i64,
    pub quantity: i64,
    pub holds: Holds,
}

/// What the cart needs to know about a shop.
#[derive(Debug, Clone)]
pub struct LineShop {
    pub name: String,
    pub shipping: Shipping,
}

/// A stored cart line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub product_id: String,
    pub shop_id: String,
    pub quantity: i64,
    /// Title and price when the line was last written, shown if the product has since been deleted.
    pub title: String,
    pub price_cents: i64,
    pub added_at: DateTime<Utc>,
    /// Unix seconds when the buyer's current hold window on the product opened (see
    /// [`HoldPolicy`]).
    pub hold_since: i64,
}

/// What is left of a cart line the buyer removed while its hold window still matters: when the
/// window opened. It is no line (never shown, never checked out); re-adding the product continues
/// the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldClock {
    pub product_id: String,
    pub since: i64,
}

/// A buyer's cart as stored: its lines and its version (0: no cart was ever written). Every cart
/// write and checkout is conditioned on the version read and bumps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredCart {
    pub lines: Vec<Line>,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CartItemView {
    pub product_id: String,
    pub title: String,
    pub price_cents: i64,
    pub quantity: i64,
    /// Units this buyer could have now (stock minus other buyers' live holds).
    pub available: i64,
    /// Whether every unit of the line is held for this buyer right now.
    pub held: bool,
    /// When the line's hold lapses; `null` when it is not held.
    #[serde(serialize_with = "opt_rfc3339")]
    pub hold_expires_at: Option<DateTime<Utc>>,
}

fn opt_rfc3339<S: serde::Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => rfc3339(t, s),
        None => s.serialize_none(),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CartShopView {
    pub shop_id: String,
    pub shop_name: String,
    pub items: Vec<CartItemView>,
    pub subtotal_cents: i64,
    pub shipping_cents: i64,
}

/// The Cart object of the contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CartView {
    pub shops: Vec<CartShopView>,
    pub item_count: i64,
    pub total_cents: i64,
}

/// Renders a cart: lines grouped by shop (in order of first addition), current catalog prices,
/// each line's availability and hold, per-shop shipping by the contract's formula.
pub fn render(
    me: &str,
    lines: &[Line],
    products: &BTreeMap<String, LineProduct>,
    shops: &BTreeMap<String, LineShop>,
    now: i64,
) -> CartView {
    let mut ordered: Vec<&Line> = lines.iter().collect();
    ordered.sort_by(|a, b| (a.added_at, &a.product_id).cmp(&(b.added_at, &b.product_id)));
    let mut groups: Vec<CartShopView> = Vec::new();
    for line in ordered {
        let item = match products.get(&line.product_id) {
            Some(p) => {
                let (held_units, expiry) = my_hold(&p.holds, me, now);
                let held = held_units as i64 >= line.quantity;
                CartItemView {
                    product_id: line.product_id.clone(),
                    title: p.title.clone(),
                    price_cents: p.price_cents,
                    quantity: line.quantity,
                    available: available_to(p.quantity, &p.holds, Some(me), now),
                    held,
                    hold_expires_at: if held { expiry.map(from_unix) } else { None },
                }
            }
            // The product was deleted: the line stays visible, with nothing available.
            None => CartItemView {
                product_id: line.product_id.clone(),
                title: line.title.clone(),
                price_cents: line.price_cents,
                quantity: line.quantity,
                available: 0,
                held: false,
                hold_expires_at: None,
            },
        };
        let index = match groups.iter().position(|g| g.shop_id == line.shop_id) {
            Some(i) => i,
            None => {
                groups.push(CartShopView {
                    shop_id: line.shop_id.clone(),
                    shop_name: shops
                        .get(&line.shop_id)
                        .map(|s| s.name.clone())
                        .unwrap_or_default(),
                    items: Vec::new(),
                    subtotal_cents: 0,
                    shipping_cents: 0,
                });
                groups.len() - 1
            }
        };
        groups[index].items.push(item);
    }
    let mut item_count = 0;
    let mut total_cents = 0;
    for group in &mut groups {
        let units: i64 = group.items.iter().map(|i| i.quantity).sum();
        group.subtotal_cents = group.items.iter().map(|i| i.price_cents * i.quantity).sum();
        group.shipping_cents = shops
            .get(&group.shop_id)
            .map(|s| s.shipping.cost_cents(units))
            .unwrap_or(0);
        item_count += units;
        total_cents += group.subtotal_cents + group.shipping_cents;
    }
    CartView {
        shops: groups,
        item_count,
        total_cents,
    }
}

/// The most lines a cart may have (a cart read is then at most two `BatchGetItem` calls).
pub const MAX_CART_LINES: usize = 100;

/// The most units one cart holds, its lines together (`422 hold_limit` past it). Without it one
/// account could hold 100 lines × 40 units; 100 still fits a full cart of one-of-a-kind items
/// (the marketplace's usual stock), and is what one checkout can buy at most anyway.
pub const MAX_CART_UNITS: i64 = 100;

/// A buyer holds one product for at most this many hold periods in a row (renewals included),
/// without checking out: an hour with the default `HOLD_SECONDS` of 900.
pub const HOLD_LIFETIME_PERIODS: i64 = 4;

/// How long holds last, and how long one buyer may keep holding one product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoldPolicy {
    /// One hold (`HOLD_SECONDS`): how long after an add or a patch the units stay held.
    pub hold_seconds: i64,
    /// The longest a buyer holds one product from their first hold of it, renewals included.
    pub lifetime_seconds: i64,
    /// After the lifetime, how long the buyer may not hold the product again.
    pub cooldown_seconds: i64,
}

/// A buyer's current hold window on a product: holds may be taken until `ends`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub since: i64,
    pub ends: i64,
}

/// A buyer's hold window on a product is over: no holding it again before `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cooldown {
    pub until: i64,
}

impl HoldPolicy {
    /// The policy of holds lasting `hold_seconds`: a lifetime of [`HOLD_LIFETIME_PERIODS`] holds,
    /// and a cool-down as long.
    pub fn new(hold_seconds: i64) -> Self {
        let lifetime_seconds = hold_seconds.saturating_mul(HOLD_LIFETIME_PERIODS);
        Self {
            hold_seconds,
            lifetime_seconds,
            cooldown_seconds: lifetime_seconds,
        }
    }

    /// The window a hold taken at `now` belongs to, given when the buyer's last one opened
    /// (`since`; `None`: never, or forgotten): that one while it runs, a new one once its
    /// cool-down is over, and in between the cool-down.
    pub fn window(&self, since: Option<i64>, now: i64) -> Result<Window, Cooldown> {
        match since {
            Some(since) if now < since.saturating_add(self.lifetime_seconds) => Ok(Window {
                since,
                ends: since.saturating_add(self.lifetime_seconds),
            }),
            Some(since) if now < self.forget_at(since) => Err(Cooldown {
                until: self.forget_at(since),
            }),
            _ => Ok(Window {
                since: now,
                ends: now.saturating_add(self.lifetime_seconds),
            }),
        }
    }

    /// When holds taken at `now` in `window` lapse: one hold period, never past the window.
    pub fn expires_at(&self, window: &Window, now: i64) -> i64 {
        now.saturating_add(self.hold_seconds).min(window.ends)
    }

    /// When a window opened at `since` no longer matters: the end of its cool-down.
    pub fn forget_at(&self, since: i64) -> i64 {
        since
            .saturating_add(self.lifetime_seconds)
            .saturating_add(self.cooldown_seconds)
    }
}

/// The `409 hold_cooldown` problem: `retry_after` seconds and `hold_again_at`.
pub fn cooling_down(cooldown: &Cooldown, policy: &HoldPolicy, now: i64) -> Error {
    let retry_after = (cooldown.until - now).max(1);
    let mut extra = Map::new();
    extra.insert("retry_after".into(), Value::from(retry_after));
    extra.insert(
        "hold_again_at".into(),
        Value::from(from_unix(cooldown.until).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
    );
    Error::Conflict {
        code: "hold_cooldown",
        detail: format!(
            "You have held this item for {} minutes without checking out; you can hold it again in {retry_after} seconds.",
            policy.lifetime_seconds / 60
        ),
        extra,
    }
}

/// The `422 hold_limit` problem for a cart that would hold `units` units.
pub fn hold_limit(units: i64) -> Error {
    let mut extra = Map::new();
    extra.insert("max_units".into(), Value::from(MAX_CART_UNITS));
    extra.insert("units".into(), Value::from(units));
    Error::Unprocessable {
        code: "hold_limit",
        detail: format!("A cart holds at most {MAX_CART_UNITS} units; this would make {units}."),
        extra,
    }
}

/// The `403 own_listing` problem: sellers cannot hold, buy or review their own listings.
pub fn own_listing(detail: impl Into<String>) -> Error {
    Error::Denied {
        code: "own_listing",
        detail: detail.into(),
        extra: Map::new(),
    }
}

/// How a write changes the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineChange {
    /// `POST /cart/items`: add units to the line (creating it).
    Add(i64),
    /// `PATCH /cart/items/{id}`: set the line to this many units (it must exist).
    Set(i64),
}

/// One cart write, applied by a [`CartStore`](crate::ports::CartStore) atomically — all of it
/// or nothing — under these conditions (any failing is a lost race):
/// - every slot of [`Plan::held`] is free, expired at `now`, or already `user`'s;
/// - every slot of [`Plan::release`] is free or `user`'s;
/// - the product exists and has more units than the highest held slot, and every pruned
///   entry still has the expiry seen;
/// - the cart still has the `version` read, so two concurrent writes by one buyer (or a write
///   and a checkout) cannot lose one;
/// - with a `quota` charge, the user's window has room for one more write (else the store
///   answers [`Charge::refused`](crate::quota::Charge::refused)), counted in the same step.
#[derive(Debug, Clone)]
pub struct CartWrite<'a> {
    pub user: &'a str,
    pub product_id: &'a str,
    /// The slot changes (empty when only the line changes).
    pub plan: Plan,
    /// Unix seconds the plan was made at: a hold that lapsed by then may be taken.
    pub now: i64,
    /// When the held slots lapse (Unix seconds).
    pub expires_at: i64,
    pub line: LineWrite,
    /// The cart's version as read ([`StoredCart::version`]).
    pub version: i64,
    /// The write quota this write spends, if quotas are on.
    pub quota: Option<crate::quota::Charge>,
}

/// What a cart write does to the buyer's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineWrite {
    /// Writes the line (`clock`: a removed line's [`HoldClock`] of the product was read, and goes).
    Put { line: Line, clock: bool },
    /// Removes the line, leaving a [`HoldClock`] in its place when `keep` says so.
    Remove { keep: Option<KeptClock> },
}

/// The [`HoldClock`] a removed line leaves: its window's start, and when it may be forgotten
/// (the end of the cool-down; DynamoDB's TTL tidies it then).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeptClock {
    pub since: i64,
    pub until: i64,
}

/// A uniformly random index below `n` (0 for `n <= 1`): the `pick` of [`plan`] in production,
/// spreading buyers who race for one product over different free slots.
pub fn random_pick(n: usize) -> usize {
    if n <= 1 {
        return 0;
    }
    let b = *uuid::Uuid::new_v4().as_bytes();
    (u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) % n as u64) as usize
}

/// The current time in Unix seconds, as holds compare it.
pub fn unix_now() -> i64 {
    Utc::now().timestamp()
}

/// The `409 unavailable` problem for a line that wanted `wanted` units.
pub fn unavailable(u: &Unavailable, wanted: i64) -> Error {
    let mut extra = Map::new();
    extra.insert("available".into(), Value::from(u.available));
    if let Some(until) = u.held_until {
        extra.insert(
            "held_until".into(),
            Value::from(from_unix(until).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        );
    }
    let detail = if u.held_until.is_some() {
        format!(
            "Only {} of the {wanted} units requested can be held now: someone else is checking out with this item. It may become available soon.",
            u.available
        )
    } else {
        format!(
            "Only {} of the {wanted} units requested are in stock.",
            u.available
        )
    };
    Error::Conflict {
        code: "unavailable",
        detail,
        extra,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn holds(entries: &[(u32, &str, i64)]) -> Holds {
        entries
            .iter()
            .map(|(s, h, x)| (*s, HoldEntry::new(h, *x)))
            .collect()
    }

    fn first(_: usize) -> usize {
        0
    }

    #[test]
    fn a_unique_item_is_held_once() {
        let now = 1000;
        let p = plan(1, &Holds::new(), "a", 1, now, &mut first).expect("free");
        assert_eq!(p.take, [0]);
        let h = holds(&[(0, "a", now + 900)]);
        let err = plan(1, &h, "b", 1, now, &mut first).expect_err("held by a");
        assert_eq!(
            err,
            Unavailable {
                available: 0,
                held_until: Some(now + 900)
            }
        );
        // a refreshes its own hold
        let p = plan(1, &h, "a", 1, now, &mut first).expect("mine");
        assert_eq!((p.keep.as_slice(), p.take.as_slice()), (&[0][..], &[][..]));
        // after expiry, b takes it and nobody sweeps
        let p = plan(1, &h, "b", 1, now + 901, &mut first).expect("expired");
        assert_eq!(p.take, [0]);
        assert!(
            p.prune.is_empty(),
            "the taken slot is overwritten, not pruned"
        );
    }

    #[test]
    fn stock_is_shared_per_unit() {
        let now = 0;
        let h = holds(&[(0, "a", 100), (2, "b", 100), (1, "c", -5)]);
        assert_eq!(available_to(3, &h, None, now), 1);
        assert_eq!(available_to(3, &h, Some("a"), now), 2);
        let p = plan(3, &h, "d", 1, now, &mut first).expect("one left");
        assert_eq!(p.take, [1]);
        assert!(plan(3, &h, "d", 2, now, &mut first).is_err());
        // a grows from 1 to 2 units: keeps slot 0, takes slot 1
        let p = plan(3, &h, "a", 2, now, &mut first).expect("two");
        assert_eq!((p.keep.as_slice(), p.take.as_slice()), (&[0][..], &[1][..]));
    }

    #[test]
    fn shrinking_releases_and_stock_cuts_move_holds() {
        let now = 0;
        let h = holds(&[(0, "a", 100), (1, "a", 100), (2, "a", 100)]);
        let p = plan(3, &h, "a", 1, now, &mut first).expect("shrink");
        assert_eq!(
            (p.keep.as_slice(), p.release.as_slice()),
            (&[0][..], &[1, 2][..])
        );
        // the seller cut stock to 2: slot 2 is out of range, so it is released
        let p = plan(2, &h, "a", 2, now, &mut first).expect("fits");
        assert_eq!(
            (p.keep.as_slice(), p.release.as_slice()),
            (&[0, 1][..], &[2][..])
        );
    }

    #[test]
    fn expired_entries_of_others_are_pruned() {
        let h = holds(&[(0, "x", 1), (1, "y", 2), (2, "z", 500)]);
        let p = plan(5, &h, "me", 1, 10, &mut first).expect("ok");
        assert_eq!(p.take, [0]);
        assert_eq!(p.prune, [(1, 2)]);
    }

    #[test]
    fn holds_stay_below_max_held_units_whatever_the_stock() {
        let now = 0;
        let cap = u32::try_from(MAX_HELD_UNITS).expect("fits");
        // Others hold 990 of the 1,000 holdable units of a 10,000-unit product.
        let mut h: Holds = (0..cap - 10)
            .map(|s| (s, HoldEntry::new("other", 100)))
            .collect();
        let err = plan(10_000, &h, "me", 11, now, &mut first).expect_err("only 10 holdable");
        assert_eq!(err.available, 10);
        assert_eq!(err.held_until, Some(100));
        let p = plan(10_000, &h, "me", 10, now, &mut first).expect("the last 10");
        assert!(p.take.iter().all(|s| *s >= cap - 10 && *s < cap), "{p:?}");
        // A slot of mine past the bound (an older mirror) is released, and replaced below it.
        h.insert(cap + 5, HoldEntry::new("me", 100));
        let p = plan(10_000, &h, "me", 1, now, &mut first).expect("moved");
        assert_eq!(p.release, [cap + 5]);
        assert!(p.take.iter().all(|s| *s < cap));
        // Lapsed entries are retaken in place: the mirror never has more than `cap` entries.
        let lapsed: Holds = (0..cap).map(|s| (s, HoldEntry::new("gone", -1))).collect();
        let p = plan(10_000, &lapsed, "me", 40, now, &mut first).expect("lapsed are free");
        assert!(p.take.iter().all(|s| lapsed.contains_key(s)));
    }

    #[test]
    fn a_hold_window_lasts_four_holds_then_cools_down_as_long() {
        let policy = HoldPolicy::new(900);
        assert_eq!(
            (policy.lifetime_seconds, policy.cooldown_seconds),
            (3600, 3600)
        );
        // A first hold opens a window; renewals stay in it and never lapse past its end.
        let w = policy.window(None, 1000).expect("open");
        assert_eq!(
            w,
            Window {
                since: 1000,
                ends: 4600
            }
        );
        assert_eq!(policy.expires_at(&w, 1000), 1900);
        let w = policy.window(Some(1000), 4000).expect("still open");
        assert_eq!(policy.expires_at(&w, 4000), 4600, "capped by the window");
        // After the lifetime: the cool-down, until the window is forgotten.
        assert_eq!(
            policy.window(Some(1000), 4600),
            Err(Cooldown { until: 8200 })
        );
        assert_eq!(
            policy.window(Some(1000), 8199),
            Err(Cooldown { until: 8200 })
        );
        assert_eq!(policy.forget_at(1000), 8200);
        assert_eq!(
            policy.window(Some(1000), 8200),
            Ok(Window {
                since: 8200,
                ends: 11_800
            })
        );
        let problem = cooling_down(&Cooldown { until: 8200 }, &policy, 5000).problem();
        assert_eq!((problem.status, problem.code), (409, "hold_cooldown"));
        assert_eq!(problem.extra["retry_after"], 3200);
        assert!(problem.extra["hold_again_at"].is_string());
        let problem = hold_limit(101).problem();
        assert_eq!((problem.status, problem.code), (422, "hold_limit"));
        assert_eq!(problem.extra["max_units"], MAX_CART_UNITS);
        assert_eq!(own_listing("mine").problem().code, "own_listing");
        assert_eq!(own_listing("mine").status(), 403);
    }

    #[test]
    fn carts_group_by_shop_with_shipping() {
        let now = 100;
        let t = |s: i64| from_unix(s);
        let lines = vec![
            Line {
                product_id: "p1".into(),
                shop_id: "s1".into(),
                quantity: 1,
                title: "A".into(),
                price_cents: 1,
                added_at: t(1),
                hold_since: 1,
            },
            Line {
                product_id: "p2".into(),
                shop_id: "s2".into(),
                quantity: 2,
                title: "B".into(),
                price_cents: 1,
                added_at: t(2),
                hold_since: 2,
            },
            Line {
                product_id: "p3".into(),
                shop_id: "s1".into(),
                quantity: 1,
                title: "C".into(),
                price_cents: 700,
                added_at: t(3),
                hold_since: 3,
            },
        ];
        let products: BTreeMap<String, LineProduct> = [
            ("p1", 2500, 1, holds(&[(0, "me", 500)])),
            (
                "p2",
                1000,
                5,
                holds(&[(0, "me", 500), (1, "me", 500), (2, "other", 500)]),
            ),
        ]
        .into_iter()
        .map(|(id, price, q, h)| {
            (
                id.to_owned(),
                LineProduct {
                    title: id.to_uppercase(),
                    price_cents: price,
                    quantity: q,
                    holds: h,
                },
            )
        })
        .collect();
        let shops: BTreeMap<String, LineShop> =
            [("s1", "Shop One", 500, 150), ("s2", "Shop Two", 300, 0)]
                .into_iter()
                .map(|(id, name, base, extra)| {
                    (
                        id.to_owned(),
                        LineShop {
                            name: name.into(),
                            shipping: Shipping {
                                base_cents: base,
                                per_extra_item_cents: extra,
                            },
                        },
                    )
                })
                .collect();
        let cart = render("me", &lines, &products, &shops, now);
        assert_eq!(cart.shops.len(), 2);
        let s1 = &cart.shops[0];
        assert_eq!((s1.shop_name.as_str(), s1.items.len()), ("Shop One", 2));
        assert_eq!(
            s1.subtotal_cents,
            2500 + 700,
            "a deleted product keeps its last price"
        );
        assert_eq!(s1.shipping_cents, 500 + 150);
        assert_eq!(s1.items[1].available, 0);
        assert!(!s1.items[1].held);
        assert_eq!(s1.items[0].hold_expires_at, Some(t(500)));
        let s2 = &cart.shops[1];
        assert_eq!((s2.subtotal_cents, s2.shipping_cents), (2000, 300));
        assert_eq!(s2.items[0].available, 4);
        assert_eq!(cart.item_count, 4);
        assert_eq!(cart.total_cents, 3200 + 650 + 2300);
        // once the holds lapse, the line is still there, unheld
        let later = render("me", &lines, &products, &shops, 600);
        assert!(!later.shops[0].items[0].held);
        assert_eq!(later.shops[0].items[0].hold_expires_at, None);
        assert_eq!(later.shops[0].items[0].quantity, 1);
    }

    proptest! {
        /// Whatever the holds, a plan never gives `me` more slots than stock minus others' live
        /// holds, never takes a live slot of someone else, and never uses a slot out of range.
        #[test]
        fn plans_never_oversell(
            quantity in 0i64..12,
            entries in prop::collection::vec((0u32..14, 0usize..4, -50i64..50), 0..14),
            want in 0i64..14,
            seed in any::<u64>(),
        ) {
            let names = ["me", "b", "c", "d"];
            let h: Holds = entries.iter().map(|(s, who, x)| (*s, HoldEntry::new(names[*who], *x))).collect();
            let mut state = seed;
            let mut pick = |n: usize| { state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); (state >> 33) as usize % n.max(1) };
            match plan(quantity, &h, "me", want, 0, &mut pick) {
                Ok(p) => {
                    let held: Vec<u32> = p.held().collect();
                    prop_assert_eq!(held.len() as i64, want);
                    for s in &held {
                        prop_assert!(i64::from(*s) < holdable(quantity));
                        if let Some(e) = h.get(s) { prop_assert!(e.holder == holder_ref("me") || !e.is_live(0)); }
                    }
                    let mut dedup = held.clone(); dedup.sort_unstable(); dedup.dedup();
                    prop_assert_eq!(dedup.len(), held.len());
                    prop_assert!(want <= available_to(quantity, &h, Some("me"), 0));
                    for s in &p.release { prop_assert_eq!(&h[s].holder, &holder_ref("me")); }
                }
                Err(u) => prop_assert!(want > u.available),
            }
        }
    }
}
