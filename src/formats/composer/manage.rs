//! Adding Git packages: shared by the API (`POST /api/v1/packages`) and the CLI.

use serde_json::Value;

use super::{Composer, FORMAT, OWNER, names};
use crate::error::{Error, Result};
use crate::git::{self, Reach, RefKind};
use crate::model::packages::{self, Package};
use crate::model::{git_sources, owners};

const PROVIDERS: &[&str] = &["github", "gitlab", "bitbucket", "git"];

fn guess_provider(url: &str) -> &'static str {
    let host = git_sources::match_url(url);
    if host.starts_with("github.com/") {
        "github"
    } else if host.starts_with("gitlab.com/") {
        "gitlab"
    } else if host.starts_with("bitbucket.org/") {
        "bitbucket"
    } else {
        "git"
    }
}

impl Composer {
    /// Registers a package synced from `url`. Without `name`, the name is read from composer.json
    /// on the default branch. The first sync is left to the caller (queued or run inline).
    pub async fn add(
        &self,
        name: Option<String>,
        url: &str,
        provider: Option<&str>,
        monorepo_glob: Option<&str>,
    ) -> Result<Package> {
        if let Some(glob) = monorepo_glob {
            super::monorepo::check_glob(glob)?;
        }
        let url = url.trim();
        if url.is_empty() {
            return Err(Error::invalid("repository_url is required"));
        }
        // Refused now rather than by the first sync, with the reason.
        git::check_url(url, Reach::from_setting(self.config.git.allow_local))
            .map_err(|e| Error::invalid(e.to_string()))?;
        let provider = match provider {
            None => guess_provider(url),
            Some(p) => PROVIDERS
                .iter()
                .copied()
                .find(|known| *known == p)
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "type must be one of github, gitlab, bitbucket, git; got {p:?}"
                    ))
                })?,
        };
        let name = match name {
            Some(name) => name,
            None => self.name_from_repository(url).await?,
        };
        names::split_name(&name)?;
        let mut tx = self.registry.db.begin_write().await?;
        let owner = owners::find_or_create(&mut tx, OWNER).await?;
        if packages::find_package(&mut tx, owner.id, FORMAT, &name)
            .await?
            .is_some()
        {
            return Err(Error::conflict(format!("package {name} already exists")));
        }
        let package = packages::find_or_create_package(&mut tx, owner.id, FORMAT, &name).await?;
        let layout = git_sources::Layout {
            monorepo_glob,
            ..Default::default()
        };
        git_sources::insert(&mut tx, package.id, url, provider, layout).await?;
        tx.commit().await?;
        Ok(package)
    }

    /// Reads `name` from composer.json on the repository's default branch (else main, master, the first).
    async fn name_from_repository(&self, url: &str) -> Result<String> {
        let remotes = self.remotes();
        let url = url.to_string();
        tokio::task::spawn_blocking(move || {
            let mirror = remotes
                .fetch(&url)
                .map_err(|e| Error::invalid(format!("cannot read the repository: {e}")))?;
            let refs = mirror.refs().map_err(Error::internal)?;
            let branches: Vec<_> = refs.iter().filter(|r| r.kind == RefKind::Branch).collect();
            let default = mirror.default_branch().map_err(Error::internal)?;
            let head = default
                .iter()
                .chain(["main".to_string(), "master".to_string()].iter())
                .find_map(|b| branches.iter().find(|r| &r.name == b))
                .or(branches.first())
                .ok_or_else(|| {
                    Error::invalid("the repository has no branch to read composer.json from")
                })?;
            let raw = mirror
                .read_file(&head.commit, "composer.json")
                .map_err(Error::internal)?
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "no composer.json on branch {}; give \"name\"",
                        head.name
                    ))
                })?;
            let json: Value = serde_json::from_slice(&raw)
                .map_err(|e| Error::invalid(format!("composer.json is not valid JSON: {e}")))?;
            json["name"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| Error::invalid("composer.json has no \"name\"; give \"name\""))
        })
        .await
        .map_err(Error::internal)?
    }

    /// A package as the API shows it: seed 000's fields plus versions, sync state and skipped refs.
    pub async fn describe(&self, package: &Package) -> Result<Value> {
        let mut conn = self.registry.db.pool().acquire().await?;
        let source = git_sources::get(&mut conn, package.id).await?;
        let mut versions = packages::all_versions(&mut conn, package.id).await?;
        sort_newest_first(&mut versions);
        let latest = versions.iter().find(|v| is_release(v));
        Ok(serde_json::json!({
            "id": package.id,
            "name": package.name,
            "description": latest.and_then(|v| v.metadata.get("description")).cloned(),
            "repository_url": source.as_ref().map(|s| s.repository_url.clone()),
            "type": source.as_ref().map(|s| s.provider.clone()),
            "versions": versions.iter().map(|v| v.version.clone()).collect::<Vec<_>>(),
            "latest_version": latest.map(|v| v.version.clone()),
            "synced_at": source.as_ref().and_then(|s| s.synced_at).map(crate::clock::rfc3339),
            "sync_error": source.as_ref().and_then(|s| s.sync_error.clone()),
            "skipped": source.as_ref().map(|s| s.skipped.clone()),
            "monorepo": source.as_ref().and_then(|s| s.monorepo_glob.clone()),
            "path": source.as_ref().and_then(|s| s.subdir.clone()),
            "created_at": crate::clock::rfc3339(package.created_at),
        }))
    }

    /// Every package of the registry, described, by name.
    pub async fn describe_all(&self) -> Result<Vec<Value>> {
        let names = {
            let mut conn = self.registry.db.pool().acquire().await?;
            match owners::find(&mut conn, OWNER).await? {
                Some(owner) => packages::package_names(&mut conn, owner.id, FORMAT).await?,
                None => Vec::new(),
            }
        };
        let mut all = Vec::new();
        for name in names {
            all.push(self.describe(&self.find_existing(&name).await?).await?);
        }
        Ok(all)
    }

    pub async fn find_existing(&self, name: &str) -> Result<Package> {
        self.find(name)
            .await?
            .ok_or_else(|| Error::not_found(format!("package {name} not found")))
    }
}

/// Versions by Composer's order of normalized versions, newest first.
pub fn sort_newest_first(versions: &mut [packages::Version]) {
    let normalized = |v: &packages::Version| {
        v.metadata["version_normalized"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    versions.sort_by(|a, b| super::version::compare_normalized(&normalized(b), &normalized(a)));
}

/// A tagged release, not a `dev-` branch version.
pub fn is_release(version: &packages::Version) -> bool {
    version
        .metadata
        .as_object()
        .is_some_and(|m| !super::metadata::is_dev(m))
}
