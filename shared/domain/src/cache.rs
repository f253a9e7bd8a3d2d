//! The per-instance cache of hot reads: [`Cached`], a bounded map of values that stay fresh for a
//! fixed time, loaded **single-flight** (one load per key at a time; concurrent readers of that
//! key await it and share its value), and the port decorators built on it
//! ([`CachedCatalog`]: shops; [`CachedFeed`]: the stored trending lists).
//!
//! A function builds its decorators once per cold start, so a burst of reads of one hot key costs
//! one store read per instance per freshness window. Errors are never cached: the next reader
//! loads again. Each decorator states its freshness bound ([`SHOP_FRESHNESS`],
//! [`TRENDING_FRESHNESS`]); a write through the decorator drops the written key at once (other
//! instances see it when their copy ages out).
//!
//! Products are *not* cached here: their availability changes with every hold, taken by other
//! functions, and the contract shows it honestly; HTTP caching bounds their staleness instead.

use crate::catalog::{Product, Shop};
use crate::error::Error;
use crate::personalize::Signal;
use crate::personalize::trending::TrendingList;
use crate::ports::{CatalogStore, FeedStore, Loaded, TrendingSource};
use crate::validate::{NewProduct, NewShop, ProductChanges, ShopChanges};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a shop read stays served from an instance's cache: a shop's name, description and
/// shipping change rarely, and a rename shows on product pages within this bound.
pub const SHOP_FRESHNESS: Duration = Duration::from_secs(10);
/// How long a stored trending list stays served from an instance's cache. The trending job
/// rewrites the lists every 15 minutes in AWS (every few seconds on the test stack), so this adds
/// at most 10 s to a list's age.
pub const TRENDING_FRESHNESS: Duration = Duration::from_secs(10);
/// Keys one cache holds at most (ids are request-controlled): past it, expired entries are
/// dropped, and if it is still full the read goes to the store uncached.
pub const MAX_ENTRIES: usize = 10_000;

/// A monotonic clock, fakeable in tests.
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that only moves when told to (tests).
#[derive(Debug)]
pub struct ManualClock(Mutex<Instant>);

impl Default for ManualClock {
    fn default() -> Self {
        Self(Mutex::new(Instant::now()))
    }
}

