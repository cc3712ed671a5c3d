//! Nitro Repo's Composer repositories (seed 003) under `/repositories/{storage}/{repository}/`:
//! the info document, `packages.json` (Composer 1 style, every version inline), `p/{package}.json`,
//! `p/{package}/{version}.json`, `provider.json`, `search.json`, `packages/list.json`, archives
//! under `downloads/{vendor}-{package}-{version}.zip` (GET, HEAD, PUT, DELETE), install
//! notifications (`POST downloads`), metadata updates (`PUT p/…`) and the validated
//! `PUT packages.json`. A thin dialect over `uploads`, `metadata` and the registry.
//!
//! Mapping: the repository is the owner named `{repository}` (so the same packages are Gitea's
//! `/api/packages/{repository}/composer`); `{storage}` is recorded on the owner (property
//! `nitro.storage`) by the first Nitro request that reaches it, and the repository answers only
//! under that storage afterwards. The archive is stored under exactly its Nitro file name.
//!
//! Every error is Nitro's JSON body `{"error", "message", "details"}` (see `errors`).

use axum::Router;
use axum::body::{Body, Bytes};
use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::{Map, Value, json};

use super::constraint::Constraint;
use super::dialect::{self, SearchIn, SearchQuery, composer, percent_encode};
use super::notify::count_installs;
use super::uploads::{UploadTarget, UploadedVersion, with_dist_urls};
use super::{FORMAT, version};
use crate::api::Query;
use crate::auth::{Permission, Principal};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::download::serve_file;
use crate::http::error::ErrorInfo;
use crate::model::owners::{self, Owner, check_owner_name};
use crate::model::packages::{self, FileCoord};
use crate::model::properties::{self, RefType};

const BASE: &str = "/repositories/{storage}/{repository}";
/// Owner property: the storage a repository answers under.
const STORAGE_PROPERTY: &str = "nitro.storage";
/// Owner property: the repository's configuration (a JSON object, `PUT …/config/php`).
pub(super) const CONFIG_PROPERTY: &str = "nitro.config";
pub(super) const DEFAULT_DESCRIPTION: &str = "PHP Composer Repository";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(BASE, get(info))
        .route(&format!("{BASE}/"), get(info))
        .route(
            &format!("{BASE}/packages.json"),
            get(index).put(check_index),
        )
        .route(
            &format!("{BASE}/p/{{vendor}}/{{file}}"),
            get(package_document).put(update_package),
        )
        .route(
            &format!("{BASE}/p/{{vendor}}/{{package}}/{{file}}"),
            get(version_document).put(update_version),
        )
        .route(&format!("{BASE}/downloads"), post(notify))
        .route(&format!("{BASE}/downloads/"), post(notify))
        .route(
            &format!("{BASE}/downloads/{{file}}"),
            get(download).put(upload).delete(delete_archive),
        )
        .route(&format!("{BASE}/provider.json"), get(provider_listing))
        .route(&format!("{BASE}/search.json"), get(search))
        .route(&format!("{BASE}/packages/list.json"), get(list))
        .route(&format!("{BASE}/{{*rest}}"), any(unknown_route))
        .layer(middleware::from_fn(errors))
        .merge(super::nitro_api::routes())
}

// ---------------------------------------------------------------------------------------------
// Errors

/// More `details` for a Nitro error body than the URL tells (set on an error response).
#[derive(Debug, Clone)]
pub(super) struct Details(pub Value);

