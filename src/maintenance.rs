//! `cargoman gc` and `cargoman fsck`: keeping stored objects and blob rows in agreement; and
//! the retention of records that only explain the past (audit log, webhook deliveries, Stripe
//! event ids) and of expired upload sessions, applied hourly by the server and by every
//! `cleanup` task.

/// Task kind of the cleanup a team can queue (`POST /api/v1/tasks/cleanup`): gc plus purging
/// records past their retention.
pub const CLEANUP_TASK: &str = "cleanup";

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use crate::db::Db;
use crate::error::Result;
use crate::model::{
    audit, blob_refs, blobs as blob_rows, stripe_events, upload_sessions, webhook_deliveries,
};
use crate::registry::Registry;

#[derive(Debug, Default, Serialize)]
pub struct GcReport {
    /// What each format's collector released (`Format::collector`), by format.
    pub released_by_format: BTreeMap<String, usize>,
    /// Blob rows no file or reference held any more.
    pub blob_rows_removed: usize,
    /// Stored objects no blob row or upload session named (interrupted uploads, failed deletes).
    pub objects_removed: usize,
    pub bytes_freed: u64,
}

/// Runs the formats' collectors, then removes unreferenced blobs and stray objects older than
/// `grace_secs` (younger ones may belong to an upload still in progress).
pub async fn gc(registry: &Registry, grace_secs: i64) -> Result<GcReport> {
    let cutoff = crate::clock::now() - grace_secs;
    let mut report = GcReport {
        released_by_format: registry.collect_garbage(cutoff).await?,
        ..Default::default()
    };
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
    /// Stored objects no blob row or upload session names.
    pub unreferenced: Vec<String>,
    /// How many references of each kind hold blobs (`file`, and each `blob_refs` kind).
    pub references: BTreeMap<String, i64>,
    /// References (`kind:id sha256`) whose holder is gone: each keeps a blob nothing can reach.
    pub dangling_references: Vec<String>,
    /// Temporary files of uploads in progress or cut off by a crash: not an inconsistency, so
    /// they leave the report clean (`gc` removes them once older than its grace period).
    pub temporary_uploads: Vec<String>,
}

impl FsckReport {
    /// No missing, corrupt or unreferenced object and no dangling reference (temporary upload
    /// files do not count).
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty()
            && self.corrupt.is_empty()
            && self.unreferenced.is_empty()
            && self.dangling_references.is_empty()
    }
}

/// Checks every blob row against storage; with `verify_content` each object is read and hashed.
pub async fn fsck(registry: &Registry, verify_content: bool) -> Result<FsckReport> {
    let mut report = FsckReport::default();
    let (rows, segments) = {
        let mut conn = registry.db.pool().acquire().await?;
        report.references = blob_refs::count_by_kind(&mut conn)
            .await?
            .into_iter()
            .collect();
        report.dangling_references = blob_refs::dangling(&mut conn).await?;
        let segments = upload_sessions::segment_keys(&mut conn).await?;
        (blob_rows::all(&mut conn).await?, segments)
    };
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
    let known: HashSet<String> = rows
        .into_iter()
        .map(|b| b.storage_key)
        .chain(segments)
        .collect();
    for object in registry.blobs.list().await? {
        if object.temporary {
            report.temporary_uploads.push(object.key);
        } else if !known.contains(&object.key) {
            report.unreferenced.push(object.key);
        }
    }
    Ok(report)
}

/// Storage keys a row names: blobs, and the segments of upload sessions in progress.
async fn known_keys(registry: &Registry) -> Result<HashSet<String>> {
    let mut conn = registry.db.pool().acquire().await?;
    let segments = upload_sessions::segment_keys(&mut conn).await?;
    Ok(blob_rows::all(&mut conn)
        .await?
        .into_iter()
        .map(|b| b.storage_key)
        .chain(segments)
        .collect())
}

/// How many days each kind of record is kept.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// `AUDIT_LOG_RETENTION_DAYS`
    pub audit_days: u32,
    /// `WEBHOOK_DELIVERY_RETENTION_DAYS`: Git provider deliveries and Stripe event ids.
    pub webhook_days: u32,
}

#[derive(Debug, Default, Serialize)]
pub struct PurgeReport {
    pub audit_entries_removed: u64,
    pub webhook_deliveries_removed: u64,
    pub stripe_events_removed: u64,
}

impl PurgeReport {
    pub fn is_empty(&self) -> bool {
        self.audit_entries_removed == 0
            && self.webhook_deliveries_removed == 0
            && self.stripe_events_removed == 0
    }
}

/// The oldest time kept with a retention of `days` days.
pub fn retention_cutoff(now: i64, days: u32) -> i64 {
    now - i64::from(days) * 86_400
}

/// Deletes every record older than its retention, in one transaction.
pub async fn purge_expired(db: &Db, retention: Retention) -> Result<PurgeReport> {
    let now = crate::clock::now();
    let audit_cutoff = retention_cutoff(now, retention.audit_days);
    let webhook_cutoff = retention_cutoff(now, retention.webhook_days);
    let mut tx = db.begin_write().await?;
    let report = PurgeReport {
        audit_entries_removed: audit::purge_older_than(&mut tx, audit_cutoff).await?,
        webhook_deliveries_removed: webhook_deliveries::purge_older_than(&mut tx, webhook_cutoff)
            .await?,
        stripe_events_removed: stripe_events::purge_older_than(&mut tx, webhook_cutoff).await?,
    };
    tx.commit().await?;
    Ok(report)
}

/// What a `cleanup` task did: expired upload sessions, `gc` with an hour's grace, then the
/// retention.
#[derive(Debug, Serialize)]
pub struct CleanupReport {
    pub upload_sessions_expired: usize,
    #[serde(flatten)]
    pub gc: GcReport,
    #[serde(flatten)]
    pub purged: PurgeReport,
}

pub async fn cleanup(registry: &Registry, retention: Retention) -> Result<CleanupReport> {
    Ok(CleanupReport {
        upload_sessions_expired: registry.expire_uploads().await?,
        gc: gc(registry, 3600).await?,
        purged: purge_expired(&registry.db, retention).await?,
    })
}

#[cfg(test)]
mod tests {
    use super::retention_cutoff;

    #[test]
    fn cutoff_is_whole_days_back() {
        assert_eq!(retention_cutoff(1_000_000, 1), 1_000_000 - 86_400);
        assert_eq!(retention_cutoff(90 * 86_400, 90), 0);
    }
}
