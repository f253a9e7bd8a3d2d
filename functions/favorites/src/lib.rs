//! The favorites function: a signed-in user's favorite products and shops.
//!
//! `PUT` and `DELETE` are idempotent (`204` whether or not anything changed); an unknown product or
//! shop is `404`. The store counts every favorite on its product or shop and in the trending
//! activity in the same transaction.

use bazaar_aws::quota::DynamoQuota;
use bazaar_domain::error::{Error, Resource};
use bazaar_domain::metrics::Metrics;
use bazaar_domain::personalize::favorites::FavoriteKind;
use bazaar_domain::ports::{FavoritesStore, QuotaStore};
use bazaar_domain::quota::{QuotaClass, QuotaService};
use bazaar_lambda::auth::AuthMode;
use bazaar_lambda::env::Config;
use bazaar_lambda::http;
use bazaar_lambda::http::{HttpApp, Params, Route, is_plausible_id, json, match_route};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    List,
    Add(FavoriteKind),
    Remove(FavoriteKind),
}

/// The routes of this function (template.yaml must agree; a test checks).
pub const ROUTES: &[(Route, Op)] = &[
    (Route::new("GET", "/favorites"), Op::List),
    (
        Route::new("PUT", "/favorites/products/{product_id}"),
        Op::Add(FavoriteKind::Product),
    ),
    (
        Route::new("DELETE", "/favorites/products/{product_id}"),
        Op::Remove(FavoriteKind::Product),
    ),
    (
        Route::new("PUT", "/favorites/shops/{shop_id}"),
        Op::Add(FavoriteKind::Shop),
    ),
    (
        Route::new("DELETE", "/favorites/shops/{shop_id}"),
        Op::Remove(FavoriteKind::Shop),
    ),
];

pub struct App<S, Q = DynamoQuota> {
    store: S,
    quota: QuotaService<Q>,
    auth: AuthMode,
    service: String,
}

fn target_id(params: &Params, target: FavoriteKind) -> Result<String, Error> {
    let (name, resource) = match target {
        FavoriteKind::Product => ("product_id", Resource::Product),
        FavoriteKind::Shop => ("shop_id", Resource::Shop),
    };
    let id = params.get(name)?;
    if is_plausible_id(id) {
        Ok(id.to_owned())
    } else {
        Err(Error::not_found(resource, id))
    }
}

impl<S: FavoritesStore, Q: QuotaStore> HttpApp for App<S, Q> {
    /// Serves one API Gateway request; errors become problem responses.
    async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        http::serve(&self.service, req, |req| self.dispatch(req)).await
    }
}

impl<S: FavoritesStore, Q: QuotaStore> App<S, Q> {
    pub fn new(store: S, quota: Q, config: &Config) -> Self {
        Self {
            store,
            quota: QuotaService::new(quota, config.quotas.clone()),
            auth: config.auth.clone(),
            service: config.service.clone(),
        }
    }

    async fn dispatch(&self, req: Request) -> Result<Response<Body>, Error> {
        let (op, params) = match_route(ROUTES, req.method().as_str(), req.uri().path())?;
        let caller = self.auth.require(&req)?;
        match op {
            Op::List => json(StatusCode::OK, &self.store.list(&caller.user_id).await?),
            Op::Add(target) => {
                self.quota
                    .spend(&caller.user_id, QuotaClass::Favorites)
                    .await?;
                let id = target_id(&params, target)?;
                self.store.add(&caller.user_id, target, &id).await?;
                Metrics::new(&self.service)
                    .count("FavoritesAdded", 1)
                    .property("target", format!("{target:?}").to_lowercase())
                    .emit();
                http::no_content()
            }
            Op::Remove(target) => {
                self.quota
                    .spend(&caller.user_id, QuotaClass::Favorites)
                    .await?;
                let id = target_id(&params, target)?;
                self.store.remove(&caller.user_id, target, &id).await?;
                http::no_content()
            }
        }
    }
}
