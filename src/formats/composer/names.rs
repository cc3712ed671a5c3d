//! Composer package names: `vendor/package`, lower case, as Composer's schema requires
//! (`^[a-z0-9]([_.-]?[a-z0-9]+)*/[a-z0-9](([_.]|-{1,2})?[a-z0-9]+)*$`).

use crate::error::{Error, Result};

fn valid_vendor(part: &str) -> bool {
    valid_part(part, false)
}

fn valid_project(part: &str) -> bool {
    valid_part(part, true)
}

/// Alphanumeric runs joined by single separators (`_`, `.`, `-`; the project part also `--`).
fn valid_part(part: &str, double_dash: bool) -> bool {
    let bytes = part.as_bytes();
    if bytes.is_empty() || !is_alnum(bytes[0]) || !is_alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if is_alnum(b) {
            i += 1;
            continue;
        }
        if !matches!(b, b'_' | b'.' | b'-') {
            return false;
        }
        let mut end = i + 1;
        if double_dash && b == b'-' && bytes.get(end) == Some(&b'-') {
            end += 1;
        }
        if !bytes.get(end).is_some_and(|&n| is_alnum(n)) {
            return false;
        }
        i = end;
    }
    true
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// Checks a package name and returns its (vendor, project) parts.
pub fn split_name(name: &str) -> Result<(&str, &str)> {
    let invalid = || {
        Error::invalid(format!(
            "package name {name:?} is invalid: expected vendor/package in lower case letters, digits and single '.', '_' or '-'"
        ))
    };
    let (vendor, project) = name.split_once('/').ok_or_else(invalid)?;
    if name.len() > 214 || !valid_vendor(vendor) || !valid_project(project) {
        return Err(invalid());
    }
    Ok((vendor, project))
}

#[cfg(test)]
mod tests {
    use super::split_name;

    #[test]
    fn composer_names() {
        for ok in [
            "acme/core",
            "a1/b2",
            "my-vendor/my.pkg_x",
            "v/pkg--extra",
            "a/b",
        ] {
            assert!(split_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "acme",
            "Acme/core",
            "acme/Core",
            "acme/core/x",
            "/core",
            "acme/",
            "-acme/core",
            "acme/core-",
            "ac__me/core",
            "v--x/pkg",
            "a/b---c",
            "acme/co re",
            "../etc",
            "acme/..",
            "acme/.core",
        ] {
            assert!(split_name(bad).is_err(), "{bad}");
        }
    }
}
