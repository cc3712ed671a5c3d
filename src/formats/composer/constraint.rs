//! Composer version constraints: parsing and matching against one version.
//!
//! A hand-written port of composer/semver's `VersionParser::parseConstraints()` (with its
//! private `parseConstraint` and `manipulateVersionString`), of `MultiConstraint::create`'s
//! merging of contiguous ranges, and of how `Constraint` / `MultiConstraint` /
//! `MatchAllConstraint` match a `== version` provider, i.e. what
//! `Composer\Semver\Semver::satisfies($version, $constraints)` answers.
//!
//! As in `version.rs`, there is no regex crate: each Composer regex is emulated by a small
//! matcher whose doc comment quotes the pattern, because the accepted syntax (and its quirks,
//! such as `>=1.0.0-RC1` still getting a `-dev` suffix) comes straight from those patterns.
//! PCRE's `$` without the `D` flag also matches before a final newline; see [`dollar_subject`].

use std::cmp::Ordering;

use super::version::{
    Stability, VersionError, alias_source, dev_suffix, digits, ends_with_ci, is_pcre_space,
    match_modifier, normalize, php_trim, php_version_compare, stability, starts_with_ci,
};

/// A parsed constraint such as `^1.0`, `~1.2`, `>=1.0 <3.0`, `1.0.*`, `^1.0 || ^2.0`, `2.0.0`,
/// `*`, `dev-main`, `^1.0@beta`.
#[derive(Debug, Clone, PartialEq)]
pub struct Constraint {
    text: String,
    /// Alternatives (`||`), each a conjunction (`,` / space). Composer's tree of
    /// `MultiConstraint`s built by `parseConstraints` is never deeper than this.
    any_of: Vec<Vec<Atom>>,
}

/// A constraint string that Composer's `VersionParser::parseConstraints` rejects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid version constraint {constraint:?}: {reason}")]
pub struct ConstraintError {
    /// The whole constraint as given.
    pub constraint: String,
    /// Why Composer rejects it, naming the offending part.
    pub reason: String,
}

/// One of Composer's leaf constraints.
#[derive(Debug, Clone, PartialEq)]
enum Atom {
    /// `MatchAllConstraint` (`*`, `x`, a bare `@dev`).
    All,
    /// `Constraint($operator, $normalizedVersion)`.
    Compare(Op, String),
}

/// `Constraint`'s operators; `=`/`==` and `<>`/`!=` are the same operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
    Ne,
}

impl Constraint {
    /// `VersionParser::parseConstraints`.
    pub fn parse(text: &str) -> Result<Constraint, ConstraintError> {
        let trimmed = php_trim(text);
        let mut any_of = Vec::new();
        for alternative in split_or(trimmed) {
            let mut all_of = Vec::new();
            for part in split_and(alternative) {
                let atoms = parse_single(part).map_err(|reason| ConstraintError {
                    constraint: text.to_string(),
                    reason,
                })?;
                all_of.extend(atoms);
            }
            any_of.push(all_of);
        }
        Ok(Constraint {
            text: trimmed.to_string(),
            any_of: merge_contiguous(any_of),
        })
    }

    /// `normalized` is a version as `version::normalize` returns it ("1.2.0.0",
    /// "1.0.0.0-beta1", "dev-main", "9999999-dev").
    pub fn matches(&self, normalized: &str) -> bool {
        self.any_of
            .iter()
            .any(|all_of| all_of.iter().all(|atom| atom.matches(normalized)))
    }

