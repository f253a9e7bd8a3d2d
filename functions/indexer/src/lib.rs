//! The indexer: `product.*` events from the product events queue → the search index, one bulk per
//! SQS batch. Every event carries the product's version and the engine applies only newer
//! versions, so redelivered and out-of-order messages (SQS standard queues reorder) never undo a
//! newer state. The shops of the batch are read once (one BatchGetItem) for their names and
//! ranking signals.
//!
//! A message that cannot be read, whose shop is missing, or that the engine failed is reported as a
//! batch item failure: SQS redelivers it, and after the queue's `maxReceiveCount` it lands in the
//! DLQ (alarmed) — nothing is dropped silently.

use aws_lambda_events::event::sqs::SqsMessage;
use bazaar_aws::personalize::trending::DynamoTrending;
use bazaar_aws::source::TableSource;
use bazaar_domain::events::{ProductChange, ProductChanged};
use bazaar_domain::ports::SearchIndex;
use bazaar_domain::search::{Applied, IndexChange, SearchDoc};
use bazaar_lambda::Env;
use bazaar_lambda::batch::BatchHandler;
use std::collections::HashSet;

pub struct Indexer<S> {
    engine: S,
    source: TableSource,
    /// The stored trending lists, from which sold-out and deleted products are taken out.
    trending: Option<DynamoTrending>,
}

impl Indexer<bazaar_search::Engine> {
    /// The indexer of the configured engine (whose index it creates, with its settings and
    /// mappings, on a new domain: a no-op afterwards), evicting from the stored trending lists.
    pub async fn from_env(env: &Env) -> Result<Self, bazaar_lambda::BoxError> {
        let engine = env.search_engine().await?;
        engine.prepare().await?;
        Ok(Indexer::new(engine, env.table.source()).evicting_from(env.table.trending()))
    }
}

impl<S: SearchIndex> Indexer<S> {
    pub fn new(engine: S, source: TableSource) -> Self {
        Indexer {
            engine,
            source,
            trending: None,
        }
    }

    /// Also takes sold-out and deleted products out of the stored trending lists, so that they do
    /// not wait up to 15 minutes for the next run (the seeds invalidated `trending:*` on a sale).
    pub fn evicting_from(mut self, trending: DynamoTrending) -> Self {
        self.trending = Some(trending);
        self
    }

    pub fn engine(&self) -> &S {
        &self.engine
    }

    fn respond(&self, failed: Vec<String>, indexed: u64, stale: u64) -> Vec<String> {
        bazaar_domain::metrics::Metrics::new("indexer")
            .count("ProductsIndexed", indexed)
            .count("StaleProductEvents", stale)
            .count("IndexFailures", failed.len() as u64)
            .emit();
        failed
    }
}

impl<S: SearchIndex> BatchHandler for Indexer<S> {
    /// Handles one SQS batch in one bulk, reporting only the messages that failed.
    async fn handle_batch(&self, messages: Vec<SqsMessage>) -> Vec<String> {
        let mut failed: Vec<String> = Vec::new();
        let mut events: Vec<(String, ProductChanged)> = Vec::new();
        for message in messages {
            let id = message.message_id.clone().unwrap_or_default();
            match message
                .body
                .as_deref()
                .ok_or_else(|| "empty message".to_owned())
                .and_then(|b| serde_json::from_str::<ProductChanged>(b).map_err(|e| e.to_string()))
            {
                Ok(e) => events.push((id, e)),
                Err(reason) => {
                    tracing::error!(message_id = %id, %reason, "unreadable product event");
                    failed.push(id);
                }
            }
        }

        let shop_ids = events
            .iter()
            .filter_map(|(_, e)| e.product.as_ref().map(|p| p.shop_id.as_str()));
        let shops = match self.source.shops(shop_ids).await {
            Ok(shops) => shops,
            Err(err) => {
                tracing::error!(error = %err, "reading the batch's shops failed; the batch will be retried");
                failed.extend(events.into_iter().map(|(id, _)| id));
                return self.respond(failed, 0, 0);
            }
        };

        let gone: HashSet<String> = events
            .iter()
            .filter(|(_, e)| matches!(e.kind, ProductChange::Sold | ProductChange::Deleted))
            .map(|(_, e)| e.product_id.clone())
            .collect();
        let mut changes = Vec::with_capacity(events.len());
        let mut owners = Vec::with_capacity(events.len());
        for (id, e) in events {
            let change = match (e.kind, &e.product) {
                (ProductChange::Deleted, _) => IndexChange::Remove {
                    id: e.product_id.clone(),
                    version: e.version,
                },
                (_, Some(p)) => match shops.get(&p.shop_id) {
                    Some(shop) => IndexChange::Upsert(SearchDoc::new(&p.to_product(), shop)),
                    None => {
                        tracing::error!(message_id = %id, product_id = %p.id, shop_id = %p.shop_id, "the product's shop does not exist");
                        failed.push(id);
                        continue;
                    }
                },
                (_, None) => {
                    tracing::error!(message_id = %id, "a product event without its product");
                    failed.push(id);
                    continue;
                }
            };
            changes.push(change);
            owners.push(id);
        }

        let (mut indexed, mut stale) = (0, 0);
        match self.engine.apply(changes).await {
            Ok(outcomes) => {
                for (outcome, id) in outcomes.into_iter().zip(owners) {
                    match outcome {
                        Applied::Indexed => indexed += 1,
                        Applied::Stale => stale += 1,
                        Applied::Failed(reason) => {
                            tracing::warn!(message_id = %id, %reason, "indexing failed; it will be retried");
                            failed.push(id);
                        }
                    }
                }
            }
            Err(err) => {
                tracing::error!(error = %err, "the search engine failed the batch; it will be retried");
                failed.extend(owners);
            }
        }
        if let Some(trending) = &self.trending
            && !gone.is_empty()
        {
            // Best effort: the next run of the trending job leaves them out anyway.
            let ids: HashSet<&str> = gone.iter().map(String::as_str).collect();
            if let Err(err) = trending.evict(&ids).await {
                tracing::warn!(error = %err, "taking sold-out products out of the trending lists failed");
                bazaar_domain::metrics::Metrics::new("indexer")
                    .count("TrendingEvictionFailures", 1)
                    .emit();
            }
        }
        self.respond(failed, indexed, stale)
    }
}
