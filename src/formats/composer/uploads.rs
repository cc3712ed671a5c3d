//! Composer packages published by uploading zips rather than synced from Git, held under an owner
//! (format `composer`) and served by the upload dialects (Gitea's `/api/packages/{owner}/composer`,
//! Nitro Repo's `/repositories/{storage}/{repository}`). One path for every dialect: the body is
//! spooled to a temporary file (never held in memory), the archive is inspected before anything is
//! stored, and the version's Composer entry is built by the same `metadata` code the Git-synced
//! registry uses. Dist URLs differ per dialect, so each dialect fills them in when it serves.

use futures_util::Stream;
use serde_json::{Map, Value};
use tokio::io::AsyncSeekExt;

use super::metadata::{self, VersionFacts};
use super::zip_inspect::{self, Limits};
use super::{Composer, FORMAT, version};
use crate::blobs::{ExtraDigests, PutOptions, file_stream, spool};
use crate::error::{Error, Result};
use crate::model::packages::{self, FileCoord};
use crate::model::{Page, owners};
use crate::registry::Publish;

/// Given the package name read from an archive, the version its upload URL names.
pub type VersionFromName<'a> = &'a (dyn Fn(&str) -> Result<String> + Sync);

/// Where an upload goes and what its URL claims.
pub struct UploadTarget<'a> {
    pub owner: &'a str,
    /// The package name the URL names, if it names one (Nitro); Gitea takes it from composer.json.
    pub package: Option<&'a str>,
    pub version: Option<&'a str>,
    /// For URLs that name the version only together with the package (Nitro's
    /// `{vendor}-{package}-{version}.zip`): given the package name read from the archive, the
    /// version the URL names, or a refusal (422) when the URL does not fit that name. Takes the
    /// place of `version`.
    pub version_from_name: Option<VersionFromName<'a>>,
    /// The stored file's name for (package, version), as the dialect spells it.
    pub file_name: &'a (dyn Fn(&str, &str) -> String + Sync),
    pub uploaded_by: String,
}

/// A stored upload.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Uploaded {
    pub package: String,
    pub version: String,
    pub file: String,
    pub shasum: String,
}

/// One uploaded version as the dialects serve it.
pub struct UploadedVersion {
    /// Composer's entry for the version, `dist.url` still to be filled in.
    pub entry: Map<String, Value>,
    pub file: String,
    pub download_count: i64,
    pub version_id: i64,
    /// When the version was uploaded (epoch seconds).
    pub created_at: i64,
    /// The archive's size in bytes.
    pub size: i64,
}

impl Composer {
    /// Spools, inspects and stores an uploaded package zip; refuses (422) an archive that is not
    /// a Composer package matching the URL, and (409) a version that exists.
    pub async fn publish_upload<S, E>(&self, target: UploadTarget<'_>, body: S) -> Result<Uploaded>
    where
        S: Stream<Item = std::result::Result<bytes::Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let (file, size) = spool(body, self.config.max_upload_size).await?;
        let std_file = file.try_clone().await?.into_std().await;
        let inspected = tokio::task::spawn_blocking(move || {
            zip_inspect::inspect(std_file, size, &Limits::default())
        })
        .await
        .map_err(Error::internal)??;
        let package = target.package.unwrap_or(&inspected.name).to_lowercase();
        let named = target.version_from_name.map(|f| f(&package)).transpose()?;
        let version = zip_inspect::check_coordinates(
            &inspected,
            &package,
            named.as_deref().or(target.version),
        )?;
        let normalized = version::normalize(&version)
            .map_err(|e| Error::invalid(format!("version {version:?}: {e}")))?;
        {
            let mut conn = self.registry.db.pool().acquire().await?;
            // The same version spelled otherwise ("1.0" after "1.0.0") would list twice.
            if let Some(owner) = owners::find(&mut conn, target.owner).await?
                && let Some(found) =
                    packages::find_package(&mut conn, owner.id, FORMAT, &package).await?
                && let Some(taken) = packages::all_versions(&mut conn, found.id)
                    .await?
                    .into_iter()
                    .find(|v| {
                        v.version.eq_ignore_ascii_case(&version)
                            || v.metadata.get("version_normalized").and_then(Value::as_str)
                                == Some(normalized.as_str())
                    })
            {
                return Err(Error::conflict(format!(
                    "{package} {} already exists",
                    taken.version
                )));
            }
        }
        let file_name = (target.file_name)(&package, &version);
        let mut file = file;
        file.rewind().await?;
        let now = crate::clock::now();
        let manifest = inspected.manifest;
        let stored = self
            .registry
            .publish(
                Publish {
                    at: FileCoord {
                        owner: target.owner,
                        format: FORMAT,
                        package: &package,
                        version: &version,
                        file: &file_name,
                    },
                    create_owner: true,
                    version_metadata: Box::new(|staged| {
                        let shasum = staged.digests.sha1.as_deref().unwrap_or_default();
                        Value::Object(metadata::version_entry(
                            &manifest,
                            &VersionFacts {
                                name: &package,
                                version: &version,
                                version_normalized: &normalized,
                                // No commit behind an upload: the archive's SHA-1 names it.
                                commit: shasum,
                                time: now,
                                dist_url: "",
                                shasum,
                            },
                        ))
                    }),
                    file_properties: vec![("uploaded_by".into(), target.uploaded_by)],
                    put: PutOptions {
                        extra_digests: ExtraDigests {
                            sha1: true,
                            ..ExtraDigests::NONE
                        },
                        max_size: self.config.max_upload_size,
                        ..PutOptions::default()
                    },
                    tags: Vec::new(),
                },
                file_stream(file),
            )
            .await?;
        Ok(Uploaded {
            package,
            version,
            shasum: stored.blob.sha1.clone().unwrap_or_default(),
            file: file_name,
        })
    }

