//! The owner-aware read check every format's read goes through: members (team tokens) read every
//! owner without a lookup; anyone else needs the owner's visibility, which is kept in memory for a
//! moment so an anonymous download of a public file stays free of database round trips (see
//! `db::recent`: a visibility change made here counts at once, one made on another instance
//! within `TTL`).

use std::time::Duration;

use crate::auth::{Permission, Principal, Visibility};
use crate::db::recent::Recent;
use crate::error::Result;
use crate::model::owners;
use crate::state::AppState;

const TTL: Duration = Duration::from_secs(1);

/// Owners' visibilities read a moment ago (see `db::recent`), by lower-case owner name.
pub struct OwnerVisibilities(Recent<Visibility>);

impl Default for OwnerVisibilities {
    fn default() -> Self {
        OwnerVisibilities(Recent::new(TTL))
    }
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
    let cache = &state.owner_visibilities.0;
    if let Some(visibility) = cache.get(&key, epoch) {
        return Ok(visibility);
    }
    let mut conn = state.registry.db.pool().acquire().await?;
    let visibility = owners::find_visibility(&mut conn, &key)
        .await?
        .unwrap_or(Visibility::Private);
    cache.insert(key, visibility, epoch);
    Ok(visibility)
}