/// Nitro's error body for every 4xx/5xx answer: `{"error": "Not Found", "message": …,
/// "details": {"storage", "repository", "package"?, "version"?, "file"?}}` (details read from
/// the URL, plus any `Details` the handler attached). The status and a 401's `WWW-Authenticate`
/// challenge stay.
pub(super) async fn errors(request: Request, next: Next) -> Response {
    let mut details = details_of(request.uri().path());
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let reason = status.canonical_reason().unwrap_or("Error");
    let info = response.extensions().get::<ErrorInfo>().cloned();
    let message = info
        .as_ref()
        .map_or_else(|| reason.to_string(), |i| i.message.clone());
    if let Some(Details(Value::Object(extra))) = response.extensions().get::<Details>() {
        details.extend(extra.clone());
    }
    let body = json!({"error": reason, "message": message, "details": details});
    let mut rendered = (status, axum::Json(body)).into_response();
    for name in [header::WWW_AUTHENTICATE, header::ALLOW] {
        if let Some(value) = response.headers().get(&name) {
            rendered.headers_mut().insert(name, value.clone());
        }
    }
    if let Some(info) = info {
        rendered.extensions_mut().insert(info);
    }
    rendered
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
    Error::not_found("no such route in a Composer repository")
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

/// The repository a request names, once the caller has `permission`: 404 when it does not exist
/// or is bound to another storage (the first Nitro request binds an unbound one).
async fn open(
    state: &AppState,
    principal: &Principal,
    permission: Permission,
    storage: &str,
    repository: &str,
) -> Result<Repo> {
    principal.require(permission)?;
    let missing = || not_in_storage(storage, repository);
    if check_owner_name(storage).is_err() || check_owner_name(repository).is_err() {
        return Err(missing());
    }
    let owner = {
        let mut conn = state.registry.db.pool().acquire().await?;
        owners::find(&mut conn, repository).await?
    }
    .ok_or_else(missing)?;
    if !bind_storage(&state.registry.db, owner.id, storage).await? {
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

/// The repository of the URL, for a caller who may read packages (the permission is checked
/// before the repository is looked up, so an anonymous caller gets 401, never 404).
struct Reading(Repo);

/// The repository of the URL, for a caller who may publish and delete packages.
struct Writing(Repo);

async fn repo_of(parts: &mut Parts, state: &AppState, permission: Permission) -> Result<Repo> {
    let principal = Principal::from_request_parts(parts, state).await?;
    let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
        .await
        .map_err(|e| Error::invalid(e.body_text()))?;
    let param = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
    open(
        state,
        &principal,
        permission,
        param("storage"),
        param("repository"),
    )
    .await
}

impl FromRequestParts<AppState> for Reading {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        repo_of(parts, state, Permission::ReadPackages)
            .await
            .map(Reading)
    }
}

impl FromRequestParts<AppState> for Writing {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        repo_of(parts, state, Permission::WritePackages)
            .await
            .map(Writing)
    }
}

/// Records `storage` on an owner that has none yet; says whether the owner answers under it.
async fn bind_storage(db: &Db, owner_id: i64, storage: &str) -> Result<bool> {
    let bound = {
        let mut conn = db.pool().acquire().await?;
        properties::get(&mut conn, RefType::Owner, owner_id, STORAGE_PROPERTY).await?
    };
    let bound = match bound {
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
pub(super) async fn stored_config(db: &Db, owner_id: i64) -> Result<Map<String, Value>> {
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

// ---------------------------------------------------------------------------------------------
// Metadata documents

/// The versions' entries with their Nitro dist URLs, newest first.
fn entries(repo: &Repo, versions: &[UploadedVersion]) -> Vec<Map<String, Value>> {
    with_dist_urls(versions, |v| {
        format!("{}/downloads/{}", repo.base, percent_encode(&v.file))
    })
}

fn version_of(entry: &Map<String, Value>) -> String {
    entry
        .get("version")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// `p/{package}.json`. Two readers want two shapes: seed 003 documents
/// `{"package": name, "versions": {version: entry}}`, while Composer, which reaches this file
/// through `providers-url`, reads only `packages.{name}` and needs a `uid` on each version
/// (`ComposerRepository::whatProvides`). Both are in the one document; it is rendered the same
/// way every time, because `packages.json` and `provider.json` publish its SHA-256 and Composer
/// refuses a provider file that does not match it.
fn render_package(repo: &Repo, name: &str, versions: &[UploadedVersion]) -> String {
    let mut by_version = Map::new();
    for (v, mut entry) in versions.iter().zip(entries(repo, versions)) {
        entry.insert("uid".into(), json!(v.version_id));
        by_version.insert(version_of(&entry), Value::Object(entry));
    }
    json!({
        "package": name,
        "versions": by_version.clone(),
        "packages": {name: by_version},
    })
    .to_string()
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data).as_ref())
}

/// Every package: its versions keyed by version (for `packages.json`) and the SHA-256 of its
/// `p/{package}.json` (for `providers`).
async fn everything(
    state: &AppState,
    repo: &Repo,
) -> Result<(Map<String, Value>, Map<String, Value>)> {
    let composer = composer(state);
    let mut inline = Map::new();
    let mut providers = Map::new();
    for name in composer.uploaded_names(&repo.owner.name).await? {
        let Some(versions) = composer.uploaded_versions(&repo.owner.name, &name).await? else {
            continue;
        };
        let keyed: Map<String, Value> = entries(repo, &versions)
            .into_iter()
            .map(|e| (version_of(&e), Value::Object(e)))
            .collect();
        let document = render_package(repo, &name, &versions);
        providers.insert(
            name.clone(),
            json!({"sha256": sha256_hex(document.as_bytes())}),
        );
        inline.insert(name, Value::Object(keyed));
    }
    Ok((inline, providers))
}

/// `packages.json`: Nitro's shape (every version inline, `notify-batch`, `search`,
/// `providers-url`, `providers-api`) plus `providers`, the listing Composer 2 needs before it
/// follows `providers-url` at all: with `providers-url` set, Composer resolves only through it
/// and ignores the inline `packages`, and it fetches `p/{package}.json` only for names listed in
/// `providers` (checking the SHA-256 given there). No `metadata-url`: Composer 2 would then
/// ignore the rest and ask for `p2` files this dialect does not have. `providers-api` carries
/// `?package=%package%` (see `provider_listing`).
async fn index(State(state): State<AppState>, Reading(repo): Reading) -> Result<Response> {
    let (inline, providers) = everything(&state, &repo).await?;
    let base = &repo.base;
    Ok(axum::Json(json!({
        "packages": inline,
        "notify-batch": format!("{base}/downloads"),
        "search": format!("{base}/search.json?q=%query%&type=%type%"),
        "providers-url": format!("{base}/p/%package%.json"),
        "providers-api": format!("{base}/provider.json?package=%package%"),
        "providers": providers,
    }))
    .into_response())
}

#[derive(serde::Deserialize)]
struct ProviderQuery {
    package: Option<String>,
}

/// `provider.json`: each package with the SHA-256 of its `p/{package}.json` (seed 003).
///
/// With `?package=` (how `packages.json` advertises it as `providers-api`) it answers what
/// Composer asks that URL instead: `{"providers": [{name, description, type}]}`, the packages
/// that `provide` the given one. Composer calls `providers-api` whenever a required package is not
/// found and reads a `name` from every entry, so handing it the listing would crash it.
async fn provider_listing(
    State(state): State<AppState>,
    Reading(repo): Reading,
    Query(q): Query<ProviderQuery>,
) -> Result<Response> {
    let Some(provided) = q.package.map(|p| p.to_lowercase()) else {
        let (_, providers) = everything(&state, &repo).await?;
        return Ok(axum::Json(json!({"providers": providers})).into_response());
    };
    let composer = composer(&state);
    let mut providers = Vec::new();
    for name in composer.uploaded_names(&repo.owner.name).await? {
        let versions = composer
            .uploaded_versions(&repo.owner.name, &name)
            .await?
            .unwrap_or_default();
        let provides = |v: &&UploadedVersion| {
            v.entry
                .get("provide")
                .and_then(Value::as_object)
                .is_some_and(|p| p.keys().any(|k| k.eq_ignore_ascii_case(&provided)))
        };
        if let Some(v) = versions.iter().find(provides) {
            let text = |key: &str| v.entry.get(key).and_then(Value::as_str).unwrap_or("");
            let kind = match text("type") {
                "" => "library",
                kind => kind,
            };
            providers.push(json!({"name": name, "description": text("description"), "type": kind}));
        }
    }
    Ok(axum::Json(json!({"providers": providers})).into_response())
}

fn package_not_found(name: &str) -> Error {
    Error::not_found(format!("package {name} not found"))
}

fn version_not_found(name: &str, version: &str) -> Error {
    Error::not_found(format!("package {name} version {version} not found"))
}

/// `{vendor}/{stem}` of a `p/{vendor}/{stem}.json` URL; 404 for anything else.
fn name_from(vendor: &str, file: &str) -> Result<String> {
    let stem = file
        .strip_suffix(".json")
        .ok_or_else(|| Error::not_found(format!("{file} is not a metadata file")))?;
    Ok(format!("{vendor}/{stem}").to_lowercase())
}

async fn versions_of(state: &AppState, repo: &Repo, name: &str) -> Result<Vec<UploadedVersion>> {
    composer(state)
        .uploaded_versions(&repo.owner.name, name)
        .await?
        .filter(|v| !v.is_empty())
        .ok_or_else(|| package_not_found(name))
}

/// The version a URL or document names: the same version string (any case), or the same
/// normalized version ("v1.0" for "1.0.0").
pub(super) fn find_version<'a>(
    versions: &'a [UploadedVersion],
    wanted: &str,
) -> Option<&'a UploadedVersion> {
    let field = |v: &'a UploadedVersion, key: &str| -> &'a str {
        v.entry.get(key).and_then(Value::as_str).unwrap_or("")
    };
    versions
        .iter()
        .find(|v| field(v, "version").eq_ignore_ascii_case(wanted))
        .or_else(|| {
            let normalized = version::normalize(wanted).ok()?;
            versions
                .iter()
                .find(|v| field(v, "version_normalized").eq_ignore_ascii_case(&normalized))
        })
}

fn json_response(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `GET p/{vendor}/{package}.json`.
async fn package_document(
    State(state): State<AppState>,
    Reading(repo): Reading,
    Path((_, _, vendor, file)): Path<(String, String, String, String)>,
) -> Result<Response> {
    let name = name_from(&vendor, &file)?;
    let versions = versions_of(&state, &repo, &name).await?;
    Ok(json_response(render_package(&repo, &name, &versions)))
}

/// `GET p/{vendor}/{package}/{version}.json`: one version's entry.
async fn version_document(
    State(state): State<AppState>,
    Reading(repo): Reading,
    Path((_, _, vendor, package, file)): Path<(String, String, String, String, String)>,
) -> Result<Response> {
    let name = format!("{vendor}/{package}").to_lowercase();
    let wanted = file
        .strip_suffix(".json")
        .ok_or_else(|| Error::not_found(format!("{file} is not a metadata file")))?;
    let versions = versions_of(&state, &repo, &name).await?;
    let found = find_version(&versions, wanted).ok_or_else(|| version_not_found(&name, wanted))?;
    let entry = entries(&repo, std::slice::from_ref(found))
        .pop()
        .unwrap_or_default();
    Ok(axum::Json(Value::Object(entry)).into_response())
}

/// `search.json?q=&type=&per_page=&page=`: packages whose name, description or keywords contain
/// `q`, with Packagist's `results`, `total` and (when there are more) `next`.
async fn search(
    State(state): State<AppState>,
    Reading(repo): Reading,
    Query(q): Query<SearchQuery>,
) -> Result<Response> {
    let found = dialect::search(
        &composer(&state),
        &repo.owner.name,
        &q,
        SearchIn::NameDescriptionKeywords,
    )
    .await?;
    let base = &repo.base;
    let results: Vec<Value> = found
        .hits
        .into_iter()
        .map(|hit| {
            json!({
                "url": format!("{base}/p/{}.json", hit.name),
                "repository": format!("{base}/"),
                "name": hit.name,
                "description": hit.description,
                "downloads": hit.downloads,
                "favers": 0,
            })
        })
        .collect();
    let mut body = json!({"results": results, "total": found.total});
    if let Some(next) = found.next {
        body["next"] = json!(format!("{base}/search.json?{next}"));
    }
    Ok(axum::Json(body).into_response())
}

/// `packages/list.json`: every package name.
async fn list(State(state): State<AppState>, Reading(repo): Reading) -> Result<Response> {
    let names = composer(&state).uploaded_names(&repo.owner.name).await?;
    Ok(axum::Json(json!({"packageNames": names})).into_response())
}

// ---------------------------------------------------------------------------------------------
// Archives

type ArchivePath = Path<(String, String, String)>;

/// Nitro names an archive `{vendor}-{package}-{version}.zip`.
fn archive_name(package: &str, version: &str) -> String {
    format!("{}-{version}.zip", package.replace('/', "-"))
}

fn archive_not_found(file: &str) -> Error {
    Error::not_found(format!("archive {file} not found"))
}

async fn find_archive(state: &AppState, owner_id: i64, file: &str) -> Result<packages::NamedFile> {
    let mut conn = state.registry.db.pool().acquire().await?;
    packages::find_file_named(&mut conn, owner_id, FORMAT, file)
        .await?
        .ok_or_else(|| archive_not_found(file))
}

/// `GET|HEAD downloads/{file}` (ranges, ETag, conditional requests; counted as a download).
async fn download(
    State(state): State<AppState>,
    Reading(repo): Reading,
    Path((_, _, file)): ArchivePath,
    method: Method,
    headers: HeaderMap,
) -> Result<Response> {
    let found = find_archive(&state, repo.owner.id, &file).await?;
    serve_file(
        &state.registry,
        &found.file,
        &method,
        &headers,
        "application/zip",
        None,
    )
    .await
}

/// `PUT downloads/{vendor}-{package}-{version}.zip`: the package name comes from the archive's
/// composer.json (vendor and package may hold `-` themselves), the version from what follows
/// `{vendor}-{package}-` in the file name. An admin's first upload to a repository that does not
/// exist creates it under this storage.
async fn upload(
    State(state): State<AppState>,
    principal: Principal,
    Path((storage, repository, file)): ArchivePath,
    body: Body,
) -> Result<Response> {
    principal.require(Permission::WritePackages)?;
    if check_owner_name(&storage).is_err() || check_owner_name(&repository).is_err() {
        return Err(not_in_storage(&storage, &repository));
    }
    let existing = {
        let mut conn = state.registry.db.pool().acquire().await?;
        owners::find(&mut conn, &repository).await?
    };
    if let Some(owner) = &existing {
        if !bind_storage(&state.registry.db, owner.id, &storage).await? {
            return Err(not_in_storage(&storage, &repository));
        }
        // Refused before the body is read, like any duplicate.
        if find_archive(&state, owner.id, &file).await.is_ok() {
            return Err(Error::conflict(format!("archive {file} already exists")));
        }
    }
    let stem = file
        .len()
        .checked_sub(4)
        .filter(|&at| file.is_char_boundary(at) && file[at..].eq_ignore_ascii_case(".zip"))
        .map(|at| &file[..at])
        .ok_or_else(|| {
            Error::unprocessable(format!(
                "archive {file} is not named {{vendor}}-{{package}}-{{version}}.zip"
            ))
        })?;
    let version_from_name = |package: &str| -> Result<String> {
        let prefix = format!("{}-", package.replace('/', "-"));
        let version = stem
            .get(..prefix.len())
            .filter(|p| p.eq_ignore_ascii_case(&prefix))
            .map(|_| &stem[prefix.len()..])
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                Error::unprocessable(format!(
                    "archive name {file} does not match package {package} of its composer.json: \
                     expected {prefix}{{version}}.zip"
                ))
            })?;
        version::normalize(version).map_err(|e| {
            Error::unprocessable(format!("archive name {file}: version {version:?}: {e}"))
        })?;
        Ok(version.to_string())
    };
    let uploaded = composer(&state)
        .publish_upload(
            UploadTarget {
                owner: &repository,
                package: None,
                version: None,
                version_from_name: Some(&version_from_name),
                file_name: &archive_name,
                uploaded_by: principal.display_name(),
            },
            body.into_data_stream(),
        )
        .await?;
    if existing.is_none() {
        let mut conn = state.registry.db.pool().acquire().await?;
        if let Some(owner) = owners::find(&mut conn, &repository).await? {
            drop(conn);
            if !bind_storage(&state.registry.db, owner.id, &storage).await? {
                tracing::warn!(%repository, %storage, "repository was bound to another storage meanwhile");
            }
        }
    }
    let url = format!(
        "{}/repositories/{storage}/{repository}/downloads/{}",
        state.config.base_url,
        percent_encode(&uploaded.file)
    );
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({
            "package": uploaded.package,
            "version": uploaded.version,
            "file": uploaded.file,
            "shasum": uploaded.shasum,
            "url": url,
        })),
    )
        .into_response())
}

