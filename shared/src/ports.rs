//! Ports: what the domain needs from the outside world, as traits. Adapters live beside them
//! (`crate::dynamo`); handlers are generic over the trait so that the wiring is decided once in
//! each function's `main`.

use crate::cart::CartView;
use crate::cart_store::Target;
use crate::error::Error;
use crate::model::{Product, Shop};
use crate::validate::{NewProduct, NewShop, ProductChanges, ShopChanges};
use std::future::Future;

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

/// Carts and the holds behind their lines. Every method answers the buyer's whole cart after it.
pub trait CartStore: Send + Sync {
    /// Adds units to the buyer's line (`Target::Add`) or sets it (`Target::Set`), holding every unit
    /// for `hold_seconds`. `404` for an unknown product (or, for `Set`, a product not in the cart),
    /// `409 unavailable` when the units cannot be held, `422` past the line or cart limits.
    fn write_line(
        &self,
        user: &str,
        product_id: &str,
        target: Target,
        hold_seconds: i64,
    ) -> impl Future<Output = Result<CartView, Error>> + Send;

    /// Removes the line and releases its holds at once. `404` when the cart has no such line.
    fn remove_line(
        &self,
        user: &str,
        product_id: &str,
    ) -> impl Future<Output = Result<CartView, Error>> + Send;

    /// The buyer's cart.
    fn cart(&self, user: &str) -> impl Future<Output = Result<CartView, Error>> + Send;
}
