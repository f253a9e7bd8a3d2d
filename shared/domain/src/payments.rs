//! Payments as the domain sees them: an authorization, and the test payment methods the built-in
//! gateway understands (Stripe's names). The gateway itself is a port ([`crate::ports::PaymentGateway`]).

use crate::error::Error;

/// An approved authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The gateway's id of the payment (for the test gateway: the checkout reference).
    pub id: String,
    pub amount_cents: i64,
}

/// Stripe's test payment methods that approve.
pub const APPROVING: &[&str] = &[
    "pm_card_visa",
    "pm_card_visa_debit",
    "pm_card_mastercard",
    "pm_card_amex",
];
/// Stripe's test payment methods that decline, with the decline reason.
pub const DECLINING: &[(&str, &str)] = &[
    ("pm_card_chargeDeclined", "card_declined"),
    (
        "pm_card_chargeDeclinedInsufficientFunds",
        "insufficient_funds",
    ),
    ("pm_card_chargeDeclinedExpiredCard", "expired_card"),
    ("pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc"),
];

/// The test gateways' answer to `method` before any money moves: a declined Stripe test method
/// is `402 payment_declined` (with its reason), an unknown one `422`.
pub fn check_test_method(method: &str) -> Result<(), Error> {
    if let Some((_, reason)) = DECLINING.iter().find(|(m, _)| *m == method) {
        return Err(Error::PaymentDeclined(format!(
            "The card was declined ({reason})."
        )));
    }
    if !APPROVING.contains(&method) {
        return Err(Error::validation(
            "payment_method",
            "unknown payment method: use a Stripe test method such as pm_card_visa",
        ));
    }
    Ok(())
}

/// Whether the test gateway knows `method` (an unknown one is a `422` before any payment call).
pub fn is_known_test_method(method: &str) -> bool {
    APPROVING.contains(&method) || DECLINING.iter().any(|(m, _)| *m == method)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripe_test_methods() {
        assert!(is_known_test_method("pm_card_visa"));
        assert!(is_known_test_method("pm_card_chargeDeclined"));
        assert!(!is_known_test_method("tok_visa"));
        assert!(!is_known_test_method(""));
    }
}
