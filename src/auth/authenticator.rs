//! Turns a presented token into a `Principal`. Argon2 is deliberately slow, so each token is
//! verified with it once; afterwards a fingerprint cache answers, and a primary-key read of the
//! token row on every request makes a revocation or rotation count at once on every instance.
//!
//! Wrong tokens must stay cheap, or anyone could exhaust the server by sending random ones: only a
//! token of a shape that can match is ever hashed (a stored token's lookup prefix must exist, the
//! generated root token has its own prefix), hashing runs on a few threads behind a short queue,
//! lookups found absent are remembered, a client's failures are counted and, past a limit,
//! refused without any work, and every failure is answered after the same delay, so timing tells
//! nothing about which part of a token was right.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

use super::delegated::{self, Delegated};
use super::failures::FailureLimiter;
use super::secret::{self, CUSTOMER_PREFIX, ROOT_PREFIX, TEAM_PREFIX};
use super::verifier::Verifier;
use super::{Authenticated, CustomerScope, CustomerStatus, CustomerToken, Principal, TeamLevel};
use crate::config::AuthConfig;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::model::tokens::{self, TokenKey};

/// How the root admin token is known.
pub enum RootToken {
    /// From `ADMIN_TOKEN`: only its SHA-256 is kept in memory.
    Digest([u8; 32]),
    /// From `ADMIN_TOKEN_HASH`: an Argon2 PHC string of a token of any shape.
    Argon2(String),
    /// Generated at first start: `cmr_` + 32 characters, kept as an Argon2 PHC string, with its
    /// lookup prefix where one was stored (tokens generated before it was kept have none).
    Generated { phc: String, lookup: Option<String> },
}

/// How often a token's `last_used_at` is written at most.
const TOUCH_INTERVAL_SECS: i64 = 60;
/// Bound on the caches, so random tokens cannot grow them without limit.
const CACHE_LIMIT: usize = 10_000;
/// The refusal of a token that did not verify; `failed_check` recognises it.
const INVALID: &str = "invalid token";
/// The window in which a client's failed checks are counted.
const FAILURE_WINDOW: Duration = Duration::from_secs(60);

#[derive(Clone)]
struct Verified {
    token_id: i64,
    last_touched: i64,
    /// The token row (and customer state) as last read, reused while fresh.
    snapshot: Arc<Snapshot>,
}

struct Snapshot {
    row: tokens::TokenRow,
    customer: Option<tokens::CustomerState>,
    read_at: Instant,
    /// This process's write count when the row was read: any later write makes it stale.
    epoch: u64,
    /// The caller this row stands for, built on first use: it only changes with the row, or when
    /// the customer's end date passes (then it is built afresh on every request).
    principal: OnceLock<Principal>,
}

pub struct Authenticator {
    db: Db,
    root: RootToken,
    /// `JWT_SECRET`: when set, signed customer JWTs are accepted too.
    jwt_secret: Option<Vec<u8>>,
    /// Signs delegated tokens (`auth::delegated`): `JWT_SECRET` when set, so every instance
    /// accepts every instance's tokens; otherwise a key of this process (its tokens die with it,
    /// and token-auth clients simply fetch a new one).
    delegation_key: Vec<u8>,
    /// How long a token row read from the database is reused (`AUTH_CACHE_TTL_MS`) unless this
    /// process wrote to the database since; zero reads it on every request.
    row_ttl: Duration,
    /// Fingerprint of the root token once Argon2 accepted it.
    root_verified: Mutex<Option<[u8; 32]>>,
    verified: Mutex<HashMap<[u8; 32], Verified>>,
    /// Fingerprints Argon2 already refused: a client retrying a wrong token costs no more hashing.
    rejected: Mutex<HashSet<[u8; 32]>>,
    /// Lookup prefixes that had no token row, with when and at which write epoch that was read.
    absent: Mutex<HashMap<String, (Instant, u64)>>,
    argon2: Verifier,
    failures: FailureLimiter,
    /// No failed check is answered sooner than this after it began.
    failure_floor: Duration,
}

fn unauthorized(msg: &str) -> Error {
    Error::Unauthorized(msg.into())
}

fn invalid() -> Error {
    unauthorized(INVALID)
}

/// A refusal because the token itself did not verify (a guess), as opposed to a real token that
/// was revoked or expired.
fn failed_check(error: &Error) -> bool {
    matches!(error, Error::Unauthorized(m) if m.starts_with(INVALID))
}

