//! What each function may ask of the table (its IAM policy in template.yaml) against what it
//! does ask (a recording of its DynamoDB requests).
//!
//! **Where the expected accesses come from.** `make test` runs every function binary behind the
//! local Lambda service, each with its own access key (`fn-<function>`, see
//! [`crate::gateway::local_access_key`]), against moto started with `MOTO_RECORD_DYNAMODB`
//! (infra/moto_server.py `Recorder`): every distinct DynamoDB access is written down as IAM
//! authorizes it — the action (each item of a transaction on its own: `PutItem`, `UpdateItem`,
//! `DeleteItem`, `ConditionCheckItem`), the table or index, and the `dynamodb:LeadingKeys` values
//! reduced to their prefix (`PRODUCT#<id>` → `PRODUCT#*`). After the tests, `bazaar-local
//! dynamodb-access` ([`run`]) checks that recording against the template's policies and against
//! [`RECORDED_FILE`], the committed union of such recordings: a request the file does not hold fails
//! `make test` until it is added (`BAZAAR_UPDATE_ACCESS=1 make test`) and granted. The few
//! accesses no end-to-end test makes are declared in [`DECLARED_FILE`], each with its reason.
//!
//! The unit test `every_functions_dynamodb_policy_is_exactly_what_it_uses` (template.rs) then holds
//! template.yaml to both files without any emulator: every expected access is allowed, and every
//! DynamoDB grant (action × table or index × key prefix) is used by one — nothing broader.
//!
//! The IAM model is the subset the template uses, evaluated as IAM does: `Allow` statements,
//! `dynamodb:<Action>` actions on `!GetAtt Table.Arn` or `!Sub "${Table.Arn}/index/<name>"`, and a
//! `ForAllValues:StringLike` (or `StringEquals`) condition on `dynamodb:LeadingKeys` — every
//! partition key of the request must match one pattern of the *same* statement (a `BatchGetItem`
//! of products and shops needs both prefixes in one statement). A request without partition keys
//! (a `Scan`) satisfies any `ForAllValues` condition, so a `Scan` grant is never harmless: none is
//! granted unless recorded. Statements under `!If [Condition, …]` apply in the scenarios where
//! the condition holds; the test gateway's partitions (`TEST…`, schema.rs) are used exactly when
//! `PaymentsProvider` is `test`.

use crate::template::{Template, getatt_target, ref_target, repo_root, scalar};
use serde_yaml_ng::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The committed recording: every DynamoDB access the functions made in `make test` runs.
pub const RECORDED_FILE: &str = "infra/dynamodb-access.tsv";
/// Accesses the end-to-end tests do not make, each with the reason it is expected anyway.
pub const DECLARED_FILE: &str = "infra/dynamodb-access-declared.tsv";

/// The partition-key prefix of the built-in test gateway's items (`TESTPAY#`, `TESTPAYS`,
/// `TESTKEY#`, `TESTACCT#`, `TESTGROUP#`, `TESTTRANSFER#`; schema.rs): a function uses them
/// exactly when the template's `PaymentsProvider` is `test`.
pub const TEST_GATEWAY_PREFIX: &str = "TEST";

/// The recorded value of a request that names no partition: a `Scan` (every partition).
pub const EVERY_PARTITION: &str = "*";
/// The recorded value of a request that names no item (`DescribeTable`).
pub const NO_ITEM: &str = "-";

/// Where an access goes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// The template's `Table`.
    Table,
    /// One of its indexes.
    Index(String),
}

impl Target {
    pub fn parse(s: &str) -> Option<Target> {
        match s.split_once("/index/") {
            None if s == "Table" => Some(Target::Table),
            Some(("Table", index)) if !index.is_empty() && !index.contains('/') => {
                Some(Target::Index(index.to_owned()))
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Table => f.write_str("Table"),
            Target::Index(i) => write!(f, "Table/index/{i}"),
        }
    }
}

/// One DynamoDB access of a function, as IAM authorizes it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Access {
    /// The function's binary (the template's `BuildProperties.Binary`).
    pub function: String,
    /// The IAM action without its `dynamodb:` prefix (`GetItem`).
    pub action: String,
    pub target: Target,
    /// The prefixes of the request's partition keys (`PRODUCT#*`, `TRENDING`), or
    /// [`EVERY_PARTITION`] / [`NO_ITEM`].
    pub keys: BTreeSet<String>,
}

impl Access {
    /// The values IAM compares with `dynamodb:LeadingKeys` (none for a `Scan` or `DescribeTable`).
    pub fn leading_keys(&self) -> impl Iterator<Item = &str> {
        self.keys
            .iter()
            .map(String::as_str)
            .filter(|k| *k != EVERY_PARTITION && *k != NO_ITEM)
    }

