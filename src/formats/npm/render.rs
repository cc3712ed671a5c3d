//! Re-rendering a package's packuments after any change to it (publish, deprecate, unpublish,
//! tag change): a few reads and one write, so a read later costs no work proportional to the
//! version count. The reads happen in the writing transaction, under the package's row lock, so
//! concurrent changes render one after the other and the last document holds every change.

use std::sync::Arc;

use super::{FORMAT, packument, registry_url};
use crate::error::Result;
use crate::model::documents;
use crate::model::{owners, packages, tags};
use crate::registry::{Change, Registry, RenderHook};

pub fn hook(base_url: String) -> RenderHook {
    let base_url: Arc<str> = base_url.into();
    Arc::new(move |registry, change| {
        let base_url = base_url.clone();
        Box::pin(async move { render(&registry, &base_url, &change).await })
    })
}

async fn render(registry: &Registry, base_url: &str, change: &Change) -> Result<()> {
    let mut tx = registry.db.begin_write().await?;
    let Some(owner) = owners::get(&mut tx, change.owner_id).await? else {
        return Ok(());
    };
    let package = packages::find_package(&mut tx, owner.id, FORMAT, &change.package).await?;
    let Some(package) = package else {
        // Deleted with its documents; only the cache may still hold them.
        registry
            .documents
            .forget_package(&owner.name, FORMAT, &change.package);
        return Ok(());
    };
    packages::lock_package(&mut tx, package.id).await?;
    let versions = packages::all_versions(&mut tx, package.id).await?;
    let tags: Vec<(String, String)> = tags::list(&mut tx, package.id)
        .await?
        .into_iter()
        .map(|t| (t.name, t.version))
        .collect();
    let tarball_base = format!("{}{}/-/", registry_url(base_url, &owner.name), package.name);
    let (full, abbreviated) = packument::render(packument::Package {
        name: &package.name,
        created_at: package.created_at,
        versions,
        tags: &tags,
        tarball_base: &tarball_base,
        modified_at: crate::clock::now(),
    });
    documents::put(&mut tx, package.document_scope(), packument::FULL, &full).await?;
    documents::put(
        &mut tx,
        package.document_scope(),
        packument::ABBREVIATED,
        &abbreviated,
    )
    .await?;
    tx.commit().await?;
    registry
        .documents
        .forget_package(&owner.name, FORMAT, &package.name);
    Ok(())
}
