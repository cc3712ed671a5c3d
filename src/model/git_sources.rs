//! Git repositories that packages are synced from.

use serde::Serialize;
use sqlx::{AnyConnection, Row, any::AnyRow};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Serialize)]
pub struct GitSource {
    pub package_id: i64,
    pub repository_url: String,
    pub provider: String,
    pub subdir: Option<String>,
    /// For a monorepo: the glob that finds its packages' composer.json files.
    pub monorepo_glob: Option<String>,
    /// For a package found in a monorepo: the monorepo's package.
    pub parent_package_id: Option<i64>,
    #[serde(serialize_with = "crate::model::serialize_opt_time")]
    pub synced_at: Option<i64>,
    pub sync_error: Option<String>,
    /// `[{"reference", "reason"}]`: refs that gave no version at the last sync.
    pub skipped: serde_json::Value,
}

const COLUMNS: &str = "package_id, repository_url, provider, subdir, monorepo_glob, \
     parent_package_id, synced_at, sync_error, skipped";

fn from_row(row: &AnyRow) -> Result<GitSource> {
    let skipped: String = row.try_get("skipped")?;
    Ok(GitSource {
        package_id: row.try_get("package_id")?,
        repository_url: row.try_get("repository_url")?,
        provider: row.try_get("provider")?,
        subdir: row.try_get("subdir")?,
        monorepo_glob: row.try_get("monorepo_glob")?,
        parent_package_id: row.try_get("parent_package_id")?,
        synced_at: row.try_get("synced_at")?,
        sync_error: row.try_get("sync_error")?,
        skipped: serde_json::from_str(&skipped).map_err(Error::internal)?,
    })
}

/// Lower-case host and path without scheme, credentials, port or `.git`, so that the https, ssh and
/// `git@host:path` spellings of one repository compare equal (webhooks name it either way).
pub fn match_url(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    let rest = match url.split_once("://") {
        Some((_, rest)) => rest.to_string(),
        // scp-like `git@host:owner/repo`
        None => url.replacen(':', "/", 1),
    };
    let rest = rest.rsplit_once('@').map_or(rest.as_str(), |(_, r)| r);
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = host.split(':').next().unwrap_or(host);
    let path = path.trim_end_matches('/').trim_end_matches(".git");
    format!("{host}/{path}").to_lowercase()
}

/// How a package is laid out in its repository.
#[derive(Debug, Clone, Copy, Default)]
pub struct Layout<'a> {
    /// The package's folder, when it is not the repository root.
    pub subdir: Option<&'a str>,
    /// Set on a monorepo: the glob of its packages' composer.json files.
    pub monorepo_glob: Option<&'a str>,
    pub parent_package_id: Option<i64>,
}

pub async fn insert(
    conn: &mut AnyConnection,
    package_id: i64,
    repository_url: &str,
    provider: &str,
    layout: Layout<'_>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO git_sources (package_id, repository_url, match_url, provider, subdir, \
         monorepo_glob, parent_package_id, skipped, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, '[]', $8)",
    )
    .bind(package_id)
    .bind(repository_url)
    .bind(match_url(repository_url))
    .bind(provider)
    .bind(layout.subdir)
    .bind(layout.monorepo_glob)
    .bind(layout.parent_package_id)
    .bind(crate::clock::now())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, package_id: i64) -> Result<Option<GitSource>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM git_sources WHERE package_id = $1"
    )))
    .bind(package_id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Packages synced from the repository at `url`, however it is spelled.
pub async fn find_by_url(conn: &mut AnyConnection, url: &str) -> Result<Vec<GitSource>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM git_sources WHERE match_url = $1 ORDER BY package_id"
    )))
    .bind(match_url(url))
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Packages found in the monorepo `parent_id`.
pub async fn children(conn: &mut AnyConnection, parent_id: i64) -> Result<Vec<GitSource>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM git_sources WHERE parent_package_id = $1 ORDER BY package_id"
    )))
    .bind(parent_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn all_package_ids(conn: &mut AnyConnection) -> Result<Vec<i64>> {
    Ok(
        sqlx::query_scalar("SELECT package_id FROM git_sources ORDER BY package_id")
            .fetch_all(conn)
            .await?,
    )
}

pub async fn record_sync(
    conn: &mut AnyConnection,
    package_id: i64,
    error: Option<&str>,
    skipped: Option<&serde_json::Value>,
) -> Result<()> {
    sqlx::query(
        "UPDATE git_sources SET synced_at = $2, sync_error = $3, skipped = COALESCE($4, skipped) WHERE package_id = $1",
    )
    .bind(package_id)
    .bind(crate::clock::now())
    .bind(error)
    .bind(skipped.map(|s| s.to_string()))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete(conn: &mut AnyConnection, package_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM git_sources WHERE package_id = $1")
        .bind(package_id)
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::match_url;

    #[test]
    fn spellings_of_one_repository_match() {
        let want = "github.com/acme/core";
        for url in [
            "https://github.com/acme/core.git",
            "https://github.com/Acme/Core",
            "http://user:token@github.com/acme/core/",
            "ssh://git@github.com:22/acme/core.git",
            "git@github.com:acme/core.git",
        ] {
            assert_eq!(match_url(url), want, "{url}");
        }
        assert_ne!(match_url("https://github.com/acme/core2"), want);
    }
}
