//! Read-only queries on a mirror: refs, one file at a commit, and the tree walk shared with the
//! archive writer.

use gix::bstr::{BStr, BString, ByteSlice, ByteVec};
use gix::objs::tree::EntryKind;

use super::error::GitError;
use super::{GitRef, RefKind};

pub(super) fn refs(repo: &gix::Repository) -> Result<Vec<GitRef>, GitError> {
    let mut out = Vec::new();
    let platform = repo.references().map_err(GitError::repo)?;
    for reference in platform.all().map_err(GitError::repo)? {
        let mut reference = reference.map_err(GitError::repo)?;
        let full = reference.name().as_bstr().to_owned();
        let (kind, short) = if let Some(tag) = full.strip_prefix(b"refs/tags/") {
            (RefKind::Tag, tag)
        } else if let Some(branch) = full.strip_prefix(b"refs/heads/") {
            (RefKind::Branch, branch)
        } else {
            continue;
        };
        let id = reference.peel_to_id().map_err(GitError::repo)?;
        let object = id.object().map_err(GitError::repo)?;
        // A tag may name a tree or a blob; such refs are no version of anything.
        if object.kind != gix::objs::Kind::Commit {
            continue;
        }
        let time = object.into_commit().time().map_err(GitError::repo)?.seconds;
        out.push(GitRef {
            kind,
            name: short.to_str_lossy().into_owned(),
            commit: id.to_string(),
            time,
        });
    }
    out.sort_by(|a, b| {
        (a.kind == RefKind::Branch, &a.name).cmp(&(b.kind == RefKind::Branch, &b.name))
    });
    Ok(out)
}

pub(super) fn default_branch(repo: &gix::Repository) -> Result<Option<String>, GitError> {
    let Some(head) = repo.head_name().map_err(GitError::repo)? else {
        return Ok(None);
    };
    let Some(branch) = head.as_bstr().strip_prefix(b"refs/heads/") else {
        return Ok(None);
    };
    let exists = repo
        .try_find_reference(head.as_ref())
        .map_err(GitError::repo)?
        .is_some();
    Ok(exists.then(|| branch.to_str_lossy().into_owned()))
}

/// The commit named by `commit`, a full hex id (of a commit, or of a tag that peels to one).
pub(super) fn resolve_commit<'r>(
    repo: &'r gix::Repository,
    commit: &str,
) -> Result<gix::Commit<'r>, GitError> {
    let id = gix::ObjectId::from_hex(commit.trim().as_bytes())
        .map_err(|_| GitError::InvalidCommit(commit.to_string()))?;
    let object = repo
        .try_find_object(id)
        .map_err(GitError::repo)?
        .ok_or_else(|| GitError::UnknownCommit(commit.to_string()))?;
    object
        .peel_to_commit()
        .map_err(|_| GitError::UnknownCommit(format!("{commit} (not a commit)")))
}

/// `a/b/` → `a/b`; `/`, `.`, and empty → the root.
pub(super) fn normalize(path: &str) -> String {
    path.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect::<Vec<_>>()
        .join("/")
}

pub(super) fn read_file(
    repo: &gix::Repository,
    commit: &str,
    path: &str,
) -> Result<Option<Vec<u8>>, GitError> {
    let tree = resolve_commit(repo, commit)?
        .tree()
        .map_err(GitError::repo)?;
    let path = normalize(path);
    if path.is_empty() {
        return Ok(None);
    }
    let Some(entry) = tree.lookup_entry_by_path(&path).map_err(GitError::repo)? else {
        return Ok(None);
    };
    if !entry.mode().is_blob_or_symlink() {
        return Ok(None);
    }
    let object = entry.object().map_err(GitError::repo)?;
    Ok(Some(object.detach().data))
}

pub(super) fn list_paths(repo: &gix::Repository, commit: &str) -> Result<Vec<String>, GitError> {
    let tree = resolve_commit(repo, commit)?
        .tree_id()
        .map_err(GitError::repo)?
        .detach();
    let mut files = Vec::new();
    walk(
        repo,
        tree,
        BString::default(),
        &mut |_, _| Ok(true),
        &mut files,
    )?;
    let mut paths: Vec<String> = files
        .into_iter()
        .map(|f| f.path.to_str_lossy().into_owned())
        .collect();
    paths.sort();
    Ok(paths)
}

/// A file or symlink found by [`walk`].
pub(super) struct File {
    /// Relative to the walk's root, `/`-separated.
    pub path: BString,
    pub id: gix::ObjectId,
    pub kind: EntryKind,
}

/// Collects the files and symlinks under `tree` (submodules skipped) in tree order. `enter` is
/// asked about every path (relative to the walk root) with its kind, directories before their
/// contents; `false` leaves the entry out, and for a directory, all it contains.
pub(super) fn walk(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    prefix: BString,
    enter: &mut dyn FnMut(&BStr, EntryKind) -> Result<bool, GitError>,
    out: &mut Vec<File>,
) -> Result<(), GitError> {
    let tree = repo.find_tree(tree).map_err(GitError::repo)?;
    let decoded = tree.decode().map_err(GitError::repo)?;
    for entry in &decoded.entries {
        let mut path = prefix.clone();
        if !path.is_empty() {
            path.push_byte(b'/');
        }
        path.push_str(entry.filename);
        let kind = entry.mode.kind();
        if kind == EntryKind::Commit || !enter(path.as_bstr(), kind)? {
            continue;
        }
        if kind == EntryKind::Tree {
            walk(repo, entry.oid.to_owned(), path, enter, out)?;
        } else {
            out.push(File {
                path,
                id: entry.oid.to_owned(),
                kind,
            });
        }
    }
    Ok(())
}