impl ManualClock {
    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<C: Clock> Clock for Arc<C> {
    fn now(&self) -> Instant {
        (**self).now()
    }
}

/// One key's slot: its last value and when it was loaded. The async lock is held while the key
/// loads, which is what makes loading single-flight.
type Slot<V> = Arc<tokio::sync::Mutex<Option<(V, Instant)>>>;

/// Values by key, each fresh for `freshness` after its load, loaded one at a time per key.
pub struct Cached<K, V, C = SystemClock> {
    freshness: Duration,
    max_entries: usize,
    clock: C,
    slots: Mutex<HashMap<K, Slot<V>>>,
}

impl<K: Eq + Hash + Clone, V: Clone> Cached<K, V, SystemClock> {
    pub fn new(freshness: Duration) -> Self {
        Self::with_clock(freshness, MAX_ENTRIES, SystemClock)
    }
}

impl<K: Eq + Hash + Clone, V: Clone, C: Clock> Cached<K, V, C> {
    pub fn with_clock(freshness: Duration, max_entries: usize, clock: C) -> Self {
        Self {
            freshness,
            max_entries,
            clock,
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn slot(&self, key: &K) -> Option<Slot<V>> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = slots.get(key) {
            return Some(slot.clone());
        }
        if slots.len() >= self.max_entries {
            let (now, freshness) = (self.clock.now(), self.freshness);
            // Drop what is idle and stale (a slot being loaded or read is locked: kept).
            slots.retain(|_, slot| match slot.try_lock() {
                Err(_) => true,
                Ok(v) => v
                    .as_ref()
                    .is_some_and(|(_, at)| now.duration_since(*at) < freshness),
            });
            if slots.len() >= self.max_entries {
                return None;
            }
        }
        let slot = Slot::default();
        slots.insert(key.clone(), slot.clone());
        Some(slot)
    }

    /// The value of `key`: the cached one while fresh, else `load`'s, which is cached when it
    /// succeeds and `keep` accepts it. Concurrent calls for one key run one load; the others wait
    /// for it and answer its value (after a failed load, the next waiter loads again).
    pub async fn get<F, Fut>(&self, key: &K, keep: fn(&V) -> bool, load: F) -> Result<V, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, Error>>,
    {
        let Some(slot) = self.slot(key) else {
            return load().await;
        };
        let mut entry = slot.lock().await;
        if let Some((value, at)) = entry.as_ref()
            && self.clock.now().duration_since(*at) < self.freshness
        {
            return Ok(value.clone());
        }
        let loaded_at = self.clock.now();
        let value = load().await?;
        *entry = keep(&value).then(|| (value.clone(), loaded_at));
        Ok(value)
    }

    /// Forgets `key` (after a write through this instance).
    pub fn invalidate(&self, key: &K) {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }

    /// Keys held (fresh or not).
    pub fn len(&self) -> usize {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn always<V>(_: &V) -> bool {
    true
}

fn found<V>(v: &Option<V>) -> bool {
    v.is_some()
}

/// A [`CatalogStore`] whose shop reads (`GET /shops/{id}` and the shop of every product page)
/// come from a per-instance cache fresh for [`SHOP_FRESHNESS`]. Unknown shops are not cached.
/// Products are always read from the store (their availability is live).
pub struct CachedCatalog<S, C = SystemClock> {
    inner: S,
    shops: Cached<String, Option<Shop>, C>,
}

impl<S: CatalogStore> CachedCatalog<S> {
    pub fn new(inner: S) -> Self {
        Self::with_clock(inner, SystemClock)
    }
}

impl<S: CatalogStore, C: Clock> CachedCatalog<S, C> {
    pub fn with_clock(inner: S, clock: C) -> Self {
        Self {
            inner,
            shops: Cached::with_clock(SHOP_FRESHNESS, MAX_ENTRIES, clock),
        }
    }

    pub fn inner(&self) -> &S {
        &self.inner
    }

    async fn shop(&self, id: &str) -> Result<Option<Shop>, Error> {
        self.shops
            .get(&id.to_owned(), found, || self.inner.get_shop(id))
            .await
    }
}

impl<S: CatalogStore, C: Clock> CatalogStore for CachedCatalog<S, C> {
    async fn health(&self) -> Result<(), Error> {
        self.inner.health().await
    }

    async fn create_shop(
        &self,
        owner: &str,
        owner_email: Option<&str>,
        shop: NewShop,
    ) -> Result<Shop, Error> {
        self.inner.create_shop(owner, owner_email, shop).await
    }

    async fn get_shop(&self, id: &str) -> Result<Option<Shop>, Error> {
        self.shop(id).await
    }

    async fn update_shop(
        &self,
        caller: &str,
        id: &str,
        changes: ShopChanges,
    ) -> Result<Shop, Error> {
        let shop = self.inner.update_shop(caller, id, changes).await;
        self.shops.invalidate(&id.to_owned());
        shop
    }

    async fn create_product(
        &self,
        caller: &str,
        shop_id: &str,
        product: NewProduct,
    ) -> Result<(Product, Shop), Error> {
        self.inner.create_product(caller, shop_id, product).await
    }

    async fn get_listing(&self, id: &str) -> Result<Option<Product>, Error> {
        self.inner.get_listing(id).await
    }

    /// The product from the store, its shop from the cache (the same two reads in sequence on
    /// a miss; one on a hit).
    async fn get_product(&self, id: &str) -> Result<Option<(Product, Shop)>, Error> {
        let Some(product) = self.inner.get_listing(id).await? else {
            return Ok(None);
        };
        let shop = self.shop(&product.shop_id).await?.ok_or_else(|| {
            Error::internal(format!(
                "product {} points at missing shop {}",
                product.id, product.shop_id
            ))
        })?;
        Ok(Some((product, shop)))
    }

    async fn update_product(
        &self,
        caller: &str,
        id: &str,
        changes: ProductChanges,
    ) -> Result<(Product, Shop), Error> {
        self.inner.update_product(caller, id, changes).await
    }

    async fn delete_product(&self, caller: &str, id: &str) -> Result<Product, Error> {
        self.inner.delete_product(caller, id).await
    }
}

/// A [`FeedStore`] whose stored trending lists come from a per-instance cache fresh for
/// [`TRENDING_FRESHNESS`] (the anonymous feed and `GET /trending` read no stored list while it
/// holds). A user's signals and the products re-read for live stock are never cached.
pub struct CachedFeed<S, C = SystemClock> {
    inner: S,
    lists: Cached<Option<String>, TrendingList, C>,
}

impl<S: FeedStore> CachedFeed<S> {
    pub fn new(inner: S) -> Self {
        Self::with_clock(inner, SystemClock)
    }
}

impl<S: FeedStore, C: Clock> CachedFeed<S, C> {
    pub fn with_clock(inner: S, clock: C) -> Self {
        Self {
            inner,
            lists: Cached::with_clock(TRENDING_FRESHNESS, MAX_ENTRIES, clock),
        }
    }
}

impl<S: FeedStore, C: Clock> TrendingSource for CachedFeed<S, C> {
    async fn trending(&self, category: Option<&str>) -> Result<TrendingList, Error> {
        self.lists
            .get(&category.map(str::to_owned), always, || {
                self.inner.trending(category)
            })
            .await
    }
}

impl<S: FeedStore, C: Clock> FeedStore for CachedFeed<S, C> {
    async fn favorites(&self, user: &str) -> Result<Vec<Signal>, Error> {
        self.inner.favorites(user).await
    }

    async fn views(&self, user: &str) -> Result<Vec<Signal>, Error> {
        self.inner.views(user).await
    }

    async fn load(&self, products: Vec<String>, shops: Vec<String>) -> Result<Loaded, Error> {
        self.inner.load(products, shops).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn cache(clock: &Arc<ManualClock>) -> Cached<&'static str, u32, Arc<ManualClock>> {
        Cached::with_clock(Duration::from_secs(10), 4, clock.clone())
    }

    async fn get(
        c: &Cached<&'static str, u32, Arc<ManualClock>>,
        key: &'static str,
        loads: &AtomicUsize,
        value: Result<u32, Error>,
    ) -> Result<u32, Error> {
        c.get(&key, always, || async {
            loads.fetch_add(1, Ordering::SeqCst);
            value
        })
        .await
    }

    #[tokio::test]
    async fn a_value_is_served_until_its_freshness_bound_then_reloaded() {
        let clock = Arc::new(ManualClock::default());
        let c = cache(&clock);
        let loads = AtomicUsize::new(0);
        assert_eq!(get(&c, "k", &loads, Ok(1)).await.expect("load"), 1);
        clock.advance(Duration::from_millis(9_999));
        assert_eq!(get(&c, "k", &loads, Ok(2)).await.expect("hit"), 1);
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        clock.advance(Duration::from_millis(1));
        assert_eq!(get(&c, "k", &loads, Ok(2)).await.expect("reload"), 2);
        assert_eq!(loads.load(Ordering::SeqCst), 2);
        // Keys are independent; an invalidated key loads again at once.
        assert_eq!(get(&c, "other", &loads, Ok(7)).await.expect("load"), 7);
        c.invalidate(&"k");
        assert_eq!(get(&c, "k", &loads, Ok(3)).await.expect("reload"), 3);
        assert_eq!(loads.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn concurrent_readers_of_one_key_share_one_load() {
        let clock = Arc::new(ManualClock::default());
        let c = cache(&clock);
        let loads = AtomicUsize::new(0);
        let (release, wait) = tokio::sync::watch::channel(false);
        let readers = (0..50).map(|_| {
            let mut wait = wait.clone();
            c.get(&"hot", always, || {
                let loads = &loads;
                async move {
                    loads.fetch_add(1, Ordering::SeqCst);
                    // Every reader is waiting by the time the load finishes.
                    let _ = wait.wait_for(|go| *go).await;
                    Ok(42)
                }
            })
        });
        let all = futures::future::join_all(readers);
        let go = async {
            tokio::task::yield_now().await;
            let _ = release.send(true);
        };
        let (values, ()) = tokio::join!(all, go);
        assert_eq!(values.len(), 50);
        assert!(values.iter().all(|v| matches!(v, Ok(42))), "{values:?}");
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn errors_are_not_cached() {
        let clock = Arc::new(ManualClock::default());
        let c = cache(&clock);
        let loads = AtomicUsize::new(0);
        let err = get(&c, "k", &loads, Err(Error::internal("store down")))
            .await
            .expect_err("the error is answered");
        assert_eq!(err.status(), 500);
        assert_eq!(get(&c, "k", &loads, Ok(5)).await.expect("retried"), 5);
        assert_eq!(get(&c, "k", &loads, Ok(6)).await.expect("cached"), 5);
        assert_eq!(loads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn rejected_values_are_not_cached() {
        let clock = Arc::new(ManualClock::default());
        let c: Cached<&str, Option<u32>, _> =
            Cached::with_clock(Duration::from_secs(10), 4, clock.clone());
        let loads = AtomicUsize::new(0);
        for expected in [None, Some(1), Some(1)] {
            let v = c
                .get(&"k", found, || async {
                    let n = loads.fetch_add(1, Ordering::SeqCst);
                    Ok((n > 0).then_some(1))
                })
                .await
                .expect("ok");
            assert_eq!(v, expected);
        }
        assert_eq!(loads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn the_cache_is_bounded_and_bypassed_when_full_of_fresh_keys() {
        let clock = Arc::new(ManualClock::default());
        let c = cache(&clock);
        let loads = AtomicUsize::new(0);
        for k in ["a", "b", "c", "d"] {
            get(&c, k, &loads, Ok(1)).await.expect("load");
        }
        // Full of fresh keys: a fifth key is read through, uncached, every time.
        get(&c, "e", &loads, Ok(1)).await.expect("bypass");
        get(&c, "e", &loads, Ok(1)).await.expect("bypass");
        assert_eq!((c.len(), loads.load(Ordering::SeqCst)), (4, 6));
        // Once they are stale they make room.
        clock.advance(Duration::from_secs(10));
        get(&c, "e", &loads, Ok(1)).await.expect("load");
        get(&c, "e", &loads, Ok(1)).await.expect("hit");
        assert_eq!((c.len(), loads.load(Ordering::SeqCst)), (1, 7));
    }
}