impl Authenticator {
    pub fn new(db: Db, root: RootToken, jwt_secret: Option<&str>, settings: &AuthConfig) -> Self {
        Authenticator {
            db,
            root,
            jwt_secret: jwt_secret.map(|s| s.as_bytes().to_vec()),
            delegation_key: match jwt_secret {
                Some(secret) => secret.as_bytes().to_vec(),
                None => rand::random::<[u8; 32]>().to_vec(),
            },
            row_ttl: settings.cache_ttl,
            root_verified: Mutex::new(None),
            verified: Mutex::new(HashMap::new()),
            rejected: Mutex::new(HashSet::new()),
            absent: Mutex::new(HashMap::new()),
            argon2: Verifier::new(settings.hash_threads),
            failures: FailureLimiter::new(settings.failure_limit, FAILURE_WINDOW),
            failure_floor: settings.failure_delay,
        }
    }

    /// The caller a token stands for. `client` (the peer address) counts failed checks: past
    /// `AUTH_FAILURE_LIMIT` a client gets 429 for tokens not already verified.
    pub async fn authenticate(&self, token: &str, client: Option<&str>) -> Result<Authenticated> {
        let started = Instant::now();
        let fp = secret::fingerprint(token);
        if let Some(client) = client
            && let Some(retry_after_secs) = self.failures.blocked(client)
            && !self.already_verified(&fp)
        {
            return Err(Error::RateLimited {
                message: format!(
                    "too many failed authentication attempts from {client}; retry in {retry_after_secs} s"
                ),
                retry_after_secs,
            });
        }
        let result = self.check(token, fp, client).await;
        if let Err(error) = &result
            && matches!(error, Error::Unauthorized(_))
        {
            if let Some(client) = client
                && failed_check(error)
            {
                self.failures.record_failure(client);
            }
            tokio::time::sleep_until((started + self.failure_floor).into()).await;
        }
        result
    }

    /// Whether this exact token was verified before (no hashing needed to accept it again).
    fn already_verified(&self, fp: &[u8; 32]) -> bool {
        let root = match &self.root {
            RootToken::Digest(expected) => bool::from(fp.ct_eq(expected)),
            _ => *self.root_verified.lock().expect("root lock") == Some(*fp),
        };
        root || self.verified.lock().expect("cache lock").contains_key(fp)
    }

    async fn check(&self, token: &str, fp: [u8; 32], ip: Option<&str>) -> Result<Authenticated> {
        if self.rejected.lock().expect("rejected lock").contains(&fp) {
            return Err(invalid());
        }
        for prefix in [TEAM_PREFIX, CUSTOMER_PREFIX] {
            if let Some(lookup) = secret::lookup_of(token, prefix) {
                return Ok(self
                    .authenticate_stored(token, lookup, fp, ip)
                    .await?
                    .into());
            }
        }
        if super::jwt::looks_like_jwt(token) {
            let now = crate::clock::now();
            if let Some((subject, scope)) = delegated::verify(&self.delegation_key, token, now)? {
                return Ok(Authenticated {
                    principal: self.authenticate_delegated(subject, now).await?,
                    delegated_scope: Some(scope),
                });
            }
            if let Some(secret) = &self.jwt_secret {
                return Ok(self.authenticate_jwt(secret, token).await?.into());
            }
        }
        if self.is_root(token, fp).await? {
            return Ok(Principal::Root.into());
        }
        Err(invalid())
    }

    async fn is_root(&self, token: &str, fp: [u8; 32]) -> Result<bool> {
        let phc = match &self.root {
            RootToken::Digest(expected) => return Ok(bool::from(fp.ct_eq(expected))),
            RootToken::Argon2(phc) => phc,
            RootToken::Generated { phc, lookup } => {
                // Only a token of the generated shape (and lookup, where known) can match.
                let Some(presented) = secret::lookup_of(token, ROOT_PREFIX) else {
                    return Ok(false);
                };
                if lookup.as_deref().is_some_and(|l| l != presented) {
                    return Ok(false);
                }
                phc
            }
        };
        if let Some(known) = *self.root_verified.lock().expect("root lock") {
            return Ok(bool::from(fp.ct_eq(&known)));
        }
        let ok = self.argon2.verify(token, phc).await?;
        if ok {
            *self.root_verified.lock().expect("root lock") = Some(fp);
        } else {
            self.remember_rejection(fp);
        }
        Ok(ok)
    }

    /// Whether `lookup` was recently found to have no token row (and nothing was written since).
    fn known_absent(&self, lookup: &str) -> bool {
        self.absent
            .lock()
            .expect("absent lock")
            .get(lookup)
            .is_some_and(|(read_at, epoch)| self.still_fresh(*read_at, *epoch))
    }

