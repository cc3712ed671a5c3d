//! The owner-aware read check every format's read goes through: members (team tokens) read every
//! owner without a lookup; anyone else needs the owner's visibility, which is kept in memory for a
//! moment so an anonymous download of a public file stays free of database round trips. Like the
//! file cache, an entry is trusted for at most `TTL` and only while this process has committed no
//! write since it was read (`Db::write_epoch`): a visibility change made here counts at once, one
//! made on another instance within `TTL`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::auth::{Permission, Principal, Visibility};
use crate::error::Result;
use crate::model::owners;
use crate::state::AppState;

const TTL: Duration = Duration::from_secs(1);
/// Beyond this many owners the cache starts over rather than grow without bound.
const MAX_ENTRIES: usize = 10_000;

struct Entry {
    visibility: Visibility,
    read_at: Instant,
    epoch: u64,
}

#[derive(Default)]
pub struct OwnerVisibilities {
    entries: Mutex<HashMap<String, Entry>>,
}

/// What a member of every owner may do: read a private one.
const MEMBER: Permission = Permission::ReadOwner(Visibility::Private);

/// Ok when `principal` may read `owner`'s packages. An owner that does not exist counts as
/// private, so an outsider learns nothing from the answer (401 anonymous, 403 otherwise).
pub async fn require_owner_read(
    state: &AppState,
    principal: &Principal,
    owner: &str,
) -> Result<()> {
    if principal.allows(MEMBER) {
        return Ok(());
    }
    let visibility = visibility(state, owner).await?;
    principal.require(Permission::ReadOwner(visibility))
}

/// Whether `principal` reads all of `owner`'s packages: a member, or an outsider the owner's
/// visibility lets in. A `false` leaves the caller to its own rules (e.g. customer grants).
pub async fn reads_whole_owner(
    state: &AppState,
    principal: &Principal,
    owner: &str,
) -> Result<bool> {
    if principal.allows(MEMBER) {
        return Ok(true);
    }
    let visibility = visibility(state, owner).await?;
    Ok(principal.allows(Permission::ReadOwner(visibility)))
}

/// The owner's visibility; `private` for an owner that does not exist.
async fn visibility(state: &AppState, owner: &str) -> Result<Visibility> {
    let key = owner.to_lowercase();
    let epoch = state.registry.db.write_epoch();
    let cache = &state.owner_visibilities;
    let cached = cache
        .entries
        .lock()
        .expect("visibility cache")
        .get(&key)
        .filter(|entry| entry.epoch == epoch && entry.read_at.elapsed() < TTL)
        .map(|entry| entry.visibility);
    if let Some(visibility) = cached {
        return Ok(visibility);
    }
    let mut conn = state.registry.db.pool().acquire().await?;
    let visibility = owners::find_visibility(&mut conn, &key)
        .await?
        .unwrap_or(Visibility::Private);
    let mut entries = cache.entries.lock().expect("visibility cache");
    if entries.len() >= MAX_ENTRIES {
        entries.clear();
    }
    entries.insert(
        key,
        Entry {
            visibility,
            read_at: Instant::now(),
            epoch,
        },
    );
    Ok(visibility)
}
