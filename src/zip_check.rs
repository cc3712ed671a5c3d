//! The safety check of an uploaded zip before a format reads its manifest from it (Composer's
//! composer.json, NuGet's .nuspec) or stores it. Every archive is read from its central directory
//! and refused (`Error::Unprocessable`, with a message naming the problem; a format may answer
//! it with another 4xx) when:
//!
//! - it is not a readable zip (empty, truncated, garbage, corrupt central directory), or lists
//!   the same path twice (different tools would pick different copies);
//! - an entry path could escape the extraction directory ("zip-slip"): absolute paths, drive
//!   letters, `..` components (also when spelled with backslashes, which Windows extractors
//!   treat as separators), or anything `enclosed_name()` rejects; `.` and empty components are
//!   refused too, because a client and the format would disagree on where such a file lives;
//! - an entry name holds a control character (NUL included) or a bidirectional formatting
//!   character (`text::hidden_char`): the name would not show what it is;
//! - a symlink could point outside the package: symlinks are allowed only with a relative target
//!   without any `..` component and without backslashes. A target that can only descend can
//!   never leave the package, even through chains of symlinks, which lexical `..` counting
//!   cannot promise (`a -> .` then `b -> a/a/..`);
//! - it is a zip bomb: too many entries, too much uncompressed data in total, or a compression
//!   ratio (total, and per large entry) beyond the limit. The declared sizes are judged first,
//!   because that is cheap; but they can lie, so then every entry is inflated (into nothing)
//!   through a cap the limits leave for it, and the bytes that actually come out are judged
//!   again. The check never inflates more than the limits allow, whatever the headers say;
//! - an entry is encrypted (nobody downstream has the password).
//!
//! Which entry is the manifest, and what it must say, is the format's business
//! (`read_capped` reads it through its cap).

use std::io::{Read, Seek};

use zip::ZipArchive;

use crate::error::{Error, Result};

/// Below this size an entry cannot be a bomb on its own (the total limits still count it), and
/// small, repetitive files (fixtures, generated code) legitimately compress very well.
const PER_ENTRY_RATIO_FLOOR: u64 = 1 << 20;
/// Symlink targets are paths; anything longer is not a real one.
const MAX_SYMLINK_TARGET: u64 = 4096;
/// How many names a refusal lists before "…".
const LISTED: usize = 5;

/// What an archive may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Entries in the central directory (files, folders and symlinks).
    pub max_entries: usize,
    /// Uncompressed bytes of all entries together (declared, and actually inflated).
    pub max_uncompressed: u64,
    /// Uncompressed size over compressed size, for the whole archive (against `archive_size`)
    /// and for each entry of at least 1 MiB; declared sizes and actual ones alike.
    pub max_ratio: u64,
    /// Bytes of the manifest the format reads (composer.json, a .nuspec).
    pub max_manifest: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 20_000,
            max_uncompressed: 1 << 30,
            max_ratio: 200,
            max_manifest: 1 << 20,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
}

/// An archive that passed the check, open for the format to read its manifest.
pub struct Checked<R> {
    pub zip: ZipArchive<R>,
    /// Every entry's path and kind, by index.
    pub entries: Vec<(String, Kind)>,
    /// Bytes the entries actually inflate to.
    pub uncompressed: u64,
}

pub fn refuse(msg: impl std::fmt::Display) -> Error {
    Error::unprocessable(msg)
}

