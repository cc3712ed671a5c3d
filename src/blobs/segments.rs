//! The stored parts of a resumable upload (an OCI chunked blob upload): each append is written
//! as its own object under `uploads/<session>/`, hashed in the same pass from the SHA-256 state
//! the previous append left, so no append re-reads what came before. Finishing uses the single
//! segment of a one-part upload as the blob's object as it is (no copy), and copies several
//! segments into one new object once. An append that fails, or loses a race for its offset,
//! leaves a segment no session names: the caller deletes it, or `gc` does after its grace.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc;

use super::digest::ResumableSha256;
use super::{BlobStore, copy_body, new_object_name};
use crate::error::{Error, Result};

/// One stored append of an upload session.
pub struct Segment {
    pub key: String,
    pub size: u64,
    /// The upload's hash including this segment.
    pub hash: ResumableSha256,
}

impl BlobStore {
    /// Stores `body` as the next segment of upload session `session` (our own hex id), continuing
    /// `hash`. Refused (413) once the segment grows past `max_size`; nothing stays on failure.
    pub async fn put_segment<S, E>(
        &self,
        session: &str,
        body: S,
        hash: ResumableSha256,
        max_size: u64,
    ) -> Result<Segment>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let key = format!("uploads/{session}/{}", new_object_name());
        let mut writer = self.writer_at(key).await?;
        let (to_hasher, mut hasher_input) = mpsc::channel::<Bytes>(32);
        let hasher = tokio::task::spawn_blocking(move || {
            let mut hash = hash;
            while let Some(chunk) = hasher_input.blocking_recv() {
                hash.update(&chunk);
            }
            hash
        });
        let copied = copy_body(body, &mut writer, &to_hasher, max_size).await;
        drop(to_hasher);
        let hash = hasher.await.map_err(Error::internal)?;
        let size = match copied {
            Ok(size) => size,
            Err(e) => {
                writer.abort().await;
                return Err(e);
            }
        };
        let key = writer.finish().await?;
        metrics::counter!("cargoman_upload_bytes_total").increment(size);
        Ok(Segment { key, size, hash })
    }

    /// One new blob object holding the segments' bytes in order (read once, here). The
    /// segments stay: the caller deletes them once the blob is recorded.
    pub async fn concat(&self, keys: &[String]) -> Result<String> {
        let mut writer = self.writer().await?;
        for key in keys {
            let copied = async {
                let mut stream = self.open(key, None).await?;
                while let Some(chunk) = stream.next().await {
                    writer.write(chunk?).await?;
                }
                Ok::<_, Error>(())
            }
            .await;
            if let Err(e) = copied {
                writer.abort().await;
                return Err(e);
            }
        }
        writer.finish().await
    }
}
