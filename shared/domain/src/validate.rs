//! Request bodies and their validation.
//!
//! Parsing and validation are two steps with two outcomes the contract keeps apart:
//! a body that is not JSON, has a wrong type or an unknown field is a `400` ([`parse_json`]);
//! a well-typed body with values out of range is a `422` (the `validate` methods, which report
//! every failed field at once).

use crate::catalog::{CURRENCY, Product, Shipping, Shop, new_id};
use crate::error::{Error, FieldError};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde_json::{Map, Value};
use std::fmt;

pub const SHOP_NAME_MAX: usize = 100;
pub const SHOP_DESCRIPTION_MAX: usize = 5000;
pub const SHIPPING_CENTS_MAX: i64 = 1_000_000;
pub const TITLE_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 5000;
pub const PRICE_CENTS_MIN: i64 = 1;
pub const PRICE_CENTS_MAX: i64 = 100_000_000;
pub const QUANTITY_MAX: i64 = 10_000;
pub const TAGS_MAX: usize = 13;
pub const TAG_LEN_MAX: usize = 20;
pub const IMAGES_MAX: usize = 10;
pub const IMAGE_URL_MAX: usize = 2048;
pub const CATEGORY_MAX: usize = 50;

fn classify(e: serde_json::Error) -> Error {
    use serde_json::error::Category;
    let text = e.to_string();
    match e.classify() {
        Category::Data if text.starts_with("unknown field") => Error::UnknownField(text),
        Category::Data => Error::InvalidBody(text),
        Category::Syntax | Category::Eof | Category::Io => Error::MalformedJson(text),
    }
}

/// Parses a JSON request body, classifying failures the way the contract wants them. Every body
/// of the API is a JSON object: serde would also read a struct from an array (`[]`), which is
/// refused here by reading the object first.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::MalformedJson("the request body is empty".into()));
    }
    let object: Map<String, Value> = serde_json::from_slice(body).map_err(classify)?;
    T::deserialize(Value::Object(object)).map_err(classify)
}

/// An optional member of a create body: absent is `None`; present, it must have its type. A
/// `null` is the wrong type (`400 invalid_body`, as the contract's strict bodies say): only a
/// PATCH gives `null` a meaning ("leave unchanged"). Use with `#[serde(default)]`.
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A nested JSON object (never an array, unlike a plain derived struct).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object<T>(pub T);

impl<'de, T: DeserializeOwned> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let object = Map::<String, Value>::deserialize(d)?;
        T::deserialize(Value::Object(object))
            .map(Object)
            .map_err(de::Error::custom)
    }
}

