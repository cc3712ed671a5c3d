//! Uploads: artifact files (a POM is read and checked before it is stored), their checksums
//! (checked against the digests computed while the file streamed in, never stored apart), and
//! uploaded `maven-metadata.xml` files (read and checked, then dropped: the registry writes its
//! own). Releases are immutable unless `ALLOW_DESCRIPTOR_REDEPLOY` lets a release's POM be
//! replaced; a SNAPSHOT's non-timestamped files may be replaced, and its builds beyond the newest
//! `SNAPSHOT_BUILDS_KEPT` are removed when a new one arrives.

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;

use super::layout::{Checksum, Coords, parse_file_name};
use super::metadata::Metadata;
use super::pom::{Expected, Pom};
use super::version::is_snapshot;
use super::{Call, FORMAT};
use crate::auth::Permission;
use crate::blobs::{ExtraDigests, PutOptions};
use crate::error::{Error, Result};
use crate::http::upload_size::refuse_announced_over;
use crate::model::packages::{self, FileCoord, FileDetails};
use crate::registry::Publish;

/// A request body's chunks.
type AxumResult<T> = std::result::Result<T, axum::Error>;

/// The largest POM or `maven-metadata.xml` taken (they are read whole to be checked).
const MAX_DOCUMENT: u64 = 4 << 20;

/// The largest checksum file (a SHA-512 in hex, maybe followed by a file name).
const MAX_CHECKSUM: u64 = 1024;

