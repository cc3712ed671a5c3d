//! Gitea's Composer registry, per owner, under `/api/packages/{owner}/composer`: `packages.json`,
//! `search.json`, `list.json`, `p2/{vendor}/{project}.json` (and `~dev.json`),
//! `files/{package}/{version}/{filename}` and `PUT ?version=` to upload a zip, as Gitea documents
//! and tests them. A thin dialect over `uploads` and the shared `metadata` code.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use super::dialect::{self, SearchIn, SearchQuery, composer, percent_encode};
use super::uploads::{UploadTarget, with_dist_urls};
use super::{FORMAT, metadata};
use crate::auth::{Permission, Principal};
use crate::error::{Error, Result};
use crate::http::download::serve_file;
use crate::http::json::Query;
use crate::http::owner_access::require_owner_read;
use crate::model::owners::check_owner_name;
use crate::model::packages::FileCoord;
use crate::state::AppState;

const BASE: &str = "/api/packages/{owner}/composer";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(BASE, axum::routing::put(upload))
        .route(&format!("{BASE}/packages.json"), get(index))
        .route(&format!("{BASE}/search.json"), get(search))
        .route(&format!("{BASE}/list.json"), get(list))
        .route(&format!("{BASE}/p2/{{vendor}}/{{file}}"), get(p2))
        .route(
            &format!("{BASE}/files/{{package}}/{{version}}/{{filename}}"),
            get(download),
        )
}

fn base_url(state: &AppState, owner: &str) -> String {
    format!("{}/api/packages/{owner}/composer", state.config.base_url)
}

/// Gitea names the stored file `{vendor}-{project}.{version}.zip`.
fn file_name(package: &str, version: &str) -> String {
    format!("{}.{version}.zip", package.replace('/', "-"))
}

/// Reads follow the owner's visibility; the permission comes first, so an anonymous caller on a
/// private or unknown owner gets 401, never 404.
async fn readable_owner(state: &AppState, principal: &Principal, owner: &str) -> Result<()> {
    require_owner_read(state, principal, owner).await?;
    check_owner_name(owner).map_err(|_| Error::not_found(format!("owner {owner} not found")))
}

async fn index(
    State(state): State<AppState>,
    principal: Principal,
    Path(owner): Path<String>,
) -> Result<Response> {
    readable_owner(&state, &principal, &owner).await?;
    let base = base_url(&state, &owner);
    Ok(axum::Json(json!({
        "search": format!("{base}/search.json?q=%query%&type=%type%"),
        "metadata-url": format!("{base}/p2/%package%.json"),
        "list": format!("{base}/list.json"),
    }))
    .into_response())
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Path(owner): Path<String>,
) -> Result<Response> {
    readable_owner(&state, &principal, &owner).await?;
    let names = composer(&state).uploaded_names(&owner).await?;
    Ok(axum::Json(json!({"packageNames": names})).into_response())
}

/// Packages whose name contains `q` (any case) and, with `type`, whose newest version has it.
async fn search(
    State(state): State<AppState>,
    principal: Principal,
    Path(owner): Path<String>,
    Query(q): Query<SearchQuery>,
) -> Result<Response> {
    readable_owner(&state, &principal, &owner).await?;
    let found = dialect::search(&composer(&state), &owner, &q, SearchIn::Name).await?;
    let results: Vec<Value> = found
        .hits
        .into_iter()
        .map(|hit| {
            json!({"name": hit.name, "description": hit.description, "downloads": hit.downloads})
        })
        .collect();
    let mut body = json!({"total": found.total, "results": results});
    if let Some(next) = found.next {
        body["next"] = json!(format!("{}/search.json?{next}", base_url(&state, &owner)));
    }
    Ok(axum::Json(body).into_response())
}

async fn p2(
    State(state): State<AppState>,
    principal: Principal,
    Path((owner, vendor, file)): Path<(String, String, String)>,
) -> Result<Response> {
    readable_owner(&state, &principal, &owner).await?;
    let stem = file
        .strip_suffix(".json")
        .ok_or_else(|| Error::not_found("not a metadata file"))?;
    let (project, dev) = match stem.strip_suffix("~dev") {
        Some(project) => (project, true),
        None => (stem, false),
    };
    let name = format!("{vendor}/{project}").to_lowercase();
    let versions = composer(&state)
        .uploaded_versions(&owner, &name)
        .await?
        .ok_or_else(|| Error::not_found(format!("package {name} not found")))?;
    let base = base_url(&state, &owner);
    let entries = with_dist_urls(&versions, |v| {
        let version = v.entry.get("version").and_then(Value::as_str).unwrap_or("");
        format!(
            "{base}/files/{}/{}/{}",
            percent_encode(&name),
            percent_encode(version),
            percent_encode(&v.file)
        )
    });
    let chosen: Vec<_> = entries
        .into_iter()
        .filter(|e| metadata::is_dev(e) == dev)
        .collect();
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        metadata::p2_document(&name, &chosen),
    )
        .into_response())
}

async fn download(
    State(state): State<AppState>,
    principal: Principal,
    Path((owner, package, version, filename)): Path<(String, String, String, String)>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response> {
    readable_owner(&state, &principal, &owner).await?;
    let found = state
        .registry
        .find_file(FileCoord {
            owner: &owner,
            format: FORMAT,
            package: &package.to_lowercase(),
            version: &version,
            file: &filename,
        })
        .await?;
    serve_file(
        &state.registry,
        &found,
        &method,
        &headers,
        "application/zip",
        None,
    )
    .await
}

#[derive(Deserialize)]
struct UploadQuery {
    version: Option<String>,
}

async fn upload(
    State(state): State<AppState>,
    principal: Principal,
    Path(owner): Path<String>,
    Query(q): Query<UploadQuery>,
    body: Body,
) -> Result<Response> {
    principal.require(Permission::WritePackages)?;
    check_owner_name(&owner)?;
    let version = q
        .version
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let uploaded = composer(&state)
        .publish_upload(
            UploadTarget {
                owner: &owner,
                package: None,
                version,
                version_from_name: None,
                file_name: &file_name,
                uploaded_by: principal.display_name(),
            },
            body.into_data_stream(),
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(json!(uploaded))).into_response())
}
