//! Reproducible zip of a commit's tree (Composer dist archives).
//!
//! Same commit → same bytes: entries sorted by path bytes, one fixed timestamp (the commit time),
//! fixed modes, a fixed compression level, no directory entries and no extra fields. Readers create
//! directories from file paths.

use std::io::{BufWriter, Seek, Write};

use gix::bstr::{BString, ByteSlice, ByteVec};
use gix::objs::tree::EntryKind;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use super::attributes::ExportIgnore;
use super::error::GitError;
use super::read::{File, normalize, resolve_commit, walk};

/// flate2's default; pinned so that a change of default in a dependency cannot change our bytes.
const DEFLATE_LEVEL: i64 = 6;

pub(super) fn write_zip(
    repo: &gix::Repository,
    commit: &str,
    subdir: Option<&str>,
    out: &mut (impl Write + Seek),
) -> Result<(), GitError> {
    let commit_obj = resolve_commit(repo, commit)?;
    let time = commit_obj.time().map_err(GitError::repo)?.seconds;
    let root = commit_obj.tree().map_err(GitError::repo)?;
    let root_id = root.id;

    // The walk starts at the subfolder; export-ignore is matched on full repository paths, so the
    // root's and the subfolder's `.gitattributes` (and any nested ones) all apply. The subfolder
    // itself is not tested: a root `/packages export-ignore`, which keeps sub-packages out of the
    // root package's zip, must not empty the sub-package's own zip.
    let subdir = normalize(subdir.unwrap_or(""));
    let start = if subdir.is_empty() {
        root_id
    } else {
        match root.lookup_entry_by_path(&subdir).map_err(GitError::repo)? {
            Some(entry) if entry.mode().is_tree() => entry.object_id(),
            _ => return Err(GitError::NoSuchDirectory(subdir, commit.to_string())),
        }
    };
    let mut ignore = ExportIgnore::for_tree(repo, &root_id)?;
    let full_prefix: BString = if subdir.is_empty() {
        BString::default()
    } else {
        let mut p = BString::from(subdir.as_str());
        p.push_byte(b'/');
        p
    };
    let mut files = Vec::new();
    walk(
        repo,
        start,
        BString::default(),
        &mut |path, kind| {
            let mut full = full_prefix.clone();
            full.push_str(path);
            Ok(!ignore.is_ignored(full.as_bstr(), kind)?)
        },
        &mut files,
    )?;
    files.sort_by(|a, b| a.path.cmp(&b.path));

    let stamp = dos_time(time);
    let mut zip = ZipWriter::new(BufWriter::new(out));
    for file in &files {
        let data = repo
            .find_object(file.id)
            .map_err(GitError::repo)?
            .detach()
            .data;
        // Zip names are text; git paths are bytes. Non-UTF-8 names are rare and lossy here.
        let name = file.path.to_str_lossy().into_owned();
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(DEFLATE_LEVEL))
            .last_modified_time(stamp)
            .large_file(data.len() as u64 >= u64::from(u32::MAX));
        match file.kind {
            EntryKind::Link => {
                let target = data.to_str_lossy().into_owned();
                if !symlink_stays_inside(file, &target) {
                    tracing::debug!(path = %name, target = %target, "zip: skipping symlink leading outside the archive");
                    continue;
                }
                zip.add_symlink(name, target, options.unix_permissions(0o777))?;
            }
            kind => {
                let mode = if kind == EntryKind::BlobExecutable {
                    0o755
                } else {
                    0o644
                };
                zip.start_file(name, options.unix_permissions(mode))?;
                zip.write_all(&data)?;
            }
        }
    }
    zip.finish()?.flush()?;
    Ok(())
}

/// The commit time as a zip (DOS, local-time-less) timestamp in UTC, clamped to what DOS can hold.
fn dos_time(unix_seconds: i64) -> DateTime {
    use chrono::{Datelike, Timelike};
    let Some(t) = chrono::DateTime::from_timestamp(unix_seconds, 0) else {
        return DateTime::default();
    };
    let (year, month, day) = (t.year(), t.month() as u8, t.day() as u8);
    let (hour, minute, second) = (t.hour() as u8, t.minute() as u8, t.second() as u8);
    match u16::try_from(year) {
        Ok(year) => DateTime::from_date_and_time(year, month, day, hour, minute, second)
            .unwrap_or_else(|_| {
                if year < 1980 {
                    DateTime::default()
                } else {
                    max_dos_time()
                }
            }),
        Err(_) => DateTime::default(),
    }
}

fn max_dos_time() -> DateTime {
    DateTime::from_date_and_time(2107, 12, 31, 23, 59, 58).unwrap_or_default()
}

/// A relative target that, resolved from the link's folder, stays within the archive. Anything
/// else would let an extracting tool write or read outside the package directory.
fn symlink_stays_inside(link: &File, target: &str) -> bool {
    if target.is_empty() || target.starts_with('/') || target.contains('\\') {
        return false;
    }
    let mut depth = link.path.as_bstr().split_str("/").count() as i64 - 1;
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => depth += 1,
        }
    }
    true
}
