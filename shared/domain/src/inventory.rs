//! Inventory holds and availability (a leaf: the catalog and the cart both read it).
//!
//! Every unit of a product's stock is a *slot* `0..quantity`; a buyer's hold on a slot lapses at
//! `expires_at`. The product carries a mirror of its holds, so availability is one read.
//!
//! The mirror lives on the product item, so it is bounded by design, whatever the activity:
//! holds take slots below [`MAX_HELD_UNITS`] only (so the mirror has at most that many entries,
//! lapsed ones included: they sit on those slots too), and an entry names its holder by a
//! fixed-size digest of the user id ([`holder_ref`]), not by the id itself.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The most units of one product held at once, by all buyers together: holds take slots
/// `0..min(quantity, MAX_HELD_UNITS)` ([`holdable`]). With [`holder_ref`] this bounds a product's
/// hold mirror to about 33 KB, so the product item stays far below DynamoDB's 400 KB item limit
/// (`bazaar_aws::records` proves the largest product item fits).
pub const MAX_HELD_UNITS: i64 = 1_000;

/// The units of a product with `quantity` in stock that holds may take: slots `0..holdable`.
pub fn holdable(quantity: i64) -> i64 {
    quantity.clamp(0, MAX_HELD_UNITS)
}

/// How a product's mirror names a buyer: 24 hex characters (96 bits of a UUID v5, i.e. SHA-1,
/// of the user id), the same length whatever the id (up to 128 characters of up to 4 bytes).
/// Which slots are whose is decided by the hold items, which keep the full user id in their
/// conditions; the mirror only counts. A collision (below 2^-70 among the at most 1,000 holders
/// of one product) could at worst make a buyer's plans lose races, never oversell.
pub fn holder_ref(user: &str) -> String {
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x0b5d_6c2e_1f7a_4c39_9e84_52a0_d3c1_77e2);
    let digest = uuid::Uuid::new_v5(&NAMESPACE, user.as_bytes())
        .simple()
        .to_string();
    digest[..HOLDER_REF_LEN].to_owned()
}

/// The length of every [`holder_ref`].
pub const HOLDER_REF_LEN: usize = 24;

/// One entry of a product's hold mirror.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldEntry {
    /// The buyer holding the slot, as [`holder_ref`] names them.
    #[serde(rename = "h")]
    pub holder: String,
    /// Unix seconds after which the hold no longer counts.
    #[serde(rename = "x")]
    pub expires_at: i64,
}

impl HoldEntry {
    /// `user`'s hold until `expires_at`.
    pub fn new(user: &str, expires_at: i64) -> Self {
        Self {
            holder: holder_ref(user),
            expires_at,
        }
    }

    pub fn is_live(&self, now: i64) -> bool {
        self.expires_at > now
    }
}

/// A product's holds by slot.
pub type Holds = BTreeMap<u32, HoldEntry>;

/// Units held right now by buyers other than `me` (a user id; all buyers when `None`).
pub fn held_by_others(holds: &Holds, me: Option<&str>, now: i64) -> i64 {
    let me = me.map(holder_ref);
    holds
        .values()
        .filter(|h| h.is_live(now) && Some(&h.holder) != me.as_ref())
        .count() as i64
}

/// What `me` (or anyone, for `None`) could hold now: the holdable stock ([`holdable`]) minus
/// other buyers' live holds.
pub fn available_to(quantity: i64, holds: &Holds, me: Option<&str>, now: i64) -> i64 {
    (holdable(quantity) - held_by_others(holds, me, now)).max(0)
}

/// The seeds' `InventoryOversell` (namespace `Bazaar`, dimension `service` = [`OVERSELL_SERVICE`]
/// whichever function sees it; template.yaml's InventoryOversellAlarm fires on any).
pub const OVERSELL_METRIC: &str = "InventoryOversell";
/// The `service` dimension of [`OVERSELL_METRIC`].
pub const OVERSELL_SERVICE: &str = "inventory";

