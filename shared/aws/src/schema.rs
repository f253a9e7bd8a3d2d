//! The single-table schema: every key is built here, and this table is the schema. One table
//! (`pk`, `sk` strings; GSI1 `gsi1pk`/`gsi1sk`, GSI2 `gsi2pk`/`gsi2sk`; TTL attribute `ttl`;
//! stream `NEW_AND_OLD_IMAGES`), keys overloaded by entity.
//!
//! | item | `pk` | `sk` | indexes, TTL | written by |
//! |---|---|---|---|---|
//! | shop | `SHOP#<id>` | `SHOP` | | catalog (counters `sales_count`, ratings by reviews) |
//! | owner lock | `OWNER#<user>` | `SHOP` | | catalog, in the shop's create transaction (one shop per owner) |
//! | shop name lock | `SHOPNAME#<normalized name>` | `SHOPNAME` | | catalog (case- and space-insensitive unique names) |
//! | product | `PRODUCT#<id>` | `PRODUCT` | GSI1 `CATEGORY#<slug>` / `<created_at>#<id>` | catalog; cart and checkout keep its `holds` (the hold record: slot → holder ref, expiry; at most 1,000 slots) and `quantity` |
//! | cart | `CART#<user>` | `CART` | | cart (`lines`: product → quantity, title/price snapshot, `hold_since`; `version`), checkout (empties it, bumps `version`) |
//! | hold clock | `CART#<user>` | `CLOCK#<product>` | TTL (end of the cool-down) | cart: a removed line's hold window (`hold_since`) |
//! | checkout | `CHECKOUT#<checkout id>` | `CHECKOUT` | | checkout: the record that makes a second commit impossible |
//! | order | `ORDER#<id>` | `ORDER` | GSI1 `BUYER#<user>`, GSI2 `SHOPORDERS#<shop>` / `<created_at ms>#<id>` | checkout; orders (ship, cancel, review flag) |
//! | review | `REVIEW#<order id>` | `REVIEW` | GSI1 `SHOPREVIEWS#<shop>` | orders |
//! | payment | `PAYMENT#<checkout id>` | `PAYMENT` | GSI1 `PAYMENTS#DUE` / `<due unix s:012>#<checkout id>` while open (sparse; with `opened_at`) | checkout (state `authorized`, due in 15 min); order cancel (`ADD cancelled_orders`, version, due now); settlement (`version` + `lease_holder`/`lease_until` conditions) |
//! | ledger entry | `LEDGER#<shop>` | `<order created_at ms:015>#<order id>#<kind>` | | settlement, write-once per (order, kind) (`SET a = if_not_exists(a, :a)`) |
//! | waiting payout | `PAYOUTWAIT#<shop>` | `<checkout id>#<order id>` | | settlement: present while a live, captured order has no transfer |
//! | payout account lookup | `PAYOUTACCOUNT#<account id>` | `PAYOUTACCOUNT` | | payouts, with the shop's `payout_account` map (`{account_id, status}`) |
//! | webhook event | `WEBHOOK#<provider event id>` | `WEBHOOK` | TTL 30 days | the payment webhook (each event applied once) |
//! | test gateway payment | `TESTPAY#<pi_test_…>` | `TESTPAY` | | the built-in test gateway (`PAYMENTS=test`) |
//! | test gateway listing | `TESTPAYS` | `<created unix s:012>#<payment id>` | | test gateway (stale authorizations; local only) |
//! | test gateway key | `TESTKEY#<operation>#<idempotency key>` | `TESTKEY` | | test gateway: what a key created (the same key answers the same object) |
//! | test connected account | `TESTACCT#<acct_test_…>` | `TESTACCT` | | test gateway payouts (enabled at once) |
//! | test transfer | `TESTGROUP#<transfer group>` | `<tr_test_…>` | | test gateway payouts (amount, reversed, destination, order) |
//! | test transfer pointer | `TESTTRANSFER#<tr_test_…>` | `TESTTRANSFER` | | test gateway: a transfer's group |
//! | idempotency record | `IDEMPOTENCY#<caller>` | `KEY#<key>` | TTL 24 h | the HTTP idempotency layer |
//! | write quota counter | `QUOTA#<user>` | `<class>#<window start unix s>` | TTL window end + 1 h | cart, add-to-cart, checkout, catalog, orders (reviews), favorites: one conditional `ADD` per guarded write |
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
    use chrono::{DateTime, Utc};

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

    /// The form under which shop names are unique: Unicode NFKC (so compatibility look-alikes
    /// such as full-width letters or ligatures are one name), zero-width characters removed,
    /// case folded, runs of whitespace collapsed to one space.
    pub fn normalize_name(name: &str) -> String {
        let nfkc = icu_normalizer::ComposingNormalizerBorrowed::new_nfkc().normalize(name);
        let visible: String = nfkc
            .chars()
            .filter(|c| {
                !matches!(
                    c,
                    '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
                )
            })
            .collect();
        visible
            .split_whitespace()
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
            .join(" ")
    }

    // ---- carts and holds
    pub fn cart(user: &str) -> String {
        format!("CART#{user}")
    }
    /// A buyer's cart: one item (its lines and version).
    pub fn cart_item(user: &str) -> (String, String) {
        (cart(user), "CART".to_owned())
    }
    /// The hold clock a removed cart line left.
    pub fn cart_clock(user: &str, product_id: &str) -> (String, String) {
        (cart(user), format!("CLOCK#{product_id}"))
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
    /// A checkout's payment record.
    pub fn payment(checkout_id: &str) -> (String, String) {
        (format!("PAYMENT#{checkout_id}"), "PAYMENT".to_owned())
    }
    /// GSI1 partition of the open (due) payment records: sparse, only open records carry it.
    pub const PAYMENTS_DUE: &str = "PAYMENTS#DUE";
    /// GSI1 keys of an open payment record due at `due` (unix seconds).
    pub fn payment_due(due: i64, checkout_id: &str) -> (String, String) {
        (
            PAYMENTS_DUE.to_owned(),
            format!("{}#{checkout_id}", due_stamp(due)),
        )
    }
    /// The zero-padded unix seconds that sort GSI1 `PAYMENTS#DUE`: every `gsi1sk` due strictly
    /// before `before` sorts below `due_stamp(before)`.
    pub fn due_stamp(at: i64) -> String {
        format!("{:012}", at.max(0))
    }
    /// A shop's ledger partition.
    pub fn ledger(shop_id: &str) -> String {
        format!("LEDGER#{shop_id}")
    }
    /// A ledger entry: one per (order, kind), sorted by the order's creation (newest last).
    pub fn ledger_entry(
        shop_id: &str,
        order_created_at: DateTime<Utc>,
        order_id: &str,
        kind: &str,
    ) -> (String, String) {
        (
            ledger(shop_id),
            format!(
                "{:015}#{order_id}#{kind}",
                order_created_at.timestamp_millis().max(0)
            ),
        )
    }
    /// A shop's waiting payouts partition.
    pub fn payout_waits(shop_id: &str) -> String {
        format!("PAYOUTWAIT#{shop_id}")
    }
    pub fn payout_wait(shop_id: &str, checkout_id: &str, order_id: &str) -> (String, String) {
        (payout_waits(shop_id), format!("{checkout_id}#{order_id}"))
    }
    /// The connected account → shop lookup.
    pub fn payout_account(account_id: &str) -> (String, String) {
        (
            format!("PAYOUTACCOUNT#{account_id}"),
            "PAYOUTACCOUNT".to_owned(),
        )
    }
    /// A claimed provider webhook event.
    pub fn webhook(event_id: &str) -> (String, String) {
        (format!("WEBHOOK#{event_id}"), "WEBHOOK".to_owned())
    }

    // ---- the built-in test gateway (local only)
    pub fn test_payment(id: &str) -> (String, String) {
        (format!("TESTPAY#{id}"), "TESTPAY".to_owned())
    }
    /// The partition listing every test payment by creation.
    pub const TEST_PAYMENTS: &str = "TESTPAYS";
    pub fn test_payment_listed(created: i64, id: &str) -> (String, String) {
        (
            TEST_PAYMENTS.to_owned(),
            format!("{}#{id}", due_stamp(created)),
        )
    }
    pub fn test_key(operation: &str, key: &str) -> (String, String) {
        (format!("TESTKEY#{operation}#{key}"), "TESTKEY".to_owned())
    }
    pub fn test_account(id: &str) -> (String, String) {
        (format!("TESTACCT#{id}"), "TESTACCT".to_owned())
    }
    pub fn test_transfer_group(group: &str) -> String {
        format!("TESTGROUP#{group}")
    }
    pub fn test_transfer(group: &str, id: &str) -> (String, String) {
        (test_transfer_group(group), id.to_owned())
    }
    pub fn test_transfer_pointer(id: &str) -> (String, String) {
        (format!("TESTTRANSFER#{id}"), "TESTTRANSFER".to_owned())
    }
    /// A user's write counter of one quota class and window (`crate::quota`).
    pub fn quota(user_id: &str, class: &str, window_start: i64) -> (String, String) {
        (
            format!("QUOTA#{user_id}"),
            format!("{class}#{window_start}"),
        )
    }
    /// The caller in the partition key, the client's key in the sort key: two attributes, so no
    /// choice of user id and key can name another caller's record (a joined string could:
    /// `a#b` + `c` and `a` + `b#c`).
    pub fn idempotency(scope: &str, key: &str) -> (String, String) {
        (format!("IDEMPOTENCY#{scope}"), format!("KEY#{key}"))
    }
    /// GSI1 partition of a category's products.
    pub fn category(slug: &str) -> String {
        format!("CATEGORY#{slug}")
    }

    // ---- personalization
    pub use bazaar_domain::personalize::{hour, shard};

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

#[cfg(test)]
mod tests {
    use super::keys;

    /// The finding: the record key joined user id and key with `#`, so user `a#k` with key `x`
    /// and user `a` with key `k#x` named one record (a replay of another buyer's checkout). Now
    /// the user is the partition key and the key the sort key: no pair collides.
    #[test]
    fn idempotency_keys_are_unambiguous() {
        assert_ne!(keys::idempotency("a#k", "x"), keys::idempotency("a", "k#x"));
        assert_ne!(
            keys::idempotency("a", "KEY#x"),
            keys::idempotency("a#KEY", "x")
        );
        assert_eq!(
            keys::idempotency("ada", "k1"),
            ("IDEMPOTENCY#ada".to_owned(), "KEY#k1".to_owned())
        );
    }
}
