//! Cold start: [`bazaar_lambda::Env`] once; then [`trending::Job`] for every scheduled invocation.

#[tokio::main]
async fn main() -> Result<(), bazaar_lambda::BoxError> {
    let env = bazaar_lambda::Env::load_worker("trending").await?;
    bazaar_lambda::serve_schedule(trending::Job::new(env.table.trending())).await
}
