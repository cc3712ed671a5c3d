//! Key/value facts attached to a package, version or file.

use sqlx::{AnyConnection, Row};

use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefType {
    /// An owner (a Nitro repository keeps its storage and configuration here).
    Owner,
    Package,
    Version,
    File,
}

impl RefType {
    fn as_str(self) -> &'static str {
        match self {
            RefType::Owner => "owner",
            RefType::Package => "package",
            RefType::Version => "version",
            RefType::File => "file",
        }
    }
}

pub async fn add(
    conn: &mut AnyConnection,
    ref_type: RefType,
    ref_id: i64,
    name: &str,
    value: &str,
) -> Result<()> {
    sqlx::query("INSERT INTO properties (ref_type, ref_id, name, value) VALUES ($1, $2, $3, $4)")
        .bind(ref_type.as_str())
        .bind(ref_id)
        .bind(name)
        .bind(value)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn list(
    conn: &mut AnyConnection,
    ref_type: RefType,
    ref_id: i64,
) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT name, value FROM properties WHERE ref_type = $1 AND ref_id = $2 ORDER BY id",
    )
    .bind(ref_type.as_str())
    .bind(ref_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("name")?, r.try_get("value")?)))
        .collect()
}

pub async fn delete_all(conn: &mut AnyConnection, ref_type: RefType, ref_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM properties WHERE ref_type = $1 AND ref_id = $2")
        .bind(ref_type.as_str())
        .bind(ref_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete_named(
    conn: &mut AnyConnection,
    ref_type: RefType,
    ref_id: i64,
    name: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM properties WHERE ref_type = $1 AND ref_id = $2 AND name = $3")
        .bind(ref_type.as_str())
        .bind(ref_id)
        .bind(name)
        .execute(conn)
        .await?;
    Ok(())
}

/// The first value of a named property, if any.
pub async fn get(
    conn: &mut AnyConnection,
    ref_type: RefType,
    ref_id: i64,
    name: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT value FROM properties WHERE ref_type = $1 AND ref_id = $2 AND name = $3 \
         ORDER BY id LIMIT 1",
    )
    .bind(ref_type.as_str())
    .bind(ref_id)
    .bind(name)
    .fetch_optional(conn)
    .await?)
}

/// Replaces every value of a named property with one.
pub async fn set(
    conn: &mut AnyConnection,
    ref_type: RefType,
    ref_id: i64,
    name: &str,
    value: &str,
) -> Result<()> {
    delete_named(conn, ref_type, ref_id, name).await?;
    add(conn, ref_type, ref_id, name, value).await
}

/// The ids of every `ref_type` row whose property `name` has exactly `value` (through the
/// prefix index of migration 0007), in ascending order.
pub async fn find_refs(
    conn: &mut AnyConnection,
    ref_type: RefType,
    name: &str,
    value: &str,
) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT ref_id FROM properties WHERE ref_type = $1 AND name = $2 \
         AND substr(value, 1, 200) = substr($3, 1, 200) AND value = $3 ORDER BY ref_id",
    )
    .bind(ref_type.as_str())
    .bind(name)
    .bind(value)
    .fetch_all(conn)
    .await?)
}
