//! Cold start: [`bazaar_lambda::Env`] and the search engine once (see
//! [`indexer::Indexer::from_env`]); then the indexer for every SQS batch.

#[tokio::main]
async fn main() -> Result<(), bazaar_lambda::BoxError> {
    let env = bazaar_lambda::Env::load_worker("indexer").await?;
    bazaar_lambda::serve_messages(indexer::Indexer::from_env(&env).await?).await
}
