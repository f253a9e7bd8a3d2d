//! Cold start: [`bazaar_lambda::Env`] and the payment provider once; then [`settlement::Settlement`]
//! for every SQS batch.

#[tokio::main]
async fn main() -> Result<(), bazaar_lambda::BoxError> {
    let env = bazaar_lambda::Env::load_worker("settlement").await?;
    let (gateway, payouts) = (env.payment_provider().await?, env.payouts_provider().await?);
    bazaar_lambda::serve_messages(settlement::Settlement::new(
        env.table.payments(),
        gateway,
        payouts,
    ))
    .await
}
