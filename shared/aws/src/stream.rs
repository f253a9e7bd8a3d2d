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
