//! Where blob bytes are written and read. The store knows nothing of packages: it turns a byte
//! stream into a stored object plus its digests, and streams objects back. Which object holds which
//! content is recorded in the database (`model::blobs`); a blob is visible only once that row commits.

pub mod digest;
mod fs;
mod map_cache;
mod s3;
mod segments;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use rand::Rng;
use tokio::sync::mpsc;

pub use digest::{Digests, ExtraDigests};
pub use segments::Segment;

use crate::config::StorageConfig;
use crate::error::{Error, Result};

pub type ByteStream = BoxStream<'static, std::io::Result<Bytes>>;

/// An object found in storage by `list`.
#[derive(Debug, Clone)]
pub struct StoredObject {
    pub key: String,
    pub size: u64,
    /// Unix seconds.
    pub modified: i64,
    /// The temporary file of an upload still being written or cut off by a crash, not an object
    /// (only the filesystem store has them; an unfinished S3 multipart upload is not listed).
    pub temporary: bool,
}

/// A blob written to storage whose database row is not committed yet.
#[derive(Debug, Clone)]
pub struct StagedBlob {
    pub storage_key: String,
    pub size: u64,
    pub digests: Digests,
}

#[derive(Debug, Clone, Default)]
pub struct PutOptions {
    pub extra_digests: ExtraDigests,
    /// The body is refused (413) as soon as it grows past this.
    pub max_size: u64,
    /// When the client announced the content's SHA-256, a mismatch discards the upload.
    pub expected_sha256: Option<String>,
    /// Other digests the client announced (lower-case hex), checked like `expected_sha256`: each
    /// is computed whether or not `extra_digests` asks for it (npm's `dist.shasum` is a SHA-1 and
    /// its `dist.integrity` a SHA-512).
    pub expected_sha1: Option<String>,
    pub expected_sha512: Option<String>,
}

impl PutOptions {
    /// The digests to compute: those asked for plus those to check.
    fn digests_to_compute(&self) -> ExtraDigests {
        ExtraDigests {
            sha1: self.extra_digests.sha1 || self.expected_sha1.is_some(),
            sha512: self.extra_digests.sha512 || self.expected_sha512.is_some(),
            md5: self.extra_digests.md5,
        }
    }

    /// The first announced digest the content does not have, as a refusal.
    fn check(&self, digests: &Digests) -> Result<()> {
        let announced = [
            (
                "SHA-256",
                self.expected_sha256.as_deref(),
                Some(&digests.sha256),
            ),
            (
                "SHA-1",
                self.expected_sha1.as_deref(),
                digests.sha1.as_ref(),
            ),
            (
                "SHA-512",
                self.expected_sha512.as_deref(),
                digests.sha512.as_ref(),
            ),
        ];
        for (name, expected, actual) in announced {
            if let Some(expected) = expected
                && !actual.is_some_and(|a| a.eq_ignore_ascii_case(expected))
            {
                return Err(Error::invalid(format!(
                    "content {name} is {} but {expected} was announced",
                    actual.map_or("unknown", String::as_str)
                )));
            }
        }
        Ok(())
    }
}

#[derive(Clone)]
enum Backend {
    Fs(fs::FsBackend),
    S3(s3::S3Backend),
}

#[derive(Clone)]
pub struct BlobStore {
    backend: Backend,
}

enum Writer {
    Fs(fs::FsWriter),
    S3(s3::S3Writer),
}

impl Writer {
    async fn write(&mut self, chunk: Bytes) -> Result<()> {
        match self {
            Writer::Fs(w) => w.write(chunk).await,
            Writer::S3(w) => w.write(chunk).await,
        }
    }
    async fn finish(self) -> Result<String> {
        match self {
            Writer::Fs(w) => w.finish().await,
            Writer::S3(w) => w.finish().await,
        }
    }
    async fn abort(self) {
        match self {
            Writer::Fs(w) => w.abort().await,
            Writer::S3(w) => w.abort().await,
        }
    }
}

