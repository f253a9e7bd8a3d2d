//! Every outbound port on one page: what the domain needs from the outside world, as traits.
//! The adapters are `bazaar_aws` (DynamoDB) and `bazaar_search` (the engines); the in-memory
//! fakes are `crate::fakes` (feature `fakes`). Functions and services are generic over these
//! traits, so the wiring is decided once per cold start.

use crate::cart::{CartWrite, Line, StoredCart};
use crate::catalog::{Product, ProductView, Shop};
use crate::checkout::{CheckoutRecord, CheckoutWrite, CheckoutWritten, Order, OrderItem, Shipment};
use crate::error::Error;
use crate::events::OrderCreated;
use crate::idempotency::{Claim, StoredResponse};
use crate::orders::{NotificationView, OrderPage, Review};
use crate::payments::{
    Authorization, AuthorizeRequest, ConnectedAccount, LedgerEntry, LedgerPage, Payment,
    PayoutAccount, ProviderEvent, ProviderPayment, ProviderRefund, Transfer, TransferRequest,
};
use crate::personalize::Signal;
use crate::personalize::also_bought::Recorded;
use crate::personalize::favorites::{FavoriteKind, FavoritesView};
use crate::personalize::trending::TrendingList;
use crate::search::{Applied, IndexChange, SearchError, SearchPage, SearchQuery};
use crate::validate::{NewProduct, NewShop, ProductChanges, ShopChanges};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;

/// Per-user write counters ([`crate::quota`]).
pub trait QuotaStore: Send + Sync {
    /// Counts one write of `class` by `user` in the window that starts at `window_start`, unless
    /// that window already holds `limit.max` of them: `true` when counted, `false` when full.
    fn spend(
        &self,
        user: &str,
        class: crate::quota::QuotaClass,
        limit: crate::quota::Limit,
        window_start: i64,
    ) -> impl Future<Output = Result<bool, Error>> + Send;
}

/// Shops and products. Ownership is enforced by the store inside each write's condition:
/// a caller who is not the owner gets [`Error::Forbidden`], an unknown id [`Error::NotFound`].
pub trait CatalogStore: Send + Sync {
    /// A cheap round trip that proves the store answers.
    fn health(&self) -> impl Future<Output = Result<(), Error>> + Send;

    /// Creates `owner`'s one shop (remembering where to e-mail them). Conflicts: `shop_exists`
    /// (the owner has one), `name_taken`.
    fn create_shop(
        &self,
        owner: &str,
        owner_email: Option<&str>,
        shop: NewShop,
    ) -> impl Future<Output = Result<Shop, Error>> + Send;

    fn get_shop(&self, id: &str) -> impl Future<Output = Result<Option<Shop>, Error>> + Send;

    /// Applies `changes` to a shop `caller` owns. Conflicts: `name_taken`.
    fn update_shop(
        &self,
        caller: &str,
        id: &str,
        changes: ShopChanges,
    ) -> impl Future<Output = Result<Shop, Error>> + Send;

    /// Lists a new product in a shop `caller` owns; returns it with its shop.
    fn create_product(
        &self,
        caller: &str,
        shop_id: &str,
        product: NewProduct,
    ) -> impl Future<Output = Result<(Product, Shop), Error>> + Send;

    /// A product alone (one read), for callers that read its shop alongside other work.
    fn get_listing(&self, id: &str) -> impl Future<Output = Result<Option<Product>, Error>> + Send;

    /// A product with its shop.
    fn get_product(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<(Product, Shop)>, Error>> + Send;

    /// Applies `changes` to a product of a shop `caller` owns; bumps its version.
    fn update_product(
        &self,
        caller: &str,
        id: &str,
        changes: ProductChanges,
    ) -> impl Future<Output = Result<(Product, Shop), Error>> + Send;

    /// Removes a product of a shop `caller` owns; returns what was removed.
    fn delete_product(
        &self,
        caller: &str,
        id: &str,
    ) -> impl Future<Output = Result<Product, Error>> + Send;
}

/// How a conditional write ended, when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    /// Every condition held; the write is durable.
    Committed,
    /// Another request changed something the write was conditioned on (or was writing the same
    /// items at that moment): nothing was written, and a fresh read decides what to do next.
    LostRace,
}

