//! Token package scopes: globs narrowing which granted packages a customer token sees.
//! `*` covers everything; `vendor/*` (Cargoman's documented form) names packages of the format
//! that claims bare names; `format:owner/glob` (`generic:acme/tool-*`, `npm:acme/@ui/*`) names
//! packages of any format. A glob's `*` stands for any run of characters within one `/` segment.

use crate::glob::glob_matches;

/// One parsed scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageScope {
    Everything,
    /// A glob over the bare-name format's package names.
    Bare(String),
    Qualified {
        format: String,
        owner: String,
        glob: String,
    },
}

impl PackageScope {
    /// None when `text` is not a scope (tokens are checked when created, so only a scope stored
    /// by an older version could fail here; it then narrows to nothing).
    pub fn parse(text: &str) -> Option<PackageScope> {
        if text == "*" {
            return Some(PackageScope::Everything);
        }
        match text.split_once(':') {
            None => valid_bare(text).then(|| PackageScope::Bare(text.to_string())),
            Some((format, rest)) => {
                let (owner, glob) = rest.split_once('/')?;
                let format_ok = !format.is_empty()
                    && format
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                let owner_ok = crate::model::owners::check_owner_name(owner).is_ok();
                let glob_ok = !glob.is_empty()
                    && glob.len() <= 255
                    && crate::text::hidden_char(glob).is_none()
                    && !glob.chars().any(char::is_whitespace);
                (format_ok && owner_ok && glob_ok).then(|| PackageScope::Qualified {
                    format: format.to_string(),
                    owner: owner.to_lowercase(),
                    glob: glob.to_string(),
                })
            }
        }
    }

    /// The format a qualified scope names, to check it against the formats the server has.
    pub fn format(&self) -> Option<&str> {
        match self {
            PackageScope::Qualified { format, .. } => Some(format),
            _ => None,
        }
    }

    /// Whether the scope speaks of `owner`'s packages of `format`; `bare` is the (format, owner)
    /// whose packages bare scopes name.
    pub fn applies_to(&self, owner: &str, format: &str, bare: Option<(&str, &str)>) -> bool {
        match self {
            PackageScope::Everything => true,
            PackageScope::Bare(_) => bare == Some((format, owner)),
            PackageScope::Qualified {
                format: f,
                owner: o,
                ..
            } => f == format && o == owner,
        }
    }

    /// Whether a package name (in a repository the scope applies to) is covered.
    pub fn matches_name(&self, name: &str) -> bool {
        match self {
            PackageScope::Everything => true,
            PackageScope::Bare(glob) | PackageScope::Qualified { glob, .. } => {
                glob == "*" || glob_matches(glob, name)
            }
        }
    }
}

/// A scope as typed, in its stored form: trimmed, and lower-case but for a qualified scope's
/// glob (some formats' names are case-sensitive).
pub fn normalize(text: &str) -> String {
    let text = text.trim();
    match text.split_once(':') {
        None => text.to_lowercase(),
        Some((format, rest)) => match rest.split_once('/') {
            Some((owner, glob)) => {
                format!("{}:{}/{glob}", format.to_lowercase(), owner.to_lowercase())
            }
            None => text.to_lowercase(),
        },
    }
}

/// `vendor/package` globs in Composer's lower-case name alphabet, as Cargoman documents them.
fn valid_bare(scope: &str) -> bool {
    let mut parts = scope.split('/');
    let ok_part = |p: Option<&str>| {
        p.is_some_and(|p| {
            p.bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric() || b"*?".contains(&b))
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-*?".contains(&b))
        })
    };
    ok_part(parts.next()) && ok_part(parts.next()) && parts.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_validated() {
        for ok in [
            "*",
            "vendor/*",
            "vendor/pkg",
            "generic:acme/tool-*",
            "npm:acme/@ui/*",
        ] {
            assert!(PackageScope::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "vendor",
            "../x",
            "a/b/c",
            "generic:acme",
            "generic:../x/y",
            ":acme/x",
            "Generic:acme/x",
            "generic:acme/",
            "generic:acme/a b",
            "generic:acme/a\u{202e}b",
        ] {
            assert!(PackageScope::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn scopes_are_stored_lower_case_but_for_qualified_globs() {
        assert_eq!(normalize(" Acme/* "), "acme/*");
        assert_eq!(normalize("Generic:ACME/Tool-*"), "generic:acme/Tool-*");
    }

    #[test]
    fn scopes_match_in_their_repository() {
        let bare = Some(("bare", "house"));
        let vendor = PackageScope::parse("acme/*").unwrap();
        assert!(vendor.applies_to("house", "bare", bare));
        assert!(!vendor.applies_to("acme", "generic", bare));
        assert!(vendor.matches_name("acme/b") && !vendor.matches_name("acmex/b"));
        let tool = PackageScope::parse("generic:Acme/tool*").unwrap();
        assert!(tool.applies_to("acme", "generic", bare));
        assert!(!tool.applies_to("acme", "npm", bare));
        assert!(tool.matches_name("tool-cli") && !tool.matches_name("kit"));
        let all = PackageScope::parse("*").unwrap();
        assert!(all.applies_to("x", "y", None) && all.matches_name("a/b"));
    }
}
