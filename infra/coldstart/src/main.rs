//! `make coldstart`: every release binary of template.yaml's functions, and the hello-world
//! baseline (`infra/hello`) built in the same `cargo build --release`, started cold against a
//! mock Lambda Runtime API, N times each (round robin, so that a noisy moment hits every binary
//! alike).
//!
//! * **init**: from `exec` to the binary's first `GET …/invocation/next` (what Lambda bills as
//!   the Init phase for a custom runtime);
//! * **first invocation**: from the moment the event is handed over to its `POST …/response`
//!   (or `…/error`).
//!
//! Each process gets the environment AWS Lambda would give it (template.yaml's variables with
//! dummy resource names, dummy credentials, region, `LAMBDA_TASK_ROOT`), with every AWS endpoint
//! at `127.0.0.1:9` (nothing listens there) and `AWS_MAX_ATTEMPTS=1`: nothing may need the
//! network to start, and a call that does fails at once instead of waiting out retries. The first
//! event is, per the function's first event source: an HTTP API request to an unrouted path (the
//! function's own `404` problem: parsing, routing, the problem response, no AWS call); an SQS
//! batch of one message that is no Bazaar event; a stream batch of one record of no Bazaar
//! entity; a scheduled event (the job starts, and its first AWS call fails: an error response).
//! The answer (status or error) is printed with the timings.
//!
//! Besides timings (printed, never asserted: the machine may be busy), it checks what a lean
//! build must be, and exits non-zero otherwise: every binary starts and answers its first event,
//! and a function started with `AUTH_MODE=local` refuses to start (the local stack's code is not
//! in release builds: bazaar-lambda's feature `local`).
//!
//! Usage: `coldstart [--bin-dir DIR] [--runs N] [--markdown FILE] [--only fn1,fn2]` (`--only`: those
//! functions and the baseline, e.g. after `cargo build --release -p hello -p checkout`).

mod template;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{Value as Json, json};
use serde_yaml_ng::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use template::{BoxError, Template, getatt_target, ref_target, scalar};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// Where every AWS client of a benchmarked function points: nothing listens on port 9.
const NOWHERE: &str = "http://127.0.0.1:9";
/// How long a run may take before it counts as failed.
const RUN_TIMEOUT: Duration = Duration::from_secs(20);
const MAX_RUNS: usize = 1000;

/// What the mock Runtime API saw, in order.
#[derive(Debug)]
enum Seen {
    /// The first `next` poll (its arrival), once the event was handed over.
    FirstNext(Instant),
    /// `…/response` (`ok`) or `…/error` with its body.
    Answer { at: Instant, ok: bool, body: Bytes },
    /// `/runtime/init/error`.
    InitError(Bytes),
}

/// One binary to measure.
struct Subject {
    name: String,
    path: PathBuf,
    kind: EventKind,
    env: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum EventKind {
    Http,
    Sqs,
    Stream,
    Schedule,
    /// The baseline: any JSON (it echoes it).
    Hello,
}

impl EventKind {
    fn label(self) -> &'static str {
        match self {
            EventKind::Http => "HTTP `GET /coldstart-unrouted`",
            EventKind::Sqs => "SQS, 1 foreign message",
            EventKind::Stream => "stream, 1 foreign record",
            EventKind::Schedule => "schedule",
            EventKind::Hello => "HTTP request (echoed)",
        }
    }

