//! npm's package documents ("packuments"), rendered from a package's versions whenever it
//! changes and served as stored: the full one (`GET {id}`, what `npm view` and publish read) and
//! the abbreviated one install clients ask for (`Accept: application/vnd.npm.install-v1+json`).
//! Customer views are cut from the rendered documents (`filter`). Pure.

use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::rules::highest_version;
use crate::clock::rfc3339;
use crate::error::{Error, Result};
use crate::model::packages::Version;

/// Document names in `rendered_documents`.
pub const FULL: &str = "packument";
pub const ABBREVIATED: &str = "packument-abbreviated";

/// What a version's `metadata` holds: the manifest as published (with our `dist` digests), the
/// tarball's file name, and the readme apart (only the latest one is served).
pub fn version_metadata(mut manifest: Map<String, Value>, file: &str, dist: Dist) -> Value {
    let readme = manifest.remove("readme");
    let mut published_dist = match manifest.remove("dist") {
        Some(Value::Object(d)) => d,
        _ => Map::new(),
    };
    published_dist.insert("shasum".into(), json!(dist.shasum));
    published_dist.insert("integrity".into(), json!(dist.integrity));
    published_dist.remove("tarball");
    manifest.insert("dist".into(), Value::Object(published_dist));
    json!({"manifest": manifest, "file": file, "readme": readme.unwrap_or(json!(""))})
}

/// A tarball's digests as npm publishes them.
pub struct Dist {
    /// SHA-1, lower-case hex.
    pub shasum: String,
    /// `sha512-<base64>`.
    pub integrity: String,
}

impl Dist {
    /// From the blob store's lower-case hex digests.
    pub fn from_hex(sha1: &str, sha512: &str) -> Dist {
        use base64::Engine;
        let sha512 = hex::decode(sha512).unwrap_or_default();
        Dist {
            shasum: sha1.to_string(),
            integrity: format!(
                "sha512-{}",
                base64::engine::general_purpose::STANDARD.encode(sha512)
            ),
        }
    }
}

/// A package as the documents show it.
pub struct Package<'a> {
    pub name: &'a str,
    pub created_at: i64,
    /// Taken apart while rendering (a package may have thousands).
    pub versions: Vec<Version>,
    /// Tag → version name.
    pub tags: &'a [(String, String)],
    /// Where its tarballs are served, ending in `/-/`.
    pub tarball_base: &'a str,
    pub modified_at: i64,
}

/// Fields of a version the abbreviated document keeps (npm's "corgi" format).
const ABBREVIATED_FIELDS: &[&str] = &[
    "name",
    "version",
    "deprecated",
    "dependencies",
    "optionalDependencies",
    "devDependencies",
    "bundleDependencies",
    "peerDependencies",
    "peerDependenciesMeta",
    "acceptDependencies",
    "bin",
    "directories",
    "dist",
    "engines",
    "_hasShrinkwrap",
    "hasInstallScript",
    "cpu",
    "os",
    "libc",
    "license",
    "funding",
];

/// Top-level fields the full document takes from the latest version.
const PACKAGE_FIELDS: &[&str] = &[
    "description",
    "keywords",
    "license",
    "homepage",
    "repository",
    "bugs",
    "author",
];

