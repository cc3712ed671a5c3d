//! Version ranges in interval notation, as Maven and NuGet write them: `[1.0,2.0)`, `(,2.0]`,
//! `[1.2,)`, `[1.5]`, and Maven's unions `(,1.0],[1.2,)`. Each format brings its own version order:
//! the caller parses every bound into its own `Ord` type. The two ecosystems read a bare version
//! differently (Maven's grant `1.5` means that version, NuGet's `1.0` means 1.0 or newer), so the
//! caller says which.

use std::ops::Bound;

use crate::error::{Error, Result};

/// What a range written without brackets (`1.5`) allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BareVersion {
    /// Exactly that version (Maven's `[1.5]`).
    Exact,
    /// That version or any newer one (NuGet's `[1.0,)`).
    AtLeast,
}

/// A union of intervals over a format's versions.
#[derive(Debug, Clone)]
pub struct IntervalSet<V> {
    intervals: Vec<(Bound<V>, Bound<V>)>,
}

const MAX_LEN: usize = 1024;

impl<V: Ord + Clone> IntervalSet<V> {
    /// Parses `text`; `parse_version` turns one bound into a version (its error is passed on).
    pub fn parse(
        text: &str,
        bare: BareVersion,
        parse_version: impl Fn(&str) -> Result<V>,
    ) -> Result<IntervalSet<V>> {
        let text = text.trim();
        let invalid = |why: &str| Error::invalid(format!("version range {text:?}: {why}"));
        if text.is_empty() || text.len() > MAX_LEN {
            return Err(invalid(&format!("must be 1 to {MAX_LEN} characters")));
        }
        if !text.starts_with(['[', '(']) {
            if text.contains([',', '[', ']', '(', ')']) {
                return Err(invalid("a range must start with '[' or '('"));
            }
            let version = parse_version(text)?;
            let upper = match bare {
                BareVersion::Exact => Bound::Included(version.clone()),
                BareVersion::AtLeast => Bound::Unbounded,
            };
            return Ok(IntervalSet {
                intervals: vec![(Bound::Included(version), upper)],
            });
        }
        let mut intervals = Vec::new();
        let mut rest = text;
        loop {
            let open_inclusive = rest.starts_with('[');
            let close_at = rest
                .find([']', ')'])
                .ok_or_else(|| invalid("missing closing ']' or ')'"))?;
            let close_inclusive = rest[close_at..].starts_with(']');
            let inner = &rest[1..close_at];
            if inner.contains(['[', '(']) {
                return Err(invalid("brackets do not pair up"));
            }
            intervals.push(Self::interval(
                inner,
                open_inclusive,
                close_inclusive,
                &invalid,
                &parse_version,
            )?);
            rest = rest[close_at + 1..].trim_start();
            if rest.is_empty() {
                break;
            }
            rest = rest
                .strip_prefix(',')
                .map(str::trim_start)
                .filter(|next| next.starts_with(['[', '(']))
                .ok_or_else(|| invalid("ranges of a union are separated by ','"))?;
        }
        Ok(IntervalSet { intervals })
    }

    fn interval(
        inner: &str,
        open_inclusive: bool,
        close_inclusive: bool,
        invalid: &impl Fn(&str) -> Error,
        parse_version: &impl Fn(&str) -> Result<V>,
    ) -> Result<(Bound<V>, Bound<V>)> {
        let Some((low, high)) = inner.split_once(',') else {
            // `[1.5]`: exactly one version.
            if !(open_inclusive && close_inclusive) || inner.trim().is_empty() {
                return Err(invalid("a single version is written [version]"));
            }
            let version = parse_version(inner.trim())?;
            return Ok((Bound::Included(version.clone()), Bound::Included(version)));
        };
        if high.contains(',') {
            return Err(invalid("an interval has two bounds"));
        }
        let bound = |text: &str, inclusive: bool| -> Result<Bound<V>> {
            let text = text.trim();
            if text.is_empty() {
                return Ok(Bound::Unbounded);
            }
            let version = parse_version(text)?;
            Ok(if inclusive {
                Bound::Included(version)
            } else {
                Bound::Excluded(version)
            })
        };
        let lower = bound(low, open_inclusive)?;
        let upper = bound(high, close_inclusive)?;
        if matches!(lower, Bound::Unbounded) && open_inclusive
            || matches!(upper, Bound::Unbounded) && close_inclusive
        {
            return Err(invalid("an open end is written with '(' or ')'"));
        }
        let empty = match (&lower, &upper) {
            (Bound::Included(low), Bound::Included(high)) => low > high,
            (Bound::Included(low) | Bound::Excluded(low), Bound::Excluded(high))
            | (Bound::Excluded(low), Bound::Included(high)) => low >= high,
            _ => false,
        };
        if empty {
            return Err(invalid("the lower bound is above the upper bound"));
        }
        Ok((lower, upper))
    }