    /// Whether only the test gateway makes this access (see [`TEST_GATEWAY_PREFIX`]).
    pub fn is_test_gateways(&self) -> bool {
        let mut keys = self.leading_keys().peekable();
        keys.peek().is_some() && keys.all(|k| k.starts_with(TEST_GATEWAY_PREFIX))
    }

    /// The tab-separated line of the access files.
    pub fn line(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}",
            self.function,
            self.action,
            self.target,
            self.keys.iter().cloned().collect::<Vec<_>>().join(",")
        )
    }

    fn parse_fields(fields: &[&str], ctx: &str) -> Result<Access, String> {
        let [function, action, target, keys, ..] = fields else {
            return Err(format!(
                "{ctx}: expected function, action, resource and leading keys"
            ));
        };
        let target =
            Target::parse(target).ok_or_else(|| format!("{ctx}: unknown resource {target}"))?;
        let keys: BTreeSet<String> = keys.split(',').map(str::to_owned).collect();
        if keys.iter().any(|k| k.is_empty() || k.contains('?')) {
            return Err(format!("{ctx}: unreadable leading keys {keys:?}"));
        }
        Ok(Access {
            function: (*function).to_owned(),
            action: (*action).to_owned(),
            target,
            keys,
        })
    }
}

/// The action of a declared line saying that a function makes every access another one makes
/// (`reconcile same-as settlement - <reason>`: the same code runs in both).
pub const SAME_AS: &str = "same-as";

/// The accesses of a file and its [`SAME_AS`] lines (`(function, other function)`).
pub type AccessFile = (Vec<Access>, Vec<(String, String)>);

/// Reads an access file (tab-separated; blank lines and `#` comments skipped). In the declared
/// file (`declared`) every line needs its reason (a fifth column) and may be a [`SAME_AS`] line,
/// returned apart as `(function, other function)`.
pub fn parse_accesses(text: &str, source: &str, declared: bool) -> Result<AccessFile, String> {
    let (mut out, mut same) = (Vec::new(), Vec::new());
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let ctx = format!("{source}:{}", n + 1);
        let fields: Vec<&str> = line.split('\t').collect();
        if declared && fields.get(4).is_none_or(|r| r.trim().is_empty()) {
            return Err(format!("{ctx}: a declared access needs its reason"));
        }
        match fields.as_slice() {
            [function, action, other, ..] if *action == SAME_AS && declared => {
                same.push(((*function).to_owned(), (*other).to_owned()));
            }
            _ => out.push(Access::parse_fields(&fields, &ctx)?),
        }
    }
    Ok((out, same))
}

/// The expected accesses: [`RECORDED_FILE`] and [`DECLARED_FILE`] of the repository, with each
/// [`SAME_AS`] line expanded (the function gets every expected access of the other).
pub fn expected_accesses() -> Result<Vec<Access>, String> {
    let read = |file: &str| {
        std::fs::read_to_string(repo_root().join(file)).map_err(|e| format!("{file}: {e}"))
    };
    let (recorded, _) = parse_accesses(&read(RECORDED_FILE)?, RECORDED_FILE, false)?;
    let (declared, same) = parse_accesses(&read(DECLARED_FILE)?, DECLARED_FILE, true)?;
    Ok(expand(
        recorded.into_iter().chain(declared).collect(),
        &same,
    ))
}

/// `accesses` with every `(a, b)` of `same`: `a` makes what `b` makes (to a fixed point).
pub fn expand(accesses: Vec<Access>, same: &[(String, String)]) -> Vec<Access> {
    let mut all: BTreeSet<Access> = accesses.into_iter().collect();
    loop {
        let before = all.len();
        let copies: Vec<Access> = same
            .iter()
            .flat_map(|(a, b)| {
                all.iter()
                    .filter(move |x| &x.function == b)
                    .map(move |x| Access {
                        function: a.clone(),
                        ..x.clone()
                    })
            })
            .collect();
        all.extend(copies);
        if all.len() == before {
            return all.into_iter().collect();
        }
    }
}

/// Reads the emulator's raw recording (`MOTO_RECORD_DYNAMODB`): the functions' accesses to the
/// stack's table (`table_name`); other callers (the tests, the seed) are left out. A function's
/// access to another table, or one the recorder could not read, is an error.
pub fn parse_recording(text: &str, table_name: &str) -> Result<Vec<Access>, String> {
    let mut out = BTreeSet::new();
    let mut errors = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        let Some(function) = fields
            .first()
            .and_then(|k| k.strip_prefix(crate::gateway::LOCAL_ACCESS_KEY_PREFIX))
        else {
            continue;
        };
        let resource = fields.get(2).copied().unwrap_or_default();
        let target = match resource.split_once("/index/") {
            None if resource == table_name => "Table".to_owned(),
            Some((t, index)) if t == table_name => format!("Table/index/{index}"),
            _ if resource == NO_ITEM => {
                errors.push(format!("{function}: {line}: a call on no table"));
                continue;
            }
            _ => {
                errors.push(format!(
                    "{function} used {resource}, not the stack's table {table_name}"
                ));
                continue;
            }
        };
        let mut normalized: Vec<&str> = fields.clone();
        normalized[0] = function;
        if let Some(t) = normalized.get_mut(2) {
            *t = &target;
        }
        match Access::parse_fields(&normalized, &format!("recording: {line}")) {
            Ok(a) => {
                out.insert(a);
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(out.into_iter().collect())
    } else {
        Err(errors.join("\n"))
    }
}

/// How a statement limits `dynamodb:LeadingKeys`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCondition {
    /// `StringLike` (`*` and `?` wildcards) rather than `StringEquals`.
    pub like: bool,
    pub patterns: Vec<String>,
}

