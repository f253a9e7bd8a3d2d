//! The local stack's view of the template: resource names, DynamoDB provisioning, the cargo-lambda
//! router and the functions' environment, all derived from `template.yaml`.

use crate::template::{Template, getatt_target, ref_target, scalar};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification,
};
use serde_yaml_ng::Value;
use std::collections::BTreeMap;

/// Anything that stops the local stack from being set up.
#[derive(Debug, thiserror::Error)]
pub enum InfraError {
    #[error(transparent)]
    Template(#[from] crate::template::TemplateError),
    #[error("{0}")]
    Shape(String),
    #[error("AWS call failed: {0}")]
    Aws(String),
}

pub(crate) fn aws_err(e: impl std::fmt::Debug + ProvideErrorMetadata) -> InfraError {
    InfraError::Aws(match (e.code(), e.message()) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        _ => format!("{e:?}"),
    })
}

fn shape(msg: impl Into<String>) -> InfraError {
    InfraError::Shape(msg.into())
}

/// How template resources are named locally: `<prefix>-<LogicalId>`, so that several stacks
/// (a developer's `make dev`, a test run) can share one emulator.
#[derive(Debug, Clone)]
pub struct LocalNames {
    pub prefix: String,
}

impl LocalNames {
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    pub fn resource(&self, logical_id: &str) -> String {
        format!("{}-{logical_id}", self.prefix)
    }
}

fn str_field<'a>(v: &'a Value, field: &str, ctx: &str) -> Result<&'a str, InfraError> {
    v.get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| shape(format!("{ctx}: missing {field}")))
}

fn key_schema(v: &Value, ctx: &str) -> Result<Vec<KeySchemaElement>, InfraError> {
    v.as_sequence()
        .ok_or_else(|| shape(format!("{ctx}: KeySchema is not a list")))?
        .iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(str_field(k, "AttributeName", ctx)?)
                .key_type(KeyType::from(str_field(k, "KeyType", ctx)?))
                .build()
                .map_err(|e| shape(format!("{ctx}: {e}")))
        })
        .collect()
}

/// The stream view type the template declares for a table, if it has a stream.
fn stream_view<'a>(template: &'a Template, logical_id: &str) -> Option<&'a str> {
    template
        .resource(logical_id)?
        .get("Properties")?
        .get("StreamSpecification")?
        .get("StreamViewType")?
        .as_str()
}

fn stream_spec(view: &str) -> Result<StreamSpecification, InfraError> {
    StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::from(view))
        .build()
        .map_err(|e| shape(e.to_string()))
}

/// Creates the table declared as `logical_id` in the template under `name`, with its keys,
/// indexes, stream and TTL. An existing table is left as it is.
pub async fn create_table(
    client: &Client,
    template: &Template,
    logical_id: &str,
    name: &str,
) -> Result<(), InfraError> {
    create_table_with(client, template, logical_id, name, true).await
}

async fn create_table_with(
    client: &Client,
    template: &Template,
    logical_id: &str,
    name: &str,
    with_stream: bool,
) -> Result<(), InfraError> {
    let props = template
        .resource(logical_id)
        .and_then(|r| r.get("Properties"))
        .ok_or_else(|| shape(format!("{logical_id}: no Properties")))?;
    let mut req = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest);
    for def in props
        .get("AttributeDefinitions")
        .and_then(Value::as_sequence)
        .ok_or_else(|| shape(format!("{logical_id}: no AttributeDefinitions")))?
    {
        req = req.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(str_field(def, "AttributeName", logical_id)?)
                .attribute_type(ScalarAttributeType::from(str_field(
                    def,
                    "AttributeType",
                    logical_id,
                )?))
                .build()
                .map_err(|e| shape(e.to_string()))?,
        );
    }
    let keys = props
        .get("KeySchema")
        .ok_or_else(|| shape(format!("{logical_id}: no KeySchema")))?;
    req = req.set_key_schema(Some(key_schema(keys, logical_id)?));
    for gsi in props
        .get("GlobalSecondaryIndexes")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        let index = str_field(gsi, "IndexName", logical_id)?;
        let projection = gsi
            .get("Projection")
            .and_then(|p| p.get("ProjectionType"))
            .and_then(Value::as_str)
            .unwrap_or("ALL");
        req = req.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(index)
                .set_key_schema(Some(key_schema(
                    gsi.get("KeySchema")
                        .ok_or_else(|| shape(format!("{index}: no KeySchema")))?,
                    index,
                )?))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(projection))
                        .build(),
                )
                .build()
                .map_err(|e| shape(e.to_string()))?,
        );
    }
    if let Some(view) = stream_view(template, logical_id).filter(|_| with_stream) {
        req = req.stream_specification(stream_spec(view)?);
    }
    match req.send().await {
        Ok(_) => {}
        Err(e) if e.code() == Some("ResourceInUseException") => return Ok(()),
        Err(e) => return Err(aws_err(e)),
    }
    if let Some(ttl) = props.get("TimeToLiveSpecification") {
        let enabled = ttl.get("Enabled").and_then(Value::as_bool).unwrap_or(false);
        if enabled {
            client
                .update_time_to_live()
                .table_name(name)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .attribute_name(str_field(ttl, "AttributeName", logical_id)?)
                        .enabled(true)
                        .build()
                        .map_err(|e| shape(e.to_string()))?,
                )
                .send()
                .await
                .map_err(aws_err)?;
        }
    }
    Ok(())
}

