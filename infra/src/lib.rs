//! Local stack tooling. Everything here is derived from `template.yaml`: the DynamoDB tables
//! (`local::provision`), the cargo-lambda router (`local::router_toml`) and the functions'
//! environment (`local::local_environment`); plus the deterministic demo catalog (`seed`) and
//! helpers for integration tests against the emulator (`testing`).

pub mod events;
pub mod local;
pub mod pump;
pub mod reindex;
pub mod seed;
pub mod seed_data;
pub mod template;
pub mod testing;