/// `PUT {group}/{artifact}/{version}/{file}`.
pub async fn file(
    call: &Call,
    coords: &Coords,
    version: &str,
    file: &str,
    body: Body,
) -> Result<Response> {
    call.principal.require(Permission::WritePackages)?;
    let name = parse_file_name(&coords.artifact, version, file)?;
    let config = &call.state.config;
    let max_size = config.max_upload_size;
    refuse_announced_over(&call.headers, max_size, 0, file)?;
    let package = coords.package();
    let at = FileCoord {
        owner: &call.owner,
        format: FORMAT,
        package: &package,
        version,
        file,
    };
    let snapshot = is_snapshot(version);
    let is_pom = name.extension == "pom" && name.classifier.is_empty();
    let (content, pom): (BoxStream<'static, AxumResult<Bytes>>, Option<Pom>) = if is_pom {
        let bytes = read_whole(body, MAX_DOCUMENT.min(max_size)).await?;
        let expected = Expected {
            group: &coords.group,
            artifact: &coords.artifact,
            version,
        };
        let pom = Pom::parse(&bytes, &expected)?;
        (
            futures_util::stream::once(async { Ok(bytes) }).boxed(),
            Some(pom),
        )
    } else {
        (body.into_data_stream().boxed(), None)
    };
    let replaceable =
        (snapshot && name.build.is_none()) || (is_pom && config.allow_descriptor_redeploy);
    let registry = &call.state.registry;
    if replaceable {
        match registry.delete_file(at).await {
            Ok(()) | Err(Error::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    let pom_json = pom
        .map(|p| serde_json::to_value(p).map_err(Error::internal))
        .transpose()?;
    let creation_metadata = pom_json.clone().unwrap_or_else(|| serde_json::json!({}));
    let build = name.build.clone();
    let details = FileDetails {
        kind: name.extension,
        qualifier: name.classifier,
        metadata: match &build {
            Some(b) => serde_json::json!({"timestamp": b.timestamp, "buildNumber": b.number}),
            None => serde_json::json!({}),
        },
    };
    let publish = Publish {
        at,
        create_owner: true,
        version_metadata: Box::new(move |_| creation_metadata),
        file_properties: vec![("uploaded_by".into(), call.principal.display_name())],
        put: PutOptions {
            extra_digests: ExtraDigests::ALL,
            max_size,
            ..PutOptions::default()
        },
        tags: Vec::new(),
    };
    let stored = registry.publish_with(publish, details, content).await?;
    if let Some(pom_json) = pom_json {
        // A version that existed before this POM (another build, or its jar first) keeps its
        // first metadata until told otherwise; a new one already has the POM's.
        let current = registry.find_package(&call.owner, FORMAT, &package).await?;
        let current = registry.find_version(current.id, version).await?;
        if current.metadata != pom_json {
            registry
                .set_versions_metadata(&[(stored.version_id, pom_json)])
                .await?;
        }
    }
    let kept = config.snapshot_builds_kept;
    if build.is_some() && kept > 0 {
        prune_builds(call, coords, version, stored.version_id, kept).await?;
    }
    Ok(StatusCode::CREATED.into_response())
}

/// Removes the files of a SNAPSHOT's builds older than its newest `kept`.
async fn prune_builds(
    call: &Call,
    coords: &Coords,
    version: &str,
    version_id: i64,
    kept: u32,
) -> Result<()> {
    let registry = &call.state.registry;
    let files = {
        let mut conn = registry.db.pool().acquire().await?;
        packages::list_files(&mut conn, version_id).await?
    };
    let builds: Vec<(u32, String)> = files
        .iter()
        .filter_map(|f| {
            let build = parse_file_name(&coords.artifact, version, &f.name)
                .ok()?
                .build?;
            Some((build.number, f.name.clone()))
        })
        .collect();
    let mut numbers: Vec<u32> = builds.iter().map(|(n, _)| *n).collect();
    numbers.sort_unstable_by(|a, b| b.cmp(a));
    numbers.dedup();
    let Some(&oldest_kept) = numbers.get(kept as usize - 1) else {
        return Ok(());
    };
    let package = coords.package();
    for (number, file) in builds.iter().filter(|(n, _)| *n < oldest_kept) {
        tracing::debug!(
            package,
            version,
            number,
            file,
            "removing an old SNAPSHOT build"
        );
        let at = FileCoord {
            owner: &call.owner,
            format: FORMAT,
            package: &package,
            version,
            file,
        };
        match registry.delete_file(at).await {
            Ok(()) | Err(Error::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `PUT {file}.{md5,sha1,sha256,sha512}`: 201 when it is the stored file's checksum, 400 (and
/// nothing changes) when not; the checksum itself is never stored.
pub async fn checksum(
    call: &Call,
    coords: &Coords,
    version: &str,
    file: &str,
    checksum: Checksum,
    body: Body,
) -> Result<Response> {
    call.principal.require(Permission::WritePackages)?;
    let sent = read_checksum(body, checksum).await?;
    let package = coords.package();
    let registry = &call.state.registry;
    let mut found = registry
        .find_file(FileCoord {
            owner: &call.owner,
            format: FORMAT,
            package: &package,
            version,
            file,
        })
        .await
        .map_err(|e| match e {
            Error::NotFound(_) => {
                Error::not_found(format!("{file} not found: upload it before its checksum"))
            }
            other => other,
        })?;
    registry
        .ensure_digests(&mut found.blob, ExtraDigests::ALL)
        .await?;
    let digests = found.blob.digests();
    let actual = checksum.of(&digests).unwrap_or_default();
    if !actual.eq_ignore_ascii_case(&sent) {
        return Err(Error::invalid(format!(
            "{} checksum {sent} does not match {file}, whose {} is {actual}",
            checksum.extension(),
            checksum.extension()
        )));
    }
    Ok(StatusCode::CREATED.into_response())
}

/// A checksum file's value: its first word, hex of the algorithm's length.
async fn read_checksum(body: Body, checksum: Checksum) -> Result<String> {
    let bytes = read_whole(body, MAX_CHECKSUM).await?;
    let text = std::str::from_utf8(&bytes).unwrap_or_default();
    let value = text.split_whitespace().next().unwrap_or_default();
    let length = match checksum {
        Checksum::Md5 => 32,
        Checksum::Sha1 => 40,
        Checksum::Sha256 => 64,
        Checksum::Sha512 => 128,
    };
    if value.len() != length || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::invalid(format!(
            "a .{} file holds {length} hex digits",
            checksum.extension()
        )));
    }
    Ok(value.to_ascii_lowercase())
}

/// `PUT …/maven-metadata.xml[.checksum]` (the artifact's, or a SNAPSHOT version's): the document
/// is read and must name the path's group, artifact (and version), then dropped, since the
/// registry renders its own; its checksums, which can only match the client's copy, are taken
/// without a check.
pub async fn metadata(
    call: &Call,
    coords: &Coords,
    version: Option<&str>,
    checksum: Option<Checksum>,
    body: Body,
) -> Result<Response> {
    call.principal.require(Permission::WritePackages)?;
    if let Some(checksum) = checksum {
        read_checksum(body, checksum).await?;
        return Ok(StatusCode::CREATED.into_response());
    }
    let uploaded = Metadata::parse(&read_whole(body, MAX_DOCUMENT).await?)?;
    if uploaded.artifact_id.is_empty() && version.is_none() {
        // A group's metadata (a Maven plugin's deploy uploads its prefix): the whole path is the
        // group. Taken and dropped like the rest; plugins resolve by full coordinates.
        let group = format!("{}.{}", coords.group, coords.artifact);
        if uploaded.group_id.trim() != group {
            return Err(Error::invalid(format!(
                "maven-metadata.xml names groupId {:?}, but the path {group:?}",
                uploaded.group_id
            )));
        }
        return Ok(StatusCode::CREATED.into_response());
    }
    let checks = [
        ("groupId", uploaded.group_id.as_str(), coords.group.as_str()),
        ("artifactId", &uploaded.artifact_id, &coords.artifact),
        (
            "version",
            uploaded.version.as_deref().unwrap_or_default(),
            version.unwrap_or(uploaded.version.as_deref().unwrap_or_default()),
        ),
    ];
    for (field, value, wanted) in checks {
        if value.trim() != wanted {
            return Err(Error::invalid(format!(
                "maven-metadata.xml names {field} {value:?}, but the path {wanted:?}"
            )));
        }
    }
    Ok(StatusCode::CREATED.into_response())
}

/// A small body, whole (refused past `max_size`).
async fn read_whole(body: Body, max_size: u64) -> Result<Bytes> {
    let mut chunks = std::pin::pin!(crate::blobs::limited(body.into_data_stream(), max_size));
    let mut whole = BytesMut::new();
    while let Some(chunk) = chunks.next().await {
        whole.extend_from_slice(&chunk?);
    }
    Ok(whole.freeze())
}
