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

use super::uploads::{UploadTarget, with_dist_urls};
use super::{Composer, FORMAT, metadata};
use crate::api::Query;
use crate::auth::{Permission, Principal};
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::download::serve_file;
use crate::model::owners::check_owner_name;
use crate::model::packages::FileCoord;

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

fn composer(state: &AppState) -> Composer {
    Composer {
        registry: state.registry.clone(),
        config: state.config.clone(),
    }
}

fn base_url(state: &AppState, owner: &str) -> String {
    format!("{}/api/packages/{owner}/composer", state.config.base_url)
}

/// Gitea names the stored file `{vendor}-{project}.{version}.zip`.
fn file_name(package: &str, version: &str) -> String {
    format!("{}.{version}.zip", package.replace('/', "-"))
}

fn percent_encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn readable_owner(principal: &Principal, owner: &str) -> Result<()> {
    principal.require(Permission::ReadPackages)?;
    check_owner_name(owner).map_err(|_| Error::not_found(format!("owner {owner} not found")))
}

async fn index(
    State(state): State<AppState>,
    principal: Principal,
    Path(owner): Path<String>,
) -> Result<Response> {
    readable_owner(&principal, &owner).await?;
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
    readable_owner(&principal, &owner).await?;
    let names = composer(&state).uploaded_names(&owner).await?;
    Ok(axum::Json(json!({"packageNames": names})).into_response())
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default, rename = "type")]
    kind: String,
    page: Option<u32>,
    per_page: Option<u32>,
}

/// Packages whose name contains `q` (any case) and, with `type`, whose newest version has it.
async fn search(
    State(state): State<AppState>,
    principal: Principal,
    Path(owner): Path<String>,
    Query(q): Query<SearchQuery>,
) -> Result<Response> {
    readable_owner(&principal, &owner).await?;
    let composer = composer(&state);
    let needle = q.q.to_lowercase();
    let mut hits = Vec::new();
    for name in composer.uploaded_names(&owner).await? {
        if !name.contains(&needle) {
            continue;
        }
        let Some(versions) = composer.uploaded_versions(&owner, &name).await? else {
            continue;
        };
        let Some(newest) = versions.first() else {
            continue;
        };
        let kind = newest
            .entry
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("library");
        if !q.kind.is_empty() && kind != q.kind {
            continue;
        }
        let downloads: i64 = versions.iter().map(|v| v.download_count).sum();
        hits.push(json!({
            "name": name,
            "description": newest.entry.get("description").cloned().unwrap_or(json!("")),
            "downloads": downloads,
        }));
    }
    let per_page = q.per_page.filter(|&n| n > 0).unwrap_or(10).min(100) as usize;
    let page = q.page.filter(|&n| n > 0).unwrap_or(1) as usize;
    let total = hits.len();
    let results: Vec<Value> = hits
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let mut body = json!({"total": total, "results": results});
    if page * per_page < total {
        body["next"] = json!(format!(
            "{}/search.json?q={}&type={}&page={}&per_page={per_page}",
            base_url(&state, &owner),
            percent_encode(&q.q),
            percent_encode(&q.kind),
            page + 1
        ));
    }
    Ok(axum::Json(body).into_response())
}

async fn p2(
    State(state): State<AppState>,
    principal: Principal,
    Path((owner, vendor, file)): Path<(String, String, String)>,
) -> Result<Response> {
    readable_owner(&principal, &owner).await?;
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
    readable_owner(&principal, &owner).await?;
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
                file_name: &file_name,
                uploaded_by: principal.display_name(),
            },
            body.into_data_stream(),
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(json!(uploaded))).into_response())
}