/// A JSON integer. Unlike `i64` it accepts integers too large for 64 bits (saturating, so that the
/// range check answers `422`) and integral floats like `3.0`; a fraction such as `2.5` or a
/// non-number is a type error (`400`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Int(pub i64);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct IntVisitor;
        impl Visitor<'_> for IntVisitor {
            type Value = Int;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Int, E> {
                Ok(Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Int, E> {
                Ok(Int(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Int, E> {
                if !v.is_finite() || v.fract() != 0.0 {
                    return Err(E::invalid_type(de::Unexpected::Float(v), &self));
                }
                // `as` saturates for out-of-range floats, which the range check then rejects.
                Ok(Int(v as i64))
            }
        }
        d.deserialize_any(IntVisitor)
    }
}

/// The most field errors one answer lists: a body with 200,000 bad tags once answered an 11 MB
/// problem (over Lambda's 6 MB response limit). The rest are counted in one last entry.
pub const MAX_FIELD_ERRORS: usize = 20;

/// Collects field errors so that a client learns about every problem in one round trip (the
/// first [`MAX_FIELD_ERRORS`] of them).
#[derive(Debug, Default)]
pub struct Checker {
    errors: Vec<FieldError>,
    omitted: usize,
}

/// Characters text fields refuse: control characters (tab and line breaks excepted) and the
/// bidirectional embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069) that
/// make a name or title display as something it is not.
pub fn is_refused_char(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        || ('\u{202A}'..='\u{202E}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// `text` as one plain line of at most `max_chars` characters, for places where a user's text
/// meets another medium (an e-mail subject or body): every control character (line breaks
/// included) becomes a space, bidirectional overrides and zero-width characters are dropped,
/// runs of spaces collapse, and a longer text is cut with `…`.
pub fn plain_line(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    let mut space = false;
    for c in text.chars() {
        if is_refused_char(c) && !c.is_control()
            || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
        {
            continue;
        }
        if c.is_control() || c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    if out.chars().count() > max_chars {
        out = out.chars().take(max_chars.saturating_sub(1)).collect();
        out.push('…');
    }
    out
}

impl Checker {
    pub fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) {
        if self.errors.len() < MAX_FIELD_ERRORS {
            self.errors.push(FieldError::new(field, message));
        } else {
            self.omitted += 1;
        }
    }

    /// Trims `value`, refuses control and bidirectional-override characters, and checks its
    /// length in characters; returns the trimmed text.
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) -> String {
        let trimmed = value.trim();
        if trimmed.chars().any(is_refused_char) {
            self.fail(
                field,
                "must not contain control or bidirectional-override characters",
            );
        }
        let len = trimmed.chars().count();
        if len < min {
            if min == 1 {
                self.fail(field, "must not be blank");
            } else {
                self.fail(field, format!("must be at least {min} characters"));
            }
        } else if len > max {
            self.fail(field, format!("must be at most {max} characters"));
        }
        trimmed.to_owned()
    }

    pub fn range(&mut self, field: &str, value: Int, min: i64, max: i64) -> i64 {
        if value.0 < min || value.0 > max {
            self.fail(field, format!("must be an integer from {min} to {max}"));
        }
        value.0
    }

    pub fn finish<T>(mut self, value: T) -> Result<T, Error> {
        if self.omitted > 0 {
            self.errors.push(FieldError::new(
                "",
                format!(
                    "{} more problems not listed (only the first {MAX_FIELD_ERRORS} are)",
                    self.omitted
                ),
            ));
        }
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(Error::Validation(self.errors))
        }
    }
}

/// A category slug: lowercase ASCII words joined by single hyphens.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// An absolute http(s) URL as RFC 3986 writes it: ASCII only (an internationalized host such as
/// `https://Ï` must come punycode-encoded), so that what is stored is a `format: uri`.
fn is_http_url(s: &str) -> bool {
    if !s.is_ascii() || s.chars().any(|c| c.is_ascii_control() || c == ' ') {
        return false;
    }
    match url::Url::parse(s) {
        Ok(u) => {
            matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
        }
        Err(_) => false,
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShippingInput {
    pub base_cents: Int,
    pub per_extra_item_cents: Int,
}

impl ShippingInput {
    fn check(&self, c: &mut Checker, field: &str) -> Shipping {
        Shipping {
            base_cents: c.range(
                &format!("{field}.base_cents"),
                self.base_cents,
                0,
                SHIPPING_CENTS_MAX,
            ),
            per_extra_item_cents: c.range(
                &format!("{field}.per_extra_item_cents"),
                self.per_extra_item_cents,
                0,
                SHIPPING_CENTS_MAX,
            ),
        }
    }
}

/// `POST /shops`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopCreate {
    pub name: String,
    #[serde(default, deserialize_with = "present")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub shipping: Option<Object<ShippingInput>>,
}

/// A validated `POST /shops`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewShop {
    pub name: String,
    pub description: String,
    pub shipping: Shipping,
}

impl NewShop {
    /// The shop `owner` opens with it (the store enforces one shop per owner and unique names):
    /// a fresh id, no sales or reviews yet.
    pub fn into_shop(self, owner: &str, owner_email: Option<&str>, now: DateTime<Utc>) -> Shop {
        Shop {
            id: new_id(),
            owner_id: owner.to_owned(),
            owner_email: owner_email.map(str::to_owned),
            name: self.name,
            description: self.description,
            shipping: self.shipping,
            rating_sum: 0,
            review_count: 0,
            sales_count: 0,
            created_at: now,
            updated_at: now,
            payout_status: None,
        }
    }
}

impl ShopCreate {
    pub fn validate(self) -> Result<NewShop, Error> {
        let mut c = Checker::default();
        let name = c.text("name", &self.name, 1, SHOP_NAME_MAX);
        let description = c.text(
            "description",
            self.description.as_deref().unwrap_or(""),
            0,
            SHOP_DESCRIPTION_MAX,
        );
        let shipping = self
            .shipping
            .map(|Object(s)| s.check(&mut c, "shipping"))
            .unwrap_or_default();
        c.finish(NewShop {
            name,
            description,
            shipping,
        })
    }
}

/// `PATCH /shops/{shop_id}`: any subset of the writable fields; `null` leaves a field unchanged.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub shipping: Option<Object<ShippingInput>>,
}

/// A validated shop change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShopChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub shipping: Option<Shipping>,
}

