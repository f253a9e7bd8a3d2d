//! The local event-source mappings: what Lambda does in AWS for the template's `SQS`, `DynamoDB`
//! (stream) and schedule events, played against the emulator and the local Lambda service
//! ([`crate::gateway`]). Every property the template sets is honoured, and one the emulation does
//! not know is refused at start ([`SQS_PROPERTIES`], [`STREAM_PROPERTIES`]), so the local stack
//! cannot silently behave otherwise than the cloud:
//!
//! * SQS: `BatchSize` (up to 10,000: receives of 10 are gathered) within
//!   `MaximumBatchingWindowInSeconds` of the batch's first message; up to
//!   `ScalingConfig.MaximumConcurrency` batches in flight; `FunctionResponseTypes:
//!   [ReportBatchItemFailures]`; `FilterCriteria`. The messages not reported as failed are
//!   deleted; the failed ones become visible again after a second, and the queue's own redrive
//!   policy moves a message to its DLQ after `maxReceiveCount` receives, as in AWS.
//! * DynamoDB streams: `StartingPosition` (`TRIM_HORIZON`, `LATEST`), `BatchSize`,
//!   `MaximumBatchingWindowInSeconds`, `ParallelizationFactor` (batches of one shard in flight at
//!   once, the records of one item key in order), `FilterCriteria`, `ReportBatchItemFailures`
//!   (retry from the first failed record), `BisectBatchOnFunctionError`,
//!   `MaximumRetryAttempts`, then `DestinationConfig.OnFailure` (the batch's position is sent to
//!   that queue, as Lambda does).
//! * Schedules (`Schedule` / `ScheduleV2` with a `rate(...)` expression): invoke the function once
//!   at start and then at that rate, retried per `RetryPolicy`; `LOCAL_SCHEDULE_SECONDS` overrides
//!   every rate (the test stack fires the trending job every few seconds).
//!
//! Functions are invoked through the local Lambda service's Invoke API
//! (`/2015-03-31/functions/…/invocations`). [`PumpStatus`] tells whether anything is in hand.

use crate::local::{InfraError, LocalNames, aws_err, queue_arn, queue_url};
use crate::template::{Template, getatt_target, scalar};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// Where a stream mapping starts reading a shard it has not read before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartingPosition {
    TrimHorizon,
    Latest,
}

/// An SQS event-source mapping of the template, with every setting it gives.
#[derive(Debug, Clone, PartialEq)]
pub struct SqsSource {
    pub function: String,
    pub queue_url: String,
    pub queue_arn: String,
    /// Messages per invocation at most (`BatchSize`, 1..=10,000).
    pub batch_size: usize,
    /// How long to gather a batch after its first message (`MaximumBatchingWindowInSeconds`).
    pub window: Duration,
    /// Batches in flight at once (`ScalingConfig.MaximumConcurrency`; unset: the local cap).
    pub concurrency: usize,
    /// `FunctionResponseTypes: [ReportBatchItemFailures]`.
    pub report_failures: bool,
    pub patterns: Vec<Value>,
}

/// A DynamoDB-stream event-source mapping of the template, with every setting it gives.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamSource {
    pub function: String,
    pub table: String,
    pub batch_size: usize,
    pub window: Duration,
    pub starting: StartingPosition,
    /// Batches of one shard in flight at once, records of one item key in order
    /// (`ParallelizationFactor`, 1..=10).
    pub parallelization: usize,
    /// `MaximumRetryAttempts` (`None`: -1, retry until the record expires).
    pub max_retries: Option<u32>,
    /// `BisectBatchOnFunctionError`: a failing batch is split in two and each half retried.
    pub bisect: bool,
    /// `DestinationConfig.OnFailure` (a queue URL): where a batch that exhausted its retries is
    /// described.
    pub on_failure: Option<String>,
    pub report_failures: bool,
    pub patterns: Vec<Value>,
}

/// One event source of the template.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Sqs(SqsSource),
    Stream(StreamSource),
    Schedule {
        function: String,
        every: Duration,
        /// `RetryPolicy.MaximumRetryAttempts` (EventBridge Scheduler's default is 185).
        retries: u32,
    },
}

