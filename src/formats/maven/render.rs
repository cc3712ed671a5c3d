//! Re-rendering a package's `maven-metadata.xml` documents after any change to it: the
//! artifact's, each SNAPSHOT version's, and the four checksums of each, so a read (and a
//! checksum read) costs the same whatever the version count. The reads happen in the writing
//! transaction under the package's row lock, so concurrent changes render one after the other.

use std::sync::Arc;

use super::layout::{Checksum, Coords, METADATA, parse_file_name};
use super::metadata::Metadata;
use super::version::is_snapshot;
use crate::blobs::ExtraDigests;
use crate::blobs::digest::MultiHasher;
use crate::error::Result;
use crate::model::documents::{self, Scope};
use crate::model::packages;
use crate::registry::{Change, Registry, RenderHook};

pub fn hook() -> RenderHook {
    Arc::new(|registry, change| Box::pin(async move { render(&registry, &change).await }))
}

/// The stored name of a SNAPSHOT version's metadata (versions hold no `/`).
pub fn snapshot_document(version: &str) -> String {
    format!("{version}/{METADATA}")
}

/// The stored name of a document's checksum.
pub fn checksum_document(document: &str, checksum: Checksum) -> String {
    format!("{document}.{}", checksum.extension())
}

async fn render(registry: &Registry, change: &Change) -> Result<()> {
    let Some(mut r) = registry.open_render(change).await? else {
        return Ok(());
    };
    let coords = Coords::from_package(&r.package.name)?;
    // Starting over drops the documents of SNAPSHOT versions deleted since.
    documents::delete_all(&mut r.tx, r.package.id).await?;
    let scope = r.package.document_scope();
    let names: Vec<String> = r.versions.iter().map(|v| v.version.clone()).collect();
    let artifact = Metadata::artifact(&coords.group, &coords.artifact, &names, crate::clock::now());
    put_with_checksums(&mut r.tx, scope, METADATA, artifact.to_xml().as_bytes()).await?;
    for version in r.versions.iter().filter(|v| is_snapshot(&v.version)) {
        let files = packages::list_files(&mut r.tx, version.id).await?;
        let builds: Vec<_> = files
            .iter()
            .filter_map(|f| parse_file_name(&coords.artifact, &version.version, &f.name).ok())
            .filter_map(|name| Some((name.build?, name.classifier, name.extension)))
            .collect();
        if let Some(meta) =
            Metadata::snapshot(&coords.group, &coords.artifact, &version.version, &builds)
        {
            let name = snapshot_document(&version.version);
            put_with_checksums(&mut r.tx, scope, &name, meta.to_xml().as_bytes()).await?;
        }
    }
    registry.finish_render(r).await
}

async fn put_with_checksums(
    tx: &mut sqlx::AnyConnection,
    scope: Scope<'_>,
    name: &str,
    body: &[u8],
) -> Result<()> {
    documents::put(tx, scope, name, body).await?;
    let mut hasher = MultiHasher::new(ExtraDigests::ALL);
    hasher.update(body);
    let digests = hasher.finish();
    for checksum in Checksum::ALL {
        let value = checksum.of(&digests).expect("all digests computed");
        documents::put(
            tx,
            scope,
            &checksum_document(name, checksum),
            value.as_bytes(),
        )
        .await?;
    }
    Ok(())
}
