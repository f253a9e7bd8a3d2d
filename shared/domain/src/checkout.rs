//! Checkout: one payment, one order per shop, all or nothing, exactly once.
//!
//! 1. The checkout id derives from (buyer, Idempotency-Key), and each order id from (checkout id,
//!    shop id): a retry after a crash at any point can only ever address the same orders.
//! 2. If the checkout's record exists, it committed before: its orders are returned (and the
//!    payment captured, idempotently) — nothing is written again.
//! 3. Otherwise the cart and its products are read, every line is planned like a cart write (the
//!    buyer's own holds, else free units), and orders are priced from the catalog.
//! 4. The payment is authorized, then one `TransactWriteItems` commits everything: per line the
//!    consumed hold items (each conditioned on being the buyer's or free), the stock decrement
//!    (`quantity >= :q`), the cart line; per shop the order and the shop's sales count; and the
//!    checkout record (`attribute_not_exists`), which is what makes a second set impossible.
//! 5. On commit the payment is captured; if the transaction is cancelled, the authorization is
//!    voided and the failed lines are named from `CancellationReasons`.
//!
//! `order.created` events need no dual write: every order item reaches the table's stream, and the
//! stream relay function publishes it (see docs/architecture.md).

use crate::cart::Plan;
use crate::catalog::{Shipping, rfc3339};
use crate::error::Error;
use crate::validate::{Checker, Object, present};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::future::Future;

/// DynamoDB's limit on actions in one transaction.
pub const MAX_TRANSACTION_ACTIONS: usize = 100;

// ------------------------------------------------------------------ request

/// ISO 3166-1 alpha-2 country codes.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// The shipping address of a checkout (and of each of its orders).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShippingAddress {
    pub name: String,
    pub line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    pub city: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub postal_code: String,
    pub country: String,
}

/// The shipping address of `POST /checkout` as sent: like [`ShippingAddress`], but an optional
/// line that is present must be a string (`null` is a type error, `400`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShippingAddressInput {
    pub name: String,
    pub line1: String,
    #[serde(default, deserialize_with = "present")]
    pub line2: Option<String>,
    pub city: String,
    #[serde(default, deserialize_with = "present")]
    pub region: Option<String>,
    pub postal_code: String,
    pub country: String,
}

/// `POST /checkout`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckoutRequest {
    pub shipping_address: Object<ShippingAddressInput>,
    pub payment_method: String,
}

impl CheckoutRequest {
    /// The trimmed, checked address and payment method (`422` listing every bad field).
    pub fn validate(self) -> Result<(ShippingAddress, String), Error> {
        let mut c = Checker::default();
        let a = self.shipping_address.0;
        let opt = |c: &mut Checker, field: &str, v: Option<String>| {
            v.map(|v| c.text(field, &v, 0, 200))
                .filter(|v| !v.is_empty())
        };
        let country = a.country.trim().to_owned();
        if country.len() != 2 || !COUNTRIES.split(' ').any(|code| code == country) {
            c.fail(
                "shipping_address.country",
                "must be an ISO 3166-1 alpha-2 code in capitals, e.g. US",
            );
        }
        let address = ShippingAddress {
            name: c.text("shipping_address.name", &a.name, 1, 200),
            line1: c.text("shipping_address.line1", &a.line1, 1, 200),
            line2: opt(&mut c, "shipping_address.line2", a.line2),
            city: c.text("shipping_address.city", &a.city, 1, 100),
            region: opt(&mut c, "shipping_address.region", a.region),
            postal_code: c.text("shipping_address.postal_code", &a.postal_code, 1, 20),
            country,
        };
        let method = c.text("payment_method", &self.payment_method, 1, 255);
        c.finish((address, method))
    }
}

// ------------------------------------------------------------------ orders

/// Order statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Paid,
    Shipped,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderItem {
    pub product_id: String,
    pub title: String,
    pub quantity: i64,
    pub price_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    pub carrier: String,
    pub tracking_number: String,
}