    fn event(self) -> Json {
        match self {
            EventKind::Http | EventKind::Hello => json!({
                "version": "2.0",
                "routeKey": "$default",
                "rawPath": "/coldstart-unrouted",
                "rawQueryString": "",
                "headers": {"accept": "application/json", "host": "api.example.com"},
                "requestContext": {
                    "accountId": "000000000000", "apiId": "coldstart",
                    "domainName": "api.example.com", "domainPrefix": "api",
                    "http": {"method": "GET", "path": "/coldstart-unrouted", "protocol": "HTTP/1.1",
                             "sourceIp": "192.0.2.1", "userAgent": "coldstart"},
                    "requestId": "coldstart", "routeKey": "$default", "stage": "$default",
                    "time": "01/Dec/2026:05:00:00 +0000", "timeEpoch": 1_795_928_400_000_i64
                },
                "isBase64Encoded": false
            }),
            EventKind::Sqs => json!({"Records": [{
                "messageId": "coldstart-1",
                "receiptHandle": "coldstart",
                "body": "{\"coldstart\":true}",
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795928400000"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:coldstart",
                "awsRegion": "us-east-1"
            }]}),
            EventKind::Stream => json!({"Records": [{
                "eventID": "coldstart-1",
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": {
                    "ApproximateCreationDateTime": 1_795_928_400,
                    "Keys": {"pk": {"S": "COLDSTART"}, "sk": {"S": "COLDSTART"}},
                    "NewImage": {"pk": {"S": "COLDSTART"}, "sk": {"S": "COLDSTART"},
                                 "entity": {"S": "coldstart"}},
                    "SequenceNumber": "100000000000000000001",
                    "SizeBytes": 64,
                    "StreamViewType": "NEW_AND_OLD_IMAGES"
                },
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/coldstart/stream/2026-12-01T00:00:00.000"
            }]}),
            EventKind::Schedule => json!({
                "version": "0", "id": "coldstart", "detail-type": "Scheduled Event",
                "source": "aws.scheduler", "account": "000000000000",
                "time": "2026-12-01T05:00:00Z", "region": "us-east-1",
                "resources": ["arn:aws:scheduler:us-east-1:000000000000:schedule/default/coldstart"],
                "detail": {}
            }),
        }
    }
}

/// One cold start's measurements.
struct Run {
    init: Duration,
    first: Duration,
    answer: String,
}

struct Args {
    bin_dir: PathBuf,
    runs: usize,
    markdown: Option<PathBuf>,
    only: Option<Vec<String>>,
}

fn args() -> Result<Args, BoxError> {
    let root = template::repo_root();
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    let mut out = Args {
        bin_dir: target.join("release"),
        runs: 20,
        markdown: None,
        only: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--bin-dir" => out.bin_dir = value()?.into(),
            "--runs" => {
                out.runs = value()?
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_RUNS).contains(n))
                    .ok_or(format!("--runs takes 1..={MAX_RUNS}"))?
            }
            "--markdown" => out.markdown = Some(value()?.into()),
            "--only" => out.only = Some(value()?.split(',').map(str::to_owned).collect()),
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    Ok(out)
}

/// The `!Ref`/`!GetAtt`/`!Sub` of an environment variable, resolved as AWS would resolve it but to
/// dummy names; every endpoint is [`NOWHERE`].
fn resolve(template: &Template, v: &Value) -> Option<String> {
    let resource = |name: &str| -> String {
        let is_queue = template
            .resource(name)
            .and_then(|r| r.get("Type"))
            .and_then(Value::as_str)
            == Some("AWS::SQS::Queue");
        match name {
            "AWS::Region" => "us-east-1".into(),
            "AWS::AccountId" => "000000000000".into(),
            "AWS::StackName" => "coldstart".into(),
            "AWS::Partition" => "aws".into(),
            "AWS::URLSuffix" => "amazonaws.com".into(),
            _ if is_queue => format!("{NOWHERE}/000000000000/{name}"),
            _ if template.resource(name).is_some() => format!("coldstart-{name}"),
            _ => template
                .parameter_default(name)
                .unwrap_or_else(|| format!("coldstart-{name}")),
        }
    };
    let attribute = |name: &str, attr: &str| -> String {
        match attr {
            "Arn" => format!("arn:aws:service:us-east-1:000000000000:{name}"),
            "QueueName" => name.to_owned(),
            a if a.ends_with("Endpoint") || a.ends_with("DomainName") => "127.0.0.1:9".to_owned(),
            _ => format!("coldstart-{name}-{attr}"),
        }
    };
    if let Some(target) = ref_target(v) {
        return Some(resource(target));
    }
    if let Some((name, attr)) = getatt_target(v) {
        return Some(attribute(&name, &attr));
    }
    if let Value::Tagged(t) = v
        && t.tag == "Sub"
    {
        let mut text = scalar(&t.value)?;
        while let Some(start) = text.find("${") {
            let end = start + text[start..].find('}')?;
            let inner = &text[start + 2..end];
            let value = match inner.split_once('.') {
                Some((name, attr)) if !inner.starts_with("AWS::") => attribute(name, attr),
                _ => resource(inner),
            };
            text.replace_range(start..=end, &value);
        }
        return Some(text);
    }
    // Anything else (`!If`, `!Select`…): a placeholder; a function that cannot start on it
    // shows up as a failed run.
    Some(scalar(v).unwrap_or_else(|| "coldstart".to_owned()))
}