/// A resource of a DynamoDB statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    Table,
    /// An index by name, or every index (`*`).
    Index(String),
    /// The table's stream (read by the event source mapping, which Lambda runs with the
    /// function's role; never a request of the function itself).
    Stream,
}

/// The DynamoDB part of one policy statement of a function.
#[derive(Debug, Clone)]
pub struct Grant {
    pub sid: String,
    /// The `!If` the statement is under: the condition and the branch it is in.
    pub when: Option<(String, bool)>,
    /// The actions without their `dynamodb:` prefix.
    pub actions: BTreeSet<String>,
    pub resources: Vec<Resource>,
    pub keys: Option<KeyCondition>,
}

impl Grant {
    fn covers(&self, target: &Target) -> bool {
        self.resources.iter().any(|r| match (r, target) {
            (Resource::Table, Target::Table) => true,
            (Resource::Index(p), Target::Index(i)) => p == "*" || p == i,
            _ => false,
        })
    }

    fn active(&self, scenario: &Scenario) -> bool {
        self.when
            .as_ref()
            .is_none_or(|(c, branch)| scenario.conditions.get(c) == Some(branch))
    }
}

/// IAM's `StringLike`: `*` is any run of characters, `?` any one.
pub fn like(pattern: &str, value: &str) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
    // matches[i][j]: p[..i] matches v[..j]
    let mut row = vec![false; v.len() + 1];
    row[0] = true;
    for pc in &p {
        let mut next = vec![false; v.len() + 1];
        next[0] = row[0] && *pc == '*';
        for j in 1..=v.len() {
            next[j] = match pc {
                '*' => next[j - 1] || row[j],
                '?' => row[j - 1],
                c => row[j - 1] && *c == v[j - 1],
            };
        }
        row = next;
    }
    row[v.len()]
}

/// Whether `condition` allows the recorded key prefix `key` — every key with that prefix: a
/// prefix (`PRODUCT#*`) is allowed by a pattern that matches it as written, never by
/// `StringEquals`.
fn key_allowed(condition: &KeyCondition, key: &str) -> bool {
    condition.patterns.iter().any(|p| {
        if condition.like {
            like(p, key)
        } else {
            !key.contains('*') && p == key
        }
    })
}

/// Whether `grant` alone allows `access` (IAM needs one statement to allow a request whole).
pub fn grant_allows(grant: &Grant, access: &Access) -> bool {
    grant.actions.contains(&access.action)
        && grant.covers(&access.target)
        && match &grant.keys {
            None => true,
            // ForAllValues: every leading key matches (vacuous without any).
            Some(c) => access.leading_keys().all(|k| key_allowed(c, k)),
        }
}

/// The template's parameter values of one deployment, and its conditions evaluated.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub parameters: BTreeMap<String, String>,
    pub conditions: BTreeMap<String, bool>,
}