/// An order: one per shop per checkout. (Its stored form, with keys, is `bazaar_aws::records`.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub order_id: String,
    pub checkout_id: String,
    pub buyer_id: String,
    pub shop_id: String,
    pub shop_name: String,
    /// The shop owner's user id: who may see, ship and cancel the order.
    pub owner_id: String,
    /// Where the seller is e-mailed (never shown in the API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_email: Option<String>,
    pub items: Vec<OrderItem>,
    /// Every product bought in the same checkout, this order's and the other shops' (for
    /// "customers also bought"; never shown).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub basket: Vec<String>,
    pub subtotal_cents: i64,
    pub shipping_cents: i64,
    pub total_cents: i64,
    pub status: OrderStatus,
    pub shipping_address: ShippingAddress,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment: Option<Shipment>,
    #[serde(default)]
    pub reviewed: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Grows with every change; events carry it so consumers can ignore stale ones.
    pub version: i64,
}

/// The Order object of the contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderView {
    pub order_id: String,
    pub checkout_id: String,
    pub buyer_id: String,
    pub shop_id: String,
    pub shop_name: String,
    pub items: Vec<OrderItem>,
    pub subtotal_cents: i64,
    pub shipping_cents: i64,
    pub total_cents: i64,
    pub status: OrderStatus,
    pub shipping_address: ShippingAddress,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipment: Option<Shipment>,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
}

impl Order {
    pub fn view(&self) -> OrderView {
        OrderView {
            order_id: self.order_id.clone(),
            checkout_id: self.checkout_id.clone(),
            buyer_id: self.buyer_id.clone(),
            shop_id: self.shop_id.clone(),
            shop_name: self.shop_name.clone(),
            items: self.items.clone(),
            subtotal_cents: self.subtotal_cents,
            shipping_cents: self.shipping_cents,
            total_cents: self.total_cents,
            status: self.status,
            shipping_address: self.shipping_address.clone(),
            shipment: self.shipment.clone(),
            created_at: self.created_at,
        }
    }
}

const ID_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6d1f_4c1e_9a0b_4a7e_8f0e_b1a2_c3d4_e5f6);

/// The checkout id of (buyer, Idempotency-Key): the same on every retry.
pub fn checkout_id(buyer: &str, idempotency_key: &str) -> String {
    uuid::Uuid::new_v5(
        &ID_NAMESPACE,
        format!("checkout\0{buyer}\0{idempotency_key}").as_bytes(),
    )
    .to_string()
}

/// The order id of one shop's part of a checkout: the same on every retry.
pub fn order_id(checkout_id: &str, shop_id: &str) -> String {
    uuid::Uuid::new_v5(
        &ID_NAMESPACE,
        format!("order\0{checkout_id}\0{shop_id}").as_bytes(),
    )
    .to_string()
}

/// The answer of `POST /checkout`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckoutView {
    pub checkout_id: String,
    pub orders: Vec<OrderView>,
    pub total_cents: i64,
}

// ------------------------------------------------------------------ planning (pure)

/// A cart line as checkout sees it.
#[derive(Debug, Clone)]
pub struct PlannedLine {
    pub product_id: String,
    pub shop_id: String,
    pub quantity: i64,
    pub title: String,
    pub price_cents: i64,
    pub plan: Plan,
}

/// A line that can no longer be had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnavailableItem {
    pub product_id: String,
    pub title: String,
    pub requested: i64,
    pub available: i64,
}

/// The shop state checkout needs.
#[derive(Debug, Clone)]
pub struct OrderShop {
    pub name: String,
    pub owner_id: String,
    pub owner_email: Option<String>,
    pub shipping: Shipping,
}

/// Actions one transaction spends on a line: one update of its product (stock, and the slots it
/// holds, whatever their number).
pub const LINE_ACTIONS: usize = 1;

/// Actions per shop (order, sales count) and per checkout (its record, its payment's record, the
/// cart's version bump that empties it, the write quota).
pub const SHOP_ACTIONS: usize = 2;
pub const CHECKOUT_ACTIONS: usize = 4;

