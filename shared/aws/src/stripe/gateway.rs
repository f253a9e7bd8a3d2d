//! [`PaymentGateway`] over Stripe's PaymentIntents: a manual-capture PaymentIntent per checkout
//! attempt, captured, cancelled and refunded by settlement.
//!
//! localstripe (1.15.10), the local emulator, differs from Stripe in ways this module absorbs:
//! - a PaymentIntent has no `amount_received` and its charge no `amount_captured`: the captured
//!   amount is derived from the charge (`amount` less the refund localstripe books for the
//!   uncaptured remainder of a partial capture — a refund without `payment_intent`, which is
//!   why only refunds naming the payment are reported);
//! - `latest_charge` is always inlined (Stripe answers an id unless expanded: both are read);
//! - there is no Search API (`GET /v1/payment_intents/search` answers `404`), and the list
//!   endpoint takes no `created` filter (`400 Unexpected created`): the fallback lists
//!   everything and filters here;
//! - `GET /v1/refunds?payment_intent=` of a payment without a charge fails with a `500`: refunds
//!   are only read for payments that were captured;
//! - `Idempotency-Key` is ignored (Stripe replays the first answer of a key for 24 hours);
//! - declines are `402` with `type: invalid_request_error` and `code: card_declined`, no
//!   `decline_code`; of Stripe's test methods it knows only `pm_card_visa`,
//!   `pm_card_visa_chargeDeclined` (which it *authorizes*: it declines that card only when
//!   attached to a customer) and `pm_card_chargeCustomerFail` (declined when charged); any other
//!   `pm_card_…` is a bare `404 Not Found` (answered here as an unknown method, `422`), and a
//!   value that is no Stripe id at all (no `pm_`, `card_` or `src_` prefix) a bare `400 Bad
//!   request` naming no parameter: such a value is refused before any call.

use super::client::{Failure, Form, StripeClient};
use bazaar_domain::catalog::CURRENCY;
use bazaar_domain::error::Error;
use bazaar_domain::payments::{
    Authorization, AuthorizeRequest, IntentStatus, ProviderPayment, ProviderRefund, keys,
};
use bazaar_domain::ports::PaymentGateway;
use serde::Deserialize;
use std::collections::HashMap;

/// Every PaymentIntent of Bazaar carries `metadata[app]=bazaar`: reconciliation only touches its
/// own.
pub const APP: &str = "bazaar";

/// The page size of every list call.
const PAGE: usize = 100;

/// A PaymentIntent, as much of it as Bazaar reads.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct IntentJson {
    pub id: String,
    pub status: String,
    pub amount: i64,
    /// Absent in localstripe.
    #[serde(default)]
    pub amount_received: Option<i64>,
    #[serde(default)]
    pub latest_charge: Option<ChargeRef>,
    #[serde(default)]
    pub metadata: HashMap<String, String>,
    #[serde(default)]
    pub created: i64,
    #[serde(default)]
    pub last_payment_error: Option<serde_json::Value>,
}

/// `latest_charge`: an id, or the charge when expanded (always expanded by localstripe).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum ChargeRef {
    Id(String),
    Charge(Box<ChargeJson>),
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ChargeJson {
    pub id: String,
    #[serde(default)]
    pub amount: i64,
    #[serde(default)]
    pub amount_captured: Option<i64>,
    #[serde(default)]
    pub captured: Option<bool>,
    #[serde(default)]
    pub refunds: Option<ListJson<RefundJson>>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RefundJson {
    pub id: String,
    pub amount: i64,
    #[serde(default)]
    pub payment_intent: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub metadata: HashMap<String, String>,
}

/// A list (`object: list`) or a search result page (`object: search_result`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ListJson<T> {
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
    #[serde(default)]
    pub has_more: bool,
    /// Search only: the cursor of the next page.
    #[serde(default)]
    pub next_page: Option<String>,
}

fn intent_status(status: &str) -> IntentStatus {
    match status {
        "requires_capture" => IntentStatus::RequiresCapture,
        "succeeded" => IntentStatus::Succeeded,
        "canceled" => IntentStatus::Canceled,
        _ => IntentStatus::Other,
    }
}

impl IntentJson {
    fn charge_id(&self) -> Option<String> {
        match &self.latest_charge {
            Some(ChargeRef::Id(id)) => Some(id.clone()),
            Some(ChargeRef::Charge(c)) => Some(c.id.clone()),
            None => None,
        }
    }

    /// What was captured: Stripe's `amount_received`, else the charge's `amount_captured`, else
    /// (localstripe) the charge's amount less the refund booked for an uncaptured remainder.
    fn amount_received(&self) -> i64 {
        if let Some(received) = self.amount_received {
            return received;
        }
        match &self.latest_charge {
            Some(ChargeRef::Charge(charge)) => {
                if let Some(captured) = charge.amount_captured {
                    return captured;
                }
                if charge.captured != Some(true) {
                    return 0;
                }
                let released: i64 = charge
                    .refunds
                    .iter()
                    .flat_map(|l| l.data.iter())
                    .filter(|r| r.payment_intent.is_none())
                    .map(|r| r.amount)
                    .sum();
                charge.amount - released
            }
            _ => 0,
        }
    }

