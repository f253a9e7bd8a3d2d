//! The baseline of `make coldstart` (infra/coldstart): the smallest `lambda_runtime`
//! function — no logging set-up, no configuration, no clients — answering its event as it came.
//! Built in the same `cargo build --release` as the functions, so with the same profile.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(lambda_runtime::service_fn(
        |event: lambda_runtime::LambdaEvent<serde_json::Value>| async move {
            Ok::<_, lambda_runtime::Error>(event.payload)
        },
    ))
    .await
}
