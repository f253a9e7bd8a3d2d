//! End-to-end: HTTP caching of the public reads over the local gateway — `Cache-Control`,
//! `Vary`, `ETag`, `If-None-Match` → `304`, a new tag after a change, and never a cacheable
//! answer to a request with a token.

use bazaar_e2e::{Client, Reply, unique};
use serde_json::json;

fn header<'a>(r: &'a Reply, name: &str) -> &'a str {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

async fn seller_with_product() -> (Client, String, String) {
    let seller = Client::as_user(&unique("seller"));
    let r = seller
        .post("/shops", json!({"name": unique("Cache Shop"), "shipping": {"base_cents": 400, "per_extra_item_cents": 100}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let shop = r.body["id"].as_str().expect("id").to_owned();
    let r = seller
        .post(
            &format!("/shops/{shop}/products"),
            json!({"title": "Hand-thrown porcelain bowl", "price_cents": 3800, "category": "ceramics-and-pottery", "quantity": 2}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let product = r.body["id"].as_str().expect("id").to_owned();
    (seller, shop, product)
}

/// Every public read answers an anonymous caller with a public `Cache-Control`, `Vary:
/// Authorization` and an `ETag`, and a matching `If-None-Match` with `304` and no body.
#[tokio::test]
async fn public_reads_are_cacheable_and_revalidate_with_304() {
    let (_seller, shop, product) = seller_with_product().await;
    let anonymous = Client::anonymous();
    for (path, control) in [
        (
            format!("/products/{product}"),
            "public, max-age=2, s-maxage=2",
        ),
        (format!("/shops/{shop}"), "public, max-age=60, s-maxage=60"),
        (
            format!("/products/{product}/recommendations"),
            "public, max-age=30, s-maxage=30",
        ),
        ("/search?q=bowl".to_owned(), "public, max-age=2, s-maxage=2"),
        ("/trending".to_owned(), "public, max-age=10, s-maxage=10"),
        ("/feed".to_owned(), "public, max-age=10, s-maxage=10"),
    ] {
        let r = anonymous.get(&path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert_eq!(header(&r, "cache-control"), control, "{path}");
        assert_eq!(header(&r, "vary"), "Authorization", "{path}");
        let tag = header(&r, "etag").to_owned();
        assert!(
            tag.starts_with('"') && tag.len() > 2,
            "{path}: etag {tag:?}"
        );

        let again = anonymous
            .send_with("GET", &path, &[("if-none-match", &tag)], None)
            .await;
        // Search and the feed may move between two reads (another test's listing, the trending
        // job): then it is a 200 with the new tag, never a 304 with a stale one.
        if again.status == 304 {
            assert_eq!(
                again.body,
                serde_json::Value::Null,
                "{path}: a 304 has no body"
            );
            assert_eq!(header(&again, "etag"), tag, "{path}");
            assert_eq!(header(&again, "cache-control"), control, "{path}");
        } else {
            assert_eq!(again.status, 200, "{path}");
            assert_ne!(header(&again, "etag"), tag, "{path}");
        }
        let other = anonymous
            .send_with("GET", &path, &[("if-none-match", "\"not-it\"")], None)
            .await;
        assert_eq!(other.status, 200, "{path}");
        assert_ne!(other.body, serde_json::Value::Null, "{path}");
    }
    // The product and the shop do not move between two reads: exactly 304.
    for path in [format!("/products/{product}"), format!("/shops/{shop}")] {
        let tag = header(&anonymous.get(&path).await, "etag").to_owned();
        let r = anonymous
            .send_with("GET", &path, &[("if-none-match", &tag)], None)
            .await;
        assert_eq!(r.status, 304, "{path}");
    }
}

/// A change makes a new representation: the old tag no longer matches, the new one does.
#[tokio::test]
async fn a_change_answers_200_with_a_new_etag() {
    let (seller, _shop, product) = seller_with_product().await;
    let anonymous = Client::anonymous();
    let path = format!("/products/{product}");
    let before = anonymous.get(&path).await;
    let old = header(&before, "etag").to_owned();
    let r = seller.patch(&path, json!({"price_cents": 4100})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let after = anonymous
        .send_with("GET", &path, &[("if-none-match", &old)], None)
        .await;
    assert_eq!(after.status, 200);
    assert_eq!(after.body["price_cents"], 4100);
    let new = header(&after, "etag").to_owned();
    assert_ne!(new, old);
    let r = anonymous
        .send_with("GET", &path, &[("if-none-match", &new)], None)
        .await;
    assert_eq!(r.status, 304);
    // A hold changes availability, hence the tag.
    let buyer = Client::as_user(&unique("buyer"));
    let r = buyer
        .post("/cart/items", json!({"product_id": product, "quantity": 1}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let held = anonymous
        .send_with("GET", &path, &[("if-none-match", &new)], None)
        .await;
    assert_eq!(
        (held.status, held.body["available"].as_i64()),
        (200, Some(1))
    );
    assert_ne!(header(&held, "etag"), new);
}

/// A request with a token (the viewer's own availability, a personalized feed, a recorded view)
/// is never cacheable: `private, no-store`, no tag, and never a `304`, even for a tag that an
/// anonymous caller got for the same path.
#[tokio::test]
async fn a_personalized_answer_is_never_cacheable() {
    let (seller, shop, product) = seller_with_product().await;
    let anonymous = Client::anonymous();
    let viewer = Client::as_user(&unique("viewer"));
    for path in [
        format!("/products/{product}"),
        format!("/shops/{shop}"),
        format!("/products/{product}/recommendations"),
        "/search?q=bowl".to_owned(),
        "/trending".to_owned(),
        "/feed".to_owned(),
    ] {
        let public = anonymous.get(&path).await;
        let tag = header(&public, "etag").to_owned();
        assert!(!tag.is_empty(), "{path}");
        for client in [&viewer, &seller] {
            let r = client
                .send_with("GET", &path, &[("if-none-match", &tag)], None)
                .await;
            assert_eq!(r.status, 200, "{path}");
            assert_eq!(header(&r, "cache-control"), "private, no-store", "{path}");
            assert_eq!(header(&r, "vary"), "Authorization", "{path}");
            assert!(r.headers.get("etag").is_none(), "{path}");
        }
    }
    // The feed of a signed-in user who has signals is personal, and not cacheable either.
    let fan = Client::as_user(&unique("fan"));
    let r = fan
        .send("PUT", &format!("/favorites/products/{product}"), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = fan.get("/feed").await;
    assert_eq!(header(&r, "cache-control"), "private, no-store");
}

/// Errors are never cacheable, on public reads included.
#[tokio::test]
async fn errors_are_not_cacheable() {
    let anonymous = Client::anonymous();
    for path in [
        "/products/00000000-0000-7000-8000-000000000000",
        "/shops/00000000-0000-7000-8000-000000000000",
        "/trending?category=Not%20a%20slug",
        "/search?min_price_cents=abc",
    ] {
        let r = anonymous.get(path).await;
        assert!(r.status >= 400, "{path}: {}", r.status);
        assert_eq!(header(&r, "cache-control"), "private, no-store", "{path}");
        assert!(r.headers.get("etag").is_none(), "{path}");
    }
}
