//! Packages, versions and files. A version exists only while it has files or format metadata
//! worth keeping; deleting the last file of a version removes it, and an empty package goes too.

use sqlx::{AnyConnection, Row, any::AnyRow};

use super::blob_refs::{self, Holder};
use super::blobs::{self, Blob, blob_columns};
use super::properties::{self, RefType};
use super::{Listing, Page, Param};
use crate::error::{Error, Result};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Package {
    pub id: i64,
    pub owner_id: i64,
    pub format: String,
    pub name: String,
    #[serde(serialize_with = "crate::model::serialize_time")]
    pub created_at: i64,
}

impl Package {
    /// Where its rendered documents are kept.
    pub fn document_scope(&self) -> super::documents::Scope<'_> {
        super::documents::Scope {
            owner_id: self.owner_id,
            format: &self.format,
            package_id: Some(self.id),
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Version {
    pub id: i64,
    pub package_id: i64,
    pub version: String,
    pub metadata: serde_json::Value,
    pub download_count: i64,
    #[serde(serialize_with = "crate::model::serialize_time")]
    pub created_at: i64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct File {
    pub id: i64,
    pub version_id: i64,
    pub name: String,
    #[serde(serialize_with = "crate::model::serialize_time")]
    pub created_at: i64,
    /// Boxed: most files have none, and `File` travels by value in many enums and caches.
    #[serde(flatten)]
    pub details: Box<FileDetails>,
    pub blob: Blob,
}

/// What a format records about one file beyond its name (see migration 0007): `kind` and
/// `qualifier` are indexed for listing files by them, `metadata` is the file's own JSON.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct FileDetails {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub qualifier: String,
    #[serde(skip_serializing_if = "is_empty_object")]
    pub metadata: serde_json::Value,
}

fn is_empty_object(value: &serde_json::Value) -> bool {
    value.as_object().is_some_and(|o| o.is_empty()) || value.is_null()
}

/// The file columns, for queries on `files f` (a macro so queries stay `&'static str`).
macro_rules! file_columns {
    () => {
        "f.id, f.version_id, f.name, f.created_at, f.kind, f.qualifier, f.metadata, "
    };
}

/// Where a file lives, by name. Names compare case-insensitively, as Gitea does.
#[derive(Debug, Clone, Copy)]
pub struct FileCoord<'a> {
    pub owner: &'a str,
    pub format: &'a str,
    pub package: &'a str,
    pub version: &'a str,
    pub file: &'a str,
}

fn package_from_row(row: &AnyRow) -> Result<Package> {
    Ok(Package {
        id: row.try_get("id")?,
        owner_id: row.try_get("owner_id")?,
        format: row.try_get("format")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
    })
}

fn version_from_row(row: &AnyRow) -> Result<Version> {
    let metadata: String = row.try_get("metadata")?;
    Ok(Version {
        id: row.try_get("id")?,
        package_id: row.try_get("package_id")?,
        version: row.try_get("version")?,
        metadata: serde_json::from_str(&metadata).map_err(Error::internal)?,
        download_count: row.try_get("download_count")?,
        created_at: row.try_get("created_at")?,
    })
}

fn file_from_row(row: &AnyRow) -> Result<File> {
    let metadata: String = row.try_get("metadata")?;
    Ok(File {
        id: row.try_get("id")?,
        version_id: row.try_get("version_id")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        details: Box::new(FileDetails {
            kind: row.try_get("kind")?,
            qualifier: row.try_get("qualifier")?,
            metadata: serde_json::from_str(&metadata).map_err(Error::internal)?,
        }),
        blob: blobs::from_row(row)?,
    })
}

pub async fn find_or_create_package(
    conn: &mut AnyConnection,
    owner_id: i64,
    format: &str,
    name: &str,
) -> Result<Package> {
    sqlx::query(
        "INSERT INTO packages (owner_id, format, name, lower_name, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (owner_id, format, lower_name) DO NOTHING",
    )
    .bind(owner_id)
    .bind(format)
    .bind(name)
    .bind(name.to_lowercase())
    .bind(crate::clock::now())
    .execute(&mut *conn)
    .await?;
    find_package(conn, owner_id, format, name)
        .await?
        .ok_or_else(|| Error::internal("package vanished while being created"))
}

pub async fn find_package(
    conn: &mut AnyConnection,
    owner_id: i64,
    format: &str,
    name: &str,
) -> Result<Option<Package>> {
    let row = sqlx::query(
        "SELECT id, owner_id, format, name, created_at FROM packages \
         WHERE owner_id = $1 AND format = $2 AND lower_name = $3",
    )
    .bind(owner_id)
    .bind(format)
    .bind(name.to_lowercase())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(package_from_row).transpose()
}

pub async fn get_package(conn: &mut AnyConnection, id: i64) -> Result<Option<Package>> {
    let row =
        sqlx::query("SELECT id, owner_id, format, name, created_at FROM packages WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    row.as_ref().map(package_from_row).transpose()
}

/// Holds the package's row lock until the transaction ends (a no-op update: PostgreSQL locks the
/// row, SQLite's write lock covers the database anyway), so two renders of one package run one
/// after the other and the later one reads what the earlier change committed.
pub async fn lock_package(conn: &mut AnyConnection, package_id: i64) -> Result<()> {
    sqlx::query("UPDATE packages SET id = id WHERE id = $1")
        .bind(package_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The package a version belongs to.
pub async fn package_of_version(
    conn: &mut AnyConnection,
    version_id: i64,
) -> Result<Option<Package>> {
    let row = sqlx::query(
        "SELECT p.id, p.owner_id, p.format, p.name, p.created_at FROM packages p \
         JOIN versions v ON v.package_id = p.id WHERE v.id = $1",
    )
    .bind(version_id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(package_from_row).transpose()
}

pub async fn find_or_create_version(
    conn: &mut AnyConnection,
    package_id: i64,
    version: &str,
    metadata: &serde_json::Value,
) -> Result<Version> {
    sqlx::query(
        "INSERT INTO versions (package_id, version, lower_version, metadata, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (package_id, lower_version) DO NOTHING",
    )
    .bind(package_id)
    .bind(version)
    .bind(version.to_lowercase())
    .bind(metadata.to_string())
    .bind(crate::clock::now())
    .execute(&mut *conn)
    .await?;
    find_version(conn, package_id, version)
        .await?
        .ok_or_else(|| Error::internal("version vanished while being created"))
}

pub async fn find_version(
    conn: &mut AnyConnection,
    package_id: i64,
    version: &str,
) -> Result<Option<Version>> {
    let row = sqlx::query(
        "SELECT id, package_id, version, metadata, download_count, created_at FROM versions \
         WHERE package_id = $1 AND lower_version = $2",
    )
    .bind(package_id)
    .bind(version.to_lowercase())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(version_from_row).transpose()
}

/// Adds a file to a version; a file of the same name is a conflict.
pub async fn insert_file(
    conn: &mut AnyConnection,
    version_id: i64,
    name: &str,
    blob: &Blob,
    details: &FileDetails,
) -> Result<File> {
    let created_at = crate::clock::now();
    let inserted = sqlx::query(
        "INSERT INTO files (version_id, name, lower_name, blob_sha256, created_at, kind, qualifier, metadata) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(version_id)
    .bind(name)
    .bind(name.to_lowercase())
    .bind(&blob.sha256)
    .bind(created_at)
    .bind(&details.kind)
    .bind(&details.qualifier)
    .bind(details.metadata.to_string())
    .fetch_one(conn)
    .await;
    match inserted {
        Ok(row) => Ok(File {
            id: row.try_get("id")?,
            version_id,
            name: name.to_string(),
            created_at,
            details: Box::new(details.clone()),
            blob: blob.clone(),
        }),
        Err(e) if Error::is_unique_violation(&e) => Err(Error::conflict(format!(
            "a file named {name} already exists in this version"
        ))),
        Err(e) => Err(e.into()),
    }
}

/// A file with its version, found by name in one query (the download path).
pub async fn find_file(conn: &mut AnyConnection, at: FileCoord<'_>) -> Result<Option<File>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        file_columns!(),
        blob_columns!(),
        " FROM files f JOIN blobs b ON b.sha256 = f.blob_sha256 \
          JOIN versions v ON v.id = f.version_id \
          JOIN packages p ON p.id = v.package_id \
          JOIN owners o ON o.id = p.owner_id \
          WHERE o.lower_name = $1 AND p.format = $2 AND p.lower_name = $3 \
            AND v.lower_version = $4 AND f.lower_name = $5"
    ))
    .bind(at.owner.to_lowercase())
    .bind(at.format)
    .bind(at.package.to_lowercase())
    .bind(at.version.to_lowercase())
    .bind(at.file.to_lowercase())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(file_from_row).transpose()
}

/// A file found by kind and qualifier among an owner's packages of one format, with the names
/// of its package and version.
#[derive(Debug, Clone)]
pub struct QualifiedFile {
    pub package: String,
    pub version: String,
    pub file: File,
}

/// The files of `kind` whose qualifier is `qualifier` among an owner's packages of `format`,
/// oldest first (a symbol server finds a PDB by its signature, whatever package holds it).
pub async fn find_by_qualifier(
    conn: &mut AnyConnection,
    owner: &str,
    format: &str,
    kind: &str,
    qualifier: &str,
) -> Result<Vec<QualifiedFile>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        file_columns!(),
        blob_columns!(),
        ", p.name AS package_name, v.version AS version_name \
          FROM files f JOIN blobs b ON b.sha256 = f.blob_sha256 \
          JOIN versions v ON v.id = f.version_id \
          JOIN packages p ON p.id = v.package_id \
          JOIN owners o ON o.id = p.owner_id \
          WHERE o.lower_name = $1 AND p.format = $2 AND f.kind = $3 AND f.qualifier = $4 \
          ORDER BY f.id"
    ))
    .bind(owner.to_lowercase())
    .bind(format)
    .bind(kind)
    .bind(qualifier)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(QualifiedFile {
                package: row.try_get("package_name")?,
                version: row.try_get("version_name")?,
                file: file_from_row(row)?,
            })
        })
        .collect()
}

