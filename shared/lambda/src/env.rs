//! Configuration from the environment and the clients built from it, once per cold start:
//! [`Env::load`] for the API functions, [`Env::load_worker`] for the event consumers.

use crate::BoxError;
#[cfg(feature = "local")]
use crate::auth::DEFAULT_LOCAL_SECRET;
use crate::auth::{AuthMode, CognitoVerifier};
pub use crate::config_error::ConfigError;
use bazaar_aws::table::Table;
use bazaar_domain::quota::Quotas;
use std::sync::Arc;

/// What a function builds once per cold start: its configuration, the AWS SDK configuration and
/// the table handle. Adapters come from [`Env::table`] (`env.table.cart()`), other clients from
/// the helpers below.
#[derive(Debug, Clone)]
pub struct Env {
    /// The settings read from the environment.
    pub config: Config,
    /// The AWS SDK configuration (`AWS_ENDPOINT_URL`, credentials and region are the SDK's).
    pub sdk: aws_config::SdkConfig,
    /// The single table, through a call-counting DynamoDB client.
    pub table: Table,
}

impl Env {
    /// An API function's environment: installs the JSON logs, reads [`Config::from_env`] (the
    /// function refuses to start on a missing or malformed setting), builds the SDK configuration
    /// and the [`Table`].
    pub async fn load(service: &str) -> Result<Env, BoxError> {
        crate::cold_start::init_started(service);
        crate::telemetry::init_tracing();
        Ok(Self::with(Config::from_env(service)?).await)
    }

    /// An event consumer's environment (SQS, stream, schedule): as [`Env::load`], but reading
    /// only [`Config::worker_from_env`] — a worker authenticates nobody, so the auth settings a
    /// template gives every function are not read.
    pub async fn load_worker(service: &str) -> Result<Env, BoxError> {
        crate::cold_start::init_started(service);
        crate::telemetry::init_tracing();
        Ok(Self::with(Config::worker_from_env(service)?).await)
    }

    /// The environment of `config`, with the SDK configuration from the process environment.
    pub async fn with(config: Config) -> Env {
        let sdk = bazaar_aws::table::sdk_config().await;
        let table = Table::from_sdk(&sdk, config.table_name.clone());
        Env { config, sdk, table }
    }

    /// The payment provider (`PAYMENTS`): `test` (default) is the built-in test gateway over the
    /// table; `stripe` is Stripe at `STRIPE_API_BASE` (localstripe locally) with the secret key
    /// `STRIPE_SECRET_KEY`. A function refuses to start on any other value or a missing key.
    #[cfg(feature = "payments")]
    pub async fn payment_provider(
        &self,
    ) -> Result<bazaar_aws::provider::Provider, crate::BoxError> {
        let name = std::env::var("PAYMENTS").unwrap_or_default();
        self.payment_provider_named(&name).await
    }

    #[cfg(feature = "payments")]
    async fn payment_provider_named(
        &self,
        name: &str,
    ) -> Result<bazaar_aws::provider::Provider, crate::BoxError> {
        use bazaar_aws::provider::Provider;
        match name {
            "test" | "" => {
                let gateway = self.table.test_gateway();
                // Local measurements only: the provider's latency stood in by a fixed delay
                // (compiled out of builds without the feature `local`).
                let local =
                    crate::LOCAL_BUILD && std::env::var("AUTH_MODE").as_deref() == Ok("local");
                match std::env::var("PAYMENTS_STUB_DELAY_MS")
                    .ok()
                    .map(|v| v.parse::<u64>())
                {
                    Some(Ok(ms)) if crate::LOCAL_BUILD && local => Ok(Provider::Test(
                        gateway.with_delay(std::time::Duration::from_millis(ms)),
                    )),
                    Some(_) => Err(
                        "PAYMENTS_STUB_DELAY_MS needs AUTH_MODE=local and a number of milliseconds"
                            .into(),
                    ),
                    None => Ok(Provider::Test(gateway)),
                }
            }
            "stripe" => {
                let key = self
                    .secret("STRIPE_SECRET_KEY", "STRIPE_SECRET_ARN")
                    .await?;
                let base = std::env::var("STRIPE_API_BASE")
                    .unwrap_or_else(|_| bazaar_aws::stripe::API_BASE.to_owned());
                Ok(Provider::Stripe(bazaar_aws::stripe::StripeClient::new(
                    &base, &key,
                )?))
            }
            other => Err(format!("PAYMENTS must be test or stripe, not {other:?}").into()),
        }
    }

