//! Cold start: [`bazaar_lambda::Env`] once (and `FAULT_INJECTION`, see [`checkout::Faults`]);
//! then [`checkout::App`] for every request.

#[tokio::main]
async fn main() -> Result<(), bazaar_lambda::BoxError> {
    let env = bazaar_lambda::Env::load("checkout").await?;
    let (t, config) = (&env.table, &env.config);
    let faults = checkout::Faults::from_env(config);
    let provider = env.payment_provider().await?;
    let app = checkout::App::new(t.checkout(), provider, t.idempotency(), faults, config)
        .with_fee_bps(env.marketplace_fee_bps()?);
    bazaar_lambda::serve_http(app).await
}