pub async fn list_files(conn: &mut AnyConnection, version_id: i64) -> Result<Vec<File>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        file_columns!(),
        blob_columns!(),
        " FROM files f JOIN blobs b ON b.sha256 = f.blob_sha256 WHERE f.version_id = $1 ORDER BY f.lower_name"
    ))
    .bind(version_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(file_from_row).collect()
}

/// The files of a version with the given kind, and qualifier when given (a Maven version's
/// `jar`s, a pacman version's `x86_64` package), by name.
pub async fn list_files_of_kind(
    conn: &mut AnyConnection,
    version_id: i64,
    kind: &str,
    qualifier: Option<&str>,
) -> Result<Vec<File>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        file_columns!(),
        blob_columns!(),
        " FROM files f JOIN blobs b ON b.sha256 = f.blob_sha256 \
          WHERE f.version_id = $1 AND f.kind = $2 AND ($3 IS NULL OR f.qualifier = $3) \
          ORDER BY f.lower_name"
    ))
    .bind(version_id)
    .bind(kind)
    .bind(qualifier)
    .fetch_all(conn)
    .await?;
    rows.iter().map(file_from_row).collect()
}

pub async fn list_packages(
    conn: &mut AnyConnection,
    owner_id: i64,
    format: Option<&str>,
    page: Page,
) -> Result<Listing<Package>> {
    super::fetch_page(
        conn,
        super::Select {
            columns: "id, owner_id, format, name, created_at",
            from: "packages",
            filter: "WHERE owner_id = $1 AND ($2 IS NULL OR format = $2)",
            order: "format, lower_name",
        },
        &[Param::Int(Some(owner_id)), Param::Text(format)],
        page,
        package_from_row,
    )
    .await
}

