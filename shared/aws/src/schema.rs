//! The single-table schema: every key is built here, and this table is the schema. One table
//! (`pk`, `sk` strings; GSI1 `gsi1pk`/`gsi1sk`, GSI2 `gsi2pk`/`gsi2sk`; TTL attribute `ttl`;
//! stream `NEW_AND_OLD_IMAGES`), keys overloaded by entity.
//!
//! | item | `pk` | `sk` | indexes, TTL | written by |
//! |---|---|---|---|---|
//! | shop | `SHOP#<id>` | `SHOP` | | catalog (counters `sales_count`, ratings by reviews) |
//! | owner lock | `OWNER#<user>` | `SHOP` | | catalog, in the shop's create transaction (one shop per owner) |
//! | shop name lock | `SHOPNAME#<normalized name>` | `SHOPNAME` | | catalog (case- and space-insensitive unique names) |
//! | product | `PRODUCT#<id>` | `PRODUCT` | GSI1 `CATEGORY#<slug>` / `<created_at>#<id>` | catalog; cart and checkout keep its `holds` mirror (slot → holder, expiry) and `quantity` |
//! | hold | `PRODUCT#<id>` | `HOLD#<slot:05>` | TTL (tidying only) | cart, checkout (`holder`, `expires_at`) |
//! | cart line | `CART#<user>` | `LINE#<product>` | | cart (quantity, title/price snapshot) |
//! | checkout | `CHECKOUT#<checkout id>` | `CHECKOUT` | | checkout: the record that makes a second commit impossible |
//! | order | `ORDER#<id>` | `ORDER` | GSI1 `BUYER#<user>`, GSI2 `SHOPORDERS#<shop>` / `<created_at ms>#<id>` | checkout; orders (ship, cancel, review flag) |
//! | review | `REVIEW#<order id>` | `REVIEW` | GSI1 `SHOPREVIEWS#<shop>` | orders |
//! | payment | `PAYMENT#<checkout id>` | `PAYMENT` | | the test payment gateway |
//! | idempotency record | `IDEMPOTENCY#<caller>#<key>` | `IDEMPOTENCY` | TTL 24 h | the HTTP idempotency layer |
//! | notification | `NOTIFY#<user>` | `<created_at>#<event id>` | | notifier (a repeat of the event writes nothing) |
//! | favorite | `FAV#<user>` | `P#<product>` / `S#<shop>` | | favorites (with the product's category, price, tags) |
//! | favorite counter | `FAV#<user>` | `COUNT` | | favorites, same transaction (per-user limits) |
//! | view | `VIEWS#<user>` | `P#<product>` | GSI2 `VIEWS#<user>` / epoch µs; TTL 30 days | product page (signed in) |
//! | activity | `ACTIVITY#<yyyymmddhh>#<shard>` | `<product>` | TTL 4 days | views, favorites, sales per hour |
//! | trending | `TRENDING` | `ALL` / `CAT#<slug>` | | the trending job |
//! | co-purchases | `ALSOBOUGHT#<product>` | `DAY#<yyyy-mm-dd>` | TTL 91 days | recommender |
//! | processed event | `PROCESSED#<event id>` | `RECOMMENDER#<part>` | TTL 15 days | recommender |
//! | health | `HEALTH` | `HEALTH` | | (read by `GET /health`) |
//!
//! Correctness lives in conditions: ownership is part of every write's condition expression, the
//! uniqueness locks are claimed in the same transaction as the shop they protect, and a hold is
//! free when `expires_at` has passed — no sweeper.

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
