//! Rendered metadata documents kept per package and served as they are.

use sqlx::{AnyConnection, Row};

use crate::error::Result;

pub struct Document {
    pub body: String,
    pub updated_at: i64,
}

/// Stores a rendered document. A changed body always gets a later `updated_at` than the one it
/// replaces, even within one second, because clients revalidate with `If-Modified-Since` (whole
/// seconds); an unchanged body keeps its time so clients keep their caches.
pub async fn put(conn: &mut AnyConnection, package_id: i64, name: &str, body: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO documents (package_id, name, body, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (package_id, name) DO UPDATE SET body = excluded.body, updated_at = CASE \
           WHEN documents.body = excluded.body THEN documents.updated_at \
           WHEN excluded.updated_at > documents.updated_at THEN excluded.updated_at \
           ELSE documents.updated_at + 1 END",
    )
    .bind(package_id)
    .bind(name)
    .bind(body)
    .bind(crate::clock::now())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(
    conn: &mut AnyConnection,
    package_id: i64,
    name: &str,
) -> Result<Option<Document>> {
    let row =
        sqlx::query("SELECT body, updated_at FROM documents WHERE package_id = $1 AND name = $2")
            .bind(package_id)
            .bind(name)
            .fetch_optional(conn)
            .await?;
    row.map(|r| {
        Ok(Document {
            body: r.try_get("body")?,
            updated_at: r.try_get("updated_at")?,
        })
    })
    .transpose()
}

pub async fn delete_all(conn: &mut AnyConnection, package_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM documents WHERE package_id = $1")
        .bind(package_id)
        .execute(conn)
        .await?;
    Ok(())
}
