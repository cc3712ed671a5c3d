//! Resumable uploads (OCI's chunked blob uploads): a persisted session receives the content in
//! appends, each stored as a segment and hashed from the SHA-256 state the previous one left, so
//! a restart between appends costs nothing and no append re-reads earlier bytes. Finishing
//! checks the digest from that state, records the blob held by its holder, and ends the session
//! in one transaction. Sessions that see no append for `UPLOAD_SESSION_TTL` are removed by the
//! cleanup (`expire_uploads`).

use bytes::Bytes;
use futures_util::Stream;

use super::Registry;
use crate::blobs::digest::ResumableSha256;
use crate::blobs::{Digests, StagedBlob};
use crate::error::{Error, Result};
use crate::model::blob_refs::{self, Holder};
use crate::model::blobs::{self as blob_rows, Blob};
use crate::model::owners;
use crate::model::upload_sessions::{self, UploadSession};

/// How long a session lives after its last append (Docker Distribution keeps them a week; a day
/// is plenty for a push that is still alive).
pub const UPLOAD_SESSION_TTL: i64 = 24 * 3600;

impl Registry {
    /// Opens an upload session for `owner`'s `format` packages.
    pub async fn start_upload(
        &self,
        owner: &str,
        format: &str,
        create_owner: bool,
    ) -> Result<UploadSession> {
        crate::text::check_visible("owner name", owner)?;
        let mut tx = self.db.begin_write().await?;
        let owner = if create_owner {
            owners::find_or_create(&mut tx, owner).await?
        } else {
            owners::find(&mut tx, owner)
                .await?
                .ok_or_else(|| Error::not_found(format!("owner {owner} does not exist")))?
        };
        let now = crate::clock::now();
        let session = UploadSession {
            id: crate::blobs::new_object_name(),
            owner_id: owner.id,
            format: format.to_string(),
            bytes_received: 0,
            sha256_state: ResumableSha256::default().state(),
            segments: Vec::new(),
            created_at: now,
            expires_at: now + UPLOAD_SESSION_TTL,
        };
        upload_sessions::create(&mut tx, &session).await?;
        tx.commit().await?;
        Ok(session)
    }

    /// A live session; not found when there is none or it expired. The format checks that it
    /// belongs to the owner and format the request names.
    pub async fn upload_session(&self, id: &str) -> Result<UploadSession> {
        let mut conn = self.db.pool().acquire().await?;
        upload_sessions::get(&mut conn, id)
            .await?
            .filter(|s| s.expires_at >= crate::clock::now())
            .ok_or_else(|| Error::not_found(format!("upload {id} not found")))
    }

    /// Appends `body` at byte `offset`, which must be what the session has received so far
    /// (conflict otherwise, also when another append at that offset wins). The whole upload may
    /// not grow past `max_size` bytes.
    pub async fn append_upload<S, E>(
        &self,
        id: &str,
        offset: u64,
        body: S,
        max_size: u64,
    ) -> Result<UploadSession>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let session = self.upload_session(id).await?;
        let from = session.bytes_received;
        if offset != from as u64 {
            return Err(Error::conflict(format!(
                "upload {id} has received {from} bytes; an append at {offset} does not follow"
            )));
        }
        let hash = ResumableSha256::resume(&session.sha256_state)?;
        let segment = self
            .blobs
            .put_segment(&session.id, body, hash, max_size.saturating_sub(offset))
            .await?;
        let mut next = session;
        next.bytes_received += segment.size as i64;
        next.sha256_state = segment.hash.state();
        next.expires_at = crate::clock::now() + UPLOAD_SESSION_TTL;
        if segment.size > 0 {
            next.segments.push(segment.key.clone());
        }
        let advanced = async {
            let mut tx = self.db.begin_write().await?;
            let advanced = upload_sessions::advance(&mut tx, &next, from).await?;
            tx.commit().await?;
            Ok::<_, Error>(advanced)
        }
        .await;
        if !matches!(advanced, Ok(true)) || segment.size == 0 {
            self.delete_objects([segment.key]).await;
        }
        match advanced? {
            true => Ok(next),
            false => Err(Error::conflict(format!(
                "upload {id} changed during this append; it did not count"
            ))),
        }
    }

    /// Ends the session as a blob held by `holder`. With `expected_sha256` (any case) a
    /// different content is refused and the session stays. The digest comes from the saved hash
    /// state; a one-part upload's segment becomes the blob's object as it is, several parts are
    /// copied into one object once.
    pub async fn finish_upload(
        &self,
        id: &str,
        expected_sha256: Option<&str>,
        holder: Holder,
    ) -> Result<Blob> {
        let session = self.upload_session(id).await?;
        let sha256 = ResumableSha256::resume(&session.sha256_state)?.finish();
        if let Some(expected) = expected_sha256
            && !expected.eq_ignore_ascii_case(&sha256)
        {
            return Err(Error::invalid(format!(
                "content SHA-256 is {sha256} but {expected} was announced"
            )));
        }
        let (key, copied) = match session.segments.as_slice() {
            [one] => (one.clone(), false),
            parts => (self.blobs.concat(parts).await?, true),
        };
        let staged = StagedBlob {
            storage_key: key.clone(),
            size: session.bytes_received as u64,
            digests: Digests {
                sha256,
                ..Default::default()
            },
        };
        let committed = async {
            let mut tx = self.db.begin_write().await?;
            if !upload_sessions::delete(&mut tx, id).await? {
                return Err(Error::not_found(format!("upload {id} not found")));
            }
            let blob = blob_rows::insert_or_touch(&mut tx, &staged).await?;
            blob_refs::link(&mut tx, &blob.sha256, holder).await?;
            tx.commit().await?;
            Ok(blob)
        }
        .await;
        match &committed {
            // The parts are no longer needed, except the one that became the blob's object.
            Ok(blob) => {
                let unused = session.segments.into_iter().chain(copied.then_some(key));
                self.delete_objects(unused.filter(|k| *k != blob.storage_key))
                    .await;
            }
            // The session (and its parts) stays for a retry; only the copy goes.
            Err(_) if copied => self.delete_objects([key]).await,
            Err(_) => {}
        }
        committed
    }

    /// Drops a session and what it received.
    pub async fn cancel_upload(&self, id: &str) -> Result<()> {
        let session = self.upload_session(id).await?;
        let mut tx = self.db.begin_write().await?;
        let deleted = upload_sessions::delete(&mut tx, id).await?;
        tx.commit().await?;
        if !deleted {
            return Err(Error::not_found(format!("upload {id} not found")));
        }
        self.delete_objects(session.segments).await;
        Ok(())
    }

    /// Removes the sessions that expired, with their segments; returns how many went.
    pub async fn expire_uploads(&self) -> Result<usize> {
        let now = crate::clock::now();
        let expired = {
            let mut conn = self.db.pool().acquire().await?;
            upload_sessions::expired(&mut conn, now).await?
        };
        let mut removed = 0;
        for session in expired {
            let mut tx = self.db.begin_write().await?;
            // An append may have revived it since it was listed.
            let deleted = upload_sessions::delete_if_expired(&mut tx, &session.id, now).await?;
            tx.commit().await?;
            if deleted {
                self.delete_objects(session.segments).await;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Deletes stored objects no row names; a failure leaves them to `gc`.
    async fn delete_objects(&self, keys: impl IntoIterator<Item = String>) {
        for key in keys {
            if let Err(e) = self.blobs.delete(&key).await {
                tracing::warn!(key = %key, error = %e, "could not delete object; gc will");
            }
        }
    }
}