/// The properties of each event type that the local emulation honours. A template property not
/// listed here is an error: it would be silently ignored locally and behave differently in AWS.
pub const SQS_PROPERTIES: &[&str] = &[
    "Queue",
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "ScalingConfig",
    "FunctionResponseTypes",
    "FilterCriteria",
    "Enabled",
];
pub const STREAM_PROPERTIES: &[&str] = &[
    "Stream",
    "StartingPosition",
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "ParallelizationFactor",
    "MaximumRetryAttempts",
    "BisectBatchOnFunctionError",
    "DestinationConfig",
    "FunctionResponseTypes",
    "FilterCriteria",
    "Enabled",
];
pub const SCHEDULE_PROPERTIES: &[&str] = &[
    "Schedule",
    "ScheduleExpression",
    "RetryPolicy",
    "Enabled",
    "State",
    "Name",
    "Description",
];

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

fn shape(msg: String) -> InfraError {
    InfraError::Shape(msg)
}

/// The template's SQS, DynamoDB-stream and schedule event sources, with local names;
/// `local_concurrency` caps the SQS pollers of a mapping without `ScalingConfig`.
pub fn sources(
    template: &Template,
    names: &LocalNames,
    endpoint: &str,
    region: &str,
    local_concurrency: usize,
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
        for (name, event) in events {
            let at = format!(
                "{}.Events.{}",
                function.logical_id,
                name.as_str().unwrap_or("?")
            );
            let props = event.get("Properties");
            let get = |name: &str| props.and_then(|p| p.get(name));
            let number =
                |name: &str, default: i64, min: i64, max: i64| -> Result<i64, InfraError> {
                    match get(name) {
                        None => Ok(default),
                        Some(v) => scalar(v)
                            .and_then(|v| v.parse::<i64>().ok())
                            .filter(|v| (min..=max).contains(v))
                            .ok_or_else(|| shape(format!("{at}: {name} must be {min}..={max}"))),
                    }
                };
            let kind = event.get("Type").and_then(|t| t.as_str()).unwrap_or("");
            let known = match kind {
                "SQS" => SQS_PROPERTIES,
                "DynamoDB" => STREAM_PROPERTIES,
                "Schedule" | "ScheduleV2" => SCHEDULE_PROPERTIES,
                _ => continue,
            };
            for key in props
                .and_then(|p| p.as_mapping())
                .into_iter()
                .flatten()
                .filter_map(|(k, _)| k.as_str())
            {
                if !known.contains(&key) {
                    return Err(shape(format!(
                        "{at}: {key} is not emulated by the local event sources (infra/src/pump.rs); \
                         honour it there before using it"
                    )));
                }
            }
            let enabled = get("Enabled").and_then(scalar).is_none_or(|v| v != "false")
                && get("State")
                    .and_then(scalar)
                    .is_none_or(|v| v != "DISABLED");
            if !enabled {
                continue;
            }
            let report_failures = get("FunctionResponseTypes")
                .and_then(|v| v.as_sequence())
                .into_iter()
                .flatten()
                .any(|v| v.as_str() == Some("ReportBatchItemFailures"));
            let patterns = get("FilterCriteria")
                .and_then(|f| f.get("Filters"))
                .and_then(|f| f.as_sequence())
                .into_iter()
                .flatten()
                .filter_map(|f| f.get("Pattern").and_then(|p| p.as_str()))
                .map(|p| {
                    serde_json::from_str::<Value>(p)
                        .map_err(|e| shape(format!("{at}: filter pattern: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let window =
                Duration::from_secs(number("MaximumBatchingWindowInSeconds", 0, 0, 300)? as u64);
            match kind {
                "SQS" => {
                    let (queue, _) = get("Queue").and_then(getatt_target).ok_or_else(|| {
                        shape(format!("{at}: SQS event needs Queue: !GetAtt Q.Arn"))
                    })?;
                    let batch_size = number("BatchSize", 10, 1, 10_000)? as usize;
                    if batch_size > 10 && window.is_zero() {
                        return Err(shape(format!(
                            "{at}: a BatchSize over 10 needs MaximumBatchingWindowInSeconds ≥ 1 (as in AWS)"
                        )));
                    }
                    let concurrency = match get("ScalingConfig") {
                        None => local_concurrency.max(1),
                        Some(c) => c
                            .get("MaximumConcurrency")
                            .and_then(|v| template.resolve_with_defaults(v))
                            .and_then(|v| v.parse::<usize>().ok())
                            .filter(|v| (2..=1000).contains(v))
                            .ok_or_else(|| {
                                shape(format!(
                                    "{at}: ScalingConfig.MaximumConcurrency must be 2..=1000"
                                ))
                            })?,
                    };
                    let name = names.resource(&queue);
                    out.push(Source::Sqs(SqsSource {
                        function: function.binary.clone(),
                        queue_url: queue_url(endpoint, &name),
                        queue_arn: queue_arn(region, &name),
                        batch_size,
                        window,
                        concurrency,
                        report_failures,
                        patterns,
                    }));
                }
                "DynamoDB" => {
                    let (table, _) = get("Stream").and_then(getatt_target).ok_or_else(|| {
                        shape(format!(
                            "{at}: DynamoDB event needs Stream: !GetAtt T.StreamArn"
                        ))
                    })?;
                    let starting = match get("StartingPosition").and_then(scalar).as_deref() {
                        Some("TRIM_HORIZON") => StartingPosition::TrimHorizon,
                        Some("LATEST") => StartingPosition::Latest,
                        other => {
                            return Err(shape(format!(
                                "{at}: StartingPosition {other:?} is not emulated (TRIM_HORIZON or LATEST)"
                            )));
                        }
                    };
                    let on_failure = match get("DestinationConfig") {
                        None => None,
                        Some(d) => {
                            let target = d
                                .get("OnFailure")
                                .and_then(|o| o.get("Destination"))
                                .and_then(getatt_target)
                                .filter(|(_, attr)| attr == "Arn")
                                .ok_or_else(|| {
                                    shape(format!(
                                        "{at}: DestinationConfig.OnFailure.Destination must be !GetAtt Queue.Arn"
                                    ))
                                })?;
                            Some(queue_url(endpoint, &names.resource(&target.0)))
                        }
                    };
                    let retries = number("MaximumRetryAttempts", -1, -1, 10_000)?;
                    out.push(Source::Stream(StreamSource {
                        function: function.binary.clone(),
                        table: names.resource(&table),
                        batch_size: number("BatchSize", 100, 1, 10_000)? as usize,
                        window,
                        starting,
                        parallelization: number("ParallelizationFactor", 1, 1, 10)? as usize,
                        max_retries: u32::try_from(retries).ok(),
                        bisect: get("BisectBatchOnFunctionError")
                            .and_then(scalar)
                            .is_some_and(|v| v == "true"),
                        on_failure,
                        report_failures,
                        patterns,
                    }));
                }
                _ => {
                    let field = if kind == "Schedule" {
                        "Schedule"
                    } else {
                        "ScheduleExpression"
                    };
                    let expression = get(field).and_then(scalar).unwrap_or_default();
                    let every = rate(&expression).ok_or_else(|| {
                        shape(format!(
                            "{at}: schedule `{expression}` is not a rate(...) expression"
                        ))
                    })?;
                    let retries = get("RetryPolicy")
                        .and_then(|r| r.get("MaximumRetryAttempts"))
                        .and_then(scalar)
                        .and_then(|v| v.parse::<u32>().ok())
                        .unwrap_or(185);
                    out.push(Source::Schedule {
                        function: function.binary.clone(),
                        every,
                        retries,
                    });
                }
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

/// Invokes `function` through the local Lambda service's Invoke API; the function's answer, or
/// an error (a function error, a timeout, or the service unreachable).
async fn invoke(
    http: &reqwest::Client,
    api: &str,
    function: &str,
    event: &Value,
) -> Result<Value, String> {
    let response = http
        .post(format!("{api}/2015-03-31/functions/{function}/invocations"))
        .json(event)
        .timeout(Duration::from_secs(120))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let function_error = response.headers().contains_key("x-amz-function-error");
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() || function_error || body.get("errorType").is_some() {
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

/// Whether the event sources have nothing in hand: every poller's last look found nothing, and no
/// batch is being processed. `make dev` announces the stack only once this holds.
#[derive(Default)]
pub struct PumpStatus {
    pollers: std::sync::Mutex<Vec<Arc<AtomicBool>>>,
    busy: AtomicUsize,
    expected: AtomicUsize,
}

impl PumpStatus {
    fn poller(&self) -> Arc<AtomicBool> {
        let flag = Arc::new(AtomicBool::new(false));
        self.pollers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(flag.clone());
        flag
    }

    /// True when every queue and stream poller has started, last found nothing, and no batch is
    /// in flight.
    pub fn drained(&self) -> bool {
        let pollers = self.pollers.lock().unwrap_or_else(|e| e.into_inner());
        pollers.len() == self.expected.load(Ordering::SeqCst)
            && self.busy.load(Ordering::SeqCst) == 0
            && pollers.iter().all(|p| p.load(Ordering::SeqCst))
    }

    /// Batches being processed now.
    pub fn busy(&self) -> usize {
        self.busy.load(Ordering::SeqCst)
    }
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
    status: Arc<PumpStatus>,
}

/// How often an idle poller looks again. No long polling: the local moto serializes calls, and a
/// waiting receive would hold every other AWS call of the stack for its duration.
const IDLE_POLL: Duration = Duration::from_millis(100);

/// The bodies one SQS batch may carry: Lambda's 6 MB synchronous payload limit, less room for
/// the records' envelopes; and the largest SQS message.
const PAYLOAD_BYTES: usize = 5 * 1024 * 1024;
const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// Messages of one SQS batch.
type Messages = Vec<aws_sdk_sqs::types::Message>;

/// Gathers one batch as Lambda's SQS poller does: up to `batch_size` messages, waiting at most
/// `window` after the first one (with no window, what the first receive returned). Empty when the
/// queue had nothing.
async fn gather(ctx: &Ctx, url: &str, batch_size: usize, window: Duration) -> Messages {
    use aws_sdk_sqs::types::MessageSystemAttributeName;
    let mut batch: Messages = Vec::new();
    let mut bytes = 0usize;
    let mut deadline = None;
    loop {
        let want = (batch_size - batch.len()).min(10) as i32;
        let received = ctx
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(want)
            .wait_time_seconds(0)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await;
        let got = match received {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(e) => {
                eprintln!("pump: receiving from {url}: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
                Vec::new()
            }
        };
        let now = tokio::time::Instant::now();
        if !got.is_empty() && deadline.is_none() {
            deadline = Some(now + window);
        }
        let empty = got.is_empty();
        bytes += got
            .iter()
            .map(|m| m.body().map_or(0, str::len))
            .sum::<usize>();
        batch.extend(got);
        // Lambda closes a batch at its 6 MB invocation payload too: no further receive (up to 10
        // messages of at most 256 KB) once it might not fit.
        let full = batch.len() >= batch_size || bytes + 10 * MAX_MESSAGE_BYTES > PAYLOAD_BYTES;
        match deadline {
            None => return batch,
            Some(d) if full || now >= d => return batch,
            Some(d) if empty => tokio::time::sleep((d - now).min(Duration::from_millis(50))).await,
            Some(_) => {}
        }
    }
}

/// One SQS event-source mapping: a poller gathering batches, up to `concurrency` of them in
/// flight at once.
async fn pump_sqs(ctx: Ctx, source: SqsSource) {
    let source = Arc::new(source);
    let idle = ctx.status.poller();
    let permits = Arc::new(tokio::sync::Semaphore::new(source.concurrency.max(1)));
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let messages = gather(&ctx, &source.queue_url, source.batch_size, source.window).await;
        if messages.is_empty() {
            idle.store(true, Ordering::SeqCst);
            drop(permit);
            tokio::time::sleep(IDLE_POLL).await;
            continue;
        }
        idle.store(false, Ordering::SeqCst);
        ctx.status.busy.fetch_add(1, Ordering::SeqCst);
        let (ctx, source) = (ctx.clone(), source.clone());
        tokio::spawn(async move {
            sqs_batch(&ctx, &source, messages).await;
            ctx.status.busy.fetch_sub(1, Ordering::SeqCst);
            drop(permit);
        });
    }
}

/// Invokes the function with one SQS batch, deletes what succeeded (and what the filter dropped,
/// as Lambda does), and makes the failed messages visible again after a second.
async fn sqs_batch(ctx: &Ctx, source: &SqsSource, messages: Messages) {
    let SqsSource {
        function,
        queue_url: url,
        queue_arn: arn,
        report_failures,
        patterns,
        ..
    } = source;
    use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry;
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            let attributes: serde_json::Map<String, Value> = m
                .attributes()
                .map(|a| {
                    a.iter()
                        .map(|(k, v)| (k.as_str().to_owned(), Value::from(v.clone())))
                        .collect()
                })
                .unwrap_or_default();
            json!({
                "messageId": m.message_id(), "receiptHandle": m.receipt_handle(), "body": m.body(),
                "attributes": attributes, "messageAttributes": {}, "md5OfBody": m.md5_of_body(),
                "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": ctx.region,
            })
        })
        .filter(|r| patterns.is_empty() || patterns.iter().any(|p| matches(p, r)))
        .collect();
    let all = || -> Vec<String> {
        records
            .iter()
            .filter_map(|r| r["messageId"].as_str().map(str::to_owned))
            .collect()
    };
    let failed = if records.is_empty() {
        Vec::new()
    } else {
        match invoke(
            &ctx.http,
            &ctx.api,
            function,
            &json!({ "Records": records }),
        )
        .await
        {
            Ok(answer) if *report_failures => failed_ids(&answer),
            Ok(_) => Vec::new(),
            Err(e) => {
                eprintln!("pump: {e}");
                all()
            }
        }
    };
    let is_failed =
        |m: &aws_sdk_sqs::types::Message| failed.iter().any(|f| Some(f.as_str()) == m.message_id());
    let done: Vec<DeleteMessageBatchRequestEntry> = messages
        .iter()
        .enumerate()
        .filter(|(_, m)| !is_failed(m))
        .filter_map(|(i, m)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(format!("d{i}"))
                .receipt_handle(m.receipt_handle()?)
                .build()
                .ok()
        })
        .collect();
    let deletes = done.chunks(10).map(|chunk| {
        ctx.sqs
            .delete_message_batch()
            .queue_url(url)
            .set_entries(Some(chunk.to_vec()))
            .send()
    });
    for result in futures::future::join_all(deletes).await {
        if let Err(e) = result {
            eprintln!("pump: deleting from {url}: {e}");
        }
    }
    for m in messages.iter().filter(|m| is_failed(m)) {
        if let Some(receipt) = m.receipt_handle() {
            let _ = ctx
                .sqs
                .change_message_visibility()
                .queue_url(url)
                .receipt_handle(receipt)
                .visibility_timeout(1)
                .send()
                .await;
        }
    }
}

async fn pump_schedule(ctx: Ctx, function: String, every: Duration, retries: u32) {
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
        for attempt in 0..=retries.min(5) {
            match invoke(&ctx.http, &ctx.api, &function, &event).await {
                Ok(_) => break,
                Err(e) => {
                    eprintln!("pump: scheduled {function} (attempt {}): {e}", attempt + 1);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
        tokio::time::sleep(every).await;
    }
}

/// A stream mapping at work: its settings and the stream it reads.
struct StreamMapping {
    source: StreamSource,
    stream_arn: String,
}

/// The partition (item key) of a stream record: records of one key stay in order.
fn lane(record: &Value, lanes: usize) -> usize {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    record["dynamodb"]["Keys"].to_string().hash(&mut h);
    (h.finish() % lanes.max(1) as u64) as usize
}

fn sequence(record: &Value) -> &str {
    record["dynamodb"]["SequenceNumber"]
        .as_str()
        .unwrap_or_default()
}

impl StreamMapping {
    /// Delivers `records` (one lane, in order) in batches, as Lambda does for one shard.
    async fn deliver(&self, ctx: &Ctx, records: Vec<Value>) {
        for chunk in records.chunks(self.source.batch_size.max(1)) {
            self.batch(ctx, chunk.to_vec(), 0).await;
        }
    }

    /// One batch with its retries: on a partial failure the batch resumes at the first failed
    /// record; on a function error it is split in two when bisecting; after `max_retries` the
    /// batch is described to the on-failure destination and skipped.
    fn batch<'a>(
        &'a self,
        ctx: &'a Ctx,
        mut pending: Vec<Value>,
        mut attempt: u32,
    ) -> futures::future::BoxFuture<'a, ()> {
        Box::pin(async move {
            while !pending.is_empty() {
                let answer = invoke(
                    &ctx.http,
                    &ctx.api,
                    &self.source.function,
                    &json!({ "Records": pending }),
                )
                .await;
                let first_failed = match answer {
                    Ok(answer) if self.source.report_failures => {
                        let failed = failed_ids(&answer);
                        pending
                            .iter()
                            .position(|r| failed.iter().any(|f| f == sequence(r)))
                    }
                    Ok(_) => None,
                    Err(e) => {
                        eprintln!("pump: {e}");
                        if self.source.bisect && pending.len() > 1 {
                            let second = pending.split_off(pending.len() / 2);
                            self.batch(ctx, pending, attempt + 1).await;
                            self.batch(ctx, second, attempt + 1).await;
                            return;
                        }
                        Some(0)
                    }
                };
                let Some(first) = first_failed else { return };
                attempt += 1;
                if self.source.max_retries.is_some_and(|max| attempt > max) {
                    let failed = pending.split_off(first);
                    self.give_up(ctx, &failed).await;
                    return;
                }
                pending = pending.split_off(first);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    }

    /// What Lambda sends to a stream mapping's on-failure destination: the batch's position.
    async fn give_up(&self, ctx: &Ctx, records: &[Value]) {
        eprintln!(
            "pump: {} kept failing on {} stream records; skipped",
            self.source.function,
            records.len()
        );
        let Some(url) = &self.source.on_failure else {
            return;
        };
        let body = json!({
            "requestContext": {
                "condition": "RetryAttemptsExhausted",
                "functionArn": format!("arn:aws:lambda:{}:123456789012:function:{}", ctx.region, self.source.function),
            },
            "DDBStreamBatchInfo": {
                "shardId": "local",
                "startSequenceNumber": records.first().map(sequence),
                "endSequenceNumber": records.last().map(sequence),
                "batchSize": records.len(),
                "streamArn": self.stream_arn,
            }
        });
        if let Err(e) = ctx
            .sqs
            .send_message()
            .queue_url(url)
            .message_body(body.to_string())
            .send()
            .await
        {
            eprintln!("pump: on-failure destination {url}: {e}");
        }
    }
}

async fn pump_stream(ctx: Ctx, source: StreamSource) {
    use aws_sdk_dynamodbstreams::types::ShardIteratorType;
    let idle = ctx.status.poller();
    let table = source.table.clone();
    let stream_arn = loop {
        match ctx.dynamo.describe_table().table_name(&table).send().await {
            Ok(out) => match out.table.and_then(|t| t.latest_stream_arn) {
                Some(arn) => break arn,
                None => {
                    eprintln!("pump: {table} has no stream");
                    idle.store(true, Ordering::SeqCst);
                    return;
                }
            },
            Err(e) => {
                eprintln!("pump: describing {table}: {}", aws_err(e));
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    let (batch_size, window, starting, parallelization) = (
        source.batch_size,
        source.window,
        source.starting,
        source.parallelization,
    );
    let patterns = source.patterns.clone();
    let mapping = StreamMapping {
        source,
        stream_arn: stream_arn.clone(),
    };
    let mut iterators: std::collections::BTreeMap<String, Option<String>> = Default::default();
    // The mapping's starting position applies to the shards open when it starts; shards that
    // appear later are read from their beginning, as Lambda does.
    let mut first_look = true;
    // Records read and not delivered yet (gathering for the batching window), since when.
    let mut pending: Vec<Value> = Vec::new();
    let mut pending_since: Option<tokio::time::Instant> = None;
    loop {
        if let Ok(out) = ctx
            .streams
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
                let kind = match (first_look, starting) {
                    (true, StartingPosition::Latest) => ShardIteratorType::Latest,
                    _ => ShardIteratorType::TrimHorizon,
                };
                let iterator = ctx
                    .streams
                    .get_shard_iterator()
                    .stream_arn(&stream_arn)
                    .shard_id(&id)
                    .shard_iterator_type(kind)
                    .send()
                    .await
                    .ok()
                    .and_then(|o| o.shard_iterator);
                iterators.insert(id, iterator);
            }
            first_look = false;
        }
        let mut read_any = false;
        for iterator in iterators.values_mut() {
            let Some(current) = iterator.clone() else {
                continue;
            };
            let out = match ctx
                .streams
                .get_records()
                .shard_iterator(&current)
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
            read_any |= !raw.is_empty();
            pending.extend(
                raw.into_iter()
                    .filter_map(|r| stream_record_json(&r, &stream_arn, &ctx.region))
                    .filter(|r| patterns.is_empty() || patterns.iter().any(|p| matches(p, r))),
            );
            *iterator = out.next_shard_iterator;
        }
        let now = tokio::time::Instant::now();
        if !pending.is_empty() && pending_since.is_none() {
            pending_since = Some(now);
        }
        let due = pending.len() >= batch_size
            || pending_since.is_some_and(|since| now.duration_since(since) >= window);
        if !pending.is_empty() && due {
            idle.store(false, Ordering::SeqCst);
            ctx.status.busy.fetch_add(1, Ordering::SeqCst);
            let mut lanes: Vec<Vec<Value>> = vec![Vec::new(); parallelization.max(1)];
            for record in pending.drain(..) {
                lanes[lane(&record, parallelization)].push(record);
            }
            futures::future::join_all(
                lanes
                    .into_iter()
                    .filter(|l| !l.is_empty())
                    .map(|l| mapping.deliver(&ctx, l)),
            )
            .await;
            pending_since = None;
            ctx.status.busy.fetch_sub(1, Ordering::SeqCst);
            continue;
        }
        if !read_any && pending.is_empty() {
            idle.store(true, Ordering::SeqCst);
            tokio::time::sleep(IDLE_POLL).await;
        } else if !read_any {
            tokio::time::sleep(Duration::from_millis(20)).await;
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
    local_concurrency: usize,
    status: Arc<PumpStatus>,
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
        status: status.clone(),
    };
    let sources = sources(template, names, endpoint, &region, local_concurrency)?;
    status.expected.store(
        sources
            .iter()
            .filter(|s| !matches!(s, Source::Schedule { .. }))
            .count(),
        Ordering::SeqCst,
    );
    let mut tasks = Vec::new();
    for source in sources {
        eprintln!("pump: {source:?}");
        tasks.push(match source {
            Source::Sqs(source) => tokio::spawn(pump_sqs(ctx.clone(), source)),
            Source::Stream(source) => tokio::spawn(pump_stream(ctx.clone(), source)),
            Source::Schedule {
                function,
                every,
                retries,
            } => tokio::spawn(pump_schedule(ctx.clone(), function, every, retries)),
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
        let s = sources(&t, &names, "http://h:1", "us-east-1", 4).expect("sources");
        assert!(s.iter().any(|s| matches!(s, Source::Sqs(SqsSource { function, queue_url, report_failures: true, .. }) if function == "notifier" && queue_url == "http://h:1/123456789012/x-OrderEventsQueue")));
        assert!(s.iter().any(|s| matches!(s, Source::Stream(StreamSource { function, table, patterns, starting: StartingPosition::TrimHorizon, bisect: true, on_failure: Some(dlq), .. }) if function == "relay" && table == "x-Table" && patterns.len() == 5 && dlq.ends_with("x-StreamRelayDLQ"))));
        assert!(s.iter().any(|s| matches!(s, Source::Sqs(SqsSource { function, queue_url, .. }) if function == "recommender" && queue_url.ends_with("x-PurchaseEventsQueue"))));
        assert!(s.iter().any(|s| matches!(s, Source::Schedule { function, every, retries: 2 } if function == "trending" && *every == Duration::from_secs(900))));
        // Payments: settlement consumes payment.changed with partial batch failures, reconcile
        // runs every 10 minutes.
        assert!(s.iter().any(|s| matches!(s, Source::Sqs(SqsSource { function, queue_url, batch_size: 10, concurrency: 5, report_failures: true, .. }) if function == "settlement" && queue_url == "http://h:1/123456789012/x-PaymentEventsQueue")));
        assert!(s.iter().any(|s| matches!(s, Source::Schedule { function, every, retries: 2 } if function == "reconcile" && *every == Duration::from_secs(600))));
    }

    /// A payment record written or changed reaches the relay (payment.changed); other entities'
    /// modifications do not.
    #[test]
    fn payment_records_reach_the_relay() {
        let t = Template::load_repo().expect("template");
        let s = sources(&t, &LocalNames::new("x"), "http://h:1", "us-east-1", 4).expect("sources");
        let patterns = s
            .iter()
            .find_map(|s| match s {
                Source::Stream(StreamSource {
                    function, patterns, ..
                }) if function == "relay" => Some(patterns.clone()),
                _ => None,
            })
            .expect("the relay's stream source");
        let record = |event: &str, entity: &str| json!({"eventName": event, "dynamodb": {"NewImage": {"entity": {"S": entity}}}});
        let passes = |r: &Value| patterns.iter().any(|p| matches(p, r));
        assert!(passes(&record("INSERT", "payment")));
        assert!(passes(&record("MODIFY", "payment")));
        assert!(!passes(&record("MODIFY", "order")));
        assert!(!passes(&record("INSERT", "cart")));
    }

    /// Every setting of every event source in template.yaml reaches the local emulation with the
    /// template's value: a property the emulation does not honour is refused, and the values it
    /// reads are the ones written in the template.
    #[test]
    fn every_mapping_setting_of_the_template_is_honoured_locally() {
        let t = Template::load_repo().expect("template");
        let names = LocalNames::new("x");
        let s =
            sources(&t, &names, "http://h:1", "us-east-1", 4).expect("every setting is emulated");
        for function in t.functions().expect("functions") {
            let events = t
                .resource(&function.logical_id)
                .and_then(|r| r.get("Properties"))
                .and_then(|p| p.get("Events"))
                .and_then(|e| e.as_mapping())
                .cloned()
                .unwrap_or_default();
            for (_, event) in events {
                let props = event.get("Properties");
                let int = |name: &str| {
                    props
                        .and_then(|p| p.get(name))
                        .and_then(scalar)
                        .and_then(|v| v.parse::<usize>().ok())
                };
                let kind = event.get("Type").and_then(|t| t.as_str()).unwrap_or("");
                let found = s.iter().find(|s| match s {
                    Source::Sqs(SqsSource { function: f, .. })
                    | Source::Stream(StreamSource { function: f, .. })
                    | Source::Schedule { function: f, .. } => f == &function.binary,
                });
                match (kind, found) {
                    (
                        "SQS",
                        Some(Source::Sqs(SqsSource {
                            batch_size,
                            window,
                            concurrency,
                            ..
                        })),
                    ) => {
                        assert_eq!(
                            Some(*batch_size),
                            int("BatchSize").or(Some(10)),
                            "{}",
                            function.binary
                        );
                        assert_eq!(
                            window.as_secs() as usize,
                            int("MaximumBatchingWindowInSeconds").unwrap_or(0)
                        );
                        let declared = props
                            .and_then(|p| p.get("ScalingConfig"))
                            .and_then(|c| c.get("MaximumConcurrency"))
                            .and_then(|v| t.resolve_with_defaults(v))
                            .and_then(|v| v.parse::<usize>().ok());
                        assert_eq!(*concurrency, declared.unwrap_or(4), "{}", function.binary);
                    }
                    (
                        "DynamoDB",
                        Some(Source::Stream(StreamSource {
                            batch_size,
                            window,
                            parallelization,
                            max_retries,
                            ..
                        })),
                    ) => {
                        assert_eq!(Some(*batch_size), int("BatchSize").or(Some(100)));
                        assert_eq!(
                            window.as_secs() as usize,
                            int("MaximumBatchingWindowInSeconds").unwrap_or(0)
                        );
                        assert_eq!(*parallelization, int("ParallelizationFactor").unwrap_or(1));
                        assert_eq!(max_retries.map(|m| m as usize), int("MaximumRetryAttempts"));
                    }
                    ("Schedule" | "ScheduleV2", Some(Source::Schedule { .. })) => {}
                    ("SQS" | "DynamoDB" | "Schedule" | "ScheduleV2", other) => {
                        panic!("{}: {kind} event became {other:?}", function.binary)
                    }
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn settings_the_emulation_does_not_honour_are_refused() {
        let base = |extra: &str| {
            format!(
                r#"
Resources:
  Q: {{Type: AWS::SQS::Queue}}
  Fn:
    Type: AWS::Serverless::Function
    Metadata: {{BuildProperties: {{Binary: worker}}}}
    Properties:
      Events:
        E:
          Type: SQS
          Properties:
            Queue: !GetAtt Q.Arn
{extra}
"#
            )
        };
        let names = LocalNames::new("x");
        let parse = |extra: &str| {
            let t = Template::parse(&base(extra)).expect("parses");
            sources(&t, &names, "http://h:1", "us-east-1", 4)
        };
        let ok = parse("            BatchSize: 200\n            MaximumBatchingWindowInSeconds: 2\n            ScalingConfig: {MaximumConcurrency: 3}").expect("honoured");
        assert!(
            matches!(&ok[0], Source::Sqs(SqsSource { batch_size: 200, concurrency: 3, window, .. }) if *window == Duration::from_secs(2))
        );
        assert!(
            parse("            SomethingNew: 1").is_err(),
            "an unknown setting is refused"
        );
        assert!(
            parse("            BatchSize: 200").is_err(),
            "AWS needs a window for batches over 10"
        );
        assert!(
            parse("            ScalingConfig: {MaximumConcurrency: 1}").is_err(),
            "AWS's minimum is 2"
        );
        assert!(
            parse("            Enabled: false")
                .expect("parses")
                .is_empty()
        );
    }

    #[test]
    fn stream_lanes_keep_one_key_in_one_lane() {
        let a = json!({"dynamodb": {"Keys": {"pk": {"S": "PRODUCT#1"}}}});
        let b = json!({"dynamodb": {"Keys": {"pk": {"S": "PRODUCT#1"}}, "SequenceNumber": "2"}});
        assert_eq!(lane(&a, 4), lane(&b, 4));
        assert!(lane(&a, 4) < 4);
        assert_eq!(lane(&a, 1), 0);
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
