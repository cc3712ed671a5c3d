//! Container (OCI distribution) registry at `/v2/`: repositories `{owner}/{image…}` of any
//! depth, blobs on the core's blob references and resumable upload sessions, manifests as
//! versions named by their digest (the manifest's bytes are the version's one file), tags on
//! the core's tags. Token auth as Docker clients expect it: a 401 challenge pointing at
//! `GET /v2/token`, which hands out a short-lived delegated token (`auth::delegated`).
//!
//! Names can have any number of segments, so one catch-all route reads the endpoint from the
//! end of the path (`names::endpoint`) and dispatches by method.

mod blobs;
mod content;
mod errors;
mod gc;
mod listing;
mod manifests;
mod names;
mod token;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::auth::{Authenticated, Permission, Principal};
use crate::config::Config;
use crate::http::owner_access::{PackageRead, require_package_content_read, require_package_read};
use crate::model::packages::Package;
use crate::registry::{Collector, Registry};
use crate::state::AppState;
use errors::{Code, Failure, OciError};
use names::{Endpoint, Repo};
use token::{Action, Needed, TokenScope};

const FORMAT: &str = "container";
/// The header every `/v2/` answer carries, by which clients recognise a registry.
const API_VERSION: (&str, &str) = ("docker-distribution-api-version", "registry/2.0");

/// The Container registry.
pub struct Container;

impl super::Format for Container {
    fn name(&self) -> &'static str {
        FORMAT
    }

    fn root_segments(&self) -> &'static [&'static str] {
        &["v2"]
    }

    fn routes(&self) -> Router<AppState> {
        Router::new()
            .route("/v2/", get(base))
            .route("/v2", get(base))
            .route("/v2/token", get(token::token))
            .route("/v2/_catalog", get(listing::catalog))
            .route("/v2/{*path}", axum::routing::any(dispatch))
            .layer(middleware::map_response(errors::restyle_errors))
            .layer(middleware::map_response(with_api_version))
    }

    fn challenge(&self, config: &Config) -> Option<HeaderValue> {
        HeaderValue::from_str(&token::challenge(&config.base_url)).ok()
    }

    /// `gc::collect`: untagged manifests when `GC_COLLECT_UNTAGGED` says so, then the layers no
    /// manifest names.
    fn collector(&self, config: &Arc<Config>) -> Option<Collector> {
        let untagged = config.gc_collect_untagged;
        Some(Arc::new(move |registry: Registry, cutoff| {
            Box::pin(gc::collect(registry, cutoff, untagged))
        }))
    }
}

async fn with_api_version(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(API_VERSION.0, HeaderValue::from_static(API_VERSION.1));
    response
}

/// `GET /v2/`: 200 for any caller with credentials that verified (an anonymous token from
/// `/v2/token` too); a caller without any gets the challenge, which is how clients learn where
/// to fetch a token (public owners are then pulled with an anonymous one).
async fn base(principal: Principal, headers: HeaderMap) -> Result<Response, Failure> {
    let presented = crate::auth::presented_token(&headers)?.is_some();
    if principal == Principal::Anonymous && !presented {
        return Err(crate::error::Error::Unauthorized("authentication required".into()).into());
    }
    Ok((StatusCode::OK, [("content-type", "application/json")], "{}").into_response())
}

/// A request's query parameters as sent, repeated ones included (`?tag=a&tag=b`, `?scope=…`).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(transparent)]
struct Params(Vec<(String, String)>);

impl Params {
    /// The first value of `name`.
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What every endpoint handler gets.
struct Request {
    state: AppState,
    principal: Principal,
    /// The scopes of the delegated token presented, which narrow what the principal may do.
    scope: Option<TokenScope>,
    /// What the request does to the repository.
    action: Action,
    repo: Repo,
    method: Method,
    query: Params,
    headers: HeaderMap,
}

impl Request {
    /// Reads need the token's scope, then the owner's visibility or a customer's grant
    /// (`require_repo_read`).
    async fn require_read(&self, tag: Option<&str>) -> Result<(), Failure> {
        self.require_scope(&self.repo, Action::Pull)?;
        require_repo_read(&self.state, &self.principal, &self.repo, tag).await
    }

    /// Whether the delegated token presented, if any, was issued for `action` on `repo`.
    fn token_allows(&self, repo: &Repo, action: Action) -> bool {
        let scope = self.scope.as_ref();
        scope.is_none_or(|scope| scope.allows(&repo.name(), action))
    }

    fn require_scope(&self, repo: &Repo, action: Action) -> Result<(), Failure> {
        if self.token_allows(repo, action) {
            return Ok(());
        }
        let name = repo.name();
        Err(crate::error::Error::Unauthorized(format!(
            "the token was not issued for {} on {name}",
            match action {
                Action::Pull => "pull",
                Action::Push => "push",
                Action::Delete => "delete",
            }
        ))
        .into())
    }

    /// The repository's package (not found when nothing was ever pushed to it).
    async fn package(&self) -> crate::error::Result<Package> {
        let registry = &self.state.registry;
        registry
            .find_package(&self.repo.owner, FORMAT, &self.repo.image)
            .await
    }

