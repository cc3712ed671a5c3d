//! Metadata updates: `PUT p/{package}.json`, `PUT p/{package}/{version}.json` and the
//! validated `PUT packages.json`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::documents::{find_version, name_from, version_not_found, version_of, versions_of};
use super::{Repo, Writing};
use crate::error::{Error, Result};
use crate::formats::composer::constraint::Constraint;
use crate::formats::composer::dialect::{composer, percent_encode};
use crate::formats::composer::version;
use crate::state::AppState;

/// Keys a metadata update may set (or remove with `null`): what describes a version. The
/// identity (`name`, `version`, `version_normalized`) and the archive (`dist`) come from the
/// upload and never change this way; anything else (root-only keys such as `config`) is ignored.
const DESCRIPTIVE: &[&str] = &[
    "abandoned",
    "archive",
    "authors",
    "autoload",
    "autoload-dev",
    "bin",
    "conflict",
    "description",
    "extra",
    "funding",
    "homepage",
    "include-path",
    "keywords",
    "license",
    "non-feature-branches",
    "provide",
    "readme",
    "replace",
    "require",
    "require-dev",
    "scripts",
    "source",
    "suggest",
    "support",
    "target-dir",
    "time",
    "type",
];

/// Keys fixed by the upload: checked (`name`, `version`, `dist.shasum`) but never changed.
const FIXED: &[&str] = &["name", "version", "version_normalized", "dist", "uid"];

/// What an update body changes in one version's entry.
#[derive(Debug, Default, PartialEq)]
struct Patch {
    set: Map<String, Value>,
    unset: Vec<String>,
    ignored: Vec<String>,
}

impl Patch {
    fn apply(&self, entry: &mut Map<String, Value>) {
        entry.extend(self.set.clone());
        for key in &self.unset {
            entry.remove(key);
        }
    }
}

/// The change a version entry sent by a client makes to the stored one; 422 when it names
/// another package, claims another archive (`dist.shasum`) or has a field of the wrong shape
/// (which would make Composer refuse the whole repository).
fn patch_for(body: &Map<String, Value>, name: &str, stored: &Map<String, Value>) -> Result<Patch> {
    if let Some(given) = body.get("name")
        && !given.as_str().is_some_and(|g| g.eq_ignore_ascii_case(name))
    {
        return Err(Error::unprocessable(format!(
            "the metadata is for {given}, not {name}"
        )));
    }
    let shasum = |entry: &Map<String, Value>| {
        entry
            .get("dist")
            .and_then(|d| d.get("shasum"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let claimed = shasum(body);
    let actual = shasum(stored);
    if !claimed.is_empty() && !claimed.eq_ignore_ascii_case(&actual) {
        return Err(Error::unprocessable(format!(
            "dist.shasum {claimed} is not the SHA-1 of the stored archive ({actual}); \
             the archive of a version cannot change: upload a new version"
        )));
    }
    let mut patch = Patch::default();
    for (key, value) in body {
        if FIXED.contains(&key.as_str()) {
            continue;
        }
        if !DESCRIPTIVE.contains(&key.as_str()) {
            patch.ignored.push(key.clone());
        } else if value.is_null() {
            patch.unset.push(key.clone());
        } else {
            check_field(key, value)
                .map_err(|expected| Error::unprocessable(format!("{key}: {expected}")))?;
            patch.set.insert(key.clone(), value.clone());
        }
    }
    Ok(patch)
}

/// Does a descriptive field have the shape Composer's loader accepts? Err says what it expects.
fn check_field(key: &str, value: &Value) -> std::result::Result<(), String> {
    let strings = |v: &Value| v.as_array().is_some_and(|a| a.iter().all(Value::is_string));
    let objects = |v: &Value| v.as_array().is_some_and(|a| a.iter().all(Value::is_object));
    let (ok, expected) = match key {
        "description" | "homepage" | "readme" | "time" | "type" | "target-dir" => {
            (value.is_string(), "a string")
        }
        "keywords" | "include-path" | "non-feature-branches" => {
            (strings(value), "an array of strings")
        }
        "license" | "bin" => (
            value.is_string() || strings(value),
            "a string or an array of strings",
        ),
        "authors" | "funding" => (objects(value), "an array of objects"),
        "abandoned" => (
            value.is_boolean() || value.is_string(),
            "true, false or the replacement's name",
        ),
        "suggest" => (
            value
                .as_object()
                .is_some_and(|m| m.values().all(Value::is_string)),
            "an object of package names to descriptions",
        ),
        "source" => (
            ["type", "url", "reference"]
                .iter()
                .all(|k| value.get(k).is_some_and(Value::is_string)),
            "an object with string type, url and reference",
        ),
        "require" | "require-dev" | "conflict" | "replace" | "provide" => {
            return check_links(value);
        }
        _ => (value.is_object(), "an object"),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("expected {expected}"))
    }
}

/// Package links: package name → a version constraint Composer can parse.
fn check_links(value: &Value) -> std::result::Result<(), String> {
    let links = value
        .as_object()
        .ok_or("expected an object of package names to version constraints")?;
    for (package, constraint) in links {
        let text = constraint
            .as_str()
            .ok_or_else(|| format!("{package}: expected a version constraint string"))?;
        if text != "self.version" {
            Constraint::parse(text).map_err(|e| format!("{package}: {e}"))?;
        }
    }
    Ok(())
}

pub(super) fn json_object(body: &[u8]) -> Result<Map<String, Value>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::unprocessable("expected a JSON object")),
        Err(e) => Err(Error::unprocessable(format!("invalid JSON: {e}"))),
    }
}

