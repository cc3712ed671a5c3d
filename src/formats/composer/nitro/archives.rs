//! The repository's archives: `downloads/{file}` (GET, HEAD, PUT, DELETE) and the install
//! notifications Composer posts to `downloads`.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{Reading, Writing, bind_storage, not_in_storage};
use crate::auth::{Permission, Principal};
use crate::error::{Error, Result};
use crate::formats::composer::dialect::{composer, percent_encode};
use crate::formats::composer::notify::count_installs;
use crate::formats::composer::uploads::UploadTarget;
use crate::formats::composer::{FORMAT, version};
use crate::http::download::serve_file;
use crate::model::owners::{self, check_owner_name};
use crate::model::packages::{self, FileCoord};
use crate::state::AppState;

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
pub(super) async fn download(
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
pub(super) async fn upload(
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
pub(super) async fn delete_archive(
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
pub(super) async fn notify(
    State(state): State<AppState>,
    Reading(repo): Reading,
    body: Bytes,
) -> Result<Response> {
    count_installs(&state, &repo.owner.name, &body, None, |_, _| true).await?;
    Ok(axum::Json(json!({"status": "success"})).into_response())
}
