//! The catalog function: health, shops and products.
//!
//! It parses and validates requests, asks the [`CatalogStore`] port, and renders the contract's
//! JSON. Ownership and uniqueness are enforced by the store's conditional writes, not here.

use bazaar::auth::AuthMode;
use bazaar::config::Config;
use bazaar::error::{Error, Resource};
use bazaar::http::{self, Params, Route, is_plausible_id, json, json_body, match_route};
use bazaar::ports::CatalogStore;
use bazaar::telemetry::Metrics;
use bazaar::validate::{ProductCreate, ProductPatch, ShopCreate, ShopPatch};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

/// The operations this function serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Health,
    CreateShop,
    GetShop,
    UpdateShop,
    CreateProduct,
    GetProduct,
    UpdateProduct,
    DeleteProduct,
}

/// The routes this function serves; template.yaml must send exactly these here (a test checks).
pub const ROUTES: &[(Route, Op)] = &[
    (Route::new("GET", "/health"), Op::Health),
    (Route::new("POST", "/shops"), Op::CreateShop),
    (Route::new("GET", "/shops/{shop_id}"), Op::GetShop),
    (Route::new("PATCH", "/shops/{shop_id}"), Op::UpdateShop),
    (
        Route::new("POST", "/shops/{shop_id}/products"),
        Op::CreateProduct,
    ),
    (Route::new("GET", "/products/{product_id}"), Op::GetProduct),
    (
        Route::new("PATCH", "/products/{product_id}"),
        Op::UpdateProduct,
    ),
    (
        Route::new("DELETE", "/products/{product_id}"),
        Op::DeleteProduct,
    ),
];

/// The function's state, built once per cold start.
pub struct App<S> {
    store: S,
    auth: AuthMode,
    service: String,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn id_param(params: &Params, name: &str, resource: Resource) -> Result<String, Error> {
    let id = params.get(name)?;
    if is_plausible_id(id) {
        Ok(id.to_owned())
    } else {
        Err(Error::not_found(resource, id))
    }
}

impl<S: CatalogStore> App<S> {
    pub fn new(store: S, config: &Config) -> Self {
        Self {
            store,
            auth: config.auth.clone(),
            service: config.service.clone(),
        }
    }

    /// Serves one API Gateway request; errors become problem responses.
    pub async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        http::serve(&self.service, req, |req| self.dispatch(req)).await
    }

    fn metric(&self, name: &'static str) {
        Metrics::new(&self.service).count(name, 1).emit();
    }

    async fn dispatch(&self, req: Request) -> Result<Response<Body>, Error> {
        let (op, params) = match_route(ROUTES, req.method().as_str(), req.uri().path())?;
        match op {
            Op::Health => self.health().await,
            Op::CreateShop => {
                let caller = self.auth.require(&req)?;
                let shop = json_body::<ShopCreate>(&req)?.validate()?;
                let shop = self
                    .store
                    .create_shop(&caller.user_id, caller.email.as_deref(), shop)
                    .await?;
                self.metric("ShopsCreated");
                json(StatusCode::CREATED, &shop.view())
            }
            Op::GetShop => {
                let id = id_param(&params, "shop_id", Resource::Shop)?;
                let shop = self
                    .store
                    .get_shop(&id)
                    .await?
                    .ok_or_else(|| Error::not_found(Resource::Shop, &id))?;
                json(StatusCode::OK, &shop.view())
            }
            Op::UpdateShop => {
                let caller = self.auth.require(&req)?;
                let id = id_param(&params, "shop_id", Resource::Shop)?;
                let changes = json_body::<ShopPatch>(&req)?.validate()?;
                let shop = self
                    .store
                    .update_shop(&caller.user_id, &id, changes)
                    .await?;
                json(StatusCode::OK, &shop.view())
            }
            Op::CreateProduct => {
                let caller = self.auth.require(&req)?;
                let shop_id = id_param(&params, "shop_id", Resource::Shop)?;
                let product = json_body::<ProductCreate>(&req)?.validate()?;
                let (product, shop) = self
                    .store
                    .create_product(&caller.user_id, &shop_id, product)
                    .await?;
                self.metric("ProductsCreated");
                let available = product.available_to(Some(&caller.user_id), now());
                json(
                    StatusCode::CREATED,
                    &product.view(shop.summary(), available),
                )
            }
            Op::GetProduct => {
                let viewer = self.auth.optional(&req);
                let id = id_param(&params, "product_id", Resource::Product)?;
                let (product, shop) = self
                    .store
                    .get_product(&id)
                    .await?
                    .ok_or_else(|| Error::not_found(Resource::Product, &id))?;
                let available =
                    product.available_to(viewer.as_ref().map(|v| v.user_id.as_str()), now());
                json(StatusCode::OK, &product.view(shop.summary(), available))
            }
            Op::UpdateProduct => {
                let caller = self.auth.require(&req)?;
                let id = id_param(&params, "product_id", Resource::Product)?;
                let changes = json_body::<ProductPatch>(&req)?.validate()?;
                let (product, shop) = self
                    .store
                    .update_product(&caller.user_id, &id, changes)
                    .await?;
                self.metric("ProductsUpdated");
                let available = product.available_to(Some(&caller.user_id), now());
                json(StatusCode::OK, &product.view(shop.summary(), available))
            }
            Op::DeleteProduct => {
                let caller = self.auth.require(&req)?;
                let id = id_param(&params, "product_id", Resource::Product)?;
                self.store.delete_product(&caller.user_id, &id).await?;
                self.metric("ProductsDeleted");
                http::no_content()
            }
        }
    }

    async fn health(&self) -> Result<Response<Body>, Error> {
        match self.store.health().await {
            Ok(()) => json(
                StatusCode::OK,
                &json!({"status": "ok", "checks": {"dynamodb": "ok"}}),
            ),
            Err(err) => {
                tracing::error!(error = %err, "health check: DynamoDB unreachable");
                json(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &json!({"status": "degraded", "checks": {"dynamodb": "error"}}),
                )
            }
        }
    }
}