/// Do two version strings name the same version?
fn same_version(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
        || matches!((version::normalize(a), version::normalize(b)), (Ok(x), Ok(y)) if x == y)
}

/// Applies updates (version named → entry sent) to a package's versions: every one is checked
/// before any is applied. Answers the updated entries and the keys that were ignored.
async fn apply_updates(
    state: &AppState,
    repo: &Repo,
    name: &str,
    updates: Vec<(String, Map<String, Value>)>,
) -> Result<Response> {
    let versions = versions_of(state, repo, name).await?;
    let mut planned = Vec::new();
    for (wanted, body) in &updates {
        let found =
            find_version(&versions, wanted).ok_or_else(|| version_not_found(name, wanted))?;
        if let Some(given) = body.get("version").and_then(Value::as_str)
            && !same_version(given, wanted)
        {
            return Err(Error::unprocessable(format!(
                "the metadata is for version {given}, not {wanted}"
            )));
        }
        let patch = patch_for(body, name, &found.entry)?;
        planned.push((version_of(&found.entry), found.file.clone(), patch));
    }
    let composer = composer(state);
    let mut updated = Map::new();
    let mut ignored = std::collections::BTreeSet::new();
    for (version, file, patch) in planned {
        let mut entry = composer
            .update_uploaded_entry(&repo.owner.name, name, &version, |entry| {
                patch.apply(entry);
                Ok(())
            })
            .await?;
        if let Some(Value::Object(dist)) = entry.get_mut("dist") {
            dist.insert(
                "url".into(),
                json!(format!("{}/downloads/{}", repo.base, percent_encode(&file))),
            );
        }
        ignored.extend(patch.ignored);
        updated.insert(version, Value::Object(entry));
    }
    Ok(
        axum::Json(json!({"package": name, "versions": updated, "ignored": ignored}))
            .into_response(),
    )
}

/// `PUT p/{vendor}/{package}.json`: a version entry (seed 003's publishing step 3), or the
/// package document `{"versions": {version: entry}}` as `GET` answers it.
pub(super) async fn update_package(
    State(state): State<AppState>,
    Writing(repo): Writing,
    Path((_, _, vendor, file)): Path<(String, String, String, String)>,
    body: Bytes,
) -> Result<Response> {
    let name = name_from(&vendor, &file)?;
    let body = json_object(&body)?;
    let updates = match body.get("versions") {
        Some(versions) => {
            let versions = versions
                .as_object()
                .ok_or_else(|| Error::unprocessable("versions: expected an object"))?;
            if let Some(given) = body.get("package")
                && !given
                    .as_str()
                    .is_some_and(|g| g.eq_ignore_ascii_case(&name))
            {
                return Err(Error::unprocessable(format!(
                    "the metadata is for {given}, not {name}"
                )));
            }
            versions
                .iter()
                .map(|(key, entry)| match entry {
                    Value::Object(entry) => Ok((key.clone(), entry.clone())),
                    _ => Err(Error::unprocessable(format!(
                        "versions.{key}: expected a version entry"
                    ))),
                })
                .collect::<Result<Vec<_>>>()?
        }
        None => {
            let version = body
                .get("version")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::unprocessable("the version entry has no version"))?
                .to_string();
            vec![(version, body)]
        }
    };
    apply_updates(&state, &repo, &name, updates).await
}

/// `PUT p/{vendor}/{package}/{version}.json`: one version entry.
pub(super) async fn update_version(
    State(state): State<AppState>,
    Writing(repo): Writing,
    Path((_, _, vendor, package, file)): Path<(String, String, String, String, String)>,
    body: Bytes,
) -> Result<Response> {
    let name = format!("{vendor}/{package}").to_lowercase();
    let wanted = file
        .strip_suffix(".json")
        .ok_or_else(|| Error::not_found(format!("{file} is not a metadata file")))?;
    let body = json_object(&body)?;
    apply_updates(&state, &repo, &name, vec![(wanted.to_string(), body)]).await
}

