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
