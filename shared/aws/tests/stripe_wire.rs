//! Wire-level tests of the Stripe adapter against a mock server: every call's method, path,
//! form body, headers, and the mapping of Stripe's answers. localstripe has no Connect, so these
//! are the proof of the payout calls.
#![cfg(feature = "stripe")]

use bazaar_aws::stripe::{API_VERSION, Form, StripeClient};
use bazaar_domain::error::Error;
use bazaar_domain::payments::{
    AuthorizeRequest, IntentStatus, ProviderRefund, TransferRequest, keys,
};
use bazaar_domain::ports::{PaymentGateway, Payouts};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const KEY: &str = "sk_test_wire_secret";

async fn setup() -> (MockServer, StripeClient) {
    let server = MockServer::start().await;
    let client = StripeClient::new(&server.uri(), KEY).expect("client");
    (server, client)
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn stripe_error(status: u16, error: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({ "error": error }))
}

async fn mount(server: &MockServer, verb: &str, at: &str, answer: ResponseTemplate) {
    Mock::given(method(verb))
        .and(path(at))
        .respond_with(answer)
        .mount(server)
        .await;
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.expect("recording")
}

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}

fn pairs(request: &Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect()
}

fn query(request: &Request) -> Vec<(String, String)> {
    request.url.query_pairs().into_owned().collect()
}

