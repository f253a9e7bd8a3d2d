//! The one table, as every adapter reaches it: the SDK configuration and client (built once per
//! cold start), item mapping through `serde_dynamo`, conditional writes and cancelled
//! transactions, batch reads. The keys are in [`crate::schema`], the stored forms in
//! [`crate::records`].

use crate::schema::keys;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, KeysAndAttributes, Put, TransactWriteItem, Update,
};
use bazaar_domain::error::Error;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

/// Builds the AWS SDK configuration once per cold start. `AWS_ENDPOINT_URL` (moto, LocalStack) and
/// the usual credential and region variables are honoured by the SDK itself.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// A DynamoDB client built from `sdk` whose round trips are counted per request
/// (see [`crate::calls::counting_aws_calls`]).
pub fn client(sdk: &aws_config::SdkConfig) -> Client {
    let config = aws_sdk_dynamodb::config::Builder::from(sdk)
        .interceptor(crate::calls::CountAwsCalls)
        .build();
    Client::from_conf(config)
}

/// The one table as every adapter reaches it: the DynamoDB client and the table's name.
///
/// Built once per cold start (`bazaar_lambda::Env::load`) and cloned into each adapter; a clone is
/// cheap (the SDK client is an `Arc` inside, the name a short string). The adapter constructors
/// below are the only wiring a function needs: `table.cart()`, `table.catalog()`, …
#[derive(Debug, Clone)]
pub struct Table {
    client: Client,
    name: String,
}

impl Table {
    /// The table `name` reached through `client`.
    pub fn new(client: Client, name: impl Into<String>) -> Self {
        Self {
            client,
            name: name.into(),
        }
    }

    /// The table `name` through a (call-counting) client built from `sdk`.
    pub fn from_sdk(sdk: &aws_config::SdkConfig, name: impl Into<String>) -> Self {
        Self::new(client(sdk), name)
    }

    /// The DynamoDB client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Maps an SDK failure: throttling and transport trouble are `503` (retryable), the rest `500`.
pub fn from_sdk<E, R>(err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let transient = matches!(
        err,
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_)
    ) || matches!(
        err.code(),
        Some(
            "ThrottlingException"
                | "ProvisionedThroughputExceededException"
                | "RequestLimitExceeded"
                | "InternalServerError"
                | "ServiceUnavailable"
        )
    );
    if transient {
        Error::Unavailable(Box::new(err))
    } else {
        Error::Internal(Box::new(err))
    }
}

/// DynamoDB's limit on one item's size (400 KB), attribute names and values together.
pub const ITEM_SIZE_MAX: usize = 400 * 1024;

/// An upper bound of an item's size as DynamoDB counts it against [`ITEM_SIZE_MAX`]: names and
/// strings in UTF-8 bytes, binaries in bytes, a number one byte plus one per character of its
/// text (DynamoDB: about one per two digits), a boolean or null one byte, and a list or map
/// three bytes plus one per element besides its elements (DynamoDB's documented overheads; moto,
/// which counts no overhead and a number's characters, always finds less).
pub fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, v)| name.len() + value_size(v))
        .sum()
}

fn value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => 1 + n.len(),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(v) => v.iter().map(|s| s.len()).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| 1 + n.len()).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::L(l) => 3 + l.iter().map(|e| 1 + value_size(e)).sum::<usize>(),
        AttributeValue::M(m) => {
            3 + m
                .iter()
                .map(|(k, e)| 1 + k.len() + value_size(e))
                .sum::<usize>()
        }
        // A type this SDK does not know yet: count it as large as an item may be.
        _ => ITEM_SIZE_MAX,
    }
}

/// Write errors that can be a failed condition (`PutItem`, `UpdateItem`, `DeleteItem`).
pub trait ConditionFailure {
    /// `Some(old item, if DynamoDB returned it)` when the write's condition failed.
    fn condition_failed(&self) -> Option<Option<&Item>>;
}

macro_rules! condition_failure {
    ($($error:path),*) => {$(
        impl ConditionFailure for $error {
            fn condition_failed(&self) -> Option<Option<&Item>> {
                match self {
                    Self::ConditionalCheckFailedException(c) => Some(c.item()),
                    _ => None,
                }
            }
        }
    )*};
}

