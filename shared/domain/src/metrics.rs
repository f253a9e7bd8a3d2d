//! Business metrics as CloudWatch Embedded Metric Format lines (one JSON document per line on
//! stdout, which Lambda ships to CloudWatch Logs, where they become metrics).

use serde_json::{Map, Value, json};

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
