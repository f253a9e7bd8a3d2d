//! Stripe: the [`PaymentGateway`](bazaar_domain::ports::PaymentGateway) (PaymentIntents with
//! manual capture, refunds), the [`Payouts`](bazaar_domain::ports::Payouts) (Connect: Express
//! accounts, transfers, reversals) and webhook verification, over Stripe's REST API.
//!
//! Behind the `stripe` feature, so that functions that move no money link no HTTP client.
//! Locally the API base points at localstripe (`STRIPE_API_BASE`), which emulates PaymentIntents
//! and refunds but not Connect nor the Search API (see [`gateway`] and [`payouts`]).

mod client;
pub mod gateway;
pub mod payouts;
pub mod webhook;

pub use client::{API_BASE, API_VERSION, CONNECT_TIMEOUT, Form, REQUEST_TIMEOUT, StripeClient};
pub use webhook::{SIGNATURE_HEADER, TOLERANCE_SECS, sign_webhook, verify_webhook};
