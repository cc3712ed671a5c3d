//! NuGet's rules for the core and for its own routes: package ids as NuGet's `PackageIdValidator`
//! allows them (compared case-insensitively: the registry keeps them lower-case, the id as first
//! written lives in the version's metadata), versions as `version` orders them, and grant
//! constraints as NuGet version ranges (`[1.0,2.0)`, `(,2.0]`, and a bare `1.0` meaning 1.0 or
//! newer, as in a `<dependency version="1.0">`). Pure.

use std::sync::Arc;

use super::version::NuGetVersion;
use crate::error::{Error, Result};
use crate::model::packages::Version;
use crate::package_rules::{PackageRules, VersionRange};
use crate::version_interval::{BareVersion, IntervalSet};

/// NuGet's longest id.
const MAX_ID: usize = 100;

/// Checks an id as NuGet does (`^\w+([.-]\w+)*$`, at most 100 characters) and returns its
/// registry form, lower-case.
pub fn check_id(id: &str) -> Result<String> {
    let invalid = |why: &str| Error::invalid(format!("package id {id:?} is not valid: {why}"));
    if id.is_empty() || id.chars().count() > MAX_ID {
        return Err(invalid(&format!("it must be 1 to {MAX_ID} characters")));
    }
    let word = |c: char| c.is_alphanumeric() || c == '_';
    for part in id.split(['.', '-']) {
        if part.is_empty() {
            return Err(invalid("'.' and '-' must stand between letters or digits"));
        }
        if let Some(bad) = part.chars().find(|&c| !word(c)) {
            return Err(invalid(&format!(
                "{bad:?} is not allowed; use letters, digits, '_', '.' and '-'"
            )));
        }
    }
    Ok(id.to_lowercase())
}

pub struct NuGetRules;

struct NuGetRange(IntervalSet<NuGetVersion>);

impl VersionRange for NuGetRange {
    fn matches(&self, version: &str) -> bool {
        NuGetVersion::parse(version).is_ok_and(|v| self.0.contains(&v))
    }
}

/// Every version: a grant's `*`.
struct AnyVersion;

impl VersionRange for AnyVersion {
    fn matches(&self, _version: &str) -> bool {
        true
    }
}

/// The highest version among `versions` (only releases when `releases_only`).
pub fn highest<'a>(
    versions: impl Iterator<Item = &'a str>,
    releases_only: bool,
) -> Option<&'a str> {
    versions
        .filter_map(|v| NuGetVersion::parse(v).ok().map(|p| (p, v)))
        .filter(|(p, _)| !releases_only || !p.is_prerelease())
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, v)| v)
}

impl PackageRules for NuGetRules {
    fn format(&self) -> &'static str {
        super::FORMAT
    }

    fn normalize_name(&self, name: &str) -> Result<String> {
        check_id(name.trim())
    }

    fn version_range(&self, constraint: &str) -> Result<Arc<dyn VersionRange>> {
        if constraint.trim() == "*" {
            return Ok(Arc::new(AnyVersion));
        }
        let set = IntervalSet::parse(constraint, BareVersion::AtLeast, NuGetVersion::parse)?;
        Ok(Arc::new(NuGetRange(set)))
    }

    fn latest_release(&self, versions: &[Version]) -> Option<String> {
        highest(versions.iter().map(|v| v.version.as_str()), true).map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        for (ok, stored) in [
            ("Newtonsoft.Json", "newtonsoft.json"),
            ("Acme-Core_2", "acme-core_2"),
            ("x", "x"),
            ("Ünïcode.Lib", "ünïcode.lib"),
        ] {
            assert_eq!(check_id(ok).unwrap(), stored);
        }
        for bad in [
            "",
            ".lib",
            "lib.",
            "a..b",
            "a/b",
            "a b",
            "..",
            "a\\b",
            "a%2fb",
            "lib+x",
            &"a".repeat(101),
        ] {
            assert!(check_id(bad).is_err(), "{bad:?}");
        }
    }

    fn allowed(range: &str, versions: &[&str]) -> Vec<String> {
        let matcher = NuGetRules.version_range(range).unwrap();
        versions
            .iter()
            .filter(|v| matcher.matches(v))
            .map(|v| v.to_string())
            .collect()
    }

    #[test]
    fn grants_are_nuget_ranges() {
        let versions = [
            "0.9.0",
            "1.0.0",
            "1.5.0-beta",
            "1.5.0",
            "2.0.0",
            "2.0.1",
            "3.0.0",
        ];
        assert_eq!(
            allowed("[1.0,2.0)", &versions),
            ["1.0.0", "1.5.0-beta", "1.5.0"]
        );
        assert_eq!(
            allowed("1.0", &versions),
            ["1.0.0", "1.5.0-beta", "1.5.0", "2.0.0", "2.0.1", "3.0.0"]
        );
        assert_eq!(
            allowed("(,2.0]", &versions),
            ["0.9.0", "1.0.0", "1.5.0-beta", "1.5.0", "2.0.0"]
        );
        assert_eq!(allowed("[2.0.1]", &versions), ["2.0.1"]);
        assert_eq!(allowed("*", &versions).len(), versions.len());
        for bad in ["", "^1.0", "[1.0", "[x,2)", "1.0 || 2.0"] {
            assert!(NuGetRules.version_range(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn latest_is_the_highest_release() {
        let versions = ["1.0.0", "1.10.0", "1.9.0", "2.0.0-rc.1"];
        assert_eq!(highest(versions.iter().copied(), true), Some("1.10.0"));
        assert_eq!(highest(versions.iter().copied(), false), Some("2.0.0-rc.1"));
    }
}