/// The account id moto and LocalStack use.
pub const LOCAL_ACCOUNT: &str = "123456789012";
/// The emulator's default address.
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:4566";

fn sqs_err<E: std::error::Error + Send + Sync + 'static, R: std::fmt::Debug>(
    e: aws_sdk_sqs::error::SdkError<E, R>,
) -> InfraError {
    InfraError::Aws(format!("{}", aws_sdk_sqs::error::DisplayErrorContext(e)))
}

/// A queue's URL in the emulator.
pub fn queue_url(endpoint: &str, name: &str) -> String {
    format!("{}/{LOCAL_ACCOUNT}/{name}", endpoint.trim_end_matches('/'))
}

/// A queue's ARN in the emulator.
pub fn queue_arn(region: &str, name: &str) -> String {
    format!("arn:aws:sqs:{region}:{LOCAL_ACCOUNT}:{name}")
}

/// Creates every queue of the template (then wires their redrive policies to the local DLQs);
/// returns `(logical id, queue URL)` pairs.
pub async fn provision_queues(
    sqs: &aws_sdk_sqs::Client,
    template: &Template,
    names: &LocalNames,
    region: &str,
) -> Result<Vec<(String, String)>, InfraError> {
    use aws_sdk_sqs::types::QueueAttributeName;
    let mut created = Vec::new();
    for (id, resource) in template.resources_of_type("AWS::SQS::Queue") {
        let props = resource.get("Properties");
        let mut req = sqs.create_queue().queue_name(names.resource(id));
        for (prop, attr) in [
            ("VisibilityTimeout", QueueAttributeName::VisibilityTimeout),
            (
                "MessageRetentionPeriod",
                QueueAttributeName::MessageRetentionPeriod,
            ),
        ] {
            if let Some(v) = props.and_then(|p| p.get(prop)).and_then(scalar) {
                req = req.attributes(attr, v);
            }
        }
        let out = req.send().await.map_err(sqs_err)?;
        created.push((id.to_owned(), out.queue_url.unwrap_or_default()));
    }
    for (id, resource) in template.resources_of_type("AWS::SQS::Queue") {
        let Some(redrive) = resource
            .get("Properties")
            .and_then(|p| p.get("RedrivePolicy"))
        else {
            continue;
        };
        let (dlq, _) = redrive
            .get("deadLetterTargetArn")
            .and_then(getatt_target)
            .ok_or_else(|| {
                shape(format!(
                    "{id}: RedrivePolicy.deadLetterTargetArn must be !GetAtt Queue.Arn"
                ))
            })?;
        let max = redrive
            .get("maxReceiveCount")
            .and_then(scalar)
            .ok_or_else(|| shape(format!("{id}: RedrivePolicy.maxReceiveCount missing")))?;
        let policy = serde_json::json!({
            "deadLetterTargetArn": queue_arn(region, &names.resource(&dlq)),
            "maxReceiveCount": max.parse::<u32>().map_err(|_| shape(format!("{id}: maxReceiveCount")))?,
        });
        let url = created
            .iter()
            .find(|(q, _)| q == id)
            .map(|(_, u)| u.clone())
            .unwrap_or_default();
        sqs.set_queue_attributes()
            .queue_url(url)
            .attributes(QueueAttributeName::RedrivePolicy, policy.to_string())
            .send()
            .await
            .map_err(sqs_err)?;
    }
    Ok(created)
}

