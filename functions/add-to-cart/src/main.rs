//! Cold start: [`bazaar_lambda::Env`] once; then [`add_to_cart::App`] for every request.

#[tokio::main]
async fn main() -> Result<(), bazaar_lambda::BoxError> {
    let env = bazaar_lambda::Env::load("add-to-cart").await?;
    bazaar_lambda::serve_http(add_to_cart::App::new(env.table.cart(), &env.config)).await
}
