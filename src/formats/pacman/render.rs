//! Re-rendering a package's entries after any change to it. In each arch-repo that lists one of
//! its files, the package's entry is its newest version there (pacman's `vercmp` order), as a
//! gzip member of the `.db` and one of the `.files` database (`db_archive`); an arch-repo the
//! package left loses its entries. Every arch-repo touched gets a new head, which tells readers
//! that its databases changed, so a publish costs the work of one package, whatever the
//! repository's size (the databases are assembled from the entries when read: `database`).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use base64::Engine;
use futures_util::TryStreamExt;

use super::FORMAT;
use super::db_archive::entry_member;
use super::desc::{FileFacts, render_desc, render_files};
use super::filename::Database;
use super::metadata::{MAX_SIGNATURE, PACKAGE, PackageMetadata, SIGNATURE};
use super::place::{base_name, entry_document, head_document, qualifier_of_entry};
use super::vercmp::vercmp;
use crate::db::WriteTx;
use crate::error::{Error, Result};
use crate::model::documents::{self, Scope};
use crate::model::packages::{self, File, Version};
use crate::registry::{Change, Registry, RenderHook};

pub fn hook() -> RenderHook {
    Arc::new(|registry, change| Box::pin(async move { render(&registry, &change).await }))
}

async fn render(registry: &Registry, change: &Change) -> Result<()> {
    let Some(mut rendering) = registry.open_render(change).await? else {
        // The package is gone, and its entries with it: which arch-repos listed it is not known
        // any more, so every arch-repo of the owner gets a new head.
        let mut tx = registry.db.begin_write().await?;
        let repository = Scope::repository(change.owner_id, FORMAT);
        for head in documents::names_with_prefix(&mut tx, repository, "head:").await? {
            touch_head(&mut tx, change.owner_id, &head).await?;
        }
        return tx.commit().await;
    };
    let newest = newest_per_arch_repo(&mut rendering.tx, &rendering.versions).await?;
    let scope = rendering.package.document_scope();
    let before: BTreeSet<String> = documents::names_with_prefix(&mut rendering.tx, scope, "db:")
        .await?
        .iter()
        .filter_map(|name| qualifier_of_entry(name).map(str::to_string))
        .collect();
    for (qualifier, (version, file)) in &newest {
        let signature = signature_of(registry, &mut rendering.tx, version, qualifier).await?;
        let metadata = PackageMetadata::of(file)?;
        let facts = FileFacts {
            filename: base_name(&file.name),
            csize: file.blob.size as u64,
            md5: file.blob.md5.as_deref().unwrap_or_default(),
            sha256: &file.blob.sha256,
            pgpsig: signature.as_deref(),
        };
        let desc = render_desc(&metadata.info, &facts);
        let dir = format!("{}-{}", metadata.info.name, metadata.info.version);
        let mtime = file.created_at.max(0) as u64;
        let files = render_files(&metadata.files);
        for (database, listing) in [
            (Database::Packages, None),
            (Database::Files, Some(files.as_bytes())),
        ] {
            let member = entry_member(&dir, desc.as_bytes(), listing, mtime);
            let name = entry_document(database, qualifier);
            documents::put(&mut rendering.tx, scope, &name, &member).await?;
        }
    }
    for gone in before.iter().filter(|q| !newest.contains_key(*q)) {
        for database in [Database::Packages, Database::Files] {
            documents::delete(&mut rendering.tx, scope, &entry_document(database, gone)).await?;
        }
    }
    let owner_id = rendering.owner.id;
    for qualifier in before.iter().chain(newest.keys()) {
        touch_head(&mut rendering.tx, owner_id, &head_document(qualifier)).await?;
    }
    registry.finish_render(rendering).await
}

/// For each arch-repo the package has a file in, its newest version there and that file.
async fn newest_per_arch_repo<'v>(
    tx: &mut WriteTx,
    versions: &'v [Version],
) -> Result<BTreeMap<String, (&'v Version, File)>> {
    let mut newest: BTreeMap<String, (&Version, File)> = BTreeMap::new();
    for version in versions {
        for file in packages::list_files_of_kind(tx, version.id, PACKAGE, None).await? {
            let newer = newest.get(&file.details.qualifier).is_none_or(|(held, _)| {
                vercmp(&version.version, &held.version) == Ordering::Greater
            });
            if newer {
                newest.insert(file.details.qualifier.clone(), (version, file));
            }
        }
    }
    Ok(newest)
}

/// The base64 of the version's detached signature in the arch-repo, as `%PGPSIG%` holds it.
async fn signature_of(
    registry: &Registry,
    tx: &mut WriteTx,
    version: &Version,
    qualifier: &str,
) -> Result<Option<String>> {
    let signatures =
        packages::list_files_of_kind(tx, version.id, SIGNATURE, Some(qualifier)).await?;
    let Some(signature) = signatures.first() else {
        return Ok(None);
    };
    if signature.blob.size as u64 > MAX_SIGNATURE {
        return Err(Error::internal(format!(
            "signature {} too large",
            signature.name
        )));
    }
    let chunks: Vec<bytes::Bytes> = registry
        .blobs
        .open(&signature.blob.storage_key, None)
        .await?
        .try_collect()
        .await?;
    Ok(Some(
        base64::engine::general_purpose::STANDARD.encode(chunks.concat()),
    ))
}

/// Gives an arch-repo's head a new value: its databases changed.
async fn touch_head(tx: &mut WriteTx, owner_id: i64, head: &str) -> Result<()> {
    let marker = hex::encode(rand::random::<[u8; 16]>());
    documents::put(
        tx,
        Scope::repository(owner_id, FORMAT),
        head,
        marker.as_bytes(),
    )
    .await
}
