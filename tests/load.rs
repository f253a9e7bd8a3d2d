//! A small load generator for the local stack (`make load`, with `make dev` running).
//!
//! ```text
//! load [add-to-cart|get-product|search|checkout|feed|feed-anonymous|import|pipeline|ready] [--clients N] [--requests N] [--products N] [--lines N] [--rps N]
//! ```
//! `add-to-cart`: every request is a new buyer adding one unit of one of `--products` listings
//! (stock 10,000 each) created for the run — the hot path of the cart. `get-product`: anonymous
//! reads of those listings. `checkout`: every request is a new buyer who puts `--lines` listings
//! in the cart (not timed) and checks out (timed). `feed`: `GET /feed` of signed-in users who each
//! favorited 3 and viewed 5 products of the seeded catalog (not timed), so every feed is
//! personalized; `feed-anonymous`: the anonymous (trending) feed (the home page); `search`:
//! anonymous searches of the seeded catalog's words. Prints p50/p95/p99 latency, throughput and
//! the status mix, then the function's **own time** (p50/p95 of the `own` metric of each answer's
//! `Server-Timing` header: latency inside the function minus the time awaiting DynamoDB, SQS,
//! search and the payment provider), the AWS calls and the DynamoDB calls in sequence per request,
//! and a **modelled cloud latency** per request: own + DynamoDB calls in sequence × 5 ms (p50) or
//! 10 ms (p95) + the search and provider time as measured, next to the seeds' SLO of the operation
//! (search 300 ms, product 200 ms, add-to-cart 100 ms, checkout 500 ms, home feed 400 ms). `--rps N` paces the requests (an open loop at N requests per
//! second over the clients) instead of sending each as soon as a client is free.
//!
//! `import`: a bulk import, and how soon search shows it. A new seller creates a shop, then
//! `--requests` listings (2,000 when the flag is absent) as fast as the API takes them over
//! `--clients` connections (8 when absent; `make load` passes both flags, 500 and 10 unless
//! `REQUESTS=`/`CLIENTS=` are set), each titled `Import <marker> listing <n>` with the run's marker
//! word (letters only: one search token). Meanwhile one client polls
//! `GET /search?q=<marker>&sort=newest&page_size=100` back to back until every listing has been
//! seen, or 120 s after the last write. A listing is searchable (`t_seen`) at the arrival of the
//! first poll whose page held its id; one never in a page (a page holds only the newest 100) at
//! the first poll whose `total` reached its rank among the writes. One monotonic clock times
//! everything. Prints listings created, write throughput (first to last 201), create latency,
//! freshness lag (`t_seen` − 201), end-to-end throughput (first 201 to last listing searchable),
//! the time from the last write to the last listing searchable, search latency, the statuses
//! other than 201/200, and a markdown table for the README.
//!
//! Talks only to `BAZAAR_API_URL` (default http://127.0.0.1:9000).

use bazaar_e2e::{Client, unique};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The value of `--name N`, when given and a number.
fn arg_opt(args: &[String], name: &str) -> Option<usize> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

fn arg(args: &[String], name: &str, default: usize) -> usize {
    arg_opt(args, name).unwrap_or(default)
}

/// The `p`th percentile of `sorted` (ascending) in milliseconds, by nearest rank; 0 when empty.
fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    if std::env::var("BAZAAR_API_URL").is_err() {
        // SAFETY: set before any thread is spawned by this program.
        unsafe { std::env::set_var("BAZAAR_API_URL", "http://127.0.0.1:9000") };
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let scenario = args
        .first()
        .cloned()
        .unwrap_or_else(|| "add-to-cart".into());
    if scenario == "import" {
        return import(&args).await;
    }
    if scenario == "pipeline" {
        return pipeline(&args).await;
    }
    if scenario == "ready" {
        return ready().await;
    }
    let clients = arg(&args, "--clients", 10);
    let requests = arg(&args, "--requests", 500);
    let products = arg(&args, "--products", 50).max(1);
    let lines = arg(&args, "--lines", 2).max(1);
    let rps = arg(&args, "--rps", 0);

    let seller = Client::as_user(&unique("load-seller"));
    let shop = seller
        .post("/shops", json!({"name": unique("Load Test Shop")}))
        .await;
    assert_eq!(shop.status, 201, "creating the load shop: {}", shop.body);
    let shop_id = shop.body["id"].as_str().expect("id").to_owned();
    let mut ids = Vec::new();
    for i in 0..products {
        let r = seller
            .post(
                &format!("/shops/{shop_id}/products"),
                json!({"title": format!("Load test listing {i}"), "price_cents": 1000 + i as i64,
                       "category": "home-decor", "quantity": 10_000}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(r.body["id"].as_str().expect("id").to_owned());
    }
    let ids = Arc::new(ids);
    let next = Arc::new(AtomicUsize::new(0));
    let readers = Arc::new(if scenario == "feed" {
        personalized_users(clients * 2).await
    } else {
        Vec::new()
    });
    // Warm every function instance before measuring.
    for id in ids.iter().take(clients) {
        let _ = Client::as_user(&unique("warm"))
            .post("/cart/items", json!({"product_id": id}))
            .await;
        let _ = Client::anonymous().get(&format!("/products/{id}")).await;
    }

    if scenario.starts_with("feed") {
        // Start as many feed instances as there are clients (each opens the search index).
        let warm = (0..clients).map(|i| {
            let reader = readers.get(i % readers.len().max(1)).cloned();
            async move {
                match reader {
                    Some(r) => r.get("/feed").await,
                    None => Client::anonymous().get("/feed").await,
                }
            }
        });
        futures::future::join_all(warm).await;
    }

    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let ids = ids.clone();
        let next = next.clone();
        let scenario = scenario.clone();
        let readers = readers.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut timings = Vec::new();
            let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= requests {
                    break;
                }
                if rps > 0 {
                    let due = started + Duration::from_secs_f64(n as f64 / rps as f64);
                    tokio::time::sleep_until(due.into()).await;
                }
                let id = &ids[n % ids.len()];
                let t = Instant::now();
                let reply = match scenario.as_str() {
                    "checkout" => {
                        let buyer = Client::as_user(&unique("load-buyer"));
                        for k in 0..lines {
                            let p = &ids[(n + k) % ids.len()];
                            buyer.post("/cart/items", json!({"product_id": p})).await;
                        }
                        let key = unique("load");
                        let body = json!({"shipping_address": {"name": "Load", "line1": "1 Bench St", "city": "Austin",
                                          "postal_code": "78701", "country": "US"}, "payment_method": "pm_card_visa"});
                        let t = Instant::now();
                        let reply = buyer
                            .post_with("/checkout", &[("idempotency-key", &key)], body)
                            .await;
                        samples.push(t.elapsed());
                        timings.extend(ServerTiming::of(&reply.headers));
                        *statuses.entry(reply.status).or_default() += 1;
                        continue;
                    }
                    "feed" => readers[n % readers.len()].get("/feed").await,
                    "feed-anonymous" => Client::anonymous().get("/feed").await,
                    "get-product" | "product" => {
                        Client::anonymous().get(&format!("/products/{id}")).await
                    }
                    "search" => {
                        let q = SEARCH_QUERIES[n % SEARCH_QUERIES.len()];
                        Client::anonymous().get(&format!("/search?q={q}")).await
                    }
                    _ => {
                        Client::as_user(&unique("load-buyer"))
                            .post("/cart/items", json!({"product_id": id}))
                            .await
                    }
                };
                samples.push(t.elapsed());
                timings.extend(ServerTiming::of(&reply.headers));
                *statuses.entry(reply.status).or_default() += 1;
            }
            (samples, statuses, timings)
        }));
    }
    let mut samples = Vec::new();
    let mut timings = Vec::new();
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for task in tasks {
        let (s, st, t) = task.await.expect("client task");
        samples.extend(s);
        timings.extend(t);
        for (k, v) in st {
            *statuses.entry(k).or_default() += v;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    samples.sort();
    println!(
        "{scenario}: {} requests, {clients} clients{}, {:.1} req/s, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms, statuses {statuses:?}",
        samples.len(),
        if rps > 0 {
            format!(" paced at {rps}/s")
        } else {
            String::new()
        },
        samples.len() as f64 / elapsed,
        percentile(&samples, 50.0),
        percentile(&samples, 95.0),
        percentile(&samples, 99.0),
        percentile(&samples, 100.0),
    );
    match own_time_summary(&timings) {
        Some(summary) => {
            let (p50, p95) = (percentile(&samples, 50.0), percentile(&samples, 95.0));
            println!("{}", summary.text(&scenario, p50, p95));
        }
        None => println!("{scenario}: no Server-Timing headers in the answers (own time unknown)"),
    }
}

/// Search terms of the seeded catalog's vocabulary, for the `search` scenario.
const SEARCH_QUERIES: &[&str] = &[
    "handmade",
    "vintage",
    "leather",
    "silver+ring",
    "gold",
    "ceramic+mug",
    "wool",
    "necklace",
];

/// Stated DynamoDB latency per call in sequence for the modelled cloud latency: single-digit
/// milliseconds (p50 5 ms, p95 10 ms).
const DYNAMODB_P50_MS: f64 = 5.0;
const DYNAMODB_P95_MS: f64 = 10.0;

/// The seeds' latency objective of a scenario's operation (ms).
fn slo_ms(scenario: &str) -> Option<f64> {
    match scenario {
        "search" => Some(300.0),
        "get-product" | "product" => Some(200.0),
        "add-to-cart" => Some(100.0),
        "checkout" => Some(500.0),
        "feed" | "feed-anonymous" => Some(400.0),
        _ => None,
    }
}

/// One answer's `Server-Timing` header as the API functions send it
/// (`db;dur=…, search;dur=…, provider;dur=…, awaited;dur=…, own;dur=…, total;dur=…, calls;desc=N, rounds;desc=N`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct ServerTiming {
    own: f64,
    search: f64,
    provider: f64,
    total: f64,
    calls: u32,
    rounds: u32,
}

