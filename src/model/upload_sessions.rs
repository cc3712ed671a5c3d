//! Rows of resumable upload sessions (see `blobs::segments` for their stored bytes). The row is
//! the truth: a segment counts once the row names it, and an append moves the row forward only
//! from the offset it started at, so two appends racing for one offset cannot both count.

use sqlx::{AnyConnection, Row, any::AnyRow};

use crate::error::{Error, Result};

#[derive(Debug, Clone, serde::Serialize)]
pub struct UploadSession {
    pub id: String,
    pub owner_id: i64,
    pub format: String,
    pub bytes_received: i64,
    /// The SHA-256 state after `bytes_received` bytes.
    #[serde(skip)]
    pub sha256_state: Vec<u8>,
    /// Storage keys of the received segments, in order.
    #[serde(skip)]
    pub segments: Vec<String>,
    #[serde(serialize_with = "crate::model::serialize_time")]
    pub created_at: i64,
    #[serde(serialize_with = "crate::model::serialize_time")]
    pub expires_at: i64,
}

const COLUMNS: &str =
    "id, owner_id, format, bytes_received, sha256_state, segments, created_at, expires_at";

fn from_row(row: &AnyRow) -> Result<UploadSession> {
    let state: String = row.try_get("sha256_state")?;
    let segments: String = row.try_get("segments")?;
    Ok(UploadSession {
        id: row.try_get("id")?,
        owner_id: row.try_get("owner_id")?,
        format: row.try_get("format")?,
        bytes_received: row.try_get("bytes_received")?,
        sha256_state: hex::decode(state).map_err(Error::internal)?,
        segments: serde_json::from_str(&segments).map_err(Error::internal)?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

pub async fn create(conn: &mut AnyConnection, session: &UploadSession) -> Result<()> {
    sqlx::query(
        "INSERT INTO upload_sessions (id, owner_id, format, bytes_received, sha256_state, \
         segments, created_at, updated_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)",
    )
    .bind(&session.id)
    .bind(session.owner_id)
    .bind(&session.format)
    .bind(session.bytes_received)
    .bind(hex::encode(&session.sha256_state))
    .bind(serde_json::to_string(&session.segments).map_err(Error::internal)?)
    .bind(session.created_at)
    .bind(session.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The session, expired or not (the caller decides what expiry means).
pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<UploadSession>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM upload_sessions WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Records an append: `session` as it is after it, with `from` the offset it started at. False
/// when the session moved on (or went) meanwhile; the append then does not count.
pub async fn advance(conn: &mut AnyConnection, session: &UploadSession, from: i64) -> Result<bool> {
    let updated = sqlx::query(
        "UPDATE upload_sessions SET bytes_received = $2, sha256_state = $3, segments = $4, \
         updated_at = $5, expires_at = $6 WHERE id = $1 AND bytes_received = $7",
    )
    .bind(&session.id)
    .bind(session.bytes_received)
    .bind(hex::encode(&session.sha256_state))
    .bind(serde_json::to_string(&session.segments).map_err(Error::internal)?)
    .bind(crate::clock::now())
    .bind(session.expires_at)
    .bind(from)
    .execute(conn)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Deletes a session row; false when it was already gone.
pub async fn delete(conn: &mut AnyConnection, id: &str) -> Result<bool> {
    let deleted = sqlx::query("DELETE FROM upload_sessions WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(deleted.rows_affected() == 1)
}

/// Deletes a session still expired at `now`; false when it went or was revived meanwhile.
pub async fn delete_if_expired(conn: &mut AnyConnection, id: &str, now: i64) -> Result<bool> {
    let deleted = sqlx::query("DELETE FROM upload_sessions WHERE id = $1 AND expires_at < $2")
        .bind(id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(deleted.rows_affected() == 1)
}

/// Sessions that expired before `now`.
pub async fn expired(conn: &mut AnyConnection, now: i64) -> Result<Vec<UploadSession>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM upload_sessions WHERE expires_at < $1 ORDER BY expires_at"
    )))
    .bind(now)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The storage key of every segment any session holds (for `gc` and `fsck`).
pub async fn segment_keys(conn: &mut AnyConnection) -> Result<Vec<String>> {
    let lists: Vec<String> = sqlx::query_scalar("SELECT segments FROM upload_sessions")
        .fetch_all(conn)
        .await?;
    let mut keys = Vec::new();
    for list in lists {
        keys.extend(serde_json::from_str::<Vec<String>>(&list).map_err(Error::internal)?);
    }
    Ok(keys)
}