/// The metric reporting an oversell when `product_id`'s stock was read below zero (every stock
/// decrement is conditioned on the units being there, so this must never happen); `None` otherwise.
pub fn oversell_metric(product_id: &str, quantity: i64) -> Option<crate::metrics::Metrics> {
    (quantity < 0).then(|| {
        crate::metrics::Metrics::new(OVERSELL_SERVICE)
            .count(OVERSELL_METRIC, 1)
            .property("product_id", product_id)
            .property("quantity", quantity)
    })
}

/// When the first unit held by someone else frees up, if any is held.
pub fn others_hold_until(holds: &Holds, me: Option<&str>, now: i64) -> Option<i64> {
    let me = me.map(holder_ref);
    holds
        .values()
        .filter(|h| h.is_live(now) && Some(&h.holder) != me.as_ref())
        .map(|h| h.expires_at)
        .min()
}

/// The earliest expiry of `me`'s live holds, and how many units that covers.
pub fn my_hold(holds: &Holds, me: &str, now: i64) -> (usize, Option<i64>) {
    let me = holder_ref(me);
    let live: Vec<i64> = holds
        .values()
        .filter(|h| h.holder == me && h.is_live(now))
        .map(|h| h.expires_at)
        .collect();
    (live.len(), live.iter().copied().min())
}

/// The slots `me` (a user id) has entries on, live or lapsed.
pub fn slots_of(holds: &Holds, me: &str) -> Vec<u32> {
    let me = holder_ref(me);
    holds
        .iter()
        .filter(|(_, h)| h.holder == me)
        .map(|(s, _)| *s)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn stock_below_zero_is_reported_as_an_oversell() {
        assert!(super::oversell_metric("p-1", 0).is_none());
        assert!(super::oversell_metric("p-1", 3).is_none());
        let doc = super::oversell_metric("p-1", -2)
            .expect("negative stock is an oversell")
            .to_json();
        let decl = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(decl["Namespace"], crate::metrics::NAMESPACE);
        assert_eq!(decl["Metrics"][0]["Name"], super::OVERSELL_METRIC);
        assert_eq!(doc["service"], super::OVERSELL_SERVICE);
        assert_eq!(doc[super::OVERSELL_METRIC], 1.0);
        assert_eq!(doc["product_id"], "p-1");
        assert_eq!(doc["quantity"], -2);
    }

    use super::*;

    #[test]
    fn holder_refs_have_one_size_whatever_the_id() {
        let longest: String = std::iter::repeat_n('\u{1F9F6}', 128).collect();
        for id in ["a", "ada", "00000000-0000-4000-8000-000000000000", &longest] {
            let r = holder_ref(id);
            assert_eq!(r.len(), HOLDER_REF_LEN, "{id}");
            assert!(r.bytes().all(|b| b.is_ascii_hexdigit()));
            assert_eq!(r, holder_ref(id), "stable");
        }
        assert_ne!(holder_ref("ada"), holder_ref("adb"));
        assert_eq!(HoldEntry::new("ada", 5).holder, holder_ref("ada"));
    }

    #[test]
    fn at_most_max_held_units_count_as_available() {
        assert_eq!(holdable(-3), 0);
        assert_eq!(holdable(7), 7);
        assert_eq!(holdable(10_000), MAX_HELD_UNITS);
        let holds: Holds = (0..10).map(|s| (s, HoldEntry::new("bob", 100))).collect();
        assert_eq!(
            available_to(10_000, &holds, Some("ada"), 0),
            MAX_HELD_UNITS - 10
        );
        assert_eq!(available_to(10_000, &holds, Some("bob"), 0), MAX_HELD_UNITS);
        assert_eq!(
            available_to(10_000, &holds, None, 100),
            MAX_HELD_UNITS,
            "lapsed"
        );
        assert_eq!(slots_of(&holds, "bob").len(), 10);
        assert_eq!(my_hold(&holds, "bob", 0), (10, Some(100)));
    }
}
