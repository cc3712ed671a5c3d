//! The Packagist proxy (`PROXY_ENABLED`): a name no private package holds is answered from the
//! upstream's Composer v2 metadata (`PROXY_PACKAGIST_URL`), cached, with each archive URL
//! pointing here (`/dist-proxy/…`), where the archive is fetched once and kept in the blob
//! store. Metadata is served from the cache while fresh (`PROXY_METADATA_TTL`), served and
//! refreshed in the background once stale, and served as cached when the upstream fails; a frozen
//! name is never refreshed. A "time machine" date hides the versions released after it.

mod api;
mod archives;
mod cache;
mod render;
mod routes;
mod time_machine;
mod upstream;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

pub use api::routes as api_routes;
pub use routes::{Metadata, proxied_p2, routes, time_machine_index_date};
pub use time_machine::from_headers as time_machine_header;

/// The owner whose registry files hold the cached archives.
pub const OWNER: &str = "packagist";
/// The format their files are recorded under: apart from the Composer packages, so no Composer
/// document is rendered for them.
pub const FORMAT: &str = "composer-proxy";
/// Upstream failures kept for `GET /api/v1/proxy/alerts`.
const ALERTS_KEPT: usize = 100;
/// How long a document as served is reused without asking the database (as the core's own
/// caches of files and documents are): this process's changes drop it at once, another
/// instance's count within this moment.
const RENDERED_FOR: Duration = Duration::from_secs(1);
/// Beyond this many documents as served, that cache starts over rather than grow.
const RENDERED_KEPT: usize = 10_000;

/// What one server's proxy keeps in memory: the http client, counters, recent failures and the
/// names being refreshed (so a burst of stale reads starts one refresh).
#[derive(Default)]
pub struct Runtime {
    client: std::sync::OnceLock<reqwest::Client>,
    pub stats: Stats,
    alerts: Mutex<VecDeque<Alert>>,
    refreshing: Mutex<HashSet<String>>,
    /// Documents as served (rewritten, cut to a time machine date), by name, document and date.
    rendered: Mutex<HashMap<String, Rendered>>,
}

/// A proxied document as served.
#[derive(Clone)]
pub struct Rendered {
    pub body: bytes::Bytes,
    /// Its ETag.
    pub tag: String,
    /// When the upstream copy it comes from was fetched: its `Last-Modified`.
    pub fetched_at: i64,
    kept_at: Instant,
}

impl Rendered {
    pub fn new(body: bytes::Bytes, fetched_at: i64) -> Rendered {
        Rendered {
            tag: crate::blobs::digest::sha256_hex(&body),
            body,
            fetched_at,
            kept_at: Instant::now(),
        }
    }
}

#[derive(Default, Serialize)]
pub struct Stats {
    /// Metadata answered from the cache.
    pub hits: AtomicU64,
    /// Metadata that had to be fetched before answering.
    pub misses: AtomicU64,
    /// Requests sent upstream (metadata and archives, foreground and background).
    pub upstream_fetches: AtomicU64,
    /// Upstream requests that failed (unreachable, 5xx, bad content).
    pub errors: AtomicU64,
}

/// One upstream failure.
#[derive(Debug, Clone, Serialize)]
pub struct Alert {
    pub at: String,
    pub url: String,
    pub message: String,
}

impl Runtime {
    fn client(&self) -> &reqwest::Client {
        self.client.get_or_init(|| {
            reqwest::Client::builder()
                .connect_timeout(std::time::Duration::from_secs(10))
                .read_timeout(std::time::Duration::from_secs(60))
                .user_agent(concat!("cargoman/", env!("CARGO_PKG_VERSION")))
                .build()
                .unwrap_or_default()
        })
    }

    fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Records an upstream failure: counted, logged and kept for the alerts listing.
    fn alert(&self, url: &str, message: &str) {
        Self::count(&self.stats.errors);
        tracing::warn!(%url, %message, "Packagist proxy: upstream failure");
        let mut alerts = self.alerts.lock().unwrap_or_else(|p| p.into_inner());
        if alerts.len() == ALERTS_KEPT {
            alerts.pop_front();
        }
        alerts.push_back(Alert {
            at: crate::clock::rfc3339(crate::clock::now()),
            url: url.to_string(),
            message: message.to_string(),
        });
    }

    fn alerts(&self) -> Vec<Alert> {
        let alerts = self.alerts.lock().unwrap_or_else(|p| p.into_inner());
        alerts.iter().rev().cloned().collect()
    }

    /// Marks `key` as being refreshed; false when a refresh of it is already running.
    fn start_refresh(&self, key: &str) -> bool {
        let mut set = self.refreshing.lock().unwrap_or_else(|p| p.into_inner());
        set.insert(key.to_string())
    }

    fn end_refresh(&self, key: &str) {
        let mut set = self.refreshing.lock().unwrap_or_else(|p| p.into_inner());
        set.remove(key);
    }

    /// A document as served a moment ago, if nothing here changed since.
    fn rendered(&self, key: &str) -> Option<Rendered> {
        let map = self.rendered.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key)
            .filter(|r| r.kept_at.elapsed() < RENDERED_FOR)
            .cloned()
    }

    fn keep_rendered(&self, key: String, rendered: Rendered) {
        let mut map = self.rendered.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= RENDERED_KEPT {
            map.clear();
        }
        map.insert(key, rendered);
    }

    /// Drops every document as served: the cache, a freeze or a purge changed.
    fn forget_rendered(&self) {
        self.rendered
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

/// The shared runtime, as handlers receive it.
pub type Shared = Arc<Runtime>;

/// A request's handle on the proxy: the runtime, the registry and the settings.
#[derive(Clone)]
pub struct Proxy {
    pub rt: Shared,
    pub registry: crate::registry::Registry,
    pub config: Arc<crate::config::Config>,
}

impl Proxy {
    pub fn new(state: &crate::state::AppState, rt: &Shared) -> Self {
        Proxy {
            rt: rt.clone(),
            registry: state.registry.clone(),
            config: state.config.clone(),
        }
    }

    fn settings(&self) -> &crate::config::ProxyConfig {
        &self.config.proxy
    }
}
