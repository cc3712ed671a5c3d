//! Publishing a package file (Vieter's `POST /{repo}/publish`, Gitea's
//! `PUT /api/packages/{owner}/arch/{repository}`): the body is spooled to a temporary file
//! (never held in memory), read in one streaming pass for its `.PKGINFO` and file list
//! (`package_file`), and stored once with a row in each arch-repo it belongs to: its own
//! architecture's, or for an `any` package the default architecture's and every one the
//! repository already has. The render hook then lists it in those arch-repos' databases. A
//! version a newer one replaces keeps its files unless `KEEP_REPLACED_VERSIONS` is off.

use std::cmp::Ordering;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::FORMAT;
use super::filename::{extension_of, package_file_name, parse_package};
use super::metadata::{MAX_SIGNATURE, PACKAGE, PackageMetadata, SIGNATURE};
use super::package_file::{PackageContents, read_package};
use super::pkginfo::{check_arch, check_name, check_version};
use super::place::{Repository, check_repository_name, heads_of, qualifier, stored_name};
use super::vercmp::vercmp;
use crate::auth::{Permission, Principal};
use crate::blobs::{ExtraDigests, PutOptions, file_stream, spool};
use crate::error::{Error, Result};
use crate::http::upload_size::refuse_announced_over;
use crate::model::documents::{self, Scope};
use crate::model::owners;
use crate::model::packages::{self, FileCoord, FileDetails};
use crate::registry::{Publish, no_metadata};
use crate::state::AppState;

/// A publish as one of the dialects received it.
pub struct Upload<'a> {
    pub state: &'a AppState,
    pub principal: &'a Principal,
    pub repository: Repository<'a>,
    pub headers: &'a HeaderMap,
}

pub async fn publish(upload: Upload<'_>, body: axum::body::Body) -> Result<Response> {
    let Upload {
        state,
        principal,
        repository,
        headers,
    } = upload;
    principal.require(Permission::WritePackages)?;
    check_repository_name(repository.name, &[])?;
    check_arch(&state.config.default_arch)?;
    let max_size = state.config.max_upload_size;
    refuse_announced_over(headers, max_size, 0, "the package")?;
    let (mut file, size) = spool(body.into_data_stream(), max_size).await?;
    if size == 0 {
        return Err(Error::unprocessable(
            "not a pacman package: the body is empty",
        ));
    }
    let mut magic = [0u8; 6];
    file.rewind().await?;
    let read = file.read(&mut magic).await?;
    let extension = extension_of(&magic[..read]);
    file.rewind().await?;
    let reader = file.try_clone().await?.into_std().await;
    let contents =
        tokio::task::spawn_blocking(move || read_package(std::io::BufReader::new(reader)))
            .await
            .map_err(Error::internal)??;
    file.rewind().await?;
    let PackageContents { info, files } = contents;
    check_name(&info.name)?;
    check_version(&info.version)?;
    check_arch(&info.arch)?;
    let filename = package_file_name(&info.name, &info.version, &info.arch, extension);

    let arches = arch_repos_for(state, repository, &info.arch).await?;
    let metadata = serde_json::to_value(PackageMetadata {
        info: info.clone(),
        files,
    })
    .map_err(Error::internal)?;
    let names: Vec<(String, FileDetails)> = arches
        .iter()
        .map(|arch| {
            let qualifier = qualifier(repository.name, arch);
            let details = FileDetails {
                kind: PACKAGE.into(),
                qualifier: qualifier.clone(),
                metadata: metadata.clone(),
            };
            (stored_name(&qualifier, &filename), details)
        })
        .collect();
    let first = names[0].0.clone();
    let publish = Publish {
        at: FileCoord {
            owner: repository.owner,
            format: FORMAT,
            package: &info.name,
            version: &info.version,
            file: &first,
        },
        create_owner: true,
        version_metadata: no_metadata(),
        file_properties: vec![("uploaded_by".into(), principal.display_name())],
        put: PutOptions {
            max_size,
            extra_digests: ExtraDigests {
                md5: true,
                ..ExtraDigests::NONE
            },
            ..PutOptions::default()
        },
        tags: Vec::new(),
    };
    state
        .registry
        .publish_as(publish, names, file_stream(file))
        .await
        .map_err(|e| match e {
            Error::Conflict(_) => Error::conflict(format!(
                "{filename} is already in repository {}",
                repository.name
            )),
            other => other,
        })?;
    if !state.config.keep_replaced_versions {
        for arch in &arches {
            let qualifier = qualifier(repository.name, arch);
            remove_replaced(
                state,
                repository.owner,
                &info.name,
                &info.version,
                &qualifier,
            )
            .await?;
        }
    }
    Ok((
        StatusCode::CREATED,
        format!(
            "{filename} published to {}/{{{}}}\n",
            repository.name,
            arches.join(",")
        ),
    )
        .into_response())
}

