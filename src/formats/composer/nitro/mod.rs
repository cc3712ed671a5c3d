//! Nitro Repo's Composer repositories (seed 003) under `/repositories/{storage}/{repository}/`:
//! the info document, `packages.json` (Composer 1 style, every version inline), `p/{package}.json`,
//! `p/{package}/{version}.json`, `provider.json`, `search.json`, `packages/list.json`, archives
//! under `downloads/{vendor}-{package}-{version}.zip` (GET, HEAD, PUT, DELETE), install
//! notifications (`POST downloads`), metadata updates (`PUT p/…`) and the validated
//! `PUT packages.json`. A thin dialect over `uploads`, `metadata` and the registry.
//!
//! Mapping: the repository is the owner named `{repository}` (so the same packages are Gitea's
//! `/api/packages/{repository}/composer`); `{storage}` is recorded on the owner (property
//! `nitro.storage`) by the first Nitro write that reaches it (an upload, metadata update or
//! delete by someone who may publish), and the repository answers only under that storage
//! afterwards. Until then it answers reads under any storage: a reader's URL must not decide
//! where a repository lives. The archive is stored under exactly its Nitro file name.
//!
//! Every error is Nitro's JSON body `{"error", "message", "details"}` (see `errors`).

mod api;
mod archives;
mod documents;
mod updates;

use std::collections::HashMap;

use axum::Router;
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::{Map, Value, json};

use super::FORMAT;
use crate::auth::{Permission, Principal};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::http::error::restyle;
use crate::http::owner_access::require_owner_read;
use crate::model::owners::{self, Owner, check_owner_name};
use crate::model::packages;
use crate::model::properties::{self, RefType};
use crate::state::AppState;

const BASE: &str = "/repositories/{storage}/{repository}";
/// Owner property: the storage a repository answers under.
const STORAGE_PROPERTY: &str = "nitro.storage";
/// Owner property: the repository's configuration (a JSON object, `PUT …/config/php`).
const CONFIG_PROPERTY: &str = "nitro.config";
const DEFAULT_DESCRIPTION: &str = "PHP Composer Repository";

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(BASE, get(info))
        .route(&format!("{BASE}/"), get(info))
        .route(
            &format!("{BASE}/packages.json"),
            get(documents::index).put(updates::check_index),
        )
        .route(
            &format!("{BASE}/p/{{vendor}}/{{file}}"),
            get(documents::package_document).put(updates::update_package),
        )
        .route(
            &format!("{BASE}/p/{{vendor}}/{{package}}/{{file}}"),
            get(documents::version_document).put(updates::update_version),
        )
        .route(&format!("{BASE}/downloads"), post(archives::notify))
        .route(&format!("{BASE}/downloads/"), post(archives::notify))
        .route(
            &format!("{BASE}/downloads/{{file}}"),
            get(archives::download)
                .put(archives::upload)
                .delete(archives::delete_archive),
        )
        .route(
            &format!("{BASE}/provider.json"),
            get(documents::provider_listing),
        )
        .route(&format!("{BASE}/search.json"), get(documents::search))
        .route(&format!("{BASE}/packages/list.json"), get(documents::list))
        .layer(middleware::from_fn(errors))
        .merge(api::routes())
}

/// Any other path under Nitro's prefixes, answered 404 with Nitro's error body. Part of the
/// server's fallback: there these catch-alls cannot collide with the parameters of the routes.
pub(super) fn unknown_routes() -> Router<AppState> {
    Router::new()
        .route("/repositories/{*rest}", any(unknown_route))
        .route("/api/repository/{*rest}", any(unknown_route))
        .layer(middleware::from_fn(errors))
}

// ---------------------------------------------------------------------------------------------
// Errors

/// More `details` for a Nitro error body than the URL tells (set on an error response).
#[derive(Debug, Clone)]
struct Details(Value);

/// Nitro's error body for every 4xx/5xx answer: `{"error": "Not Found", "message": …,
/// "details": {"storage", "repository", "package"?, "version"?, "file"?}}` (details read from
/// the URL, plus any `Details` the handler attached). The status and a 401's `WWW-Authenticate`
/// challenge stay.
async fn errors(request: Request, next: Next) -> Response {
    let mut details = details_of(request.uri().path());
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    if let Some(Details(Value::Object(extra))) = response.extensions().get::<Details>() {
        details.extend(extra.clone());
    }
    restyle(response, |status, info| {
        let reason = status.canonical_reason().unwrap_or("Error");
        axum::Json(json!({"error": reason, "message": info.message, "details": details}))
    })
}

/// What the URL names, for error details.
fn details_of(path: &str) -> Map<String, Value> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut details = Map::new();
    let mut put = |k: &str, v: String| {
        details.insert(k.into(), Value::String(v));
    };
    match segments.as_slice() {
        ["api", "repository", id, ..] => put("repository", id.to_string()),
        ["repositories", storage, repository, rest @ ..] => {
            put("storage", storage.to_string());
            put("repository", repository.to_string());
            match rest {
                ["p", vendor, file] => {
                    put("package", format!("{vendor}/{}", strip_json(file)));
                }
                ["p", vendor, package, file] => {
                    put("package", format!("{vendor}/{package}"));
                    put("version", strip_json(file).to_string());
                }
                ["downloads", file] => put("file", file.to_string()),
                _ => {}
            }
        }
        _ => {}
    }
    details
}

fn strip_json(file: &str) -> &str {
    file.strip_suffix(".json").unwrap_or(file)
}

async fn unknown_route() -> Error {
    Error::not_found("no such route in Nitro's repositories")
}

// ---------------------------------------------------------------------------------------------
// Repositories

