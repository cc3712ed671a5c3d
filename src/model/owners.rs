use sqlx::{AnyConnection, Row, any::AnyRow};

use super::visibility::Visibility;
use super::{Listing, Page};
use crate::error::{Error, Result};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Owner {
    pub id: i64,
    pub name: String,
    pub visibility: Visibility,
    #[serde(serialize_with = "crate::model::serialize_time")]
    pub created_at: i64,
}

const COLUMNS: &str = "id, name, visibility, created_at";

fn from_row(row: &AnyRow) -> Result<Owner> {
    Ok(Owner {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        visibility: visibility_of(row)?,
        created_at: row.try_get("created_at")?,
    })
}

fn visibility_of(row: &AnyRow) -> Result<Visibility> {
    let stored: String = row.try_get("visibility")?;
    Visibility::parse(&stored)
        .map_err(|_| Error::internal(format!("owner visibility {stored:?} in the database")))
}

pub async fn find(conn: &mut AnyConnection, name: &str) -> Result<Option<Owner>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM owners WHERE lower_name = $1"
    )))
    .bind(name.to_lowercase())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The owner with id `id` (a render hook learns a changed package's owner by id).
pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<Owner>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM owners WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The visibility of the owner named `name`, without the rest of its row (read on every
/// anonymous or customer download).
pub async fn find_visibility(conn: &mut AnyConnection, name: &str) -> Result<Option<Visibility>> {
    let row = sqlx::query("SELECT visibility FROM owners WHERE lower_name = $1")
        .bind(name.to_lowercase())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(visibility_of).transpose()
}

pub async fn create(conn: &mut AnyConnection, name: &str, visibility: Visibility) -> Result<Owner> {
    let inserted = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO owners (name, lower_name, visibility, created_at) VALUES ($1, $2, $3, $4) \
         RETURNING {COLUMNS}"
    )))
    .bind(name)
    .bind(name.to_lowercase())
    .bind(visibility.as_str())
    .bind(crate::clock::now())
    .fetch_one(conn)
    .await;
    match inserted {
        Ok(row) => from_row(&row),
        Err(e) if Error::is_unique_violation(&e) => {
            Err(Error::conflict(format!("owner {name} already exists")))
        }
        Err(e) => Err(e.into()),
    }
}

/// Finds the owner, creating it when missing (an admin's first publish to a new namespace).
pub async fn find_or_create(conn: &mut AnyConnection, name: &str) -> Result<Owner> {
    sqlx::query(
        "INSERT INTO owners (name, lower_name, created_at) VALUES ($1, $2, $3) ON CONFLICT (lower_name) DO NOTHING",
    )
    .bind(name)
    .bind(name.to_lowercase())
    .bind(crate::clock::now())
    .execute(&mut *conn)
    .await?;
    find(conn, name)
        .await?
        .ok_or_else(|| Error::internal("owner vanished while being created"))
}

pub async fn set_visibility(
    conn: &mut AnyConnection,
    owner: &Owner,
    visibility: Visibility,
) -> Result<Owner> {
    sqlx::query("UPDATE owners SET visibility = $1 WHERE id = $2")
        .bind(visibility.as_str())
        .bind(owner.id)
        .execute(conn)
        .await?;
    Ok(Owner {
        visibility,
        ..owner.clone()
    })
}

pub async fn list(conn: &mut AnyConnection, page: Page) -> Result<Listing<Owner>> {
    super::fetch_page(
        conn,
        super::Select {
            columns: COLUMNS,
            from: "owners",
            filter: "",
            order: "lower_name",
        },
        &[],
        page,
        from_row,
    )
    .await
}

/// Deletes an owner that holds no package; one that still does is a conflict.
pub async fn delete_empty(conn: &mut AnyConnection, owner: &Owner) -> Result<()> {
    let packages: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM packages WHERE owner_id = $1")
        .bind(owner.id)
        .fetch_one(&mut *conn)
        .await?;
    if packages > 0 {
        return Err(Error::conflict(format!(
            "owner {} still has {packages} package(s); delete them first",
            owner.name
        )));
    }
    // Documents of its repositories (e.g. an empty pacman `.db`) describe nothing any more.
    super::documents::delete_repository_documents(conn, owner.id).await?;
    sqlx::query("DELETE FROM owners WHERE id = $1")
        .bind(owner.id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Owner names: 1–64 letters, digits, `.`, `-` or `_`, starting with a letter or digit.
pub fn check_owner_name(name: &str) -> Result<()> {
    let ok = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        && !name.contains("..");
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "owner name {name:?} is invalid: use 1 to 64 letters, digits, '.', '-' or '_', starting with a letter or digit"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::check_owner_name;

    #[test]
    fn owner_names() {
        for ok in ["acme", "A.b-c_d", "9lives"] {
            check_owner_name(ok).unwrap();
        }
        for bad in ["", ".x", "-x", "a..b", "a b", "a/b", "ä", &"a".repeat(65)] {
            assert!(check_owner_name(bad).is_err(), "{bad:?}");
        }
    }
}
