//! Composer protocol v2 at the server root: `/packages.json`, `/p2/{vendor}/{package}.json`,
//! `/p2/{vendor}/{package}~dev.json`, `/p/{vendor}/{package}.json` (Composer 1) and
//! `/dist/{vendor}/{package}/{version}.zip`, and the security advisories API (`advisories.rs`). Metadata files are rendered at sync time, so a read is
//! a fixed number of queries whatever the number of versions.
//!
//! A customer token sees only its granted packages and, in them, the versions its grants allow:
//! documents are filtered per view and the filtered copies cached (see `customers::access`).
//! A public owner `cargoman` is read whole by anyone, a limited one by any authenticated reader.
//! Refusals are JSON with a `warning`, which Composer prints, so a suspended customer reads why.

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use serde_json::json;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::Extension;

use super::{FORMAT, OWNER, metadata, proxy};
use crate::auth::{Permission, Principal};
use crate::customers::View;
use crate::error::{Error, Result};
use crate::http::download::serve_file;
use crate::http::error::{ErrorInfo, restyle};
use crate::http::viewed::{self, DocumentAt};
use crate::model::packages::FileCoord;
use crate::model::{owners, packages};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/packages.json", get(index))
        .route("/p2/{vendor}/{file}", get(p2))
        .route(
            "/time-machine/{date}/packages.json",
            get(time_machine_index),
        )
        .route("/time-machine/{date}/p2/{vendor}/{file}", get(p2))
        .route("/p/{vendor}/{file}", get(p1))
        .route("/dist/{vendor}/{package}/{file}", get(dist))
        .merge(super::advisories::routes())
        .layer(middleware::from_fn(refusals_as_warnings))
}

/// Composer prints the `warning` of a JSON error response (and only then says more than
/// "HTTP 403"), so 401 and 403 carry their reason that way.
async fn refusals_as_warnings(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
        return response;
    }
    if response.extensions().get::<ErrorInfo>().is_none() {
        return response;
    }
    restyle(response, |_, info| {
        axum::Json(json!({"status": "error", "message": info.message, "warning": info.message}))
    })
}

async fn index(State(state): State<AppState>, principal: Principal) -> Result<Response> {
    index_at(&state, &principal, "").await
}

/// The repository pinned to a date: its metadata URLs stay under the same prefix. Part of the
/// proxy, so for callers who may read every package.
async fn time_machine_index(
    State(state): State<AppState>,
    principal: Principal,
    Path(date): Path<String>,
) -> Result<Response> {
    principal.require(Permission::ReadPackages)?;
    proxy::time_machine_index_date(&state, &date)?;
    index_at(&state, &principal, &format!("/time-machine/{date}")).await
}

/// The repository index, its metadata URLs under `prefix`. With the Packagist proxy on, the
/// private names are not the whole list: without `available-packages`, Composer asks `p2` for
/// every name it needs, and names no private package holds are answered from upstream.
async fn index_at(state: &AppState, principal: &Principal, prefix: &str) -> Result<Response> {
    let view = super::view(state, principal).await?;
    let mut conn = state.registry.db.pool().acquire().await?;
    let names = match owners::find(&mut conn, OWNER).await? {
        Some(owner) => packages::package_names(&mut conn, owner.id, FORMAT).await?,
        None => Vec::new(),
    };
    let visible = view.filter_names(names.iter().map(String::as_str));
    let mut index = json!({
        "packages": {},
        "metadata-url": format!("{prefix}/p2/%package%.json"),
        "providers-lazy-url": "/p/%package%.json",
        "notify-batch": "/downloads/",
        "security-advisories": {
            "metadata": false,
            "api-url": format!("{}/api/security-advisories/", state.config.base_url.trim_end_matches('/')),
        },
    });
    if !(state.config.proxy.enabled && principal.allows(Permission::ReadPackages)) {
        index["available-packages"] = json!(visible);
    }
    Ok(axum::Json(index).into_response())
}

