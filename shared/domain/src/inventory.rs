//! Inventory holds and availability (a leaf: the catalog and the cart both read it).
//!
//! Every unit of a product's stock is a *slot* `0..quantity`; a buyer's hold on a slot lapses at
//! `expires_at`. The product carries a mirror of its holds, so availability is one read.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One entry of a product's hold mirror.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldEntry {
    /// The buyer holding the slot.
    #[serde(rename = "h")]
    pub holder: String,
    /// Unix seconds after which the hold no longer counts.
    #[serde(rename = "x")]
    pub expires_at: i64,
}

impl HoldEntry {
    pub fn is_live(&self, now: i64) -> bool {
        self.expires_at > now
    }
}

/// A product's holds by slot.
pub type Holds = BTreeMap<u32, HoldEntry>;

/// Units held right now by buyers other than `me` (all buyers when `me` is `None`).
pub fn held_by_others(holds: &Holds, me: Option<&str>, now: i64) -> i64 {
    holds
        .values()
        .filter(|h| h.is_live(now) && Some(h.holder.as_str()) != me)
        .count() as i64
}

/// What `me` (or anyone, for `None`) could hold now: stock minus other buyers' live holds.
pub fn available_to(quantity: i64, holds: &Holds, me: Option<&str>, now: i64) -> i64 {
    (quantity - held_by_others(holds, me, now)).max(0)
}

/// When the first unit held by someone else frees up, if any is held.
pub fn others_hold_until(holds: &Holds, me: Option<&str>, now: i64) -> Option<i64> {
    holds
        .values()
        .filter(|h| h.is_live(now) && Some(h.holder.as_str()) != me)
        .map(|h| h.expires_at)
        .min()
}

/// The earliest expiry of `me`'s live holds, and how many units that covers.
pub fn my_hold(holds: &Holds, me: &str, now: i64) -> (usize, Option<i64>) {
    let live: Vec<i64> = holds
        .values()
        .filter(|h| h.holder == me && h.is_live(now))
        .map(|h| h.expires_at)
        .collect();
    (live.len(), live.iter().copied().min())
}