fn expect(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The headers every call carries; `key` the `Idempotency-Key` a `POST` must carry.
fn assert_headers(request: &Request, key: Option<&str>) {
    assert_eq!(
        header(request, "authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(header(request, "stripe-version"), Some(API_VERSION));
    if request.method.as_str() == "POST" {
        assert_eq!(
            header(request, "content-type"),
            Some("application/x-www-form-urlencoded")
        );
        let sent = header(request, "idempotency-key");
        assert!(sent.is_some(), "a POST without Idempotency-Key");
        if let Some(key) = key {
            assert_eq!(sent, Some(key));
        }
    } else {
        assert_eq!(header(request, "idempotency-key"), None);
    }
}

fn intent(id: &str, status: &str) -> Value {
    json!({
        "id": id, "object": "payment_intent", "status": status, "amount": 5000,
        "amount_received": 0, "latest_charge": null, "created": 1_700_000_000,
        "metadata": {"checkout_id": "chk_1", "buyer_id": "usr_1", "app": "bazaar"}
    })
}

fn authorize_request() -> AuthorizeRequest {
    AuthorizeRequest {
        checkout_id: "chk_1".into(),
        buyer_id: "usr_1".into(),
        amount_cents: 5000,
        method: "pm_card_visa".into(),
        idempotency_key: keys::authorize("chk_1", "att_1"),
    }
}

// ------------------------------------------------------------------ client

#[test]
fn form_uses_bracket_syntax() {
    let form = Form::new()
        .set("payment_method_types[]", "card")
        .metadata("checkout_id", "chk 1&2")
        .set("capabilities[transfers][requested]", true);
    assert_eq!(
        form.encode(),
        "payment_method_types%5B%5D=card&metadata%5Bcheckout_id%5D=chk+1%262&capabilities%5Btransfers%5D%5Brequested%5D=true"
    );
}

#[test]
fn debug_hides_the_key() {
    let client = StripeClient::new("https://api.stripe.com", KEY).expect("client");
    assert!(!format!("{client:?}").contains(KEY));
    assert!(StripeClient::new("not a url", KEY).is_err());
}

// ------------------------------------------------------------------ authorize

#[tokio::test]
async fn authorize_creates_a_confirmed_manual_capture_intent() {
    let (server, client) = setup().await;
    mount(
        &server,
        "POST",
        "/v1/payment_intents",
        ok(intent("pi_1", "requires_capture")),
    )
    .await;
    let auth = client
        .authorize(&authorize_request())
        .await
        .expect("authorized");
    assert_eq!(auth.id, "pi_1");
    assert_eq!(auth.amount_cents, 5000);

    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    assert_headers(&sent[0], Some("bazaar-authorize-chk_1-att_1"));
    assert_eq!(
        pairs(&sent[0]),
        expect(&[
            ("amount", "5000"),
            ("currency", "usd"),
            ("payment_method", "pm_card_visa"),
            ("payment_method_types[]", "card"),
            ("confirm", "true"),
            ("capture_method", "manual"),
            ("metadata[checkout_id]", "chk_1"),
            ("metadata[buyer_id]", "usr_1"),
            ("metadata[app]", "bazaar"),
        ])
    );
}

#[tokio::test]
async fn card_error_is_payment_declined_naming_the_decline_code() {
    let (server, client) = setup().await;
    mount(
        &server,
        "POST",
        "/v1/payment_intents",
        stripe_error(
            402,
            json!({"type": "card_error", "code": "card_declined",
                   "decline_code": "insufficient_funds", "message": "Your card has insufficient funds."}),
        ),
    )
    .await;
    match client.authorize(&authorize_request()).await {
        Err(Error::PaymentDeclined(message)) => assert!(message.contains("insufficient_funds")),
        other => panic!("expected a decline, got {other:?}"),
    }
}

#[tokio::test]
async fn localstripe_decline_is_payment_declined() {
    let (server, client) = setup().await;
    mount(
        &server,
        "POST",
        "/v1/payment_intents",
        stripe_error(
            402,
            json!({"type": "invalid_request_error", "code": "card_declined", "message": "Your card was declined."}),
        ),
    )
    .await;
    match client.authorize(&authorize_request()).await {
        Err(Error::PaymentDeclined(message)) => assert!(message.contains("card_declined")),
        other => panic!("expected a decline, got {other:?}"),
    }
}

#[tokio::test]
async fn server_errors_and_throttling_are_unavailable() {
    for status in [500, 502, 503, 429] {
        let (server, client) = setup().await;
        mount(
            &server,
            "POST",
            "/v1/payment_intents",
            stripe_error(status, json!({"type": "api_error", "message": "boom"})),
        )
        .await;
        let result = client.authorize(&authorize_request()).await;
        assert!(
            matches!(result, Err(Error::Unavailable(_))),
            "{status}: {result:?}"
        );
    }
}

#[tokio::test]
async fn unreachable_stripe_is_unavailable() {
    // A port nothing listens on: the connection is refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let client = StripeClient::new(&format!("http://127.0.0.1:{port}"), KEY).expect("client");
    let result = client.payment("pi_1").await;
    assert!(matches!(result, Err(Error::Unavailable(_))), "{result:?}");
}

#[tokio::test]
async fn requires_action_cancels_the_intent_and_asks_for_action() {
    let (server, client) = setup().await;
    mount(
        &server,
        "POST",
        "/v1/payment_intents",
        ok(intent("pi_3ds", "requires_action")),
    )
    .await;
    mount(
        &server,
        "POST",
        "/v1/payment_intents/pi_3ds/cancel",
        ok(intent("pi_3ds", "canceled")),
    )
    .await;
    let result = client.authorize(&authorize_request()).await;
    assert!(
        matches!(result, Err(Error::PaymentActionRequired(_))),
        "{result:?}"
    );
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].url.path(), "/v1/payment_intents/pi_3ds/cancel");
    assert_headers(&sent[1], Some(&keys::cancel("pi_3ds")));
}

#[tokio::test]
async fn unknown_payment_method_is_unprocessable() {
    let (server, client) = setup().await;
    mount(
        &server,
        "POST",
        "/v1/payment_intents",
        stripe_error(
            400,
            json!({"type": "invalid_request_error", "code": "resource_missing",
                   "param": "payment_method", "message": "No such PaymentMethod: 'pm_nope'"}),
        ),
    )
    .await;
    let result = client.authorize(&authorize_request()).await;
    assert!(matches!(result, Err(Error::Validation(_))), "{result:?}");

    // localstripe's answer for a test method it does not know.
    server.reset().await;
    mount(
        &server,
        "POST",
        "/v1/payment_intents",
        stripe_error(
            404,
            json!({"type": "invalid_request_error", "message": "Not Found"}),
        ),
    )
    .await;
    let result = client.authorize(&authorize_request()).await;
    assert!(matches!(result, Err(Error::Validation(_))), "{result:?}");
}

/// A value that cannot name a Stripe method (no `pm_`, `card_` or `src_` id) is refused
/// before any call: localstripe answers it with a bare `400` naming no parameter, which was an
/// internal error (found by the API fuzz suite with `"payment_method": "0"`).
#[tokio::test]
async fn a_method_that_is_no_stripe_id_is_refused_before_any_call() {
    let (server, client) = setup().await;
    for method in ["0", "tok_visa", "pm_", "pm_a b", "card_é", "x_pm_card_visa"] {
        let request = AuthorizeRequest {
            method: method.into(),
            ..authorize_request()
        };
        let result = client.authorize(&request).await;
        assert!(
            matches!(&result, Err(Error::Validation(errors)) if errors[0].field == "payment_method"),
            "{method}: {result:?}"
        );
    }
    assert!(requests(&server).await.is_empty(), "no call reached Stripe");
}

#[tokio::test]
async fn other_client_errors_are_internal_with_stripes_message_and_no_key() {
    let (server, client) = setup().await;
    mount(
        &server,
        "GET",
        "/v1/payment_intents/pi_gone",
        stripe_error(
            404,
            json!({"type": "invalid_request_error", "code": "resource_missing",
                   "message": "No such payment_intent: 'pi_gone'"}),
        ),
    )
    .await;
    mount(
        &server,
        "POST",
        "/v1/payment_intents/pi_1/cancel",
        stripe_error(
            401,
            json!({"type": "invalid_request_error", "message": format!("Invalid API Key provided: {KEY}")}),
        ),
    )
    .await;
    match client.payment("pi_gone").await {
        Err(Error::Internal(e)) => assert!(e.to_string().contains("No such payment_intent")),
        other => panic!("expected internal, got {other:?}"),
    }
    match client.cancel("pi_1", "k").await {
        Err(Error::Internal(e)) => {
            let text = e.to_string();
            assert!(text.contains("Invalid API Key"), "{text}");
            assert!(!text.contains(KEY), "{text}");
        }
        other => panic!("expected internal, got {other:?}"),
    }
}

#[tokio::test]
async fn ids_that_would_change_the_path_are_refused() {
    let (server, client) = setup().await;
    assert!(client.payment("../v1/accounts").await.is_err());
    assert!(client.capture("pi_1/x", 1, "k").await.is_err());
    assert!(requests(&server).await.is_empty());
}

// ------------------------------------------------------------------ payment, capture, cancel, refund

#[tokio::test]
async fn payment_reads_the_intent_and_its_refunds_page_by_page() {
    let (server, client) = setup().await;
    mount(
        &server,
        "GET",
        "/v1/payment_intents/pi_1",
        ok(json!({
            "id": "pi_1", "status": "succeeded", "amount": 5000, "amount_received": 4000,
            "latest_charge": "ch_1", "created": 1_700_000_000,
            "metadata": {"checkout_id": "chk_1", "app": "bazaar"}
        })),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/v1/refunds"))
        .and(query_param("starting_after", "re_2"))
        .respond_with(ok(json!({"object": "list", "has_more": false, "data": [
            {"id": "re_3", "amount": 300, "payment_intent": "pi_1", "status": "failed", "metadata": {"order_id": "ord_b"}},
            {"id": "re_4", "amount": 1000, "payment_intent": null, "status": "succeeded", "metadata": {}}
        ]})))
        .with_priority(1)
        .mount(&server)
        .await;
    mount(
        &server,
        "GET",
        "/v1/refunds",
        ok(json!({"object": "list", "has_more": true, "data": [
            {"id": "re_1", "amount": 1500, "payment_intent": "pi_1", "status": "succeeded", "metadata": {"order_id": "ord_a"}},
            {"id": "re_2", "amount": 200, "payment_intent": "pi_1", "status": "pending", "metadata": {}}
        ]})),
    )
    .await;

    let payment = client.payment("pi_1").await.expect("payment");
    assert_eq!(payment.status, IntentStatus::Succeeded);
    assert_eq!(payment.amount_cents, 5000);
    assert_eq!(payment.amount_received, 4000);
    assert_eq!(payment.charge_id.as_deref(), Some("ch_1"));
    assert_eq!(payment.checkout_id.as_deref(), Some("chk_1"));
    assert_eq!(payment.created, 1_700_000_000);
    assert_eq!(
        payment.refunds,
        vec![
            ProviderRefund {
                id: "re_1".into(),
                amount_cents: 1500,
                order_id: Some("ord_a".into())
            },
            ProviderRefund {
                id: "re_2".into(),
                amount_cents: 200,
                order_id: None
            },
        ]
    );
    assert_eq!(payment.refunded_for("ord_a"), 1500);

    let sent = requests(&server).await;
    assert_eq!(sent.len(), 3);
    for request in &sent {
        assert_headers(request, None);
    }
    assert_eq!(query(&sent[0]), expect(&[("expand[]", "latest_charge")]));
    assert_eq!(
        query(&sent[1]),
        expect(&[("payment_intent", "pi_1"), ("limit", "100")])
    );
    assert_eq!(
        query(&sent[2]),
        expect(&[
            ("payment_intent", "pi_1"),
            ("limit", "100"),
            ("starting_after", "re_2")
        ])
    );
}

#[tokio::test]
async fn payment_waiting_for_capture_reads_no_refunds() {
    let (server, client) = setup().await;
    mount(
        &server,
        "GET",
        "/v1/payment_intents/pi_1",
        ok(intent("pi_1", "requires_capture")),
    )
    .await;
    let payment = client.payment("pi_1").await.expect("payment");
    assert_eq!(payment.status, IntentStatus::RequiresCapture);
    assert_eq!(payment.amount_received, 0);
    assert!(payment.refunds.is_empty());
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn capture_posts_the_amount_with_the_key() {
    let (server, client) = setup().await;
    mount(
        &server,
        "POST",
        "/v1/payment_intents/pi_1/capture",
        ok(json!({
            "id": "pi_1", "status": "succeeded", "amount": 5000, "amount_received": 3000,
            "latest_charge": {"id": "ch_1", "amount": 5000, "amount_captured": 3000, "captured": true},
            "created": 1_700_000_000, "metadata": {"checkout_id": "chk_1"}
        })),
    )
    .await;
    mount(
        &server,
        "GET",
        "/v1/refunds",
        ok(json!({"object": "list", "has_more": false, "data": []})),
    )
    .await;
    let payment = client
        .capture("pi_1", 3000, &keys::capture("chk_1", 3000))
        .await
        .expect("captured");
    assert_eq!(payment.status, IntentStatus::Succeeded);
    assert_eq!(payment.amount_received, 3000);
    assert_eq!(payment.charge_id.as_deref(), Some("ch_1"));

    let sent = requests(&server).await;
    assert_headers(&sent[0], Some("bazaar-capture-chk_1-3000"));
    assert_eq!(
        pairs(&sent[0]),
        expect(&[("amount_to_capture", "3000"), ("expand[]", "latest_charge")])
    );
}

#[tokio::test]
async fn cancel_posts_with_the_key() {
    let (server, client) = setup().await;
    mount(
        &server,
        "POST",
        "/v1/payment_intents/pi_1/cancel",
        ok(intent("pi_1", "canceled")),
    )
    .await;
    let payment = client
        .cancel("pi_1", &keys::cancel("pi_1"))
        .await
        .expect("cancelled");
    assert_eq!(payment.status, IntentStatus::Canceled);
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    assert_headers(&sent[0], Some("bazaar-cancel-pi_1"));
    assert_eq!(pairs(&sent[0]), expect(&[("expand[]", "latest_charge")]));
}

#[tokio::test]
async fn refund_names_the_order() {
    let (server, client) = setup().await;
    mount(
        &server,
        "POST",
        "/v1/refunds",
        ok(
            json!({"id": "re_1", "object": "refund", "amount": 1500, "payment_intent": "pi_1",
                  "status": "succeeded", "metadata": {"order_id": "ord_a"}}),
        ),
    )
    .await;
    let refund = client
        .refund("pi_1", "ord_a", 1500, &keys::refund("ord_a", 1500))
        .await
        .expect("refunded");
    assert_eq!(
        refund,
        ProviderRefund {
            id: "re_1".into(),
            amount_cents: 1500,
            order_id: Some("ord_a".into())
        }
    );
    let sent = requests(&server).await;
    assert_headers(&sent[0], Some("bazaar-refund-ord_a-1500"));
    assert_eq!(
        pairs(&sent[0]),
        expect(&[
            ("payment_intent", "pi_1"),
            ("amount", "1500"),
            ("metadata[order_id]", "ord_a")
        ])
    );
}

// ------------------------------------------------------------------ stale authorizations

#[tokio::test]
async fn stale_authorizations_search_page_by_page() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/v1/payment_intents/search"))
        .and(query_param("page", "cursor_2"))
        .respond_with(ok(
            json!({"object": "search_result", "has_more": false, "next_page": null,
                                "data": [intent("pi_2", "requires_capture")]}),
        ))
        .with_priority(1)
        .mount(&server)
        .await;
    mount(
        &server,
        "GET",
        "/v1/payment_intents/search",
        ok(
            json!({"object": "search_result", "has_more": true, "next_page": "cursor_2",
                  "data": [intent("pi_1", "requires_capture")]}),
        ),
    )
    .await;
    let stale = client
        .stale_authorizations(1_700_000_500)
        .await
        .expect("stale");
    let ids: Vec<_> = stale.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["pi_1", "pi_2"]);
    assert_eq!(stale[0].checkout_id.as_deref(), Some("chk_1"));

    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    let search = "status:'requires_capture' AND metadata['app']:'bazaar' AND created<1700000500";
    assert_headers(&sent[0], None);
    assert_eq!(
        query(&sent[0]),
        expect(&[("query", search), ("limit", "100")])
    );
    assert_eq!(
        query(&sent[1]),
        expect(&[("query", search), ("limit", "100"), ("page", "cursor_2")])
    );
}

#[tokio::test]
async fn stale_authorizations_fall_back_to_listing_without_search() {
    let (server, client) = setup().await;
    mount(
        &server,
        "GET",
        "/v1/payment_intents/search",
        stripe_error(
            404,
            json!({"type": "invalid_request_error", "message": "Not Found"}),
        ),
    )
    .await;
    let mut young = intent("pi_young", "requires_capture");
    young["created"] = json!(1_700_000_600);
    let mut foreign = intent("pi_foreign", "requires_capture");
    foreign["metadata"] = json!({"app": "other"});
    Mock::given(method("GET"))
        .and(path("/v1/payment_intents"))
        .and(query_param("starting_after", "pi_young"))
        .respond_with(ok(json!({"object": "list", "has_more": false,
                                "data": [intent("pi_old2", "requires_capture"), foreign]})))
        .with_priority(1)
        .mount(&server)
        .await;
    mount(
        &server,
        "GET",
        "/v1/payment_intents",
        ok(json!({"object": "list", "has_more": true, "data": [
            intent("pi_old1", "requires_capture"),
            intent("pi_done", "succeeded"),
            intent("pi_gone", "canceled"),
            young
        ]})),
    )
    .await;
    let stale = client
        .stale_authorizations(1_700_000_500)
        .await
        .expect("stale");
    let ids: Vec<_> = stale.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["pi_old1", "pi_old2"]);
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 3);
    assert_eq!(query(&sent[1]), expect(&[("limit", "100")]));
    assert_eq!(
        query(&sent[2]),
        expect(&[("limit", "100"), ("starting_after", "pi_young")])
    );
}