/// A package of any owner and format, as a registry-wide listing shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PackageSummary {
    #[serde(skip)]
    pub id: i64,
    pub owner: String,
    pub format: String,
    pub name: String,
    pub versions: i64,
    /// The version published last (not necessarily the highest).
    pub newest_version: Option<String>,
    /// Where a package synced from Git comes from.
    pub repository_url: Option<String>,
}

/// Every package, of one format or all, by owner, format and name.
pub async fn summaries(
    conn: &mut AnyConnection,
    format: Option<&str>,
) -> Result<Vec<PackageSummary>> {
    let rows = sqlx::query(
        "SELECT p.id, o.name AS owner, p.format, p.name, \
         (SELECT COUNT(*) FROM versions v WHERE v.package_id = p.id) AS versions, \
         (SELECT v.version FROM versions v WHERE v.package_id = p.id \
          ORDER BY v.created_at DESC, v.id DESC LIMIT 1) AS newest_version, \
         g.repository_url \
         FROM packages p JOIN owners o ON o.id = p.owner_id \
         LEFT JOIN git_sources g ON g.package_id = p.id \
         WHERE ($1 IS NULL OR p.format = $1) \
         ORDER BY o.lower_name, p.format, p.lower_name",
    )
    .bind(format)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(PackageSummary {
                id: row.try_get("id")?,
                owner: row.try_get("owner")?,
                format: row.try_get("format")?,
                name: row.try_get("name")?,
                versions: row.try_get("versions")?,
                newest_version: row.try_get("newest_version")?,
                repository_url: row.try_get("repository_url")?,
            })
        })
        .collect()
}

