//! v3 reads: the service index, registration index, pages and leaves, the flat container and
//! search. Each asks the owner's visibility or the customer's grants first (a private owner's
//! reader without credentials gets 401 with the Basic challenge NuGet.exe waits for), then
//! serves rendered documents: a read costs the same few queries whatever the version count.

use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::feed::{self, Entry};
use super::rules::check_id;
use super::version::NuGetVersion;
use super::{Call, FORMAT};
use crate::customers::View;
use crate::error::{Error, Result};
use crate::http::download::serve_file;
use crate::http::owner_access::{PackageRead, repository_view, require_package_read};
use crate::http::viewed::{self, DocumentAt, Viewed};
use crate::model::packages::FileCoord;
use crate::model::{owners, packages};

/// What the caller sees of the owner's NuGet packages.
pub(super) async fn view(call: &Call) -> Result<View> {
    repository_view(&call.state, &call.principal, &call.owner, FORMAT).await
}

pub(super) fn not_found(id: &str) -> Error {
    Error::not_found(format!("package {id} not found"))
}

/// The registry's id for a URL's id: lower-case, checked; an invalid one names no package.
pub(super) fn registry_id(id: &str) -> Result<String> {
    check_id(id).map_err(|_| not_found(id))
}

/// A package's document as the caller sees it, cut by `cut` for a customer; 404 for a package
/// outside the view or never pushed.
pub(super) async fn document(
    call: &Call,
    view: &View,
    id: &str,
    name: &str,
    cut: feed::Cut,
) -> Result<Viewed> {
    if !view.allows_package(id) {
        return Err(not_found(id));
    }
    let at = DocumentAt {
        owner: &call.owner,
        format: FORMAT,
        package: id,
        document: name,
    };
    viewed::document(&call.state, view, at, |body| {
        cut(body, &|version| view.allows_version(id, version))
    })
    .await?
    .ok_or_else(|| not_found(id))
}

fn serve_json(call: &Call, doc: Viewed) -> Response {
    doc.serve(&call.method, &call.headers, "application/json")
}

/// `GET index.json`: built per request (a constant shape), after the same read check as any.
pub(super) async fn service_index(call: &Call) -> Result<Response> {
    view(call).await?;
    Ok(axum::Json(feed::service_index(&call.urls())).into_response())
}

/// `GET registration/{id}/index.json` and `…/page/{n}.json`.
pub(super) async fn registration(call: &Call, id: &str, page: Option<usize>) -> Result<Response> {
    let view = view(call).await?;
    let id = registry_id(id)?;
    let index = document(call, &view, &id, feed::REGISTRATION, feed::cut_registration).await?;
    let Some(n) = page else {
        return Ok(serve_json(call, index));
    };
    // A page document past the index's pages is a leftover of a larger past.
    let index: Value = serde_json::from_slice(&index.body).map_err(Error::internal)?;
    let pages = index["items"].as_array().map_or(0, Vec::len);
    if n >= pages || index["items"][n].get("items").is_some() {
        return Err(Error::not_found(format!("page {n} of {id} not found")));
    }
    let name = feed::page_document(n);
    let doc = document(call, &view, &id, &name, feed::cut_registration).await?;
    Ok(serve_json(call, doc))
}

/// The stored version a URL names (any case, normalized or not), when the caller may see it.
async fn visible_version(
    call: &Call,
    view: &View,
    id: &str,
    version: &str,
) -> Result<crate::model::packages::Version> {
    let missing = || Error::not_found(format!("version {version} of {id} not found"));
    let normalized = NuGetVersion::parse(version)
        .map_err(|_| missing())?
        .normalized();
    if !view.allows_package(id) {
        return Err(not_found(id));
    }
    let package = call
        .state
        .registry
        .find_package(&call.owner, FORMAT, id)
        .await?;
    let found = call
        .state
        .registry
        .find_version(package.id, &normalized)
        .await
        .map_err(|_| missing())?;
    if !view.allows_version(id, &found.version) {
        return Err(Error::Forbidden(format!(
            "access denied to {id} {}: not within your grants",
            found.version
        )));
    }
    Ok(found)
}

/// `GET registration/{id}/{version}.json`: one row, whatever the version count.
pub(super) async fn leaf(call: &Call, id: &str, version: &str) -> Result<Response> {
    let view = view(call).await?;
    let id = registry_id(id)?;
    let found = visible_version(call, &view, &id, version).await?;
    let entry: Entry = super::render::entry(&found)?;
    Ok(axum::Json(feed::leaf(&call.urls(), &id, &entry)).into_response())
}

/// `GET package/{id}/index.json`
pub(super) async fn flat_versions(call: &Call, id: &str) -> Result<Response> {
    let view = view(call).await?;
    let id = registry_id(id)?;
    let doc = document(
        call,
        &view,
        &id,
        feed::FLAT_VERSIONS,
        feed::cut_flat_versions,
    )
    .await?;
    Ok(serve_json(call, doc))
}

