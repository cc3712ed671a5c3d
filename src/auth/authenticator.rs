//! Turns a presented token into a `Principal`. Argon2 is deliberately slow, so each token is
//! verified with it once; afterwards a fingerprint cache answers, and a primary-key read of the
//! token row on every request makes a revocation or rotation count at once on every instance.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use subtle::ConstantTimeEq;

use super::secret::{self, TEAM_PREFIX};
use super::{Principal, TeamLevel};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::model::tokens;

/// How the root admin token is known.
pub enum RootToken {
    /// From `ADMIN_TOKEN`: only its SHA-256 is kept in memory.
    Digest([u8; 32]),
    /// From `ADMIN_TOKEN_HASH` or generated at first start: an Argon2 PHC string.
    Argon2(String),
}

/// How often a token's `last_used_at` is written at most.
const TOUCH_INTERVAL_SECS: i64 = 60;
/// Bound on the caches, so random tokens cannot grow them without limit.
const CACHE_LIMIT: usize = 10_000;

#[derive(Clone)]
struct Verified {
    token_id: i64,
    last_touched: i64,
}

pub struct Authenticator {
    db: Db,
    root: RootToken,
    /// Fingerprint of the root token once Argon2 accepted it.
    root_verified: Mutex<Option<[u8; 32]>>,
    verified: Mutex<HashMap<[u8; 32], Verified>>,
    /// Fingerprints Argon2 already refused: a client retrying a wrong token costs no more hashing.
    rejected: Mutex<HashSet<[u8; 32]>>,
}

fn unauthorized(msg: &str) -> Error {
    Error::Unauthorized(msg.into())
}

impl Authenticator {
    pub fn new(db: Db, root: RootToken) -> Self {
        Authenticator {
            db,
            root,
            root_verified: Mutex::new(None),
            verified: Mutex::new(HashMap::new()),
            rejected: Mutex::new(HashSet::new()),
        }
    }

    pub async fn authenticate(&self, token: &str, ip: Option<&str>) -> Result<Principal> {
        let fp = secret::fingerprint(token);
        if self.rejected.lock().expect("rejected lock").contains(&fp) {
            return Err(unauthorized("invalid token"));
        }
        if secret::lookup_of(token, TEAM_PREFIX).is_some() {
            return self.authenticate_team(token, fp, ip).await;
        }
        if self.is_root(token, fp).await? {
            return Ok(Principal::Root);
        }
        Err(unauthorized("invalid token"))
    }

    async fn is_root(&self, token: &str, fp: [u8; 32]) -> Result<bool> {
        match &self.root {
            RootToken::Digest(expected) => Ok(bool::from(fp.ct_eq(expected))),
            RootToken::Argon2(phc) => {
                if let Some(known) = *self.root_verified.lock().expect("root lock") {
                    return Ok(bool::from(fp.ct_eq(&known)));
                }
                let (token, phc) = (token.to_string(), phc.clone());
                let ok = tokio::task::spawn_blocking(move || secret::verify(&token, &phc))
                    .await
                    .map_err(Error::internal)?;
                if ok {
                    *self.root_verified.lock().expect("root lock") = Some(fp);
                } else {
                    self.remember_rejection(fp);
                }
                Ok(ok)
            }
        }
    }

    async fn authenticate_team(
        &self,
        token: &str,
        fp: [u8; 32],
        ip: Option<&str>,
    ) -> Result<Principal> {
        let lookup = secret::lookup_of(token, TEAM_PREFIX).expect("checked by caller");
        let cached = self.verified.lock().expect("cache lock").get(&fp).cloned();
        let mut conn = self.db.pool().acquire().await?;
        let row = match &cached {
            Some(v) => tokens::get(&mut conn, v.token_id).await?,
            None => tokens::find_by_lookup(&mut conn, lookup).await?,
        }
        .ok_or_else(|| unauthorized("invalid token"))?;
        // A rotated token keeps its id but gets a new lookup: the old value no longer matches.
        if row.lookup != lookup {
            self.forget(row.id);
            return Err(unauthorized("invalid token"));
        }
        if cached.is_none() {
            let (plain, phc) = (token.to_string(), row.secret_hash.clone());
            let ok = tokio::task::spawn_blocking(move || secret::verify(&plain, &phc))
                .await
                .map_err(Error::internal)?;
            if !ok {
                self.remember_rejection(fp);
                return Err(unauthorized("invalid token"));
            }
        }
        let now = crate::clock::now();
        if row.revoked_at.is_some() {
            return Err(unauthorized("token has been revoked"));
        }
        if row.expires_at.is_some_and(|t| t <= now) {
            return Err(unauthorized("token has expired"));
        }
        let level = TeamLevel::parse(&row.level)
            .ok_or_else(|| Error::internal(format!("token {} has unknown level", row.id)))?;
        let last_touched = cached.map(|v| v.last_touched).unwrap_or(0);
        let touch = now - last_touched >= TOUCH_INTERVAL_SECS;
        if touch {
            tokens::touch(&mut conn, row.id, now, ip).await?;
        }
        let mut cache = self.verified.lock().expect("cache lock");
        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(
            fp,
            Verified {
                token_id: row.id,
                last_touched: if touch { now } else { last_touched },
            },
        );
        Ok(Principal::Team {
            token_id: row.id,
            name: row.name,
            level,
        })
    }

    fn remember_rejection(&self, fp: [u8; 32]) {
        let mut rejected = self.rejected.lock().expect("rejected lock");
        if rejected.len() >= CACHE_LIMIT {
            rejected.clear();
        }
        rejected.insert(fp);
    }

    /// Drops cached verifications of a token (after revoke or rotate on this instance).
    pub fn forget(&self, token_id: i64) {
        self.verified
            .lock()
            .expect("cache lock")
            .retain(|_, v| v.token_id != token_id);
    }
}
