//! Reading `template.yaml`: the one place routes, tables and function environments are declared.
//! The local stack derives its router, its tables and its environment from what this module reads.

use serde_yaml_ng::Value;
use std::collections::{BTreeMap, BTreeSet};
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
    /// The authorizer API Gateway runs before the function (a name of the API's
    /// `Auth.Authorizers`, or `AWS_IAM`); `None` for a public route.
    pub authorizer: Option<String>,
}

/// What an HttpApi's `Auth` declares: its default authorizer and the names a route may use.
struct ApiAuth {
    default: Option<String>,
    names: BTreeSet<String>,
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

    /// The whole template.
    pub fn root(&self) -> &Value {
        &self.root
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
                let ctx = format!(
                    "{}.Events.{}",
                    function.logical_id,
                    name.as_str().unwrap_or("?")
                );
                routes.push((
                    HttpRoute {
                        path: field("Path")?,
                        method: field("Method")?.to_uppercase(),
                        function: function.binary.clone(),
                        authorizer: self.route_authorizer(props, &ctx)?,
                    },
                    name.as_str().unwrap_or_default().to_owned(),
                ));
            }
        }
        routes.sort();
        Ok(routes)
    }

    /// The authorizer in effect for an `HttpApi` event (`props` is its `Properties`): the event's
    /// `Auth.Authorizer` (`NONE`: public), else its API's `Auth.DefaultAuthorizer`, as SAM does.
    fn route_authorizer(
        &self,
        props: Option<&Value>,
        ctx: &str,
    ) -> Result<Option<String>, TemplateError> {
        let api = match props.and_then(|p| p.get("ApiId")) {
            None => None,
            Some(v) => Some(ref_target(v).ok_or_else(|| {
                shape(format!(
                    "{ctx}: ApiId must be !Ref of an AWS::Serverless::HttpApi"
                ))
            })?),
        };
        let auth = self.api_auth(api)?;
        let chosen = match props
            .and_then(|p| p.get("Auth"))
            .and_then(|a| a.get("Authorizer"))
        {
            Some(v) => {
                let name = v
                    .as_str()
                    .ok_or_else(|| shape(format!("{ctx}: Auth.Authorizer is not a string")))?;
                (name != "NONE").then(|| name.to_owned())
            }
            None => auth.default,
        };
        if let Some(name) = &chosen
            && !auth.names.contains(name)
        {
            return Err(shape(format!(
                "{ctx}: authorizer {name} is not one of {} Auth.Authorizers",
                api.unwrap_or("the implicit HttpApi's (Globals.HttpApi)")
            )));
        }
        Ok(chosen)
    }

    /// The `Auth` of the HttpApi `api` (`None`: SAM's implicit `ServerlessHttpApi`, which an
    /// event without `ApiId` joins), over the `Globals.HttpApi.Auth` every HttpApi inherits.
    fn api_auth(&self, api: Option<&str>) -> Result<ApiAuth, TemplateError> {
        let globals = self
            .root
            .get("Globals")
            .and_then(|g| g.get("HttpApi"))
            .and_then(|h| h.get("Auth"));
        let own = match api {
            None => None,
            Some(id) => {
                let res = self
                    .resource(id)
                    .filter(|r| {
                        r.get("Type").and_then(Value::as_str) == Some("AWS::Serverless::HttpApi")
                    })
                    .ok_or_else(|| {
                        shape(format!("ApiId {id} is not an AWS::Serverless::HttpApi"))
                    })?;
                res.get("Properties").and_then(|p| p.get("Auth"))
            }
        };
        // The API's own settings win over the globals', as in SAM's merge of Globals.
        let layers = [own, globals];
        let setting = |key: &str| layers.iter().flatten().find_map(|a| a.get(key));
        let default = setting("DefaultAuthorizer")
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| shape("Auth.DefaultAuthorizer is not a string"))
            })
            .transpose()?;
        let mut names: BTreeSet<String> = layers
            .iter()
            .flatten()
            .filter_map(|a| a.get("Authorizers").and_then(Value::as_mapping))
            .flat_map(|m| m.keys().filter_map(Value::as_str).map(str::to_owned))
            .collect();
        if setting("EnableIamAuthorizer").and_then(Value::as_bool) == Some(true) {
            names.insert("AWS_IAM".to_owned());
        }
        if let Some(d) = &default
            && !names.contains(d)
        {
            return Err(shape(format!(
                "{}: DefaultAuthorizer {d} is not one of its Auth.Authorizers",
                api.unwrap_or("the implicit HttpApi")
            )));
        }
        Ok(ApiAuth { default, names })
    }

    /// The default of a template parameter, as a string.
    /// The inline `Policies` of the function `logical_id` (empty when it has none).
    pub fn policies(&self, logical_id: &str) -> Vec<Value> {
        self.resource(logical_id)
            .and_then(|r| r.get("Properties"))
            .and_then(|p| p.get("Policies"))
            .and_then(Value::as_sequence)
            .cloned()
            .unwrap_or_default()
    }

    pub fn parameter_default(&self, name: &str) -> Option<String> {
        scalar(self.root.get("Parameters")?.get(name)?.get("Default")?)
    }

    /// A value as deployed with every parameter at its default: a scalar, a `!Ref` of a
    /// parameter, or a `!FindInMap [Map, key, key]` whose keys are scalars or such `!Ref`s.
    pub fn resolve_with_defaults(&self, v: &Value) -> Option<String> {
        if let Some(name) = ref_target(v) {
            return self.parameter_default(name);
        }
        if let Some([map, top, second]) = find_in_map(v) {
            let top = self.resolve_with_defaults(top)?;
            let second = self.resolve_with_defaults(second)?;
            return scalar(
                self.root
                    .get("Mappings")?
                    .get(map.as_str()?)?
                    .get(top.as_str())?
                    .get(second.as_str())?,
            );
        }
        scalar(v)
    }

    /// A function property (`Timeout`, `MemorySize`, …): the function's own, else `Globals.Function`'s.
    pub fn function_property(&self, logical_id: &str, name: &str) -> Option<String> {
        self.resource(logical_id)
            .and_then(|r| r.get("Properties"))
            .and_then(|p| p.get(name))
            .or_else(|| {
                self.root
                    .get("Globals")
                    .and_then(|g| g.get("Function"))
                    .and_then(|f| f.get(name))
            })
            .and_then(scalar)
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

/// The three arguments of an intrinsic `!FindInMap [Map, TopKey, SecondKey]`.
pub fn find_in_map(v: &Value) -> Option<&[Value; 3]> {
    let args = match v {
        Value::Tagged(t) if t.tag == "FindInMap" => t.value.as_sequence()?,
        Value::Mapping(m) if m.len() == 1 => m.get("Fn::FindInMap")?.as_sequence()?,
        _ => return None,
    };
    args.as_slice().try_into().ok()
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
                    function: "catalog".into(),
                    authorizer: None,
                },
                HttpRoute {
                    path: "/b".into(),
                    method: "GET".into(),
                    function: "catalog".into(),
                    authorizer: None,
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

    const SAMPLE_AUTH: &str = r#"
Globals:
  HttpApi:
    Auth:
      DefaultAuthorizer: Implicit
      Authorizers:
        Implicit: {JwtConfiguration: {issuer: https://implicit.example}}
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: Jwt
        Authorizers:
          Jwt: {JwtConfiguration: {issuer: https://issuer.example}}
          Admin: {JwtConfiguration: {issuer: https://admin.example}}
  Fn:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: catalog
    Properties:
      Events:
        Inherits:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: /private, Method: GET}
        Public:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: /public, Method: GET, Auth: {Authorizer: NONE}}
        Explicit:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: /admin, Method: GET, Auth: {Authorizer: Admin}}
        Implicit:
          Type: HttpApi
          Properties: {Path: /implicit, Method: GET}
"#;

    /// A route inherits its API's default authorizer unless its event names one or says `NONE`;
    /// an event without `ApiId` is on SAM's implicit API, configured by `Globals.HttpApi`.
    #[test]
    fn route_authorizer_is_the_events_or_the_apis_default() {
        let t = Template::parse(SAMPLE_AUTH).expect("parses");
        let auth: BTreeMap<String, Option<String>> = t
            .http_routes()
            .expect("routes")
            .into_iter()
            .map(|r| (r.path, r.authorizer))
            .collect();
        assert_eq!(auth["/private"].as_deref(), Some("Jwt"));
        assert_eq!(auth["/public"], None);
        assert_eq!(auth["/admin"].as_deref(), Some("Admin"));
        assert_eq!(auth["/implicit"].as_deref(), Some("Implicit"));
    }

    /// An authorizer the route's API does not declare is refused, as `sam deploy` would.
    #[test]
    fn unknown_authorizers_are_errors() {
        for (from, to) in [
            ("Auth: {Authorizer: Admin}", "Auth: {Authorizer: Nobody}"),
            ("DefaultAuthorizer: Jwt", "DefaultAuthorizer: Nobody"),
            // Admin is the explicit API's, not the implicit one's.
            (
                "{Path: /implicit, Method: GET}",
                "{Path: /implicit, Method: GET, Auth: {Authorizer: Admin}}",
            ),
            (
                "ApiId: !Ref Api, Path: /private",
                "ApiId: !Ref Fn, Path: /private",
            ),
        ] {
            assert!(SAMPLE_AUTH.contains(from), "{from}");
            let t = Template::parse(&SAMPLE_AUTH.replace(from, to)).expect("parses");
            assert!(
                matches!(t.http_routes(), Err(TemplateError::Shape(_))),
                "{to} should be refused"
            );
        }
    }

    /// A route is public in template.yaml (no authorizer) exactly when its operation is public in
    /// api/openapi.yaml (`security: []`, or `[{}]`); otherwise API Gateway answers 401 where the
    /// contract promises an anonymous answer, or serves anonymously what the contract protects.
    #[test]
    fn route_auth_matches_the_contract_security() {
        let text = std::fs::read_to_string(repo_root().join("api/openapi.yaml")).expect("openapi");
        let spec: Value = serde_yaml_ng::from_str(&text).expect("openapi parses");
        let is_public = |security: Option<&Value>| match security {
            None => true,
            Some(Value::Sequence(reqs)) => {
                reqs.is_empty()
                    || (reqs.len() == 1 && reqs[0].as_mapping().is_some_and(|m| m.is_empty()))
            }
            Some(_) => false,
        };
        let mut disagreements = Vec::new();
        for route in Template::load_repo()
            .expect("template")
            .http_routes()
            .expect("routes")
        {
            let Some(op) = spec
                .get("paths")
                .and_then(|p| p.get(route.path.as_str()))
                .and_then(|p| p.get(route.method.to_lowercase().as_str()))
            else {
                continue; // openapi_documents_every_deployed_route reports it
            };
            let security = op.get("security").or_else(|| spec.get("security"));
            if is_public(security) != route.authorizer.is_none() {
                disagreements.push(format!(
                    "{} {}: template.yaml authorizer {} but api/openapi.yaml security {}",
                    route.method,
                    route.path,
                    route.authorizer.as_deref().unwrap_or("NONE (public)"),
                    security.map_or_else(
                        || "absent (public)".to_owned(),
                        |s| serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
                    ),
                ));
            }
        }
        assert!(
            disagreements.is_empty(),
            "route auth and the contract disagree:\n{}",
            disagreements.join("\n")
        );
    }

    /// The payments routes: the webhook is public (Stripe signs it, it sends no bearer token),
    /// the payout routes are behind the API's JWT authorizer like every seller route.
    #[test]
    fn payments_routes() {
        let routes = Template::load_repo()
            .expect("template")
            .http_routes()
            .expect("routes");
        let find = |method: &str, path: &str| {
            routes
                .iter()
                .find(|r| r.method == method && r.path == path)
                .unwrap_or_else(|| panic!("{method} {path} is not deployed"))
        };
        let webhook = find("POST", "/payments/webhook");
        assert_eq!(webhook.function, "payments");
        assert_eq!(webhook.authorizer, None);
        for (method, path) in [
            ("POST", "/shops/{shop_id}/payouts/account"),
            ("GET", "/shops/{shop_id}/payouts"),
        ] {
            let route = find(method, path);
            assert_eq!(route.function, "payments");
            assert_eq!(route.authorizer.as_deref(), Some("CognitoJwt"));
        }
    }

    /// `(condition, actions, resource)` of every policy statement of a function: `condition` is
    /// the `!If` condition a statement is under, `resource` the statement's resources as YAML text.
    fn statements(t: &Template, logical_id: &str) -> Vec<(Option<String>, Vec<String>, String)> {
        let mut out = Vec::new();
        let policies = t.policies(logical_id);
        for policy in policies {
            for statement in policy
                .get("Statement")
                .and_then(Value::as_sequence)
                .into_iter()
                .flatten()
            {
                let (condition, statement) = match statement {
                    Value::Tagged(tagged) if tagged.tag == "If" => {
                        let parts = tagged.value.as_sequence().expect("!If [cond, a, b]");
                        (parts[0].as_str().map(str::to_owned), parts[1].clone())
                    }
                    other => (None, other.clone()),
                };
                let actions = statement
                    .get("Action")
                    .and_then(Value::as_sequence)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect();
                let resource =
                    serde_yaml_ng::to_string(statement.get("Resource").expect("Resource"))
                        .expect("yaml");
                out.push((condition, actions, resource));
            }
        }
        out
    }

    /// Least privilege for the Stripe keys: a function reads a secret (GetSecretValue on exactly
    /// that ARN parameter, only when PaymentsProvider is stripe) exactly when its environment
    /// names the secret's ARN; no other function reads any secret.
    #[test]
    fn stripe_secrets_are_readable_by_exactly_the_functions_that_name_them() {
        let t = Template::load_repo().expect("template");
        // Each variable as the name of what it refers to (`!Sub` and `!GetAtt`: a placeholder).
        let names = |v: &Value| {
            Some(
                ref_target(v)
                    .map(str::to_owned)
                    .or_else(|| scalar(v))
                    .unwrap_or_default(),
            )
        };
        let mut readers = BTreeMap::new();
        for f in t.functions().expect("functions") {
            let env = t
                .function_environment(&f.logical_id, &names)
                .expect("environment");
            let mut declared = BTreeSet::new();
            for (var, parameter) in [
                ("STRIPE_SECRET_ARN", "StripeSecretKeyArn"),
                ("STRIPE_WEBHOOK_SECRET_ARN", "StripeWebhookSecretArn"),
            ] {
                if let Some(p) = env.get(var) {
                    assert_eq!(p, parameter, "{}: {var}", f.logical_id);
                    declared.insert(format!("!Ref {parameter}\n"));
                }
            }
            let mut granted = BTreeSet::new();
            for (condition, actions, resource) in statements(&t, &f.logical_id) {
                if actions.iter().any(|a| a.starts_with("secretsmanager:")) {
                    assert_eq!(
                        actions,
                        ["secretsmanager:GetSecretValue"],
                        "{}",
                        f.logical_id
                    );
                    assert_eq!(condition.as_deref(), Some("IsStripe"), "{}", f.logical_id);
                    granted.insert(resource);
                }
            }
            assert_eq!(granted, declared, "{}", f.logical_id);
            if !declared.is_empty() {
                readers.insert(f.binary, declared.len());
            }
        }
        let expected: BTreeMap<String, usize> = [
            ("checkout", 1),
            ("payments", 2),
            ("settlement", 1),
            ("reconcile", 1),
        ]
        .into_iter()
        .map(|(f, n)| (f.to_owned(), n))
        .collect();
        assert_eq!(readers, expected);
    }

    /// Least privilege for the table: every function's DynamoDB statements allow exactly what it
    /// uses — the accesses recorded from its requests in `make test` (infra/dynamodb-access.tsv)
    /// and the few declared with their reasons (infra/dynamodb-access-declared.tsv): each one is
    /// allowed, with each payments provider it happens with, and every grant (action × table or
    /// index × partition-key prefix) is used by one. Every table and index statement is limited by
    /// `dynamodb:LeadingKeys` (see infra/src/access.rs for the IAM semantics modelled).
    #[test]
    fn every_functions_dynamodb_policy_is_exactly_what_it_uses() {
        let t = Template::load_repo().expect("template");
        let expected = crate::access::expected_accesses().expect("the access files parse");
        let problems = crate::access::check_policies(&t, &expected).expect("policies parse");
        assert!(
            problems.is_empty(),
            "template.yaml and the functions' DynamoDB accesses disagree:\n{}",
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        );
        // Every function that touches the table has its accesses on file (a new function's
        // are recorded by `BAZAAR_UPDATE_ACCESS=1 make test`).
        for f in t.functions().expect("functions") {
            let grants = crate::access::grants(&t, &f.logical_id).expect("grants");
            let on_table = grants.iter().any(|g| {
                g.resources
                    .iter()
                    .any(|r| !matches!(r, crate::access::Resource::Stream))
            });
            assert_eq!(
                on_table,
                expected.iter().any(|a| a.function == f.binary),
                "{}: table grants and recorded accesses",
                f.logical_id
            );
        }
    }

    /// The accesses the per-user write quotas add (`QUOTA#<user id>` counters: UpdateItem, in a
    /// write's own transaction or alone; cart writes and checkout also read theirs in their
    /// first BatchGetItem, to answer 429 before planning) are granted to exactly the functions
    /// that take user writes.
    #[test]
    fn quota_counters_are_writable_by_the_functions_that_take_user_writes() {
        let expected = crate::access::expected_accesses().expect("the access files parse");
        let quota: Vec<_> = expected
            .iter()
            .filter(|a| a.keys.contains("QUOTA#*"))
            .collect();
        for a in &quota {
            assert!(
                matches!(a.action.as_str(), "UpdateItem" | "BatchGetItem"),
                "{}",
                a.line()
            );
        }
        let writers: BTreeSet<&str> = quota
            .iter()
            .filter(|a| a.action == "UpdateItem")
            .map(|a| a.function.as_str())
            .collect();
        assert_eq!(
            writers,
            BTreeSet::from([
                "add-to-cart",
                "cart",
                "catalog",
                "checkout",
                "favorites",
                "orders"
            ])
        );
    }

    /// No function can be deployed with local auth: every function's environment says
    /// `AUTH_MODE: authorizer` as a literal (no parameter feeds it, so no `--parameter-overrides`
    /// can change it — which is also why a CloudFormation Rule or AllowedValues has nothing to
    /// constrain), and none carries a local-only setting (the secret, the local stack's marker,
    /// fault injection, the stub delay). A function would refuse local auth in Lambda anyway
    /// (`bazaar_lambda::env::LAMBDA_IN_AWS`).
    #[test]
    fn no_function_is_deployed_with_local_auth() {
        let t = Template::load_repo().expect("template");
        let text = |v: &Value| Some(scalar(v).unwrap_or_else(|| format!("(an intrinsic: {v:?})")));
        for f in t.functions().expect("functions") {
            let env = t
                .function_environment(&f.logical_id, &text)
                .expect("environment");
            assert_eq!(
                env.get("AUTH_MODE").map(String::as_str),
                Some("authorizer"),
                "{}",
                f.logical_id
            );
            for local_only in [
                "LOCAL_JWT_SECRET",
                bazaar_lambda::env::LOCAL_STACK,
                "FAULT_INJECTION",
                "PAYMENTS_STUB_DELAY_MS",
            ] {
                assert!(
                    !env.contains_key(local_only),
                    "{}: {local_only} is local-only",
                    f.logical_id
                );
            }
        }
    }

    /// The seeds' peak requests per second per operation (shared/seeds, "Request Patterns"), the
    /// routes each stands for, and the template parameters that throttle them.
    const SEED_PEAKS: &[(&str, f64, &[&str])] = &[
        (
            "ProductPage",
            10.0,
            &[
                "GET /products/{product_id}",
                "GET /products/{product_id}/recommendations",
            ],
        ),
        ("Search", 5.0, &["GET /search"]),
        ("Feed", 3.0, &["GET /feed", "GET /trending"]),
        ("AddToCart", 1.0, &["POST /cart/items"]),
        ("Checkout", 0.5, &["POST /checkout"]),
    ];
    /// Every other route: the seeds give no figure; the add-to-cart's.
    const DEFAULT_PEAK: f64 = 1.0;
    /// Route limits are the peak times this (bursts twice the rate).
    const HEADROOM: f64 = 10.0;

    /// Every route of the API is throttled by parameters whose defaults are the seeds' peak for its
    /// operation with 10x headroom (bursts twice the rate); every route key of `RouteSettings` is
    /// a deployed route (API Gateway refuses a stage naming a route it does not have).
    #[test]
    fn route_throttles_follow_the_seeds() {
        let t = Template::load_repo().expect("template");
        let api = t
            .resource("HttpApi")
            .and_then(|r| r.get("Properties"))
            .expect("HttpApi");
        let routes: BTreeSet<String> = t
            .http_routes()
            .expect("routes")
            .into_iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        let per_route = api
            .get("RouteSettings")
            .and_then(Value::as_mapping)
            .expect("RouteSettings");
        for key in per_route.keys() {
            let key = key.as_str().expect("a route key");
            assert!(
                routes.contains(key),
                "RouteSettings names {key}, not a route"
            );
        }
        let param = |v: Option<&Value>| -> (String, f64) {
            let name = v.and_then(ref_target).expect("a !Ref of a parameter");
            let default = t
                .parameter_default(name)
                .and_then(|d| d.parse::<f64>().ok())
                .unwrap_or_else(|| panic!("{name} has a numeric default"));
            (name.to_owned(), default)
        };
        for route in &routes {
            let (group, peak) = SEED_PEAKS
                .iter()
                .find(|(_, _, rs)| rs.contains(&route.as_str()))
                .map_or(("DefaultRoute", DEFAULT_PEAK), |(g, p, _)| (*g, *p));
            let settings = per_route
                .get(route.as_str())
                .or_else(|| api.get("DefaultRouteSettings"))
                .expect("route settings");
            assert_eq!(
                per_route.contains_key(route.as_str()),
                group != "DefaultRoute",
                "{route}: its own settings exactly when the seeds size it"
            );
            let (rate_name, rate) = param(settings.get("ThrottlingRateLimit"));
            let (burst_name, burst) = param(settings.get("ThrottlingBurstLimit"));
            assert_eq!(rate_name, format!("{group}RateLimit"), "{route}");
            assert_eq!(burst_name, format!("{group}BurstLimit"), "{route}");
            assert_eq!(rate, peak * HEADROOM, "{route}: {rate_name}");
            assert_eq!(burst, 2.0 * rate, "{route}: {burst_name}");
        }
    }

    /// The per-IP limit at the edge is optional and off by default: AWS WAF cannot attach to an
    /// HTTP API, so with `EdgeProtection: cloudfront-waf` a CloudFront distribution fronts the API
    /// with a web ACL whose rate-based rule (per IP, `PublicRateLimitPerIp` a minute, 429) covers
    /// exactly the public GET routes of the template; with the default none of it exists.
    #[test]
    fn the_per_ip_edge_limit_is_optional_and_covers_the_public_routes() {
        let t = Template::load_repo().expect("template");
        assert_eq!(
            t.parameter_default("EdgeProtection").as_deref(),
            Some("none")
        );
        let default = crate::access::Scenario::new(&t, &[]).expect("defaults");
        let on = crate::access::Scenario::new(&t, &[("EdgeProtection", "cloudfront-waf")])
            .expect("cloudfront-waf");
        assert_eq!(default.conditions.get("HasEdgeWaf"), Some(&false));
        assert_eq!(on.conditions.get("HasEdgeWaf"), Some(&true));
        let edge: Vec<&str> = ["AWS::WAFv2::WebACL", "AWS::CloudFront::Distribution"]
            .iter()
            .flat_map(|ty| t.resources_of_type(ty).map(|(id, _)| id))
            // The storefront's distribution serves web/ from S3; it does not front the API.
            .filter(|id| *id != "WebDistribution")
            .collect();
        assert_eq!(edge, ["EdgeWebAcl", "EdgeDistribution"]);
        // The web ACL only with cloudfront-waf; the distribution with cloudfront too.
        let cloudfront = crate::access::Scenario::new(&t, &[("EdgeProtection", "cloudfront")])
            .expect("cloudfront");
        for (scenario, edge, waf) in [
            (&default, false, false),
            (&on, true, true),
            (&cloudfront, true, false),
        ] {
            assert_eq!(scenario.conditions.get("HasEdge"), Some(&edge));
            assert_eq!(scenario.conditions.get("HasEdgeWaf"), Some(&waf));
        }
        for (id, expected) in [
            ("EdgeWebAcl", "HasEdgeWaf"),
            ("EdgeDistribution", "HasEdge"),
        ] {
            let condition = t.resource(id).and_then(|r| r.get("Condition"));
            assert_eq!(condition.and_then(Value::as_str), Some(expected), "{id}");
        }
        let output = t.root().get("Outputs").and_then(|o| o.get("EdgeUrl"));
        assert_eq!(
            output
                .and_then(|o| o.get("Condition"))
                .and_then(Value::as_str),
            Some("HasEdge")
        );

        let acl = t
            .resource("EdgeWebAcl")
            .and_then(|r| r.get("Properties"))
            .expect("web ACL");
        assert_eq!(acl.get("Scope").and_then(Value::as_str), Some("CLOUDFRONT"));
        let rules = acl
            .get("Rules")
            .and_then(Value::as_sequence)
            .expect("rules");
        assert_eq!(rules.len(), 1);
        let rule = &rules[0];
        assert_eq!(
            rule.get("Action")
                .and_then(|a| a.get("Block"))
                .and_then(|b| b.get("CustomResponse"))
                .and_then(|c| c.get("ResponseCode"))
                .and_then(scalar)
                .as_deref(),
            Some("429")
        );
        let rate = rule
            .get("Statement")
            .and_then(|s| s.get("RateBasedStatement"))
            .expect("a rate-based rule");
        assert_eq!(
            rate.get("AggregateKeyType").and_then(Value::as_str),
            Some("IP")
        );
        assert_eq!(
            rate.get("Limit").and_then(ref_target),
            Some("PublicRateLimitPerIp")
        );
        assert_eq!(
            rate.get("EvaluationWindowSec").and_then(scalar).as_deref(),
            Some("60")
        );
        let scope = rate
            .get("ScopeDownStatement")
            .and_then(|s| s.get("AndStatement"))
            .and_then(|a| a.get("Statements"))
            .and_then(Value::as_sequence)
            .expect("scope-down statements");
        let method = scope
            .iter()
            .find_map(|s| s.get("ByteMatchStatement"))
            .expect("the method match");
        assert!(
            method
                .get("FieldToMatch")
                .and_then(|f| f.get("Method"))
                .is_some()
        );
        assert_eq!(
            method.get("SearchString").and_then(Value::as_str),
            Some("GET")
        );
        assert_eq!(
            method.get("PositionalConstraint").and_then(Value::as_str),
            Some("EXACTLY")
        );
        let pattern = scope
            .iter()
            .find_map(|s| s.get("RegexMatchStatement"))
            .and_then(|r| r.get("RegexString"))
            .and_then(Value::as_str)
            .expect("the path pattern");
        let pattern = regex::Regex::new(pattern).expect("a valid pattern");
        let mut public = 0;
        for route in t
            .http_routes()
            .expect("routes")
            .iter()
            .filter(|r| r.method == "GET")
        {
            let path = route
                .path
                .split('/')
                .map(|seg| if seg.starts_with('{') { "x1-Y_2" } else { seg })
                .collect::<Vec<_>>()
                .join("/");
            let is_public = route.authorizer.is_none();
            public += usize::from(is_public);
            assert_eq!(
                pattern.is_match(&path),
                is_public,
                "GET {}: limited exactly when public",
                route.path
            );
        }
        assert!(public >= 7, "the public GET routes ({public})");

        let distribution = t
            .resource("EdgeDistribution")
            .and_then(|r| r.get("Properties"))
            .and_then(|p| p.get("DistributionConfig"))
            .expect("distribution");
        let acl_id = serde_yaml_ng::to_string(distribution.get("WebACLId").expect("WebACLId"))
            .expect("yaml");
        assert!(
            acl_id.contains("HasEdgeWaf") && acl_id.contains("EdgeWebAcl"),
            "{acl_id}"
        );
        let origin =
            serde_yaml_ng::to_string(distribution.get("Origins").expect("origins")).expect("yaml");
        assert!(origin.contains("${HttpApi}.execute-api."), "{origin}");
    }

    /// The edge caches the public reads (`EdgeProtection` cloudfront or cloudfront-waf): every
    /// public GET route but `/health` falls under a cache behavior whose policy stores only what
    /// the API's `Cache-Control` allows (DefaultTTL 0), keys on the whole query string and no
    /// cookie, and has `Authorization` in its key (CloudFront forwards it only then): anonymous
    /// requests share entries, a token's request never hits one (its answer is `no-store`).
    #[test]
    fn the_edge_caches_public_reads_keyed_on_the_query_and_authorization() {
        let t = Template::load_repo().expect("template");
        let policy = t.resource("EdgePublicReadCache").expect("the cache policy");
        assert_eq!(
            policy.get("Condition").and_then(Value::as_str),
            Some("HasEdge")
        );
        let config = policy
            .get("Properties")
            .and_then(|p| p.get("CachePolicyConfig"))
            .expect("config");
        for (ttl, expected) in [("MinTTL", "0"), ("DefaultTTL", "0")] {
            assert_eq!(
                config.get(ttl).and_then(scalar).as_deref(),
                Some(expected),
                "{ttl}"
            );
        }
        let key = config
            .get("ParametersInCacheKeyAndForwardedToOrigin")
            .expect("key");
        let field = |a: &str, b: &str| {
            key.get(a)
                .and_then(|v| v.get(b))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        assert_eq!(
            field("QueryStringsConfig", "QueryStringBehavior").as_deref(),
            Some("all")
        );
        assert_eq!(
            field("CookiesConfig", "CookieBehavior").as_deref(),
            Some("none")
        );
        assert_eq!(
            field("HeadersConfig", "HeaderBehavior").as_deref(),
            Some("whitelist")
        );
        let headers: Vec<&str> = key
            .get("HeadersConfig")
            .and_then(|h| h.get("Headers"))
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(headers, ["Authorization"]);

        let distribution = t
            .resource("EdgeDistribution")
            .and_then(|r| r.get("Properties"))
            .and_then(|p| p.get("DistributionConfig"))
            .expect("distribution");
        // Everything else is not cached (managed CachingDisabled).
        assert_eq!(
            distribution
                .get("DefaultCacheBehavior")
                .and_then(|b| b.get("CachePolicyId"))
                .and_then(Value::as_str),
            Some("4135ea2d-6df8-44a3-9df3-4b5a84be39ad")
        );
        let behaviors: Vec<(String, bool)> = distribution
            .get("CacheBehaviors")
            .and_then(Value::as_sequence)
            .expect("cache behaviors")
            .iter()
            .map(|b| {
                (
                    b.get("PathPattern")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned(),
                    b.get("CachePolicyId").and_then(ref_target) == Some("EdgePublicReadCache"),
                )
            })
            .collect();
        let glob = |pattern: &str, path: &str| match pattern.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => pattern == path,
        };
        let mut covered = 0;
        for route in t
            .http_routes()
            .expect("routes")
            .iter()
            .filter(|r| r.method == "GET" && r.authorizer.is_none() && r.path != "/health")
        {
            let hit = behaviors.iter().find(|(p, _)| glob(p, &route.path));
            assert!(
                hit.is_some_and(|(_, cached)| *cached),
                "GET {} is not under the public-read cache",
                route.path
            );
            covered += 1;
        }
        assert!(covered >= 6, "the public reads ({covered})");
    }

    #[test]
    fn the_repository_template_parses() {
        let t = Template::load_repo().expect("template.yaml parses");
        assert!(!t.http_routes().expect("routes").is_empty());
        assert!(t.resources_of_type("AWS::DynamoDB::Table").count() >= 1);
    }
}
