//! Security advisories, format-neutral: OSV records (`osv.rs`) imported from a file, a folder or
//! a URL (`advisory_import`), stored by `model::advisories`, and matched against versions with the
//! version order of the ecosystem they name. A format that serves an OSV ecosystem contributes
//! an `Ecosystem` (`Format::advisory_ecosystem`: Composer serves "Packagist"); the core never
//! names one.

pub mod osv;
pub mod report;

use std::cmp::Ordering;

use serde::Serialize;

use crate::error::Result;

pub use osv::{Advisory, Affected, Event};

/// How bad an advisory says it is; ordered, so a threshold is a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// GitHub's and OSV feeds' spellings (`MODERATE` is GitHub's medium).
    pub fn parse(text: &str) -> Option<Severity> {
        match text.trim().to_ascii_lowercase().as_str() {
            "low" => Some(Severity::Low),
            "medium" | "moderate" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// One package version pinned by a project's lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Locked {
    pub name: String,
    pub version: String,
    /// Required for development only (Composer's `packages-dev`).
    pub dev: bool,
}

/// An OSV ecosystem a format serves: its name, its version order and its clients' lock file.
pub trait Ecosystem: Send + Sync {
    /// The OSV ecosystem name (`Packagist`).
    fn name(&self) -> &'static str;

    /// The format whose stored packages belong to it (`composer`).
    fn format(&self) -> &'static str;

    /// Compares two versions in the ecosystem's order; `None` when either is no version of it
    /// (a branch name), which then matches no range.
    fn compare(&self, a: &str, b: &str) -> Option<Ordering>;

    /// The lock file its client writes (`composer.lock`), which `cargoman audit` reads.
    fn lock_file(&self) -> &'static str;

    /// The packages and versions a lock file pins.
    fn locked_packages(&self, lock: &[u8]) -> Result<Vec<Locked>>;
}

impl Affected {
    /// Whether `version` of this entry's package is affected: listed in `versions`, or inside
    /// one of its ECOSYSTEM or SEMVER ranges (GIT ranges name commits, not versions).
    pub fn matches(&self, ecosystem: &dyn Ecosystem, version: &str) -> bool {
        let same = |v: &str| ecosystem.compare(v, version) == Some(Ordering::Equal);
        self.versions.iter().any(|v| v == version || same(v))
            || self
                .ranges
                .iter()
                .filter(|r| r.kind == "ECOSYSTEM" || r.kind == "SEMVER")
                .any(|r| in_range(&r.events, ecosystem, version))
    }
}

/// A range's events in the ecosystem's version order (`introduced: "0"` first), as OSV asks
/// readers to take them whatever order a feed wrote them in.
pub fn sorted_events<'a>(events: &'a [Event], ecosystem: &dyn Ecosystem) -> Vec<&'a Event> {
    let mut sorted: Vec<&Event> = events.iter().collect();
    sorted.sort_by(|a, b| match (a.version(), b.version()) {
        ("0", "0") => Ordering::Equal,
        ("0", _) => Ordering::Less,
        (_, "0") => Ordering::Greater,
        (x, y) => ecosystem.compare(x, y).unwrap_or(Ordering::Equal),
    });
    sorted
}

/// OSV's evaluation: events sorted by version, the last one at or below `version` decides
/// (`introduced` opens, `fixed` and `limit` close at their version, `last_affected` after it).
fn in_range(events: &[Event], ecosystem: &dyn Ecosystem, version: &str) -> bool {
    let position = |event: &Event| match event {
        Event::Introduced(v) if v == "0" => Some(Ordering::Greater),
        Event::Introduced(v) | Event::Fixed(v) | Event::Limit(v) | Event::LastAffected(v) => {
            ecosystem.compare(version, v)
        }
    };
    if ecosystem.compare(version, version).is_none() {
        return false;
    }
    let mut affected = false;
    for event in sorted_events(events, ecosystem) {
        let Some(order) = position(event) else {
            continue;
        };
        match event {
            Event::Introduced(_) if order != Ordering::Less => affected = true,
            Event::Fixed(_) | Event::Limit(_) if order != Ordering::Less => affected = false,
            Event::LastAffected(_) if order == Ordering::Greater => affected = false,
            _ => {}
        }
    }
    affected
}