/// How many of `lines` (in cart order) fit in one transaction.
pub fn max_lines(lines: &[PlannedLine]) -> usize {
    let mut used = CHECKOUT_ACTIONS;
    let mut shops: Vec<&str> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let mut cost = LINE_ACTIONS;
        if !shops.contains(&line.shop_id.as_str()) {
            cost += SHOP_ACTIONS;
        }
        if used + cost > MAX_TRANSACTION_ACTIONS {
            return i;
        }
        used += cost;
        shops.push(&line.shop_id);
    }
    lines.len()
}

/// Builds one order per shop, in the order shops first appear in the cart.
#[allow(clippy::too_many_arguments)]
pub fn build_orders(
    checkout_id: &str,
    buyer: &str,
    lines: &[PlannedLine],
    shops: &BTreeMap<String, OrderShop>,
    address: &ShippingAddress,
    now: DateTime<Utc>,
) -> Result<Vec<Order>, Error> {
    let basket: Vec<String> = lines.iter().map(|l| l.product_id.clone()).collect();
    let mut order_shops: Vec<&str> = Vec::new();
    for line in lines {
        if !order_shops.contains(&line.shop_id.as_str()) {
            order_shops.push(&line.shop_id);
        }
    }
    order_shops
        .into_iter()
        .map(|shop_id| {
            let shop = shops
                .get(shop_id)
                .ok_or_else(|| Error::internal(format!("cart line of unknown shop {shop_id}")))?;
            let items: Vec<OrderItem> = lines
                .iter()
                .filter(|l| l.shop_id == shop_id)
                .map(|l| OrderItem {
                    product_id: l.product_id.clone(),
                    title: l.title.clone(),
                    quantity: l.quantity,
                    price_cents: l.price_cents,
                })
                .collect();
            let units: i64 = items.iter().map(|i| i.quantity).sum();
            let subtotal: i64 = items.iter().map(|i| i.price_cents * i.quantity).sum();
            let shipping = shop.shipping.cost_cents(units);
            let id = order_id(checkout_id, shop_id);
            Ok(Order {
                order_id: id,
                checkout_id: checkout_id.to_owned(),
                buyer_id: buyer.to_owned(),
                shop_id: shop_id.to_owned(),
                shop_name: shop.name.clone(),
                owner_id: shop.owner_id.clone(),
                owner_email: shop.owner_email.clone(),
                items,
                basket: basket.clone(),
                subtotal_cents: subtotal,
                shipping_cents: shipping,
                total_cents: subtotal + shipping,
                status: OrderStatus::Paid,
                shipping_address: address.clone(),
                shipment: None,
                reviewed: false,
                created_at: now,
                updated_at: now,
                version: 1,
            })
        })
        .collect()
}

pub fn items_unavailable(items: Vec<UnavailableItem>) -> Error {
    let mut extra = Map::new();
    extra.insert(
        "unavailable_items".into(),
        serde_json::to_value(&items).unwrap_or(Value::Null),
    );
    Error::Conflict {
        code: "items_unavailable",
        detail: format!(
            "{} line(s) of the cart can no longer be had; nothing was charged or ordered.",
            items.len()
        ),
        extra,
    }
}

// ------------------------------------------------------------------ the store's forms

/// The record that marks a committed checkout: written in the checkout's transaction, on the
/// condition that it does not exist yet, so a checkout's orders can be written once only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckoutRecord {
    pub checkout_id: String,
    pub buyer_id: String,
    pub order_ids: Vec<String>,
    pub total_cents: i64,
    /// The authorization captured once the checkout committed.
    pub payment_id: String,
    pub created_at: DateTime<Utc>,
}

/// One checkout, committed by a [`CheckoutStore`](crate::ports::CheckoutStore) atomically under
/// these conditions:
/// - per line: every slot it holds ([`Plan::held`]) is free, expired at `now` or the buyer's;
///   every slot it releases is free or the buyer's; the product exists with at least the line's
///   quantity in stock;
/// - the cart still has `cart_version` (nothing changed it since it was read);
/// - with a `quota` charge, the buyer's checkout window has room for one more;
/// - per order: it does not exist yet and its shop exists;
/// - the record does not exist yet.
///
/// It consumes the held slots, takes the units off stock (bumping the product's version),
/// empties the cart (one action: its version is bumped and its lines go), counts the quota, writes the orders, adds their units to each shop's sales count and
/// writes the record.
#[derive(Debug, Clone, Copy)]
pub struct CheckoutWrite<'a> {
    pub buyer: &'a str,
    pub lines: &'a [PlannedLine],
    pub orders: &'a [Order],
    pub record: &'a CheckoutRecord,
    /// The payment's record, written with the orders (state `authorized`).
    pub payment: &'a crate::payments::Payment,
    /// Unix seconds the lines were planned at.
    pub now: i64,
    /// The cart's version as read.
    pub cart_version: i64,
    /// The checkout quota this checkout spends, if quotas are on.
    pub quota: Option<crate::quota::Charge>,
}

