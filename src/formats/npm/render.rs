//! Re-rendering a package's packuments after any change to it (publish, deprecate, unpublish,
//! tag change): a few reads and one write, so a read later costs no work proportional to the
//! version count. The reads happen in the writing transaction, under the package's row lock, so
//! concurrent changes render one after the other and the last document holds every change.

use std::sync::Arc;

use super::{packument, registry_url};
use crate::error::Result;
use crate::model::documents;
use crate::model::tags;
use crate::registry::{Change, Registry, RenderHook};

pub fn hook(base_url: String) -> RenderHook {
    let base_url: Arc<str> = base_url.into();
    Arc::new(move |registry, change| {
        let base_url = base_url.clone();
        Box::pin(async move { render(&registry, &base_url, &change).await })
    })
}

async fn render(registry: &Registry, base_url: &str, change: &Change) -> Result<()> {
    let Some(mut r) = registry.open_render(change).await? else {
        return Ok(());
    };
    let tags: Vec<(String, String)> = tags::list(&mut r.tx, r.package.id)
        .await?
        .into_iter()
        .map(|t| (t.name, t.version))
        .collect();
    let tarball_base = format!(
        "{}{}/-/",
        registry_url(base_url, &r.owner.name),
        r.package.name
    );
    let (full, abbreviated) = packument::render(packument::Package {
        name: &r.package.name,
        created_at: r.package.created_at,
        versions: std::mem::take(&mut r.versions),
        tags: &tags,
        tarball_base: &tarball_base,
        modified_at: crate::clock::now(),
    });
    let scope = r.package.document_scope();
    documents::put(&mut r.tx, scope, packument::FULL, &full).await?;
    documents::put(&mut r.tx, scope, packument::ABBREVIATED, &abbreviated).await?;
    registry.finish_render(r).await
}
