//! Gitea's Generic registry rules (seed 002): package and file names use only letters, digits,
//! `.`, `-`, `+` and `_`; a version is any non-empty text without surrounding whitespace, control
//! or bidirectional formatting characters (`text::check_visible`).

use crate::error::{Error, Result};

const MAX_LEN: usize = 255;

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_')
}

fn check_name(kind: &str, value: &str) -> Result<()> {
    if value.is_empty() || value.len() > MAX_LEN {
        return Err(Error::invalid(format!(
            "{kind} must be 1 to {MAX_LEN} characters long"
        )));
    }
    if value == "." || value == ".." {
        return Err(Error::invalid(format!("{kind} must not be {value:?}")));
    }
    if let Some(bad) = value.chars().find(|&c| !allowed(c)) {
        return Err(Error::invalid(format!(
            "{kind} {value:?} contains {bad:?}; only letters, digits, '.', '-', '+' and '_' are allowed"
        )));
    }
    Ok(())
}

pub fn check_package_name(name: &str) -> Result<()> {
    check_name("package name", name)
}

pub fn check_file_name(name: &str) -> Result<()> {
    check_name("file name", name)
}

pub fn check_version(version: &str) -> Result<()> {
    if version.is_empty() || version.len() > MAX_LEN {
        return Err(Error::invalid(format!(
            "version must be 1 to {MAX_LEN} characters long"
        )));
    }
    if version.trim() != version {
        return Err(Error::invalid(
            "version must not start or end with whitespace",
        ));
    }
    if version == "." || version == ".." || version.contains(['/', '\\']) {
        return Err(Error::invalid(format!(
            "version {version:?} is not allowed"
        )));
    }
    crate::text::check_visible("version", version)
}

/// Generic's rules for the core: names as Gitea takes them; versions have no order and grants
/// match them by the default `*` or glob.
pub struct GenericRules;

impl crate::package_rules::PackageRules for GenericRules {
    fn format(&self) -> &'static str {
        super::FORMAT
    }

    fn normalize_name(&self, name: &str) -> Result<String> {
        let name = name.trim();
        check_package_name(name)?;
        Ok(name.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_accept_the_documented_set() {
        for ok in ["test_package", "A-Z.a-z+0-9_", "file.bin", "x"] {
            check_package_name(ok).unwrap();
            check_file_name(ok).unwrap();
        }
    }

    #[test]
    fn names_refuse_everything_else() {
        let long = "a".repeat(256);
        for bad in [
            "", ".", "..", "a b", "a/b", "a\\b", "ä", "a%b", "a:b", "a*b", "a~b", "a\"b", "a\0b",
            "a\nb", "a?b", "a#b", &long,
        ] {
            assert!(check_package_name(bad).is_err(), "{bad:?}");
            assert!(check_file_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn versions() {
        for ok in ["1.0.0", "2024-01-01", "v1 beta", "ünïcode", "1.0.0+build.5"] {
            check_version(ok).unwrap();
        }
        for bad in [
            "",
            " 1.0",
            "1.0 ",
            "\t1",
            "1.0\n",
            ".",
            "..",
            "1/2",
            "a\u{7}b",
            "1.0\u{202E}",
        ] {
            assert!(check_version(bad).is_err(), "{bad:?}");
        }
    }
}
