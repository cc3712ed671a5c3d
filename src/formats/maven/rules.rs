//! Maven's rules for the core: packages named `group:artifact`, versions in `ComparableVersion`
//! order, and grant constraints as Maven version ranges (`[1.0,2.0)`, `(,1.0],[1.2,)`, `[1.5]`,
//! or a bare `1.5`, which in a grant means exactly that version), read by the core's interval
//! notation (`version_interval`) over Maven's order; `*` allows every version.

use std::sync::Arc;

use super::layout::Coords;
use super::version::{MavenVersion, is_snapshot};
use crate::error::Result;
use crate::model::packages::Version;
use crate::package_rules::{PackageRules, VersionRange};
use crate::version_interval::{BareVersion, IntervalSet};

pub struct MavenRules;

enum MavenRange {
    Any,
    Intervals(IntervalSet<MavenVersion>),
}

impl VersionRange for MavenRange {
    fn matches(&self, version: &str) -> bool {
        match self {
            MavenRange::Any => true,
            MavenRange::Intervals(set) => set.contains(&MavenVersion::parse(version)),
        }
    }
}

impl PackageRules for MavenRules {
    fn format(&self) -> &'static str {
        super::FORMAT
    }

    fn normalize_name(&self, name: &str) -> Result<String> {
        Ok(Coords::from_package(name.trim())?.package())
    }

    fn version_range(&self, constraint: &str) -> Result<Arc<dyn VersionRange>> {
        if constraint.trim() == "*" {
            return Ok(Arc::new(MavenRange::Any));
        }
        let set = IntervalSet::parse(constraint, BareVersion::Exact, |v| {
            super::layout::check_version(v)?;
            Ok(MavenVersion::parse(v))
        })?;
        Ok(Arc::new(MavenRange::Intervals(set)))
    }

    /// The highest version that is not a SNAPSHOT, in Maven's order.
    fn latest_release(&self, versions: &[Version]) -> Option<String> {
        versions
            .iter()
            .filter(|v| !is_snapshot(&v.version))
            .map(|v| MavenVersion::parse(&v.version))
            .max()
            .map(|v| v.as_str().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(constraint: &str, version: &str) -> bool {
        MavenRules
            .version_range(constraint)
            .unwrap()
            .matches(version)
    }

    #[test]
    fn grants_read_maven_ranges() {
        assert!(allows("[1.0,2.0)", "1.0"));
        assert!(allows("[1.0,2.0)", "1.5.3"));
        assert!(
            allows("[1.0,2.0)", "2.0-SNAPSHOT"),
            "Maven orders 2.0-SNAPSHOT before 2.0"
        );
        assert!(!allows("[1.0,2.0)", "2.0"));
        assert!(!allows("[1.0,2.0)", "1.0-beta"));
        assert!(allows("1.5", "1.5"));
        assert!(allows("1.5", "1.5.0"), "1.5 and 1.5.0 are the same version");
        assert!(!allows("1.5", "1.6"));
        assert!(allows("[1.2,)", "10.0"));
        assert!(!allows("[1.2,)", "1.1.9"));
        assert!(allows("(,1.0],[1.2,)", "0.9"));
        assert!(!allows("(,1.0],[1.2,)", "1.1"));
        assert!(allows("*", "anything"));
        for bad in ["", "[1.0,", "[2.0,1.0]", "1.0/../x", "[a b]"] {
            assert!(MavenRules.version_range(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_group_and_artifact() {
        assert_eq!(
            MavenRules.normalize_name(" com.example:lib ").unwrap(),
            "com.example:lib"
        );
        assert!(MavenRules.normalize_name("com/example/lib").is_err());
    }

    #[test]
    fn latest_release_in_maven_order() {
        let version = |v: &str| Version {
            id: 0,
            package_id: 0,
            version: v.to_string(),
            metadata: serde_json::json!({}),
            download_count: 0,
            created_at: 0,
        };
        let versions: Vec<Version> = ["1.10", "1.9", "2.0-SNAPSHOT", "1.10-rc1"]
            .iter()
            .map(|v| version(v))
            .collect();
        assert_eq!(
            MavenRules.latest_release(&versions).as_deref(),
            Some("1.10")
        );
    }
}