    /// The text it was parsed from, trimmed.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// `Semver::satisfies`: normalizes `version` (a pretty version like "v1.2.3" or "1.0.0-beta1")
/// then matches; false if it does not normalize (where Composer throws).
pub fn satisfies(version: &str, constraint: &Constraint) -> bool {
    normalize(version).is_ok_and(|normalized| constraint.matches(&normalized))
}

impl Atom {
    /// How the constraint matches the provider `new Constraint('==', $version)` that
    /// `Semver::satisfies` builds: `Constraint::matchSpecific` reduces to
    /// `Constraint::versionCompare($version, $this->version, $operator)` for a `==` provider.
    fn matches(&self, version: &str) -> bool {
        let Atom::Compare(op, bound) = self else {
            return true;
        };
        // Branches are not ordered: they only equal (or differ from) themselves.
        let version_is_branch = version.starts_with("dev-");
        let bound_is_branch = bound.starts_with("dev-");
        match op {
            Op::Ne if version_is_branch || bound_is_branch => version != bound,
            Op::Eq if version_is_branch && bound_is_branch => version == bound,
            _ if version_is_branch || bound_is_branch => false,
            _ => op.holds(php_version_compare(version.as_bytes(), bound.as_bytes())),
        }
    }
}

impl Op {
    /// `version_compare($a, $b, $op)` given `version_compare($a, $b)`.
    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Op::Eq => ordering.is_eq(),
            Op::Lt => ordering.is_lt(),
            Op::Le => ordering.is_le(),
            Op::Gt => ordering.is_gt(),
            Op::Ge => ordering.is_ge(),
            Op::Ne => ordering.is_ne(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Splitting

/// `preg_split('{\s*\|\|?\s*}', $constraints)`: `||` and `|` separate alternatives.
fn split_or(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    while let Some(bar) = s[start..].find('|').map(|i| start + i) {
        // The leftmost match begins with the whitespace run right before the first bar.
        let before = start + s[start..bar].trim_end_matches(is_pcre_space).len();
        let mut end = bar + 1;
        if s[end..].starts_with('|') {
            end += 1;
        }
        end = s.len() - s[end..].trim_start_matches(is_pcre_space).len();
        parts.push(&s[start..before]);
        start = end;
    }
    parts.push(&s[start..]);
    parts
}

/// `preg_split('{(?<!^|as|[=>< ,]) *(?<!-)[, ](?!-) *(?!,|as|$)}', $orConstraint)`: a comma or
/// space separates conjuncts, except next to an operator (`>= 1.0`), around a hyphen range's
/// `-`, around `as`, and at the ends.
fn split_and(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < s.len() {
        match and_separator_at(s.as_bytes(), i) {
            Some(end) => {
                parts.push(&s[start..i]);
                (start, i) = (end, end);
            }
            None => i += 1,
        }
    }
    parts.push(&s[start..]);
    parts
}

/// Where a match of the conjunction separator starting at `i` ends, trying the two ` *` runs
/// greedily first and backtracking as PCRE does.
fn and_separator_at(b: &[u8], i: usize) -> Option<usize> {
    if i == 0 || b[..i].ends_with(b"as") || b"=>< ,".contains(&b[i - 1]) {
        return None;
    }
    let spaces = |from: usize| b[from..].iter().take_while(|&&c| c == b' ').count();
    for p in (i..=i + spaces(i)).rev() {
        if b[p - 1] == b'-' || !matches!(b.get(p), Some(b',' | b' ')) || b.get(p + 1) == Some(&b'-')
        {
            continue;
        }
        let q = p + 1;
        for r in (q..=q + spaces(q)).rev() {
            let rest = &b[r..];
            if !(rest.starts_with(b",")
                || rest.starts_with(b"as")
                || rest.is_empty()
                || rest == b"\n")
            {
                return Some(r);
            }
        }
    }
    None
}

/// `MultiConstraint::create($orGroups, false)` collapses `[>= a < b] || [>= b < c]` into
/// `[>= a < c]`. It compares only the strings, so it applies even where the ranges are not
/// contiguous in order (`^1.0 || 2.0 - 1.0`); matching must see the merged form to agree.
fn merge_contiguous(groups: Vec<Vec<Atom>>) -> Vec<Vec<Atom>> {
    use Atom::Compare;
    let mut groups = groups.into_iter();
    let Some(mut left) = groups.next() else {
        return Vec::new();
    };
    let mut merged = Vec::new();
    for right in groups {
        // `substr($left1, 2) === substr($right0, 3)` can only hold for a strict `<` on the left.
        let contiguous = matches!(
            (left.as_slice(), right.as_slice()),
            ([Compare(Op::Ge, _), Compare(Op::Lt, upper)], [Compare(Op::Ge, lower), Compare(Op::Lt | Op::Le, _)])
                if upper == lower
        );
        if contiguous {
            left = vec![left[0].clone(), right[1].clone()];
        } else {
            merged.push(left);
            left = right;
        }
    }
    merged.push(left);
    merged
}

// ---------------------------------------------------------------------------------------------
// One conjunct: `VersionParser::parseConstraint`

/// `VersionParser::parseConstraint`, the error being Composer's exception message.
fn parse_single(input: &str) -> Result<Vec<Atom>, String> {
    let mut constraint = input;
    if let Some(source) = dollar_subject(constraint).and_then(alias_source) {
        constraint = source;
    }

    let mut stability_modifier = None;
    if let Some((head, flag)) = stability_flag(constraint) {
        constraint = if head.is_empty() { "*" } else { head };
        // Case-sensitive in Composer: only a literal "stable" is dropped.
        if flag != "stable" {
            stability_modifier = Some(flag);
        }
    }

    if let Some(head) = strip_reference(constraint) {
        constraint = head;
    }

    if let Some(bounded) = match_all(constraint) {
        return Ok(vec![if bounded {
            Atom::Compare(Op::Ge, "0.0.0.0-dev".to_string())
        } else {
            Atom::All
        }]);
    }

    for range in [tilde_range, caret_range, x_range, hyphen_range] {
        if let Some(atoms) = range(constraint)? {
            return Ok(atoms);
        }
    }
    comparison(constraint, stability_modifier)
        .map(|atom| vec![atom])
        .map_err(|e| format!("could not parse version constraint {constraint:?}: {e}"))
}

/// Tilde range `^~>?<versionRegex>$` (case-insensitive): `~1.2` → `>=1.2.0.0-dev <2.0.0.0-dev`,
/// `~1.2.3` → `>=1.2.3.0-dev <1.3.0.0-dev`. `~>` (Ruby's operator) is an error.
fn tilde_range(constraint: &str) -> Result<Option<Vec<Atom>>, String> {
    let Some(m) = dollar_subject(constraint)
        .and_then(|s| s.strip_prefix('~'))
        .and_then(|s| match_version(s.strip_prefix('>').unwrap_or(s)))
    else {
        return Ok(None);
    };
    if constraint.starts_with("~>") {
        return Err(format!(
            "could not parse version constraint {constraint:?}: invalid operator \"~>\", \
             you probably meant to use the \"~\" operator"
        ));
    }
    // "~2.x-dev" and "~2.0.x-dev" operate on the wildcard's position.
    let position = m.set_parts() + usize::from(m.wildcard_dev);
    let low = normalize(&format!("{}{}", &constraint[1..], m.lower_suffix()))
        .map_err(|e| e.to_string())?;
    // One position more significant, but never "position 0".
    let high = manipulate_version_string(&m.numbers, position.saturating_sub(1).max(1), true);
    Ok(Some(vec![
        Atom::Compare(Op::Ge, low),
        Atom::Compare(Op::Lt, high + "-dev"),
    ]))
}

/// Caret range `^\^<versionRegex>($)` (case-insensitive): the left-most non-zero part of
/// major.minor.patch is fixed, so `^1.2` → `<2.0.0.0-dev`, `^0.2` → `<0.3.0.0-dev`, `^0.0.3` →
/// `<0.0.4.0-dev`, `^0` → `<1.0.0.0-dev`, `^0.0` → `<0.1.0.0-dev`.
fn caret_range(constraint: &str) -> Result<Option<Vec<Atom>>, String> {
    let Some(m) = dollar_subject(constraint)
        .and_then(|s| s.strip_prefix('^'))
        .and_then(match_version)
    else {
        return Ok(None);
    };
    // Compared as strings in Composer: "00" is not "0".
    let position = match m.numbers {
        [Some(major), ..] if major != "0" => 1,
        [_, None, ..] => 1,
        [_, Some(minor), ..] if minor != "0" => 2,
        [_, _, None, _] => 2,
        _ => 3,
    };
    let low = normalize(&format!("{}{}", &constraint[1..], m.lower_suffix()))
        .map_err(|e| e.to_string())?;
    let high = manipulate_version_string(&m.numbers, position, true);
    Ok(Some(vec![
        Atom::Compare(Op::Ge, low),
        Atom::Compare(Op::Lt, high + "-dev"),
    ]))
}

/// X range `^v?(\d++)(?:\.(\d++))?(?:\.(\d++))?(?:\.[xX*])++$` (case-sensitive, so no `V`):
/// `1.2.*` → `>=1.2.0.0-dev <1.3.0.0-dev`; a zero lower bound is left out (`0.*` → `<1.0.0.0-dev`).
fn x_range(constraint: &str) -> Result<Option<Vec<Atom>>, String> {
    let Some((numbers, rest)) = dollar_subject(constraint)
        .map(|s| s.strip_prefix('v').unwrap_or(s))
        .and_then(|s| leading_numbers(s, 3))
    else {
        return Ok(None);
    };
    // `(?:\.[xX*])++`: one or more wildcards, then the end.
    let wildcards = rest.strip_prefix('.').map(|r| r.split('.'));
    if !wildcards.is_some_and(|mut w| w.all(|w| matches!(w, "x" | "X" | "*"))) {
        return Ok(None);
    }
    let position = numbers.iter().flatten().count();
    let low = manipulate_version_string(&numbers, position, false) + "-dev";
    let high = manipulate_version_string(&numbers, position, true) + "-dev";
    let upper = Atom::Compare(Op::Lt, high);
    Ok(Some(if low == "0.0.0.0-dev" {
        vec![upper]
    } else {
        vec![Atom::Compare(Op::Ge, low), upper]
    }))
}

/// Hyphen range `^(?P<from><versionRegex>) +- +(?P<to><versionRegex>)($)` (case-insensitive):
/// inclusive, and a partial upper bound accepts everything starting with it (`1 - 2.1` →
/// `<2.2.0.0-dev`), while a full or pre-release one is exact (`1 - 2.1.3` → `<=2.1.3.0`).
fn hyphen_range(constraint: &str) -> Result<Option<Vec<Atom>>, String> {
    let matched = dollar_subject(constraint).and_then(|s| {
        // Neither version can contain a space, so `from` ends at the first one.
        let (from, rest) = s.split_at(s.find(' ')?);
        let rest = rest.trim_start_matches(' ').strip_prefix('-')?;
        let to = rest.strip_prefix(' ')?.trim_start_matches(' ');
        Some((from, match_version(from)?, to, match_version(to)?))
    });
    let Some((from, from_match, to, to_match)) = matched else {
        return Ok(None);
    };
    let invalid = |e: VersionError| e.to_string();
    let low = normalize(from).map_err(invalid)? + from_match.lower_suffix();
    // Composer's `$empty` treats "0" as present: "2.0" names a minor version.
    let [_, minor, patch, _] = to_match.numbers;
    let upper = if (minor.is_some() && patch.is_some())
        || to_match.stability
        || to_match.dev
        || to_match.wildcard_dev
    {
        Atom::Compare(Op::Le, normalize(to).map_err(invalid)?)
    } else {
        normalize(to).map_err(invalid)?;
        let position = if minor.is_none() { 1 } else { 2 };
        let high = manipulate_version_string(&to_match.numbers, position, true);
        Atom::Compare(Op::Lt, high + "-dev")
    };
    Ok(Some(vec![Atom::Compare(Op::Ge, low), upper]))
}

/// Basic comparators `^(<>|!=|>=?|<=?|==?)?\s*(.*)`, then `normalize` of the operand with
/// Composer's recovery of `foo-dev` as `dev-foo` and its stability suffixes on bounds.
fn comparison(constraint: &str, stability_modifier: Option<&str>) -> Result<Atom, String> {
    const OPERATORS: [(&str, Op); 8] = [
        ("<>", Op::Ne),
        ("!=", Op::Ne),
        (">=", Op::Ge),
        (">", Op::Gt),
        ("<=", Op::Le),
        ("<", Op::Lt),
        ("==", Op::Eq),
        ("=", Op::Eq),
    ];
    let (operator, op) = OPERATORS
        .iter()
        .find(|(text, _)| constraint.starts_with(text))
        .map_or(("=", Op::Eq), |&(text, op)| (text, op));
    let rest = constraint
        .strip_prefix(operator)
        .unwrap_or(constraint)
        .trim_start_matches(is_pcre_space);
    // `(.*)` stops at a newline.
    let operand = &rest[..rest.find('\n').unwrap_or(rest.len())];

    let mut version = match normalize(operand) {
        Ok(version) => version,
        // `substr($v, -4) === '-dev' && preg_match('{^[0-9a-zA-Z-./]+$}', $v)`: "foobar-dev" was
        // meant as "dev-foobar" (whatever the operator).
        Err(_)
            if operand.ends_with("-dev")
                && operand
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '/')) =>
        {
            normalize(&format!("dev-{}", &operand[..operand.len() - 4]))
                .map_err(|e| e.to_string())?
        }
        Err(e) => return Err(e.to_string()),
    };