impl ServerTiming {
    fn parse(value: &str) -> Option<ServerTiming> {
        let mut t = ServerTiming::default();
        let mut seen_own = false;
        for metric in value.split(',') {
            let mut parts = metric.trim().split(';');
            let name = parts.next()?.trim();
            for param in parts {
                let Some((k, v)) = param.trim().split_once('=') else {
                    continue;
                };
                let v = v.trim_matches('"');
                match (name, k) {
                    ("own", "dur") => {
                        t.own = v.parse().ok()?;
                        seen_own = true;
                    }
                    ("search", "dur") => t.search = v.parse().ok()?,
                    ("provider", "dur") => t.provider = v.parse().ok()?,
                    ("total", "dur") => t.total = v.parse().ok()?,
                    ("calls", "desc") => t.calls = v.parse().ok()?,
                    ("rounds", "desc") => t.rounds = v.parse().ok()?,
                    _ => {}
                }
            }
        }
        seen_own.then_some(t)
    }

    fn of(headers: &reqwest::header::HeaderMap) -> Option<ServerTiming> {
        ServerTiming::parse(headers.get("server-timing")?.to_str().ok()?)
    }

    /// The modelled cloud latency of this request with `per_round` ms per DynamoDB call in
    /// sequence: own time + rounds × per_round + the search and provider time as measured (the
    /// embedded engine and the test gateway stand in for OpenSearch and Stripe).
    fn modelled(&self, per_round: f64) -> f64 {
        self.own + f64::from(self.rounds) * per_round + self.search + self.provider
    }
}

/// Nearest-rank percentile of unsorted values.
fn percentile_of(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * (values.len() as f64 - 1.0)).round() as usize;
    values[rank.min(values.len() - 1)]
}

#[derive(Debug, Clone, PartialEq)]
struct OwnTimeSummary {
    requests: usize,
    own_p50: f64,
    own_p95: f64,
    search_p50: f64,
    provider_p50: f64,
    calls_p50: f64,
    calls_max: u32,
    rounds_p50: f64,
    rounds_max: u32,
    modelled_p50: f64,
    modelled_p95: f64,
}

fn own_time_summary(timings: &[ServerTiming]) -> Option<OwnTimeSummary> {
    if timings.is_empty() {
        return None;
    }
    let column = |f: &dyn Fn(&ServerTiming) -> f64| -> Vec<f64> { timings.iter().map(f).collect() };
    Some(OwnTimeSummary {
        requests: timings.len(),
        own_p50: percentile_of(&mut column(&|t| t.own), 50.0),
        own_p95: percentile_of(&mut column(&|t| t.own), 95.0),
        search_p50: percentile_of(&mut column(&|t| t.search), 50.0),
        provider_p50: percentile_of(&mut column(&|t| t.provider), 50.0),
        calls_p50: percentile_of(&mut column(&|t| f64::from(t.calls)), 50.0),
        calls_max: timings.iter().map(|t| t.calls).max().unwrap_or(0),
        rounds_p50: percentile_of(&mut column(&|t| f64::from(t.rounds)), 50.0),
        rounds_max: timings.iter().map(|t| t.rounds).max().unwrap_or(0),
        modelled_p50: percentile_of(&mut column(&|t| t.modelled(DYNAMODB_P50_MS)), 50.0),
        modelled_p95: percentile_of(&mut column(&|t| t.modelled(DYNAMODB_P95_MS)), 95.0),
    })
}

