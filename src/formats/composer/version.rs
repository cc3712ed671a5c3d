//! Composer versions: tag names, normalization, stability and ordering.
//!
//! A hand-written port of the behaviour of composer/semver's `VersionParser` (`normalize`,
//! `normalizeBranch`, `parseStability`), of how Composer's `VcsRepository` turns Git tags and
//! branches into versions, and of PHP's `version_compare()` that `Comparator` relies on.
//! There is no regex crate here, so each Composer regex is emulated by a small matcher; the doc
//! comment of each matcher quotes the regex it stands for, because Composer's quirks (optional
//! separators, possessive quantifiers, case rules) all come from those patterns.

use std::cmp::Ordering;

/// A version string that Composer's `VersionParser::normalize` rejects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid version {input:?}: {reason}")]
pub struct VersionError {
    pub input: String,
    pub reason: String,
}

/// Composer's stabilities, least stable first (so `Ord` reads "is at least as stable as").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stability {
    Dev,
    Alpha,
    Beta,
    RC,
    Stable,
}

/// Maps a Git tag to a Composer version per Cargoman's docs: `v1.0.0` → `1.0.0`, `1.2.3` →
/// `1.2.3`, `release-2.0.0` → `2.0.0`; also `v1.0.0-beta2`, `1.0.0-RC1`, `v2.1` etc. Returns
/// None when the tag is not a version Composer's `VersionParser::normalize` accepts (e.g.
/// `latest`, `foo`, `v1.0.0.0.0`), or when it names a dev version (`dev-foo`, `1.0.x-dev`),
/// which Composer skips for tags. The returned string is the human version (prefix stripped,
/// otherwise as written in the tag).
pub fn version_from_tag(tag: &str) -> Option<String> {
    // VcsRepository removes every "release-" (PHP str_replace), then keeps the tags normalize accepts…
    let tag = tag.replace("release-", "");
    let normalized = normalize(&tag).ok()?;
    // …except those normalizing to a dev version: `{(^dev-|[.-]?dev$)}i` must not match.
    if starts_with_ci(&normalized, "dev-") || ends_with_ci(&normalized, "dev") {
        return None;
    }
    // Composer keeps a "v" in the pretty version; Cargoman's docs show versions without it.
    let tag = php_trim(&tag);
    let tag = tag.strip_prefix(['v', 'V']).unwrap_or(tag);
    // Composer strips `[.-]?dev$` from a tag's pretty version; this is only reachable through
    // build metadata or a stability flag (`1.0.0+dev` → `1.0.0+`), but it is what Composer does.
    Some(strip_dev_suffix(tag).unwrap_or(tag).to_string())
}

/// Composer's `VersionParser::normalize`: `1.0.0` → `1.0.0.0`, `1.2` → `1.2.0.0`, `v2.0.0-RC1` →
/// `2.0.0.0-RC1`, `1.0.0-alpha.3` / `1.0.0a3` → `1.0.0.0-alpha3`, `1.0.0-p1` → `1.0.0.0-patch1`,
/// `20100102` → `20100102`, `dev-main` → `dev-main`, `1.0.x-dev` → `1.0.9999999.9999999-dev`,
/// `1.0.0+build` → `1.0.0.0`, `1.0.0@beta` → `1.0.0.0`, `1.0.x-dev as 1.0.0` → the source only.
pub fn normalize(version: &str) -> Result<String, VersionError> {
    let mut v = php_trim(version);
    // Stricter than Composer: a branch version keeps its name verbatim, and a name that displays
    // otherwise than it is stored must not become a version (see `text`).
    if let Some(c) = crate::text::hidden_char(v) {
        return Err(VersionError {
            input: version.to_string(),
            reason: format!("it contains {}", crate::text::describe(c)),
        });
    }
    // "source as alias" (from require lines): only the source is the version.
    let alias = alias_source(v);
    if let Some(source) = alias {
        v = source;
    }
    // A stability flag ("1.0@dev") belongs to constraints, not to the version itself.
    if let Some((head, flag)) = v.rsplit_once('@')
        && ["stable", "RC", "beta", "alpha", "dev"]
            .iter()
            .any(|s| flag.eq_ignore_ascii_case(s))
    {
        v = head;
    }
    // Composer 1 accepted bare default-branch names as versions (case-sensitive, as in Composer).
    if matches!(v, "master" | "trunk" | "default") {
        return Ok(format!("dev-{v}"));
    }
    // Branch versions keep their name verbatim; only the prefix is lower-cased.
    if starts_with_ci(v, "dev-") {
        return Ok(format!("dev-{}", &v[4..]));
    }
    let v = strip_build_metadata(v);
    if let Some(normalized) = normalize_numeric(v).or_else(|| numeric_dev_branch(v)) {
        return Ok(normalized);
    }
    let reason = if v.is_empty() {
        "empty version string"
    } else if alias.is_some() {
        "the alias source must be an exact version, if it is a branch name you should prefix it with dev-"
    } else {
        "not a Composer version (expected e.g. 1.2.3, 1.0.0-beta2, 20100102, 1.0.x-dev or dev-<branch>)"
    };
    Err(VersionError {
        input: version.to_string(),
        reason: reason.to_string(),
    })
}

