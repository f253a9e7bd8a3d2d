//! HTTP plumbing shared by every API function: route matching, JSON and problem responses, and the
//! per-request wrapper that sets up the log span and maps errors exactly once.

use bazaar_domain::error::Error;
use bazaar_domain::metrics::Metrics;
use bazaar_domain::timing::{self, Kind, Timings};
use bazaar_domain::validate::parse_json;
use lambda_http::http::{HeaderValue, Method, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::{Duration, Instant};
use tracing::Instrument;

/// An API function: one `handle` per request, built once per cold start and served by
/// [`serve_http`]. Implementations usually wrap their route table in [`serve`].
pub trait HttpApp: Sync {
    /// Answers one request (a problem response for every failure: the `Err` is for the runtime).
    fn handle(
        &self,
        req: Request,
    ) -> impl Future<Output = Result<Response<Body>, lambda_http::Error>> + Send;
}

/// Serves API Gateway requests with `app` until the runtime stops.
pub async fn serve_http<A: HttpApp>(app: A) -> Result<(), crate::BoxError> {
    let app = &app;
    lambda_http::run(lambda_http::service_fn(move |req| app.handle(req))).await
}

/// One route of a function: a method and an API Gateway style path (`/shops/{shop_id}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
}

impl Route {
    pub const fn new(method: &'static str, path: &'static str) -> Self {
        Self { method, path }
    }
}

/// Path parameters captured by a match, in pattern order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(&'static str, String)>);

impl Params {
    /// The value of `{name}`. Every pattern names its parameters, so a missing one is a defect.
    pub fn get(&self, name: &str) -> Result<&str, Error> {
        self.0
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| Error::internal(format!("route has no parameter {name}")))
    }
}

fn match_path(pattern: &'static str, path: &str) -> Option<Params> {
    let mut params = Vec::new();
    let mut pat = pattern.trim_matches('/').split('/');
    let mut segs = path
        .trim_end_matches('/')
        .trim_start_matches('/')
        .split('/');
    loop {
        match (pat.next(), segs.next()) {
            (None, None) => return Some(Params(params)),
            (Some(p), Some(s)) => {
                if let Some(name) = p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    if s.is_empty() {
                        return None;
                    }
                    params.push((name, s.to_owned()));
                } else if p != s {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

/// Finds the operation for `method` and `path` in a function's route table, with its parameters.
/// A path no route has is `404`; a known path with another method is `405`.
pub fn match_route<T: Copy>(
    routes: &[(Route, T)],
    method: &str,
    path: &str,
) -> Result<(T, Params), Error> {
    let mut allow = Vec::new();
    for (route, op) in routes {
        if let Some(params) = match_path(route.path, path) {
            if route.method.eq_ignore_ascii_case(method) {
                return Ok((*op, params));
            }
            allow.push(route.method);
        }
    }
    if allow.is_empty() {
        Err(Error::RouteNotFound {
            method: method.to_owned(),
            path: path.to_owned(),
        })
    } else {
        Err(Error::MethodNotAllowed {
            method: method.to_owned(),
            path: path.to_owned(),
            allow,
        })
    }
}

/// `limit` and `cursor` of a paged list's query string (`limit` bounded by
/// [`bazaar_domain::orders::page_size`]; an empty cursor is no cursor).
pub fn paging(req: &Request) -> Result<(i32, Option<String>), Error> {
    let mut limit = None;
    let mut cursor = None;
    for (k, v) in url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "limit" => limit = Some(v.into_owned()),
            "cursor" => cursor = Some(v.into_owned()),
            _ => {}
        }
    }
    Ok((
        bazaar_domain::orders::page_size(limit.as_deref())?,
        cursor.filter(|c| !c.is_empty()),
    ))
}

/// Ids are opaque, but every id this service mints is short and URL-safe; anything else cannot
/// name an existing resource and is answered `404` before it reaches the database.
pub fn is_plausible_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Parses the request body as JSON into `T` (`400` on failure).
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, Error> {
    parse_json(req.body().as_ref())
}

/// A JSON response.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Result<Response<Body>, Error> {
    let body = serde_json::to_string(value).map_err(Error::internal)?;
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::Text(body))
        .map_err(Error::internal)
}