impl OwnTimeSummary {
    /// The summary and its README table row (`| operation | local p50 / p95 | own p50 / p95 |
    /// calls | in sequence | modelled p50 / p95 | SLO |`).
    fn text(&self, scenario: &str, local_p50: f64, local_p95: f64) -> String {
        let slo = slo_ms(scenario);
        let verdict = match slo {
            Some(slo) if self.modelled_p95 <= slo => format!("{slo:.0} ms: met"),
            Some(slo) => format!("{slo:.0} ms: MISSED"),
            None => "none".to_owned(),
        };
        format!(
            "{scenario}: own time p50 {:.1} ms, p95 {:.1} ms over {} answers with Server-Timing; AWS calls p50 {:.0} (max {}), DynamoDB calls in sequence p50 {:.0} (max {}); search p50 {:.1} ms, provider p50 {:.1} ms\n\
             {scenario}: modelled cloud latency (own + calls in sequence × {DYNAMODB_P50_MS} ms p50 / {DYNAMODB_P95_MS} ms p95 + search + provider) p50 {:.1} ms, p95 {:.1} ms; SLO {verdict}\n\
             | {scenario} | {local_p50:.1} / {local_p95:.1} | {:.1} / {:.1} | {:.0} (max {}) | {:.0} (max {}) | {:.1} / {:.1} | {} |",
            self.own_p50,
            self.own_p95,
            self.requests,
            self.calls_p50,
            self.calls_max,
            self.rounds_p50,
            self.rounds_max,
            self.search_p50,
            self.provider_p50,
            self.modelled_p50,
            self.modelled_p95,
            self.own_p50,
            self.own_p95,
            self.calls_p50,
            self.calls_max,
            self.rounds_p50,
            self.rounds_max,
            self.modelled_p50,
            self.modelled_p95,
            slo.map_or("–".to_owned(), |s| format!("{s:.0} ms")),
        )
    }
}