/// How a checkout's commit ended, when it did not fail outright.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckoutWritten {
    Committed,
    /// The record exists: a duplicate of this checkout committed first.
    Duplicate,
    /// Cancelled: the indexes (into [`CheckoutWrite::lines`]) of the lines whose conditions
    /// failed or which another write was changing at that moment. Nothing was written.
    Cancelled {
        lines: Vec<usize>,
    },
    /// Cancelled because the buyer's checkout quota is spent. Nothing was written.
    RateLimited,
}

// ------------------------------------------------------------------ hooks

/// Hooks for fault-injection tests.
pub trait CheckoutHooks: Send + Sync {
    /// Called after the payment was authorized, just before the transaction is sent.
    fn before_commit(&self, _checkout_id: &str) -> impl Future<Output = ()> + Send {
        async {}
    }
    /// Called right after the transaction committed (before the capture).
    fn after_commit(&self, _checkout_id: &str) {}
}

/// No faults (production).
pub struct NoHooks;
impl CheckoutHooks for NoHooks {}

/// The answer of a checkout, from its orders.
pub fn checkout_view(checkout_id: &str, orders: &[Order]) -> CheckoutView {
    CheckoutView {
        checkout_id: checkout_id.to_owned(),
        total_cents: orders.iter().map(|o| o.total_cents).sum(),
        orders: orders.iter().map(Order::view).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::parse_json;

    fn address() -> ShippingAddress {
        ShippingAddress {
            name: "Ada".into(),
            line1: "1 Loom St".into(),
            line2: None,
            city: "Bristol".into(),
            region: None,
            postal_code: "BS1".into(),
            country: "GB".into(),
        }
    }

    fn line(product: &str, shop: &str, q: i64, price: i64, slots: usize) -> PlannedLine {
        PlannedLine {
            product_id: product.into(),
            shop_id: shop.into(),
            quantity: q,
            title: product.to_uppercase(),
            price_cents: price,
            plan: Plan {
                keep: (0..slots as u32).collect(),
                ..Plan::default()
            },
        }
    }

    #[test]
    fn ids_are_stable_per_buyer_key_and_shop() {
        let a = checkout_id("alice", "k1");
        assert_eq!(a, checkout_id("alice", "k1"));
        assert_ne!(a, checkout_id("bob", "k1"));
        assert_ne!(a, checkout_id("alice", "k2"));
        assert_eq!(order_id(&a, "s1"), order_id(&a, "s1"));
        assert_ne!(order_id(&a, "s1"), order_id(&a, "s2"));
    }

    #[test]
    fn one_order_per_shop_with_the_contract_totals() {
        let shops: BTreeMap<String, OrderShop> = [
            (
                "s1".to_owned(),
                OrderShop {
                    name: "One".into(),
                    owner_id: "o1".into(),
                    owner_email: None,
                    shipping: Shipping {
                        base_cents: 500,
                        per_extra_item_cents: 150,
                    },
                },
            ),
            (
                "s2".to_owned(),
                OrderShop {
                    name: "Two".into(),
                    owner_id: "o2".into(),
                    owner_email: None,
                    shipping: Shipping {
                        base_cents: 300,
                        per_extra_item_cents: 0,
                    },
                },
            ),
        ]
        .into_iter()
        .collect();
        let lines = vec![
            line("a", "s1", 1, 2500, 1),
            line("b", "s2", 2, 1000, 2),
            line("c", "s1", 2, 700, 2),
        ];
        let orders =
            build_orders("c1", "buyer", &lines, &shops, &address(), Utc::now()).expect("orders");
        assert_eq!(orders.len(), 2);
        assert_eq!(orders[0].shop_id, "s1");
        assert_eq!(orders[0].items.len(), 2);
        assert_eq!(orders[0].subtotal_cents, 2500 + 1400);
        assert_eq!(orders[0].shipping_cents, 500 + 150 * 2);
        assert_eq!(orders[0].total_cents, 3900 + 800);
        assert_eq!(orders[1].total_cents, 2000 + 300);
        assert_eq!(orders[0].owner_id, "o1");
        assert_eq!(orders[0].status, OrderStatus::Paid);
        assert_eq!(orders[0].order_id, order_id("c1", "s1"));
    }

    #[test]
    fn the_transaction_limit_decides_max_lines() {
        // 1 unit each, all from different shops: 4 + 3 per line → 32 lines fit.
        let lines: Vec<PlannedLine> = (0..40)
            .map(|i| line(&format!("p{i}"), &format!("s{i}"), 1, 100, 1))
            .collect();
        assert_eq!(max_lines(&lines), 32);
        // 40 lines of 40 units (the most a line holds) from 10 shops: 4 + 20 + 40 = 64 fit.
        let lines: Vec<PlannedLine> = (0..40)
            .map(|i| line(&format!("p{i}"), &format!("s{}", i % 10), 40, 100, 40))
            .collect();
        assert_eq!(max_lines(&lines), 40);
        // one shop: 4 + 2 + 1 per line → 94 lines fit (more than a cart holds units of).
        let lines: Vec<PlannedLine> = (0..100)
            .map(|i| line(&format!("p{i}"), "s", 1, 100, 1))
            .collect();
        assert_eq!(max_lines(&lines), 94);
        assert_eq!(max_lines(&lines[..10]), 10);
    }

    #[test]
    fn checkout_bodies() {
        let ok = br#"{"shipping_address": {"name": "Ada", "line1": "1 Loom St", "city": "Bristol", "postal_code": "BS1", "country": "GB"}, "payment_method": "pm_card_visa"}"#;
        let (a, m) = parse_json::<CheckoutRequest>(ok)
            .and_then(CheckoutRequest::validate)
            .expect("valid");
        assert_eq!((a.country.as_str(), m.as_str()), ("GB", "pm_card_visa"));
        for (body, status) in [
            (&br#"{"shipping_address": {"name": "Ada", "line1": "x", "city": "y", "postal_code": "1", "country": "XX"}, "payment_method": "pm_card_visa"}"#[..], 422),
            (br#"{"shipping_address": {"name": "", "line1": "x", "city": "y", "postal_code": "1", "country": "US"}, "payment_method": "pm_card_visa"}"#, 422),
            (br#"{"shipping_address": {"name": "A", "line1": "x", "city": "y", "postal_code": "1", "country": "us"}, "payment_method": ""}"#, 422),
            (br#"{"shipping_address": {"name": "A", "line1": "x", "city": "y", "postal_code": "1"}, "payment_method": "pm_card_visa"}"#, 400),
            (br#"{"shipping_address": [], "payment_method": "pm_card_visa"}"#, 400),
            (br#"{"payment_method": "pm_card_visa"}"#, 400),
            (br#"{"shipping_address": {"name": "A", "line1": "x", "city": "y", "postal_code": "1", "country": "US"}, "payment_method": "pm_card_visa", "total_cents": 1}"#, 400),
            // Found by the API fuzz suite: a `null` optional line was taken for an absent one.
            (br#"{"shipping_address": {"name": "A", "line1": "x", "line2": null, "city": "y", "postal_code": "1", "country": "US"}, "payment_method": "pm_card_visa"}"#, 400),
            (br#"{"shipping_address": {"name": "A", "line1": "x", "city": "y", "region": null, "postal_code": "1", "country": "US"}, "payment_method": "pm_card_visa"}"#, 400),
        ] {
            let err = parse_json::<CheckoutRequest>(body).and_then(CheckoutRequest::validate).expect_err("invalid");
            assert_eq!(err.status(), status, "{}", String::from_utf8_lossy(body));
        }
    }
}