/// A fresh, never-reused object name (128 random bits as hex); also names upload sessions.
pub fn new_object_name() -> String {
    hex::encode(rand::rng().random::<[u8; 16]>())
}

impl BlobStore {
    pub fn from_config(cfg: &StorageConfig) -> Result<Self> {
        let backend = match cfg {
            StorageConfig::Filesystem { path } => Backend::Fs(fs::FsBackend::new(path)?),
            StorageConfig::S3(s3) => Backend::S3(s3::S3Backend::new(s3)?),
        };
        Ok(BlobStore { backend })
    }

    /// A writer for a new blob object.
    async fn writer(&self) -> Result<Writer> {
        let name = new_object_name();
        self.writer_at(format!("blobs/{}/{name}", &name[..2])).await
    }

    /// A writer for an object that will be named `key` (fresh, never reused) once finished.
    async fn writer_at(&self, key: String) -> Result<Writer> {
        Ok(match &self.backend {
            Backend::Fs(b) => Writer::Fs(b.writer(key).await?),
            Backend::S3(b) => Writer::S3(b.writer(key).await?),
        })
    }

    /// Streams `body` into storage once, hashing it on another thread in the same pass. On any
    /// failure (client gone, too large, digest mismatch, storage error) the partial object is
    /// removed and nothing is returned.
    pub async fn put<S, E>(&self, body: S, opts: &PutOptions) -> Result<StagedBlob>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let mut writer = self.writer().await?;
        let (to_hasher, mut hasher_input) = mpsc::channel::<Bytes>(32);
        let extra = opts.digests_to_compute();
        let hasher = tokio::task::spawn_blocking(move || {
            let mut h = digest::MultiHasher::new(extra);
            while let Some(chunk) = hasher_input.blocking_recv() {
                h.update(&chunk);
            }
            h.finish()
        });
        let copied = copy_body(body, &mut writer, &to_hasher, opts.max_size).await;
        drop(to_hasher);
        let digests = hasher.await.map_err(Error::internal)?;
        let size = match copied {
            Ok(size) => size,
            Err(e) => {
                writer.abort().await;
                return Err(e);
            }
        };
        if let Err(e) = opts.check(&digests) {
            writer.abort().await;
            return Err(e);
        }
        let storage_key = writer.finish().await?;
        metrics::counter!("cargoman_upload_bytes_total").increment(size);
        Ok(StagedBlob {
            storage_key,
            size,
            digests,
        })
    }

    /// Streams an object, or the inclusive byte range `(first, last)` of it.
    pub async fn open(&self, key: &str, range: Option<(u64, u64)>) -> Result<ByteStream> {
        match &self.backend {
            Backend::Fs(b) => b.open(key, range).await,
            Backend::S3(b) => b.open(key, range).await,
        }
    }

    /// Housekeeping of what reads keep in memory: mappings of blob files that another process
    /// deleted are dropped (the filesystem only; S3 reads keep nothing).
    pub async fn forget_deleted(&self) {
        if let Backend::Fs(b) = &self.backend {
            b.forget_deleted().await;
        }
    }

    pub async fn delete(&self, key: &str) -> Result<()> {
        match &self.backend {
            Backend::Fs(b) => b.delete(key).await,
            Backend::S3(b) => b.delete(key).await,
        }
    }

    /// Size of a stored object, `None` when it is missing.
    pub async fn size(&self, key: &str) -> Result<Option<u64>> {
        match &self.backend {
            Backend::Fs(b) => b.size(key).await,
            Backend::S3(b) => b.size(key).await,
        }
    }

    pub async fn list(&self) -> Result<Vec<StoredObject>> {
        match &self.backend {
            Backend::Fs(b) => b.list().await,
            Backend::S3(b) => b.list().await,
        }
    }

    pub async fn ready(&self) -> Result<()> {
        match &self.backend {
            Backend::Fs(b) => b.ready().await,
            Backend::S3(b) => b.ready().await,
        }
    }

    /// Reads an object back and computes its digests (for digests first asked for after upload,
    /// and for `fsck`).
    pub async fn digest(&self, key: &str, extra: ExtraDigests) -> Result<(u64, Digests)> {
        let mut stream = self.open(key, None).await?;
        let mut hasher = digest::MultiHasher::new(extra);
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            size += chunk.len() as u64;
            hasher.update(&chunk);
        }
        Ok((size, hasher.finish()))
    }
}

