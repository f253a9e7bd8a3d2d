//! Cold start: [`bazaar_lambda::Env`] and the per-instance shop cache once; then
//! [`catalog::App`] for every request.

#[tokio::main]
async fn main() -> Result<(), bazaar_lambda::BoxError> {
    let env = bazaar_lambda::Env::load("catalog").await?;
    let (table, config) = (&env.table, &env.config);
    let app = catalog::App::new(
        bazaar_domain::cache::CachedCatalog::new(table.catalog()),
        table.discovery(),
        table.quota(),
        config,
    );
    bazaar_lambda::serve_http(app).await
}
