//! Stripe webhook verification: the `Stripe-Signature` scheme and the reduction of events.
#![cfg(feature = "stripe")]

use bazaar_aws::stripe::{sign_webhook, verify_webhook};
use bazaar_domain::error::Error;
use bazaar_domain::payments::{ProviderEvent, ProviderEventKind};
use serde_json::{Value, json};

const SECRET: &str = "whsec_test_secret";
const NOW: i64 = 1_700_000_000;

fn event(kind: &str, object: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": "evt_1", "object": "event", "type": kind, "created": NOW,
        "data": {"object": object}
    }))
    .expect("json")
}

fn payment_event() -> Vec<u8> {
    event(
        "payment_intent.succeeded",
        json!({"id": "pi_1", "object": "payment_intent", "metadata": {"checkout_id": "chk_1"}}),
    )
}

fn verify(header: &str, body: &[u8]) -> Result<ProviderEvent, Error> {
    verify_webhook(SECRET, Some(header), body, NOW)
}

fn assert_bad_signature(result: Result<ProviderEvent, Error>) {
    assert!(matches!(result, Err(Error::BadSignature(_))), "{result:?}");
}

fn kind_of(kind: &str, object: Value) -> ProviderEventKind {
    let body = event(kind, object);
    verify(&sign_webhook(SECRET, &body, NOW), &body)
        .expect("verified")
        .kind
}

#[test]
fn a_valid_signature_is_accepted() {
    let body = payment_event();
    let header = sign_webhook(SECRET, &body, NOW);
    assert!(header.starts_with(&format!("t={NOW},v1=")));
    let event = verify(&header, &body).expect("verified");
    assert_eq!(event.id, "evt_1");
    assert_eq!(
        event.kind,
        ProviderEventKind::Payment {
            payment_id: "pi_1".into(),
            checkout_id: Some("chk_1".into())
        }
    );
}

#[test]
fn the_tolerance_is_300_seconds_either_way() {
    let body = payment_event();
    for t in [NOW - 300, NOW + 300] {
        assert!(
            verify(&sign_webhook(SECRET, &body, t), &body).is_ok(),
            "{t}"
        );
    }
    for t in [NOW - 301, NOW + 301] {
        assert_bad_signature(verify(&sign_webhook(SECRET, &body, t), &body));
    }
}

#[test]
fn a_wrong_secret_is_refused() {
    let body = payment_event();
    assert_bad_signature(verify(&sign_webhook("whsec_other", &body, NOW), &body));
}

#[test]
fn a_tampered_body_is_refused() {
    let body = payment_event();
    let header = sign_webhook(SECRET, &body, NOW);
    let tampered = String::from_utf8(body)
        .expect("utf8")
        .replace("chk_1", "chk_2");
    assert_bad_signature(verify(&header, tampered.as_bytes()));
}

#[test]
fn a_changed_timestamp_is_refused() {
    let body = payment_event();
    let header =
        sign_webhook(SECRET, &body, NOW).replace(&format!("t={NOW}"), &format!("t={}", NOW + 1));
    assert_bad_signature(verify(&header, &body));
}

#[test]
fn a_missing_header_is_refused() {
    assert_bad_signature(verify_webhook(SECRET, None, &payment_event(), NOW));
}

#[test]
fn garbage_headers_are_refused() {
    let body = payment_event();
    let good = sign_webhook(SECRET, &body, NOW);
    let v1 = good.split_once(",v1=").expect("v1").1;
    for header in [
        "",
        "garbage",
        "t=,v1=abc",
        &format!("t=abc,v1={v1}"),
        &format!("v1={v1}"),
        &format!("t={NOW}"),
        &format!("t={NOW},v1=zz"),
        &format!("t={NOW},v0={v1}"),
        &format!("t={NOW},t={NOW},v1={v1}"),
        &format!("t={NOW},v1={}", &v1[..10]),
    ] {
        assert_bad_signature(verify(header, &body));
    }
}

