//! The single-table schema: every key is built here.
//!
//! | item            | pk                  | sk         | notes                                        |
//! |-----------------|---------------------|------------|----------------------------------------------|
//! | shop            | `SHOP#<id>`         | `SHOP`     | counters (`sales_count`, ratings) live here   |
//! | owner lock      | `OWNER#<user_id>`   | `SHOP`     | one shop per owner, claimed in the create txn |
//! | shop name lock  | `SHOPNAME#<name>`   | `SHOPNAME` | case-insensitive unique shop names            |
//! | product         | `PRODUCT#<id>`      | `PRODUCT`  | GSI1: `CATEGORY#<slug>` / `<created_at>#<id>` |
//!
//! Correctness lives in conditions: ownership is part of every write's condition expression, and
//! the uniqueness locks are claimed in the same transaction as the shop they protect.

/// Item keys, in one place.
pub mod keys {
    pub const PK: &str = "pk";
    pub const SK: &str = "sk";

    pub fn shop(id: &str) -> (String, String) {
        (format!("SHOP#{id}"), "SHOP".to_owned())
    }
    pub fn owner(user_id: &str) -> (String, String) {
        (format!("OWNER#{user_id}"), "SHOP".to_owned())
    }
    pub fn shop_name(name_key: &str) -> (String, String) {
        (format!("SHOPNAME#{name_key}"), "SHOPNAME".to_owned())
    }
    pub fn product(id: &str) -> (String, String) {
        (format!("PRODUCT#{id}"), "PRODUCT".to_owned())
    }
    pub fn health() -> (String, String) {
        ("HEALTH".to_owned(), "HEALTH".to_owned())
    }

    /// The case- and space-insensitive form under which shop names are unique.
    pub fn normalize_name(name: &str) -> String {
        name.split_whitespace()
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
            .join(" ")
    }

    // ---- carts and holds
    pub fn cart(user: &str) -> String {
        format!("CART#{user}")
    }
    /// The sort-key prefix of every line of a cart.
    pub const LINE_PREFIX: &str = "LINE#";
    pub fn cart_line(user: &str, product_id: &str) -> (String, String) {
        (cart(user), format!("{LINE_PREFIX}{product_id}"))
    }
    pub fn hold(product_id: &str, slot: u32) -> (String, String) {
        (format!("PRODUCT#{product_id}"), format!("HOLD#{slot:05}"))
    }

    // ---- checkout, orders, payments, idempotency
    pub fn checkout(checkout_id: &str) -> (String, String) {
        (format!("CHECKOUT#{checkout_id}"), "CHECKOUT".to_owned())
    }
    pub fn order(order_id: &str) -> (String, String) {
        (format!("ORDER#{order_id}"), "ORDER".to_owned())
    }
    /// GSI1 partition of a buyer's orders.
    pub fn buyer_orders(buyer: &str) -> String {
        format!("BUYER#{buyer}")
    }
    /// GSI2 partition of a shop's orders.
    pub fn shop_orders(shop_id: &str) -> String {
        format!("SHOPORDERS#{shop_id}")
    }
    pub fn review(order_id: &str) -> String {
        format!("REVIEW#{order_id}")
    }
    /// GSI1 partition of a shop's reviews.
    pub fn shop_reviews(shop_id: &str) -> String {
        format!("SHOPREVIEWS#{shop_id}")
    }
    pub fn notifications(user: &str) -> String {
        format!("NOTIFY#{user}")
    }
    pub fn payment(reference: &str) -> (String, String) {
        (format!("PAYMENT#{reference}"), "PAYMENT".to_owned())
    }
    pub fn idempotency(scope: &str, key: &str) -> (String, String) {
        (
            format!("IDEMPOTENCY#{scope}#{key}"),
            "IDEMPOTENCY".to_owned(),
        )
    }
    /// GSI1 partition of a category's products.
    pub fn category(slug: &str) -> String {
        format!("CATEGORY#{slug}")
    }

    // ---- personalization
    pub use bazaar_domain::personalize::{hour, shard};
    use chrono::{DateTime, Utc};

    pub fn favorite_product(user: &str, product: &str) -> (String, String) {
        (format!("FAV#{user}"), format!("P#{product}"))
    }
    pub fn favorite_shop(user: &str, shop: &str) -> (String, String) {
        (format!("FAV#{user}"), format!("S#{shop}"))
    }
    pub fn favorite_counter(user: &str) -> (String, String) {
        (format!("FAV#{user}"), "COUNT".to_owned())
    }
    pub fn favorites(user: &str) -> String {
        format!("FAV#{user}")
    }
    pub fn views(user: &str) -> String {
        format!("VIEWS#{user}")
    }
    pub fn view(user: &str, product: &str) -> (String, String) {
        (views(user), format!("P#{product}"))
    }

    pub fn activity_partition(hour: &str, shard: u32) -> String {
        format!("ACTIVITY#{hour}#{shard}")
    }
    pub fn activity(at: DateTime<Utc>, product: &str) -> (String, String) {
        (
            activity_partition(&hour(at), shard(product)),
            product.to_owned(),
        )
    }
    pub fn trending(category: Option<&str>) -> (String, String) {
        let sk = match category {
            None => "ALL".to_owned(),
            Some(c) => format!("CAT#{c}"),
        };
        ("TRENDING".to_owned(), sk)
    }
    pub fn also_bought(product: &str) -> String {
        format!("ALSOBOUGHT#{product}")
    }
    pub fn also_bought_day(day: &str) -> String {
        format!("DAY#{day}")
    }
    pub fn processed(event_id: &str, part: usize) -> (String, String) {
        (
            format!("PROCESSED#{event_id}"),
            format!("RECOMMENDER#{part}"),
        )
    }
}
