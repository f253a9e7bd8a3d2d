//! The local event-source mapping: what Lambda does in AWS for the template's `SQS` and
//! `DynamoDB` (stream) events, played against the emulator and `cargo lambda watch`.
//!
//! * SQS: receive a batch (up to `BatchSize`), invoke the function with an SQS event, delete the
//!   messages it did not report in `batchItemFailures`, and make the failed ones visible again
//!   after a second. The queue's own redrive policy moves a message to its DLQ after
//!   `maxReceiveCount` receives, as in AWS.
//! * DynamoDB streams: read every shard from `TRIM_HORIZON`, keep the records that match the
//!   event's `FilterCriteria`, invoke the function with a DynamoDB stream event, and on failure
//!   retry from the first failed record (`ReportBatchItemFailures`), up to
//!   `MaximumRetryAttempts`, then skip with an error (AWS would send it to the on-failure DLQ).
//!
//! * Schedules (`Schedule` / `ScheduleV2` with a `rate(...)` expression): invoke the function once
//!   at start and then at that rate; `LOCAL_SCHEDULE_SECONDS` overrides every rate (the test stack
//!   fires the trending job every few seconds).
//!
//! Functions are invoked through cargo-lambda's Lambda API (`/2015-03-31/functions/…/invocations`).

use crate::local::{InfraError, LocalNames, aws_err, queue_arn, queue_url};
use crate::template::{Template, getatt_target, scalar};
use serde_json::{Value, json};
use std::time::Duration;

/// One event source of the template.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Sqs {
        function: String,
        queue_url: String,
        queue_arn: String,
        batch_size: i32,
    },
    Stream {
        function: String,
        table: String,
        batch_size: i32,
        max_retries: u32,
        patterns: Vec<Value>,
    },
    Schedule {
        function: String,
        every: Duration,
    },
}

/// The period of an EventBridge `rate(value unit)` expression (`cron(...)` is not supported locally).
pub fn rate(expression: &str) -> Option<Duration> {
    let inner = expression.trim().strip_prefix("rate(")?.strip_suffix(')')?;
    let (value, unit) = inner.trim().split_once(' ')?;
    let value: u64 = value.trim().parse().ok().filter(|v| *v > 0)?;
    let seconds = match unit.trim() {
        "minute" | "minutes" => 60,
        "hour" | "hours" => 3_600,
        "day" | "days" => 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(value * seconds))
}

