#![recursion_limit = "256"]

//! Cold start: [`bazaar_lambda::Env`] and the payment provider once; then [`reconcile::Job`]
//! for every scheduled invocation.

#[tokio::main]
async fn main() -> Result<(), bazaar_lambda::BoxError> {
    let env = bazaar_lambda::Env::load_worker("reconcile").await?;
    let (gateway, payouts) = (env.payment_provider().await?, env.payouts_provider().await?);
    bazaar_lambda::serve_schedule(reconcile::Job::new(env.table.payments(), gateway, payouts)).await
}
