//! The edge every function shares: configuration and clients once per cold start ([`env`]), the
//! caller's identity ([`auth`]), HTTP routing and problem responses ([`http`]), the idempotency
//! layer ([`idempotent`]) and JSON logs ([`telemetry`]).

pub mod auth;
pub mod env;
pub mod http;
pub mod idempotent;
pub mod telemetry;
