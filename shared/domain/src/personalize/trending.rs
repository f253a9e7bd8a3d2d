//! Trending lists as the domain sees them: computed by a scheduled job from the last 72 hours of
//! activity, stored ready to serve.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// A stored trending list: Product objects of the contract, best first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrendingList {
    pub products: Vec<Value>,
    pub computed_at: Option<DateTime<Utc>>,
}

impl TrendingList {
    /// The id of each product, in order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.products
            .iter()
            .filter_map(|p| p.get("id").and_then(Value::as_str))
    }
}

/// What a run of the job did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrendingRun {
    /// Products with activity in the window.
    pub active_products: usize,
    /// Products in the overall list.
    pub trending: usize,
    /// Categories with a list.
    pub categories: usize,
    /// Activity queries made.
    pub queries: usize,
}

/// The most bytes of cards one stored list may hold. A list is one DynamoDB item (400 KB at
/// most), and a card can be large (a 5,000-character description, ten 2 KB image URLs), so the
/// lists are filled in score order until the next card would pass this budget: a list of
/// maximal listings holds fewer cards instead of failing every run. The overall list also
/// carries the names of the categories with lists (at most [`CATEGORIES_MAX`] of 50 characters:
/// under 110 KB), hence its smaller budget.
pub const LIST_BUDGET_BYTES: usize = 300_000;
/// The overall list's budget (see [`LIST_BUDGET_BYTES`]).
pub const ALL_BUDGET_BYTES: usize = 250_000;
/// The most categories with a list of their own.
pub const CATEGORIES_MAX: usize = 2_000;

// The overall list plus the most category names it can carry stays under DynamoDB's 400 KB.
const _: () = assert!(ALL_BUDGET_BYTES + CATEGORIES_MAX * (50 + 6) < 400_000);

/// Trending lists being filled under their size budgets.
#[derive(Debug, Clone, Default)]
pub struct Lists {
    pub all: Vec<Value>,
    pub by_category: std::collections::BTreeMap<String, Vec<Value>>,
    all_bytes: usize,
    category_bytes: std::collections::BTreeMap<String, usize>,
    /// Cards left out of a list because it was full by size (not by count).
    pub over_budget: usize,
}

impl Lists {
    /// Offers the next card (in score order) to the overall list and its category's list, each
    /// taking it while it has room by count and by size.
    pub fn offer(&mut self, category: &str, card: Value) {
        let size = card.to_string().len() + 1;
        if !self.by_category.contains_key(category) && self.by_category.len() >= CATEGORIES_MAX {
            return;
        }
        let list = self.by_category.entry(category.to_owned()).or_default();
        let bytes = self.category_bytes.entry(category.to_owned()).or_default();
        if list.len() < super::TRENDING_PER_CATEGORY {
            if *bytes + size <= LIST_BUDGET_BYTES {
                list.push(card.clone());
                *bytes += size;
            } else {
                self.over_budget += 1;
            }
        }
        if list.is_empty() {
            self.by_category.remove(category);
            self.category_bytes.remove(category);
        }
        if self.all.len() < super::TRENDING_ALL {
            if self.all_bytes + size <= ALL_BUDGET_BYTES {
                self.all.push(card);
                self.all_bytes += size;
            } else {
                self.over_budget += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn card(id: usize, category: &str, description_len: usize) -> Value {
        json!({"id": format!("p{id}"), "category": category, "description": "d".repeat(description_len)})
    }

    #[test]
    fn lists_fill_by_count_with_small_cards() {
        let mut lists = Lists::default();
        for i in 0..100 {
            lists.offer(if i % 2 == 0 { "a" } else { "b" }, card(i, "x", 100));
        }
        assert_eq!(lists.all.len(), super::super::TRENDING_ALL);
        assert_eq!(
            lists.by_category["a"].len(),
            super::super::TRENDING_PER_CATEGORY
        );
        assert_eq!(lists.over_budget, 0);
        // Score order is kept.
        assert_eq!(lists.all[0]["id"], "p0");
        assert_eq!(lists.all[1]["id"], "p1");
    }

    /// Maximal cards (about 42 KB each, the largest a listing can make): every list stays under
    /// its budget, so under DynamoDB's item limit, and holds as many as fit.
    #[test]
    fn maximal_cards_stay_under_the_item_limit() {
        let mut lists = Lists::default();
        for i in 0..50 {
            lists.offer("a", card(i, "a", 42_000));
        }
        let size = |l: &[Value]| serde_json::to_string(l).map(|s| s.len()).unwrap_or(0);
        assert!(size(&lists.all) <= ALL_BUDGET_BYTES, "{}", size(&lists.all));
        assert!(size(&lists.by_category["a"]) <= LIST_BUDGET_BYTES);
        assert_eq!(lists.all.len(), ALL_BUDGET_BYTES / 42_040);
        assert_eq!(lists.by_category["a"].len(), LIST_BUDGET_BYTES / 42_040);
        assert!(lists.over_budget > 0);
    }

    #[test]
    fn categories_are_capped() {
        let mut lists = Lists::default();
        for i in 0..(CATEGORIES_MAX + 10) {
            lists.offer(&format!("c{i}"), card(i, "x", 10));
        }
        assert_eq!(lists.by_category.len(), CATEGORIES_MAX);
    }
}
