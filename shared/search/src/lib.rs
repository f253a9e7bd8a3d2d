//! The search engines behind the domain's [`SearchIndex`] port, each a Cargo feature so that a
//! binary links only what it runs: [`opensearch::OpenSearchIndex`] (Amazon OpenSearch Service,
//! feature `opensearch`) and [`embedded::EmbeddedIndex`] (tantivy on local disk, feature
//! `embedded`). [`Engine`] picks one from the environment (`SEARCH_BACKEND`); [`breaker`] guards
//! an engine so that the search function can fall back while it is down.

pub mod breaker;
#[cfg(feature = "embedded")]
pub mod embedded;
#[cfg(feature = "opensearch")]
pub mod opensearch;

#[allow(unused_imports)]
use bazaar_domain::ports::SearchIndex;
#[allow(unused_imports)]
use bazaar_domain::search::{Applied, IndexChange, SearchError, SearchPage, SearchQuery};
#[allow(unused_imports)]
use bazaar_domain::timing::{Kind, timed_result};

#[cfg(any(feature = "embedded", feature = "opensearch"))]
/// The configured engine (`SEARCH_BACKEND=embedded|opensearch`); one per process.
#[allow(clippy::large_enum_variant)] // built once per cold start
pub enum Engine {
    #[cfg(feature = "embedded")]
    Embedded(embedded::EmbeddedIndex),
    #[cfg(feature = "opensearch")]
    OpenSearch(opensearch::OpenSearchIndex),
}

/// Engine settings from the environment.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineConfig {
    /// `SEARCH_BACKEND=embedded`, `INDEX_DIR` (default `.local/search-index`).
    Embedded { dir: std::path::PathBuf },
    /// `SEARCH_BACKEND=opensearch`, `OPENSEARCH_URL`, `OPENSEARCH_INDEX` (default `products`),
    /// `OPENSEARCH_SIGV4` (default `true`: sign with the Lambda role for Amazon OpenSearch Service).
    OpenSearch {
        url: String,
        index: String,
        sigv4: bool,
    },
}

impl EngineConfig {
    pub fn from_env() -> Result<EngineConfig, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        match var("SEARCH_BACKEND").as_deref().unwrap_or("embedded") {
            "embedded" => Ok(EngineConfig::Embedded {
                dir: var("INDEX_DIR")
                    .unwrap_or_else(|| ".local/search-index".to_owned())
                    .into(),
            }),
            "opensearch" => Ok(EngineConfig::OpenSearch {
                url: var("OPENSEARCH_URL")
                    .ok_or("SEARCH_BACKEND=opensearch needs OPENSEARCH_URL")?,
                index: var("OPENSEARCH_INDEX").unwrap_or_else(|| "products".to_owned()),
                sigv4: var("OPENSEARCH_SIGV4").is_none_or(|v| v != "false"),
            }),
            other => Err(format!(
                "SEARCH_BACKEND must be embedded or opensearch, not {other:?}"
            )),
        }
    }
}

#[cfg(any(feature = "embedded", feature = "opensearch"))]
impl Engine {
    /// Opens the configured engine (once per cold start). `sdk` signs OpenSearch requests.
    pub async fn open(
        config: &EngineConfig,
        #[allow(unused_variables)] sdk: &aws_config::SdkConfig,
    ) -> Result<Engine, SearchError> {
        match config {
            #[cfg(feature = "embedded")]
            EngineConfig::Embedded { dir } => {
                Ok(Engine::Embedded(embedded::EmbeddedIndex::open(dir)?))
            }
            #[cfg(feature = "opensearch")]
            EngineConfig::OpenSearch { url, index, sigv4 } => Ok(Engine::OpenSearch(
                opensearch::OpenSearchIndex::connect(url, index, sigv4.then_some(sdk))?,
            )),
            #[allow(unreachable_patterns)]
            other => Err(SearchError::Index(format!(
                "this build has no engine for {other:?}"
            ))),
        }
    }

    /// The engine as a traced remote service: every search and bulk is timed as a call of
    /// [`Kind::Search`] (locally the embedded engine stands in for OpenSearch's round trip).
    fn service(&self) -> &'static str {
        match *self {
            #[cfg(feature = "embedded")]
            Engine::Embedded(_) => "EmbeddedSearch",
            #[cfg(feature = "opensearch")]
            Engine::OpenSearch(_) => "OpenSearch",
        }
    }

    pub fn name(&self) -> &'static str {
        match *self {
            #[cfg(feature = "embedded")]
            Engine::Embedded(_) => "embedded",
            #[cfg(feature = "opensearch")]
            Engine::OpenSearch(_) => "opensearch",
        }
    }
}

#[cfg(any(feature = "embedded", feature = "opensearch"))]
impl SearchIndex for Engine {
    async fn prepare(&self) -> Result<(), SearchError> {
        match self {
            #[cfg(feature = "embedded")]
            Engine::Embedded(e) => e.prepare().await,
            #[cfg(feature = "opensearch")]
            Engine::OpenSearch(e) => e.prepare().await,
        }
    }

    async fn apply(&self, changes: Vec<IndexChange>) -> Result<Vec<Applied>, SearchError> {
        let applied = async {
            match self {
                #[cfg(feature = "embedded")]
                Engine::Embedded(e) => e.apply(changes).await,
                #[cfg(feature = "opensearch")]
                Engine::OpenSearch(e) => e.apply(changes).await,
            }
        };
        timed_result(Kind::Search, self.service(), "bulk", applied).await
    }

    async fn search(&self, query: &SearchQuery) -> Result<SearchPage, SearchError> {
        let found = async {
            match self {
                #[cfg(feature = "embedded")]
                Engine::Embedded(e) => e.search(query).await,
                #[cfg(feature = "opensearch")]
                Engine::OpenSearch(e) => e.search(query).await,
            }
        };
        timed_result(Kind::Search, self.service(), "search", found).await
    }
}