/// `DELETE downloads/{file}`: the archive and with it its version (and the package with its last).
async fn delete_archive(
    State(state): State<AppState>,
    Writing(repo): Writing,
    Path((_, _, file)): ArchivePath,
) -> Result<StatusCode> {
    let found = find_archive(&state, repo.owner.id, &file).await?;
    state
        .registry
        .delete_file(FileCoord {
            owner: &repo.owner.name,
            format: FORMAT,
            package: &found.package,
            version: &found.version,
            file: &found.file.name,
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST downloads` (`notify-batch`): Composer's install notifications, counted per version.
async fn notify(
    State(state): State<AppState>,
    Reading(repo): Reading,
    body: Bytes,
) -> Result<Response> {
    count_installs(&state, &repo.owner.name, &body, None, |_, _| true).await?;
    Ok(axum::Json(json!({"status": "success"})).into_response())
}

// ---------------------------------------------------------------------------------------------
// Metadata updates

/// Keys a metadata update may set (or remove with `null`): what describes a version. The
/// identity (`name`, `version`, `version_normalized`) and the archive (`dist`) come from the
/// upload and never change this way; anything else (root-only keys such as `config`) is ignored.
const DESCRIPTIVE: &[&str] = &[
    "abandoned",
    "archive",
    "authors",
    "autoload",
    "autoload-dev",
    "bin",
    "conflict",
    "description",
    "extra",
    "funding",
    "homepage",
    "include-path",
    "keywords",
    "license",
    "non-feature-branches",
    "provide",
    "readme",
    "replace",
    "require",
    "require-dev",
    "scripts",
    "source",
    "suggest",
    "support",
    "target-dir",
    "time",
    "type",
];

/// Keys fixed by the upload: checked (`name`, `version`, `dist.shasum`) but never changed.
const FIXED: &[&str] = &["name", "version", "version_normalized", "dist", "uid"];

/// What an update body changes in one version's entry.
#[derive(Debug, Default, PartialEq)]
struct Patch {
    set: Map<String, Value>,
    unset: Vec<String>,
    ignored: Vec<String>,
}

impl Patch {
    fn apply(&self, entry: &mut Map<String, Value>) {
        entry.extend(self.set.clone());
        for key in &self.unset {
            entry.remove(key);
        }
    }
}

/// The change a version entry sent by a client makes to the stored one; 422 when it names
/// another package, claims another archive (`dist.shasum`) or has a field of the wrong shape
/// (which would make Composer refuse the whole repository).
fn patch_for(body: &Map<String, Value>, name: &str, stored: &Map<String, Value>) -> Result<Patch> {
    if let Some(given) = body.get("name")
        && !given.as_str().is_some_and(|g| g.eq_ignore_ascii_case(name))
    {
        return Err(Error::unprocessable(format!(
            "the metadata is for {given}, not {name}"
        )));
    }
    let shasum = |entry: &Map<String, Value>| {
        entry
            .get("dist")
            .and_then(|d| d.get("shasum"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let claimed = shasum(body);
    let actual = shasum(stored);
    if !claimed.is_empty() && !claimed.eq_ignore_ascii_case(&actual) {
        return Err(Error::unprocessable(format!(
            "dist.shasum {claimed} is not the SHA-1 of the stored archive ({actual}); \
             the archive of a version cannot change: upload a new version"
        )));
    }
    let mut patch = Patch::default();
    for (key, value) in body {
        if FIXED.contains(&key.as_str()) {
            continue;
        }
        if !DESCRIPTIVE.contains(&key.as_str()) {
            patch.ignored.push(key.clone());
        } else if value.is_null() {
            patch.unset.push(key.clone());
        } else {
            check_field(key, value)
                .map_err(|expected| Error::unprocessable(format!("{key}: {expected}")))?;
            patch.set.insert(key.clone(), value.clone());
        }
    }
    Ok(patch)
}

/// Does a descriptive field have the shape Composer's loader accepts? Err says what it expects.
fn check_field(key: &str, value: &Value) -> std::result::Result<(), String> {
    let strings = |v: &Value| v.as_array().is_some_and(|a| a.iter().all(Value::is_string));
    let objects = |v: &Value| v.as_array().is_some_and(|a| a.iter().all(Value::is_object));
    let (ok, expected) = match key {
        "description" | "homepage" | "readme" | "time" | "type" | "target-dir" => {
            (value.is_string(), "a string")
        }
        "keywords" | "include-path" | "non-feature-branches" => {
            (strings(value), "an array of strings")
        }
        "license" | "bin" => (
            value.is_string() || strings(value),
            "a string or an array of strings",
        ),
        "authors" | "funding" => (objects(value), "an array of objects"),
        "abandoned" => (
            value.is_boolean() || value.is_string(),
            "true, false or the replacement's name",
        ),
        "suggest" => (
            value
                .as_object()
                .is_some_and(|m| m.values().all(Value::is_string)),
            "an object of package names to descriptions",
        ),
        "source" => (
            ["type", "url", "reference"]
                .iter()
                .all(|k| value.get(k).is_some_and(Value::is_string)),
            "an object with string type, url and reference",
        ),
        "require" | "require-dev" | "conflict" | "replace" | "provide" => {
            return check_links(value);
        }
        _ => (value.is_object(), "an object"),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("expected {expected}"))
    }
}

/// Package links: package name → a version constraint Composer can parse.
fn check_links(value: &Value) -> std::result::Result<(), String> {
    let links = value
        .as_object()
        .ok_or("expected an object of package names to version constraints")?;
    for (package, constraint) in links {
        let text = constraint
            .as_str()
            .ok_or_else(|| format!("{package}: expected a version constraint string"))?;
        if text != "self.version" {
            Constraint::parse(text).map_err(|e| format!("{package}: {e}"))?;
        }
    }
    Ok(())
}

pub(super) fn json_object(body: &[u8]) -> Result<Map<String, Value>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::unprocessable("expected a JSON object")),
        Err(e) => Err(Error::unprocessable(format!("invalid JSON: {e}"))),
    }
}

/// Do two version strings name the same version?
fn same_version(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
        || matches!((version::normalize(a), version::normalize(b)), (Ok(x), Ok(y)) if x == y)
}

/// Applies updates (version named → entry sent) to a package's versions: every one is checked
/// before any is applied. Answers the updated entries and the keys that were ignored.
async fn apply_updates(
    state: &AppState,
    repo: &Repo,
    name: &str,
    updates: Vec<(String, Map<String, Value>)>,
) -> Result<Response> {
    let versions = versions_of(state, repo, name).await?;
    let mut planned = Vec::new();
    for (wanted, body) in &updates {
        let found =
            find_version(&versions, wanted).ok_or_else(|| version_not_found(name, wanted))?;
        if let Some(given) = body.get("version").and_then(Value::as_str)
            && !same_version(given, wanted)
        {
            return Err(Error::unprocessable(format!(
                "the metadata is for version {given}, not {wanted}"
            )));
        }
        let patch = patch_for(body, name, &found.entry)?;
        planned.push((version_of(&found.entry), found.file.clone(), patch));
    }
    let composer = composer(state);
    let mut updated = Map::new();
    let mut ignored = std::collections::BTreeSet::new();
    for (version, file, patch) in planned {
        let mut entry = composer
            .update_uploaded_entry(&repo.owner.name, name, &version, |entry| {
                patch.apply(entry);
                Ok(())
            })
            .await?;
        if let Some(Value::Object(dist)) = entry.get_mut("dist") {
            dist.insert(
                "url".into(),
                json!(format!("{}/downloads/{}", repo.base, percent_encode(&file))),
            );
        }
        ignored.extend(patch.ignored);
        updated.insert(version, Value::Object(entry));
    }
    Ok(
        axum::Json(json!({"package": name, "versions": updated, "ignored": ignored}))
            .into_response(),
    )
}

/// `PUT p/{vendor}/{package}.json`: a version entry (seed 003's publishing step 3), or the
/// package document `{"versions": {version: entry}}` as `GET` answers it.
async fn update_package(
    State(state): State<AppState>,
    Writing(repo): Writing,
    Path((_, _, vendor, file)): Path<(String, String, String, String)>,
    body: Bytes,
) -> Result<Response> {
    let name = name_from(&vendor, &file)?;
    let body = json_object(&body)?;
    let updates = match body.get("versions") {
        Some(versions) => {
            let versions = versions
                .as_object()
                .ok_or_else(|| Error::unprocessable("versions: expected an object"))?;
            if let Some(given) = body.get("package")
                && !given
                    .as_str()
                    .is_some_and(|g| g.eq_ignore_ascii_case(&name))
            {
                return Err(Error::unprocessable(format!(
                    "the metadata is for {given}, not {name}"
                )));
            }
            versions
                .iter()
                .map(|(key, entry)| match entry {
                    Value::Object(entry) => Ok((key.clone(), entry.clone())),
                    _ => Err(Error::unprocessable(format!(
                        "versions.{key}: expected a version entry"
                    ))),
                })
                .collect::<Result<Vec<_>>>()?
        }
        None => {
            let version = body
                .get("version")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::unprocessable("the version entry has no version"))?
                .to_string();
            vec![(version, body)]
        }
    };
    apply_updates(&state, &repo, &name, updates).await
}

/// `PUT p/{vendor}/{package}/{version}.json`: one version entry.
async fn update_version(
    State(state): State<AppState>,
    Writing(repo): Writing,
    Path((_, _, vendor, package, file)): Path<(String, String, String, String, String)>,
    body: Bytes,
) -> Result<Response> {
    let name = format!("{vendor}/{package}").to_lowercase();
    let wanted = file
        .strip_suffix(".json")
        .ok_or_else(|| Error::not_found(format!("{file} is not a metadata file")))?;
    let body = json_object(&body)?;
    apply_updates(&state, &repo, &name, vec![(wanted.to_string(), body)]).await
}

/// `PUT packages.json`: accepted for Nitro's workflow, but the index is derived from the stored
/// versions, so it only checks that every package and version it lists exists (422 naming the
/// first that does not) and changes nothing.
async fn check_index(
    State(state): State<AppState>,
    Writing(repo): Writing,
    body: Bytes,
) -> Result<Response> {
    let body = json_object(&body)?;
    let listed = match body.get("packages") {
        None => Map::new(),
        Some(Value::Object(listed)) => listed.clone(),
        Some(_) => return Err(Error::unprocessable("packages: expected an object")),
    };
    let composer = composer(&state);
    let mut versions_checked = 0;
    for (name, versions) in &listed {
        let missing = |what: String| {
            Error::unprocessable(format!(
                "{what} is not in repository {}: upload its archive first",
                repo.owner.name
            ))
        };
        let stored = composer
            .uploaded_versions(&repo.owner.name, &name.to_lowercase())
            .await?
            .filter(|v| !v.is_empty())
            .ok_or_else(|| missing(format!("package {name}")))?;
        let named: Vec<String> = match versions {
            Value::Object(map) => map
                .iter()
                .map(|(key, entry)| {
                    entry
                        .get("version")
                        .and_then(Value::as_str)
                        .unwrap_or(key)
                        .to_string()
                })
                .collect(),
            Value::Array(entries) => entries
                .iter()
                .map(|entry| {
                    entry
                        .get("version")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .ok_or_else(|| {
                            Error::unprocessable(format!(
                                "packages.{name}: an entry has no version"
                            ))
                        })
                })
                .collect::<Result<_>>()?,
            _ => {
                return Err(Error::unprocessable(format!(
                    "packages.{name}: expected an object of versions"
                )));
            }
        };
        for wanted in named {
            if find_version(&stored, &wanted).is_none() {
                return Err(missing(format!("package {name} version {wanted}")));
            }
            versions_checked += 1;
        }
    }
    Ok(axum::Json(json!({
        "status": "success",
        "message": "packages.json is derived from the uploaded versions; nothing changed",
        "packages": listed.len(),
        "versions": versions_checked,
    }))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn stored() -> Map<String, Value> {
        object(json!({
            "name": "acme/lib",
            "version": "1.0.0",
            "version_normalized": "1.0.0.0",
            "description": "old",
            "license": "MIT",
            "dist": {"type": "zip", "url": "", "reference": "abc", "shasum": "abc"},
        }))
    }

    #[test]
    fn updates_merge_descriptive_fields_only() {
        let body = object(json!({
            "name": "Acme/Lib",
            "version": "1.0.0",
            "version_normalized": "9.9.9.9",
            "description": "new",
            "license": null,
            "config": {"sort-packages": true},
            "require": {"php": ">=7.4", "acme/core": "^1.0 || ^2.0", "acme/self": "self.version"},
            "dist": {"type": "zip", "url": "https://elsewhere/x.zip", "shasum": "ABC"},
        }));
        let patch = patch_for(&body, "acme/lib", &stored()).unwrap();
        let mut entry = stored();
        patch.apply(&mut entry);
        assert_eq!(entry["description"], "new");
        assert!(!entry.contains_key("license"));
        assert_eq!(entry["require"]["php"], ">=7.4");
        assert_eq!(entry["version_normalized"], "1.0.0.0");
        assert_eq!(entry["dist"], stored()["dist"]);
        assert!(!entry.contains_key("config"));
        assert_eq!(patch.ignored, vec!["config".to_string()]);
    }

    #[test]
    fn updates_refuse_other_packages_archives_and_bad_shapes() {
        let refused = |body: Value| patch_for(&object(body), "acme/lib", &stored()).is_err();
        assert!(refused(json!({"name": "acme/other"})));
        assert!(refused(json!({"name": 3})));
        assert!(refused(json!({"dist": {"shasum": "def"}})));
        assert!(refused(json!({"description": ["x"]})));
        assert!(refused(json!({"keywords": "x"})));
        assert!(refused(json!({"authors": {"name": "x"}})));
        assert!(refused(json!({"require": {"php": "not a constraint"}})));
        assert!(refused(json!({"require": {"php": 7}})));
        assert!(refused(json!({"source": {"type": "git", "url": "x"}})));
        assert!(refused(json!({"autoload": []})));
        assert!(!refused(json!({"dist": {"shasum": ""}})));
        assert!(!refused(
            json!({"license": ["MIT", "GPL-2.0"], "abandoned": true})
        ));
    }

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

    #[test]
    fn versions_compare_by_normalized_form() {
        assert!(same_version("1.0.0", "1.0.0"));
        assert!(same_version("v1.0", "1.0.0"));
        assert!(same_version("1.0.0-rc1", "1.0.0-RC1"));
        assert!(!same_version("1.0.1", "1.0.0"));
        assert!(!same_version("not a version", "1.0.0"));
    }
}
