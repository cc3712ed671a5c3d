//! Times are stored as Unix seconds (BIGINT) so SQLite and PostgreSQL share one schema and one code path.

use chrono::{DateTime, Utc};

pub fn now() -> i64 {
    Utc::now().timestamp()
}

pub fn rfc3339(epoch: i64) -> String {
    DateTime::<Utc>::from_timestamp(epoch, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn parse_rfc3339(value: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(value)
        .ok()
        .map(|t| t.timestamp())
}

pub fn http_date(epoch: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(epoch.max(0) as u64);
    httpdate::fmt_http_date(t)
}

pub fn parse_http_date(value: &str) -> Option<i64> {
    let t = httpdate::parse_http_date(value).ok()?;
    Some(t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_round_trip() {
        let s = http_date(784_111_777);
        assert_eq!(s, "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(parse_http_date(&s), Some(784_111_777));
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn rfc3339_round_trip() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(parse_rfc3339("2030-01-02T03:04:05Z"), Some(1_893_553_445));
        assert_eq!(parse_rfc3339("2030-13-02"), None);
    }
}
