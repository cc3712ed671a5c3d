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
use crate::api::{Data, Json, PageQuery, Query, ok};
use crate::auth::{Permission, Principal};
use crate::error::{Error, Result};
use crate::git::{GitAuth, Mirror, RefKind};
use crate::http::AppState;
use crate::model::packages::{self, Package};
use crate::model::{Page, git_sources, owners};
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
}

const PROVIDERS: &[&str] = &["github", "gitlab", "bitbucket", "git"];

fn guess_provider(url: &str) -> &'static str {
    let host = git_sources::match_url(url);
    if host.starts_with("github.com/") {
        "github"
    } else if host.starts_with("gitlab.com/") {
        "gitlab"
    } else if host.starts_with("bitbucket.org/") {
        "bitbucket"
    } else {
        "git"
    }
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    body: Json<CreatePackage>,
) -> Result<Response> {
    principal.require(Permission::WritePackages)?;
    let req = body.parse()?;
    let url = req.repository_url.trim().to_string();
    if url.is_empty() {
        return Err(Error::invalid("repository_url is required"));
    }
    let provider = match req.provider.as_deref() {
        None => guess_provider(&url).to_string(),
        Some(p) if PROVIDERS.contains(&p) => p.to_string(),
        Some(p) => {
            return Err(Error::invalid(format!(
                "type must be one of github, gitlab, bitbucket, git; got {p:?}"
            )));
        }
    };
    let name = match req.name {
        Some(name) => name,
        None => name_from_repository(&state, &url).await?,
    };
    names::split_name(&name)?;
    let package = {
        let mut tx = state.registry.db.begin_write().await?;
        let owner = owners::find_or_create(&mut tx, OWNER).await?;
        if packages::find_package(&mut tx, owner.id, FORMAT, &name)
            .await?
            .is_some()
        {
            return Err(Error::conflict(format!("package {name} already exists")));
        }
        let package = packages::find_or_create_package(&mut tx, owner.id, FORMAT, &name).await?;
        git_sources::insert(&mut tx, package.id, &url, &provider, None).await?;
        tx.commit().await?;
        package
    };
    let task = enqueue_sync(&state, package.id).await?;
    let mut body = describe(&state, &package).await?;
    body["task"] = serde_json::to_value(task).map_err(Error::internal)?;
    Ok(Data(StatusCode::CREATED, body).into_response())
}

/// Reads `name` from composer.json on the repository's default branch (else main, master, the first).
async fn name_from_repository(state: &AppState, url: &str) -> Result<String> {
    let cache = state.config.git.cache_path.clone();
    let auth = GitAuth {
        user: state.config.git.auth_user.clone(),
        token: state.config.git.auth_token.clone(),
    };
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        let mirror = Mirror::sync(&cache, &url, &auth)
            .map_err(|e| Error::invalid(format!("cannot read the repository: {e}")))?;
        let refs = mirror.refs().map_err(Error::internal)?;
        let branches: Vec<_> = refs.iter().filter(|r| r.kind == RefKind::Branch).collect();
        let default = mirror.default_branch().map_err(Error::internal)?;
        let head = default
            .iter()
            .chain(["main".to_string(), "master".to_string()].iter())
            .find_map(|b| branches.iter().find(|r| &r.name == b))
            .or(branches.first())
            .ok_or_else(|| {
                Error::invalid("the repository has no branch to read composer.json from")
            })?;
        let raw = mirror
            .read_file(&head.commit, "composer.json")
            .map_err(Error::internal)?
            .ok_or_else(|| {
                Error::invalid(format!(
                    "no composer.json on branch {}; give \"name\"",
                    head.name
                ))
            })?;
        let json: Value = serde_json::from_slice(&raw)
            .map_err(|e| Error::invalid(format!("composer.json is not valid JSON: {e}")))?;
        json["name"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| Error::invalid("composer.json has no \"name\"; give \"name\""))
    })
    .await
    .map_err(Error::internal)?
}

async fn enqueue_sync(state: &AppState, package_id: i64) -> Result<Task> {
    super::enqueue_sync(&state.tasks, package_id).await
}

/// A package as the API shows it: seed 000's fields plus versions, sync state and skipped refs.
async fn describe(state: &AppState, package: &Package) -> Result<Value> {
    let mut conn = state.registry.db.pool().acquire().await?;
    let source = git_sources::get(&mut conn, package.id).await?;
    let mut versions = packages::all_versions(&mut conn, package.id).await?;
    versions.sort_by(|a, b| {
        let n = |v: &packages::Version| {
            v.metadata["version_normalized"]
                .as_str()
                .unwrap_or("")
                .to_string()
        };
        super::version::compare_normalized(&n(b), &n(a))
    });
    let tagged: Vec<&packages::Version> = versions
        .iter()
        .filter(|v| {
            v.metadata
                .as_object()
                .is_some_and(|m| !super::metadata::is_dev(m))
        })
        .collect();
    let latest = tagged.first();
    Ok(json!({
        "id": package.id,
        "name": package.name,
        "description": latest.and_then(|v| v.metadata.get("description")).cloned(),
        "repository_url": source.as_ref().map(|s| s.repository_url.clone()),
        "type": source.as_ref().map(|s| s.provider.clone()),
        "versions": versions.iter().map(|v| v.version.clone()).collect::<Vec<_>>(),
        "latest_version": latest.map(|v| v.version.clone()),
        "synced_at": source.as_ref().and_then(|s| s.synced_at).map(crate::clock::rfc3339),
        "sync_error": source.as_ref().and_then(|s| s.sync_error.clone()),
        "skipped": source.as_ref().map(|s| s.skipped.clone()),
        "created_at": crate::clock::rfc3339(package.created_at),
    }))
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
        items.push(describe(&state, package).await?);
    }
    let total = listing.total;
    let per_page = i64::from(page.per_page);
    // `packages` repeats `data` in the shape seed 000 shows.
    Ok(axum::Json(json!({
        "data": items,
        "packages": items,
        "error": null,
        "pagination": {
            "page": page.page,
            "per_page": page.per_page,
            "total": total,
            "total_pages": (total + per_page - 1) / per_page,
        }
    }))
    .into_response())
}

async fn find(state: &AppState, name: &str) -> Result<Package> {
    composer(state)
        .find(name)
        .await?
        .ok_or_else(|| Error::not_found(format!("package {name} not found")))
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
    Ok(ok(describe(state, &package).await?))
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

async fn sync_by_name(state: &AppState, name: &str) -> Result<Data<Task>> {
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
    principal.require(Permission::WritePackages)?;
    sync_by_name(&state, &full_name(&vendor, &name)).await
}

async fn sync_encoded(
    State(state): State<AppState>,
    principal: Principal,
    Path(vendor): Path<String>,
) -> Result<Data<Task>> {
    principal.require(Permission::WritePackages)?;
    sync_by_name(&state, encoded_name(&vendor)?).await
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
    let doc = crate::model::documents::get(&mut conn, package.id, super::sync::README_DOCUMENT)
        .await?
        .ok_or_else(|| Error::not_found(format!("{} has no README", package.name)))?;
    Ok(ok(serde_json::from_str(&doc.body).map_err(Error::internal)?))
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
    crate::http::download::serve_file(&state.registry, &file, &method, &headers, "application/zip")
        .await
}
