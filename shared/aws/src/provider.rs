//! The payment provider a deployment uses, chosen once per cold start (`PAYMENTS=test|stripe`):
//! one type that is both ports, so functions stay generic over the traits.

use crate::payments::TestGateway;
use crate::stripe::{StripeClient, verify_webhook};
use bazaar_domain::error::Error;
use bazaar_domain::payments::{
    Authorization, AuthorizeRequest, ConnectedAccount, ProviderEvent, ProviderPayment,
    ProviderRefund, Transfer, TransferRequest,
};
use bazaar_domain::ports::{PaymentGateway, Payouts, WebhookVerifier};

/// The built-in test gateway (local default) or Stripe.
#[derive(Debug, Clone)]
pub enum Provider {
    Test(TestGateway),
    Stripe(StripeClient),
}

macro_rules! delegate {
    ($self:ident, $call:ident($($arg:expr),*)) => {
        match $self {
            Provider::Test(g) => g.$call($($arg),*).await,
            Provider::Stripe(g) => g.$call($($arg),*).await,
        }
    };
}

impl PaymentGateway for Provider {
    async fn authorize(&self, request: &AuthorizeRequest) -> Result<Authorization, Error> {
        delegate!(self, authorize(request))
    }
    async fn payment(&self, id: &str) -> Result<ProviderPayment, Error> {
        delegate!(self, payment(id))
    }
    async fn capture(
        &self,
        id: &str,
        amount_cents: i64,
        key: &str,
    ) -> Result<ProviderPayment, Error> {
        delegate!(self, capture(id, amount_cents, key))
    }
    async fn cancel(&self, id: &str, key: &str) -> Result<ProviderPayment, Error> {
        delegate!(self, cancel(id, key))
    }
    async fn refund(
        &self,
        id: &str,
        order_id: &str,
        amount_cents: i64,
        key: &str,
    ) -> Result<ProviderRefund, Error> {
        delegate!(self, refund(id, order_id, amount_cents, key))
    }
    async fn stale_authorizations(
        &self,
        created_before: i64,
    ) -> Result<Vec<ProviderPayment>, Error> {
        delegate!(self, stale_authorizations(created_before))
    }
}

impl Payouts for Provider {
    async fn create_account(
        &self,
        shop_id: &str,
        email: Option<&str>,
        key: &str,
    ) -> Result<ConnectedAccount, Error> {
        delegate!(self, create_account(shop_id, email, key))
    }
    async fn onboarding_link(
        &self,
        account_id: &str,
        return_url: &str,
        refresh_url: &str,
    ) -> Result<String, Error> {
        delegate!(self, onboarding_link(account_id, return_url, refresh_url))
    }
    async fn account(&self, account_id: &str) -> Result<ConnectedAccount, Error> {
        delegate!(self, account(account_id))
    }
    async fn transfer(&self, request: &TransferRequest) -> Result<Transfer, Error> {
        delegate!(self, transfer(request))
    }
    async fn transfers(&self, transfer_group: &str) -> Result<Vec<Transfer>, Error> {
        delegate!(self, transfers(transfer_group))
    }
    async fn reverse(
        &self,
        transfer_id: &str,
        amount_cents: i64,
        key: &str,
    ) -> Result<Transfer, Error> {
        delegate!(self, reverse(transfer_id, amount_cents, key))
    }
}

/// Stripe's webhook signatures with the endpoints' secrets. The value may hold several secrets
/// separated by commas: the platform endpoint's and the Connect endpoint's (`account.updated` of
/// connected accounts reaches only an endpoint that listens to connected accounts, and each
/// endpoint signs with its own secret). Without a secret (the test gateway sends no webhooks)
/// every delivery is refused.
#[derive(Clone)]
pub struct StripeWebhooks {
    secrets: Vec<String>,
}

impl std::fmt::Debug for StripeWebhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeWebhooks")
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl StripeWebhooks {
    pub fn new(secret: Option<String>) -> Self {
        Self {
            secrets: secret
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }
}

impl WebhookVerifier for StripeWebhooks {
    fn verify(
        &self,
        signature: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<ProviderEvent, Error> {
        let mut outcome = Err(Error::BadSignature(
            "no webhook secret is configured for this deployment",
        ));
        for secret in &self.secrets {
            outcome = verify_webhook(secret, signature, body, now);
            if !matches!(outcome, Err(Error::BadSignature(_))) {
                break;
            }
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stripe::sign_webhook;

    #[test]
    fn either_endpoint_secret_verifies_and_none_refuses() {
        let body = br#"{"id":"evt_1","type":"account.updated","data":{"object":{"id":"acct_1"}}}"#;
        let now = 1_800_000_000;
        let hooks = StripeWebhooks::new(Some("whsec_platform, whsec_connect".into()));
        for secret in ["whsec_platform", "whsec_connect"] {
            let header = sign_webhook(secret, body, now);
            assert!(hooks.verify(Some(&header), body, now).is_ok(), "{secret}");
        }
        let forged = sign_webhook("whsec_other", body, now);
        assert!(matches!(
            hooks.verify(Some(&forged), body, now),
            Err(Error::BadSignature(_))
        ));
        let none = StripeWebhooks::new(None);
        let header = sign_webhook("whsec_platform", body, now);
        assert!(matches!(
            none.verify(Some(&header), body, now),
            Err(Error::BadSignature(_))
        ));
    }
}