impl Scenario {
    /// The template's defaults with `overrides`, and every condition of the template evaluated.
    pub fn new(template: &Template, overrides: &[(&str, &str)]) -> Result<Scenario, String> {
        let mut parameters = BTreeMap::new();
        if let Some(params) = template
            .root()
            .get("Parameters")
            .and_then(Value::as_mapping)
        {
            for (k, v) in params {
                if let (Some(k), Some(d)) = (k.as_str(), v.get("Default").and_then(scalar)) {
                    parameters.insert(k.to_owned(), d);
                }
            }
        }
        for (k, v) in overrides {
            parameters.insert((*k).to_owned(), (*v).to_owned());
        }
        let mut scenario = Scenario {
            name: overrides
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" "),
            parameters,
            conditions: BTreeMap::new(),
        };
        if let Some(conds) = template
            .root()
            .get("Conditions")
            .and_then(Value::as_mapping)
        {
            for (k, v) in conds {
                let name = k.as_str().ok_or("a condition name is not a string")?;
                let value = scenario
                    .eval(v)
                    .map_err(|e| format!("condition {name}: {e}"))?;
                scenario.conditions.insert(name.to_owned(), value);
            }
        }
        Ok(scenario)
    }

    /// `!Equals`, `!Not`, `!And`, `!Or` over `!Ref`s of parameters (and `us-east-1` for
    /// `AWS::Region`, the one region every condition here is evaluated for), literals and other
    /// conditions (`!Condition`).
    fn eval(&self, v: &Value) -> Result<bool, String> {
        let Value::Tagged(t) = v else {
            return Err(format!("unsupported condition {v:?}"));
        };
        let args = || t.value.as_sequence().ok_or("arguments are not a list");
        match t.tag.to_string().trim_start_matches('!') {
            "Equals" => {
                let a = args()?;
                let [x, y] = a.as_slice() else {
                    return Err("Equals takes two values".into());
                };
                Ok(self.scalar(x)? == self.scalar(y)?)
            }
            "Not" => Ok(!self.eval(args()?.first().ok_or("Not of nothing")?)?),
            "And" => args()?
                .iter()
                .try_fold(true, |acc, c| Ok(acc & self.eval(c)?)),
            "Or" => args()?
                .iter()
                .try_fold(false, |acc, c| Ok(acc | self.eval(c)?)),
            "Condition" => {
                let name = t.value.as_str().ok_or("Condition of a non-name")?;
                self.conditions
                    .get(name)
                    .copied()
                    .ok_or_else(|| format!("condition {name} is not defined before its use"))
            }
            other => Err(format!("unsupported condition function {other}")),
        }
    }

    fn scalar(&self, v: &Value) -> Result<String, String> {
        if let Some(name) = ref_target(v) {
            if name == "AWS::Region" {
                return Ok("us-east-1".to_owned());
            }
            return self
                .parameters
                .get(name)
                .cloned()
                .ok_or_else(|| format!("parameter {name} has no value"));
        }
        scalar(v).ok_or_else(|| format!("unsupported value {v:?}"))
    }

    /// Whether `access` happens in this deployment: the test gateway's only with
    /// `PaymentsProvider=test`, every other always.
    pub fn applies(&self, access: &Access) -> bool {
        !access.is_test_gateways()
            || self.parameters.get("PaymentsProvider").map(String::as_str) == Some("test")
    }
}

/// The scenarios the accesses are checked in: each payments provider.
pub fn scenarios(template: &Template) -> Result<Vec<Scenario>, String> {
    crate::local::PAYMENT_PROVIDERS
        .iter()
        .map(|p| Scenario::new(template, &[("PaymentsProvider", p)]))
        .collect()
}

fn resource_of(v: &Value, ctx: &str) -> Result<Resource, String> {
    if let Some((res, attr)) = getatt_target(v) {
        return match (res.as_str(), attr.as_str()) {
            ("Table", "Arn") => Ok(Resource::Table),
            ("Table", "StreamArn") => Ok(Resource::Stream),
            _ => Err(format!("{ctx}: DynamoDB actions on !GetAtt {res}.{attr}")),
        };
    }
    if let Value::Tagged(t) = v
        && t.tag == "Sub"
        && let Some(s) = t.value.as_str()
        && let Some(index) = s.strip_prefix("${Table.Arn}/index/")
        && !index.is_empty()
        && !index.contains('/')
    {
        return Ok(Resource::Index(index.to_owned()));
    }
    Err(format!("{ctx}: DynamoDB actions on {v:?}"))
}

fn key_condition(condition: &Value, ctx: &str) -> Result<Option<KeyCondition>, String> {
    let map = condition
        .as_mapping()
        .ok_or_else(|| format!("{ctx}: Condition is not a mapping"))?;
    let mut found = None;
    for (operator, keys) in map {
        let operator = operator.as_str().unwrap_or_default();
        let keys = keys
            .as_mapping()
            .ok_or_else(|| format!("{ctx}: {operator} is not a mapping"))?;
        for (key, values) in keys {
            if key.as_str() != Some("dynamodb:LeadingKeys") {
                return Err(format!(
                    "{ctx}: condition key {key:?} is not modelled (only dynamodb:LeadingKeys)"
                ));
            }
            let like = match operator {
                "ForAllValues:StringLike" => true,
                "ForAllValues:StringEquals" => false,
                other => {
                    return Err(format!(
                        "{ctx}: dynamodb:LeadingKeys under {other}: it is multivalued, use ForAllValues:StringLike"
                    ));
                }
            };
            let patterns: Vec<String> = match values {
                Value::Sequence(s) => s.iter().filter_map(scalar).collect(),
                v => scalar(v).into_iter().collect(),
            };
            if found.is_some() {
                return Err(format!("{ctx}: two conditions on dynamodb:LeadingKeys"));
            }
            found = Some(KeyCondition { like, patterns });
        }
    }
    Ok(found)
}