/// `204 No Content`.
pub fn no_content() -> Result<Response<Body>, Error> {
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::Empty)
        .map_err(Error::internal)
}

/// How long anonymous clients and shared caches (CloudFront) may reuse a public read: a route
/// opts in by passing its answer through [`cacheable`]; [`serve`] then adds `Cache-Control`,
/// `Vary: Authorization` and an `ETag`, and answers a matching `If-None-Match` with `304`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    /// `max-age`: seconds a browser may reuse the answer.
    pub max_age: u32,
    /// `s-maxage`: seconds a shared cache (CloudFront) may reuse it.
    pub s_maxage: u32,
}

impl CachePolicy {
    pub const fn seconds(max_age: u32, s_maxage: u32) -> Self {
        Self { max_age, s_maxage }
    }
}

/// What a request says about caching, read before its handler runs.
#[derive(Debug, Clone, Default)]
struct CacheRequest {
    /// The request carries a token: its answer may be personalized and is never cacheable.
    personalized: bool,
    if_none_match: Option<String>,
}

impl CacheRequest {
    fn of(req: &Request) -> Self {
        Self {
            personalized: req.headers().contains_key(header::AUTHORIZATION),
            if_none_match: {
                let tags: Vec<&str> = req
                    .headers()
                    .get_all(header::IF_NONE_MATCH)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .collect();
                (!tags.is_empty()).then(|| tags.join(", "))
            },
        }
    }
}

/// Marks a public read's answer cacheable with `policy` (see [`CachePolicy`]).
pub fn cacheable(mut response: Response<Body>, policy: CachePolicy) -> Response<Body> {
    response.extensions_mut().insert(policy);
    response
}

/// The `Cache-Control` of an answer to a request with a token, and of every error.
pub const NOT_CACHEABLE: &str = "private, no-store";

/// A body's strong entity tag: the first 128 bits of its SHA-256, base64url.
pub fn etag(body: &[u8]) -> String {
    use base64::Engine;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body);
    format!(
        "\"{}\"",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16])
    )
}

/// Whether `If-None-Match: header` matches `etag` (weak comparison, RFC 9110 §13.1.2).
fn none_match(header: &str, etag: &str) -> bool {
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let etag = opaque(etag);
    header
        .split(',')
        .any(|t| t.trim() == "*" || opaque(t) == etag)
}

/// Applies a route's [`CachePolicy`] (if it chose one) to its answer; see [`serve`].
fn apply_cache(mut response: Response<Body>, req: &CacheRequest) -> Response<Body> {
    let Some(policy) = response.extensions_mut().remove::<CachePolicy>() else {
        // Every answer that did not opt in (carts, orders, favorites, writes) is the caller's
        // own or a write's: no browser, proxy or CDN may keep it.
        if !response.headers().contains_key(header::CACHE_CONTROL) {
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static(NOT_CACHEABLE),
            );
        }
        return response;
    };
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("Authorization"));
    if req.personalized || response.status() != StatusCode::OK {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(NOT_CACHEABLE),
        );
        return response;
    }
    let tag = etag(response.body().as_ref());
    let control = format!(
        "public, max-age={}, s-maxage={}",
        policy.max_age, policy.s_maxage
    );
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&control) {
        headers.insert(header::CACHE_CONTROL, v);
    }
    if let Ok(v) = HeaderValue::from_str(&tag) {
        headers.insert(header::ETAG, v);
    }
    if req
        .if_none_match
        .as_deref()
        .is_some_and(|h| none_match(h, &tag))
    {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        *response.body_mut() = Body::Empty;
        response.headers_mut().remove(header::CONTENT_TYPE);
    }
    response
}

