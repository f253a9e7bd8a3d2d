//! Personalization from sparse signals: favorites, views, trending, the home feed and "customers
//! also bought" — the pure rules (who is at cold start, what the user seems to like, how activity
//! decays). The stores are ports (`crate::ports`); the feed's assembly is `crate::services::feed`.

pub mod also_bought;
pub mod favorites;
pub mod trending;

use chrono::{DateTime, Duration, Timelike, Utc};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Cold start (the seeds): fewer than this many favorites...
pub const COLD_START_FAVORITES: usize = 3;
/// ...and fewer than this many viewed products (among the newest [`VIEWS_READ`]).
pub const COLD_START_VIEWS: usize = 5;
/// How many of a user's newest views the feed reads (the seed's `LIMIT 50`).
pub const VIEWS_READ: i32 = 50;
/// How long a view is kept (DynamoDB TTL).
pub const VIEW_TTL_DAYS: i64 = 30;
/// Favorites per user and kind; one more is `422 favorites_limit`. Keeps `GET /favorites` to one
/// page of favorites and at most three `BatchGetItem`s.
pub const FAVORITES_MAX: i64 = 100;
/// The "More in …" price cap: 1.5 × the user's average price (the seeds).
pub const PRICE_CAP_FACTOR: f64 = 1.5;
/// Products per feed section (the seed slices 8).
pub const SECTION_SIZE: usize = 8;
/// "More in …" sections (the seed's two top categories).
pub const CATEGORY_SECTIONS: usize = 2;
/// Tags of the newest favorites that describe "similar to your favorites".
pub const FAVORITE_TAGS: usize = 8;
/// How many of the newest favorites those tags come from (the seed's `favorites.slice(0, 5)`).
pub const FAVORITES_FOR_SIMILAR: usize = 5;
/// "Customers also bought" looks back this many days (the seed's 90-day window).
pub const ALSO_BOUGHT_DAYS: i64 = 90;
/// Products answered by `GET /products/{id}/recommendations`.
pub const RECOMMENDATIONS: usize = 12;

/// Trending: weight of one view, one favorite and one unit sold.
pub const VIEW_WEIGHT: f64 = 1.0;
pub const FAVORITE_WEIGHT: f64 = 3.0;
pub const SALE_WEIGHT: f64 = 5.0;
/// Trending: activity loses half its weight every this many hours...
pub const HALF_LIFE_HOURS: f64 = 24.0;
/// ...and is not counted at all after this many hours.
pub const TRENDING_WINDOW_HOURS: i64 = 72;
/// Activity partitions per hour (spreads a busy hour's writes over several partitions).
pub const ACTIVITY_SHARDS: u32 = 4;
/// Products kept in the overall trending list and in each category's.
pub const TRENDING_ALL: usize = 24;
pub const TRENDING_PER_CATEGORY: usize = 12;

/// The hour bucket of `at` (`yyyymmddhh`): activity is counted per hour.
pub fn hour(at: DateTime<Utc>) -> String {
    format!("{}{:02}", at.format("%Y%m%d"), at.hour())
}

/// A product's activity shard: a stable FNV-1a hash of its id.
pub fn shard(product: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in product.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h % ACTIVITY_SHARDS
}

/// What a favorite or a view tells about a user's taste (a snapshot of the product when it
/// happened).
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    pub product_id: String,
    pub shop_id: String,
    pub category: String,
    pub price_cents: i64,
    pub tags: Vec<String>,
    pub at: DateTime<Utc>,
}

/// What the feed knows about a user.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Profile {
    /// Fewer than 3 favorites and fewer than 5 viewed products: show trending.
    pub cold_start: bool,
    /// Every favorited product: never suggested.
    pub favorites: HashSet<String>,
    /// At most [`CATEGORY_SECTIONS`], strongest first (a favorite weighs 3 views).
    pub top_categories: Vec<String>,
    /// 1.5 × the average price of favorited and viewed products.
    pub price_cap_cents: Option<i64>,
    /// The most frequent tags of the newest favorites.
    pub favorite_tags: Vec<String>,
    /// Viewed products, newest first, each once.
    pub recent: Vec<String>,
}