/// Names of the packages of one format under an owner whose name contains `fragment` (case
/// aside; `%` and `_` are plain characters), sorted: a search narrowed in the database rather
/// than after reading every name.
pub async fn package_names_containing(
    conn: &mut AnyConnection,
    owner_id: i64,
    format: &str,
    fragment: &str,
) -> Result<Vec<String>> {
    let escaped = fragment
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Ok(sqlx::query_scalar(
        "SELECT name FROM packages WHERE owner_id = $1 AND format = $2 \
         AND lower_name LIKE $3 ESCAPE '\\' ORDER BY lower_name",
    )
    .bind(owner_id)
    .bind(format)
    .bind(format!("%{escaped}%"))
    .fetch_all(conn)
    .await?)
}

/// Names of every package of one format under an owner, sorted.
pub async fn package_names(
    conn: &mut AnyConnection,
    owner_id: i64,
    format: &str,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT name FROM packages WHERE owner_id = $1 AND format = $2 ORDER BY lower_name",
    )
    .bind(owner_id)
    .bind(format)
    .fetch_all(conn)
    .await?)
}

pub async fn list_versions(
    conn: &mut AnyConnection,
    package_id: i64,
    page: Page,
) -> Result<Listing<Version>> {
    super::fetch_page(
        conn,
        super::Select {
            columns: "id, package_id, version, metadata, download_count, created_at",
            from: "versions",
            filter: "WHERE package_id = $1",
            order: "created_at DESC, id DESC",
        },
        &[Param::Int(Some(package_id))],
        page,
        version_from_row,
    )
    .await
}

/// Deletes one file; the version goes with its last file and the package with its last version.
/// Returns the SHA-256 of the blobs the file and whatever went with it held, so the caller can
/// drop them if now unused.
pub async fn delete_file(conn: &mut AnyConnection, file: &File) -> Result<Vec<String>> {
    properties::delete_all(conn, RefType::File, file.id).await?;
    sqlx::query("DELETE FROM files WHERE id = $1")
        .bind(file.id)
        .execute(&mut *conn)
        .await?;
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM files WHERE version_id = $1")
        .bind(file.version_id)
        .fetch_one(&mut *conn)
        .await?;
    let mut shas = vec![file.blob.sha256.clone()];
    if left == 0 {
        shas.extend(delete_version_row(conn, file.version_id).await?);
    }
    Ok(shas)
}

