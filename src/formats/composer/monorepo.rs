//! Monorepos: one repository holding several Composer packages, found by a glob such as
//! `packages/*/composer.json`. Each package found becomes a package of its own (same repository,
//! its folder as `subdir`), synced with the monorepo, versioned by the repository's tags.

use serde::Serialize;
use serde_json::Value;

use super::sync::{Skipped, SyncReport};
use super::{Composer, FORMAT, OWNER, names};
use crate::error::{Error, Result};
use crate::git::RefKind;
use crate::glob::glob_matches;
use crate::model::git_sources::{self, Layout};
use crate::model::{owners, packages};

/// A glob is usable when it names composer.json files and stays inside the repository.
pub fn check_glob(glob: &str) -> Result<()> {
    let ok = glob.ends_with("/composer.json")
        && !glob.starts_with('/')
        && glob
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..");
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "monorepo glob {glob:?} must be a relative path ending in /composer.json, e.g. packages/*/composer.json"
        )))
    }
}

/// A package found in the monorepo's default branch.
struct Found {
    name: String,
    folder: String,
}

#[derive(Debug, Default, Serialize)]
pub struct MonorepoReport {
    /// The monorepo package's own versions (from the root composer.json, if any).
    pub root: SyncReport,
    pub children: Vec<ChildReport>,
    /// composer.json files the glob found that give no package.
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Serialize)]
pub struct ChildReport {
    pub name: String,
    pub path: String,
    pub sync: Option<SyncReport>,
    pub error: Option<String>,
}

impl Composer {
    /// Syncs a package, or a monorepo with all its packages; the report as JSON (task result).
    pub async fn sync_task(&self, package_id: i64) -> Result<Value> {
        let glob = {
            let mut conn = self.registry.db.pool().acquire().await?;
            git_sources::get(&mut conn, package_id)
                .await?
                .and_then(|s| s.monorepo_glob)
        };
        let report = match glob {
            Some(glob) => serde_json::to_value(self.sync_monorepo(package_id, &glob).await?),
            None => serde_json::to_value(self.sync(package_id).await?),
        };
        report.map_err(Error::internal)
    }

    /// Reads the glob's composer.json files on the default branch (blocking git work).
    async fn find_children(&self, url: &str, glob: &str) -> Result<(Vec<Found>, Vec<Skipped>)> {
        let remotes = self.remotes();
        let (url, glob) = (url.to_string(), glob.to_string());
        tokio::task::spawn_blocking(move || {
            let mirror = remotes.fetch(&url)?;
            let refs = mirror.refs().map_err(Error::internal)?;
            let default = mirror.default_branch().map_err(Error::internal)?;
            let head = refs
                .iter()
                .filter(|r| r.kind == RefKind::Branch)
                .find(|r| default.as_deref() == Some(r.name.as_str()))
                .or_else(|| refs.iter().find(|r| r.kind == RefKind::Branch))
                .ok_or_else(|| Error::invalid("the repository has no branch"))?;
            let mut found = Vec::new();
            let mut skipped = Vec::new();
            for path in mirror.list_paths(&head.commit).map_err(Error::internal)? {
                if !glob_matches(&glob, &path) {
                    continue;
                }
                let folder = path
                    .trim_end_matches("composer.json")
                    .trim_end_matches('/')
                    .to_string();
                let raw = mirror
                    .read_file(&head.commit, &path)
                    .map_err(Error::internal)?
                    .unwrap_or_default();
                let name = serde_json::from_slice::<Value>(&raw)
                    .ok()
                    .and_then(|v| v["name"].as_str().map(str::to_string));
                match name {
                    Some(name) if names::split_name(&name).is_ok() => {
                        found.push(Found { name, folder })
                    }
                    _ => skipped.push(Skipped {
                        reference: path,
                        reason: "no valid package name in this composer.json".into(),
                    }),
                }
            }
            Ok((found, skipped))
        })
        .await
        .map_err(Error::internal)?
    }

    /// Syncs a monorepo: its own versions, then every package its glob finds (created on first
    /// sight), one after the other so they share one mirror.
    pub async fn sync_monorepo(&self, package_id: i64, glob: &str) -> Result<MonorepoReport> {
        let root = self.sync(package_id).await?;
        let source = {
            let mut conn = self.registry.db.pool().acquire().await?;
            git_sources::get(&mut conn, package_id)
                .await?
                .ok_or_else(|| Error::not_found("monorepo source vanished"))?
        };
        let (found, mut skipped) = self.find_children(&source.repository_url, glob).await?;
        let mut children = Vec::new();
        for child in found {
            let id = match self.child_package(package_id, &source, &child).await {
                Ok(id) => id,
                Err(e) => {
                    skipped.push(Skipped {
                        reference: format!("{}/composer.json", child.folder),
                        reason: e.to_string(),
                    });
                    continue;
                }
            };
            let outcome = self.sync(id).await;
            children.push(ChildReport {
                name: child.name,
                path: child.folder,
                error: outcome.as_ref().err().map(|e| e.to_string()),
                sync: outcome.ok(),
            });
        }
        Ok(MonorepoReport {
            root,
            children,
            skipped,
        })
    }

    /// The child package for a found folder, created when new; a same-named package that does
    /// not belong to this monorepo is left alone.
    async fn child_package(
        &self,
        parent_id: i64,
        parent: &git_sources::GitSource,
        child: &Found,
    ) -> Result<i64> {
        let mut tx = self.registry.db.begin_write().await?;
        let owner = owners::find_or_create(&mut tx, OWNER).await?;
        if let Some(existing) =
            packages::find_package(&mut tx, owner.id, FORMAT, &child.name).await?
        {
            let source = git_sources::get(&mut tx, existing.id).await?;
            return match source {
                Some(s) if s.parent_package_id == Some(parent_id) => Ok(existing.id),
                _ => Err(Error::conflict(format!(
                    "package {} already exists outside this monorepo",
                    child.name
                ))),
            };
        }
        let package =
            packages::find_or_create_package(&mut tx, owner.id, FORMAT, &child.name).await?;
        git_sources::insert(
            &mut tx,
            package.id,
            &parent.repository_url,
            &parent.provider,
            Layout {
                subdir: Some(&child.folder),
                monorepo_glob: None,
                parent_package_id: Some(parent_id),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(package.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_checks() {
        check_glob("packages/*/composer.json").unwrap();
        for bad in [
            "packages/*",
            "/abs/composer.json",
            "../x/composer.json",
            "a//composer.json",
        ] {
            assert!(check_glob(bad).is_err(), "{bad}");
        }
    }
}
