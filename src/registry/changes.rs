//! The one place a format learns that a package changed (a file published or deleted, a version
//! or package deleted, a tag set or removed), so it can re-render its documents: the package's
//! own and the repository's (e.g. pacman's `.db`, which lists every package of the owner). The
//! hook runs after the change committed; a failing render is logged and the change stands (the
//! next change renders again).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use futures_util::future::BoxFuture;

use super::Registry;
use crate::error::{Error, Result};
use crate::model::documents::{self, Document, Scope};
use crate::model::packages::Package;

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
