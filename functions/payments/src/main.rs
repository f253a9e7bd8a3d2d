//! Cold start: [`bazaar_lambda::Env`], the payment provider and the webhook secret once; then
//! [`payments::App`] for every request.

#[tokio::main]
async fn main() -> Result<(), bazaar_lambda::BoxError> {
    let env = bazaar_lambda::Env::load("payments").await?;
    let providers = (env.payment_provider().await?, env.payouts_provider().await?);
    let verifier = env.webhook_verifier().await?;
    let return_url = std::env::var("PAYOUTS_RETURN_URL").unwrap_or_default();
    let app = payments::App::new(
        env.table.payments(),
        providers,
        verifier,
        &return_url,
        &env.config,
    );
    bazaar_lambda::serve_http(app).await
}
