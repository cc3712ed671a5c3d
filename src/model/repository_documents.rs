//! Documents rendered for a whole repository (an owner's packages of one format), stored as
//! bytes so a format may keep text (an index) or binary (a pacman `.db` tar) alike.

use sqlx::{AnyConnection, Row};

use crate::error::Result;

#[derive(Debug, Clone)]
pub struct RepositoryDocument {
    pub body: Vec<u8>,
    /// Lower-case hex SHA-256 of the body: its ETag.
    pub sha256: String,
    pub updated_at: i64,
}

/// Stores a rendered document. As with package documents, a changed body always gets a later
/// `updated_at` (clients revalidate by whole seconds) and an unchanged one keeps its time.
pub async fn put(
    conn: &mut AnyConnection,
    owner_id: i64,
    format: &str,
    name: &str,
    body: &[u8],
) -> Result<()> {
    let mut hash = crate::blobs::digest::MultiHasher::new(crate::blobs::ExtraDigests::NONE);
    hash.update(body);
    sqlx::query(
        "INSERT INTO repository_documents (owner_id, format, name, body, sha256, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (owner_id, format, name) DO UPDATE SET body = excluded.body, \
           sha256 = excluded.sha256, updated_at = CASE \
           WHEN repository_documents.sha256 = excluded.sha256 THEN repository_documents.updated_at \
           WHEN excluded.updated_at > repository_documents.updated_at THEN excluded.updated_at \
           ELSE repository_documents.updated_at + 1 END",
    )
    .bind(owner_id)
    .bind(format)
    .bind(name)
    .bind(body)
    .bind(hash.finish().sha256)
    .bind(crate::clock::now())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(
    conn: &mut AnyConnection,
    owner_id: i64,
    format: &str,
    name: &str,
) -> Result<Option<RepositoryDocument>> {
    let row = sqlx::query(
        "SELECT body, sha256, updated_at FROM repository_documents \
         WHERE owner_id = $1 AND format = $2 AND name = $3",
    )
    .bind(owner_id)
    .bind(format)
    .bind(name)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok(RepositoryDocument {
            body: r.try_get("body")?,
            sha256: r.try_get("sha256")?,
            updated_at: r.try_get("updated_at")?,
        })
    })
    .transpose()
}

/// Removes a document (a repository left empty); false when there was none.
pub async fn delete(
    conn: &mut AnyConnection,
    owner_id: i64,
    format: &str,
    name: &str,
) -> Result<bool> {
    let deleted = sqlx::query(
        "DELETE FROM repository_documents WHERE owner_id = $1 AND format = $2 AND name = $3",
    )
    .bind(owner_id)
    .bind(format)
    .bind(name)
    .execute(conn)
    .await?;
    Ok(deleted.rows_affected() > 0)
}