/// The DynamoDB grants of the function `logical_id`.
pub fn grants(template: &Template, logical_id: &str) -> Result<Vec<Grant>, String> {
    let mut out = Vec::new();
    let policies = template.policies(logical_id);
    for policy in &policies {
        let Some(statements) = policy.get("Statement").and_then(Value::as_sequence) else {
            return Err(format!(
                "{logical_id}: a policy that is not an inline document (SAM policy templates are not modelled)"
            ));
        };
        for (n, statement) in statements.iter().enumerate() {
            let (when, statement) = match statement {
                Value::Tagged(t) if t.tag == "If" => {
                    let parts = t.value.as_sequence().ok_or("!If [cond, a, b]")?;
                    let [cond, yes, no] = parts.as_slice() else {
                        return Err(format!("{logical_id}: !If takes three values"));
                    };
                    let cond = cond.as_str().ok_or("an !If condition is not a name")?;
                    let is_none = |v: &Value| ref_target(v) == Some("AWS::NoValue");
                    match (is_none(yes), is_none(no)) {
                        (false, true) => (Some((cond.to_owned(), true)), yes),
                        (true, false) => (Some((cond.to_owned(), false)), no),
                        _ => {
                            return Err(format!(
                                "{logical_id}: an !If statement must have AWS::NoValue on one side"
                            ));
                        }
                    }
                }
                other => (None, other),
            };
            let sid = statement
                .get("Sid")
                .and_then(Value::as_str)
                .map_or_else(|| format!("#{n}"), str::to_owned);
            let ctx = format!("{logical_id}.{sid}");
            let actions: BTreeSet<String> = match statement.get("Action") {
                Some(Value::Sequence(s)) => s.iter().filter_map(scalar).collect(),
                Some(v) => scalar(v).into_iter().collect(),
                None => return Err(format!("{ctx}: no Action")),
            };
            let dynamo: BTreeSet<String> = actions
                .iter()
                .filter_map(|a| a.strip_prefix("dynamodb:"))
                .map(str::to_owned)
                .collect();
            if dynamo.is_empty() {
                continue;
            }
            if dynamo.len() != actions.len() {
                return Err(format!(
                    "{ctx}: mixes DynamoDB and other actions (keep them apart)"
                ));
            }
            if statement.get("Effect").and_then(Value::as_str) != Some("Allow") {
                return Err(format!("{ctx}: only Allow statements are modelled"));
            }
            let resources = match statement.get("Resource") {
                Some(Value::Sequence(s)) => s
                    .iter()
                    .map(|r| resource_of(r, &ctx))
                    .collect::<Result<_, _>>()?,
                Some(v) => vec![resource_of(v, &ctx)?],
                None => return Err(format!("{ctx}: no Resource")),
            };
            let keys = match statement.get("Condition") {
                None => None,
                Some(c) => key_condition(c, &ctx)?,
            };
            out.push(Grant {
                sid,
                when,
                actions: dynamo,
                resources,
                keys,
            });
        }
    }
    Ok(out)
}

/// A disagreement between a policy and the expected accesses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// An expected access no statement allows (the function would get AccessDenied).
    Denied(String),
    /// A grant beyond what is expected, or one the model cannot vouch for.
    Broad(String),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Denied(s) | Problem::Broad(s) => f.write_str(s),
        }
    }
}

/// Holds every function's policy to `expected`: each access allowed in every scenario it happens
/// in, each grant used by an access (no action, index or key prefix beyond them), every table
/// and index grant limited by `dynamodb:LeadingKeys`, the test gateway's partitions granted only
/// with `PaymentsProvider=test`. Answers every disagreement (none: the policies are exact).
pub fn check_policies(template: &Template, expected: &[Access]) -> Result<Vec<Problem>, String> {
    let scenarios = scenarios(template)?;
    let mut problems = Vec::new();
    let functions = template.functions().map_err(|e| e.to_string())?;
    let known: BTreeSet<&str> = functions.iter().map(|f| f.binary.as_str()).collect();
    for a in expected {
        if !known.contains(a.function.as_str()) {
            problems.push(Problem::Denied(format!(
                "{}: no such function in template.yaml",
                a.line()
            )));
        }
    }
    for f in &functions {
        let grants = grants(template, &f.logical_id)?;
        let mine: Vec<&Access> = expected.iter().filter(|a| a.function == f.binary).collect();
        for access in &mine {
            let denied: Vec<&str> = scenarios
                .iter()
                .filter(|s| s.applies(access))
                .filter(|s| {
                    !grants
                        .iter()
                        .any(|g| g.active(s) && grant_allows(g, access))
                })
                .map(|s| s.name.as_str())
                .collect();
            if !denied.is_empty() {
                problems.push(Problem::Denied(format!(
                    "{}: denied to {} with {}: no one statement allows it",
                    access.line(),
                    f.logical_id,
                    denied.join(", ")
                )));
            }
        }
        for g in &grants {
            problems.extend(
                broad_grants(f, g, &mine, &scenarios)
                    .into_iter()
                    .map(Problem::Broad),
            );
        }
    }
    Ok(problems)
}