    /// The repository's package, created (with its owner) by a first push.
    async fn ensure_package(&self) -> crate::error::Result<Package> {
        let registry = &self.state.registry;
        registry
            .ensure_package(&self.repo.owner, FORMAT, &self.repo.image)
            .await
    }

    /// Pushes and deletes need the token's scope and the right to write packages.
    fn require_write(&self) -> Result<(), Failure> {
        self.require_scope(&self.repo, self.action)?;
        Ok(self.principal.require(Permission::WritePackages)?)
    }

    /// `/v2/{name}/…` of this repository.
    fn url(&self, rest: &str) -> String {
        format!("/v2/{}/{rest}", self.repo.name())
    }
}

/// Ok when `principal` may read `repo`: the owner's visibility, or a customer's grant of the tag
/// read, or of the repository for reads by digest (`None`), which no tag constraint can match.
async fn require_repo_read(
    state: &AppState,
    principal: &Principal,
    repo: &Repo,
    tag: Option<&str>,
) -> Result<(), Failure> {
    let read = PackageRead {
        owner: &repo.owner,
        format: FORMAT,
        package: &repo.image,
        version: tag.unwrap_or_default(),
    };
    match tag {
        Some(_) => require_package_read(state, principal, read).await?,
        None => require_package_content_read(state, principal, read).await?,
    }
    Ok(())
}

async fn dispatch(
    State(state): State<AppState>,
    caller: Authenticated,
    method: Method,
    Path(path): Path<String>,
    Query(query): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Failure> {
    let Some(endpoint) = names::endpoint(&path) else {
        return Err(OciError::new(Code::NameUnknown, format!("no endpoint /v2/{path}")).into());
    };
    let name = match &endpoint {
        Endpoint::Manifest { name, .. }
        | Endpoint::Blob { name, .. }
        | Endpoint::Uploads { name }
        | Endpoint::Upload { name, .. }
        | Endpoint::Tags { name }
        | Endpoint::Referrers { name, .. } => *name,
    };
    let action = match (&endpoint, &method) {
        (_, &Method::GET | &Method::HEAD) => Action::Pull,
        (Endpoint::Manifest { .. } | Endpoint::Blob { .. }, &Method::DELETE) => Action::Delete,
        _ => Action::Push,
    };
    let req = Request {
        repo: Repo::parse(name)?,
        state,
        scope: caller.delegated_scope.as_deref().map(TokenScope::parse),
        principal: caller.principal,
        action,
        method,
        query,
        headers,
    };
    let answer = endpoint_answer(&req, endpoint, body).await;
    answer.map_err(|failure| {
        let needed = Needed::Repository(&req.repo.name(), req.action);
        with_scoped_challenge(failure, &req.state, needed, req.scope.is_some())
    })
}

/// A 401 with the challenge naming the scope the request needs (any other failure as it is).
fn with_scoped_challenge(
    failure: Failure,
    state: &AppState,
    needed: Needed<'_>,
    token_presented: bool,
) -> Failure {
    let mut response = failure.into_response();
    if response.status() == StatusCode::UNAUTHORIZED {
        let challenge = token::scoped_challenge(&state.config.base_url, needed, token_presented);
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, value);
        }
    }
    Failure::Response(Box::new(response))
}

async fn endpoint_answer(
    req: &Request,
    endpoint: Endpoint<'_>,
    body: Body,
) -> Result<Response, Failure> {
    match (endpoint, req.method.clone()) {
        (Endpoint::Manifest { reference, .. }, Method::GET | Method::HEAD) => {
            manifests::get(req, reference).await
        }
        (Endpoint::Manifest { reference, .. }, Method::PUT) => {
            manifests::put(req, reference, body).await
        }
        (Endpoint::Manifest { reference, .. }, Method::DELETE) => {
            manifests::delete(req, reference).await
        }
        (Endpoint::Blob { digest, .. }, Method::GET | Method::HEAD) => {
            blobs::get(req, digest).await
        }
        (Endpoint::Blob { digest, .. }, Method::DELETE) => blobs::delete(req, digest).await,
        (Endpoint::Uploads { .. }, Method::POST) => blobs::start(req, body).await,
        (Endpoint::Upload { id, .. }, Method::GET) => blobs::status(req, id).await,
        (Endpoint::Upload { id, .. }, Method::PATCH) => blobs::patch(req, id, body).await,
        (Endpoint::Upload { id, .. }, Method::PUT) => blobs::finish(req, id, body).await,
        (Endpoint::Upload { id, .. }, Method::DELETE) => blobs::cancel(req, id).await,
        (Endpoint::Tags { .. }, Method::GET) => listing::tags(req).await,
        (Endpoint::Referrers { digest, .. }, Method::GET) => {
            manifests::referrers(req, digest).await
        }
        (_, method) => Err(OciError::new(
            Code::Unsupported,
            format!("{method} is not supported here"),
        )
        .with_status(StatusCode::METHOD_NOT_ALLOWED)
        .into()),
    }
}
