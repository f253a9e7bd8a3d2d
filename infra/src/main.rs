//! `bazaar-local`: the local stack's tool, driven by the Makefile.
//!
//! ```text
//! bazaar-local events                   write events/<function>/<route>.json for `cargo lambda invoke`
//! bazaar-local functions                print the template's function binaries, one a line
//! bazaar-local env                      print the functions' local environment (KEY=VALUE lines)
//! bazaar-local provision [--import]     create the template's tables and queues in the emulator
//!                                       (--import: streams off until `streams`, for a bulk seed)
//! bazaar-local streams                  turn on the streams the template declares
//! bazaar-local serve PORT ENV_FILE [--no-pump]  the local API Gateway + Lambda service (+ pump)
//! bazaar-local seed                     load the demo catalog (SEED_SHOPS, SEED_PRODUCTS, SEED)
//! bazaar-local reindex                  rebuild the search index from the table (SEARCH_BACKEND,
//!                                       INDEX_DIR or OPENSEARCH_URL; TABLE_NAME to name the table)
//! bazaar-local token USER [TTL_SECONDS] print a local bearer token for USER
//! bazaar-local sign-event FILE [TTL_SECONDS]
//!                                       print a sample event (events/) with a fresh bearer token
//!                                       for its user (default 300 s), for the local functions
//! bazaar-local dynamodb-access RECORDING [--update]
//!                                       the functions' recorded DynamoDB requests (moto's
//!                                       MOTO_RECORD_DYNAMODB file) against their policies and
//!                                       infra/dynamodb-access.tsv (--update: add the new ones)
//! ```
//! Resource names are `<BAZAAR_STACK>-<LogicalId>` (default stack `bazaar-dev`).

use bazaar_infra::local::{self, LocalNames};
use bazaar_infra::seed::{self, SeedOptions, SeedOutcome};
use bazaar_infra::template::{Template, repo_root};
use std::process::ExitCode;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> Result<T, BoxError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map_err(|_| format!("{name}={v} is not valid").into()),
        _ => Ok(default),
    }
}

fn names() -> LocalNames {
    LocalNames::new(std::env::var("BAZAAR_STACK").unwrap_or_else(|_| "bazaar-dev".into()))
}

async fn dynamo() -> aws_sdk_dynamodb::Client {
    bazaar_aws::table::client(&bazaar_aws::table::sdk_config().await)
}

/// The search engine the local tools write: the embedded index of `make dev` by default;
/// SEARCH_BACKEND=opensearch (with OPENSEARCH_URL, signed with the caller's AWS credentials) a domain.
async fn engine() -> Result<bazaar_search::Engine, BoxError> {
    let config = match std::env::var("SEARCH_BACKEND").as_deref() {
        Ok("opensearch") => bazaar_search::EngineConfig::from_env()?,
        _ => bazaar_search::EngineConfig::Embedded {
            dir: std::env::var("INDEX_DIR")
                .ok()
                .filter(|d| !d.trim().is_empty())
                .map(Into::into)
                .unwrap_or_else(|| repo_root().join(".local").join("search-index")),
        },
    };
    let sdk = bazaar_aws::table::sdk_config().await;
    Ok(bazaar_search::Engine::open(&config, &sdk).await?)
}

/// Rebuilds the search index from `table`.
async fn reindex(table: &str) -> Result<(), BoxError> {
    let engine = engine().await?;
    let sdk = bazaar_aws::table::sdk_config().await;
    let source = bazaar_aws::source::TableSource::new(bazaar_aws::table::client(&sdk), table);
    let report = bazaar_infra::reindex::reindex(&engine, &source).await?;
    eprintln!(
        "reindexed {table} into the {} engine: {} products read in {:.1}s, {} indexed, {} already current, in {:.1}s",
        engine.name(),
        report.read,
        report.read_time.as_secs_f64(),
        report.indexed,
        report.stale,
        report.index_time.as_secs_f64()
    );
    Ok(())
}