condition_failure!(
    aws_sdk_dynamodb::operation::put_item::PutItemError,
    aws_sdk_dynamodb::operation::update_item::UpdateItemError,
    aws_sdk_dynamodb::operation::delete_item::DeleteItemError
);

/// Splits a conditional write's result: `Ok(Ok(output))` when it was written, `Ok(Err(old))` when
/// its condition failed (with the old item when `ReturnValuesOnConditionCheckFailure=ALL_OLD`
/// returned it), `Err` for every other failure.
pub fn conditional<O, E>(
    result: Result<O, SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>>,
) -> Result<Result<O, Option<Item>>, Error>
where
    E: ConditionFailure + ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(output) => Ok(Ok(output)),
        Err(SdkError::ServiceError(e)) if e.err().condition_failed().is_some() => {
            Ok(Err(e.err().condition_failed().flatten().cloned()))
        }
        Err(err) => Err(from_sdk(err)),
    }
}

/// An opaque page cursor: the query's `LastEvaluatedKey` (string keys), as URL-safe base64 JSON.
pub(crate) fn encode_cursor(key: &Item) -> Result<String, Error> {
    use base64::Engine;
    let plain: HashMap<String, String> = key
        .iter()
        .filter_map(|(k, v)| v.as_s().ok().map(|s| (k.clone(), s.clone())))
        .collect();
    let json = serde_json::to_vec(&plain).map_err(Error::internal)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json))
}

/// The `ExclusiveStartKey` of a cursor from [`encode_cursor`], when it continues the list whose
/// partition attribute `partition` is `expected` and has the list's `key_count` key attributes
/// (2 for the table, 4 for an index); anything else is `400`, never a 500.
pub(crate) fn decode_cursor(
    cursor: &str,
    partition: &str,
    expected: &str,
    key_count: usize,
) -> Result<Item, Error> {
    use base64::Engine;
    let invalid = || Error::InvalidParameter {
        name: "cursor".into(),
        reason: "is not a cursor this list returned".into(),
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| invalid())?;
    let plain: HashMap<String, String> = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    // A cursor only continues the list it came from, and names exactly that list's key
    // attributes (the table's `pk`/`sk`, plus the index's own pair): a forged one with other
    // attribute names would reach DynamoDB as an invalid `ExclusiveStartKey` (a 500).
    let index_sort = partition.strip_suffix("pk").map(|stem| format!("{stem}sk"));
    let names: Vec<&str> = if partition == keys::PK {
        vec![keys::PK, keys::SK]
    } else {
        match &index_sort {
            Some(sort) => vec![keys::PK, keys::SK, partition, sort.as_str()],
            None => return Err(invalid()),
        }
    };
    if plain.get(partition).map(String::as_str) != Some(expected)
        || plain.len() != key_count
        || plain.len() != names.len()
        || !names.iter().all(|n| plain.contains_key(*n))
        || plain.values().any(|v| v.is_empty() || v.len() > 2048)
    {
        return Err(invalid());
    }
    Ok(plain
        .into_iter()
        .map(|(k, v)| (k, AttributeValue::S(v)))
        .collect())
}

pub(crate) fn key(pk_sk: (String, String)) -> Item {
    HashMap::from([
        (keys::PK.to_owned(), AttributeValue::S(pk_sk.0)),
        (keys::SK.to_owned(), AttributeValue::S(pk_sk.1)),
    ])
}

pub(crate) fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

pub(crate) fn to_item<T: Serialize>(value: &T) -> Result<Item, Error> {
    serde_dynamo::to_item(value).map_err(Error::internal)
}

pub(crate) fn from_item<'a, T: Deserialize<'a>>(item: Item) -> Result<T, Error> {
    serde_dynamo::from_item(item).map_err(Error::internal)
}

pub(crate) fn to_av<T: Serialize>(value: &T) -> Result<AttributeValue, Error> {
    serde_dynamo::to_attribute_value(value).map_err(Error::internal)
}

/// Accumulates `SET` clauses with placeholder names and values.
#[derive(Default)]
pub(crate) struct UpdateBuilder {
    pub(crate) sets: Vec<String>,
    pub(crate) names: HashMap<String, String>,
    pub(crate) values: HashMap<String, AttributeValue>,
}

