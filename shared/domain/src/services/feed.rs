//! The home feed (`GET /feed`) and the trending lists as served (`GET /trending`).
//!
//! Anonymous callers and users at cold start get the trending list. Everybody else gets sections
//! built from their favorites and views through the search engine — "Based on your favorites"
//! (the favorites' tags), "More in <category>" for their two strongest categories (price capped at
//! 1.5 × their average), "Recently viewed", then trending — leaving out sold-out products, products
//! held by other buyers and the user's favorites, each product in one section only.
//!
//! Personalization is best effort: if reading the signals, the engine or the products fails (or
//! takes longer than [`PERSONALIZATION_BUDGET`]), the answer is the trending feed, never an error.
//!
//! A trending list shorter than it can be (a new or quiet marketplace) is filled, after its real
//! trending products, with the engine's best-ranked in-stock listings (of the list's category),
//! re-read for live stock: the feed's trending section up to [`SECTION_SIZE`], `GET /trending` up
//! to a stored list's length ([`TRENDING_ALL`] overall, [`TRENDING_PER_CATEGORY`] per category).
//! One piece of code (`FeedBuilder::pad`) does both; it is best effort too: when the engine
//! fails or is slow, the stored list is answered alone.
//!
//! Calls: anonymous 1 `GetItem`; signed-in at cold start 2 `Query` + 1 `GetItem` (parallel); when
//! fewer than 8 products are trending, + 1 engine search + 1 `BatchGetItem` to fill the section;
//! personalized 2 `Query` + 1 `GetItem` (parallel), then ≤ 3 engine searches (parallel), then one
//! `BatchGetItem` round (products and shops; two calls in parallel past 100 keys). `GET /trending`:
//! 1 `GetItem`; when the list is short, + 1 engine search + 1 `BatchGetItem`.

use crate::error::Error;
use crate::personalize::trending::TrendingList;
use crate::personalize::{Profile, SECTION_SIZE, Signal, TRENDING_ALL, TRENDING_PER_CATEGORY};
use crate::ports::{FeedStore, SearchIndex};
use crate::search::{SearchQuery, Sort};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

/// Personalization gets this long before the feed falls back to trending.
pub const PERSONALIZATION_BUDGET: Duration = Duration::from_millis(1_500);
/// Engine results asked for per section: room for the ones left out.
const CANDIDATES_PER_SECTION: u64 = 16;
/// At most this many engine results are asked for when filling a trending list: with their shops
/// they stay under 100 keys, one `BatchGetItem` call.
const MAX_FILL_CANDIDATES: u64 = 48;
/// Recently viewed products considered.
const RECENT_CANDIDATES: usize = 12;
/// Trending products re-read for a personalized feed.
const TRENDING_CANDIDATES: usize = 2 * SECTION_SIZE;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SectionKind {
    Trending,
    Favorites,
    Category,
    Recent,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    pub kind: SectionKind,
    pub title: String,
    pub products: Vec<Value>,
}

/// The answer of `GET /feed`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Feed {
    pub personalized: bool,
    pub sections: Vec<Section>,
}

/// The answer of `GET /trending`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendingPage {
    pub products: Vec<Value>,
    /// How many of the first `products` are trending by activity; the rest fill the list from
    /// the engine (a quiet marketplace or category).
    pub trending: usize,
}

/// How a trending list was filled from the engine (for logs and metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// The stored list was full: the engine was not asked.
    NotNeeded,
    /// This many of the engine's listings were added (0: it had nothing more in stock).
    Filled(usize),
    /// The engine failed or was too slow: the stored list alone was answered.
    Failed,
}

/// How a feed came about (for logs and metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedOutcome {
    Anonymous,
    ColdStart,
    Personalized,
    /// Personalization failed; the trending feed was served.
    Degraded,
}

/// Builds feeds, and the trending lists as `GET /trending` serves them, from a store and a search
/// engine.
pub struct FeedBuilder<S, E> {
    store: S,
    engine: E,
}

fn trending_section(list: &TrendingList, skip: &HashSet<String>) -> Option<Section> {
    let products: Vec<Value> = list
        .products
        .iter()
        .filter(|p| {
            let id = p.get("id").and_then(Value::as_str).unwrap_or_default();
            let available = p.get("available").and_then(Value::as_i64).unwrap_or(0);
            available > 0 && !skip.contains(id)
        })
        .take(SECTION_SIZE)
        .cloned()
        .collect();
    (!products.is_empty()).then(|| Section {
        kind: SectionKind::Trending,
        title: "Trending now".into(),
        products,
    })
}

/// The `id` of each product object.
fn ids(products: &[Value]) -> impl Iterator<Item = String> + '_ {
    products
        .iter()
        .filter_map(|p| p.get("id").and_then(Value::as_str).map(str::to_owned))
}

/// A section being filled: its kind, title and candidate product ids in order.
struct Draft {
    kind: SectionKind,
    title: String,
    candidates: Vec<String>,
}

