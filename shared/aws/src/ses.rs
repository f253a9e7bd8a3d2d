//! E-mail through SES v2: the [`Mailer`] of the notifier.

use bazaar_domain::error::Error;
use bazaar_domain::events::OrderCreated;
use bazaar_domain::ports::Mailer;

pub use aws_sdk_sesv2::Client;

/// An SES v2 client from the cold start's SDK configuration.
pub fn client(sdk: &aws_config::SdkConfig) -> Client {
    Client::new(sdk)
}

/// E-mail through SES v2 from a verified sender.
#[derive(Debug, Clone)]
pub struct SesMailer {
    pub client: Client,
    pub sender: String,
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
        let message = Message::builder()
            .subject(text(format!(
                "New order {} for {}",
                event.order_id, event.shop_name
            ))?)
            .body(
                Body::builder()
                    .text(text(format!(
                        "{}\n\nOrder {}",
                        event.message(),
                        event.order_id
                    ))?)
                    .build(),
            )
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
