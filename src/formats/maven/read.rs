//! Reads: artifact files and their checksums, the artifact's and a SNAPSHOT version's
//! `maven-metadata.xml` (and checksums), and the artifact folder's listing. Each asks the owner's
//! visibility or the customer's grants first; metadata is served as rendered (a customer's copy
//! cut to its granted versions), checksums from the blob row or the rendered checksum.

use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use super::layout::{Checksum, Coords, METADATA, parse_file_name};
use super::metadata::Metadata;
use super::render::{checksum_document, snapshot_document};
use super::version::is_snapshot;
use super::{Call, FORMAT};
use crate::blobs::ExtraDigests;
use crate::blobs::digest::MultiHasher;
use crate::customers::View;
use crate::error::{Error, Result};
use crate::http::download::{serve_document, serve_file};
use crate::http::owner_access::{PackageRead, repository_view, require_package_read};
use crate::http::viewed::{self, DocumentAt, Viewed};
use crate::model::packages::{self, File, FileCoord};

const XML: &str = "text/xml";
const TEXT: &str = "text/plain";

fn not_found(what: &str) -> Error {
    Error::not_found(format!("{what} not found"))
}

/// `GET {group}/{artifact}/maven-metadata.xml[.checksum]`: every version the caller may read.
pub async fn artifact_metadata(
    call: &Call,
    coords: &Coords,
    checksum: Option<Checksum>,
) -> Result<Response> {
    let package = coords.package();
    let view = repository_view(&call.state, &call.principal, &call.owner, FORMAT).await?;
    if !view.allows_package(&package) {
        return Err(not_found(&format!("{}/{METADATA}", coords.path())));
    }
    if let Some(checksum) = checksum
        && view.version_key(&package).is_none()
    {
        // The whole document: its checksum was rendered with it.
        return stored(call, &package, &checksum_document(METADATA, checksum), TEXT).await;
    }
    let doc = viewed_metadata(call, &view, &package)
        .await?
        .ok_or_else(|| not_found(&format!("{}/{METADATA}", coords.path())))?;
    Ok(match checksum {
        None => serve(call, doc, XML),
        // A customer's cut copy is small and cached: its checksum is taken from it.
        Some(checksum) => {
            let mut hasher = MultiHasher::new(ExtraDigests::ALL);
            hasher.update(&doc.body);
            let value = checksum
                .of(&hasher.finish())
                .unwrap_or_default()
                .to_string();
            let tag = format!("{}.{}", doc.tag, checksum.extension());
            serve(
                call,
                Viewed {
                    body: Bytes::from(value),
                    tag,
                    last_modified: doc.last_modified,
                },
                TEXT,
            )
        }
    })
}

/// The artifact's metadata as `view` sees it: whole, or cut to a customer's granted versions.
async fn viewed_metadata(call: &Call, view: &View, package: &str) -> Result<Option<Viewed>> {
    let at = DocumentAt {
        owner: &call.owner,
        format: FORMAT,
        package,
        document: METADATA,
    };
    viewed::document(&call.state, view, at, |body| {
        let cut = Metadata::parse(body)?.retain_versions(|v| view.allows_version(package, v));
        Ok(Bytes::from(cut.to_xml()))
    })
    .await
}

/// `GET {group}/{artifact}/{x-SNAPSHOT}/maven-metadata.xml[.checksum]`.
pub async fn snapshot_metadata(
    call: &Call,
    coords: &Coords,
    version: &str,
    checksum: Option<Checksum>,
) -> Result<Response> {
    let package = coords.package();
    require_read(call, &package, version).await?;
    let document = snapshot_document(version);
    let name = match checksum {
        Some(checksum) => checksum_document(&document, checksum),
        None => document,
    };
    let content_type = if checksum.is_some() { TEXT } else { XML };
    stored(call, &package, &name, content_type).await
}

/// A document as stored (for a caller that may read all of it).
async fn stored(call: &Call, package: &str, name: &str, content_type: &str) -> Result<Response> {
    let state = &call.state;
    let doc = state
        .registry
        .documents
        .get(&state.registry.db, &call.owner, FORMAT, package, name)
        .await?
        .ok_or_else(|| not_found(name))?;
    Ok(serve_document(
        doc.body.clone(),
        &doc.sha256,
        doc.updated_at,
        &call.method,
        &call.headers,
        content_type,
    ))
}

