//! Checks an uploaded module zip the way the go command checks one it downloads
//! (`golang.org/x/mod/zip`), before anything is stored: every entry under one
//! `{module}@{version}/` prefix, file paths the go command accepts (which also keeps every entry
//! inside the module: no absolute path, `..`, backslash or empty element), `go.mod` only at the
//! root and matching the module path, no vendored packages, no names that collide on a
//! case-insensitive file system, at most 500 MB unpacked and a 16 MB `go.mod`. A zip without
//! `go.mod` is accepted (a module from before modules, as Gitea accepts it); its `.mod` is then
//! the `module {path}` line the go command itself makes up for one.

use std::collections::HashMap;
use std::io::{Read, Seek};

use zip::ZipArchive;

use super::module_path::{
    check_file_path, check_module_path, check_path_major, split_path_version,
};
use super::version::GoVersion;
use crate::error::{Error, Result};

/// The go command's limit on a module zip, packed or unpacked (`zip.MaxZipFile`).
pub const MAX_ZIP: u64 = 500 << 20;
/// The go command's limit on `go.mod` (`zip.MaxGoMod`).
const MAX_GO_MOD: u64 = 16 << 20;
/// How many problems a refusal lists.
const LISTED: usize = 5;

/// A module zip that passed.
#[derive(Debug)]
pub struct Checked {
    pub module: String,
    pub version: GoVersion,
    /// The `.mod` served for it: the zip's `go.mod` byte for byte, or the synthesized line.
    pub go_mod: String,
    /// Whether `go_mod` came from the zip.
    pub has_go_mod: bool,
}

/// Checks the zip in `reader`.
pub fn check(reader: impl Read + Seek) -> Result<Checked> {
    let mut archive = ZipArchive::new(reader)
        .map_err(|e| Error::invalid(format!("the body is not a readable zip file: {e}")))?;
    let names: Vec<String> = (0..archive.len())
        .map(|i| {
            let entry = archive.by_index_raw(i).map_err(unreadable)?;
            String::from_utf8(entry.name_raw().to_vec())
                .map_err(|_| Error::invalid("a zip entry's name is not UTF-8"))
        })
        .collect::<Result<_>>()?;
    let first = names
        .first()
        .ok_or_else(|| Error::invalid("the module zip is empty"))?;
    let (module, version) = first
        .split_once('@')
        .and_then(|(module, rest)| Some((module, rest.split_once('/')?.0)))
        .ok_or_else(|| {
            Error::invalid(format!(
                "zip entry {first:?} is not under a {{module}}@{{version}}/ folder"
            ))
        })?;
    check_module_path(module)?;
    let version = GoVersion::parse(version)?;
    let (_, major) = split_path_version(module).expect("checked with the path");
    check_path_major(&version, major)?;
    let prefix = format!("{module}@{version}/");

    let mut problems = Vec::new();
    let mut folded: HashMap<String, &str> = HashMap::new();
    let mut unpacked = 0u64;
    let mut go_mod_index = None;
    for (i, full) in names.iter().enumerate() {
        let Some(name) = full.strip_prefix(&prefix) else {
            problems.push(format!("{full}: path does not have prefix {prefix:?}"));
            continue;
        };
        if name.is_empty() {
            continue;
        }
        let is_dir = name.ends_with('/');
        let name = name.strip_suffix('/').unwrap_or(name);
        if let Err(why) = check_file_path(name) {
            problems.push(format!("{full}: malformed file path: {why}"));
            continue;
        }
        if is_dir {
            continue;
        }
        if name == "go.mod" {
            go_mod_index = Some(i);
        } else if name.ends_with("/go.mod") {
            problems.push(format!(
                "{full}: go.mod file not in module root directory (a nested module's files do \
                 not belong in this module's zip)"
            ));
            continue;
        }
        if is_vendored_package(name) {
            problems.push(format!("{full}: file is in a vendor directory"));
            continue;
        }
        if let Some(other) = folded.insert(name.to_lowercase(), name) {
            problems.push(format!(
                "{full}: case-insensitive file name collision: {other:?} and {name:?}"
            ));
            continue;
        }
        let size = archive.by_index_raw(i).map_err(unreadable)?.size();
        unpacked = unpacked.saturating_add(size);
    }
    if unpacked > MAX_ZIP {
        problems.push(format!(
            "total uncompressed size of module contents too large (max size is {MAX_ZIP} bytes)"
        ));
    }
    if !problems.is_empty() {
        let more = problems.len().saturating_sub(LISTED);
        problems.truncate(LISTED);
        let mut message = format!("invalid module zip: {}", problems.join("; "));
        if more > 0 {
            message.push_str(&format!("; and {more} more"));
        }
        return Err(Error::invalid(message));
    }

    let (go_mod, has_go_mod) = match go_mod_index {
        Some(i) => (read_go_mod(&mut archive, i, module)?, true),
        None => (format!("module {module}\n"), false),
    };
    if has_go_mod && version.is_incompatible() {
        return Err(Error::invalid(format!(
            "version {version}: a module with a go.mod file cannot have +incompatible versions; \
             name its path with the major-version suffix (/v{})",
            version.major()
        )));
    }
    Ok(Checked {
        module: module.to_string(),
        version,
        go_mod,
        has_go_mod,
    })
}