/// A line's products and shops, by id (deleted ones are absent).
pub type LineCatalog = (BTreeMap<String, Product>, BTreeMap<String, Shop>);

/// What [`CartStore::read`] answers.
#[derive(Debug, Clone)]
pub struct CartRead<S> {
    pub cart: StoredCart,
    /// The product asked for, with what the store must remember of it; `None` when it does not
    /// exist (or none was asked for).
    pub product: Option<(Product, S)>,
    /// The hold clock of the product asked for, if a removed line left one.
    pub clock: Option<crate::cart::HoldClock>,
    /// Writes already counted in the charge's window (0 without a charge).
    pub quota_used: u32,
}

/// Where carts and the holds behind their lines are stored. The rules (limits, which slots to
/// take, retries) are [`crate::services::cart`]'s; a store reads, and writes one [`CartWrite`]
/// atomically under the conditions its doc lists, answering [`Commit::LostRace`] when one fails.
pub trait CartStore: Send + Sync {
    /// What the store must remember of a product it read in order to write that product back
    /// (DynamoDB: whether the product item has its hold mirror yet). The fakes use `()`.
    type Seen: Send + Sync;

    /// One consistent read (one round trip): the buyer's cart and, for `product` (the product a
    /// write is about), that product with its current holds, the [`HoldClock`] a removed line of
    /// it left, and the writes `quota` already counts in its window.
    fn read(
        &self,
        user: &str,
        product: Option<&str>,
        quota: Option<&crate::quota::Charge>,
    ) -> impl Future<Output = Result<CartRead<Self::Seen>, Error>> + Send;

    /// Applies `write` in one atomic step, or nothing of it. `product` is what [`Self::product`]
    /// answered alongside the product the plan was made from (`None`: the product is gone and
    /// only the line changes).
    fn write(
        &self,
        write: &CartWrite<'_>,
        product: Option<&Self::Seen>,
    ) -> impl Future<Output = Result<Commit, Error>> + Send;

    /// The current products (with holds) and shops of `lines`, for rendering.
    fn catalog(&self, lines: &[Line]) -> impl Future<Output = Result<LineCatalog, Error>> + Send;
}

/// Where checkouts commit. The saga is [`crate::services::checkout`]'s; the store reads and
/// writes one [`CheckoutWrite`] atomically.
pub trait CheckoutStore: Send + Sync {
    /// The record and orders of a checkout that committed, if it did.
    fn committed(
        &self,
        checkout_id: &str,
    ) -> impl Future<Output = Result<Option<(CheckoutRecord, Vec<Order>)>, Error>> + Send;

    /// The buyer's cart with its lines' current products (with holds) and shops, and the writes
    /// `quota` already counts in its window (0 without a charge): two round trips.
    fn cart(
        &self,
        buyer: &str,
        quota: Option<&crate::quota::Charge>,
    ) -> impl Future<Output = Result<(StoredCart, LineCatalog, u32), Error>> + Send;

    /// Counts one checkout against `quota` on its own (one that failed at the payment provider:
    /// a committed one is counted by its commit); `false` when the window was full.
    fn spend(
        &self,
        buyer: &str,
        quota: &crate::quota::Charge,
    ) -> impl Future<Output = Result<bool, Error>> + Send;

    /// Commits a checkout in one atomic step, or nothing of it (see [`CheckoutWrite`] for the
    /// conditions); a cancelled commit names the lines whose conditions failed.
    fn commit(
        &self,
        write: &CheckoutWrite<'_>,
    ) -> impl Future<Output = Result<CheckoutWritten, Error>> + Send;
}

