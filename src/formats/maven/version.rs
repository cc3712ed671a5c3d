//! Maven's version order, as `org.apache.maven.artifact.versioning.ComparableVersion` of Maven
//! 3.8 computes it (the `mvn` this project tests with): a version is split into numbers and
//! qualifiers at `.`, at `-` (which opens a sub-list) and between digits and letters (which opens
//! one too); trailing zeros and empty qualifiers of each list are dropped; known qualifiers order
//! as `alpha < beta < milestone < rc < snapshot < "" (release) < sp`, unknown ones after them
//! alphabetically. So `1.0-alpha-1 < 1.0-beta < 1.0-rc < 1.0-SNAPSHOT < 1.0 < 1.0-sp < 1.0.1`,
//! and `1 == 1.0 == 1-ga == 1.final`. Pure.

use std::cmp::Ordering;

/// One parsed version; compares by Maven's rules, keeps its text as written.
#[derive(Debug, Clone)]
pub struct MavenVersion {
    text: String,
    items: Vec<Item>,
}

#[derive(Debug, Clone)]
enum Item {
    /// Digits without leading zeros (`""` is zero); any length, compared by magnitude.
    Number(String),
    /// A qualifier after its aliases (`cr` → `rc`, `ga`/`final`/`release` → `""`, and `a`, `b`,
    /// `m` followed by a digit → `alpha`, `beta`, `milestone`).
    Qualifier(String),
    /// What follows a `-` or a change between digits and letters.
    List(Vec<Item>),
}

/// Qualifiers in their order; the empty one is a release.
const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];

/// Where the empty qualifier (a release) sits in `QUALIFIERS`.
const RELEASE: usize = 5;

