//! Composer repository documents, built from stored version entries: the minified v2 files
//! (`p2/{name}.json`, `p2/{name}~dev.json`) and the v1 file (`p/{name}.json`).

use serde_json::{Map, Value, json};

use super::version::compare_normalized;

/// composer.json keys that only mean something in a root project, never in a dependency.
const ROOT_ONLY_KEYS: &[&str] = &[
    "repositories",
    "config",
    "minimum-stability",
    "prefer-stable",
    "scripts-descriptions",
    "version",
];

/// What a synced version contributes to the metadata besides its composer.json.
pub struct VersionFacts<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub version_normalized: &'a str,
    pub commit: &'a str,
    /// Unix seconds of the commit.
    pub time: i64,
    pub dist_url: &'a str,
    /// SHA-1 of the dist zip, the checksum Composer verifies.
    pub shasum: &'a str,
}

/// One version's entry as Composer expects it in repository metadata.
pub fn version_entry(
    composer_json: &Map<String, Value>,
    facts: &VersionFacts<'_>,
) -> Map<String, Value> {
    let mut entry: Map<String, Value> = composer_json
        .iter()
        .filter(|(k, _)| !ROOT_ONLY_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    entry.insert("name".into(), json!(facts.name));
    entry.insert("version".into(), json!(facts.version));
    entry.insert("version_normalized".into(), json!(facts.version_normalized));
    entry.insert(
        "dist".into(),
        json!({
            "type": "zip",
            "url": facts.dist_url,
            "reference": facts.commit,
            "shasum": facts.shasum,
        }),
    );
    entry.insert("time".into(), json!(crate::clock::rfc3339(facts.time)));
    entry
}

/// Is this a dev (branch) version? Those go in the `~dev` file.
pub fn is_dev(entry: &Map<String, Value>) -> bool {
    let version = entry.get("version").and_then(Value::as_str).unwrap_or("");
    version.starts_with("dev-") || version.ends_with("-dev")
}

fn normalized(entry: &Map<String, Value>) -> &str {
    entry
        .get("version_normalized")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Newest first, as Composer's own repositories list them.
pub fn sort_newest_first(entries: &mut [Map<String, Value>]) {
    entries.sort_by(|a, b| compare_normalized(normalized(b), normalized(a)));
}

/// Composer's "composer/2.0" minification: each entry lists only what changed from the one before;
/// a key that disappears is sent as `"__unset"`.
pub fn minify(entries: &[Map<String, Value>]) -> Vec<Map<String, Value>> {
    let mut last: Map<String, Value> = Map::new();
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let mut min = Map::new();
        for (k, v) in entry {
            if last.get(k) != Some(v) {
                min.insert(k.clone(), v.clone());
                last.insert(k.clone(), v.clone());
            }
        }
        let gone: Vec<String> = last
            .keys()
            .filter(|k| !entry.contains_key(*k))
            .cloned()
            .collect();
        for k in gone {
            min.insert(k.clone(), json!("__unset"));
            last.remove(&k);
        }
        out.push(min);
    }
    out
}

/// The inverse of `minify` (Composer's `MetadataMinifier::expand`).
pub fn expand(minified: &[Map<String, Value>]) -> Vec<Map<String, Value>> {
    let mut current: Map<String, Value> = Map::new();
    minified
        .iter()
        .map(|delta| {
            for (k, v) in delta {
                if v.as_str() == Some("__unset") {
                    current.remove(k);
                } else {
                    current.insert(k.clone(), v.clone());
                }
            }
            current.clone()
        })
        .collect()
}

fn stored_document(body: &[u8]) -> crate::error::Result<Value> {
    serde_json::from_slice(body)
        .map_err(|e| crate::error::Error::internal(format!("stored metadata is not JSON: {e}")))
}

/// The full version entries of a stored `p2` document.
pub fn p2_entries(name: &str, body: &[u8]) -> crate::error::Result<Vec<Map<String, Value>>> {
    let doc = stored_document(body)?;
    let minified: Vec<Map<String, Value>> = doc["packages"][name]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e.as_object().cloned()).collect())
        .unwrap_or_default();
    Ok(expand(&minified))
}

/// The version entries of a stored `p/{name}.json` document, in its order.
pub fn p1_entries(name: &str, body: &[u8]) -> crate::error::Result<Vec<Map<String, Value>>> {
    let doc = stored_document(body)?;
    Ok(doc["packages"][name]
        .as_object()
        .map(|m| m.values().filter_map(|e| e.as_object().cloned()).collect())
        .unwrap_or_default())
}

/// The `p2/{name}.json` (tagged versions) or `p2/{name}~dev.json` (branches) document.
pub fn p2_document(name: &str, entries: &[Map<String, Value>]) -> String {
    json!({
        "packages": {name: minify(entries)},
        "minified": "composer/2.0",
    })
    .to_string()
}

