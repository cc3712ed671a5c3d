//! Inspection of an uploaded Composer package zip before anything is stored.
//!
//! Teams upload dist zips from CI. The server must learn the package's name (and maybe version)
//! from the archive's composer.json, and it must not store an archive that would hurt whoever
//! unpacks it later — Composer on a developer's machine, or Cargoman itself. So every archive
//! first passes the core's zip check (`zip_check`: readable, no zip-slip paths, hidden
//! characters, escaping symlinks, bombs or encrypted entries), then is refused (HTTP 422, with a
//! message naming the problem) when composer.json is missing, ambiguous, a symlink, too large,
//! not a JSON object, or lacks a valid `name`. Like Composer's own `Zip::getComposerJson`,
//! composer.json is looked up at the root or inside the archive's single top-level folder
//! (GitHub-style `pkg-1.0.0/`); `__MACOSX/` is ignored when finding that folder, as Composer does.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek};

use serde_json::{Map, Value};
use zip::ZipArchive;

use crate::error::{Error, Result};
use crate::formats::composer::{names, version};
pub use crate::zip_check::Limits;
use crate::zip_check::{Checked, Kind, listed, refuse};

const MANIFEST: &str = "composer.json";
/// Folder macOS's Archive Utility adds next to the real content; Composer ignores it.
const MACOS_METADATA: &str = "__MACOSX";

/// An archive that passed inspection.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspected {
    /// composer.json as a JSON object.
    pub manifest: Map<String, Value>,
    /// `name` from composer.json, lower-cased and checked with names::split_name.
    pub name: String,
    /// `version` from composer.json when present (not normalized).
    pub version: Option<String>,
    /// "" when composer.json is at the root, else the single top folder it sits in ("pkg-1.0.0/").
    pub root: String,
    pub entries: usize,
    /// Bytes the entries actually inflate to.
    pub uncompressed: u64,
}

/// Reads the archive (a seekable file) and checks it; every refusal is Error::Unprocessable with a message naming the problem.
pub fn inspect<R: Read + Seek>(
    archive: R,
    archive_size: u64,
    limits: &Limits,
) -> Result<Inspected> {
    let Checked {
        mut zip,
        entries: paths,
        uncompressed,
    } = crate::zip_check::check(archive, archive_size, limits)?;
    let entries = paths.len();
    let (manifest_index, root) = locate_manifest(&paths)?;
    let manifest = read_manifest(&mut zip, manifest_index, &paths[manifest_index].0, limits)?;
    let (name, version) = identify(&manifest, &paths[manifest_index].0)?;
    Ok(Inspected {
        manifest,
        name,
        version,
        root,
        entries,
        uncompressed,
    })
}

/// Checks what the URL says against the archive: the package name must equal `inspected.name` (case-insensitive);
/// if composer.json has a version it must normalize to the same as `version`. Returns the version to use.
///
/// The URL's version wins when given (as written, trimmed); otherwise composer.json's. An invalid
/// URL version is 400 (the request is wrong); an invalid composer.json version is 422 (the
/// archive is).
pub fn check_coordinates(
    inspected: &Inspected,
    package: &str,
    version: Option<&str>,
) -> Result<String> {
    if !package.eq_ignore_ascii_case(&inspected.name) {
        return Err(refuse(format!(
            "archive contains {}, not {}",
            inspected.name,
            package.to_ascii_lowercase()
        )));
    }
    // `?version=` with nothing after it is a client leaving the field blank, not a version.
    let requested = version.map(str::trim).filter(|v| !v.is_empty());
    let declared = inspected.version.as_deref();
    match (requested, declared) {
        (None, None) => Err(Error::invalid(
            "no version: give it in the URL (?version=) or in composer.json",
        )),
        (None, Some(declared)) => {
            version::normalize(declared).map_err(|err| refuse(format!("composer.json: {err}")))?;
            Ok(declared.trim().to_string())
        }
        (Some(requested), declared) => {
            let normalized = version::normalize(requested).map_err(Error::invalid)?;
            if let Some(declared) = declared {
                let declared_normalized = version::normalize(declared)
                    .map_err(|err| refuse(format!("composer.json: {err}")))?;
                if declared_normalized != normalized {
                    return Err(refuse(format!(
                        "version {requested} does not match version {declared} in composer.json"
                    )));
                }
            }
            Ok(requested.to_string())
        }
    }
}