/// Creates every table of the template; returns `(logical id, local name)` pairs. With
/// `import`, a new table's stream is left off until [`enable_streams`]: the demo catalog is loaded
/// as DynamoDB's import from S3 loads a table, without stream records, and the search index is
/// built from the table once instead of from 10,000 stream records (see `make dev`).
pub async fn provision(
    client: &Client,
    template: &Template,
    names: &LocalNames,
    import: bool,
) -> Result<Vec<(String, String)>, InfraError> {
    let mut created = Vec::new();
    for (id, _) in template.resources_of_type("AWS::DynamoDB::Table") {
        let name = names.resource(id);
        create_table_with(client, template, id, &name, !import).await?;
        created.push((id.to_owned(), name));
    }
    Ok(created)
}

/// Turns on the stream the template declares for each table that has none yet; returns the
/// tables it turned it on for. Every write after this reaches the stream's consumers.
pub async fn enable_streams(
    client: &Client,
    template: &Template,
    names: &LocalNames,
) -> Result<Vec<String>, InfraError> {
    let mut enabled = Vec::new();
    for (id, _) in template.resources_of_type("AWS::DynamoDB::Table") {
        let Some(view) = stream_view(template, id) else {
            continue;
        };
        let name = names.resource(id);
        let table = client
            .describe_table()
            .table_name(&name)
            .send()
            .await
            .map_err(aws_err)?;
        if table.table.and_then(|t| t.latest_stream_arn).is_some() {
            continue;
        }
        client
            .update_table()
            .table_name(&name)
            .stream_specification(stream_spec(view)?)
            .send()
            .await
            .map_err(aws_err)?;
        enabled.push(name);
    }
    Ok(enabled)
}

/// Settings every local function gets on top of the template's: local auth, and the marker that
/// lets it accept the published local secret (`bazaar_lambda::env::LOCAL_STACK`; a function
/// refuses local auth in AWS Lambda whatever it is given, see `bazaar_lambda::env`).
pub const LOCAL_OVERRIDES: &[(&str, &str)] = &[
    ("AUTH_MODE", "local"),
    (bazaar_lambda::env::LOCAL_STACK, "1"),
];

/// The secret of the local stack's HS256 tokens: this shell's `LOCAL_JWT_SECRET`, else the
/// published `DEFAULT_LOCAL_SECRET`. The functions get it explicitly (they have no default); the
/// local gateway, `bazaar-local token` and the end-to-end tests use the same rule.
pub fn local_jwt_secret(process_env: &dyn Fn(&str) -> Option<String>) -> String {
    process_env("LOCAL_JWT_SECRET")
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| bazaar_lambda::auth::DEFAULT_LOCAL_SECRET.to_owned())
}

/// Template variables that only mean something in AWS and are left out locally: the Cognito
/// issuer and client the public routes verify tokens against (local tokens are HS256), and the
/// Secrets Manager ARNs of the Stripe keys (locally the keys themselves are in the environment,
/// see [`local_stripe_keys`]).
pub const AWS_ONLY: &[&str] = &[
    "COGNITO_ISSUER",
    "COGNITO_CLIENT_ID",
    "STRIPE_SECRET_ARN",
    "STRIPE_WEBHOOK_SECRET_ARN",
];

/// The payment providers of the template's `PaymentsProvider` (and of `PAYMENTS` locally).
pub const PAYMENT_PROVIDERS: &[&str] = &["test", "stripe"];

/// The Stripe secret key the local stack gives its functions with `PAYMENTS=stripe` (localstripe
/// accepts any `sk_…` key).
pub const LOCAL_STRIPE_SECRET_KEY: &str = "sk_test_local";
/// The webhook signing secret the local stack registers with localstripe and gives its functions.
pub const LOCAL_STRIPE_WEBHOOK_SECRET: &str = "whsec_local";

