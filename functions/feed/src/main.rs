//! Cold start: [`bazaar_lambda::Env`] and the search engine once; then [`feed::App`] for every
//! request (`GET /feed`, `GET /trending`).

#[tokio::main]
async fn main() -> Result<(), bazaar_lambda::BoxError> {
    let env = bazaar_lambda::Env::load("feed").await?;
    let engine = env.search_engine().await?;
    bazaar_lambda::serve_http(feed::App::new(
        bazaar_domain::cache::CachedFeed::new(env.table.feed()),
        engine,
        &env.config,
    ))
    .await
}
