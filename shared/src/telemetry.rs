//! JSON logs through `tracing`, and business metrics as CloudWatch Embedded Metric Format lines.

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use serde_json::{Map, Value, json};
use std::cell::Cell;
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

tokio::task_local! {
    static AWS_CALLS: Cell<u32>;
}

/// Runs `f` and counts the AWS round trips (attempts, retries included) that clients carrying
/// [`CountAwsCalls`] make inside it. Every request is served inside this, and its count is logged.
/// Nested scopes share the outer counter, so an enclosing count includes the inner ones.
pub async fn counting_aws_calls<F: Future>(f: F) -> (F::Output, u32) {
    if let Ok(before) = AWS_CALLS.try_with(Cell::get) {
        let out = f.await;
        let after = AWS_CALLS.try_with(Cell::get).unwrap_or(before);
        return (out, after.saturating_sub(before));
    }
    AWS_CALLS
        .scope(Cell::new(0), async {
            let out = f.await;
            (out, AWS_CALLS.with(Cell::get))
        })
        .await
}

/// An SDK interceptor that counts every transmitted request into the current
/// [`counting_aws_calls`] scope (and does nothing outside one).
#[derive(Debug, Clone, Copy, Default)]
pub struct CountAwsCalls;

impl Intercept for CountAwsCalls {
    fn name(&self) -> &'static str {
        "CountAwsCalls"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let _ = AWS_CALLS.try_with(|c| c.set(c.get() + 1));
        Ok(())
    }
}

/// The CloudWatch namespace of every Bazaar metric.
pub const NAMESPACE: &str = "Bazaar";

/// Units CloudWatch understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// One EMF document: metrics that share the `service` dimension, plus searchable properties.
#[derive(Debug, Clone)]
pub struct Metrics {
    service: String,
    metrics: Vec<(&'static str, f64, Unit)>,
    properties: Map<String, Value>,
}

impl Metrics {
    pub fn new(service: &str) -> Self {
        Self {
            service: service.to_owned(),
            metrics: Vec::new(),
            properties: Map::new(),
        }
    }

    pub fn count(mut self, name: &'static str, value: u64) -> Self {
        self.metrics.push((name, value as f64, Unit::Count));
        self
    }

    pub fn millis(mut self, name: &'static str, value: f64) -> Self {
        self.metrics.push((name, value, Unit::Milliseconds));
        self
    }

    /// A property that is logged but is not a dimension (e.g. a request id).
    pub fn property(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.properties.insert(key.to_owned(), value.into());
        self
    }

    /// The EMF JSON document.
    pub fn to_json(&self) -> Value {
        let definitions: Vec<Value> = self
            .metrics
            .iter()
            .map(|(name, _, unit)| json!({"Name": name, "Unit": unit.as_str()}))
            .collect();
        let mut doc = Map::new();
        doc.insert(
            "_aws".into(),
            json!({
                "Timestamp": chrono::Utc::now().timestamp_millis(),
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [["service"]],
                    "Metrics": definitions,
                }]
            }),
        );
        doc.insert("service".into(), Value::from(self.service.clone()));
        for (k, v) in &self.properties {
            doc.insert(k.clone(), v.clone());
        }
        for (name, value, _) in &self.metrics {
            doc.insert((*name).to_owned(), json!(value));
        }
        Value::Object(doc)
    }

    /// Writes the document as one stdout line, where the Lambda log agent picks EMF up.
    pub fn emit(self) {
        if self.metrics.is_empty() {
            return;
        }
        // println! (one line, one write) so that test harnesses capture it like other output.
        println!("{}", self.to_json());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_document_declares_every_metric() {
        let doc = Metrics::new("catalog")
            .count("ShopsCreated", 1)
            .millis("Latency", 12.5)
            .property("request_id", "r-1")
            .to_json();
        let decl = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(decl["Namespace"], NAMESPACE);
        assert_eq!(decl["Dimensions"][0][0], "service");
        assert_eq!(decl["Metrics"][0]["Name"], "ShopsCreated");
        assert_eq!(decl["Metrics"][1]["Unit"], "Milliseconds");
        assert_eq!(doc["ShopsCreated"], 1.0);
        assert_eq!(doc["Latency"], 12.5);
        assert_eq!(doc["service"], "catalog");
        assert_eq!(doc["request_id"], "r-1");
        assert!(doc["_aws"]["Timestamp"].as_i64().is_some_and(|t| t > 0));
    }
}
