//! Management of Git-synced Composer packages under `/api/v1` (seed 000 and Cargoman's REST docs):
//! `GET|POST /packages`, `GET|DELETE /packages/{vendor}/{name}`, `POST /packages/{vendor}/{name}/sync`,
//! `POST …/{vendor}/{name}/validate`, `GET …/readme`, `POST …/yank|unyank|deprecate/{version}`,
//! `GET …/download/{version}`, `POST /tasks/sync-all`. The seed's encoded form `/packages/vendor%2Fname[/sync]` works too.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Composer, FORMAT, OWNER, names};
use crate::auth::{Permission, Principal};
use crate::error::{Error, Result};
use crate::http::json::{Data, Json, PageQuery, Query, ok};
use crate::model::documents;
use crate::model::packages::{self, Package};
use crate::model::{Page, owners};
use crate::state::AppState;
use crate::tasks::Task;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/packages", get(list).post(create))
        .route(
            "/packages/{vendor}",
            get(show_encoded).delete(delete_encoded),
        )
        .route("/packages/{vendor}/sync", post(sync_encoded))
        .route("/packages/{vendor}/{name}", get(show).delete(remove))
        .route("/packages/{vendor}/{name}/sync", post(sync))
        .route("/packages/{vendor}/{name}/validate", post(validate))
        .route("/packages/{vendor}/{name}/monorepo", get(monorepo))
        .route(
            "/packages/{vendor}/{name}/monorepo/sync",
            post(monorepo_sync),
        )
        .route(
            "/packages/{vendor}/{name}/monorepo/children",
            get(monorepo_children),
        )
        .route("/packages/{vendor}/{name}/readme", get(readme))
        .route("/packages/{vendor}/{name}/yank/{version}", post(yank))
        .route("/packages/{vendor}/{name}/unyank/{version}", post(unyank))
        .route(
            "/packages/{vendor}/{name}/deprecate/{version}",
            post(deprecate),
        )
        .route(
            "/packages/{vendor}/{name}/download/{version}",
            get(download),
        )
        .route("/tasks/sync-all", post(sync_all))
}

