//! The one place a format learns that a package changed (a file published or deleted, a version
//! or package deleted, a tag set or removed), so it can re-render its documents: the package's
//! own and the repository's (e.g. pacman's `.db`, which lists every package of the owner). The
//! hook runs after the change committed; a failing render is logged and the change stands (the
//! next change renders again).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use futures_util::future::BoxFuture;

use super::Registry;
use crate::db::WriteTx;
use crate::error::{Error, Result};
use crate::model::documents::{self, Document, Scope};
use crate::model::owners::{self, Owner};
use crate::model::packages::{self, Package, Version};

/// A package that changed. The package itself may be gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub owner_id: i64,
    pub format: String,
    pub package: String,
}

impl From<&Package> for Change {
    fn from(p: &Package) -> Self {
        Change {
            owner_id: p.owner_id,
            format: p.format.clone(),
            package: p.name.clone(),
        }
    }
}

/// Re-renders what a change touches.
pub type RenderHook = Arc<dyn Fn(Registry, Change) -> BoxFuture<'static, Result<()>> + Send + Sync>;

/// A changed package opened to re-render its documents (`Registry::open_render`): the write
/// transaction that holds the package's lock, in which the render reads and writes, and what it
/// renders from. `Registry::finish_render` commits it.
pub struct Rendering {
    pub tx: WriteTx,
    pub owner: Owner,
    pub package: Package,
    /// Every version of the package, read under its lock.
    pub versions: Vec<Version>,
}

/// The hooks by format.
#[derive(Clone, Default)]
pub(super) struct Hooks(Arc<RwLock<HashMap<String, RenderHook>>>);

impl Registry {
    /// Makes `hook` run after every change to a package of `format` (one hook per format; a
    /// second registration replaces the first). `App` registers each format's `render_hook`.
    pub fn on_change(&self, format: &str, hook: RenderHook) {
        self.hooks
            .0
            .write()
            .expect("render hooks")
            .insert(format.to_string(), hook);
    }

    /// Opens `change` for a render, its package locked so that concurrent changes render one
    /// after the other; `None` when the owner or the package is gone (the package's documents
    /// went with it; those this process cached are forgotten here).
    pub async fn open_render(&self, change: &Change) -> Result<Option<Rendering>> {
        let mut tx = self.db.begin_write().await?;
        let Some(owner) = owners::get(&mut tx, change.owner_id).await? else {
            return Ok(None);
        };
        let found =
            packages::find_package(&mut tx, owner.id, &change.format, &change.package).await?;
        let Some(package) = found else {
            self.documents
                .forget_package(&owner.name, &change.format, &change.package);
            return Ok(None);
        };
        packages::lock_package(&mut tx, package.id).await?;
        let versions = packages::all_versions(&mut tx, package.id).await?;
        Ok(Some(Rendering {
            tx,
            owner,
            package,
            versions,
        }))
    }

    /// Commits a render and drops the package's documents this process cached, so the next read
    /// serves the new ones.
    pub async fn finish_render(&self, rendering: Rendering) -> Result<()> {
        rendering.tx.commit().await?;
        let Rendering { owner, package, .. } = rendering;
        self.documents
            .forget_package(&owner.name, &package.format, &package.name);
        Ok(())
    }

    /// Runs the hook of each change's format, once per distinct change.
    pub(super) async fn changed(&self, changes: impl IntoIterator<Item = Change>) {
        let mut seen = Vec::new();
        for change in changes {
            if seen.contains(&change) {
                continue;
            }
            seen.push(change.clone());
            let hook = self
                .hooks
                .0
                .read()
                .expect("render hooks")
                .get(&change.format)
                .cloned();
            if let Some(hook) = hook
                && let Err(e) = hook(self.clone(), change.clone()).await
            {
                tracing::warn!(format = %change.format, package = %change.package, error = %e,
                    "could not re-render documents after a change");
            }
        }
    }

    /// Stores a rendered repository document (text or binary).
    pub async fn put_repository_document(
        &self,
        owner_id: i64,
        format: &str,
        name: &str,
        body: &[u8],
    ) -> Result<()> {
        let mut tx = self.db.begin_write().await?;
        documents::put(&mut tx, Scope::repository(owner_id, format), name, body).await?;
        tx.commit().await
    }

    /// A repository document; not found when none was rendered.
    pub async fn repository_document(
        &self,
        owner_id: i64,
        format: &str,
        name: &str,
    ) -> Result<Document> {
        let mut conn = self.db.pool().acquire().await?;
        documents::get(&mut conn, Scope::repository(owner_id, format), name)
            .await?
            .ok_or_else(|| Error::not_found(format!("document {name} not found")))
    }
}
