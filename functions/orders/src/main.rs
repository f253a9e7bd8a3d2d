//! Cold start: [`bazaar_lambda::Env`] once; then [`orders::App`] for every request.

#[tokio::main]
async fn main() -> Result<(), bazaar_lambda::BoxError> {
    let env = bazaar_lambda::Env::load("orders").await?;
    let (table, config) = (&env.table, &env.config);
    bazaar_lambda::serve_http(orders::App::new(table.orders(), table.quota(), config)).await
}
