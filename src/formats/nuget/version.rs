//! NuGet versions as NuGet.Versioning reads, normalizes and orders them. Pure.
//!
//! A version is one to four dot-separated numbers (`1`, `1.0`, `1.0.0`, `1.0.0.0`, leading zeros
//! allowed), an optional release label (`-beta.1`, SemVer 2 dot-separated identifiers) and
//! optional build metadata (`+abc`). Its normalized form, which URLs and the registry use, has
//! three numbers, a fourth only when it is not 0, no leading zeros and no metadata: `1.0` →
//! `1.0.0`, `1.0.0.0` → `1.0.0`, `01.2.3.4` → `1.2.3.4`. Versions compare by number, then a
//! release above any prerelease of it, then label by label (numbers numerically and below
//! words, words case-insensitively, a shorter list first); metadata never counts, and case never
//! does, so `1.0.0-Beta` and `1.0.0-beta` are the same version.

use std::cmp::Ordering;

use crate::error::{Error, Result};

const MAX_LEN: usize = 64;

#[derive(Debug, Clone)]
pub struct NuGetVersion {
    /// Major, minor, patch, revision.
    numbers: [u32; 4],
    /// The release labels as written (compared case-insensitively).
    release: Vec<String>,
    metadata: Option<String>,
}

impl NuGetVersion {
    pub fn parse(text: &str) -> Result<NuGetVersion> {
        let invalid =
            |why: &str| Error::invalid(format!("version {text:?} is not a NuGet version: {why}"));
        let text = text.trim();
        if text.is_empty() || text.len() > MAX_LEN {
            return Err(invalid(&format!("it must be 1 to {MAX_LEN} characters")));
        }
        let (rest, metadata) = match text.split_once('+') {
            Some((rest, metadata)) => {
                check_labels(metadata).map_err(|why| invalid(&format!("build metadata: {why}")))?;
                (rest, Some(metadata.to_string()))
            }
            None => (text, None),
        };
        let (core, release) = match rest.split_once('-') {
            Some((core, release)) => {
                check_labels(release).map_err(|why| invalid(&format!("release label: {why}")))?;
                (core, release.split('.').map(str::to_string).collect())
            }
            None => (rest, Vec::new()),
        };
        let parts: Vec<&str> = core.split('.').collect();
        if parts.len() > 4 {
            return Err(invalid("at most four numbers"));
        }
        let mut numbers = [0u32; 4];
        for (slot, part) in numbers.iter_mut().zip(&parts) {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid("the numbers must be digits separated by '.'"));
            }
            *slot = part
                .parse::<i32>()
                .map_err(|_| invalid("a number is too large"))? as u32;
        }
        Ok(NuGetVersion {
            numbers,
            release,
            metadata,
        })
    }

    /// The normalized form without metadata, as written otherwise (`1.0.0-Beta`).
    pub fn normalized(&self) -> String {
        let [major, minor, patch, revision] = self.numbers;
        let mut text = format!("{major}.{minor}.{patch}");
        if revision != 0 {
            text.push_str(&format!(".{revision}"));
        }
        if !self.release.is_empty() {
            text.push('-');
            text.push_str(&self.release.join("."));
        }
        text
    }

    /// The normalized form with its build metadata (what SemVer 2 clients are shown).
    pub fn full(&self) -> String {
        match &self.metadata {
            Some(metadata) => format!("{}+{metadata}", self.normalized()),
            None => self.normalized(),
        }
    }

    pub fn is_prerelease(&self) -> bool {
        !self.release.is_empty()
    }

    /// Whether only SemVer 2 clients can read it: a dotted release label or build metadata.
    pub fn is_semver2(&self) -> bool {
        self.release.len() > 1 || self.metadata.is_some()
    }
}

/// SemVer 2 identifiers: non-empty, ASCII letters, digits and `-`.
fn check_labels(labels: &str) -> std::result::Result<(), &'static str> {
    for label in labels.split('.') {
        if label.is_empty() {
            return Err("an empty identifier");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err("only letters, digits, '-' and '.' are allowed");
        }
    }
    Ok(())
}

fn compare_label(a: &str, b: &str) -> Ordering {
    let number = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.parse::<u64>().ok())
    };
    match (number(a), number(b)) {
        (Some(Some(x)), Some(Some(y))) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        _ => a.to_ascii_lowercase().cmp(&b.to_ascii_lowercase()),
    }
}

impl Ord for NuGetVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.numbers.cmp(&other.numbers).then_with(|| {
            match (self.release.is_empty(), other.release.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    for (a, b) in self.release.iter().zip(&other.release) {
                        let order = compare_label(a, b);
                        if order != Ordering::Equal {
                            return order;
                        }
                    }
                    self.release.len().cmp(&other.release.len())
                }
            }
        })
    }
}

impl PartialOrd for NuGetVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for NuGetVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for NuGetVersion {}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> NuGetVersion {
        NuGetVersion::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn normalizes_as_nuget_does() {
        for (written, normalized) in [
            ("1", "1.0.0"),
            ("1.0", "1.0.0"),
            ("1.0.0.0", "1.0.0"),
            ("1.2.3.4", "1.2.3.4"),
            ("01.02.003", "1.2.3"),
            ("1.0.0-Beta", "1.0.0-Beta"),
            ("1.0-rc.1+build.5", "1.0.0-rc.1"),
            (" 2.0.0 ", "2.0.0"),
            ("1.0.0.0-alpha", "1.0.0-alpha"),
        ] {
            assert_eq!(v(written).normalized(), normalized, "{written}");
        }
        assert_eq!(v("1.0+sha.1").full(), "1.0.0+sha.1");
    }

    #[test]
    fn refuses_what_nuget_refuses() {
        for bad in [
            "",
            "a",
            "1.",
            ".1",
            "1..2",
            "1.2.3.4.5",
            "1.0-",
            "1.0-beta..1",
            "1.0-be_ta",
            "1.0+",
            "v1.0",
            "1.0.0-beta/1",
            "99999999999",
            "1.0 beta",
            "-1.0",
        ] {
            assert!(NuGetVersion::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn orders_as_nuget_does() {
        let ordered = [
            "0.9",
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.0.1",
            "1.0.1",
            "1.10",
            "2.0",
        ];
        for pair in ordered.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        assert_eq!(v("1.0.0-BETA"), v("1.0.0-beta"));
        assert_eq!(v("1.0"), v("1.0.0.0"));
        assert_eq!(v("1.0.0+a"), v("1.0.0+b"), "metadata never counts");
    }

    #[test]
    fn flags() {
        assert!(v("1.0.0-beta").is_prerelease());
        assert!(!v("1.0.0").is_prerelease());
        assert!(v("1.0.0-beta.1").is_semver2());
        assert!(v("1.0.0+meta").is_semver2());
        assert!(!v("1.0.0-beta1").is_semver2());
    }
}
