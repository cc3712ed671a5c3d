//! `cargoman gc` and `cargoman fsck`: keeping stored objects and blob rows in agreement.

use std::collections::HashSet;

use serde::Serialize;

use crate::error::Result;
use crate::model::blobs as blob_rows;
use crate::registry::Registry;

#[derive(Debug, Default, Serialize)]
pub struct GcReport {
    /// Blob rows no file used any more.
    pub blob_rows_removed: usize,
    /// Stored objects no blob row named (interrupted uploads, failed deletes).
    pub objects_removed: usize,
    pub bytes_freed: u64,
}

/// Removes unreferenced blobs and stray objects older than `grace_secs` (younger ones may belong
/// to an upload still in progress).
pub async fn gc(registry: &Registry, grace_secs: i64) -> Result<GcReport> {
    let cutoff = crate::clock::now() - grace_secs;
    let mut report = GcReport::default();
    let candidates = {
        let mut conn = registry.db.pool().acquire().await?;
        blob_rows::unreferenced(&mut conn, cutoff + 1).await?
    };
    for sha in candidates {
        let mut tx = registry.db.begin_write().await?;
        let key = blob_rows::delete_if_unreferenced(&mut tx, &sha).await?;
        tx.commit().await?;
        if let Some(key) = key {
            report.bytes_freed += registry.blobs.size(&key).await?.unwrap_or(0);
            registry.blobs.delete(&key).await?;
            report.blob_rows_removed += 1;
        }
    }
    let known = known_keys(registry).await?;
    for object in registry.blobs.list().await? {
        if !known.contains(&object.key) && object.modified <= cutoff {
            registry.blobs.delete(&object.key).await?;
            report.objects_removed += 1;
            report.bytes_freed += object.size;
        }
    }
    Ok(report)
}

#[derive(Debug, Default, Serialize)]
pub struct FsckReport {
    pub blobs_checked: usize,
    /// SHA-256 of blob rows whose object is gone.
    pub missing: Vec<String>,
    /// Blob rows whose object has the wrong size or content.
    pub corrupt: Vec<String>,
    /// Stored objects no blob row names.
    pub unreferenced: Vec<String>,
    /// Temporary files of uploads in progress or cut off by a crash: not an inconsistency, so
    /// they leave the report clean (`gc` removes them once older than its grace period).
    pub temporary_uploads: Vec<String>,
}

impl FsckReport {
    /// No missing, corrupt or unreferenced object (temporary upload files do not count).
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty() && self.corrupt.is_empty() && self.unreferenced.is_empty()
    }
}

/// Checks every blob row against storage; with `verify_content` each object is read and hashed.
pub async fn fsck(registry: &Registry, verify_content: bool) -> Result<FsckReport> {
    let rows = {
        let mut conn = registry.db.pool().acquire().await?;
        blob_rows::all(&mut conn).await?
    };
    let mut report = FsckReport::default();
    for blob in &rows {
        report.blobs_checked += 1;
        match registry.blobs.size(&blob.storage_key).await? {
            None => report.missing.push(blob.sha256.clone()),
            Some(size) if size != blob.size as u64 => report.corrupt.push(blob.sha256.clone()),
            Some(_) if verify_content => {
                let (_, digests) = registry
                    .blobs
                    .digest(&blob.storage_key, crate::blobs::ExtraDigests::NONE)
                    .await?;
                if digests.sha256 != blob.sha256 {
                    report.corrupt.push(blob.sha256.clone());
                }
            }
            Some(_) => {}
        }
    }
    let known: HashSet<String> = rows.into_iter().map(|b| b.storage_key).collect();
    for object in registry.blobs.list().await? {
        if object.temporary {
            report.temporary_uploads.push(object.key);
        } else if !known.contains(&object.key) {
            report.unreferenced.push(object.key);
        }
    }
    Ok(report)
}

async fn known_keys(registry: &Registry) -> Result<HashSet<String>> {
    let mut conn = registry.db.pool().acquire().await?;
    Ok(blob_rows::all(&mut conn)
        .await?
        .into_iter()
        .map(|b| b.storage_key)
        .collect())
}