/// The Composer version and normalized version for a Git branch, as `VcsRepository` derives
/// them with `VersionParser::normalizeBranch`: `main` → (`dev-main`, `dev-main`), `1.x` →
/// (`1.x-dev`, `1.9999999.9999999.9999999-dev`), `2.1` → (`2.1.x-dev`, `2.1.9999999.9999999-dev`),
/// `v2.1` → (`v2.1.x-dev`, `2.1.9999999.9999999-dev`).
pub fn branch_version(branch: &str) -> (String, String) {
    let normalized = normalize_branch(branch);
    if normalized.starts_with("dev-") || normalized == "9999999-dev" {
        // '#' would read as a commit reference in a constraint, so Composer swaps it for '+'.
        (
            format!("dev-{}", branch.replace('#', "+")),
            normalized.replace('#', "+"),
        )
    } else {
        // Numeric branches are shown as "1.x-dev"; a lower-case "v" prefix is kept (strpos 'v').
        let prefix = if branch.starts_with('v') { "v" } else { "" };
        (format!("{prefix}{}", nines_to_x(&normalized)), normalized)
    }
}

/// Composer's `VersionParser::parseStability`.
pub fn stability(version: &str) -> Stability {
    let v = strip_reference(version);
    if v.starts_with("dev-") || v.ends_with("-dev") {
        return Stability::Dev;
    }
    // Composer searches (unanchored) for the leftmost place from which the modifier regex plus
    // optional build metadata reaches the end, on the lower-cased version. Only ASCII can start
    // a match, so char boundaries are the only candidates; the empty match at the end always fits.
    let lower = v.to_ascii_lowercase();
    let found = (0..=lower.len())
        .filter(|&i| lower.is_char_boundary(i))
        .find_map(|i| match_modifier(&lower[i..], true));
    match found {
        Some(Modifier { dev: true, .. }) => Stability::Dev,
        Some(Modifier {
            stability: Some("beta" | "b"),
            ..
        }) => Stability::Beta,
        Some(Modifier {
            stability: Some("alpha" | "a"),
            ..
        }) => Stability::Alpha,
        Some(Modifier {
            stability: Some("rc"),
            ..
        }) => Stability::RC,
        _ => Stability::Stable,
    }
}

/// Orders two normalized versions as Composer's `Comparator` (PHP `version_compare`) does, for
/// picking the latest version and sorting. Dev-branch versions (`dev-*`) sort below every numeric
/// version (as `version_compare` ranks the word "dev" below numbers); Composer calls two branches
/// incomparable, so they are ordered by their bytes to keep sorting total and deterministic.
pub fn compare_normalized(a: &str, b: &str) -> Ordering {
    match (a.starts_with("dev-"), b.starts_with("dev-")) {
        (true, true) => a.cmp(b),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => php_version_compare(a.as_bytes(), b.as_bytes()),
    }
}

// ---------------------------------------------------------------------------------------------
// normalize helpers

/// PHP's `trim()` set: it includes NUL and vertical tab but not form feed.
pub(crate) fn php_trim(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\n', '\r', '\0', '\x0B'])
}

/// PCRE's `\s` (ASCII only, as PHP uses PCRE without the `u` flag here).
pub(crate) fn is_pcre_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0B' | '\x0C' | '\r')
}

/// Length of the run of ASCII digits at the start of `s`.
pub(crate) fn digits(s: &str) -> usize {
    s.bytes().take_while(u8::is_ascii_digit).count()
}

pub(crate) fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.as_bytes()
        .get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix.as_bytes()))
}