/// The Stripe keys of the local functions with `PAYMENTS=stripe`: in AWS they are read from
/// Secrets Manager (`STRIPE_SECRET_ARN`, `STRIPE_WEBHOOK_SECRET_ARN`); locally they are plain
/// variables, `STRIPE_SECRET_KEY` and `STRIPE_WEBHOOK_SECRET`, this shell's values if set, else
/// the local ones that `infra/lib.sh` registers with localstripe.
pub fn local_stripe_keys(
    process_env: &dyn Fn(&str) -> Option<String>,
) -> [(&'static str, String); 2] {
    let or = |k: &str, default: &str| {
        process_env(k)
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| default.to_owned())
    };
    [
        (
            "STRIPE_SECRET_KEY",
            or("STRIPE_SECRET_KEY", LOCAL_STRIPE_SECRET_KEY),
        ),
        (
            "STRIPE_WEBHOOK_SECRET",
            or("STRIPE_WEBHOOK_SECRET", LOCAL_STRIPE_WEBHOOK_SECRET),
        ),
    ]
}

/// Local defaults that replace the template's values but yield to this shell's environment:
/// search runs on the embedded engine (no OpenSearch here) with its index under `.local/`;
/// `SEARCH_BACKEND=opensearch OPENSEARCH_URL=… make dev` points the stack at a real cluster.
pub fn local_defaults() -> Vec<(&'static str, String)> {
    let index_dir = crate::template::repo_root()
        .join(".local")
        .join("search-index");
    vec![
        ("SEARCH_BACKEND", "embedded".to_owned()),
        ("INDEX_DIR", index_dir.display().to_string()),
        ("OPENSEARCH_SIGV4", "false".to_owned()),
    ]
}

