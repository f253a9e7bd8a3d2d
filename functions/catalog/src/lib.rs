//! The catalog function: health, shops, products, and "customers also bought". (`GET /trending` is
//! served by the feed function, which fills a short list from the search engine.)
//!
//! It parses and validates requests, asks the [`CatalogStore`] port, and renders the contract's
//! JSON. Ownership and uniqueness are enforced by the store's conditional writes, not here. A
//! signed-in `GET /products/{id}` records a view (for the feed and trending) while the product's
//! shop is read, so it adds no latency; a failed view write is logged, never answered.

use bazaar_aws::personalize::DynamoDiscovery;
use bazaar_aws::quota::DynamoQuota;
use bazaar_domain::catalog::{Product, Shop};
use bazaar_domain::error::{Error, Resource};
use bazaar_domain::metrics::Metrics;
use bazaar_domain::ports::{CatalogStore, Discovery, QuotaStore, ViewLog};
use bazaar_domain::quota::{QuotaClass, QuotaService};
use bazaar_domain::validate::{ProductCreate, ProductPatch, ShopCreate, ShopPatch};
use bazaar_lambda::auth::AuthMode;
use bazaar_lambda::env::Config;
use bazaar_lambda::http;
use bazaar_lambda::http::{
    CachePolicy, HttpApp, Params, Route, cacheable, is_plausible_id, json, json_body, match_route,
};
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
    Recommendations,
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
    (
        Route::new("GET", "/products/{product_id}/recommendations"),
        Op::Recommendations,
    ),
];

/// `GET /shops/{id}`: a shop's profile changes rarely (the seeds cache it 10 minutes); a minute
/// in browsers and CloudFront.
pub const SHOP_CACHE: CachePolicy = CachePolicy::seconds(60, 60);
/// `GET /products/{id}`: availability changes with every hold, so an anonymous product page is
/// reused for 2 seconds at most (browser and CloudFront), enough to absorb a burst on a hot
/// listing while a sold-out or held item shows as such within 2 s.
pub const PRODUCT_CACHE: CachePolicy = CachePolicy::seconds(2, 2);
/// `GET /products/{id}/recommendations`: co-purchase counts move with orders (minutes).
pub const RECOMMENDATIONS_CACHE: CachePolicy = CachePolicy::seconds(30, 30);

/// The function's state, built once per cold start.
pub struct App<S, D = DynamoDiscovery, Q = DynamoQuota> {
    store: S,
    discovery: D,
    quota: QuotaService<Q>,
    auth: AuthMode,
    service: String,
}

