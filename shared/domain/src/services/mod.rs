//! The use cases: orchestration over the ports, unit-tested with in-memory fakes.

pub mod cart;
pub mod checkout;
pub mod feed;
pub mod orders;
pub mod payments;
