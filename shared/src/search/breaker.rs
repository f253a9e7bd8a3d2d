//! Circuit breaker (placeholder; filled in below).
