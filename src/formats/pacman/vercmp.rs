//! Version order of pacman (`alpm_pkg_vercmp`, what `vercmp` prints): `[epoch:]pkgver[-pkgrel]`,
//! compared epoch first (missing = 0), then pkgver, then pkgrel only when both have one (so `1.0`
//! equals `1.0-1`). Each part is compared rpm-style: runs of letters or digits, split by any other
//! bytes; numbers by value (no overflow: leading zeros dropped, then more digits wins), a number
//! beats letters, a longer separator run wins, and what is left over decides (`1.0a` < `1.0` <
//! `1.0.1`). `~` has no special meaning in pacman, unlike rpm. Bytes, ASCII classes only.

use std::cmp::Ordering;

/// Compares two package versions as `vercmp` does.
pub fn vercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (epoch_a, ver_a, rel_a) = split_evr(a);
    let (epoch_b, ver_b, rel_b) = split_evr(b);
    compare_part(epoch_a, epoch_b)
        .then_with(|| compare_part(ver_a, ver_b))
        .then_with(|| match (rel_a, rel_b) {
            (Some(x), Some(y)) => compare_part(x, y),
            _ => Ordering::Equal,
        })
}

/// Splits `[epoch:]version[-release]`: the epoch is the leading digits when a `:` follows them
/// (`"0"` when absent or empty), the release what follows the last `-` after them.
fn split_evr(evr: &str) -> (&[u8], &[u8], Option<&[u8]>) {
    let bytes = evr.as_bytes();
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    let (epoch, rest) = match bytes.get(digits) {
        Some(b':') if digits == 0 => (&b"0"[..], &bytes[1..]),
        Some(b':') => (&bytes[..digits], &bytes[digits + 1..]),
        _ => (&b"0"[..], bytes),
    };
    match rest.iter().rposition(|&b| b == b'-') {
        Some(dash) => (epoch, &rest[..dash], Some(&rest[dash + 1..])),
        None => (epoch, rest, None),
    }
}