impl Advisory {
    /// Whether this advisory affects `version` of `package` in `ecosystem` (withdrawn ones
    /// affect nothing).
    pub fn affects(&self, ecosystem: &dyn Ecosystem, package: &str, version: &str) -> bool {
        self.withdrawn.is_none()
            && self
                .entries_for(ecosystem.name(), package)
                .any(|a| a.matches(ecosystem, version))
    }

    /// The management API's view of it; `with_osv` adds the record as imported.
    pub fn describe(&self, with_osv: bool) -> serde_json::Value {
        let time = |t: Option<i64>| t.map(crate::clock::rfc3339);
        let packages: Vec<_> = self
            .affected
            .iter()
            .map(|a| serde_json::json!({"ecosystem": a.ecosystem, "name": a.package}))
            .collect();
        let mut value = serde_json::json!({
            "id": self.id,
            "summary": self.summary,
            "severity": self.severity,
            "aliases": self.aliases,
            "cve": self.cve(),
            "link": self.link,
            "modified": time(Some(self.modified)),
            "published": time(self.published),
            "withdrawn": time(self.withdrawn),
            "packages": packages,
        });
        if with_osv {
            value["osv"] = self.raw.clone();
        }
        value
    }

    /// Its `affected` entries naming `package` of `ecosystem` (names compared case-insensitively).
    pub fn entries_for<'a>(
        &'a self,
        ecosystem: &'a str,
        package: &'a str,
    ) -> impl Iterator<Item = &'a Affected> {
        self.affected
            .iter()
            .filter(move |a| a.ecosystem == ecosystem && a.package.eq_ignore_ascii_case(package))
    }
}

/// An `affected` entry with one ECOSYSTEM range, for the tests of matching (here and in the
/// formats).
#[cfg(test)]
pub(crate) fn test_entry(ecosystem: &str, events: Vec<Event>, versions: &[&str]) -> Affected {
    Affected {
        ecosystem: ecosystem.into(),
        package: "p".into(),
        ranges: vec![osv::Range {
            kind: "ECOSYSTEM".into(),
            events,
        }],
        versions: versions.iter().map(|v| v.to_string()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dotted numbers, enough to test the range walk apart from any format.
    struct Numbers;

    impl Ecosystem for Numbers {
        fn name(&self) -> &'static str {
            "Test"
        }
        fn format(&self) -> &'static str {
            "test"
        }
        fn compare(&self, a: &str, b: &str) -> Option<Ordering> {
            let parse = |v: &str| {
                v.split('.')
                    .map(|p| p.parse::<u32>().ok())
                    .collect::<Option<Vec<_>>>()
            };
            Some(parse(a)?.cmp(&parse(b)?))
        }
        fn lock_file(&self) -> &'static str {
            "test.lock"
        }
        fn locked_packages(&self, _: &[u8]) -> Result<Vec<Locked>> {
            Ok(Vec::new())
        }
    }

    fn entry(events: Vec<Event>, versions: &[&str]) -> Affected {
        test_entry("Test", events, versions)
    }

    #[test]
    fn ranges_open_and_close_in_version_order() {
        use Event::*;
        // Out of order on purpose: OSV asks readers to sort the events.
        let a = entry(
            vec![
                Introduced("2.0".into()),
                LastAffected("2.1".into()),
                Introduced("1.0".into()),
                Fixed("1.2.3".into()),
            ],
            &["0.5"],
        );
        let affected = |v| a.matches(&Numbers, v);
        assert!(affected("1.0") && affected("1.2.2") && affected("2.1") && affected("0.5"));
        assert!(!affected("0.9") && !affected("1.2.3") && !affected("2.1.1"));
        assert!(!affected("dev-main"), "no version of the ecosystem");
        let open = entry(vec![Introduced("0".into())], &[]);
        assert!(open.matches(&Numbers, "0.0.1") && open.matches(&Numbers, "99"));
        let limited = entry(vec![Introduced("0".into()), Limit("3".into())], &[]);
        assert!(limited.matches(&Numbers, "2.9") && !limited.matches(&Numbers, "3"));
    }

    #[test]
    fn severities_read_github_spellings() {
        assert_eq!(Severity::parse("MODERATE"), Some(Severity::Medium));
        assert!(Severity::parse("bad").is_none());
        assert!(Severity::Critical > Severity::High && Severity::Medium > Severity::Low);
    }
}