impl Profile {
    /// Builds the profile from the user's favorites (any order) and newest views (any order).
    pub fn build(favorites: &[Signal], views: &[Signal]) -> Profile {
        let mut views: Vec<&Signal> = views.iter().collect();
        views.sort_by_key(|v| std::cmp::Reverse(v.at));
        let mut seen = HashSet::new();
        let recent: Vec<&Signal> = views
            .into_iter()
            .filter(|v| seen.insert(v.product_id.as_str()))
            .collect();
        let cold_start = favorites.len() < COLD_START_FAVORITES && recent.len() < COLD_START_VIEWS;

        let mut weights: HashMap<&str, f64> = HashMap::new();
        for f in favorites {
            *weights.entry(f.category.as_str()).or_default() += FAVORITE_WEIGHT;
        }
        for v in &recent {
            *weights.entry(v.category.as_str()).or_default() += VIEW_WEIGHT;
        }
        let mut categories: Vec<(&str, f64)> = weights.into_iter().collect();
        categories.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));

        let prices: Vec<i64> = favorites
            .iter()
            .map(|f| f.price_cents)
            .chain(recent.iter().map(|v| v.price_cents))
            .collect();
        let price_cap_cents = (!prices.is_empty()).then(|| {
            let avg = prices.iter().sum::<i64>() as f64 / prices.len() as f64;
            (avg * PRICE_CAP_FACTOR).round() as i64
        });

        let mut newest: Vec<&Signal> = favorites.iter().collect();
        newest.sort_by_key(|f| std::cmp::Reverse(f.at));
        let mut tag_counts: Vec<(String, usize, usize)> = Vec::new(); // tag, count, first seen
        for (i, tag) in newest
            .iter()
            .take(FAVORITES_FOR_SIMILAR)
            .flat_map(|f| f.tags.iter())
            .enumerate()
        {
            let tag = tag.trim().to_lowercase();
            if tag.is_empty() {
                continue;
            }
            match tag_counts.iter_mut().find(|(t, _, _)| *t == tag) {
                Some(entry) => entry.1 += 1,
                None => tag_counts.push((tag, 1, i)),
            }
        }
        tag_counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));

        Profile {
            cold_start,
            favorites: favorites.iter().map(|f| f.product_id.clone()).collect(),
            top_categories: categories
                .into_iter()
                .take(CATEGORY_SECTIONS)
                .map(|(c, _)| c.to_owned())
                .collect(),
            price_cap_cents,
            favorite_tags: tag_counts
                .into_iter()
                .take(FAVORITE_TAGS)
                .map(|(t, _, _)| t)
                .collect(),
            recent: recent.iter().map(|v| v.product_id.clone()).collect(),
        }
    }
}

/// One hour of one product's activity.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Activity {
    pub views: i64,
    pub favorites: i64,
    pub sales: i64,
}

impl Activity {
    /// The hour's weight before decay (never negative: an unfavorite cancels a favorite).
    pub fn weight(&self) -> f64 {
        (self.views as f64 * VIEW_WEIGHT
            + self.favorites as f64 * FAVORITE_WEIGHT
            + self.sales as f64 * SALE_WEIGHT)
            .max(0.0)
    }
}

/// The decay of activity `age_hours` old: `0.5^(age / half-life)`.
pub fn decay(age_hours: f64) -> f64 {
    0.5f64.powf(age_hours.max(0.0) / HALF_LIFE_HOURS)
}

/// The hours the trending job reads: the current one and the `TRENDING_WINDOW_HOURS - 1` before,
/// each with its age in hours (measured from the start of the hour).
pub fn trending_hours(now: DateTime<Utc>) -> Vec<(String, f64)> {
    let start = now
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(now);
    (0..TRENDING_WINDOW_HOURS)
        .map(|h| {
            let hour = start - Duration::hours(h);
            (
                crate::personalize::hour(hour),
                (now - hour).num_seconds() as f64 / 3600.0,
            )
        })
        .collect()
}

