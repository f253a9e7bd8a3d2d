//! The favorites function: a signed-in user's favorite products and shops.
//!
//! `PUT` and `DELETE` are idempotent (`204` whether or not anything changed); an unknown product or
//! shop is `404`. The store counts every favorite on its product or shop and in the trending
//! activity in the same transaction.

use bazaar::auth::AuthMode;
use bazaar::config::Config;
use bazaar::error::{Error, Resource};
use bazaar::http::{self, Params, Route, is_plausible_id, json, match_route};
use bazaar::personalize::favorites::{FavoritesStore, Target};
use bazaar::telemetry::Metrics;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    List,
    Add(Target),
    Remove(Target),
}

/// The routes of this function (template.yaml must agree; a test checks).
pub const ROUTES: &[(Route, Op)] = &[
    (Route::new("GET", "/favorites"), Op::List),
    (
        Route::new("PUT", "/favorites/products/{product_id}"),
        Op::Add(Target::Product),
    ),
    (
        Route::new("DELETE", "/favorites/products/{product_id}"),
        Op::Remove(Target::Product),
    ),
    (
        Route::new("PUT", "/favorites/shops/{shop_id}"),
        Op::Add(Target::Shop),
    ),
    (
        Route::new("DELETE", "/favorites/shops/{shop_id}"),
        Op::Remove(Target::Shop),
    ),
];

pub struct App<S> {
    store: S,
    auth: AuthMode,
    service: String,
}

fn target_id(params: &Params, target: Target) -> Result<String, Error> {
    let (name, resource) = match target {
        Target::Product => ("product_id", Resource::Product),
        Target::Shop => ("shop_id", Resource::Shop),
    };
    let id = params.get(name)?;
    if is_plausible_id(id) {
        Ok(id.to_owned())
    } else {
        Err(Error::not_found(resource, id))
    }
}

impl<S: FavoritesStore> App<S> {
    pub fn new(store: S, config: &Config) -> Self {
        Self {
            store,
            auth: config.auth.clone(),
            service: config.service.clone(),
        }
    }

    pub async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        http::serve(&self.service, req, |req| self.dispatch(req)).await
    }

    async fn dispatch(&self, req: Request) -> Result<Response<Body>, Error> {
        let (op, params) = match_route(ROUTES, req.method().as_str(), req.uri().path())?;
        let caller = self.auth.require(&req)?;
        match op {
            Op::List => json(StatusCode::OK, &self.store.list(&caller.user_id).await?),
            Op::Add(target) => {
                let id = target_id(&params, target)?;
                self.store.add(&caller.user_id, target, &id).await?;
                Metrics::new(&self.service)
                    .count("FavoritesAdded", 1)
                    .property("target", format!("{target:?}").to_lowercase())
                    .emit();
                http::no_content()
            }
            Op::Remove(target) => {
                let id = target_id(&params, target)?;
                self.store.remove(&caller.user_id, target, &id).await?;
                http::no_content()
            }
        }
    }
}
