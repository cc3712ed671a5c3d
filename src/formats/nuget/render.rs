//! Re-rendering a package's documents after any change to it (push, delete): the registration
//! index (inline, or with its pages as documents of their own), the flat container's version
//! list and the search entry. A few reads and writes per change, so a read later costs no work
//! proportional to the version count. The reads happen in the writing transaction, under the
//! package's row lock, so concurrent changes render one after the other.

use std::sync::Arc;

use super::feed::{self, Entry, Stored, Urls};
use crate::error::{Error, Result};
use crate::model::documents;
use crate::model::packages::Version;
use crate::registry::{Change, Registry, RenderHook};

pub fn hook(base_url: String) -> RenderHook {
    let base_url: Arc<str> = base_url.into();
    Arc::new(move |registry, change| {
        let base_url = base_url.clone();
        Box::pin(async move { render(&registry, &base_url, &change).await })
    })
}

/// A stored version as the documents show it.
pub fn entry(version: &Version) -> Result<Entry> {
    let stored: Stored = serde_json::from_value(version.metadata.clone()).map_err(|e| {
        Error::internal(format!(
            "version {} has no NuGet metadata: {e}",
            version.version
        ))
    })?;
    Ok(Entry {
        version: version.version.clone(),
        stored,
        published: version.created_at,
        downloads: version.download_count,
    })
}

async fn render(registry: &Registry, base_url: &str, change: &Change) -> Result<()> {
    let Some(mut r) = registry.open_render(change).await? else {
        return Ok(());
    };
    let mut entries = r.versions.iter().map(entry).collect::<Result<Vec<_>>>()?;
    feed::sort(&mut entries);
    let urls = Urls::new(base_url, &r.owner.name);
    let id = &r.package.name;
    let scope = r.package.document_scope();
    let stored = documents::get(&mut r.tx, scope, feed::REGISTRATION)
        .await?
        .map(|doc| feed::fingerprints(&doc.body))
        .unwrap_or_default();
    let unchanged = |n: usize, print: &str| stored.get(n).and_then(Option::as_deref) == Some(print);
    let (index, pages) = feed::registration(&urls, id, &entries, &unchanged);
    let json = |v: &serde_json::Value| v.to_string().into_bytes();
    documents::put(&mut r.tx, scope, feed::REGISTRATION, &json(&index)).await?;
    // Pages past the current count may stay from a larger past; the index no longer names them
    // and reads refuse them.
    for (n, page) in &pages {
        documents::put(&mut r.tx, scope, &feed::page_document(*n), &json(page)).await?;
    }
    let flat = json(&feed::flat_versions(&entries));
    documents::put(&mut r.tx, scope, feed::FLAT_VERSIONS, &flat).await?;
    let search = json(&feed::search_entry(&urls, id, &entries));
    documents::put(&mut r.tx, scope, feed::SEARCH, &search).await?;
    registry.finish_render(r).await
}
