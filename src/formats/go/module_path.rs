//! Module paths and file paths inside a module, checked by the rules of `golang.org/x/mod/module`
//! (`CheckPath`, `CheckFilePath`, `SplitPathVersion`, `CheckPathMajor`), and the proxy's case
//! encoding read back (`!` before each upper-case letter, so case-insensitive file systems can
//! hold the layout). A path that passes here is safe as a package name and inside any file name: no
//! empty, `.` or `..` element, no backslash, no control character.

use super::version::GoVersion;
use crate::error::{Error, Result};

/// What a path names, for the characters its elements may hold.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Module,
    File,
}

/// Checks a module path (`example.com/lib/v2`).
pub fn check_module_path(path: &str) -> Result<()> {
    let invalid = |why: &str| {
        Err(Error::invalid(format!(
            "malformed module path {path:?}: {why}"
        )))
    };
    check_elements(path, Kind::Module).or_else(|why| invalid(&why))?;
    let first = path.split('/').next().unwrap_or_default();
    if !first.contains('.') {
        return invalid("missing dot in first path element");
    }
    if first.starts_with('-') {
        return invalid("leading dash in first path element");
    }
    if let Some(c) = first
        .chars()
        .find(|c| !matches!(c, '-' | '.' | '0'..='9' | 'a'..='z'))
    {
        return invalid(&format!("invalid char {c:?} in first path element"));
    }
    if split_path_version(path).is_none() {
        return invalid("invalid version suffix");
    }
    Ok(())
}

/// Checks the path of a file inside a module (relative to its root).
pub fn check_file_path(path: &str) -> std::result::Result<(), String> {
    check_elements(path, Kind::File)
}

fn check_elements(path: &str, kind: Kind) -> std::result::Result<(), String> {
    if path.is_empty() {
        return Err("empty string".into());
    }
    if path.starts_with('/') || path.ends_with('/') {
        return Err("leading or trailing slash".into());
    }
    if path.starts_with('-') && kind == Kind::Module {
        return Err("leading dash".into());
    }
    path.split('/')
        .try_for_each(|elem| check_element(elem, kind))
}

fn check_element(elem: &str, kind: Kind) -> std::result::Result<(), String> {
    if elem.is_empty() {
        return Err("double slash".into());
    }
    if elem == "." || elem == ".." {
        return Err(format!("invalid path element {elem:?}"));
    }
    if kind == Kind::Module {
        if elem.starts_with('.') {
            return Err(format!("leading dot in path element {elem:?}"));
        }
        if elem.ends_with('.') {
            return Err(format!("trailing dot in path element {elem:?}"));
        }
    }
    if let Some(c) = elem.chars().find(|&c| !char_ok(c, kind)) {
        return Err(format!("invalid char {c:?}"));
    }
    // Windows reserves these names whatever follows a dot (`aux.go`); they cannot be checked out.
    let short = elem.split('.').next().unwrap_or_default();
    const RESERVED: [&str; 22] = [
        "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
        "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    ];
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(short)) {
        return Err(format!(
            "{short:?} disallowed as path element component on Windows"
        ));
    }
    if kind == Kind::Module
        && let Some((_, suffix)) = short.rsplit_once('~')
        && !suffix.is_empty()
        && suffix.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!(
            "trailing tilde and digits in path element {elem:?}"
        ));
    }
    Ok(())
}

fn char_ok(c: char, kind: Kind) -> bool {
    if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~') {
        return true;
    }
    match kind {
        Kind::Module => false,
        // As the go command allows in file names: some ASCII punctuation, and letters of any
        // script.
        Kind::File => "!#$%&()+,=@[]^{} ".contains(c) || (!c.is_ascii() && c.is_alphabetic()),
    }
}

/// The path without its major-version suffix, and the suffix (`/v2`, `.v1` for gopkg.in, or
/// empty); `None` when the suffix is malformed (`/v1`, `/v0`, `/v02`, `/v2.0`).
pub fn split_path_version(path: &str) -> Option<(&str, &str)> {
    let gopkg = path.starts_with("gopkg.in/");
    let digits = path.len() - path.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let with_dots = path.len()
        - path
            .trim_end_matches(|c: char| c.is_ascii_digit() || c == '.')
            .len();
    if gopkg {
        let i = path.len() - digits;
        if digits == 0 || i < 2 || !path[..i].ends_with(".v") {
            return None;
        }
        let major = &path[i - 2..];
        if major.as_bytes()[2] == b'0' && major != ".v0" {
            return None;
        }
        return Some((&path[..i - 2], major));
    }
    let i = path.len() - with_dots;
    if with_dots == 0 || i < 2 || !path[..i].ends_with("/v") {
        return Some((path, ""));
    }
    let major = &path[i - 2..];
    if with_dots != digits || major.as_bytes()[2] == b'0' || major == "/v1" {
        return None;
    }
    Some((&path[..i - 2], major))
}

