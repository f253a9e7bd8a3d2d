//! The use cases: orchestration over the ports, unit-tested with in-memory fakes.

pub mod feed;