impl MavenVersion {
    pub fn parse(text: &str) -> MavenVersion {
        MavenVersion {
            text: text.to_string(),
            items: parse_items(&text.to_lowercase()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl PartialEq for MavenVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for MavenVersion {}

impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_lists(&self.items, &other.items)
    }
}

/// Whether `version` is a SNAPSHOT (Maven's test: the text ends with `SNAPSHOT`).
pub fn is_snapshot(version: &str) -> bool {
    version.ends_with("-SNAPSHOT") || version == "SNAPSHOT"
}

fn parse_items(version: &str) -> Vec<Item> {
    // Each new list is the last item of the one before it, so the nesting is a chain of levels,
    // assembled innermost first at the end.
    let mut levels: Vec<Vec<Item>> = vec![Vec::new()];
    let mut is_digit = false;
    let mut start = 0;
    let chars: Vec<(usize, char)> = version.char_indices().collect();
    for &(i, c) in &chars {
        let level = levels.last_mut().expect("a level");
        match c {
            '.' | '-' => {
                if i == start {
                    level.push(Item::Number(String::new()));
                } else {
                    level.push(item(is_digit, false, &version[start..i]));
                }
                start = i + c.len_utf8();
                if c == '-' {
                    levels.push(Vec::new());
                }
            }
            c if c.is_ascii_digit() => {
                if !is_digit && i > start {
                    level.push(item(false, true, &version[start..i]));
                    start = i;
                    levels.push(Vec::new());
                }
                is_digit = true;
            }
            _ => {
                if is_digit && i > start {
                    level.push(item(true, false, &version[start..i]));
                    start = i;
                    levels.push(Vec::new());
                }
                is_digit = false;
            }
        }
    }
    if version.len() > start {
        let last = item(is_digit, false, &version[start..]);
        levels.last_mut().expect("a level").push(last);
    }
    let mut inner: Option<Vec<Item>> = None;
    while let Some(mut level) = levels.pop() {
        if let Some(child) = inner.take() {
            level.push(Item::List(child));
        }
        normalize(&mut level);
        inner = Some(level);
    }
    inner.unwrap_or_default()
}

fn item(is_digit: bool, followed_by_digit: bool, text: &str) -> Item {
    if is_digit {
        return Item::Number(text.trim_start_matches('0').to_string());
    }
    let text = match text {
        "a" if followed_by_digit => "alpha",
        "b" if followed_by_digit => "beta",
        "m" if followed_by_digit => "milestone",
        "ga" | "final" | "release" => "",
        "cr" => "rc",
        other => other,
    };
    Item::Qualifier(text.to_string())
}

/// Drops the zeros, empty qualifiers and empty lists at the end of a list, walking back over
/// non-empty lists up to the first item that is neither null nor a list (Maven's `normalize`).
fn normalize(items: &mut Vec<Item>) {
    let mut i = items.len();
    while i > 0 {
        i -= 1;
        if is_null(&items[i]) {
            items.remove(i);
        } else if !matches!(items[i], Item::List(_)) {
            break;
        }
    }
}

fn is_null(item: &Item) -> bool {
    match item {
        Item::Number(n) => n.is_empty(),
        Item::Qualifier(q) => q.is_empty(),
        Item::List(l) => l.is_empty(),
    }
}

fn qualifier_rank(qualifier: &str) -> String {
    match QUALIFIERS.iter().position(|q| *q == qualifier) {
        Some(i) => i.to_string(),
        None => format!("{}-{qualifier}", QUALIFIERS.len()),
    }
}

fn compare_numbers(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// `item` against another item, or against nothing (the other version ended).
fn compare(item: &Item, other: Option<&Item>) -> Ordering {
    use Item::*;
    match (item, other) {
        (Number(n), None) => {
            if n.is_empty() {
                Ordering::Equal
            } else {
                Ordering::Greater
            }
        }
        (Number(a), Some(Number(b))) => compare_numbers(a, b),
        (Number(_), Some(_)) => Ordering::Greater,
        (Qualifier(q), None) => qualifier_rank(q).cmp(&RELEASE.to_string()),
        (Qualifier(a), Some(Qualifier(b))) => qualifier_rank(a).cmp(&qualifier_rank(b)),
        (Qualifier(_), Some(_)) => Ordering::Less,
        (List(items), None) => items
            .iter()
            .map(|i| compare(i, None))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal),
        (List(_), Some(Number(_))) => Ordering::Less,
        (List(_), Some(Qualifier(_))) => Ordering::Greater,
        (List(a), Some(List(b))) => compare_lists(a, b),
    }
}

fn compare_lists(a: &[Item], b: &[Item]) -> Ordering {
    for i in 0..a.len().max(b.len()) {
        let result = match (a.get(i), b.get(i)) {
            (Some(l), r) => compare(l, r),
            (None, Some(r)) => compare(r, None).reverse(),
            (None, None) => Ordering::Equal,
        };
        if result.is_ne() {
            return result;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> MavenVersion {
        MavenVersion::parse(text)
    }

    fn assert_ascending(versions: &[&str]) {
        for pair in versions.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
            assert!(v(pair[1]) > v(pair[0]), "{} > {}", pair[1], pair[0]);
        }
    }

    #[test]
    fn the_documented_order() {
        assert_ascending(&[
            "1.0-alpha-1",
            "1.0-beta",
            "1.0-rc",
            "1.0-SNAPSHOT",
            "1.0",
            "1.0-sp",
            "1.0.1",
        ]);
    }

    #[test]
    fn qualifiers_and_numbers() {
        assert_ascending(&[
            "1-alpha",
            "1-alpha2",
            "1-alpha-10",
            "1-beta",
            "1-milestone",
            "1-rc",
            "1-snapshot",
            "1",
            "1-sp",
            "1-abc",
            "1-xyz",
            "1-1",
            "1.1",
            "1.2",
            "1.10",
            "2",
            "10",
            "9999999999",
            "99999999999999999999",
        ]);
        assert_ascending(&["1.0.0.alpha", "1.0.0"]);
        assert_ascending(&["2.0-a1", "2.0-b1", "2.0-m1", "2.0-cr1"]);
    }

    #[test]
    fn equal_spellings() {
        for (a, b) in [
            ("1", "1.0"),
            ("1", "1.0.0"),
            ("1", "1-ga"),
            ("1", "1.final"),
            ("1", "1-release"),
            ("1-rc1", "1-cr1"),
            ("1.0-alpha1", "1.0-a1"),
            ("1.0-ALPHA1", "1.0-alpha-1"),
            ("1.0-beta1", "1.0-b1"),
            ("01.002", "1.2"),
            ("1-", "1"),
        ] {
            assert_eq!(v(a), v(b), "{a} == {b}");
        }
        assert_ne!(v("1-a"), v("1-alpha"), "a alone is no alias");
    }

    #[test]
    fn snapshots_are_recognized() {
        assert!(is_snapshot("1.0-SNAPSHOT"));
        assert!(!is_snapshot("1.0"));
        assert!(!is_snapshot("1.0-snapshot-x"));
    }

    #[test]
    fn text_is_kept() {
        assert_eq!(v("1.0-Beta").as_str(), "1.0-Beta");
    }
}