    /// The uploaded versions of a package, newest first; None when the package does not exist.
    pub async fn uploaded_versions(
        &self,
        owner: &str,
        package: &str,
    ) -> Result<Option<Vec<UploadedVersion>>> {
        let mut conn = self.registry.db.pool().acquire().await?;
        let Some(owner) = owners::find(&mut conn, owner).await? else {
            return Ok(None);
        };
        let Some(found) = packages::find_package(&mut conn, owner.id, FORMAT, package).await?
        else {
            return Ok(None);
        };
        let mut versions = Vec::new();
        for v in packages::all_versions(&mut conn, found.id).await? {
            let Value::Object(entry) = v.metadata else {
                continue;
            };
            let Some(file) = packages::list_files(&mut conn, v.id)
                .await?
                .into_iter()
                .next()
            else {
                continue;
            };
            versions.push(UploadedVersion {
                entry,
                file: file.name,
                download_count: v.download_count,
                version_id: v.id,
                created_at: v.created_at,
                size: file.blob.size,
            });
        }
        versions.sort_by(|a, b| {
            let normalized = |e: &Map<String, Value>| {
                e.get("version_normalized")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            version::compare_normalized(&normalized(&b.entry), &normalized(&a.entry))
        });
        Ok(Some(versions))
    }

    /// Changes one uploaded version's Composer entry in one write transaction and returns it;
    /// 404 when the version does not exist, nothing changed when `update` refuses.
    pub async fn update_uploaded_entry(
        &self,
        owner: &str,
        package: &str,
        version: &str,
        update: impl FnOnce(&mut Map<String, Value>) -> Result<()>,
    ) -> Result<Map<String, Value>> {
        let not_found =
            || Error::not_found(format!("package {package} version {version} not found"));
        let mut tx = self.registry.db.begin_write().await?;
        let owner = owners::find(&mut tx, owner).await?.ok_or_else(not_found)?;
        let found = packages::find_package(&mut tx, owner.id, FORMAT, package)
            .await?
            .ok_or_else(not_found)?;
        let row = packages::find_version(&mut tx, found.id, version)
            .await?
            .ok_or_else(not_found)?;
        let Value::Object(mut entry) = row.metadata else {
            return Err(Error::internal(format!(
                "{package} {version} has no Composer entry"
            )));
        };
        update(&mut entry)?;
        packages::set_version_metadata(&mut tx, row.id, &Value::Object(entry.clone())).await?;
        tx.commit().await?;
        Ok(entry)
    }

    /// Names of the owner's Composer packages, sorted.
    pub async fn uploaded_names(&self, owner: &str) -> Result<Vec<String>> {
        let mut conn = self.registry.db.pool().acquire().await?;
        match owners::find(&mut conn, owner).await? {
            Some(owner) => packages::package_names(&mut conn, owner.id, FORMAT).await,
            None => Ok(Vec::new()),
        }
    }

    /// How many packages and versions an owner holds, for repository summaries.
    pub async fn uploaded_counts(&self, owner: &str) -> Result<(i64, i64)> {
        let mut conn = self.registry.db.pool().acquire().await?;
        let Some(owner) = owners::find(&mut conn, owner).await? else {
            return Ok((0, 0));
        };
        let listing =
            packages::list_packages(&mut conn, owner.id, Some(FORMAT), Page::new(None, Some(1)))
                .await?;
        let versions: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM versions v JOIN packages p ON p.id = v.package_id \
             WHERE p.owner_id = $1 AND p.format = $2",
        )
        .bind(owner.id)
        .bind(FORMAT)
        .fetch_one(&mut *conn)
        .await?;
        Ok((listing.total, versions))
    }
}

/// Sets each entry's `dist.url` (the only part that depends on the dialect serving it).
pub fn with_dist_urls(
    versions: &[UploadedVersion],
    url_of: impl Fn(&UploadedVersion) -> String,
) -> Vec<Map<String, Value>> {
    versions
        .iter()
        .map(|v| {
            let mut entry = v.entry.clone();
            if let Some(Value::Object(dist)) = entry.get_mut("dist") {
                dist.insert("url".into(), Value::String(url_of(v)));
            }
            entry
        })
        .collect()
}