/// Finds composer.json the way Composer's `Zip::getComposerJson` does: at the root, else in the
/// single top-level folder. Returns its entry index and the root ("" or "folder/").
fn locate_manifest(paths: &[(String, Kind)]) -> Result<(usize, String)> {
    let mut by_name = BTreeMap::new();
    for (index, (name, kind)) in paths.iter().enumerate() {
        by_name.insert(name.as_str(), (index, *kind));
    }
    let regular = |path: &str| -> Result<Option<usize>> {
        match by_name.get(path) {
            Some(&(index, Kind::File)) => Ok(Some(index)),
            // A linked composer.json would be read from wherever the link points once unpacked.
            Some(&(_, Kind::Symlink)) => Err(refuse(format!(
                "{path} is a symlink; it must be a regular file"
            ))),
            _ => Ok(None),
        }
    };
    if let Some(index) = regular(MANIFEST)? {
        return Ok((index, String::new()));
    }

    // Top-level entries: "pkg" for "pkg/", "pkg/a.php" (folders need no entry of their own).
    let mut folders = BTreeSet::new();
    let mut files = BTreeSet::new();
    for (name, kind) in paths {
        match name.split_once('/') {
            Some((top, _)) if top == MACOS_METADATA => {}
            Some((top, _)) => {
                folders.insert(top);
            }
            None if *kind == Kind::Dir => {
                folders.insert(name.as_str());
            }
            None => {
                files.insert(name.as_str());
            }
        }
    }
    let mut candidates = Vec::new();
    for folder in &folders {
        if let Some(index) = regular(&format!("{folder}/{MANIFEST}"))? {
            candidates.push((index, format!("{folder}/")));
        }
    }
    match candidates.len() {
        0 => Err(refuse(
            "no composer.json at the root of the archive nor inside its single top-level folder",
        )),
        1 => {
            let (index, root) = candidates.remove(0);
            let others: Vec<String> = folders
                .iter()
                .filter(|folder| format!("{folder}/") != root)
                .map(|folder| format!("{folder}/"))
                .chain(files.iter().map(|file| file.to_string()))
                .collect();
            if others.is_empty() {
                Ok((index, root))
            } else {
                // Composer unwraps only an archive with one top-level folder; with siblings the
                // package would be installed one folder too high, without its composer.json.
                Err(refuse(format!(
                    "composer.json is in {root} but the archive has other top-level entries ({}); put everything in that folder or composer.json at the root",
                    listed(others.iter().map(String::as_str))
                )))
            }
        }
        _ => Err(refuse(format!(
            "ambiguous archive: composer.json in several top-level folders ({}); upload one package with composer.json at the root or in a single top-level folder",
            listed(candidates.iter().map(|(_, root)| root.as_str()))
        ))),
    }
}

fn read_manifest<R: Read + Seek>(
    zip: &mut ZipArchive<R>,
    index: usize,
    path: &str,
    limits: &Limits,
) -> Result<Map<String, Value>> {
    let bytes = crate::zip_check::read_capped(zip, index, path, limits.max_manifest)?;
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        // Composer refuses a byte-order mark too, so say so rather than "invalid JSON".
        return Err(refuse(format!(
            "{path} starts with a byte-order mark; save it as UTF-8 without BOM"
        )));
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(manifest)) => Ok(manifest),
        Ok(_) => Err(refuse(format!("{path} must contain a JSON object"))),
        Err(err) => Err(refuse(format!("{path} is not valid JSON: {err}"))),
    }
}

