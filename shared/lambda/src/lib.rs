//! The edge every function shares: configuration and clients once per cold start ([`env`]), the
//! caller's identity ([`auth`]), HTTP routing and problem responses ([`http`]), the idempotency
//! layer ([`idempotent`]), the event runners ([`batch`]), JSON logs ([`telemetry`]), the cold-start
//! metric ([`cold_start`]) and X-Ray subsegments of every call ([`xray`]).
//!
//! A function's `main` is [`Env::load`] (or [`Env::load_worker`]) and one runner:
//! [`serve_http`], [`serve_messages`], [`serve_stream`] or [`serve_schedule`].

/// The line that closes a request (`request done`, [`http::serve`]) or an event invocation
/// (`invocation done`, [`batch`]): the latency beside the time awaited, per kind, and the
/// DynamoDB calls in sequence ([`bazaar_domain::timing::Timings`]), after any fields of its own.
macro_rules! log_done {
    ($timings:expr, $latency:expr, $($field:ident = $value:expr,)* $message:literal) => {{
        use bazaar_domain::timing::Kind;
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        let (t, latency): (&bazaar_domain::timing::Timings, std::time::Duration) = ($timings, $latency);
        tracing::info!(
            $($field = $value,)*
            aws_calls = t.aws_calls,
            latency_ms = ms(latency),
            awaited_ms = ms(t.awaited),
            own_ms = ms(t.own(latency)),
            dynamodb_ms = ms(t.of(Kind::DynamoDb)),
            search_ms = ms(t.of(Kind::Search)),
            provider_ms = ms(t.of(Kind::Provider)),
            db_rounds = t.rounds_of(Kind::DynamoDb),
            $message
        )
    }};
}

pub mod auth;
pub mod batch;
pub mod cold_start;
pub mod config_error;
pub mod env;
pub mod http;
pub mod idempotent;
pub mod telemetry;
pub mod xray;

pub use batch::{serve_messages, serve_schedule, serve_stream};
pub use env::Env;
pub use http::serve_http;

/// Whether this build contains the local stack's code (the feature `local`: local auth, stub
/// delays, fault injection). A constant, so that code behind `if LOCAL_BUILD && …` is compiled
/// out of the AWS binaries, strings included.
pub const LOCAL_BUILD: bool = cfg!(feature = "local");

/// The error a cold start or a runner ends with (the Lambda runtime's).
pub type BoxError = lambda_runtime::Error;
