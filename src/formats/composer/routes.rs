//! Composer protocol v2 at the server root: `/packages.json`, `/p2/{vendor}/{package}.json`,
//! `/p2/{vendor}/{package}~dev.json`, `/p/{vendor}/{package}.json` (Composer 1) and
//! `/dist/{vendor}/{package}/{version}.zip`. Metadata files are rendered at sync time, so a read is
//! a fixed number of queries whatever the number of versions.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::{FORMAT, OWNER};
use crate::auth::{Permission, Principal};
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::download::serve_file;
use crate::model::packages::FileCoord;
use crate::model::{owners, packages};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/packages.json", get(index))
        .route("/p2/{vendor}/{file}", get(p2))
        .route("/p/{vendor}/{file}", get(p1))
        .route("/dist/{vendor}/{package}/{file}", get(dist))
}

async fn index(State(state): State<AppState>, principal: Principal) -> Result<Response> {
    principal.require(Permission::ReadPackages)?;
    let mut conn = state.registry.db.pool().acquire().await?;
    let names = match owners::find(&mut conn, OWNER).await? {
        Some(owner) => packages::package_names(&mut conn, owner.id, FORMAT).await?,
        None => Vec::new(),
    };
    Ok(axum::Json(json!({
        "packages": {},
        "metadata-url": "/p2/%package%.json",
        "providers-lazy-url": "/p/%package%.json",
        "available-packages": names,
    }))
    .into_response())
}

async fn p2(
    State(state): State<AppState>,
    principal: Principal,
    Path((vendor, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response> {
    principal.require(Permission::ReadPackages)?;
    let stem = file
        .strip_suffix(".json")
        .ok_or_else(|| Error::not_found("not a metadata file"))?;
    let (project, document) = match stem.strip_suffix("~dev") {
        Some(project) => (project, "p2~dev"),
        None => (stem, "p2"),
    };
    serve_document(&state, &format!("{vendor}/{project}"), document, &headers).await
}

async fn p1(
    State(state): State<AppState>,
    principal: Principal,
    Path((vendor, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response> {
    principal.require(Permission::ReadPackages)?;
    let project = file
        .strip_suffix(".json")
        .ok_or_else(|| Error::not_found("not a metadata file"))?;
    serve_document(&state, &format!("{vendor}/{project}"), "p1", &headers).await
}

async fn serve_document(
    state: &AppState,
    name: &str,
    document: &str,
    headers: &HeaderMap,
) -> Result<Response> {
    let doc = state
        .registry
        .documents
        .get(&state.registry.db, OWNER, FORMAT, name, document)
        .await?
        .ok_or_else(|| Error::not_found(format!("package {name} not found")))?;
    let unchanged = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::clock::parse_http_date)
        .is_some_and(|since| doc.updated_at <= since);
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, "application/json")],
            doc.body.clone(),
        )
            .into_response()
    };
    if let Ok(value) = HeaderValue::from_str(&crate::clock::http_date(doc.updated_at)) {
        response.headers_mut().insert(header::LAST_MODIFIED, value);
    }
    Ok(response)
}

async fn dist(
    State(state): State<AppState>,
    principal: Principal,
    Path((vendor, project, file)): Path<(String, String, String)>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response> {
    principal.require(Permission::ReadPackages)?;
    let version = file
        .strip_suffix(".zip")
        .ok_or_else(|| Error::not_found(format!("{file} not found")))?;
    let name = format!("{vendor}/{project}");
    let found = state
        .registry
        .find_file(FileCoord {
            owner: OWNER,
            format: FORMAT,
            package: &name,
            version,
            file: &file,
        })
        .await?;
    serve_file(
        &state.registry,
        &found,
        &method,
        &headers,
        "application/zip",
        principal.customer_id(),
    )
    .await
}
