//! Format-specific garbage collection, run by `maintenance::gc` (hence by `cargoman gc` and the
//! `cleanup` task) before it removes unused blobs: a format registers a collector that releases
//! what its own rules say is garbage (OCI: layers no manifest names), and the blobs it released
//! go in the same run once nothing else holds them.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use futures_util::future::BoxFuture;

use super::Registry;
use crate::error::Result;
use crate::model::blob_refs;

/// Releases a format's garbage older than the cutoff (unix seconds); returns how many items.
pub type Collector = Arc<dyn Fn(Registry, i64) -> BoxFuture<'static, Result<usize>> + Send + Sync>;

/// The collectors by format.
#[derive(Clone, Default)]
pub(super) struct Collectors(Arc<RwLock<BTreeMap<String, Collector>>>);

impl Registry {
    /// Makes `maintenance::gc` run `collector` for `format` (one per format).
    pub fn on_gc(&self, format: &str, collector: Collector) {
        self.collectors
            .0
            .write()
            .expect("collectors")
            .insert(format.to_string(), collector);
    }

    /// Runs every registered collector; how many items each released, by format.
    pub async fn collect_garbage(&self, cutoff: i64) -> Result<BTreeMap<String, usize>> {
        let collectors: Vec<(String, Collector)> = self
            .collectors
            .0
            .read()
            .expect("collectors")
            .iter()
            .map(|(format, c)| (format.clone(), c.clone()))
            .collect();
        let mut released = BTreeMap::new();
        for (format, collector) in collectors {
            released.insert(format, collector(self.clone(), cutoff).await?);
        }
        Ok(released)
    }

    /// Releases the holds packages of `format` took on blobs before `cutoff` that none of their
    /// versions hold (`blob_refs::release_unversioned`); returns how many went. The blobs
    /// nothing else holds go in `gc`'s own pass, which counts them.
    pub async fn release_unversioned_holds(&self, format: &str, cutoff: i64) -> Result<usize> {
        let mut tx = self.db.begin_write().await?;
        let released = blob_refs::release_unversioned(&mut tx, format, cutoff).await?;
        tx.commit().await?;
        Ok(released as usize)
    }
}
