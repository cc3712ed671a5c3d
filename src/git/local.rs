//! Mirroring a repository on this machine (`file://` or a path) without any git process.
//!
//! gix's file transport would spawn `git-upload-pack`, so instead, like `git clone --local`, we
//! hard-link (or copy) the source's pack files and loose objects into the mirror — they are
//! immutable and content-addressed, so sharing them is safe — and then set our refs to the
//! source's branches and tags. Objects no longer referenced upstream stay in the mirror (harmless).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::error::{GitError, chain, redact};
use super::repo::{open_options, set_head, set_refs};

pub(super) fn fetch(repo: &gix::Repository, source: &Path, url: &str) -> Result<(), GitError> {
    let unreachable = |message: String| GitError::Unreachable {
        url: redact(url),
        message,
    };
    let src = gix::open_opts(source, open_options()).map_err(|e| unreachable(chain(&e)))?;

    // Refs first: objects copied afterwards are then a superset of what these refs need, even if
    // the source is being pushed to meanwhile.
    let mut wanted = BTreeMap::new();
    let platform = src.references().map_err(GitError::repo)?;
    for reference in platform.all().map_err(GitError::repo)? {
        let mut reference = reference.map_err(GitError::repo)?;
        let name = reference.name().as_bstr();
        if !(name.starts_with(b"refs/heads/") || name.starts_with(b"refs/tags/")) {
            continue;
        }
        // Follow symbolic refs to an object, but do not peel annotated tags: the mirror keeps them.
        let id = reference
            .follow_to_object()
            .map_err(GitError::repo)?
            .detach();
        wanted.insert(reference.name().to_owned(), id);
    }
    let head = src.head_name().map_err(GitError::repo)?;

    let dest_objects = repo.common_dir().join("objects");
    let src_objects = src.common_dir().join("objects");
    copy_objects(&src_objects, &dest_objects)?;
    for alternate in alternates(&src_objects) {
        copy_objects(&alternate, &dest_objects)?;
    }

    // A fresh handle, so the object store certainly sees the packs that just appeared.
    let repo = gix::open_opts(repo.git_dir(), open_options()).map_err(GitError::repo)?;
    for (name, id) in &wanted {
        if !repo.has_object(id) {
            return Err(unreachable(format!(
                "object {id} of {} is missing from the source repository's object directories",
                name.as_bstr()
            )));
        }
    }
    set_refs(&repo, &wanted)?;
    set_head(&repo, head.as_ref().map(|h| h.as_bstr()))
}

/// Adds every pack and loose object of `src` (an `objects` directory) that `dest` lacks.
fn copy_objects(src: &Path, dest: &Path) -> Result<(), GitError> {
    let src_packs = src.join("pack");
    let dest_packs = dest.join("pack");
    std::fs::create_dir_all(&dest_packs)?;
    for entry in read_dir_or_empty(&src_packs)? {
        let name = entry.file_name();
        let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".idx")) else {
            continue;
        };
        let pack = format!("{stem}.pack");
        let idx = format!("{stem}.idx");
        if dest_packs.join(&idx).exists() || !src_packs.join(&pack).exists() {
            continue;
        }
        // Pack before index: a reader never finds an index whose pack is not there yet.
        link_or_copy(&src_packs.join(&pack), &dest_packs.join(&pack))?;
        link_or_copy(&src_packs.join(&idx), &dest_packs.join(&idx))?;
    }
    for entry in read_dir_or_empty(src)? {
        let fan = entry.file_name();
        let Some(fan) = fan.to_str().filter(|f| is_hex(f, 2)) else {
            continue;
        };
        for object in read_dir_or_empty(&entry.path())? {
            let name = object.file_name();
            if !name
                .to_str()
                .is_some_and(|n| is_hex(n, 38) || is_hex(n, 62))
            {
                continue;
            }
            let target = dest.join(fan).join(&name);
            if !target.exists() {
                std::fs::create_dir_all(dest.join(fan))?;
                link_or_copy(&object.path(), &target)?;
            }
        }
    }
    Ok(())
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn read_dir_or_empty(dir: &Path) -> Result<Vec<std::fs::DirEntry>, GitError> {
    match std::fs::read_dir(dir) {
        Ok(entries) => Ok(entries.collect::<Result<_, _>>()?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// Hard link when on the same filesystem and permitted, else copy; via a temporary name and a
/// rename so the final name only ever holds a complete file.
fn link_or_copy(from: &Path, to: &Path) -> Result<(), GitError> {
    let file_name = to.file_name().and_then(|n| n.to_str()).unwrap_or("object");
    let tmp = to.with_file_name(format!(".tmp-{}-{file_name}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    if std::fs::hard_link(from, &tmp).is_err() {
        std::fs::copy(from, &tmp)?;
    }
    std::fs::rename(&tmp, to)?;
    Ok(())
}

/// Object directories the source borrows from (`objects/info/alternates`, one level).
fn alternates(objects: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(objects.join("info").join("alternates")) else {
        return Vec::new();
    };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| objects.join(l)) // relative entries are relative to `objects`; join keeps absolute ones
        .collect()
}