    /// The payouts provider (`PAYOUTS`, default: as `PAYMENTS`): `test` is the built-in
    /// emulation of connected accounts and transfers over the table (the local stack uses it with
    /// `PAYMENTS=stripe`, because localstripe emulates no Connect); `stripe` is Stripe Connect.
    #[cfg(feature = "payments")]
    pub async fn payouts_provider(
        &self,
    ) -> Result<bazaar_aws::provider::Provider, crate::BoxError> {
        match std::env::var("PAYOUTS").ok().filter(|p| !p.is_empty()) {
            Some(p) if p == "test" => Ok(bazaar_aws::provider::Provider::Test(
                self.table.test_gateway(),
            )),
            Some(p) if p == "stripe" => self.payment_provider_named(&p).await,
            Some(other) => Err(format!("PAYOUTS must be test or stripe, not {other:?}").into()),
            None => self.payment_provider().await,
        }
    }

    /// The webhook verifier: Stripe's scheme with `STRIPE_WEBHOOK_SECRET` (none: every delivery
    /// is refused with `400`).
    #[cfg(feature = "payments")]
    pub async fn webhook_verifier(
        &self,
    ) -> Result<bazaar_aws::provider::StripeWebhooks, crate::BoxError> {
        let secret = match std::env::var("PAYMENTS").as_deref() {
            Ok("stripe") => Some(
                self.secret("STRIPE_WEBHOOK_SECRET", "STRIPE_WEBHOOK_SECRET_ARN")
                    .await?,
            ),
            _ => std::env::var("STRIPE_WEBHOOK_SECRET").ok(),
        };
        Ok(bazaar_aws::provider::StripeWebhooks::new(secret))
    }

    /// A secret: the variable `plain` when set (the local stack), else the Secrets Manager secret
    /// whose ARN is in `arn` (AWS: read once per cold start; the function's role may read exactly
    /// that secret). Neither → the function refuses to start.
    #[cfg(feature = "payments")]
    async fn secret(&self, plain: &str, arn: &str) -> Result<String, crate::BoxError> {
        if let Ok(value) = std::env::var(plain)
            && !value.is_empty()
        {
            return Ok(value);
        }
        let id = std::env::var(arn)
            .ok()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| format!("PAYMENTS=stripe needs {plain} or {arn}"))?;
        let out = aws_sdk_secretsmanager::Client::new(&self.sdk)
            .get_secret_value()
            .secret_id(&id)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "reading the secret {arn}: {}",
                    aws_sdk_secretsmanager::error::DisplayErrorContext(e)
                )
            })?;
        out.secret_string
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("the secret {arn} has no string value").into())
    }

    /// The marketplace fee in basis points (`MARKETPLACE_FEE_BPS`, default 1000 = 10 %, at most
    /// 5000): recorded on each order's share of a payment at checkout.
    pub fn marketplace_fee_bps(&self) -> Result<u32, crate::BoxError> {
        match std::env::var("MARKETPLACE_FEE_BPS")
            .ok()
            .filter(|v| !v.trim().is_empty())
        {
            None => Ok(bazaar_domain::services::checkout::DEFAULT_FEE_BPS),
            Some(v) => match v.trim().parse::<u32>() {
                Ok(bps) if bps <= 5_000 => Ok(bps),
                _ => Err(
                    format!("MARKETPLACE_FEE_BPS must be 0..=5000 basis points, not {v:?}").into(),
                ),
            },
        }
    }

    /// An SQS client.
    pub fn sqs(&self) -> bazaar_aws::sqs::Client {
        bazaar_aws::sqs::client(&self.sdk)
    }

    /// An SES v2 client.
    pub fn ses(&self) -> bazaar_aws::ses::Client {
        bazaar_aws::ses::client(&self.sdk)
    }

    /// Opens the configured search engine (`SEARCH_BACKEND`, see
    /// [`bazaar_search::EngineConfig::from_env`]); OpenSearch requests are signed with
    /// [`Env::sdk`].
    #[cfg(feature = "search")]
    pub async fn search_engine(&self) -> Result<bazaar_search::Engine, BoxError> {
        let config = bazaar_search::EngineConfig::from_env()?;
        Ok(bazaar_search::Engine::open(&config, &self.sdk).await?)
    }
}