impl UpdateBuilder {
    pub(crate) fn set(&mut self, attr: &str, value: AttributeValue) {
        let n = self.sets.len();
        self.names.insert(format!("#u{n}"), attr.to_owned());
        self.values.insert(format!(":u{n}"), value);
        self.sets.push(format!("#u{n} = :u{n}"));
    }

    pub(crate) fn value(&mut self, placeholder: &str, value: AttributeValue) {
        self.values.insert(placeholder.to_owned(), value);
    }

    pub(crate) fn name(&mut self, placeholder: &str, attr: &str) {
        self.names.insert(placeholder.to_owned(), attr.to_owned());
    }

    pub(crate) fn expression(&self, extra: &[&str]) -> String {
        let mut clauses: Vec<&str> = self.sets.iter().map(String::as_str).collect();
        clauses.extend_from_slice(extra);
        format!("SET {}", clauses.join(", "))
    }
}

/// The reasons of a cancelled transaction, one per action (`"None"` for actions that passed).
pub(crate) fn cancellation_codes(
    err: &SdkError<TransactWriteItemsError, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> Option<Vec<String>> {
    match err {
        SdkError::ServiceError(e) => match e.err() {
            TransactWriteItemsError::TransactionCanceledException(t) => Some(
                t.cancellation_reasons()
                    .iter()
                    .map(|r| r.code().unwrap_or("None").to_owned())
                    .collect(),
            ),
            _ => None,
        },
        _ => None,
    }
}

/// Consistent `BatchGetItem` of `keys` (≤ 100 per call, the calls in parallel), retrying
/// unprocessed keys.
pub async fn batch_get(client: &Client, table: &str, keys: Vec<Item>) -> Result<Vec<Item>, Error> {
    let mut found = Vec::new();
    let calls: Vec<_> = keys
        .chunks(100)
        .map(|chunk| batch_get_chunk(client, table, chunk.to_vec()))
        .collect();
    for result in futures::future::join_all(calls).await {
        found.extend(result?);
    }
    Ok(found)
}

async fn batch_get_chunk(
    client: &Client,
    table: &str,
    keys: Vec<Item>,
) -> Result<Vec<Item>, Error> {
    let mut found = Vec::new();
    let mut pending = Some(
        KeysAndAttributes::builder()
            .set_keys(Some(keys))
            .consistent_read(true)
            .build()
            .map_err(Error::internal)?,
    );
    let mut attempt = 0u32;
    while let Some(request) = pending.take() {
        if request.keys().is_empty() {
            break;
        }
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(20 << attempt.min(5))).await;
        }
        attempt += 1;
        if attempt > 8 {
            return Err(Error::Unavailable(
                "BatchGetItem kept returning unprocessed keys".into(),
            ));
        }
        let out = client
            .batch_get_item()
            .request_items(table, request)
            .send()
            .await
            .map_err(from_sdk)?;
        if let Some(mut responses) = out.responses {
            found.extend(responses.remove(table).unwrap_or_default());
        }
        pending = out.unprocessed_keys.and_then(|mut m| m.remove(table));
    }
    Ok(found)
}

/// The names of the actions whose cancellation reason is `wanted` (DynamoDB answers one reason per
/// action, in the order the actions were added; unnamed actions are left out).
pub(crate) fn named_by_code<N: Clone>(
    codes: &[String],
    names: &[Option<N>],
    wanted: &str,
) -> Vec<N> {
    codes
        .iter()
        .zip(names)
        .filter(|(code, _)| code.as_str() == wanted)
        .filter_map(|(_, name)| name.clone())
        .collect()
}

/// One `TransactWriteItems` whose actions are named by the failure they stand for.
///
/// An action is added with the name its failed condition means (`tx.put(lock).or("name_taken")`);
/// when DynamoDB cancels the transaction, [`Tx::commit`] answers the names of the actions whose
/// condition failed, so callers map failures by name and never by an action's position.
/// `N` is the caller's name type: a `&'static str` code, or e.g. the index of a checkout line.
#[derive(Debug, Clone)]
pub struct Tx<N = &'static str> {
    actions: Vec<TransactWriteItem>,
    names: Vec<Option<N>>,
    token: Option<String>,
}

