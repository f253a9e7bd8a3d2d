//! Rebuilding a search index from the table: for a new OpenSearch domain, a lost or corrupted
//! index, or the local stack after seeding. Every product is written with its version, so running
//! it against a live index is safe: documents the indexer already has at a newer version stay.

use bazaar_aws::source::TableSource;
use bazaar_domain::ports::SearchIndex;
use bazaar_domain::search::{Applied, IndexChange, SearchDoc};
use std::time::{Duration, Instant};

/// Documents per bulk request.
pub const CHUNK: usize = 1_000;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub read: usize,
    pub indexed: usize,
    pub stale: usize,
    pub read_time: Duration,
    pub index_time: Duration,
}

/// Creates the index if needed, reads every product and applies them in bulks of [`CHUNK`].
pub async fn reindex(
    engine: &impl SearchIndex,
    source: &TableSource,
) -> Result<Report, Box<dyn std::error::Error + Send + Sync>> {
    let started = Instant::now();
    let docs = source.all_documents().await?;
    let read_time = started.elapsed();
    let mut report = index_documents(engine, docs).await?;
    report.read_time = read_time;
    Ok(report)
}

/// Creates the index if needed and applies `docs` in bulks of [`CHUNK`] (the seed indexes what it
/// wrote this way, without reading the table back).
pub async fn index_documents(
    engine: &impl SearchIndex,
    docs: Vec<SearchDoc>,
) -> Result<Report, Box<dyn std::error::Error + Send + Sync>> {
    engine.prepare().await?;
    let mut report = Report {
        read: docs.len(),
        ..Report::default()
    };
    let started = Instant::now();
    for chunk in docs.chunks(CHUNK) {
        let outcomes = engine
            .apply(chunk.iter().cloned().map(IndexChange::Upsert).collect())
            .await?;
        for (outcome, doc) in outcomes.iter().zip(chunk) {
            match outcome {
                Applied::Indexed => report.indexed += 1,
                Applied::Stale => report.stale += 1,
                Applied::Failed(reason) => {
                    return Err(format!("indexing product {} failed: {reason}", doc.id).into());
                }
            }
        }
    }
    report.index_time = started.elapsed();
    Ok(report)
}
