//! Push and delete, for team tokens that may publish (customers never write). NuGet.exe pushes a
//! multipart body (one part holding the .nupkg), usually chunked; other tools send the .nupkg
//! as the body. Either way the package is spooled to a temporary file (never held in memory,
//! refused past `MAX_UPLOAD_SIZE`), checked and its nuspec read from the zip before anything is
//! stored, then streamed from the file into the blob store. The nuspec is stored next to the
//! .nupkg, as the flat container serves both.

use std::convert::Infallible;

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use tokio::io::AsyncSeekExt;

use super::feed::Stored;
use super::read::{not_found, nupkg_name, nuspec_name, registry_id};
use super::version::NuGetVersion;
use super::{Call, FORMAT, package};
use crate::auth::Permission;
use crate::blobs::{ExtraDigests, PutOptions, file_stream, spool};
use crate::error::{Error, Result};
use crate::http::upload_size::refuse_announced_over;
use crate::model::owners;
use crate::model::packages::{self, FileCoord, FileDetails};
use crate::registry::Publish;

/// Room for the multipart framing around the package (boundaries, part headers).
const MULTIPART_OVERHEAD: u64 = 64 << 10;

/// The uploaded package in a temporary file: the multipart body's first part, or the body.
async fn spool_upload(call: &Call, body: Body) -> Result<(tokio::fs::File, u64)> {
    let max = call.state.config.max_upload_size;
    refuse_announced_over(&call.headers, max, MULTIPART_OVERHEAD, "the package")?;
    let content_type = call
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Ok(boundary) = multer::parse_boundary(content_type) else {
        return spool(body.into_data_stream(), max).await;
    };
    let limits = multer::Constraints::new()
        .size_limit(multer::SizeLimit::new().whole_stream(max.saturating_add(MULTIPART_OVERHEAD)));
    let mut multipart =
        multer::Multipart::with_constraints(body.into_data_stream(), boundary, limits);
    let field = multipart
        .next_field()
        .await
        .map_err(|e| Error::invalid(format!("the multipart body cannot be read: {e}")))?
        .ok_or_else(|| Error::invalid("the multipart body holds no package"))?;
    spool(field, max).await
}

/// What a push carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A .nupkg (`PUT /`, `PUT /api/v2/package/`).
    Package,
    /// A .snupkg for a version pushed before (`PUT /symbolpackage`).
    Symbols,
}

/// Stores a pushed package or symbol package; 409 for one that exists.
pub(super) async fn push(call: &Call, kind: Kind, body: Body) -> Result<Response> {
    call.principal.require(Permission::WritePackages)?;
    let (file, size) = spool_upload(call, body).await?;
    let reader = file.try_clone().await?.into_std().await;
    let symbols = kind == Kind::Symbols;
    let inspected = tokio::task::spawn_blocking(move || package::inspect(reader, size, symbols))
        .await
        .map_err(Error::internal)??;
    match kind {
        Kind::Package => store_package(call, file, inspected).await?,
        Kind::Symbols => super::symbols::store(call, file, inspected).await?,
    }
    Ok(StatusCode::CREATED.into_response())
}

async fn store_package(
    call: &Call,
    mut file: tokio::fs::File,
    inspected: package::Inspected,
) -> Result<()> {
    let spec = inspected.nuspec;
    let id = spec.id.to_lowercase();
    let version = spec.version.clone();
    refuse_existing(call, &id, &version).await?;
    file.rewind().await?;
    let nupkg = nupkg_name(&id, &version);
    let registry = &call.state.registry;
    let stored = registry
        .publish_with(
            Publish {
                at: FileCoord {
                    owner: &call.owner,
                    format: FORMAT,
                    package: &id,
                    version: &version,
                    file: &nupkg,
                },
                create_owner: true,
                version_metadata: Box::new(move |staged| {
                    let sha512 = hex::decode(staged.digests.sha512.as_deref().unwrap_or_default())
                        .unwrap_or_default();
                    let stored = Stored {
                        spec,
                        size: staged.size,
                        sha512: base64::engine::general_purpose::STANDARD.encode(sha512),
                    };
                    serde_json::to_value(stored).unwrap_or_default()
                }),
                file_properties: vec![("uploaded_by".into(), call.principal.display_name())],
                put: PutOptions {
                    extra_digests: ExtraDigests {
                        sha512: true,
                        ..ExtraDigests::default()
                    },
                    max_size: call.state.config.max_upload_size,
                    ..PutOptions::default()
                },
                tags: Vec::new(),
            },
            FileDetails {
                kind: "nupkg".into(),
                ..FileDetails::default()
            },
            file_stream(file),
        )
        .await?;
    let nuspec = Bytes::from(inspected.nuspec_bytes);
    let with_nuspec = registry
        .publish_with(
            Publish {
                at: FileCoord {
                    owner: &call.owner,
                    format: FORMAT,
                    package: &id,
                    version: &version,
                    file: &nuspec_name(&id),
                },
                create_owner: false,
                version_metadata: crate::registry::no_metadata(),
                file_properties: Vec::new(),
                put: PutOptions {
                    max_size: call.state.config.max_upload_size,
                    ..PutOptions::default()
                },
                tags: Vec::new(),
            },
            FileDetails {
                kind: "nuspec".into(),
                ..FileDetails::default()
            },
            futures_util::stream::once(async move { Ok::<_, Infallible>(nuspec) }),
        )
        .await;
    if let Err(e) = with_nuspec {
        // A version without its nuspec would be served half: take it back.
        registry.remove_version(stored.version_id).await?;
        return Err(e);
    }
    Ok(())
}

/// 409 for a version that exists (in any spelling NuGet reads as the same), before its
/// content is stored.
async fn refuse_existing(call: &Call, id: &str, version: &str) -> Result<()> {
    let mut conn = call.state.registry.db.pool().acquire().await?;
    let Some(owner) = owners::find(&mut conn, &call.owner).await? else {
        return Ok(());
    };
    let Some(package) = packages::find_package(&mut conn, owner.id, FORMAT, id).await? else {
        return Ok(());
    };
    match packages::find_version(&mut conn, package.id, version).await? {
        Some(found) => Err(Error::conflict(format!(
            "package {id} {} already exists",
            found.version
        ))),
        None => Ok(()),
    }
}

/// `DELETE /{id}/{version}` and `/api/v2/package/{id}/{version}` (NuGet.exe sends the id as
/// written).
pub(super) async fn delete(call: &Call, id: &str, version: &str) -> Result<Response> {
    call.principal.require(Permission::WritePackages)?;
    let id = registry_id(id)?;
    let version = NuGetVersion::parse(version)
        .map_err(|_| not_found(&id))?
        .normalized();
    call.state
        .registry
        .delete_version(&call.owner, FORMAT, &id, &version)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
