//! Nitro Repo's repository management API (seed 003) at the server root, for Bearer tokens:
//! `GET|DELETE /api/repository/{id}/packages`, `GET|PUT /api/repository/{id}/config/php` and
//! `GET /api/repository/{id}/stats`. The repository id is the repository's (owner's) name; errors
//! are Nitro's JSON body (`super::errors`).

use std::collections::BTreeSet;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::documents::find_version;
use super::updates::json_object;
use super::{CONFIG_PROPERTY, DEFAULT_DESCRIPTION, Details, errors, stored_config};
use crate::auth::{Permission, Principal};
use crate::error::{Error, Result};
use crate::formats::composer::FORMAT;
use crate::formats::composer::dialect::composer;
use crate::http::json::{PageQuery, Query, pagination};
use crate::model::owners::{self, Owner, check_owner_name};
use crate::model::packages;
use crate::model::properties::{self, RefType};
use crate::state::AppState;

/// Largest configuration document accepted.
const CONFIG_LIMIT: usize = 64 * 1024;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/repository/{id}/packages",
            get(list_packages).delete(delete_packages),
        )
        .route(
            "/api/repository/{id}/config/php",
            get(get_config).put(put_config),
        )
        .route("/api/repository/{id}/stats", get(stats))
        .layer(middleware::from_fn(errors))
}

async fn find_repository(state: &AppState, id: &str) -> Result<Owner> {
    let missing = || Error::not_found(format!("repository {id} not found"));
    if check_owner_name(id).is_err() {
        return Err(missing());
    }
    let mut conn = state.registry.db.pool().acquire().await?;
    owners::find(&mut conn, id).await?.ok_or_else(missing)
}

/// Where things are inside a repository, as Nitro's paths name them.
fn package_path(name: &str) -> String {
    format!("p/{name}.json")
}

fn version_path(name: &str, version: &str) -> String {
    format!("p/{name}/{version}.json")
}

fn archive_path(file: &str) -> String {
    format!("downloads/{file}")
}

/// `GET /api/repository/{id}/packages?page=&per_page=`: the packages (20 a page, at most 100)
/// with their versions and archives.
async fn list_packages(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response> {
    principal.require(Permission::ReadAdmin)?;
    let owner = find_repository(&state, &id).await?;
    let listing = {
        let mut conn = state.registry.db.pool().acquire().await?;
        packages::list_packages(&mut conn, owner.id, Some(FORMAT), q.page()).await?
    };
    let composer = composer(&state);
    let mut items = Vec::new();
    for package in &listing.items {
        let versions = composer
            .uploaded_versions(&owner.name, &package.name)
            .await?
            .unwrap_or_default();
        let listed: Vec<Value> = versions
            .iter()
            .map(|v| {
                let version = v.entry.get("version").and_then(Value::as_str).unwrap_or("");
                json!({
                    "version": version,
                    "path": version_path(&package.name, version),
                    "archive": archive_path(&v.file),
                    "size": v.size,
                    "shasum": v.entry.get("dist").and_then(|d| d.get("shasum")),
                    "download_count": v.download_count,
                    "uploaded_at": crate::clock::rfc3339(v.created_at),
                })
            })
            .collect();
        items.push(json!({
            "name": package.name,
            "path": package_path(&package.name),
            "download_count": versions.iter().map(|v| v.download_count).sum::<i64>(),
            "versions": listed,
        }));
    }
    Ok(axum::Json(json!({
        "repository": owner.name,
        "packages": items,
        "pagination": pagination(listing.page, listing.total),
    }))
    .into_response())
}

/// What one path of a DELETE names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Archive(String),
    Package(String),
    Version(String, String),
}

/// `downloads/{file}`, `p/{vendor}/{package}.json` or `p/{vendor}/{package}/{version}.json`
/// (a leading `/` allowed).
fn parse_target(path: &str) -> Option<Target> {
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    fn json(file: &str) -> Option<&str> {
        file.strip_suffix(".json").filter(|s| !s.is_empty())
    }
    match segments.as_slice() {
        ["downloads", file] if !file.is_empty() => Some(Target::Archive(file.to_string())),
        ["p", vendor, file] if !vendor.is_empty() => Some(Target::Package(
            format!("{vendor}/{}", json(file)?).to_lowercase(),
        )),
        ["p", vendor, package, file] if !vendor.is_empty() && !package.is_empty() => {
            Some(Target::Version(
                format!("{vendor}/{package}").to_lowercase(),
                json(file)?.to_string(),
            ))
        }
        _ => None,
    }
}

