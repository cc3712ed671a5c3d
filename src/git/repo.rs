//! The mirror repository's own operations: how it is opened, and writing its branches, tags
//! and `HEAD` to match what was fetched.

use std::collections::{BTreeMap, BTreeSet};

use gix::bstr::{BStr, BString};
use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};
use gix::refs::{FullName, Target};

use super::error::GitError;

/// Options for every repository we open or create. `isolated` keeps the user's and system's git
/// config (credential helpers, URL rewrites, hooks) out, and stops gix from running `git` to locate
/// the installation's config file.
pub(super) fn open_options() -> gix::open::Options {
    gix::open::Options::isolated()
}

fn is_mirrored(name: &BStr) -> bool {
    name.starts_with(b"refs/heads/") || name.starts_with(b"refs/tags/")
}

/// Deletes local branches and tags whose names are not in `keep`.
pub(super) fn prune(repo: &gix::Repository, keep: &BTreeSet<BString>) -> Result<(), GitError> {
    let mut edits = Vec::new();
    for reference in repo
        .references()
        .map_err(GitError::repo)?
        .all()
        .map_err(GitError::repo)?
    {
        let reference = reference.map_err(GitError::repo)?;
        let name = reference.name();
        if is_mirrored(name.as_bstr()) && !keep.contains(name.as_bstr()) {
            edits.push(RefEdit {
                change: Change::Delete {
                    expected: PreviousValue::MustExist,
                    log: RefLog::AndReference,
                },
                name: name.to_owned(),
                deref: false,
            });
        }
    }
    if !edits.is_empty() {
        repo.edit_references(edits).map_err(GitError::repo)?;
    }
    Ok(())
}

/// Makes local branches and tags exactly `wanted` (name → object, annotated tags unpeeled).
pub(super) fn set_refs(
    repo: &gix::Repository,
    wanted: &BTreeMap<FullName, gix::ObjectId>,
) -> Result<(), GitError> {
    let keep = wanted.keys().map(|n| n.as_bstr().to_owned()).collect();
    prune(repo, &keep)?;
    let mut edits = Vec::new();
    for (name, id) in wanted {
        let current = repo
            .try_find_reference(name.as_ref())
            .map_err(GitError::repo)?;
        if current.is_some_and(|r| r.target().try_id() == Some(id.as_ref())) {
            continue;
        }
        edits.push(RefEdit {
            change: Change::Update {
                log: LogChange::default(),
                expected: PreviousValue::Any,
                new: Target::Object(*id),
            },
            name: name.clone(),
            deref: false,
        });
    }
    if !edits.is_empty() {
        repo.edit_references(edits).map_err(GitError::repo)?;
    }
    Ok(())
}

/// Points the mirror's `HEAD` at the remote's default branch (`refs/heads/...`), if known.
pub(super) fn set_head(repo: &gix::Repository, target: Option<&BStr>) -> Result<(), GitError> {
    let Some(target) = target.filter(|t| t.starts_with(b"refs/heads/")) else {
        return Ok(());
    };
    let target = FullName::try_from(target.to_owned()).map_err(GitError::repo)?;
    if repo.head_name().map_err(GitError::repo)?.as_ref() == Some(&target) {
        return Ok(());
    }
    repo.edit_reference(RefEdit {
        change: Change::Update {
            log: LogChange::default(),
            expected: PreviousValue::Any,
            new: Target::Symbolic(target),
        },
        name: FullName::try_from("HEAD").map_err(GitError::repo)?,
        deref: false,
    })
    .map_err(GitError::repo)?;
    Ok(())
}
