//! The format-neutral package operations every format adapter calls: publish a file into
//! owner/package/version, find it, stream it, delete it; store blobs that no file names (held by
//! a version or package instead), and point tags at versions. Formats add their own naming rules
//! and metadata; storage, dedupe, cleanup and counting live only here.

mod changes;
mod collect;
mod file_cache;
mod uploads;

pub use changes::{Change, RenderHook, Rendering};
pub use collect::Collector;
pub use uploads::UPLOAD_SESSION_TTL;

use bytes::Bytes;
use futures_util::Stream;

use file_cache::FileCache;

use crate::blobs::{BlobStore, ByteStream, ExtraDigests, PutOptions, StagedBlob};
use crate::db::Db;
use crate::documents_cache::DocumentCache;
use crate::error::{Error, Result};
use crate::model::blob_refs::{self, Holder};
use crate::model::blobs::Blob;
use crate::model::downloads::DownloadCounter;
use crate::model::packages::{
    self, File, FileCoord, FileDetails, Package, PackageSummary, Version,
};
use crate::model::properties::{self, RefType};
use crate::model::tags::{self, Tag};
use crate::model::{blobs as blob_rows, owners};

#[derive(Clone)]
pub struct Registry {
    pub db: Db,
    pub blobs: BlobStore,
    pub downloads: DownloadCounter,
    pub documents: DocumentCache,
    files: FileCache,
    hooks: changes::Hooks,
    collectors: collect::Collectors,
}

pub type VersionMetadata<'a> = Box<dyn FnOnce(&StagedBlob) -> serde_json::Value + Send + 'a>;

/// Metadata for formats whose versions carry none of their own.
pub fn no_metadata<'a>() -> VersionMetadata<'a> {
    Box::new(|_| serde_json::json!({}))
}

pub struct Publish<'a> {
    pub at: FileCoord<'a>,
    /// May the owner be created when it does not exist yet?
    pub create_owner: bool,
    /// The version's metadata when the version is created, from the stored content's digests
    /// (a format may publish them, e.g. Composer's `shasum`).
    pub version_metadata: VersionMetadata<'a>,
    pub file_properties: Vec<(String, String)>,
    pub put: PutOptions,
    /// Tags pointed at the version in the same commit (npm's dist-tags sent with a publish), so
    /// readers never see the version without them and the format renders once.
    pub tags: Vec<String>,
}

impl Registry {
    pub fn new(db: Db, blobs: BlobStore) -> Self {
        Registry {
            db,
            blobs,
            downloads: DownloadCounter::default(),
            documents: DocumentCache::default(),
            files: FileCache::default(),
            hooks: changes::Hooks::default(),
            collectors: collect::Collectors::default(),
        }
    }

    /// Stores a new file. The body is streamed to storage first; the file becomes visible in one
    /// transaction afterwards, or not at all.
    pub async fn publish<S, E>(&self, req: Publish<'_>, body: S) -> Result<File>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        self.publish_with(req, FileDetails::default(), body).await
    }