#[tokio::test]
async fn stale_authorizations_do_not_fall_back_on_other_failures() {
    let (server, client) = setup().await;
    mount(
        &server,
        "GET",
        "/v1/payment_intents/search",
        stripe_error(500, json!({"type": "api_error"})),
    )
    .await;
    let result = client.stale_authorizations(1).await;
    assert!(matches!(result, Err(Error::Unavailable(_))), "{result:?}");
    assert_eq!(requests(&server).await.len(), 1);
}

// ------------------------------------------------------------------ Connect

#[tokio::test]
async fn create_account_requests_an_express_account_for_the_shop() {
    let (server, client) = setup().await;
    mount(
        &server,
        "POST",
        "/v1/accounts",
        ok(
            json!({"id": "acct_1", "object": "account", "payouts_enabled": false,
                  "details_submitted": false, "metadata": {"shop_id": "shop_1"}}),
        ),
    )
    .await;
    let account = client
        .create_account(
            "shop_1",
            Some("seller@example.com"),
            &keys::account("shop_1"),
        )
        .await
        .expect("account");
    assert_eq!(account.id, "acct_1");
    assert!(!account.payouts_enabled && !account.details_submitted);
    let sent = requests(&server).await;
    assert_headers(&sent[0], Some("bazaar-account-shop_1"));
    assert_eq!(
        pairs(&sent[0]),
        expect(&[
            ("type", "express"),
            ("country", "US"),
            ("email", "seller@example.com"),
            ("capabilities[transfers][requested]", "true"),
            ("metadata[shop_id]", "shop_1"),
        ])
    );

    // Without an e-mail, none is sent.
    server.reset().await;
    mount(&server, "POST", "/v1/accounts", ok(json!({"id": "acct_2"}))).await;
    client
        .create_account("shop_2", None, &keys::account("shop_2"))
        .await
        .expect("account");
    let sent = requests(&server).await;
    assert!(pairs(&sent[0]).iter().all(|(k, _)| k != "email"));
}

