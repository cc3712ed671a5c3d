//! The early refusal of an upload whose `Content-Length` is over the limit, before a byte of its
//! body is read (the limit is enforced again while the body streams: `blobs::limited`).

use axum::http::{HeaderMap, header};

use crate::error::{Error, Result};

/// The body length the request announces, if it announces one.
pub fn announced_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// `413` naming `what` when the announced length is over `max` bytes plus `slack` (framing the
/// body carries around the upload itself, such as multipart boundaries).
pub fn refuse_announced_over(headers: &HeaderMap, max: u64, slack: u64, what: &str) -> Result<()> {
    match announced_length(headers) {
        Some(len) if len > max.saturating_add(slack) => Err(Error::PayloadTooLarge(format!(
            "{what} is larger than the limit of {max} bytes"
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_length(len: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, len.parse().unwrap());
        headers
    }

    #[test]
    fn only_an_announced_length_over_the_limit_is_refused() {
        assert!(refuse_announced_over(&HeaderMap::new(), 10, 0, "file").is_ok());
        assert!(refuse_announced_over(&with_length("10"), 10, 0, "file").is_ok());
        assert!(refuse_announced_over(&with_length("12"), 10, 2, "file").is_ok());
        let err = refuse_announced_over(&with_length("11"), 10, 0, "the package").unwrap_err();
        assert!(matches!(err, Error::PayloadTooLarge(_)));
        assert_eq!(
            err.to_string(),
            "the package is larger than the limit of 10 bytes"
        );
        assert_eq!(announced_length(&with_length("x")), None);
    }
}