async fn run(args: &[String]) -> Result<(), BoxError> {
    let template = Template::load_repo()?;
    match args.first().map(String::as_str) {
        Some("events") => {
            let ids = bazaar_infra::events::SampleIds::from_default_seed();
            for (file, event) in bazaar_infra::events::all(&template, &ids)? {
                let path = repo_root().join(&file);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                std::fs::write(&path, serde_json::to_string_pretty(&event)? + "\n")?;
                eprintln!("wrote {file}");
            }
        }
        Some("functions") => {
            for f in template.functions()? {
                println!("{}", f.binary);
            }
        }
        Some("env") => {
            let env = local::local_environment(&template, &names(), &|k| std::env::var(k).ok())?;
            for (k, v) in env {
                println!("{k}={v}");
            }
        }
        Some("provision") => {
            let sdk = bazaar_aws::table::sdk_config().await;
            let client = bazaar_aws::table::client(&sdk);
            let import = args.iter().any(|a| a == "--import");
            for (id, name) in local::provision(&client, &template, &names(), import).await? {
                eprintln!("table {id} -> {name}");
            }
            let region = sdk
                .region()
                .map(|r| r.to_string())
                .unwrap_or_else(|| "us-east-1".into());
            let sqs = aws_sdk_sqs::Client::new(&sdk);
            for (id, url) in local::provision_queues(&sqs, &template, &names(), &region).await? {
                eprintln!("queue {id} -> {url}");
            }
            // The notifier's sender must be a verified SES identity (the emulator verifies at once).
            if let Some(sender) = std::env::var("NOTIFY_SENDER")
                .ok()
                .filter(|s| !s.trim().is_empty())
            {
                let verified = aws_sdk_sesv2::Client::new(&sdk)
                    .create_email_identity()
                    .email_identity(&sender)
                    .send()
                    .await;
                if let Err(e) = verified {
                    let text = aws_sdk_sesv2::error::DisplayErrorContext(e).to_string();
                    if !text.contains("AlreadyExists") {
                        return Err(format!("verifying {sender}: {text}").into());
                    }
                }
                eprintln!("ses identity {sender} verified");
            }
        }
        Some("serve") => {
            // serve PORT ENV_FILE [--no-pump]: the local API and Lambda service (see serve.rs).
            let port: u16 = args
                .get(1)
                .and_then(|p| p.parse().ok())
                .ok_or("usage: bazaar-local serve PORT ENV_FILE [--no-pump]")?;
            let env_file = args
                .get(2)
                .ok_or("usage: bazaar-local serve PORT ENV_FILE [--no-pump]")?;
            let endpoint = std::env::var("AWS_ENDPOINT_URL")
                .unwrap_or_else(|_| local::DEFAULT_ENDPOINT.to_owned());
            let exe = std::env::current_exe()?;
            let opts = bazaar_infra::serve::ServeOptions {
                port,
                env_file: env_file.into(),
                // The functions are built beside this tool (same profile).
                bin_dir: exe
                    .parent()
                    .map(std::path::Path::to_path_buf)
                    .unwrap_or_default(),
                concurrency: env_or("LAMBDA_CONCURRENCY", 4)?,
                pump: !args.iter().any(|a| a == "--no-pump"),
                log_dir: repo_root().join(".local").join(format!("logs-{port}")),
            };
            bazaar_infra::serve::serve(&template, &names(), &endpoint, opts).await?;
        }
        Some("streams") => {
            let client = dynamo().await;
            for table in local::enable_streams(&client, &template, &names()).await? {
                eprintln!("stream of {table} enabled");
            }
        }
        Some("seed") => {
            // seed [--index]: with --index, a catalog just written is also indexed (from what was
            // written, in bulks, as `reindex` would from the table); a catalog already there is
            // reindexed from the table.
            let defaults = SeedOptions::default();
            let opts = SeedOptions {
                shops: env_or("SEED_SHOPS", defaults.shops)?,
                products: env_or("SEED_PRODUCTS", defaults.products)?,
                seed: env_or("SEED", defaults.seed)?,
            };
            let index = args.iter().any(|a| a == "--index");
            let table = names().resource("Table");
            let started = std::time::Instant::now();
            match seed::seed(&dynamo().await, &table, opts).await? {
                SeedOutcome::Skipped => {
                    eprintln!("{table} already holds this catalog; seeding skipped");
                    if index {
                        reindex(&table).await?;
                    }
                }
                SeedOutcome::Seeded {
                    shops,
                    products,
                    items,
                } => {
                    eprintln!(
                        "seeded {} shops and {} products ({items} items) into {table} in {:.1}s",
                        shops.len(),
                        products.len(),
                        started.elapsed().as_secs_f64()
                    );
                    if index {
                        let started = std::time::Instant::now();
                        let shops: std::collections::HashMap<&str, &bazaar_domain::catalog::Shop> =
                            shops.iter().map(|s| (s.id.as_str(), s)).collect();
                        let docs: Vec<bazaar_domain::search::SearchDoc> = products
                            .iter()
                            .filter_map(|p| {
                                Some(bazaar_domain::search::SearchDoc::new(
                                    p,
                                    shops.get(p.shop_id.as_str())?,
                                ))
                            })
                            .collect();
                        let engine = engine().await?;
                        let report = bazaar_infra::reindex::index_documents(&engine, docs).await?;
                        eprintln!(
                            "indexed the {} seeded products into the {} engine in {:.1}s",
                            report.indexed,
                            engine.name(),
                            started.elapsed().as_secs_f64()
                        );
                    }
                }
            }
        }
        Some("reindex") => {
            let table = std::env::var("TABLE_NAME")
                .ok()
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| names().resource("Table"));
            reindex(&table).await?;
        }
        Some("sign-event") => {
            let file = args
                .get(1)
                .ok_or("usage: bazaar-local sign-event FILE [TTL_SECONDS]")?;
            let ttl: i64 = match args.get(2) {
                Some(t) => t
                    .parse()
                    .map_err(|_| "TTL_SECONDS must be a whole number")?,
                None => bazaar_infra::events::SIGNED_EVENT_TTL_SECONDS,
            };
            let mut event: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(file)?)?;
            let secret = local::local_jwt_secret(&|k| std::env::var(k).ok());
            bazaar_infra::events::sign(&mut event, &secret, ttl)?;
            println!("{}", serde_json::to_string(&event)?);
        }
        Some("dynamodb-access") => {
            let recording = args
                .get(1)
                .ok_or("usage: bazaar-local dynamodb-access RECORDING [--update]")?;
            let update = args.iter().any(|a| a == "--update");
            let table = names().resource("Table");
            let report = bazaar_infra::access::run(
                std::path::Path::new(recording),
                &table,
                &template,
                update,
            )?;
            eprint!("{report}");
        }
        Some("token") => {
            let user = args
                .get(1)
                .ok_or("usage: bazaar-local token USER [TTL_SECONDS]")?;
            let ttl: i64 = match args.get(2) {
                Some(t) => t
                    .parse()
                    .map_err(|_| "TTL_SECONDS must be a whole number")?,
                None => 24 * 3600,
            };
            let secret = local::local_jwt_secret(&|k| std::env::var(k).ok());
            println!(
                "{}",
                bazaar_lambda::auth::mint_local_token(&secret, user, ttl, Some(user))?
            );
        }
        _ => {
            return Err(
                "usage: bazaar-local events | functions | env | provision [--import] | streams | serve PORT ENV_FILE [--no-pump] | seed [--index] | reindex | token USER [TTL] | sign-event FILE [TTL] | dynamodb-access RECORDING [--update]"
                    .into(),
            );
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bazaar-local: {e}");
            ExitCode::FAILURE
        }
    }
}