/// Reads the archive (a seekable file of `archive_size` bytes) and checks it; every refusal is
/// `Error::Unprocessable` with a message naming the problem.
pub fn check<R: Read + Seek>(archive: R, archive_size: u64, limits: &Limits) -> Result<Checked<R>> {
    if archive_size == 0 {
        return Err(refuse("the upload is empty, expected a zip archive"));
    }
    // Every failure here is the upload's fault as far as anyone can tell: garbage makes the zip
    // reader seek past the end or to nonsense offsets, which surface as I/O errors too.
    let mut zip = ZipArchive::new(archive)
        .map_err(|err| refuse(format!("not a readable zip archive: {err}")))?;

    // Parsing the directory was bounded by the archive's size; the per-entry work below is not
    // free, so the count is checked first.
    let entries = zip.len();
    if entries > limits.max_entries {
        return Err(refuse(format!(
            "the archive has {entries} entries, more than the {} allowed",
            limits.max_entries
        )));
    }
    if zip.has_duplicate_names() {
        return Err(refuse(
            "the archive lists the same path more than once; extractors would disagree on which copy wins",
        ));
    }

    let mut declared: u64 = 0;
    let mut paths = Vec::with_capacity(entries);
    let mut symlinks = Vec::new();
    for index in 0..entries {
        let entry = zip
            .by_index_data(index)
            .map_err(|err| refuse(format!("not a readable zip archive: {err}")))?;
        let name = entry
            .name()
            .map_err(|_| refuse(format!("entry {index} has an unreadable name")))?
            .into_owned();
        check_path(&name)?;
        if entry.enclosed_name().is_none() {
            return Err(refuse(format!(
                "entry {} has an unsafe path (it could be written outside the package folder)",
                shown(&name)
            )));
        }
        if entry.encrypted() {
            return Err(refuse(format!(
                "entry {} is encrypted; upload an archive without a password",
                shown(&name)
            )));
        }
        let size = entry.size();
        if size >= PER_ENTRY_RATIO_FLOOR && size / entry.compressed_size().max(1) > limits.max_ratio
        {
            return Err(refuse(format!(
                "entry {} would expand {} times ({} bytes from {}), more than the ratio of {} allowed; this looks like a zip bomb",
                shown(&name),
                size / entry.compressed_size().max(1),
                size,
                entry.compressed_size(),
                limits.max_ratio
            )));
        }
        // Saturating: declared sizes are attacker-chosen and may sum past u64::MAX.
        declared = declared.saturating_add(size);
        let kind = if entry.is_symlink() {
            symlinks.push(index);
            Kind::Symlink
        } else if entry.is_dir() {
            Kind::Dir
        } else {
            Kind::File
        };
        paths.push((name, kind));
    }
    if declared > limits.max_uncompressed {
        return Err(refuse(format!(
            "the archive would expand to {declared} bytes, more than the {} allowed",
            limits.max_uncompressed
        )));
    }
    let ratio = declared / archive_size;
    if ratio > limits.max_ratio {
        return Err(refuse(format!(
            "the archive would expand {ratio} times ({declared} bytes from {archive_size}), more than the ratio of {} allowed; this looks like a zip bomb",
            limits.max_ratio
        )));
    }

    let uncompressed = inflate_all(&mut zip, &paths, archive_size, limits)?;
    for index in symlinks {
        let target = read_symlink(&mut zip, index)?;
        check_symlink(&paths[index].0, &target)?;
    }

    Ok(Checked {
        zip,
        entries: paths,
        uncompressed,
    })
}

/// The bytes of entry `index` (named `path` in messages), refused when they exceed `cap`: the
/// declared size is judged first, and the read stops one byte past the cap, since it may lie.
pub fn read_capped<R: Read + Seek>(
    zip: &mut ZipArchive<R>,
    index: usize,
    path: &str,
    cap: u64,
) -> Result<Vec<u8>> {
    let too_large = || refuse(format!("{path} is larger than {cap} bytes"));
    let mut file = zip
        .by_index(index)
        .map_err(|err| refuse(format!("cannot read {path}: {err}")))?;
    if file.size() > cap {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    (&mut file)
        .take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|err| refuse(format!("cannot read {path}: {err}")))?;
    if bytes.len() as u64 > cap {
        return Err(too_large());
    }
    Ok(bytes)
}

/// The most an entry of `compressed` bytes may inflate to: an entry below the floor is never
/// judged on its own, a larger one must stay within the ratio.
fn entry_cap(compressed: u64, limits: &Limits) -> u64 {
    let within_ratio = compressed
        .max(1)
        .saturating_mul(limits.max_ratio.saturating_add(1))
        - 1;
    within_ratio.max(PER_ENTRY_RATIO_FLOOR - 1)
}

/// Inflates every file entry into nothing and returns the bytes that actually came out. Each
/// read stops one byte past what the limits still allow (for the entry, for the archive's total
/// size and for its ratio against the upload's real size), so a lying header costs at most that.
fn inflate_all<R: Read + Seek>(
    zip: &mut ZipArchive<R>,
    paths: &[(String, Kind)],
    archive_size: u64,
    limits: &Limits,
) -> Result<u64> {
    let total_by_ratio = archive_size.saturating_mul(limits.max_ratio.saturating_add(1)) - 1;
    let total_cap = limits.max_uncompressed.min(total_by_ratio);
    let mut total: u64 = 0;
    for (index, (name, kind)) in paths.iter().enumerate() {
        // Folders hold nothing; symlink targets are read (and capped) by `read_symlink`.
        if *kind != Kind::File {
            continue;
        }
        let mut entry = zip
            .by_index(index)
            .map_err(|err| refuse(format!("cannot read entry {}: {err}", shown(name))))?;
        let compressed = entry.compressed_size();
        let for_entry = entry_cap(compressed, limits);
        let cap = for_entry.min(total_cap - total);
        let inflated = std::io::copy(
            &mut (&mut entry).take(cap.saturating_add(1)),
            &mut std::io::sink(),
        )
        .map_err(|err| refuse(format!("entry {} cannot be inflated: {err}", shown(name))))?;
        if inflated > for_entry {
            return Err(refuse(format!(
                "entry {} expands to more than {for_entry} bytes from {compressed}, more than the ratio of {} allowed; this looks like a zip bomb",
                shown(name),
                limits.max_ratio
            )));
        }
        total += inflated;
        if total > limits.max_uncompressed {
            return Err(refuse(format!(
                "the archive expands to more than the {} bytes allowed",
                limits.max_uncompressed
            )));
        }
        if total > total_by_ratio {
            return Err(refuse(format!(
                "the archive expands to more than {total_by_ratio} bytes from {archive_size}, more than the ratio of {} allowed; this looks like a zip bomb",
                limits.max_ratio
            )));
        }
    }
    Ok(total)
}

