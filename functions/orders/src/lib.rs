//! The orders function: the buyer's and the shop's order lists, order detail, shipment,
//! cancellation (stock restored; the refund follows from the payment record), reviews, and the caller's notifications.

use bazaar_aws::orders::DynamoOrders;
use bazaar_aws::quota::DynamoQuota;
use bazaar_domain::error::{Error, Resource};
use bazaar_domain::metrics::Metrics;
use bazaar_domain::orders::{ReviewRequest, ShipmentRequest};
use bazaar_domain::ports::{OrderStore, QuotaStore};
use bazaar_domain::quota::{QuotaClass, QuotaService};
use bazaar_domain::services::orders::OrderService;
use bazaar_lambda::auth::AuthMode;
use bazaar_lambda::env::Config;
use bazaar_lambda::http;
use bazaar_lambda::http::{Params, Route, is_plausible_id, json, json_body, match_route, paging};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    List,
    Get,
    ShopOrders,
    Ship,
    Cancel,
    Review,
    Notifications,
}

/// The routes of this function (template.yaml must agree; a test checks).
pub const ROUTES: &[(Route, Op)] = &[
    (Route::new("GET", "/orders"), Op::List),
    (Route::new("GET", "/orders/{order_id}"), Op::Get),
    (Route::new("GET", "/shops/{shop_id}/orders"), Op::ShopOrders),
    (Route::new("POST", "/orders/{order_id}/shipment"), Op::Ship),
    (Route::new("POST", "/orders/{order_id}/cancel"), Op::Cancel),
    (Route::new("POST", "/orders/{order_id}/review"), Op::Review),
    (Route::new("GET", "/notifications"), Op::Notifications),
];

/// State built once per cold start. (`S` defaults to the DynamoDB store.)
pub struct App<S = DynamoOrders, Q = DynamoQuota> {
    orders: OrderService<S>,
    quota: QuotaService<Q>,
    auth: AuthMode,
    service: String,
}

fn id(params: &Params, name: &str, resource: Resource) -> Result<String, Error> {
    let value = params.get(name)?;
    if is_plausible_id(value) {
        Ok(value.to_owned())
    } else {
        Err(Error::not_found(resource, value))
    }
}

impl<S: OrderStore, Q: QuotaStore> App<S, Q> {
    pub fn new(orders: S, quota: Q, config: &Config) -> Self {
        Self {
            orders: OrderService::new(orders),
            quota: QuotaService::new(quota, config.quotas.clone()),
            auth: config.auth.clone(),
            service: config.service.clone(),
        }
    }

    async fn dispatch(&self, req: Request) -> Result<Response<Body>, Error> {
        let (op, params) = match_route(ROUTES, req.method().as_str(), req.uri().path())?;
        let me = self.auth.require(&req)?.user_id;
        match op {
            Op::List => {
                let (limit, cursor) = paging(&req)?;
                json(
                    StatusCode::OK,
                    &self.orders.by_buyer(&me, cursor.as_deref(), limit).await?,
                )
            }
            Op::Get => {
                let order_id = id(&params, "order_id", Resource::Order)?;
                json(
                    StatusCode::OK,
                    &self.orders.visible(&me, &order_id).await?.view(),
                )
            }
            Op::ShopOrders => {
                let shop_id = id(&params, "shop_id", Resource::Shop)?;
                let (limit, cursor) = paging(&req)?;
                let page = self
                    .orders
                    .by_shop(&me, &shop_id, cursor.as_deref(), limit)
                    .await?;
                json(StatusCode::OK, &page)
            }
            Op::Ship => {
                let order_id = id(&params, "order_id", Resource::Order)?;
                let shipment = json_body::<ShipmentRequest>(&req)?.validate()?;
                let order = self.orders.ship(&me, &order_id, shipment).await?;
                Metrics::new(&self.service).count("OrdersShipped", 1).emit();
                json(StatusCode::OK, &order)
            }
            Op::Cancel => {
                let order_id = id(&params, "order_id", Resource::Order)?;
                let order = self.orders.cancel(&me, &order_id).await?;
                Metrics::new(&self.service)
                    .count("OrdersCancelled", 1)
                    .emit();
                json(StatusCode::OK, &order)
            }
            Op::Review => {
                self.quota.spend(&me, QuotaClass::Reviews).await?;
                let order_id = id(&params, "order_id", Resource::Order)?;
                let (rating, comment) = json_body::<ReviewRequest>(&req)?.validate()?;
                let review = self.orders.review(&me, &order_id, rating, comment).await?;
                Metrics::new(&self.service).count("Reviews", 1).emit();
                json(StatusCode::CREATED, &review)
            }
            Op::Notifications => {
                let notifications = self.orders.notifications(&me).await?;
                json(StatusCode::OK, &json!({ "notifications": notifications }))
            }
        }
    }
}

impl<S: OrderStore, Q: QuotaStore> bazaar_lambda::http::HttpApp for App<S, Q> {
    /// Serves one API Gateway request; errors become problem responses.
    async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        http::serve(&self.service, req, |req| self.dispatch(req)).await
    }
}