/// The environment of all local functions: the template's variables with `!Ref`s resolved to
/// local resource names and parameter defaults; a variable set in `process_env` wins (so
/// `HOLD_SECONDS=2 make dev` works), and the local overrides apply last.
pub fn local_environment(
    template: &Template,
    names: &LocalNames,
    process_env: &dyn Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, String>, InfraError> {
    let endpoint = process_env("AWS_ENDPOINT_URL").unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
    let resolve = |v: &Value| -> Option<String> {
        if let Some(target) = ref_target(v) {
            if let Some(resource) = template.resource(target) {
                // `Ref` of a queue is its URL; of a table, its name.
                if resource.get("Type").and_then(Value::as_str) == Some("AWS::SQS::Queue") {
                    return Some(queue_url(&endpoint, &names.resource(target)));
                }
                return Some(names.resource(target));
            }
            return template.parameter_default(target);
        }
        if let Some((resource, attr)) = getatt_target(v) {
            // Queues are addressed by URL locally; other attributes have no local meaning.
            return (attr == "QueueName").then(|| names.resource(&resource));
        }
        // `!Sub` strings name cloud resources (the OpenSearch endpoint): kept as written, unused
        // locally (see `local_defaults`).
        if let Value::Tagged(t) = v
            && t.tag == "Sub"
        {
            return scalar(&t.value);
        }
        scalar(v)
    };
    let mut env = BTreeMap::new();
    for f in template.functions()? {
        for (k, v) in template.function_environment(&f.logical_id, &resolve)? {
            if let Some(existing) = env.get(&k)
                && existing != &v
            {
                return Err(shape(format!(
                    "functions disagree on {k} ({existing} vs {v}); the local stack shares one environment"
                )));
            }
            env.insert(k, v);
        }
    }
    for (k, v) in local_defaults() {
        env.insert(k.to_owned(), v);
    }
    for (k, v) in env.iter_mut() {
        if let Some(over) = process_env(k) {
            *v = over;
        }
    }
    for k in AWS_ONLY {
        env.remove(*k);
    }
    for (k, v) in LOCAL_OVERRIDES {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    env.insert("LOCAL_JWT_SECRET".to_owned(), local_jwt_secret(process_env));
    // A measurement setting with no template counterpart: the test gateway's authorization waits
    // this long, standing in for a real provider's latency (`make load SCENARIO=checkout`).
    if let Some(ms) = process_env("PAYMENTS_STUB_DELAY_MS").filter(|v| !v.trim().is_empty()) {
        env.insert("PAYMENTS_STUB_DELAY_MS".to_owned(), ms);
    }
    match env.get("PAYMENTS").map(String::as_str) {
        Some("stripe") => {
            for (k, v) in local_stripe_keys(process_env) {
                env.insert(k.to_owned(), v);
            }
            // localstripe emulates no Connect: payouts go through the built-in emulation of
            // connected accounts and transfers, unless this shell says otherwise.
            env.insert(
                "PAYOUTS".to_owned(),
                process_env("PAYOUTS")
                    .filter(|v| !v.trim().is_empty())
                    .unwrap_or_else(|| "test".to_owned()),
            );
        }
        Some(p) if !PAYMENT_PROVIDERS.contains(&p) => {
            return Err(shape(format!(
                "PAYMENTS={p} is not one of {}",
                PAYMENT_PROVIDERS.join(", ")
            )));
        }
        _ => {}
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_resolves_refs_and_honours_overrides() {
        let t = Template::load_repo().expect("template");
        let names = LocalNames::new("bazaar-test");
        let env = local_environment(&t, &names, &|k| {
            (k == "HOLD_SECONDS").then(|| "2".to_owned())
        })
        .expect("env");
        assert_eq!(env["TABLE_NAME"], "bazaar-test-Table");
        assert_eq!(env["HOLD_SECONDS"], "2");
        assert_eq!(env["AUTH_MODE"], "local");
        // Local auth with an explicit secret and the marker that allows the published one.
        assert_eq!(
            env["LOCAL_JWT_SECRET"],
            bazaar_lambda::auth::DEFAULT_LOCAL_SECRET
        );
        assert_eq!(env[bazaar_lambda::env::LOCAL_STACK], "1");
        assert_eq!(env["LOG_LEVEL"], "info");
        assert_eq!(
            env["ORDER_EVENTS_QUEUE_URL"],
            format!("{DEFAULT_ENDPOINT}/{LOCAL_ACCOUNT}/bazaar-test-OrderEventsQueue")
        );
        assert_eq!(
            env["PAYMENT_EVENTS_QUEUE_URL"],
            format!("{DEFAULT_ENDPOINT}/{LOCAL_ACCOUNT}/bazaar-test-PaymentEventsQueue")
        );
        // The built-in test gateway by default, with the template's defaults.
        assert_eq!(env["PAYMENTS"], "test");
        assert_eq!(env["STRIPE_API_BASE"], "https://api.stripe.com");
        assert_eq!(env["MARKETPLACE_FEE_BPS"], "1000");
        assert_eq!(env["PAYOUTS_RETURN_URL"], "");
        for aws_only in AWS_ONLY {
            assert!(!env.contains_key(*aws_only), "{aws_only} is AWS-only");
        }
        assert!(!env.contains_key("STRIPE_SECRET_KEY"));
        assert!(!env.contains_key("STRIPE_WEBHOOK_SECRET"));
    }

    /// `PAYMENTS=stripe` (what `infra/lib.sh` sets with localstripe) gives every function the
    /// provider, its local base URL and the keys as plain variables, never the secrets' ARNs.
    #[test]
    fn stripe_payments_locally() {
        let t = Template::load_repo().expect("template");
        let names = LocalNames::new("bazaar-test");
        let shell = |k: &str| match k {
            "PAYMENTS" => Some("stripe".to_owned()),
            "STRIPE_API_BASE" => Some("http://127.0.0.1:8420".to_owned()),
            _ => None,
        };
        let env = local_environment(&t, &names, &shell).expect("env");
        assert_eq!(env["PAYMENTS"], "stripe");
        assert_eq!(env["STRIPE_API_BASE"], "http://127.0.0.1:8420");
        assert_eq!(env["STRIPE_SECRET_KEY"], LOCAL_STRIPE_SECRET_KEY);
        assert_eq!(env["PAYOUTS"], "test", "localstripe has no Connect");
        assert_eq!(env["STRIPE_WEBHOOK_SECRET"], LOCAL_STRIPE_WEBHOOK_SECRET);
        assert!(!env.contains_key("STRIPE_SECRET_ARN"));
        assert!(!env.contains_key("STRIPE_WEBHOOK_SECRET_ARN"));

        // The shell's keys win (e.g. Stripe's test mode).
        let mine = |k: &str| match k {
            "STRIPE_SECRET_KEY" => Some("sk_test_mine".to_owned()),
            "STRIPE_WEBHOOK_SECRET" => Some("whsec_mine".to_owned()),
            other => shell(other),
        };
        let env = local_environment(&t, &names, &mine).expect("env");
        assert_eq!(env["STRIPE_SECRET_KEY"], "sk_test_mine");
        assert_eq!(env["STRIPE_WEBHOOK_SECRET"], "whsec_mine");

        let wrong = |k: &str| (k == "PAYMENTS").then(|| "paypal".to_owned());
        assert!(matches!(
            local_environment(&t, &names, &wrong),
            Err(InfraError::Shape(_))
        ));
    }
}