#[tokio::test]
async fn onboarding_link_asks_for_an_account_onboarding_link() {
    let (server, client) = setup().await;
    mount(
        &server,
        "POST",
        "/v1/account_links",
        ok(
            json!({"object": "account_link", "url": "https://connect.stripe.com/setup/e/acct_1/abc",
                  "expires_at": 1_700_000_300}),
        ),
    )
    .await;
    let url = client
        .onboarding_link(
            "acct_1",
            "https://bazaar.test/payouts/return",
            "https://bazaar.test/payouts/refresh",
        )
        .await
        .expect("link");
    assert_eq!(url, "https://connect.stripe.com/setup/e/acct_1/abc");
    let sent = requests(&server).await;
    assert_headers(&sent[0], None);
    assert!(
        header(&sent[0], "idempotency-key").is_some_and(|k| k.starts_with("bazaar-account-link-"))
    );
    assert_eq!(
        pairs(&sent[0]),
        expect(&[
            ("account", "acct_1"),
            ("type", "account_onboarding"),
            ("return_url", "https://bazaar.test/payouts/return"),
            ("refresh_url", "https://bazaar.test/payouts/refresh"),
        ])
    );
}

#[tokio::test]
async fn account_reads_the_onboarding_state() {
    let (server, client) = setup().await;
    mount(
        &server,
        "GET",
        "/v1/accounts/acct_1",
        ok(json!({"id": "acct_1", "payouts_enabled": true, "details_submitted": true})),
    )
    .await;
    let account = client.account("acct_1").await.expect("account");
    assert!(account.payouts_enabled && account.details_submitted);
    let sent = requests(&server).await;
    assert_headers(&sent[0], None);
}