impl ShopPatch {
    pub fn validate(self) -> Result<ShopChanges, Error> {
        let mut c = Checker::default();
        if self.name.is_none() && self.description.is_none() && self.shipping.is_none() {
            c.fail(
                "",
                "the patch changes nothing: give at least one of name, description, shipping",
            );
        }
        let changes = ShopChanges {
            name: self.name.map(|n| c.text("name", &n, 1, SHOP_NAME_MAX)),
            description: self
                .description
                .map(|d| c.text("description", &d, 0, SHOP_DESCRIPTION_MAX)),
            shipping: self.shipping.map(|Object(s)| s.check(&mut c, "shipping")),
        };
        c.finish(changes)
    }
}

/// `POST /shops/{shop_id}/products`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductCreate {
    pub title: String,
    #[serde(default, deserialize_with = "present")]
    pub description: Option<String>,
    pub price_cents: Int,
    #[serde(default, deserialize_with = "present")]
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub quantity: Option<Int>,
    pub category: String,
    #[serde(default, deserialize_with = "present")]
    pub tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    pub is_vintage: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    pub images: Option<Vec<String>>,
}

/// A validated new listing.
#[derive(Debug, Clone, PartialEq)]
pub struct NewProduct {
    pub title: String,
    pub description: String,
    pub price_cents: i64,
    pub quantity: i64,
    pub category: String,
    pub tags: Vec<String>,
    pub is_vintage: bool,
    pub images: Vec<String>,
}

impl NewProduct {
    /// The listing in `shop`: a fresh id, version 1, nothing held. It carries its shop's owner so
    /// that every later write can check ownership inside its condition.
    pub fn into_product(self, shop: &Shop, now: DateTime<Utc>) -> Product {
        Product {
            id: new_id(),
            shop_id: shop.id.clone(),
            owner_id: shop.owner_id.clone(),
            title: self.title,
            description: self.description,
            price_cents: self.price_cents,
            quantity: self.quantity,
            category: self.category,
            tags: self.tags,
            is_vintage: self.is_vintage,
            images: self.images,
            created_at: now,
            updated_at: now,
            version: 1,
            holds: Default::default(),
        }
    }
}

/// `PATCH /products/{product_id}`: any subset of the writable fields; `null` leaves a field unchanged.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductPatch {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub price_cents: Option<Int>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub quantity: Option<Int>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub is_vintage: Option<bool>,
    #[serde(default)]
    pub images: Option<Vec<String>>,
}

/// A validated listing change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub price_cents: Option<i64>,
    pub quantity: Option<i64>,
    pub category: Option<String>,
    pub tags: Option<Vec<String>>,
    pub is_vintage: Option<bool>,
    pub images: Option<Vec<String>>,
}

impl ProductChanges {
    pub fn is_empty(&self) -> bool {
        *self == ProductChanges::default()
    }
}

fn check_currency(c: &mut Checker, currency: Option<&str>) {
    if let Some(cur) = currency
        && cur != CURRENCY
    {
        c.fail("currency", format!("must be \"{CURRENCY}\""));
    }
}

fn check_category(c: &mut Checker, category: &str) -> String {
    let category = category.trim();
    if category.is_empty() {
        c.fail("category", "must not be blank");
    } else if category.len() > CATEGORY_MAX || !is_slug(category) {
        c.fail(
            "category",
            format!("must be a slug like `home-decor` (lowercase letters, digits and single hyphens, at most {CATEGORY_MAX} characters)"),
        );
    }
    category.to_owned()
}

