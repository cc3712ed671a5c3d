//! Reads: packuments, one version or tag, tarballs, dist-tags and search. Each asks the owner's
//! visibility or the customer's grants first (a private owner's reader without a token gets 401
//! before anything is looked up), then serves rendered documents: a read costs the same few
//! queries, usually none (`documents_cache`), whatever the version count.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Call, FORMAT, names, packument};
use crate::customers::View;
use crate::error::{Error, Result};
use crate::http::download::serve_file;
use crate::http::owner_access::repository_view;
use crate::http::viewed::{self, DocumentAt, Viewed};
use crate::model::packages::FileCoord;
use crate::model::{owners, packages};

/// What the caller sees of the owner's npm packages: everything for members and readers the
/// owner's visibility lets in, a customer's granted versions otherwise.
pub(super) async fn view(call: &Call) -> Result<View> {
    repository_view(&call.state, &call.principal, &call.owner, FORMAT).await
}

pub(super) fn not_found(name: &str) -> Error {
    Error::not_found(format!("package {name} not found"))
}

/// A package's document as the caller sees it; 404 for an invalid name, a package outside the
/// caller's view, or one never published (npm publishes only after that 404).
pub(super) async fn document(
    call: &Call,
    view: &View,
    name: &str,
    document: &'static str,
) -> Result<Viewed> {
    if names::check_name(name).is_err() || !view.allows_package(name) {
        return Err(not_found(name));
    }
    let at = DocumentAt {
        owner: &call.owner,
        format: FORMAT,
        package: name,
        document,
    };
    viewed::document(&call.state, view, at, |body| {
        packument::filter(body, |version| view.allows_version(name, version))
    })
    .await?
    .ok_or_else(|| not_found(name))
}

fn serve_json(call: &Call, doc: Viewed) -> Response {
    doc.serve(&call.method, &call.headers, "application/json")
}

/// `GET {id}`: the abbreviated document when the client prefers it, else the full one.
pub(super) async fn packument(call: &Call, name: &str) -> Result<Response> {
    let view = view(call).await?;
    let accept = call
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    let wanted = if packument::wants_abbreviated(accept) {
        packument::ABBREVIATED
    } else {
        packument::FULL
    };
    let doc = document(call, &view, name, wanted).await?;
    let mut response = serve_json(call, doc);
    if wanted == packument::ABBREVIATED {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/vnd.npm.install-v1+json"),
        );
    }
    Ok(response)
}

/// `GET {id}/{version or tag}`: one version's manifest (pnpm asks `{id}/latest`).
pub(super) async fn version(call: &Call, name: &str, version: &str) -> Result<Response> {
    let view = view(call).await?;
    let doc = document(call, &view, name, packument::FULL).await?;
    let entry = packument::version_entry(&doc.body, version)?
        .ok_or_else(|| Error::not_found(format!("version {version} of {name} not found")))?;
    Ok(axum::Json(entry).into_response())
}

/// `GET {id}/-/{file}` and `{id}/-/{version}/{file}`: a tarball; a customer gets 403 for one
/// outside its grants, even when it guesses the URL.
pub(super) async fn tarball(
    call: &Call,
    name: &str,
    file: &str,
    url_version: Option<&str>,
) -> Result<Response> {
    let view = view(call).await?;
    let missing = || Error::not_found(format!("tarball {file} not found"));
    let version = names::version_of_tarball(name, file).ok_or_else(missing)?;
    if url_version.is_some_and(|v| v != version) || names::check_name(name).is_err() {
        return Err(missing());
    }
    if !view.allows_version(name, version) {
        return Err(Error::Forbidden(format!(
            "access denied to {name} {version}: not within your grants"
        )));
    }
    let found = call
        .state
        .registry
        .find_file(FileCoord {
            owner: &call.owner,
            format: FORMAT,
            package: name,
            version,
            file,
        })
        .await?;
    serve_file(
        &call.state.registry,
        &found,
        &call.method,
        &call.headers,
        "application/octet-stream",
        call.principal.customer_id(),
    )
    .await
}

/// `GET /-/package/{id}/dist-tags` (`npm dist-tag ls`).
pub(super) async fn dist_tags(call: &Call, name: &str) -> Result<Response> {
    let view = view(call).await?;
    let doc = document(call, &view, name, packument::ABBREVIATED).await?;
    let parsed: Value = serde_json::from_slice(&doc.body).map_err(Error::internal)?;
    Ok(axum::Json(parsed.get("dist-tags").cloned().unwrap_or(json!({}))).into_response())
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    text: String,
    size: Option<usize>,
    from: Option<usize>,
}

/// The most results one search page holds (npm's own limit).
const MAX_SEARCH_SIZE: usize = 250;

/// `GET /-/v1/search?text=&size=&from=`: the caller's packages whose name contains any of the
/// words of `text`, by name, in npm's result shape. One query for the names, one document read
/// per result shown.
pub(super) async fn search(call: &Call) -> Result<Response> {
    let view = view(call).await?;
    let query: SearchQuery = axum::extract::Query::try_from_uri(&call.uri)
        .map_err(|e| Error::invalid(format!("bad search query: {e}")))?
        .0;
    let names = {
        let mut conn = call.state.registry.db.pool().acquire().await?;
        match owners::find(&mut conn, &call.owner).await? {
            Some(owner) => packages::package_names(&mut conn, owner.id, FORMAT).await?,
            None => Vec::new(),
        }
    };
    let words: Vec<String> = query
        .text
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    let hits: Vec<&str> = view
        .filter_names(names.iter().map(String::as_str))
        .into_iter()
        .filter(|n| words.is_empty() || words.iter().any(|w| n.contains(w.as_str())))
        .collect();
    let size = query.size.unwrap_or(20).clamp(1, MAX_SEARCH_SIZE);
    let from = query.from.unwrap_or(0);
    let mut objects = Vec::new();
    for name in hits.iter().skip(from).take(size) {
        let Ok(doc) = document(call, &view, name, packument::FULL).await else {
            continue;
        };
        objects.push(search_object(name, &doc.body)?);
    }
    Ok(axum::Json(json!({
        "objects": objects,
        "total": hits.len(),
        "time": crate::clock::rfc3339(crate::clock::now()),
    }))
    .into_response())
}

/// One search result: the latest version's facts, with npm's score fields (all 1: there is no
/// popularity to rank by).
fn search_object(name: &str, packument: &Bytes) -> Result<Value> {
    let doc: Value = serde_json::from_slice(packument).map_err(Error::internal)?;
    let latest = doc["dist-tags"]["latest"].as_str().unwrap_or_default();
    let manifest = &doc["versions"][latest];
    Ok(json!({
        "package": {
            "name": name,
            "version": latest,
            "description": manifest.get("description").cloned().unwrap_or(Value::Null),
            "keywords": manifest.get("keywords").cloned().unwrap_or(json!([])),
            "date": doc["time"].get(latest).cloned().unwrap_or(Value::Null),
            "links": {},
            "publisher": {"username": ""},
            "maintainers": [],
        },
        "score": {"final": 1.0, "detail": {"quality": 1.0, "popularity": 1.0, "maintenance": 1.0}},
        "searchScore": 1.0,
    }))
}