/// The full and the abbreviated document of a package. The versions' metadata is moved into
/// the full document and then on into the abbreviated one, never copied: rendering thousands
/// of versions on every change is mostly allocation otherwise.
pub fn render(package: Package) -> (Vec<u8>, Vec<u8>) {
    let tags = dist_tags(package.tags, &package.versions);
    let latest = tags
        .get("latest")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut full = Map::new();
    full.insert("_id".into(), json!(package.name));
    full.insert("name".into(), json!(package.name));
    let mut time = Map::new();
    time.insert("created".into(), json!(rfc3339(package.created_at)));
    time.insert("modified".into(), json!(rfc3339(package.modified_at)));
    let mut readme = json!("");
    let mut versions = Map::new();
    for version in package.versions {
        let Version {
            version: name,
            mut metadata,
            created_at,
            ..
        } = version;
        let mut entry = match metadata.get_mut("manifest").map(Value::take) {
            Some(Value::Object(manifest)) => manifest,
            _ => Map::new(),
        };
        let file = metadata.get("file").and_then(Value::as_str);
        let dist = entry
            .entry("dist")
            .or_insert_with(|| json!({}))
            .as_object_mut();
        if let (Some(dist), Some(file)) = (dist, file) {
            dist.insert(
                "tarball".into(),
                json!(format!("{}{file}", package.tarball_base)),
            );
        }
        entry.insert("_id".into(), json!(format!("{}@{name}", package.name)));
        if latest.as_deref() == Some(name.as_str()) {
            for field in PACKAGE_FIELDS {
                if let Some(value) = entry.get(*field) {
                    full.insert(field.to_string(), value.clone());
                }
            }
            readme = metadata
                .get_mut("readme")
                .map(Value::take)
                .unwrap_or(readme);
        }
        time.insert(name.clone(), json!(rfc3339(created_at)));
        versions.insert(name, Value::Object(entry));
    }
    full.insert("dist-tags".into(), Value::Object(tags.clone()));
    full.insert("versions".into(), Value::Object(versions));
    full.insert("time".into(), Value::Object(time));
    full.insert("readme".into(), readme);
    let full_bytes = serde_json::to_vec(&full).expect("JSON");
    let short_versions: Map<String, Value> = match full.remove("versions") {
        Some(Value::Object(versions)) => versions
            .into_iter()
            .map(|(name, entry)| (name, Value::Object(abbreviated(entry))))
            .collect(),
        _ => Map::new(),
    };
    let short = json!({
        "name": package.name,
        "modified": rfc3339(package.modified_at),
        "dist-tags": tags,
        "versions": short_versions,
    });
    (full_bytes, serde_json::to_vec(&short).expect("JSON"))
}

/// A version's entry as the abbreviated document keeps it.
fn abbreviated(entry: Value) -> Map<String, Value> {
    let Value::Object(mut entry) = entry else {
        return Map::new();
    };
    let mut short: Map<String, Value> = ABBREVIATED_FIELDS
        .iter()
        .filter_map(|k| entry.remove(*k).map(|v| (k.to_string(), v)))
        .collect();
    if has_install_script(&entry) {
        short.insert("hasInstallScript".into(), json!(true));
    }
    short
}

/// npm's `hasInstallScript`: the package runs a script when installed.
fn has_install_script(manifest: &Map<String, Value>) -> bool {
    manifest
        .get("scripts")
        .and_then(Value::as_object)
        .is_some_and(|s| {
            ["preinstall", "install", "postinstall"]
                .iter()
                .any(|k| s.contains_key(*k))
        })
}

/// The stored tags, plus `latest` when none is stored (npm clients need one): the highest
/// release, else the highest version.
fn dist_tags(tags: &[(String, String)], versions: &[Version]) -> Map<String, Value> {
    let mut map: Map<String, Value> = tags
        .iter()
        .map(|(name, version)| (name.clone(), json!(version)))
        .collect();
    if !map.contains_key("latest")
        && let Some(latest) = highest(versions.iter().map(|v| v.version.as_str()))
    {
        map.insert("latest".into(), json!(latest));
    }
    map
}

/// The highest release among `versions`, else the highest prerelease.
pub fn highest<'a>(versions: impl Iterator<Item = &'a str> + Clone) -> Option<&'a str> {
    highest_version(versions.clone(), true).or_else(|| highest_version(versions, false))
}

/// A rendered document (full or abbreviated) with only the versions `keep` allows; tags on other
/// versions go, and `latest` moves to the highest kept version when its own is gone.
pub fn filter(document: &[u8], keep: impl Fn(&str) -> bool) -> Result<Bytes> {
    let mut doc: Map<String, Value> = serde_json::from_slice(document).map_err(Error::internal)?;
    let mut kept = Vec::new();
    if let Some(Value::Object(versions)) = doc.get_mut("versions") {
        versions.retain(|v, _| keep(v));
        kept = versions.keys().cloned().collect();
    }
    if let Some(Value::Object(time)) = doc.get_mut("time") {
        time.retain(|k, _| k == "created" || k == "modified" || kept.contains(k));
    }
    if let Some(Value::Object(tags)) = doc.get_mut("dist-tags") {
        tags.retain(|_, v| v.as_str().is_some_and(|v| kept.iter().any(|k| k == v)));
        if !tags.contains_key("latest")
            && let Some(latest) = highest(kept.iter().map(String::as_str))
        {
            tags.insert("latest".into(), json!(latest));
        }
    }
    Ok(Bytes::from(
        serde_json::to_vec(&doc).map_err(Error::internal)?,
    ))
}

