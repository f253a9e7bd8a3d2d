//! Per-user write quotas: how many writes of a kind one user may make per window, and the
//! `429 rate_limited` (with `Retry-After`) when they are spent.
//!
//! A quota is a fixed window: the store counts a user's writes of one [`QuotaClass`] in the
//! window that contains `now` (one conditional increment), and refuses the write that would go
//! past the limit. Windows are aligned to multiples of their length, so every instance of every
//! function agrees on them without coordination. The counters live in the store (DynamoDB in AWS:
//! one `UpdateItem` per guarded write), not in memory: Lambda runs many instances, and a client
//! that spreads its requests over them must still meet one limit.

use crate::error::Error;
use crate::ports::QuotaStore;
use std::fmt;

/// The kinds of writes that have their own quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QuotaClass {
    /// Adding, setting and removing cart lines.
    Cart,
    /// Checkouts (replays of a completed checkout are not counted).
    Checkout,
    /// Creating and changing shops and listings.
    Listings,
    /// Reviews.
    Reviews,
    /// Adding and removing favorites.
    Favorites,
}

impl QuotaClass {
    pub const ALL: [QuotaClass; 5] = [
        QuotaClass::Cart,
        QuotaClass::Checkout,
        QuotaClass::Listings,
        QuotaClass::Reviews,
        QuotaClass::Favorites,
    ];

    /// The class's name in settings, keys and problems.
    pub fn name(self) -> &'static str {
        match self {
            QuotaClass::Cart => "cart",
            QuotaClass::Checkout => "checkout",
            QuotaClass::Listings => "listings",
            QuotaClass::Reviews => "reviews",
            QuotaClass::Favorites => "favorites",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for QuotaClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// At most `max` writes per `window_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window_seconds: u32,
}

impl Limit {
    pub const fn new(max: u32, window_seconds: u32) -> Self {
        Self {
            max,
            window_seconds,
        }
    }

    /// The window that contains `now` (Unix seconds): `[start, end)`.
    pub fn window(self, now: i64) -> (i64, i64) {
        let len = i64::from(self.window_seconds.max(1));
        let start = now.div_euclid(len) * len;
        (start, start + len)
    }
}

/// The longest window a setting may choose (a day).
pub const WINDOW_MAX_SECONDS: u32 = 86_400;
/// The largest limit a setting may choose.
pub const LIMIT_MAX: u32 = 1_000_000;

/// The limits of every class (`QUOTAS` overrides them; `QUOTAS=off` switches quotas off).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quotas {
    limits: Option<[Limit; 5]>,
}

impl Default for Quotas {
    /// A person never meets these; a script that writes in a loop does:
    /// cart 120 per minute, checkout 20 per minute, listings 3,000 per hour (a bulk import of a
    /// shop's stock), reviews 30 per hour, favorites 120 per minute.
    fn default() -> Self {
        Self {
            limits: Some([
                Limit::new(120, 60),
                Limit::new(20, 60),
                Limit::new(3_000, 3_600),
                Limit::new(30, 3_600),
                Limit::new(120, 60),
            ]),
        }
    }
}

/// A `QUOTAS` setting that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}`: expected `off` or comma-separated `class=max/seconds` (classes: cart, checkout, listings, reviews, favorites; max 1..=1000000, seconds 1..=86400)"
)]
pub struct QuotaSettingError(pub String);

impl Quotas {
    /// No quotas at all.
    pub fn off() -> Self {
        Self { limits: None }
    }

    /// Reads a `QUOTAS` setting: `off`, or overrides of the defaults such as
    /// `cart=300/60,listings=10000/3600`; an empty setting is the defaults.
    pub fn parse(setting: &str) -> Result<Self, QuotaSettingError> {
        let setting = setting.trim();
        if setting.eq_ignore_ascii_case("off") {
            return Ok(Self::off());
        }
        let mut quotas = Self::default();
        let err = || QuotaSettingError(setting.to_owned());
        for part in setting.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, limit) = part.split_once('=').ok_or_else(err)?;
            let class = QuotaClass::ALL
                .into_iter()
                .find(|c| c.name() == name.trim())
                .ok_or_else(err)?;
            let (max, seconds) = limit.split_once('/').ok_or_else(err)?;
            let max: u32 = max.trim().parse().map_err(|_| err())?;
            let seconds: u32 = seconds.trim().parse().map_err(|_| err())?;
            if !(1..=LIMIT_MAX).contains(&max) || !(1..=WINDOW_MAX_SECONDS).contains(&seconds) {
                return Err(err());
            }
            if let Some(limits) = quotas.limits.as_mut() {
                limits[class.index()] = Limit::new(max, seconds);
            }
        }
        Ok(quotas)
    }

    /// The limit of `class`, `None` when quotas are off.
    pub fn limit(&self, class: QuotaClass) -> Option<Limit> {
        self.limits.map(|l| l[class.index()])
    }
}

/// The quota check a write makes before it runs.
#[derive(Debug, Clone)]
pub struct QuotaService<Q> {
    store: Q,
    quotas: Quotas,
}

