//! Bazaar's domain crate: the model, its validation rules, the one error type and its mapping to
//! RFC 9457 problems, the caller's identity, configuration, telemetry, the ports (traits) the
//! functions depend on and their AWS adapters.
//!
//! Functions under `functions/` stay thin: they parse a request, call into this crate and render
//! the result. Everything they need to share lives here.

pub mod auth;
pub mod cart;
pub mod cart_store;
pub mod checkout;
pub mod config;
pub mod dynamo;
pub mod error;
pub mod events;
pub mod http;
pub mod idempotency;
pub mod model;
pub mod orders;
pub mod payment;
pub mod personalize;
pub mod ports;
pub mod search;
pub mod telemetry;
pub mod validate;

pub use error::{Error, Resource};