/// The rpm segment comparison of one part of a version.
fn compare_part(a: &[u8], b: &[u8]) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let sep_a = run(&a[i..], |c| !c.is_ascii_alphanumeric());
        let sep_b = run(&b[j..], |c| !c.is_ascii_alphanumeric());
        i += sep_a;
        j += sep_b;
        if i == a.len() || j == b.len() {
            break;
        }
        if sep_a != sep_b {
            return sep_a.cmp(&sep_b);
        }
        let numeric = a[i].is_ascii_digit();
        let class: fn(&u8) -> bool = if numeric {
            u8::is_ascii_digit
        } else {
            u8::is_ascii_alphabetic
        };
        let seg_a = &a[i..i + run(&a[i..], class)];
        let seg_b = &b[j..j + run(&b[j..], class)];
        if seg_b.is_empty() {
            // Different kinds: a number is newer than letters.
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        i += seg_a.len();
        j += seg_b.len();
        let order = if numeric {
            let (x, y) = (trim_zeros(seg_a), trim_zeros(seg_b));
            x.len().cmp(&y.len()).then_with(|| x.cmp(y))
        } else {
            seg_a.cmp(seg_b)
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    let (rest_a, rest_b) = (&a[i..], &b[j..]);
    if rest_a.is_empty() && rest_b.is_empty() {
        return Ordering::Equal;
    }
    // What is left decides, but letters left over never beat nothing: `1.0a` < `1.0` < `1.0.1`.
    let a_alpha = rest_a.first().is_some_and(u8::is_ascii_alphabetic);
    let b_alpha = rest_b.first().is_some_and(u8::is_ascii_alphabetic);
    if (rest_a.is_empty() && !b_alpha) || a_alpha {
        Ordering::Less
    } else {
        Ordering::Greater
    }
}

fn run(bytes: &[u8], class: impl Fn(&u8) -> bool) -> usize {
    bytes.iter().take_while(|b| class(b)).count()
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let zeros = run(digits, |&b| b == b'0');
    &digits[zeros..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// `(a, b, expected)`; every pair is also checked against the real `vercmp`.
    const TABLE: &[(&str, &str, i8)] = &[
        // plain segments
        ("1.0", "1.0", 0),
        ("1.0", "1.1", -1),
        ("1.1", "1.0", 1),
        ("1.0", "1.0.1", -1),
        ("1.0.1", "1.0", 1),
        ("1.2", "1.10", -1),
        ("2.0", "10.0", -1),
        ("1", "2", -1),
        ("1.0.0", "1.0", 1),
        // epochs
        ("1:1.0", "2.0", 1),
        ("2.0", "1:1.0", -1),
        ("1:1.0", "1:2.0", -1),
        ("0:1.0", "1.0", 0),
        ("2:1.0", "10:0.1", -1),
        ("1:1.0-1", "1:1.0-2", -1),
        (":1.0", "1.0", 0),
        ("01:1.0", "1:1.0", 0),
        ("1:1.0", "1.0", 1),
        // pkgrel
        ("1.0-1", "1.0-2", -1),
        ("1.0-2", "1.0-1", 1),
        ("1.0", "1.0-1", 0),
        ("1.0-1", "1.0", 0),
        ("1.0-1", "1.0-1.1", -1),
        ("1.0-1.1", "1.0-2", -1),
        ("1.0-10", "1.0-9", 1),
        ("1.1-1", "1.0-5", 1),
        ("1.0-1", "1.0.1-1", -1),
        // letters against numbers
        ("1.0a", "1.0", -1),
        ("1.0", "1.0a", 1),
        ("1.0.a", "1.0", 1),
        ("1.0", "1.0.a", -1),
        ("1.0alpha", "1.0", -1),
        ("1.0alpha", "1.0beta", -1),
        ("1.0rc1", "1.0", -1),
        ("1.0rc1", "1.0rc2", -1),
        ("1.0a", "1.0.a", -1),
        ("1.0a", "1.0b", -1),
        ("1.0a", "1.0.1", -1),
        ("1.0.a", "1.0.1", -1),
        ("1.0alpha", "1.0a", 1),
        ("1.0a1", "1.0a", 1),
        ("a", "1", -1),
        ("1", "a", 1),
        ("1a", "1b", -1),
        ("abc", "abd", -1),
        ("A", "a", -1),
        ("1.0beta2", "1.0rc1", -1),
        // leading zeros
        ("1.01", "1.1", 0),
        ("1.001", "1.1", 0),
        ("1.010", "1.1", 1),
        ("01", "1", 0),
        ("1.0", "1.00", 0),
        ("0.0", "0", 1),
        // separators
        ("1.0..0", "1.0.0", 1),
        ("1..0", "1.0", 1),
        ("1_0", "1.0", 0),
        ("1+0", "1.0", 0),
        ("1.0_1", "1.0.1", 0),
        ("1.0+1", "1.0", 1),
        ("1.0_", "1.0", 1),
        ("1.0.", "1.0", 1),
        ("1.0~rc1", "1.0", 1),
        ("1.0~rc1", "1.0rc1", 1),
        ("1.0", "1.0+", -1),
        ("1...2", "1.2", 1),
        // empty segments and empty strings
        ("", "", 0),
        ("", "0", -1),
        ("0", "", 1),
        ("", "a", 1),
        ("1.", "1", 1),
        (".1", "1", 1),
        // numbers beyond u64
        (
            "1.123456789012345678901234567890",
            "1.123456789012345678901234567891",
            -1,
        ),
        ("99999999999999999999999", "100000000000000000000000", -1),
        ("18446744073709551616", "18446744073709551615", 1),
        ("1:18446744073709551616", "18446744073709551617:1", -1),
        // git-style versions
        ("1.0.r12.gabcdef-1", "1.0.r9.g123456-1", 1),
        ("20240101", "20231231", 1),
    ];

    fn sign(order: Ordering) -> i8 {
        order as i8
    }

    #[test]
    fn table() {
        assert!(TABLE.len() >= 60);
        for &(a, b, expected) in TABLE {
            assert_eq!(sign(vercmp(a, b)), expected, "vercmp({a:?}, {b:?})");
            assert_eq!(sign(vercmp(b, a)), -expected, "vercmp({b:?}, {a:?})");
        }
    }

    /// Our order equals pacman's own on every pair of the table (both ways round); fails when
    /// `vercmp` is not installed.
    #[test]
    fn matches_the_real_vercmp() {
        for &(a, b) in TABLE
            .iter()
            .flat_map(|(a, b, _)| [(a, b), (b, a)])
            .collect::<Vec<_>>()
            .iter()
        {
            let out = Command::new("vercmp")
                .args([a, b])
                .output()
                .expect("vercmp (pacman) must be installed to run this test");
            assert!(out.status.success(), "vercmp {a:?} {b:?}: {out:?}");
            let theirs: i8 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
            assert_eq!(sign(vercmp(a, b)), theirs, "vercmp {a:?} {b:?}");
        }
    }
}