fn transfer_request(source: Option<&str>) -> TransferRequest {
    TransferRequest {
        amount_cents: 4500,
        destination: "acct_1".into(),
        transfer_group: "chk_1".into(),
        source_transaction: source.map(str::to_owned),
        order_id: "ord_a".into(),
        idempotency_key: keys::transfer("ord_a"),
    }
}

fn transfer_json(reversed: i64) -> Value {
    json!({"id": "tr_1", "object": "transfer", "amount": 4500, "amount_reversed": reversed,
           "destination": "acct_1", "transfer_group": "chk_1", "metadata": {"order_id": "ord_a"}})
}

#[tokio::test]
async fn transfer_pays_the_share_out_of_the_charge() {
    let (server, client) = setup().await;
    mount(&server, "POST", "/v1/transfers", ok(transfer_json(0))).await;
    let transfer = client
        .transfer(&transfer_request(Some("ch_1")))
        .await
        .expect("transfer");
    assert_eq!(transfer.id, "tr_1");
    assert_eq!(transfer.amount_cents, 4500);
    assert_eq!(transfer.reversed_cents, 0);
    assert_eq!(transfer.destination, "acct_1");
    assert_eq!(transfer.order_id.as_deref(), Some("ord_a"));
    client
        .transfer(&transfer_request(None))
        .await
        .expect("transfer");

    let sent = requests(&server).await;
    assert_headers(&sent[0], Some("ord_a"));
    assert_eq!(
        pairs(&sent[0]),
        expect(&[
            ("amount", "4500"),
            ("currency", "usd"),
            ("destination", "acct_1"),
            ("transfer_group", "chk_1"),
            ("source_transaction", "ch_1"),
            ("metadata[order_id]", "ord_a"),
        ])
    );
    assert!(
        pairs(&sent[1])
            .iter()
            .all(|(k, _)| k != "source_transaction")
    );
}

