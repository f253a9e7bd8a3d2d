//! Cold start: [`bazaar_lambda::Env`] once (see [`notifier::Notifier::from_env`]); then the
//! notifier for every SQS batch.

#[tokio::main]
async fn main() -> Result<(), bazaar_lambda::BoxError> {
    let env = bazaar_lambda::Env::load_worker("notifier").await?;
    bazaar_lambda::serve_messages(notifier::Notifier::from_env(&env)).await
}
