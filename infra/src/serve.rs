//! `bazaar-local serve`: the local API ([`crate::gateway`]) with every function of the template
//! and, unless told otherwise, Lambda's event sources ([`crate::pump`]) — one process that
//! `make dev` and `make test` start once the binaries are built.

use crate::gateway::{FunctionSpec, Gateway, GatewayConfig};
use crate::local::{InfraError, LocalNames};
use crate::pump::PumpStatus;
use crate::template::Template;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How `serve` runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub port: u16,
    /// The functions' environment (`KEY=VALUE` lines, as `bazaar-local env` writes them).
    pub env_file: PathBuf,
    /// Where the function binaries are (`target/debug` or `target/release`).
    pub bin_dir: PathBuf,
    /// Instances per function at most (Lambda's concurrency, locally).
    pub concurrency: usize,
    /// Whether to play the template's event sources against these functions.
    pub pump: bool,
    pub log_dir: PathBuf,
}

/// Reads `KEY=VALUE` lines (blank lines and `#` comments skipped).
pub fn read_env_file(path: &Path) -> Result<BTreeMap<String, String>, InfraError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| InfraError::Shape(format!("{}: {e}", path.display())))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
        .collect())
}

/// The storefront's files: `BAZAAR_WEB_DIR`, or the repository's `web/`.
fn web_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("BAZAAR_WEB_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../web"));
    dir.is_dir().then_some(dir)
}

/// The gateway's configuration for `template`'s functions and routes.
pub fn gateway_config(
    template: &Template,
    opts: &ServeOptions,
) -> Result<GatewayConfig, InfraError> {
    let env = read_env_file(&opts.env_file)?;
    let mut functions = Vec::new();
    for f in template.functions()? {
        let binary = opts.bin_dir.join(&f.binary);
        if !binary.is_file() {
            return Err(InfraError::Shape(format!(
                "{} is not built (cargo build --bins first)",
                binary.display()
            )));
        }
        let number = |name: &str, default: u64| {
            template
                .function_property(&f.logical_id, name)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(default)
        };
        functions.push(FunctionSpec {
            name: f.binary.clone(),
            binary,
            max_instances: opts.concurrency.max(1),
            timeout: Duration::from_secs(number("Timeout", 3)),
            memory_mb: u32::try_from(number("MemorySize", 128)).unwrap_or(128),
        });
    }
    // The functions' own secret (`bazaar-local env` always writes it): the gateway's authorizer
    // emulation accepts exactly the tokens the functions do.
    let jwt_secret = env
        .get("LOCAL_JWT_SECRET")
        .cloned()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            InfraError::Shape(format!(
                "{} has no LOCAL_JWT_SECRET (write it with `bazaar-local env`)",
                opts.env_file.display()
            ))
        })?;
    Ok(GatewayConfig {
        routes: template.http_routes()?,
        functions,
        env,
        jwt_secret,
        log_dir: opts.log_dir.clone(),
        web_dir: web_dir(),
    })
}

/// Serves until the process is stopped.
pub async fn serve(
    template: &Template,
    names: &LocalNames,
    endpoint: &str,
    opts: ServeOptions,
) -> Result<(), InfraError> {
    let mut gateway = Gateway::new(gateway_config(template, &opts)?, opts.port);
    if opts.pump {
        // Checked before anything starts: a template setting the emulation does not honour.
        crate::pump::sources(template, names, endpoint, "us-east-1", opts.concurrency)?;
        let status = Arc::new(PumpStatus::default());
        gateway = gateway.with_pump(status.clone());
        let sdk = bazaar_aws::table::sdk_config().await;
        let api = format!("http://127.0.0.1:{}", opts.port);
        let (template, names, endpoint) = (template.clone(), names.clone(), endpoint.to_owned());
        let concurrency = opts.concurrency;
        tokio::spawn(async move {
            let run = crate::pump::run(
                &sdk,
                &template,
                &names,
                &endpoint,
                &api,
                concurrency,
                status,
            );
            if let Err(e) = run.await {
                eprintln!("pump: {e}");
            }
        });
    }
    let server = tokio::spawn(gateway.serve());
    match server.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(InfraError::Shape(format!("serving on {}: {e}", opts.port))),
        Err(e) => Err(InfraError::Shape(format!("the gateway stopped: {e}"))),
    }
}
