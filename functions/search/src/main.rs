//! Cold start: [`bazaar_lambda::Env`], the search engine, the DynamoDB fallback listing and the
//! circuit breaker once; then [`search::App`] for every request.

#[tokio::main]
async fn main() -> Result<(), bazaar_lambda::BoxError> {
    let env = bazaar_lambda::Env::load("search").await?;
    let (engine, listing) = (env.search_engine().await?, env.table.listing());
    let app = search::App::new(engine, listing, Default::default(), &env.config.service);
    bazaar_lambda::serve_http(app).await
}