/// A name for messages: quoted so control characters show, and cut so a 64 KiB name cannot
/// flood a response.
pub fn shown(name: &str) -> String {
    const MAX: usize = 200;
    match crate::text::clip(name, MAX) {
        all if all.len() == name.len() => format!("{name:?}"),
        cut => format!("{cut:?}…"),
    }
}

fn looks_like_drive(component: &str) -> bool {
    matches!(component.as_bytes(), [letter, b':', ..] if letter.is_ascii_alphabetic())
}

/// Zip-slip rules on the raw name. `enclosed_name()` alone would accept `a/../b` and `./x`,
/// which are harmless to extract but make "where is composer.json" ambiguous.
fn check_path(name: &str) -> Result<()> {
    let unsafe_path = |why: &str| {
        Err(refuse(format!(
            "entry {} has an unsafe path ({why})",
            shown(name)
        )))
    };
    if name.is_empty() {
        return unsafe_path("empty name");
    }
    if let Some(c) = crate::text::hidden_char(name) {
        return unsafe_path(&format!("it contains {}", crate::text::describe(c)));
    }
    if name.starts_with(['/', '\\']) {
        return unsafe_path("absolute path");
    }
    // A folder entry ends in "/": that one empty component is its marker, not a path step.
    let trimmed = name.strip_suffix('/').unwrap_or(name);
    for component in trimmed.split(['/', '\\']) {
        match component {
            ".." => return unsafe_path("'..' leads outside the package folder"),
            "." | "" => return unsafe_path("'.' or empty path component"),
            c if looks_like_drive(c) => return unsafe_path("drive letter"),
            _ => {}
        }
    }
    Ok(())
}

fn read_symlink<R: Read + Seek>(zip: &mut ZipArchive<R>, index: usize) -> Result<String> {
    let mut file = zip
        .by_index(index)
        .map_err(|err| refuse(format!("cannot read symlink entry {index}: {err}")))?;
    let name = file.name().map(|n| n.into_owned()).unwrap_or_default();
    if file.size() > MAX_SYMLINK_TARGET {
        return Err(refuse(format!(
            "symlink {} has a target longer than {MAX_SYMLINK_TARGET} bytes",
            shown(&name)
        )));
    }
    let mut target = Vec::new();
    // Capped: the declared size just checked may be a lie.
    (&mut file)
        .take(MAX_SYMLINK_TARGET + 1)
        .read_to_end(&mut target)
        .map_err(|err| refuse(format!("cannot read symlink {}: {err}", shown(&name))))?;
    if target.len() as u64 > MAX_SYMLINK_TARGET {
        return Err(refuse(format!(
            "symlink {} has a target longer than {MAX_SYMLINK_TARGET} bytes",
            shown(&name)
        )));
    }
    String::from_utf8(target).map_err(|_| {
        refuse(format!(
            "symlink {} has a target that is not UTF-8",
            shown(&name)
        ))
    })
}

/// Refuses targets that could leave the package: see the module comment for why any `..` is
/// refused rather than counted.
fn check_symlink(name: &str, target: &str) -> Result<()> {
    let outside = |why: &str| {
        Err(refuse(format!(
            "symlink {} -> {} could point outside the package ({why}); only relative targets without '..' are allowed",
            shown(name),
            shown(target)
        )))
    };
    if target.is_empty() {
        return outside("empty target");
    }
    if let Some(c) = crate::text::hidden_char(target) {
        return outside(&format!("it contains {}", crate::text::describe(c)));
    }
    if target.starts_with('/') {
        return outside("absolute target");
    }
    if target.contains('\\') {
        return outside("backslash");
    }
    for component in target.split('/') {
        if component == ".." {
            return outside("'..'");
        }
        if looks_like_drive(component) {
            return outside("drive letter");
        }
    }
    Ok(())
}

/// Names for a refusal: the first few, quoted, then "…".
pub fn listed<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    let mut text = names
        .iter()
        .take(LISTED)
        .map(|name| shown(name))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > LISTED {
        text.push_str(", …");
    }
    text
}
