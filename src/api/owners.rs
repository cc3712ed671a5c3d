//! Owners (namespaces) and what they hold:
//! `GET|POST /api/v1/owners`, `GET|PATCH|DELETE /api/v1/owners/{owner}`,
//! `GET /api/v1/owners/{owner}/packages[?format=]`,
//! `GET /api/v1/owners/{owner}/packages/{format}/{name}/versions`,
//! `GET /api/v1/owners/{owner}/packages/{format}/{name}/versions/{version}/files[?checksums=all]`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::{Data, Json, PageQuery, Query, ok, page};
use crate::auth::{Permission, Principal, Visibility};
use crate::error::{Error, Result};
use crate::model::owners::{self, Owner, check_owner_name};
use crate::model::packages::{self, File, Package, Version};
use crate::model::properties::{self, RefType};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/owners", get(list).post(create))
        .route("/owners/{owner}", get(show).patch(update).delete(remove))
        .route("/owners/{owner}/packages", get(list_packages))
        .route(
            "/owners/{owner}/packages/{format}/{name}/versions",
            get(list_versions),
        )
        .route(
            "/owners/{owner}/packages/{format}/{name}/versions/{version}",
            axum::routing::delete(delete_version),
        )
        .route(
            "/owners/{owner}/packages/{format}/{name}/versions/{version}/files",
            get(list_files),
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateOwner {
    name: String,
    /// `public`, `limited` or `private` (the default).
    visibility: Option<String>,
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    body: Json<CreateOwner>,
) -> Result<Data<Owner>> {
    principal.require(Permission::ManageOwners)?;
    let req = body.parse()?;
    check_owner_name(&req.name)?;
    let visibility = match req.visibility.as_deref() {
        Some(value) => Visibility::parse(value)?,
        None => Visibility::Private,
    };
    let mut tx = state.registry.db.begin_write().await?;
    let owner = owners::create(&mut tx, &req.name, visibility).await?;
    tx.commit().await?;
    Ok(Data(StatusCode::CREATED, owner))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateOwner {
    visibility: String,
}

/// Changes who may read the owner's packages; counts at once on this instance (the commit moves
/// the write epoch every cache checks) and within a second on others.
async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(owner): Path<String>,
    body: Json<UpdateOwner>,
) -> Result<Data<Owner>> {
    principal.require(Permission::ManageOwners)?;
    let visibility = Visibility::parse(&body.parse()?.visibility)?;
    let mut tx = state.registry.db.begin_write().await?;
    let found = find_owner(&mut tx, &owner).await?;
    let updated = owners::set_visibility(&mut tx, &found, visibility).await?;
    tx.commit().await?;
    Ok(ok(updated))
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<PageQuery>,
) -> Result<Response> {
    principal.require(Permission::ReadAdmin)?;
    let mut conn = state.registry.db.pool().acquire().await?;
    Ok(page(owners::list(&mut conn, q.page()).await?))
}

async fn find_owner(conn: &mut sqlx::AnyConnection, name: &str) -> Result<Owner> {
    owners::find(conn, name)
        .await?
        .ok_or_else(|| Error::not_found(format!("owner {name} not found")))
}

async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(owner): Path<String>,
) -> Result<Data<Owner>> {
    principal.require(Permission::ReadAdmin)?;
    let mut conn = state.registry.db.pool().acquire().await?;
    Ok(ok(find_owner(&mut conn, &owner).await?))
}

async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path(owner): Path<String>,
) -> Result<StatusCode> {
    principal.require(Permission::ManageOwners)?;
    let mut tx = state.registry.db.begin_write().await?;
    let found = find_owner(&mut tx, &owner).await?;
    owners::delete_empty(&mut tx, &found).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct PackagesQuery {
    format: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
}

async fn list_packages(
    State(state): State<AppState>,
    principal: Principal,
    Path(owner): Path<String>,
    Query(q): Query<PackagesQuery>,
) -> Result<Response> {
    principal.require(Permission::ReadAdmin)?;
    let mut conn = state.registry.db.pool().acquire().await?;
    let found = find_owner(&mut conn, &owner).await?;
    let listing = packages::list_packages(
        &mut conn,
        found.id,
        q.format.as_deref(),
        crate::model::Page::new(q.page, q.per_page),
    )
    .await?;
    Ok(page(listing))
}

async fn find_package(
    conn: &mut sqlx::AnyConnection,
    owner: &str,
    format: &str,
    name: &str,
) -> Result<Package> {
    let found = find_owner(conn, owner).await?;
    packages::find_package(conn, found.id, format, name)
        .await?
        .ok_or_else(|| Error::not_found(format!("{format} package {name} not found")))
}

async fn list_versions(
    State(state): State<AppState>,
    principal: Principal,
    Path((owner, format, name)): Path<(String, String, String)>,
    Query(q): Query<PageQuery>,
) -> Result<Response> {
    principal.require(Permission::ReadAdmin)?;
    let mut conn = state.registry.db.pool().acquire().await?;
    let package = find_package(&mut conn, &owner, &format, &name).await?;
    Ok(page(
        packages::list_versions(&mut conn, package.id, q.page()).await?,
    ))
}

/// Deletes one version of a package of any format, its files and what it holds: the way to
/// remove a release from formats whose clients have no delete of their own (Maven). The format's
/// documents are re-rendered, as after any change.
async fn delete_version(
    State(state): State<AppState>,
    principal: Principal,
    Path((owner, format, name, version)): Path<(String, String, String, String)>,
) -> Result<StatusCode> {
    principal.require(Permission::WritePackages)?;
    state
        .registry
        .delete_version(&owner, &format, &name, &version)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
struct FileWithProperties {
    #[serde(flatten)]
    file: File,
    properties: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
struct VersionFiles {
    version: Version,
    files: Vec<FileWithProperties>,
}

#[derive(Deserialize)]
struct FilesQuery {
    /// `all`: also SHA-1, SHA-512 and MD5, computed now when not known yet.
    checksums: Option<String>,
}

async fn list_files(
    State(state): State<AppState>,
    principal: Principal,
    Path((owner, format, name, version)): Path<(String, String, String, String)>,
    Query(q): Query<FilesQuery>,
) -> Result<Data<VersionFiles>> {
    principal.require(Permission::ReadAdmin)?;
    let mut conn = state.registry.db.pool().acquire().await?;
    let package = find_package(&mut conn, &owner, &format, &name).await?;
    let version = packages::find_version(&mut conn, package.id, &version)
        .await?
        .ok_or_else(|| Error::not_found(format!("version {version} not found")))?;
    let all_checksums = match q.checksums.as_deref() {
        None => false,
        Some("all") => true,
        Some(other) => {
            return Err(Error::invalid(format!(
                "checksums must be \"all\", got {other:?}"
            )));
        }
    };
    let mut files = Vec::new();
    for mut file in packages::list_files(&mut conn, version.id).await? {
        if all_checksums {
            state
                .registry
                .ensure_digests(&mut file.blob, crate::blobs::ExtraDigests::ALL)
                .await?;
        }
        let properties = properties::list(&mut conn, RefType::File, file.id)
            .await?
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        files.push(FileWithProperties { file, properties });
    }
    Ok(ok(VersionFiles { version, files }))
}
