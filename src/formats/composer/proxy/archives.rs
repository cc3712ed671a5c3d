//! `/dist-proxy/{vendor}/{package}/{version}/{reference}.zip`: an upstream archive fetched once,
//! streamed into the blob store as a registry file of the owner `packagist` (its SHA-1 checked
//! against the upstream's `shasum` when there is one: a mismatch stores nothing), then served
//! like any file. An archive older than `PROXY_ARCHIVE_TTL` is fetched again; past
//! `PROXY_MAX_CACHE_SIZE` the least recently used archives are deleted.

use axum::http::{HeaderMap, Method};
use axum::response::Response;

use super::{FORMAT, OWNER, Proxy, render, upstream};
use crate::blobs::PutOptions;
use crate::blobs::digest::ExtraDigests;
use crate::error::{Error, Result};
use crate::http::download::serve_file;
use crate::model::packages::FileCoord;
use crate::model::proxy_cache::{self, CachedArchive};
use crate::registry::{Publish, no_metadata};

/// Which archive a request names.
pub struct Wanted<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub reference: &'a str,
}

impl Proxy {
    pub async fn serve_archive(
        &self,
        wanted: Wanted<'_>,
        method: &Method,
        headers: &HeaderMap,
    ) -> Result<Response> {
        let file_name = format!("{}.zip", wanted.reference);
        let at = FileCoord {
            owner: OWNER,
            format: FORMAT,
            package: wanted.name,
            version: wanted.version,
            file: &file_name,
        };
        let cached = {
            let mut conn = self.registry.db.pool().acquire().await?;
            proxy_cache::archive(&mut conn, wanted.name, wanted.version, wanted.reference).await?
        };
        let now = crate::clock::now();
        let ttl = self.settings().archive_ttl.as_secs() as i64;
        let file = match &cached {
            Some(archive) if now - archive.fetched_at < ttl => {
                match self.registry.find_file(at).await {
                    Ok(file) => {
                        let mut tx = self.registry.db.begin_write().await?;
                        proxy_cache::touch_archive(&mut tx, archive, now).await?;
                        tx.commit().await?;
                        file
                    }
                    // The row outlived its file (a purge cut short): fetch it again.
                    Err(Error::NotFound(_)) => self.fetch(&wanted, at, cached.as_ref()).await?,
                    Err(e) => return Err(e),
                }
            }
            _ => self.fetch(&wanted, at, cached.as_ref()).await?,
        };
        serve_file(
            &self.registry,
            &file,
            method,
            headers,
            "application/zip",
            None,
        )
        .await
    }

    /// Fetches the archive upstream and stores it, replacing an expired copy once the upstream
    /// answers (until then the expired copy is served).
    async fn fetch(
        &self,
        wanted: &Wanted<'_>,
        at: FileCoord<'_>,
        expired: Option<&CachedArchive>,
    ) -> Result<crate::model::packages::File> {
        let (url, shasum) = self.locate(wanted).await?;
        let body = match upstream::archive(&self.rt, &url).await {
            Ok(body) => body,
            // An expired copy beats none while the upstream fails.
            Err(e) if expired.is_some() => match self.registry.find_file(at).await {
                Ok(file) => return Ok(file),
                Err(_) => return Err(e),
            },
            Err(e) => return Err(e),
        };
        if let Some(old) = expired {
            self.drop_archive(old).await?;
        }
        let publish = Publish {
            at,
            create_owner: true,
            version_metadata: no_metadata(),
            file_properties: Vec::new(),
            put: PutOptions {
                extra_digests: ExtraDigests {
                    sha1: true,
                    ..ExtraDigests::NONE
                },
                max_size: self.config.max_upload_size,
                expected_sha1: shasum.map(|s| s.to_ascii_lowercase()),
                ..PutOptions::default()
            },
            tags: Vec::new(),
        };
        let file = match self.registry.publish(publish, body).await {
            Ok(file) => file,
            // Another request stored it meanwhile.
            Err(Error::Conflict(_)) => return self.registry.find_file(at).await,
            Err(
                e @ (Error::Validation(_) | Error::BodyInterrupted(_) | Error::PayloadTooLarge(_)),
            ) => {
                let message = format!(
                    "archive of {} {} from {url} refused, nothing stored: {e}",
                    wanted.name, wanted.version
                );
                self.rt.alert(&url, &message);
                return Err(Error::upstream(message));
            }
            Err(e) => return Err(e),
        };
        let archive = CachedArchive {
            name: wanted.name.to_string(),
            version: wanted.version.to_string(),
            reference: wanted.reference.to_string(),
            size: file.blob.size as i64,
            fetched_at: crate::clock::now(),
        };
        let mut tx = self.registry.db.begin_write().await?;
        proxy_cache::put_archive(&mut tx, &archive).await?;
        tx.commit().await?;
        self.evict(&archive).await?;
        Ok(file)
    }

    /// The upstream URL and shasum of the wanted archive, from the package's metadata.
    async fn locate(&self, wanted: &Wanted<'_>) -> Result<(String, Option<String>)> {
        for document in ["p2", "p2~dev"] {
            if let Some(served) = self.document(wanted.name, document).await?
                && let Some(found) = render::upstream_dist(
                    wanted.name,
                    &served.body,
                    wanted.version,
                    wanted.reference,
                )?
            {
                return Ok(found);
            }
        }
        Err(Error::not_found(format!(
            "{} has no version {} with reference {} upstream",
            wanted.name, wanted.version, wanted.reference
        )))
    }

    /// Deletes the least recently used archives (never `kept`, the one just stored) until the
    /// cached archives fit `PROXY_MAX_CACHE_SIZE`.
    async fn evict(&self, kept: &CachedArchive) -> Result<()> {
        let limit = self.settings().max_cache_size as i64;
        let archives = {
            let mut conn = self.registry.db.pool().acquire().await?;
            proxy_cache::archives_by_use(&mut conn).await?
        };
        let mut total: i64 = archives.iter().map(|a| a.size).sum();
        for archive in &archives {
            if total <= limit {
                break;
            }
            if (&archive.name, &archive.version, &archive.reference)
                == (&kept.name, &kept.version, &kept.reference)
            {
                continue;
            }
            self.drop_archive(archive).await?;
            total -= archive.size;
        }
        Ok(())
    }

    /// Deletes a cached archive's file and row.
    pub(super) async fn drop_archive(&self, archive: &CachedArchive) -> Result<()> {
        let file = format!("{}.zip", archive.reference);
        let at = FileCoord {
            owner: OWNER,
            format: FORMAT,
            package: &archive.name,
            version: &archive.version,
            file: &file,
        };
        match self.registry.delete_file(at).await {
            Ok(()) | Err(Error::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        let mut tx = self.registry.db.begin_write().await?;
        proxy_cache::delete_archive(&mut tx, archive).await?;
        tx.commit().await?;
        Ok(())
    }
}
