//! Blobs in any S3-compatible store through `object_store`. An upload is a multipart upload under
//! its final, never-reused key: parts are sent while the body arrives, and the object exists only
//! once `CompleteMultipartUpload` succeeds (an aborted upload leaves nothing readable).

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, WriteMultipart};

use super::{ByteStream, StoredObject};
use crate::config::S3Config;
use crate::error::{Error, Result};

/// S3's smallest allowed part (except the last); also bounds the memory one upload holds.
const PART_SIZE: usize = 5 * 1024 * 1024;
const PARTS_IN_FLIGHT: usize = 2;

#[derive(Clone)]
pub struct S3Backend {
    store: Arc<dyn ObjectStore>,
}

impl S3Backend {
    pub fn new(cfg: &S3Config) -> Result<Self> {
        let store = AmazonS3Builder::new()
            .with_endpoint(&cfg.endpoint)
            .with_bucket_name(&cfg.bucket)
            .with_access_key_id(&cfg.access_key_id)
            .with_secret_access_key(&cfg.secret_access_key)
            .with_region(&cfg.region)
            .with_allow_http(cfg.endpoint.starts_with("http://"))
            .with_virtual_hosted_style_request(false)
            .build()
            .map_err(Error::storage)?;
        Ok(S3Backend {
            store: Arc::new(store),
        })
    }

    /// A writer whose object will be named `key` (fresh, never reused) once finished.
    pub async fn writer(&self, key: String) -> Result<S3Writer> {
        let upload = self
            .store
            .put_multipart(&Path::from(key.as_str()))
            .await
            .map_err(Error::storage)?;
        Ok(S3Writer {
            upload: WriteMultipart::new_with_chunk_size(upload, PART_SIZE),
            key,
        })
    }

    pub async fn open(&self, key: &str, range: Option<(u64, u64)>) -> Result<ByteStream> {
        let options = GetOptions {
            range: range.map(|(start, end)| GetRange::Bounded(start..end + 1)),
            ..Default::default()
        };
        let result = self
            .store
            .get_opts(&Path::from(key), options)
            .await
            .map_err(|e| Error::storage(format!("blob {key} cannot be read: {e}")))?;
        Ok(result.into_stream().map_err(std::io::Error::other).boxed())
    }

    pub async fn delete(&self, key: &str) -> Result<()> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(Error::storage(e)),
        }
    }

    pub async fn size(&self, key: &str) -> Result<Option<u64>> {
        match self.store.head(&Path::from(key)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(Error::storage(e)),
        }
    }

    /// Every object: blobs and upload segments.
    pub async fn list(&self) -> Result<Vec<StoredObject>> {
        let mut found = Vec::new();
        for prefix in ["blobs", "uploads"] {
            let objects: Vec<StoredObject> = self
                .store
                .list(Some(&Path::from(prefix)))
                .map_ok(|meta| StoredObject {
                    key: meta.location.to_string(),
                    size: meta.size,
                    modified: meta.last_modified.timestamp(),
                    temporary: false,
                })
                .try_collect()
                .await
                .map_err(Error::storage)?;
            found.extend(objects);
        }
        Ok(found)
    }

    pub async fn ready(&self) -> Result<()> {
        // Listing one key proves the endpoint, the bucket and the credentials.
        let mut listing = self.store.list(Some(&Path::from("blobs")));
        match listing.next().await {
            Some(Err(e)) => Err(Error::storage(e)),
            _ => Ok(()),
        }
    }
}

pub struct S3Writer {
    upload: WriteMultipart,
    key: String,
}

impl S3Writer {
    pub async fn write(&mut self, chunk: Bytes) -> Result<()> {
        self.upload
            .wait_for_capacity(PARTS_IN_FLIGHT)
            .await
            .map_err(Error::storage)?;
        self.upload.put(chunk);
        Ok(())
    }

    pub async fn finish(self) -> Result<String> {
        self.upload.finish().await.map_err(Error::storage)?;
        Ok(self.key)
    }

    pub async fn abort(self) {
        if let Err(e) = self.upload.abort().await {
            tracing::warn!(key = %self.key, error = %e, "could not abort multipart upload");
        }
    }
}