/// What `g` grants beyond the accesses `mine` of function `f`.
fn broad_grants(
    f: &crate::template::Function,
    g: &Grant,
    mine: &[&Access],
    scenarios: &[Scenario],
) -> Vec<String> {
    let ctx = format!("{}.{}", f.logical_id, g.sid);
    let mut out = Vec::new();
    for r in &g.resources {
        let target = match r {
            Resource::Stream => continue,
            Resource::Table => Target::Table,
            Resource::Index(i) if i == "*" => {
                out.push(format!("{ctx}: every index (name the ones it queries)"));
                continue;
            }
            Resource::Index(i) => Target::Index(i.clone()),
        };
        let Some(keys) = &g.keys else {
            out.push(format!(
                "{ctx}: {target} without a dynamodb:LeadingKeys condition"
            ));
            continue;
        };
        for action in &g.actions {
            let uses: Vec<&&Access> = mine
                .iter()
                .filter(|a| &a.action == action && a.target == target)
                .collect();
            if uses.is_empty() {
                out.push(format!(
                    "{ctx}: dynamodb:{action} on {target} is granted but never used"
                ));
                continue;
            }
            for p in &keys.patterns {
                if p.contains('?') || p == "*" {
                    out.push(format!("{ctx}: key pattern {p:?} is too broad"));
                }
                let one = KeyCondition {
                    like: keys.like,
                    patterns: vec![p.clone()],
                };
                if !uses
                    .iter()
                    .any(|a| a.leading_keys().any(|k| key_allowed(&one, k)))
                {
                    out.push(format!(
                        "{ctx}: dynamodb:{action} on {target} for {p} is granted but never used"
                    ));
                }
            }
        }
        for p in &keys.patterns {
            let stripe_too = scenarios.iter().any(|s| {
                g.active(s)
                    && s.parameters.get("PaymentsProvider").map(String::as_str) != Some("test")
            });
            if p.starts_with(TEST_GATEWAY_PREFIX) && stripe_too {
                out.push(format!(
                    "{ctx}: the test gateway's {p} is granted when PaymentsProvider is not test"
                ));
            }
        }
    }
    out
}

