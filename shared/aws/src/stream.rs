//! The table's stream images (`aws_lambda_events`' DynamoDB stream records) as domain types.
//! An image is the stored item, so this is where the stored forms ([`crate::records`]) are read
//! back; what a change *means* (which events to publish) is the relay's.

use crate::records::ProductItem;
use bazaar_domain::catalog::Product;
use bazaar_domain::checkout::Order;

pub use aws_lambda_events::event::dynamodb::{Event, EventRecord};
pub use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};

/// A stream image (`NewImage` / `OldImage`), in `serde_dynamo`'s form.
pub type Image = serde_dynamo::Item;

/// The image, or `None` when the record has none (Lambda sends an absent or empty image).
pub fn image(image: &Image) -> Option<&Image> {
    (!image.is_empty()).then_some(image)
}

/// The record's new image (`None` for a removal).
pub fn new_image(record: &EventRecord) -> Option<&Image> {
    image(&record.change.new_image)
}

/// The record's old image (`None` for an insert, or a stream without old images).
pub fn old_image(record: &EventRecord) -> Option<&Image> {
    image(&record.change.old_image)
}

/// The record's sequence number: its `itemIdentifier` in a partial batch failure.
pub fn sequence_number(record: &EventRecord) -> &str {
    record.change.sequence_number.as_deref().unwrap_or_default()
}

/// The item's `entity` attribute (`order`, `product`, …).
pub fn entity(image: Option<&Image>) -> Option<&str> {
    match image?.get("entity") {
        Some(serde_dynamo::AttributeValue::S(e)) => Some(e),
        _ => None,
    }
}

/// The order an image holds.
pub fn order(image: &Image) -> Result<Order, String> {
    serde_dynamo::from_item(image.clone()).map_err(|e| e.to_string())
}

/// The product an image holds (`None` for no image).
pub fn product(image: Option<&Image>) -> Result<Option<Product>, String> {
    image
        .map(|i| {
            serde_dynamo::from_item::<_, ProductItem>(i.clone())
                .map(ProductItem::into_product)
                .map_err(|e| e.to_string())
        })
        .transpose()
}

/// A partial batch failure answer reporting `sequence_numbers`.
pub fn failures(sequence_numbers: impl IntoIterator<Item = String>) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for id in sequence_numbers {
        let mut failure = DynamoDbBatchItemFailure::default();
        failure.item_identifier = Some(id);
        response.batch_item_failures.push(failure);
    }
    response
}

/// A checkout's payment needs settling: the `payment.changed` of a payment record that reached
/// the stream with a new version, still due (open) and with nobody holding its settlement lease
/// (a settler's own saves are not published: it carries on by itself; the checkout's commit and
/// an order's cancellation are).
pub fn payment_changed(record: &EventRecord) -> Option<bazaar_domain::events::PaymentChanged> {
    let new = new_image(record)?;
    if entity(Some(new)) != Some("payment") || !new.contains_key("gsi1pk") {
        return None;
    }
    let version = |image: Option<&Image>| match image?.get("version") {
        Some(serde_dynamo::AttributeValue::N(n)) => n.parse::<i64>().ok(),
        _ => None,
    };
    let now = version(Some(new))?;
    if version(old_image(record)) == Some(now) {
        return None;
    }
    let leased = matches!(new.get("lease_holder"), Some(serde_dynamo::AttributeValue::S(h)) if !h.is_empty());
    let lease_running = match new.get("lease_until") {
        Some(serde_dynamo::AttributeValue::N(n)) => n
            .parse::<i64>()
            .is_ok_and(|until| until > chrono::Utc::now().timestamp()),
        _ => false,
    };
    // A settler's own save (it holds a running lease) is not published; a cancellation always is
    // (a settler that is running then loses its save and reads the cancellation itself; the
    // message, if it finds the lease busy, is retried).
    if leased && lease_running && !cancelled_more(record) {
        return None;
    }
    let checkout_id = match new.get("checkout_id") {
        Some(serde_dynamo::AttributeValue::S(c)) => c.clone(),
        _ => return None,
    };
    Some(bazaar_domain::events::PaymentChanged::new(
        &checkout_id,
        now,
    ))
}

/// Whether the record adds cancelled orders to the payment.
fn cancelled_more(record: &EventRecord) -> bool {
    let count = |image: Option<&Image>| match image.and_then(|i| i.get("cancelled_orders")) {
        Some(serde_dynamo::AttributeValue::Ss(ids)) => ids.len(),
        _ => 0,
    };
    count(new_image(record)) > count(old_image(record))
}
