//! The payment flows run against a Stripe API (localstripe, or Stripe's test mode): shared by
//! `stripe_localstripe.rs` and `stripe_test_mode.rs`.

use bazaar_aws::stripe::StripeClient;
use bazaar_domain::error::Error;
use bazaar_domain::payments::{Authorization, AuthorizeRequest, IntentStatus, keys};
use bazaar_domain::ports::PaymentGateway;
use std::time::Duration;

/// A fresh checkout id, so that runs never meet each other's idempotency keys.
pub fn checkout_id() -> String {
    format!("chk_{}", uuid::Uuid::new_v4().simple())
}

pub fn request(checkout_id: &str, method: &str, amount_cents: i64) -> AuthorizeRequest {
    AuthorizeRequest {
        checkout_id: checkout_id.to_owned(),
        buyer_id: "usr_flows".into(),
        amount_cents,
        method: method.to_owned(),
        idempotency_key: keys::authorize(checkout_id, &uuid::Uuid::new_v4().simple().to_string()),
    }
}

pub async fn authorize(
    client: &StripeClient,
    method: &str,
    amount_cents: i64,
) -> (String, Authorization) {
    let checkout = checkout_id();
    let auth = client
        .authorize(&request(&checkout, method, amount_cents))
        .await
        .expect("authorized");
    assert!(auth.id.starts_with("pi_"), "{auth:?}");
    assert_eq!(auth.amount_cents, amount_cents);
    (checkout, auth)
}

/// Authorize, read, capture part, refund an order, read the refund back.
pub async fn authorize_capture_refund(client: &StripeClient) {
    let (checkout, auth) = authorize(client, "pm_card_visa", 5000).await;

    let payment = client.payment(&auth.id).await.expect("payment");
    assert_eq!(payment.status, IntentStatus::RequiresCapture);
    assert_eq!(payment.amount_cents, 5000);
    assert_eq!(payment.amount_received, 0);
    assert_eq!(payment.checkout_id.as_deref(), Some(checkout.as_str()));
    assert!(payment.refunds.is_empty());

    let captured = client
        .capture(&auth.id, 3000, &keys::capture(&checkout, 3000))
        .await
        .expect("captured");
    assert_eq!(captured.status, IntentStatus::Succeeded);
    assert_eq!(captured.amount_received, 3000);
    let charge = captured.charge_id.clone().expect("a charge");
    assert!(captured.refunds.is_empty(), "{captured:?}");

    let refund = client
        .refund(
            &auth.id,
            "ord_flows_a",
            1000,
            &keys::refund("ord_flows_a", 1000),
        )
        .await
        .expect("refunded");
    assert_eq!(refund.amount_cents, 1000);
    assert_eq!(refund.order_id.as_deref(), Some("ord_flows_a"));

    let payment = client.payment(&auth.id).await.expect("payment");
    assert_eq!(payment.status, IntentStatus::Succeeded);
    assert_eq!(payment.amount_received, 3000);
    assert_eq!(payment.charge_id.as_deref(), Some(charge.as_str()));
    assert_eq!(payment.refunds, vec![refund]);
    assert_eq!(payment.refunded_for("ord_flows_a"), 1000);
    assert_eq!(payment.refunded_for("ord_other"), 0);
}

/// Authorize, then release without capture.
pub async fn authorize_cancel(client: &StripeClient) {
    let (_, auth) = authorize(client, "pm_card_visa", 2500).await;
    let cancelled = client
        .cancel(&auth.id, &keys::cancel(&auth.id))
        .await
        .expect("cancelled");
    assert_eq!(cancelled.status, IntentStatus::Canceled);
    assert_eq!(cancelled.amount_received, 0);
    let payment = client.payment(&auth.id).await.expect("payment");
    assert_eq!(payment.status, IntentStatus::Canceled);
}

/// A declining card (`method`) is `PaymentDeclined`.
pub async fn decline(client: &StripeClient, method: &str) {
    let result = client
        .authorize(&request(&checkout_id(), method, 1000))
        .await;
    match result {
        Err(Error::PaymentDeclined(message)) => assert!(message.contains("declined"), "{message}"),
        other => panic!("expected a decline, got {other:?}"),
    }
}

/// An unknown method is a `422` on `payment_method`.
pub async fn unknown_method(client: &StripeClient) {
    let result = client
        .authorize(&request(&checkout_id(), "pm_does_not_exist", 1000))
        .await;
    assert!(matches!(result, Err(Error::Validation(_))), "{result:?}");
}

/// A card that needs 3-D Secure is `PaymentActionRequired`, and nothing stays reserved.
pub async fn action_required(client: &StripeClient, method: &str) {
    let result = client
        .authorize(&request(&checkout_id(), method, 1000))
        .await;
    assert!(
        matches!(result, Err(Error::PaymentActionRequired(_))),
        "{result:?}"
    );
}

/// An authorization never captured is found by `stale_authorizations`, then released.
/// `patience`: how long the provider's search may lag (Stripe's Search API is eventually
/// consistent; localstripe's list fallback is not).
pub async fn stale_authorization_is_found(client: &StripeClient, patience: Duration) {
    let (_, auth) = authorize(client, "pm_card_visa", 1200).await;
    let created = client.payment(&auth.id).await.expect("payment").created;
    let deadline = std::time::Instant::now() + patience;
    loop {
        let stale = client
            .stale_authorizations(created + 1)
            .await
            .expect("stale authorizations");
        assert!(
            stale
                .iter()
                .all(|p| p.status == IntentStatus::RequiresCapture && p.created < created + 1)
        );
        if let Some(found) = stale.iter().find(|p| p.id == auth.id) {
            assert_eq!(found.amount_cents, 1200);
            assert!(found.checkout_id.is_some());
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} not among the stale authorizations",
            auth.id
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    // Not stale before it was created.
    let earlier = client
        .stale_authorizations(created)
        .await
        .expect("stale authorizations");
    assert!(earlier.iter().all(|p| p.id != auth.id));
    client
        .cancel(&auth.id, &keys::cancel(&auth.id))
        .await
        .expect("released");
}