/// The value of a required environment variable (blank counts as unset).
pub fn required(name: &'static str) -> Result<String, ConfigError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or(ConfigError::Missing(name))
}

/// Variables AWS Lambda sets in every execution environment, whatever the runtime (the function's
/// code directory, and the runtime identifier of the managed runtimes), and reserves: a function's
/// configuration can neither set nor remove them. The local stack sets neither (its functions
/// start from an empty environment, `infra/src/gateway.rs`). Either present means "deployed in
/// AWS Lambda", where `AUTH_MODE=local` is refused.
pub const LAMBDA_IN_AWS: &[&str] = &["LAMBDA_TASK_ROOT", "AWS_EXECUTION_ENV"];

/// Set to `1` by the local stack only (`bazaar-local env`): the one place where the published
/// `DEFAULT_LOCAL_SECRET` is accepted.
pub const LOCAL_STACK: &str = "BAZAAR_LOCAL_STACK";

/// The secret of `AUTH_MODE=local`, or why local auth cannot run here: never in AWS Lambda (any of
/// [`LAMBDA_IN_AWS`] set), never without an explicit `LOCAL_JWT_SECRET` (there is no default), and
/// never with the published `DEFAULT_LOCAL_SECRET` outside the local stack ([`LOCAL_STACK`]).
#[cfg(feature = "local")]
fn local_secret(get: &impl Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
    if let Some(var) = LAMBDA_IN_AWS
        .iter()
        .find(|v| get(v).is_some_and(|x| !x.trim().is_empty()))
    {
        return Err(ConfigError::Invalid {
            name: "AUTH_MODE",
            reason: format!(
                "`local` in AWS Lambda ({var} is set): a deployed function trusts only the API Gateway authorizer"
            ),
        });
    }
    let secret = get("LOCAL_JWT_SECRET")
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ConfigError::Invalid {
            name: "LOCAL_JWT_SECRET",
            reason: "required with AUTH_MODE=local (there is no default secret)".to_owned(),
        })?;
    if secret == DEFAULT_LOCAL_SECRET && get(LOCAL_STACK).as_deref() != Some("1") {
        return Err(ConfigError::Invalid {
            name: "LOCAL_JWT_SECRET",
            reason: format!(
                "the published local secret is accepted only in the local stack ({LOCAL_STACK}=1, set by `bazaar-local env`); choose your own"
            ),
        });
    }
    Ok(secret)
}

/// Everything a function reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// The single DynamoDB table (`TABLE_NAME`).
    pub table_name: String,
    /// `AUTH_MODE=local` verifies HS256 tokens with `LOCAL_JWT_SECRET` (never in AWS Lambda, never
    /// without an explicit secret, the published one only in the local stack: [`local_secret`]);
    /// anything else trusts only the API Gateway authorizer, and, when `COGNITO_ISSUER` and `COGNITO_CLIENT_ID` are set (both or
    /// neither; `COGNITO_JWKS_URL` optionally overrides `<issuer>/.well-known/jwks.json`), verifies
    /// Cognito tokens on public routes ([`AuthMode::optional_verified`]).
    pub auth: AuthMode,
    /// How long a cart line holds its units (`HOLD_SECONDS`, default 900).
    pub hold_seconds: i64,
    /// The service name put on logs and metrics (`AWS_LAMBDA_FUNCTION_NAME` or the binary's name).
    pub service: String,
    /// Per-user write quotas (`QUOTAS`: `off`, or overrides such as `cart=300/60`; see
    /// [`Quotas::parse`]).
    pub quotas: Quotas,
}

