//! Stored security advisories (migration 0013): the OSV record as imported plus one row per
//! (ecosystem, package) it names. Reading one back parses the stored record again, so the
//! record is the one source of truth.

use sqlx::{AnyConnection, Row, any::AnyRow};

use super::{Listing, Page, Param, Select};
use crate::advisories::{Advisory, osv};
use crate::error::{Error, Result};

/// What storing an advisory did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stored {
    Added,
    /// Its `modified` was newer than the stored copy's.
    Replaced,
    /// The stored copy is as new or newer.
    Kept,
}

/// Stores `advisory` unless a copy at least as new is there. Run it in a write transaction.
pub async fn store(conn: &mut AnyConnection, advisory: &Advisory) -> Result<Stored> {
    let existing: Option<i64> = sqlx::query_scalar("SELECT modified FROM advisories WHERE id = $1")
        .bind(&advisory.id)
        .fetch_optional(&mut *conn)
        .await?;
    let outcome = match existing {
        Some(modified) if modified >= advisory.modified => return Ok(Stored::Kept),
        Some(_) => {
            for table in ["advisory_packages WHERE advisory_id", "advisories WHERE id"] {
                sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} = $1")))
                    .bind(&advisory.id)
                    .execute(&mut *conn)
                    .await?;
            }
            Stored::Replaced
        }
        None => Stored::Added,
    };
    sqlx::query(
        "INSERT INTO advisories (id, modified, published, severity, summary, body, imported_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&advisory.id)
    .bind(advisory.modified)
    .bind(advisory.published)
    .bind(advisory.severity.map(|s| s.as_str()))
    .bind(&advisory.summary)
    .bind(advisory.raw.to_string())
    .bind(crate::clock::now())
    .execute(&mut *conn)
    .await?;
    let mut names: Vec<(&str, String)> = advisory
        .affected
        .iter()
        .map(|a| (a.ecosystem.as_str(), a.package.to_lowercase()))
        .collect();
    names.sort();
    names.dedup();
    for (ecosystem, package) in names {
        sqlx::query(
            "INSERT INTO advisory_packages (advisory_id, ecosystem, lower_package) \
             VALUES ($1, $2, $3)",
        )
        .bind(&advisory.id)
        .bind(ecosystem)
        .bind(package)
        .execute(&mut *conn)
        .await?;
    }
    Ok(outcome)
}

fn from_row(row: &AnyRow) -> Result<Advisory> {
    let body: String = row.try_get("body")?;
    let raw = serde_json::from_str(&body).map_err(Error::internal)?;
    osv::parse(raw).map_err(Error::internal)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Advisory>> {
    let row = sqlx::query("SELECT body FROM advisories WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// A page of advisories, newest change first, optionally naming `package` (any ecosystem,
/// case-insensitive) and of one `severity`.
pub async fn list(
    conn: &mut AnyConnection,
    package: Option<&str>,
    severity: Option<&str>,
    page: Page,
) -> Result<Listing<Advisory>> {
    let package = package.map(str::to_lowercase);
    super::fetch_page(
        conn,
        Select {
            columns: "body",
            from: "advisories",
            filter: "WHERE ($1 IS NULL OR id IN \
                       (SELECT advisory_id FROM advisory_packages WHERE lower_package = $1)) \
                     AND ($2 IS NULL OR severity = $2)",
            order: "modified DESC, id",
        },
        &[Param::Text(package.as_deref()), Param::Text(severity)],
        page,
        from_row,
    )
    .await
}

/// The advisories naming any of `packages` (lower-case) of `ecosystem`, or every one of the
/// ecosystem when `packages` is `None`, changed at or after `since` when given.
pub async fn of_packages(
    conn: &mut AnyConnection,
    ecosystem: &str,
    packages: Option<&[String]>,
    since: Option<i64>,
) -> Result<Vec<Advisory>> {
    let names = match packages {
        Some([]) => return Ok(Vec::new()),
        Some(names) => {
            let list: Vec<String> = (0..names.len()).map(|i| format!("${}", i + 3)).collect();
            format!("AND p.lower_package IN ({})", list.join(", "))
        }
        None => String::new(),
    };
    let sql = format!(
        "SELECT DISTINCT a.id, a.body FROM advisories a \
         JOIN advisory_packages p ON p.advisory_id = a.id \
         WHERE p.ecosystem = $1 AND ($2 IS NULL OR a.modified >= $2) {names} ORDER BY a.id"
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ecosystem)
        .bind(since);
    for name in packages.unwrap_or_default() {
        query = query.bind(name.to_lowercase());
    }
    query.fetch_all(conn).await?.iter().map(from_row).collect()
}

/// Every stored version of `format`'s packages: (owner, package, version).
pub async fn stored_versions(
    conn: &mut AnyConnection,
    format: &str,
) -> Result<Vec<(String, String, String)>> {
    let rows = sqlx::query(
        "SELECT o.name AS owner, p.name AS package, v.version FROM versions v \
         JOIN packages p ON p.id = v.package_id JOIN owners o ON o.id = p.owner_id \
         WHERE p.format = $1 ORDER BY o.name, p.lower_name, v.id",
    )
    .bind(format)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("owner")?,
                r.try_get("package")?,
                r.try_get("version")?,
            ))
        })
        .collect()
}
