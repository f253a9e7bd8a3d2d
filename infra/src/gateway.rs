//! The local API Gateway and Lambda service: what `make dev` and `make test` serve the API with.
//!
//! * **Functions** run from binaries built before the stack starts (no compile on the request
//!   path, no race for cargo's lock). Each talks to this server's emulation of the Lambda Runtime
//!   API (`AWS_LAMBDA_RUNTIME_API=http://127.0.0.1:<port>/rt/<function>`), exactly as in AWS: it polls
//!   `…/invocation/next` and posts `…/response` or `…/error`. One instance of every function starts
//!   eagerly (the stack is ready only when each has polled once); more start on demand while every
//!   instance is busy, up to the function's concurrency limit, as Lambda scales out.
//! * **HTTP API**: every `HttpApi` route of template.yaml is served on the same port, turned into an
//!   API Gateway payload-format-2.0 event. A route with an authorizer (the template's
//!   `DefaultAuthorizer` unless the route says `Authorizer: NONE`) is guarded as API Gateway's JWT
//!   authorizer guards it: a missing or invalid bearer token is answered `401
//!   {"message":"Unauthorized"}` without invoking the function, and a valid token's claims reach
//!   the function in `requestContext.authorizer.jwt.claims`. Locally the authorizer verifies the
//!   local HS256 tokens (`LOCAL_JWT_SECRET`) instead of Cognito's. An unknown route is `404
//!   {"message":"Not Found"}`, a body over Lambda's 6 MB payload limit `413`, as in AWS.
//! * **Invoke API** (`POST /2015-03-31/functions/<function>/invocations`): what the event-source
//!   emulation ([`crate::pump`]) and `cargo lambda invoke`-style tools call.
//! * `GET /_local/status`: each function's instances, whether every one has started, and whether
//!   the event sources ([`crate::pump::PumpStatus`]) have nothing in hand.
//! * The storefront: `GET /app/…` serves the files of `web/` (same origin as the API, so no CORS
//!   locally), `GET /app/config.json` tells the page to sign in with local tokens, and
//!   `POST /_local/token {"user": "alice"}` mints one (`{"token", "user", "expires_in"}`), as
//!   `make token` does. Both exist only in this local gateway: no function or template route has them.
//!
//! Each function's output (its JSON logs) is appended to `<log_dir>/<function>.log`.
//!
//! Every function gets its own access key ([`local_access_key`]), as each has its own role in AWS:
//! the emulator accepts any key, and its recording of who asked what (`MOTO_RECORD_DYNAMODB`,
//! see [`crate::access`]) is what the policies of template.yaml are checked against.

use crate::template::HttpRoute;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{Mutex, mpsc, oneshot};

/// Lambda's synchronous invocation payload limit (request and response).
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// API Gateway HTTP APIs give up on an integration after 30 s.
const INTEGRATION_TIMEOUT: Duration = Duration::from_secs(30);

/// The access key a local function signs its AWS requests with: `fn-<function>`, its identity
/// in the emulator's recording of DynamoDB requests (the secret key stays the environment's).
pub fn local_access_key(function: &str) -> String {
    format!("{LOCAL_ACCESS_KEY_PREFIX}{function}")
}

/// See [`local_access_key`].
pub const LOCAL_ACCESS_KEY_PREFIX: &str = "fn-";