/// `n` users with enough signals for a personalized feed: each favorites 3 and views 5 products of
/// the seeded catalog (a browse of the search index), all different from one user to the next.
async fn personalized_users(n: usize) -> Vec<Client> {
    let r = Client::anonymous().get("/search?page_size=100").await;
    assert_eq!(r.status, 200, "browsing the catalog: {}", r.body);
    let catalog: Vec<String> = r.body["products"]
        .as_array()
        .expect("products")
        .iter()
        .filter_map(|p| p["id"].as_str().map(str::to_owned))
        .collect();
    assert!(
        catalog.len() >= 8,
        "the seeded catalog is too small for the feed scenario"
    );
    let mut users = Vec::new();
    for u in 0..n {
        let user = Client::as_user(&unique("load-reader"));
        for k in 0..8 {
            let id = &catalog[(u * 3 + k) % catalog.len()];
            if k < 3 {
                let r = user
                    .send("PUT", &format!("/favorites/products/{id}"), None)
                    .await;
                assert_eq!(r.status, 204, "favorite: {}", r.body);
            } else {
                user.get(&format!("/products/{id}")).await;
            }
        }
        users.push(user);
    }
    // The scenario measures personalized feeds: check that they are (a feed served while the
    // emulator is busy with the trending job may degrade to trending, so allow a few tries).
    let mut personalized = false;
    for _ in 0..5 {
        if users[0].get("/feed").await.body["personalized"] == true {
            personalized = true;
            break;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    assert!(personalized, "the scenario's feeds must be personalized");
    users
}

// ---------------------------------------------------------------------------------------------
// `import`: a bulk import and how soon search shows it.

/// How long the searcher keeps polling after the last write while listings are still missing.
const IMPORT_SEARCH_TIMEOUT: Duration = Duration::from_secs(120);
/// The pause between two polls of the searcher.
const IMPORT_POLL_PAUSE: Duration = Duration::from_millis(5);
/// The largest `page_size` of `GET /search` (api/openapi.yaml).
const SEARCH_MAX_PAGE_SIZE: usize = 100;

/// The run's marker word from a [`unique`] name: its letters and digits only, digits spelled as
/// the letters g..p. The search analyzer splits text on anything that is not a letter or digit, so
/// this stays one token (lowercase, at most 40 characters) that only this run's titles contain.
fn marker_word(unique: &str) -> String {
    unique
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| match c {
            '0'..='9' => (b'g' + (c as u8 - b'0')) as char,
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// The `POST /shops/{shop_id}/products` body of listing number `seq` (1-based) of the run.
fn listing_body(marker: &str, seq: usize) -> Value {
    json!({
        "title": format!("Import {marker} listing {seq}"),
        "price_cents": 500 + (seq % 10_000) as i64,
        "category": "home-decor",
        "quantity": 1 + seq % 10,
    })
}

/// One listing created (201), its times on the run's clock: when its POST was sent and when the
/// 201 arrived (`t_write`).
#[derive(Debug, Clone)]
struct Created {
    id: String,
    sent: Duration,
    at: Duration,
}

/// One search answered 200: when the answer arrived on the run's clock, its `total`, and the ids of
/// its page that no earlier poll held.
#[derive(Debug, Clone, Default)]
struct Poll {
    arrived: Duration,
    total: u64,
    new_ids: Vec<String>,
}

/// When a listing was first searchable, and how that was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// The first poll whose page held its id.
    InPage(Duration),
    /// Never in a page: the first poll whose `total` reached its rank among the writes.
    ByTotal(Duration),
    /// Neither happened before the searcher stopped.
    Never,
}

impl Seen {
    fn at(self) -> Option<Duration> {
        match self {
            Seen::InPage(t) | Seen::ByTotal(t) => Some(t),
            Seen::Never => None,
        }
    }
}

/// When each of `writes` was first searchable in `polls` (in the order they arrived), aligned with
/// `writes`. A listing's rank is its place (1-based) in the order the 201s arrived; `total` counts
/// as reached at the first poll whose `total`, or an earlier poll's, was at least the rank (a
/// degraded answer may report less than an earlier one).
fn assign_seen(writes: &[Created], polls: &[Poll]) -> Vec<Seen> {
    let mut first: HashMap<&str, Duration> = HashMap::new();
    for poll in polls {
        for id in &poll.new_ids {
            first.entry(id.as_str()).or_insert(poll.arrived);
        }
    }
    let mut best = 0;
    let reached: Vec<u64> = polls
        .iter()
        .map(|p| {
            best = best.max(p.total);
            best
        })
        .collect();
    let mut order: Vec<usize> = (0..writes.len()).collect();
    order.sort_by_key(|&i| writes[i].at);
    let mut seen = vec![Seen::Never; writes.len()];
    for (place, &i) in order.iter().enumerate() {
        seen[i] = match first.get(writes[i].id.as_str()) {
            Some(&t) => Seen::InPage(t),
            None => {
                let rank = place as u64 + 1;
                let k = reached.partition_point(|&total| total < rank);
                polls
                    .get(k)
                    .map_or(Seen::Never, |p| Seen::ByTotal(p.arrived))
            }
        };
    }
    seen
}

/// Whether every listing of `ids` is accounted for: each seen in a page, or `total` has reached
/// their number (later pages would show nothing new: they hold the newest listings only).
fn search_complete(ids: &[String], seen: &HashSet<String>, max_total: u64) -> bool {
    max_total >= ids.len() as u64 || ids.iter().all(|id| seen.contains(id))
}

/// `count` events over `span`, per second (0 for an empty span).
fn per_second(count: usize, span: Duration) -> f64 {
    if span.is_zero() {
        0.0
    } else {
        count as f64 / span.as_secs_f64()
    }
}

/// `n` with thousands separators (2,000).
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What the searcher saw.
#[derive(Debug, Default)]
struct Searched {
    polls: Vec<Poll>,
    /// Every search's latency, answered or not.
    latencies: Vec<Duration>,
    statuses: BTreeMap<String, usize>,
    degraded: usize,
}

/// The numbers of an import run.
#[derive(Debug, Clone, PartialEq)]
struct ImportSummary {
    requested: usize,
    clients: usize,
    created: usize,
    /// Listings per second between the first and the last 201 (intervals between 201s: n − 1).
    write_rate: f64,
    write_span: Duration,
    /// p50, p95, max of the 201s' latency (ms).
    create_ms: [f64; 3],
    /// p50, p95, max of `t_seen − t_write` over the listings seen (ms; 0 when search showed a
    /// listing before its 201 arrived).
    lag_ms: [f64; 3],
    in_page: usize,
    by_total: usize,
    never: usize,
    /// Listings searchable per second from the first 201 to the last listing searchable.
    searchable_rate: f64,
    /// From the last 201 to the last listing searchable (None when none was seen).
    last_write_to_last_seen: Option<Duration>,
    searches: usize,
    /// p50, p95 of every search's latency (ms).
    search_ms: [f64; 2],
    degraded: usize,
    /// Every status other than 201 (writes) and 200 (searches), and transport errors.
    other_statuses: BTreeMap<String, usize>,
}

fn summarize(
    requested: usize,
    clients: usize,
    writes: &[Created],
    searched: &Searched,
    write_statuses: &BTreeMap<String, usize>,
) -> ImportSummary {
    let seen = assign_seen(writes, &searched.polls);
    let first_write = writes.iter().map(|w| w.at).min().unwrap_or_default();
    let last_write = writes.iter().map(|w| w.at).max().unwrap_or_default();
    let write_span = last_write - first_write;
    let mut create: Vec<Duration> = writes.iter().map(|w| w.at.saturating_sub(w.sent)).collect();
    create.sort();
    let mut lags: Vec<Duration> = writes
        .iter()
        .zip(&seen)
        .filter_map(|(w, s)| s.at().map(|t| t.saturating_sub(w.at)))
        .collect();
    lags.sort();
    let last_seen = seen.iter().filter_map(|s| s.at()).max();
    let count = |f: fn(&Seen) -> bool| seen.iter().filter(|s| f(s)).count();
    let mut latencies = searched.latencies.clone();
    latencies.sort();
    let mut other_statuses = write_statuses.clone();
    for (k, v) in &searched.statuses {
        *other_statuses.entry(k.clone()).or_default() += v;
    }
    ImportSummary {
        requested,
        clients,
        created: writes.len(),
        write_rate: per_second(writes.len().saturating_sub(1), write_span),
        write_span,
        create_ms: [
            percentile(&create, 50.0),
            percentile(&create, 95.0),
            percentile(&create, 100.0),
        ],
        lag_ms: [
            percentile(&lags, 50.0),
            percentile(&lags, 95.0),
            percentile(&lags, 100.0),
        ],
        in_page: count(|s| matches!(s, Seen::InPage(_))),
        by_total: count(|s| matches!(s, Seen::ByTotal(_))),
        never: count(|s| matches!(s, Seen::Never)),
        searchable_rate: last_seen.map_or(0.0, |t| {
            per_second(lags.len(), t.saturating_sub(first_write))
        }),
        last_write_to_last_seen: last_seen.map(|t| t.saturating_sub(last_write)),
        searches: latencies.len(),
        search_ms: [percentile(&latencies, 50.0), percentile(&latencies, 95.0)],
        degraded: searched.degraded,
        other_statuses,
    }
}

fn statuses_text(statuses: &BTreeMap<String, usize>) -> String {
    if statuses.is_empty() {
        return "none".to_owned();
    }
    statuses
        .iter()
        .map(|(k, v)| format!("{k}: {}", thousands(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// "the last listing searchable" in words: its delay after the last write, or what is missing.
fn last_searchable_text(s: &ImportSummary) -> String {
    match (s.last_write_to_last_seen, s.never) {
        (Some(d), 0) => format!("{:.2} s", d.as_secs_f64()),
        (_, never) => format!(
            "{} of {} never searchable ({} s after the last write)",
            thousands(never),
            thousands(s.created),
            IMPORT_SEARCH_TIMEOUT.as_secs()
        ),
    }
}

/// The run as a markdown table for the README.
fn markdown(s: &ImportSummary) -> String {
    let ms3 = |v: [f64; 3]| format!("{:.1} / {:.1} / {:.1} ms", v[0], v[1], v[2]);
    let any_seen = s.in_page + s.by_total > 0;
    let s3 = |v: [f64; 3]| {
        if !any_seen {
            return "– (none searchable)".to_owned();
        }
        format!(
            "{:.2} / {:.2} / {:.2} s",
            v[0] / 1000.0,
            v[1] / 1000.0,
            v[2] / 1000.0
        )
    };
    let rows = [
        (
            "Listings created".to_owned(),
            format!(
                "{} of {} ({} clients)",
                thousands(s.created),
                thousands(s.requested),
                s.clients
            ),
        ),
        (
            "Write throughput (first to last 201)".to_owned(),
            format!("{:.1} listings/s", s.write_rate),
        ),
        (
            "Create latency p50 / p95 / max".to_owned(),
            ms3(s.create_ms),
        ),
        (
            "Freshness lag (201 → searchable) p50 / p95 / max".to_owned(),
            s3(s.lag_ms),
        ),
        (
            "Searchable throughput (first 201 → last searchable)".to_owned(),
            if any_seen {
                format!("{:.1} listings/s", s.searchable_rate)
            } else {
                "–".to_owned()
            },
        ),
        (
            "Last write → last listing searchable".to_owned(),
            last_searchable_text(s),
        ),
        (
            format!("Searches (`page_size={SEARCH_MAX_PAGE_SIZE}`, back to back) p50 / p95"),
            format!(
                "{} searches, {:.1} / {:.1} ms",
                thousands(s.searches),
                s.search_ms[0],
                s.search_ms[1]
            ),
        ),
        (
            "Lag measured by".to_owned(),
            format!(
                "id in a page: {}, `total` ≥ rank: {}{}",
                thousands(s.in_page),
                thousands(s.by_total),
                if s.never > 0 {
                    format!(", never: {}", thousands(s.never))
                } else {
                    String::new()
                }
            ),
        ),
        (
            "Other statuses".to_owned(),
            statuses_text(&s.other_statuses),
        ),
    ];
    let mut out = format!(
        "| `make load SCENARIO=import CLIENTS={} REQUESTS={}` | |\n|---|---|\n",
        s.clients, s.requested
    );
    for (k, v) in rows {
        out.push_str(&format!("| {k} | {v} |\n"));
    }
    out
}

/// The writes' results, handed to the searcher when every writer is done.
struct WritesDone {
    ids: Vec<String>,
    last_write: Duration,
}

/// Creates listings numbered from `next` until `requests`, one at a time on `client`'s connection.
async fn write_listings(
    client: Client,
    path: String,
    marker: String,
    requests: usize,
    next: Arc<AtomicUsize>,
    origin: Instant,
) -> (Vec<Created>, BTreeMap<String, usize>) {
    let mut created = Vec::new();
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    loop {
        let n = next.fetch_add(1, Ordering::Relaxed);
        if n >= requests {
            break;
        }
        let body = listing_body(&marker, n + 1);
        let sent = origin.elapsed();
        let r = client.send_unchecked("POST", &path, &[], Some(body)).await;
        let at = origin.elapsed();
        let key = match r {
            Ok((201, body)) => match body["id"].as_str() {
                Some(id) => {
                    created.push(Created {
                        id: id.to_owned(),
                        sent,
                        at,
                    });
                    continue;
                }
                None => "POST products 201 without an id".to_owned(),
            },
            Ok((status, _)) => format!("POST products {status}"),
            Err(_) => "POST products transport error".to_owned(),
        };
        *statuses.entry(key).or_default() += 1;
    }
    (created, statuses)
}

/// Polls `path` back to back until the writes are done and all searchable, or
/// [`IMPORT_SEARCH_TIMEOUT`] after the last write.
async fn search_until_seen(
    client: Client,
    path: String,
    origin: Instant,
    done: Arc<Mutex<Option<WritesDone>>>,
) -> Searched {
    let mut out = Searched::default();
    let mut seen: HashSet<String> = HashSet::new();
    let mut max_total = 0;
    loop {
        let sent = origin.elapsed();
        let r = client.send_unchecked("GET", &path, &[], None).await;
        let arrived = origin.elapsed();
        out.latencies.push(arrived.saturating_sub(sent));
        match r {
            Ok((200, body)) => {
                if body["degraded"] == true {
                    out.degraded += 1;
                }
                let total = body["total"].as_u64().unwrap_or(0);
                max_total = max_total.max(total);
                let new_ids = body["products"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p["id"].as_str())
                    .filter(|id| seen.insert((*id).to_owned()))
                    .map(str::to_owned)
                    .collect();
                out.polls.push(Poll {
                    arrived,
                    total,
                    new_ids,
                });
            }
            Ok((status, _)) => {
                *out.statuses
                    .entry(format!("GET search {status}"))
                    .or_default() += 1
            }
            Err(_) => {
                *out.statuses
                    .entry("GET search transport error".to_owned())
                    .or_default() += 1
            }
        }
        let stop = match done.lock().expect("writes lock").as_ref() {
            Some(d) => {
                search_complete(&d.ids, &seen, max_total)
                    || arrived.saturating_sub(d.last_write) > IMPORT_SEARCH_TIMEOUT
            }
            None => false,
        };
        if stop {
            break;
        }
        tokio::time::sleep(IMPORT_POLL_PAUSE).await;
    }
    out
}

/// `n` add-to-cart requests over `clients` connections, each by a new buyer of one
/// of `ids`: the latencies, sorted.
async fn add_to_cart_sample(ids: &[String], n: usize, clients: usize) -> Vec<Duration> {
    let next = Arc::new(AtomicUsize::new(0));
    let ids = Arc::new(ids.to_vec());
    let tasks = (0..clients).map(|_| {
        let (next, ids) = (next.clone(), ids.clone());
        tokio::spawn(async move {
            let mut samples = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return samples;
                }
                let t = Instant::now();
                let r = Client::as_user(&unique("ready-buyer"))
                    .post("/cart/items", json!({"product_id": ids[i % ids.len()]}))
                    .await;
                assert_eq!(r.status, 200, "add-to-cart: {}", r.body);
                samples.push(t.elapsed());
            }
        })
    });
    let mut all: Vec<Duration> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .flat_map(|r| r.expect("client task"))
        .collect();
    all.sort();
    all
}

/// The `ready` scenario: a new user's first minute, run right after `make dev` says ready. A seller
/// lists a product (→ searchable), edits it (→ reflected), a buyer checks out a two-shop cart (→
/// both sellers notified), and add-to-cart latency now and again after a minute of quiet, in one
/// run (their ratio shows whether start-up work is still going on).
async fn ready() {
    let started = Instant::now();
    let sample = |label: &str, d: Option<Duration>| {
        println!(
            "ready: {label}: {}",
            d.map_or("NOT within 30 s".to_owned(), |d| format!(
                "{:.2} s",
                d.as_secs_f64()
            ))
        );
        d
    };
    let shop = |owner: &Client, name: String| {
        let owner = owner.clone();
        async move {
            let r = owner.post("/shops", json!({"name": name})).await;
            assert_eq!(r.status, 201, "{}", r.body);
            r.body["id"].as_str().expect("id").to_owned()
        }
    };
    let list = |owner: &Client, shop: String, title: String| {
        let owner = owner.clone();
        async move {
            let r = owner
                .post(
                    &format!("/shops/{shop}/products"),
                    json!({"title": title, "price_cents": 2500, "category": "home-decor", "quantity": 100}),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.body);
            r.body["id"].as_str().expect("id").to_owned()
        }
    };
    let (a, b) = (
        Client::as_user(&unique("ready-seller-a")),
        Client::as_user(&unique("ready-seller-b")),
    );
    let shop_a = shop(&a, unique("Ready A")).await;
    let shop_b = shop(&b, unique("Ready B")).await;
    let word = marker_word(&unique("ready"));
    let x = list(&a, shop_a.clone(), format!("Walnut bowl {word}")).await;
    let searcher = Client::anonymous();
    let found = |q: String, id: String| {
        let searcher = searcher.clone();
        move || {
            let (searcher, q, id) = (searcher.clone(), q.clone(), id.clone());
            async move {
                let r = searcher.get(&format!("/search?q={q}")).await;
                ids_of(&r.body["products"]).contains(&id)
            }
        }
    };
    let searchable = sample(
        "new listing searchable after",
        bazaar_e2e::eventually(Duration::from_secs(30), found(word.clone(), x.clone())).await,
    );
    let edited = marker_word(&unique("edit"));
    let r = a
        .patch(
            &format!("/products/{x}"),
            json!({"title": format!("Walnut bowl {edited}")}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let reflected = sample(
        "edit reflected in search after",
        bazaar_e2e::eventually(Duration::from_secs(30), found(edited, x.clone())).await,
    );
    let y = list(&b, shop_b, format!("Linen napkins {word}")).await;
    let buyer = Client::as_user(&unique("ready-buyer"));
    for id in [&x, &y] {
        let r = buyer.post("/cart/items", json!({"product_id": id})).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let key = unique("ready");
    let body = json!({"shipping_address": {"name": "Ready", "line1": "1 Main St", "city": "Austin",
                      "postal_code": "78701", "country": "US"}, "payment_method": "pm_card_visa"});
    let r = buyer
        .post_with("/checkout", &[("idempotency-key", &key)], body)
        .await;
    assert_eq!(r.status, 201, "checkout: {}", r.body);
    let notified = sample(
        "both sellers notified after",
        bazaar_e2e::eventually(Duration::from_secs(30), || {
            let (a, b) = (a.clone(), b.clone());
            async move {
                let count =
                    |r: bazaar_e2e::Reply| r.body["notifications"].as_array().map_or(0, Vec::len);
                count(a.get("/notifications").await) > 0 && count(b.get("/notifications").await) > 0
            }
        })
        .await,
    );
    let ids: Vec<String> = {
        let mut v = Vec::new();
        for i in 0..20 {
            v.push(list(&a, shop_a.clone(), format!("Ready stock {i}")).await);
        }
        v
    };
    let now = add_to_cart_sample(&ids, 200, 4).await;
    let at = started.elapsed();
    println!("ready: waiting 60 s for a quiet stack…");
    tokio::time::sleep(Duration::from_secs(60)).await;
    let quiet = add_to_cart_sample(&ids, 200, 4).await;
    let (p95_now, p95_quiet) = (percentile(&now, 95.0), percentile(&quiet, 95.0));
    println!(
        "ready: add-to-cart (4 clients, 200 requests) in the first {:.0} s after ready: p50 {:.1} ms, p95 {:.1} ms; a minute later: p50 {:.1} ms, p95 {:.1} ms; ratio of p95s {:.2}",
        at.as_secs_f64(),
        percentile(&now, 50.0),
        p95_now,
        percentile(&quiet, 50.0),
        p95_quiet,
        p95_now / p95_quiet.max(1e-9)
    );
    assert!(
        searchable.is_some() && reflected.is_some() && notified.is_some(),
        "a journey did not complete within 30 s"
    );
}

fn ids_of(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["id"].as_str().map(str::to_owned))
        .collect()
}

/// The `pipeline` scenario: the event pipeline fed faster than it drains. `--requests` new
/// listings (default 5,000) are written straight into the table of the running `make dev` stack
/// (`BAZAAR_STACK`, default bazaar-dev; `AWS_ENDPOINT_URL`, default its moto) with
/// `BatchWriteItem`, much faster than the API takes them; each becomes a stream record → relay →
/// product events queue → indexer. Reports how fast they were written and how fast the pipeline
/// made them searchable (`GET /search` total of the run's marker word).
async fn pipeline(args: &[String]) {
    for (k, v) in [
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ] {
        if std::env::var(k).is_err() {
            // SAFETY: set before the SDK reads them, while this task is the only one running.
            unsafe { std::env::set_var(k, v) };
        }
    }
    let n = arg_opt(args, "--requests").unwrap_or(5_000);
    let stack = std::env::var("BAZAAR_STACK").unwrap_or_else(|_| "bazaar-dev".into());
    let table = bazaar_infra::local::LocalNames::new(stack).resource("Table");
    let sdk = aws_config_for_load().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let marker = marker_word(&unique("burst"));
    let searcher = Client::anonymous();
    let path = format!("/search?q={marker}&page_size=1");
    let total = |r: &bazaar_e2e::Reply| r.body["total"].as_u64().unwrap_or(0) as usize;
    let started = Instant::now();
    let written = bazaar_infra::seed::burst(
        &client,
        &table,
        bazaar_infra::seed::SeedOptions::default(),
        n,
        &marker,
    )
    .await
    .expect("writing the burst into the table");
    let write_time = started.elapsed();
    let at_write_end = total(&searcher.get(&path).await);
    let mut searches = 1usize;
    let (mut first_seen, mut last_total) = (None, 0usize);
    let deadline = Instant::now() + Duration::from_secs(300);
    while last_total < written.len() && Instant::now() < deadline {
        let r = searcher.get(&path).await;
        searches += 1;
        last_total = total(&r);
        if last_total > 0 && first_seen.is_none() {
            first_seen = Some(started.elapsed());
        }
        if last_total < written.len() {
            // Every 250 ms: each search costs the stack CPU that the pipeline shares.
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    let all = started.elapsed();
    let rate = |count: usize, d: Duration| count as f64 / d.as_secs_f64().max(1e-9);
    println!(
        "pipeline: {} listings written into {table} in {:.2} s ({:.0}/s)",
        written.len(),
        write_time.as_secs_f64(),
        rate(written.len(), write_time)
    );
    println!(
        "  searchable: {last_total} of {} after {:.2} s (first after {:.2} s; {searches} searches)",
        written.len(),
        all.as_secs_f64(),
        first_seen.map_or(f64::NAN, |d| d.as_secs_f64())
    );
    let drain = all.saturating_sub(write_time);
    println!(
        "  pipeline throughput (first write → all searchable): {:.0} events/s; last write → all searchable: {:.2} s",
        rate(last_total, all),
        drain.as_secs_f64()
    );
    println!(
        "  with a backlog (from the last write, when {at_write_end} were searchable, to all): {:.0} events/s",
        rate(last_total.saturating_sub(at_write_end), drain)
    );
    println!(
        "\n| `make load SCENARIO=pipeline REQUESTS={n}` | |\n|---|---|\n| Listings written (BatchWriteItem) | {} in {:.2} s ({:.0}/s) |\n| All searchable after | {:.2} s |\n| Pipeline throughput, first write → all searchable | {:.0} events/s |\n| Searchable when the writes ended | {at_write_end} |\n| Throughput with a backlog (last write → all searchable) | {:.0} events/s in {:.2} s |",
        written.len(),
        write_time.as_secs_f64(),
        rate(written.len(), write_time),
        all.as_secs_f64(),
        rate(last_total, all),
        rate(last_total.saturating_sub(at_write_end), drain),
        drain.as_secs_f64()
    );
    assert_eq!(
        last_total,
        written.len(),
        "not every listing became searchable within 300 s"
    );
}

async fn aws_config_for_load() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await
}

/// The `import` scenario (see the top of this file).
async fn import(args: &[String]) {
    let clients = arg_opt(args, "--clients").unwrap_or(8).max(1);
    let requests = arg_opt(args, "--requests").unwrap_or(2_000);
    let marker = marker_word(&unique("import"));
    let seller_name = unique("import-seller");
    let seller = Client::as_user(&seller_name);
    let shop = seller
        .post("/shops", json!({"name": unique("Import Load Shop")}))
        .await;
    assert_eq!(shop.status, 201, "creating the import shop: {}", shop.body);
    let shop_id = shop.body["id"].as_str().expect("id").to_owned();
    let path = format!("/shops/{shop_id}/products");
    let search_path = format!("/search?q={marker}&sort=newest&page_size={SEARCH_MAX_PAGE_SIZE}");

    // One connection per writer (each client has its own pool): open them, and warm as many
    // catalog instances, plus the search function, before the clock starts.
    let writers: Vec<Client> = (0..clients)
        .map(|_| Client::as_user(&seller_name))
        .collect();
    let shop_path = format!("/shops/{shop_id}");
    futures::future::join_all(writers.iter().map(|c| c.get(&shop_path))).await;
    let searcher = Client::anonymous();
    let warm = searcher.get(&search_path).await;
    assert_eq!(warm.status, 200, "searching for the marker: {}", warm.body);
    println!(
        "import: shop {shop_id}, marker {marker}: {} listings over {clients} connections, one searcher",
        thousands(requests)
    );

    let origin = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let done: Arc<Mutex<Option<WritesDone>>> = Arc::new(Mutex::new(None));
    let search = tokio::spawn(search_until_seen(
        searcher,
        search_path,
        origin,
        done.clone(),
    ));
    let tasks: Vec<_> = writers
        .into_iter()
        .map(|c| {
            tokio::spawn(write_listings(
                c,
                path.clone(),
                marker.clone(),
                requests,
                next.clone(),
                origin,
            ))
        })
        .collect();
    let mut writes = Vec::new();
    let mut write_statuses: BTreeMap<String, usize> = BTreeMap::new();
    for task in tasks {
        let (created, statuses) = task.await.expect("writer task");
        writes.extend(created);
        for (k, v) in statuses {
            *write_statuses.entry(k).or_default() += v;
        }
    }
    let writes_done = origin.elapsed();
    *done.lock().expect("writes lock") = Some(WritesDone {
        ids: writes.iter().map(|w| w.id.clone()).collect(),
        last_write: writes.iter().map(|w| w.at).max().unwrap_or(writes_done),
    });
    println!(
        "import: writes done after {:.1} s ({} created), waiting for search…",
        writes_done.as_secs_f64(),
        thousands(writes.len())
    );
    let searched = search.await.expect("search task");

    let s = summarize(requests, clients, &writes, &searched, &write_statuses);
    println!(
        "import: {} listings created of {} requested over {} clients",
        thousands(s.created),
        thousands(s.requested),
        s.clients
    );
    println!(
        "  writes: {:.1} listings/s (first to last 201, {:.1} s); create latency p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        s.write_rate,
        s.write_span.as_secs_f64(),
        s.create_ms[0],
        s.create_ms[1],
        s.create_ms[2]
    );
    println!(
        "  freshness lag (201 → searchable, over the listings seen): p50 {:.2} s, p95 {:.2} s, max {:.2} s",
        s.lag_ms[0] / 1000.0,
        s.lag_ms[1] / 1000.0,
        s.lag_ms[2] / 1000.0
    );
    println!(
        "    measured by the id in a page (newest {SEARCH_MAX_PAGE_SIZE}) for {}, by `total` ≥ rank among the writes for {}, never searchable {}",
        thousands(s.in_page),
        thousands(s.by_total),
        thousands(s.never)
    );
    println!(
        "  searchable: {:.1} listings/s (first 201 to last listing searchable); last write → last searchable: {}",
        s.searchable_rate,
        last_searchable_text(&s)
    );
    println!(
        "  searches: {} back to back, p50 {:.1} ms, p95 {:.1} ms, degraded answers {}",
        thousands(s.searches),
        s.search_ms[0],
        s.search_ms[1],
        s.degraded
    );
    println!(
        "  statuses other than 201/200: {}",
        statuses_text(&s.other_statuses)
    );
    println!("\n{}", markdown(&s));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn created(id: &str, sent: u64, at: u64) -> Created {
        Created {
            id: id.to_owned(),
            sent: ms(sent),
            at: ms(at),
        }
    }

    fn poll(arrived: u64, total: u64, ids: &[&str]) -> Poll {
        Poll {
            arrived: ms(arrived),
            total,
            new_ids: ids.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn server_timing_headers_parse_and_model_the_cloud_latency() {
        let t = ServerTiming::parse(
            "db;dur=12.5, search;dur=3.0, provider;dur=1.0, awaited;dur=16.5, own;dur=2.5, total;dur=19.0, calls;desc=4, rounds;desc=3",
        )
        .expect("parses");
        assert_eq!(
            t,
            ServerTiming {
                own: 2.5,
                search: 3.0,
                provider: 1.0,
                total: 19.0,
                calls: 4,
                rounds: 3
            }
        );
        // 2.5 own + 3 rounds × 5 ms + 3 search + 1 provider.
        assert_eq!(t.modelled(5.0), 21.5);
        assert_eq!(ServerTiming::parse("db;dur=1"), None);
        assert_eq!(ServerTiming::parse("own;dur=x"), None);
        let summary = own_time_summary(&[
            t,
            ServerTiming {
                own: 10.0,
                rounds: 1,
                calls: 1,
                ..ServerTiming::default()
            },
        ])
        .expect("a summary");
        assert_eq!(summary.requests, 2);
        assert_eq!(summary.calls_max, 4);
        assert_eq!(summary.rounds_max, 3);
        assert_eq!(summary.own_p95, 10.0);
        // The p95 of 2.5 + 3 × 10 + 3 + 1 = 36.5 and 10 + 1 × 10 = 20 (nearest rank).
        assert_eq!(summary.modelled_p95, 36.5);
        let text = summary.text("add-to-cart", 30.0, 40.0);
        assert!(text.contains("SLO 100 ms: met"), "{text}");
        assert!(text.contains("| add-to-cart | 30.0 / 40.0 |"), "{text}");
        assert!(own_time_summary(&[]).is_none());
        assert_eq!(slo_ms("search"), Some(300.0));
        assert_eq!(slo_ms("import"), None);
    }

    #[test]
    fn arg_opt_tells_an_absent_flag_from_a_given_one() {
        let a = args("import --clients 4 --requests x");
        assert_eq!(arg_opt(&a, "--clients"), Some(4));
        assert_eq!(arg_opt(&a, "--requests"), None);
        assert_eq!(arg_opt(&a, "--lines"), None);
        assert_eq!(arg(&a, "--lines", 2), 2);
        assert_eq!(arg(&a, "--clients", 10), 4);
    }

    #[test]
    fn percentile_is_nearest_rank_in_ms() {
        assert_eq!(percentile(&[], 50.0), 0.0);
        assert_eq!(percentile(&[ms(7)], 95.0), 7.0);
        let sorted: Vec<Duration> = (0..=100).map(ms).collect();
        assert_eq!(percentile(&sorted, 50.0), 50.0);
        assert_eq!(percentile(&sorted, 95.0), 95.0);
        assert_eq!(percentile(&sorted, 100.0), 100.0);
        assert_eq!(percentile(&sorted, 0.0), 0.0);
    }

    #[test]
    fn the_marker_is_one_lowercase_word_of_letters() {
        assert_eq!(marker_word("import-3fa9b0c21d"), "importjfapbgcihd");
        let m = marker_word(&unique("import"));
        assert!(m.chars().all(|c| c.is_ascii_lowercase()), "{m}");
        assert!(m.len() <= 40, "{m}");
        assert_ne!(m, marker_word(&unique("import")));
    }

    #[test]
    fn listing_bodies_are_valid_and_carry_the_marker_and_number() {
        for seq in [1, 9_999, 10_000, 123_456] {
            let b = listing_body("importabc", seq);
            let title = b["title"].as_str().unwrap();
            assert!(title.split(' ').any(|w| w == "importabc"), "{title}");
            assert!(title.ends_with(&format!(" {seq}")), "{title}");
            assert!(title.len() <= 200);
            let price = b["price_cents"].as_i64().unwrap();
            assert!((1..=100_000_000).contains(&price));
            let quantity = b["quantity"].as_u64().unwrap();
            assert!((1..=10_000).contains(&quantity), "in stock, so searchable");
            assert_eq!(b["category"], "home-decor");
        }
    }

    #[test]
    fn a_listing_is_seen_at_the_first_page_holding_it() {
        let writes = [created("a", 0, 10), created("b", 5, 20)];
        let polls = [poll(15, 0, &[]), poll(30, 1, &["a"]), poll(40, 2, &["b"])];
        assert_eq!(
            assign_seen(&writes, &polls),
            [Seen::InPage(ms(30)), Seen::InPage(ms(40))]
        );
    }

    #[test]
    fn a_listing_never_in_a_page_is_seen_when_total_reaches_its_rank() {
        // Written in the order c (rank 1), a (rank 2), b (rank 3); a never shows in a page.
        let writes = [
            created("a", 0, 20),
            created("b", 0, 30),
            created("c", 0, 10),
        ];
        let polls = [
            poll(25, 1, &["c"]),
            poll(35, 1, &[]),
            // A degraded answer: total 0 does not undo what was reached.
            poll(45, 0, &[]),
            poll(55, 3, &["b"]),
        ];
        let seen = assign_seen(&writes, &polls);
        assert_eq!(
            seen,
            [
                Seen::ByTotal(ms(55)),
                Seen::InPage(ms(55)),
                Seen::InPage(ms(25))
            ]
        );
    }

    #[test]
    fn a_listing_neither_in_a_page_nor_counted_is_never_seen() {
        let writes = [created("a", 0, 10), created("b", 0, 20)];
        let polls = [poll(30, 1, &["a"])];
        assert_eq!(
            assign_seen(&writes, &polls),
            [Seen::InPage(ms(30)), Seen::Never]
        );
        assert_eq!(assign_seen(&writes, &[]), [Seen::Never, Seen::Never]);
        assert!(assign_seen(&[], &polls).is_empty());
    }

    #[test]
    fn search_is_complete_when_every_id_was_seen_or_total_covers_them() {
        let ids: Vec<String> = vec!["a".into(), "b".into()];
        let seen: HashSet<String> = ["a".to_owned()].into();
        assert!(!search_complete(&ids, &seen, 1));
        assert!(search_complete(&ids, &seen, 2));
        let all: HashSet<String> = ["a".to_owned(), "b".to_owned()].into();
        assert!(search_complete(&ids, &all, 0));
        assert!(search_complete(&[], &HashSet::new(), 0));
    }

    #[test]
    fn rates_and_thousands() {
        assert_eq!(per_second(10, Duration::from_secs(2)), 5.0);
        assert_eq!(per_second(10, Duration::ZERO), 0.0);
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(2_000), "2,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn summary_of_a_small_run() {
        // 3 listings: 201s at 100, 200, 300 ms (latencies 50, 60, 70 ms); a and b seen in pages,
        // c only by total.
        let writes = [
            created("a", 50, 100),
            created("b", 140, 200),
            created("c", 230, 300),
        ];
        let searched = Searched {
            polls: vec![
                poll(600, 1, &["a"]),
                poll(1_200, 2, &["b"]),
                poll(1_400, 3, &[]),
            ],
            latencies: vec![ms(20), ms(10), ms(30), ms(40)],
            statuses: [("GET search 503".to_owned(), 1)].into(),
            degraded: 0,
        };
        let write_statuses: BTreeMap<String, usize> = [("POST products 422".to_owned(), 2)].into();
        let s = summarize(5, 2, &writes, &searched, &write_statuses);
        assert_eq!(s.created, 3);
        assert_eq!(s.write_span, ms(200));
        assert_eq!(s.write_rate, 10.0, "2 intervals in 0.2 s");
        assert_eq!(s.create_ms, [60.0, 70.0, 70.0]);
        // Lags: a 500, b 1,000, c 1,100 ms.
        assert_eq!(s.lag_ms, [1_000.0, 1_100.0, 1_100.0]);
        assert_eq!((s.in_page, s.by_total, s.never), (2, 1, 0));
        // 3 searchable from the first 201 (100 ms) to the last seen (1,400 ms).
        assert!((s.searchable_rate - 3.0 / 1.3).abs() < 1e-9);
        assert_eq!(s.last_write_to_last_seen, Some(ms(1_100)));
        assert_eq!(s.searches, 4);
        assert_eq!(s.search_ms, [30.0, 40.0]);
        assert_eq!(
            statuses_text(&s.other_statuses),
            "GET search 503: 1, POST products 422: 2"
        );
        assert_eq!(last_searchable_text(&s), "1.10 s");

        let table = markdown(&s);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines[0],
            "| `make load SCENARIO=import CLIENTS=2 REQUESTS=5` | |"
        );
        assert_eq!(lines[1], "|---|---|");
        assert_eq!(lines.len(), 11);
        assert!(lines.iter().all(|l| l.starts_with('|') && l.ends_with('|')));
        assert!(table.contains("| Listings created | 3 of 5 (2 clients) |"));
        assert!(table.contains("| Write throughput (first to last 201) | 10.0 listings/s |"));
        assert!(table.contains(
            "| Freshness lag (201 → searchable) p50 / p95 / max | 1.00 / 1.10 / 1.10 s |"
        ));
        assert!(table.contains("| Lag measured by | id in a page: 2, `total` ≥ rank: 1 |"));
    }

    #[test]
    fn summary_says_what_never_became_searchable() {
        let writes = [created("a", 0, 100), created("b", 0, 200)];
        let searched = Searched {
            polls: vec![poll(500, 1, &["a"])],
            ..Searched::default()
        };
        let s = summarize(2, 1, &writes, &searched, &BTreeMap::new());
        assert_eq!((s.in_page, s.by_total, s.never), (1, 0, 1));
        assert_eq!(s.lag_ms, [400.0, 400.0, 400.0]);
        assert_eq!(
            last_searchable_text(&s),
            "1 of 2 never searchable (120 s after the last write)"
        );
        assert_eq!(statuses_text(&s.other_statuses), "none");
        assert!(
            markdown(&s)
                .contains("| Lag measured by | id in a page: 1, `total` ≥ rank: 0, never: 1 |")
        );
        let none_seen = summarize(2, 1, &writes, &Searched::default(), &BTreeMap::new());
        let table = markdown(&none_seen);
        assert!(
            table.contains(
                "| Freshness lag (201 → searchable) p50 / p95 / max | – (none searchable) |"
            ),
            "{table}"
        );
        assert!(
            table.contains("| Searchable throughput (first 201 → last searchable) | – |"),
            "{table}"
        );
        let empty = summarize(0, 8, &[], &Searched::default(), &BTreeMap::new());
        assert_eq!(
            (empty.created, empty.write_rate, empty.searchable_rate),
            (0, 0.0, 0.0)
        );
        assert_eq!(empty.last_write_to_last_seen, None);
    }
}