    fn remember_absent(&self, lookup: &str, read_at: Instant, epoch: u64) {
        let mut absent = self.absent.lock().expect("absent lock");
        if absent.len() >= CACHE_LIMIT {
            absent.clear();
        }
        absent.insert(lookup.to_string(), (read_at, epoch));
    }

    /// A database read made at `read_at`, at write epoch `epoch`, may still be trusted.
    fn still_fresh(&self, read_at: Instant, epoch: u64) -> bool {
        read_at.elapsed() < self.row_ttl && epoch == self.db.write_epoch()
    }

    /// A token stored in the `tokens` table (team or customer), found by its lookup prefix.
    async fn authenticate_stored(
        &self,
        token: &str,
        lookup: &str,
        fp: [u8; 32],
        ip: Option<&str>,
    ) -> Result<Principal> {
        let cached = self.verified.lock().expect("cache lock").get(&fp).cloned();
        let fresh = cached
            .as_ref()
            .map(|v| v.snapshot.clone())
            .filter(|snap| self.still_fresh(snap.read_at, snap.epoch));
        if cached.is_none() && self.known_absent(lookup) {
            return Err(invalid());
        }
        let reread = fresh.is_none();
        let snapshot = match fresh {
            Some(snapshot) => snapshot,
            None => {
                let epoch = self.db.write_epoch();
                let mut conn = self.db.pool().acquire().await?;
                let key = match &cached {
                    Some(v) => TokenKey::Id(v.token_id),
                    None => TokenKey::Lookup(lookup),
                };
                let read_at = Instant::now();
                let Some((row, customer)) = tokens::get_for_auth(&mut conn, key).await? else {
                    if cached.is_none() {
                        self.remember_absent(lookup, read_at, epoch);
                    }
                    return Err(invalid());
                };
                Arc::new(Snapshot {
                    row,
                    customer,
                    read_at,
                    epoch,
                    principal: OnceLock::new(),
                })
            }
        };
        let row = &snapshot.row;
        // A rotated token keeps its id but gets a new lookup: the old value no longer matches.
        if row.lookup != lookup {
            self.forget(row.id);
            return Err(invalid());
        }
        if cached.is_none() && !self.argon2.verify(token, &row.secret_hash).await? {
            self.remember_rejection(fp);
            return Err(invalid());
        }
        let now = crate::clock::now();
        if row.revoked_at.is_some() {
            return Err(unauthorized("token has been revoked"));
        }
        if row.expires_at.is_some_and(|t| t <= now) {
            return Err(unauthorized("token has expired"));
        }
        let ended = snapshot
            .customer
            .as_ref()
            .and_then(|c| c.expires_at)
            .is_some_and(|t| t <= now);
        let principal = match snapshot.principal.get() {
            Some(principal) if !ended => principal.clone(),
            _ => {
                let principal = principal_of(&snapshot, now)?;
                if !ended {
                    let _ = snapshot.principal.set(principal.clone());
                }
                principal
            }
        };
        let last_touched = cached.map(|v| v.last_touched).unwrap_or(0);
        let touch = now - last_touched >= TOUCH_INTERVAL_SECS;
        if touch {
            let mut conn = self.db.pool().acquire().await?;
            tokens::touch(&mut conn, row.id, now, ip).await?;
        }
        if !touch && !reread {
            return Ok(principal);
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
                snapshot: snapshot.clone(),
            },
        );
        Ok(principal)
    }

    /// A JWT from `POST /api/v1/customers/{id}/jwt`: download access for its customer until it
    /// expires. The customer's state is read on every request, as for stored tokens.
    async fn authenticate_jwt(&self, secret: &[u8], token: &str) -> Result<Principal> {
        let now = crate::clock::now();
        let claims = super::jwt::verify(secret, token, now)
            .map_err(|e| Error::Unauthorized(format!("{INVALID}: {e}")))?;
        let scope = CustomerScope::parse(&claims.scope)
            .ok_or_else(|| Error::Unauthorized(format!("{INVALID}: unknown scope")))?;
        self.jwt_customer(&claims.sub, scope, now).await
    }

    /// A short-lived token standing for `principal`, for token-auth clients (`auth::delegated`).
    /// `scope` is recorded as the client asked for it; rights come from the principal.
    pub async fn delegate(&self, principal: &Principal, scope: &str) -> Result<Delegated> {
        let subject = match delegated::Subject::unstored(principal) {
            Some(subject) => subject,
            None => {
                let id = match principal {
                    Principal::Team { token_id, .. } => *token_id,
                    Principal::Customer(token) => token.token_id,
                    _ => unreachable!("every other principal is unstored"),
                };
                let mut conn = self.db.pool().acquire().await?;
                let row = tokens::get(&mut conn, id)
                    .await?
                    .ok_or_else(|| unauthorized("token no longer exists"))?;
                delegated::Subject::Stored {
                    id,
                    lookup: row.lookup,
                }
            }
        };
        delegated::issue(&self.delegation_key, &subject, scope, crate::clock::now())
    }

    /// The caller a delegated token stands for, read afresh: a stored token's row (revoked,
    /// expired or rotated since → refused), a JWT customer's state.
    async fn authenticate_delegated(
        &self,
        subject: delegated::Subject,
        now: i64,
    ) -> Result<Principal> {
        match subject {
            delegated::Subject::Anonymous => Ok(Principal::Anonymous),
            delegated::Subject::Root => Ok(Principal::Root),
            delegated::Subject::CustomerJwt { customer, scope } => {
                self.jwt_customer(&customer, scope, now).await
            }
            delegated::Subject::Stored { id, lookup } => {
                let epoch = self.db.write_epoch();
                let read_at = Instant::now();
                let mut conn = self.db.pool().acquire().await?;
                let (row, customer) = tokens::get_for_auth(&mut conn, TokenKey::Id(id))
                    .await?
                    .filter(|(row, _)| row.lookup == lookup)
                    .ok_or_else(|| unauthorized("token has been rotated or deleted"))?;
                if row.revoked_at.is_some() {
                    return Err(unauthorized("token has been revoked"));
                }
                if row.expires_at.is_some_and(|t| t <= now) {
                    return Err(unauthorized("token has expired"));
                }
                let snapshot = Snapshot {
                    row,
                    customer,
                    read_at,
                    epoch,
                    principal: OnceLock::new(),
                };
                principal_of(&snapshot, now)
            }
        }
    }

    /// A customer known by its public id (from a signed token), with its current state.
    async fn jwt_customer(
        &self,
        public_id: &str,
        scope: CustomerScope,
        now: i64,
    ) -> Result<Principal> {
        let mut conn = self.db.pool().acquire().await?;
        let customer = crate::model::customers::get_by_public_id(&mut conn, public_id)
            .await?
            .ok_or_else(|| unauthorized("the token's customer no longer exists"))?;
        let state = tokens::CustomerState {
            public_id: customer.public_id,
            status: customer.status,
            status_reason: customer.status_reason,
            expires_at: customer.expires_at,
            access_version: customer.access_version,
            updated_at: customer.updated_at,
        };
        customer_principal(0, customer.id, scope, Vec::new(), state, now)
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

/// The caller a token row (and its customer's state, read with it) stands for.
fn principal_of(snapshot: &Snapshot, now: i64) -> Result<Principal> {
    let row = &snapshot.row;
    Ok(match row.customer_id {
        Some(customer_id) => {
            let scope = CustomerScope::parse(&row.level)
                .ok_or_else(|| Error::internal(format!("token {} has unknown scope", row.id)))?;
            let customer = snapshot
                .customer
                .clone()
                .ok_or_else(|| unauthorized("the token's customer no longer exists"))?;
            customer_principal(
                row.id,
                customer_id,
                scope,
                row.package_scopes.clone(),
                customer,
                now,
            )?
        }
        None => Principal::Team {
            token_id: row.id,
            name: row.name.clone(),
            level: TeamLevel::parse(&row.level)
                .ok_or_else(|| Error::internal(format!("token {} has unknown level", row.id)))?,
        },
    })
}

fn customer_principal(
    token_id: i64,
    customer_id: i64,
    scope: CustomerScope,
    package_scopes: Vec<String>,
    customer: tokens::CustomerState,
    now: i64,
) -> Result<Principal> {
    let mut status = CustomerStatus::parse(&customer.status)
        .ok_or_else(|| Error::internal(format!("customer {customer_id} has unknown status")))?;
    // A customer whose subscription end has passed is expired without anyone having to say so.
    if customer.expires_at.is_some_and(|t| t <= now) {
        status = CustomerStatus::Expired;
    }
    Ok(Principal::Customer(std::sync::Arc::new(CustomerToken {
        token_id,
        customer_id,
        customer: customer.public_id,
        scope,
        package_scopes,
        status,
        status_reason: customer.status_reason,
        access_version: customer.access_version,
        access_changed_at: customer.updated_at,
    })))
}
