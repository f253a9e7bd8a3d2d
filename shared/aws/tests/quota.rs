//! Per-user write quotas against the AWS emulator (moto: `AWS_ENDPOINT_URL`), on their own table:
//! racing writers of one user never get more than the limit counted in a window.

use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use bazaar_aws::quota::DynamoQuota;
use bazaar_domain::ports::QuotaStore;
use bazaar_domain::quota::{Limit, QuotaClass, QuotaService, Quotas};

async fn fresh_quota(test: &str) -> DynamoQuota {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| {
        panic!("these tests need the AWS emulator: set AWS_ENDPOINT_URL to a running moto (`make test` does)")
    });
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "emulator"))
        .load()
        .await;
    let client = bazaar_aws::table::client(&sdk);
    let name = format!(
        "t-{test}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("attribute")
    };
    let key = |n: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .expect("key")
    };
    client
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk"))
        .attribute_definitions(attr("sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .send()
        .await
        .expect("table created");
    DynamoQuota::new(client, name)
}

/// 40 racing writes of one user against a limit of 25: exactly 25 counted, the rest refused;
/// the next window and another user start from zero.
#[tokio::test]
async fn racing_writes_never_pass_the_limit() {
    let store = fresh_quota("quota-race").await;
    let limit = Limit::new(25, 60);
    let results = futures::future::join_all(
        (0..40).map(|_| store.spend("ada", QuotaClass::Cart, limit, 1_200)),
    )
    .await;
    let counted = results
        .into_iter()
        .map(|r| r.expect("no error"))
        .filter(|ok| *ok)
        .count();
    assert_eq!(counted, 25);
    assert!(
        !store
            .spend("ada", QuotaClass::Cart, limit, 1_200)
            .await
            .expect("spend")
    );
    assert!(
        store
            .spend("ada", QuotaClass::Cart, limit, 1_260)
            .await
            .expect("next window")
    );
    assert!(
        store
            .spend("bob", QuotaClass::Cart, limit, 1_200)
            .await
            .expect("another user")
    );
    assert!(
        store
            .spend("ada", QuotaClass::Checkout, limit, 1_200)
            .await
            .expect("another class")
    );
}

/// The service over the real store: the write past the limit is `429 rate_limited` with a
/// `retry_after` within the window.
#[tokio::test]
async fn the_service_answers_429_past_the_limit() {
    let quota = QuotaService::new(
        fresh_quota("quota-service").await,
        Quotas::parse("reviews=2/3600").expect("quotas"),
    );
    quota.spend("ada", QuotaClass::Reviews).await.expect("1");
    quota.spend("ada", QuotaClass::Reviews).await.expect("2");
    let err = quota
        .spend("ada", QuotaClass::Reviews)
        .await
        .expect_err("3 is over");
    let problem = err.problem();
    assert_eq!((problem.status, problem.code), (429, "rate_limited"));
    let retry = problem.extra["retry_after"].as_u64().expect("retry_after");
    assert!((1..=3600).contains(&retry), "{retry}");
}
