//! Benchmark of the embedded search engine on the seeded catalog (10,000 and 100,000 products):
//! indexing throughput (bulks of 1,000, as the reindex command writes them) and query latency
//! percentiles over a mix of the queries buyers type (synonyms, typos, filters, sorts, browsing),
//! then criterion's per-query measurements.
//!
//! `cargo bench -p bazaar-infra --bench search` (add `-- --quick` for a shorter criterion run).

use bazaar_domain::search::{IndexChange, SearchDoc, SearchQuery, Sort};
use bazaar_infra::seed::domain_catalog;
use bazaar_infra::seed_data::generate;
use bazaar_search::embedded::EmbeddedIndex;
use chrono::Utc;
use criterion::Criterion;
use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

fn documents(products: usize) -> Vec<SearchDoc> {
    let catalog = generate((products / 100).max(1), products, 42);
    let (shops, products) = domain_catalog(&catalog, Utc::now());
    let shops: HashMap<_, _> = shops.iter().map(|s| (s.id.clone(), s)).collect();
    products
        .iter()
        .filter_map(|p| Some(SearchDoc::new(p, shops.get(&p.shop_id)?)))
        .collect()
}

/// The query mix: (name, query).
fn queries() -> Vec<(&'static str, SearchQuery)> {
    let q = |text: Option<&str>| SearchQuery {
        text: text.map(str::to_owned),
        page: 1,
        page_size: 24,
        now: Utc::now(),
        ..SearchQuery::default()
    };
    let mut filtered = q(Some("silver necklace"));
    filtered.category = Some("jewelry".into());
    filtered.min_price_cents = Some(2_500);
    filtered.max_price_cents = Some(10_000);
    let mut vintage = q(Some("antique"));
    vintage.vintage = Some(true);
    let mut sorted = q(Some("mug"));
    sorted.sort = Sort::PriceAsc;
    let mut deep = q(Some("leather"));
    deep.page = 20;
    let mut newest = q(None);
    newest.sort = Sort::Newest;
    vec![
        ("two words", q(Some("leather wallet"))),
        ("synonym", q(Some("billfold"))),
        ("typo", q(Some("neckalce"))),
        ("typos, 2 words", q(Some("lether walet"))),
        ("phrase synonym", q(Some("sterling silver earrings"))),
        ("filters", filtered),
        ("vintage filter", vintage),
        ("price sort", sorted),
        ("page 20", deep),
        ("browse all", q(None)),
        ("browse newest", newest),
    ]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let mut criterion = Criterion::default()
        .configure_from_args()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    println!("| products | indexing | index size | query p50 | p95 | p99 | max |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for n in [10_000usize, 100_000] {
        let docs = documents(n);
        let dir = std::env::temp_dir().join(format!("bazaar-bench-{n}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let index = EmbeddedIndex::open(&dir).expect("index");
        let started = Instant::now();
        for chunk in docs.chunks(1_000) {
            index
                .apply_blocking(chunk.iter().cloned().map(IndexChange::Upsert).collect())
                .expect("indexed");
        }
        let indexing = started.elapsed();
        let size: u64 = std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(|e| e.ok()?.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0);

        let mix = queries();
        // Warm up (first touches of the mmap'd files), then 60 rounds of the whole mix.
        for (_, q) in &mix {
            index.search_blocking(q).expect("search");
        }
        let mut all = Vec::new();
        let mut per_query: Vec<Vec<Duration>> = vec![Vec::new(); mix.len()];
        for _ in 0..60 {
            for (i, (_, q)) in mix.iter().enumerate() {
                let t = Instant::now();
                black_box(index.search_blocking(q).expect("search"));
                let d = t.elapsed();
                all.push(d);
                per_query[i].push(d);
            }
        }
        all.sort();
        println!(
            "| {n} | {:.0} docs/s ({:.1} s) | {:.1} MB | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms |",
            n as f64 / indexing.as_secs_f64(),
            indexing.as_secs_f64(),
            size as f64 / 1e6,
            ms(percentile(&all, 0.50)),
            ms(percentile(&all, 0.95)),
            ms(percentile(&all, 0.99)),
            ms(*all.last().unwrap_or(&Duration::ZERO)),
        );
        for (i, (name, _)) in mix.iter().enumerate() {
            let mut d = per_query[i].clone();
            d.sort();
            eprintln!(
                "  {n:>6} {name:<16} p50 {:>6.2} ms  p95 {:>6.2} ms",
                ms(percentile(&d, 0.5)),
                ms(percentile(&d, 0.95))
            );
        }

        let mut group = criterion.benchmark_group(format!("search_{n}"));
        for (name, q) in &mix {
            group.bench_function(*name, |b| {
                b.iter(|| black_box(index.search_blocking(q).expect("search")))
            });
        }
        group.finish();
        drop(index);
        let _ = std::fs::remove_dir_all(&dir);
    }
    criterion.final_summary();
}
