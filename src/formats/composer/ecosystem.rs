//! Composer's side of security advisories: OSV's "Packagist" ecosystem with Composer's version
//! order, `composer.lock` reading for `cargoman audit`, and an advisory's ranges written as the
//! Composer constraint Composer's own audit reads (`affectedVersions`).

use std::cmp::Ordering;

use serde::Deserialize;

use super::version;
use crate::advisories::{Affected, Ecosystem, Event, Locked, sorted_events};
use crate::error::{Error, Result};

/// The OSV ecosystem of Composer packages.
pub const PACKAGIST: &str = "Packagist";

pub struct Packagist;

impl Ecosystem for Packagist {
    fn name(&self) -> &'static str {
        PACKAGIST
    }

    fn format(&self) -> &'static str {
        super::FORMAT
    }

    /// Composer's order of normalized versions; a branch (`dev-main`) is in no range.
    fn compare(&self, a: &str, b: &str) -> Option<Ordering> {
        let normalized = |v: &str| {
            version::normalize(v)
                .ok()
                .filter(|n| !n.starts_with("dev-"))
        };
        Some(version::compare_normalized(
            &normalized(a)?,
            &normalized(b)?,
        ))
    }

    fn lock_file(&self) -> &'static str {
        "composer.lock"
    }

    /// `packages` and `packages-dev` of a composer.lock.
    fn locked_packages(&self, lock: &[u8]) -> Result<Vec<Locked>> {
        #[derive(Deserialize)]
        struct Lock {
            packages: Vec<Package>,
            #[serde(rename = "packages-dev", default)]
            packages_dev: Vec<Package>,
        }
        #[derive(Deserialize)]
        struct Package {
            name: String,
            version: String,
        }
        let lock: Lock = serde_json::from_slice(lock)
            .map_err(|e| Error::invalid(format!("not a composer.lock: {e}")))?;
        let locked = |list: Vec<Package>, dev: bool| {
            list.into_iter().map(move |p| Locked {
                name: p.name.to_lowercase(),
                version: p.version,
                dev,
            })
        };
        Ok(locked(lock.packages, false)
            .chain(locked(lock.packages_dev, true))
            .collect())
    }
}

/// The versions `entries` (one package's) declare affected, as a Composer constraint:
/// `>=1.0,<1.2.3|>=2.0,<=2.0.1|1.5.0`, or `None` when they declare none Composer can read
/// (GIT ranges only).
pub fn affected_versions<'a>(entries: impl Iterator<Item = &'a Affected>) -> Option<String> {
    let mut alternatives = Vec::new();
    for entry in entries {
        for range in entry
            .ranges
            .iter()
            .filter(|r| r.kind == "ECOSYSTEM" || r.kind == "SEMVER")
        {
            let mut lower: Option<&str> = None;
            let mut open = false;
            for event in sorted_events(&range.events, &Packagist) {
                let upper = match event {
                    Event::Introduced(v) => {
                        lower = (v != "0").then_some(v.as_str());
                        open = true;
                        continue;
                    }
                    _ if !open => continue,
                    Event::Fixed(v) | Event::Limit(v) => format!("<{v}"),
                    Event::LastAffected(v) => format!("<={v}"),
                };
                alternatives.push(interval(lower, Some(upper)));
                open = false;
            }
            if open {
                alternatives.push(interval(lower, None));
            }
        }
        alternatives.extend(entry.versions.iter().cloned());
    }
    (!alternatives.is_empty()).then(|| alternatives.join("|"))
}

fn interval(lower: Option<&str>, upper: Option<String>) -> String {
    match (lower, upper) {
        (Some(l), Some(u)) => format!(">={l},{u}"),
        (Some(l), None) => format!(">={l}"),
        (None, Some(u)) => u,
        (None, None) => "*".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::composer::constraint::Constraint;

    fn entry(events: Vec<Event>, versions: &[&str]) -> Affected {
        crate::advisories::test_entry(PACKAGIST, events, versions)
    }

    #[test]
    fn ranges_become_constraints_composer_reads() {
        use Event::*;
        let a = entry(
            vec![
                Introduced("2.0".into()),
                LastAffected("2.0.1".into()),
                Introduced("1.0".into()),
                Fixed("1.2.3".into()),
            ],
            &["0.9.0"],
        );
        let text = affected_versions(std::iter::once(&a)).unwrap();
        assert_eq!(text, ">=1.0,<1.2.3|>=2.0,<=2.0.1|0.9.0");
        let parsed = Constraint::parse(&text).unwrap();
        for (v, affected) in [("1.1.0.0", true), ("1.2.3.0", false), ("2.0.1.0", true)] {
            assert_eq!(parsed.matches(v), affected, "{v}");
            let pretty = v.trim_end_matches(".0");
            assert_eq!(a.matches(&Packagist, pretty), affected, "{pretty}");
        }
        let open = entry(vec![Introduced("0".into())], &[]);
        assert_eq!(affected_versions(std::iter::once(&open)).unwrap(), "*");
    }

    #[test]
    fn versions_follow_composer_order_and_branches_match_nothing() {
        assert_eq!(Packagist.compare("v1.0.0", "1.0"), Some(Ordering::Equal));
        assert_eq!(
            Packagist.compare("1.0.0-beta1", "1.0.0"),
            Some(Ordering::Less)
        );
        assert_eq!(Packagist.compare("dev-main", "1.0.0"), None);
    }

    #[test]
    fn lock_files_list_runtime_and_dev_packages() {
        let lock = br#"{"packages": [{"name": "Acme/Widget", "version": "1.0.0"}],
                        "packages-dev": [{"name": "acme/tool", "version": "v2.1"}]}"#;
        let locked = Packagist.locked_packages(lock).unwrap();
        assert_eq!(locked[0].name, "acme/widget");
        assert!(!locked[0].dev && locked[1].dev);
        assert!(Packagist.locked_packages(b"{}").is_err());
    }
}
