//! Git repositories read in-process: mirrors, refs, files at a commit, reproducible zips.
//!
//! Everything here is blocking (gix is); async callers go through `tokio::task::spawn_blocking`.
//! No `git` binary is run: http(s):// and git:// go through gix's network client (HTTP via the
//! reqwest + rustls stack the crate already builds for object_store), and local repositories
//! (`file://` or a plain path) are mirrored by copying their objects and refs directly, because gix's
//! own file transport would spawn `git-upload-pack`.
//!
//! A [`Mirror`] is a bare repository under the cache root whose `refs/heads/*` and `refs/tags/*`
//! equal the remote's after each [`Mirror::sync`] (deleted upstream = deleted here).

mod archive;
mod attributes;
mod error;
mod local;
mod mirror;
mod reach;
mod read;
mod repo;
mod source;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub use error::GitError;
pub use reach::{Reach, check_url};

/// Credentials for http(s) remotes (a personal access token as the password). Sent only when the
/// server asks (HTTP 401) and only to the host of the URL being synced.
#[derive(Clone, Default)]
pub struct GitAuth {
    pub user: Option<String>,
    pub token: Option<String>,
}

impl GitAuth {
    /// Reads `GIT_AUTH_USER` and `GIT_AUTH_TOKEN`; empty values count as unset.
    pub fn from_env() -> Self {
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        GitAuth {
            user: var("GIT_AUTH_USER"),
            token: var("GIT_AUTH_TOKEN"),
        }
    }
}

// The token must never reach logs through `{:?}`.
impl std::fmt::Debug for GitAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitAuth")
            .field("user", &self.user)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefKind {
    Tag,
    Branch,
}

#[derive(Debug, Clone)]
pub struct GitRef {
    pub kind: RefKind,
    /// Short name: `v1.0.0`, `main`, `feature/x` (without `refs/tags/` or `refs/heads/`).
    pub name: String,
    /// Hex id of the commit the ref points to, annotated tags peeled.
    pub commit: String,
    /// Committer time of that commit, unix seconds.
    pub time: i64,
}

/// A bare mirror repository on disk. Cheap to keep; `Send + Sync`.
pub struct Mirror {
    path: PathBuf,
    repo: gix::ThreadSafeRepository,
}

impl std::fmt::Debug for Mirror {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mirror").field("path", &self.path).finish()
    }
}

impl Mirror {
    /// Clones `url` as a bare mirror under `cache_root/<sha256(url) hex prefix>` or, when it exists,
    /// fetches so that branches and tags exactly match the remote (tags deleted upstream disappear
    /// locally). URLs: `https://`, `http://`, `git://`, `file://` and plain local paths; ssh is
    /// refused (it would spawn `ssh`), and so is whatever `reach` does not allow. A first clone is
    /// built in a temporary directory and renamed into place, so a failed clone leaves nothing
    /// behind.
    ///
    /// Two concurrent syncs of the same URL are not coordinated here beyond git's lock files (one
    /// may fail with a lock error); callers should serialise per URL.
    pub fn sync(
        cache_root: &Path,
        url: &str,
        auth: &GitAuth,
        reach: Reach,
    ) -> Result<Mirror, GitError> {
        mirror::sync(cache_root, url, auth, reach)
    }

    /// Opens an existing mirror (or any repository) at `path`, ignoring user and system git config.
    pub fn open(path: &Path) -> Result<Mirror, GitError> {
        mirror::open(path)
    }

    /// Directory of the bare repository.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Tags (annotated ones peeled) and branches that point at commits, sorted by kind then name.
    /// Tags of trees or blobs are left out.
    pub fn refs(&self) -> Result<Vec<GitRef>, GitError> {
        read::refs(&self.repo.to_thread_local())
    }

    /// The remote's default branch (its `HEAD`) as of the last sync, if it names an existing branch.
    pub fn default_branch(&self) -> Result<Option<String>, GitError> {
        read::default_branch(&self.repo.to_thread_local())
    }

    /// Contents of the file at `path` (e.g. `composer.json`, `sub/dir/composer.json`) in `commit`
    /// (a full hex id; an annotated tag's id is peeled). `None` if there is no such file or it is a
    /// directory or submodule; a symlink yields its target path, as `git show` does.
    pub fn read_file(&self, commit: &str, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        read::read_file(&self.repo.to_thread_local(), commit, path)
    }

    /// Every file and symlink path in the tree of `commit`, `/`-separated, sorted by bytes.
    /// Submodules are not listed; export-ignore is not applied.
    pub fn list_paths(&self, commit: &str) -> Result<Vec<String>, GitError> {
        read::list_paths(&self.repo.to_thread_local(), commit)
    }

    /// Writes a zip of the tree at `commit` (or of its subfolder `subdir`, whose contents become
    /// the zip root), leaving out paths marked `export-ignore` by any `.gitattributes` in the tree
    /// (root, subdir and nested ones, matched by gix as git does). Files sit at the zip root.
    ///
    /// Reproducible: entries sorted by path bytes, every timestamp is the commit time (UTC, DOS
    /// precision), modes 0644 / 0755 (executable bit kept), deflate, no directory entries. Symlinks
    /// are stored as symlinks (as `git archive` does) unless their target is absolute or leaves the
    /// archive root, in which case they are skipped. Submodules are skipped. Blob contents are raw
    /// (no eol/smudge filters, no `export-subst`).
    pub fn archive_zip(
        &self,
        commit: &str,
        subdir: Option<&str>,
        out: &mut (impl std::io::Write + std::io::Seek),
    ) -> Result<(), GitError> {
        archive::write_zip(&self.repo.to_thread_local(), commit, subdir, out)
    }
}
