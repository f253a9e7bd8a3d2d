//! Support for integration tests that run against the AWS emulator over the real wire protocol.
//! Each test provisions its own table (named after the test plus a random suffix) from
//! template.yaml, so tests run in parallel without seeing each other's data.

use crate::local::create_table;
use crate::template::Template;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{Credentials, Region};

/// The emulator's endpoint (`AWS_ENDPOINT_URL`), which `make test` sets after starting moto.
pub fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| {
        panic!("integration tests need the AWS emulator: run them with `make test` (or set AWS_ENDPOINT_URL to a running moto)")
    })
}

/// SDK configuration for the emulator: its endpoint, a fixed region and dummy credentials.
pub async fn emulator_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "emulator"))
        .load()
        .await
}

/// A DynamoDB client for the emulator (counting its calls, like the functions' clients).
pub async fn dynamo() -> Client {
    bazaar::dynamo::client(&emulator_config().await)
}

/// A new, empty table with the template's `Table` schema, unique to the calling test.
pub async fn fresh_table(test: &str) -> (Client, String) {
    let client = dynamo().await;
    let template = Template::load_repo().expect("template.yaml parses");
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let name = format!(
        "t-{}-{}",
        test.replace(|c: char| !c.is_ascii_alphanumeric(), "-"),
        &suffix[..12]
    );
    create_table(&client, &template, "Table", &name)
        .await
        .expect("table provisioned from template.yaml");
    (client, name)
}

/// Asserts that a function's route table serves exactly the routes template.yaml sends to it.
pub fn assert_routes_match<T>(function: &str, table: &[(bazaar::http::Route, T)]) {
    let template = Template::load_repo().expect("template.yaml parses");
    let mut from_template: Vec<(String, String)> = template
        .http_routes()
        .expect("routes")
        .into_iter()
        .filter(|r| r.function == function)
        .map(|r| (r.method, r.path))
        .collect();
    let mut from_code: Vec<(String, String)> = table
        .iter()
        .map(|(r, _)| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    from_template.sort();
    from_code.sort();
    assert_eq!(
        from_code, from_template,
        "{function}: its route table and template.yaml disagree"
    );
}
