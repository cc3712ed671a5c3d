//! Arch Linux pacman repositories in two dialects over one model:
//! - Vieter's (seed 004) at the root: `GET|HEAD /{repo}/{arch}/{filename}` (a database, a package
//!   file, or a package's `desc` by name and version), `POST /{repo}/publish`, and `DELETE` of a
//!   package (`/{repo}/{arch}/{pkg}`), an arch-repo (`/{repo}/{arch}`) or the repo (`/{repo}`).
//!   A Vieter repo is an owner with one repository of the same name. These routes sit below
//!   every route with a fixed first segment (`Format::root_routes`), and repo names that such
//!   routes take (`AppState::reserved_roots`) are refused.
//! - Gitea's under `/api/packages/{owner}/arch/`: `PUT {repository}` (upload),
//!   `GET|HEAD {repository}/{arch}/{filename}`, `DELETE {repository}/{name}/{version}/{arch}`.
//!
//! A package is a pkgname, a version `[epoch:]pkgver-pkgrel`, and its file is stored once with a
//! row in each arch-repo that lists it (`place`). Each package's database entries are rendered
//! on every change (`render`); an arch-repo's `.db` and `.files` are assembled from them when
//! read (`database`).

mod database;
mod db_archive;
mod delete;
mod desc;
mod filename;
mod metadata;
mod package_file;
mod pkginfo;
mod place;
mod publish;
mod read;
mod render;
mod rules;
mod vercmp;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use crate::auth::Principal;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::registry::RenderHook;
use crate::state::AppState;
use place::{ArchRepo, Repository, check_repository_name};

const FORMAT: &str = "pacman";

/// Arch Linux package repositories.
pub struct Pacman;

impl super::Format for Pacman {
    fn name(&self) -> &'static str {
        FORMAT
    }

    fn routes(&self) -> Router<AppState> {
        Router::new().route("/api/packages/{owner}/arch/{*path}", any(gitea))
    }

    fn root_routes(&self) -> Router<AppState> {
        Router::new()
            .route("/{repo}", any(vieter_repo))
            .route("/{repo}/{second}", any(vieter_arch_repo))
            .route("/{repo}/{arch}/{filename}", any(vieter_file))
    }

    fn rules(&self) -> Arc<dyn crate::package_rules::PackageRules> {
        Arc::new(rules::PacmanRules)
    }

    fn render_hook(&self, _config: &Arc<Config>) -> Option<RenderHook> {
        Some(render::hook())
    }
}

/// A path that names nothing here: the server's answer to an unknown route, since Vieter's
/// routes catch every path of their shape.
fn not_found() -> Error {
    crate::http::error::no_such_route()
}

fn method_not_allowed() -> Result<Response> {
    Ok(StatusCode::METHOD_NOT_ALLOWED.into_response())
}

fn is_read(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

/// A Vieter repo named in the first segment: a path under a reserved name is not this format's
/// (a plain 404), nor is one whose repo or arch could not have been published.
fn vieter_place<'a>(
    state: &AppState,
    repo: &'a str,
    arch: Option<&'a str>,
) -> Result<Repository<'a>> {
    check_repository_name(repo, &state.reserved_roots).map_err(|_| not_found())?;
    if let Some(arch) = arch {
        pkginfo::check_arch(arch).map_err(|_| not_found())?;
    }
    Ok(Repository {
        owner: repo,
        name: repo,
    })
}

/// `DELETE /{repo}`.
async fn vieter_repo(
    State(state): State<AppState>,
    principal: Principal,
    method: Method,
    Path(repo): Path<String>,
) -> Result<Response> {
    let repository = vieter_place(&state, &repo, None)?;
    match method {
        Method::DELETE => delete::repository(&state, &principal, repository).await,
        _ if is_read(&method) => Err(not_found()),
        _ => method_not_allowed(),
    }
}

