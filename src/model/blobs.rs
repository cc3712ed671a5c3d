//! Blob rows: which stored object holds the content with a given SHA-256.

use sqlx::{AnyConnection, Row, any::AnyRow};

use crate::blobs::{Digests, StagedBlob};
use crate::error::Result;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Blob {
    pub sha256: String,
    pub size: i64,
    #[serde(skip)]
    pub storage_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha512: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    /// When the content was first stored: a bare blob's `Last-Modified`.
    #[serde(skip)]
    pub created_at: i64,
}

impl Blob {
    pub fn digests(&self) -> Digests {
        Digests {
            sha256: self.sha256.clone(),
            sha1: self.sha1.clone(),
            sha512: self.sha512.clone(),
            md5: self.md5.clone(),
        }
    }
}

/// The blob columns, for queries that join `blobs b` (a macro so queries stay `&'static str`).
macro_rules! blob_columns {
    () => {
        "b.sha256, b.size, b.storage_key, b.sha1, b.sha512, b.md5, b.created_at"
    };
}
pub(crate) use blob_columns;

pub(crate) fn from_row(row: &AnyRow) -> Result<Blob> {
    Ok(Blob {
        sha256: row.try_get("sha256")?,
        size: row.try_get("size")?,
        storage_key: row.try_get("storage_key")?,
        sha1: row.try_get("sha1")?,
        sha512: row.try_get("sha512")?,
        md5: row.try_get("md5")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Records a staged blob. When the content is already stored, the existing row wins (identical
/// content is kept once) and is returned: its `storage_key` then differs from the staged one,
/// whose object the caller must delete after commit.
pub async fn insert_or_touch(conn: &mut AnyConnection, staged: &StagedBlob) -> Result<Blob> {
    let now = crate::clock::now();
    let d = &staged.digests;
    let row = sqlx::query(
        "INSERT INTO blobs (sha256, size, storage_key, sha1, sha512, md5, created_at, touched_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
         ON CONFLICT (sha256) DO UPDATE SET touched_at = excluded.touched_at, \
           sha1 = COALESCE(blobs.sha1, excluded.sha1), sha512 = COALESCE(blobs.sha512, excluded.sha512), \
           md5 = COALESCE(blobs.md5, excluded.md5) \
         RETURNING sha256, size, storage_key, sha1, sha512, md5, created_at",
    )
    .bind(&d.sha256)
    .bind(staged.size as i64)
    .bind(&staged.storage_key)
    .bind(&d.sha1)
    .bind(&d.sha512)
    .bind(&d.md5)
    .bind(now)
    .fetch_one(conn)
    .await?;
    from_row(&row)
}

pub async fn find(conn: &mut AnyConnection, sha256: &str) -> Result<Option<Blob>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        blob_columns!(),
        " FROM blobs b WHERE b.sha256 = $1"
    ))
    .bind(sha256)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The SHA-256 of the stored blob whose SHA-512 is `sha512` (known when it was computed: asked
/// for at upload or by `Registry::ensure_digests`).
pub async fn sha256_of_sha512(conn: &mut AnyConnection, sha512: &str) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT sha256 FROM blobs WHERE sha512 = $1 LIMIT 1")
            .bind(sha512)
            .fetch_optional(conn)
            .await?,
    )
}

/// Stores digests computed after upload (only fills the ones still missing).
pub async fn store_digests(conn: &mut AnyConnection, d: &Digests) -> Result<()> {
    sqlx::query(
        "UPDATE blobs SET sha1 = COALESCE(sha1, $2), sha512 = COALESCE(sha512, $3), md5 = COALESCE(md5, $4) WHERE sha256 = $1",
    )
    .bind(&d.sha256)
    .bind(&d.sha1)
    .bind(&d.sha512)
    .bind(&d.md5)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes the row when no file and no reference (`blob_refs`) holds it any more; returns its
/// storage key if it went. A concurrent upload that just started using the blob makes the delete
/// fail its foreign-key check or find a reference: either way the blob stays.
pub async fn delete_if_unreferenced(
    conn: &mut AnyConnection,
    sha256: &str,
) -> Result<Option<String>> {
    let deleted = sqlx::query_scalar(
        "DELETE FROM blobs WHERE sha256 = $1 AND NOT EXISTS (SELECT 1 FROM files WHERE blob_sha256 = $1) \
         AND NOT EXISTS (SELECT 1 FROM blob_refs WHERE blob_sha256 = $1) RETURNING storage_key",
    )
    .bind(sha256)
    .fetch_optional(conn)
    .await;
    match deleted {
        Ok(key) => Ok(key),
        Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Blobs no file or reference holds that were last touched before `before` (for `gc`).
pub async fn unreferenced(conn: &mut AnyConnection, before: i64) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT sha256 FROM blobs b WHERE touched_at < $1 \
         AND NOT EXISTS (SELECT 1 FROM files f WHERE f.blob_sha256 = b.sha256) \
         AND NOT EXISTS (SELECT 1 FROM blob_refs r WHERE r.blob_sha256 = b.sha256)",
    )
    .bind(before)
    .fetch_all(conn)
    .await?)
}

pub async fn all(conn: &mut AnyConnection) -> Result<Vec<Blob>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        blob_columns!(),
        " FROM blobs b ORDER BY b.sha256"
    ))
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}