/// The problem response for `err`; the only place errors turn into HTTP. Never cacheable.
pub fn problem_response(err: &Error, request_id: &str) -> Response<Body> {
    let problem = err.problem().with_instance(request_id);
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_string(&problem).unwrap_or_else(|_| {
        r#"{"type":"about:blank","title":"Internal server error","status":500,"code":"internal"}"#
            .to_owned()
    });
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(NOT_CACHEABLE),
    );
    if let Error::InProgress { retry_after, .. } | Error::TooManyRequests { retry_after, .. } = err
    {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
    }
    if let Error::MethodNotAllowed { allow, .. } = err
        && let Ok(v) = HeaderValue::from_str(&allow.join(", "))
    {
        response.headers_mut().insert(header::ALLOW, v);
    }
    response
}

/// The id that ties a request's logs, metrics and problem responses together: API Gateway's
/// request id when there is one, else the Lambda invocation id.
pub fn request_id(req: &Request) -> String {
    if let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref()
        && let Some(id) = ctx.request_id.as_deref().filter(|id| !id.is_empty())
    {
        return id.to_owned();
    }
    req.lambda_context_ref()
        .map(|c| c.request_id.clone())
        .unwrap_or_default()
}

/// `Server-Timing` (W3C): where a response's time went, on every response.
pub const SERVER_TIMING: &str = "server-timing";

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The `Server-Timing` value of a request that took `latency` and awaited `t`: `db` (DynamoDB),
/// `search`, `provider` and `awaited` (their union, see [`bazaar_domain::timing`]) in ms, `own`
/// (latency − awaited), `total`; as descriptions `calls` (the AWS round trips) and `rounds` (the
/// DynamoDB calls in sequence, concurrent ones counted once):
/// `db;dur=3.1, search;dur=0.0, provider;dur=0.0, awaited;dur=3.1, own;dur=1.2, total;dur=4.3, calls;desc=2, rounds;desc=2`.
pub fn server_timing(t: &Timings, latency: Duration) -> String {
    format!(
        "db;dur={:.1}, search;dur={:.1}, provider;dur={:.1}, awaited;dur={:.1}, own;dur={:.1}, total;dur={:.1}, calls;desc={}, rounds;desc={}",
        ms(t.of(Kind::DynamoDb)),
        ms(t.of(Kind::Search)),
        ms(t.of(Kind::Provider)),
        ms(t.awaited),
        ms(t.own(latency)),
        ms(latency),
        t.aws_calls,
        t.rounds_of(Kind::DynamoDb)
    )
}

/// The largest request body an operation accepts ([`serve`]): 128 KiB. The largest valid body
/// of any operation (a product with every text field at its limit, written entirely in escaped
/// astral characters) is about 90 KB; anything larger is refused `413 payload_too_large` before
/// it is parsed. (API Gateway itself would pass up to 10 MB.)
pub const MAX_BODY_BYTES: usize = 128 * 1024;

/// Runs one request inside a log span carrying its request id, maps any error to a problem response
/// and logs the outcome. Functions pass their routing closure; this never returns `Err`, so a
/// failure is always an HTTP answer rather than a Lambda error. Conflicts (`409`) and server
/// errors are also counted as EMF metrics of `service`. A body over [`MAX_BODY_BYTES`] is
/// answered `413` without running the handler.
pub async fn serve<F, Fut>(
    service: &str,
    req: Request,
    handler: F,
) -> Result<Response<Body>, lambda_http::Error>
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>, Error>>,
{
    serve_limited(service, MAX_BODY_BYTES, req, handler).await
}

