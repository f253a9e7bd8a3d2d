//! The cold-start metric: on an instance's first invocation, one EMF document with `ColdStart`
//! (count 1) and `InitDurationMs` (from the start of the function's `main`, i.e. [`crate::Env`]
//! loading, to the first event handed to the handler: configuration, SDK set-up, clients, the
//! search engine, secrets), dimension `service` (the function's name). Lambda's own `REPORT`
//! line has the platform's init duration (exec and runtime included); this one is ours.

use bazaar_domain::metrics::Metrics;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// An instance's initialization start and whether it has been invoked yet.
#[derive(Debug, Default)]
pub struct ColdStart {
    init: OnceLock<(Instant, String)>,
    invoked: AtomicBool,
}

impl ColdStart {
    pub const fn new() -> Self {
        Self {
            init: OnceLock::new(),
            invoked: AtomicBool::new(false),
        }
    }

    /// Marks the start of initialization of `service` (the first call wins).
    pub fn init_started(&self, service: &str) {
        let _ = self.init.set((Instant::now(), service.to_owned()));
    }

    /// The cold-start document, on the first invocation after [`ColdStart::init_started`] only.
    pub fn first_invocation(&self) -> Option<Metrics> {
        let (started, service) = self.init.get()?;
        if self.invoked.swap(true, Ordering::Relaxed) {
            return None;
        }
        Some(metrics(service, started.elapsed()))
    }
}

/// This process's.
static INSTANCE: ColdStart = ColdStart::new();

/// Marks the start of the instance's initialization ([`crate::Env::load`]).
pub fn init_started(service: &str) {
    INSTANCE.init_started(service);
}

/// The metric document of a cold start of `service` whose initialization took `init`.
pub fn metrics(service: &str, init: Duration) -> Metrics {
    Metrics::new(service)
        .count("ColdStart", 1)
        .millis("InitDurationMs", init.as_secs_f64() * 1000.0)
}

/// Emits the cold-start metric if this is the instance's first invocation.
pub fn on_invocation() {
    if let Some(m) = INSTANCE.first_invocation() {
        m.emit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_invocation_alone_reports_the_cold_start() {
        let doc = metrics("catalog", Duration::from_millis(42)).to_json();
        let decl = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(decl["Dimensions"][0][0], "service");
        assert_eq!(decl["Metrics"][0]["Name"], "ColdStart");
        assert_eq!(decl["Metrics"][0]["Unit"], "Count");
        assert_eq!(decl["Metrics"][1]["Name"], "InitDurationMs");
        assert_eq!(decl["Metrics"][1]["Unit"], "Milliseconds");
        assert_eq!(doc["ColdStart"], 1.0);
        assert_eq!(doc["InitDurationMs"], 42.0);
        assert_eq!(doc["service"], "catalog");

        // Before initialization nothing, then once, then never again.
        let instance = ColdStart::new();
        assert!(instance.first_invocation().is_none());
        instance.init_started("search");
        instance.init_started("ignored");
        let first = instance
            .first_invocation()
            .expect("the first invocation reports");
        assert_eq!(first.to_json()["service"], "search");
        assert!(
            first.to_json()["InitDurationMs"]
                .as_f64()
                .is_some_and(|ms| ms >= 0.0)
        );
        assert!(instance.first_invocation().is_none());
    }
}