    let flag =
        stability_modifier.filter(|_| op != Op::Eq && stability(&version) == Stability::Stable);
    if let Some(flag) = flag {
        // `>=1.0@beta` lets 1.0 pre-releases down to beta in: the bound gets that suffix.
        version.push('-');
        version.push_str(flag);
    } else if (operator == "<" || operator == ">=")
        && !has_modifier_suffix(&operand.to_ascii_lowercase())
        && !operand.starts_with("dev-")
    {
        // `>=1.0` and `<2.0` include / exclude the whole 1.0 / 2.0 dev cycle.
        version.push_str("-dev");
    }
    Ok(Atom::Compare(op, version))
}

/// `preg_match('/-' . $modifierRegex . '$/', strtolower($operand))`: is there a `-` from which the
/// rest is a modifier? The pattern is case-sensitive but the subject lower-cased, so its `RC`
/// alternative can never match: `>=1.0-RC1` still becomes `>=1.0.0.0-RC1-dev` in Composer.
fn has_modifier_suffix(lower: &str) -> bool {
    lower.match_indices('-').any(|(i, _)| {
        match_modifier(&lower[i + 1..], false).is_some_and(|m| m.stability != Some("rc"))
    })
}

// ---------------------------------------------------------------------------------------------
// The small anchored patterns

/// PCRE's `$` (no `D` flag) matches at the end or before a final newline. None of the anchored
/// patterns below can match a newline themselves, so each applies to the subject without that
/// final newline, and to nothing when another newline remains.
fn dollar_subject(s: &str) -> Option<&str> {
    let s = s.strip_suffix('\n').unwrap_or(s);
    (!s.contains('\n')).then_some(s)
}

/// `^([^,\s]*?)@(stable|RC|beta|alpha|dev)$` (case-insensitive): the constraint and its
/// stability flag as written.
fn stability_flag(constraint: &str) -> Option<(&str, &str)> {
    let (head, flag) = dollar_subject(constraint)?.rsplit_once('@')?;
    let known = ["stable", "RC", "beta", "alpha", "dev"]
        .iter()
        .any(|s| flag.eq_ignore_ascii_case(s));
    let plain = !head.contains(|c| c == ',' || is_pcre_space(c));
    (known && plain).then_some((head, flag))
}

/// `^(dev-[^,\s@]+?|[^,\s@]+?\.x-dev)#.+$` (case-insensitive): a branch constraint without its
/// `#reference`. The lazy prefix stops at the first `#` that leaves something after it.
fn strip_reference(constraint: &str) -> Option<&str> {
    let s = dollar_subject(constraint)?;
    let plain = |part: &str| !part.contains(|c| c == ',' || c == '@' || is_pcre_space(c));
    let hashes = || {
        s.match_indices('#')
            .map(|(i, _)| i)
            .filter(|&i| i + 1 < s.len())
    };
    let branch = starts_with_ci(s, "dev-")
        .then(|| hashes().find(|&i| i > 4))
        .flatten()
        .filter(|&i| plain(&s[4..i]));
    let numeric = || {
        hashes()
            .take_while(|&i| plain(&s[..i]))
            .find(|&i| i > 6 && ends_with_ci(&s[..i], ".x-dev"))
    };
    branch.or_else(numeric).map(|i| &s[..i])
}

/// `^(v)?[xX*](\.[xX*])*$` (case-insensitive): `*`, `x` match everything (`Some(false)`), while
/// `v*` or `*.*` become `>=0.0.0.0-dev` (`Some(true)`), which excludes branches.
fn match_all(constraint: &str) -> Option<bool> {
    let s = dollar_subject(constraint)?;
    let (v, s) = match s.strip_prefix(['v', 'V']) {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let wildcards = s.split('.');
    let count = wildcards.clone().count();
    // Composer tests the `v` and the last repeated `\.[xX*]` for being non-empty.
    wildcards
        .clone()
        .all(|w| matches!(w, "x" | "X" | "*"))
        .then_some(v || count > 1)
}

/// Captures of Composer's `$versionRegex`
/// `v?(\d++)(?:\.(\d++))?(?:\.(\d++))?(?:\.(\d++))?(?:<modifier>|\.([xX*][.-]?dev))(?:\+[^\s]+)?`.
struct VersionMatch<'a> {
    /// Groups 1 to 4, the first always present.
    numbers: [Option<&'a str>; 4],
    /// Group 5: the modifier's stability word.
    stability: bool,
    /// Group 7: the modifier's `[.-]?dev`.
    dev: bool,
    /// Group 8: a `.x-dev` wildcard.
    wildcard_dev: bool,
}

impl VersionMatch<'_> {
    fn set_parts(&self) -> usize {
        self.numbers.iter().flatten().count()
    }

    /// Unsuffixed bounds start at the version's dev cycle (`~1.2` → `>=1.2.0.0-dev`); with a
    /// stability the version is used as is.
    fn lower_suffix(&self) -> &'static str {
        if self.stability || self.dev || self.wildcard_dev {
            ""
        } else {
            "-dev"
        }
    }
}

/// Matches all of `s` (case-insensitive) against `$versionRegex`, the choices taken in PCRE's
/// order.
fn match_version(s: &str) -> Option<VersionMatch<'_>> {
    let (numbers, rest) = leading_numbers(s.strip_prefix(['v', 'V']).unwrap_or(s), 4)?;
    // `(?:\+[^\s]+)?`: neither alternative can contain a '+', so metadata starts at the first.
    let (body, metadata) = rest.split_at(rest.find('+').unwrap_or(rest.len()));
    if let Some(meta) = metadata.strip_prefix('+')
        && (meta.is_empty() || meta.contains(is_pcre_space))
    {
        return None;
    }
    if let Some(modifier) = match_modifier(body, false) {
        return Some(VersionMatch {
            numbers,
            stability: modifier.stability.is_some(),
            dev: modifier.dev,
            wildcard_dev: false,
        });
    }
    let after_wildcard = body.strip_prefix('.')?.strip_prefix(['x', 'X', '*'])?;
    dev_suffix(after_wildcard)?
        .is_empty()
        .then_some(VersionMatch {
            numbers,
            stability: false,
            dev: false,
            wildcard_dev: true,
        })
}

