//! The owner-aware read check every format's read goes through: members (team tokens) read every
//! owner without a lookup; anyone else needs the owner's visibility, which is kept in memory for a
//! moment so an anonymous download of a public file stays free of database round trips
//! (`auth::OwnerVisibilities`).

use crate::auth::{Permission, Principal, Visibility};
use crate::error::{Error, Result};
use crate::model::owners;
use crate::state::AppState;

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

/// What `principal` sees of `owner`'s packages of `format`, once it may read packages at all:
/// everything when the owner's visibility lets it read the owner whole (a member, anyone for a
/// public owner, any authenticated reader for a limited one), else its customer grants.
pub async fn repository_view(
    state: &AppState,
    principal: &Principal,
    owner: &str,
    format: &str,
) -> Result<crate::customers::View> {
    if reads_whole_owner(state, principal, owner).await? {
        return Ok(crate::customers::View::All);
    }
    principal.require(Permission::ReadGranted)?;
    state
        .access
        .view(&state.registry.db, principal, &owner.to_lowercase(), format)
        .await
}

/// A package being read, for `require_package_read`.
#[derive(Debug, Clone, Copy)]
pub struct PackageRead<'a> {
    pub owner: &'a str,
    pub format: &'a str,
    pub package: &'a str,
    pub version: &'a str,
}

/// Ok when `principal` may read one version of a package: a member, a reader the owner's
/// visibility lets in, or a customer token whose grants (and package scopes) hold the package
/// and version. A customer gets 403 naming which of the two its grants lack; anyone else gets
/// the owner's refusal.
pub async fn require_package_read(
    state: &AppState,
    principal: &Principal,
    read: PackageRead<'_>,
) -> Result<()> {
    check_package_read(state, principal, read, true).await
}

/// `require_package_read` without the version: for reads by content address (an OCI blob or
/// manifest by digest), which name no version a grant's constraint could match. A customer
/// needs the package granted, any constraint; a digest is only known to whoever was shown it.
pub async fn require_package_content_read(
    state: &AppState,
    principal: &Principal,
    read: PackageRead<'_>,
) -> Result<()> {
    check_package_read(state, principal, read, false).await
}

async fn check_package_read(
    state: &AppState,
    principal: &Principal,
    read: PackageRead<'_>,
    check_version: bool,
) -> Result<()> {
    if reads_whole_owner(state, principal, read.owner).await? {
        return Ok(());
    }
    let Principal::Customer(_) = principal else {
        return require_owner_read(state, principal, read.owner).await;
    };
    principal.require(Permission::ReadGranted)?;
    let owner = read.owner.to_lowercase();
    let view = state
        .access
        .view(&state.registry.db, principal, &owner, read.format)
        .await?;
    if !view.allows_package(read.package) {
        return Err(Error::Forbidden(format!(
            "access denied to {}: not among your granted packages",
            read.package
        )));
    }
    if check_version && !view.allows_version(read.package, read.version) {
        return Err(Error::Forbidden(format!(
            "access denied to {} {}: not within your grants",
            read.package, read.version
        )));
    }
    Ok(())
}

/// The owner's visibility; `private` for an owner that does not exist.
async fn visibility(state: &AppState, owner: &str) -> Result<Visibility> {
    let key = owner.to_lowercase();
    let epoch = state.registry.db.write_epoch();
    let cache = &state.owner_visibilities;
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