/// `bazaar-local dynamodb-access RECORDING [--update]`: after `make test`, the functions'
/// recorded requests (`table_name` is the stack's table) against the template's policies and the
/// committed [`RECORDED_FILE`]. A request a policy denies fails; so does one the file does not hold
/// yet, unless `update` adds it (the file keeps the union of every run, e.g. of both payment
/// providers). Returns the report to print.
pub fn run(
    recording: &Path,
    table_name: &str,
    template: &Template,
    update: bool,
) -> Result<String, String> {
    let text = std::fs::read_to_string(recording).map_err(|e| {
        format!(
            "{}: {e} (was moto started with MOTO_RECORD_DYNAMODB?)",
            recording.display()
        )
    })?;
    let observed = parse_recording(&text, table_name)?;
    let functions: BTreeSet<&str> = observed.iter().map(|a| a.function.as_str()).collect();
    let mut report = format!(
        "{} distinct DynamoDB accesses by {} functions recorded\n",
        observed.len(),
        functions.len()
    );
    let denied: Vec<String> = check_policies(template, &observed)?
        .into_iter()
        .filter(|p| matches!(p, Problem::Denied(_)))
        .map(|p| p.to_string())
        .collect();
    if !denied.is_empty() {
        return Err(format!(
            "{report}template.yaml denies what the functions did (grant it, with the narrowest key prefix):\n{}",
            denied.join("\n")
        ));
    }
    let path = repo_root().join(RECORDED_FILE);
    let committed_text = std::fs::read_to_string(&path).unwrap_or_default();
    let (committed, _) = parse_accesses(&committed_text, RECORDED_FILE, false)?;
    let expected = expected_accesses()?;
    let known: BTreeSet<&Access> = expected.iter().collect();
    let new: Vec<&Access> = observed.iter().filter(|a| !known.contains(a)).collect();
    let seen: BTreeSet<&Access> = observed.iter().collect();
    let unseen = committed.iter().filter(|a| !seen.contains(a)).count();
    report.push_str(&format!(
        "every one is allowed by template.yaml; {unseen} of the {} committed in {RECORDED_FILE} were not made in this run\n",
        committed.len()
    ));
    if new.is_empty() {
        return Ok(report);
    }
    let lines: Vec<String> = new.iter().map(|a| a.line()).collect();
    if !update {
        return Err(format!(
            "{report}{} not in {RECORDED_FILE} (run `BAZAAR_UPDATE_ACCESS=1 make test` to add them, then commit it):\n{}",
            lines.len(),
            lines.join("\n")
        ));
    }
    let mut all: BTreeSet<Access> = committed.into_iter().collect();
    all.extend(new.into_iter().cloned());
    let header: String = committed_text
        .lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let body: String = all.iter().map(|a| format!("{}\n", a.line())).collect();
    std::fs::write(&path, format!("{header}{body}")).map_err(|e| e.to_string())?;
    report.push_str(&format!(
        "added to {RECORDED_FILE}:\n{}\n",
        lines.join("\n")
    ));
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(action: &str, target: Target, keys: &[&str]) -> Access {
        Access {
            function: "f".into(),
            action: action.into(),
            target,
            keys: keys.iter().map(|k| (*k).to_owned()).collect(),
        }
    }

    #[test]
    fn string_like_is_iams() {
        assert!(like("PRODUCT#*", "PRODUCT#*"));
        assert!(like("PRODUCT#*", "PRODUCT#abc"));
        assert!(like("*", "anything"));
        assert!(like("TRENDING", "TRENDING"));
        assert!(like("A?C", "ABC"));
        assert!(!like("PRODUCT#*", "PRODUCTS"));
        assert!(!like("PRODUCT#a*", "PRODUCT#*"), "narrower than the prefix");
        assert!(!like("TRENDING", "TRENDING#*"));
    }

    const SAMPLE: &str = r#"
Parameters:
  PaymentsProvider: {Type: String, Default: test}
Conditions:
  IsStripe: !Equals [!Ref PaymentsProvider, stripe]
  IsTestPayments: !Not [!Condition IsStripe]
Resources:
  Table: {Type: AWS::DynamoDB::Table}
  Fn:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: f}}
    Properties:
      Policies:
        - Version: "2012-10-17"
          Statement:
            - Sid: Items
              Effect: Allow
              Action: [dynamodb:GetItem, dynamodb:BatchGetItem]
              Resource: !GetAtt Table.Arn
              Condition:
                ForAllValues:StringLike:
                  dynamodb:LeadingKeys: ["PRODUCT#*", "SHOP#*"]
            - Sid: Carts
              Effect: Allow
              Action: [dynamodb:BatchGetItem, dynamodb:PutItem]
              Resource: !GetAtt Table.Arn
              Condition:
                ForAllValues:StringLike:
                  dynamodb:LeadingKeys: ["CART#*"]
            - Sid: Listing
              Effect: Allow
              Action: dynamodb:Query
              Resource: !Sub "${Table.Arn}/index/GSI1"
              Condition:
                ForAllValues:StringEquals:
                  dynamodb:LeadingKeys: TRENDING
            - !If
              - IsTestPayments
              - Sid: TestGateway
                Effect: Allow
                Action: [dynamodb:PutItem]
                Resource: !GetAtt Table.Arn
                Condition:
                  ForAllValues:StringLike:
                    dynamodb:LeadingKeys: ["TESTPAY#*"]
              - !Ref AWS::NoValue
