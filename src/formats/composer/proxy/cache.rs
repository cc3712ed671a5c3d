//! Upstream metadata through the cache: fresh within `PROXY_METADATA_TTL`, then served stale
//! while one background refresh runs (a failed refresh keeps the cached copy: the upstream being
//! down never takes the package away), never refreshed while frozen; a package the upstream
//! drops (404 on refresh) is dropped here too.

use super::{Proxy, Runtime, upstream};
use crate::error::Result;
use crate::model::proxy_cache;

/// A metadata document as the cache holds it.
pub struct Served {
    /// The upstream's document as fetched.
    pub body: String,
    pub fetched_at: i64,
    /// Older than the TTL (and not frozen): a refresh is under way.
    pub stale: bool,
}

impl Proxy {
    /// `document` (`p2` or `p2~dev`) of `name`, from the cache or else from the upstream; None
    /// when the upstream does not know it.
    pub async fn document(&self, name: &str, document: &str) -> Result<Option<Served>> {
        let (cached, frozen) = {
            let mut conn = self.registry.db.pool().acquire().await?;
            (
                proxy_cache::document(&mut conn, name, document).await?,
                proxy_cache::is_frozen(&mut conn, name).await?,
            )
        };
        if let Some(cached) = cached {
            Runtime::count(&self.rt.stats.hits);
            let age = crate::clock::now() - cached.fetched_at;
            let stale = !frozen && age >= self.settings().metadata_ttl.as_secs() as i64;
            if stale {
                self.refresh_in_background(name, document);
            }
            return Ok(Some(Served {
                body: cached.body,
                fetched_at: cached.fetched_at,
                stale,
            }));
        }
        Runtime::count(&self.rt.stats.misses);
        let Some(body) =
            upstream::metadata(&self.rt, &self.settings().upstream, name, document).await?
        else {
            return Ok(None);
        };
        let fetched_at = crate::clock::now();
        self.store(name, document, &body, fetched_at).await?;
        Ok(Some(Served {
            body,
            fetched_at,
            stale: false,
        }))
    }

    async fn store(&self, name: &str, document: &str, body: &str, at: i64) -> Result<()> {
        let mut tx = self.registry.db.begin_write().await?;
        proxy_cache::put_document(&mut tx, name, document, body, at).await?;
        tx.commit().await?;
        self.rt.forget_rendered();
        Ok(())
    }

    /// Starts one refresh of a stale document unless one is running.
    fn refresh_in_background(&self, name: &str, document: &str) {
        let key = format!("{name}\n{document}");
        if !self.rt.start_refresh(&key) {
            return;
        }
        let (proxy, name, document) = (self.clone(), name.to_string(), document.to_string());
        tokio::spawn(async move {
            if let Err(e) = proxy.refresh(&name, &document).await {
                tracing::warn!(%name, %document, error = %e, "Packagist proxy: refresh failed, the cached copy stays");
            }
            proxy.rt.end_refresh(&key);
        });
    }

    async fn refresh(&self, name: &str, document: &str) -> Result<()> {
        let fetched =
            upstream::metadata(&self.rt, &self.settings().upstream, name, document).await?;
        let mut tx = self.registry.db.begin_write().await?;
        // Frozen since the refresh began: the cached copy stays as it is.
        if proxy_cache::is_frozen(&mut tx, name).await? {
            return Ok(());
        }
        match fetched {
            Some(body) => {
                proxy_cache::put_document(&mut tx, name, document, &body, crate::clock::now())
                    .await?
            }
            None => proxy_cache::delete_document(&mut tx, name, document).await?,
        }
        tx.commit().await?;
        self.rt.forget_rendered();
        Ok(())
    }
}
