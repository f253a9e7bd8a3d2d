//! Integration tests of the notifier against the emulator (DynamoDB and SES v2 over the wire):
//! partial batch failures, idempotency on redelivery, and e-mail exactly when one is owed.

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use aws_sdk_dynamodb::types::AttributeValue;
use bazaar_aws::ses::SesMailer;
use bazaar_aws::table::Table;
use bazaar_lambda::batch::BatchHandler;
use notifier::Notifier;
use serde_json::{Value, json};

const SENDER: &str = "orders@bazaar.example";

fn message(id: &str, body: &str) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(id.to_owned());
    m.body = Some(body.to_owned());
    m
}

fn event(order_id: &str, owner: &str, email: Option<&str>) -> String {
    let mut e = json!({
        "type": "order.created", "event_id": format!("{order_id}:order.created"), "order_id": order_id,
        "checkout_id": "c1", "buyer_id": "buyer", "shop_id": "s1", "shop_name": "The Copper Kiln", "owner_id": owner,
        "item_count": 2, "total_cents": 9050, "created_at": "2026-11-21T06:00:00.000Z", "version": 1
    });
    if let Some(email) = email {
        e["owner_email"] = json!(email);
    }
    e.to_string()
}

fn batch(messages: Vec<SqsMessage>) -> SqsEvent {
    let mut e = SqsEvent::default();
    e.records = messages;
    e
}

/// How many e-mails the emulator's SES has sent (SES `GetSendQuota` → `SentLast24Hours`). The
/// emulator does not check signatures, so a well-formed unsigned query is enough.
async fn emails_sent() -> f64 {
    let body = reqwest::Client::new()
        .post(bazaar_infra::testing::endpoint())
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20261121/us-east-1/ses/aws4_request, SignedHeaders=host, Signature=0",
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body("Action=GetSendQuota&Version=2010-12-01")
        .send()
        .await
        .expect("ses answers")
        .text()
        .await
        .expect("text");
    body.split("<SentLast24Hours>")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected GetSendQuota answer: {body}"))
}

/// The send counter is global to the emulator: tests that send take turns.
static SES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn notifications(dynamo: &aws_sdk_dynamodb::Client, table: &str, owner: &str) -> Vec<Value> {
    let out = dynamo
        .query()
        .table_name(table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(format!("NOTIFY#{owner}")))
        .send()
        .await
        .expect("query");
    out.items
        .unwrap_or_default()
        .into_iter()
        .map(|i| serde_dynamo::from_item::<_, Value>(i).expect("item"))
        .collect()
}

#[tokio::test]
async fn notifies_sellers_once_and_reports_only_the_poison() {
    let _turn = SES.lock().await;
    let (dynamo, table) = bazaar_infra::testing::fresh_table("notifier").await;
    let sdk = bazaar_infra::testing::emulator_config().await;
    let ses = aws_sdk_sesv2::Client::new(&sdk);
    ses.create_email_identity()
        .email_identity(SENDER)
        .send()
        .await
        .expect("sender verified");
    let notifier = Notifier::new(
        Table::new(dynamo.clone(), &table).notifications(),
        Some(SesMailer {
            client: ses,
            sender: SENDER.into(),
        }),
    );
    let suffix = uuid_suffix();
    let owner = format!("kiln-{suffix}");
    let email = format!("kiln-{suffix}@example.com");
    let quiet = format!("quiet-{suffix}");
    let before = emails_sent().await;

    let good = event(&format!("o1-{suffix}"), &owner, Some(&email));
    let response = notifier
        .handle(batch(vec![
            message("m1", &good),
            message("m2", "{not json"),
            message("m3", &event(&format!("o2-{suffix}"), &quiet, None)),
            message("m4", r#"{"type": "order.refunded"}"#),
        ]))
        .await;
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["m2", "m4"], "only the unreadable messages fail");
    let notes = notifications(&dynamo, &table, &owner).await;
    assert_eq!(notes.len(), 1);
    assert_eq!(
        notes[0]["message"],
        "New order for The Copper Kiln: 2 items, $90.50."
    );
    assert_eq!(notes[0]["email_pending"], false);
    assert_eq!(
        emails_sent().await - before,
        1.0,
        "one e-mail, to the seller with an address"
    );
    assert_eq!(
        notifications(&dynamo, &table, &quiet).await.len(),
        1,
        "no address: notified, not e-mailed"
    );

    // Redelivery: nothing new, no second e-mail.
    let response = notifier.handle(batch(vec![message("m1", &good)])).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(notifications(&dynamo, &table, &owner).await.len(), 1);
    assert_eq!(emails_sent().await - before, 1.0, "no second e-mail");
}

/// An e-mail that could not be sent is owed: the message fails, and the retry sends it once.
#[tokio::test]
async fn a_failed_send_is_retried_not_repeated() {
    let _turn = SES.lock().await;
    let (dynamo, table) = bazaar_infra::testing::fresh_table("notifier-retry").await;
    let sdk = bazaar_infra::testing::emulator_config().await;
    let ses = aws_sdk_sesv2::Client::new(&sdk);
    let suffix = uuid_suffix();
    let sender = format!("unverified-{suffix}@bazaar.example");
    let email = format!("loom-{suffix}@example.com");
    let notifier = Notifier::new(
        Table::new(dynamo.clone(), &table).notifications(),
        Some(SesMailer {
            client: ses.clone(),
            sender: sender.clone(),
        }),
    );
    let body = event(
        &format!("o3-{suffix}"),
        &format!("loom-{suffix}"),
        Some(&email),
    );
    let before = emails_sent().await;
    // SES refuses an unverified sender: the message is reported failed, the e-mail stays owed.
    let response = notifier.handle(batch(vec![message("m1", &body)])).await;
    assert_eq!(response.batch_item_failures.len(), 1);
    assert_eq!(
        notifications(&dynamo, &table, &format!("loom-{suffix}")).await[0]["email_pending"],
        true
    );
    ses.create_email_identity()
        .email_identity(&sender)
        .send()
        .await
        .expect("verified now");
    let response = notifier.handle(batch(vec![message("m1", &body)])).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(emails_sent().await - before, 1.0);
    let response = notifier.handle(batch(vec![message("m1", &body)])).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(emails_sent().await - before, 1.0, "sent once");
}

fn uuid_suffix() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    )
}