/// `POST /{repo}/publish` and `DELETE /{repo}/{arch}`.
async fn vieter_arch_repo(
    State(state): State<AppState>,
    principal: Principal,
    method: Method,
    headers: HeaderMap,
    Path((repo, second)): Path<(String, String)>,
    body: Body,
) -> Result<Response> {
    if method == Method::POST && second == "publish" {
        principal.require(crate::auth::Permission::WritePackages)?;
        // The name is checked in full here, so a reserved one gets its reason.
        check_repository_name(&repo, &state.reserved_roots)?;
        // Vieter refuses a publish that does not announce its length.
        if !headers.contains_key(header::CONTENT_LENGTH) {
            return Err(Error::LengthRequired(
                "Content-Length is required to publish a package".into(),
            ));
        }
        let upload = publish::Upload {
            state: &state,
            principal: &principal,
            repository: Repository {
                owner: &repo,
                name: &repo,
            },
            headers: &headers,
        };
        return publish::publish(upload, body).await;
    }
    let repository = vieter_place(&state, &repo, Some(&second))?;
    let at = ArchRepo {
        repository,
        arch: &second,
    };
    match method {
        Method::DELETE => delete::arch_repo(&state, &principal, at).await,
        _ if is_read(&method) => Err(not_found()),
        _ => method_not_allowed(),
    }
}

/// `GET|HEAD|DELETE /{repo}/{arch}/{filename}`, and `PUT` of a package's signature.
async fn vieter_file(
    State(state): State<AppState>,
    principal: Principal,
    method: Method,
    headers: HeaderMap,
    Path((repo, arch, filename)): Path<(String, String, String)>,
    body: Body,
) -> Result<Response> {
    let repository = vieter_place(&state, &repo, Some(&arch))?;
    let at = ArchRepo {
        repository,
        arch: &arch,
    };
    match method {
        Method::DELETE => delete::package(&state, &principal, at, &filename).await,
        Method::PUT => {
            let upload = publish::Upload {
                state: &state,
                principal: &principal,
                repository,
                headers: &headers,
            };
            publish::signature(upload, &arch, &filename, body).await
        }
        _ if is_read(&method) => {
            let read = read::Read {
                state: &state,
                principal: &principal,
                at,
                method: &method,
                headers: &headers,
            };
            read::read(read, &filename).await
        }
        _ => method_not_allowed(),
    }
}

/// Gitea's `/api/packages/{owner}/arch/…`.
async fn gitea(
    State(state): State<AppState>,
    principal: Principal,
    method: Method,
    headers: HeaderMap,
    Path((owner, path)): Path<(String, String)>,
    body: Body,
) -> Result<Response> {
    let segments: Vec<&str> = path.split('/').collect();
    let repository = |name| -> Result<Repository> {
        check_repository_name(name, &[]).map_err(|_| not_found())?;
        Ok(Repository {
            owner: &owner,
            name,
        })
    };
    match (segments.as_slice(), &method) {
        ([name], &Method::PUT) => {
            check_repository_name(name, &[])?;
            let upload = publish::Upload {
                state: &state,
                principal: &principal,
                repository: Repository {
                    owner: &owner,
                    name,
                },
                headers: &headers,
            };
            publish::publish(upload, body).await
        }
        ([name, arch, filename], m) if is_read(m) => {
            pkginfo::check_arch(arch).map_err(|_| not_found())?;
            let read = read::Read {
                state: &state,
                principal: &principal,
                at: ArchRepo {
                    repository: repository(name)?,
                    arch,
                },
                method: &method,
                headers: &headers,
            };
            read::read(read, filename).await
        }
        ([name, arch, filename], &Method::PUT) => {
            pkginfo::check_arch(arch).map_err(|_| not_found())?;
            let upload = publish::Upload {
                state: &state,
                principal: &principal,
                repository: repository(name)?,
                headers: &headers,
            };
            publish::signature(upload, arch, filename, body).await
        }
        ([name, package, version, arch], &Method::DELETE) => {
            delete::version(
                &state,
                &principal,
                repository(name)?,
                package,
                version,
                arch,
            )
            .await
        }
        // A path that names nothing this dialect has, whatever the method meant to do there.
        _ if is_read(&method) || method == Method::PUT || method == Method::DELETE => {
            Err(not_found())
        }
        _ => method_not_allowed(),
    }
}
