//! Cold start: [`bazaar_lambda::Env`] once; then [`cart::App`] for every request.

#[tokio::main]
async fn main() -> Result<(), bazaar_lambda::BoxError> {
    let env = bazaar_lambda::Env::load("cart").await?;
    bazaar_lambda::serve_http(cart::App::new(env.table.cart(), &env.config)).await
}
