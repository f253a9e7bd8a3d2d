//! Reading `template.yaml`: the one place routes, tables and function environments are declared.
//! The local stack derives its router, its tables and its environment from what this module reads.

use serde_yaml_ng::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A template that cannot be understood; local tooling refuses to guess.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("template.yaml is not valid YAML: {0}")]
    Yaml(#[from] serde_yaml_ng::Error),
    #[error("template.yaml: {0}")]
    Shape(String),
}

fn shape(msg: impl Into<String>) -> TemplateError {
    TemplateError::Shape(msg.into())
}

/// An HTTP route served by a function.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HttpRoute {
    pub path: String,
    pub method: String,
    /// The cargo binary (and cargo-lambda function name) that serves it.
    pub function: String,
}

/// A Lambda function of the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    pub logical_id: String,
    pub binary: String,
}

/// The parsed template with the few questions the local stack asks of it.
#[derive(Debug, Clone)]
pub struct Template {
    root: Value,
}

/// The repository root (where template.yaml lives), found from this crate's manifest directory.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

impl Template {
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let root: Value = serde_yaml_ng::from_str(text)?;
        if root.get("Resources").and_then(Value::as_mapping).is_none() {
            return Err(shape("no Resources mapping"));
        }
        Ok(Template { root })
    }

    pub fn load(path: &Path) -> Result<Self, TemplateError> {
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text)
    }

    /// The repository's own template.yaml.
    pub fn load_repo() -> Result<Self, TemplateError> {
        Self::load(&repo_root().join("template.yaml"))
    }

    /// `(logical id, resource)` pairs of one CloudFormation type, in template order.
    pub fn resources_of_type<'a>(
        &'a self,
        ty: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a Value)> + 'a {
        self.root
            .get("Resources")
            .and_then(Value::as_mapping)
            .into_iter()
            .flat_map(|m| m.iter())
            .filter_map(move |(k, v)| {
                let id = k.as_str()?;
                (v.get("Type").and_then(Value::as_str) == Some(ty)).then_some((id, v))
            })
    }

    pub fn resource(&self, logical_id: &str) -> Option<&Value> {
        self.root.get("Resources")?.get(logical_id)
    }

    /// Every `AWS::Serverless::Function` with the cargo binary it is built from.
    pub fn functions(&self) -> Result<Vec<Function>, TemplateError> {
        self.resources_of_type("AWS::Serverless::Function")
            .map(|(id, res)| {
                let binary = res
                    .get("Metadata")
                    .and_then(|m| m.get("BuildProperties"))
                    .and_then(|b| b.get("Binary"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| shape(format!("{id} has no Metadata.BuildProperties.Binary")))?;
                Ok(Function {
                    logical_id: id.to_owned(),
                    binary: binary.to_owned(),
                })
            })
            .collect()
    }

    /// Every `HttpApi` event of every function, sorted by path then method.
    pub fn http_routes(&self) -> Result<Vec<HttpRoute>, TemplateError> {
        Ok(self
            .http_routes_with_names()?
            .into_iter()
            .map(|(route, _)| route)
            .collect())
    }

    /// Every `HttpApi` event with its event name (e.g. `GetShop`), sorted by route.
    pub fn http_routes_with_names(&self) -> Result<Vec<(HttpRoute, String)>, TemplateError> {
        let mut routes = Vec::new();
        for function in self.functions()? {
            let Some(events) = self
                .resource(&function.logical_id)
                .and_then(|r| r.get("Properties"))
                .and_then(|p| p.get("Events"))
                .and_then(Value::as_mapping)
            else {
                continue;
            };
            for (name, event) in events {
                if event.get("Type").and_then(Value::as_str) != Some("HttpApi") {
                    continue;
                }
                let props = event.get("Properties");
                let field = |f: &str| {
                    props
                        .and_then(|p| p.get(f))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .ok_or_else(|| {
                            shape(format!(
                                "{}.Events.{} has no {f}",
                                function.logical_id,
                                name.as_str().unwrap_or("?")
                            ))
                        })
                };
                routes.push((
                    HttpRoute {
                        path: field("Path")?,
                        method: field("Method")?.to_uppercase(),
                        function: function.binary.clone(),
                    },
                    name.as_str().unwrap_or_default().to_owned(),
                ));
            }
        }
        routes.sort();
        Ok(routes)
    }

    /// The default of a template parameter, as a string.
    pub fn parameter_default(&self, name: &str) -> Option<String> {
        scalar(self.root.get("Parameters")?.get(name)?.get("Default")?)
    }

    /// The environment of `function`: the Globals' variables overlaid with the function's own,
    /// each value resolved by `resolve` (which turns `!Ref`/`!GetAtt` into local names).
    pub fn function_environment(
        &self,
        logical_id: &str,
        resolve: &dyn Fn(&Value) -> Option<String>,
    ) -> Result<BTreeMap<String, String>, TemplateError> {
        let mut env = BTreeMap::new();
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
        for vars in [globals, own].into_iter().flatten() {
            for (k, v) in vars {
                let key = k
                    .as_str()
                    .ok_or_else(|| shape("an environment variable name is not a string"))?;
                let value = resolve(v).ok_or_else(|| {
                    shape(format!(
                        "{logical_id}: cannot resolve environment variable {key} locally"
                    ))
                })?;
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

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
Globals:
  Function:
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
        LEVEL: !Ref LogLevel
        PLAIN: 5
Parameters:
  LogLevel:
    Type: String
    Default: info
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  Fn:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: catalog
    Properties:
      Environment:
        Variables:
          QUEUE: !GetAtt Queue.QueueUrl
      Events:
        A:
          Type: HttpApi
          Properties: {Path: /b, Method: get}
        B:
          Type: HttpApi
          Properties: {Path: /a, Method: POST}
        C:
          Type: SQS
          Properties: {Queue: x}
"#;

    #[test]
    fn reads_routes_functions_and_environment() {
        let t = Template::parse(SAMPLE).expect("parses");
        let routes = t.http_routes().expect("routes");
        assert_eq!(
            routes,
            vec![
                HttpRoute {
                    path: "/a".into(),
                    method: "POST".into(),
                    function: "catalog".into()
                },
                HttpRoute {
                    path: "/b".into(),
                    method: "GET".into(),
                    function: "catalog".into()
                },
            ]
        );
        assert_eq!(t.parameter_default("LogLevel").as_deref(), Some("info"));
        let resolve = |v: &Value| {
            if let Some(r) = ref_target(v) {
                return Some(format!("ref:{r}"));
            }
            if let Some((r, a)) = getatt_target(v) {
                return Some(format!("att:{r}.{a}"));
            }
            scalar(v)
        };
        let env = t.function_environment("Fn", &resolve).expect("env");
        assert_eq!(env["TABLE_NAME"], "ref:Table");
        assert_eq!(env["QUEUE"], "att:Queue.QueueUrl");
        assert_eq!(env["PLAIN"], "5");
    }

    #[test]
    fn unresolvable_environment_is_an_error() {
        let t = Template::parse(SAMPLE).expect("parses");
        assert!(t.function_environment("Fn", &|_| None).is_err());
    }

    /// Every route the template deploys is documented in api/openapi.yaml with the same method.
    #[test]
    fn openapi_documents_every_deployed_route() {
        let text = std::fs::read_to_string(repo_root().join("api/openapi.yaml")).expect("openapi");
        let spec: Value = serde_yaml_ng::from_str(&text).expect("openapi parses");
        for route in Template::load_repo()
            .expect("template")
            .http_routes()
            .expect("routes")
        {
            let op = spec
                .get("paths")
                .and_then(|p| p.get(route.path.as_str()))
                .and_then(|p| p.get(route.method.to_lowercase().as_str()));
            assert!(
                op.is_some(),
                "{} {} is deployed but not in api/openapi.yaml",
                route.method,
                route.path
            );
        }
    }

    #[test]
    fn the_repository_template_parses() {
        let t = Template::load_repo().expect("template.yaml parses");
        assert!(!t.http_routes().expect("routes").is_empty());
        assert!(t.resources_of_type("AWS::DynamoDB::Table").count() >= 1);
    }
}
