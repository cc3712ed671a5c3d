//! Deleting from an arch-repo: one package by name (all its versions there), one version of one
//! architecture (Gitea), a whole arch-repo or a whole repository (Vieter). Files go one by one
//! through the registry (a version goes with its last file, a package with its last version) and
//! each change re-renders the package's entries; an arch-repo deleted whole loses its head too,
//! so its databases are gone rather than empty.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::FORMAT;
use super::filename::parse_package;
use super::metadata::{PACKAGE, SIGNATURE};
use super::place::{ArchRepo, Repository, base_name, head_document, heads_of};
use crate::auth::{Permission, Principal};
use crate::error::{Error, Result};
use crate::model::documents::{self, Scope};
use crate::model::owners;
use crate::model::packages::{self, File, FileCoord};
use crate::state::AppState;

/// A file to delete, with where it is.
struct Doomed {
    package: String,
    version: String,
    file: File,
}

async fn delete_all(state: &AppState, owner: &str, doomed: Vec<Doomed>) -> Result<usize> {
    let count = doomed.len();
    for d in doomed {
        let at = FileCoord {
            owner,
            format: FORMAT,
            package: &d.package,
            version: &d.version,
            file: &d.file.name,
        };
        match state.registry.delete_file(at).await {
            // A concurrent delete got there first.
            Ok(()) | Err(Error::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(count)
}

/// The files of one package in an arch-repo, every version, selected by `keep`.
async fn package_files(
    state: &AppState,
    owner: &str,
    name: &str,
    qualifier: Option<&str>,
    keep: impl Fn(&str, &File) -> bool,
) -> Result<Vec<Doomed>> {
    let registry = &state.registry;
    let package = match registry.find_package(owner, FORMAT, name).await {
        Ok(package) => package,
        Err(Error::NotFound(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut conn = registry.db.pool().acquire().await?;
    let mut doomed = Vec::new();
    for version in packages::all_versions(&mut conn, package.id).await? {
        for kind in [PACKAGE, SIGNATURE] {
            for file in packages::list_files_of_kind(&mut conn, version.id, kind, qualifier).await?
            {
                if keep(&version.version, &file) {
                    doomed.push(Doomed {
                        package: package.name.clone(),
                        version: version.version.clone(),
                        file,
                    });
                }
            }
        }
    }
    Ok(doomed)
}

fn deleted(what: String) -> Response {
    (StatusCode::OK, format!("{what} deleted\n")).into_response()
}

/// Vieter's `DELETE /{repo}/{arch}/{pkg}`: the package, by name, from one arch-repo.
pub async fn package(
    state: &AppState,
    principal: &Principal,
    at: ArchRepo<'_>,
    name: &str,
) -> Result<Response> {
    principal.require(Permission::WritePackages)?;
    let qualifier = at.qualifier();
    let doomed = package_files(
        state,
        at.repository.owner,
        name,
        Some(&qualifier),
        |_, _| true,
    )
    .await?;
    if delete_all(state, at.repository.owner, doomed).await? == 0 {
        return Err(Error::not_found(format!("{name} is not in {qualifier}")));
    }
    Ok(deleted(format!("{name} in {qualifier}")))
}

/// Gitea's `DELETE …/arch/{repository}/{name}/{version}/{arch}`: one version of the package built
/// for `arch`, from every arch-repo of the repository that lists it.
pub async fn version(
    state: &AppState,
    principal: &Principal,
    repository: Repository<'_>,
    name: &str,
    version: &str,
    arch: &str,
) -> Result<Response> {
    principal.require(Permission::WritePackages)?;
    let prefix = format!("{}/", repository.name);
    let doomed = package_files(state, repository.owner, name, None, |v, file| {
        v == version
            && file.details.qualifier.starts_with(&prefix)
            && parse_package(base_name(file.name.trim_end_matches(".sig")))
                .is_some_and(|f| f.arch == arch)
    })
    .await?;
    if delete_all(state, repository.owner, doomed).await? == 0 {
        return Err(Error::not_found(format!(
            "{name} {version} ({arch}) is not in repository {}",
            repository.name
        )));
    }
    Ok(deleted(format!("{name} {version} ({arch})")))
}

/// Vieter's `DELETE /{repo}/{arch}`: every package of the arch-repo, and the arch-repo.
pub async fn arch_repo(
    state: &AppState,
    principal: &Principal,
    at: ArchRepo<'_>,
) -> Result<Response> {
    principal.require(Permission::WritePackages)?;
    let qualifier = at.qualifier();
    if !remove_arch_repo(state, at.repository.owner, &qualifier).await? {
        return Err(Error::not_found(format!("no arch-repo {qualifier}")));
    }
    Ok(deleted(format!("arch-repo {qualifier}")))
}

/// Vieter's `DELETE /{repo}`: every arch-repo of the repository.
pub async fn repository(
    state: &AppState,
    principal: &Principal,
    repository: Repository<'_>,
) -> Result<Response> {
    principal.require(Permission::WritePackages)?;
    let prefix = heads_of(repository.name);
    let heads = {
        let mut conn = state.registry.db.pool().acquire().await?;
        match owners::find(&mut conn, repository.owner).await? {
            Some(owner) => {
                let scope = Scope::repository(owner.id, FORMAT);
                documents::names_with_prefix(&mut conn, scope, &prefix).await?
            }
            None => Vec::new(),
        }
    };
    if heads.is_empty() {
        return Err(Error::not_found(format!(
            "no repository {}",
            repository.name
        )));
    }
    for head in heads {
        let qualifier = format!("{}/{}", repository.name, &head[prefix.len()..]);
        remove_arch_repo(state, repository.owner, &qualifier).await?;
    }
    Ok(deleted(format!("repository {}", repository.name)))
}

/// Deletes every file listed in the arch-repo, then its head; false when it did not exist.
async fn remove_arch_repo(state: &AppState, owner: &str, qualifier: &str) -> Result<bool> {
    let mut doomed = Vec::new();
    for kind in [PACKAGE, SIGNATURE] {
        for found in state
            .registry
            .files_by_qualifier(owner, FORMAT, kind, qualifier)
            .await?
        {
            doomed.push(Doomed {
                package: found.package,
                version: found.version,
                file: found.file,
            });
        }
    }
    delete_all(state, owner, doomed).await?;
    let mut tx = state.registry.db.begin_write().await?;
    let Some(owner) = owners::find(&mut tx, owner).await? else {
        return Ok(false);
    };
    let scope = Scope::repository(owner.id, FORMAT);
    let head = head_document(qualifier);
    let existed = documents::get(&mut tx, scope, &head).await?.is_some();
    documents::delete(&mut tx, scope, &head).await?;
    tx.commit().await?;
    Ok(existed)
}