/// Trending scores: each product's activity, weighted and decayed by its hour's age, summed.
/// Products whose score is not positive are left out. Sorted best first (ties by id).
pub fn trending_scores(hours: &[(f64, HashMap<String, Activity>)]) -> Vec<(String, f64)> {
    let mut scores: BTreeMap<&str, f64> = BTreeMap::new();
    for (age, products) in hours {
        let factor = decay(*age);
        for (id, activity) in products {
            *scores.entry(id.as_str()).or_default() += activity.weight() * factor;
        }
    }
    let mut scores: Vec<(String, f64)> = scores
        .into_iter()
        .filter(|(_, s)| *s > 1e-9)
        .map(|(id, s)| (id.to_owned(), s))
        .collect();
    scores.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scores
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(id: &str, category: &str, price: i64, tags: &[&str], minutes_ago: i64) -> Signal {
        Signal {
            product_id: id.into(),
            shop_id: "s".into(),
            category: category.into(),
            price_cents: price,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            at: Utc::now() - Duration::minutes(minutes_ago),
        }
    }

    #[test]
    fn cold_start_is_fewer_than_three_favorites_and_five_viewed_products() {
        let favs = |n: usize| -> Vec<Signal> {
            (0..n)
                .map(|i| signal(&format!("f{i}"), "jewelry", 1000, &[], i as i64))
                .collect()
        };
        let views = |n: usize| -> Vec<Signal> {
            (0..n)
                .map(|i| signal(&format!("v{i}"), "art", 1000, &[], i as i64))
                .collect()
        };
        assert!(Profile::build(&[], &[]).cold_start);
        assert!(Profile::build(&favs(2), &views(4)).cold_start);
        assert!(!Profile::build(&favs(3), &[]).cold_start);
        assert!(!Profile::build(&[], &views(5)).cold_start);
        // Five views of one product are one viewed product.
        let same: Vec<Signal> = (0..5).map(|i| signal("v", "art", 1000, &[], i)).collect();
        let profile = Profile::build(&[], &same);
        assert!(profile.cold_start);
        assert_eq!(profile.recent, vec!["v".to_owned()]);
    }

    #[test]
    fn profile_weights_favorites_over_views_and_caps_the_price() {
        let favorites = vec![
            signal("f1", "jewelry", 4000, &["Silver", "ring"], 3),
            signal("f2", "jewelry", 2000, &["silver", "boho"], 2),
        ];
        let views = vec![
            signal("v1", "art", 1000, &[], 1),
            signal("v2", "art", 1000, &[], 5),
            signal("v3", "home", 2000, &[], 4),
            signal("v1", "art", 1000, &[], 9),
        ];
        let p = Profile::build(&favorites, &views);
        // jewelry 2 × 3 = 6 > art 2 × 1 > home 1
        assert_eq!(p.top_categories, vec!["jewelry", "art"]);
        // (4000 + 2000 + 1000 + 1000 + 2000) / 5 × 1.5 = 3000
        assert_eq!(p.price_cap_cents, Some(3000));
        assert_eq!(p.favorite_tags[0], "silver");
        assert_eq!(p.favorite_tags.len(), 3);
        assert_eq!(p.recent, vec!["v1", "v3", "v2"]);
        assert!(p.favorites.contains("f1") && p.favorites.contains("f2"));
    }

    #[test]
    fn activity_decays_by_half_every_day() {
        assert!((decay(0.0) - 1.0).abs() < 1e-12);
        assert!((decay(24.0) - 0.5).abs() < 1e-12);
        assert!((decay(48.0) - 0.25).abs() < 1e-12);
        let hour = |pairs: &[(&str, Activity)]| -> HashMap<String, Activity> {
            pairs.iter().map(|(k, a)| ((*k).to_owned(), *a)).collect()
        };
        let views = |n| Activity {
            views: n,
            ..Activity::default()
        };
        // 10 views two days ago (2.5) lose to 3 views now (3) and to one favorite now (3, ties by id).
        let scores = trending_scores(&[
            (
                0.5,
                hour(&[
                    ("now", views(3)),
                    (
                        "fav",
                        Activity {
                            favorites: 1,
                            ..Activity::default()
                        },
                    ),
                ]),
            ),
            (48.0, hour(&[("old", views(10))])),
            (
                1.0,
                hour(&[(
                    "gone",
                    Activity {
                        favorites: -1,
                        ..Activity::default()
                    },
                )]),
            ),
        ]);
        let ids: Vec<&str> = scores.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, vec!["fav", "now", "old"]);
        assert!((scores[2].1 - 2.5).abs() < 1e-9);
    }

    #[test]
    fn the_window_is_72_hours_newest_first() {
        let now = DateTime::parse_from_rfc3339("2026-11-21T10:20:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let hours = trending_hours(now);
        assert_eq!(hours.len(), 72);
        assert_eq!(hours[0].0, "2026112110");
        assert_eq!(hours[1].0, "2026112109");
        assert_eq!(hours[71].0, "2026111811");
        assert!(hours.windows(2).all(|w| w[0].1 < w[1].1));
    }

    #[test]
    fn shards_are_stable_and_spread() {
        assert_eq!(shard("abc"), shard("abc"));
        let used: HashSet<u32> = (0..100).map(|i| shard(&format!("p{i}"))).collect();
        assert_eq!(used.len() as u32, ACTIVITY_SHARDS);
    }
}
