//! Token rows. Team (management) tokens now; customer tokens will share the table.

use sqlx::{AnyConnection, Row, any::AnyRow};

use super::{Listing, Page};
use crate::error::{Error, Result};

#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenRow {
    pub id: i64,
    pub kind: String,
    pub name: String,
    /// The token's public prefix, safe to show (`cma_XXXXXXXX…`).
    pub lookup: String,
    #[serde(skip)]
    pub secret_hash: String,
    pub level: String,
    #[serde(serialize_with = "crate::model::serialize_opt_time")]
    pub expires_at: Option<i64>,
    #[serde(serialize_with = "crate::model::serialize_opt_time")]
    pub revoked_at: Option<i64>,
    #[serde(serialize_with = "crate::model::serialize_opt_time")]
    pub last_used_at: Option<i64>,
    pub last_used_ip: Option<String>,
    #[serde(serialize_with = "crate::model::serialize_time")]
    pub created_at: i64,
}

const COLUMNS: &str = "id, kind, name, lookup, secret_hash, level, expires_at, revoked_at, last_used_at, last_used_ip, created_at";

fn from_row(row: &AnyRow) -> Result<TokenRow> {
    Ok(TokenRow {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        name: row.try_get("name")?,
        lookup: row.try_get("lookup")?,
        secret_hash: row.try_get("secret_hash")?,
        level: row.try_get("level")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        last_used_at: row.try_get("last_used_at")?,
        last_used_ip: row.try_get("last_used_ip")?,
        created_at: row.try_get("created_at")?,
    })
}

pub struct NewToken<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub lookup: &'a str,
    pub secret_hash: &'a str,
    pub level: &'a str,
    pub expires_at: Option<i64>,
}

pub async fn insert(conn: &mut AnyConnection, t: &NewToken<'_>) -> Result<TokenRow> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO tokens (kind, name, lookup, secret_hash, level, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(t.kind)
    .bind(t.name)
    .bind(t.lookup)
    .bind(t.secret_hash)
    .bind(t.level)
    .bind(t.expires_at)
    .bind(crate::clock::now())
    .fetch_one(&mut *conn)
    .await?;
    get(conn, id)
        .await?
        .ok_or_else(|| Error::internal("token vanished"))
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<TokenRow>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM tokens WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn find_by_lookup(conn: &mut AnyConnection, lookup: &str) -> Result<Option<TokenRow>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM tokens WHERE lookup = $1"
    )))
    .bind(lookup)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list(conn: &mut AnyConnection, kind: &str, page: Page) -> Result<Listing<TokenRow>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM tokens WHERE kind = $1 ORDER BY id LIMIT $2 OFFSET $3"
    )))
    .bind(kind)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&mut *conn)
    .await?;
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tokens WHERE kind = $1")
        .bind(kind)
        .fetch_one(conn)
        .await?;
    Ok(Listing {
        items: rows.iter().map(from_row).collect::<Result<_>>()?,
        total,
        page,
    })
}

pub async fn revoke(conn: &mut AnyConnection, id: i64) -> Result<()> {
    sqlx::query("UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(id)
        .bind(crate::clock::now())
        .execute(conn)
        .await?;
    Ok(())
}

/// Gives a token a new secret; the old value stops working at once.
pub async fn replace_secret(
    conn: &mut AnyConnection,
    id: i64,
    lookup: &str,
    secret_hash: &str,
) -> Result<()> {
    sqlx::query("UPDATE tokens SET lookup = $2, secret_hash = $3 WHERE id = $1")
        .bind(id)
        .bind(lookup)
        .bind(secret_hash)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn touch(conn: &mut AnyConnection, id: i64, at: i64, ip: Option<&str>) -> Result<()> {
    sqlx::query("UPDATE tokens SET last_used_at = $2, last_used_ip = $3 WHERE id = $1")
        .bind(id)
        .bind(at)
        .bind(ip)
        .execute(conn)
        .await?;
    Ok(())
}
