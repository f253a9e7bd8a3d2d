//! Cold start: [`bazaar_lambda::Env`] once; then [`recommender::Recommender`] for every SQS batch.

#[tokio::main]
async fn main() -> Result<(), bazaar_lambda::BoxError> {
    let env = bazaar_lambda::Env::load_worker("recommender").await?;
    bazaar_lambda::serve_messages(recommender::Recommender::new(env.table.also_bought())).await
}