/// `(\d++)` then up to `count - 1` groups `(?:\.(\d++))?`, and what follows them. Giving back a
/// group never lets the rest of these patterns match (it would start with a dot and a digit), so
/// they are taken greedily.
fn leading_numbers(s: &str, count: usize) -> Option<([Option<&str>; 4], &str)> {
    let major = digits(s);
    if major == 0 {
        return None;
    }
    let mut numbers = [Some(&s[..major]), None, None, None];
    let mut rest = &s[major..];
    for slot in &mut numbers[1..count] {
        match rest.strip_prefix('.').map(|r| (r, digits(r))) {
            Some((r, n)) if n > 0 => {
                *slot = Some(&r[..n]);
                rest = &r[n..];
            }
            _ => break,
        }
    }
    Some((numbers, rest))
}

/// `VersionParser::manipulateVersionString($matches, $position, $increment)`: parts after
/// `position` become "0", the part at `position` is incremented (as PHP adds to a numeric
/// string), earlier parts stay as written ("01" stays "01").
fn manipulate_version_string(
    numbers: &[Option<&str>; 4],
    position: usize,
    increment: bool,
) -> String {
    let parts: Vec<String> = (1..=4)
        .map(|i| {
            let part = numbers[i - 1].unwrap_or("");
            if i > position {
                "0".to_string()
            } else if i == position && increment {
                php_increment(part)
            } else {
                part.to_string()
            }
        })
        .collect();
    parts.join(".")
}