/// `PUT packages.json`: accepted for Nitro's workflow, but the index is derived from the stored
/// versions, so it only checks that every package and version it lists exists (422 naming the
/// first that does not) and changes nothing.
pub(super) async fn check_index(
    State(state): State<AppState>,
    Writing(repo): Writing,
    body: Bytes,
) -> Result<Response> {
    let body = json_object(&body)?;
    let listed = match body.get("packages") {
        None => Map::new(),
        Some(Value::Object(listed)) => listed.clone(),
        Some(_) => return Err(Error::unprocessable("packages: expected an object")),
    };
    let composer = composer(&state);
    let mut versions_checked = 0;
    for (name, versions) in &listed {
        let missing = |what: String| {
            Error::unprocessable(format!(
                "{what} is not in repository {}: upload its archive first",
                repo.owner.name
            ))
        };
        let stored = composer
            .uploaded_versions(&repo.owner.name, &name.to_lowercase())
            .await?
            .filter(|v| !v.is_empty())
            .ok_or_else(|| missing(format!("package {name}")))?;
        let named: Vec<String> = match versions {
            Value::Object(map) => map
                .iter()
                .map(|(key, entry)| {
                    entry
                        .get("version")
                        .and_then(Value::as_str)
                        .unwrap_or(key)
                        .to_string()
                })
                .collect(),
            Value::Array(entries) => entries
                .iter()
                .map(|entry| {
                    entry
                        .get("version")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .ok_or_else(|| {
                            Error::unprocessable(format!(
                                "packages.{name}: an entry has no version"
                            ))
                        })
                })
                .collect::<Result<_>>()?,
            _ => {
                return Err(Error::unprocessable(format!(
                    "packages.{name}: expected an object of versions"
                )));
            }
        };
        for wanted in named {
            if find_version(&stored, &wanted).is_none() {
                return Err(missing(format!("package {name} version {wanted}")));
            }
            versions_checked += 1;
        }
    }
    Ok(axum::Json(json!({
        "status": "success",
        "message": "packages.json is derived from the uploaded versions; nothing changed",
        "packages": listed.len(),
        "versions": versions_checked,
    }))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn stored() -> Map<String, Value> {
        object(json!({
            "name": "acme/lib",
            "version": "1.0.0",
            "version_normalized": "1.0.0.0",
            "description": "old",
            "license": "MIT",
            "dist": {"type": "zip", "url": "", "reference": "abc", "shasum": "abc"},
        }))
    }

    #[test]
    fn updates_merge_descriptive_fields_only() {
        let body = object(json!({
            "name": "Acme/Lib",
            "version": "1.0.0",
            "version_normalized": "9.9.9.9",
            "description": "new",
            "license": null,
            "config": {"sort-packages": true},
            "require": {"php": ">=7.4", "acme/core": "^1.0 || ^2.0", "acme/self": "self.version"},
            "dist": {"type": "zip", "url": "https://elsewhere/x.zip", "shasum": "ABC"},
        }));
        let patch = patch_for(&body, "acme/lib", &stored()).unwrap();
        let mut entry = stored();
        patch.apply(&mut entry);
        assert_eq!(entry["description"], "new");
        assert!(!entry.contains_key("license"));
        assert_eq!(entry["require"]["php"], ">=7.4");
        assert_eq!(entry["version_normalized"], "1.0.0.0");
        assert_eq!(entry["dist"], stored()["dist"]);
        assert!(!entry.contains_key("config"));
        assert_eq!(patch.ignored, vec!["config".to_string()]);
    }

    #[test]
    fn updates_refuse_other_packages_archives_and_bad_shapes() {
        let refused = |body: Value| patch_for(&object(body), "acme/lib", &stored()).is_err();
        assert!(refused(json!({"name": "acme/other"})));
        assert!(refused(json!({"name": 3})));
        assert!(refused(json!({"dist": {"shasum": "def"}})));
        assert!(refused(json!({"description": ["x"]})));
        assert!(refused(json!({"keywords": "x"})));
        assert!(refused(json!({"authors": {"name": "x"}})));
        assert!(refused(json!({"require": {"php": "not a constraint"}})));
        assert!(refused(json!({"require": {"php": 7}})));
        assert!(refused(json!({"source": {"type": "git", "url": "x"}})));
        assert!(refused(json!({"autoload": []})));
        assert!(!refused(json!({"dist": {"shasum": ""}})));
        assert!(!refused(
            json!({"license": ["MIT", "GPL-2.0"], "abandoned": true})
        ));
    }

    #[test]
    fn versions_compare_by_normalized_form() {
        assert!(same_version("1.0.0", "1.0.0"));
        assert!(same_version("v1.0", "1.0.0"));
        assert!(same_version("1.0.0-rc1", "1.0.0-RC1"));
        assert!(!same_version("1.0.1", "1.0.0"));
        assert!(!same_version("not a version", "1.0.0"));
    }
}