/// One function the gateway runs.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    /// The function's name (its cargo binary, as in the template's `BuildProperties.Binary`).
    pub name: String,
    /// The built binary.
    pub binary: PathBuf,
    /// How many instances may run at once.
    pub max_instances: usize,
    /// The function's timeout (the template's `Timeout`).
    pub timeout: Duration,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`.
    pub memory_mb: u32,
}

/// What the gateway serves.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub routes: Vec<HttpRoute>,
    pub functions: Vec<FunctionSpec>,
    /// The environment every function instance gets (besides the Lambda runtime's own variables).
    pub env: BTreeMap<String, String>,
    /// The secret of the local HS256 tokens the JWT authorizer emulation accepts.
    pub jwt_secret: String,
    pub log_dir: PathBuf,
    /// The storefront's static files (`web/`), served under `/app/`; `None` serves none.
    pub web_dir: Option<PathBuf>,
}

/// The answer of one invocation: the function's payload, or its error payload.
type Outcome = Result<Bytes, Bytes>;

struct Invocation {
    id: String,
    payload: Bytes,
    deadline: SystemTime,
    reply: oneshot::Sender<Outcome>,
}

/// One function's instances and the invocations waiting for one.
struct Pool {
    spec: FunctionSpec,
    sender: mpsc::UnboundedSender<Invocation>,
    receiver: Mutex<mpsc::UnboundedReceiver<Invocation>>,
    /// Invocations handed to an instance and not answered yet.
    in_flight: std::sync::Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    /// Instances started and not exited.
    instances: AtomicUsize,
    /// Instances waiting in `next` for work.
    idle: AtomicUsize,
    /// Whether an instance has polled `next` at least once (the function initialized).
    started: AtomicBool,
    invocations: AtomicU64,
}

struct State {
    config: GatewayConfig,
    port: u16,
    pools: BTreeMap<String, Arc<Pool>>,
    routes: Vec<(HttpRoute, Vec<Segment>)>,
    key: jsonwebtoken::DecodingKey,
    next_id: AtomicU64,
    /// The event sources played against these functions, when this process runs them.
    pump: std::sync::OnceLock<Arc<crate::pump::PumpStatus>>,
}

/// The local gateway; [`Gateway::serve`] runs it until the process ends.
#[derive(Clone)]
pub struct Gateway {
    state: Arc<State>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    Greedy(String),
}

fn segments(path: &str) -> Vec<Segment> {
    path.trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => match name.strip_suffix('+') {
                    Some(greedy) => Segment::Greedy(greedy.to_owned()),
                    None => Segment::Param(name.to_owned()),
                },
                None => Segment::Literal(s.to_owned()),
            },
        )
        .collect()
}

/// The path parameters of `path` under `pattern`, or `None` when it does not match.
fn match_path(pattern: &[Segment], path: &str) -> Option<BTreeMap<String, String>> {
    let parts: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let mut params = BTreeMap::new();
    for (i, segment) in pattern.iter().enumerate() {
        match segment {
            Segment::Greedy(name) => {
                if parts.len() <= i {
                    return None;
                }
                params.insert(name.clone(), decode(&parts[i..].join("/")));
                return Some(params);
            }
            Segment::Literal(l) => {
                if parts.get(i) != Some(&l.as_str()) {
                    return None;
                }
            }
            Segment::Param(name) => {
                params.insert(name.clone(), decode(parts.get(i)?));
            }
        }
    }
    (parts.len() == pattern.len()).then_some(params)
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

fn gateway_answer(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(
        json!({ "message": message }).to_string(),
    )));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

fn json_answer(status: StatusCode, value: &Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(value.to_string())));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r.headers_mut().insert(
        hyper::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    r
}

/// A user name the local token endpoint accepts.
fn valid_local_user(user: &str) -> bool {
    (1..=64).contains(&user.len())
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The file of `web/` that `rest` (the path after `/app/`) names: plain segments only, never
/// outside `dir`.
fn web_path(dir: &std::path::Path, rest: &str) -> Option<PathBuf> {
    let mut file = dir.to_path_buf();
    for part in rest.split('/') {
        let ok = !part.is_empty()
            && !part.starts_with('.')
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !ok {
            return None;
        }
        file.push(part);
    }
    file.is_file().then_some(file)
}

fn content_type(file: &str) -> &'static str {
    match file.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

fn now_ms(t: SystemTime) -> u128 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis()
}

impl Gateway {
    pub fn new(config: GatewayConfig, port: u16) -> Gateway {
        let pools = config
            .functions
            .iter()
            .map(|spec| {
                let (sender, receiver) = mpsc::unbounded_channel();
                let pool = Pool {
                    spec: spec.clone(),
                    sender,
                    receiver: Mutex::new(receiver),
                    in_flight: Default::default(),
                    instances: AtomicUsize::new(0),
                    idle: AtomicUsize::new(0),
                    started: AtomicBool::new(false),
                    invocations: AtomicU64::new(0),
                };
                (spec.name.clone(), Arc::new(pool))
            })
            .collect();
        let routes = config
            .routes
            .iter()
            .map(|r| (r.clone(), segments(&r.path)))
            .collect();
        let key = jsonwebtoken::DecodingKey::from_secret(config.jwt_secret.as_bytes());
        Gateway {
            state: Arc::new(State {
                config,
                port,
                pools,
                routes,
                key,
                next_id: AtomicU64::new(1),
                pump: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Reports (in `/_local/status`) the state of the event sources this process plays.
    pub fn with_pump(self, status: Arc<crate::pump::PumpStatus>) -> Self {
        let _ = self.state.pump.set(status);
        self
    }

    /// Whether every function has an instance that polled for work.
    pub fn all_started(&self) -> bool {
        self.state
            .pools
            .values()
            .all(|p| p.started.load(Ordering::SeqCst))
    }

    /// Listens on `127.0.0.1:<port>`, starts one instance of every function and serves until the
    /// process ends.
    pub async fn serve(self) -> std::io::Result<()> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.state.port)).await?;
        std::fs::create_dir_all(&self.state.config.log_dir)?;
        for pool in self.state.pools.values() {
            self.spawn_instance(pool);
        }
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("gateway: accept: {e}");
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let gateway = self.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let gateway = gateway.clone();
                    async move { Ok::<_, std::convert::Infallible>(gateway.handle(req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    }

    fn spawn_instance(&self, pool: &Arc<Pool>) {
        let spec = &pool.spec;
        let n = pool.instances.fetch_add(1, Ordering::SeqCst) + 1;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.state.config.log_dir.join(format!("{}.log", spec.name)));
        let (stdout, stderr) = match log.and_then(|f| Ok((f.try_clone()?, f))) {
            Ok((a, b)) => (std::process::Stdio::from(a), std::process::Stdio::from(b)),
            Err(e) => {
                eprintln!("gateway: {} log: {e}", spec.name);
                (std::process::Stdio::null(), std::process::Stdio::null())
            }
        };
        let mut command = tokio::process::Command::new(&spec.binary);
        command
            .env_clear()
            .envs(&self.state.config.env)
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{}/rt/{}", self.state.port, spec.name),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", &spec.name)
            .env("AWS_ACCESS_KEY_ID", local_access_key(&spec.name))
            .env(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                spec.memory_mb.to_string(),
            )
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", spec.name),
            )
            .env("AWS_LAMBDA_LOG_STREAM_NAME", format!("local/{n}"))
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .stdin(std::process::Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .kill_on_drop(true);
        match command.spawn() {
            Ok(mut child) => {
                let pool = pool.clone();
                tokio::spawn(async move {
                    let status = child.wait().await;
                    pool.instances.fetch_sub(1, Ordering::SeqCst);
                    eprintln!(
                        "gateway: an instance of {} exited ({status:?}); see its log",
                        pool.spec.name
                    );
                });
            }
            Err(e) => {
                pool.instances.fetch_sub(1, Ordering::SeqCst);
                eprintln!("gateway: starting {}: {e}", spec.binary.display());
            }
        }
    }

    /// Invokes `function` with `payload` and waits for its answer (at most its timeout).
    pub async fn invoke(&self, function: &str, payload: Bytes) -> Option<Outcome> {
        let pool = self.state.pools.get(function)?;
        let (reply, answer) = oneshot::channel();
        let id = format!(
            "{:08x}-local-{:012}",
            std::process::id(),
            self.state.next_id.fetch_add(1, Ordering::SeqCst)
        );
        let deadline = SystemTime::now() + pool.spec.timeout;
        pool.invocations.fetch_add(1, Ordering::Relaxed);
        let _ = pool.sender.send(Invocation {
            id,
            payload,
            deadline,
            reply,
        });
        if pool.idle.load(Ordering::SeqCst) == 0
            && pool.instances.load(Ordering::SeqCst) < pool.spec.max_instances
        {
            self.spawn_instance(pool);
        }
        match tokio::time::timeout(pool.spec.timeout.min(INTEGRATION_TIMEOUT), answer).await {
            Ok(Ok(outcome)) => Some(outcome),
            _ => Some(Err(Bytes::from(
                json!({"errorType": "Timeout", "errorMessage": format!("{function} did not answer within its timeout")}).to_string(),
            ))),
        }
    }

    async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let path = req.uri().path().to_owned();
        if let Some(rest) = path.strip_prefix("/rt/") {
            return self.runtime_api(req, rest.to_owned()).await;
        }
        if let Some(rest) = path.strip_prefix("/2015-03-31/functions/") {
            let function = rest.trim_end_matches("/invocations").to_owned();
            return self.invoke_api(req, &function).await;
        }
        if path == "/_local/status" {
            return self.status();
        }
        if path == "/_local/token" {
            return self.local_token(req).await;
        }
        if path == "/app" || path.starts_with("/app/") {
            return self.web_file(req.method(), &path);
        }
        self.http_api(req).await
    }

    /// `POST /_local/token {"user": "alice"}`: a local bearer token for `user` (24 h), signed with
    /// the secret this gateway verifies. Local only: the storefront's user picker calls it.
    async fn local_token(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        if req.method() != Method::POST {
            return gateway_answer(StatusCode::METHOD_NOT_ALLOWED, "POST only");
        }
        let body = match Limited::new(req.into_body(), 4096).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return gateway_answer(StatusCode::PAYLOAD_TOO_LARGE, "body over 4 KiB"),
        };
        let user = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v.get("user").and_then(Value::as_str).map(str::to_owned));
        let Some(user) = user.filter(|u| valid_local_user(u)) else {
            return gateway_answer(
                StatusCode::UNPROCESSABLE_ENTITY,
                "user: 1..64 characters of A-Z a-z 0-9 . _ -",
            );
        };
        const TTL: i64 = 24 * 3600;
        match bazaar_lambda::auth::mint_local_token(
            &self.state.config.jwt_secret,
            &user,
            TTL,
            Some(&user),
        ) {
            Ok(token) => json_answer(
                StatusCode::OK,
                &json!({ "token": token, "user": user, "expires_in": TTL }),
            ),
            Err(_) => gateway_answer(StatusCode::INTERNAL_SERVER_ERROR, "could not sign a token"),
        }
    }

    /// `GET /app/…`: the storefront's files; `/app/config.json` is the local stack's configuration.
    fn web_file(&self, method: &Method, path: &str) -> Response<Full<Bytes>> {
        if method != Method::GET && method != Method::HEAD {
            return gateway_answer(StatusCode::METHOD_NOT_ALLOWED, "GET only");
        }
        let Some(dir) = &self.state.config.web_dir else {
            return gateway_answer(StatusCode::NOT_FOUND, "Not Found");
        };
        if path == "/app" {
            let mut r = Response::new(Full::new(Bytes::new()));
            *r.status_mut() = StatusCode::MOVED_PERMANENTLY;
            r.headers_mut()
                .insert(hyper::header::LOCATION, HeaderValue::from_static("/app/"));
            return r;
        }
        let rest = path.trim_start_matches("/app/");
        if rest == "config.json" {
            return json_answer(StatusCode::OK, &json!({ "auth": "local", "api_base": "" }));
        }
        let rest = if rest.is_empty() { "index.html" } else { rest };
        let Some(file) = web_path(dir, rest) else {
            return gateway_answer(StatusCode::NOT_FOUND, "Not Found");
        };
        let Ok(bytes) = std::fs::read(&file) else {
            return gateway_answer(StatusCode::NOT_FOUND, "Not Found");
        };
        let mut r = Response::new(Full::new(Bytes::from(bytes)));
        let h = r.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type(rest)));
        h.insert(
            hyper::header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        );
        h.insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        r
    }

    fn status(&self) -> Response<Full<Bytes>> {
        let functions: Map<String, Value> = self
            .state
            .pools
            .iter()
            .map(|(name, p)| {
                (
                    name.clone(),
                    json!({
                        "instances": p.instances.load(Ordering::SeqCst),
                        "idle": p.idle.load(Ordering::SeqCst),
                        "started": p.started.load(Ordering::SeqCst),
                        "invocations": p.invocations.load(Ordering::Relaxed),
                    }),
                )
            })
            .collect();
        let pump = self
            .state
            .pump
            .get()
            .map(|p| json!({ "drained": p.drained(), "busy": p.busy() }));
        let body = json!({ "ready": self.all_started(), "functions": functions, "pump": pump });
        let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
        r.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        r
    }

    /// The Lambda Runtime API of one function: `/rt/<function>/2018-06-01/runtime/…`.
    async fn runtime_api(&self, req: Request<Incoming>, rest: String) -> Response<Full<Bytes>> {
        let Some((function, call)) = rest.split_once("/2018-06-01/runtime/") else {
            return gateway_answer(StatusCode::NOT_FOUND, "Not Found");
        };
        let Some(pool) = self.state.pools.get(function).cloned() else {
            return gateway_answer(StatusCode::NOT_FOUND, "unknown function");
        };
        if call == "invocation/next" {
            pool.started.store(true, Ordering::SeqCst);
            pool.idle.fetch_add(1, Ordering::SeqCst);
            let next = { pool.receiver.lock().await.recv().await };
            pool.idle.fetch_sub(1, Ordering::SeqCst);
            let Some(invocation) = next else {
                return gateway_answer(StatusCode::GONE, "shutting down");
            };
            pool.in_flight
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(invocation.id.clone(), invocation.reply);
            let mut r = Response::new(Full::new(invocation.payload));
            let h = r.headers_mut();
            let header =
                |v: String| HeaderValue::from_str(&v).unwrap_or(HeaderValue::from_static(""));
            h.insert(
                "lambda-runtime-aws-request-id",
                header(invocation.id.clone()),
            );
            h.insert(
                "lambda-runtime-deadline-ms",
                header(now_ms(invocation.deadline).to_string()),
            );
            h.insert(
                "lambda-runtime-invoked-function-arn",
                header(format!(
                    "arn:aws:lambda:us-east-1:123456789012:function:{function}"
                )),
            );
            h.insert(
                "lambda-runtime-trace-id",
                header(format!("Root=1-{}", invocation.id)),
            );
            h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            return r;
        }
        if call == "init/error" {
            let body = req
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            eprintln!(
                "gateway: {function} failed to initialize: {}",
                String::from_utf8_lossy(&body)
            );
            let mut r = Response::new(Full::new(Bytes::new()));
            *r.status_mut() = StatusCode::ACCEPTED;
            return r;
        }
        let Some((id, what)) = call
            .strip_prefix("invocation/")
            .and_then(|c| c.split_once('/'))
        else {
            return gateway_answer(StatusCode::NOT_FOUND, "Not Found");
        };
        let body = match Limited::new(req.into_body(), MAX_PAYLOAD_BYTES).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => Bytes::from(
                json!({"errorType": "ResponseSizeTooLarge", "errorMessage": "response payload over 6 MB"})
                    .to_string(),
            ),
        };
        let reply = pool
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        if let Some(reply) = reply {
            let _ = reply.send(if what == "response" {
                Ok(body)
            } else {
                Err(body)
            });
        }
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = StatusCode::ACCEPTED;
        r
    }

    /// `POST /2015-03-31/functions/<function>/invocations`: the function's payload (with
    /// `X-Amz-Function-Error: Unhandled` when it failed), as Lambda's Invoke answers.
    async fn invoke_api(&self, req: Request<Incoming>, function: &str) -> Response<Full<Bytes>> {
        if req.method() != Method::POST {
            return gateway_answer(StatusCode::METHOD_NOT_ALLOWED, "POST only");
        }
        let body = match request_body(req).await {
            Ok(b) => b,
            Err(too_large) => return too_large,
        };
        let Some(outcome) = self.invoke(function, body).await else {
            return gateway_answer(
                StatusCode::NOT_FOUND,
                &format!("Function not found: {function}"),
            );
        };
        let (failed, payload) = match outcome {
            Ok(p) => (false, p),
            Err(p) => (true, p),
        };
        let mut r = Response::new(Full::new(payload));
        r.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if failed {
            r.headers_mut().insert(
                "x-amz-function-error",
                HeaderValue::from_static("Unhandled"),
            );
        }
        r
    }

    /// The route of `method path`: the most specific match (literal segments before parameters).
    fn route(&self, method: &Method, path: &str) -> Option<(&HttpRoute, BTreeMap<String, String>)> {
        self.state
            .routes
            .iter()
            .filter(|(r, _)| r.method == method.as_str() || r.method == "ANY")
            .filter_map(|(r, segs)| match_path(segs, path).map(|p| (r, segs, p)))
            .max_by_key(|(_, segs, _)| {
                (
                    segs.iter()
                        .filter(|s| matches!(s, Segment::Literal(_)))
                        .count(),
                    segs.len(),
                )
            })
            .map(|(r, _, p)| (r, p))
    }

    /// API Gateway's JWT authorizer, verifying local HS256 tokens: the claims, or `None`.
    fn authorize(&self, headers: &hyper::HeaderMap) -> Option<Map<String, Value>> {
        let value = headers.get(hyper::header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.validate_aud = false;
        validation.leeway = 5;
        let data =
            jsonwebtoken::decode::<Map<String, Value>>(token.trim(), &self.state.key, &validation)
                .ok()?;
        // API Gateway passes every claim as a string.
        Some(
            data.claims
                .into_iter()
                .map(|(k, v)| {
                    let s = match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (k, Value::String(s))
                })
                .collect(),
        )
    }

    async fn http_api(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let Some((route, params)) = self.route(&method, &path) else {
            return gateway_answer(StatusCode::NOT_FOUND, "Not Found");
        };
        let route = route.clone();
        let claims = match &route.authorizer {
            None => None,
            Some(_) => match self.authorize(req.headers()) {
                Some(claims) => Some(claims),
                None => {
                    let mut r = gateway_answer(StatusCode::UNAUTHORIZED, "Unauthorized");
                    r.headers_mut()
                        .insert("www-authenticate", HeaderValue::from_static("Bearer"));
                    return r;
                }
            },
        };
        let query = req.uri().query().unwrap_or("").to_owned();
        let mut headers: BTreeMap<String, String> = BTreeMap::new();
        let mut cookies: Vec<String> = Vec::new();
        for (name, value) in req.headers() {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            if name == hyper::header::COOKIE {
                cookies.extend(value.split(';').map(|c| c.trim().to_owned()));
                continue;
            }
            headers
                .entry(name.as_str().to_owned())
                .and_modify(|v| {
                    v.push(',');
                    v.push_str(&value);
                })
                .or_insert(value);
        }
        let body = match request_body(req).await {
            Ok(b) => b,
            Err(too_large) => return too_large,
        };
        let mut query_params: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            query_params
                .entry(k.into_owned())
                .and_modify(|e| {
                    e.push(',');
                    e.push_str(&v);
                })
                .or_insert_with(|| v.into_owned());
        }
        let (body, base64) = match std::str::from_utf8(&body) {
            Ok(text) => (text.to_owned(), false),
            Err(_) => (
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &body),
                true,
            ),
        };
        let now = chrono::Utc::now();
        let route_key = format!("{} {}", route.method, route.path);
        let request_id = format!(
            "local-{}",
            self.state.next_id.fetch_add(1, Ordering::SeqCst)
        );
        let mut context = json!({
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": headers.get("host").cloned().unwrap_or_else(|| "127.0.0.1".into()),
            "domainPrefix": "local",
            "http": {
                "method": method.as_str(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("user-agent").cloned().unwrap_or_default(),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            "timeEpoch": now.timestamp_millis(),
        });
        if let Some(claims) = claims {
            context["authorizer"] = json!({ "jwt": { "claims": claims, "scopes": null } });
        }
        let mut event = json!({
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": path,
            "rawQueryString": query,
            "headers": headers,
            "requestContext": context,
            "isBase64Encoded": base64,
        });
        if !cookies.is_empty() {
            event["cookies"] = json!(cookies);
        }
        if !query_params.is_empty() {
            event["queryStringParameters"] = json!(query_params);
        }
        if !params.is_empty() {
            event["pathParameters"] = json!(params);
        }
        if !body.is_empty() {
            event["body"] = Value::String(body);
        }
        let payload = Bytes::from(event.to_string());
        match self.invoke(&route.function, payload).await {
            Some(Ok(answer)) => http_response(&answer),
            Some(Err(error)) => {
                eprintln!(
                    "gateway: {route_key} failed in {}: {}",
                    route.function,
                    String::from_utf8_lossy(&error)
                );
                gateway_answer(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
            }
            None => gateway_answer(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
        }
    }
}

/// A request's body, or API Gateway's 413 answer past Lambda's payload limit.
async fn request_body(req: Request<Incoming>) -> Result<Bytes, Response<Full<Bytes>>> {
    Limited::new(req.into_body(), MAX_PAYLOAD_BYTES)
        .collect()
        .await
        .map(|b| b.to_bytes())
        .map_err(|_| gateway_answer(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large"))
}

/// A payload-format-2.0 function answer as an HTTP response.
fn http_response(answer: &[u8]) -> Response<Full<Bytes>> {
    let Ok(value) = serde_json::from_slice::<Value>(answer) else {
        return gateway_answer(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    };
    // An answer without `statusCode` is a plain JSON body with status 200 (format 2.0's rule).
    let Some(status) = value.get("statusCode").and_then(Value::as_u64) else {
        let mut r = Response::new(Full::new(Bytes::copy_from_slice(answer)));
        r.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        return r;
    };
    let body = value.get("body").and_then(Value::as_str).unwrap_or("");
    let body = if value.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body)
            .map(Bytes::from)
            .unwrap_or_default()
    } else {
        Bytes::copy_from_slice(body.as_bytes())
    };
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = StatusCode::from_u16(u16::try_from(status).unwrap_or(500))
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = r.headers_mut();
    if let Some(headers) = value.get("headers").and_then(Value::as_object) {
        for (k, v) in headers {
            if let (Ok(name), Some(Ok(v))) = (
                hyper::header::HeaderName::from_bytes(k.as_bytes()),
                v.as_str().map(HeaderValue::from_str),
            ) {
                h.insert(name, v);
            }
        }
    }
    if let Some(multi) = value.get("multiValueHeaders").and_then(Value::as_object) {
        for (k, vs) in multi {
            let Ok(name) = hyper::header::HeaderName::from_bytes(k.as_bytes()) else {
                continue;
            };
            for v in vs
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if let Ok(v) = HeaderValue::from_str(v) {
                    h.append(name.clone(), v);
                }
            }
        }
    }
    for cookie in value
        .get("cookies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if let Ok(v) = HeaderValue::from_str(cookie) {
            h.append(hyper::header::SET_COOKIE, v);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_like_api_gateway() {
        let p = segments("/products/{product_id}");
        assert_eq!(
            match_path(&p, "/products/abc%20d").map(|m| m["product_id"].clone()),
            Some("abc d".to_owned())
        );
        assert_eq!(match_path(&p, "/products"), None);
        assert_eq!(match_path(&p, "/products/a/b"), None);
        let greedy = segments("/files/{path+}");
        assert_eq!(
            match_path(&greedy, "/files/a/b").map(|m| m["path"].clone()),
            Some("a/b".to_owned())
        );
        assert_eq!(
            match_path(&segments("/health"), "/health/"),
            Some(BTreeMap::new())
        );
    }

    #[test]
    fn web_files_stay_inside_the_web_directory() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web");
        assert!(web_path(&dir, "index.html").is_some());
        assert_eq!(web_path(&dir, "../Cargo.toml"), None);
        assert_eq!(web_path(&dir, "%2e%2e/Cargo.toml"), None);
        assert_eq!(web_path(&dir, ".hidden"), None);
        assert_eq!(web_path(&dir, "a//b"), None);
        assert_eq!(web_path(&dir, "missing.js"), None);
        assert_eq!(content_type("app.js"), "text/javascript; charset=utf-8");
        assert!(valid_local_user("seed-owner-000"));
        assert!(!valid_local_user(""));
        assert!(!valid_local_user("a b"));
        assert!(!valid_local_user(&"a".repeat(65)));
    }

    #[test]
    fn function_answers_become_http_responses() {
        let r = http_response(
            br#"{"statusCode": 201, "headers": {"content-type": "application/json", "etag": "\"1\""}, "body": "{\"a\":1}", "isBase64Encoded": false}"#,
        );
        assert_eq!(r.status(), StatusCode::CREATED);
        assert_eq!(r.headers()["etag"], "\"1\"");
        let plain = http_response(br#"{"a": 1}"#);
        assert_eq!(plain.status(), StatusCode::OK);
        assert_eq!(
            http_response(b"not json").status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
