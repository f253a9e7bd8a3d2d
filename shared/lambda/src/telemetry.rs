//! JSON logs through `tracing` (the metrics are `bazaar_domain::metrics`).

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The log filter: `RUST_LOG` (e.g. `info,bazaar=debug`: a level, and levels per target), else
/// the level `LOG_LEVEL` (`DEBUG`, `warn`…), else `info`; a setting that does not parse counts as
/// unset. A [`Targets`] filter, not tracing-subscriber's `EnvFilter`: that one's span-field
/// matching links a regex engine into every binary for nothing we use (README "Binary size and
/// cold start").
pub fn log_filter(get: impl Fn(&str) -> Option<String>) -> Targets {
    if let Some(targets) = get("RUST_LOG").and_then(|v| v.trim().to_ascii_lowercase().parse().ok())
    {
        return targets;
    }
    let level = get("LOG_LEVEL")
        .and_then(|v| v.trim().parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    Targets::new().with_default(level)
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
