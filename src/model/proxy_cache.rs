//! The cache of a proxied upstream repository (migration 0014): its metadata documents as
//! fetched, the names whose cached metadata is frozen, and the archives fetched from it (the
//! content itself is a registry file; a row here keeps its size and last use for expiry and
//! least-recently-used eviction).

use sqlx::{AnyConnection, Row};

use crate::error::Result;

/// A cached upstream document.
#[derive(Debug, Clone)]
pub struct CachedDocument {
    pub body: String,
    pub fetched_at: i64,
}

/// A cached archive's row.
#[derive(Debug, Clone)]
pub struct CachedArchive {
    pub name: String,
    pub version: String,
    pub reference: String,
    pub size: i64,
    pub fetched_at: i64,
}

pub async fn document(
    conn: &mut AnyConnection,
    name: &str,
    document: &str,
) -> Result<Option<CachedDocument>> {
    let row = sqlx::query(
        "SELECT body, fetched_at FROM proxy_metadata WHERE name = $1 AND document = $2",
    )
    .bind(name)
    .bind(document)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| CachedDocument {
        body: r.get(0),
        fetched_at: r.get(1),
    }))
}

pub async fn put_document(
    conn: &mut AnyConnection,
    name: &str,
    document: &str,
    body: &str,
    fetched_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO proxy_metadata (name, document, body, fetched_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (name, document) DO UPDATE SET body = excluded.body, fetched_at = excluded.fetched_at",
    )
    .bind(name)
    .bind(document)
    .bind(body)
    .bind(fetched_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn delete_document(conn: &mut AnyConnection, name: &str, document: &str) -> Result<()> {
    sqlx::query("DELETE FROM proxy_metadata WHERE name = $1 AND document = $2")
        .bind(name)
        .bind(document)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn is_frozen(conn: &mut AnyConnection, name: &str) -> Result<bool> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT frozen_at FROM proxy_frozen WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(found.is_some())
}

/// Freezes a name; freezing twice keeps the first time.
pub async fn freeze(conn: &mut AnyConnection, name: &str, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO proxy_frozen (name, frozen_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn unfreeze(conn: &mut AnyConnection, name: &str) -> Result<()> {
    sqlx::query("DELETE FROM proxy_frozen WHERE name = $1")
        .bind(name)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn archive(
    conn: &mut AnyConnection,
    name: &str,
    version: &str,
    reference: &str,
) -> Result<Option<CachedArchive>> {
    let row = sqlx::query(
        "SELECT name, version, reference, size, fetched_at FROM proxy_archives \
         WHERE name = $1 AND version = $2 AND reference = $3",
    )
    .bind(name)
    .bind(version)
    .bind(reference)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| archive_of(&r)))
}

fn archive_of(r: &sqlx::any::AnyRow) -> CachedArchive {
    CachedArchive {
        name: r.get(0),
        version: r.get(1),
        reference: r.get(2),
        size: r.get(3),
        fetched_at: r.get(4),
    }
}

pub async fn put_archive(conn: &mut AnyConnection, archive: &CachedArchive) -> Result<()> {
    sqlx::query(
        "INSERT INTO proxy_archives (name, version, reference, size, fetched_at, used_at) \
         VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (name, version, reference) \
         DO UPDATE SET size = excluded.size, fetched_at = excluded.fetched_at, used_at = excluded.used_at",
    )
    .bind(&archive.name)
    .bind(&archive.version)
    .bind(&archive.reference)
    .bind(archive.size)
    .bind(archive.fetched_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records a use of an archive, for least-recently-used eviction.
pub async fn touch_archive(
    conn: &mut AnyConnection,
    archive: &CachedArchive,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE proxy_archives SET used_at = $4 WHERE name = $1 AND version = $2 AND reference = $3",
    )
    .bind(&archive.name)
    .bind(&archive.version)
    .bind(&archive.reference)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn delete_archive(conn: &mut AnyConnection, archive: &CachedArchive) -> Result<()> {
    sqlx::query("DELETE FROM proxy_archives WHERE name = $1 AND version = $2 AND reference = $3")
        .bind(&archive.name)
        .bind(&archive.version)
        .bind(&archive.reference)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Every cached archive, least recently used first.
pub async fn archives_by_use(conn: &mut AnyConnection) -> Result<Vec<CachedArchive>> {
    let rows = sqlx::query(
        "SELECT name, version, reference, size, fetched_at FROM proxy_archives \
         ORDER BY used_at, fetched_at, name, version",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.iter().map(archive_of).collect())
}

/// (cached packages, cached archives, their bytes).
pub async fn totals(conn: &mut AnyConnection) -> Result<(i64, i64, i64)> {
    let packages: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT name) FROM proxy_metadata")
        .fetch_one(&mut *conn)
        .await?;
    let row =
        sqlx::query("SELECT COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM proxy_archives")
            .fetch_one(&mut *conn)
            .await?;
    Ok((packages, row.get(0), row.get(1)))
}

/// Drops every cached document (the frozen names stay frozen).
pub async fn delete_all_documents(conn: &mut AnyConnection) -> Result<()> {
    sqlx::query("DELETE FROM proxy_metadata")
        .execute(&mut *conn)
        .await?;
    Ok(())
}
