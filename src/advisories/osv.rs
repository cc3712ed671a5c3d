//! Reading OSV records (https://ossf.github.io/osv-schema/): the fields matching and reporting
//! need, checked, with the record kept whole (`raw`) so nothing a feed adds is lost on import.
//! A record that cannot be matched (no id, no `modified`, an `affected` entry without a package,
//! a range without events) is refused with its position and the field at fault.

use serde_json::Value;

use super::Severity;
use crate::error::{Error, Result};

/// One advisory, as matching and reporting read it.
#[derive(Debug, Clone)]
pub struct Advisory {
    pub id: String,
    pub modified: i64,
    pub published: Option<i64>,
    pub withdrawn: Option<i64>,
    /// `summary`, else the first line of `details`, else the id.
    pub summary: String,
    pub aliases: Vec<String>,
    pub severity: Option<Severity>,
    /// The first `ADVISORY` reference, else the first `WEB` one, else the first of any type.
    pub link: Option<String>,
    pub affected: Vec<Affected>,
    /// The OSV object as imported.
    pub raw: Value,
}

/// One `affected` entry: a package of an ecosystem, its ranges and its listed versions.
#[derive(Debug, Clone, PartialEq)]
pub struct Affected {
    pub ecosystem: String,
    pub package: String,
    pub ranges: Vec<Range>,
    pub versions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    /// `ECOSYSTEM`, `SEMVER` or `GIT`.
    pub kind: String,
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

impl Event {
    pub fn version(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
        }
    }
}

impl Advisory {
    /// The first alias that is a CVE id.
    pub fn cve(&self) -> Option<&str> {
        std::iter::once(&self.id)
            .chain(&self.aliases)
            .find(|a| a.starts_with("CVE-"))
            .map(String::as_str)
    }
}

/// Reads a document holding one OSV object or an array of them; `origin` names it in errors.
pub fn parse_document(bytes: &[u8], origin: &str) -> Result<Vec<Advisory>> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| Error::invalid(format!("{origin}: not JSON: {e}")))?;
    match value {
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                parse(item).map_err(|e| at(origin, &format!("advisory #{}", i + 1), e))
            })
            .collect(),
        object => Ok(vec![parse(object).map_err(|e| at(origin, "advisory", e))?]),
    }
}

fn at(origin: &str, what: &str, message: String) -> Error {
    Error::invalid(format!("{origin}: {what}: {message}"))
}

/// Checks and reads one OSV object.
pub fn parse(raw: Value) -> std::result::Result<Advisory, String> {
    let object = raw.as_object().ok_or("not a JSON object")?;
    let text = |key: &str| object.get(key).and_then(Value::as_str);
    let id = text("id")
        .filter(|s| !s.trim().is_empty())
        .ok_or("`id` is missing or not a string")?
        .to_string();
    let time = |key: &str| -> std::result::Result<Option<i64>, String> {
        text(key)
            .map(|t| {
                crate::clock::parse_rfc3339(t)
                    .ok_or_else(|| format!("{id}: `{key}` is not an RFC 3339 time: {t}"))
            })
            .transpose()
    };
    let modified = time("modified")?.ok_or_else(|| format!("{id}: `modified` is missing"))?;
    let affected = items(&raw, "affected", affected).map_err(|m| format!("{id}: {m}"))?;
    let summary = text("summary")
        .or_else(|| text("details").and_then(|d| d.lines().next()))
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(&id)
        .to_string();
    Ok(Advisory {
        published: time("published")?,
        withdrawn: time("withdrawn")?,
        aliases: strings(object.get("aliases")),
        severity: severity(&raw),
        link: link(object.get("references")),
        summary,
        affected,
        modified,
        id,
        raw,
    })
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The items of an optional array field, each read by `read`; an error names the item
/// (`ranges[1]: …`).
fn items<T>(
    parent: &Value,
    key: &str,
    read: fn(&Value) -> std::result::Result<T, String>,
) -> std::result::Result<Vec<T>, String> {
    match parent.get(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, item)| read(item).map_err(|m| format!("{key}[{i}]: {m}")))
            .collect(),
        Some(_) => Err(format!("`{key}` is not an array")),
    }
}

fn affected(entry: &Value) -> std::result::Result<Affected, String> {
    let package = entry.get("package").ok_or("`package` is missing")?;
    let field = |key: &str| {
        package
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("`package.{key}` is missing"))
    };
    let ranges = items(entry, "ranges", range)?;
    Ok(Affected {
        ecosystem: field("ecosystem")?.to_string(),
        package: field("name")?.to_string(),
        ranges,
        versions: strings(entry.get("versions")),
    })
}

