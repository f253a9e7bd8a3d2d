//! JSON logs through `tracing` (the metrics are `bazaar_domain::metrics`).

use tracing_subscriber::EnvFilter;

/// Installs the JSON log subscriber once per cold start. The level comes from `RUST_LOG`
/// (e.g. `info,bazaar=debug`), else `LOG_LEVEL`, else `info`.
pub fn init_tracing() {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| {
            EnvFilter::try_new(std::env::var("LOG_LEVEL").unwrap_or_else(|_| "info".into()))
        })
        .unwrap_or_else(|_| EnvFilter::new("info"));
    // `try_init` so that tests and tools calling this twice do not panic.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(false)
        .with_ansi(false)
        .try_init();
}
