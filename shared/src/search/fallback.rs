//! Degraded search (placeholder).