pub(crate) fn ends_with_ci(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.as_bytes()[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

/// PCRE's `$` (no `D` flag): the end, or just before a final newline.
fn at_end(rest: &str) -> bool {
    rest.is_empty() || rest == "\n"
}

/// `{[.-]?dev$}i`: what is left once a trailing "dev" (and its separator) is removed.
fn strip_dev_suffix(s: &str) -> Option<&str> {
    if !ends_with_ci(s, "dev") {
        return None;
    }
    let head = &s[..s.len() - 3];
    Some(head.strip_suffix(['.', '-']).unwrap_or(head))
}

/// `^([^,\s]++) ++as ++([^,\s]++)$`: the source of "source as alias".
pub(crate) fn alias_source(v: &str) -> Option<&str> {
    let is_sep = |c: char| c == ',' || is_pcre_space(c);
    let (source, rest) = v.split_at(v.find(is_sep)?);
    let rest = rest
        .strip_prefix(' ')?
        .trim_start_matches(' ')
        .strip_prefix("as")?;
    let alias = rest.strip_prefix(' ')?.trim_start_matches(' ');
    (!source.is_empty() && !alias.is_empty() && !alias.contains(is_sep)).then_some(source)
}

/// `^([^,\s+]++)\+[^\s]++$`: drops SemVer build metadata ("1.0.0+build.5" → "1.0.0"); any other
/// string (e.g. "1.0.0+" or metadata containing a space) is left for the parser to reject.
fn strip_build_metadata(v: &str) -> &str {
    let end = v
        .find(|c| c == ',' || c == '+' || is_pcre_space(c))
        .unwrap_or(v.len());
    let (head, tail) = v.split_at(end);
    match tail.strip_prefix('+') {
        Some(meta) if !head.is_empty() && !meta.is_empty() && !meta.contains(is_pcre_space) => head,
        _ => v,
    }
}

/// Classical `^v?(\d{1,5}+)(\.\d++)?(\.\d++)?(\.\d++)?<modifier>$` versions, padded to four
/// parts, then date versions `^v?(\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3}){0,2})<modifier>$`,
/// whose separators all become dots (both case-insensitive).
fn normalize_numeric(v: &str) -> Option<String> {
    let s = v.strip_prefix(['v', 'V']).unwrap_or(v);

    // The major is possessive and capped at 5 digits, so 6+ digits can only be a date.
    let major = digits(s);
    if (1..=5).contains(&major) {
        let mut version = s[..major].to_string();
        let mut rest = &s[major..];
        for _ in 0..3 {
            match rest.strip_prefix('.').map(|r| (r, digits(r))) {
                Some((r, n)) if n > 0 => {
                    version.push_str(&rest[..=n]);
                    rest = &r[n..];
                }
                _ => version.push_str(".0"),
            }
        }
        if let Some(modifier) = match_modifier(rest, false) {
            return Some(modifier.append_to(version));
        }
    }

    // A modifier never starts with a digit or a separator plus digit, so the date must be the
    // whole leading run of digit groups joined by single [.:-] separators.
    let (date, rest) = s.split_at(date_run_len(s));
    if is_date(date.as_bytes())
        && let Some(modifier) = match_modifier(rest, false)
    {
        let date = date.replace(|c: char| !c.is_ascii_digit(), ".");
        return Some(modifier.append_to(date));
    }
    None
}

/// Length of the leading `\d+(?:[.:-]\d+)*` run of `s`.
fn date_run_len(s: &str) -> usize {
    let mut end = digits(s);
    while end > 0 && s[end..].starts_with(['.', ':', '-']) {
        let n = digits(&s[end + 1..]);
        if n == 0 {
            break;
        }
        end += 1 + n;
    }
    end
}

/// Whether all of `s` matches `\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3}){0,2}`, backtracking
/// over how digit runs split into the 2-digit and 1-3-digit groups.
fn is_date(s: &[u8]) -> bool {
    fn groups(s: &[u8], pairs: usize, tails: usize) -> bool {
        if s.is_empty() {
            return pairs >= 1;
        }
        let body = match s[0] {
            b'.' | b':' | b'-' => &s[1..],
            _ => s,
        };
        let n = body.iter().take_while(|b| b.is_ascii_digit()).count();
        (tails == 0 && pairs < 6 && n >= 2 && groups(&body[2..], pairs + 1, 0))
            || (pairs >= 1
                && tails < 2
                && (1..=n.min(3)).any(|k| groups(&body[k..], pairs, tails + 1)))
    }
    s.len() >= 4 && s[..4].iter().all(u8::is_ascii_digit) && groups(&s[4..], 0, 0)
}

/// `(.*?)[.-]?dev$` then `normalizeBranch`: "1.0.x-dev" and "2.1-dev" are versions, but only when
/// the branch part is numeric ("foo-dev" would become "dev-foo", which Composer rejects here).
fn numeric_dev_branch(v: &str) -> Option<String> {
    let head = strip_dev_suffix(v)?;
    // The regex is unanchored and `.` stops at newlines, so the match starts after the last one.
    let head = head.rsplit('\n').next().unwrap_or(head);
    numeric_branch(php_trim(head))
}

/// Composer's `VersionParser::normalizeBranch`.
fn normalize_branch(name: &str) -> String {
    let name = php_trim(name);
    numeric_branch(name).unwrap_or_else(|| format!("dev-{name}"))
}

/// `^v?(\d++)(\.(?:\d++|[xX*]))?(\.(?:\d++|[xX*]))?(\.(?:\d++|[xX*]))?$`i: "1.x" → "1.9999999.9999999.9999999-dev";
/// missing parts count as "x" and every "x" becomes 9999999.
fn numeric_branch(name: &str) -> Option<String> {
    let s = name.strip_prefix(['v', 'V']).unwrap_or(name);
    let major = digits(s);
    if major == 0 {
        return None;
    }
    let mut parts = vec![&s[..major]];
    let mut rest = &s[major..];
    while parts.len() < 4
        && let Some(r) = rest.strip_prefix('.')
    {
        let len = match digits(r) {
            0 if r.starts_with(['x', 'X', '*']) => 1,
            0 => break,
            n => n,
        };
        parts.push(&r[..len]);
        rest = &r[len..];
    }
    if !at_end(rest) {
        return None;
    }
    parts.resize(4, "x");
    let parts: Vec<&str> = parts
        .into_iter()
        .map(|p| {
            if p.starts_with(['x', 'X', '*']) {
                "9999999"
            } else {
                p
            }
        })
        .collect();
    Some(format!("{}-dev", parts.join(".")))
}

/// `(\.9{7})+` → `.x`: how `VcsRepository` turns "1.9999999.9999999.9999999-dev" back into "1.x-dev".
fn nines_to_x(normalized: &str) -> String {
    let mut out = String::new();
    let mut rest = normalized;
    while !rest.is_empty() {
        if rest.starts_with(".9999999") {
            while let Some(r) = rest.strip_prefix(".9999999") {
                rest = r;
            }
            out.push_str(".x");
        } else {
            let c = rest.chars().next().unwrap_or_default();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// `{#.+$}`: drops a "#reference" suffix (the leftmost '#' followed by at least one character).
fn strip_reference(v: &str) -> &str {
    v.match_indices('#')
        .map(|(i, _)| i)
        .find(|&i| {
            let r = &v[i + 1..];
            let line = r.find('\n').unwrap_or(r.len());
            line > 0 && at_end(&r[line..])
        })
        .map_or(v, |i| &v[..i])
}

// ---------------------------------------------------------------------------------------------
// The modifier regex

/// The stability words of the modifier regex, in its alternation order (which decides the
/// capture: "beta" before "b", "pl" before "p").
const STABILITY_WORDS: [&str; 9] = [
    "stable", "beta", "b", "RC", "alpha", "a", "patch", "pl", "p",
];

/// Captures of Composer's modifier regex
/// `[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*+)?)?([.-]?dev)?`.
pub(crate) struct Modifier<'a> {
    /// The stability word as written.
    pub(crate) stability: Option<&'a str>,
    /// The numbers after the word, with their separators (".3.1", "-2").
    number: &'a str,
    pub(crate) dev: bool,
}

impl Modifier<'_> {
    /// Appends the modifier as `normalize` writes it: "-beta2", "-patch1", "-RC1-dev", …
    fn append_to(&self, mut version: String) -> String {
        if let Some(word) = self.stability {
            // Case-sensitive in Composer: a literal "stable" ends the version, "-dev" included.
            if word == "stable" {
                return version;
            }
            let word = word.to_ascii_lowercase();
            version.push('-');
            version.push_str(match word.as_str() {
                "a" => "alpha",
                "b" => "beta",
                "p" | "pl" => "patch",
                "rc" => "RC",
                other => other,
            });
            version.push_str(self.number.trim_start_matches(['.', '-']));
        }
        if self.dev {
            version.push_str("-dev");
        }
        version
    }
}

/// Matches all of `s` (up to PCRE's `$`) against the modifier regex, followed by optional
/// `(?:\+.*)` build metadata when `build_metadata` is set (as `parseStability` does). The
/// choices are tried in PCRE's order (greedy first, alternation left to right) so the captures
/// are the ones Composer sees.
pub(crate) fn match_modifier(s: &str, build_metadata: bool) -> Option<Modifier<'_>> {
    let separators: &[usize] = if s.starts_with(['.', '_', '-']) {
        &[1, 0]
    } else {
        &[0]
    };
    for &sep in separators {
        let s = &s[sep..];
        let words = STABILITY_WORDS
            .iter()
            .filter(|w| starts_with_ci(s, w))
            .map(|w| Some(&s[..w.len()]))
            .chain([None]);
        for word in words {
            let rest = &s[word.map_or(0, str::len)..];
            let number = if word.is_some() {
                &rest[..numbers_len(rest)]
            } else {
                ""
            };
            let rest = &rest[number.len()..];
            for dev in [true, false] {
                let rest = match (dev, dev_suffix(rest)) {
                    (true, Some(r)) => r,
                    (true, None) => continue,
                    (false, _) => rest,
                };
                let metadata = |r: &str| {
                    let line = r.find('\n').unwrap_or(r.len());
                    r.starts_with('+') && at_end(&r[line..])
                };
                if at_end(rest) || (build_metadata && metadata(rest)) {
                    return Some(Modifier {
                        stability: word,
                        number,
                        dev,
                    });
                }
            }
        }
    }
    None
}

/// Length of the possessive `(?:[.-]?\d+)*+` at the start of `s`.
fn numbers_len(s: &str) -> usize {
    let mut end = 0;
    loop {
        let start = end + usize::from(s[end..].starts_with(['.', '-']));
        let n = digits(&s[start..]);
        if n == 0 {
            return end;
        }
        end = start + n;
    }
}

/// `[.-]?dev` (case-insensitive) at the start of `s`: the rest after it.
pub(crate) fn dev_suffix(s: &str) -> Option<&str> {
    let s = s
        .strip_prefix(['.', '-'])
        .filter(|r| starts_with_ci(r, "dev"))
        .unwrap_or(s);
    starts_with_ci(s, "dev").then(|| &s[3..])
}

// ---------------------------------------------------------------------------------------------
// PHP's version_compare (ext/standard/versioning.c)

/// PHP's `version_compare($a, $b)`: canonicalize, then compare dot-separated parts — numbers
/// numerically, words by their special-form rank, a number against a word as the "#N#" form.
pub(crate) fn php_version_compare(a: &[u8], b: &[u8]) -> Ordering {
    // PHP passes C strings here: nothing after a NUL byte is seen.
    let c_str = |v: &[u8]| -> Vec<u8> { v.iter().copied().take_while(|&c| c != 0).collect() };
    let (a, b) = (c_str(a), c_str(b));
    if a.is_empty() || b.is_empty() {
        return (!a.is_empty()).cmp(&!b.is_empty());
    }
    let canonical = |v: Vec<u8>| if v[0] == b'#' { v } else { canonicalize(&v) };
    let (a, b) = (canonical(a), canonical(b));

    // Walk both part lists in step, exactly like the C loop (which also stops on an empty part).
    let (mut pa, mut pb) = (0, 0);
    let (mut more_a, mut more_b) = (true, true);
    while pa < a.len() && pb < b.len() && more_a && more_b {
        let end_a = a[pa..].iter().position(|&c| c == b'.').map(|i| pa + i);
        let end_b = b[pb..].iter().position(|&c| c == b'.').map(|i| pb + i);
        more_a = end_a.is_some();
        more_b = end_b.is_some();
        let ord = compare_parts(
            &a[pa..end_a.unwrap_or(a.len())],
            &b[pb..end_b.unwrap_or(b.len())],
        );
        if ord.is_ne() {
            return ord;
        }
        if let Some(e) = end_a {
            pa = e + 1;
        }
        if let Some(e) = end_b {
            pb = e + 1;
        }
    }
    // Leftover parts: a number makes that side newer ("1.0.1" > "1.0"); anything else is
    // compared with the number placeholder ("1.0-beta" < "1.0", "1.0-patch1" > "1.0").
    let digit_at = |v: &[u8], i: usize| v.get(i).is_some_and(u8::is_ascii_digit);
    if more_a {
        if digit_at(&a, pa) {
            Ordering::Greater
        } else {
            php_version_compare(&a[pa..], b"#N#")
        }
    } else if more_b {
        if digit_at(&b, pb) {
            Ordering::Less
        } else {
            php_version_compare(b"#N#", &b[pb..])
        }
    } else {
        Ordering::Equal
    }
}

/// `php_canonicalize_version`: `-`, `_`, `+` and other non-alphanumerics become single dots, and
/// a dot is inserted wherever digits meet non-digits ("1.0rc1" → "1.0.rc.1"). The branches are
/// checked in C's order, which keeps e.g. the '#' of "1#" ("1.#"); the first byte is copied as is.
fn canonicalize(v: &[u8]) -> Vec<u8> {
    let is_digit = |c: u8| c.is_ascii_digit();
    let is_word = |c: u8| !c.is_ascii_digit() && c != b'.';
    let mut out = vec![v[0]];
    let mut prev = v[0];
    for &c in &v[1..] {
        let after_dot = out.last() == Some(&b'.');
        let transition = (is_word(prev) && is_digit(c)) || (is_digit(prev) && is_word(c));
        if matches!(c, b'-' | b'_' | b'+') || (!transition && !c.is_ascii_alphanumeric()) {
            if !after_dot {
                out.push(b'.');
            }
        } else {
            if transition && !after_dot {
                out.push(b'.');
            }
            out.push(c);
        }
        prev = c;
    }
    out
}

/// One part against another: numbers as (saturating, like `strtol`) integers, anything else by
/// special-form rank, with a number ranking as "#N#" against a word.
fn compare_parts(a: &[u8], b: &[u8]) -> Ordering {
    let is_number = |p: &[u8]| p.first().is_some_and(u8::is_ascii_digit);
    match (is_number(a), is_number(b)) {
        (true, true) => strtol(a).cmp(&strtol(b)),
        (false, false) => special_rank(a).cmp(&special_rank(b)),
        (true, false) => special_rank(b"#N#").cmp(&special_rank(b)),
        (false, true) => special_rank(a).cmp(&special_rank(b"#N#")),
    }
}

fn strtol(part: &[u8]) -> i64 {
    part.iter()
        .take_while(|c| c.is_ascii_digit())
        .fold(0i64, |n, &c| {
            n.saturating_mul(10).saturating_add(i64::from(c - b'0'))
        })
}

/// `compare_special_version_forms`: the rank of the first form the part *starts with*
/// ("patch" counts as "p"); unknown words rank lowest, even below "dev".
fn special_rank(part: &[u8]) -> i8 {
    const FORMS: [(&[u8], i8); 10] = [
        (b"dev", 0),
        (b"alpha", 1),
        (b"a", 1),
        (b"beta", 2),
        (b"b", 2),
        (b"RC", 3),
        (b"rc", 3),
        (b"#", 4),
        (b"pl", 5),
        (b"p", 5),
    ];
    FORMS
        .iter()
        .find(|(form, _)| part.starts_with(form))
        .map_or(-1, |&(_, rank)| rank)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// composer/semver `VersionParserTest::successfulNormalizedVersions` (all of them), then
    /// extra cases for Cargoman's docs and the regex corners this port emulates.
    const NORMALIZE_OK: &[(&str, &str)] = &[
        ("1.0.0", "1.0.0.0"),
        ("1.2.3.4", "1.2.3.4"),
        ("1.0.0RC1dev", "1.0.0.0-RC1-dev"),
        ("1.0.0-rC15-dev", "1.0.0.0-RC15-dev"),
        ("1.0.0.RC.15-dev", "1.0.0.0-RC15-dev"),
        ("1.0.0-rc1", "1.0.0.0-RC1"),
        ("1.0.0.pl3-dev", "1.0.0.0-patch3-dev"),
        ("1.0-dev", "1.0.0.0-dev"),
        ("0", "0.0.0.0"),
        ("99999", "99999.0.0.0"),
        ("10.4.13-beta", "10.4.13.0-beta"),
        ("10.4.13beta2", "10.4.13.0-beta2"),
        ("10.4.13beta.2", "10.4.13.0-beta2"),
        ("v1.13.11-beta.0", "1.13.11.0-beta0"),
        ("1.13.11.0-beta0", "1.13.11.0-beta0"),
        ("10.4.13-b", "10.4.13.0-beta"),
        ("10.4.13-b5", "10.4.13.0-beta5"),
        ("v1.0.0", "1.0.0.0"),
        ("2010.01", "2010.01.0.0"),
        ("2010.01.02", "2010.01.02.0"),
        ("2010.1.555", "2010.1.555.0"),
        ("2010.10.200", "2010.10.200.0"),
        ("20230131.0.0", "20230131.0.0"),
        ("202301310000.0.0", "202301310000.0.0"),
        ("v20100102", "20100102"),
        ("20100102", "20100102"),
        ("20100102.0", "20100102.0"),
        ("20100102.1.0", "20100102.1.0"),
        ("20100102.0.3", "20100102.0.3"),
        ("100000", "100000"),
        ("2010-01-02-10-20-30.0.3", "2010.01.02.10.20.30.0.3"),
        ("2010-01-02-10-20-30.5", "2010.01.02.10.20.30.5"),
        ("2010-01-02", "2010.01.02"),
        ("2012.06.07", "2012.06.07.0"),
        ("2010-01-02.5", "2010.01.02.5"),
        ("20100102-203040", "20100102.203040"),
        ("20100102.x-dev", "20100102.9999999.9999999.9999999-dev"),
        (
            "20100102.203040.x-dev",
            "20100102.203040.9999999.9999999-dev",
        ),
        ("20100102203040-10", "20100102203040.10"),
        ("20100102-203040-p1", "20100102.203040-patch1"),
        ("201903.0", "201903.0"),
        ("201903.x-dev", "201903.9999999.9999999.9999999-dev"),
        ("201903.0-p2", "201903.0-patch2"),
        ("dev-master", "dev-master"),
        ("master", "dev-master"),
        ("dev-trunk", "dev-trunk"),
        ("1.x-dev", "1.9999999.9999999.9999999-dev"),
        ("dev-feature-foo", "dev-feature-foo"),
        ("DEV-FOOBAR", "dev-FOOBAR"),
        ("dev-feature/foo", "dev-feature/foo"),
        ("dev-feature+issue-1", "dev-feature+issue-1"),
        ("dev-master as 1.0.0", "dev-master"),
        (
            "dev-load-varnish-only-when-used as ^2.0",
            "dev-load-varnish-only-when-used",
        ),
        (
            "dev-load-varnish-only-when-used@dev as ^2.0@dev",
            "dev-load-varnish-only-when-used",
        ),
        ("1.0.0+foo@dev", "1.0.0.0"),
        (
            "dev-load-varnish-only-when-used@stable",
            "dev-load-varnish-only-when-used",
        ),
        ("1.0.0-beta.5+foo", "1.0.0.0-beta5"),
        ("1.0.0+foo", "1.0.0.0"),
        ("1.0.0-alpha.3.1+foo", "1.0.0.0-alpha3.1"),
        ("1.0.0-alpha2.1+foo", "1.0.0.0-alpha2.1"),
        ("1.0.0-alpha-2.1-3+foo", "1.0.0.0-alpha2.1-3"),
        ("1.0.0+foo as 2.0", "1.0.0.0"),
        ("00.01.03.04", "00.01.03.04"),
        ("000.001.003.004", "000.001.003.004"),
        ("0.000.103.204", "0.000.103.204"),
        ("0700", "0700.0.0.0"),
        ("041.x-dev", "041.9999999.9999999.9999999-dev"),
        ("dev-041.003", "dev-041.003"),
        ("dev-1.0.0-dev<1.0.5-dev", "dev-1.0.0-dev<1.0.5-dev"),
        ("dev-foo bar", "dev-foo bar"),
        (" 1.0.0", "1.0.0.0"),
        ("1.0.0 ", "1.0.0.0"),
        // The examples of Cargoman's docs.
        ("1.2", "1.2.0.0"),
        ("v2.0.0-RC1", "2.0.0.0-RC1"),
        ("1.2.3-beta2", "1.2.3.0-beta2"),
        ("1.0.0-alpha.3", "1.0.0.0-alpha3"),
        ("1.0.0a3", "1.0.0.0-alpha3"),
        ("1.0.0-patch1", "1.0.0.0-patch1"),
        ("1.0.0-p1", "1.0.0.0-patch1"),
        ("1.0.0-pl1", "1.0.0.0-patch1"),
        ("dev-main", "dev-main"),
        ("1.0.x-dev", "1.0.9999999.9999999-dev"),
        ("1.0.0+build", "1.0.0.0"),
        // Corners of the regexes, each derived from Composer's patterns.
        ("V1.0", "1.0.0.0"),
        ("1.0.0-BETA2", "1.0.0.0-beta2"),
        ("1.0.0-stable", "1.0.0.0"),
        ("1.0.0-stable-dev", "1.0.0.0"),
        ("1.0.0-STABLE", "1.0.0.0-stable"),
        ("1.0.0-alpha-dev", "1.0.0.0-alpha-dev"),
        ("1.0.0_dev", "1.0.0.0-dev"),
        ("1.0.0-", "1.0.0.0"),
        ("2.1-DEV", "2.1.0.0-dev"),
        ("1.0.0@beta", "1.0.0.0"),
        ("1.0.0-beta2@RC", "1.0.0.0-beta2"),
        ("v2.x-dev", "2.9999999.9999999.9999999-dev"),
        ("1.*-dev", "1.9999999.9999999.9999999-dev"),
        ("2.1.3.X-dev", "2.1.3.9999999-dev"),
        ("trunk", "dev-trunk"),
        ("default", "dev-default"),
        ("dev-", "dev-"),
        ("\t1.0.0\n", "1.0.0.0"),
        ("2010:01:02", "2010.01.02"),
        ("201001021", "201001021"),
        ("123456", "123456"),
        ("1.0.0-beta2 as 1.0", "1.0.0.0-beta2"),
        ("2010010212345", "2010010212345"),
        ("2010-01-02-beta1", "2010.01.02-beta1"),
    ];

    /// `VersionParserTest::failingNormalizedVersions` (all), `isValidVersions` rejections and
    /// the tag examples of Cargoman's docs, then extra corners.
    const NORMALIZE_FAIL: &[&str] = &[
        "",
        "a",
        "1.0.0-meh",
        "1.0.0.0.0",
        "feature-foo",
        "1.0.0+foo bar",
        "1.0.1-SNAPSHOT",
        "1.0.0<1.0.5-dev",
        "1.0.0-dev<1.0.5-dev",
        "foo bar-dev",
        "1.0 .2",
        " as ",
        " as 1.2",
        "^",
        "^8 || ^",
        "~",
        "~1 ~",
        "~1",
        "^1",
        "1.*",
        "20100102.0.3.4",
        "100000.0.0.0",
        "2023013.0.0",
        "202301311.0.0",
        "20230131000.0.0",
        "2023013100000.0.0",
        "1.0.2.5.5",
        "foo",
        "latest",
        "v1.0.0.0.0",
        // Extra corners.
        "   ",
        "@dev",
        "1.0.0+",
        "+foo",
        "v",
        "1.0.0-rc1.x",
        "Master",
        "foo as 1.0",
        "1.0,2.0",
        "1.x",
        "1.2.3.4.x-dev",
        "feature-dev",
        "20100102-1-2-3",
    ];

    #[test]
    fn normalize_matches_composer() {
        for &(input, expected) in NORMALIZE_OK {
            assert_eq!(
                normalize(input).as_deref(),
                Ok(expected),
                "normalize({input:?})"
            );
        }
        for &input in NORMALIZE_FAIL {
            let err = normalize(input).expect_err(input);
            assert_eq!(err.input, input);
        }
    }

    #[test]
    fn normalize_errors_explain_themselves() {
        let err = normalize("latest").unwrap_err();
        assert_eq!(err.input, "latest");
        assert!(
            err.to_string()
                .starts_with("invalid version \"latest\": not a Composer version")
        );
        assert_eq!(normalize(" ").unwrap_err().reason, "empty version string");
        // Branch versions keep any name, but not one that displays otherwise than stored.
        for hidden in ["dev-main\u{202E}", "1.0.0\u{2066}", "dev-a\u{1B}[31m"] {
            let err = normalize(hidden).unwrap_err();
            assert!(
                err.reason.starts_with("it contains U+"),
                "{hidden:?}: {err}"
            );
        }
        assert!(
            normalize("foo as 1.0")
                .unwrap_err()
                .reason
                .contains("prefix it with dev-")
        );
    }

    #[test]
    fn tags_map_to_versions() {
        let cases: &[(&str, Option<&str>)] = &[
            ("v1.0.0", Some("1.0.0")),
            ("1.2.3", Some("1.2.3")),
            ("release-2.0.0", Some("2.0.0")),
            ("release-v2.0.0", Some("2.0.0")),
            ("v1.0.0-beta2", Some("1.0.0-beta2")),
            ("1.0.0-RC1", Some("1.0.0-RC1")),
            ("v2.1", Some("2.1")),
            ("V3", Some("3")),
            ("1.0.0+build.7", Some("1.0.0+build.7")),
            ("1.0.0-alpha.3", Some("1.0.0-alpha.3")),
            ("1.0.0-p1", Some("1.0.0-p1")),
            ("20100102", Some("20100102")),
            ("1.0.0+dev", Some("1.0.0+")),
            ("latest", None),
            ("foo", None),
            ("v1.0.0.0.0", None),
            ("master", None),
            ("dev-foo", None),
            ("1.0.x-dev", None),
            ("1.0.0-dev", None),
            ("v1.0.0-beta2-dev", None),
            ("release-", None),
            ("", None),
        ];
        for &(tag, expected) in cases {
            assert_eq!(version_from_tag(tag).as_deref(), expected, "tag {tag:?}");
        }
    }

    #[test]
    fn branches_map_to_dev_versions() {
        // `VersionParserTest::successfulNormalizedBranches` (all), through branch_version.
        let normalized: &[(&str, &str)] = &[
            ("v1.x", "1.9999999.9999999.9999999-dev"),
            ("v1.*", "1.9999999.9999999.9999999-dev"),
            ("v1.0", "1.0.9999999.9999999-dev"),
            ("2.0", "2.0.9999999.9999999-dev"),
            ("v1.0.x", "1.0.9999999.9999999-dev"),
            ("v1.0.3.*", "1.0.3.9999999-dev"),
            ("v2.4.0", "2.4.0.9999999-dev"),
            ("2.4.4", "2.4.4.9999999-dev"),
            ("master", "dev-master"),
            ("trunk", "dev-trunk"),
            ("feature-a", "dev-feature-a"),
            ("FOOBAR", "dev-FOOBAR"),
            ("feature+issue-1", "dev-feature+issue-1"),
        ];
        for &(branch, expected) in normalized {
            assert_eq!(branch_version(branch).1, expected, "branch {branch:?}");
        }
        let full: &[(&str, (&str, &str))] = &[
            ("main", ("dev-main", "dev-main")),
            ("1.x", ("1.x-dev", "1.9999999.9999999.9999999-dev")),
            ("2.1", ("2.1.x-dev", "2.1.9999999.9999999-dev")),
            ("v2.1", ("v2.1.x-dev", "2.1.9999999.9999999-dev")),
            ("V2.1", ("2.1.x-dev", "2.1.9999999.9999999-dev")),
            ("1.0.*", ("1.0.x-dev", "1.0.9999999.9999999-dev")),
            ("2.4.4", ("2.4.4.x-dev", "2.4.4.9999999-dev")),
            ("1.2.3.4", ("1.2.3.4-dev", "1.2.3.4-dev")),
            ("1.2.3.4.5", ("dev-1.2.3.4.5", "dev-1.2.3.4.5")),
            ("feature/foo", ("dev-feature/foo", "dev-feature/foo")),
            ("fix#12", ("dev-fix+12", "dev-fix+12")),
            (
                "1.99999999",
                ("1.x9.x-dev", "1.99999999.9999999.9999999-dev"),
            ),
        ];
        for &(branch, (version, normalized)) in full {
            let expected = (version.to_string(), normalized.to_string());
            assert_eq!(branch_version(branch), expected, "branch {branch:?}");
        }
    }

    #[test]
    fn stability_matches_composer() {
        use Stability::*;
        // `VersionParserTest::stabilityProvider` (all), then extras.
        let cases: &[(&str, Stability)] = &[
            ("1", Stable),
            ("1.0", Stable),
            ("3.2.1", Stable),
            ("v3.2.1", Stable),
            ("v2.0.x-dev", Dev),
            ("v2.0.x-dev#abc123", Dev),
            ("v2.0.x-dev#trunk/@123", Dev),
            ("3.0-RC2", RC),
            ("dev-master", Dev),
            ("3.1.2-dev", Dev),
            ("dev-feature+issue-1", Dev),
            ("3.1.2-p1", Stable),
            ("3.1.2-pl2", Stable),
            ("3.1.2-patch", Stable),
            ("3.1.2-alpha5", Alpha),
            ("3.1.2-beta", Beta),
            ("2.0B1", Beta),
            ("1.2.0a1", Alpha),
            ("1.2_a1", Alpha),
            ("2.0.0rc1", RC),
            ("1.0.0-alpha11+cs-1.1.0", Alpha),
            ("1-2_dev", Dev),
            // Normalized forms and extras.
            ("1.0.0.0-RC1", RC),
            ("1.0.0.0-beta2", Beta),
            ("1.0.0.0-alpha3.1", Alpha),
            ("1.0.0.0-patch1", Stable),
            ("1.0.9999999.9999999-dev", Dev),
            ("1.0.0.0-RC1-dev", Dev),
            ("1.0.0dev", Dev),
            ("1.0.0-meh", Stable),
            // The search is unanchored: the trailing "a" of "gamma" reads as alpha in Composer.
            ("1.0.0-gamma", Alpha),
            ("2.0.0-beta#abc", Beta),
        ];
        for &(version, expected) in cases {
            assert_eq!(stability(version), expected, "stability({version:?})");
        }
        assert!(Dev < Alpha && Alpha < Beta && Beta < RC && RC < Stable);
    }

    #[test]
    fn ordering_matches_version_compare() {
        // Strictly ascending, from Cargoman's docs and Composer's Comparator/Semver tests.
        let ascending = [
            "dev-feature",
            "dev-main",
            "0.1.0.0",
            "1.0.0.0-dev",
            "1.0.0.0-alpha",
            "1.0.0.0-alpha2",
            "1.0.0.0-beta",
            "1.0.0.0-beta2",
            "1.0.0.0-beta10",
            "1.0.0.0-RC1",
            "1.0.0.0",
            "1.0.0.0-patch1",
            "1.0.1.0",
            "1.1.0.0",
            "1.2.0.0-dev",
            "1.2.0.0",
            "1.9999999.9999999.9999999-dev",
            "2.4.0.0-alpha",
            "2.4.0.0",
            "3.2.1.0",
            "20100102",
            "20100102.1",
        ];
        for (i, a) in ascending.iter().enumerate() {
            for (j, b) in ascending.iter().enumerate() {
                assert_eq!(compare_normalized(a, b), i.cmp(&j), "{a} vs {b}");
            }
        }
        let mut shuffled = ascending;
        shuffled.reverse();
        shuffled.swap(3, 17);
        shuffled.sort_by(|a, b| compare_normalized(a, b));
        assert_eq!(shuffled, ascending);
    }

    #[test]
    fn ordering_corner_cases() {
        use Ordering::*;
        let cases: &[(&str, &str, Ordering)] = &[
            // Comparator tests: "b"/"beta" and separators are interchangeable.
            ("1.25.0-beta2.1", "1.25.0-b.3", Less),
            ("1.25.0-b2.1", "1.25.0beta.3", Less),
            ("1.25.0-b-2.1", "1.25.0-rc", Less),
            ("1.25.0-beta2.1", "1.25.0-b.2.1", Equal),
            ("1.25.0beta2.1", "1.25.0-b2.1", Equal),
            ("1.0.0", "1.2-dev", Less),
            // PHP version_compare corners.
            ("1.0", "1.0.0", Less),
            ("1.0rc1", "1.0", Less),
            ("1.0-dev", "1.0a1", Less),
            ("1.0pl1", "1.0", Greater),
            ("1.0.0.0-RC1", "1.0.0.0-rc1", Equal),
            ("1.0.0.0-foo", "1.0.0.0-dev", Less),
            ("01.0", "1.0", Equal),
            ("99999999999999999999", "99999999999999999998", Equal),
            ("1.0.", "1.0", Less),
            // Branches: below numbers, by bytes among themselves.
            ("dev-main", "0.0.0.0-dev", Less),
            ("dev-a", "dev-b", Less),
            ("dev-main", "dev-main", Equal),
        ];
        for &(a, b, expected) in cases {
            assert_eq!(compare_normalized(a, b), expected, "{a} vs {b}");
            assert_eq!(compare_normalized(b, a), expected.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn canonicalize_like_php() {
        let cases: &[(&str, &str)] = &[
            ("1.0.0", "1.0.0"),
            ("1.0rc1", "1.0.rc.1"),
            ("1.0-beta_2+x", "1.0.beta.2.x"),
            ("1..0", "1.0"),
            ("1#", "1.#"),
            ("a/b", "a.b"),
            ("-1", "-.1"),
        ];
        for &(input, expected) in cases {
            assert_eq!(
                canonicalize(input.as_bytes()),
                expected.as_bytes(),
                "{input}"
            );
        }
    }
}
