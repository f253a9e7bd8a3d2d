//! What the benchmark reads of template.yaml: the functions (logical id, binary), their event
//! sources and their environment. A small subset of `bazaar_infra::template` (the local stack's
//! reader, which this crate does not link: it would bring the AWS SDK and tantivy into a tool
//! meant to build in a minute), with the same rules.

use serde_yaml_ng::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A Lambda function of the template.
pub struct Function {
    pub logical_id: String,
    pub binary: String,
}

pub struct Template {
    root: Value,
}

/// The repository root (where template.yaml lives).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

impl Template {
    pub fn load_repo() -> Result<Self, BoxError> {
        let text = std::fs::read_to_string(repo_root().join("template.yaml"))?;
        let root: Value = serde_yaml_ng::from_str(&text)?;
        if root.get("Resources").and_then(Value::as_mapping).is_none() {
            return Err("template.yaml has no Resources mapping".into());
        }
        Ok(Template { root })
    }

    pub fn resource(&self, logical_id: &str) -> Option<&Value> {
        self.root.get("Resources")?.get(logical_id)
    }

    /// Every `AWS::Serverless::Function` with the cargo binary it is built from.
    pub fn functions(&self) -> Result<Vec<Function>, BoxError> {
        let resources = self
            .root
            .get("Resources")
            .and_then(Value::as_mapping)
            .ok_or("no Resources")?;
        let mut out = Vec::new();
        for (id, res) in resources {
            if res.get("Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
                continue;
            }
            let id = id.as_str().ok_or("a logical id is not a string")?;
            let binary = res
                .get("Metadata")
                .and_then(|m| m.get("BuildProperties"))
                .and_then(|b| b.get("Binary"))
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{id} has no Metadata.BuildProperties.Binary"))?;
            out.push(Function {
                logical_id: id.to_owned(),
                binary: binary.to_owned(),
            });
        }
        Ok(out)
    }

    pub fn parameter_default(&self, name: &str) -> Option<String> {
        scalar(self.root.get("Parameters")?.get(name)?.get("Default")?)
    }

    /// The Globals' variables overlaid with the function's own, each resolved by `resolve`.
    pub fn function_environment(
        &self,
        logical_id: &str,
        resolve: &dyn Fn(&Value) -> Option<String>,
    ) -> Result<BTreeMap<String, String>, BoxError> {
        let globals = self
            .root
            .get("Globals")
            .and_then(|g| g.get("Function"))
            .and_then(|f| f.get("Environment"))
            .and_then(|e| e.get("Variables"))
            .and_then(Value::as_mapping);
        let own = self
            .resource(logical_id)
            .and_then(|r| r.get("Properties"))
            .and_then(|p| p.get("Environment"))
            .and_then(|e| e.get("Variables"))
            .and_then(Value::as_mapping);
        let mut env = BTreeMap::new();
        for vars in [globals, own].into_iter().flatten() {
            for (k, v) in vars {
                let key = k
                    .as_str()
                    .ok_or("an environment variable name is not a string")?;
                let value =
                    resolve(v).ok_or_else(|| format!("{logical_id}: cannot resolve {key}"))?;
                env.insert(key.to_owned(), value);
            }
        }
        Ok(env)
    }
}

/// A plain scalar as a string (strings, numbers, booleans).
pub fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The target of an intrinsic `!Ref X` / `{Ref: X}`.
pub fn ref_target(v: &Value) -> Option<&str> {
    match v {
        Value::Tagged(t) if t.tag == "Ref" => t.value.as_str(),
        Value::Mapping(m) if m.len() == 1 => m.get("Ref").and_then(Value::as_str),
        _ => None,
    }
}

/// The `(resource, attribute)` of an intrinsic `!GetAtt X.Attr` / `{Fn::GetAtt: [X, Attr]}`.
pub fn getatt_target(v: &Value) -> Option<(String, String)> {
    let split = |s: &str| s.split_once('.').map(|(a, b)| (a.to_owned(), b.to_owned()));
    match v {
        Value::Tagged(t) if t.tag == "GetAtt" => match &t.value {
            Value::String(s) => split(s),
            Value::Sequence(seq) if seq.len() == 2 => {
                Some((seq[0].as_str()?.to_owned(), seq[1].as_str()?.to_owned()))
            }
            _ => None,
        },
        Value::Mapping(m) if m.len() == 1 => {
            let seq = m.get("Fn::GetAtt")?.as_sequence()?;
            Some((
                seq.first()?.as_str()?.to_owned(),
                seq.get(1)?.as_str()?.to_owned(),
            ))
        }
        _ => None,
    }
}