/// The first event source of a function in template.yaml, HTTP first.
fn event_kind(template: &Template, logical_id: &str) -> EventKind {
    let types: Vec<String> = template
        .resource(logical_id)
        .and_then(|r| r.get("Properties"))
        .and_then(|p| p.get("Events"))
        .and_then(Value::as_mapping)
        .map(|events| {
            events
                .values()
                .filter_map(|e| e.get("Type").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let has = |t: &str| types.iter().any(|x| x.starts_with(t));
    if has("HttpApi") || has("Api") {
        EventKind::Http
    } else if has("SQS") {
        EventKind::Sqs
    } else if has("DynamoDB") || has("Kinesis") {
        EventKind::Stream
    } else {
        EventKind::Schedule
    }
}

/// What AWS Lambda sets in every execution environment (the template's variables come on top).
fn lambda_env(name: &str, dir: &Path) -> BTreeMap<String, String> {
    [
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "AKIDCOLDSTART".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "coldstart".to_owned()),
        ("AWS_SESSION_TOKEN", "coldstart".to_owned()),
        ("AWS_ENDPOINT_URL", NOWHERE.to_owned()),
        ("AWS_MAX_ATTEMPTS", "1".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("AWS_LAMBDA_FUNCTION_NAME", name.to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".to_owned()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "coldstart".to_owned()),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON".to_owned()),
        ("AWS_LAMBDA_LOG_LEVEL", "INFO".to_owned()),
        ("LAMBDA_TASK_ROOT", dir.display().to_string()),
        ("LAMBDA_RUNTIME_DIR", dir.display().to_string()),
        ("_HANDLER", "bootstrap".to_owned()),
        ("TZ", ":UTC".to_owned()),
        ("LANG", "en_US.UTF-8".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn subjects(template: &Template, bin_dir: &Path) -> Result<Vec<Subject>, BoxError> {
    let mut out = vec![Subject {
        name: "hello".to_owned(),
        path: bin_dir.join("hello"),
        kind: EventKind::Hello,
        env: lambda_env("hello", bin_dir),
    }];
    let mut functions = template.functions()?;
    functions.sort_by(|a, b| a.binary.cmp(&b.binary));
    for f in functions {
        let mut env = lambda_env(&f.binary, bin_dir);
        env.extend(template.function_environment(&f.logical_id, &|v| resolve(template, v))?);
        // Stripe's real API is a parameter default: nowhere here too.
        if env.contains_key("STRIPE_API_BASE") {
            env.insert("STRIPE_API_BASE".to_owned(), NOWHERE.to_owned());
        }
        out.push(Subject {
            path: bin_dir.join(&f.binary),
            kind: event_kind(template, &f.logical_id),
            name: f.binary,
            env,
        });
    }
    Ok(out)
}

fn check_built(subjects: &[Subject]) -> Result<(), BoxError> {
    for s in subjects {
        if !s.path.is_file() {
            return Err(format!(
                "{} is missing: build the release binaries first (`make coldstart` does)",
                s.path.display()
            )
            .into());
        }
    }
    Ok(())
}

/// The mock Runtime API of one run: the first `next` gets `event`, later ones wait forever (the
/// process is killed once it answered).
async fn mock_runtime(event: Bytes) -> Result<(String, mpsc::UnboundedReceiver<Seen>), BoxError> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?.to_string();
    let (tx, rx) = mpsc::unbounded_channel();
    let polls = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (tx, polls, event) = (tx.clone(), polls.clone(), event.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    runtime_call(req, tx.clone(), polls.clone(), event.clone())
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    Ok((address, rx))
}

async fn runtime_call(
    req: Request<Incoming>,
    tx: mpsc::UnboundedSender<Seen>,
    polls: Arc<AtomicUsize>,
    event: Bytes,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let arrived = Instant::now();
    let path = req.uri().path().to_owned();
    let Some(call) = path.strip_prefix("/2018-06-01/runtime/") else {
        return Ok(status(StatusCode::NOT_FOUND));
    };
    if call == "invocation/next" {
        if polls.fetch_add(1, Ordering::SeqCst) > 0 {
            std::future::pending::<()>().await;
        }
        let deadline = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis()
            + 10_000;
        let mut r = Response::new(Full::new(event));
        let h = r.headers_mut();
        h.insert("content-type", "application/json".parse().expect("static"));
        h.insert(
            "lambda-runtime-aws-request-id",
            "coldstart-1".parse().expect("static"),
        );
        h.insert(
            "lambda-runtime-deadline-ms",
            deadline.to_string().parse().expect("digits"),
        );
        h.insert(
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:us-east-1:000000000000:function:coldstart"
                .parse()
                .expect("static"),
        );
        h.insert(
            "lambda-runtime-trace-id",
            "Root=1-6752a000-000000000000000000000000;Parent=0000000000000000;Sampled=0"
                .parse()
                .expect("static"),
        );
        let _ = tx.send(Seen::FirstNext(arrived));
        return Ok(r);
    }
    let body = Limited::new(req.into_body(), 6 * 1024 * 1024)
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let at = Instant::now();
    if call == "init/error" {
        let _ = tx.send(Seen::InitError(body));
    } else if let Some(rest) = call.strip_prefix("invocation/") {
        let ok = rest.ends_with("/response");
        let _ = tx.send(Seen::Answer { at, ok, body });
    } else {
        return Ok(status(StatusCode::NOT_FOUND));
    }
    Ok(status(StatusCode::ACCEPTED))
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = code;
    r
}

/// The gist of a first answer: the HTTP status, the count of batch failures, or the error type.
fn gist(ok: bool, body: &[u8]) -> String {
    let json: Json = serde_json::from_slice(body).unwrap_or(Json::Null);
    if !ok {
        return format!(
            "error ({})",
            json.get("errorType")
                .and_then(Json::as_str)
                .unwrap_or("unknown")
        );
    }
    if let Some(code) = json.get("statusCode").and_then(Json::as_u64) {
        return code.to_string();
    }
    if let Some(failures) = json.get("batchItemFailures").and_then(Json::as_array) {
        return format!("{} batch item failure(s)", failures.len());
    }
    if json.get("requestContext").is_some() {
        return "the event (echo)".to_owned();
    }
    "ok".to_owned()
}

/// Starts `subject` once against a fresh mock runtime and measures it.
async fn run_once(subject: &Subject, extra_env: &[(&str, &str)]) -> Result<Run, String> {
    let event = Bytes::from(subject.kind.event().to_string());
    let (address, mut seen) = mock_runtime(event).await.map_err(|e| e.to_string())?;
    let mut command = tokio::process::Command::new(&subject.path);
    command
        .env_clear()
        .envs(&subject.env)
        .env("AWS_LAMBDA_RUNTIME_API", &address)
        .envs(extra_env.iter().copied())
        .current_dir(subject.path.parent().unwrap_or(Path::new(".")))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let started = Instant::now();
    let mut child = command.spawn().map_err(|e| e.to_string())?;
    let outcome = tokio::time::timeout(RUN_TIMEOUT, async {
        let mut next_at = None;
        loop {
            tokio::select! {
                s = seen.recv() => match s {
                    Some(Seen::FirstNext(at)) => next_at = Some(at),
                    Some(Seen::Answer { at, ok, body }) => {
                        let Some(next) = next_at else {
                            return Err("answered before polling".to_owned());
                        };
                        return Ok(Run {
                            init: next - started,
                            first: at - next,
                            answer: gist(ok, &body),
                        });
                    }
                    Some(Seen::InitError(body)) => {
                        return Err(format!("init error: {}", String::from_utf8_lossy(&body)));
                    }
                    None => return Err("the mock runtime stopped".to_owned()),
                },
                status = child.wait() => {
                    return Err(format!("exited ({}) before answering", status.map(|s| s.to_string()).unwrap_or_default()));
                }
            }
        }
    })
    .await
    .unwrap_or_else(|_| Err(format!("no answer within {RUN_TIMEOUT:?}")));
    let _ = child.start_kill();
    let _ = child.wait().await;
    match outcome {
        Ok(run) => Ok(run),
        Err(e) => {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                // The process is gone: its pipe holds what it wrote.
                let _ = pipe.read_to_string(&mut stderr).await;
            }
            Err(format!("{}: {e}; stderr: {}", subject.name, stderr.trim()))
        }
    }
}

/// The nearest-rank percentile `p` (0..=100) of sorted `values`.
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// A release function must refuse `AUTH_MODE=local` (the local stack's code is not in it).
async fn check_no_local_auth(subject: &Subject) -> Result<(), String> {
    let extra = [
        ("AUTH_MODE", "local"),
        ("LOCAL_JWT_SECRET", "a-secret-of-my-own"),
        ("LAMBDA_TASK_ROOT", ""),
    ];
    match run_once(subject, &extra).await {
        Ok(_) => Err(format!(
            "{} started with AUTH_MODE=local: the local stack's code is in this build",
            subject.name
        )),
        Err(e) if e.contains("not in this build") => Ok(()),
        Err(e) => Err(format!(
            "{} failed otherwise than expected: {e}",
            subject.name
        )),
    }
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = args()?;
    let template = Template::load_repo()?;
    let mut subjects = subjects(&template, &args.bin_dir)?;
    if let Some(only) = &args.only {
        subjects.retain(|s| s.kind == EventKind::Hello || only.contains(&s.name));
    }
    check_built(&subjects)?;
    let mut runs: Vec<Vec<Run>> = subjects.iter().map(|_| Vec::new()).collect();
    let mut failures = Vec::new();
    eprintln!(
        "coldstart: {} binaries × {} runs from {}",
        subjects.len(),
        args.runs,
        args.bin_dir.display()
    );
    for round in 0..args.runs {
        for (i, s) in subjects.iter().enumerate() {
            match run_once(s, &[]).await {
                Ok(r) => runs[i].push(r),
                Err(e) => failures.push(format!("run {round}: {e}")),
            }
        }
    }
    let http = subjects
        .iter()
        .find(|s| s.kind == EventKind::Http)
        .ok_or("no HTTP function in template.yaml")?;
    if let Err(e) = check_no_local_auth(http).await {
        failures.push(e);
    }

    let hello_init = {
        let mut v: Vec<Duration> = runs[0].iter().map(|r| r.init).collect();
        v.sort();
        (!v.is_empty()).then(|| percentile(&v, 50))
    };
    let mut table = String::new();
    table.push_str(&format!(
        "Cold start, {} runs per binary ({} CPUs, mock Runtime API on loopback; medians and p95 in ms):\n\n",
        args.runs,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    ));
    table.push_str("| binary | size (MB, stripped) | init median | init p95 | init ÷ hello | first invocation median | first invocation p95 | first event → answer |\n");
    table.push_str("|---|---:|---:|---:|---:|---:|---:|---|\n");
    for (s, r) in subjects.iter().zip(&runs) {
        let size = std::fs::metadata(&s.path).map(|m| m.len()).unwrap_or(0);
        let mut init: Vec<Duration> = r.iter().map(|r| r.init).collect();
        let mut first: Vec<Duration> = r.iter().map(|r| r.first).collect();
        init.sort();
        first.sort();
        if init.is_empty() {
            table.push_str(&format!("| {} | failed every run | | | | | | |\n", s.name));
            continue;
        }
        let ratio = hello_init.map_or("–".to_owned(), |h| {
            format!(
                "{:.2}",
                percentile(&init, 50).as_secs_f64() / h.as_secs_f64().max(1e-9)
            )
        });
        let mut answers: Vec<&str> = r.iter().map(|r| r.answer.as_str()).collect();
        answers.sort_unstable();
        answers.dedup();
        table.push_str(&format!(
            "| {} | {:.2} | {} | {} | {} | {} | {} | {}: {} |\n",
            s.name,
            size as f64 / 1_048_576.0,
            ms(percentile(&init, 50)),
            ms(percentile(&init, 95)),
            ratio,
            ms(percentile(&first, 50)),
            ms(percentile(&first, 95)),
            s.kind.label(),
            answers.join(", "),
        ));
    }
    println!("{table}");
    if let Some(path) = &args.markdown {
        std::fs::write(path, &table)?;
    }
    if failures.is_empty() {
        eprintln!(
            "coldstart: every binary started and answered; AUTH_MODE=local is refused by the release build"
        );
        Ok(())
    } else {
        for f in &failures {
            eprintln!("coldstart: FAILED {f}");
        }
        Err(format!("{} failure(s)", failures.len()).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every function of the template gets an AWS-like environment whose every endpoint is
    /// nowhere, and an event of its first event source.
    #[test]
    fn every_function_gets_an_environment_without_the_network_and_an_event() {
        let template = Template::load_repo().expect("template.yaml");
        let subjects = subjects(&template, Path::new("/nonexistent")).expect("subjects");
        assert_eq!(subjects[0].name, "hello");
        assert_eq!(
            subjects.len(),
            template.functions().expect("functions").len() + 1
        );
        for s in &subjects[1..] {
            let env = &s.env;
            assert_eq!(env["AWS_ENDPOINT_URL"], NOWHERE, "{}", s.name);
            assert_eq!(env["AUTH_MODE"], "authorizer", "{}", s.name);
            assert!(env.contains_key("TABLE_NAME"), "{}", s.name);
            for (k, v) in env {
                assert!(!v.contains("${"), "{}: {k}={v}", s.name);
                if k.ends_with("_QUEUE_URL") || k == "OPENSEARCH_URL" || k == "STRIPE_API_BASE" {
                    assert!(v.contains("127.0.0.1:9"), "{}: {k}={v}", s.name);
                }
            }
            if env.get("SEARCH_BACKEND").map(String::as_str) == Some("opensearch") {
                assert_eq!(env["OPENSEARCH_URL"], "https://127.0.0.1:9", "{}", s.name);
            }
            assert!(s.kind.event().is_object());
        }
        let kinds: Vec<EventKind> = subjects.iter().map(|s| s.kind).collect();
        for kind in [
            EventKind::Http,
            EventKind::Sqs,
            EventKind::Stream,
            EventKind::Schedule,
        ] {
            assert!(kinds.contains(&kind), "no function with {kind:?} events");
        }
        let checkout = subjects
            .iter()
            .find(|s| s.name == "checkout")
            .expect("checkout");
        assert_eq!(checkout.kind, EventKind::Http);
        assert_eq!(
            checkout.env["COGNITO_ISSUER"],
            "https://cognito-idp.us-east-1.amazonaws.com/coldstart-UserPool"
        );
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<Duration> = (1..=20).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 50), Duration::from_millis(10));
        assert_eq!(percentile(&v, 95), Duration::from_millis(19));
        assert_eq!(percentile(&v[..1], 95), Duration::from_millis(1));
    }

    #[test]
    fn answers_are_summarized() {
        assert_eq!(gist(true, br#"{"statusCode":404,"body":"{}"}"#), "404");
        assert_eq!(
            gist(true, br#"{"batchItemFailures":[{"itemIdentifier":"1"}]}"#),
            "1 batch item failure(s)"
        );
        assert_eq!(
            gist(false, br#"{"errorType":"Dispatch","errorMessage":"x"}"#),
            "error (Dispatch)"
        );
    }
}
