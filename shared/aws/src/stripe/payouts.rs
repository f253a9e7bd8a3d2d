//! [`Payouts`] over Stripe Connect: an Express account per shop, onboarding links, transfers of
//! each order's share grouped by checkout, reversals.
//!
//! localstripe (1.15.10) has no Connect at all (no `/v1/accounts`, `/v1/account_links`,
//! `/v1/transfers`): the wire tests (`tests/stripe_wire.rs`) are this module's proof locally.

use super::client::{Failure, Form, StripeClient};
use super::gateway::{ListJson, path_id};
use bazaar_domain::catalog::CURRENCY;
use bazaar_domain::error::Error;
use bazaar_domain::payments::{ConnectedAccount, Transfer, TransferRequest};
use bazaar_domain::ports::Payouts;
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Debug, Deserialize)]
struct AccountJson {
    id: String,
    #[serde(default)]
    payouts_enabled: bool,
    #[serde(default)]
    details_submitted: bool,
}

impl From<AccountJson> for ConnectedAccount {
    fn from(a: AccountJson) -> Self {
        ConnectedAccount {
            id: a.id,
            payouts_enabled: a.payouts_enabled,
            details_submitted: a.details_submitted,
        }
    }
}

#[derive(Debug, Deserialize)]
struct AccountLinkJson {
    url: String,
}

#[derive(Debug, Deserialize)]
struct TransferJson {
    id: String,
    amount: i64,
    #[serde(default)]
    amount_reversed: i64,
    /// An account id (or the account when expanded).
    destination: IdOrObject,
    #[serde(default)]
    metadata: HashMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum IdOrObject {
    Id(String),
    Object { id: String },
}

impl IdOrObject {
    fn id(self) -> String {
        match self {
            IdOrObject::Id(id) | IdOrObject::Object { id } => id,
        }
    }
}

impl From<TransferJson> for Transfer {
    fn from(t: TransferJson) -> Self {
        Transfer {
            order_id: t.metadata.get("order_id").cloned(),
            id: t.id,
            amount_cents: t.amount,
            reversed_cents: t.amount_reversed,
            destination: t.destination.id(),
        }
    }
}

/// A transfer reversal, its transfer expanded.
#[derive(Debug, Deserialize)]
struct ReversalJson {
    transfer: TransferOrId,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum TransferOrId {
    Transfer(Box<TransferJson>),
    Id(String),
}

const PAGE: usize = 100;

/// A bare `404` (no Stripe error object) on a Connect endpoint means the provider has no Connect
/// at all — localstripe — which is a `503` for the caller, not a server bug.
fn no_connect(failure: Failure) -> Error {
    match &failure {
        Failure::Api { status: 404, error } if error.kind.is_none() && error.code.is_none() => {
            Error::Unavailable(
                "the payment provider offers no connected accounts (localstripe emulates no Connect)"
                    .into(),
            )
        }
        _ => failure.into_error(),
    }
}

impl Payouts for StripeClient {
    async fn create_account(
        &self,
        shop_id: &str,
        email: Option<&str>,
        idempotency_key: &str,
    ) -> Result<ConnectedAccount, Error> {
        let form = Form::new()
            .set("type", "express")
            .set("country", "US")
            .set_opt("email", email)
            .set("capabilities[transfers][requested]", "true")
            .metadata("shop_id", shop_id);
        let account: AccountJson = self
            .post("v1/accounts", &form, idempotency_key)
            .await
            .map_err(no_connect)?;
        Ok(account.into())
    }

    async fn onboarding_link(
        &self,
        account_id: &str,
        return_url: &str,
        refresh_url: &str,
    ) -> Result<String, Error> {
        let form = Form::new()
            .set("account", path_id(account_id)?)
            .set("type", "account_onboarding")
            .set("return_url", return_url)
            .set("refresh_url", refresh_url);
        // A link is single-use and expires within minutes: each call asks for a new one (a
        // repeated key would replay the first, possibly expired, link for 24 hours).
        let key = format!("bazaar-account-link-{}", uuid::Uuid::new_v4());
        let link: AccountLinkJson = self
            .post("v1/account_links", &form, &key)
            .await
            .map_err(Failure::into_error)?;
        Ok(link.url)
    }

    async fn account(&self, account_id: &str) -> Result<ConnectedAccount, Error> {
        let path = format!("v1/accounts/{}", path_id(account_id)?);
        let account: AccountJson = self
            .get(&path, &Form::new())
            .await
            .map_err(Failure::into_error)?;
        Ok(account.into())
    }

    async fn transfer(&self, request: &TransferRequest) -> Result<Transfer, Error> {
        let form = Form::new()
            .set("amount", request.amount_cents)
            .set("currency", CURRENCY.to_ascii_lowercase())
            .set("destination", &request.destination)
            .set("transfer_group", &request.transfer_group)
            .set_opt("source_transaction", request.source_transaction.as_deref())
            .metadata("order_id", &request.order_id);
        let transfer: TransferJson = self
            .post("v1/transfers", &form, &request.idempotency_key)
            .await
            .map_err(Failure::into_error)?;
        Ok(transfer.into())
    }

    async fn transfers(&self, transfer_group: &str) -> Result<Vec<Transfer>, Error> {
        let mut transfers = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let query = Form::new()
                .set("transfer_group", transfer_group)
                .set("limit", PAGE)
                .set_opt("starting_after", after.as_deref());
            let page: ListJson<TransferJson> = self
                .get("v1/transfers", &query)
                .await
                .map_err(Failure::into_error)?;
            after = page.data.last().map(|t| t.id.clone());
            transfers.extend(page.data.into_iter().map(Transfer::from));
            if !page.has_more || after.is_none() {
                return Ok(transfers);
            }
        }
    }

    async fn reverse(
        &self,
        transfer_id: &str,
        amount_cents: i64,
        idempotency_key: &str,
    ) -> Result<Transfer, Error> {
        let path = format!("v1/transfers/{}/reversals", path_id(transfer_id)?);
        let form = Form::new()
            .set("amount", amount_cents)
            .set("expand[]", "transfer");
        let reversal: ReversalJson = self
            .post(&path, &form, idempotency_key)
            .await
            .map_err(Failure::into_error)?;
        let transfer = match reversal.transfer {
            TransferOrId::Transfer(t) => *t,
            TransferOrId::Id(id) => self
                .get(&format!("v1/transfers/{}", path_id(&id)?), &Form::new())
                .await
                .map_err(Failure::into_error)?,
        };
        Ok(transfer.into())
    }
}