/// The architectures a package of `arch` is listed under: its own, or for `any` the default one
/// and every one the repository has.
async fn arch_repos_for(
    state: &AppState,
    repository: Repository<'_>,
    arch: &str,
) -> Result<Vec<String>> {
    if arch != "any" {
        return Ok(vec![arch.to_string()]);
    }
    let mut arches = vec![state.config.default_arch.clone()];
    let mut conn = state.registry.db.pool().acquire().await?;
    if let Some(owner) = owners::find(&mut conn, repository.owner).await? {
        let prefix = heads_of(repository.name);
        let scope = Scope::repository(owner.id, FORMAT);
        for head in documents::names_with_prefix(&mut conn, scope, &prefix).await? {
            let arch = head[prefix.len()..].to_string();
            if !arches.contains(&arch) && arch != "any" {
                arches.push(arch);
            }
        }
    }
    Ok(arches)
}

/// Deletes the files of the package's versions older than `version` in the arch-repo.
async fn remove_replaced(
    state: &AppState,
    owner: &str,
    name: &str,
    version: &str,
    qualifier: &str,
) -> Result<()> {
    let registry = &state.registry;
    let package = registry.find_package(owner, FORMAT, name).await?;
    for older in registry.versions(package.id).await? {
        if vercmp(&older.version, version) != Ordering::Less {
            continue;
        }
        let mut stale = Vec::new();
        {
            let mut conn = registry.db.pool().acquire().await?;
            for kind in [PACKAGE, SIGNATURE] {
                stale.extend(
                    packages::list_files_of_kind(&mut conn, older.id, kind, Some(qualifier))
                        .await?,
                );
            }
        }
        for file in stale {
            let at = FileCoord {
                owner,
                format: FORMAT,
                package: name,
                version: &older.version,
                file: &file.name,
            };
            registry.delete_file(at).await?;
        }
    }
    Ok(())
}

/// `PUT {arch-repo}/{package file}.sig`: a detached OpenPGP signature of a package file the
/// arch-repo lists, served beside it and written into its `desc` (`%PGPSIG%`), as `repo-add`
/// does for a `.sig` it finds next to the package.
pub async fn signature(
    upload: Upload<'_>,
    arch: &str,
    filename: &str,
    body: axum::body::Body,
) -> Result<Response> {
    let (state, principal, repository) = (upload.state, upload.principal, upload.repository);
    principal.require(Permission::WritePackages)?;
    let package_file = filename
        .strip_suffix(".sig")
        .and_then(parse_package)
        .ok_or_else(|| {
            Error::invalid(format!(
                "{filename} is not a signature's name: the package file's name followed by .sig"
            ))
        })?;
    refuse_announced_over(upload.headers, MAX_SIGNATURE, 0, "a signature")?;
    let (mut file, size) = spool(body.into_data_stream(), MAX_SIGNATURE).await?;
    let mut first = [0u8; 1];
    file.rewind().await?;
    // A binary OpenPGP signature packet: old format (tag 2) or new format.
    if size == 0 || file.read(&mut first).await? == 0 || !matches!(first[0], 0x88..=0x8a | 0xc2) {
        return Err(Error::unprocessable(
            "not an OpenPGP signature: upload the binary one `gpg --detach-sign` writes",
        ));
    }
    file.rewind().await?;
    let qualifier = qualifier(repository.name, arch);
    let signed = stored_name(&qualifier, &filename[..filename.len() - 4]);
    let at = FileCoord {
        owner: repository.owner,
        format: FORMAT,
        package: package_file.name,
        version: package_file.version,
        file: &signed,
    };
    state.registry.find_file(at).await.map_err(|_| {
        Error::not_found(format!(
            "{} is not in {qualifier}: publish the package before its signature",
            &filename[..filename.len() - 4]
        ))
    })?;
    let name = stored_name(&qualifier, filename);
    let publish = Publish {
        at: FileCoord { file: &name, ..at },
        create_owner: false,
        version_metadata: no_metadata(),
        file_properties: vec![("uploaded_by".into(), principal.display_name())],
        put: PutOptions {
            max_size: MAX_SIGNATURE,
            ..PutOptions::default()
        },
        tags: Vec::new(),
    };
    let details = FileDetails {
        kind: SIGNATURE.into(),
        qualifier: qualifier.clone(),
        metadata: serde_json::json!({}),
    };
    state
        .registry
        .publish_with(publish, details, file_stream(file))
        .await
        .map_err(|e| match e {
            Error::Conflict(_) => Error::conflict(format!("{filename} is already in {qualifier}")),
            other => other,
        })?;
    Ok((
        StatusCode::CREATED,
        format!("{filename} published to {qualifier}\n"),
    )
        .into_response())
}