fn composer(state: &AppState) -> Composer {
    Composer {
        registry: state.registry.clone(),
        config: state.config.clone(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreatePackage {
    name: Option<String>,
    repository_url: String,
    #[serde(rename = "type")]
    provider: Option<String>,
    /// Glob of the composer.json files of a monorepo's packages, e.g. `packages/*/composer.json`.
    monorepo: Option<String>,
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    body: Json<CreatePackage>,
) -> Result<Response> {
    principal.require(Permission::WritePackages)?;
    let req = body.parse()?;
    let package = composer(&state)
        .add(
            req.name,
            &req.repository_url,
            req.provider.as_deref(),
            req.monorepo.as_deref(),
        )
        .await?;
    let task = enqueue_sync(&state, package.id).await?;
    let mut body = composer(&state).describe(&package).await?;
    body["task"] = serde_json::to_value(task).map_err(Error::internal)?;
    Ok(Data(StatusCode::CREATED, body).into_response())
}

async fn enqueue_sync(state: &AppState, package_id: i64) -> Result<Task> {
    super::enqueue_sync(&state.tasks, package_id).await
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<PageQuery>,
) -> Result<Response> {
    principal.require(Permission::ReadAdmin)?;
    let page = q.page();
    let listing = {
        let mut conn = state.registry.db.pool().acquire().await?;
        match owners::find(&mut conn, OWNER).await? {
            Some(owner) => packages::list_packages(&mut conn, owner.id, Some(FORMAT), page).await?,
            None => crate::model::Listing {
                items: Vec::new(),
                total: 0,
                page: Page::new(None, None),
            },
        }
    };
    let mut items = Vec::new();
    for package in &listing.items {
        items.push(composer(&state).describe(package).await?);
    }
    // `packages` repeats `data` in the shape seed 000 shows.
    Ok(axum::Json(json!({
        "data": items,
        "packages": items,
        "error": null,
        "pagination": crate::http::json::pagination(page, listing.total),
    }))
    .into_response())
}

async fn find(state: &AppState, name: &str) -> Result<Package> {
    composer(state).find_existing(name).await
}

fn full_name(vendor: &str, name: &str) -> String {
    format!("{vendor}/{name}")
}

fn encoded_name(value: &str) -> Result<&str> {
    if value.contains('/') {
        Ok(value)
    } else {
        Err(Error::not_found(format!("package {value} not found")))
    }
}

async fn show_by_name(state: &AppState, name: &str) -> Result<Data<Value>> {
    let package = find(state, name).await?;
    Ok(ok(composer(state).describe(&package).await?))
}

async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path((vendor, name)): Path<(String, String)>,
) -> Result<Data<Value>> {
    principal.require(Permission::ReadAdmin)?;
    show_by_name(&state, &full_name(&vendor, &name)).await
}

async fn show_encoded(
    State(state): State<AppState>,
    principal: Principal,
    Path(vendor): Path<String>,
) -> Result<Data<Value>> {
    principal.require(Permission::ReadAdmin)?;
    show_by_name(&state, encoded_name(&vendor)?).await
}

async fn remove_by_name(state: &AppState, name: &str) -> Result<Data<Value>> {
    let package = find(state, name).await?;
    state.registry.delete_package(package.id).await?;
    Ok(ok(json!({"name": package.name, "deleted": true})))
}

async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path((vendor, name)): Path<(String, String)>,
) -> Result<Data<Value>> {
    principal.require(Permission::WritePackages)?;
    remove_by_name(&state, &full_name(&vendor, &name)).await
}

async fn delete_encoded(
    State(state): State<AppState>,
    principal: Principal,
    Path(vendor): Path<String>,
) -> Result<Data<Value>> {
    principal.require(Permission::WritePackages)?;
    remove_by_name(&state, encoded_name(&vendor)?).await
}

/// Team tokens need `WritePackages`; a customer token with the webhook or admin scope may
/// trigger syncs of the packages it sees (a Git provider integration run by the customer).
async fn sync_by_name(state: &AppState, principal: &Principal, name: &str) -> Result<Data<Task>> {
    if let Principal::Customer(_) = principal {
        principal.require(Permission::SyncGranted)?;
        let view = state
            .access
            .view(&state.registry.db, principal, OWNER, FORMAT)
            .await?;
        if !view.allows_package(name) {
            return Err(Error::Forbidden(format!(
                "this token may not sync {name}: it is not among its packages"
            )));
        }
    } else {
        principal.require(Permission::WritePackages)?;
    }
    let package = find(state, name).await?;
    Ok(Data(
        StatusCode::ACCEPTED,
        enqueue_sync(state, package.id).await?,
    ))
}

async fn sync(
    State(state): State<AppState>,
    principal: Principal,
    Path((vendor, name)): Path<(String, String)>,
) -> Result<Data<Task>> {
    sync_by_name(&state, &principal, &full_name(&vendor, &name)).await
}

async fn sync_encoded(
    State(state): State<AppState>,
    principal: Principal,
    Path(vendor): Path<String>,
) -> Result<Data<Task>> {
    sync_by_name(&state, &principal, encoded_name(&vendor)?).await
}

async fn sync_all(State(state): State<AppState>, principal: Principal) -> Result<Data<Vec<Task>>> {
    principal.require(Permission::WritePackages)?;
    let tasks = super::enqueue_all_syncs(&state.tasks, &state.registry.db).await?;
    Ok(Data(StatusCode::ACCEPTED, tasks))
}

type VersionPath = Path<(String, String, String)>;

async fn validate(
    State(state): State<AppState>,
    principal: Principal,
    Path((vendor, name)): Path<(String, String)>,
) -> Result<Data<Value>> {
    principal.require(Permission::WritePackages)?;
    let package = find(&state, &full_name(&vendor, &name)).await?;
    Ok(ok(composer(&state).validate(package.id).await?))
}

async fn readme(
    State(state): State<AppState>,
    principal: Principal,
    Path((vendor, name)): Path<(String, String)>,
) -> Result<Data<Value>> {
    principal.require(Permission::ReadAdmin)?;
    let package = find(&state, &full_name(&vendor, &name)).await?;
    let mut conn = state.registry.db.pool().acquire().await?;
    let doc = documents::get(
        &mut conn,
        package.document_scope(),
        super::sync::README_DOCUMENT,
    )
    .await?
    .ok_or_else(|| Error::not_found(format!("{} has no README", package.name)))?;
    Ok(ok(
        serde_json::from_slice(&doc.body).map_err(Error::internal)?
    ))
}

async fn set_yanked(
    state: &AppState,
    path: (String, String, String),
    yanked: bool,
) -> Result<Data<Value>> {
    let (vendor, name, version) = path;
    let package = find(state, &full_name(&vendor, &name)).await?;
    composer(state)
        .set_yanked(&package, &version, yanked)
        .await?;
    Ok(ok(
        json!({"name": package.name, "version": version, "yanked": yanked}),
    ))
}

async fn yank(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): VersionPath,
) -> Result<Data<Value>> {
    principal.require(Permission::WritePackages)?;
    set_yanked(&state, path, true).await
}