impl<Q: QuotaStore> QuotaService<Q> {
    pub fn new(store: Q, quotas: Quotas) -> Self {
        Self { store, quotas }
    }

    /// Counts one write of `class` by `user` now; `429 rate_limited` (with the seconds until the
    /// window ends) when the user's window is full. Quotas off: no call at all.
    pub async fn spend(&self, user: &str, class: QuotaClass) -> Result<(), Error> {
        let Some(limit) = self.quotas.limit(class) else {
            return Ok(());
        };
        let now = chrono::Utc::now().timestamp();
        let (start, end) = limit.window(now);
        if self.store.spend(user, class, limit, start).await? {
            Ok(())
        } else {
            Err(rate_limited(class, limit, now, end))
        }
    }
}

/// One write's charge against its quota, applied by the store atomically with the write itself
/// (cart writes and checkouts: one conditional `ADD` inside their transaction, so the quota costs
/// no round trip of its own). The store answers [`Charge::refused`] when the window is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charge {
    pub class: QuotaClass,
    pub limit: Limit,
    /// The window the write counts in: `[window_start, window_end)`.
    pub window_start: i64,
    pub window_end: i64,
    /// When the charge was made (Unix seconds).
    pub now: i64,
}

impl Charge {
    /// Whether a window that already counts `used` writes takes one more.
    pub fn fits(&self, used: u32) -> bool {
        used < self.limit.max
    }

    /// The `429 rate_limited` of this charge's full window.
    pub fn refused(&self) -> Error {
        rate_limited(self.class, self.limit, self.now, self.window_end)
    }
}

impl Quotas {
    /// The charge of one write of `class` at `now`; `None` when quotas are off.
    pub fn charge(&self, class: QuotaClass, now: i64) -> Option<Charge> {
        let limit = self.limit(class)?;
        let (window_start, window_end) = limit.window(now);
        Some(Charge {
            class,
            limit,
            window_start,
            window_end,
            now,
        })
    }
}

/// The `429` of a spent quota.
pub fn rate_limited(class: QuotaClass, limit: Limit, now: i64, window_end: i64) -> Error {
    let retry_after = u64::try_from((window_end - now).max(1)).unwrap_or(1);
    Error::TooManyRequests {
        code: "rate_limited",
        detail: format!(
            "At most {} {class} writes per {} seconds; retry in {retry_after} seconds.",
            limit.max, limit.window_seconds
        ),
        retry_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::FakeQuota;

    #[test]
    fn windows_are_aligned() {
        let l = Limit::new(5, 60);
        assert_eq!(l.window(0), (0, 60));
        assert_eq!(l.window(59), (0, 60));
        assert_eq!(l.window(60), (60, 120));
        assert_eq!(l.window(-1), (-60, 0));
    }

    #[test]
    fn settings() {
        assert_eq!(Quotas::parse("").expect("empty"), Quotas::default());
        assert_eq!(
            Quotas::parse(" OFF ").expect("off").limit(QuotaClass::Cart),
            None
        );
        let q = Quotas::parse("cart=3/10, reviews=1/86400").expect("overrides");
        assert_eq!(q.limit(QuotaClass::Cart), Some(Limit::new(3, 10)));
        assert_eq!(q.limit(QuotaClass::Reviews), Some(Limit::new(1, 86_400)));
        assert_eq!(
            q.limit(QuotaClass::Checkout),
            Quotas::default().limit(QuotaClass::Checkout)
        );
        for bad in [
            "cart",
            "cart=3",
            "cart=0/10",
            "cart=3/0",
            "cart=3/86401",
            "carts=3/10",
            "cart=x/10",
            "cart=2000000/10",
        ] {
            assert!(Quotas::parse(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn the_write_past_the_limit_is_429_with_retry_after_and_others_are_not_affected() {
        let quota = QuotaService::new(
            FakeQuota::default(),
            Quotas::parse("cart=3/3600").expect("quotas"),
        );
        for _ in 0..3 {
            quota
                .spend("alice", QuotaClass::Cart)
                .await
                .expect("within");
        }
        let err = quota
            .spend("alice", QuotaClass::Cart)
            .await
            .expect_err("over");
        let problem = err.problem();
        assert_eq!((problem.status, problem.code), (429, "rate_limited"));
        let Error::TooManyRequests { retry_after, .. } = err else {
            panic!("{err:?}")
        };
        assert!((1..=3600).contains(&retry_after), "{retry_after}");
        // Another user, another class: their own counters.
        quota.spend("bob", QuotaClass::Cart).await.expect("bob");
        quota
            .spend("alice", QuotaClass::Favorites)
            .await
            .expect("favorites");
        // Refused writes are not counted against the next window (the fake counts attempts
        // that were allowed only).
        assert_eq!(quota.store.count("alice", QuotaClass::Cart), 3);
    }

    #[tokio::test]
    async fn quotas_off_make_no_call() {
        let quota = QuotaService::new(FakeQuota::default(), Quotas::off());
        for _ in 0..1000 {
            quota.spend("alice", QuotaClass::Cart).await.expect("off");
        }
        assert_eq!(quota.store.count("alice", QuotaClass::Cart), 0);
    }
}
