//! Collections: named groups of packages, granted to customers as a unit.

use sqlx::{AnyConnection, Row, any::AnyRow};

use super::package_ref::PackageRef;
use super::{Listing, Page};
use crate::error::{Error, Result};

/// A collection with its members. Not serialized as it is: how the API names a member depends
/// on its format (`package_rules::Rulebook::describe`).
#[derive(Debug, Clone)]
pub struct Collection {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub packages: Vec<PackageRef>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, slug, name, description, created_at, updated_at";

async fn complete(conn: &mut AnyConnection, row: &AnyRow) -> Result<Collection> {
    let id: i64 = row.try_get("id")?;
    Ok(Collection {
        id,
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        packages: members(conn, id).await?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

async fn members(conn: &mut AnyConnection, id: i64) -> Result<Vec<PackageRef>> {
    let rows = sqlx::query(
        "SELECT owner, format, package FROM collection_members WHERE collection_id = $1 \
         ORDER BY format, owner, package",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .iter()
        .map(PackageRef::from_row)
        .collect::<Result<_, _>>()?)
}

pub async fn get(conn: &mut AnyConnection, slug: &str) -> Result<Option<Collection>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM collections WHERE slug = $1"
    )))
    .bind(slug)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => Ok(Some(complete(conn, &row).await?)),
        None => Ok(None),
    }
}

pub async fn list(conn: &mut AnyConnection, page: Page) -> Result<Listing<Collection>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM collections ORDER BY slug LIMIT $1 OFFSET $2"
    )))
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&mut *conn)
    .await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        items.push(complete(conn, row).await?);
    }
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM collections")
        .fetch_one(conn)
        .await?;
    Ok(Listing { items, total, page })
}

pub async fn insert(
    conn: &mut AnyConnection,
    slug: &str,
    name: &str,
    description: Option<&str>,
    packages: &[PackageRef],
) -> Result<Collection> {
    let now = crate::clock::now();
    let inserted = sqlx::query_scalar(
        "INSERT INTO collections (slug, name, description, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) RETURNING id",
    )
    .bind(slug)
    .bind(name)
    .bind(description)
    .bind(now)
    .fetch_one(&mut *conn)
    .await;
    let id: i64 = match inserted {
        Ok(id) => id,
        Err(e) if Error::is_unique_violation(&e) => {
            return Err(Error::conflict(format!("collection {slug} already exists")));
        }
        Err(e) => return Err(e.into()),
    };
    set_members(conn, id, packages).await?;
    get(conn, slug)
        .await?
        .ok_or_else(|| Error::internal("collection vanished"))
}

pub async fn update(
    conn: &mut AnyConnection,
    id: i64,
    name: &str,
    description: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "UPDATE collections SET name = $2, description = $3, updated_at = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(name)
    .bind(description)
    .bind(crate::clock::now())
    .execute(conn)
    .await?;
    Ok(())
}

/// Replaces the member packages; customers holding the collection see the change at once.
pub async fn set_members(conn: &mut AnyConnection, id: i64, packages: &[PackageRef]) -> Result<()> {
    sqlx::query("DELETE FROM collection_members WHERE collection_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for package in packages {
        sqlx::query(
            "INSERT INTO collection_members (collection_id, owner, format, package) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(&package.owner)
        .bind(&package.format)
        .bind(&package.name)
        .execute(&mut *conn)
        .await?;
    }
    super::customers::bump_access_for_collection(conn, id).await
}

/// Deletes a collection; customers lose the packages they held only through it.
pub async fn delete(conn: &mut AnyConnection, id: i64) -> Result<()> {
    super::customers::bump_access_for_collection(conn, id).await?;
    for sql in [
        "DELETE FROM customer_grants WHERE collection_id = $1",
        "DELETE FROM collection_members WHERE collection_id = $1",
        "DELETE FROM collections WHERE id = $1",
    ] {
        sqlx::query(sql).bind(id).execute(&mut *conn).await?;
    }
    Ok(())
}