async fn unyank(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): VersionPath,
) -> Result<Data<Value>> {
    principal.require(Permission::WritePackages)?;
    set_yanked(&state, path, false).await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Deprecation {
    /// The package to use instead, shown by Composer.
    replacement: Option<String>,
}

async fn deprecate(
    State(state): State<AppState>,
    principal: Principal,
    Path((vendor, name, version)): VersionPath,
    body: axum::body::Bytes,
) -> Result<Data<Value>> {
    principal.require(Permission::WritePackages)?;
    let req: Deprecation = if body.iter().all(u8::is_ascii_whitespace) {
        Deprecation::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| Error::invalid(format!("invalid JSON body: {e}")))?
    };
    let replacement = req.replacement.unwrap_or_default();
    if !replacement.is_empty() {
        names::split_name(&replacement)?;
    }
    let package = find(&state, &full_name(&vendor, &name)).await?;
    composer(&state)
        .deprecate(&package, &version, &replacement)
        .await?;
    Ok(ok(
        json!({"name": package.name, "version": version, "deprecated": true, "replacement": replacement}),
    ))
}

async fn download(
    State(state): State<AppState>,
    principal: Principal,
    Path((vendor, name, version)): VersionPath,
    method: axum::http::Method,
    headers: axum::http::HeaderMap,
) -> Result<Response> {
    principal.require(Permission::ReadAdmin)?;
    let package = find(&state, &full_name(&vendor, &name)).await?;
    let file_name = format!("{version}.zip");
    let file = state
        .registry
        .find_file(crate::model::packages::FileCoord {
            owner: OWNER,
            format: FORMAT,
            package: &package.name,
            version: &version,
            file: &file_name,
        })
        .await?;
    crate::http::download::serve_file(
        &state.registry,
        &file,
        &method,
        &headers,
        "application/zip",
        None,
    )
    .await
}

async fn monorepo_source(
    state: &AppState,
    name: &str,
) -> Result<(Package, crate::model::git_sources::GitSource)> {
    let package = find(state, name).await?;
    let mut conn = state.registry.db.pool().acquire().await?;
    let source = crate::model::git_sources::get(&mut conn, package.id)
        .await?
        .filter(|s| s.monorepo_glob.is_some())
        .ok_or_else(|| Error::not_found(format!("{name} is not a monorepo")))?;
    Ok((package, source))
}

async fn children_of(state: &AppState, package: &Package) -> Result<Vec<Value>> {
    let sources = {
        let mut conn = state.registry.db.pool().acquire().await?;
        crate::model::git_sources::children(&mut conn, package.id).await?
    };
    let mut described = Vec::new();
    for source in sources {
        let mut conn = state.registry.db.pool().acquire().await?;
        if let Some(child) = packages::get_package(&mut conn, source.package_id).await? {
            described.push(composer(state).describe(&child).await?);
        }
    }
    Ok(described)
}

async fn monorepo(
    State(state): State<AppState>,
    principal: Principal,
    Path((vendor, name)): Path<(String, String)>,
) -> Result<Data<Value>> {
    principal.require(Permission::ReadAdmin)?;
    let (package, source) = monorepo_source(&state, &full_name(&vendor, &name)).await?;
    let children: Vec<Value> = children_of(&state, &package)
        .await?
        .into_iter()
        .map(|c| json!({"name": c["name"], "path": c["path"]}))
        .collect();
    Ok(ok(json!({
        "name": package.name,
        "repository_url": source.repository_url,
        "glob": source.monorepo_glob,
        "children": children,
    })))
}

async fn monorepo_children(
    State(state): State<AppState>,
    principal: Principal,
    Path((vendor, name)): Path<(String, String)>,
) -> Result<Data<Vec<Value>>> {
    principal.require(Permission::ReadAdmin)?;
    let (package, _) = monorepo_source(&state, &full_name(&vendor, &name)).await?;
    Ok(ok(children_of(&state, &package).await?))
}

async fn monorepo_sync(
    State(state): State<AppState>,
    principal: Principal,
    Path((vendor, name)): Path<(String, String)>,
) -> Result<Data<Task>> {
    principal.require(Permission::WritePackages)?;
    let (package, _) = monorepo_source(&state, &full_name(&vendor, &name)).await?;
    Ok(Data(
        StatusCode::ACCEPTED,
        enqueue_sync(&state, package.id).await?,
    ))
}