/// Where orders, reviews and notifications are stored. The rules (who may do what, in which
/// status) are [`crate::services::orders`]'s; each change is conditioned on the order being as
/// it was read (status and version), and answers [`Commit::LostRace`] when it no longer is.
pub trait OrderStore: Send + Sync {
    /// An order, read consistently.
    fn order(&self, id: &str) -> impl Future<Output = Result<Option<Order>, Error>> + Send;

    /// The buyer's orders, newest first, from `cursor` (opaque; `400` when it is not one of this
    /// list's).
    fn buyer_orders(
        &self,
        buyer: &str,
        cursor: Option<&str>,
        limit: i32,
    ) -> impl Future<Output = Result<OrderPage, Error>> + Send;

    /// A shop's orders, newest first, from `cursor`.
    fn shop_orders(
        &self,
        shop_id: &str,
        cursor: Option<&str>,
        limit: i32,
    ) -> impl Future<Output = Result<OrderPage, Error>> + Send;

    /// The owner of a shop; `None` when the shop does not exist.
    fn shop_owner(
        &self,
        shop_id: &str,
    ) -> impl Future<Output = Result<Option<String>, Error>> + Send;

    /// Marks `order` (as read) shipped; `None` when it changed meanwhile. Answers the order
    /// as written.
    fn ship(
        &self,
        order: &Order,
        shipment: &Shipment,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<Order>, Error>> + Send;

    /// Which of `products` still exist.
    fn existing_products(
        &self,
        products: &[String],
    ) -> impl Future<Output = Result<Vec<String>, Error>> + Send;

    /// Cancels `order` (as read) and, atomically, puts `restock`'s units back on their products
    /// and takes its units off the shop's sales count.
    fn cancel(
        &self,
        order: &Order,
        restock: &[OrderItem],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Commit, Error>> + Send;

    /// Marks the shipped `order` reviewed, stores `review` and moves the shop's rating, atomically.
    fn review(
        &self,
        order: &Order,
        review: &Review,
    ) -> impl Future<Output = Result<Commit, Error>> + Send;

    /// The user's latest notifications, newest first.
    fn notifications(
        &self,
        user: &str,
    ) -> impl Future<Output = Result<Vec<NotificationView>, Error>> + Send;
}

/// A payment provider (Stripe, or the built-in test gateway). Every mutating call carries an
/// idempotency key derived from our ids ([`crate::payments::keys`]), so repeating a call with the
/// same key moves the money once.
pub trait PaymentGateway: Send + Sync {
    /// Reserves `amount_cents` on the request's method (a manual-capture payment, created and
    /// confirmed in one call). A decline is `402 payment_declined`, a method that needs 3-D
    /// Secure `402 payment_action_required` (nothing stays reserved), an unknown method `422`.
    fn authorize(
        &self,
        request: &AuthorizeRequest,
    ) -> impl Future<Output = Result<Authorization, Error>> + Send;

    /// The provider's view of a payment: the truth settlement adopts.
    fn payment(&self, id: &str) -> impl Future<Output = Result<ProviderPayment, Error>> + Send;

    /// Captures `amount_cents` (at most the authorized amount) of an authorized payment.
    fn capture(
        &self,
        id: &str,
        amount_cents: i64,
        idempotency_key: &str,
    ) -> impl Future<Output = Result<ProviderPayment, Error>> + Send;

    /// Releases an authorization that will not be captured.
    fn cancel(
        &self,
        id: &str,
        idempotency_key: &str,
    ) -> impl Future<Output = Result<ProviderPayment, Error>> + Send;

    /// Refunds `amount_cents` of a captured payment for one of its orders (recorded with the
    /// order id, so [`ProviderPayment::refunds`] names it).
    fn refund(
        &self,
        id: &str,
        order_id: &str,
        amount_cents: i64,
        idempotency_key: &str,
    ) -> impl Future<Output = Result<ProviderRefund, Error>> + Send;

    /// Payments of ours still waiting for capture that were created before `created_before`
    /// (unix seconds): reconciliation voids those no committed checkout owns.
    fn stale_authorizations(
        &self,
        created_before: i64,
    ) -> impl Future<Output = Result<Vec<ProviderPayment>, Error>> + Send;
}

/// Seller payouts through the provider's connected accounts (Stripe Connect).
pub trait Payouts: Send + Sync {
    /// Creates the connected account of a shop (one per shop: the key is the shop id's).
    fn create_account(
        &self,
        shop_id: &str,
        email: Option<&str>,
        idempotency_key: &str,
    ) -> impl Future<Output = Result<ConnectedAccount, Error>> + Send;

    /// A one-time onboarding link for the account's owner.
    fn onboarding_link(
        &self,
        account_id: &str,
        return_url: &str,
        refresh_url: &str,
    ) -> impl Future<Output = Result<String, Error>> + Send;

    fn account(
        &self,
        account_id: &str,
    ) -> impl Future<Output = Result<ConnectedAccount, Error>> + Send;

    fn transfer(
        &self,
        request: &TransferRequest,
    ) -> impl Future<Output = Result<Transfer, Error>> + Send;

    /// The transfers of one transfer group (a checkout): a read of what was written.
    fn transfers(
        &self,
        transfer_group: &str,
    ) -> impl Future<Output = Result<Vec<Transfer>, Error>> + Send;

    /// Takes `amount_cents` of a transfer back.
    fn reverse(
        &self,
        transfer_id: &str,
        amount_cents: i64,
        idempotency_key: &str,
    ) -> impl Future<Output = Result<Transfer, Error>> + Send;
}

/// Where payment records, payout accounts and the ledger live.
///
/// Settlement is serialized per checkout by a lease; every save is conditioned on the version read
/// and on the lease, and answers [`Commit::LostRace`] when another change won (a cancellation
/// landed meanwhile): the settler reads again and continues.
pub trait PaymentStore: Send + Sync {
    /// A checkout's payment, read consistently.
    fn payment(
        &self,
        checkout_id: &str,
    ) -> impl Future<Output = Result<Option<Payment>, Error>> + Send;

    /// Takes the checkout's settlement lease for `holder` until `until` (unix seconds) and
    /// answers the payment as it is; `None` when there is no such payment, [`Leased::Busy`] when
    /// another holder's lease runs at `now`.
    fn lease(
        &self,
        checkout_id: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> impl Future<Output = Result<Leased, Error>> + Send;

    /// Writes `payment` (its version bumped by one) and the `entries` not written before, on the
    /// condition that the stored version is `payment.version` and `holder` holds the lease.
    /// `due`: when reconciliation should look at it next (unix seconds), `None` when nothing is
    /// left to do. Orders owed a payout by a shop that has no enabled account are remembered
    /// under that shop ([`PaymentStore::waiting_payouts`]).
    fn save(
        &self,
        payment: &Payment,
        entries: &[LedgerEntry],
        holder: &str,
        due: Option<i64>,
    ) -> impl Future<Output = Result<Commit, Error>> + Send;

    /// Gives the lease up.
    fn release(
        &self,
        checkout_id: &str,
        holder: &str,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// Checkout ids of payments due before `before` (unix seconds) with the time each was
    /// opened, oldest due first, at most `limit`.
    fn due(
        &self,
        before: i64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<(String, DateTime<Utc>)>, Error>> + Send;

    /// The shops' payout accounts (shops without one are absent).
    fn payout_accounts(
        &self,
        shop_ids: &[String],
    ) -> impl Future<Output = Result<HashMap<String, PayoutAccount>, Error>> + Send;

    /// A shop's owner, the owner's e-mail and its payout account; `None` for an unknown shop.
    fn shop_payouts(
        &self,
        shop_id: &str,
    ) -> impl Future<Output = Result<Option<ShopPayouts>, Error>> + Send;

    /// Stores a shop's payout account.
    fn set_payout_account(
        &self,
        shop_id: &str,
        account: &PayoutAccount,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// The shop whose connected account this is, if any.
    fn shop_of_account(
        &self,
        account_id: &str,
    ) -> impl Future<Output = Result<Option<String>, Error>> + Send;

    /// Checkout ids with an order whose payout waits for `shop_id`'s account.
    fn waiting_payouts(
        &self,
        shop_id: &str,
    ) -> impl Future<Output = Result<Vec<String>, Error>> + Send;

    /// A shop's ledger, newest orders first, from `cursor` (`400` when it is not this list's).
    fn ledger(
        &self,
        shop_id: &str,
        cursor: Option<&str>,
        limit: i32,
    ) -> impl Future<Output = Result<LedgerPage, Error>> + Send;

    /// Claims a provider event id: `true` the first time, `false` on a redelivery.
    fn first_delivery(&self, event_id: &str) -> impl Future<Output = Result<bool, Error>> + Send;

    /// Drops the claim of an event whose application failed, so that its redelivery applies it.
    fn forget_delivery(&self, event_id: &str) -> impl Future<Output = Result<(), Error>> + Send;
}

/// Verifies a provider's webhook delivery and reduces it to a [`ProviderEvent`]: a missing,
/// malformed, stale or wrong signature is `400 invalid_signature`.
pub trait WebhookVerifier: Send + Sync {
    fn verify(
        &self,
        signature: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<ProviderEvent, Error>;
}

/// The answer of [`PaymentStore::lease`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leased {
    Taken(Payment),
    /// Another settler holds the lease.
    Busy,
    /// No payment for this checkout.
    Missing,
}

/// What payouts need to know of a shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopPayouts {
    pub owner_id: String,
    pub owner_email: Option<String>,
    pub account: Option<PayoutAccount>,
}

/// Where idempotency records live.
pub trait IdempotencyStore: Send + Sync {
    fn claim(
        &self,
        scope: &str,
        key: &str,
        payload_hash: &str,
        in_progress_until_ms: i64,
    ) -> impl Future<Output = Result<Claim, Error>> + Send;

    fn complete(
        &self,
        scope: &str,
        key: &str,
        token: &str,
        response: &StoredResponse,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    fn release(
        &self,
        scope: &str,
        key: &str,
        token: &str,
    ) -> impl Future<Output = Result<(), Error>> + Send;
}

/// What product pages need: recording views, "customers also bought". (The trending lists are
/// served by the feed function, which fills short ones from the search engine.)
pub trait Discovery: ViewLog + AlsoBought {}
impl<T: ViewLog + AlsoBought> Discovery for T {}

/// The favorites port.
pub trait FavoritesStore: Send + Sync {
    /// Adds a favorite; adding it again changes nothing. `404` for an unknown target, `422
    /// favorites_limit` past [`FAVORITES_MAX`](crate::personalize::FAVORITES_MAX).
    fn add(
        &self,
        user: &str,
        kind: FavoriteKind,
        id: &str,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// Removes a favorite; removing one that is not there changes nothing. `404` for an unknown
    /// target (a favorite of a since-deleted product is still removed).
    fn remove(
        &self,
        user: &str,
        kind: FavoriteKind,
        id: &str,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// The user's favorites with their current products and shops.
    fn list(&self, user: &str) -> impl Future<Output = Result<FavoritesView, Error>> + Send;
}

/// Reads stored trending lists.
pub trait TrendingSource: Send + Sync {
    /// The overall list (`None`) or a category's; empty when nothing is trending there.
    fn trending(
        &self,
        category: Option<&str>,
    ) -> impl Future<Output = Result<TrendingList, Error>> + Send;
}

/// Records views.
pub trait ViewLog: Send + Sync {
    /// Records that `user` viewed `product`: one transaction (item + trending count) the first
    /// time in an hour; a cancelled transaction and one `PutItem` for a repeat within the hour.
    fn record(
        &self,
        user: &str,
        product: &Product,
    ) -> impl Future<Output = Result<(), Error>> + Send;
}

/// The port the product page and the recommender use.
pub trait AlsoBought: Send + Sync {
    /// Counts an order's co-purchases and sales, once per event.
    fn record(&self, event: &OrderCreated) -> impl Future<Output = Result<Recorded, Error>> + Send;

    /// Up to [`RECOMMENDATIONS`](crate::personalize::RECOMMENDATIONS) in-stock products most often bought with `product` in the last
    /// [`ALSO_BOUGHT_DAYS`](crate::personalize::ALSO_BOUGHT_DAYS) days. `404` for an unknown product.
    fn recommendations(
        &self,
        product: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<ProductView>, Error>> + Send;
}

/// Products and shops read by id.
pub type Loaded = (HashMap<String, Product>, HashMap<String, Shop>);

/// What the feed reads from the table.
pub trait FeedStore: TrendingSource {
    fn favorites(&self, user: &str) -> impl Future<Output = Result<Vec<Signal>, Error>> + Send;
    fn views(&self, user: &str) -> impl Future<Output = Result<Vec<Signal>, Error>> + Send;
    /// Products and shops by id (unknown ids are left out).
    fn load(
        &self,
        products: Vec<String>,
        shops: Vec<String>,
    ) -> impl Future<Output = Result<Loaded, Error>> + Send;
}

/// The search engine, as the domain needs it.
pub trait SearchIndex: Send + Sync {
    /// Creates the index with its settings and mappings when it does not exist yet.
    fn prepare(&self) -> impl Future<Output = Result<(), SearchError>> + Send;

    /// Applies changes in one bulk; one outcome per change, in order. A change whose version is
    /// not newer than the indexed one is [`Applied::Stale`].
    fn apply(
        &self,
        changes: Vec<IndexChange>,
    ) -> impl Future<Output = Result<Vec<Applied>, SearchError>> + Send;

    /// One page of in-stock products matching `query`, with total and facets.
    fn search(
        &self,
        query: &SearchQuery,
    ) -> impl Future<Output = Result<SearchPage, SearchError>> + Send;
}

/// The fallback listing, as the search function needs it.
pub trait CategoryListing: Send + Sync {
    fn listing(
        &self,
        query: &SearchQuery,
    ) -> impl Future<Output = Result<SearchPage, Error>> + Send;
}

/// Whether a seller's notification was new, and whether its e-mail is still owed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotificationWrite {
    /// `false` when the event had been notified before (a redelivery).
    pub written: bool,
    /// An e-mail was asked for and has not been sent yet (new, or a failed send of before).
    pub email_pending: bool,
}

/// The sellers' notifications (`GET /notifications`), keyed by the event they stand for so that
/// a redelivered event writes nothing new.
pub trait NotificationStore: Send + Sync {
    /// Writes the seller's notification of `event` unless it exists, owing an e-mail when
    /// `email` is set; answers what the store now holds.
    fn record(
        &self,
        event: &OrderCreated,
        email: bool,
    ) -> impl Future<Output = Result<NotificationWrite, Error>> + Send;

    /// Marks the e-mail of `event`'s notification sent.
    fn email_sent(&self, event: &OrderCreated) -> impl Future<Output = Result<(), Error>> + Send;
}

/// E-mail to sellers.
pub trait Mailer: Send + Sync {
    /// Sends the seller at `to` the e-mail of a new order.
    fn order_created(
        &self,
        to: &str,
        event: &OrderCreated,
    ) -> impl Future<Output = Result<(), Error>> + Send;
}

/// Publishes events (JSON bodies) to a queue, in order.
pub trait Publisher: Send + Sync {
    /// The most bodies one [`Publisher::publish`] takes.
    const MAX_BATCH: usize = 10;

    /// Sends `bodies` (at most [`Publisher::MAX_BATCH`]) to `queue` in one call. `Err(i)`: body
    /// `i` is the first that was not accepted (0 when the call failed as a whole); bodies after it
    /// may or may not have been.
    fn publish(
        &self,
        queue: &str,
        bodies: &[&str],
    ) -> impl Future<Output = Result<(), usize>> + Send;
}
