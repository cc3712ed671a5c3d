//! Composer's install notifications (`notify-batch` in `packages.json`): after an install or
//! update Composer posts `{"downloads": [{"name": "vendor/pkg", "version": "1.0.0.0"}, …]}` to
//! `POST /downloads/`, with the *normalized* version (`InstallationManager::notifyInstalls`
//! sends `$package->getVersion()`; Packagist adds a `downloaded` flag, ignored here).
//!
//! Each entry naming an existing version of a Composer package counts one install (in memory,
//! flushed with the download counts); unknown packages and versions are ignored, as Packagist
//! does. Answers are JSON: 200 `{"status": "success"}`, or `{"status": "error", "message"}` with
//! the error's status (400 for a malformed body, 401 without credentials). The Nitro dialect
//! counts its repositories' notifications with the same `count_installs`.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::json;

use super::version::normalize;
use super::{FORMAT, OWNER};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::model::{owners, packages};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/downloads/", post(notify))
        .route("/downloads", post(notify))
}

#[derive(Debug, Deserialize)]
struct Batch {
    downloads: Vec<Notified>,
}

#[derive(Debug, Deserialize)]
struct Notified {
    name: String,
    version: String,
}

fn parse(body: &[u8]) -> Result<Batch> {
    serde_json::from_slice(body).map_err(|e| {
        Error::invalid(format!(
            "invalid request: expected {{\"downloads\": [{{\"name\", \"version\"}}, …]}} ({e})"
        ))
    })
}

/// An error as Packagist answers it, `{"status": "error", "message"}`, keeping the status and
/// headers (the Basic challenge of a 401) of the core's error response.
fn json_error(error: Error) -> Response {
    crate::http::error::restyle(error.into_response(), |_, info| {
        axum::Json(json!({"status": "error", "message": info.message}))
    })
}

async fn notify(
    State(state): State<AppState>,
    principal: std::result::Result<Principal, Error>,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Response {
    match count(&state, principal, body).await {
        Ok(()) => (StatusCode::OK, axum::Json(json!({"status": "success"}))).into_response(),
        Err(e) => json_error(e),
    }
}

async fn count(
    state: &AppState,
    principal: std::result::Result<Principal, Error>,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<()> {
    let principal = principal?;
    // A customer reports only what it can see: versions outside its grants count for nothing.
    let view = super::view(state, &principal).await?;
    let body = body.map_err(|e| Error::invalid(e.body_text()))?;
    count_installs(state, OWNER, &body, principal.customer_id(), |name, v| {
        view.allows_version(name, &v.version)
    })
    .await
}

/// Counts the installs a notification batch reports for the Composer packages of `owner`, those
/// `allows` lets through (by package name and version), for `customer` (None: not a customer).
/// Unknown packages and versions are ignored; a malformed batch is 400.
pub(super) async fn count_installs(
    state: &AppState,
    owner: &str,
    body: &[u8],
    customer: Option<i64>,
    allows: impl Fn(&str, &Known) -> bool,
) -> Result<()> {
    let batch = parse(body)?;
    let mut conn = state.registry.db.pool().acquire().await?;
    let Some(owner) = owners::find(&mut conn, owner).await? else {
        return Ok(());
    };
    // The versions of each named package, read once per package.
    let mut known: HashMap<String, Option<(String, Versions)>> = HashMap::new();
    for entry in &batch.downloads {
        let key = entry.name.to_lowercase();
        if !known.contains_key(&key) {
            let found = match packages::find_package(&mut conn, owner.id, FORMAT, &key).await? {
                Some(package) => Some((
                    package.name,
                    normalized_versions(packages::all_versions(&mut conn, package.id).await?),
                )),
                None => None,
            };
            known.insert(key.clone(), found);
        }
        let Some(Some((name, versions))) = known.get(&key) else {
            continue;
        };
        if let Some(v) = lookup(versions, &entry.version)
            && allows(name, v)
        {
            state.registry.downloads.record_install(v.id, customer);
        }
    }
    Ok(())
}

/// A stored version as notifications name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Known {
    id: i64,
    pub version: String,
}

/// Lower-cased normalized version → the version.
type Versions = HashMap<String, Known>;

/// The normalized form is the one the sync stored in the version's metadata, or computed from
/// the version's name.
fn normalized_versions(versions: Vec<packages::Version>) -> Versions {
    versions
        .into_iter()
        .filter_map(|v| {
            let normalized = v
                .metadata
                .get("version_normalized")
                .and_then(|n| n.as_str())
                .map(str::to_string)
                .or_else(|| normalize(&v.version).ok())?;
            Some((
                normalized.to_lowercase(),
                Known {
                    id: v.id,
                    version: v.version,
                },
            ))
        })
        .collect()
}

/// The version a notification names: by its normalized version, or (old clients, hand-made
/// calls) by a version string that normalizes to it.
fn lookup<'a>(versions: &'a Versions, notified: &str) -> Option<&'a Known> {
    versions.get(&notified.to_lowercase()).or_else(|| {
        normalize(notified)
            .ok()
            .and_then(|n| versions.get(&n.to_lowercase()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composer_batches_parse_and_extra_fields_are_ignored() {
        let batch = parse(
            br#"{"downloads":[{"name":"acme/widget","version":"1.0.0.0","downloaded":false}]}"#,
        )
        .unwrap();
        assert_eq!(batch.downloads.len(), 1);
        assert_eq!(batch.downloads[0].name, "acme/widget");
        assert_eq!(batch.downloads[0].version, "1.0.0.0");
        assert!(parse(b"{").is_err());
        assert!(parse(br#"{"downloads":{}}"#).is_err());
        assert!(parse(br#"{"downloads":[{"name":"a/b"}]}"#).is_err());
        assert!(parse(b"[]").is_err());
    }

    #[test]
    fn versions_match_by_normalized_form() {
        let version = |id, version: &str, metadata: serde_json::Value| packages::Version {
            id,
            package_id: 1,
            version: version.to_string(),
            metadata,
            download_count: 0,
            created_at: 0,
        };
        let versions = normalized_versions(vec![
            version(1, "1.0.0", json!({"version_normalized": "1.0.0.0"})),
            version(2, "2.0.0-RC1", json!({"version_normalized": "2.0.0.0-RC1"})),
            version(3, "dev-main", json!({})),
            version(4, "1.x-dev", json!({})),
        ]);
        let id = |notified: &str| lookup(&versions, notified).map(|v| v.id);
        assert_eq!(id("1.0.0.0"), Some(1));
        assert_eq!(id("2.0.0.0-RC1"), Some(2));
        assert_eq!(id("2.0.0.0-rc1"), Some(2));
        assert_eq!(id("v1.0.0"), Some(1), "pretty versions too");
        assert_eq!(id("dev-main"), Some(3), "normalized from the name");
        assert_eq!(id("1.9999999.9999999.9999999-dev"), Some(4));
        assert_eq!(id("1.0.1.0"), None);
        assert_eq!(id("not a version"), None);
        assert_eq!(
            lookup(&versions, "2.0.0.0-RC1").unwrap().version,
            "2.0.0-RC1"
        );
    }
}