/// A refusal naming the paths at fault in its details.
fn refuse_paths(error: Error, paths: &[String]) -> Response {
    let mut response = error.into_response();
    response
        .extensions_mut()
        .insert(Details(json!({"paths": paths})));
    response
}

/// A target found in the repository, ready to delete.
enum Found {
    Archive(packages::NamedFile),
    Package(i64),
    Version(String, String),
}

/// `DELETE /api/repository/{id}/packages` `{"paths": [...]}`: deletes the archives (with their
/// versions), versions and whole packages named; nothing at all when a path is malformed (422) or
/// names nothing (404).
async fn delete_packages(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response> {
    principal.require(Permission::WritePackages)?;
    let owner = find_repository(&state, &id).await?;
    let paths: Vec<String> = match json_object(&body)?.remove("paths") {
        Some(Value::Array(paths)) if !paths.is_empty() => paths
            .into_iter()
            .map(|p| match p {
                Value::String(p) => Ok(p),
                other => Err(Error::unprocessable(format!(
                    "paths: {other} is not a string"
                ))),
            })
            .collect::<Result<_>>()?,
        _ => {
            return Err(Error::unprocessable(
                "expected {\"paths\": [...]} with at least one path",
            ));
        }
    };
    let mut targets = Vec::new();
    let mut malformed = Vec::new();
    for path in &paths {
        match parse_target(path) {
            Some(target) => targets.push(target),
            None => malformed.push(path.clone()),
        }
    }
    if !malformed.is_empty() {
        return Ok(refuse_paths(
            Error::unprocessable(format!(
                "not a repository path (downloads/{{file}}, p/{{vendor}}/{{package}}.json or \
                 p/{{vendor}}/{{package}}/{{version}}.json): {}",
                malformed.join(", ")
            )),
            &malformed,
        ));
    }
    let composer = composer(&state);
    let mut found = Vec::new();
    let mut unknown = Vec::new();
    for (path, target) in paths.iter().zip(&targets) {
        let hit = {
            let mut conn = state.registry.db.pool().acquire().await?;
            match target {
                Target::Archive(file) => {
                    packages::find_file_named(&mut conn, owner.id, FORMAT, file)
                        .await?
                        .map(Found::Archive)
                }
                Target::Package(name) => packages::find_package(&mut conn, owner.id, FORMAT, name)
                    .await?
                    .map(|p| Found::Package(p.id)),
                Target::Version(name, wanted) => {
                    drop(conn);
                    let versions = composer
                        .uploaded_versions(&owner.name, name)
                        .await?
                        .unwrap_or_default();
                    find_version(&versions, wanted).map(|v| {
                        let version = v.entry.get("version").and_then(Value::as_str);
                        Found::Version(name.clone(), version.unwrap_or(wanted).to_string())
                    })
                }
            }
        };
        match hit {
            Some(hit) => found.push(hit),
            None => unknown.push(path.clone()),
        }
    }
    if !unknown.is_empty() {
        return Ok(refuse_paths(
            Error::not_found(format!(
                "not in repository {}: {}",
                owner.name,
                unknown.join(", ")
            )),
            &unknown,
        ));
    }
    // Whole packages first; a version or archive inside one is gone with it.
    found.sort_by_key(|f| !matches!(f, Found::Package(_)));
    let mut deleted_packages = BTreeSet::new();
    for target in found {
        let done = match target {
            Found::Package(package_id) => {
                deleted_packages.insert(package_id);
                state.registry.delete_package(package_id).await
            }
            Found::Version(name, version) => {
                state
                    .registry
                    .delete_version(&owner.name, FORMAT, &name, &version)
                    .await
            }
            Found::Archive(named) => {
                state
                    .registry
                    .delete_file(packages::FileCoord {
                        owner: &owner.name,
                        format: FORMAT,
                        package: &named.package,
                        version: &named.version,
                        file: &named.file.name,
                    })
                    .await
            }
        };
        match done {
            Ok(()) | Err(Error::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(axum::Json(json!({"deleted": paths})).into_response())
}

/// The configuration as it applies: what was stored, with `name` and `description` defaulted.
fn effective_config(id: &str, mut config: Map<String, Value>) -> Value {
    config
        .entry("name")
        .or_insert_with(|| Value::String(id.to_string()));
    config
        .entry("description")
        .or_insert_with(|| Value::String(DEFAULT_DESCRIPTION.to_string()));
    Value::Object(config)
}

/// `GET /api/repository/{id}/config/php`.
async fn get_config(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response> {
    principal.require(Permission::ReadAdmin)?;
    let owner = find_repository(&state, &id).await?;
    let config = stored_config(&state.registry.db, owner.id).await?;
    Ok(axum::Json(effective_config(&owner.name, config)).into_response())
}

/// Known keys must have their type (`name` is the repository's own and cannot change here);
/// others are kept as they are.
fn check_config(id: &str, config: &Map<String, Value>) -> Result<()> {
    if let Some(name) = config.get("name")
        && !name.as_str().is_some_and(|n| n.eq_ignore_ascii_case(id))
    {
        return Err(Error::unprocessable(format!(
            "name: the repository is named {id}; it cannot be renamed"
        )));
    }
    match config.get("description") {
        None => Ok(()),
        Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= 1000 => Ok(()),
        Some(_) => Err(Error::unprocessable(
            "description: expected a non-empty string of at most 1000 characters",
        )),
    }
}

/// `PUT /api/repository/{id}/config/php`: replaces the configuration (a JSON object); creates
/// the repository when it does not exist yet.
async fn put_config(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response> {
    principal.require(Permission::ManageOwners)?;
    check_owner_name(&id).map_err(|e| Error::unprocessable(e.to_string()))?;
    if body.len() > CONFIG_LIMIT {
        return Err(Error::PayloadTooLarge(format!(
            "the configuration is larger than {CONFIG_LIMIT} bytes"
        )));
    }
    let config = json_object(&body)?;
    check_config(&id, &config)?;
    let mut tx = state.registry.db.begin_write().await?;
    let owner = owners::find_or_create(&mut tx, &id).await?;
    let stored = Value::Object(config.clone()).to_string();
    properties::set(&mut tx, RefType::Owner, owner.id, CONFIG_PROPERTY, &stored).await?;
    tx.commit().await?;
    Ok(axum::Json(effective_config(&owner.name, config)).into_response())
}

/// `1536` → `"1.5KB"`, `932_000_000` → `"889MB"` (binary units, as Nitro shows them).
fn human_size(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes.max(0) as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 || value >= 10.0 {
        format!("{}{}", value.round() as i64, UNITS[unit])
    } else {
        let shown = format!("{value:.1}");
        format!("{}{}", shown.trim_end_matches(".0"), UNITS[unit])
    }
}

/// `GET /api/repository/{id}/stats`.
async fn stats(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response> {
    principal.require(Permission::ReadAdmin)?;
    let owner = find_repository(&state, &id).await?;
    let mut conn = state.registry.db.pool().acquire().await?;
    let totals = packages::totals(&mut conn, owner.id, FORMAT).await?;
    let top = packages::most_downloaded(&mut conn, owner.id, FORMAT, 10).await?;
    let top: Vec<Value> = top
        .into_iter()
        .map(|(name, downloads)| json!({"name": name, "download_count": downloads}))
        .collect();
    Ok(axum::Json(json!({
        "total_packages": totals.packages,
        "total_versions": totals.versions,
        "total_downloads": totals.downloads,
        "storage_used": human_size(totals.bytes),
        "storage_used_bytes": totals.bytes,
        "last_activity": totals.last_added.map(crate::clock::rfc3339),
        "top_packages": top,
    }))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delete_paths() {
        assert_eq!(
            parse_target("downloads/acme-lib-1.0.0.zip"),
            Some(Target::Archive("acme-lib-1.0.0.zip".into()))
        );
        assert_eq!(
            parse_target("/p/Acme/Lib.json"),
            Some(Target::Package("acme/lib".into()))
        );
        assert_eq!(
            parse_target("p/acme/lib/1.0.0.json"),
            Some(Target::Version("acme/lib".into(), "1.0.0".into()))
        );
        for bad in [
            "",
            "downloads/",
            "downloads/a/b.zip",
            "p/acme/lib",
            "p/acme/.json",
            "p//lib.json",
            "packages.json",
            "p/a/b/c/d.json",
        ] {
            assert_eq!(parse_target(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn sizes_read_like_nitro() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(1023), "1023B");
        assert_eq!(human_size(1536), "1.5KB");
        assert_eq!(human_size(2048), "2KB");
        assert_eq!(human_size(890 * 1024 * 1024), "890MB");
        assert_eq!(human_size(5 * 1024 * 1024 * 1024), "5GB");
    }

    #[test]
    fn config_known_keys_are_typed() {
        let ok = |v: Value| check_config("php-repo", v.as_object().unwrap()).is_ok();
        assert!(ok(json!({})));
        assert!(ok(
            json!({"description": "Ours", "name": "PHP-repo", "other": [1]})
        ));
        assert!(!ok(json!({"description": 3})));
        assert!(!ok(json!({"description": " "})));
        assert!(!ok(json!({"description": "x".repeat(1001)})));
        assert!(!ok(json!({"name": "other"})));
        assert!(!ok(json!({"name": 1})));
    }
}