/// [`serve`] with another body limit (the payment webhook takes larger provider events).
pub async fn serve_limited<F, Fut>(
    service: &str,
    max_body: usize,
    req: Request,
    handler: F,
) -> Result<Response<Body>, lambda_http::Error>
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>, Error>>,
{
    let started = Instant::now();
    crate::cold_start::on_invocation();
    let trace = req
        .lambda_context_ref()
        .and_then(|c| c.xray_trace_id.clone());
    let request_id = request_id(&req);
    let method: Method = req.method().clone();
    let path = req.uri().path().to_owned();
    let caching = CacheRequest::of(&req);
    let span =
        tracing::info_span!("request", request_id = %request_id, method = %method, path = %path);
    async move {
        let size = req.body().len();
        let (result, measured) = if size > max_body {
            (
                Err(Error::PayloadTooLarge {
                    size,
                    limit: max_body,
                }),
                timing::Measured::default(),
            )
        } else {
            // Boxed: a handler's future holds every SDK call's state and can be tens of KiB.
            timing::measured(Box::pin(handler(req))).await
        };
        let mut response = match result {
            Ok(response) => apply_cache(response, &caching),
            Err(err) => {
                if err.is_server_error() {
                    tracing::error!(error = %err, source = ?std::error::Error::source(&err), "request failed");
                    Metrics::new(service)
                        .count("ServerErrors", 1)
                        .property("request_id", request_id.clone())
                        .emit();
                } else if err.status() == 409 {
                    tracing::info!(error = %err, "request conflicted");
                    Metrics::new(service)
                        .count("Conflicts", 1)
                        .property("code", err.problem().code)
                        .property("request_id", request_id.clone())
                        .emit();
                } else {
                    tracing::info!(error = %err, "request rejected");
                }
                problem_response(&err, &request_id)
            }
        };
        let latency = started.elapsed();
        let t = &measured.timings;
        if let Ok(value) = HeaderValue::from_str(&server_timing(t, latency)) {
            response.headers_mut().insert(SERVER_TIMING, value);
        }
        log_done!(t, latency, status = response.status().as_u16(), "request done");
        crate::xray::emit(&measured.calls, trace.as_deref());
        Ok(response)
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTES: &[(Route, usize)] = &[
        (Route::new("GET", "/shops/{shop_id}"), 0),
        (Route::new("PATCH", "/shops/{shop_id}"), 1),
        (Route::new("POST", "/shops/{shop_id}/products"), 2),
        (Route::new("GET", "/health"), 3),
    ];

    #[test]
    fn matches_params_and_methods() {
        let (i, p) = match_route(ROUTES, "PATCH", "/shops/abc").expect("match");
        assert_eq!(i, 1);
        assert_eq!(p.get("shop_id").expect("param"), "abc");
        let (i, p) = match_route(ROUTES, "POST", "/shops/abc/products/").expect("trailing slash");
        assert_eq!(i, 2);
        assert_eq!(p.get("shop_id").expect("param"), "abc");
        assert!(p.get("nope").is_err());
    }

    #[test]
    fn unknown_paths_404_and_wrong_methods_405() {
        assert_eq!(
            match_route(ROUTES, "GET", "/shops")
                .expect_err("404")
                .status(),
            404
        );
        assert_eq!(
            match_route(ROUTES, "GET", "/shops//products")
                .expect_err("404")
                .status(),
            404
        );
        assert_eq!(
            match_route(ROUTES, "GET", "/").expect_err("404").status(),
            404
        );
        let err = match_route(ROUTES, "DELETE", "/shops/abc").expect_err("405");
        assert_eq!(err.status(), 405);
        let response = problem_response(&err, "r");
        assert_eq!(response.headers()[header::ALLOW], "GET, PATCH");
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
    }

    fn request(body: Vec<u8>) -> Request {
        lambda_http::http::Request::builder()
            .method("POST")
            .uri("/shops/s/products")
            .body(Body::Binary(body))
            .expect("request")
    }

    #[tokio::test]
    async fn bodies_over_the_limit_are_413_before_the_handler_runs() {
        let response = serve("t", request(vec![b' '; MAX_BODY_BYTES + 1]), |_| async {
            panic!("the handler must not run")
        })
        .await
        .expect("a response");
        assert_eq!(response.status(), 413);
        let Body::Text(text) = response.body() else {
            panic!("a text body")
        };
        let problem: serde_json::Value = serde_json::from_str(text).expect("json");
        assert_eq!(problem["code"], "payload_too_large");
        assert_eq!(problem["max_bytes"], MAX_BODY_BYTES);
        // At the limit the handler runs.
        let response = serve("t", request(vec![b' '; MAX_BODY_BYTES]), |_| async {
            no_content()
        })
        .await
        .expect("a response");
        assert_eq!(response.status(), 204);
    }

    #[tokio::test]
    async fn responses_carry_server_timing_of_the_awaited_and_own_time() {
        use bazaar_domain::timing::Outcome;
        let response = serve("t", request(b"{}".to_vec()), |_| async {
            timing::timed(
                Kind::Provider,
                "Test",
                "authorize",
                tokio::time::sleep(Duration::from_millis(5)),
                |_| Outcome::Ok,
            )
            .await;
            no_content()
        })
        .await
        .expect("a response");
        let header = response.headers()[SERVER_TIMING]
            .to_str()
            .expect("ascii")
            .to_owned();
        let dur = |name: &str| -> f64 {
            header
                .split(", ")
                .find_map(|m| m.strip_prefix(&format!("{name};dur=")))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} in {header}"))
        };
        assert!(dur("provider") >= 5.0, "{header}");
        assert!(dur("awaited") >= dur("provider"), "{header}");
        assert_eq!(dur("db"), 0.0);
        // own = total − awaited (each rounded to 0.1 ms).
        assert!(
            (dur("own") + dur("awaited") - dur("total")).abs() <= 0.15,
            "{header}"
        );
        assert!(header.ends_with("calls;desc=0, rounds;desc=0"), "{header}");
        // Refused before the handler: the header is there too, with nothing awaited.
        let response = serve("t", request(vec![b' '; MAX_BODY_BYTES + 1]), |_| async {
            no_content()
        })
        .await
        .expect("a response");
        let header = response.headers()[SERVER_TIMING].to_str().expect("ascii");
        assert!(header.contains("awaited;dur=0.0"), "{header}");
    }

    /// The limit leaves room for every valid body: a product with every field at its limit,
    /// its text written as escaped astral characters (12 bytes per character), is valid and fits.
    #[test]
    fn the_largest_valid_product_fits_under_the_limit() {
        use bazaar_domain::validate::{
            DESCRIPTION_MAX, IMAGE_URL_MAX, IMAGES_MAX, ProductCreate, TAG_LEN_MAX, TAGS_MAX,
            TITLE_MAX,
        };
        let astral = |n: usize| "\\ud83e\\udeb4".repeat(n);
        let url = format!("https://img.example/{}", "a".repeat(IMAGE_URL_MAX - 20));
        let body = format!(
            r#"{{"title":"{}","description":"{}","price_cents":100000000,"quantity":10000,"category":"home-decor","tags":[{}],"is_vintage":true,"images":[{}]}}"#,
            astral(TITLE_MAX),
            astral(DESCRIPTION_MAX),
            vec![format!("\"{}\"", astral(TAG_LEN_MAX)); TAGS_MAX].join(","),
            vec![format!("\"{url}\""); IMAGES_MAX].join(","),
        );
        assert!(body.len() < MAX_BODY_BYTES, "{} bytes", body.len());
        let product: ProductCreate = parse_json(body.as_bytes()).expect("parses");
        product.validate().expect("the largest product is valid");
    }

    #[test]
    fn ids() {
        assert!(is_plausible_id("0192f0c4-5a6b-7cde-8f01-23456789abcd"));
        assert!(!is_plausible_id(""));
        assert!(!is_plausible_id(&"a".repeat(65)));
        assert!(!is_plausible_id("a%20b"));
        assert!(!is_plausible_id("a/b"));
    }

    const POLICY: CachePolicy = CachePolicy::seconds(5, 10);

    fn get(headers: &[(&'static str, &str)]) -> Request {
        let mut b = lambda_http::http::Request::builder()
            .method("GET")
            .uri("/shops/s");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(Body::Empty).expect("request")
    }

    async fn cached_read(req: Request, status: StatusCode, body: &str) -> Response<Body> {
        let body = body.to_owned();
        serve("t", req, |_| async move {
            let mut r = json(StatusCode::OK, &serde_json::json!({ "v": body }))?;
            *r.status_mut() = status;
            Ok(cacheable(r, POLICY))
        })
        .await
        .expect("a response")
    }

    #[tokio::test]
    async fn anonymous_public_reads_are_cacheable_with_an_etag() {
        let r = cached_read(get(&[]), StatusCode::OK, "a").await;
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.headers()[header::CACHE_CONTROL],
            "public, max-age=5, s-maxage=10"
        );
        assert_eq!(r.headers()[header::VARY], "Authorization");
        let tag = r.headers()[header::ETAG]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert_eq!(tag, etag(br#"{"v":"a"}"#));
        assert!(
            tag.starts_with('"') && tag.ends_with('"') && tag.len() == 24,
            "{tag}"
        );
        // Another body, another tag.
        let other = cached_read(get(&[]), StatusCode::OK, "b").await;
        assert_ne!(other.headers()[header::ETAG], tag.as_str());
    }

    #[tokio::test]
    async fn a_matching_if_none_match_is_304_without_a_body() {
        let tag = etag(br#"{"v":"a"}"#);
        for header_value in [
            tag.clone(),
            format!("W/{tag}"),
            format!("\"other\", {tag}"),
            "*".to_owned(),
        ] {
            let r = cached_read(
                get(&[("if-none-match", header_value.as_str())]),
                StatusCode::OK,
                "a",
            )
            .await;
            assert_eq!(r.status(), 304, "{header_value}");
            assert!(r.body().is_empty());
            assert_eq!(r.headers()[header::ETAG], tag.as_str());
            assert_eq!(
                r.headers()[header::CACHE_CONTROL],
                "public, max-age=5, s-maxage=10"
            );
            assert!(r.headers().get(header::CONTENT_TYPE).is_none());
        }
        // A stale tag gets the new answer.
        let r = cached_read(get(&[("if-none-match", "\"old\"")]), StatusCode::OK, "a").await;
        assert_eq!(r.status(), 200);
        assert!(!r.body().is_empty());
    }

    #[tokio::test]
    async fn a_request_with_a_token_is_never_cacheable_nor_304() {
        let tag = etag(br#"{"v":"a"}"#);
        let r = cached_read(
            get(&[
                ("authorization", "Bearer x"),
                ("if-none-match", tag.as_str()),
            ]),
            StatusCode::OK,
            "a",
        )
        .await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()[header::CACHE_CONTROL], NOT_CACHEABLE);
        assert_eq!(r.headers()[header::VARY], "Authorization");
        assert!(r.headers().get(header::ETAG).is_none());
    }

    #[tokio::test]
    async fn errors_and_unmarked_answers_are_not_made_cacheable() {
        // A handler error on a public read: a problem, never cacheable.
        let r = serve("t", get(&[]), |_| async {
            Err::<Response<Body>, _>(Error::not_found(bazaar_domain::error::Resource::Shop, "s"))
        })
        .await
        .expect("a response");
        assert_eq!(r.status(), 404);
        assert_eq!(r.headers()[header::CACHE_CONTROL], NOT_CACHEABLE);
        assert!(r.headers().get(header::ETAG).is_none());
        // A cacheable route answering something else than 200.
        let r = cached_read(get(&[]), StatusCode::SERVICE_UNAVAILABLE, "a").await;
        assert_eq!(r.headers()[header::CACHE_CONTROL], NOT_CACHEABLE);
        assert!(r.headers().get(header::ETAG).is_none());
        // A route that did not opt in (a cart, an order, a write) is never cacheable either.
        let r = serve("t", get(&[]), |_| async { json(StatusCode::OK, &1) })
            .await
            .expect("a response");
        assert_eq!(r.headers()[header::CACHE_CONTROL], NOT_CACHEABLE);
        assert!(r.headers().get(header::ETAG).is_none());
    }
}