/// `p2/{vendor}/{file}`, also under `/time-machine/{date}/`: a private package's document;
/// else, when no private package has the name, the proxy's (as of the time machine's moment:
/// the date in the path, or the `X-Cargoman-Time-Machine` header).
async fn p2(
    State(state): State<AppState>,
    Extension(rt): Extension<Arc<proxy::Runtime>>,
    principal: Principal,
    Path(params): Path<HashMap<String, String>>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response> {
    let at = match params.get("date") {
        Some(date) => {
            principal.require(Permission::ReadPackages)?;
            Some(proxy::time_machine_index_date(&state, date)?)
        }
        None => proxy::time_machine_header(&headers)?,
    };
    let param = |key: &str| params.get(key).map_or("", String::as_str);
    let view = super::view(&state, &principal).await?;
    let stem = param("file")
        .strip_suffix(".json")
        .ok_or_else(|| Error::not_found("not a metadata file"))?;
    let (project, document) = match stem.strip_suffix("~dev") {
        Some(project) => (project, "p2~dev"),
        None => (stem, "p2"),
    };
    let name = format!("{}/{project}", param("vendor"));
    match serve_document(&state, &view, &name, document, &method, &headers).await {
        Err(Error::NotFound(_)) if !is_private(&state, &name).await? => {
            let wanted = proxy::Metadata {
                name: &name,
                document,
                at,
            };
            proxy::proxied_p2(&state, &rt, &principal, wanted, &method, &headers).await
        }
        answer => answer,
    }
}

/// Does a private package hold this name? Such a name is never asked of the upstream.
async fn is_private(state: &AppState, name: &str) -> Result<bool> {
    match state.registry.find_package(OWNER, FORMAT, name).await {
        Ok(_) => Ok(true),
        Err(Error::NotFound(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

async fn p1(
    State(state): State<AppState>,
    principal: Principal,
    Path((vendor, file)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response> {
    let view = super::view(&state, &principal).await?;
    let project = file
        .strip_suffix(".json")
        .ok_or_else(|| Error::not_found("not a metadata file"))?;
    serve_document(
        &state,
        &view,
        &format!("{vendor}/{project}"),
        "p1",
        &method,
        &headers,
    )
    .await
}

fn not_found(name: &str) -> Error {
    Error::not_found(format!("package {name} not found"))
}

async fn serve_document(
    state: &AppState,
    view: &View,
    name: &str,
    document: &'static str,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Response> {
    // A package outside the view does not exist for this caller.
    if !view.allows_package(name) {
        return Err(not_found(name));
    }
    let at = DocumentAt {
        owner: OWNER,
        format: FORMAT,
        package: name,
        document,
    };
    let doc = viewed::document(state, view, at, |body| {
        filter_document(view, name, document, body)
    })
    .await?
    .ok_or_else(|| not_found(name))?;
    Ok(doc.serve(method, headers, "application/json"))
}

async fn dist(
    State(state): State<AppState>,
    principal: Principal,
    Path((vendor, project, file)): Path<(String, String, String)>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response> {
    let view = super::view(&state, &principal).await?;
    let version = file
        .strip_suffix(".zip")
        .ok_or_else(|| Error::not_found(format!("{file} not found")))?;
    let name = format!("{vendor}/{project}");
    // Refused even when the URL is guessed: the version must be inside the caller's grants.
    if !view.allows_version(&name, version) {
        return Err(Error::Forbidden(format!(
            "access denied to {name} {version}: not within your grants"
        )));
    }
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

/// The versions of a rendered document that a view allows, as a document of the same kind.
fn filter_document(view: &View, name: &str, document: &str, body: &[u8]) -> Result<Bytes> {
    let keep = |entry: &serde_json::Map<String, serde_json::Value>| {
        let field = |k: &str| entry.get(k).and_then(|v| v.as_str()).unwrap_or("");
        view.allows_version(name, field("version"))
    };
    let rendered = if document == "p1" {
        let entries = metadata::p1_entries(name, body)?;
        metadata::p1_document(name, &entries.into_iter().filter(keep).collect::<Vec<_>>())
    } else {
        let entries = metadata::p2_entries(name, body)?;
        metadata::p2_document(name, &entries.into_iter().filter(keep).collect::<Vec<_>>())
    };
    Ok(Bytes::from(rendered))
}