/// `name` (lower-cased, validated) and `version` (as written) from composer.json.
fn identify(manifest: &Map<String, Value>, path: &str) -> Result<(String, Option<String>)> {
    let name = match manifest.get("name") {
        Some(Value::String(name)) => name.to_ascii_lowercase(),
        Some(_) => return Err(refuse(format!("{path}: \"name\" must be a string"))),
        None => {
            return Err(refuse(format!(
                "{path} has no \"name\"; an uploaded package needs one (vendor/package)"
            )));
        }
    };
    names::split_name(&name).map_err(|err| refuse(format!("{path}: {err}")))?;
    let version = match manifest.get("version") {
        None | Some(Value::Null) => None,
        Some(Value::String(version)) => Some(version.clone()),
        Some(_) => return Err(refuse(format!("{path}: \"version\" must be a string"))),
    };
    Ok((name, version))
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Write};

    use zip::write::SimpleFileOptions;
    use zip::{CompressionMethod, ZipWriter};

    use super::*;

    const MANIFEST_JSON: &str = r#"{"name": "Acme/Widget", "version": "1.2.0", "type": "library"}"#;

    fn deflated() -> SimpleFileOptions {
        SimpleFileOptions::default().compression_method(CompressionMethod::Deflated)
    }

    fn stored() -> SimpleFileOptions {
        SimpleFileOptions::default().compression_method(CompressionMethod::Stored)
    }

    fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in files {
            if name.ends_with('/') {
                zip.add_directory(*name, deflated()).unwrap();
            } else {
                zip.start_file(*name, deflated()).unwrap();
                zip.write_all(data).unwrap();
            }
        }
        zip.finish().unwrap().into_inner()
    }

    fn inspect_bytes(bytes: &[u8], limits: &Limits) -> Result<Inspected> {
        inspect(Cursor::new(bytes), bytes.len() as u64, limits)
    }

    fn ok(bytes: &[u8]) -> Inspected {
        inspect_bytes(bytes, &Limits::default()).unwrap()
    }

    /// The refusal's message, asserting it is a 422.
    fn refused(bytes: &[u8], limits: &Limits) -> String {
        match inspect_bytes(bytes, limits) {
            Err(Error::Unprocessable(msg)) => msg,
            other => panic!("expected Unprocessable, got {other:?}"),
        }
    }

    fn refused_default(bytes: &[u8]) -> String {
        refused(bytes, &Limits::default())
    }

    #[test]
    fn root_manifest() {
        let bytes = zip_of(&[
            ("composer.json", MANIFEST_JSON.as_bytes()),
            ("src/", b""),
            ("src/Widget.php", b"<?php\n"),
        ]);
        let got = ok(&bytes);
        assert_eq!(got.name, "acme/widget");
        assert_eq!(got.version.as_deref(), Some("1.2.0"));
        assert_eq!(got.root, "");
        assert_eq!(got.entries, 3);
        assert_eq!(got.uncompressed, (MANIFEST_JSON.len() + 6) as u64);
        assert_eq!(got.manifest["type"], "library");
    }

    #[test]
    fn manifest_in_single_top_folder() {
        let bytes = zip_of(&[
            ("pkg-1.0.0/", b""),
            ("pkg-1.0.0/composer.json", br#"{"name": "acme/widget"}"#),
            ("pkg-1.0.0/src/Widget.php", b"<?php\n"),
            ("__MACOSX/pkg-1.0.0/._composer.json", b"junk"),
        ]);
        let got = ok(&bytes);
        assert_eq!(got.root, "pkg-1.0.0/");
        assert_eq!(got.name, "acme/widget");
        assert_eq!(got.version, None);
    }

    #[test]
    fn top_folder_without_its_own_entry() {
        // GitHub-style zips list the folder; others only list files in it.
        let bytes = zip_of(&[("pkg/composer.json", br#"{"name": "acme/widget"}"#)]);
        assert_eq!(ok(&bytes).root, "pkg/");
    }

    #[test]
    fn root_manifest_wins_over_folders() {
        let bytes = zip_of(&[
            ("composer.json", br#"{"name": "acme/root"}"#),
            ("a/composer.json", br#"{"name": "acme/a"}"#),
            ("b/composer.json", br#"{"name": "acme/b"}"#),
        ]);
        assert_eq!(ok(&bytes).name, "acme/root");
    }

    #[test]
    fn no_manifest() {
        let bytes = zip_of(&[("README.md", b"hi"), ("src/A.php", b"<?php")]);
        assert!(refused_default(&bytes).contains("no composer.json"));
        // Deeper than one folder is not found either, as with Composer.
        let bytes = zip_of(&[("a/b/composer.json", br#"{"name": "acme/x"}"#)]);
        assert!(refused_default(&bytes).contains("no composer.json"));
    }

    #[test]
    fn several_top_folders_with_manifest_are_ambiguous() {
        let bytes = zip_of(&[
            ("a/composer.json", br#"{"name": "acme/a"}"#),
            ("b/composer.json", br#"{"name": "acme/b"}"#),
        ]);
        let msg = refused_default(&bytes);
        assert!(msg.contains("ambiguous"), "{msg}");
        assert!(msg.contains("\"a/\"") && msg.contains("\"b/\""), "{msg}");
    }

    #[test]
    fn manifest_folder_with_siblings() {
        let bytes = zip_of(&[
            ("pkg/composer.json", br#"{"name": "acme/widget"}"#),
            ("README.md", b"hi"),
        ]);
        let msg = refused_default(&bytes);
        assert!(msg.contains("other top-level entries"), "{msg}");
        assert!(msg.contains("README.md"), "{msg}");
    }

    #[test]
    fn invalid_json() {
        let bytes = zip_of(&[("composer.json", b"{\"name\": ")]);
        assert!(refused_default(&bytes).contains("not valid JSON"));
        let bytes = zip_of(&[("composer.json", b"\xEF\xBB\xBF{\"name\": \"a/b\"}")]);
        assert!(refused_default(&bytes).contains("byte-order mark"));
    }

    #[test]
    fn manifest_not_an_object() {
        let bytes = zip_of(&[("composer.json", b"[\"acme/widget\"]")]);
        assert!(refused_default(&bytes).contains("JSON object"));
    }

    #[test]
    fn name_missing() {
        let bytes = zip_of(&[("composer.json", br#"{"version": "1.0.0"}"#)]);
        assert!(refused_default(&bytes).contains("no \"name\""));
        let bytes = zip_of(&[("composer.json", br#"{"name": 42}"#)]);
        assert!(refused_default(&bytes).contains("must be a string"));
    }

    #[test]
    fn bad_name() {
        for bad in ["acme", "acme/", "acme/wid get", "../acme/x"] {
            let json = format!(r#"{{"name": "{bad}"}}"#);
            let bytes = zip_of(&[("composer.json", json.as_bytes())]);
            assert!(refused_default(&bytes).contains("is invalid"), "{bad}");
        }
    }

    #[test]
    fn bad_version_type() {
        let bytes = zip_of(&[("composer.json", br#"{"name": "a/b", "version": 1}"#)]);
        assert!(refused_default(&bytes).contains("\"version\" must be a string"));
    }

    #[test]
    fn traversal_entry() {
        let bytes = zip_of(&[
            ("composer.json", MANIFEST_JSON.as_bytes()),
            ("../evil.php", b"<?php"),
        ]);
        let msg = refused_default(&bytes);
        assert!(
            msg.contains("unsafe path") && msg.contains("evil.php"),
            "{msg}"
        );
        for name in [
            "src/../../evil.php",
            "src/../x.php",
            "src\\..\\..\\evil.php",
            "..\\evil.php",
        ] {
            let bytes = zip_of(&[("composer.json", MANIFEST_JSON.as_bytes()), (name, b"x")]);
            assert!(refused_default(&bytes).contains("unsafe path"), "{name}");
        }
    }

    #[test]
    fn absolute_entry() {
        let bytes = zip_of(&[
            ("composer.json", MANIFEST_JSON.as_bytes()),
            ("/etc/passwd", b"root:x:0:0"),
        ]);
        assert!(refused_default(&bytes).contains("absolute path"));
        for (name, why) in [
            ("\\windows\\evil.dll", "absolute path"),
            ("C:/evil.php", "drive letter"),
            ("src/c:evil.php", "drive letter"),
            ("src/\0.php", "U+0000 (a control character)"),
            ("src/a\nb.php", "U+000A (a control character)"),
            (
                "src/evil\u{202E}php.txt",
                "U+202E (a bidirectional formatting character)",
            ),
            ("./composer.json", "empty path component"),
            ("src//a.php", "empty path component"),
        ] {
            let bytes = zip_of(&[("composer.json", MANIFEST_JSON.as_bytes()), (name, b"x")]);
            let msg = refused_default(&bytes);
            assert!(msg.contains(why), "{name:?}: {msg}");
        }
    }

    fn zip_with_symlink(target: &str) -> Vec<u8> {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        zip.start_file("composer.json", deflated()).unwrap();
        zip.write_all(MANIFEST_JSON.as_bytes()).unwrap();
        zip.start_file("docs/README.md", deflated()).unwrap();
        zip.write_all(b"hi").unwrap();
        zip.add_symlink("docs/link", target, deflated()).unwrap();
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn symlinks() {
        assert_eq!(ok(&zip_with_symlink("README.md")).entries, 3);
        assert_eq!(ok(&zip_with_symlink("sub/file.txt")).entries, 3);
        for target in [
            "/etc/passwd",
            "../composer.json",
            "a/../../x",
            "..\\x",
            "C:x",
            "",
        ] {
            let msg = refused_default(&zip_with_symlink(target));
            assert!(msg.contains("could point outside"), "{target:?}: {msg}");
        }
    }

    #[test]
    fn symlinked_manifest() {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        zip.start_file("real.json", deflated()).unwrap();
        zip.write_all(MANIFEST_JSON.as_bytes()).unwrap();
        zip.add_symlink("composer.json", "real.json", deflated())
            .unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        assert!(refused_default(&bytes).contains("is a symlink"));
    }

    #[test]
    fn zip_bomb_of_zeros() {
        let zeros = vec![0u8; 1 << 20];
        let bytes = zip_of(&[
            ("composer.json", MANIFEST_JSON.as_bytes()),
            ("z.bin", &zeros),
        ]);
        let limits = Limits {
            max_ratio: 10,
            ..Limits::default()
        };
        let msg = refused(&bytes, &limits);
        assert!(msg.contains("zip bomb"), "{msg}");
        // 1 MiB of zeros deflates about 1000 times: over the default ratio as well.
        assert!(refused_default(&bytes).contains("zip bomb"));
    }

    #[test]
    fn zip_bomb_of_many_small_entries() {
        // Each entry is under the per-entry floor; only the archive's total ratio catches them.
        let zeros = vec![0u8; 64 << 10];
        let names: Vec<String> = (0..16).map(|i| format!("z{i}.bin")).collect();
        let mut files: Vec<(&str, &[u8])> = vec![("composer.json", MANIFEST_JSON.as_bytes())];
        files.extend(names.iter().map(|n| (n.as_str(), zeros.as_slice())));
        let bytes = zip_of(&files);
        let limits = Limits {
            max_ratio: 10,
            ..Limits::default()
        };
        let msg = refused(&bytes, &limits);
        assert!(
            msg.starts_with("the archive would expand") && msg.contains("zip bomb"),
            "{msg}"
        );
        // The total size limit holds on its own, whatever the ratio.
        let limits = Limits {
            max_ratio: u64::MAX,
            max_uncompressed: 1 << 19,
            ..Limits::default()
        };
        let msg = refused(&bytes, &limits);
        assert!(
            msg.contains("would expand to 1048") && msg.contains("524288 allowed"),
            "{msg}"
        );
        let limits = Limits {
            max_ratio: u64::MAX,
            ..Limits::default()
        };
        assert_eq!(inspect_bytes(&bytes, &limits).unwrap().entries, 17);
    }

    #[test]
    fn zip_bomb_entry_hidden_among_incompressible_data() {
        // Random-looking data stored uncompressed keeps the archive's overall ratio low.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let noise: Vec<u8> = (0..(256 << 10))
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        let zeros = vec![0u8; 2 << 20];
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        zip.start_file("composer.json", deflated()).unwrap();
        zip.write_all(MANIFEST_JSON.as_bytes()).unwrap();
        zip.start_file("noise.bin", stored()).unwrap();
        zip.write_all(&noise).unwrap();
        zip.start_file("zeros.bin", deflated()).unwrap();
        zip.write_all(&zeros).unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        let limits = Limits {
            max_ratio: 10,
            ..Limits::default()
        };
        let msg = refused(&bytes, &limits);
        assert!(msg.contains("entry \"zeros.bin\""), "{msg}");
    }

    #[test]
    fn too_many_entries() {
        let files: Vec<(String, Vec<u8>)> = (0..11)
            .map(|i| (format!("src/{i}.php"), b"<?php".to_vec()))
            .collect();
        let mut all: Vec<(&str, &[u8])> = vec![("composer.json", MANIFEST_JSON.as_bytes())];
        all.extend(files.iter().map(|(n, d)| (n.as_str(), d.as_slice())));
        let bytes = zip_of(&all);
        let limits = Limits {
            max_entries: 10,
            ..Limits::default()
        };
        assert!(refused(&bytes, &limits).contains("12 entries, more than the 10"));
        let limits = Limits {
            max_entries: 12,
            ..Limits::default()
        };
        assert_eq!(inspect_bytes(&bytes, &limits).unwrap().entries, 12);
    }

    #[test]
    fn truncated_archive() {
        let bytes = zip_of(&[("composer.json", MANIFEST_JSON.as_bytes())]);
        for len in [bytes.len() - 1, bytes.len() / 2, 4] {
            let msg = refused_default(&bytes[..len]);
            assert!(msg.contains("not a readable zip"), "{len}: {msg}");
        }
    }

    #[test]
    fn garbage_and_empty() {
        let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
        assert!(refused_default(&garbage).contains("not a readable zip"));
        assert!(refused_default(b"PK\x05\x06").contains("not a readable zip"));
        assert!(refused_default(b"").contains("empty"));
    }

    #[test]
    fn corrupt_manifest_data() {
        let mut bytes = zip_of(&[("composer.json", MANIFEST_JSON.as_bytes())]);
        // Flip compressed bytes after the 30-byte local header and the 13-byte name.
        for b in &mut bytes[43..50] {
            *b ^= 0xA5;
        }
        assert!(refused_default(&bytes).contains("composer.json"));
    }

    #[test]
    fn manifest_too_large() {
        let padded = format!(
            r#"{{"name": "acme/widget", "description": "{}"}}"#,
            "x".repeat(2000)
        );
        let bytes = zip_of(&[("composer.json", padded.as_bytes())]);
        let limits = Limits {
            max_manifest: 1000,
            ..Limits::default()
        };
        assert!(refused(&bytes, &limits).contains("larger than 1000 bytes"));
    }

    /// Overwrites a u32 in every central directory header, so the declared size lies.
    fn patch_central(bytes: &mut [u8], field_offset: usize, value: u32) {
        let mut i = 0;
        while i + 46 <= bytes.len() {
            if bytes[i..i + 4] == [0x50, 0x4b, 0x01, 0x02] {
                bytes[i + field_offset..i + field_offset + 4].copy_from_slice(&value.to_le_bytes());
            }
            i += 1;
        }
    }

    #[test]
    fn lying_manifest_size_is_capped() {
        let padded = format!(
            r#"{{"name": "acme/widget", "description": "{}"}}"#,
            "x".repeat(5000)
        );
        let mut bytes = zip_of(&[("composer.json", padded.as_bytes())]);
        // Declared uncompressed size (central header offset 24): 10 bytes.
        patch_central(&mut bytes, 24, 10);
        let limits = Limits {
            max_manifest: 1000,
            ..Limits::default()
        };
        let msg = refused(&bytes, &limits);
        assert!(msg.contains("composer.json"), "{msg}");
    }

    /// Makes the local and central headers of entry `name` declare `size` uncompressed bytes
    /// (the reader refuses headers that disagree, so a liar patches both).
    fn patch_declared_size(bytes: &mut [u8], name: &str, size: u32) {
        // (signature, offset of the uncompressed size, offset of the name)
        for (signature, size_at, name_at) in [
            ([0x50, 0x4b, 0x03, 0x04], 22, 30),
            ([0x50, 0x4b, 0x01, 0x02], 24, 46),
        ] {
            let mut i = 0;
            while i + name_at + name.len() <= bytes.len() {
                if bytes[i..i + 4] == signature
                    && &bytes[i + name_at..i + name_at + name.len()] == name.as_bytes()
                {
                    bytes[i + size_at..i + size_at + 4].copy_from_slice(&size.to_le_bytes());
                }
                i += 1;
            }
        }
    }

    #[test]
    fn lying_entry_sizes_are_caught_by_inflating() {
        // 100 MB of zeros declared as 100 KB: by its headers a harmless archive (ratio ~1).
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        zip.start_file("composer.json", deflated()).unwrap();
        zip.write_all(MANIFEST_JSON.as_bytes()).unwrap();
        zip.start_file("data.bin", deflated()).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..100 {
            zip.write_all(&zeros).unwrap();
        }
        let mut bytes = zip.finish().unwrap().into_inner();
        // Told the truth, the headers alone give it away.
        assert!(refused_default(&bytes).contains("zip bomb"));
        patch_declared_size(&mut bytes, "data.bin", 100 << 10);
        let msg = refused_default(&bytes);
        assert!(msg.contains("\"data.bin\""), "{msg}");
    }

    #[test]
    fn duplicate_paths() {
        let mut bytes = zip_of(&[
            ("composer.json", br#"{"name": "acme/good"}"#),
            ("composer.jsoo", br#"{"name": "acme/evil"}"#),
        ]);
        // The writer refuses duplicates, so rename the second entry in place (local and central).
        let mut i = 0;
        while i + 13 <= bytes.len() {
            if &bytes[i..i + 13] == b"composer.jsoo" {
                bytes[i + 12] = b'n';
            }
            i += 1;
        }
        assert!(refused_default(&bytes).contains("same path more than once"));
    }

    #[test]
    fn encrypted_entry() {
        use zip::unstable::write::FileOptionsExt;
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        zip.start_file("composer.json", deflated()).unwrap();
        zip.write_all(MANIFEST_JSON.as_bytes()).unwrap();
        let secret = deflated().with_deprecated_encryption(b"hunter2").unwrap();
        zip.start_file("secret.php", secret).unwrap();
        zip.write_all(b"<?php").unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        assert!(refused_default(&bytes).contains("encrypted"));
    }

    fn inspected(version: Option<&str>) -> Inspected {
        Inspected {
            manifest: Map::new(),
            name: "acme/widget".to_string(),
            version: version.map(str::to_string),
            root: String::new(),
            entries: 1,
            uncompressed: 1,
        }
    }

    #[test]
    fn coordinates_happy_path() {
        let got = check_coordinates(&inspected(Some("1.2.0")), "acme/widget", Some("1.2.0"));
        assert_eq!(got.unwrap(), "1.2.0");
        // Same version once normalized: the URL's spelling is kept.
        let got = check_coordinates(&inspected(Some("1.2")), "acme/widget", Some("v1.2.0"));
        assert_eq!(got.unwrap(), "v1.2.0");
        let got = check_coordinates(&inspected(None), "acme/widget", Some("2.0.0-beta1"));
        assert_eq!(got.unwrap(), "2.0.0-beta1");
    }

    #[test]
    fn coordinates_name_is_case_insensitive() {
        let got = check_coordinates(&inspected(None), "Acme/Widget", Some("1.0.0"));
        assert_eq!(got.unwrap(), "1.0.0");
    }

    #[test]
    fn coordinates_version_from_manifest_only() {
        for url in [None, Some(""), Some("  ")] {
            let got = check_coordinates(&inspected(Some("1.2.0")), "acme/widget", url);
            assert_eq!(got.unwrap(), "1.2.0");
        }
    }

    #[test]
    fn coordinates_mismatches() {
        match check_coordinates(&inspected(None), "acme/gadget", Some("1.0.0")) {
            Err(Error::Unprocessable(msg)) => {
                assert_eq!(msg, "archive contains acme/widget, not acme/gadget");
            }
            other => panic!("{other:?}"),
        }
        match check_coordinates(&inspected(Some("1.2.0")), "acme/widget", Some("1.3.0")) {
            Err(Error::Unprocessable(msg)) => assert!(msg.contains("does not match"), "{msg}"),
            other => panic!("{other:?}"),
        }
        match check_coordinates(&inspected(None), "acme/widget", None) {
            Err(Error::Validation(msg)) => assert_eq!(
                msg,
                "no version: give it in the URL (?version=) or in composer.json"
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            check_coordinates(&inspected(None), "acme/widget", Some("latest")),
            Err(Error::Validation(_))
        ));
        assert!(matches!(
            check_coordinates(&inspected(Some("banana")), "acme/widget", None),
            Err(Error::Unprocessable(_))
        ));
        assert!(matches!(
            check_coordinates(&inspected(Some("banana")), "acme/widget", Some("1.0.0")),
            Err(Error::Unprocessable(_))
        ));
    }
}
