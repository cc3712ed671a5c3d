//! Module versions as the go command takes them: canonical semantic versions with a `v`
//! (`v1.2.3`, `v2.0.0-rc.1`), build metadata only as `+incompatible` (a v2+ version of a module
//! without a major-version suffix), ordered by SemVer precedence; pseudo-versions
//! (`v0.0.0-20191109021931-daa7c04131f5`) recognised, since they stay out of `@v/list`.

use std::cmp::Ordering;
use std::fmt;

use nodejs_semver::Version as SemVer;

use crate::error::{Error, Result};

const INCOMPATIBLE: &str = "+incompatible";

/// A checked version, with its SemVer reading (without `v` and `+incompatible`) for ordering.
#[derive(Debug, Clone)]
pub struct GoVersion {
    name: String,
    semver: SemVer,
}

impl GoVersion {
    /// `version` when it is canonical: what `module.CanonicalVersion` leaves unchanged.
    pub fn parse(version: &str) -> Result<GoVersion> {
        let invalid = |why: &str| Error::invalid(format!("invalid version {version:?}: {why}"));
        let rest = version
            .strip_prefix('v')
            .ok_or_else(|| invalid("must start with \"v\""))?;
        let core = rest.strip_suffix(INCOMPATIBLE).unwrap_or(rest);
        if core.contains('+') {
            return Err(invalid("build metadata other than +incompatible"));
        }
        let semver = SemVer::parse(core)
            .ok()
            .filter(|v| v.to_string() == core)
            .ok_or_else(|| invalid("not a canonical semantic version (vMAJOR.MINOR.PATCH)"))?;
        if core.len() != rest.len() && semver.major() < 2 {
            return Err(invalid(
                "+incompatible is only for major version 2 or higher",
            ));
        }
        Ok(GoVersion {
            name: version.to_string(),
            semver,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.name
    }

    pub fn major(&self) -> u64 {
        self.semver.major()
    }

    pub fn is_incompatible(&self) -> bool {
        self.name.ends_with(INCOMPATIBLE)
    }

    pub fn is_prerelease(&self) -> bool {
        self.semver.is_prerelease()
    }

    /// Whether it is a pseudo-version (`vX.0.0-yyyymmddhhmmss-abcdef123456`,
    /// `vX.Y.Z-pre.0.yyyymmddhhmmss-…`, `vX.Y.(Z+1)-0.yyyymmddhhmmss-…`): a commit, not a tag.
    pub fn is_pseudo(&self) -> bool {
        is_pseudo(&self.name)
    }

    /// The SemVer reading, for grant ranges.
    pub fn semver(&self) -> &SemVer {
        &self.semver
    }
}

impl fmt::Display for GoVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl PartialEq for GoVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for GoVersion {}

impl PartialOrd for GoVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for GoVersion {
    /// SemVer precedence; `+incompatible` (build metadata) does not count, the name breaks ties.
    fn cmp(&self, other: &Self) -> Ordering {
        self.semver
            .cmp(&other.semver)
            .then_with(|| self.name.cmp(&other.name))
    }
}

/// The pseudo-version shape (`module.IsPseudoVersion`): the prerelease ends in
/// `{14-digit timestamp}-{revision}`, and starts with `0.` after a base prerelease, with `0.` for a
/// patch bump, or is the timestamp alone after `vX.0.0-`.
fn is_pseudo(version: &str) -> bool {
    let core = version.strip_suffix(INCOMPATIBLE).unwrap_or(version);
    let Some((base, pre)) = core.split_once('-') else {
        return false;
    };
    let Some((stamped, revision)) = pre.rsplit_once('-') else {
        return false;
    };
    if revision.is_empty() || !revision.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (lead, stamp) = match stamped.rsplit_once('.') {
        Some((lead, stamp)) => (Some(lead), stamp),
        None => (None, stamped),
    };
    if stamp.len() != 14 || !stamp.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    match lead {
        // vX.0.0-yyyymmddhhmmss-abcdef
        None => base.ends_with(".0.0"),
        // vX.Y.Z-pre.0.yyyymmddhhmmss-abcdef or vX.Y.Z-0.yyyymmddhhmmss-abcdef
        Some(lead) => lead == "0" || lead.ends_with(".0"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_versions_only() {
        for ok in [
            "v0.1.0",
            "v1.2.3",
            "v2.0.0-rc.1",
            "v3.0.0+incompatible",
            "v0.0.0-20191109021931-daa7c04131f5",
        ] {
            GoVersion::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "",
            "1.0.0",
            "v1",
            "v1.2",
            "v01.0.0",
            "v1.0.0+build",
            "v1.0.0+incompatible",
            "v1.0.0-",
            "V1.0.0",
            "v1.0.0 ",
            "latest",
            "v1.0.0/../x",
        ] {
            assert!(GoVersion::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn semver_order() {
        let mut versions: Vec<GoVersion> = [
            "v1.10.0",
            "v1.2.0",
            "v1.2.0-rc.1",
            "v0.0.0-20191109021931-daa7c04131f5",
            "v2.0.0+incompatible",
            "v1.2.0-beta.2",
            "v1.2.0-beta.10",
        ]
        .iter()
        .map(|v| GoVersion::parse(v).unwrap())
        .collect();
        versions.sort();
        let names: Vec<&str> = versions.iter().map(GoVersion::as_str).collect();
        assert_eq!(
            names,
            [
                "v0.0.0-20191109021931-daa7c04131f5",
                "v1.2.0-beta.2",
                "v1.2.0-beta.10",
                "v1.2.0-rc.1",
                "v1.2.0",
                "v1.10.0",
                "v2.0.0+incompatible"
            ]
        );
    }

    #[test]
    fn pseudo_versions() {
        for pseudo in [
            "v0.0.0-20191109021931-daa7c04131f5",
            "v2.0.0-20191109021931-daa7c04131f5+incompatible",
            "v1.2.4-0.20191109021931-daa7c04131f5",
            "v1.2.3-pre.0.20191109021931-daa7c04131f5",
        ] {
            assert!(GoVersion::parse(pseudo).unwrap().is_pseudo(), "{pseudo}");
        }
        for tagged in [
            "v1.0.0",
            "v1.0.0-rc.1",
            "v1.2.0-20191109021931-daa7c04131f5",
            "v0.0.0-2019110902193-daa7c04131f5",
            "v1.2.4-1.20191109021931-daa7c04131f5",
        ] {
            assert!(!GoVersion::parse(tagged).unwrap().is_pseudo(), "{tagged}");
        }
    }
}
