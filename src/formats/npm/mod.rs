//! npm registry, Gitea dialect (seed 001), under `/api/packages/{owner}/npm/`: packuments (full
//! and abbreviated), versions and tags, tarballs, publish, deprecate, unpublish, dist-tags, and
//! the account and tool endpoints npm calls (`ping`, `whoami`, login, search, audit).
//!
//! npm's paths do not fit a route table (scoped names in one segment or two, `{id}/{x}` as a
//! version, tag or `-rev`), so one catch-all hands the raw path to `route::parse`. Packuments
//! are rendered whenever a package changes (`render_hook`) and served as stored; a customer sees
//! them cut to its granted versions. Every error answers `{"error": "…"}`, which npm prints.

mod body;
mod names;
mod packument;
mod read;
mod render;
mod route;
mod rules;
mod tools;
mod upload;
mod write;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::json;

use crate::auth::Principal;
use crate::config::Config;
use crate::customers::ClientSetup;
use crate::error::{Error, Result};
use crate::http::error::restyle;
use crate::http::package_path;
use crate::registry::RenderHook;
use crate::state::AppState;
use route::Target;

const FORMAT: &str = "npm";

/// The npm registry.
pub struct Npm;

impl super::Format for Npm {
    fn name(&self) -> &'static str {
        FORMAT
    }

    fn routes(&self) -> Router<AppState> {
        Router::new()
            .route("/api/packages/{owner}/npm/{*path}", any(dispatch))
            .layer(middleware::from_fn(npm_errors))
    }

    fn rules(&self) -> Arc<dyn crate::package_rules::PackageRules> {
        Arc::new(rules::NpmRules)
    }

    fn render_hook(&self, config: &Arc<Config>) -> Option<RenderHook> {
        Some(render::hook(config.base_url.clone()))
    }

    /// An `.npmrc` for the customer's token (the owner's registry URL replaces `{owner}`).
    fn client_setup(&self) -> Option<ClientSetup> {
        Some(ClientSetup {
            key: "npmrc",
            render: |config, token| {
                let registry = format!("{}/api/packages/{{owner}}/npm/", config.base_url);
                let host_path = registry
                    .split_once("://")
                    .map_or(registry.as_str(), |(_, rest)| rest);
                json!(format!(
                    "registry={registry}\n//{host_path}:_authToken={token}\n"
                ))
            },
        })
    }
}

/// npm prints the `error` of a JSON error body.
async fn npm_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if !(response.status().is_client_error() || response.status().is_server_error()) {
        return response;
    }
    restyle(response, |_, info| {
        axum::Json(json!({"error": info.message}))
    })
}

/// The registry URL of an owner, with a trailing slash.
fn registry_url(base_url: &str, owner: &str) -> String {
    format!("{base_url}/api/packages/{owner}/npm/")
}

/// A request to one owner's npm registry.
pub(crate) struct Call {
    pub state: AppState,
    pub principal: Principal,
    pub owner: String,
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
}

async fn dispatch(
    State(state): State<AppState>,
    principal: Principal,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let path = package_path::split(uri.path(), FORMAT)?;
    let target = route::parse(path.rest)
        .ok_or_else(|| Error::not_found(format!("{} not found", uri.path())))?;
    let owner = path.owner;
    let call = Call {
        state,
        principal,
        owner,
        method: method.clone(),
        uri,
        headers,
    };
    let get = method == Method::GET || method == Method::HEAD;
    match (target, method) {
        (Target::Ping, _) if get => tools::ping(&call).await,
        (Target::Whoami, _) if get => tools::whoami(&call).await,
        (Target::User(name), Method::PUT) => tools::login(&call, &name, body).await,
        (Target::Search, _) if get => read::search(&call).await,
        (Target::Audit, Method::POST) => tools::audit(&call).await,
        (Target::PublishAnywhere, Method::PUT) => write::put_package(&call, None, body).await,
        (Target::Package(name), _) if get => read::packument(&call, &name).await,
        (Target::Package(name), Method::PUT) => write::put_package(&call, Some(&name), body).await,
        (Target::PackageRev(name), Method::PUT) => write::put_revision(&call, &name, body).await,
        (Target::PackageRev(name), Method::DELETE) => write::delete_package(&call, &name).await,
        (Target::Version(name, version), _) if get => read::version(&call, &name, &version).await,
        (
            Target::Tarball {
                name,
                file,
                version,
            },
            _,
        ) if get => read::tarball(&call, &name, &file, version.as_deref()).await,
        (Target::Tarball { name, file, .. }, Method::DELETE) => {
            write::delete_tarball(&call, &name, &file).await
        }
        (Target::DistTags(name), _) if get => read::dist_tags(&call, &name).await,
        (Target::DistTag(name, tag), Method::PUT) => {
            write::set_dist_tag(&call, &name, &tag, body).await
        }
        (Target::DistTag(name, tag), Method::DELETE) => {
            write::delete_dist_tag(&call, &name, &tag).await
        }
        _ => Ok(StatusCode::METHOD_NOT_ALLOWED.into_response()),
    }
}
