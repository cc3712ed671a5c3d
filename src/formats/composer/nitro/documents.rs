//! The repository's metadata documents: `packages.json`, `p/{package}.json`,
//! `p/{package}/{version}.json`, `provider.json`, `search.json` and `packages/list.json`.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::{Reading, Repo};
use crate::blobs::digest::sha256_hex;
use crate::error::{Error, Result};
use crate::formats::composer::dialect::{self, SearchIn, SearchQuery, composer, percent_encode};
use crate::formats::composer::uploads::{UploadedVersion, with_dist_urls};
use crate::formats::composer::version;
use crate::http::json::Query;
use crate::state::AppState;

/// The versions' entries with their Nitro dist URLs, newest first.
fn entries(repo: &Repo, versions: &[UploadedVersion]) -> Vec<Map<String, Value>> {
    with_dist_urls(versions, |v| {
        format!("{}/downloads/{}", repo.base, percent_encode(&v.file))
    })
}

pub(super) fn version_of(entry: &Map<String, Value>) -> String {
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
pub(super) async fn index(
    State(state): State<AppState>,
    Reading(repo): Reading,
) -> Result<Response> {
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
pub(super) struct ProviderQuery {
    package: Option<String>,
}

/// `provider.json`: each package with the SHA-256 of its `p/{package}.json` (seed 003).
///
/// With `?package=` (how `packages.json` advertises it as `providers-api`) it answers what
/// Composer asks that URL instead: `{"providers": [{name, description, type}]}`, the packages
/// that `provide` the given one. Composer calls `providers-api` whenever a required package is not
/// found and reads a `name` from every entry, so handing it the listing would crash it.
pub(super) async fn provider_listing(
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

pub(super) fn version_not_found(name: &str, version: &str) -> Error {
    Error::not_found(format!("package {name} version {version} not found"))
}

/// `{vendor}/{stem}` of a `p/{vendor}/{stem}.json` URL; 404 for anything else.
pub(super) fn name_from(vendor: &str, file: &str) -> Result<String> {
    let stem = file
        .strip_suffix(".json")
        .ok_or_else(|| Error::not_found(format!("{file} is not a metadata file")))?;
    Ok(format!("{vendor}/{stem}").to_lowercase())
}

pub(super) async fn versions_of(
    state: &AppState,
    repo: &Repo,
    name: &str,
) -> Result<Vec<UploadedVersion>> {
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
pub(super) async fn package_document(
    State(state): State<AppState>,
    Reading(repo): Reading,
    Path((_, _, vendor, file)): Path<(String, String, String, String)>,
) -> Result<Response> {
    let name = name_from(&vendor, &file)?;
    let versions = versions_of(&state, &repo, &name).await?;
    Ok(json_response(render_package(&repo, &name, &versions)))
}

/// `GET p/{vendor}/{package}/{version}.json`: one version's entry.
pub(super) async fn version_document(
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
pub(super) async fn search(
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
pub(super) async fn list(
    State(state): State<AppState>,
    Reading(repo): Reading,
) -> Result<Response> {
    let names = composer(&state).uploaded_names(&repo.owner.name).await?;
    Ok(axum::Json(json!({"packageNames": names})).into_response())
}
