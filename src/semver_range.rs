//! Grant constraints in npm's range notation (`^1.2`, `>=2 <3`, `1.x`, `*`, `a || b`), read by
//! `nodejs-semver`, which follows npm's own `semver` package (a prerelease matches only a range
//! that names a prerelease of the same major.minor.patch). For every format whose versions are
//! SemVer (npm, Go modules); each says how its version names read as SemVer (`to_semver`).

use nodejs_semver::{Range, Version as SemVer};

use crate::error::{Error, Result};
use crate::package_rules::VersionRange;

/// A parsed range with the format's reading of its version names.
pub struct SemverRange {
    range: Range,
    to_semver: fn(&str) -> Option<SemVer>,
}

impl SemverRange {
    /// `constraint` as a range; `format` names the ecosystem in the refusal.
    pub fn parse(
        constraint: &str,
        format: &str,
        to_semver: fn(&str) -> Option<SemVer>,
    ) -> Result<SemverRange> {
        let constraint = constraint.trim();
        if constraint.is_empty() {
            return Err(Error::invalid(format!(
                "a {format} constraint must not be empty; use \"*\""
            )));
        }
        let range = Range::parse(constraint).map_err(|e| {
            Error::invalid(format!(
                "constraint {constraint:?} is not a {format} version range: {e}"
            ))
        })?;
        Ok(SemverRange { range, to_semver })
    }
}

impl VersionRange for SemverRange {
    fn matches(&self, version: &str) -> bool {
        (self.to_semver)(version).is_some_and(|v| self.range.satisfies(&v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_by_the_format() {
        let plain = SemverRange::parse("^1.2", "npm", |v| SemVer::parse(v).ok()).unwrap();
        assert!(plain.matches("1.3.0") && !plain.matches("2.0.0"));
        assert!(!plain.matches("v1.3.0x"));
        let prefixed = SemverRange::parse(">=1.0.0 <2", "go", |v| {
            SemVer::parse(v.strip_prefix('v')?).ok()
        })
        .unwrap();
        assert!(prefixed.matches("v1.1.0") && !prefixed.matches("1.1.0"));
        for bad in ["", "  ", ">=>1"] {
            let refused = SemverRange::parse(bad, "go", |v| SemVer::parse(v).ok());
            assert!(refused.is_err(), "{bad:?}");
        }
    }
}
