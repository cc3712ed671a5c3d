//! A cached upstream document as this server serves it: the versions a time machine date
//! allows, each zip archive's URL pointing at `/dist-proxy/…` here (the upstream URL and shasum
//! stay in the cached copy, where the archive route finds them).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};

use super::time_machine;
use crate::error::Result;
use crate::formats::composer::metadata;

/// What may stay unescaped in a path segment of an archive URL (versions such as
/// `dev-feature/x` hold a slash).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'.')
    .remove(b'-')
    .remove(b'_')
    .remove(b'~')
    .remove(b'+');

/// The `p2` document of `name` for clients, from the upstream's `body`.
pub fn document(base_url: &str, name: &str, body: &str, at: Option<i64>) -> Result<String> {
    let entries: Vec<Map<String, Value>> = metadata::p2_entries(name, body.as_bytes())?
        .into_iter()
        .filter(|e| at.is_none_or(|at| time_machine::released_by(e, at)))
        .map(|e| rewrite_dist(base_url, name, e))
        .collect();
    Ok(metadata::p2_document(name, &entries))
}

/// The archive URL here of a version's zip (others keep the upstream's URL).
fn rewrite_dist(base_url: &str, name: &str, mut entry: Map<String, Value>) -> Map<String, Value> {
    let version = entry
        .get("version")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(dist) = entry.get_mut("dist").and_then(Value::as_object_mut) else {
        return entry;
    };
    let reference = dist
        .get("reference")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if version.is_empty() || reference.is_empty() || dist.get("type") != Some(&Value::from("zip")) {
        return entry;
    }
    let url = format!(
        "{}/dist-proxy/{name}/{}/{}.zip",
        base_url.trim_end_matches('/'),
        utf8_percent_encode(&version, SEGMENT),
        utf8_percent_encode(reference, SEGMENT),
    );
    dist.insert("url".into(), Value::from(url));
    entry
}

/// The upstream URL and shasum (None when the upstream gives none) of the zip of `version`
/// with `reference`, from the upstream's `body`.
pub fn upstream_dist(
    name: &str,
    body: &str,
    version: &str,
    reference: &str,
) -> Result<Option<(String, Option<String>)>> {
    let entries = metadata::p2_entries(name, body.as_bytes())?;
    Ok(entries.iter().find_map(|e| {
        let dist = e.get("dist")?.as_object()?;
        let field =
            |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
        if field(e, "version")? != version || field(dist, "reference")? != reference {
            return None;
        }
        let shasum = field(dist, "shasum").filter(|s| !s.is_empty());
        Some((field(dist, "url")?, shasum))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archives_point_here_and_dates_cut_versions() {
        let body = serde_json::json!({"minified": "composer/2.0", "packages": {"acme/x": [
            {"name": "acme/x", "version": "2.0.0", "time": "2024-02-01T00:00:00+00:00",
             "dist": {"type": "zip", "url": "https://up/x2.zip", "reference": "bbb", "shasum": "s2"}},
            {"version": "1.0.0", "time": "2024-01-01T00:00:00+00:00",
             "dist": {"type": "zip", "url": "https://up/x1.zip", "reference": "aaa", "shasum": ""}},
            {"version": "dev-feature/y", "dist": {"type": "zip", "url": "https://up/y.zip", "reference": "ccc"}}
        ]}}).to_string();
        let doc = document("http://h/", "acme/x", &body, None).unwrap();
        let entries = metadata::p2_entries("acme/x", doc.as_bytes()).unwrap();
        let urls: Vec<&str> = entries
            .iter()
            .map(|e| e["dist"]["url"].as_str().unwrap())
            .collect();
        assert_eq!(
            urls,
            [
                "http://h/dist-proxy/acme/x/2.0.0/bbb.zip",
                "http://h/dist-proxy/acme/x/1.0.0/aaa.zip",
                "http://h/dist-proxy/acme/x/dev-feature%2Fy/ccc.zip",
            ]
        );
        let pinned = document("http://h", "acme/x", &body, Some(1_706_659_200)).unwrap();
        let kept = metadata::p2_entries("acme/x", pinned.as_bytes()).unwrap();
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0]["version"], "1.0.0");
        assert_eq!(
            upstream_dist("acme/x", &body, "2.0.0", "bbb").unwrap(),
            Some(("https://up/x2.zip".into(), Some("s2".into())))
        );
        assert_eq!(
            upstream_dist("acme/x", &body, "1.0.0", "aaa").unwrap(),
            Some(("https://up/x1.zip".into(), None))
        );
        assert_eq!(
            upstream_dist("acme/x", &body, "1.0.0", "bbb").unwrap(),
            None
        );
    }
}
