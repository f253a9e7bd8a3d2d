//! Cold start: [`bazaar_lambda::Env`] once; then [`favorites::App`] for every request.

#[tokio::main]
async fn main() -> Result<(), bazaar_lambda::BoxError> {
    let env = bazaar_lambda::Env::load("favorites").await?;
    bazaar_lambda::serve_http(favorites::App::new(
        env.table.favorites(),
        env.table.quota(),
        &env.config,
    ))
    .await
}