fn check_tags(c: &mut Checker, tags: Vec<String>) -> Vec<String> {
    if tags.len() > TAGS_MAX {
        c.fail("tags", format!("must have at most {TAGS_MAX} tags"));
    }
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for (i, tag) in tags.iter().enumerate() {
        let tag = c.text(&format!("tags[{i}]"), tag, 1, TAG_LEN_MAX);
        if !tag.is_empty() && !out.iter().any(|t| t.eq_ignore_ascii_case(&tag)) {
            out.push(tag);
        }
    }
    out
}

fn check_images(c: &mut Checker, images: Vec<String>) -> Vec<String> {
    if images.len() > IMAGES_MAX {
        c.fail("images", format!("must have at most {IMAGES_MAX} images"));
    }
    for (i, image) in images.iter().enumerate() {
        if image.len() > IMAGE_URL_MAX || !is_http_url(image) {
            c.fail(
                format!("images[{i}]"),
                format!("must be an absolute http(s) URL of at most {IMAGE_URL_MAX} characters"),
            );
        }
    }
    images
}

impl ProductCreate {
    pub fn validate(self) -> Result<NewProduct, Error> {
        let mut c = Checker::default();
        let product = NewProduct {
            title: c.text("title", &self.title, 1, TITLE_MAX),
            description: c.text(
                "description",
                self.description.as_deref().unwrap_or(""),
                0,
                DESCRIPTION_MAX,
            ),
            price_cents: c.range(
                "price_cents",
                self.price_cents,
                PRICE_CENTS_MIN,
                PRICE_CENTS_MAX,
            ),
            quantity: c.range("quantity", self.quantity.unwrap_or(Int(1)), 0, QUANTITY_MAX),
            category: check_category(&mut c, &self.category),
            tags: check_tags(&mut c, self.tags.unwrap_or_default()),
            is_vintage: self.is_vintage.unwrap_or(false),
            images: check_images(&mut c, self.images.unwrap_or_default()),
        };
        check_currency(&mut c, self.currency.as_deref());
        c.finish(product)
    }
}

impl ProductPatch {
    pub fn validate(self) -> Result<ProductChanges, Error> {
        let mut c = Checker::default();
        check_currency(&mut c, self.currency.as_deref());
        let changes = ProductChanges {
            title: self.title.map(|t| c.text("title", &t, 1, TITLE_MAX)),
            description: self
                .description
                .map(|d| c.text("description", &d, 0, DESCRIPTION_MAX)),
            price_cents: self
                .price_cents
                .map(|p| c.range("price_cents", p, PRICE_CENTS_MIN, PRICE_CENTS_MAX)),
            quantity: self
                .quantity
                .map(|q| c.range("quantity", q, 0, QUANTITY_MAX)),
            category: self.category.map(|cat| check_category(&mut c, &cat)),
            tags: self.tags.map(|t| check_tags(&mut c, t)),
            is_vintage: self.is_vintage,
            images: self.images.map(|i| check_images(&mut c, i)),
        };
        if changes.is_empty() && self.currency.is_none() {
            c.fail(
                "",
                "the patch changes nothing: give at least one writable field",
            );
        }
        c.finish(changes)
    }
}

/// `POST /cart/items`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CartItemAdd {
    pub product_id: String,
    #[serde(default, deserialize_with = "present")]
    pub quantity: Option<Int>,
}

/// `PATCH /cart/items/{product_id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CartItemPatch {
    pub quantity: Int,
}

fn check_line_quantity(c: &mut Checker, q: Int) -> i64 {
    c.range("quantity", q, 1, crate::cart::MAX_LINE_QUANTITY)
}

impl CartItemAdd {
    /// The product id (unchecked: an id that cannot exist is a `404` for the caller) and the units.
    pub fn validate(self) -> Result<(String, i64), Error> {
        let mut c = Checker::default();
        let quantity = check_line_quantity(&mut c, self.quantity.unwrap_or(Int(1)));
        c.finish((self.product_id, quantity))
    }
}