impl<S: FeedStore, E: SearchIndex> FeedBuilder<S, E> {
    pub fn new(store: S, engine: E) -> Self {
        Self { store, engine }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// The feed of `user` (`None`: anonymous) at `now`.
    pub async fn feed(
        &self,
        user: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(Feed, FeedOutcome), Error> {
        let Some(user) = user else {
            let trending = self.store.trending(None).await?;
            return Ok((
                self.trending_feed(None, &trending, &HashSet::new(), now, true)
                    .await,
                FeedOutcome::Anonymous,
            ));
        };
        let (favorites, views, trending) = tokio::join!(
            self.store.favorites(user),
            self.store.views(user),
            self.store.trending(None)
        );
        let signals = match (favorites, views) {
            (Ok(f), Ok(v)) => Some((f, v)),
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(error = %e, "feed: reading the user's signals failed; serving trending");
                None
            }
        };
        let Some((favorites, views)) = signals else {
            return Ok((
                self.trending_feed(Some(user), &trending?, &HashSet::new(), now, false)
                    .await,
                FeedOutcome::Degraded,
            ));
        };
        let profile = Profile::build(&favorites, &views);
        if profile.cold_start {
            return Ok((
                self.trending_feed(Some(user), &trending?, &profile.favorites, now, true)
                    .await,
                FeedOutcome::ColdStart,
            ));
        }
        let trending = match trending {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = %e, "feed: the trending list is unreadable; personalized sections only");
                TrendingList::default()
            }
        };
        let personalized = tokio::time::timeout(
            PERSONALIZATION_BUDGET,
            self.personalized(user, &profile, &views, &trending, now),
        )
        .await;
        match personalized {
            Ok(Ok(feed)) => Ok((feed, FeedOutcome::Personalized)),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "feed: personalization failed; serving trending");
                Ok((
                    self.trending_feed(Some(user), &trending, &profile.favorites, now, false)
                        .await,
                    FeedOutcome::Degraded,
                ))
            }
            Err(_) => {
                tracing::warn!(
                    budget_ms = PERSONALIZATION_BUDGET.as_millis() as u64,
                    "feed: personalization too slow; serving trending"
                );
                Ok((
                    self.trending_feed(Some(user), &trending, &profile.favorites, now, false)
                        .await,
                    FeedOutcome::Degraded,
                ))
            }
        }
    }

    /// `GET /trending`: the stored list of `category` (overall when `None`), as stored. When it
    /// holds fewer than a full list ([`TRENDING_ALL`] overall, [`TRENDING_PER_CATEGORY`] per
    /// category), the engine's best-ranked in-stock listings (of that category) follow the real
    /// trending products up to a full list, each product once. Only reading the stored list can
    /// fail: when filling fails or is slow, the stored list is the answer.
    pub async fn trending(
        &self,
        category: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(TrendingPage, Padding), Error> {
        let mut products = self.store.trending(category).await?.products;
        let trending = products.len();
        let full = if category.is_some() {
            TRENDING_PER_CATEGORY
        } else {
            TRENDING_ALL
        };
        let padding = if products.len() < full {
            let exclude: HashSet<String> = ids(&products).collect();
            match self
                .pad(None, category, &exclude, full - products.len(), now)
                .await
            {
                Some(extra) => {
                    let added = extra.len();
                    products.extend(extra);
                    Padding::Filled(added)
                }
                None => Padding::Failed,
            }
        } else {
            Padding::NotNeeded
        };
        Ok((TrendingPage { products, trending }, padding))
    }

    /// The feed of anonymous and cold-start users: the trending list, minus `skip` (their
    /// favorites). When fewer than a section's worth are trending (a new or quiet marketplace) and
    /// `pad` is set, the engine's best-ranked in-stock listings fill the section ("Popular right
    /// now"), re-read for live stock. Not when degrading: the engine may be what failed.
    async fn trending_feed(
        &self,
        user: Option<&str>,
        trending: &TrendingList,
        skip: &HashSet<String>,
        now: DateTime<Utc>,
        pad: bool,
    ) -> Feed {
        let mut section = trending_section(trending, skip);
        let have = section.as_ref().map_or(0, |s| s.products.len());
        if pad && have < SECTION_SIZE {
            let mut exclude = skip.clone();
            if let Some(s) = &section {
                exclude.extend(ids(&s.products));
            }
            let extra = self
                .pad(user, None, &exclude, SECTION_SIZE - have, now)
                .await
                .unwrap_or_default();
            if !extra.is_empty() {
                match &mut section {
                    Some(s) => s.products.extend(extra),
                    None => {
                        section = Some(Section {
                            kind: SectionKind::Trending,
                            title: "Popular right now".into(),
                            products: extra,
                        })
                    }
                }
            }
        }
        Feed {
            personalized: false,
            sections: section.into_iter().collect(),
        }
    }

    /// What fills a short trending list: up to `n` of the engine's best-ranked in-stock listings
    /// (of `category` when given), not in `exclude`, re-read for live stock (see [`Self::popular`]).
    /// Best effort: `None` when the engine or the read fails or takes longer than
    /// [`PERSONALIZATION_BUDGET`] (logged), and the caller answers what it has.
    async fn pad(
        &self,
        user: Option<&str>,
        category: Option<&str>,
        exclude: &HashSet<String>,
        n: usize,
        now: DateTime<Utc>,
    ) -> Option<Vec<Value>> {
        let popular = tokio::time::timeout(
            PERSONALIZATION_BUDGET,
            self.popular(user, category, exclude, n, now),
        )
        .await;
        match popular {
            Ok(Ok(extra)) => Some(extra),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, category, "padding trending failed; the stored list alone");
                None
            }
            Err(_) => {
                tracing::warn!(
                    budget_ms = PERSONALIZATION_BUDGET.as_millis() as u64,
                    category,
                    "padding trending too slow; the stored list alone"
                );
                None
            }
        }
    }

    /// Up to `n` of the engine's best-ranked in-stock listings (no text: ranked by shop rating,
    /// sales and recency; of `category` when given), not in `exclude`, available to `user`. One
    /// engine search, then one `BatchGetItem` of the candidates and their shops: a listing is
    /// left out when it is sold out or held by other buyers, or moved to another category, since
    /// it was indexed.
    async fn popular(
        &self,
        user: Option<&str>,
        category: Option<&str>,
        exclude: &HashSet<String>,
        n: usize,
        now: DateTime<Utc>,
    ) -> Result<Vec<Value>, Error> {
        // Room for the excluded ones and for those sold out since they were indexed.
        let page_size =
            ((exclude.len() + 2 * n) as u64).clamp(CANDIDATES_PER_SECTION, MAX_FILL_CANDIDATES);
        let page = self
            .engine
            .search(&SearchQuery {
                text: None,
                category: category.map(str::to_owned),
                min_price_cents: None,
                max_price_cents: None,
                vintage: None,
                sort: Sort::Relevance,
                page: 1,
                page_size,
                now,
            })
            .await
            .map_err(|e| Error::Unavailable(Box::new(e)))?;
        let hits: Vec<_> = page
            .hits
            .into_iter()
            .filter(|h| !exclude.contains(&h.doc.id))
            .collect();
        if hits.is_empty() {
            return Ok(Vec::new());
        }
        let (products, shops) = self
            .store
            .load(
                hits.iter().map(|h| h.doc.id.clone()).collect(),
                hits.iter()
                    .map(|h| h.doc.shop_id.clone())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
            )
            .await?;
        let at = now.timestamp();
        let mut picked = Vec::new();
        let mut seen = HashSet::new();
        for hit in &hits {
            if picked.len() == n {
                break;
            }
            let Some(p) = products.get(&hit.doc.id) else {
                continue;
            };
            if category.is_some_and(|c| p.category != c) || !seen.insert(p.id.as_str()) {
                continue;
            }
            let Some(shop) = shops.get(&p.shop_id) else {
                continue;
            };
            let available = p.available_to(user, at);
            if available > 0 {
                picked.push(
                    serde_json::to_value(p.view(shop.summary(), available))
                        .map_err(Error::internal)?,
                );
            }
        }
        Ok(picked)
    }

    async fn personalized(
        &self,
        user: &str,
        profile: &Profile,
        views: &[Signal],
        trending: &TrendingList,
        now: DateTime<Utc>,
    ) -> Result<Feed, Error> {
        let query = |text: Option<String>, category: Option<String>| SearchQuery {
            text,
            category,
            min_price_cents: None,
            max_price_cents: profile.price_cap_cents,
            vintage: None,
            sort: Sort::Relevance,
            page: 1,
            page_size: CANDIDATES_PER_SECTION,
            now,
        };
        let mut queries = Vec::new();
        let mut drafts = Vec::new();
        if !profile.favorite_tags.is_empty() {
            queries.push(query(Some(profile.favorite_tags.join(" ")), None));
            drafts.push(Draft {
                kind: SectionKind::Favorites,
                title: "Based on your favorites".into(),
                candidates: Vec::new(),
            });
        }
        for category in &profile.top_categories {
            queries.push(query(None, Some(category.clone())));
            drafts.push(Draft {
                kind: SectionKind::Category,
                title: format!("More in {category}"),
                candidates: Vec::new(),
            });
        }
        let pages = futures::future::join_all(queries.iter().map(|q| self.engine.search(q))).await;
        let mut shop_ids: BTreeSet<String> = BTreeSet::new();
        for (draft, page) in drafts.iter_mut().zip(pages) {
            let page = page.map_err(|e| Error::Unavailable(Box::new(e)))?;
            for hit in page.hits {
                shop_ids.insert(hit.doc.shop_id.clone());
                draft.candidates.push(hit.doc.id);
            }
        }
        let mut recent = Draft {
            kind: SectionKind::Recent,
            title: "Recently viewed".into(),
            candidates: profile
                .recent
                .iter()
                .take(RECENT_CANDIDATES)
                .cloned()
                .collect(),
        };
        for v in views {
            if recent.candidates.contains(&v.product_id) {
                shop_ids.insert(v.shop_id.clone());
            }
        }
        recent.candidates.retain(|id| !id.is_empty());
        drafts.push(recent);
        // The section shows 8; twice that is room for what the other sections took.
        let trending_ids: Vec<String> = trending
            .ids()
            .take(TRENDING_CANDIDATES)
            .map(str::to_owned)
            .collect();
        for p in trending.products.iter().take(TRENDING_CANDIDATES) {
            if let Some(shop) = p.get("shop_id").and_then(Value::as_str) {
                shop_ids.insert(shop.to_owned());
            }
        }
        drafts.push(Draft {
            kind: SectionKind::Trending,
            title: "Trending now".into(),
            candidates: trending_ids,
        });

        let product_ids: BTreeSet<String> = drafts
            .iter()
            .flat_map(|d| d.candidates.iter().cloned())
            .collect();
        let (products, shops) = self
            .store
            .load(
                product_ids.into_iter().collect(),
                shop_ids.into_iter().collect(),
            )
            .await?;

        let at = now.timestamp();
        // Suggestions are new to the user: favorites are never suggested, and what they viewed
        // lately is shown once, under "Recently viewed".
        let viewed: HashSet<&str> = profile
            .recent
            .iter()
            .take(RECENT_CANDIDATES)
            .map(String::as_str)
            .collect();
        let mut used: HashSet<String> = profile.favorites.clone();
        let mut sections = Vec::new();
        for draft in drafts {
            let mut picked = Vec::new();
            for id in &draft.candidates {
                if picked.len() == SECTION_SIZE {
                    break;
                }
                let suggestion =
                    matches!(draft.kind, SectionKind::Favorites | SectionKind::Category);
                if used.contains(id) || (suggestion && viewed.contains(id.as_str())) {
                    continue;
                }
                let Some(p) = products.get(id) else { continue };
                let Some(shop) = shops.get(&p.shop_id) else {
                    continue;
                };
                let available = p.available_to(Some(user), at);
                if available <= 0 {
                    continue; // sold out, or every unit held by other buyers
                }
                if suggestion
                    && profile
                        .price_cap_cents
                        .is_some_and(|cap| p.price_cents > cap)
                {
                    continue; // repriced since it was indexed
                }
                used.insert(id.clone());
                picked.push(
                    serde_json::to_value(p.view(shop.summary(), available))
                        .map_err(Error::internal)?,
                );
            }
            if !picked.is_empty() {
                sections.push(Section {
                    kind: draft.kind,
                    title: draft.title,
                    products: picked,
                });
            }
        }
        Ok(Feed {
            personalized: true,
            sections,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::{FakeFeedStore, FakeSearchIndex, FeedCall};
    use chrono::Duration as Minutes;

    type Builder = FeedBuilder<FakeFeedStore, FakeSearchIndex>;

    /// The emulator tests' catalog: 20 silver rings (30.00 up, 0.50 apart), a platinum ring far
    /// above anybody's range, a sold-out ring, and 5 watercolor prints. The engine indexes it as
    /// it is now; later changes to the store are what the index has not caught up with.
    fn world() -> (FakeFeedStore, FakeSearchIndex, Builder, DateTime<Utc>) {
        let store = FakeFeedStore::default();
        store.add_shop("s-silver", "Silver Smith");
        store.add_shop("s-paint", "Paint Pots");
        for i in 0..20 {
            let id = format!("j{i:02}");
            store.add_product(
                "s-silver",
                &id,
                "jewelry",
                3000 + 50 * i,
                1,
                &["silver", "ring"],
            );
        }
        store.add_product(
            "s-silver",
            "j-platinum",
            "jewelry",
            90_000,
            1,
            &["silver", "ring"],
        );
        store.add_product(
            "s-silver",
            "j-sold",
            "jewelry",
            3000,
            0,
            &["silver", "ring"],
        );
        for i in 0..5 {
            store.add_product("s-paint", &format!("a{i}"), "art", 2000, 1, &["watercolor"]);
        }
        let engine = FakeSearchIndex::with_docs(store.docs());
        let builder = FeedBuilder::new(store.clone(), engine.clone());
        (store, engine, builder, Utc::now())
    }

    fn ids(section: &Section) -> Vec<&str> {
        section
            .products
            .iter()
            .filter_map(|p| p.get("id").and_then(Value::as_str))
            .collect()
    }

    fn kinds(feed: &Feed) -> Vec<SectionKind> {
        feed.sections.iter().map(|s| s.kind).collect()
    }

    fn all_ids(feed: &Feed) -> Vec<&str> {
        feed.sections.iter().flat_map(ids).collect()
    }

    fn page_ids(page: &TrendingPage) -> Vec<&str> {
        page.products
            .iter()
            .filter_map(|p| p.get("id").and_then(Value::as_str))
            .collect()
    }

    fn favorite(store: &FakeFeedStore, user: &str, products: &[&str], now: DateTime<Utc>) {
        for (i, p) in products.iter().enumerate() {
            store.favorite(user, p, now - Minutes::minutes(100 - i as i64));
        }
    }

    /// Views in order, the last one newest.
    fn view(store: &FakeFeedStore, user: &str, products: &[&str], now: DateTime<Utc>) {
        for (i, p) in products.iter().enumerate() {
            store.view(user, p, now - Minutes::minutes(50 - i as i64));
        }
    }

    fn rings(range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|i| format!("j{i:02}")).collect()
    }

    #[tokio::test]
    async fn an_anonymous_caller_gets_the_trending_section_filled_from_the_engine_to_eight() {
        let (store, engine, feeds, now) = world();
        store.set_trending(None, &["a3", "a1"], now);
        let (feed, outcome) = feeds.feed(None, now).await.expect("feed");
        assert_eq!(outcome, FeedOutcome::Anonymous);
        assert!(!feed.personalized);
        assert_eq!(kinds(&feed), vec![SectionKind::Trending]);
        assert_eq!(feed.sections[0].title, "Trending now");
        // The trending prints first, as stored; then the engine's best-ranked in-stock listings
        // (ties by id in the fake), the sold-out ring never.
        assert_eq!(
            ids(&feed.sections[0]),
            vec!["a3", "a1", "a0", "a2", "a4", "j-platinum", "j00", "j01"]
        );
        assert_eq!(store.calls(FeedCall::Trending), 1);
        assert_eq!(store.calls(FeedCall::Favorites), 0);
        assert_eq!(
            store.calls(FeedCall::Load),
            1,
            "one read of the filling listings"
        );
        let queries = engine.queries();
        assert_eq!(queries.len(), 1);
        assert_eq!((&queries[0].text, &queries[0].category), (&None, &None));
        assert_eq!(queries[0].page_size, CANDIDATES_PER_SECTION);
    }

    #[tokio::test]
    async fn with_nothing_trending_an_anonymous_caller_gets_popular_right_now() {
        let (store, _engine, feeds, now) = world();
        // Indexed in stock, sold out since: re-read and left out.
        store.update_product("a0", |p| p.quantity = 0);
        let (feed, outcome) = feeds.feed(None, now).await.expect("feed");
        assert_eq!(outcome, FeedOutcome::Anonymous);
        assert_eq!(kinds(&feed), vec![SectionKind::Trending]);
        assert_eq!(feed.sections[0].title, "Popular right now");
        assert_eq!(
            ids(&feed.sections[0]),
            vec!["a1", "a2", "a3", "a4", "j-platinum", "j00", "j01", "j02"]
        );
    }

    #[tokio::test]
    async fn a_stored_trending_product_since_held_by_others_is_left_out_of_the_section() {
        let (store, _engine, feeds, now) = world();
        // Held by another buyer when the list was computed: stored with `available: 0`.
        store.set_hold("a2", 0, "zoe", now.timestamp() + 600);
        store.set_trending(None, &["a2", "a3"], now);
        let (feed, _) = feeds.feed(None, now).await.expect("feed");
        let shown = ids(&feed.sections[0]);
        assert_eq!(shown[0], "a3");
        assert!(!shown.contains(&"a2"), "{shown:?}");
        assert_eq!(shown.len(), SECTION_SIZE);
    }

    #[tokio::test]
    async fn a_user_with_two_favorites_and_four_viewed_products_is_at_cold_start_and_gets_trending_without_their_favorites()
     {
        let (store, _engine, feeds, now) = world();
        favorite(&store, "alice", &["j00", "j01"], now);
        view(&store, "alice", &["a0", "a1", "a2", "a3", "a3"], now);
        store.set_trending(None, &["a0", "j00", "a1"], now);
        let (feed, outcome) = feeds.feed(Some("alice"), now).await.expect("feed");
        assert_eq!(outcome, FeedOutcome::ColdStart);
        assert!(!feed.personalized);
        assert_eq!(kinds(&feed), vec![SectionKind::Trending]);
        assert_eq!(
            ids(&feed.sections[0]),
            vec!["a0", "a1", "a2", "a3", "a4", "j-platinum", "j02", "j03"]
        );
        assert_eq!(
            (
                store.calls(FeedCall::Favorites),
                store.calls(FeedCall::Views),
                store.calls(FeedCall::Trending),
                store.calls(FeedCall::Load)
            ),
            (1, 1, 1, 1)
        );
    }

    #[tokio::test]
    async fn three_favorites_or_five_viewed_products_end_the_cold_start() {
        let (store, _engine, feeds, now) = world();
        favorite(&store, "alice", &["j00", "j01", "j02"], now);
        view(&store, "bob", &["a0", "a1", "a2", "a3", "a4"], now);
        for user in ["alice", "bob"] {
            let (feed, outcome) = feeds.feed(Some(user), now).await.expect("feed");
            assert_eq!(outcome, FeedOutcome::Personalized, "{user}");
            assert!(feed.personalized, "{user}");
        }
    }

    #[tokio::test]
    async fn a_user_with_favorites_gets_a_section_from_their_tags_and_more_in_their_category_capped_at_one_and_a_half_times_their_average_price()
     {
        let (store, engine, feeds, now) = world();
        favorite(&store, "alice", &["j00", "j01", "j02"], now);
        // Repriced far above alice's range; the index still has the old price.
        store.update_product("j03", |p| p.price_cents = 80_000);
        store.set_trending(None, &["a0", "j04"], now);
        let (feed, outcome) = feeds.feed(Some("alice"), now).await.expect("feed");
        assert_eq!(outcome, FeedOutcome::Personalized);
        assert!(feed.personalized);

        // (3000 + 3050 + 3100) / 3 × 1.5 = 4575; the favorites' tags, newest favorite's first.
        let queries = engine.queries();
        assert_eq!(queries.len(), 2);
        assert_eq!(queries[0].text.as_deref(), Some("silver ring"));
        assert_eq!(queries[0].category, None);
        assert_eq!(queries[1].text, None);
        assert_eq!(queries[1].category.as_deref(), Some("jewelry"));
        assert!(queries.iter().all(|q| q.max_price_cents == Some(4575)));

        assert_eq!(
            kinds(&feed),
            vec![
                SectionKind::Favorites,
                SectionKind::Category,
                SectionKind::Trending
            ]
        );
        assert_eq!(feed.sections[0].title, "Based on your favorites");
        assert_eq!(ids(&feed.sections[0]), rings(4..12));
        assert_eq!(feed.sections[1].title, "More in jewelry");
        assert_eq!(ids(&feed.sections[1]), rings(12..16));
        // j04 went to the favorites section: trending keeps the print only.
        assert_eq!(feed.sections[2].title, "Trending now");
        assert_eq!(ids(&feed.sections[2]), vec!["a0"]);
        for product in feed.sections[..2].iter().flat_map(|s| &s.products) {
            assert!(
                product["price_cents"].as_i64().expect("price") <= 4575,
                "{product}"
            );
            assert_eq!(product["shop"]["name"], "Silver Smith");
        }
        assert_eq!(
            (store.calls(FeedCall::Trending), store.calls(FeedCall::Load)),
            (1, 1),
            "one read of the trending list, one of the candidates"
        );
    }

    #[tokio::test]
    async fn sold_out_products_products_held_by_others_and_the_users_favorites_are_left_out() {
        let (store, _engine, feeds, now) = world();
        favorite(&store, "alice", &["j00", "j01", "j02"], now);
        let later = now.timestamp() + 600;
        // Since they were indexed: j04 sold out, j05 held by another buyer; j06 held by alice
        // herself (still hers to buy), j07 held by a buyer whose hold has lapsed.
        store.update_product("j04", |p| p.quantity = 0);
        store.set_hold("j05", 0, "zoe", later);
        store.set_hold("j06", 0, "alice", later);
        store.set_hold("j07", 0, "zoe", now.timestamp() - 1);
        store.set_trending(None, &["j00", "j04", "j05", "a0"], now);
        let (feed, outcome) = feeds.feed(Some("alice"), now).await.expect("feed");
        assert_eq!(outcome, FeedOutcome::Personalized);
        let shown = all_ids(&feed);
        for gone in ["j00", "j01", "j02", "j04", "j05", "j-sold", "j-platinum"] {
            assert!(!shown.contains(&gone), "{gone} in {shown:?}");
        }
        assert_eq!(
            ids(&feed.sections[0]),
            vec!["j03", "j06", "j07", "j08", "j09", "j10", "j11", "j12"]
        );
        assert_eq!(ids(&feed.sections[1]), rings(13..16));
        assert_eq!(ids(&feed.sections[2]), vec!["a0"]);
        for product in feed.sections.iter().flat_map(|s| &s.products) {
            assert!(
                product["available"].as_i64().expect("available") > 0,
                "{product}"
            );
        }
    }

    #[tokio::test]
    async fn a_product_appears_in_one_section_only_and_what_was_viewed_is_shown_as_recently_viewed()
    {
        let (store, engine, feeds, now) = world();
        favorite(&store, "alice", &["j00", "j01", "j02"], now);
        view(&store, "alice", &["a0", "a1"], now);
        // Trending is not price-capped: the platinum ring may trend.
        store.set_trending(None, &["a2", "j05", "a0", "j-platinum"], now);
        let (feed, outcome) = feeds.feed(Some("alice"), now).await.expect("feed");
        assert_eq!(outcome, FeedOutcome::Personalized);
        // jewelry 3 × 3 > art 2 × 1; (3000 + 3050 + 3100 + 2000 + 2000) / 5 × 1.5 = 3945.
        let queries = engine.queries();
        assert_eq!(queries.len(), 3);
        assert_eq!(queries[2].category.as_deref(), Some("art"));
        assert!(queries.iter().all(|q| q.max_price_cents == Some(3945)));
        assert_eq!(
            kinds(&feed),
            vec![
                SectionKind::Favorites,
                SectionKind::Category,
                SectionKind::Category,
                SectionKind::Recent,
                SectionKind::Trending
            ]
        );
        let titles: Vec<&str> = feed.sections.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(
            titles,
            vec![
                "Based on your favorites",
                "More in jewelry",
                "More in art",
                "Recently viewed",
                "Trending now"
            ]
        );
        // The 16 best-ranked rings under the cap, less the favorites.
        assert_eq!(ids(&feed.sections[0]), rings(3..11));
        assert_eq!(ids(&feed.sections[1]), rings(11..16));
        // The viewed prints are not suggested; they are shown once, newest view first.
        assert_eq!(ids(&feed.sections[2]), vec!["a2", "a3", "a4"]);
        assert_eq!(ids(&feed.sections[3]), vec!["a1", "a0"]);
        assert_eq!(ids(&feed.sections[4]), vec!["j-platinum"]);
        let shown = all_ids(&feed);
        let unique: HashSet<&str> = shown.iter().copied().collect();
        assert_eq!(unique.len(), shown.len(), "{shown:?}");
    }

    #[tokio::test]
    async fn views_alone_personalize_and_are_shown_once_as_recently_viewed_newest_first() {
        let (store, engine, feeds, now) = world();
        view(&store, "bob", &["a0", "a1", "a2", "a3", "a4", "a2"], now);
        let (feed, outcome) = feeds.feed(Some("bob"), now).await.expect("feed");
        assert_eq!(outcome, FeedOutcome::Personalized);
        // No favorites, no favorites query; every print was viewed, so "More in art" is empty.
        let queries = engine.queries();
        assert_eq!(queries.len(), 1);
        assert_eq!(queries[0].category.as_deref(), Some("art"));
        assert_eq!(kinds(&feed), vec![SectionKind::Recent]);
        assert_eq!(ids(&feed.sections[0]), vec!["a2", "a4", "a3", "a1", "a0"]);
    }

    #[tokio::test]
    async fn when_the_engine_fails_the_feed_is_the_trending_feed_degraded_and_not_filled() {
        let (store, engine, feeds, now) = world();
        favorite(&store, "alice", &["j00", "j01", "j02"], now);
        store.set_trending(None, &["a0", "j00", "a1"], now);
        engine.fail();
        let (feed, outcome) = feeds
            .feed(Some("alice"), now)
            .await
            .expect("never an error");
        assert_eq!(outcome, FeedOutcome::Degraded);
        assert!(!feed.personalized);
        assert_eq!(kinds(&feed), vec![SectionKind::Trending]);
        // Favorites still left out; the engine is not asked again to fill the section.
        assert_eq!(ids(&feed.sections[0]), vec!["a0", "a1"]);
        assert_eq!(
            engine.queries().len(),
            2,
            "the two personalized searches only"
        );
        assert_eq!(store.calls(FeedCall::Load), 0);
    }

    #[tokio::test]
    async fn when_loading_the_candidates_fails_the_feed_is_the_trending_feed_degraded() {
        let (store, _engine, feeds, now) = world();
        favorite(&store, "alice", &["j00", "j01", "j02"], now);
        store.set_trending(None, &["a0", "a1"], now);
        store.fail(FeedCall::Load);
        let (feed, outcome) = feeds.feed(Some("alice"), now).await.expect("feed");
        assert_eq!(outcome, FeedOutcome::Degraded);
        assert_eq!(ids(&feed.sections[0]), vec!["a0", "a1"]);
        assert_eq!(store.calls(FeedCall::Load), 1);
    }

    #[tokio::test]
    async fn when_the_users_signals_are_unreadable_the_feed_is_the_trending_feed_degraded() {
        let (store, engine, feeds, now) = world();
        favorite(&store, "alice", &["j00", "j01", "j02"], now);
        store.set_trending(None, &["a0", "j00", "a1"], now);
        for call in [FeedCall::Favorites, FeedCall::Views] {
            store.heal();
            store.fail(call);
            let (feed, outcome) = feeds.feed(Some("alice"), now).await.expect("feed");
            assert_eq!(outcome, FeedOutcome::Degraded, "{call:?}");
            // Her favorites could not be read, so they cannot be left out.
            assert_eq!(ids(&feed.sections[0]), vec!["a0", "j00", "a1"], "{call:?}");
        }
        assert!(engine.queries().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_personalization_slower_than_the_budget_degrades_at_the_budget() {
        let (store, engine, feeds, now) = world();
        favorite(&store, "alice", &["j00", "j01", "j02"], now);
        store.set_trending(None, &["a0", "a1"], now);
        let late = PERSONALIZATION_BUDGET + Duration::from_secs(1);
        engine.slow(late);
        let started = tokio::time::Instant::now();
        let (feed, outcome) = feeds.feed(Some("alice"), now).await.expect("feed");
        let took = started.elapsed();
        assert_eq!(outcome, FeedOutcome::Degraded);
        assert_eq!(ids(&feed.sections[0]), vec!["a0", "a1"]);
        assert!(
            took >= PERSONALIZATION_BUDGET && took < late,
            "answered after {took:?}"
        );

        engine.heal();
        store.slow(FeedCall::Load, late);
        let (_, outcome) = feeds.feed(Some("alice"), now).await.expect("feed");
        assert_eq!(outcome, FeedOutcome::Degraded);

        // Just within the budget: personalized.
        store.slow(
            FeedCall::Load,
            PERSONALIZATION_BUDGET - Duration::from_millis(100),
        );
        let (feed, outcome) = feeds.feed(Some("alice"), now).await.expect("feed");
        assert_eq!(outcome, FeedOutcome::Personalized);
        assert!(feed.personalized);
    }

    #[tokio::test]
    async fn an_unreadable_trending_list_fails_the_anonymous_feed_but_not_a_personalized_one() {
        let (store, _engine, feeds, now) = world();
        favorite(&store, "alice", &["j00", "j01", "j02"], now);
        store.fail(FeedCall::Trending);
        let err = feeds.feed(None, now).await.expect_err("nothing to serve");
        assert_eq!(err.status(), 503);
        let (feed, outcome) = feeds.feed(Some("alice"), now).await.expect("feed");
        assert_eq!(outcome, FeedOutcome::Personalized);
        assert_eq!(
            kinds(&feed),
            vec![SectionKind::Favorites, SectionKind::Category]
        );
    }

    #[tokio::test]
    async fn at_cold_start_a_failing_engine_leaves_the_short_trending_section_as_it_is() {
        let (store, engine, feeds, now) = world();
        store.set_trending(None, &["a0", "a1"], now);
        engine.fail();
        let (feed, outcome) = feeds.feed(Some("carol"), now).await.expect("feed");
        assert_eq!(outcome, FeedOutcome::ColdStart);
        assert_eq!(ids(&feed.sections[0]), vec!["a0", "a1"]);
        let (feed, outcome) = feeds.feed(None, now).await.expect("feed");
        assert_eq!(outcome, FeedOutcome::Anonymous);
        assert_eq!(ids(&feed.sections[0]), vec!["a0", "a1"]);
        // Nothing trending and no engine: an empty feed, not an error.
        store.set_trending(None, &[], now);
        let (feed, _) = feeds.feed(None, now).await.expect("feed");
        assert!(feed.sections.is_empty());
    }

    #[tokio::test]
    async fn a_short_overall_trending_list_is_filled_to_24_trending_products_first() {
        let (store, engine, feeds, now) = world();
        store.set_trending(None, &["a3", "a1"], now);
        let (page, padding) = feeds.trending(None, now).await.expect("trending");
        assert_eq!(padding, Padding::Filled(22));
        assert_eq!(page.trending, 2);
        let mut want = vec!["a3", "a1", "a0", "a2", "a4", "j-platinum"];
        let more = rings(0..18);
        want.extend(more.iter().map(String::as_str));
        assert_eq!(page_ids(&page), want);
        assert_eq!(page.products.len(), TRENDING_ALL);
        // 2 stored + 2 × 22 candidates asked for, at most 48.
        assert_eq!(engine.queries()[0].page_size, 46);
        assert_eq!(store.calls(FeedCall::Load), 1);
    }

    #[tokio::test]
    async fn a_short_category_list_is_filled_to_12_with_that_categorys_listings_in_stock_now() {
        let (store, engine, feeds, now) = world();
        // Since they were indexed: j00 sold out, a4 moved to another category.
        store.update_product("j00", |p| p.quantity = 0);
        store.update_product("a4", |p| p.category = "home-decor".into());
        let (page, padding) = feeds.trending(Some("jewelry"), now).await.expect("ok");
        assert_eq!(padding, Padding::Filled(TRENDING_PER_CATEGORY));
        assert_eq!(page.trending, 0);
        let mut want = vec!["j-platinum"];
        let more = rings(1..12);
        want.extend(more.iter().map(String::as_str));
        assert_eq!(page_ids(&page), want);
        assert_eq!(engine.queries()[0].category.as_deref(), Some("jewelry"));

        store.set_trending(Some("art"), &["a1"], now);
        let (page, padding) = feeds.trending(Some("art"), now).await.expect("ok");
        assert_eq!(padding, Padding::Filled(3));
        assert_eq!(
            (page_ids(&page), page.trending),
            (vec!["a1", "a0", "a2", "a3"], 1)
        );
    }

    #[tokio::test]
    async fn a_category_nobody_lists_in_is_an_empty_page_and_reads_no_products() {
        let (store, _engine, feeds, now) = world();
        let (page, padding) = feeds.trending(Some("toys"), now).await.expect("ok");
        assert_eq!(padding, Padding::Filled(0));
        assert_eq!(
            page,
            TrendingPage {
                products: Vec::new(),
                trending: 0
            }
        );
        assert_eq!(store.calls(FeedCall::Load), 0);
    }

    #[tokio::test]
    async fn a_full_trending_list_is_answered_as_stored_without_asking_the_engine() {
        let (store, engine, feeds, now) = world();
        let mut full = vec!["a0", "a1", "a2", "a3", "a4"];
        let more = rings(0..19);
        full.extend(more.iter().map(String::as_str));
        store.set_trending(None, &full, now);
        store.set_trending(Some("jewelry"), &full[5..17], now);
        let (page, padding) = feeds.trending(None, now).await.expect("ok");
        assert_eq!(padding, Padding::NotNeeded);
        assert_eq!(
            (page_ids(&page), page.trending),
            (full.clone(), TRENDING_ALL)
        );
        let (page, padding) = feeds.trending(Some("jewelry"), now).await.expect("ok");
        assert_eq!(padding, Padding::NotNeeded);
        assert_eq!(page_ids(&page), full[5..17].to_vec());
        assert!(engine.queries().is_empty());
        assert_eq!(store.calls(FeedCall::Load), 0);
    }

    #[tokio::test]
    async fn when_the_engine_fails_get_trending_answers_the_stored_list_alone() {
        let (store, engine, feeds, now) = world();
        store.set_trending(None, &["a3", "a1"], now);
        engine.fail();
        let (page, padding) = feeds.trending(None, now).await.expect("never an error");
        assert_eq!(padding, Padding::Failed);
        assert_eq!((page_ids(&page), page.trending), (vec!["a3", "a1"], 2));
        let (page, padding) = feeds.trending(Some("jewelry"), now).await.expect("ok");
        assert_eq!((padding, page.products.len()), (Padding::Failed, 0));
        assert_eq!(store.calls(FeedCall::Load), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn when_the_engine_is_slower_than_the_budget_get_trending_answers_the_stored_list_alone()
    {
        let (store, engine, feeds, now) = world();
        store.set_trending(None, &["a3", "a1"], now);
        engine.slow(PERSONALIZATION_BUDGET + Duration::from_secs(1));
        let started = tokio::time::Instant::now();
        let (page, padding) = feeds.trending(None, now).await.expect("ok");
        assert_eq!(padding, Padding::Failed);
        assert_eq!(page_ids(&page), vec!["a3", "a1"]);
        assert!(started.elapsed() < PERSONALIZATION_BUDGET + Duration::from_secs(1));
    }

    #[tokio::test]
    async fn an_unreadable_stored_list_is_the_only_error_of_get_trending() {
        let (store, _engine, feeds, now) = world();
        store.fail(FeedCall::Trending);
        let err = feeds.trending(None, now).await.expect_err("unreadable");
        assert_eq!(err.status(), 503);
    }
}
