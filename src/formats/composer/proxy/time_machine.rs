//! The "time machine": a request pinned to a moment sees each proxied package as it was then.
//! The moment comes from the `X-Cargoman-Time-Machine` header or the `/time-machine/{date}/`
//! repository URL, as a date (`2024-01-31`, its midnight UTC) or an RFC 3339 time.

use axum::http::HeaderMap;
use serde_json::{Map, Value};

use crate::error::{Error, Result};

pub const HEADER: &str = "x-cargoman-time-machine";

/// The moment (Unix seconds) `value` names.
pub fn parse(value: &str) -> Result<i64> {
    let value = value.trim();
    if let Some(at) = crate::clock::parse_rfc3339(value) {
        return Ok(at);
    }
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp())
        .ok_or_else(|| {
            Error::invalid(format!(
                "time machine: {value:?} is neither a date (2024-01-31) nor an RFC 3339 time"
            ))
        })
}

/// The moment the request's header pins it to, if any.
pub fn from_headers(headers: &HeaderMap) -> Result<Option<i64>> {
    match headers.get(HEADER) {
        None => Ok(None),
        Some(v) => {
            let text = v
                .to_str()
                .map_err(|_| Error::invalid(format!("{HEADER} is not text")))?;
            parse(text).map(Some)
        }
    }
}

/// Was this version released at or before `at`? A version without a readable `time` is kept:
/// there is nothing to date it by.
pub fn released_by(entry: &Map<String, Value>, at: i64) -> bool {
    match entry.get("time").and_then(Value::as_str) {
        Some(time) => released_at(time).is_none_or(|t| t <= at),
        None => true,
    }
}

/// Packagist writes `2024-01-15T10:00:00+00:00`; older entries `2024-01-15 10:00:00` (UTC).
fn released_at(time: &str) -> Option<i64> {
    crate::clock::parse_rfc3339(time).or_else(|| {
        chrono::NaiveDateTime::parse_from_str(time, "%Y-%m-%d %H:%M:%S")
            .ok()
            .map(|t| t.and_utc().timestamp())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times() {
        assert_eq!(parse("2024-01-31").unwrap(), 1_706_659_200);
        assert_eq!(parse("2024-01-31T00:00:01Z").unwrap(), 1_706_659_201);
        assert!(parse("31/01/2024").is_err());
        let entry = |t: &str| {
            let mut m = Map::new();
            m.insert("time".into(), Value::from(t));
            m
        };
        assert!(released_by(
            &entry("2024-01-30T23:00:00+00:00"),
            1_706_659_200
        ));
        assert!(!released_by(
            &entry("2024-01-31T01:00:00+01:00"),
            1_706_659_199
        ));
        assert!(!released_by(&entry("2024-02-01 10:00:00"), 1_706_659_200));
        assert!(released_by(&Map::new(), 0));
    }
}