fn unreadable(e: zip::result::ZipError) -> Error {
    Error::invalid(format!("the module zip cannot be read: {e}"))
}

/// Whether a file belongs to a vendored package (`vendor/x/y.go`; `vendor/modules.txt` is not).
fn is_vendored_package(name: &str) -> bool {
    let after = if let Some(rest) = name.strip_prefix("vendor/") {
        rest
    } else if let Some(at) = name.find("/vendor/") {
        &name[at + "/vendor/".len()..]
    } else {
        return false;
    };
    after.contains('/')
}

fn read_go_mod(
    archive: &mut ZipArchive<impl Read + Seek>,
    index: usize,
    module: &str,
) -> Result<String> {
    let entry = archive.by_index(index).map_err(unreadable)?;
    let mut bytes = Vec::new();
    entry
        .take(MAX_GO_MOD + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::invalid(format!("go.mod cannot be read from the zip: {e}")))?;
    if bytes.len() as u64 > MAX_GO_MOD {
        return Err(Error::invalid(format!(
            "go.mod file too large (max size is {MAX_GO_MOD} bytes)"
        )));
    }
    let text = String::from_utf8(bytes).map_err(|_| Error::invalid("go.mod is not UTF-8"))?;
    match module_directive(&text) {
        Some(declared) if declared == module => Ok(text),
        Some(declared) => Err(Error::invalid(format!(
            "go.mod declares module {declared:?}, but the zip holds module {module:?}"
        ))),
        None => Err(Error::invalid("go.mod has no module directive")),
    }
}

