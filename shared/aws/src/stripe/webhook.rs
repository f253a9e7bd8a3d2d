//! Stripe webhooks: the `Stripe-Signature` check and the reduction of an event to what Bazaar
//! acts on ([`ProviderEvent`]).
//!
//! The scheme is Stripe's: the header is `t=<unix seconds>,v1=<hex>[,v1=<hex>…]` (other schemes,
//! `v0`, are ignored), each `v1` the HMAC-SHA256, keyed with the endpoint's secret, of
//! `"<t>.<raw body>"`. Any `v1` may match (Stripe sends several while a secret is rolled); the
//! comparison is constant-time; `t` must be within [`TOLERANCE_SECS`] of now, either way.

use bazaar_domain::error::Error;
use bazaar_domain::payments::{ProviderEvent, ProviderEventKind};
use hmac::{KeyInit, Mac};
use serde::Deserialize;
use serde_json::Value;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// How far a signature's timestamp may be from now, in seconds (Stripe's default).
pub const TOLERANCE_SECS: i64 = 300;

/// The header Stripe signs with.
pub const SIGNATURE_HEADER: &str = "Stripe-Signature";

fn mac(secret: &str, t: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length: `new_from_slice` cannot fail for it.
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `Stripe-Signature` header of `body` signed with `secret` at `t` (unix seconds): for tests
/// and the local stack's webhook sender.
pub fn sign_webhook(secret: &str, body: &[u8], t: i64) -> String {
    let signature = mac(secret, t, body).finalize().into_bytes();
    format!("t={t},v1={}", hex::encode(signature))
}

/// Verifies `header` (the `Stripe-Signature` value) over the raw `body` with the endpoint's
/// `secret` at `now_unix`, then reads the event. A missing, malformed, stale or wrong signature
/// is [`Error::BadSignature`]; a signed body that is not an event is [`Error::InvalidBody`].
pub fn verify_webhook(
    secret: &str,
    header: Option<&str>,
    body: &[u8],
    now_unix: i64,
) -> Result<ProviderEvent, Error> {
    let header = header.ok_or(Error::BadSignature(
        "the Stripe-Signature header is missing",
    ))?;
    let mut t: Option<i64> = None;
    let mut signatures: Vec<Vec<u8>> = Vec::new();
    for part in header.split(',') {
        let Some((name, value)) = part.trim().split_once('=') else {
            return Err(Error::BadSignature(
                "the Stripe-Signature header is malformed",
            ));
        };
        match name {
            "t" => {
                if t.is_some() {
                    return Err(Error::BadSignature(
                        "the Stripe-Signature header is malformed",
                    ));
                }
                t = Some(value.parse().map_err(|_| {
                    Error::BadSignature("the Stripe-Signature timestamp is malformed")
                })?);
            }
            // A v1 that is not hex cannot match; the others may.
            "v1" => signatures.extend(hex::decode(value).ok()),
            _ => {}
        }
    }
    let t = t.ok_or(Error::BadSignature(
        "the Stripe-Signature header has no timestamp",
    ))?;
    if signatures.is_empty() {
        return Err(Error::BadSignature(
            "the Stripe-Signature header has no v1 signature",
        ));
    }
    if now_unix.abs_diff(t) > TOLERANCE_SECS.unsigned_abs() {
        return Err(Error::BadSignature(
            "the Stripe-Signature timestamp is outside the tolerance",
        ));
    }
    let expected = mac(secret, t, body);
    if !signatures
        .iter()
        .any(|s| expected.clone().verify_slice(s).is_ok())
    {
        return Err(Error::BadSignature("the Stripe-Signature does not match"));
    }
    parse_event(body)
}

#[derive(Deserialize)]
struct EventJson {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    object: Value,
}

fn str_at<'a>(object: &'a Value, pointer: &str) -> Option<&'a str> {
    object.pointer(pointer).and_then(Value::as_str)
}

fn owned(value: Option<&str>) -> Option<String> {
    value.map(str::to_owned)
}

/// Reads a (verified) event body.
fn parse_event(body: &[u8]) -> Result<ProviderEvent, Error> {
    let event: EventJson = serde_json::from_slice(body)
        .map_err(|e| Error::InvalidBody(format!("not a stripe event: {e}")))?;
    let object = &event.data.object;
    let missing = |field: &str| {
        Error::InvalidBody(format!(
            "stripe event {} ({}) has no `{field}`",
            event.id, event.kind
        ))
    };
    let checkout_id = owned(str_at(object, "/metadata/checkout_id"));
    let kind = match event.kind.as_str() {
        kind if kind.starts_with("payment_intent.") => ProviderEventKind::Payment {
            payment_id: owned(str_at(object, "/id")).ok_or_else(|| missing("data.object.id"))?,
            checkout_id,
        },
        "charge.dispute.created" => match str_at(object, "/payment_intent") {
            Some(payment_id) => ProviderEventKind::Dispute {
                payment_id: payment_id.to_owned(),
                checkout_id: None,
            },
            // A dispute of a charge that no PaymentIntent made is not Bazaar's.
            None => ProviderEventKind::Ignored {
                kind: event.kind.clone(),
            },
        },
        kind if kind.starts_with("charge.dispute.") => ProviderEventKind::Ignored {
            kind: event.kind.clone(),
        },
        // `charge.captured`, `charge.refunded`, `charge.refund.updated`, …: the object (a charge
        // or a refund) names its PaymentIntent; a charge's metadata is the payment's.
        kind if kind.starts_with("charge.") => match str_at(object, "/payment_intent") {
            Some(payment_id) => ProviderEventKind::Payment {
                payment_id: payment_id.to_owned(),
                checkout_id,
            },
            None => ProviderEventKind::Ignored {
                kind: event.kind.clone(),
            },
        },
        "account.updated" => ProviderEventKind::Account {
            account_id: owned(str_at(object, "/id")).ok_or_else(|| missing("data.object.id"))?,
            shop_id: owned(str_at(object, "/metadata/shop_id")),
        },
        _ => ProviderEventKind::Ignored {
            kind: event.kind.clone(),
        },
    };
    Ok(ProviderEvent { id: event.id, kind })
}
