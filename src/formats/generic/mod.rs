//! Generic registry, Gitea dialect (seeds 001/002):
//! `PUT|GET|HEAD|DELETE /api/packages/{owner}/generic/{name}/{version}/{file}` and
//! `DELETE /api/packages/{owner}/generic/{name}/{version}`.
//! Reads follow the owner's visibility (a public owner's files need no token) or a customer's
//! grants (a version matches a grant's `*` or version glob); writes always need a team token that
//! may publish.

mod rules;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, put};

use crate::auth::{Permission, Principal};
use crate::blobs::PutOptions;
use crate::blobs::digest::is_sha256_hex;
use crate::error::{Error, Result};
use crate::http::download::serve_file;
use crate::http::owner_access::{PackageRead, require_package_read};
use crate::http::upload_size::refuse_announced_over;
use crate::model::owners::check_owner_name;
use crate::model::packages::FileCoord;
use crate::registry::Publish;
use crate::state::AppState;

const FORMAT: &str = "generic";

/// The Generic registry (Gitea's dialect).
pub struct Generic;

impl super::Format for Generic {
    fn name(&self) -> &'static str {
        FORMAT
    }

    fn routes(&self) -> Router<AppState> {
        routes()
    }

    fn rules(&self) -> std::sync::Arc<dyn crate::package_rules::PackageRules> {
        std::sync::Arc::new(rules::GenericRules)
    }
}

fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/packages/{owner}/generic/{name}/{version}/{file}",
            put(upload).get(download).delete(delete_file),
        )
        .route(
            "/api/packages/{owner}/generic/{name}/{version}",
            delete(delete_version),
        )
}

type FilePath = Path<(String, String, String, String)>;

fn coord<'a>(owner: &'a str, name: &'a str, version: &'a str, file: &'a str) -> FileCoord<'a> {
    FileCoord {
        owner,
        format: FORMAT,
        package: name,
        version,
        file,
    }
}

fn check_all(owner: &str, name: &str, version: &str, file: Option<&str>) -> Result<()> {
    check_owner_name(owner)?;
    rules::check_package_name(name)?;
    rules::check_version(version)?;
    file.map_or(Ok(()), rules::check_file_name)
}

async fn upload(
    State(state): State<AppState>,
    principal: Principal,
    Path((owner, name, version, file)): FilePath,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    principal.require(Permission::WritePackages)?;
    check_all(&owner, &name, &version, Some(&file))?;
    let max_size = state.config.max_upload_size;
    refuse_announced_over(&headers, max_size, 0, "file")?;
    // Optional end-to-end check, as Artifactory-style clients send it.
    let expected_sha256 = match headers.get("x-checksum-sha256") {
        None => None,
        Some(v) => match v.to_str() {
            Ok(s) if is_sha256_hex(s) => Some(s.to_ascii_lowercase()),
            _ => return Err(Error::invalid("X-Checksum-Sha256 must be 64 hex digits")),
        },
    };
    let publish = Publish {
        at: coord(&owner, &name, &version, &file),
        create_owner: true,
        version_metadata: crate::registry::no_metadata(),
        file_properties: vec![("uploaded_by".into(), principal.display_name())],
        put: PutOptions {
            max_size,
            expected_sha256,
            ..Default::default()
        },
        tags: Vec::new(),
    };
    state
        .registry
        .publish(publish, body.into_data_stream())
        .await?;
    Ok(StatusCode::CREATED.into_response())
}

async fn download(
    State(state): State<AppState>,
    principal: Principal,
    Path((owner, name, version, file)): FilePath,
    method: Method,
    headers: HeaderMap,
) -> Result<Response> {
    let read = PackageRead {
        owner: &owner,
        format: FORMAT,
        package: &name,
        version: &version,
    };
    require_package_read(&state, &principal, read).await?;
    check_all(&owner, &name, &version, Some(&file))
        .map_err(|_| Error::not_found(format!("file {file} not found")))?;
    let found = state
        .registry
        .find_file(coord(&owner, &name, &version, &file))
        .await?;
    serve_file(
        &state.registry,
        &found,
        &method,
        &headers,
        "application/octet-stream",
        principal.customer_id(),
    )
    .await
}

async fn delete_file(
    State(state): State<AppState>,
    principal: Principal,
    Path((owner, name, version, file)): FilePath,
) -> Result<StatusCode> {
    principal.require(Permission::WritePackages)?;
    check_all(&owner, &name, &version, Some(&file))
        .map_err(|_| Error::not_found(format!("file {file} not found")))?;
    state
        .registry
        .delete_file(coord(&owner, &name, &version, &file))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete_version(
    State(state): State<AppState>,
    principal: Principal,
    Path((owner, name, version)): Path<(String, String, String)>,
) -> Result<StatusCode> {
    principal.require(Permission::WritePackages)?;
    check_all(&owner, &name, &version, None)
        .map_err(|_| Error::not_found(format!("package {name} not found")))?;
    state
        .registry
        .delete_version(&owner, FORMAT, &name, &version)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
