//! `Range` header interpretation for downloads (RFC 9110 §14), one byte range at most.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// No usable range: send everything with 200.
    Full,
    /// Inclusive first and last byte: send 206.
    Partial(u64, u64),
    /// A well-formed range outside the content: 416.
    Unsatisfiable,
}

pub fn parse_range(header: Option<&str>, size: u64) -> RangeRequest {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeRequest::Full;
    };
    if spec.contains(',') {
        // Several ranges would need multipart/byteranges; the whole content is a valid answer.
        return RangeRequest::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeRequest::Full;
    };
    let number = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (first.trim(), last.trim()) {
        ("", suffix) => match number(suffix) {
            None => RangeRequest::Full,
            Some(0) => RangeRequest::Unsatisfiable,
            Some(_) if size == 0 => RangeRequest::Unsatisfiable,
            Some(n) => RangeRequest::Partial(size - n.min(size), size - 1),
        },
        (first, last) => {
            let Some(first) = number(first) else {
                return RangeRequest::Full;
            };
            let last = if last.is_empty() {
                u64::MAX
            } else {
                match number(last) {
                    Some(l) if l >= first => l,
                    _ => return RangeRequest::Full,
                }
            };
            if first >= size {
                RangeRequest::Unsatisfiable
            } else {
                RangeRequest::Partial(first, last.min(size - 1))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RangeRequest::*;
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 10), Full);
        assert_eq!(parse_range(Some("bytes=0-3"), 10), Partial(0, 3));
        assert_eq!(parse_range(Some("bytes=5-"), 10), Partial(5, 9));
        assert_eq!(parse_range(Some("bytes=5-100"), 10), Partial(5, 9));
        assert_eq!(parse_range(Some("bytes=-3"), 10), Partial(7, 9));
        assert_eq!(parse_range(Some("bytes=-30"), 10), Partial(0, 9));
        assert_eq!(parse_range(Some("bytes=10-"), 10), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-0"), 10), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-0"), 0), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=3-1"), 10), Full);
        assert_eq!(parse_range(Some("bytes=0-1,4-5"), 10), Full);
        assert_eq!(parse_range(Some("items=0-1"), 10), Full);
        assert_eq!(parse_range(Some("bytes=a-b"), 10), Full);
        assert_eq!(parse_range(Some("bytes=+1-2"), 10), Full);
    }
}
