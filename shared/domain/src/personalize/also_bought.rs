//! "Customers also bought": what recording an order's co-purchases did.

/// What applying an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Applied,
    /// The event was applied before (a redelivery).
    Duplicate,
}