    /// `publish`, recording what the file is within its version (kind, qualifier, its own
    /// metadata) with it, for formats that list files by those.
    pub async fn publish_with<S, E>(
        &self,
        req: Publish<'_>,
        details: FileDetails,
        body: S,
    ) -> Result<File>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let name = req.at.file.to_string();
        let mut files = self.publish_as(req, vec![(name, details)], body).await?;
        Ok(files.remove(0))
    }

    /// `publish_with` for content a version holds under several names (a pacman package built
    /// for any architecture, listed in each of its repository's architectures): one upload, and
    /// one commit that records a file row per name (`req.at.file` is the first one's name), or
    /// none at all. The files come back in the order of `names`.
    pub async fn publish_as<S, E>(
        &self,
        req: Publish<'_>,
        names: Vec<(String, FileDetails)>,
        body: S,
    ) -> Result<Vec<File>>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        if names.is_empty() {
            return Err(Error::internal("a publish names no file"));
        }
        // Refuse early what would be refused after a long upload anyway.
        for (name, _) in &names {
            check_visible_names(FileCoord {
                file: name,
                ..req.at
            })?;
        }
        for tag in &req.tags {
            crate::text::check_visible("tag name", tag)?;
        }
        {
            let mut conn = self.db.pool().acquire().await?;
            if !req.create_owner && owners::find(&mut conn, req.at.owner).await?.is_none() {
                return Err(Error::not_found(format!(
                    "owner {} does not exist",
                    req.at.owner
                )));
            }
            for (name, _) in &names {
                let at = FileCoord {
                    file: name,
                    ..req.at
                };
                if packages::find_file(&mut conn, at).await?.is_some() {
                    return Err(duplicate(at));
                }
            }
        }
        let staged = self.blobs.put(body, &req.put).await?;
        let committed = self.commit_files(req, &names, &staged).await;
        self.settle_staged(&staged, committed.as_ref().map(|(files, _)| &files[0].blob))
            .await;
        let (files, change) = committed?;
        self.changed([change]).await;
        Ok(files)
    }

    /// Deletes a staged object unless its commit made it the stored copy of its content (the
    /// commit failed, or the content was already stored under another key).
    async fn settle_staged(&self, staged: &StagedBlob, committed: Result<&Blob, &Error>) {
        if matches!(committed, Ok(blob) if blob.storage_key == staged.storage_key) {
            return;
        }
        if let Err(e) = self.blobs.delete(&staged.storage_key).await {
            tracing::warn!(key = %staged.storage_key, error = %e, "could not delete staged blob; gc will");
        }
    }

    /// Stores a blob no file names, held by `holder` from the same transaction that records it,
    /// so `gc` never sees it unheld (an OCI layer pushed into a repository, a manifest's config).
    /// Streamed and digest-checked like a file upload (`PutOptions::expected_sha256`).
    pub async fn put_blob<S, E>(&self, body: S, opts: &PutOptions, holder: Holder) -> Result<Blob>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let staged = self.blobs.put(body, opts).await?;
        let committed = async {
            let mut tx = self.db.begin_write().await?;
            let blob = blob_rows::insert_or_touch(&mut tx, &staged).await?;
            blob_refs::link(&mut tx, &blob.sha256, holder).await?;
            tx.commit().await?;
            Ok(blob)
        }
        .await;
        self.settle_staged(&staged, committed.as_ref()).await;
        committed
    }

    /// Makes `holder` hold a blob already stored (an OCI manifest naming its layers, a
    /// cross-repository mount). Not found when no such blob is stored.
    pub async fn link(&self, sha256: &str, holder: Holder) -> Result<()> {
        let mut tx = self.db.begin_write().await?;
        blob_refs::link(&mut tx, &sha256.to_ascii_lowercase(), holder).await?;
        tx.commit().await
    }

    /// Releases `holder`'s hold on a blob; the blob goes when nothing else holds it. Not found
    /// when the holder did not hold it.
    pub async fn unlink(&self, sha256: &str, holder: Holder) -> Result<()> {
        let sha256 = sha256.to_ascii_lowercase();
        let mut tx = self.db.begin_write().await?;
        if !blob_refs::unlink(&mut tx, &sha256, holder).await? {
            return Err(Error::not_found(format!("blob {sha256} is not held here")));
        }
        tx.commit().await?;
        self.drop_unused_blobs([sha256]).await;
        Ok(())
    }

    /// A package by owner, format and name; not found when there is none.
    pub async fn find_package(&self, owner: &str, format: &str, name: &str) -> Result<Package> {
        let not_found = || Error::not_found(format!("package {name} not found"));
        let mut conn = self.db.pool().acquire().await?;
        let owner = owners::find(&mut conn, owner)
            .await?
            .ok_or_else(not_found)?;
        packages::find_package(&mut conn, owner.id, format, name)
            .await?
            .ok_or_else(not_found)
    }

    /// A package, created (with its owner) when missing, for formats that hold blobs in a
    /// package before any version exists (an OCI repository receiving its first layer).
    pub async fn ensure_package(&self, owner: &str, format: &str, name: &str) -> Result<Package> {
        crate::text::check_visible("owner name", owner)?;
        crate::text::check_visible("package name", name)?;
        // Usually there already: a read, without queueing for the write lock.
        match self.find_package(owner, format, name).await {
            Err(Error::NotFound(_)) => {}
            found => return found,
        }
        let mut tx = self.db.begin_write().await?;
        let owner = owners::find_or_create(&mut tx, owner).await?;
        let package = packages::find_or_create_package(&mut tx, owner.id, format, name).await?;
        tx.commit().await?;
        Ok(package)
    }

    /// One version of a package; not found when there is none.
    pub async fn find_version(&self, package_id: i64, version: &str) -> Result<Version> {
        let mut conn = self.db.pool().acquire().await?;
        packages::find_version(&mut conn, package_id, version)
            .await?
            .ok_or_else(|| Error::not_found(format!("version {version} not found")))
    }

    /// Every version of a package.
    pub async fn versions(&self, package_id: i64) -> Result<Vec<Version>> {
        let mut conn = self.db.pool().acquire().await?;
        packages::all_versions(&mut conn, package_id).await
    }

    /// The files of `kind` with `qualifier` among an owner's packages of one format (a NuGet
    /// symbol server's PDB by signature).
    pub async fn files_by_qualifier(
        &self,
        owner: &str,
        format: &str,
        kind: &str,
        qualifier: &str,
    ) -> Result<Vec<packages::QualifiedFile>> {
        let mut conn = self.db.pool().acquire().await?;
        packages::find_by_qualifier(&mut conn, owner, format, kind, qualifier).await
    }

    /// Every package of one format, by owner and name (a format's registry-wide listing, such as
    /// OCI's catalog).
    pub async fn packages_of_format(&self, format: &str) -> Result<Vec<PackageSummary>> {
        let mut conn = self.db.pool().acquire().await?;
        packages::summaries(&mut conn, Some(format)).await
    }

    /// Whether a package holds a stored blob, itself or through a version (`blob_refs`).
    pub async fn package_holds(&self, package_id: i64, sha256: &str) -> Result<bool> {
        let mut conn = self.db.pool().acquire().await?;
        blob_refs::held_in_package(&mut conn, &sha256.to_ascii_lowercase(), package_id).await
    }

    /// A stored blob that a package holds (itself or through a version), by SHA-256; not found
    /// when it is not stored or not held there (an OCI repository's blob by digest).
    pub async fn find_held_blob(
        &self,
        owner: &str,
        format: &str,
        package: &str,
        sha256: &str,
    ) -> Result<Blob> {
        let mut conn = self.db.pool().acquire().await?;
        let sha256 = sha256.to_ascii_lowercase();
        blob_refs::find_held(&mut conn, &sha256, owner, format, package)
            .await?
            .ok_or_else(|| Error::not_found(format!("blob {sha256} not found in {package}")))
    }

    /// The SHA-256 (the store's address) of a stored blob known by its SHA-512 (hex, any case),
    /// for clients that address content by SHA-512; not found when none is known.
    pub async fn sha256_of_sha512(&self, sha512: &str) -> Result<String> {
        let mut conn = self.db.pool().acquire().await?;
        blob_rows::sha256_of_sha512(&mut conn, &sha512.to_ascii_lowercase())
            .await?
            .ok_or_else(|| Error::not_found(format!("blob sha512:{sha512} not found")))
    }

    /// A stored blob by its SHA-256 (hex, any case), for serving it by digest.
    pub async fn find_blob(&self, sha256: &str) -> Result<Blob> {
        let mut conn = self.db.pool().acquire().await?;
        blob_rows::find(&mut conn, &sha256.to_ascii_lowercase())
            .await?
            .ok_or_else(|| Error::not_found(format!("blob {sha256} not found")))
    }

    /// Streams a blob's content (or an inclusive byte range of it); not counted as a download,
    /// since a bare blob belongs to no version.
    pub async fn open_blob(&self, blob: &Blob, range: Option<(u64, u64)>) -> Result<ByteStream> {
        self.blobs.open(&blob.storage_key, range).await
    }

    /// Points a package's tag at one of its versions, creating or moving it atomically.
    pub async fn set_tag(&self, package_id: i64, name: &str, version_id: i64) -> Result<()> {
        crate::text::check_visible("tag name", name)?;
        let mut tx = self.db.begin_write().await?;
        let package = existing_package(&mut tx, package_id).await?;
        tags::set(&mut tx, package_id, name, version_id).await?;
        tx.commit().await?;
        self.changed([Change::from(&package)]).await;
        Ok(())
    }

    /// A package's tags, by name.
    pub async fn tags(&self, package_id: i64) -> Result<Vec<Tag>> {
        let mut conn = self.db.pool().acquire().await?;
        tags::list(&mut conn, package_id).await
    }

    /// One tag of a package; not found when there is no such tag.
    pub async fn tag(&self, package_id: i64, name: &str) -> Result<Tag> {
        let mut conn = self.db.pool().acquire().await?;
        tags::get(&mut conn, package_id, name)
            .await?
            .ok_or_else(|| Error::not_found(format!("tag {name} not found")))
    }

    /// Removes a tag (the version stays); not found when there is no such tag.
    pub async fn delete_tag(&self, package_id: i64, name: &str) -> Result<()> {
        let mut tx = self.db.begin_write().await?;
        let package = existing_package(&mut tx, package_id).await?;
        if !tags::delete(&mut tx, package_id, name).await? {
            return Err(Error::not_found(format!("tag {name} not found")));
        }
        tx.commit().await?;
        self.changed([Change::from(&package)]).await;
        Ok(())
    }

    async fn commit_files(
        &self,
        req: Publish<'_>,
        names: &[(String, FileDetails)],
        staged: &StagedBlob,
    ) -> Result<(Vec<File>, Change)> {
        let at = req.at;
        let mut tx = self.db.begin_write().await?;
        let owner = if req.create_owner {
            owners::find_or_create(&mut tx, at.owner).await?
        } else {
            owners::find(&mut tx, at.owner)
                .await?
                .ok_or_else(|| Error::not_found(format!("owner {} does not exist", at.owner)))?
        };
        let package =
            packages::find_or_create_package(&mut tx, owner.id, at.format, at.package).await?;
        let version = packages::find_or_create_version(
            &mut tx,
            package.id,
            at.version,
            &(req.version_metadata)(staged),
        )
        .await?;
        let blob = blob_rows::insert_or_touch(&mut tx, staged).await?;
        let mut files = Vec::with_capacity(names.len());
        for (name, details) in names {
            let file = match packages::insert_file(&mut tx, version.id, name, &blob, details).await
            {
                Err(Error::Conflict(_)) => return Err(duplicate(FileCoord { file: name, ..at })),
                other => other?,
            };
            for (property, value) in &req.file_properties {
                properties::add(&mut tx, RefType::File, file.id, property, value).await?;
            }
            files.push(file);
        }
        for tag in &req.tags {
            tags::set(&mut tx, package.id, tag, version.id).await?;
        }
        tx.commit().await?;
        Ok((files, Change::from(&package)))
    }

    /// The file at `at`, from a lookup made a moment ago when nothing was written since.
    pub async fn find_file(&self, at: FileCoord<'_>) -> Result<File> {
        let epoch = self.db.write_epoch();
        if let Some(file) = self.files.get(&at, epoch) {
            return Ok(file);
        }
        let mut conn = self.db.pool().acquire().await?;
        let file = packages::find_file(&mut conn, at)
            .await?
            .ok_or_else(|| Error::not_found(format!("file {} not found", at.file)))?;
        self.files.insert(&at, &file, epoch);
        Ok(file)
    }

    /// Streams a file's content (or an inclusive byte range of it) and counts the download,
    /// for the customer who asked (None: not a customer).
    pub async fn open(
        &self,
        file: &File,
        range: Option<(u64, u64)>,
        customer_id: Option<i64>,
    ) -> Result<ByteStream> {
        let stream = self.blobs.open(&file.blob.storage_key, range).await?;
        self.downloads.record(file.version_id, customer_id);
        Ok(stream)
    }

    /// Digests a format publishes but did not ask for at upload time are computed on first
    /// request, from the stored object, and kept.
    pub async fn ensure_digests(&self, blob: &mut Blob, wanted: ExtraDigests) -> Result<()> {
        if wanted.missing_from(&blob.digests()).is_empty() {
            return Ok(());
        }
        let (_, digests) = self.blobs.digest(&blob.storage_key, wanted).await?;
        if digests.sha256 != blob.sha256 {
            return Err(Error::storage(format!(
                "stored object for blob {} does not match its SHA-256",
                blob.sha256
            )));
        }
        let mut conn = self.db.pool().acquire().await?;
        blob_rows::store_digests(&mut conn, &digests).await?;
        *blob = blob_rows::find(&mut conn, &blob.sha256)
            .await?
            .ok_or_else(|| Error::not_found(format!("blob {} vanished", blob.sha256)))?;
        Ok(())
    }

    pub async fn delete_file(&self, at: FileCoord<'_>) -> Result<()> {
        let mut tx = self.db.begin_write().await?;
        let file = packages::find_file(&mut tx, at)
            .await?
            .ok_or_else(|| Error::not_found(format!("file {} not found", at.file)))?;
        let package = packages::package_of_version(&mut tx, file.version_id).await?;
        let shas = packages::delete_file(&mut tx, &file).await?;
        tx.commit().await?;
        self.drop_unused_blobs(shas).await;
        self.changed(package.as_ref().map(Change::from)).await;
        Ok(())
    }

    pub async fn delete_version(
        &self,
        owner: &str,
        format: &str,
        package: &str,
        version: &str,
    ) -> Result<()> {
        let not_found =
            || Error::not_found(format!("package {package} version {version} not found"));
        let mut tx = self.db.begin_write().await?;
        let owner_row = owners::find(&mut tx, owner).await?.ok_or_else(not_found)?;
        let package_row = packages::find_package(&mut tx, owner_row.id, format, package)
            .await?
            .ok_or_else(not_found)?;
        let version_row = packages::find_version(&mut tx, package_row.id, version)
            .await?
            .ok_or_else(not_found)?;
        let shas = packages::delete_version(&mut tx, version_row.id).await?;
        tx.commit().await?;
        self.drop_unused_blobs(shas).await;
        self.changed([Change::from(&package_row)]).await;
        Ok(())
    }

    /// Replaces versions' format metadata (npm's `deprecated` messages, say) in one transaction
    /// and re-renders their packages' documents once each, like any other change.
    pub async fn set_versions_metadata(&self, updates: &[(i64, serde_json::Value)]) -> Result<()> {
        let mut tx = self.db.begin_write().await?;
        let mut changes = Vec::new();
        for (version_id, metadata) in updates {
            let package = packages::package_of_version(&mut tx, *version_id)
                .await?
                .ok_or_else(|| Error::not_found(format!("version {version_id} not found")))?;
            packages::set_version_metadata(&mut tx, *version_id, metadata).await?;
            changes.push(Change::from(&package));
        }
        tx.commit().await?;
        self.changed(changes).await;
        Ok(())
    }

    /// Deletes a version (by id) with its files.
    pub async fn remove_version(&self, version_id: i64) -> Result<()> {
        let mut tx = self.db.begin_write().await?;
        let package = packages::package_of_version(&mut tx, version_id).await?;
        let shas = packages::delete_version(&mut tx, version_id).await?;
        tx.commit().await?;
        self.drop_unused_blobs(shas).await;
        self.changed(package.as_ref().map(Change::from)).await;
        Ok(())
    }

    /// Deletes a package with every version, file and document, and its source.
    pub async fn delete_package(&self, package_id: i64) -> Result<()> {
        let mut tx = self.db.begin_write().await?;
        let package = packages::get_package(&mut tx, package_id).await?;
        let mut shas = Vec::new();
        for version in packages::all_versions(&mut tx, package_id).await? {
            shas.extend(packages::delete_version(&mut tx, version.id).await?);
        }
        // The last version may already have taken an unsourced package with it.
        if packages::get_package(&mut tx, package_id).await?.is_some() {
            shas.extend(packages::delete_package_row(&mut tx, package_id).await?);
        }
        tx.commit().await?;
        self.documents.forget_package_id(package_id);
        self.drop_unused_blobs(shas).await;
        self.changed(package.as_ref().map(Change::from)).await;
        Ok(())
    }

    /// Removes blobs no file or reference holds any more, row first, then the object. A failure here leaves at
    /// worst an unreferenced object, which `gc` removes.
    async fn drop_unused_blobs(&self, shas: impl IntoIterator<Item = String>) {
        for sha in shas {
            let removed = async {
                let mut tx = self.db.begin_write().await?;
                let key = blob_rows::delete_if_unreferenced(&mut tx, &sha).await?;
                tx.commit().await?;
                if let Some(key) = key {
                    self.blobs.delete(&key).await?;
                }
                Ok::<_, Error>(())
            }
            .await;
            if let Err(e) = removed {
                tracing::warn!(sha256 = %sha, error = %e, "could not remove unused blob; gc will");
            }
        }
    }
}

/// Whatever a format's own naming rules allow, no name a file is published under may hold
/// characters that make it display otherwise than it is stored (see `text`).
fn check_visible_names(at: FileCoord<'_>) -> Result<()> {
    crate::text::check_visible("owner name", at.owner)?;
    crate::text::check_visible("package name", at.package)?;
    crate::text::check_visible("version", at.version)?;
    crate::text::check_visible("file name", at.file)
}

async fn existing_package(
    conn: &mut sqlx::AnyConnection,
    package_id: i64,
) -> Result<packages::Package> {
    packages::get_package(conn, package_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("package {package_id} not found")))
}

fn duplicate(at: FileCoord<'_>) -> Error {
    Error::conflict(format!(
        "file {} already exists in {} {}",
        at.file, at.package, at.version
    ))
}
