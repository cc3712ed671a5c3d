//! `.PKGINFO`, the metadata makepkg writes at the top of every package: `key = value` lines,
//! `#` comments, a key repeated once per element of a list. Values are read the way repo-add 6.0.2
//! reads them (it is what turns them into the repo database, byte for byte): the key ends at the
//! first space or `=`, one `=` and the spaces around it are dropped, the rest is the value (so
//! `key = a = b` has the value `a = b`) with every run of whitespace made one space. Unknown keys
//! (`xdata`, `backup`, `makepkgopt`, …) are ignored; of a scalar key repeated the last wins, as in
//! repo-add. Empty list values are skipped: repo-add would write them as blank lines, which end the
//! list early for pacman.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The fields of a `.PKGINFO` that the repo database carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PkgInfo {
    pub name: String,
    pub base: String,
    pub version: String,
    pub desc: String,
    pub url: String,
    pub builddate: u64,
    pub packager: String,
    pub size: u64,
    pub arch: String,
    pub license: Vec<String>,
    pub groups: Vec<String>,
    pub replaces: Vec<String>,
    pub conflicts: Vec<String>,
    pub provides: Vec<String>,
    pub depends: Vec<String>,
    pub optdepends: Vec<String>,
    pub makedepends: Vec<String>,
    pub checkdepends: Vec<String>,
}

impl PkgInfo {
    /// Parses a `.PKGINFO`; `pkgname`, `pkgver` and `arch` are required and checked, `pkgbase`
    /// defaults to the name.
    pub fn parse(text: &str) -> Result<PkgInfo> {
        let mut info = PkgInfo::default();
        for line in text.lines() {
            let line = line.trim_matches([' ', '\t', '\r']);
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, value) = split_line(line);
            info.set(key, value)?;
        }
        for (key, value) in [
            ("pkgname", &info.name),
            ("pkgver", &info.version),
            ("arch", &info.arch),
        ] {
            if value.is_empty() {
                return Err(Error::unprocessable(format!("invalid .PKGINFO: no {key}")));
            }
        }
        if info.base.is_empty() {
            info.base = info.name.clone();
        }
        check_name(&info.name)?;
        check_name(&info.base).map_err(|_| {
            Error::unprocessable(format!(
                "pkgbase {:?} is not a valid package name",
                info.base
            ))
        })?;
        check_version(&info.version)?;
        check_arch(&info.arch)?;
        Ok(info)
    }

    fn set(&mut self, key: &str, value: String) -> Result<()> {
        match key {
            "pkgname" => self.name = value,
            "pkgbase" => self.base = value,
            "pkgver" => self.version = value,
            "pkgdesc" => self.desc = value,
            "url" => self.url = value,
            "packager" => self.packager = value,
            "arch" => self.arch = value,
            "builddate" => self.builddate = number(key, &value)?,
            "size" => self.size = number(key, &value)?,
            "license" => push(&mut self.license, value),
            "group" => push(&mut self.groups, value),
            "replaces" => push(&mut self.replaces, value),
            "conflict" => push(&mut self.conflicts, value),
            "provides" => push(&mut self.provides, value),
            "depend" => push(&mut self.depends, value),
            "optdepend" => push(&mut self.optdepends, value),
            "makedepend" => push(&mut self.makedepends, value),
            "checkdepend" => push(&mut self.checkdepends, value),
            _ => {}
        }
        Ok(())
    }
}

fn number(key: &str, value: &str) -> Result<u64> {
    value.parse().map_err(|_| {
        Error::unprocessable(format!("invalid .PKGINFO: {key} {value:?} is not a number"))
    })
}

fn push(list: &mut Vec<String>, value: String) {
    if !value.is_empty() {
        list.push(value);
    }
}

/// Splits a trimmed, non-comment line as bash's `IFS=' =' read -r var val` does in repo-add, and
/// makes each run of whitespace (`[[:space:]]`) in the value one space, as its
/// `${val//+([[:space:]])/ }` does.
fn split_line(line: &str) -> (&str, String) {
    let end = line.find([' ', '=']).unwrap_or(line.len());
    let (key, rest) = line.split_at(end);
    let rest = rest.trim_start_matches(' ');
    let rest = rest.strip_prefix('=').unwrap_or(rest);
    let rest = rest.trim_start_matches(' ');
    let mut value = String::with_capacity(rest.len());
    for c in rest.chars() {
        if matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r') {
            if !value.ends_with(' ') {
                value.push(' ');
            }
        } else {
            value.push(c);
        }
    }
    (key, value)
}