#[tokio::test]
async fn transfers_lists_the_group_page_by_page() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/v1/transfers"))
        .and(query_param("starting_after", "tr_1"))
        .respond_with(ok(json!({"object": "list", "has_more": false, "data": [
            {"id": "tr_2", "amount": 900, "amount_reversed": 900, "destination": "acct_2", "metadata": {"order_id": "ord_b"}}
        ]})))
        .with_priority(1)
        .mount(&server)
        .await;
    mount(
        &server,
        "GET",
        "/v1/transfers",
        ok(json!({"object": "list", "has_more": true, "data": [transfer_json(0)]})),
    )
    .await;
    let transfers = client.transfers("chk_1").await.expect("transfers");
    assert_eq!(transfers.len(), 2);
    assert_eq!(transfers[1].reversed_cents, 900);
    assert_eq!(transfers[1].order_id.as_deref(), Some("ord_b"));
    let sent = requests(&server).await;
    assert_headers(&sent[0], None);
    assert_eq!(
        query(&sent[0]),
        expect(&[("transfer_group", "chk_1"), ("limit", "100")])
    );
    assert_eq!(
        query(&sent[1]),
        expect(&[
            ("transfer_group", "chk_1"),
            ("limit", "100"),
            ("starting_after", "tr_1")
        ])
    );
}