/// Deletes a version with all its files, tags and blob references; returns the SHA-256 of every
/// blob they held.
pub async fn delete_version(conn: &mut AnyConnection, version_id: i64) -> Result<Vec<String>> {
    let files = list_files(conn, version_id).await?;
    for file in &files {
        properties::delete_all(conn, RefType::File, file.id).await?;
    }
    sqlx::query("DELETE FROM files WHERE version_id = $1")
        .bind(version_id)
        .execute(&mut *conn)
        .await?;
    let mut shas: Vec<String> = files.into_iter().map(|f| f.blob.sha256).collect();
    shas.extend(delete_version_row(conn, version_id).await?);
    Ok(shas)
}

/// Deletes a version row without files, with what hangs off it; returns the blobs it (and the
/// package, when that goes too) held.
async fn delete_version_row(conn: &mut AnyConnection, version_id: i64) -> Result<Vec<String>> {
    properties::delete_all(conn, RefType::Version, version_id).await?;
    super::tags::delete_for_version(conn, version_id).await?;
    let mut shas = blob_refs::release_all(conn, Holder::Version(version_id)).await?;
    let package_id: Option<i64> =
        sqlx::query_scalar("DELETE FROM versions WHERE id = $1 RETURNING package_id")
            .bind(version_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(package_id) = package_id else {
        return Ok(shas);
    };
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM versions WHERE package_id = $1")
        .bind(package_id)
        .fetch_one(&mut *conn)
        .await?;
    // A package synced from a source stays while the source is configured, versions or not.
    let sourced: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM git_sources WHERE package_id = $1")
        .bind(package_id)
        .fetch_one(&mut *conn)
        .await?;
    // So does one holding blobs of its own (an OCI repository's pushed layers outlive its last
    // manifest: a client deletes them itself, or pushes a new manifest naming them).
    let holding: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM blob_refs WHERE kind = 'package' AND ref_id = $1")
            .bind(package_id)
            .fetch_one(&mut *conn)
            .await?;
    if left == 0 && sourced == 0 && holding == 0 {
        shas.extend(delete_package_row(conn, package_id).await?);
    }
    Ok(shas)
}

/// Removes a package that has no versions left, with what hangs off it; returns the blobs it held.
pub async fn delete_package_row(conn: &mut AnyConnection, package_id: i64) -> Result<Vec<String>> {
    properties::delete_all(conn, RefType::Package, package_id).await?;
    let shas = blob_refs::release_all(conn, Holder::Package(package_id)).await?;
    super::documents::delete_all(conn, package_id).await?;
    super::git_sources::delete(conn, package_id).await?;
    sqlx::query("DELETE FROM packages WHERE id = $1")
        .bind(package_id)
        .execute(conn)
        .await?;
    Ok(shas)
}

/// Every version of a package (metadata rendering needs them all).
pub async fn all_versions(conn: &mut AnyConnection, package_id: i64) -> Result<Vec<Version>> {
    let rows = sqlx::query(
        "SELECT id, package_id, version, metadata, download_count, created_at FROM versions \
         WHERE package_id = $1 ORDER BY id",
    )
    .bind(package_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(version_from_row).collect()
}

/// Adds counted downloads to versions (flushed in batches, see `downloads`).
pub async fn add_downloads(conn: &mut AnyConnection, version_id: i64, count: i64) -> Result<()> {
    sqlx::query("UPDATE versions SET download_count = download_count + $2 WHERE id = $1")
        .bind(version_id)
        .bind(count)
        .execute(conn)
        .await?;
    Ok(())
}

/// A file found by its name alone within an owner's packages of one format, with where it sits.
#[derive(Debug, Clone)]
pub struct NamedFile {
    pub package: String,
    pub version: String,
    pub file: File,
}

/// The file of that name (any case) in any version of the owner's packages of `format`; the
/// oldest when several versions hold one (dialects whose file names are unique never have two).
pub async fn find_file_named(
    conn: &mut AnyConnection,
    owner_id: i64,
    format: &str,
    file: &str,
) -> Result<Option<NamedFile>> {
    let row = sqlx::query(concat!(
        "SELECT p.name AS package_name, v.version AS version_name, ",
        file_columns!(),
        blob_columns!(),
        " FROM files f JOIN blobs b ON b.sha256 = f.blob_sha256 \
          JOIN versions v ON v.id = f.version_id \
          JOIN packages p ON p.id = v.package_id \
          WHERE p.owner_id = $1 AND p.format = $2 AND f.lower_name = $3 \
          ORDER BY f.id LIMIT 1"
    ))
    .bind(owner_id)
    .bind(format)
    .bind(file.to_lowercase())
    .fetch_optional(conn)
    .await?;
    row.as_ref()
        .map(|row| {
            Ok(NamedFile {
                package: row.try_get("package_name")?,
                version: row.try_get("version_name")?,
                file: file_from_row(row)?,
            })
        })
        .transpose()
}

/// Replaces a version's format metadata.
pub async fn set_version_metadata(
    conn: &mut AnyConnection,
    version_id: i64,
    metadata: &serde_json::Value,
) -> Result<()> {
    sqlx::query("UPDATE versions SET metadata = $2 WHERE id = $1")
        .bind(version_id)
        .bind(metadata.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// What an owner holds in one format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub packages: i64,
    pub versions: i64,
    /// Downloads counted on the versions (flushed in batches).
    pub downloads: i64,
    /// Bytes of the distinct contents its files use.
    pub bytes: i64,
    /// When the newest version or file was added, if any.
    pub last_added: Option<i64>,
}

pub async fn totals(conn: &mut AnyConnection, owner_id: i64, format: &str) -> Result<Totals> {
    let packages: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM packages WHERE owner_id = $1 AND format = $2")
            .bind(owner_id)
            .bind(format)
            .fetch_one(&mut *conn)
            .await?;
    let versions = sqlx::query(
        "SELECT COUNT(v.id) AS versions, CAST(COALESCE(SUM(v.download_count), 0) AS BIGINT) AS downloads, \
         MAX(v.created_at) AS last_version FROM versions v JOIN packages p ON p.id = v.package_id \
         WHERE p.owner_id = $1 AND p.format = $2",
    )
    .bind(owner_id)
    .bind(format)
    .fetch_one(&mut *conn)
    .await?;
    let files = sqlx::query(
        "SELECT CAST(COALESCE(SUM(b.size), 0) AS BIGINT) AS bytes, \
         (SELECT MAX(f.created_at) FROM files f JOIN versions v ON v.id = f.version_id \
          JOIN packages p ON p.id = v.package_id WHERE p.owner_id = $1 AND p.format = $2) AS last_file \
         FROM blobs b WHERE b.sha256 IN (SELECT f.blob_sha256 FROM files f \
          JOIN versions v ON v.id = f.version_id JOIN packages p ON p.id = v.package_id \
          WHERE p.owner_id = $1 AND p.format = $2)",
    )
    .bind(owner_id)
    .bind(format)
    .fetch_one(&mut *conn)
    .await?;
    let last_version: Option<i64> = versions.try_get("last_version")?;
    let last_file: Option<i64> = files.try_get("last_file")?;
    Ok(Totals {
        packages,
        versions: versions.try_get("versions")?,
        downloads: versions.try_get("downloads")?,
        bytes: files.try_get("bytes")?,
        last_added: last_version.max(last_file),
    })
}

/// The owner's `limit` packages of `format` with the most downloads (counted on their versions),
/// most first, as (name, downloads).
pub async fn most_downloaded(
    conn: &mut AnyConnection,
    owner_id: i64,
    format: &str,
    limit: i64,
) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT p.name, CAST(COALESCE(SUM(v.download_count), 0) AS BIGINT) AS downloads \
         FROM packages p JOIN versions v ON v.package_id = p.id \
         WHERE p.owner_id = $1 AND p.format = $2 \
         GROUP BY p.id, p.name, p.lower_name ORDER BY downloads DESC, p.lower_name LIMIT $3",
    )
    .bind(owner_id)
    .bind(format)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("name")?, row.try_get("downloads")?)))
        .collect()
}
