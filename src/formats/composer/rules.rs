//! Composer's naming and versioning rules as the core sees them: lower-case `vendor/package`
//! names, Composer constraints for grants, and Composer's version order for "latest".

use std::sync::Arc;

use super::constraint::Constraint;
use super::{OWNER, manage, names, version};
use crate::error::{Error, Result};
use crate::model::packages::Version;
use crate::package_rules::{PackageRules, VersionRange};

pub struct ComposerRules;

impl PackageRules for ComposerRules {
    fn format(&self) -> &'static str {
        super::FORMAT
    }

    fn normalize_name(&self, name: &str) -> Result<String> {
        let name = name.trim().to_lowercase();
        names::split_name(&name)?;
        Ok(name)
    }

    fn version_range(&self, constraint: &str) -> Result<Arc<dyn VersionRange>> {
        let parsed = Constraint::parse(constraint).map_err(|e| Error::invalid(e.to_string()))?;
        Ok(Arc::new(ComposerRange(parsed)))
    }

    fn latest_release(&self, versions: &[Version]) -> Option<String> {
        let mut versions = versions.to_vec();
        manage::sort_newest_first(&mut versions);
        versions
            .into_iter()
            .find(manage::is_release)
            .map(|v| v.version)
    }

    /// Cargoman's customer API names the Git-synced registry's packages `vendor/name`.
    fn bare_name_owner(&self) -> Option<&'static str> {
        Some(OWNER)
    }
}

/// A grant's Composer constraint (`^2.0`, `>=1.0 <3.0`), matched as Composer's
/// `Semver::satisfies` would against the version's normalized form.
struct ComposerRange(Constraint);

impl VersionRange for ComposerRange {
    fn matches(&self, version: &str) -> bool {
        // A version that does not normalize (a branch name kept verbatim) is matched as it is,
        // as the rendered metadata's `version_normalized` would carry it.
        let normalized = version::normalize(version).unwrap_or_else(|_| version.to_string());
        self.0.matches(&normalized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_match_pretty_versions() {
        let rules = ComposerRules;
        let caret = rules.version_range("^1.0").unwrap();
        assert!(caret.matches("1.4.0") && caret.matches("v1.0.0"));
        assert!(!caret.matches("2.0.0") && !caret.matches("dev-main"));
        let branch = rules.version_range("1.x-dev").unwrap();
        assert!(branch.matches("1.x-dev"));
        assert!(rules.version_range("dev-main").unwrap().matches("dev-main"));
        assert!(rules.version_range("^^1").is_err());
    }

    #[test]
    fn names_are_lower_case_vendor_package() {
        assert_eq!(
            ComposerRules.normalize_name(" Acme/Core ").unwrap(),
            "acme/core"
        );
        assert!(ComposerRules.normalize_name("acme").is_err());
    }
}