    pub fn contains(&self, version: &V) -> bool {
        self.intervals.iter().any(|(lower, upper)| {
            let above = match lower {
                Bound::Included(low) => version >= low,
                Bound::Excluded(low) => version > low,
                Bound::Unbounded => true,
            };
            let below = match upper {
                Bound::Included(high) => version <= high,
                Bound::Excluded(high) => version < high,
                Bound::Unbounded => true,
            };
            above && below
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dotted numbers, enough to test the notation apart from any format's order.
    fn numbers(text: &str) -> Result<Vec<u32>> {
        text.split('.')
            .map(|part| {
                part.parse()
                    .map_err(|_| Error::invalid(format!("bad version {text:?}")))
            })
            .collect()
    }

    fn set(text: &str, bare: BareVersion) -> IntervalSet<Vec<u32>> {
        IntervalSet::parse(text, bare, numbers).unwrap()
    }

    fn allows(set: &IntervalSet<Vec<u32>>, version: &str) -> bool {
        set.contains(&numbers(version).unwrap())
    }

    #[test]
    fn half_open_interval() {
        let range = set("[1.0,2.0)", BareVersion::Exact);
        assert!(allows(&range, "1.0"));
        assert!(allows(&range, "1.9.9"));
        assert!(!allows(&range, "2.0"));
        assert!(!allows(&range, "0.9"));
    }

    #[test]
    fn open_ends() {
        let up_to = set("(,2.0]", BareVersion::Exact);
        assert!(allows(&up_to, "0.1"));
        assert!(allows(&up_to, "2.0"));
        assert!(!allows(&up_to, "2.0.1"));
        let from = set("[1.2,)", BareVersion::Exact);
        assert!(allows(&from, "1.2"));
        assert!(allows(&from, "99"));
        assert!(!allows(&from, "1.1"));
        let after = set("(1.2, )", BareVersion::Exact);
        assert!(!allows(&after, "1.2"));
        assert!(allows(&after, "1.2.1"));
    }

    #[test]
    fn exact_versions() {
        let bracketed = set("[1.5]", BareVersion::AtLeast);
        assert!(allows(&bracketed, "1.5"));
        assert!(!allows(&bracketed, "1.6"));
        let maven = set("1.5", BareVersion::Exact);
        assert!(allows(&maven, "1.5"));
        assert!(!allows(&maven, "1.6"));
        let nuget = set("1.0", BareVersion::AtLeast);
        assert!(allows(&nuget, "1.0"));
        assert!(allows(&nuget, "3.0"));
        assert!(!allows(&nuget, "0.9"));
    }

    #[test]
    fn unions() {
        let range = set("(,1.0], [1.2,)", BareVersion::Exact);
        assert!(allows(&range, "1.0"));
        assert!(!allows(&range, "1.1"));
        assert!(allows(&range, "1.2"));
    }

    #[test]
    fn refuses_malformed_ranges() {
        for bad in [
            "",
            "[1.0,2.0",
            "[2.0,1.0]",
            "[1.0,1.0)",
            "(1.5)",
            "[]",
            "[,2.0]",
            "[1.0,]",
            "[1.0,2.0,3.0]",
            "[1.0,2.0)[3.0,)",
            "[1.0,2.0);",
            "1.0,2.0",
            "[x,2.0)",
            "((1.0,2.0)",
        ] {
            let err = IntervalSet::parse(bad, BareVersion::Exact, numbers)
                .expect_err(bad)
                .to_string();
            assert!(
                err.contains("version range") || err.contains("bad version"),
                "{bad}: {err}"
            );
        }
    }
}