/// The Composer 1 `p/{name}.json` document: every version, keyed by version.
pub fn p1_document(name: &str, entries: &[Map<String, Value>]) -> String {
    let by_version: Map<String, Value> = entries
        .iter()
        .map(|e| {
            let version = e.get("version").and_then(Value::as_str).unwrap_or("");
            (version.to_string(), Value::Object(e.clone()))
        })
        .collect();
    json!({"packages": {name: by_version}}).to_string()
}

#[cfg(test)]
mod expand_tests {
    use super::*;

    #[test]
    fn expand_undoes_minify_and_documents_read_back() {
        let entries: Vec<Map<String, Value>> = [
            json!({"name": "a/b", "version": "2.0.0", "version_normalized": "2.0.0.0", "require": {"php": ">=8"}, "license": ["MIT"]}),
            json!({"name": "a/b", "version": "1.1.0", "version_normalized": "1.1.0.0", "license": ["MIT"]}),
            json!({"name": "a/b", "version": "1.0.0", "version_normalized": "1.0.0.0", "require": {"php": ">=7"}}),
        ]
        .into_iter()
        .map(|v| v.as_object().unwrap().clone())
        .collect();
        assert_eq!(expand(&minify(&entries)), entries);
        let p2 = p2_document("a/b", &entries);
        assert_eq!(p2_entries("a/b", p2.as_bytes()).unwrap(), entries);
        let p1 = p1_document("a/b", &entries);
        let mut back = p1_entries("a/b", p1.as_bytes()).unwrap();
        sort_newest_first(&mut back);
        assert_eq!(back, entries);
        assert!(p2_entries("a/b", b"not json").is_err());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(v: &str, n: &str, extra: &[(&str, Value)]) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("name".into(), json!("a/b"));
        m.insert("version".into(), json!(v));
        m.insert("version_normalized".into(), json!(n));
        for (k, val) in extra {
            m.insert(k.to_string(), val.clone());
        }
        m
    }

    /// Composer's MetadataMinifier::expand, to prove the round trip.
    fn expand(min: &[Map<String, Value>]) -> Vec<Map<String, Value>> {
        let mut out = Vec::new();
        let mut current: Option<Map<String, Value>> = None;
        for m in min {
            let mut next = current.clone().unwrap_or_default();
            for (k, v) in m {
                if v == "__unset" {
                    next.remove(k);
                } else {
                    next.insert(k.clone(), v.clone());
                }
            }
            out.push(next.clone());
            current = Some(next);
        }
        out
    }

    #[test]
    fn minified_metadata_expands_to_the_original() {
        let entries = vec![
            entry(
                "2.0.0",
                "2.0.0.0",
                &[
                    ("require", json!({"php": ">=8.1"})),
                    ("license", json!(["MIT"])),
                ],
            ),
            entry("1.2.3", "1.2.3.0", &[("require", json!({"php": ">=8.1"}))]),
            entry(
                "1.0.0",
                "1.0.0.0",
                &[("require", json!({"php": ">=7.4"})), ("bin", json!(["x"]))],
            ),
        ];
        let min = minify(&entries);
        assert_eq!(min[1].get("require"), None, "unchanged keys are omitted");
        assert_eq!(min[1]["license"], "__unset");
        assert_eq!(expand(&min), entries);
    }

    #[test]
    fn entries_drop_root_only_keys_and_carry_dist() {
        let composer: Map<String, Value> = serde_json::from_str(
            r#"{"name":"a/b","version":"9.9.9","repositories":[],"config":{},"require":{"php":"^8"},"autoload":{"psr-4":{"A\\":"src/"}}}"#,
        )
        .unwrap();
        let e = version_entry(
            &composer,
            &VersionFacts {
                name: "a/b",
                version: "1.0.0",
                version_normalized: "1.0.0.0",
                commit: "abc",
                time: 0,
                dist_url: "http://x/dist/a/b/1.0.0.zip",
                shasum: "f00",
            },
        );
        assert_eq!(e["version"], "1.0.0");
        assert!(e.get("repositories").is_none() && e.get("config").is_none());
        assert_eq!(e["dist"]["shasum"], "f00");
        assert_eq!(e["dist"]["reference"], "abc");
        assert_eq!(e["autoload"]["psr-4"]["A\\"], "src/");
        assert_eq!(e["time"], "1970-01-01T00:00:00Z");
        assert!(!is_dev(&e));
        assert!(is_dev(&entry("dev-main", "dev-main", &[])));
        assert!(is_dev(&entry(
            "1.x-dev",
            "1.9999999.9999999.9999999-dev",
            &[]
        )));
    }
}