"#;

    /// IAM's semantics as modelled: one statement must allow a batch whole; a prefix needs a
    /// pattern that covers it; conditional statements apply in their scenario only; a request
    /// with no partition key satisfies ForAllValues.
    #[test]
    fn grants_allow_as_iam_does() {
        let t = Template::parse(SAMPLE).expect("parses");
        let g = grants(&t, "Fn").expect("grants");
        assert_eq!(g.len(), 4);
        let test = Scenario::new(&t, &[("PaymentsProvider", "test")]).expect("scenario");
        let stripe = Scenario::new(&t, &[("PaymentsProvider", "stripe")]).expect("scenario");
        let allowed =
            |s: &Scenario, a: &Access| g.iter().any(|g| g.active(s) && grant_allows(g, a));
        for (a, want) in [
            (access("GetItem", Target::Table, &["PRODUCT#*"]), true),
            (
                access("BatchGetItem", Target::Table, &["PRODUCT#*", "SHOP#*"]),
                true,
            ),
            // Both statements allow BatchGetItem, neither allows these keys together.
            (
                access("BatchGetItem", Target::Table, &["CART#*", "SHOP#*"]),
                false,
            ),
            (access("GetItem", Target::Table, &["ORDER#*"]), false),
            (access("DeleteItem", Target::Table, &["PRODUCT#*"]), false),
            (
                access("GetItem", Target::Index("GSI1".into()), &["PRODUCT#*"]),
                false,
            ),
            (
                access("Query", Target::Index("GSI1".into()), &["TRENDING"]),
                true,
            ),
            (
                access("Query", Target::Index("GSI2".into()), &["TRENDING"]),
                false,
            ),
            // StringEquals never allows a whole prefix.
            (
                access("Query", Target::Index("GSI1".into()), &["TRENDING#*"]),
                false,
            ),
            // No partition key: ForAllValues holds vacuously (why Scan is never granted).
            (access("GetItem", Target::Table, &[EVERY_PARTITION]), true),
        ] {
            assert_eq!(allowed(&stripe, &a), want, "{}", a.line());
        }
        let test_pay = access("PutItem", Target::Table, &["TESTPAY#*"]);
        assert!(test_pay.is_test_gateways());
        assert!(allowed(&test, &test_pay));
        assert!(!allowed(&stripe, &test_pay));
        assert!(test.applies(&test_pay) && !stripe.applies(&test_pay));
    }

    /// The check reports denied accesses and every grant no access uses, down to one key prefix.
    #[test]
    fn check_reports_denials_and_unused_grants() {
        let t = Template::parse(SAMPLE).expect("parses");
        let used = vec![
            access("GetItem", Target::Table, &["PRODUCT#*"]),
            access("GetItem", Target::Table, &["SHOP#*"]),
            access("BatchGetItem", Target::Table, &["PRODUCT#*", "SHOP#*"]),
            access("BatchGetItem", Target::Table, &["CART#*"]),
            access("PutItem", Target::Table, &["CART#*"]),
            access("Query", Target::Index("GSI1".into()), &["TRENDING"]),
            access("PutItem", Target::Table, &["TESTPAY#*"]),
        ];
        let problems = check_policies(&t, &used).expect("checks");
        assert!(problems.is_empty(), "{problems:#?}");

        let mut fewer = used.clone();
        fewer.retain(|a| !a.keys.contains("SHOP#*"));
        fewer.push(access("DeleteItem", Target::Table, &["CART#*"]));
        let problems: Vec<String> = check_policies(&t, &fewer)
            .expect("checks")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(
            problems
                .iter()
                .any(|p| p.contains("DeleteItem") && p.contains("denied"))
        );
        for unused in [
            "Fn.Items: dynamodb:GetItem on Table for SHOP#*",
            "Fn.Items: dynamodb:BatchGetItem on Table for SHOP#*",
            "Fn.Items: dynamodb:BatchGetItem on Table for PRODUCT#*",
        ] {
            assert!(problems.iter().any(|p| p.contains(unused)), "{unused}");
        }
    }

    /// A table grant without a key condition, a condition the model does not know, or the test
    /// gateway's keys granted unconditionally are each reported or refused.
    #[test]
    fn broad_or_unmodelled_statements_are_refused() {
        let t = Template::parse(&SAMPLE.replace(
            "              Condition:\n                ForAllValues:StringLike:\n                  dynamodb:LeadingKeys: [\"CART#*\"]\n",
            "",
        ))
        .expect("parses");
        let problems =
            check_policies(&t, &[access("PutItem", Target::Table, &["CART#*"])]).expect("checks");
        assert!(
            problems.iter().any(
                |p| p.to_string() == "Fn.Carts: Table without a dynamodb:LeadingKeys condition"
            ),
            "{problems:#?}"
        );
        let t = Template::parse(&SAMPLE.replace("ForAllValues:StringEquals", "StringEquals"))
            .expect("parses");
        assert!(grants(&t, "Fn").is_err());
        let t = Template::parse(&SAMPLE.replace("- IsTestPayments", "- IsStripe")).expect("parses");
        let problems = check_policies(&t, &[access("PutItem", Target::Table, &["TESTPAY#*"])])
            .expect("checks");
        assert!(
            problems.iter().any(|p| p
                .to_string()
                .contains("granted when PaymentsProvider is not test")),
            "{problems:#?}"
        );
    }

    /// The emulator's raw lines: only the functions' keys, the stack's table named `Table`.
    #[test]
    fn recordings_are_read_per_function() {
        let raw = "test\tPutItem\tstack-Table\tPRODUCT#*\n\
                   fn-cart\tGetItem\tstack-Table\tCART#*\n\
                   fn-cart\tQuery\tstack-Table/index/GSI1\tCATEGORY#*\n\
                   fn-cart\tBatchGetItem\tstack-Table\tPRODUCT#*,SHOP#*\n";
        let got = parse_recording(raw, "stack-Table").expect("reads");
        assert_eq!(got.len(), 3);
        assert!(got.iter().all(|a| a.function == "cart"));
        let query = got.iter().find(|a| a.action == "Query").expect("the query");
        assert_eq!(query.target, Target::Index("GSI1".into()));
        let batch = got
            .iter()
            .find(|a| a.action == "BatchGetItem")
            .expect("the batch");
        assert_eq!(batch.keys.len(), 2);
        assert!(parse_recording("fn-cart\tGetItem\tother-Table\tCART#*\n", "stack-Table").is_err());
        assert!(parse_recording("fn-cart\tGetItem\tstack-Table\t?\n", "stack-Table").is_err());
    }
}
