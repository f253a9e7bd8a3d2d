//! Bazaar's domain: the types and rules of the marketplace, the one [`Error`] and its RFC 9457
//! problems, every outbound port ([`ports`]), the use cases over those ports ([`services`]) and,
//! behind the `fakes` feature, in-memory adapters of the ports for tests.
//!
//! The dependency rule is a Cargo fact: this crate depends on no AWS or Lambda crate.
//! `bazaar-aws` and `bazaar-search` implement the ports; `bazaar-lambda` is the edge the functions
//! share.

pub mod cache;
pub mod cart;
pub mod catalog;
pub mod checkout;
pub mod error;
pub mod events;
#[cfg(any(test, feature = "fakes"))]
pub mod fakes;
pub mod idempotency;
pub mod inventory;
pub mod metrics;
pub mod orders;
pub mod payments;
pub mod personalize;
pub mod ports;
pub mod quota;
pub mod search;
pub mod services;
pub mod timing;
pub mod validate;

pub use error::{Error, Resource};