/// One version's entry of a rendered full document, by version or tag.
pub fn version_entry(document: &[u8], version_or_tag: &str) -> Result<Option<Value>> {
    let mut doc: Map<String, Value> = serde_json::from_slice(document).map_err(Error::internal)?;
    let version = doc
        .get("dist-tags")
        .and_then(|t| t.get(version_or_tag))
        .and_then(Value::as_str)
        .unwrap_or(version_or_tag)
        .to_string();
    Ok(match doc.get_mut("versions") {
        Some(Value::Object(versions)) => versions.remove(&version),
        _ => None,
    })
}

/// Whether an `Accept` header prefers npm's abbreviated document: its media type is listed
/// with a quality at least that of every other type (npm and yarn send
/// `application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*`).
pub fn wants_abbreviated(accept: Option<&str>) -> bool {
    let Some(accept) = accept else { return false };
    let mut abbreviated = None;
    let mut best_other = 0.0f32;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if media == "application/vnd.npm.install-v1+json" {
            abbreviated = Some(quality);
        } else if media != "*/*" {
            best_other = best_other.max(quality);
        }
    }
    abbreviated.is_some_and(|q| q > 0.0 && q >= best_other)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(name: &str, at: i64, extra: Value) -> Version {
        let mut manifest = json!({"name": "@acme/greet", "version": name, "description": format!("v{name}"),
            "dependencies": {"left": "^1"}, "scripts": {"test": "x"}, "readme": format!("readme {name}")});
        manifest
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let dist = Dist::from_hex(&"a".repeat(40), &"00".repeat(64));
        Version {
            id: at,
            package_id: 1,
            version: name.to_string(),
            metadata: version_metadata(
                manifest.as_object().unwrap().clone(),
                &format!("greet-{name}.tgz"),
                dist,
            ),
            download_count: 0,
            created_at: at,
        }
    }

    fn rendered(tags: &[(String, String)]) -> (Value, Value) {
        let versions = [
            version("1.0.0", 100, json!({})),
            version(
                "1.1.0",
                200,
                json!({"scripts": {"postinstall": "x"}, "deprecated": "old"}),
            ),
            version("2.0.0-rc.1", 300, json!({})),
        ];
        let (full, short) = render(Package {
            name: "@acme/greet",
            created_at: 50,
            versions: versions.to_vec(),
            tags,
            tarball_base: "http://h/api/packages/o/npm/@acme/greet/-/",
            modified_at: 400,
        });
        (
            serde_json::from_slice(&full).unwrap(),
            serde_json::from_slice(&short).unwrap(),
        )
    }

    #[test]
    fn full_document() {
        let (full, _) = rendered(&[]);
        assert_eq!(full["name"], "@acme/greet");
        assert_eq!(full["dist-tags"], json!({"latest": "1.1.0"}));
        assert_eq!(full["description"], "v1.1.0");
        assert_eq!(full["readme"], "readme 1.1.0");
        let v = &full["versions"]["1.0.0"];
        assert_eq!(v["_id"], "@acme/greet@1.0.0");
        assert_eq!(
            v["dist"]["tarball"],
            "http://h/api/packages/o/npm/@acme/greet/-/greet-1.0.0.tgz"
        );
        assert_eq!(v["dist"]["shasum"], "a".repeat(40));
        assert!(
            v["dist"]["integrity"]
                .as_str()
                .unwrap()
                .starts_with("sha512-AAAA")
        );
        assert!(
            v.get("readme").is_none(),
            "readmes are not repeated per version"
        );
        assert_eq!(full["versions"]["1.1.0"]["deprecated"], "old");
        assert_eq!(full["time"]["created"], rfc3339(50));
        assert_eq!(full["time"]["modified"], rfc3339(400));
        assert_eq!(full["time"]["2.0.0-rc.1"], rfc3339(300));
    }

    #[test]
    fn abbreviated_document() {
        let tags = [
            ("latest".to_string(), "1.0.0".to_string()),
            ("next".into(), "2.0.0-rc.1".into()),
        ];
        let (_, short) = rendered(&tags);
        assert_eq!(
            short["dist-tags"],
            json!({"latest": "1.0.0", "next": "2.0.0-rc.1"})
        );
        assert_eq!(short["modified"], rfc3339(400));
        let v = &short["versions"]["1.1.0"];
        assert_eq!(v["dependencies"], json!({"left": "^1"}));
        assert_eq!(v["hasInstallScript"], true);
        assert_eq!(v["deprecated"], "old");
        assert!(v.get("scripts").is_none() && v.get("description").is_none());
        assert!(short["versions"]["1.0.0"].get("hasInstallScript").is_none());
        assert!(
            v["dist"]["tarball"]
                .as_str()
                .unwrap()
                .ends_with("/-/greet-1.1.0.tgz")
        );
    }

    #[test]
    fn filtering_keeps_granted_versions_and_moves_latest() {
        let tags = [
            ("latest".to_string(), "1.1.0".to_string()),
            ("next".into(), "2.0.0-rc.1".into()),
        ];
        let (full, _) = rendered(&tags);
        let body = serde_json::to_vec(&full).unwrap();
        let cut: Value = serde_json::from_slice(
            &filter(&body, |v| v.starts_with("1.0") || v.starts_with('2')).unwrap(),
        )
        .unwrap();
        let versions: Vec<&String> = cut["versions"].as_object().unwrap().keys().collect();
        assert_eq!(versions, ["1.0.0", "2.0.0-rc.1"]);
        assert_eq!(
            cut["dist-tags"],
            json!({"latest": "1.0.0", "next": "2.0.0-rc.1"})
        );
        assert!(cut["time"].get("1.1.0").is_none() && cut["time"].get("created").is_some());
        let none: Value = serde_json::from_slice(&filter(&body, |_| false).unwrap()).unwrap();
        assert_eq!(none["versions"], json!({}));
        assert_eq!(none["dist-tags"], json!({}));
    }

    #[test]
    fn versions_by_name_or_tag() {
        let (full, _) = rendered(&[("beta".to_string(), "2.0.0-rc.1".to_string())]);
        let body = serde_json::to_vec(&full).unwrap();
        let by_tag = version_entry(&body, "beta").unwrap().unwrap();
        assert_eq!(by_tag["version"], "2.0.0-rc.1");
        let latest = version_entry(&body, "latest").unwrap().unwrap();
        assert_eq!(latest["version"], "1.1.0");
        assert_eq!(
            version_entry(&body, "1.0.0").unwrap().unwrap()["version"],
            "1.0.0"
        );
        assert!(version_entry(&body, "9.9.9").unwrap().is_none());
    }

    #[test]
    fn accept_headers() {
        let npm = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";
        assert!(wants_abbreviated(Some(npm)));
        assert!(wants_abbreviated(Some(
            "application/vnd.npm.install-v1+json"
        )));
        assert!(wants_abbreviated(Some(
            "Application/Vnd.Npm.Install-V1+Json;q=0.5, */*"
        )));
        assert!(!wants_abbreviated(Some("application/json")));
        assert!(!wants_abbreviated(Some("*/*")));
        assert!(!wants_abbreviated(None));
        assert!(!wants_abbreviated(Some(
            "application/vnd.npm.install-v1+json; q=0.5, application/json"
        )));
        assert!(!wants_abbreviated(Some(
            "application/vnd.npm.install-v1+json;q=0"
        )));
    }

    #[test]
    fn highest_prefers_releases() {
        assert_eq!(
            highest(["1.0.0", "2.0.0-rc.1", "1.10.0"].into_iter()),
            Some("1.10.0")
        );
        assert_eq!(
            highest(["2.0.0-rc.1", "2.0.0-rc.2"].into_iter()),
            Some("2.0.0-rc.2")
        );
        assert_eq!(highest(["x"].into_iter()), None);
    }
}
