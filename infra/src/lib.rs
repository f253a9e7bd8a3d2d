//! Local stack tooling. Everything here is derived from `template.yaml`: the DynamoDB tables
//! (`local::provision`), the local API and Lambda service (`gateway`, `serve`), the event sources
//! (`pump`) and the functions' environment (`local::local_environment`); plus the deterministic demo catalog (`seed`) and
//! helpers for integration tests against the emulator (`testing`).

pub mod access;
pub mod events;
pub mod gateway;
pub mod local;
mod operations;
pub mod pump;
pub mod reindex;
pub mod seed;
pub mod seed_data;
pub mod serve;
pub mod template;
pub mod testing;