/// The path of go.mod's `module` directive (`module example.com/m`, quoted or not, a comment
/// after it), or of the one line of a `module ( … )` block.
fn module_directive(go_mod: &str) -> Option<String> {
    let mut lines = go_mod.lines().map(|line| {
        let code = line.split_once("//").map_or(line, |(code, _)| code);
        code.trim()
    });
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix("module") else {
            continue;
        };
        if !rest.starts_with([' ', '\t', '(', '"', '`']) {
            continue;
        }
        let mut path = rest.trim();
        if path == "(" {
            path = lines.find(|l| !l.is_empty())?;
        }
        let unquoted = path
            .strip_prefix('"')
            .and_then(|p| p.strip_suffix('"'))
            .or_else(|| path.strip_prefix('`').and_then(|p| p.strip_suffix('`')))
            .unwrap_or(path);
        return Some(unquoted.to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Write};

    use zip::write::SimpleFileOptions;

    use super::*;

    fn zip_of(entries: &[(&str, &str)]) -> Cursor<Vec<u8>> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, content) in entries {
            if name.ends_with('/') {
                writer
                    .add_directory(*name, SimpleFileOptions::default())
                    .unwrap();
            } else {
                writer
                    .start_file(*name, SimpleFileOptions::default())
                    .unwrap();
                writer.write_all(content.as_bytes()).unwrap();
            }
        }
        Cursor::new(writer.finish().unwrap().into_inner())
    }

    fn refusal(entries: &[(&str, &str)]) -> String {
        check(zip_of(entries)).unwrap_err().to_string()
    }

    const GO_MOD: &str = "// the library\nmodule example.com/lib // here\n\ngo 1.19\n";

    #[test]
    fn a_module_zip_passes_with_its_go_mod_as_is() {
        let checked = check(zip_of(&[
            ("example.com/lib@v1.2.0/go.mod", GO_MOD),
            ("example.com/lib@v1.2.0/lib.go", "package lib\n"),
            ("example.com/lib@v1.2.0/sub/", ""),
            ("example.com/lib@v1.2.0/sub/x.go", "package sub\n"),
            ("example.com/lib@v1.2.0/vendor/modules.txt", ""),
        ]))
        .unwrap();
        assert_eq!(checked.module, "example.com/lib");
        assert_eq!(checked.version.as_str(), "v1.2.0");
        assert_eq!(checked.go_mod, GO_MOD);
        assert!(checked.has_go_mod);
    }

    #[test]
    fn a_zip_without_go_mod_gets_the_module_line() {
        let checked = check(zip_of(&[(
            "example.com/Old@v2.1.0+incompatible/a.go",
            "package a\n",
        )]))
        .unwrap();
        assert_eq!(checked.go_mod, "module example.com/Old\n");
        assert!(!checked.has_go_mod);
    }

    #[test]
    fn bad_zips_are_refused_with_the_reason() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "not a readable zip"),
            (&[("lib.go", "")], "not under a {module}@{version}/ folder"),
            (&[("lib@v1.0.0/go.mod", "module lib\n")], "missing dot"),
            (
                &[("example.com/lib@1.0.0/a.go", "")],
                "must start with \"v\"",
            ),
            (
                &[("example.com/lib@v2.0.0/go.mod", GO_MOD)],
                "should be v0 or v1, not v2",
            ),
            (
                &[("example.com/lib/v2@v1.0.0/a.go", "")],
                "should be v2, not v1",
            ),
            (
                &[(
                    "example.com/lib@v1.0.0/go.mod",
                    "module example.com/other\n",
                )],
                "declares module \"example.com/other\"",
            ),
            (
                &[
                    ("example.com/lib@v1.0.0/a.go", ""),
                    ("example.com/other@v1.0.0/b.go", ""),
                ],
                "does not have prefix",
            ),
            (
                &[("example.com/lib@v1.0.0/../../evil", "")],
                "malformed file path",
            ),
            (
                &[("example.com/lib@v1.0.0/a\\..\\b", "")],
                "malformed file path",
            ),
            (
                &[("example.com/lib@v1.0.0/vendor/x/y.go", "")],
                "vendor directory",
            ),
            (
                &[
                    ("example.com/lib@v1.0.0/go.mod", GO_MOD),
                    (
                        "example.com/lib@v1.0.0/tool/go.mod",
                        "module example.com/lib/tool\n",
                    ),
                ],
                "not in module root",
            ),
            (
                &[
                    ("example.com/lib@v1.0.0/README", ""),
                    ("example.com/lib@v1.0.0/readme", ""),
                ],
                "case-insensitive file name collision",
            ),
            (
                &[("example.com/lib@v1.0.0/go.mod", "go 1.19\n")],
                "no module directive",
            ),
            (
                &[("example.com/lib/v3@v3.0.0+incompatible/a.go", "")],
                "+incompatible",
            ),
        ];
        for (entries, expected) in cases {
            let refused = if entries.is_empty() {
                check(Cursor::new(b"not a zip".to_vec()))
                    .unwrap_err()
                    .to_string()
            } else {
                refusal(entries)
            };
            assert!(refused.contains(expected), "{entries:?}: {refused}");
        }
        let with_go_mod = refusal(&[(
            "example.com/lib@v2.0.0+incompatible/go.mod",
            "module example.com/lib\n",
        )]);
        assert!(
            with_go_mod.contains("cannot have +incompatible"),
            "{with_go_mod}"
        );
    }

    #[test]
    fn module_directives() {
        assert_eq!(module_directive(GO_MOD).as_deref(), Some("example.com/lib"));
        assert_eq!(
            module_directive("module \"example.com/q\"\n").as_deref(),
            Some("example.com/q")
        );
        assert_eq!(
            module_directive("module (\n\texample.com/b\n)\n").as_deref(),
            Some("example.com/b")
        );
        assert_eq!(module_directive("modules x\n"), None);
        assert_eq!(module_directive("// module x\n"), None);
    }
}