/// PHP's `$part += 1` on a digit string, printed back as PHP prints numbers: an integer while it
/// fits in 64 bits, else a float with `precision=14` ("99999999999999999999" → "1.0E+20").
fn php_increment(number: &str) -> String {
    let significant = number.trim_start_matches('0');
    if significant.is_empty() {
        return "1".to_string();
    }
    let value = match significant.parse::<i64>() {
        Ok(n) => match n.checked_add(1) {
            Some(sum) => return sum.to_string(),
            None => n as f64 + 1.0,
        },
        Err(_) => significant.parse::<f64>().unwrap_or(f64::INFINITY) + 1.0,
    };
    if value.is_infinite() {
        return "INF".to_string();
    }
    // zend_gcvt's exponential form: 14 significant digits, trailing zeros dropped but at least
    // one decimal, "E+" and the exponent. Every value reaching here is above 9.2E+18.
    let formatted = format!("{value:.13e}");
    let (mantissa, exponent) = formatted.split_once('e').unwrap_or((&formatted, "0"));
    let mantissa = mantissa.trim_end_matches('0');
    let mantissa = if mantissa.ends_with('.') {
        format!("{mantissa}0")
    } else {
        mantissa.to_string()
    };
    format!("{mantissa}E+{exponent}")
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Constraint {
        /// Composer's `(string) $parser->parseConstraints($text)`, to compare parse trees.
        fn composer_string(&self) -> String {
            let atom = |a: &Atom| match a {
                Atom::All => "*".to_string(),
                Atom::Compare(op, version) => {
                    let op = match op {
                        Op::Eq => "==",
                        Op::Lt => "<",
                        Op::Le => "<=",
                        Op::Gt => ">",
                        Op::Ge => ">=",
                        Op::Ne => "!=",
                    };
                    format!("{op} {version}")
                }
            };
            let group = |g: &Vec<Atom>| match g.as_slice() {
                [one] => atom(one),
                all => format!("[{}]", all.iter().map(atom).collect::<Vec<_>>().join(" ")),
            };
            match self.any_of.as_slice() {
                [one] => group(one),
                all => format!(
                    "[{}]",
                    all.iter().map(group).collect::<Vec<_>>().join(" || ")
                ),
            }
        }
    }

    /// The inputs of composer/semver's `VersionParserTest` (simpleConstraints,
    /// wildcardConstraints, tildeConstraints, caretConstraints, hyphenConstraints,
    /// constraintProvider, the multi-constraint and stability tests, references), each with
    /// `(string) $parser->parseConstraints($input)` as the installed composer/semver prints it.
    const PARSED: &[(&str, &str)] = &[
        ("*", "*"),
        ("v*", ">= 0.0.0.0-dev"),
        ("*.*", ">= 0.0.0.0-dev"),
        ("v*.*", ">= 0.0.0.0-dev"),
        ("*.x.*", ">= 0.0.0.0-dev"),
        ("x.X.x.*", ">= 0.0.0.0-dev"),
        ("<>1.0.0", "!= 1.0.0.0"),
        ("!=1.0.0", "!= 1.0.0.0"),
        (">1.0.0", "> 1.0.0.0"),
        ("<1.2.3.4", "< 1.2.3.4-dev"),
        ("<=1.2.3", "<= 1.2.3.0"),
        (">=1.2.3", ">= 1.2.3.0-dev"),
        ("=1.2.3", "== 1.2.3.0"),
        ("==1.2.3", "== 1.2.3.0"),
        ("1.2.3", "== 1.2.3.0"),
        ("=1.0", "== 1.0.0.0"),
        ("1.2.3b5", "== 1.2.3.0-beta5"),
        ("1.2.3a1", "== 1.2.3.0-alpha1"),
        ("1.2.3p1234", "== 1.2.3.0-patch1234"),
        ("1.2.3pl1234", "== 1.2.3.0-patch1234"),
        (">= 1.2.3", ">= 1.2.3.0-dev"),
        ("< 1.2.3", "< 1.2.3.0-dev"),
        ("> 1.2.3", "> 1.2.3.0"),
        (">=dev-master", ">= dev-master"),
        ("dev-master", "== dev-master"),
        ("dev-feature-a", "== dev-feature-a"),
        ("dev-some-fix", "== dev-some-fix"),
        ("dev-CAPS", "== dev-CAPS"),
        ("dev-master as 1.0.0", "== dev-master"),
        ("<1.2.3.4-stable", "< 1.2.3.4"),
        (">=1.2.3.4-stable", ">= 1.2.3.4"),
        ("v2.*", "[>= 2.0.0.0-dev < 3.0.0.0-dev]"),
        ("2.*.*", "[>= 2.0.0.0-dev < 3.0.0.0-dev]"),
        ("20.*", "[>= 20.0.0.0-dev < 21.0.0.0-dev]"),
        ("20.*.*", "[>= 20.0.0.0-dev < 21.0.0.0-dev]"),
        ("2.0.*", "[>= 2.0.0.0-dev < 2.1.0.0-dev]"),
        ("2.x", "[>= 2.0.0.0-dev < 3.0.0.0-dev]"),
        ("2.x.x", "[>= 2.0.0.0-dev < 3.0.0.0-dev]"),
        ("2.2.x", "[>= 2.2.0.0-dev < 2.3.0.0-dev]"),
        ("2.10.X", "[>= 2.10.0.0-dev < 2.11.0.0-dev]"),
        ("2.1.3.*", "[>= 2.1.3.0-dev < 2.1.4.0-dev]"),
        ("0.*", "< 1.0.0.0-dev"),
        ("0.*.*", "< 1.0.0.0-dev"),
        ("0.x", "< 1.0.0.0-dev"),
        ("0.x.x", "< 1.0.0.0-dev"),
        ("~v1", "[>= 1.0.0.0-dev < 2.0.0.0-dev]"),
        ("~1.0", "[>= 1.0.0.0-dev < 2.0.0.0-dev]"),
        ("~1.0.0", "[>= 1.0.0.0-dev < 1.1.0.0-dev]"),
        ("~1.2", "[>= 1.2.0.0-dev < 2.0.0.0-dev]"),
        ("~1.2.3", "[>= 1.2.3.0-dev < 1.3.0.0-dev]"),
        ("~1.2.3.4", "[>= 1.2.3.4-dev < 1.2.4.0-dev]"),
        ("~1.2-beta", "[>= 1.2.0.0-beta < 2.0.0.0-dev]"),
        ("~1.2-b2", "[>= 1.2.0.0-beta2 < 2.0.0.0-dev]"),
        ("~1.2-BETA2", "[>= 1.2.0.0-beta2 < 2.0.0.0-dev]"),
        ("~1.2.2-dev", "[>= 1.2.2.0-dev < 1.3.0.0-dev]"),
        ("~1.2.2-stable", "[>= 1.2.2.0 < 1.3.0.0-dev]"),
        ("~201903.0", "[>= 201903.0-dev < 201904.0.0.0-dev]"),
        ("~201903.0-beta", "[>= 201903.0-beta < 201904.0.0.0-dev]"),
        ("~201903.0-stable", "[>= 201903.0 < 201904.0.0.0-dev]"),
        (
            "~201903.205830.1-stable",
            "[>= 201903.205830.1 < 201903.205831.0.0-dev]",
        ),
        (
            "~2.x-dev",
            "[>= 2.9999999.9999999.9999999-dev < 3.0.0.0-dev]",
        ),
        ("~2.0.x-dev", "[>= 2.0.9999999.9999999-dev < 2.1.0.0-dev]"),
        ("~2.0.3.x-dev", "[>= 2.0.3.9999999-dev < 2.0.4.0-dev]"),
        (
            "~0.x-dev",
            "[>= 0.9999999.9999999.9999999-dev < 1.0.0.0-dev]",
        ),
        ("^v1", "[>= 1.0.0.0-dev < 2.0.0.0-dev]"),
        ("^0", "[>= 0.0.0.0-dev < 1.0.0.0-dev]"),
        ("^0.0", "[>= 0.0.0.0-dev < 0.1.0.0-dev]"),
        ("^1.2", "[>= 1.2.0.0-dev < 2.0.0.0-dev]"),
        ("^1.2.3-beta.2", "[>= 1.2.3.0-beta2 < 2.0.0.0-dev]"),
        ("^1.2.3.4", "[>= 1.2.3.4-dev < 2.0.0.0-dev]"),
        ("^1.2.3", "[>= 1.2.3.0-dev < 2.0.0.0-dev]"),
        ("^0.2.3", "[>= 0.2.3.0-dev < 0.3.0.0-dev]"),
        ("^0.2", "[>= 0.2.0.0-dev < 0.3.0.0-dev]"),
        ("^0.2.0", "[>= 0.2.0.0-dev < 0.3.0.0-dev]"),
        ("^0.0.3", "[>= 0.0.3.0-dev < 0.0.4.0-dev]"),
        ("^0.0.3-alpha", "[>= 0.0.3.0-alpha < 0.0.4.0-dev]"),
        ("^0.0.3-dev", "[>= 0.0.3.0-dev < 0.0.4.0-dev]"),
        ("^0.0.3-stable", "[>= 0.0.3.0 < 0.0.4.0-dev]"),
        ("^201903.0", "[>= 201903.0-dev < 201904.0.0.0-dev]"),
        ("^201903.0-beta", "[>= 201903.0-beta < 201904.0.0.0-dev]"),
        (
            "^201903.205830.1-stable",
            "[>= 201903.205830.1 < 201904.0.0.0-dev]",
        ),
        (
            "^2.x-dev",
            "[>= 2.9999999.9999999.9999999-dev < 3.0.0.0-dev]",
        ),
        ("^2.0.*-dev", "[>= 2.0.9999999.9999999-dev < 3.0.0.0-dev]"),
        ("^2.0.x-dev", "[>= 2.0.9999999.9999999-dev < 3.0.0.0-dev]"),
        ("^2.0.3.x-dev", "[>= 2.0.3.9999999-dev < 3.0.0.0-dev]"),
        (
            "^0.x-dev",
            "[>= 0.9999999.9999999.9999999-dev < 1.0.0.0-dev]",
        ),
        ("v1 - v2", "[>= 1.0.0.0-dev < 3.0.0.0-dev]"),
        ("1.2.3 - 2.3.4.5", "[>= 1.2.3.0-dev <= 2.3.4.5]"),
        ("1.2-beta - 2.3", "[>= 1.2.0.0-beta < 2.4.0.0-dev]"),
        ("1.2-beta - 2.3-dev", "[>= 1.2.0.0-beta <= 2.3.0.0-dev]"),
        ("1.2-RC - 2.3.1", "[>= 1.2.0.0-RC <= 2.3.1.0]"),
        ("1.2.3-alpha - 2.3-RC", "[>= 1.2.3.0-alpha <= 2.3.0.0-RC]"),
        ("1 - 2.0", "[>= 1.0.0.0-dev < 2.1.0.0-dev]"),
        ("1 - 2.1", "[>= 1.0.0.0-dev < 2.2.0.0-dev]"),
        ("1.2 - 2.1.0", "[>= 1.2.0.0-dev <= 2.1.0.0]"),
        ("1.3 - 2.1.3", "[>= 1.3.0.0-dev <= 2.1.3.0]"),
        (
            "2.0.3.x-dev - 3.0.3.x-dev",
            "[>= 2.0.3.9999999-dev <= 3.0.3.9999999-dev]",
        ),
        (
            "2.0.x-dev - 3.0.x-dev",
            "[>= 2.0.9999999.9999999-dev <= 3.0.9999999.9999999-dev]",
        ),
        (
            "2.x-dev - 3.x-dev",
            "[>= 2.9999999.9999999.9999999-dev <= 3.9999999.9999999.9999999-dev]",
        ),
        (
            "0.x-dev - 1.x-dev",
            "[>= 0.9999999.9999999.9999999-dev <= 1.9999999.9999999.9999999-dev]",
        ),
        ("3.x-dev", "== 3.9999999.9999999.9999999-dev"),
        ("3-dev", "== 3.0.0.0-dev"),
        ("dev-3.x", "== dev-3.x"),
        ("xsd2php-dev", "== dev-xsd2php"),
        ("3.next-dev", "== dev-3.next"),
        ("foobar-dev", "== dev-foobar"),
        ("dev-xsd2php", "== dev-xsd2php"),
        ("dev-3.next", "== dev-3.next"),
        ("dev-foobar", "== dev-foobar"),
        ("dev-1.0.0-dev<1.0.5-dev", "== dev-1.0.0-dev<1.0.5-dev"),
        ("dev-1.0.0-dev<1.0.5", "== dev-1.0.0-dev<1.0.5"),
        ("foobar-dev as 2.1.0", "== dev-foobar"),
        (
            "foobar-dev as 2.1.0 || 3.5",
            "[== dev-foobar || == 3.5.0.0]",
        ),
        (
            "foobar-dev as 2.1.0 || 3.5 as 1.5",
            "[== dev-foobar || == 3.5.0.0]",
        ),
        ("2.1.0 - 2.3-dev", "[>= 2.1.0.0-dev <= 2.3.0.0-dev]"),
        (
            "1.0 - 2.0.x-dev",
            "[>= 1.0.0.0-dev <= 2.0.9999999.9999999-dev]",
        ),
        ("^1.", "[>= 1.0.0.0-dev < 2.0.0.0-dev]"),
        ("~1.", "[>= 1.0.0.0-dev < 2.0.0.0-dev]"),
        ("1.2.", "== 1.2.0.0"),
        ("1.2..dev", "== 1.2.0.0-dev"),
        ("1.2-.dev", "== 1.2.0.0-dev"),
        ("1.2_-dev", "== 1.2.0.0-dev"),
        (
            "~2.5.9|~2.6,>=2.6.2",
            "[[>= 2.5.9.0-dev < 2.6.0.0-dev] || [>= 2.6.0.0-dev < 3.0.0.0-dev >= 2.6.2.0-dev]]",
        ),
        (">2.0,<=3.0", "[> 2.0.0.0 <= 3.0.0.0]"),
        (">2.0 <=3.0", "[> 2.0.0.0 <= 3.0.0.0]"),
        (">2.0  <=3.0", "[> 2.0.0.0 <= 3.0.0.0]"),
        (">2.0, <=3.0", "[> 2.0.0.0 <= 3.0.0.0]"),
        (">2.0 ,<=3.0", "[> 2.0.0.0 <= 3.0.0.0]"),
        (">2.0 , <=3.0", "[> 2.0.0.0 <= 3.0.0.0]"),
        (">2.0   , <=3.0", "[> 2.0.0.0 <= 3.0.0.0]"),
        ("> 2.0   <=  3.0", "[> 2.0.0.0 <= 3.0.0.0]"),
        ("> 2.0  ,  <=  3.0", "[> 2.0.0.0 <= 3.0.0.0]"),
        ("  > 2.0  ,  <=  3.0 ", "[> 2.0.0.0 <= 3.0.0.0]"),
        (
            ">=1.1.0-alpha4,<1.2.x-dev",
            "[>= 1.1.0.0-alpha4 < 1.2.9999999.9999999-dev]",
        ),
        (
            ">=1.1.0-alpha4,<1.2-beta2",
            "[>= 1.1.0.0-alpha4 < 1.2.0.0-beta2]",
        ),
        (
            ">2.0,<2.0.5 | >2.0.6",
            "[[> 2.0.0.0 < 2.0.5.0-dev] || > 2.0.6.0]",
        ),
        (
            ">2.0,<2.0.5 || >2.0.6",
            "[[> 2.0.0.0 < 2.0.5.0-dev] || > 2.0.6.0]",
        ),
        (
            "> 2.0 , <2.0.5 | >  2.0.6",
            "[[> 2.0.0.0 < 2.0.5.0-dev] || > 2.0.6.0]",
        ),
        (">2.0@stable,<=3.0@dev", "[> 2.0.0.0 <= 3.0.0.0-dev]"),
        (">2.0@stable,@dev", "[> 2.0.0.0 *]"),
        (">2.0@stable || 0@dev", "[> 2.0.0.0 || == 0.0.0.0]"),
        ("1.0.x-dev#abcd123", "== 1.0.9999999.9999999-dev"),
        ("1.0.x-dev#trunk/@123", "== 1.0.9999999.9999999-dev"),
        // Quirks read off the source (expected values from the installed composer/semver).
        (">=1.0.0-RC1", ">= 1.0.0.0-RC1-dev"),
        (">=1.0.0-beta1", ">= 1.0.0.0-beta1"),
        (">=1.0-", ">= 1.0.0.0"),
        ("<2.0@BETA", "< 2.0.0.0-BETA"),
        (">=1.0@STABLE", ">= 1.0.0.0-STABLE"),
        ("@dev", "*"),
        ("x@dev", "*"),
        (">=DEV-main", ">= dev-main-dev"),
        ("!=dev-main", "!= dev-main"),
        ("<>1.0@alpha", "!= 1.0.0.0-alpha"),
        ("1.0@dev", "== 1.0.0.0"),
        ("foo-dev@beta", "== dev-foo"),
        (">=foo-dev", ">= dev-foo"),
        (
            "99999999999999999999.*",
            "[>= 99999999999999999999.0.0.0-dev < 1.0E+20.0.0.0-dev]",
        ),
        (
            "~9999999999999999999",
            "[>= 9999999999999999999-dev < 1.0E+19.0.0.0-dev]",
        ),
        ("^1.0 || ^2.0 || ^3.0", "[>= 1.0.0.0-dev < 4.0.0.0-dev]"),
        ("^1.0 || 2.0 - 1.0", "[>= 1.0.0.0-dev < 1.1.0.0-dev]"),
        (">=1.0 <2.0 || >=2.0 <=3.0", "[>= 1.0.0.0-dev <= 3.0.0.0]"),
        ("1.0 as 2.0", "== 1.0.0.0"),
        ("V1.0", "== 1.0.0.0"),
        ("1.0.0+build - 2.0.0+meta", "[>= 1.0.0.0-dev <= 2.0.0.0]"),
        ("1.0\n 2.0", "[== 1.0.0.0 == 2.0.0.0]"),
        ("1.0@dev\n", "== 1.0.0.0"),
        ("00.*", "[>= 00.0.0.0-dev < 1.0.0.0-dev]"),
        ("^00.1", "[>= 00.1.0.0-dev < 1.0.0.0-dev]"),
        ("dev-a#b#c", "== dev-a"),
        ("dev-a as b,1.0", "[== dev-a == 1.0.0.0]"),
        ("dev-main#", "== dev-main#"),
    ];

    /// `VersionParserTest::failingConstraints` (all), then more that Composer rejects.
    const REJECTED: &[&str] = &[
        "",
        "1.0.0-meh",
        ">2.0,,<=3.0",
        ">2.0 ,, <=3.0",
        ">2.0 ||| <=3.0",
        ",^1@dev || ^4@dev",
        ",^1@dev",
        "|| ^1@dev",
        "^1@dev ||",
        "^1@dev ,",
        "^2.0.*",
        "^2.0.x",
        "^2.0.x-beta",
        "^2.*",
        "^2.x",
        "^2.x-beta",
        "^2.1.2.*",
        "^2.1.2.x",
        "^2.1.2.x-beta",
        "~2.0.*",
        "~2.0.x",
        "~2.0.x-beta",
        "~2.*",
        "~2.x",
        "~2.x-beta",
        "~2.1.2.*",
        "~2.1.2.x",
        "~2.1.2.x-beta",
        "1.x - 2.*",
        "2.x.x.x-dev - 3.x.x.x-dev",
        "^1.*-beta-dev",
        "^1. *-dev",
        "~1.*-beta-dev",
        "1.0.0-dev<1.0.5-dev",
        "*-dev",
        "^",
        "^8 || ^",
        "~",
        "~1 ~",
        // testParseConstraintsFailsOnBadReference, the "~>" nudge, then extras.
        "1.0#abcd123",
        "1.0#trunk/@123",
        "~>1.2",
        ">=",
        "foo bar",
        "1.0 ||",
        "|",
        "1.0- 2.0",
        "1.0 -2.0",
        "1.0@foo",
        "latest",
        ">=1.0 <",
        "1.0.0.0.0",
        "v",
        "V1.*",
        "~1.2.3.4.x-dev",
        // The `$` before a final newline lets "~1.0\n" through as a tilde range, whose lower bound
        // "1.0\n-dev" then fails to normalize.
        "~1.0\n,2.0",
    ];

    #[test]
    fn parses_like_composer() {
        for &(input, expected) in PARSED {
            let parsed = Constraint::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(parsed.composer_string(), expected, "parse({input:?})");
        }
    }

    #[test]
    fn rejects_what_composer_rejects() {
        for &input in REJECTED {
            let err = Constraint::parse(input).expect_err(input);
            assert_eq!(err.constraint, input);
        }
    }

    #[test]
    fn errors_name_the_constraint_and_the_reason() {
        let err = Constraint::parse(">=1.0, foo bar").unwrap_err();
        assert_eq!(err.constraint, ">=1.0, foo bar");
        let message = err.to_string();
        assert!(
            message.starts_with(r#"invalid version constraint ">=1.0, foo bar": "#),
            "{message}"
        );
        assert!(
            message.contains(r#"could not parse version constraint "foo""#),
            "{message}"
        );
        assert!(
            Constraint::parse("~>1.2")
                .unwrap_err()
                .reason
                .contains(r#"you probably meant to use the "~" operator"#)
        );
        assert!(
            Constraint::parse("")
                .unwrap_err()
                .reason
                .contains("empty version string")
        );
    }

    #[test]
    fn keeps_the_trimmed_text() {
        let c = Constraint::parse("  ^1.0 || ^2.0\n").unwrap();
        assert_eq!(c.as_str(), "^1.0 || ^2.0");
        assert_eq!(
            Constraint::parse("^1.0").unwrap(),
            Constraint::parse(" ^1.0").unwrap()
        );
    }

    /// composer/semver `SemverTest::satisfiesProviderPositive` / `Negative` (all of them).
    #[test]
    fn satisfies_like_semver() {
        let positive: &[(&str, &str)] = &[
            ("1.2.3", "1.0.0 - 2.0.0"),
            ("1.2.3", "^1.2.3+build"),
            ("1.3.0", "^1.2.3+build"),
            ("2.4.3-alpha", "1.2.3+asdf - 2.4.3+asdf"),
            ("1.3.0-beta", ">1.2"),
            ("1.2.3-beta", "<=1.2.3"),
            ("1.2.3-beta", "^1.2.3"),
            ("1.2.3", "1.2.3+asdf - 2.4.3+asdf"),
            ("1.0.0", "1.0.0"),
            ("1.2.3", "*"),
            ("v1.2.3", "*"),
            ("1.0.0", ">=1.0.0"),
            ("1.0.1", ">=1.0.0"),
            ("1.1.0", ">=1.0.0"),
            ("1.0.1", ">1.0.0"),
            ("1.1.0", ">1.0.0"),
            ("2.0.0", "<=2.0.0"),
            ("1.9999.9999", "<=2.0.0"),
            ("0.2.9", "<=2.0.0"),
            ("1.9999.9999", "<2.0.0"),
            ("0.2.9", "<2.0.0"),
            ("1.0.0", ">= 1.0.0"),
            ("1.0.1", ">=  1.0.0"),
            ("1.1.0", ">=   1.0.0"),
            ("1.0.1", "> 1.0.0"),
            ("1.1.0", ">  1.0.0"),
            ("2.0.0", "<=   2.0.0"),
            ("1.9999.9999", "<= 2.0.0"),
            ("0.2.9", "<=  2.0.0"),
            ("1.9999.9999", "<    2.0.0"),
            ("0.2.9", "<\t2.0.0"),
            ("v0.1.97", ">=0.1.97"),
            ("0.1.97", ">=0.1.97"),
            ("1.2.4", "0.1.20 || 1.2.4"),
            ("0.0.0", ">=0.2.3 || <0.0.1"),
            ("0.2.3", ">=0.2.3 || <0.0.1"),
            ("0.2.4", ">=0.2.3 || <0.0.1"),
            ("2.1.3", "2.x.x"),
            ("1.2.3", "1.2.x"),
            ("2.1.3", "1.2.x || 2.x"),
            ("1.2.3", "1.2.x || 2.x"),
            ("1.2.3", "x"),
            ("2.1.3", "2.*.*"),
            ("1.2.3", "1.2.*"),
            ("2.1.3", "1.2.* || 2.*"),
            ("1.2.3", "1.2.* || 2.*"),
            ("2.9.0", "~2.4"),
            ("2.4.5", "~2.4"),
            ("1.2.3", "~1"),
            ("1.4.7", "~1.0"),
            ("1.0.0", ">=1"),
            ("1.0.0", ">= 1"),
            ("1.2.8", ">1.2"),
            ("1.1.1", "<1.2"),
            ("1.1.1", "< 1.2"),
            ("1.2.3", "~1.2.1 >=1.2.3"),
            ("1.2.3", "~1.2.1 =1.2.3"),
            ("1.2.3", "~1.2.1 1.2.3"),
            ("1.2.3", "~1.2.1 >=1.2.3 1.2.3"),
            ("1.2.3", "~1.2.1 1.2.3 >=1.2.3"),
            ("1.2.3", ">=1.2.1 1.2.3"),
            ("1.2.3", "1.2.3 >=1.2.1"),
            ("1.2.3", ">=1.2.3 >=1.2.1"),
            ("1.2.3", ">=1.2.1 >=1.2.3"),
            ("1.2.8", ">=1.2"),
            ("1.8.1", "^1.2.3"),
            ("0.1.2", "^0.1.2"),
            ("0.1.2", "^0.1"),
            ("1.4.2", "^1.2"),
            ("1.4.2", "^1.2 ^1"),
            ("0.0.1-beta", "^0.0.1-alpha"),
        ];
        let negative: &[(&str, &str)] = &[
            ("2.2.3", "1.0.0 - 2.0.0"),
            ("2.0.0", "^1.2.3+build"),
            ("1.2.0", "^1.2.3+build"),
            ("1.0.0beta", "1"),
            ("1.0.0beta", "<1"),
            ("1.0.0beta", "< 1"),
            ("1.0.1", "1.0.0"),
            ("0.0.0", ">=1.0.0"),
            ("0.0.1", ">=1.0.0"),
            ("0.1.0", ">=1.0.0"),
            ("0.0.1", ">1.0.0"),
            ("0.1.0", ">1.0.0"),
            ("3.0.0", "<=2.0.0"),
            ("2.9999.9999", "<=2.0.0"),
            ("2.2.9", "<=2.0.0"),
            ("2.9999.9999", "<2.0.0"),
            ("2.2.9", "<2.0.0"),
            ("v0.1.93", ">=0.1.97"),
            ("0.1.93", ">=0.1.97"),
            ("1.2.3", "0.1.20 || 1.2.4"),
            ("0.0.3", ">=0.2.3 || <0.0.1"),
            ("0.2.2", ">=0.2.3 || <0.0.1"),
            ("1.1.3", "2.x.x"),
            ("3.1.3", "2.x.x"),
            ("1.3.3", "1.2.x"),
            ("3.1.3", "1.2.x || 2.x"),
            ("1.1.3", "1.2.x || 2.x"),
            ("1.1.3", "2.*.*"),
            ("3.1.3", "2.*.*"),
            ("1.3.3", "1.2.*"),
            ("3.1.3", "1.2.* || 2.*"),
            ("1.1.3", "1.2.* || 2.*"),
            ("1.1.2", "2"),
            ("2.4.1", "2.3"),
            ("3.0.0", "~2.4"),
            ("2.3.9", "~2.4"),
            ("0.2.3", "~1"),
            ("1.0.0", "<1"),
            ("1.1.1", ">=1.2"),
            ("2.0.0beta", "1"),
            ("0.5.4-alpha", "~v0.5.4-beta"),
            ("1.2.3-beta", "<1.2.3"),
            ("2.0.0-alpha", "^1.2.3"),
            ("1.2.2", "^1.2.3"),
            ("1.1.9", "^1.2"),
        ];
        for (cases, expected) in [(positive, true), (negative, false)] {
            for &(version, constraint) in cases {
                let parsed = Constraint::parse(constraint).unwrap();
                assert_eq!(
                    satisfies(version, &parsed),
                    expected,
                    "satisfies({version:?}, {constraint:?})"
                );
            }
        }
        // `SemverTest::satisfiedByProvider`.
        let satisfied_by: &[(&str, &[&str], &[&str])] = &[
            (
                "~1.0",
                &["1.0", "1.2", "1.9999.9999", "2.0", "2.1", "0.9999.9999"],
                &["1.0", "1.2", "1.9999.9999"],
            ),
            (
                ">1.0 <3.0 || >=4.0",
                &[
                    "1.0",
                    "1.1",
                    "2.9999.9999",
                    "3.0",
                    "3.1",
                    "3.9999.9999",
                    "4.0",
                    "4.1",
                ],
                &["1.1", "2.9999.9999", "4.0", "4.1"],
            ),
            (
                "^0.2.0",
                &["0.1.1", "0.1.9999", "0.2.0", "0.2.1", "0.3.0"],
                &["0.2.0", "0.2.1"],
            ),
        ];
        for &(constraint, versions, expected) in satisfied_by {
            let parsed = Constraint::parse(constraint).unwrap();
            let got: Vec<&str> = versions
                .iter()
                .copied()
                .filter(|v| satisfies(v, &parsed))
                .collect();
            assert_eq!(got, expected, "{constraint}");
        }
        // `VersionParserTest::testComplexConjunctive`.
        let complex = Constraint::parse("~0.1 || ~1.0 !=1.0.1").unwrap();
        assert!(!complex.matches("1.0.1.0"));
        assert!(complex.matches("1.0.2.0"));
    }

    #[test]
    fn versions_that_do_not_normalize_satisfy_nothing() {
        let any = Constraint::parse("*").unwrap();
        for version in ["latest", "", "1.0.0.0.0", "foo-bar"] {
            assert!(!satisfies(version, &any), "{version:?}");
        }
        assert!(satisfies("dev-anything", &any));
    }

    /// composer/semver `ConstraintTest::successfulVersionMatches` / `failingVersionMatches`,
    /// the rows whose provider is `==` (the only provider `Semver::satisfies` builds).
    #[test]
    fn atoms_match_like_constraint_test() {
        use Op::*;
        let cases: &[(Op, &str, &str, bool)] = &[
            (Eq, "2", "2", true),
            (Lt, "2", "1", true),
            (Le, "2", "1", true),
            (Le, "2", "2", true),
            (Ge, "2", "2", true),
            (Ge, "2", "3", true),
            (Gt, "2", "3", true),
            (Ne, "2", "1", true),
            (Ne, "2", "3", true),
            (Eq, "dev-foo-bar", "dev-foo-bar", true),
            (Eq, "dev-events+issue-17", "dev-events+issue-17", true),
            (Ne, "0.12", "dev-foo", true),
            (Eq, "2", "1", false),
            (Eq, "2", "3", false),
            (Lt, "2", "2", false),
            (Lt, "2", "3", false),
            (Le, "2", "3", false),
            (Ge, "2", "1", false),
            (Gt, "2", "1", false),
            (Gt, "2", "2", false),
            (Ne, "2", "2", false),
            (Eq, "2.0-b2", "2.0-beta2", true),
            (Eq, "dev-foo-dist", "dev-foo-zist", false),
            (Eq, "dev-foo-bar", "dev-foo-xyz", false),
            (Lt, "dev-foo-bar", "dev-foo-xyz", false),
            (Le, "dev-foo-bar", "dev-foo-xyz", false),
            (Ge, "dev-foo-bar", "dev-foo-xyz", false),
            (Gt, "dev-foo-bar", "dev-foo-xyz", false),
            (Lt, "dev-foo-bar", "dev-foo-bar", false),
            (Le, "dev-foo-bar", "dev-foo-bar", false),
            (Ge, "dev-foo-bar", "dev-foo-bar", false),
            (Gt, "dev-foo-bar", "dev-foo-bar", false),
            (Eq, "0.12", "dev-foo", false),
            (Lt, "0.12", "dev-foo", false),
            (Le, "0.12", "dev-foo", false),
            (Ge, "0.12", "dev-foo", false),
            (Gt, "0.12", "dev-foo", false),
            // And the other way round: a branch version against numeric bounds.
            (Ne, "dev-foo", "0.12", true),
            (Ne, "dev-foo", "dev-foo", false),
            (Ne, "dev-foo", "dev-bar", true),
        ];
        for &(op, bound, version, expected) in cases {
            let constraint = Constraint {
                text: String::new(),
                any_of: vec![vec![Atom::Compare(op, bound.to_string())]],
            };
            assert_eq!(
                constraint.matches(version),
                expected,
                "{op:?} {bound} against {version}"
            );
        }
    }

    #[test]
    fn branches_and_match_all() {
        let matches = |c: &str, v: &str| satisfies(v, &Constraint::parse(c).unwrap());
        // `*` is MatchAllConstraint, `v*`/`*.*` a `>=0.0.0.0-dev` bound that branches fail.
        assert!(matches("*", "dev-main"));
        assert!(matches("@dev", "dev-main"));
        assert!(!matches("*.*", "dev-main"));
        assert!(!matches(">=0", "dev-main"));
        assert!(matches("dev-main", "dev-main"));
        assert!(!matches("dev-main", "dev-Main"));
        assert!(matches("dev-main#abc123", "dev-main"));
        assert!(matches("!=dev-main", "dev-feature"));
        assert!(matches("!=dev-main", "1.0.0"));
        assert!(!matches("!=dev-main", "dev-main"));
        assert!(!matches(">=dev-main", "dev-main"));
        assert!(matches("1.0.x-dev", "1.0.x-dev"));
        assert!(matches("1.0.x-dev", "1.0.*-dev"));
        assert!(!matches("1.0.x-dev", "1.0.5"));
        assert!(matches("^1.0@dev || dev-main", "dev-main"));
        // foo-dev is read as the branch dev-foo.
        assert!(matches("foo-dev", "dev-foo"));
    }

    #[test]
    fn increments_like_php() {
        let cases: &[(&str, &str)] = &[
            ("0", "1"),
            ("1", "2"),
            ("007", "8"),
            ("9223372036854775806", "9223372036854775807"),
            ("9223372036854775807", "9.2233720368548E+18"),
            ("99999999999999999999", "1.0E+20"),
            ("000000000000000000000005", "6"),
            ("123456789012345678901234567890", "1.2345678901235E+29"),
            (&"9".repeat(400), "INF"),
        ];
        for &(number, expected) in cases {
            assert_eq!(php_increment(number), expected, "{number}");
        }
    }

    /// `testdata/constraints.tsv` was written by a PHP script running the installed
    /// composer/semver's `Semver::satisfies` over a grid of constraints and versions, plus the
    /// constraints `parseConstraints` rejects (`error`).
    #[test]
    fn differential_table() {
        let table = include_str!("testdata/constraints.tsv");
        let mut rows = 0;
        for line in table.lines().skip(1) {
            let mut columns = line.split('\t');
            let (Some(constraint), Some(version), Some(expected), None) = (
                columns.next(),
                columns.next(),
                columns.next(),
                columns.next(),
            ) else {
                panic!("malformed row {line:?}");
            };
            let parsed = Constraint::parse(constraint);
            match expected {
                "error" => assert!(parsed.is_err(), "{constraint:?} should not parse"),
                "0" | "1" => {
                    let parsed = parsed.unwrap_or_else(|e| panic!("{e}"));
                    assert_eq!(
                        satisfies(version, &parsed),
                        expected == "1",
                        "satisfies({version:?}, {constraint:?})"
                    );
                }
                other => panic!("bad expectation {other:?}"),
            }
            rows += 1;
        }
        assert_eq!(rows, 2796);
    }
}
