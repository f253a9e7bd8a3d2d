//! A small load generator for the local stack (`make load`, with `make dev` running).
//!
//! ```text
//! load [add-to-cart|get-product|checkout|feed|feed-anonymous] [--clients N] [--requests N] [--products N] [--lines N] [--rps N]
//! ```
//! `add-to-cart`: every request is a new buyer adding one unit of one of `--products` listings
//! (stock 10,000 each) created for the run — the hot path of the cart. `get-product`: anonymous
//! reads of those listings. `checkout`: every request is a new buyer who puts `--lines` listings
//! in the cart (not timed) and checks out (timed). `feed`: `GET /feed` of signed-in users who each
//! favorited 3 and viewed 5 products of the seeded catalog (not timed), so every feed is
//! personalized; `feed-anonymous`: the anonymous (trending) feed. Prints p50/p95/p99 latency,
//! throughput and the status mix. `--rps N` paces the requests (an open loop at N requests per
//! second over the clients) instead of sending each as soon as a client is free.
//! Talks only to `BAZAAR_API_URL` (default http://127.0.0.1:9000).

use bazaar_e2e::{Client, unique};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

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
                let status = match scenario.as_str() {
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
                        let status = buyer
                            .post_with("/checkout", &[("idempotency-key", &key)], body)
                            .await
                            .status;
                        samples.push(t.elapsed());
                        *statuses.entry(status).or_default() += 1;
                        continue;
                    }
                    "feed" => readers[n % readers.len()].get("/feed").await.status,
                    "feed-anonymous" => Client::anonymous().get("/feed").await.status,
                    "get-product" => {
                        Client::anonymous()
                            .get(&format!("/products/{id}"))
                            .await
                            .status
                    }
                    _ => {
                        Client::as_user(&unique("load-buyer"))
                            .post("/cart/items", json!({"product_id": id}))
                            .await
                            .status
                    }
                };
                samples.push(t.elapsed());
                *statuses.entry(status).or_default() += 1;
            }
            (samples, statuses)
        }));
    }
    let mut samples = Vec::new();
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for task in tasks {
        let (s, st) = task.await.expect("client task");
        samples.extend(s);
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
