//! References to blobs held by something other than a file row. Files keep their own foreign key
//! (`files.blob_sha256`, the download path's join); this table adds the holders the next formats
//! need, so an OCI manifest can hold its layers and config, and a blob pushed into a repository
//! before any manifest names it stays, all without a file row. A blob row is removed only when no
//! file and no reference holds it (`blobs::delete_if_unreferenced`, `blobs::unreferenced`).

use sqlx::{AnyConnection, Row};

use crate::error::{Error, Result};
use crate::model::blobs::{self, Blob, blob_columns};

/// What holds a blob. Each holder is released with the row it belongs to: deleting a version
/// releases its references, deleting a package those of the package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Holder {
    /// A version whose content is more than its files (an OCI manifest: its layers and config).
    Version(i64),
    /// A package holding a blob no version names yet (an OCI blob pushed before its manifest).
    Package(i64),
}

impl Holder {
    fn kind(self) -> &'static str {
        match self {
            Holder::Version(_) => "version",
            Holder::Package(_) => "package",
        }
    }

    fn id(self) -> i64 {
        match self {
            Holder::Version(id) | Holder::Package(id) => id,
        }
    }
}

/// Makes `holder` hold the blob (holding it twice is holding it once; `created_at` becomes the
/// time of the last link, so a blob pushed again counts as fresh for `release_unversioned`). A
/// blob row deleted concurrently makes this fail with not found rather than leave a dangling
/// reference.
pub async fn link(conn: &mut AnyConnection, sha256: &str, holder: Holder) -> Result<()> {
    let linked = sqlx::query(
        "INSERT INTO blob_refs (blob_sha256, kind, ref_id, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (blob_sha256, kind, ref_id) DO UPDATE SET created_at = excluded.created_at",
    )
    .bind(sha256)
    .bind(holder.kind())
    .bind(holder.id())
    .bind(crate::clock::now())
    .execute(conn)
    .await;
    match linked {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
            Err(Error::not_found(format!("blob {sha256} not found")))
        }
        Err(e) => Err(e.into()),
    }
}

/// Drops one reference; false when the holder did not hold the blob.
pub async fn unlink(conn: &mut AnyConnection, sha256: &str, holder: Holder) -> Result<bool> {
    let deleted =
        sqlx::query("DELETE FROM blob_refs WHERE blob_sha256 = $1 AND kind = $2 AND ref_id = $3")
            .bind(sha256)
            .bind(holder.kind())
            .bind(holder.id())
            .execute(conn)
            .await?;
    Ok(deleted.rows_affected() > 0)
}

/// Whether a package holds the blob, itself or through one of its versions (an OCI repository
/// serves a blob by digest only when it holds it).
pub async fn held_in_package(
    conn: &mut AnyConnection,
    sha256: &str,
    package_id: i64,
) -> Result<bool> {
    let held: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM blob_refs r WHERE r.blob_sha256 = $1 AND \
         ((r.kind = 'package' AND r.ref_id = $2) OR (r.kind = 'version' AND r.ref_id IN \
           (SELECT v.id FROM versions v WHERE v.package_id = $2))) LIMIT 1",
    )
    .bind(sha256)
    .bind(package_id)
    .fetch_optional(conn)
    .await?;
    Ok(held.is_some())
}

/// Drops the holds that packages of `format` have on blobs none of their versions hold, taken
/// before `cutoff` (OCI: layers pushed and never named by a manifest, or no longer); returns how
/// many went. The blobs nothing holds any more are `blobs::unreferenced`.
pub async fn release_unversioned(
    conn: &mut AnyConnection,
    format: &str,
    cutoff: i64,
) -> Result<u64> {
    let released = sqlx::query(
        "DELETE FROM blob_refs WHERE kind = 'package' AND created_at < $2 \
         AND ref_id IN (SELECT p.id FROM packages p WHERE p.format = $1) \
         AND NOT EXISTS (SELECT 1 FROM blob_refs v JOIN versions ver ON ver.id = v.ref_id \
           WHERE v.kind = 'version' AND v.blob_sha256 = blob_refs.blob_sha256 \
           AND ver.package_id = blob_refs.ref_id)",
    )
    .bind(format)
    .bind(cutoff)
    .execute(conn)
    .await?;
    Ok(released.rows_affected())
}

/// A blob by SHA-256 when the package (owner, format, name) holds it, itself or through a
/// version: one query for serving a repository's blob by digest.
pub async fn find_held(
    conn: &mut AnyConnection,
    sha256: &str,
    owner: &str,
    format: &str,
    package: &str,
) -> Result<Option<Blob>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        blob_columns!(),
        " FROM blobs b WHERE b.sha256 = $1 AND EXISTS (SELECT 1 FROM packages p \
         JOIN owners o ON o.id = p.owner_id JOIN blob_refs r ON r.blob_sha256 = b.sha256 \
         WHERE o.lower_name = $2 AND p.format = $3 AND p.lower_name = $4 \
         AND ((r.kind = 'package' AND r.ref_id = p.id) OR (r.kind = 'version' AND r.ref_id IN \
           (SELECT v.id FROM versions v WHERE v.package_id = p.id))))"
    ))
    .bind(sha256)
    .bind(owner.to_lowercase())
    .bind(format)
    .bind(package.to_lowercase())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(blobs::from_row).transpose()
}

/// The SHA-256 of every blob the holder holds, sorted.
pub async fn held_by(conn: &mut AnyConnection, holder: Holder) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT blob_sha256 FROM blob_refs WHERE kind = $1 AND ref_id = $2 ORDER BY blob_sha256",
    )
    .bind(holder.kind())
    .bind(holder.id())
    .fetch_all(conn)
    .await?)
}

/// Drops every reference of a holder that is being deleted; returns the blobs it held, for the
/// caller to drop once unused.
pub(crate) async fn release_all(conn: &mut AnyConnection, holder: Holder) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "DELETE FROM blob_refs WHERE kind = $1 AND ref_id = $2 RETURNING blob_sha256",
    )
    .bind(holder.kind())
    .bind(holder.id())
    .fetch_all(conn)
    .await?)
}

/// How many references of each kind there are, files included as kind `file` (for `fsck`).
pub async fn count_by_kind(conn: &mut AnyConnection) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT 'file' AS kind, COUNT(*) AS n FROM files \
         UNION ALL SELECT kind, COUNT(*) AS n FROM blob_refs GROUP BY kind ORDER BY kind",
    )
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("kind")?, r.try_get("n")?)))
        .collect()
}

/// References whose holder no longer exists, as `kind:id sha256` (for `fsck`): each keeps a blob
/// alive that nothing can reach.
pub async fn dangling(conn: &mut AnyConnection) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT r.kind, r.ref_id, r.blob_sha256 FROM blob_refs r WHERE \
         (r.kind = 'version' AND NOT EXISTS (SELECT 1 FROM versions v WHERE v.id = r.ref_id)) \
         OR (r.kind = 'package' AND NOT EXISTS (SELECT 1 FROM packages p WHERE p.id = r.ref_id)) \
         ORDER BY r.kind, r.ref_id, r.blob_sha256",
    )
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let kind: String = r.try_get("kind")?;
            let id: i64 = r.try_get("ref_id")?;
            let sha: String = r.try_get("blob_sha256")?;
            Ok(format!("{kind}:{id} {sha}"))
        })
        .collect()
}