    fn into_payment(self, refunds: Vec<ProviderRefund>) -> ProviderPayment {
        ProviderPayment {
            status: intent_status(&self.status),
            amount_cents: self.amount,
            amount_received: self.amount_received(),
            charge_id: self.charge_id(),
            refunds,
            checkout_id: self.metadata.get("checkout_id").cloned(),
            created: self.created,
            id: self.id,
        }
    }
}

impl RefundJson {
    fn counts(&self) -> bool {
        !matches!(self.status.as_deref(), Some("failed" | "canceled"))
    }

    fn into_refund(self) -> ProviderRefund {
        ProviderRefund {
            order_id: self.metadata.get("order_id").cloned(),
            id: self.id,
            amount_cents: self.amount,
        }
    }
}

fn currency() -> String {
    CURRENCY.to_ascii_lowercase()
}

fn intent_path(id: &str) -> Result<String, Error> {
    Ok(format!("v1/payment_intents/{}", path_id(id)?))
}

/// An id that goes into a path: Stripe's ids are `[A-Za-z0-9_]`; anything else is refused before
/// it can change the path.
pub(crate) fn path_id(id: &str) -> Result<&str, Error> {
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(id)
    } else {
        Err(Error::Internal(format!("not a stripe id: `{id}`").into()))
    }
}

impl StripeClient {
    /// The refunds of a payment that name it (the refund localstripe books for the uncaptured
    /// remainder of a partial capture does not), failed and cancelled ones left out.
    async fn refunds_of(&self, id: &str) -> Result<Vec<ProviderRefund>, Error> {
        let mut refunds = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let query = Form::new()
                .set("payment_intent", id)
                .set("limit", PAGE)
                .set_opt("starting_after", after.as_deref());
            let page: ListJson<RefundJson> = self
                .get("v1/refunds", &query)
                .await
                .map_err(Failure::into_error)?;
            after = page.data.last().map(|r| r.id.clone());
            refunds.extend(
                page.data
                    .into_iter()
                    .filter(|r| r.payment_intent.as_deref() == Some(id) && r.counts())
                    .map(RefundJson::into_refund),
            );
            if !page.has_more || after.is_none() {
                return Ok(refunds);
            }
        }
    }

    /// The provider's view of an intent just read: its refunds are read too once it was captured
    /// (only a captured payment can have any).
    async fn complete(&self, intent: IntentJson) -> Result<ProviderPayment, Error> {
        let refunds = if intent_status(&intent.status) == IntentStatus::Succeeded {
            self.refunds_of(&intent.id).await?
        } else {
            Vec::new()
        };
        Ok(intent.into_payment(refunds))
    }

    async fn cancel_intent(&self, id: &str, key: &str) -> Result<IntentJson, Error> {
        let path = format!("{}/cancel", intent_path(id)?);
        self.post(&path, &Form::new().set("expand[]", "latest_charge"), key)
            .await
            .map_err(Failure::into_error)
    }

    /// Payments waiting for capture, through the Search API.
    async fn search_stale(&self, created_before: i64) -> Result<Vec<IntentJson>, Failure> {
        let query = format!(
            "status:'requires_capture' AND metadata['app']:'{APP}' AND created<{created_before}"
        );
        let mut found = Vec::new();
        let mut page_cursor: Option<String> = None;
        loop {
            let params = Form::new()
                .set("query", &query)
                .set("limit", PAGE)
                .set_opt("page", page_cursor.as_deref());
            let page: ListJson<IntentJson> = self.get("v1/payment_intents/search", &params).await?;
            found.extend(page.data);
            match page.next_page {
                Some(next) if page.has_more => page_cursor = Some(next),
                _ => return Ok(found),
            }
        }
    }

    /// Payments waiting for capture, by listing every PaymentIntent (where there is no Search
    /// API: localstripe). No `created[lt]` filter is sent: localstripe refuses it.
    async fn list_stale(&self, created_before: i64) -> Result<Vec<IntentJson>, Error> {
        let mut found = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let params = Form::new()
                .set("limit", PAGE)
                .set_opt("starting_after", after.as_deref());
            let page: ListJson<IntentJson> = self
                .get("v1/payment_intents", &params)
                .await
                .map_err(Failure::into_error)?;
            after = page.data.last().map(|p| p.id.clone());
            found.extend(page.data.into_iter().filter(|p| {
                p.status == "requires_capture"
                    && p.created < created_before
                    && p.metadata.get("app").map(String::as_str) == Some(APP)
            }));
            if !page.has_more || after.is_none() {
                return Ok(found);
            }
        }
    }
}

/// Whether `method` has the shape of what Stripe's `payment_method` names: a PaymentMethod
/// (`pm_…`, the test methods such as `pm_card_visa` included), or a legacy card (`card_…`) or
/// source (`src_…`), with ASCII letters, digits and `_` after the prefix.
pub(crate) fn is_payment_method_id(method: &str) -> bool {
    ["pm_", "card_", "src_"].iter().any(|prefix| {
        method.strip_prefix(prefix).is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
    })
}