/// The template's SQS and DynamoDB event sources, with local names.
pub fn sources(
    template: &Template,
    names: &LocalNames,
    endpoint: &str,
    region: &str,
) -> Result<Vec<Source>, InfraError> {
    let mut out = Vec::new();
    for function in template.functions()? {
        let events = template
            .resource(&function.logical_id)
            .and_then(|r| r.get("Properties"))
            .and_then(|p| p.get("Events"))
            .and_then(|e| e.as_mapping())
            .cloned()
            .unwrap_or_default();
        for (_, event) in events {
            let props = event.get("Properties");
            let int = |name: &str, default: i32| {
                props
                    .and_then(|p| p.get(name))
                    .and_then(scalar)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(default)
            };
            match event.get("Type").and_then(|t| t.as_str()) {
                Some("SQS") => {
                    let (queue, _) = props
                        .and_then(|p| p.get("Queue"))
                        .and_then(getatt_target)
                        .ok_or_else(|| {
                            InfraError::Shape(format!(
                                "{}: SQS event needs Queue: !GetAtt Q.Arn",
                                function.logical_id
                            ))
                        })?;
                    let name = names.resource(&queue);
                    out.push(Source::Sqs {
                        function: function.binary.clone(),
                        queue_url: queue_url(endpoint, &name),
                        queue_arn: queue_arn(region, &name),
                        batch_size: int("BatchSize", 10).clamp(1, 10),
                    });
                }
                Some("DynamoDB") => {
                    let (table, _) = props
                        .and_then(|p| p.get("Stream"))
                        .and_then(getatt_target)
                        .ok_or_else(|| {
                            InfraError::Shape(format!(
                                "{}: DynamoDB event needs Stream: !GetAtt T.StreamArn",
                                function.logical_id
                            ))
                        })?;
                    let patterns = props
                        .and_then(|p| p.get("FilterCriteria"))
                        .and_then(|f| f.get("Filters"))
                        .and_then(|f| f.as_sequence())
                        .into_iter()
                        .flatten()
                        .filter_map(|f| f.get("Pattern").and_then(|p| p.as_str()))
                        .map(|p| {
                            serde_json::from_str::<Value>(p)
                                .map_err(|e| InfraError::Shape(format!("filter pattern: {e}")))
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    out.push(Source::Stream {
                        function: function.binary.clone(),
                        table: names.resource(&table),
                        batch_size: int("BatchSize", 100).clamp(1, 1000),
                        max_retries: u32::try_from(int("MaximumRetryAttempts", 10)).unwrap_or(10),
                        patterns,
                    });
                }
                Some(kind @ ("Schedule" | "ScheduleV2")) => {
                    let field = if kind == "Schedule" {
                        "Schedule"
                    } else {
                        "ScheduleExpression"
                    };
                    let expression = props
                        .and_then(|p| p.get(field))
                        .and_then(scalar)
                        .unwrap_or_default();
                    let every = rate(&expression).ok_or_else(|| {
                        InfraError::Shape(format!(
                            "{}: schedule `{expression}` is not a rate(...) expression",
                            function.logical_id
                        ))
                    })?;
                    out.push(Source::Schedule {
                        function: function.binary.clone(),
                        every,
                    });
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

/// Whether `record` matches an EventBridge-style filter pattern (the subset Lambda filters use:
/// objects nest, arrays list the accepted values).
pub fn matches(pattern: &Value, record: &Value) -> bool {
    match pattern {
        Value::Object(fields) => fields
            .iter()
            .all(|(k, p)| matches(p, record.get(k).unwrap_or(&Value::Null))),
        Value::Array(accepted) => accepted.iter().any(|a| a == record),
        other => other == record,
    }
}

/// Invokes `function` through cargo-lambda's Lambda API; the function's answer, or an error.
async fn invoke(
    http: &reqwest::Client,
    api: &str,
    function: &str,
    event: &Value,
) -> Result<Value, String> {
    let response = http
        .post(format!("{api}/2015-03-31/functions/{function}/invocations"))
        .json(event)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() || body.get("errorType").is_some() || body.get("errorMessage").is_some()
    {
        return Err(format!("{function} failed ({status}): {body}"));
    }
    Ok(body)
}

fn failed_ids(answer: &Value) -> Vec<String> {
    answer
        .get("batchItemFailures")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|f| {
            f.get("itemIdentifier")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect()
}

/// What every pump task shares: the clients, the local Lambda API and the region.
#[derive(Clone)]
struct Ctx {
    sqs: aws_sdk_sqs::Client,
    dynamo: aws_sdk_dynamodb::Client,
    streams: aws_sdk_dynamodbstreams::Client,
    http: reqwest::Client,
    api: String,
    region: String,
}

async fn pump_sqs(ctx: Ctx, function: String, url: String, arn: String, batch: i32) {
    let Ctx {
        sqs,
        http,
        api,
        region,
        ..
    } = ctx;
    use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
    loop {
        let received = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(batch)
            // No long polling: the local moto serializes calls, and a waiting receive would hold
            // every other AWS call of the stack for its duration.
            .wait_time_seconds(0)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await;
        let messages = match received {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(e) => {
                eprintln!("pump: receiving from {url}: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if messages.is_empty() {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        let records: Vec<Value> = messages
            .iter()
            .map(|m| {
                let attributes: serde_json::Map<String, Value> = m
                    .attributes()
                    .map(|a| a.iter().map(|(k, v)| (k.as_str().to_owned(), Value::from(v.clone()))).collect())
                    .unwrap_or_default();
                json!({
                    "messageId": m.message_id(), "receiptHandle": m.receipt_handle(), "body": m.body(),
                    "attributes": attributes, "messageAttributes": {}, "md5OfBody": m.md5_of_body(),
                    "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": region,
                })
            })
            .collect();
        let failed = match invoke(&http, &api, &function, &json!({ "Records": records })).await {
            Ok(answer) => failed_ids(&answer),
            Err(e) => {
                eprintln!("pump: {e}");
                messages
                    .iter()
                    .filter_map(|m| m.message_id().map(str::to_owned))
                    .collect()
            }
        };
        let done: Vec<DeleteMessageBatchRequestEntry> = messages
            .iter()
            .enumerate()
            .filter(|(_, m)| !failed.iter().any(|f| Some(f.as_str()) == m.message_id()))
            .filter_map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(format!("d{i}"))
                    .receipt_handle(m.receipt_handle()?)
                    .build()
                    .ok()
            })
            .collect();
        if !done.is_empty()
            && let Err(e) = sqs
                .delete_message_batch()
                .queue_url(&url)
                .set_entries(Some(done))
                .send()
                .await
        {
            eprintln!("pump: deleting from {url}: {e}");
        }
        for m in messages
            .iter()
            .filter(|m| failed.iter().any(|f| Some(f.as_str()) == m.message_id()))
        {
            if let Some(receipt) = m.receipt_handle() {
                let _ = sqs
                    .change_message_visibility()
                    .queue_url(&url)
                    .receipt_handle(receipt)
                    .visibility_timeout(1)
                    .send()
                    .await;
            }
        }
    }
}

async fn pump_schedule(ctx: Ctx, function: String, every: Duration) {
    let every = std::env::var("LOCAL_SCHEDULE_SECONDS")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map_or(every, Duration::from_secs);
    loop {
        let event = json!({
            "version": "0", "id": uuid::Uuid::new_v4().to_string(), "detail-type": "Scheduled Event", "source": "aws.scheduler",
            "account": "123456789012", "time": chrono::Utc::now().to_rfc3339(), "region": ctx.region,
            "resources": [], "detail": {}
        });
        if let Err(e) = invoke(&ctx.http, &ctx.api, &function, &event).await {
            eprintln!("pump: scheduled {function}: {e}");
        }
        tokio::time::sleep(every).await;
    }
}

async fn pump_stream(
    ctx: Ctx,
    function: String,
    table: String,
    batch: i32,
    max_retries: u32,
    patterns: Vec<Value>,
) {
    let Ctx {
        dynamo,
        streams,
        http,
        api,
        region,
        ..
    } = ctx;
    use aws_sdk_dynamodbstreams::types::ShardIteratorType;
    let stream_arn = loop {
        match dynamo.describe_table().table_name(&table).send().await {
            Ok(out) => match out.table.and_then(|t| t.latest_stream_arn) {
                Some(arn) => break arn,
                None => {
                    eprintln!("pump: {table} has no stream");
                    return;
                }
            },
            Err(e) => {
                eprintln!("pump: describing {table}: {}", aws_err(e));
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    let mut iterators: std::collections::BTreeMap<String, Option<String>> = Default::default();
    loop {
        if let Ok(out) = streams
            .describe_stream()
            .stream_arn(&stream_arn)
            .send()
            .await
        {
            for shard in out
                .stream_description
                .map(|d| d.shards.unwrap_or_default())
                .unwrap_or_default()
            {
                let Some(id) = shard.shard_id else { continue };
                if iterators.contains_key(&id) {
                    continue;
                }
                let iterator = streams
                    .get_shard_iterator()
                    .stream_arn(&stream_arn)
                    .shard_id(&id)
                    .shard_iterator_type(ShardIteratorType::TrimHorizon)
                    .send()
                    .await
                    .ok()
                    .and_then(|o| o.shard_iterator);
                iterators.insert(id, iterator);
            }
        }
        let mut idle = true;
        for iterator in iterators.values_mut() {
            let Some(current) = iterator.clone() else {
                continue;
            };
            let out = match streams
                .get_records()
                .shard_iterator(&current)
                // Read as much as the API allows; invoke in batches of BatchSize below.
                .limit(1000)
                .send()
                .await
            {
                Ok(out) => out,
                Err(e) => {
                    eprintln!("pump: reading the stream of {table}: {e}");
                    continue;
                }
            };
            let raw = out.records.unwrap_or_default();
            if !raw.is_empty() {
                // Records to read (filtered or not): keep reading without pausing.
                idle = false;
            }
            let records: Vec<Value> = raw
                .into_iter()
                .filter_map(|r| stream_record_json(&r, &stream_arn, &region))
                .filter(|r| patterns.is_empty() || patterns.iter().any(|p| matches(p, r)))
                .collect();
            for chunk in records.chunks(usize::try_from(batch).unwrap_or(100).max(1)) {
                let mut pending = chunk.to_vec();
                let mut attempt = 0;
                while !pending.is_empty() {
                    let failed = match invoke(
                        &http,
                        &api,
                        &function,
                        &json!({ "Records": pending }),
                    )
                    .await
                    {
                        Ok(answer) => failed_ids(&answer),
                        Err(e) => {
                            eprintln!("pump: {e}");
                            vec![
                                pending[0]["dynamodb"]["SequenceNumber"]
                                    .as_str()
                                    .unwrap_or_default()
                                    .to_owned(),
                            ]
                        }
                    };
                    let Some(first) = pending.iter().position(|r| {
                        failed
                            .iter()
                            .any(|f| Some(f.as_str()) == r["dynamodb"]["SequenceNumber"].as_str())
                    }) else {
                        break;
                    };
                    attempt += 1;
                    if attempt > max_retries {
                        eprintln!(
                            "pump: {function} kept failing on {} stream records; skipped (AWS: on-failure destination)",
                            pending.len() - first
                        );
                        break;
                    }
                    pending = pending.split_off(first);
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
            *iterator = out.next_shard_iterator;
        }
        if idle {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// A stream record in the JSON shape Lambda delivers.
fn stream_record_json(
    r: &aws_sdk_dynamodbstreams::types::Record,
    arn: &str,
    region: &str,
) -> Option<Value> {
    use aws_sdk_dynamodbstreams::types::AttributeValue as Av;
    fn av(v: &Av) -> Value {
        match v {
            Av::S(s) => json!({ "S": s }),
            Av::N(n) => json!({ "N": n }),
            Av::Bool(b) => json!({ "BOOL": b }),
            Av::Null(_) => json!({ "NULL": true }),
            Av::L(l) => json!({ "L": l.iter().map(av).collect::<Vec<_>>() }),
            Av::M(m) => {
                json!({ "M": m.iter().map(|(k, v)| (k.clone(), av(v))).collect::<serde_json::Map<_, _>>() })
            }
            Av::Ss(ss) => json!({ "SS": ss }),
            Av::Ns(ns) => json!({ "NS": ns }),
            _ => Value::Null,
        }
    }
    let image = |i: Option<&std::collections::HashMap<String, Av>>| -> Value {
        i.map(|m| Value::Object(m.iter().map(|(k, v)| (k.clone(), av(v))).collect()))
            .unwrap_or(Value::Null)
    };
    let d = r.dynamodb.as_ref()?;
    Some(json!({
        "eventID": r.event_id, "eventName": r.event_name.as_ref().map(|e| e.as_str()),
        "eventVersion": "1.1", "eventSource": "aws:dynamodb", "awsRegion": region, "eventSourceARN": arn,
        "dynamodb": {
            "ApproximateCreationDateTime": d.approximate_creation_date_time.map(|t| t.secs()),
            "Keys": image(d.keys.as_ref()), "NewImage": image(d.new_image.as_ref()), "OldImage": image(d.old_image.as_ref()),
            "SequenceNumber": d.sequence_number, "SizeBytes": d.size_bytes, "StreamViewType": d.stream_view_type.as_ref().map(|s| s.as_str()),
        }
    }))
}

/// Runs every event source of the template until the process is stopped.
pub async fn run(
    sdk: &aws_config::SdkConfig,
    template: &Template,
    names: &LocalNames,
    endpoint: &str,
    api: &str,
) -> Result<(), InfraError> {
    let region = sdk
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| "us-east-1".into());
    let ctx = Ctx {
        sqs: aws_sdk_sqs::Client::new(sdk),
        dynamo: aws_sdk_dynamodb::Client::new(sdk),
        streams: aws_sdk_dynamodbstreams::Client::new(sdk),
        http: reqwest::Client::new(),
        api: api.to_owned(),
        region: region.clone(),
    };
    let mut tasks = Vec::new();
    for source in sources(template, names, endpoint, &region)? {
        eprintln!("pump: {source:?}");
        tasks.push(match source {
            Source::Sqs {
                function,
                queue_url,
                queue_arn,
                batch_size,
            } => tokio::spawn(pump_sqs(
                ctx.clone(),
                function,
                queue_url,
                queue_arn,
                batch_size,
            )),
            Source::Stream {
                function,
                table,
                batch_size,
                max_retries,
                patterns,
            } => tokio::spawn(pump_stream(
                ctx.clone(),
                function,
                table,
                batch_size,
                max_retries,
                patterns,
            )),
            Source::Schedule { function, every } => {
                tokio::spawn(pump_schedule(ctx.clone(), function, every))
            }
        });
    }
    for task in tasks {
        let _ = task.await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_patterns() {
        let p: Value = serde_json::from_str(
            r#"{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"entity": {"S": ["order"]}}}}"#,
        )
        .expect("json");
        let order =
            json!({"eventName": "INSERT", "dynamodb": {"NewImage": {"entity": {"S": "order"}}}});
        let product =
            json!({"eventName": "INSERT", "dynamodb": {"NewImage": {"entity": {"S": "product"}}}});
        let modify =
            json!({"eventName": "MODIFY", "dynamodb": {"NewImage": {"entity": {"S": "order"}}}});
        assert!(matches(&p, &order));
        assert!(!matches(&p, &product));
        assert!(!matches(&p, &modify));
    }

    #[test]
    fn the_template_sources() {
        let t = Template::load_repo().expect("template");
        let names = LocalNames::new("x");
        let s = sources(&t, &names, "http://h:1", "us-east-1").expect("sources");
        assert!(s.iter().any(|s| matches!(s, Source::Sqs { function, batch_size: 10, queue_url, .. } if function == "notifier" && queue_url == "http://h:1/123456789012/x-OrderEventsQueue")));
        assert!(s.iter().any(|s| matches!(s, Source::Stream { function, table, patterns, .. } if function == "relay" && table == "x-Table" && patterns.len() == 3)));
        assert!(s.iter().any(|s| matches!(s, Source::Sqs { function, queue_url, .. } if function == "recommender" && queue_url.ends_with("x-PurchaseEventsQueue"))));
        assert!(s.iter().any(|s| matches!(s, Source::Schedule { function, every } if function == "trending" && *every == Duration::from_secs(900))));
    }

    #[test]
    fn rate_expressions() {
        assert_eq!(rate("rate(15 minutes)"), Some(Duration::from_secs(900)));
        assert_eq!(rate("rate(1 hour)"), Some(Duration::from_secs(3600)));
        assert_eq!(rate("rate(2 days)"), Some(Duration::from_secs(172_800)));
        assert_eq!(rate("rate(0 minutes)"), None);
        assert_eq!(rate("cron(0 12 * * ? *)"), None);
    }
}