/// A package name as makepkg and pacman accept it: lower-case letters, digits and `@._+-`, not
/// starting with `-` or `.`, at most 255 bytes. Such a name is also safe in file names and URLs.
pub fn check_name(name: &str) -> Result<()> {
    let invalid = |why: &str| {
        Err(Error::unprocessable(format!(
            "pkgname {name:?} is not a valid package name: {why}"
        )))
    };
    if name.is_empty() {
        return invalid("empty");
    }
    if name.len() > 255 {
        return invalid("longer than 255 characters");
    }
    if name.starts_with(['-', '.']) {
        return invalid("starts with '-' or '.'");
    }
    if let Some(c) = name
        .chars()
        .find(|c| !matches!(c, 'a'..='z' | '0'..='9' | '@' | '.' | '_' | '+' | '-'))
    {
        return invalid(&format!("{c:?} is not allowed (only a-z 0-9 @ . _ + -)"));
    }
    Ok(())
}

/// A full package version `[epoch:]pkgver-pkgrel`: the epoch digits, the pkgver printable ASCII
/// without `:`, `/`, `-` or whitespace, the pkgrel `1` or `1.1`.
pub fn check_version(version: &str) -> Result<()> {
    let invalid = |why: &str| {
        Err(Error::unprocessable(format!(
            "pkgver {version:?} is not a valid version: {why}"
        )))
    };
    let Some((rest, pkgrel)) = version.rsplit_once('-') else {
        return invalid("no pkgrel (expected [epoch:]pkgver-pkgrel)");
    };
    let (epoch, pkgver) = match rest.split_once(':') {
        Some((epoch, pkgver)) => (Some(epoch), pkgver),
        None => (None, rest),
    };
    if let Some(epoch) = epoch
        && (epoch.is_empty() || !epoch.bytes().all(|b| b.is_ascii_digit()))
    {
        return invalid("the epoch is not a number");
    }
    if pkgver.is_empty() {
        return invalid("empty pkgver");
    }
    if let Some(c) = pkgver
        .chars()
        .find(|c| !c.is_ascii_graphic() || matches!(c, ':' | '/' | '-'))
    {
        return invalid(&format!("{c:?} is not allowed in pkgver"));
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let pkgrel_ok = match pkgrel.split_once('.') {
        Some((major, minor)) => digits(major) && digits(minor),
        None => digits(pkgrel),
    };
    if !pkgrel_ok {
        return invalid("pkgrel is not like 1 or 1.1");
    }
    Ok(())
}

/// An architecture: letters, digits and `_` (`any`, `x86_64`, `aarch64`, `armv7h`, …).
pub fn check_arch(arch: &str) -> Result<()> {
    if arch.is_empty() || !arch.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(Error::unprocessable(format!(
            "arch {arch:?} is not a valid architecture (letters, digits and _ only)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(result: Result<impl std::fmt::Debug>) -> String {
        match result {
            Err(Error::Unprocessable(msg)) => msg,
            other => panic!("expected a 422, got {other:?}"),
        }
    }

    const FULL: &str = "\
# Generated by makepkg 6.0.2
# using fakeroot version 1.31
pkgname = foo-bar
pkgbase = foo
xdata = pkgtype=split
pkgver = 2:1.2.3_rc1-4.1
pkgdesc = A   tool\tthat does = things
url = https://example.com/foo
builddate = 1700000000
packager = Jane Doe <jane@example.com>
size = 123456
arch = x86_64

license = GPL-2.0-or-later
license = MIT
group = devel
group = base-devel
replaces = old-foo<1.0
conflict = foo-git
provides = libfoo.so=1-64
provides = foo=1.2.3
backup = etc/foo.conf
depend = glibc
depend = bar>=2
optdepend = baz: for the baz backend
makedepend = cmake
checkdepend = python-pytest
makepkgopt = strip
";

    #[test]
    fn parses_every_key() {
        let info = PkgInfo::parse(FULL).unwrap();
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            info,
            PkgInfo {
                name: "foo-bar".into(),
                base: "foo".into(),
                version: "2:1.2.3_rc1-4.1".into(),
                desc: "A tool that does = things".into(),
                url: "https://example.com/foo".into(),
                builddate: 1_700_000_000,
                packager: "Jane Doe <jane@example.com>".into(),
                size: 123_456,
                arch: "x86_64".into(),
                license: strings(&["GPL-2.0-or-later", "MIT"]),
                groups: strings(&["devel", "base-devel"]),
                replaces: strings(&["old-foo<1.0"]),
                conflicts: strings(&["foo-git"]),
                provides: strings(&["libfoo.so=1-64", "foo=1.2.3"]),
                depends: strings(&["glibc", "bar>=2"]),
                optdepends: strings(&["baz: for the baz backend"]),
                makedepends: strings(&["cmake"]),
                checkdepends: strings(&["python-pytest"]),
            }
        );
    }

    #[test]
    fn base_defaults_to_name_and_lists_default_empty() {
        let info = PkgInfo::parse("pkgname = a\npkgver = 1-1\narch = any\n").unwrap();
        assert_eq!(info.base, "a");
        assert_eq!((info.size, info.builddate), (0, 0));
        assert!(info.depends.is_empty() && info.desc.is_empty());
    }

    #[test]
    fn lines_split_as_repo_add_splits_them() {
        assert_eq!(split_line("key = value = x"), ("key", "value = x".into()));
        assert_eq!(split_line("key=value"), ("key", "value".into()));
        assert_eq!(split_line("key   =   a  b"), ("key", "a b".into()));
        assert_eq!(split_line("key = =x"), ("key", "=x".into()));
        assert_eq!(split_line("key value"), ("key", "value".into()));
        assert_eq!(split_line("key ="), ("key", String::new()));
        assert_eq!(split_line("key"), ("key", String::new()));
        assert_eq!(split_line("key = \ta\t\x0b b"), ("key", " a b".into()));
    }

    #[test]
    fn comments_blank_lines_and_repeated_keys() {
        let text = "\n  # a comment\npkgname = a\n\n#pkgname = b\npkgver = 1-1\narch = any\n\
                    depend = x\ndepend =\ndepend = y\npkgdesc = first\npkgdesc = last\r\n";
        let info = PkgInfo::parse(text).unwrap();
        assert_eq!(info.name, "a");
        assert_eq!(info.depends, ["x", "y"]);
        assert_eq!(info.desc, "last");
    }

    #[test]
    fn required_keys() {
        let msg = err(PkgInfo::parse("pkgver = 1-1\narch = any\n"));
        assert!(msg.contains("no pkgname"), "{msg}");
        let msg = err(PkgInfo::parse("pkgname = a\narch = any\n"));
        assert!(msg.contains("no pkgver"), "{msg}");
        let msg = err(PkgInfo::parse("pkgname = a\npkgver = 1-1\n"));
        assert!(msg.contains("no arch"), "{msg}");
        let msg = err(PkgInfo::parse(
            "pkgname = a\npkgver = 1-1\narch = any\nsize = 12k\n",
        ));
        assert!(msg.contains("size \"12k\" is not a number"), "{msg}");
    }

    #[test]
    fn invalid_values_are_named() {
        let msg = err(PkgInfo::parse("pkgname = Foo\npkgver = 1-1\narch = any\n"));
        assert!(
            msg.contains("pkgname \"Foo\" is not a valid package name"),
            "{msg}"
        );
        let msg = err(PkgInfo::parse(
            "pkgname = a\npkgbase = -a\npkgver = 1-1\narch = any\n",
        ));
        assert!(msg.contains("pkgbase \"-a\""), "{msg}");
        let msg = err(PkgInfo::parse("pkgname = a\npkgver = 1\narch = any\n"));
        assert!(msg.contains("pkgver \"1\" is not a valid version"), "{msg}");
        let msg = err(PkgInfo::parse("pkgname = a\npkgver = 1-1\narch = x86-64\n"));
        assert!(msg.contains("arch \"x86-64\""), "{msg}");
    }

    #[test]
    fn names() {
        for good in [
            "a",
            "foo-bar",
            "lib32-glibc",
            "python3.12",
            "gtk+",
            "foo@bar",
            "a_b",
            "0ad",
        ] {
            check_name(good).unwrap();
        }
        check_name(&"a".repeat(255)).unwrap();
        for (bad, why) in [
            ("", "empty"),
            ("-a", "starts with"),
            (".a", "starts with"),
            ("Foo", "'F' is not allowed"),
            ("a b", "' ' is not allowed"),
            ("a/b", "'/' is not allowed"),
            ("ä", "'ä' is not allowed"),
            (&"a".repeat(256), "longer than 255"),
        ] {
            let msg = err(check_name(bad));
            assert!(
                msg.contains("is not a valid package name") && msg.contains(why),
                "{msg}"
            );
        }
    }

    #[test]
    fn versions() {
        for good in [
            "1-1",
            "1.0-1",
            "1:1.0-1",
            "20240101.r1.gabc_1+x~y-1.1",
            "0-0",
            "10:a-2",
        ] {
            check_version(good).unwrap();
        }
        for (bad, why) in [
            ("1", "no pkgrel"),
            ("-1", "empty pkgver"),
            ("1.0-1-1", "'-' is not allowed"),
            ("a:1.0-1", "epoch is not a number"),
            (":1.0-1", "epoch is not a number"),
            ("1:2:3-1", "':' is not allowed"),
            ("1/0-1", "'/' is not allowed"),
            ("1 0-1", "' ' is not allowed"),
            ("1\u{7f}-1", "is not allowed"),
            ("1.0-", "pkgrel"),
            ("1.0-a", "pkgrel"),
            ("1.0-1.", "pkgrel"),
            ("1.0-1.1.1", "pkgrel"),
        ] {
            let msg = err(check_version(bad));
            assert!(
                msg.contains("is not a valid version") && msg.contains(why),
                "{bad}: {msg}"
            );
        }
    }

    #[test]
    fn arches() {
        for good in ["any", "x86_64", "aarch64", "armv7h", "i686"] {
            check_arch(good).unwrap();
        }
        for bad in ["", "x86-64", "a b", "../x"] {
            let msg = err(check_arch(bad));
            assert!(msg.contains("is not a valid architecture"), "{msg}");
        }
    }
}
