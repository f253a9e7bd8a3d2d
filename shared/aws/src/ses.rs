//! E-mail through SES v2: the [`Mailer`] of the notifier.

use bazaar_domain::error::Error;
use bazaar_domain::events::OrderCreated;
use bazaar_domain::ports::Mailer;
use bazaar_domain::validate::plain_line;

pub use aws_sdk_sesv2::Client;

/// An SES v2 client from the cold start's SDK configuration.
pub fn client(sdk: &aws_config::SdkConfig) -> Client {
    let config = aws_sdk_sesv2::config::Builder::from(sdk)
        .interceptor(crate::calls::CountAwsCalls)
        .build();
    Client::from_conf(config)
}

/// E-mail through SES v2 from a verified sender.
#[derive(Debug, Clone)]
pub struct SesMailer {
    pub client: Client,
    pub sender: String,
}

/// The longest shop name an e-mail shows (a longer one is cut with `…`).
const SHOP_NAME_IN_MAIL: usize = 60;

/// The subject and text of the seller's new-order e-mail. Every seller-supplied string is one
/// plain, bounded line here ([`plain_line`]): no line breaks or direction overrides reach the
/// message, whatever was stored.
pub fn order_created_mail(event: &OrderCreated) -> (String, String) {
    let shop = plain_line(&event.shop_name, SHOP_NAME_IN_MAIL);
    let order = plain_line(&event.order_id, 64);
    let subject = format!("New order {order} for {shop}");
    let body = format!(
        "New order for {shop}: {} item{}, ${}.{:02}.\n\nOrder {order}",
        event.item_count,
        if event.item_count == 1 { "" } else { "s" },
        event.total_cents / 100,
        event.total_cents % 100
    );
    (subject, body)
}

impl Mailer for SesMailer {
    async fn order_created(&self, to: &str, event: &OrderCreated) -> Result<(), Error> {
        use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
        let text = |s: String| {
            Content::builder()
                .data(s)
                .charset("UTF-8")
                .build()
                .map_err(Error::internal)
        };
        let (subject, body) = order_created_mail(event);
        let message = Message::builder()
            .subject(text(subject)?)
            .body(Body::builder().text(text(body)?).build())
            .build();
        self.client
            .send_email()
            .from_email_address(&self.sender)
            .destination(Destination::builder().to_addresses(to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| Error::internal(aws_sdk_sesv2::error::DisplayErrorContext(e).to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seller_text_in_mail_is_one_bounded_line() {
        let event: OrderCreated = serde_json::from_value(serde_json::json!({
            "type": "order.created", "event_id": "o1:order.created", "order_id": "o1",
            "checkout_id": "c1", "buyer_id": "b", "shop_id": "s",
            "shop_name": format!("Evil\r\nBcc: all@example.com\u{202E}{}", "x".repeat(300)),
            "owner_id": "o", "item_count": 2, "total_cents": 1250,
            "created_at": "2026-12-01T00:00:00Z", "version": 1
        }))
        .expect("event");
        let (subject, body) = order_created_mail(&event);
        assert!(!subject.contains(['\r', '\n', '\u{202E}']), "{subject}");
        assert!(subject.starts_with("New order o1 for Evil Bcc: all@example.com"));
        assert!(subject.chars().count() <= "New order o1 for ".len() + 60);
        assert!(subject.ends_with('…'));
        assert!(body.starts_with("New order for Evil Bcc:"));
        assert!(body.contains("2 items, $12.50."));
        assert_eq!(body.lines().filter(|l| !l.is_empty()).count(), 2, "{body}");
    }
}