#[tokio::test]
async fn reverse_takes_the_amount_back_and_reports_the_transfer() {
    let (server, client) = setup().await;
    mount(
        &server,
        "POST",
        "/v1/transfers/tr_1/reversals",
        ok(
            json!({"id": "trr_1", "object": "transfer_reversal", "amount": 4500,
                  "transfer": transfer_json(4500)}),
        ),
    )
    .await;
    let transfer = client
        .reverse("tr_1", 4500, &keys::reversal("ord_a", 4500))
        .await
        .expect("reversed");
    assert_eq!(transfer.id, "tr_1");
    assert_eq!(transfer.reversed_cents, 4500);
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    assert_headers(&sent[0], Some("bazaar-reversal-ord_a-4500"));
    assert_eq!(
        pairs(&sent[0]),
        expect(&[("amount", "4500"), ("expand[]", "transfer")])
    );
}

#[tokio::test]
async fn reverse_reads_the_transfer_when_it_is_not_expanded() {
    let (server, client) = setup().await;
    mount(
        &server,
        "POST",
        "/v1/transfers/tr_1/reversals",
        ok(json!({"id": "trr_1", "amount": 1000, "transfer": "tr_1"})),
    )
    .await;
    mount(
        &server,
        "GET",
        "/v1/transfers/tr_1",
        ok(transfer_json(1000)),
    )
    .await;
    let transfer = client
        .reverse("tr_1", 1000, &keys::reversal("ord_a", 1000))
        .await
        .expect("reversed");
    assert_eq!(transfer.reversed_cents, 1000);
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    assert_headers(&sent[1], None);
}

#[tokio::test]
async fn connect_failures_map_like_any_other() {
    let (server, client) = setup().await;
    mount(
        &server,
        "POST",
        "/v1/transfers",
        stripe_error(
            400,
            json!({"type": "invalid_request_error", "code": "balance_insufficient",
                   "message": "Insufficient funds in Stripe account."}),
        ),
    )
    .await;
    mount(
        &server,
        "GET",
        "/v1/accounts/acct_1",
        stripe_error(503, json!({"type": "api_error"})),
    )
    .await;
    let result = client.transfer(&transfer_request(None)).await;
    assert!(matches!(result, Err(Error::Internal(_))), "{result:?}");
    let result = client.account("acct_1").await;
    assert!(matches!(result, Err(Error::Unavailable(_))), "{result:?}");
}