/// The stored file names of a version: `{id}.{version}.nupkg`, `{id}.nuspec`, lower-case.
pub(super) fn nupkg_name(id: &str, version: &str) -> String {
    format!("{id}.{version}.nupkg").to_lowercase()
}

pub(super) fn nuspec_name(id: &str) -> String {
    format!("{id}.nuspec").to_lowercase()
}

/// Serves one of a version's files after the caller's read check (403 outside a customer's
/// grants).
pub(super) async fn serve_version_file(
    call: &Call,
    id: &str,
    version: &str,
    file: &str,
) -> Result<Response> {
    let read = PackageRead {
        owner: &call.owner,
        format: FORMAT,
        package: id,
        version,
    };
    require_package_read(&call.state, &call.principal, read).await?;
    let found = call
        .state
        .registry
        .find_file(FileCoord {
            owner: &call.owner,
            format: FORMAT,
            package: id,
            version,
            file,
        })
        .await?;
    let content_type = if file.ends_with(".nuspec") {
        "application/xml"
    } else {
        "application/octet-stream"
    };
    serve_file(
        &call.state.registry,
        &found,
        &call.method,
        &call.headers,
        content_type,
        call.principal.customer_id(),
    )
    .await
}

/// `GET package/{id}/{version}/{file}`: the .nupkg or the .nuspec.
pub(super) async fn flat_file(
    call: &Call,
    id: &str,
    version: &str,
    file: &str,
) -> Result<Response> {
    let missing = || Error::not_found(format!("file {file} not found"));
    let id = registry_id(id).map_err(|_| missing())?;
    let version = NuGetVersion::parse(version)
        .map_err(|_| missing())?
        .normalized();
    let wanted = file.to_lowercase();
    if wanted != nupkg_name(&id, &version) && wanted != nuspec_name(&id) {
        return Err(missing());
    }
    serve_version_file(call, &id, &version, &wanted).await
}

/// `GET package/{id}/{version}`: the v2 feed's download of the .nupkg.
pub(super) async fn nupkg(call: &Call, id: &str, version: &str) -> Result<Response> {
    let missing = || Error::not_found(format!("package {id} {version} not found"));
    let id = registry_id(id).map_err(|_| missing())?;
    let version = NuGetVersion::parse(version)
        .map_err(|_| missing())?
        .normalized();
    serve_version_file(call, &id, &version, &nupkg_name(&id, &version)).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchQuery {
    #[serde(default)]
    q: String,
    skip: Option<usize>,
    take: Option<usize>,
    #[serde(default)]
    prerelease: bool,
    semver_level: Option<String>,
}

/// The most results one search page holds.
const MAX_TAKE: usize = 1000;

/// The ids of the owner's packages the caller sees whose id contains every word of `q` (case
/// aside), by id: one query, narrowed in the database by the longest word.
pub(super) async fn matching_ids(call: &Call, view: &View, q: &str) -> Result<Vec<String>> {
    let words: Vec<String> = q
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        // `id:Acme.Greet` (NuGet's field syntax) searches the id, as a bare word does.
        .map(|w| {
            w.strip_prefix("id:")
                .unwrap_or(w)
                .trim_matches('"')
                .to_lowercase()
        })
        .collect();
    let longest = words
        .iter()
        .max_by_key(|w| w.len())
        .cloned()
        .unwrap_or_default();
    let names = {
        let mut conn = call.state.registry.db.pool().acquire().await?;
        match owners::find(&mut conn, &call.owner).await? {
            Some(owner) => {
                packages::package_names_containing(&mut conn, owner.id, FORMAT, &longest).await?
            }
            None => Vec::new(),
        }
    };
    Ok(view
        .filter_names(names.iter().map(String::as_str))
        .into_iter()
        .filter(|n| words.iter().all(|w| n.contains(w.as_str())))
        .map(str::to_string)
        .collect())
}

/// `GET query?q=&skip=&take=&prerelease=&semVerLevel=`: one document read per result shown.
pub(super) async fn search(call: &Call) -> Result<Response> {
    let view = view(call).await?;
    let query: SearchQuery = axum::extract::Query::try_from_uri(&call.uri)
        .map_err(|e| Error::invalid(format!("bad search query: {e}")))?
        .0;
    let semver2 = query
        .semver_level
        .as_deref()
        .is_some_and(|level| level.starts_with('2'));
    let ids = matching_ids(call, &view, &query.q).await?;
    let take = query.take.unwrap_or(20).min(MAX_TAKE);
    let mut data = Vec::new();
    for id in ids.iter().skip(query.skip.unwrap_or(0)).take(take) {
        let Ok(doc) = document(call, &view, id, feed::SEARCH, feed::cut_search).await else {
            continue;
        };
        let entry: Value = serde_json::from_slice(&doc.body).map_err(Error::internal)?;
        if let Some(result) = feed::search_result(&entry, query.prerelease, semver2) {
            data.push(result);
        }
    }
    Ok(axum::Json(json!({"totalHits": ids.len(), "data": data})).into_response())
}