/// What a write changes, for [`App::invalid`].
#[derive(Debug, Clone, Copy)]
enum Target<'a> {
    Shop(&'a str),
    Product(&'a str),
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

impl<S: CatalogStore, D: Discovery, Q: QuotaStore> HttpApp for App<S, D, Q> {
    /// Serves one API Gateway request; errors become problem responses.
    async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        http::serve(&self.service, req, |req| self.dispatch(req)).await
    }
}

impl<S: CatalogStore, D: Discovery, Q: QuotaStore> App<S, D, Q> {
    pub fn new(store: S, discovery: D, quota: Q, config: &Config) -> Self {
        Self {
            store,
            discovery,
            quota: QuotaService::new(quota, config.quotas.clone()),
            auth: config.auth.clone(),
            service: config.service.clone(),
        }
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
                self.quota
                    .spend(&caller.user_id, QuotaClass::Listings)
                    .await?;
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
                Ok(cacheable(json(StatusCode::OK, &shop.view())?, SHOP_CACHE))
            }
            Op::UpdateShop => {
                let caller = self.auth.require(&req)?;
                self.quota
                    .spend(&caller.user_id, QuotaClass::Listings)
                    .await?;
                let id = id_param(&params, "shop_id", Resource::Shop)?;
                let changes = match json_body::<ShopPatch>(&req).and_then(ShopPatch::validate) {
                    Ok(changes) => changes,
                    Err(err) => {
                        return Err(self.invalid(err, &caller.user_id, Target::Shop(&id)).await);
                    }
                };
                let shop = self
                    .store
                    .update_shop(&caller.user_id, &id, changes)
                    .await?;
                json(StatusCode::OK, &shop.view())
            }
            Op::CreateProduct => {
                let caller = self.auth.require(&req)?;
                self.quota
                    .spend(&caller.user_id, QuotaClass::Listings)
                    .await?;
                let shop_id = id_param(&params, "shop_id", Resource::Shop)?;
                let product =
                    match json_body::<ProductCreate>(&req).and_then(ProductCreate::validate) {
                        Ok(product) => product,
                        Err(err) => {
                            return Err(self
                                .invalid(err, &caller.user_id, Target::Shop(&shop_id))
                                .await);
                        }
                    };
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
                let viewer = self.auth.optional_verified(&req).await;
                let id = id_param(&params, "product_id", Resource::Product)?;
                let (product, shop) = match &viewer {
                    None => self.store.get_product(&id).await?,
                    Some(viewer) => self.viewed(&viewer.user_id, &id).await?,
                }
                .ok_or_else(|| Error::not_found(Resource::Product, &id))?;
                let available =
                    product.available_to(viewer.as_ref().map(|v| v.user_id.as_str()), now());
                Ok(cacheable(
                    json(StatusCode::OK, &product.view(shop.summary(), available))?,
                    PRODUCT_CACHE,
                ))
            }
            Op::UpdateProduct => {
                let caller = self.auth.require(&req)?;
                self.quota
                    .spend(&caller.user_id, QuotaClass::Listings)
                    .await?;
                let id = id_param(&params, "product_id", Resource::Product)?;
                let changes = match json_body::<ProductPatch>(&req).and_then(ProductPatch::validate)
                {
                    Ok(changes) => changes,
                    Err(err) => {
                        return Err(self
                            .invalid(err, &caller.user_id, Target::Product(&id))
                            .await);
                    }
                };
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
                self.quota
                    .spend(&caller.user_id, QuotaClass::Listings)
                    .await?;
                let id = id_param(&params, "product_id", Resource::Product)?;
                self.store.delete_product(&caller.user_id, &id).await?;
                self.metric("ProductsDeleted");
                http::no_content()
            }
            Op::Recommendations => {
                let id = id_param(&params, "product_id", Resource::Product)?;
                let products = self
                    .discovery
                    .recommendations(&id, chrono::Utc::now())
                    .await?;
                Ok(cacheable(
                    json(StatusCode::OK, &json!({"products": products}))?,
                    RECOMMENDATIONS_CACHE,
                ))
            }
        }
    }

    /// A write to `target` whose body did not parse or validate (`err`). Authorization comes
    /// first: a caller who may not write there gets the `404` / `403` the write itself would
    /// answer, never the body's errors (one read, on this path only; a valid body costs nothing
    /// extra, its write's condition checks ownership).
    async fn invalid(&self, err: Error, caller: &str, target: Target<'_>) -> Error {
        let (resource, id, owner) = match target {
            Target::Shop(id) => (
                Resource::Shop,
                id,
                self.store.get_shop(id).await.map(|s| s.map(|s| s.owner_id)),
            ),
            Target::Product(id) => (
                Resource::Product,
                id,
                self.store
                    .get_listing(id)
                    .await
                    .map(|p| p.map(|p| p.owner_id)),
            ),
        };
        match owner {
            Ok(None) => Error::not_found(resource, id),
            Ok(Some(owner)) if owner != caller => {
                Error::Forbidden("Only the shop's owner may change it.".into())
            }
            Ok(Some(_)) => err,
            Err(read) => read,
        }
    }

    /// A signed-in read of a product page: the product, then its shop and the view record at the
    /// same time. The view is best effort: its failure is logged and counted, never answered.
    async fn viewed(&self, user: &str, id: &str) -> Result<Option<(Product, Shop)>, Error> {
        let Some(product) = self.store.get_listing(id).await? else {
            return Ok(None);
        };
        let (shop, view) = tokio::join!(
            self.store.get_shop(&product.shop_id),
            ViewLog::record(&self.discovery, user, &product)
        );
        if let Err(err) = view {
            tracing::warn!(error = %err, product_id = %id, "recording a view failed");
            self.metric("ViewRecordFailures");
        }
        let shop = shop?.ok_or_else(|| {
            Error::internal(format!(
                "product {} points at missing shop {}",
                product.id, product.shop_id
            ))
        })?;
        Ok(Some((product, shop)))
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