impl PaymentGateway for StripeClient {
    async fn authorize(&self, request: &AuthorizeRequest) -> Result<Authorization, Error> {
        // Anything else cannot name a method: refused before any call, as Stripe refuses an
        // unknown one (`400 resource_missing` on `payment_method`). localstripe answers such a
        // value with a bare `400 Bad request` that names no parameter, which would otherwise
        // be an internal error (a fuzzed `"payment_method": "0"` was a 500).
        if !is_payment_method_id(&request.method) {
            return Err(Error::validation(
                "payment_method",
                "unknown payment method",
            ));
        }
        let form = Form::new()
            .set("amount", request.amount_cents)
            .set("currency", currency())
            .set("payment_method", &request.method)
            .set("payment_method_types[]", "card")
            .set("confirm", "true")
            .set("capture_method", "manual")
            .metadata("checkout_id", &request.checkout_id)
            .metadata("buyer_id", &request.buyer_id)
            .metadata("app", APP);
        let intent: IntentJson = self
            .post("v1/payment_intents", &form, &request.idempotency_key)
            .await
            .map_err(|failure| match failure.status() {
                // Creating names one other resource, the method: localstripe answers a bare
                // `404 Not Found` for an unknown one (Stripe a `400 resource_missing` on
                // `payment_method`, mapped alike by `into_error`).
                Some(404) => Error::validation("payment_method", "unknown payment method"),
                _ => failure.into_error(),
            })?;
        match intent.status.as_str() {
            "requires_capture" => Ok(Authorization {
                id: intent.id,
                amount_cents: intent.amount,
            }),
            // Stripe answers a decline with a `402`; a PaymentIntent that comes back waiting for
            // another method was declined too.
            "requires_payment_method" => {
                let reason = intent
                    .last_payment_error
                    .as_ref()
                    .and_then(|e| {
                        e.get("decline_code")
                            .or_else(|| e.get("code"))
                            .and_then(serde_json::Value::as_str)
                    })
                    .unwrap_or("requires_payment_method");
                Err(Error::PaymentDeclined(format!(
                    "The card was declined ({reason})."
                )))
            }
            status => {
                // Nothing may stay half-made: a 3-D Secure challenge checkout cannot take, or
                // anything else, is cancelled before answering.
                if let Err(e) = self
                    .cancel_intent(&intent.id, &keys::cancel(&intent.id))
                    .await
                {
                    tracing::warn!(payment_id = %intent.id, error = %e, "cancelling an unusable payment intent failed");
                }
                if status == "requires_action" {
                    Err(Error::PaymentActionRequired(
                        "The card requires 3-D Secure authentication, which checkout does not support yet; use another card.".into(),
                    ))
                } else {
                    Err(Error::Internal(
                        format!("payment intent {} came back `{status}`", intent.id).into(),
                    ))
                }
            }
        }
    }

    async fn payment(&self, id: &str) -> Result<ProviderPayment, Error> {
        let intent: IntentJson = self
            .get(
                &intent_path(id)?,
                &Form::new().set("expand[]", "latest_charge"),
            )
            .await
            .map_err(Failure::into_error)?;
        self.complete(intent).await
    }

    async fn capture(
        &self,
        id: &str,
        amount_cents: i64,
        idempotency_key: &str,
    ) -> Result<ProviderPayment, Error> {
        let path = format!("{}/capture", intent_path(id)?);
        let form = Form::new()
            .set("amount_to_capture", amount_cents)
            .set("expand[]", "latest_charge");
        let intent: IntentJson = self
            .post(&path, &form, idempotency_key)
            .await
            .map_err(Failure::into_error)?;
        // A payment has no refunds of ours before it is captured, so the capture's answer is
        // complete without listing them (settlement reads the full view before any refund).
        Ok(intent.into_payment(Vec::new()))
    }

    async fn cancel(&self, id: &str, idempotency_key: &str) -> Result<ProviderPayment, Error> {
        let intent = self.cancel_intent(id, idempotency_key).await?;
        Ok(intent.into_payment(Vec::new()))
    }

    async fn refund(
        &self,
        id: &str,
        order_id: &str,
        amount_cents: i64,
        idempotency_key: &str,
    ) -> Result<ProviderRefund, Error> {
        // The port names no checkout id; the payment's own metadata carries it.
        let form = Form::new()
            .set("payment_intent", path_id(id)?)
            .set("amount", amount_cents)
            .metadata("order_id", order_id);
        let refund: RefundJson = self
            .post("v1/refunds", &form, idempotency_key)
            .await
            .map_err(Failure::into_error)?;
        Ok(refund.into_refund())
    }

    async fn stale_authorizations(
        &self,
        created_before: i64,
    ) -> Result<Vec<ProviderPayment>, Error> {
        let intents = match self.search_stale(created_before).await {
            Ok(intents) => intents,
            Err(failure) if failure.status() == Some(404) => {
                self.list_stale(created_before).await?
            }
            Err(failure) => return Err(failure.into_error()),
        };
        // Waiting for capture: nothing captured, so nothing refunded.
        Ok(intents
            .into_iter()
            .map(|i| i.into_payment(Vec::new()))
            .collect())
    }
}