/// A local file as a byte stream (for bodies the server produces itself, e.g. built archives).
pub fn file_stream(file: tokio::fs::File) -> impl Stream<Item = std::io::Result<Bytes>> + Send {
    futures_util::stream::try_unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = bytes::BytesMut::with_capacity(256 * 1024);
        let n = file.read_buf(&mut buf).await?;
        Ok((n > 0).then(|| (buf.freeze(), file)))
    })
}

/// A request body's chunks, each checked: a body that breaks off is `BodyInterrupted`, and one
/// growing past `max_size` is refused (413) at the chunk that crosses the limit.
pub fn limited<S, E>(body: S, max_size: u64) -> impl Stream<Item = Result<Bytes>>
where
    S: Stream<Item = std::result::Result<Bytes, E>>,
    E: std::fmt::Display,
{
    let mut size = 0u64;
    body.map(move |chunk| {
        let chunk = chunk.map_err(|e| Error::BodyInterrupted(e.to_string()))?;
        size += chunk.len() as u64;
        if size > max_size {
            return Err(Error::PayloadTooLarge(format!(
                "body is larger than the limit of {max_size} bytes"
            )));
        }
        Ok(chunk)
    })
}

/// Writes a request body to an anonymous temporary file (never held in memory), for formats that
/// must read an upload before storing it (a zip's manifest, npm's JSON around its tarball);
/// refused (413) as soon as it grows past `max_size`. Returns the file, at its end, and the size.
pub async fn spool<S, E>(body: S, max_size: u64) -> Result<(tokio::fs::File, u64)>
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Send,
    E: std::fmt::Display,
{
    use tokio::io::AsyncWriteExt;
    let mut file = tokio::fs::File::from_std(tempfile::tempfile()?);
    let mut size = 0u64;
    let mut body = std::pin::pin!(limited(body, max_size));
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        size += chunk.len() as u64;
        file.write_all(&chunk).await?;
    }
    file.flush().await?;
    Ok((file, size))
}

async fn copy_body<S, E>(
    body: S,
    writer: &mut Writer,
    to_hasher: &mpsc::Sender<Bytes>,
    max_size: u64,
) -> Result<u64>
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Send,
    E: std::fmt::Display,
{
    let mut body = std::pin::pin!(limited(body, max_size));
    let mut size = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        size += chunk.len() as u64;
        to_hasher
            .send(chunk.clone())
            .await
            .map_err(|_| Error::internal("hasher stopped"))?;
        writer.write(chunk).await?;
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digests(data: &[u8]) -> Digests {
        let mut h = digest::MultiHasher::new(ExtraDigests::ALL);
        h.update(data);
        h.finish()
    }

    #[test]
    fn announced_digests_are_computed_and_checked() {
        let d = digests(b"abc");
        let opts = PutOptions {
            expected_sha1: d.sha1.clone().map(|s| s.to_uppercase()),
            expected_sha512: d.sha512.clone(),
            ..PutOptions::default()
        };
        let wanted = opts.digests_to_compute();
        assert!(wanted.sha1 && wanted.sha512 && !wanted.md5);
        opts.check(&d).unwrap();
        let wrong = PutOptions {
            expected_sha512: Some("00".repeat(64)),
            ..PutOptions::default()
        };
        let refused = wrong.check(&d).unwrap_err();
        assert!(refused.to_string().contains("SHA-512"), "{refused}");
        let unasked = PutOptions::default();
        assert!(unasked.digests_to_compute().is_empty());
        unasked.check(&d).unwrap();
    }
}
