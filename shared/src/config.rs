//! Configuration from the environment, read once per cold start.

use crate::auth::{AuthMode, DEFAULT_LOCAL_SECRET};

/// A setting that is missing or malformed; the function refuses to start rather than guess.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Everything a function reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// The single DynamoDB table (`TABLE_NAME`).
    pub table_name: String,
    /// `AUTH_MODE=local` verifies HS256 tokens with `LOCAL_JWT_SECRET`; anything else trusts only the
    /// API Gateway authorizer.
    pub auth: AuthMode,
    /// How long a cart line holds its units (`HOLD_SECONDS`, default 900).
    pub hold_seconds: i64,
    /// The service name put on logs and metrics (`AWS_LAMBDA_FUNCTION_NAME` or the binary's name).
    pub service: String,
}

impl Config {
    pub fn from_env(service: &str) -> Result<Self, ConfigError> {
        Self::from_lookup(service, |k| std::env::var(k).ok())
    }

    /// Reads settings through `get`, so tests need not touch the process environment.
    pub fn from_lookup(
        service: &str,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let table_name = get("TABLE_NAME")
            .filter(|t| !t.trim().is_empty())
            .ok_or(ConfigError::Missing("TABLE_NAME"))?;
        let auth = match get("AUTH_MODE").as_deref().map(str::trim) {
            Some("local") => {
                let secret = get("LOCAL_JWT_SECRET")
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| DEFAULT_LOCAL_SECRET.to_owned());
                AuthMode::local(&secret)
            }
            None | Some("") | Some("authorizer") | Some("cognito") => AuthMode::Authorizer,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "AUTH_MODE",
                    reason: format!("`{other}` is not one of local, authorizer"),
                });
            }
        };
        let hold_seconds = match get("HOLD_SECONDS") {
            None => 900,
            Some(v) => v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=86_400).contains(n))
                .ok_or_else(|| ConfigError::Invalid {
                    name: "HOLD_SECONDS",
                    reason: format!("`{v}` is not a whole number of seconds from 1 to 86400"),
                })?,
        };
        Ok(Config {
            table_name,
            auth,
            hold_seconds,
            service: get("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|| service.to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup("catalog", |k| map.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let c = config(&[("TABLE_NAME", "t")]).expect("valid");
        assert_eq!(c.hold_seconds, 900);
        assert!(matches!(c.auth, AuthMode::Authorizer));
        assert_eq!(c.service, "catalog");
    }

    #[test]
    fn local_mode_and_overrides() {
        let c = config(&[
            ("TABLE_NAME", "t"),
            ("AUTH_MODE", "local"),
            ("HOLD_SECONDS", "2"),
        ])
        .expect("valid");
        assert!(matches!(c.auth, AuthMode::Local { .. }));
        assert_eq!(c.hold_seconds, 2);
    }

    #[test]
    fn bad_settings_refuse_to_start() {
        assert!(config(&[]).is_err());
        assert!(config(&[("TABLE_NAME", "t"), ("AUTH_MODE", "none")]).is_err());
        assert!(config(&[("TABLE_NAME", "t"), ("HOLD_SECONDS", "soon")]).is_err());
        assert!(config(&[("TABLE_NAME", "t"), ("HOLD_SECONDS", "0")]).is_err());
    }
}
