//! Cold start: [`bazaar_lambda::Env`], the SQS client and the queue URLs once (see
//! [`relay::Relay::from_env`]); then the relay for every batch of the table's stream.

#[tokio::main]
async fn main() -> Result<(), bazaar_lambda::BoxError> {
    let env = bazaar_lambda::Env::load_worker("relay").await?;
    bazaar_lambda::serve_stream(relay::Relay::from_env(&env)?).await
}
