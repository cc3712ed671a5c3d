//! Rendered documents, served as they are stored: a package's own (Composer's `p2` files, its
//! README) or a whole repository's (an owner's packages of one format: a pacman `.db`, an npm or
//! NuGet index). One table and one upsert for both; bodies are bytes, so text and binary are kept
//! alike, and each carries its SHA-256, the ETag it is served with.

use sqlx::{AnyConnection, Row};

use crate::blobs::digest::sha256_hex;
use crate::error::Result;

/// The `package_id` of a repository's own documents. No package has id 0, and the key cannot use
/// NULL instead: NULLs never conflict, so the upsert would add a second row instead of replacing.
const REPOSITORY: i64 = 0;

/// Whose document it is: a package's, or its repository's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope<'a> {
    pub owner_id: i64,
    pub format: &'a str,
    /// `None` for the repository's own documents.
    pub package_id: Option<i64>,
}

impl<'a> Scope<'a> {
    /// The documents of an owner's packages of one format, taken together.
    pub fn repository(owner_id: i64, format: &'a str) -> Self {
        Scope {
            owner_id,
            format,
            package_id: None,
        }
    }

    /// The stored `package_id`.
    fn package_key(&self) -> i64 {
        self.package_id.unwrap_or(REPOSITORY)
    }
}

#[derive(Debug, Clone)]
pub struct Document {
    pub body: Vec<u8>,
    /// Lower-case hex SHA-256 of the body: its ETag.
    pub sha256: String,
    pub updated_at: i64,
}

/// Stores a rendered document. A changed body always gets a later `updated_at` than the one it
/// replaces, even within one second, because clients revalidate with `If-Modified-Since` (whole
/// seconds); an unchanged body is not written at all, so it keeps its time and clients keep their
/// caches.
pub async fn put(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    name: &str,
    body: &[u8],
) -> Result<()> {
    sqlx::query(
        "INSERT INTO rendered_documents \
           (package_id, owner_id, format, name, body, sha256, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (package_id, owner_id, format, name) DO UPDATE SET body = excluded.body, \
           sha256 = excluded.sha256, updated_at = CASE \
           WHEN excluded.updated_at > rendered_documents.updated_at THEN excluded.updated_at \
           ELSE rendered_documents.updated_at + 1 END \
         WHERE rendered_documents.sha256 <> excluded.sha256",
    )
    .bind(scope.package_key())
    .bind(scope.owner_id)
    .bind(scope.format)
    .bind(name)
    .bind(body)
    .bind(sha256_hex(body))
    .bind(crate::clock::now())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    name: &str,
) -> Result<Option<Document>> {
    let row = sqlx::query(
        "SELECT body, sha256, updated_at FROM rendered_documents \
         WHERE package_id = $1 AND owner_id = $2 AND format = $3 AND name = $4",
    )
    .bind(scope.package_key())
    .bind(scope.owner_id)
    .bind(scope.format)
    .bind(name)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok(Document {
            body: r.try_get("body")?,
            sha256: r.try_get("sha256")?,
            updated_at: r.try_get("updated_at")?,
        })
    })
    .transpose()
}

/// Removes one document; nothing when there is none.
pub async fn delete(conn: &mut AnyConnection, scope: Scope<'_>, name: &str) -> Result<()> {
    sqlx::query(
        "DELETE FROM rendered_documents \
         WHERE package_id = $1 AND owner_id = $2 AND format = $3 AND name = $4",
    )
    .bind(scope.package_key())
    .bind(scope.owner_id)
    .bind(scope.format)
    .bind(name)
    .execute(conn)
    .await?;
    Ok(())
}

/// One package's document among `parts`.
#[derive(Debug, Clone)]
pub struct Part {
    pub package: String,
    pub body: Vec<u8>,
}

/// The documents named `name` of every package of an owner's packages of one format, by package
/// id, read in one statement (so from one snapshot): the parts a repository document is
/// assembled from when rewriting it whole on every change would cost too much (a pacman
/// database is every package's entry).
pub async fn parts(
    conn: &mut AnyConnection,
    owner_id: i64,
    format: &str,
    name: &str,
) -> Result<Vec<Part>> {
    let rows = sqlx::query(
        "SELECT p.name AS package, d.body FROM rendered_documents d \
         JOIN packages p ON p.id = d.package_id \
         WHERE d.owner_id = $1 AND d.format = $2 AND d.name = $3 AND d.package_id <> $4 \
         ORDER BY d.package_id",
    )
    .bind(owner_id)
    .bind(format)
    .bind(name)
    .bind(REPOSITORY)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Part {
                package: r.try_get("package")?,
                body: r.try_get("body")?,
            })
        })
        .collect()
}

/// The names of a scope's documents starting with `prefix`, sorted.
pub async fn names_with_prefix(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    prefix: &str,
) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT name FROM rendered_documents \
         WHERE package_id = $1 AND owner_id = $2 AND format = $3 AND substr(name, 1, length($4)) = $4 \
         ORDER BY name",
    )
    .bind(scope.package_key())
    .bind(scope.owner_id)
    .bind(scope.format)
    .bind(prefix)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| Ok(r.try_get("name")?)).collect()
}

/// Removes every document of a package (which is being deleted).
pub async fn delete_all(conn: &mut AnyConnection, package_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM rendered_documents WHERE package_id = $1")
        .bind(package_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes an owner's repository documents (the owner, left without packages, is being deleted).
pub async fn delete_repository_documents(conn: &mut AnyConnection, owner_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM rendered_documents WHERE package_id = $1 AND owner_id = $2")
        .bind(REPOSITORY)
        .bind(owner_id)
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repository_document_is_keyed_apart_from_every_package() {
        let of_package = Scope {
            owner_id: 3,
            format: "pacman",
            package_id: Some(7),
        };
        let of_repository = Scope::repository(3, "pacman");
        assert_eq!((of_package.owner_id, of_package.format), (3, "pacman"));
        assert_eq!(of_package.package_key(), 7);
        assert_eq!(of_repository.package_key(), REPOSITORY);
        assert_ne!(of_package, of_repository);
    }
}
