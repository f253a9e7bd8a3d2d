//! The error of reading the environment at cold start (a leaf: `env` and `auth` both use it).

/// A setting that is missing or malformed; the function refuses to start rather than guess.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}
