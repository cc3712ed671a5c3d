//! npm's package name rules for new packages (what the `validate-npm-package-name` package calls
//! valid for new packages): 1 to 214 characters, lower case, no leading `.` or `_`, nothing a URL
//! would have to escape, optionally under a scope (`@scope/name`). Pure functions.

use crate::error::{Error, Result};

const MAX_LEN: usize = 214;

/// Names npm reserves whatever their form.
const RESERVED: &[&str] = &["node_modules", "favicon.ico"];

/// A name npm accepts for a new package, or a refusal saying why.
pub fn check_name(name: &str) -> Result<()> {
    let refuse = |why: &str| {
        Err(Error::invalid(format!(
            "invalid package name {name:?}: {why}"
        )))
    };
    if name.is_empty() || name.len() > MAX_LEN {
        return refuse("must be 1 to 214 characters long");
    }
    if name.starts_with('.') || name.starts_with('_') {
        return refuse("must not start with '.' or '_'");
    }
    if name.chars().any(|c| c.is_ascii_uppercase()) {
        return refuse("must be lower case");
    }
    if RESERVED.contains(&name) {
        return refuse("is a reserved name");
    }
    let parts: Vec<&str> = match name.strip_prefix('@') {
        Some(scoped) => match scoped.split_once('/') {
            Some((scope, bare)) => vec![scope, bare],
            None => return refuse("a scoped name is @scope/name"),
        },
        None => vec![name],
    };
    for part in parts {
        if part.is_empty() || part == "." || part == ".." {
            return refuse("a scope or name must not be empty, '.' or '..'");
        }
        if part.starts_with('.') || part.starts_with('_') {
            return refuse("must not start with '.' or '_'");
        }
        if let Some(bad) = part.chars().find(|&c| !url_safe(c)) {
            return refuse(&format!(
                "contains {bad:?}; only a-z, 0-9, '-', '.' and '_' are allowed"
            ));
        }
    }
    Ok(())
}

/// What `encodeURIComponent` leaves alone, without the characters npm refuses in new names
/// (`~'!()*`) and without upper case (refused on its own).
fn url_safe(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.' | '_')
}

/// The name without its scope (`@acme/greet` → `greet`): tarballs are named after it.
pub fn unscoped(name: &str) -> &str {
    match name.strip_prefix('@').and_then(|s| s.split_once('/')) {
        Some((_, bare)) => bare,
        None => name,
    }
}

/// The file name npm gives a version's tarball: `{unscoped name}-{version}.tgz`.
pub fn tarball_name(name: &str, version: &str) -> String {
    format!("{}-{version}.tgz", unscoped(name))
}

/// The version a tarball file name stands for, when it is one of `name`'s.
pub fn version_of_tarball<'a>(name: &str, file: &'a str) -> Option<&'a str> {
    file.strip_suffix(".tgz")?
        .strip_prefix(unscoped(name))?
        .strip_prefix('-')
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names() {
        let long = "a".repeat(214);
        for ok in [
            "greet",
            "a",
            "left-pad",
            "lodash.merge",
            "under_score",
            "@acme/greet",
            "@acme-corp/x.y_z",
            "node-1.2",
            &long,
        ] {
            check_name(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }

    #[test]
    fn invalid_names() {
        let long = "a".repeat(215);
        let long_scoped = format!("@acme/{}", "b".repeat(209));
        for bad in [
            "",
            "Greet",
            "@Acme/greet",
            ".hidden",
            "_private",
            "..",
            "%2e%2e",
            "a b",
            "a/b",
            "@acme",
            "@acme/",
            "@/greet",
            "@acme/.x",
            "@acme/_x",
            "@acme/..",
            "@acme/a/b",
            "a~b",
            "a!b",
            "a'b",
            "a(b)",
            "a*b",
            "ä",
            "a:b",
            "node_modules",
            "favicon.ico",
            " greet",
            &long,
            &long_scoped,
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tarball_names() {
        assert_eq!(unscoped("@acme/greet"), "greet");
        assert_eq!(unscoped("greet"), "greet");
        assert_eq!(tarball_name("@acme/greet", "1.0.0"), "greet-1.0.0.tgz");
        assert_eq!(
            version_of_tarball("@acme/greet", "greet-1.0.0-beta.1.tgz"),
            Some("1.0.0-beta.1")
        );
        assert_eq!(
            version_of_tarball("greet", "greet-2.0.0.tgz"),
            Some("2.0.0")
        );
        assert_eq!(version_of_tarball("greet", "other-2.0.0.tgz"), None);
        assert_eq!(version_of_tarball("greet", "greet-.tgz"), None);
        assert_eq!(version_of_tarball("greet", "greet-1.0.0.zip"), None);
    }
}