/// Checks that `version` may be a version of a module whose path ends in `major` (from
/// `split_path_version`): `/vN` takes only vN.x.y; no suffix takes v0, v1 and `+incompatible`.
pub fn check_path_major(version: &GoVersion, major: &str) -> Result<()> {
    let got = format!("v{}", version.major());
    let wanted = match major {
        "" if got == "v0" || got == "v1" || version.is_incompatible() => return Ok(()),
        "" => "v0 or v1".to_string(),
        // gopkg.in's `.v1` also holds v0 pseudo-versions.
        ".v1" if version.as_str().starts_with("v0.0.0-") => return Ok(()),
        suffix => {
            let want = suffix[1..].trim_end_matches("-unstable");
            if want == got && !version.is_incompatible() {
                return Ok(());
            }
            want.to_string()
        }
    };
    if version.is_incompatible() {
        return Err(Error::invalid(format!(
            "version {version}: +incompatible is only for a v2+ module without a major-version \
             suffix in its path"
        )));
    }
    Err(Error::invalid(format!(
        "version {version} does not match the module path's major version: should be {wanted}, \
         not {got}"
    )))
}

/// A path or version in the proxy's case encoding (`!` and the lower-case letter for each
/// upper-case one) decoded; `None` for what the encoding never produces (a bare upper-case
/// letter, `!` not followed by a lower-case one).
pub fn unescape(escaped: &str) -> Option<String> {
    let mut path = String::with_capacity(escaped.len());
    let mut bang = false;
    for c in escaped.chars() {
        match (bang, c) {
            (true, 'a'..='z') => {
                path.push(c.to_ascii_uppercase());
                bang = false;
            }
            (true, _) => return None,
            (false, '!') => bang = true,
            (false, 'A'..='Z') => return None,
            (false, _) => path.push(c),
        }
    }
    (!bang).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_paths() {
        for ok in [
            "example.com/lib",
            "example.com/lib/v2",
            "github.com/Acme/Tool",
            "gopkg.in/yaml.v2",
            "my-host.io/a_b/c~d/e.f",
            "example.com",
        ] {
            check_module_path(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "",
            "lib",
            "Example.com/lib",
            "-x.com/lib",
            "example.com//lib",
            "example.com/../lib",
            "example.com/./lib",
            "/example.com/lib",
            "example.com/lib/",
            "example.com/.hidden",
            "example.com/trailing.",
            "example.com/lib/v1",
            "example.com/lib/v0",
            "example.com/lib/v02",
            "example.com/lib/v2.0",
            "example.com/a b",
            "example.com/a\\b",
            "example.com/aux",
            "example.com/prn.x",
            "example.com/a~1",
            "example.com/ü",
            "gopkg.in/yaml",
        ] {
            assert!(check_module_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn file_paths() {
        for ok in ["go.mod", "a/b.go", "x/.github/y", "a b/c+d@e.txt", "ü/ñ.go"] {
            check_file_path(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "", "/a", "a/", "a//b", "../a", "a/./b", "a\\b", "a\0b", "a:b", "con.go",
        ] {
            assert!(check_file_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn major_version_suffixes() {
        assert_eq!(split_path_version("a.com/x"), Some(("a.com/x", "")));
        assert_eq!(split_path_version("a.com/x/v2"), Some(("a.com/x", "/v2")));
        assert_eq!(split_path_version("a.com/x/v10"), Some(("a.com/x", "/v10")));
        assert_eq!(split_path_version("a.com/x2"), Some(("a.com/x2", "")));
        assert_eq!(split_path_version("a.com/v2x"), Some(("a.com/v2x", "")));
        assert_eq!(split_path_version("a.com/x/v1"), None);
        assert_eq!(
            split_path_version("gopkg.in/y.v3"),
            Some(("gopkg.in/y", ".v3"))
        );
        assert_eq!(
            split_path_version("gopkg.in/y.v0"),
            Some(("gopkg.in/y", ".v0"))
        );
    }

    #[test]
    fn versions_must_match_the_major_suffix() {
        let v = |s: &str| GoVersion::parse(s).unwrap();
        assert!(check_path_major(&v("v1.2.0"), "").is_ok());
        assert!(check_path_major(&v("v0.1.0"), "").is_ok());
        assert!(check_path_major(&v("v2.0.0+incompatible"), "").is_ok());
        assert!(check_path_major(&v("v2.0.0"), "/v2").is_ok());
        assert!(check_path_major(&v("v2.1.0-rc.1"), "/v2").is_ok());
        assert!(check_path_major(&v("v3.0.0"), ".v3").is_ok());
        let refused = check_path_major(&v("v2.0.0"), "").unwrap_err().to_string();
        assert!(refused.contains("should be v0 or v1, not v2"), "{refused}");
        assert!(check_path_major(&v("v1.0.0"), "/v2").is_err());
        assert!(check_path_major(&v("v3.0.0"), "/v2").is_err());
        assert!(check_path_major(&v("v2.0.0+incompatible"), "/v2").is_err());
    }

    #[test]
    fn case_encoding() {
        assert_eq!(
            unescape("github.com/!acme/!tool").as_deref(),
            Some("github.com/Acme/Tool")
        );
        assert_eq!(unescape("v1.0.0-!r!c").as_deref(), Some("v1.0.0-RC"));
        for bad in ["github.com/Acme", "a!", "a!1", "a!!b"] {
            assert_eq!(unescape(bad), None, "{bad}");
        }
    }
}
