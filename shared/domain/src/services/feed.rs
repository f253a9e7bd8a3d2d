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
