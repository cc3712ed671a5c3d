//! Go's rules for the core: packages named by their module path (checked, case kept: the go
//! command treats `Acme` and `acme` as different modules), versions in SemVer order, grant
//! constraints as npm-style SemVer ranges over the version without its `v` (`^1.2`,
//! `>=1.0.0 <2`), read by the core's `semver_range`.

use std::sync::Arc;

use nodejs_semver::Version as SemVer;

use super::module_path::check_module_path;
use super::version::GoVersion;
use crate::error::Result;
use crate::model::packages::Version;
use crate::package_rules::{PackageRules, VersionRange};
use crate::semver_range::SemverRange;

pub struct GoRules;

fn to_semver(version: &str) -> Option<SemVer> {
    GoVersion::parse(version).ok().map(|v| v.semver().clone())
}

impl PackageRules for GoRules {
    fn format(&self) -> &'static str {
        super::FORMAT
    }

    fn normalize_name(&self, name: &str) -> Result<String> {
        let name = name.trim();
        check_module_path(name)?;
        Ok(name.to_string())
    }

    fn version_range(&self, constraint: &str) -> Result<Arc<dyn VersionRange>> {
        Ok(Arc::new(SemverRange::parse(constraint, "Go", to_semver)?))
    }

    /// The version `@latest` names (see `latest`).
    fn latest_release(&self, versions: &[Version]) -> Option<String> {
        let parsed: Vec<GoVersion> = versions
            .iter()
            .filter_map(|v| GoVersion::parse(&v.version).ok())
            .collect();
        latest(&parsed).map(|v| v.as_str().to_string())
    }
}

/// The version the go command takes for `@latest`: the highest release, else the highest
/// prerelease, else the highest pseudo-version; `+incompatible` ones only when there is nothing
/// else (as the go command prefers a module's compatible versions).
pub fn latest(versions: &[GoVersion]) -> Option<&GoVersion> {
    let tier = |v: &GoVersion| match (v.is_pseudo(), v.is_prerelease(), v.is_incompatible()) {
        (true, _, _) => 0,
        (false, true, _) => 1,
        (false, false, true) => 2,
        (false, false, false) => 3,
    };
    versions
        .iter()
        .max_by(|a, b| tier(a).cmp(&tier(b)).then_with(|| a.cmp(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(constraint: &str, version: &str) -> bool {
        GoRules.version_range(constraint).unwrap().matches(version)
    }

    #[test]
    fn grants_are_semver_ranges() {
        assert!(allows("^1.1", "v1.1.0"));
        assert!(allows("^1.1", "v1.9.3"));
        assert!(!allows("^1.1", "v1.0.0"));
        assert!(!allows("^1.1", "v2.0.0"));
        assert!(allows(">=2", "v2.0.0+incompatible"));
        assert!(allows("*", "v0.1.0"));
        assert!(
            !allows("*", "v0.0.0-20191109021931-daa7c04131f5"),
            "a pseudo-version is a prerelease: only ranges naming one match it"
        );
        assert!(!allows("*", "1.0.0"), "not a Go version");
        assert!(GoRules.version_range("").is_err());
        assert!(GoRules.version_range("not a range").is_err());
    }

    #[test]
    fn names_are_module_paths() {
        assert_eq!(
            GoRules.normalize_name(" github.com/Acme/x ").unwrap(),
            "github.com/Acme/x"
        );
        assert!(GoRules.normalize_name("x/../y").is_err());
    }

    #[test]
    fn latest_prefers_releases() {
        let pick = |names: &[&str]| {
            let versions: Vec<GoVersion> =
                names.iter().map(|v| GoVersion::parse(v).unwrap()).collect();
            latest(&versions).map(|v| v.as_str().to_string())
        };
        assert_eq!(
            pick(&["v1.0.0", "v1.10.0", "v1.9.0", "v2.0.0-rc.1"]).as_deref(),
            Some("v1.10.0")
        );
        assert_eq!(
            pick(&["v1.0.0", "v3.0.0+incompatible"]).as_deref(),
            Some("v1.0.0")
        );
        assert_eq!(
            pick(&["v1.0.0-rc.1", "v0.0.0-20991109021931-daa7c04131f5"]).as_deref(),
            Some("v1.0.0-rc.1")
        );
        assert_eq!(
            pick(&[
                "v0.0.0-20191109021931-daa7c04131f5",
                "v0.0.0-20201109021931-aaa7c04131f5"
            ])
            .as_deref(),
            Some("v0.0.0-20201109021931-aaa7c04131f5")
        );
        assert_eq!(pick(&[]), None);
    }
}
