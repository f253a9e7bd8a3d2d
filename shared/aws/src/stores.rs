//! Every adapter, built from the one [`Table`] handle (cheap clones of its client): what
//! `bazaar_lambda::Env` hands to the functions. (Kept apart from `table`, which every adapter
//! uses, so that no module imports one that imports it back.)

use crate::table::Table;

impl Table {
    /// The catalog port (shops, products).
    pub fn catalog(&self) -> crate::catalog::DynamoCatalog {
        crate::catalog::DynamoCatalog::new(self.client().clone(), self.name())
    }

    /// The cart port.
    pub fn cart(&self) -> crate::cart::DynamoCart {
        crate::cart::DynamoCart::new(self.client().clone(), self.name())
    }

    /// The checkout port (the order transaction).
    pub fn checkout(&self) -> crate::checkout::DynamoCheckout {
        crate::checkout::DynamoCheckout::new(self.client().clone(), self.name())
    }

    /// The orders store (ship, cancel, refund, review).
    pub fn orders(&self) -> crate::orders::DynamoOrders {
        crate::orders::DynamoOrders::new(self.client().clone(), self.name())
    }

    /// Per-user write quotas.
    pub fn quota(&self) -> crate::quota::DynamoQuota {
        crate::quota::DynamoQuota::new(self.client().clone(), self.name())
    }

    /// The idempotency records of the HTTP replay layer.
    pub fn idempotency(&self) -> crate::idempotency::DynamoIdempotency {
        crate::idempotency::DynamoIdempotency::new(self.client().clone(), self.name())
    }

    /// Payment records, their settlement lease, the ledger and payout accounts.
    pub fn payments(&self) -> crate::payment_store::DynamoPayments {
        crate::payment_store::DynamoPayments::new(self.client().clone(), self.name())
    }

    /// The built-in test gateway (`PAYMENTS=test`): payments and payouts emulated as items of
    /// the table.
    pub fn test_gateway(&self) -> crate::payments::TestGateway {
        crate::payments::TestGateway::new(self.client().clone(), self.name())
    }

    /// Favorites (products and shops).
    pub fn favorites(&self) -> crate::personalize::favorites::DynamoFavorites {
        crate::personalize::favorites::DynamoFavorites::new(self.client().clone(), self.name())
    }

    /// Recently viewed products.
    pub fn views(&self) -> crate::personalize::views::DynamoViews {
        crate::personalize::views::DynamoViews::new(self.client().clone(), self.name())
    }

    /// The home feed's store (favorites, views, trending, products and shops by id).
    pub fn feed(&self) -> crate::personalize::feed::DynamoFeedStore {
        crate::personalize::feed::DynamoFeedStore::new(self.client().clone(), self.name())
    }

    /// Views and "customers also bought", as the product page uses them.
    pub fn discovery(&self) -> crate::personalize::DynamoDiscovery {
        crate::personalize::DynamoDiscovery::from_table(self)
    }

    /// The trending lists and the job that computes them.
    pub fn trending(&self) -> crate::personalize::trending::DynamoTrending {
        crate::personalize::trending::DynamoTrending::new(self.client().clone(), self.name())
    }

    /// Co-purchase counts ("customers also bought").
    pub fn also_bought(&self) -> crate::personalize::also_bought::DynamoAlsoBought {
        crate::personalize::also_bought::DynamoAlsoBought::new(self.client().clone(), self.name())
    }

    /// The category listing (the search function's fallback).
    pub fn listing(&self) -> crate::listing::DynamoListing {
        crate::listing::DynamoListing::new(self.client().clone(), self.name())
    }

    /// The sellers' notifications (the notifier).
    pub fn notifications(&self) -> crate::notifications::DynamoNotifications {
        crate::notifications::DynamoNotifications::new(self.client().clone(), self.name())
    }

    /// Products and shops by id (the indexer's source).
    pub fn source(&self) -> crate::source::TableSource {
        crate::source::TableSource::new(self.client().clone(), self.name())
    }
}
