//! Every AWS call Bazaar makes. The single-table schema lives only here ([`schema`]); each module
//! adapts one port of `bazaar_domain::ports` to DynamoDB (or SQS, SES), translating and never
//! deciding: the rules are the domain's.

pub mod calls;
pub mod cart;
pub mod catalog;
pub mod checkout;
pub mod idempotency;
pub mod listing;
pub mod notifications;
pub mod orders;
pub mod payment_store;
pub mod payments;
pub mod personalize;
#[cfg(feature = "stripe")]
pub mod provider;
pub mod quota;
pub mod records;
pub mod schema;
pub mod ses;
pub mod source;
pub mod sqs;
pub mod stores;
pub mod stream;
#[cfg(feature = "stripe")]
pub mod stripe;
pub mod table;