fn range(range: &Value) -> std::result::Result<Range, String> {
    let kind = range
        .get("type")
        .and_then(Value::as_str)
        .ok_or("`type` is missing")?;
    if !matches!(kind, "ECOSYSTEM" | "SEMVER" | "GIT") {
        return Err(format!("unknown range type {kind}"));
    }
    let events = range
        .get("events")
        .and_then(Value::as_array)
        .filter(|e| !e.is_empty())
        .ok_or("`events` is missing or empty")?;
    let events = events
        .iter()
        .map(|e| {
            let (key, version) = e
                .as_object()
                .filter(|o| o.len() == 1)
                .and_then(|o| o.iter().next())
                .and_then(|(k, v)| Some((k.as_str(), v.as_str()?.to_string())))
                .ok_or_else(|| format!("an event must be one field with a version: {e}"))?;
            Ok(match key {
                "introduced" => Event::Introduced(version),
                "fixed" => Event::Fixed(version),
                "last_affected" => Event::LastAffected(version),
                "limit" => Event::Limit(version),
                other => return Err(format!("unknown event {other}")),
            })
        })
        .collect::<std::result::Result<Vec<_>, String>>()?;
    if !events.iter().any(|e| matches!(e, Event::Introduced(_))) {
        return Err("a range needs an `introduced` event".into());
    }
    Ok(Range {
        kind: kind.to_string(),
        events,
    })
}

/// GitHub's `database_specific.severity` (also per affected entry, as `ecosystem_specific`),
/// else a plain level in `severity[].score`. CVSS vectors are kept in `raw` but not scored.
fn severity(raw: &Value) -> Option<Severity> {
    let level = |v: &Value| {
        v.get("severity")
            .and_then(Value::as_str)
            .and_then(Severity::parse)
    };
    raw.get("database_specific")
        .and_then(level)
        .or_else(|| {
            raw.get("affected")?.as_array()?.iter().find_map(|a| {
                a.get("ecosystem_specific")
                    .and_then(level)
                    .or_else(|| a.get("database_specific").and_then(level))
            })
        })
        .or_else(|| {
            raw.get("severity")?.as_array()?.iter().find_map(|s| {
                s.get("score")
                    .and_then(Value::as_str)
                    .and_then(Severity::parse)
            })
        })
}

fn link(references: Option<&Value>) -> Option<String> {
    let references = references?.as_array()?;
    let url_of = |kind: Option<&str>| {
        references
            .iter()
            .filter(|r| kind.is_none() || r.get("type").and_then(Value::as_str) == kind)
            .find_map(|r| r.get("url").and_then(Value::as_str))
            .map(str::to_string)
    };
    url_of(Some("ADVISORY"))
        .or_else(|| url_of(Some("WEB")))
        .or_else(|| url_of(None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ghsa() -> Value {
        json!({
            "id": "GHSA-aaaa-bbbb-cccc",
            "modified": "2024-05-01T10:00:00Z",
            "published": "2024-04-01T10:00:00Z",
            "aliases": ["CVE-2024-1234"],
            "summary": "XSS in widget",
            "database_specific": {"severity": "MODERATE"},
            "references": [{"type": "WEB", "url": "https://w"}, {"type": "ADVISORY", "url": "https://a"}],
            "affected": [{
                "package": {"ecosystem": "Packagist", "name": "acme/widget"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0.0"}, {"fixed": "1.2.3"}]}],
                "versions": ["1.0.0"]
            }]
        })
    }

    #[test]
    fn reads_the_fields_matching_and_reports_need() {
        let a = parse(ghsa()).unwrap();
        assert_eq!(a.id, "GHSA-aaaa-bbbb-cccc");
        assert_eq!(a.severity, Some(Severity::Medium));
        assert_eq!(a.cve(), Some("CVE-2024-1234"));
        assert_eq!(a.link.as_deref(), Some("https://a"));
        assert_eq!(a.affected[0].package, "acme/widget");
        assert_eq!(
            a.affected[0].ranges[0].events,
            [
                Event::Introduced("1.0.0".into()),
                Event::Fixed("1.2.3".into())
            ]
        );
    }

    #[test]
    fn refuses_what_cannot_be_matched_naming_the_field() {
        let mut no_modified = ghsa();
        no_modified.as_object_mut().unwrap().remove("modified");
        assert!(
            parse(no_modified)
                .unwrap_err()
                .contains("`modified` is missing")
        );
        let mut bad_event = ghsa();
        bad_event["affected"][0]["ranges"][0]["events"] = json!([{"broken": "1"}]);
        let e = parse(bad_event).unwrap_err();
        assert!(
            e.contains("affected[0]: ranges[0]: unknown event broken"),
            "{e}"
        );
        let mut no_package = ghsa();
        no_package["affected"][0]["package"] = json!({"ecosystem": "Packagist"});
        assert!(parse(no_package).unwrap_err().contains("`package.name`"));
        let e = parse_document(b"[{\"id\": 1}]", "x.json").unwrap_err();
        assert!(e.to_string().contains("x.json: advisory #1: `id`"), "{e}");
        assert!(
            parse_document(b"{", "y.json")
                .unwrap_err()
                .to_string()
                .contains("not JSON")
        );
    }
}
