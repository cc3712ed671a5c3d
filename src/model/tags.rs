//! Tags: names a package gives to one of its versions (npm dist-tags, OCI tags, pacman and NuGet
//! "latest"). A tag is one row per (package, name), so setting it is a single upsert: a reader
//! sees the old target or the new one, never none. Deleting a version deletes the tags on it,
//! because every format that has tags treats a tag on a gone version as gone (npm re-points
//! `latest` itself when it republishes; OCI answers 404 for the tag).

use sqlx::{AnyConnection, Row, any::AnyRow};

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Tag {
    pub name: String,
    pub version_id: i64,
    /// The version's name, so listings need no second query.
    pub version: String,
    #[serde(serialize_with = "crate::model::serialize_time")]
    pub updated_at: i64,
}

fn from_row(row: &AnyRow) -> Result<Tag> {
    Ok(Tag {
        name: row.try_get("name")?,
        version_id: row.try_get("version_id")?,
        version: row.try_get("version")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Points `name` at `version_id`, creating or moving the tag in one statement. The version must
/// belong to the package (a tag never crosses packages).
pub async fn set(
    conn: &mut AnyConnection,
    package_id: i64,
    name: &str,
    version_id: i64,
) -> Result<()> {
    let set = sqlx::query(
        "INSERT INTO tags (package_id, name, version_id, updated_at) \
         SELECT $1, $2, v.id, $4 FROM versions v WHERE v.id = $3 AND v.package_id = $1 \
         ON CONFLICT (package_id, name) DO UPDATE SET version_id = excluded.version_id, \
           updated_at = excluded.updated_at",
    )
    .bind(package_id)
    .bind(name)
    .bind(version_id)
    .bind(crate::clock::now())
    .execute(conn)
    .await?;
    if set.rows_affected() == 0 {
        return Err(Error::not_found(format!(
            "version {version_id} is not a version of package {package_id}"
        )));
    }
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, package_id: i64, name: &str) -> Result<Option<Tag>> {
    let row = sqlx::query(
        "SELECT t.name, t.version_id, v.version, t.updated_at FROM tags t \
         JOIN versions v ON v.id = t.version_id WHERE t.package_id = $1 AND t.name = $2",
    )
    .bind(package_id)
    .bind(name)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Every tag of a package, by name.
pub async fn list(conn: &mut AnyConnection, package_id: i64) -> Result<Vec<Tag>> {
    let rows = sqlx::query(
        "SELECT t.name, t.version_id, v.version, t.updated_at FROM tags t \
         JOIN versions v ON v.id = t.version_id WHERE t.package_id = $1 ORDER BY t.name",
    )
    .bind(package_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Removes a tag; false when there was none.
pub async fn delete(conn: &mut AnyConnection, package_id: i64, name: &str) -> Result<bool> {
    let deleted = sqlx::query("DELETE FROM tags WHERE package_id = $1 AND name = $2")
        .bind(package_id)
        .bind(name)
        .execute(conn)
        .await?;
    Ok(deleted.rows_affected() > 0)
}

/// Removes the tags on a version that is being deleted.
pub(crate) async fn delete_for_version(conn: &mut AnyConnection, version_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM tags WHERE version_id = $1")
        .bind(version_id)
        .execute(conn)
        .await?;
    Ok(())
}
