//! JSON logs through `tracing` (the metrics are `bazaar_domain::metrics`).

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The log filter: `RUST_LOG` (e.g. `info,bazaar=debug`: a level, and levels per target), else
/// `LOG_LEVEL`, else `info`; a setting that does not parse counts as unset. A [`Targets`] filter,
/// not tracing-subscriber's `EnvFilter`: that one's span-field matching links a regex engine
/// (about 1 MB of every binary, see README "Binary size and cold start") for nothing we use.
pub fn log_filter(get: impl Fn(&str) -> Option<String>) -> Targets {
    ["RUST_LOG", "LOG_LEVEL"]
        .into_iter()
        .filter_map(|name| {
            get(name)?
                .trim()
                .to_ascii_lowercase()
                .parse::<Targets>()
                .ok()
        })
        .next()
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO))
}

/// Installs the JSON log subscriber once per cold start, filtered by [`log_filter`].
pub fn init_tracing() {
    let filter = log_filter(|name| std::env::var(name).ok());
    // `try_init` so that tests and tools calling this twice do not panic.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(false)
        .with_ansi(false)
        .finish()
        .with(filter)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;
    use tracing_subscriber::filter::LevelFilter;

    fn filter(pairs: &[(&str, &str)]) -> Targets {
        log_filter(|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn the_level_comes_from_rust_log_then_log_level_then_info() {
        assert!(filter(&[]).would_enable("checkout", &Level::INFO));
        assert!(!filter(&[]).would_enable("checkout", &Level::DEBUG));
        let warn = filter(&[("LOG_LEVEL", "WARN")]);
        assert!(!warn.would_enable("checkout", &Level::INFO));
        assert!(warn.would_enable("checkout", &Level::WARN));
        let per_target = filter(&[
            ("RUST_LOG", "info,bazaar_aws=debug"),
            ("LOG_LEVEL", "error"),
        ]);
        assert!(per_target.would_enable("bazaar_aws::table", &Level::DEBUG));
        assert!(!per_target.would_enable("checkout", &Level::DEBUG));
        assert!(per_target.would_enable("checkout", &Level::INFO));
        // Nonsense counts as unset.
        assert_eq!(
            filter(&[("LOG_LEVEL", "loud")]).default_level(),
            Some(LevelFilter::INFO)
        );
    }
}