impl Config {
    /// An API function's settings, from the process environment.
    pub fn from_env(service: &str) -> Result<Self, ConfigError> {
        Self::from_lookup(service, |k| std::env::var(k).ok())
    }

    /// An event consumer's settings, from the process environment (see [`Config::worker_from_lookup`]).
    pub fn worker_from_env(service: &str) -> Result<Self, ConfigError> {
        Self::worker_from_lookup(service, |k| std::env::var(k).ok())
    }

    /// An event consumer's settings: `TABLE_NAME` and the service name only. The auth settings
    /// are not read (a worker serves no caller: [`AuthMode::Authorizer`] without Cognito), the
    /// hold is the default.
    pub fn worker_from_lookup(
        service: &str,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        Ok(Config {
            table_name: table_name(&get)?,
            auth: AuthMode::Authorizer { cognito: None },
            hold_seconds: 900,
            service: get("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|| service.to_owned()),
            quotas: Quotas::default(),
        })
    }

    /// Reads settings through `get`, so tests need not touch the process environment.
    pub fn from_lookup(
        service: &str,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let table_name = table_name(&get)?;
        let cognito = cognito_verifier(&get)?;
        let auth = match get("AUTH_MODE").as_deref().map(str::trim) {
            #[cfg(feature = "local")]
            Some("local") => AuthMode::local(&local_secret(&get)?),
            #[cfg(not(feature = "local"))]
            Some("local") => {
                return Err(ConfigError::Invalid {
                    name: "AUTH_MODE",
                    reason: "`local` is not in this build (a release build for AWS; the local \
                             stack's builds enable bazaar-lambda's feature `local`)"
                        .to_owned(),
                });
            }
            None | Some("") | Some("authorizer") | Some("cognito") => AuthMode::Authorizer {
                cognito: cognito.map(Arc::new),
            },
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
        let quotas = match get("QUOTAS") {
            None => Quotas::default(),
            Some(v) => Quotas::parse(&v).map_err(|e| ConfigError::Invalid {
                name: "QUOTAS",
                reason: e.to_string(),
            })?,
        };
        Ok(Config {
            table_name,
            auth,
            hold_seconds,
            service: get("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|| service.to_owned()),
            quotas,
        })
    }
}

fn table_name(get: &impl Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
    get("TABLE_NAME")
        .filter(|t| !t.trim().is_empty())
        .ok_or(ConfigError::Missing("TABLE_NAME"))
}

/// The Cognito verifier of public routes: `COGNITO_ISSUER` and `COGNITO_CLIENT_ID` both set (blank
/// counts as unset), or neither; `COGNITO_JWKS_URL` only with them.
fn cognito_verifier(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<CognitoVerifier>, ConfigError> {
    let set = |name: &str| get(name).filter(|v| !v.trim().is_empty());
    let issuer = set("COGNITO_ISSUER");
    let client_id = set("COGNITO_CLIENT_ID");
    let jwks_url = set("COGNITO_JWKS_URL");
    match (issuer, client_id) {
        (Some(issuer), Some(client_id)) => {
            CognitoVerifier::new(&issuer, &client_id, jwks_url.as_deref()).map(Some)
        }
        (None, None) if jwks_url.is_none() => Ok(None),
        (None, None) => Err(ConfigError::Invalid {
            name: "COGNITO_JWKS_URL",
            reason: "set without COGNITO_ISSUER and COGNITO_CLIENT_ID".to_owned(),
        }),
        (Some(_), None) => Err(ConfigError::Invalid {
            name: "COGNITO_CLIENT_ID",
            reason: "required when COGNITO_ISSUER is set".to_owned(),
        }),
        (None, Some(_)) => Err(ConfigError::Invalid {
            name: "COGNITO_ISSUER",
            reason: "required when COGNITO_CLIENT_ID is set".to_owned(),
        }),
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
        assert!(matches!(c.auth, AuthMode::Authorizer { cognito: None }));
        assert_eq!(c.service, "catalog");
    }

    #[test]
    fn workers_read_the_table_and_nothing_of_auth() {
        let map: HashMap<&str, &str> = [
            ("TABLE_NAME", "t"),
            ("COGNITO_ISSUER", "not a url"),
            ("AUTH_MODE", "none"),
        ]
        .into();
        let c = Config::worker_from_lookup("relay", |k| map.get(k).map(|v| (*v).to_owned()))
            .expect("valid");
        assert_eq!((c.table_name.as_str(), c.service.as_str()), ("t", "relay"));
        assert!(matches!(c.auth, AuthMode::Authorizer { cognito: None }));
        assert!(Config::worker_from_lookup("relay", |_| None).is_err());
    }

    #[test]
    fn local_mode_and_overrides() {
        let c = config(&[
            ("TABLE_NAME", "t"),
            ("AUTH_MODE", "local"),
            ("LOCAL_JWT_SECRET", "a-secret-of-my-own"),
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

    const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC";

    #[test]
    fn cognito_needs_issuer_and_client_id() {
        let c = config(&[
            ("TABLE_NAME", "t"),
            ("COGNITO_ISSUER", ISSUER),
            ("COGNITO_CLIENT_ID", "client123"),
        ])
        .expect("valid");
        let AuthMode::Authorizer {
            cognito: Some(verifier),
        } = &c.auth
        else {
            panic!("a verifier: {:?}", c.auth);
        };
        assert_eq!(verifier.issuer(), ISSUER);
        assert_eq!(verifier.client_ids(), ["client123"]);
        assert_eq!(
            verifier.jwks_url(),
            format!("{ISSUER}/.well-known/jwks.json")
        );

        let c = config(&[
            ("TABLE_NAME", "t"),
            ("AUTH_MODE", "authorizer"),
            ("COGNITO_ISSUER", ISSUER),
            ("COGNITO_CLIENT_ID", "client123"),
            ("COGNITO_JWKS_URL", "http://127.0.0.1:9/jwks.json"),
        ])
        .expect("valid");
        let AuthMode::Authorizer {
            cognito: Some(verifier),
        } = &c.auth
        else {
            panic!("a verifier: {:?}", c.auth);
        };
        assert_eq!(verifier.jwks_url(), "http://127.0.0.1:9/jwks.json");
        // Debug names the pool and client, nothing else.
        let debug = format!("{:?}", c.auth);
        assert!(
            debug.contains(ISSUER) && debug.contains("client123"),
            "{debug}"
        );

        // Blank counts as unset.
        let c = config(&[
            ("TABLE_NAME", "t"),
            ("COGNITO_ISSUER", " "),
            ("COGNITO_CLIENT_ID", ""),
        ])
        .expect("valid");
        assert!(matches!(c.auth, AuthMode::Authorizer { cognito: None }));
    }

    #[test]
    fn half_a_cognito_configuration_refuses_to_start() {
        for pairs in [
            &[("COGNITO_ISSUER", ISSUER)][..],
            &[("COGNITO_CLIENT_ID", "client123")],
            &[("COGNITO_ISSUER", ISSUER), ("COGNITO_CLIENT_ID", " ")],
            &[("COGNITO_JWKS_URL", "http://127.0.0.1:9/jwks.json")],
            &[("COGNITO_ISSUER", "cognito"), ("COGNITO_CLIENT_ID", "c")],
            &[
                (
                    "COGNITO_ISSUER",
                    "http://cognito-idp.us-east-1.amazonaws.com/x",
                ),
                ("COGNITO_CLIENT_ID", "c"),
            ],
            &[
                ("COGNITO_ISSUER", format!("{ISSUER}/").as_str()),
                ("COGNITO_CLIENT_ID", "c"),
            ],
            &[("COGNITO_ISSUER", ISSUER), ("COGNITO_CLIENT_ID", "a b")],
            &[
                ("COGNITO_ISSUER", ISSUER),
                ("COGNITO_CLIENT_ID", "c"),
                ("COGNITO_JWKS_URL", "file:///etc/passwd"),
            ],
        ] {
            let mut all = vec![("TABLE_NAME", "t")];
            all.extend_from_slice(pairs);
            let err = config(&all).expect_err(&format!("{pairs:?}"));
            assert!(matches!(err, ConfigError::Invalid { .. }), "{err}");
        }
    }

    #[test]
    fn local_mode_has_no_cognito_verifier() {
        let c = config(&[
            ("TABLE_NAME", "t"),
            ("AUTH_MODE", "local"),
            ("LOCAL_JWT_SECRET", "a-secret-of-my-own"),
            ("COGNITO_ISSUER", ISSUER),
            ("COGNITO_CLIENT_ID", "client123"),
        ])
        .expect("valid");
        assert!(matches!(c.auth, AuthMode::Local { .. }));
        // The pair rule holds in every mode.
        assert!(
            config(&[
                ("TABLE_NAME", "t"),
                ("AUTH_MODE", "local"),
                ("LOCAL_JWT_SECRET", "a-secret-of-my-own"),
                ("COGNITO_ISSUER", ISSUER),
            ])
            .is_err()
        );
    }

    fn refusal(pairs: &[(&str, &str)]) -> (&'static str, String) {
        match config(pairs).map(|c| c.auth) {
            Err(ConfigError::Invalid { name, reason }) => (name, reason),
            other => panic!("{pairs:?} should refuse to start: {other:?}"),
        }
    }

    /// A deployed function never runs local auth: AWS Lambda sets LAMBDA_TASK_ROOT (every
    /// runtime) and AWS_EXECUTION_ENV (managed runtimes), reserved variables no configuration can
    /// remove, and with either set `AUTH_MODE=local` refuses to start — whatever the secret, even
    /// with the local stack's marker.
    #[test]
    fn local_auth_refuses_to_start_in_aws_lambda() {
        for lambda in [
            ("LAMBDA_TASK_ROOT", "/var/task"),
            ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023"),
        ] {
            for secret in [DEFAULT_LOCAL_SECRET, "a-secret-of-my-own"] {
                let (name, reason) = refusal(&[
                    ("TABLE_NAME", "t"),
                    ("AUTH_MODE", "local"),
                    ("LOCAL_JWT_SECRET", secret),
                    (LOCAL_STACK, "1"),
                    lambda,
                ]);
                assert_eq!(name, "AUTH_MODE");
                assert!(reason.contains(lambda.0), "{reason}");
            }
            // The authorizer mode runs in Lambda, of course.
            let c =
                config(&[("TABLE_NAME", "t"), ("AUTH_MODE", "authorizer"), lambda]).expect("valid");
            assert!(matches!(c.auth, AuthMode::Authorizer { .. }));
        }
    }

    /// Local auth needs an explicit secret (no silent default), and the published default only
    /// in the local stack (`BAZAAR_LOCAL_STACK=1`, which `bazaar-local env` sets).
    #[test]
    fn local_auth_needs_its_own_secret_outside_the_local_stack() {
        for missing in [&[][..], &[("LOCAL_JWT_SECRET", " ")]] {
            let mut pairs = vec![("TABLE_NAME", "t"), ("AUTH_MODE", "local")];
            pairs.extend_from_slice(missing);
            assert_eq!(refusal(&pairs).0, "LOCAL_JWT_SECRET");
        }
        for marker in [&[][..], &[(LOCAL_STACK, "0")], &[(LOCAL_STACK, "yes")]] {
            let mut pairs = vec![
                ("TABLE_NAME", "t"),
                ("AUTH_MODE", "local"),
                ("LOCAL_JWT_SECRET", DEFAULT_LOCAL_SECRET),
            ];
            pairs.extend_from_slice(marker);
            let (name, reason) = refusal(&pairs);
            assert_eq!(name, "LOCAL_JWT_SECRET");
            assert!(reason.contains("local stack"), "{reason}");
        }
        let c = config(&[
            ("TABLE_NAME", "t"),
            ("AUTH_MODE", "local"),
            ("LOCAL_JWT_SECRET", DEFAULT_LOCAL_SECRET),
            (LOCAL_STACK, "1"),
        ])
        .expect("the local stack");
        assert!(matches!(c.auth, AuthMode::Local { .. }));
    }
}