/// A repository a request reached: its owner and the URLs it answers under.
struct Repo {
    owner: Owner,
    /// `{base_url}/repositories/{storage}/{repository}`, as the request spelled them.
    base: String,
}

fn not_in_storage(storage: &str, repository: &str) -> Error {
    Error::not_found(format!(
        "repository {repository} not found in storage {storage}"
    ))
}

/// How a request reaches a repository.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Reads packages.
    Read,
    /// Publishes or deletes packages, and binds an unbound repository to the request's storage.
    Write,
}

/// The repository a request names, once the caller may `access` it: 404 when it does not exist
/// or is bound to another storage (a write binds an unbound one).
async fn open(
    state: &AppState,
    principal: &Principal,
    access: Access,
    storage: &str,
    repository: &str,
) -> Result<Repo> {
    match access {
        Access::Read => require_owner_read(state, principal, repository).await?,
        Access::Write => principal.require(Permission::WritePackages)?,
    }
    let missing = || not_in_storage(storage, repository);
    if check_owner_name(storage).is_err() || check_owner_name(repository).is_err() {
        return Err(missing());
    }
    let owner = {
        let mut conn = state.registry.db.pool().acquire().await?;
        owners::find(&mut conn, repository).await?
    }
    .ok_or_else(missing)?;
    let answers = match access {
        Access::Write => bind_storage(&state.registry.db, owner.id, storage).await?,
        Access::Read => bound_storage(&state.registry.db, owner.id)
            .await?
            .is_none_or(|bound| bound.eq_ignore_ascii_case(storage)),
    };
    if !answers {
        return Err(missing());
    }
    Ok(Repo {
        owner,
        base: format!(
            "{}/repositories/{storage}/{repository}",
            state.config.base_url
        ),
    })
}

/// The repository of the URL, for a caller its visibility lets read it (checked before the
/// repository is looked up, so an anonymous caller gets 401 for a private one, never 404).
struct Reading(Repo);

/// The repository of the URL, for a caller who may publish and delete packages.
struct Writing(Repo);

async fn repo_of(parts: &mut Parts, state: &AppState, access: Access) -> Result<Repo> {
    let principal = Principal::from_request_parts(parts, state).await?;
    let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
        .await
        .map_err(|e| Error::invalid(e.body_text()))?;
    let param = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
    open(
        state,
        &principal,
        access,
        param("storage"),
        param("repository"),
    )
    .await
}

impl FromRequestParts<AppState> for Reading {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        repo_of(parts, state, Access::Read).await.map(Reading)
    }
}

impl FromRequestParts<AppState> for Writing {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        repo_of(parts, state, Access::Write).await.map(Writing)
    }
}

/// The storage an owner answers under, if a write bound it to one.
async fn bound_storage(db: &Db, owner_id: i64) -> Result<Option<String>> {
    let mut conn = db.pool().acquire().await?;
    properties::get(&mut conn, RefType::Owner, owner_id, STORAGE_PROPERTY).await
}

/// Records `storage` on an owner that has none yet; says whether the owner answers under it.
async fn bind_storage(db: &Db, owner_id: i64, storage: &str) -> Result<bool> {
    let bound = match bound_storage(db, owner_id).await? {
        Some(bound) => bound,
        None => {
            let mut tx = db.begin_write().await?;
            let bound = match properties::get(&mut tx, RefType::Owner, owner_id, STORAGE_PROPERTY)
                .await?
            {
                Some(bound) => bound,
                None => {
                    properties::add(&mut tx, RefType::Owner, owner_id, STORAGE_PROPERTY, storage)
                        .await?;
                    storage.to_string()
                }
            };
            tx.commit().await?;
            bound
        }
    };
    Ok(bound.eq_ignore_ascii_case(storage))
}

/// The repository's configuration object (empty when none was stored).
async fn stored_config(db: &Db, owner_id: i64) -> Result<Map<String, Value>> {
    let mut conn = db.pool().acquire().await?;
    let stored = properties::get(&mut conn, RefType::Owner, owner_id, CONFIG_PROPERTY).await?;
    Ok(stored
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
        .and_then(|v| match v {
            Value::Object(map) => Some(map),
            _ => None,
        })
        .unwrap_or_default())
}

/// `GET /repositories/{storage}/{repository}/`: what the repository is and holds.
async fn info(State(state): State<AppState>, Reading(repo): Reading) -> Result<Response> {
    let config = stored_config(&state.registry.db, repo.owner.id).await?;
    let totals = {
        let mut conn = state.registry.db.pool().acquire().await?;
        packages::totals(&mut conn, repo.owner.id, FORMAT).await?
    };
    let description = config
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or(DEFAULT_DESCRIPTION);
    Ok(axum::Json(json!({
        "name": repo.owner.name,
        "description": description,
        "type": "composer",
        "packages-count": totals.packages,
        "versions-count": totals.versions,
        "last-modified": crate::clock::rfc3339(totals.last_added.unwrap_or(repo.owner.created_at)),
    }))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_details_come_from_the_url() {
        let d = details_of("/repositories/main/php-repo/p/acme/lib/1.0.0.json");
        assert_eq!(
            Value::Object(d),
            json!({"storage": "main", "repository": "php-repo", "package": "acme/lib", "version": "1.0.0"})
        );
        let d = details_of("/repositories/main/php-repo/downloads/acme-lib-1.0.0.zip");
        assert_eq!(d["file"], "acme-lib-1.0.0.zip");
        let d = details_of("/repositories/main/php-repo/p/acme/lib.json");
        assert_eq!(d["package"], "acme/lib");
        let d = details_of("/api/repository/php-repo/stats");
        assert_eq!(Value::Object(d), json!({"repository": "php-repo"}));
    }
}
