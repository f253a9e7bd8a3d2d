//! Favorites: what a user may favorite, and the answer of `GET /favorites`.

use crate::catalog::{ProductView, ShopView};
use crate::error::Resource;
use serde::Serialize;

/// Products or shops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FavoriteKind {
    Product,
    Shop,
}

impl FavoriteKind {
    /// The per-user counter attribute of this kind.
    pub fn counter(self) -> &'static str {
        match self {
            FavoriteKind::Product => "products",
            FavoriteKind::Shop => "shops",
        }
    }

    pub fn resource(self) -> Resource {
        match self {
            FavoriteKind::Product => Resource::Product,
            FavoriteKind::Shop => Resource::Shop,
        }
    }
}

/// The answer of `GET /favorites`: newest favorite first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FavoritesView {
    pub products: Vec<ProductView>,
    pub shops: Vec<ShopView>,
}
