//! The Stripe adapter against Stripe's test mode, when `STRIPE_SECRET_KEY` holds a test key
//! (`sk_test_…`); skipped with a message otherwise. Needs the internet; `STRIPE_TEST_MODE_API_BASE`
//! overrides the API base (not `STRIPE_API_BASE`, which `make test` points at localstripe).
//!
//! Connect is exercised up to onboarding (an Express account, its onboarding link, its status);
//! a transfer needs an account whose onboarding a human completed, so transfers and reversals are
//! proven by the wire tests in `stripe_wire.rs`.
#![cfg(feature = "stripe")]

mod stripe_flows;

use bazaar_aws::stripe::{API_BASE, StripeClient};
use std::time::Duration;

fn client() -> Option<StripeClient> {
    match std::env::var("STRIPE_SECRET_KEY") {
        Ok(key) if key.starts_with("sk_test_") => {
            let base =
                std::env::var("STRIPE_TEST_MODE_API_BASE").unwrap_or_else(|_| API_BASE.to_owned());
            Some(StripeClient::new(&base, &key).expect("client"))
        }
        Ok(_) => {
            eprintln!(
                "STRIPE_SECRET_KEY is not a test-mode key (sk_test_…): skipping the Stripe test-mode tests"
            );
            None
        }
        Err(_) => {
            eprintln!("STRIPE_SECRET_KEY is not set: skipping the Stripe test-mode tests");
            None
        }
    }
}

#[tokio::test]
async fn authorize_capture_refund() {
    let Some(client) = client() else { return };
    stripe_flows::authorize_capture_refund(&client).await;
}

#[tokio::test]
async fn authorize_cancel() {
    let Some(client) = client() else { return };
    stripe_flows::authorize_cancel(&client).await;
}

#[tokio::test]
async fn decline() {
    let Some(client) = client() else { return };
    stripe_flows::decline(&client, "pm_card_visa_chargeDeclined").await;
    stripe_flows::decline(&client, "pm_card_chargeCustomerFail").await;
    stripe_flows::decline(&client, "pm_card_chargeDeclinedInsufficientFunds").await;
}

#[tokio::test]
async fn unknown_method() {
    let Some(client) = client() else { return };
    stripe_flows::unknown_method(&client).await;
}

#[tokio::test]
async fn action_required_cancels() {
    let Some(client) = client() else { return };
    stripe_flows::action_required(&client, "pm_card_authenticationRequired").await;
}

/// Stripe's Search API lags writes by up to a minute.
#[tokio::test]
async fn stale_authorizations_through_search() {
    let Some(client) = client() else { return };
    stripe_flows::stale_authorization_is_found(&client, Duration::from_secs(90)).await;
}

/// An Express account is created once per key, answers an onboarding link, and reads back
/// without payouts enabled (nobody onboarded it).
#[tokio::test]
async fn connect_account_and_onboarding_link() {
    use bazaar_domain::ports::Payouts;
    let Some(client) = client() else { return };
    let shop = format!("shop_test_{}", uuid::Uuid::new_v4().simple());
    let key = bazaar_domain::payments::keys::account(&shop);
    let account = client
        .create_account(&shop, Some("seller@example.com"), &key)
        .await
        .expect("account");
    let again = client
        .create_account(&shop, Some("seller@example.com"), &key)
        .await
        .expect("same key");
    assert_eq!(again.id, account.id, "one account per shop key");
    let link = client
        .onboarding_link(
            &account.id,
            "https://example.com/done",
            "https://example.com/again",
        )
        .await
        .expect("link");
    assert!(link.starts_with("https://"), "{link}");
    let read = client.account(&account.id).await.expect("read");
    assert_eq!(
        (read.id.as_str(), read.payouts_enabled),
        (account.id.as_str(), false)
    );
}