fn serve(call: &Call, doc: Viewed, content_type: &str) -> Response {
    doc.serve(&call.method, &call.headers, content_type)
}

async fn require_read(call: &Call, package: &str, version: &str) -> Result<()> {
    let read = PackageRead {
        owner: &call.owner,
        format: FORMAT,
        package,
        version,
    };
    require_package_read(&call.state, &call.principal, read).await
}

/// `GET {group}/{artifact}/{version}/{file}[.checksum]`; a SNAPSHOT's file named without a
/// build (`lib-1.0-SNAPSHOT.jar`) is its newest build's, unless one was deployed under that name.
pub async fn file(
    call: &Call,
    coords: &Coords,
    version: &str,
    file: &str,
    checksum: Option<Checksum>,
) -> Result<Response> {
    let package = coords.package();
    require_read(call, &package, version).await?;
    let registry = &call.state.registry;
    let at = FileCoord {
        owner: &call.owner,
        format: FORMAT,
        package: &package,
        version,
        file,
    };
    let mut found = match registry.find_file(at).await {
        Err(Error::NotFound(_)) if is_snapshot(version) => {
            newest_build(call, coords, version, file).await?
        }
        other => other?,
    };
    match checksum {
        None => {
            serve_file(
                registry,
                &found,
                &call.method,
                &call.headers,
                content_type(file),
                call.principal.customer_id(),
            )
            .await
        }
        Some(checksum) => {
            // Stored at upload; only content first stored by another format lacks them.
            registry
                .ensure_digests(&mut found.blob, ExtraDigests::ALL)
                .await?;
            let value = checksum
                .of(&found.blob.digests())
                .unwrap_or_default()
                .to_string();
            Ok(serve_document(
                Bytes::from(value),
                &format!("{}.{}", found.blob.sha256, checksum.extension()),
                found.created_at,
                &call.method,
                &call.headers,
                TEXT,
            ))
        }
    }
}

/// The newest timestamped build of a SNAPSHOT's file with the classifier and extension of
/// `file` (named `{artifact}-{x-SNAPSHOT}[-classifier].ext`).
async fn newest_build(call: &Call, coords: &Coords, version: &str, file: &str) -> Result<File> {
    let missing = || not_found(&format!("file {file}"));
    let wanted = parse_file_name(&coords.artifact, version, file).map_err(|_| missing())?;
    if wanted.build.is_some() {
        return Err(missing());
    }
    let registry = &call.state.registry;
    let package = registry
        .find_package(&call.owner, FORMAT, &coords.package())
        .await
        .map_err(|_| missing())?;
    let version_row = registry
        .find_version(package.id, version)
        .await
        .map_err(|_| missing())?;
    let mut conn = registry.db.pool().acquire().await?;
    let files = packages::list_files_of_kind(
        &mut conn,
        version_row.id,
        &wanted.extension,
        Some(&wanted.classifier),
    )
    .await?;
    files
        .into_iter()
        .filter_map(|f| {
            let build = parse_file_name(&coords.artifact, version, &f.name)
                .ok()?
                .build?;
            Some(((build.number, build.timestamp), f))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, f)| f)
        .ok_or_else(missing)
}

fn content_type(file: &str) -> &'static str {
    let extension = file.rsplit('.').next().unwrap_or_default();
    match extension {
        "pom" | "xml" => XML,
        "jar" | "war" | "ear" => "application/java-archive",
        "module" | "json" => "application/json",
        "asc" => "application/pgp-signature",
        _ => "application/octet-stream",
    }
}

/// `GET {group}/{artifact}/`: the versions the caller may read, as JSON.
pub async fn listing(call: &Call, coords: &Coords) -> Result<Response> {
    let package = coords.package();
    let view = repository_view(&call.state, &call.principal, &call.owner, FORMAT).await?;
    let missing = || not_found(&format!("{}/", coords.path()));
    if !view.allows_package(&package) {
        return Err(missing());
    }
    let doc = viewed_metadata(call, &view, &package)
        .await?
        .ok_or_else(missing)?;
    let meta = Metadata::parse(&doc.body)?;
    let versions = meta.versioning.versions.unwrap_or_default().version;
    Ok(axum::Json(serde_json::json!({
        "groupId": meta.group_id,
        "artifactId": meta.artifact_id,
        "latest": meta.versioning.latest,
        "release": meta.versioning.release,
        "versions": versions,
    }))
    .into_response())
}