/// Names the action just added.
#[must_use = "name the action with `.or(name)`, or call `.unnamed()` if its failure means nothing"]
pub struct Named<'a, N>(&'a mut Option<N>);

impl<N> Named<'_, N> {
    /// The name this action's failed condition reports.
    pub fn or(self, name: N) {
        *self.0 = Some(name);
    }

    /// An action whose failure needs no name of its own (the transaction still fails).
    pub fn unnamed(self) {}
}

/// Why a transaction did not commit.
#[derive(Debug)]
pub enum TxError<N> {
    /// DynamoDB cancelled it. `failed`: the names of the actions whose condition failed, in the
    /// order they were added; `raced`: the names of the actions another transaction was writing
    /// at the same moment (`TransactionConflict`: nothing was decided, a retry may succeed);
    /// `race_only`: every reason was such a conflict (no condition failed, named or not).
    Cancelled {
        failed: Vec<N>,
        raced: Vec<N>,
        race_only: bool,
        error: Error,
    },
    /// Anything else (throttling, transport, a malformed request).
    Other(Error),
}

impl<N> TxError<N> {
    /// Whether the action named `name` failed its condition.
    pub fn failed(&self, name: &N) -> bool
    where
        N: PartialEq,
    {
        matches!(self, TxError::Cancelled { failed, .. } if failed.contains(name))
    }

    /// Whether only concurrent transactions cancelled it (a retry may commit).
    pub fn race_only(&self) -> bool {
        matches!(
            self,
            TxError::Cancelled {
                race_only: true,
                ..
            }
        )
    }

    /// The error to answer when no name explains the cancellation.
    pub fn into_error(self) -> Error {
        match self {
            TxError::Cancelled { error, .. } | TxError::Other(error) => error,
        }
    }
}

impl<N> Default for Tx<N> {
    fn default() -> Self {
        Self {
            actions: Vec::new(),
            names: Vec::new(),
            token: None,
        }
    }
}

impl<N: Clone> Tx<N> {
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, action: TransactWriteItem) -> Named<'_, N> {
        self.actions.push(action);
        self.names.push(None);
        let last = self.names.len() - 1;
        Named(&mut self.names[last])
    }

    pub fn put(&mut self, put: Put) -> Named<'_, N> {
        self.push(TransactWriteItem::builder().put(put).build())
    }

    pub fn update(&mut self, update: Update) -> Named<'_, N> {
        self.push(TransactWriteItem::builder().update(update).build())
    }

    pub fn delete(&mut self, delete: Delete) -> Named<'_, N> {
        self.push(TransactWriteItem::builder().delete(delete).build())
    }

    pub fn check(&mut self, check: ConditionCheck) -> Named<'_, N> {
        self.push(TransactWriteItem::builder().condition_check(check).build())
    }

    /// Sends the transaction with this `ClientRequestToken` (at most 36 characters): DynamoDB
    /// answers a repeat of the same transaction with the same token, within 10 minutes, as
    /// committed without writing again.
    pub fn token(&mut self, token: String) {
        self.token = Some(token);
    }

    /// Actions added so far (DynamoDB takes at most 100).
    pub fn len(&self) -> usize {
        self.actions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// Sends the transaction (one round trip).
    pub async fn commit(self, client: &Client) -> Result<(), TxError<N>> {
        let Tx {
            actions,
            names,
            token,
        } = self;
        match client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .set_client_request_token(token)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) => match cancellation_codes(&err) {
                Some(codes) => {
                    let named = |wanted: &str| named_by_code(&codes, &names, wanted);
                    let race_only = codes.iter().any(|c| c == "TransactionConflict")
                        && codes
                            .iter()
                            .all(|c| c == "TransactionConflict" || c == "None");
                    Err(TxError::Cancelled {
                        failed: named("ConditionalCheckFailed"),
                        raced: named("TransactionConflict"),
                        race_only,
                        error: from_sdk(err),
                    })
                }
                None => Err(TxError::Other(from_sdk(err))),
            },
        }
    }
}
