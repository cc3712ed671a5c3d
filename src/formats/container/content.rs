//! Content by digest, whatever the algorithm: the blob store addresses content by SHA-256, so a
//! SHA-512 digest is resolved through the SHA-512 recorded with the blob, and an upload in parts
//! pushed under a SHA-512 digest is checked against it once assembled (its saved hash state is
//! SHA-256's, so the SHA-512 is read back once; a monolithic push is checked as it streams in).

use super::errors::{Code, Failure, OciError};
use super::names::{Algorithm, Digest};
use crate::blobs::ExtraDigests;
use crate::error::Result;
use crate::model::blob_refs::Holder;
use crate::model::blobs::Blob;
use crate::registry::Registry;

/// The extra digest a write must compute for `digest` to be checked (none for SHA-256, which
/// every write computes).
pub fn extra_digests(digest: &Digest) -> ExtraDigests {
    ExtraDigests {
        sha512: digest.algorithm == Algorithm::Sha512,
        ..ExtraDigests::NONE
    }
}

/// The SHA-256 under which the content `digest` names is stored; not found when none is.
pub async fn stored_sha256(registry: &Registry, digest: &Digest) -> Result<String> {
    match digest.algorithm {
        Algorithm::Sha256 => Ok(digest.hex.clone()),
        Algorithm::Sha512 => registry.sha256_of_sha512(&digest.hex).await,
    }
}

/// Checks a blob just stored for `holder` against a SHA-512 `digest` (a SHA-256 one was checked
/// while it was written); on a mismatch the holder lets go of it, so nothing is kept, and the
/// answer is the spec's `DIGEST_INVALID`.
pub async fn confirm(
    registry: &Registry,
    digest: &Digest,
    mut blob: Blob,
    holder: Holder,
) -> std::result::Result<(), Failure> {
    if digest.algorithm == Algorithm::Sha256 {
        return Ok(());
    }
    registry
        .ensure_digests(&mut blob, extra_digests(digest))
        .await?;
    if blob.sha512.as_deref() == Some(digest.hex.as_str()) {
        return Ok(());
    }
    registry.unlink(&blob.sha256, holder).await?;
    Err(OciError::new(
        Code::DigestInvalid,
        format!(
            "content SHA-512 is {} but {digest} was announced",
            blob.sha512.unwrap_or_default()
        ),
    )
    .into())
}
