//! Idempotent requests as data: the stored response and the outcome of claiming a key. The store
//! is a port ([`crate::ports::IdempotencyStore`]); the HTTP layer is `bazaar_lambda::idempotent`.

use serde::{Deserialize, Serialize};

/// How long a completed record is kept (and replayed).
pub const RECORD_TTL_SECONDS: i64 = 24 * 3600;

/// A response as stored for replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

/// The outcome of claiming a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The caller owns the key now; `token` proves it when completing or releasing.
    Fresh { token: String },
    /// The request already completed: replay this.
    Replay(StoredResponse),
    /// Another attempt is running; retry after this many seconds.
    InProgress { retry_after: u64 },
}
