//! Rendered metadata documents kept in memory for a short while: the Composer `p2` files are the
//! hottest reads of a registry and change only when a package is synced. An entry lives at most
//! `TTL` (so instances behind a load balancer see each other's changes within that time) and is
//! dropped at once when this instance re-renders or deletes the package.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::db::Db;
use crate::error::Result;
use crate::model::documents;
use crate::model::{owners, packages};

const TTL: Duration = Duration::from_secs(2);
/// Beyond this many entries the cache starts over rather than grow without bound.
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug)]
pub struct CachedDocument {
    pub package_id: i64,
    pub body: Bytes,
    /// The body's SHA-256 (lower-case hex): its ETag.
    pub sha256: String,
    pub updated_at: i64,
}

struct Entry {
    /// `None`: known not to exist (a miss is cached too).
    document: Option<Arc<CachedDocument>>,
    loaded: Instant,
}

#[derive(Clone, Default)]
pub struct DocumentCache {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
}

fn key(owner: &str, format: &str, package: &str, name: &str) -> String {
    format!(
        "{}\0{format}\0{}\0{name}",
        owner.to_lowercase(),
        package.to_lowercase()
    )
}

impl DocumentCache {
    /// The document `name` of a package, from memory when fresh, else from the database.
    pub async fn get(
        &self,
        db: &Db,
        owner: &str,
        format: &str,
        package: &str,
        name: &str,
    ) -> Result<Option<Arc<CachedDocument>>> {
        let key = key(owner, format, package, name);
        if let Some(entry) = self.entries.lock().expect("document cache").get(&key)
            && entry.loaded.elapsed() < TTL
        {
            return Ok(entry.document.clone());
        }
        let document = load(db, owner, format, package, name).await?.map(Arc::new);
        let mut entries = self.entries.lock().expect("document cache");
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                document: document.clone(),
                loaded: Instant::now(),
            },
        );
        Ok(document)
    }

    /// Forgets the cached documents of a deleted package.
    pub fn forget_package_id(&self, package_id: i64) {
        self.entries.lock().expect("document cache").retain(|_, e| {
            e.document
                .as_ref()
                .is_none_or(|d| d.package_id != package_id)
        });
    }

    /// Forgets every cached document of a package by name, misses included (after a render).
    pub fn forget_package(&self, owner: &str, format: &str, package: &str) {
        let prefix = key(owner, format, package, "");
        self.entries
            .lock()
            .expect("document cache")
            .retain(|k, _| !k.starts_with(&prefix));
    }
}

async fn load(
    db: &Db,
    owner: &str,
    format: &str,
    package: &str,
    name: &str,
) -> Result<Option<CachedDocument>> {
    let mut conn = db.pool().acquire().await?;
    let Some(owner) = owners::find(&mut conn, owner).await? else {
        return Ok(None);
    };
    let Some(package) = packages::find_package(&mut conn, owner.id, format, package).await? else {
        return Ok(None);
    };
    Ok(documents::get(&mut conn, package.document_scope(), name)
        .await?
        .map(|d| CachedDocument {
            package_id: package.id,
            body: Bytes::from(d.body),
            sha256: d.sha256,
            updated_at: d.updated_at,
        }))
}
