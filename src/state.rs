//! What every request handler shares: settings, the registry, authentication, the task queue and
//! customer access, built once by `app` and handed to the router.

use std::sync::Arc;

use crate::auth::Authenticator;
use crate::config::Config;
use crate::registry::Registry;
use crate::tasks::Queue;

/// What every handler shares, behind one `Arc`: axum clones the state for each request (and each
/// layer that takes it), and one reference count is far cheaper than one per field, whose
/// atomic updates from both cores showed in profiles of small reads.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub config: Arc<Config>,
    pub registry: Registry,
    pub auth: Arc<Authenticator>,
    pub tasks: Queue,
    /// What each customer may see, and documents filtered for them.
    pub access: Arc<crate::customers::AccessCache>,
    /// Owners' visibilities, read by `http::owner_access` for callers who are not members.
    pub owner_visibilities: crate::auth::OwnerVisibilities,
    /// What the registered formats add to answers that hand out a customer token.
    pub client_setups: Arc<[crate::customers::ClientSetup]>,
    /// The formats' own administration path prefixes, audited like `/api/v1`.
    pub audited_prefixes: Arc<[&'static str]>,
    /// First path segments some route takes at the root (the core's and every format's), lower
    /// case: never a name a format takes from the first segment.
    pub reserved_roots: Arc<[&'static str]>,
    /// The OSV ecosystems the registered formats serve, for matching security advisories.
    pub ecosystems: Arc<[Arc<dyn crate::advisories::Ecosystem>]>,
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
