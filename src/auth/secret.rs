//! Token values and their hashes: generation, the public lookup prefix, Argon2 and fingerprints.

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use rand::Rng;
use rand::distr::Alphanumeric;

use crate::error::{Error, Result};

pub const TEAM_PREFIX: &str = "cma_";
/// The root token generated at first start when no `ADMIN_TOKEN` is configured.
pub const ROOT_PREFIX: &str = "cmr_";
/// Customer tokens, used by Composer as the HTTP Basic password.
pub const CUSTOMER_PREFIX: &str = "tok_";
const SECRET_LEN: usize = 32;
/// Characters of the secret that are stored in clear to find the row; the rest stays secret.
const LOOKUP_LEN: usize = 8;

fn random_alphanumeric(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// A new token value `prefix` + 32 alphanumerics.
pub fn generate(prefix: &str) -> String {
    format!("{prefix}{}", random_alphanumeric(SECRET_LEN))
}

/// The indexed, non-secret part of a well-formed token (`cma_` + its first 8 characters).
pub fn lookup_of<'a>(token: &'a str, prefix: &str) -> Option<&'a str> {
    let secret = token.strip_prefix(prefix)?;
    (secret.len() == SECRET_LEN && secret.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| &token[..prefix.len() + LOOKUP_LEN])
}

/// A new token value and its Argon2 hash and lookup key, hashed off the async threads
/// (Argon2 is deliberately slow).
pub struct Fresh {
    pub plain: String,
    pub hash: String,
    prefix_len: usize,
}

impl Fresh {
    pub async fn generate(prefix: &'static str) -> Result<Fresh> {
        let plain = generate(prefix);
        let to_hash = plain.clone();
        let hash = tokio::task::spawn_blocking(move || self::hash(&to_hash))
            .await
            .map_err(Error::internal)??;
        Ok(Fresh {
            plain,
            hash,
            prefix_len: prefix.len(),
        })
    }

    /// The indexed, non-secret part (the value is well formed by construction).
    pub fn lookup(&self) -> &str {
        &self.plain[..self.prefix_len + LOOKUP_LEN]
    }
}

pub fn hash(token: &str) -> Result<String> {
    let hashed: PasswordHash = Argon2::default()
        .hash_password(token.as_bytes())
        .map_err(Error::internal)?;
    Ok(hashed.to_string())
}

pub fn verify(token: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(token.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A fast, non-reversible key for caches of already verified tokens.
pub fn fingerprint(token: &str) -> [u8; 32] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    digest.as_ref().try_into().expect("SHA-256 is 32 bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_have_the_documented_shape() {
        let t = generate(TEAM_PREFIX);
        assert_eq!(t.len(), 36);
        assert!(t.starts_with("cma_"));
        assert_eq!(lookup_of(&t, TEAM_PREFIX), Some(&t[..12]));
        assert_ne!(generate(TEAM_PREFIX), t);
    }

    #[test]
    fn malformed_tokens_have_no_lookup() {
        assert_eq!(lookup_of("cma_short", TEAM_PREFIX), None);
        assert_eq!(
            lookup_of(&format!("cma_{}", "a".repeat(33)), TEAM_PREFIX),
            None
        );
        assert_eq!(
            lookup_of(&format!("cma_{}!", "a".repeat(31)), TEAM_PREFIX),
            None
        );
        assert_eq!(
            lookup_of(&format!("xyz_{}", "a".repeat(32)), TEAM_PREFIX),
            None
        );
    }

    #[test]
    fn argon2_round_trip() {
        let h = hash("cma_secret").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("cma_secret", &h));
        assert!(!verify("cma_secreT", &h));
        assert!(!verify("cma_secret", "not a hash"));
    }
}