impl CartItemPatch {
    pub fn validate(self) -> Result<i64, Error> {
        let mut c = Checker::default();
        let quantity = check_line_quantity(&mut c, self.quantity);
        c.finish(quantity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_for_e_mail() {
        assert_eq!(
            plain_line("Juniper\r\nBcc: victim@example.com", 100),
            "Juniper Bcc: victim@example.com"
        );
        assert_eq!(plain_line("  a\u{202E}b\u{200B}c\u{0}d  ", 100), "abc d");
        assert_eq!(
            plain_line(&"x".repeat(200), 10),
            format!("{}…", "x".repeat(9))
        );
        assert_eq!(plain_line("\n\t", 10), "");
    }

    fn product(json: serde_json::Value) -> Result<NewProduct, Error> {
        parse_json::<ProductCreate>(json.to_string().as_bytes())?.validate()
    }

    fn fields(err: Error) -> Vec<(String, String)> {
        match err {
            Error::Validation(errors) => errors.into_iter().map(|e| (e.field, e.message)).collect(),
            other => panic!("not a validation error: {other:?}"),
        }
    }

    /// Hardening (issue 14): NUL and U+202E were stored and served as they came; `https://Ï` was
    /// accepted and then served where the contract promises `format: uri`.
    #[test]
    fn control_and_bidi_override_characters_and_non_ascii_urls_are_refused() {
        let base = serde_json::json!({"title": "Vase", "price_cents": 4200, "category": "ceramics-and-pottery"});
        let with = |k: &str, v: serde_json::Value| {
            let mut b = base.clone();
            b[k] = v;
            b
        };
        for (field, value) in [
            ("title", serde_json::json!("Va\u{0}se")),
            ("title", serde_json::json!("gpj.\u{202E}exe")),
            ("description", serde_json::json!("fine\u{2066}hidden")),
        ] {
            let errs = fields(product(with(field, value)).expect_err("refused"));
            assert!(
                errs.iter()
                    .any(|(f, m)| f == field && m.contains("bidirectional")),
                "{errs:?}"
            );
        }
        let ok = product(with(
            "description",
            serde_json::json!("Line one.\nLine two.\tTabbed."),
        ));
        assert!(ok.is_ok(), "line breaks and tabs stay allowed: {ok:?}");
        let errs =
            fields(product(with("images", serde_json::json!(["https://Ï"]))).expect_err("refused"));
        assert_eq!(errs[0].0, "images[0]");
        assert!(
            product(with(
                "images",
                serde_json::json!(["https://xn--0ca.example/a.jpg"])
            ))
            .is_ok()
        );
    }

    /// Found by the API fuzz suite: `"images": null` (and every other optional member of a create
    /// body) was taken for an absent member and the listing created, where the contract's strict
    /// bodies make a value of the wrong type a 400. A PATCH keeps `null` as "leave unchanged".
    #[test]
    fn null_members_of_create_bodies_are_type_errors() {
        let product =
            serde_json::json!({"title": "Vase", "price_cents": 4200, "category": "ceramics"});
        for member in [
            "description",
            "currency",
            "quantity",
            "tags",
            "is_vintage",
            "images",
        ] {
            let mut body = product.clone();
            body[member] = serde_json::Value::Null;
            let err = parse_json::<ProductCreate>(&serde_json::to_vec(&body).expect("json"))
                .expect_err(member);
            assert_eq!(err.status(), 400, "{member}: {err:?}");
        }
        for body in [
            &br#"{"name": "Kiln", "description": null}"#[..],
            br#"{"name": "Kiln", "shipping": null}"#,
        ] {
            let err = parse_json::<ShopCreate>(body).expect_err("null");
            assert_eq!(err.status(), 400, "{}", String::from_utf8_lossy(body));
        }
        let err = parse_json::<CartItemAdd>(br#"{"product_id": "p1", "quantity": null}"#)
            .expect_err("null");
        assert_eq!(err.status(), 400);
        let err = parse_json::<crate::orders::ReviewRequest>(br#"{"rating": 5, "comment": null}"#)
            .expect_err("null");
        assert_eq!(err.status(), 400);
        // Absent members still take their defaults, and a PATCH's null still means "unchanged".
        assert!(parse_json::<ProductCreate>(&serde_json::to_vec(&product).expect("json")).is_ok());
        assert!(parse_json::<CartItemAdd>(br#"{"product_id": "p1"}"#).is_ok());
        assert!(parse_json::<ProductPatch>(br#"{"images": null, "price_cents": 100}"#).is_ok());
    }

    /// Hardening (issue 14): 200,000 blank tags once answered an 11 MB problem document.
    #[test]
    fn error_lists_are_bounded() {
        let tags: Vec<&str> = vec![" "; 200_000];
        let body = serde_json::json!({"title": "Vase", "price_cents": 4200, "category": "ceramics-and-pottery", "tags": tags});
        let errs = fields(product(body).expect_err("refused"));
        assert_eq!(errs.len(), MAX_FIELD_ERRORS + 1);
        assert!(
            errs[MAX_FIELD_ERRORS]
                .1
                .contains("more problems not listed"),
            "{:?}",
            errs.last()
        );
        let problem_bytes = serde_json::to_vec(&errs).expect("json").len();
        assert!(problem_bytes < 4_096, "{problem_bytes} bytes");
    }

    #[test]
    fn a_new_shop_and_its_first_listing_start_empty_and_carry_the_owner() {
        let now = chrono::Utc::now();
        let shop = NewShop {
            name: "Kiln".into(),
            description: String::new(),
            shipping: Shipping {
                base_cents: 500,
                per_extra_item_cents: 150,
            },
        }
        .into_shop("ada", Some("ada@example.com"), now);
        assert_eq!(
            (shop.owner_id.as_str(), shop.sales_count, shop.review_count),
            ("ada", 0, 0)
        );
        assert_eq!(shop.owner_email.as_deref(), Some("ada@example.com"));
        let product = NewProduct {
            title: "Vase".into(),
            description: String::new(),
            price_cents: 4200,
            quantity: 1,
            category: "ceramics-and-pottery".into(),
            tags: vec![],
            is_vintage: false,
            images: vec![],
        }
        .into_product(&shop, now);
        assert_eq!(product.shop_id, shop.id);
        assert_eq!(product.owner_id, "ada");
        assert_eq!(product.version, 1);
        assert!(product.holds.is_empty());
        assert_ne!(product.id, shop.id);
        assert_eq!(product.created_at, now);
    }
    use proptest::prelude::*;

    fn product_json(overrides: serde_json::Value) -> Vec<u8> {
        let mut base = serde_json::json!({
            "title": "Handcrafted leather billfold",
            "price_cents": 4500,
            "category": "bags-and-purses",
        });
        if let (Some(b), Some(o)) = (base.as_object_mut(), overrides.as_object()) {
            for (k, v) in o {
                b.insert(k.clone(), v.clone());
            }
        }
        serde_json::to_vec(&base).expect("serializes")
    }

    fn create(body: &[u8]) -> Result<NewProduct, Error> {
        parse_json::<ProductCreate>(body)?.validate()
    }

    #[test]
    fn defaults_apply() {
        let p = create(&product_json(serde_json::json!({}))).expect("valid");
        assert_eq!(p.quantity, 1);
        assert!(!p.is_vintage);
        assert!(p.tags.is_empty());
        assert_eq!(p.description, "");
    }

    #[test]
    fn parse_failures_are_400_and_range_failures_422() {
        let cases: &[(&[u8], u16)] = &[
            (b"", 400),
            (b"{", 400),
            (b"not json", 400),
            (b"[]", 400),
            (b"null", 400),
            (br#"{"title": 5, "price_cents": 1, "category": "a"}"#, 400),
            (br#"{"title": "x", "price_cents": "12", "category": "a"}"#, 400),
            (br#"{"title": "x", "price_cents": 12.5, "category": "a"}"#, 400),
            (br#"{"title": "x", "price_cents": 1, "category": "a", "price": 9.99}"#, 400),
            (br#"["x", 1, "a"]"#, 400),
            (br#"{"price_cents": 1, "category": "a"}"#, 400),
            (br#"{"title": "x", "price_cents": 0, "category": "a"}"#, 422),
            (br#"{"title": "x", "price_cents": -5, "category": "a"}"#, 422),
            (br#"{"title": "x", "price_cents": 100000001, "category": "a"}"#, 422),
            (br#"{"title": "x", "price_cents": 99999999999999999999999, "category": "a"}"#, 422),
            (br#"{"title": "x", "price_cents": 1e30, "category": "a"}"#, 422),
            (br#"{"title": "  ", "price_cents": 1, "category": "a"}"#, 422),
            (br#"{"title": "x", "price_cents": 1, "category": "Home Decor"}"#, 422),
            (br#"{"title": "x", "price_cents": 1, "category": "a", "quantity": 10001}"#, 422),
            (br#"{"title": "x", "price_cents": 1, "category": "a", "currency": "EUR"}"#, 422),
            (br#"{"title": "x", "price_cents": 1, "category": "a", "images": ["ftp://x/y"]}"#, 422),
            (br#"{"title": "x", "price_cents": 1, "category": "a", "tags": ["this tag is far too long to keep"]}"#, 422),
        ];
        for (body, status) in cases {
            let err = create(body).expect_err(&String::from_utf8_lossy(body));
            assert_eq!(
                err.status(),
                *status,
                "{} -> {err:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn integral_floats_are_integers() {
        let p =
            create(br#"{"title": "x", "price_cents": 1200.0, "category": "a"}"#).expect("valid");
        assert_eq!(p.price_cents, 1200);
    }

    #[test]
    fn every_failed_field_is_reported() {
        let err = create(br#"{"title": "", "price_cents": 0, "category": "A B", "quantity": -1}"#)
            .expect_err("invalid");
        let Error::Validation(fields) = err else {
            panic!("expected validation error, got {err:?}")
        };
        let names: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["title", "price_cents", "quantity", "category"]);
    }

    #[test]
    fn tags_are_trimmed_and_deduplicated() {
        let p = create(&product_json(
            serde_json::json!({"tags": [" leather ", "Leather", "wallet"]}),
        ))
        .expect("valid");
        assert_eq!(p.tags, ["leather", "wallet"]);
    }

    #[test]
    fn empty_patches_are_rejected() {
        let err = parse_json::<ProductPatch>(b"{}").and_then(ProductPatch::validate);
        assert_eq!(err.expect_err("empty").status(), 422);
        let err = parse_json::<ShopPatch>(b"{}").and_then(ShopPatch::validate);
        assert_eq!(err.expect_err("empty").status(), 422);
        let ok =
            parse_json::<ShopPatch>(br#"{"name": " New name "}"#).and_then(ShopPatch::validate);
        assert_eq!(ok.expect("valid").name.as_deref(), Some("New name"));
    }

    #[test]
    fn shop_names_count_characters_not_bytes() {
        let name = "é".repeat(100);
        let body = serde_json::to_vec(&serde_json::json!({ "name": name })).expect("json");
        assert!(
            parse_json::<ShopCreate>(&body)
                .and_then(ShopCreate::validate)
                .is_ok()
        );
        let name = "é".repeat(101);
        let body = serde_json::to_vec(&serde_json::json!({ "name": name })).expect("json");
        let err = parse_json::<ShopCreate>(&body).and_then(ShopCreate::validate);
        assert_eq!(err.expect_err("too long").status(), 422);
    }

    #[test]
    fn cart_quantities() {
        let add = |b: &[u8]| parse_json::<CartItemAdd>(b).and_then(CartItemAdd::validate);
        assert_eq!(
            add(br#"{"product_id": "p"}"#).expect("default 1"),
            ("p".into(), 1)
        );
        assert_eq!(
            add(br#"{"product_id": "p", "quantity": 3}"#).expect("3").1,
            3
        );
        for (body, status) in [
            (&br#"{"product_id": "p", "quantity": 0}"#[..], 422),
            (br#"{"product_id": "p", "quantity": -2}"#, 422),
            (br#"{"product_id": "p", "quantity": 41}"#, 422),
            (br#"{"product_id": "p", "quantity": 1.5}"#, 400),
            (br#"{"product_id": "p", "quantity": "1"}"#, 400),
            (br#"{"quantity": 1}"#, 400),
            (br#"{"product_id": 7}"#, 400),
            (br#"{"product_id": "p", "price_cents": 1}"#, 400),
        ] {
            assert_eq!(
                add(body).expect_err("invalid").status(),
                status,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        let patch = |b: &[u8]| parse_json::<CartItemPatch>(b).and_then(CartItemPatch::validate);
        assert_eq!(patch(br#"{"quantity": 2}"#).expect("2"), 2);
        assert_eq!(patch(br#"{"quantity": 0}"#).expect_err("0").status(), 422);
        assert_eq!(patch(br#"{}"#).expect_err("missing").status(), 400);
    }

    #[test]
    fn slugs() {
        for ok in ["jewelry", "home-decor", "a1-b2-c3"] {
            assert!(is_slug(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a--b", "Home", "a b", "ä"] {
            assert!(!is_slug(bad), "{bad}");
        }
    }

    fn arbitrary_json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            ".{0,300}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(3, 32, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..15).prop_map(serde_json::Value::from),
                prop::collection::hash_map(
                    prop_oneof![
                        Just("title".to_owned()),
                        Just("name".to_owned()),
                        Just("price_cents".to_owned()),
                        Just("quantity".to_owned()),
                        Just("category".to_owned()),
                        Just("tags".to_owned()),
                        Just("images".to_owned()),
                        Just("shipping".to_owned()),
                        Just("base_cents".to_owned()),
                        Just("description".to_owned()),
                        "[a-z_]{1,12}",
                    ],
                    inner,
                    0..8
                )
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Whatever the body, validation answers with a value or a 4xx, never a panic or a 5xx.
        #[test]
        fn any_json_body_is_a_client_error_or_valid(value in arbitrary_json()) {
            let body = serde_json::to_vec(&value).expect("json");
            for result in [
                parse_json::<ProductCreate>(&body).and_then(ProductCreate::validate).map(|_| ()),
                parse_json::<ProductPatch>(&body).and_then(ProductPatch::validate).map(|_| ()),
                parse_json::<ShopCreate>(&body).and_then(ShopCreate::validate).map(|_| ()),
                parse_json::<ShopPatch>(&body).and_then(ShopPatch::validate).map(|_| ()),
            ] {
                if let Err(e) = result {
                    prop_assert!((400..500).contains(&e.status()), "{e:?}");
                }
            }
        }

        /// Arbitrary bytes never panic the parser and never yield a server error.
        #[test]
        fn any_bytes_are_a_client_error_or_valid(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            if let Err(e) = parse_json::<ProductCreate>(&bytes).and_then(ProductCreate::validate) {
                prop_assert!((400..500).contains(&e.status()));
            }
        }

        /// Every accepted product satisfies the contract's limits.
        #[test]
        fn accepted_products_are_within_limits(
            title in ".{0,250}",
            price in any::<i64>(),
            quantity in proptest::option::of(any::<i64>()),
            tags in prop::collection::vec(".{0,25}", 0..16),
            category in "[a-zA-Z0-9 -]{0,60}",
        ) {
            let mut body = serde_json::json!({"title": title, "price_cents": price, "category": category, "tags": tags});
            if let Some(q) = quantity { body["quantity"] = q.into(); }
            let bytes = serde_json::to_vec(&body).expect("json");
            match parse_json::<ProductCreate>(&bytes).and_then(ProductCreate::validate) {
                Ok(p) => {
                    let title_len = p.title.chars().count();
                    prop_assert!((1..=TITLE_MAX).contains(&title_len));
                    prop_assert!((PRICE_CENTS_MIN..=PRICE_CENTS_MAX).contains(&p.price_cents));
                    prop_assert!((0..=QUANTITY_MAX).contains(&p.quantity));
                    prop_assert!(p.tags.len() <= TAGS_MAX);
                    prop_assert!(p.tags.iter().all(|t| !t.is_empty() && t.chars().count() <= TAG_LEN_MAX));
                    prop_assert!(is_slug(&p.category));
                }
                Err(e) => prop_assert_eq!(e.status(), 422),
            }
        }
    }
}
