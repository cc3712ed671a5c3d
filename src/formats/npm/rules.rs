//! npm's rules for the core: package names as `names` checks them, versions as SemVer 2 and
//! grant constraints as npm ranges (`^1.2`, `>=2 <3`, `1.x`, `*`, `a || b`), read by the core's
//! `semver_range`.

use std::sync::Arc;

use nodejs_semver::{Range, Version as SemVer};

use super::names;
use crate::error::{Error, Result};
use crate::model::packages::Version;
use crate::package_rules::{PackageRules, VersionRange};
use crate::semver_range::SemverRange;

/// A version npm publishes: SemVer 2 in its canonical spelling (`1.2.3-beta.1+build`), as
/// `npm publish` sends it after cleaning (no `v`, no `=`, no spaces).
pub fn check_version(version: &str) -> Result<SemVer> {
    let parsed = SemVer::parse(version)
        .map_err(|e| Error::invalid(format!("version {version:?} is not SemVer: {e}")))?;
    if parsed.to_string() != version {
        return Err(Error::invalid(format!(
            "version {version:?} is not in SemVer's canonical form ({parsed})"
        )));
    }
    Ok(parsed)
}

/// Whether a dist-tag name would be read as a version range (npm refuses such tags: `npm
/// install name@1.x` must mean the range).
pub fn is_range(tag: &str) -> bool {
    Range::parse(tag).is_ok()
}

/// The highest SemVer among `versions` (only releases when `releases_only`); names that are
/// not SemVer are passed over.
pub fn highest_version<'a>(
    versions: impl Iterator<Item = &'a str>,
    releases_only: bool,
) -> Option<&'a str> {
    versions
        .filter_map(|v| SemVer::parse(v).ok().map(|p| (p, v)))
        .filter(|(p, _)| !releases_only || !p.is_prerelease())
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, v)| v)
}

pub struct NpmRules;

impl PackageRules for NpmRules {
    fn format(&self) -> &'static str {
        super::FORMAT
    }

    fn normalize_name(&self, name: &str) -> Result<String> {
        let name = name.trim();
        names::check_name(name)?;
        Ok(name.to_string())
    }

    fn version_range(&self, constraint: &str) -> Result<Arc<dyn VersionRange>> {
        let range = SemverRange::parse(constraint, "npm", |v| SemVer::parse(v).ok())?;
        Ok(Arc::new(range))
    }

    /// The highest version that is not a prerelease, by SemVer order.
    fn latest_release(&self, versions: &[Version]) -> Option<String> {
        highest_version(versions.iter().map(|v| v.version.as_str()), true).map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERSIONS: &[&str] = &[
        "0.2.3",
        "0.2.9",
        "0.3.0",
        "1.0.0",
        "1.2.0",
        "1.2.3",
        "1.2.9",
        "1.3.0",
        "1.9.9",
        "1.0.0-rc.1",
        "1.2.4-beta.1",
        "2.0.0",
        "2.3.0",
        "2.3.1",
        "2.5.0-rc.1",
        "3.0.0",
        "3.1.0",
        "3.9.0",
        "4.0.0",
        "1.2.3-alpha.2",
    ];

    /// Answers of npm's own `semver` package (`semver.satisfies(v, range)`, npm 11.19) for
    /// `VERSIONS`.
    const NPM_ANSWERS: &[(&str, &[&str])] = &[
        ("^1.2", &["1.2.0", "1.2.3", "1.2.9", "1.3.0", "1.9.9"]),
        ("^1.2.3", &["1.2.3", "1.2.9", "1.3.0", "1.9.9"]),
        (">=2 <3", &["2.0.0", "2.3.0", "2.3.1"]),
        (
            "1.x",
            &["1.0.0", "1.2.0", "1.2.3", "1.2.9", "1.3.0", "1.9.9"],
        ),
        (
            "*",
            &[
                "0.2.3", "0.2.9", "0.3.0", "1.0.0", "1.2.0", "1.2.3", "1.2.9", "1.3.0", "1.9.9",
                "2.0.0", "2.3.0", "2.3.1", "3.0.0", "3.1.0", "3.9.0", "4.0.0",
            ],
        ),
        ("1.0.0 || ^3.1", &["1.0.0", "3.1.0", "3.9.0"]),
        ("~1.2.3", &["1.2.3", "1.2.9"]),
        ("<1.0.0-rc.2", &["0.2.3", "0.2.9", "0.3.0", "1.0.0-rc.1"]),
        ("^0.2.3", &["0.2.3", "0.2.9"]),
        (
            "1.2.3 - 2.3",
            &[
                "1.2.3", "1.2.9", "1.3.0", "1.9.9", "2.0.0", "2.3.0", "2.3.1",
            ],
        ),
        ("2", &["2.0.0", "2.3.0", "2.3.1"]),
        (
            ">1.2.3-alpha.1",
            &[
                "1.2.3",
                "1.2.9",
                "1.3.0",
                "1.9.9",
                "2.0.0",
                "2.3.0",
                "2.3.1",
                "3.0.0",
                "3.1.0",
                "3.9.0",
                "4.0.0",
                "1.2.3-alpha.2",
            ],
        ),
    ];

    #[test]
    fn ranges_match_as_npm_semver_does() {
        for (range, expected) in NPM_ANSWERS {
            let matcher = NpmRules.version_range(range).unwrap();
            let got: Vec<&str> = VERSIONS
                .iter()
                .copied()
                .filter(|v| matcher.matches(v))
                .collect();
            assert_eq!(&got, expected, "range {range:?}");
        }
    }

    #[test]
    fn constraints_that_are_not_ranges_are_refused() {
        for bad in ["", "  ", "not a range", ">=>1", "1.2.3.4.5"] {
            assert!(NpmRules.version_range(bad).is_err(), "{bad:?}");
        }
        let any = NpmRules.version_range("*").unwrap();
        assert!(!any.matches("not-a-version"));
    }

    #[test]
    fn versions_are_canonical_semver() {
        for ok in ["1.0.0", "0.0.1-alpha.1", "1.2.3+build.7", "10.20.30-rc.1+x"] {
            check_version(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "", "1", "1.0", "v1.0.0", "=1.0.0", " 1.0.0", "1.0.0 ", "01.0.0", "latest",
        ] {
            assert!(check_version(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tags_that_read_as_ranges() {
        for range in ["1.0.0", "^1", "1.x", "*", ">=2"] {
            assert!(is_range(range), "{range}");
        }
        for tag in ["latest", "beta", "next", "canary-2"] {
            assert!(!is_range(tag), "{tag}");
        }
    }

    #[test]
    fn latest_release_skips_prereleases() {
        let versions: Vec<Version> = ["1.0.0", "1.10.0", "1.9.0", "2.0.0-rc.1", "x"]
            .iter()
            .map(|v| Version {
                id: 0,
                package_id: 0,
                version: v.to_string(),
                metadata: serde_json::json!({}),
                download_count: 0,
                created_at: 0,
            })
            .collect();
        assert_eq!(
            NpmRules.latest_release(&versions).as_deref(),
            Some("1.10.0")
        );
        assert_eq!(NpmRules.latest_release(&versions[3..]), None);
    }
}
