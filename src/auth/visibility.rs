//! Owners' visibilities as reads check them, kept in memory for a moment.

use std::time::Duration;

use crate::db::recent::Recent;
pub use crate::model::visibility::Visibility;

/// Owners' visibilities read a moment ago (see `db::recent`: a change made on this instance
/// counts at once, one made on another within `TTL`), by lower-case owner name, so an anonymous
/// download of a public file needs no database round trip (`http::owner_access`).
pub struct OwnerVisibilities(Recent<Visibility>);

const TTL: Duration = Duration::from_secs(1);

impl Default for OwnerVisibilities {
    fn default() -> Self {
        OwnerVisibilities(Recent::new(TTL))
    }
}

impl std::ops::Deref for OwnerVisibilities {
    type Target = Recent<Visibility>;

    fn deref(&self) -> &Recent<Visibility> {
        &self.0
    }
}
