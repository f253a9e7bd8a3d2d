//! The Stripe adapter against Stripe's test mode, when `STRIPE_SECRET_KEY` holds a test key
//! (`sk_test_…`); skipped with a message otherwise. Needs the internet; `STRIPE_API_BASE`
//! overrides the API base.
//!
//! Connect is not exercised here (a connected account needs onboarding a human completes); the
//! wire tests in `stripe_wire.rs` cover its calls.
#![cfg(feature = "stripe")]

mod stripe_flows;

use bazaar_aws::stripe::{API_BASE, StripeClient};
use std::time::Duration;

fn client() -> Option<StripeClient> {
    match std::env::var("STRIPE_SECRET_KEY") {
        Ok(key) if key.starts_with("sk_test_") => {
            let base = std::env::var("STRIPE_API_BASE").unwrap_or_else(|_| API_BASE.to_owned());
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