#[test]
fn any_of_several_v1_signatures_may_match() {
    let body = payment_event();
    let good = sign_webhook(SECRET, &body, NOW);
    let v1 = good.split_once(",v1=").expect("v1").1;
    let old = sign_webhook("whsec_old", &body, NOW);
    let old_v1 = old.split_once(",v1=").expect("v1").1;
    for header in [
        format!("t={NOW},v1={old_v1},v1={v1}"),
        format!("t={NOW},v1={v1},v1={old_v1}"),
        format!("t={NOW}, v1=nothex, v0={old_v1}, v1={v1}"),
    ] {
        assert!(verify(&header, &body).is_ok(), "{header}");
    }
    assert_bad_signature(verify(&format!("t={NOW},v1={old_v1},v1={old_v1}"), &body));
}

#[test]
fn a_signed_body_that_is_not_an_event_is_an_invalid_body() {
    for body in [
        &b"not json"[..],
        br#"{"id": "evt_1"}"#,
        br#"{"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": {}}}"#,
    ] {
        let result = verify(&sign_webhook(SECRET, body, NOW), body);
        assert!(matches!(result, Err(Error::InvalidBody(_))), "{result:?}");
    }
}

#[test]
fn payment_intent_events_name_the_payment_and_checkout() {
    for kind in [
        "payment_intent.succeeded",
        "payment_intent.canceled",
        "payment_intent.amount_capturable_updated",
        "payment_intent.payment_failed",
    ] {
        assert_eq!(
            kind_of(
                kind,
                json!({"id": "pi_1", "metadata": {"checkout_id": "chk_1"}})
            ),
            ProviderEventKind::Payment {
                payment_id: "pi_1".into(),
                checkout_id: Some("chk_1".into())
            },
            "{kind}"
        );
    }
    assert_eq!(
        kind_of(
            "payment_intent.created",
            json!({"id": "pi_9", "metadata": {}})
        ),
        ProviderEventKind::Payment {
            payment_id: "pi_9".into(),
            checkout_id: None
        }
    );
}

#[test]
fn charge_events_name_their_payment_intent() {
    for kind in ["charge.refunded", "charge.captured", "charge.expired"] {
        assert_eq!(
            kind_of(
                kind,
                json!({"id": "ch_1", "object": "charge", "payment_intent": "pi_1",
                       "metadata": {"checkout_id": "chk_1"}})
            ),
            ProviderEventKind::Payment {
                payment_id: "pi_1".into(),
                checkout_id: Some("chk_1".into())
            },
            "{kind}"
        );
    }
    // A refund event's object is the refund: its metadata names the order, not the checkout.
    assert_eq!(
        kind_of(
            "charge.refund.updated",
            json!({"id": "re_1", "object": "refund", "payment_intent": "pi_1",
                   "metadata": {"order_id": "ord_a"}})
        ),
        ProviderEventKind::Payment {
            payment_id: "pi_1".into(),
            checkout_id: None
        }
    );
    // A charge no PaymentIntent made is not Bazaar's.
    assert_eq!(
        kind_of(
            "charge.refunded",
            json!({"id": "ch_1", "payment_intent": null})
        ),
        ProviderEventKind::Ignored {
            kind: "charge.refunded".into()
        }
    );
}

#[test]
fn a_dispute_names_its_payment() {
    assert_eq!(
        kind_of(
            "charge.dispute.created",
            json!({"id": "dp_1", "object": "dispute", "charge": "ch_1", "payment_intent": "pi_1"})
        ),
        ProviderEventKind::Dispute {
            payment_id: "pi_1".into(),
            checkout_id: None
        }
    );
    assert_eq!(
        kind_of(
            "charge.dispute.closed",
            json!({"id": "dp_1", "payment_intent": "pi_1"})
        ),
        ProviderEventKind::Ignored {
            kind: "charge.dispute.closed".into()
        }
    );
}

#[test]
fn account_updated_names_the_account_and_shop() {
    assert_eq!(
        kind_of(
            "account.updated",
            json!({"id": "acct_1", "object": "account", "payouts_enabled": true,
                   "metadata": {"shop_id": "shop_1"}})
        ),
        ProviderEventKind::Account {
            account_id: "acct_1".into(),
            shop_id: Some("shop_1".into())
        }
    );
}

#[test]
fn other_events_are_ignored() {
    for kind in ["customer.created", "payout.paid", "transfer.created"] {
        assert_eq!(
            kind_of(kind, json!({"id": "x_1"})),
            ProviderEventKind::Ignored { kind: kind.into() }
        );
    }
}
