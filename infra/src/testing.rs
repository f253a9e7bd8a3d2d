//! Support for integration tests that run against the AWS emulator over the real wire protocol.
//! Each test provisions its own table (named after the test plus a random suffix) from
//! template.yaml, so tests run in parallel without seeing each other's data.

use crate::local::create_table;
use crate::template::Template;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{Credentials, Region};

/// The emulator's endpoint (`AWS_ENDPOINT_URL`), which `make test` sets after starting moto.
pub fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| {
        panic!("integration tests need the AWS emulator: run them with `make test` (or set AWS_ENDPOINT_URL to a running moto)")
    })
}

/// SDK configuration for the emulator: its endpoint, a fixed region and dummy credentials.
pub async fn emulator_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "emulator"))
        .load()
        .await
}

/// A DynamoDB client for the emulator (counting its calls, like the functions' clients).
pub async fn dynamo() -> Client {
    bazaar_aws::table::client(&emulator_config().await)
}

/// A new, empty table with the template's `Table` schema, unique to the calling test.
pub async fn fresh_table(test: &str) -> (Client, String) {
    let client = dynamo().await;
    let template = Template::load_repo().expect("template.yaml parses");
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let name = format!(
        "t-{}-{}",
        test.replace(|c: char| !c.is_ascii_alphanumeric(), "-"),
        &suffix[..12]
    );
    create_table(&client, &template, "Table", &name)
        .await
        .expect("table provisioned from template.yaml");
    (client, name)
}

/// Asserts that a function's route table serves exactly the routes template.yaml sends to it.
pub fn assert_routes_match<T>(function: &str, table: &[(bazaar_lambda::http::Route, T)]) {
    let template = Template::load_repo().expect("template.yaml parses");
    let mut from_template: Vec<(String, String)> = template
        .http_routes()
        .expect("routes")
        .into_iter()
        .filter(|r| r.function == function)
        .map(|r| (r.method, r.path))
        .collect();
    let mut from_code: Vec<(String, String)> = table
        .iter()
        .map(|(r, _)| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    from_template.sort();
    from_code.sort();
    assert_eq!(
        from_code, from_template,
        "{function}: its route table and template.yaml disagree"
    );
}

/// A product to list in a test: title, category, price, tags, quantity.
pub struct Listing<'a> {
    pub title: &'a str,
    pub category: &'a str,
    pub price_cents: i64,
    pub tags: &'a [&'a str],
    pub quantity: i64,
}

/// Creates `owner`'s shop named `shop_name` and lists `products` in it, through the catalog store
/// (the same conditional writes as the API). Returns the shop and the products in order.
pub async fn list_products(
    client: &Client,
    table: &str,
    owner: &str,
    shop_name: &str,
    products: &[Listing<'_>],
) -> (
    bazaar_domain::catalog::Shop,
    Vec<bazaar_domain::catalog::Product>,
) {
    use bazaar_domain::ports::CatalogStore;
    use bazaar_domain::validate::{NewProduct, NewShop};
    let catalog = bazaar_aws::catalog::DynamoCatalog::new(client.clone(), table);
    let shop = catalog
        .create_shop(
            owner,
            None,
            NewShop {
                name: shop_name.to_owned(),
                description: String::new(),
                shipping: bazaar_domain::catalog::Shipping::default(),
            },
        )
        .await
        .expect("shop created");
    let mut listed = Vec::new();
    for p in products {
        let (product, _) = catalog
            .create_product(
                owner,
                &shop.id,
                NewProduct {
                    title: p.title.to_owned(),
                    description: format!("{} — handmade", p.title),
                    price_cents: p.price_cents,
                    quantity: p.quantity,
                    category: p.category.to_owned(),
                    tags: p.tags.iter().map(|t| (*t).to_owned()).collect(),
                    is_vintage: false,
                    images: Vec::new(),
                },
            )
            .await
            .expect("product listed");
        listed.push(product);
    }
    (shop, listed)
}
