//! Digests computed in the same pass as the upload. SHA-256 is always computed (it is the blob's
//! address); the others only when a format publishes them, because each one costs (see
//! `shared/reference/rust-stack.md`: SHA-256 alone ~1.5 GiB/s, all four ~0.22 GiB/s).

use aws_lc_rs::digest::{Context, SHA1_FOR_LEGACY_USE_ONLY, SHA256, SHA512};
use md5::{Digest, Md5};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExtraDigests {
    pub sha1: bool,
    pub sha512: bool,
    pub md5: bool,
}

impl ExtraDigests {
    pub const NONE: ExtraDigests = ExtraDigests {
        sha1: false,
        sha512: false,
        md5: false,
    };
    pub const ALL: ExtraDigests = ExtraDigests {
        sha1: true,
        sha512: true,
        md5: true,
    };

    /// The digests asked for that `known` does not already hold.
    pub fn missing_from(self, known: &Digests) -> ExtraDigests {
        ExtraDigests {
            sha1: self.sha1 && known.sha1.is_none(),
            sha512: self.sha512 && known.sha512.is_none(),
            md5: self.md5 && known.md5.is_none(),
        }
    }

    pub fn is_empty(self) -> bool {
        self == Self::NONE
    }
}

/// Lower-case hex digests of one blob.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Digests {
    pub sha256: String,
    pub sha1: Option<String>,
    pub sha512: Option<String>,
    pub md5: Option<String>,
}

pub struct MultiHasher {
    sha256: Context,
    sha1: Option<Context>,
    sha512: Option<Context>,
    md5: Option<Md5>,
}

impl MultiHasher {
    pub fn new(extra: ExtraDigests) -> Self {
        MultiHasher {
            sha256: Context::new(&SHA256),
            sha1: extra.sha1.then(|| Context::new(&SHA1_FOR_LEGACY_USE_ONLY)),
            sha512: extra.sha512.then(|| Context::new(&SHA512)),
            md5: extra.md5.then(Md5::new),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        self.sha256.update(data);
        if let Some(h) = &mut self.sha1 {
            h.update(data);
        }
        if let Some(h) = &mut self.sha512 {
            h.update(data);
        }
        if let Some(h) = &mut self.md5 {
            h.update(data);
        }
    }

    pub fn finish(self) -> Digests {
        Digests {
            sha256: hex::encode(self.sha256.finish()),
            sha1: self.sha1.map(|h| hex::encode(h.finish())),
            sha512: self.sha512.map(|h| hex::encode(h.finish())),
            md5: self.md5.map(|h| hex::encode(h.finalize())),
        }
    }
}

/// SHA-256 of an upload that arrives in several requests, possibly across restarts: its state
/// after each request is saved (`state`) and resumed (`resume`), so an append hashes only its own
/// bytes. (aws-lc-rs is faster but cannot export its state, hence sha2 here.)
#[derive(Default)]
pub struct ResumableSha256(sha2::Sha256);

impl ResumableSha256 {
    pub fn resume(state: &[u8]) -> crate::error::Result<Self> {
        use sha2::digest::common::hazmat::SerializableState;
        let bad = || crate::error::Error::internal("saved SHA-256 state is damaged");
        let state = state.try_into().map_err(|_| bad())?;
        Ok(ResumableSha256(
            sha2::Sha256::deserialize(state).map_err(|_| bad())?,
        ))
    }

    pub fn update(&mut self, data: &[u8]) {
        sha2::Digest::update(&mut self.0, data);
    }

    pub fn state(&self) -> Vec<u8> {
        use sha2::digest::common::hazmat::SerializableState;
        self.0.serialize().to_vec()
    }

    /// The lower-case hex digest of everything hashed so far.
    pub fn finish(self) -> String {
        hex::encode(sha2::Digest::finalize(self.0))
    }
}

/// The lower-case hex SHA-256 of bytes already in memory (a rendered document, its ETag).
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&SHA256, data).as_ref())
}

/// SHA-512 of bytes in memory, lower-case hex (a small document addressed by SHA-512).
pub fn sha512_hex(data: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&SHA512, data).as_ref())
}

/// True for a lower- or upper-case 64-digit hex string.
pub fn is_sha256_hex(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors_in_one_pass() {
        let mut h = MultiHasher::new(ExtraDigests::ALL);
        h.update(b"ab");
        h.update(b"c");
        let d = h.finish();
        assert_eq!(
            d.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            d.sha1.as_deref(),
            Some("a9993e364706816aba3e25717850c26c9cd0d89d")
        );
        assert_eq!(d.md5.as_deref(), Some("900150983cd24fb0d6963f7d28e17f72"));
        assert!(d.sha512.as_deref().unwrap().starts_with("ddaf35a193617aba"));
    }

    #[test]
    fn only_requested_extras_are_computed() {
        let d = MultiHasher::new(ExtraDigests::NONE).finish();
        assert_eq!(
            d.sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!((d.sha1, d.sha512, d.md5), (None, None, None));
        let want = ExtraDigests {
            sha1: true,
            md5: true,
            sha512: false,
        };
        let known = Digests {
            sha1: Some("x".into()),
            ..Default::default()
        };
        assert_eq!(
            want.missing_from(&known),
            ExtraDigests {
                sha1: false,
                md5: true,
                sha512: false
            }
        );
    }

    #[test]
    fn a_saved_sha256_state_resumes_where_it_stopped() {
        let mut first = ResumableSha256::default();
        first.update(b"ab");
        let mut resumed = ResumableSha256::resume(&first.state()).unwrap();
        resumed.update(b"c");
        assert_eq!(
            resumed.finish(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(ResumableSha256::resume(b"short").is_err());
    }

    #[test]
    fn sha256_hex_of_bytes_in_memory() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn sha256_hex_shape() {
        assert!(is_sha256_hex(&"a".repeat(64)));
        assert!(!is_sha256_hex(&"a".repeat(63)));
        assert!(!is_sha256_hex(&"g".repeat(64)));
    }
}
