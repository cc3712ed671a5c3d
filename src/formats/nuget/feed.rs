//! The v3 documents (service index, registration index, pages and leaves, flat container
//! version list, search entries) built from a package's versions, and their cuts for a
//! customer's view. Built on write (`render`), served as stored. Pure.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::nuspec::Nuspec;
use super::version::NuGetVersion;
use crate::error::{Error, Result};

/// A registration index holds its versions inline up to this many; beyond, in pages of this
/// size, each a document of its own (what nuget.org does, so a huge package costs a client
/// one small index and the pages it needs).
pub const PAGE_SIZE: usize = 128;

/// Rendered document names.
pub const REGISTRATION: &str = "registration";
pub const FLAT_VERSIONS: &str = "versions";
pub const SEARCH: &str = "search";

pub fn page_document(n: usize) -> String {
    format!("registration-page-{n}")
}

/// A version's metadata as stored: its nuspec and what the feeds say of the .nupkg.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stored {
    #[serde(flatten)]
    pub spec: Nuspec,
    pub size: u64,
    /// Base64 SHA-512 of the .nupkg (v2's `PackageHash`).
    pub sha512: String,
}

/// One version as the documents show it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The stored (normalized) version.
    pub version: String,
    pub stored: Stored,
    /// Epoch seconds.
    pub published: i64,
    pub downloads: i64,
}

impl Entry {
    /// The version as URLs spell it: normalized, lower-case.
    pub fn lower(&self) -> String {
        self.version.to_lowercase()
    }
}

/// Sorts entries in NuGet's version order (unparsable ones, which no push stores, first).
pub fn sort(entries: &mut [Entry]) {
    entries.sort_by_cached_key(|e| NuGetVersion::parse(&e.version).ok());
}

/// The URLs of one owner's feed.
#[derive(Debug, Clone)]
pub struct Urls {
    /// `{BASE_URL}/api/packages/{owner}/nuget`
    pub base: String,
}

impl Urls {
    pub fn new(base_url: &str, owner: &str) -> Urls {
        Urls {
            base: format!("{base_url}/api/packages/{owner}/nuget"),
        }
    }
    pub fn registration(&self, id: &str) -> String {
        format!("{}/registration/{id}/index.json", self.base)
    }
    pub fn page(&self, id: &str, n: usize) -> String {
        format!("{}/registration/{id}/page/{n}.json", self.base)
    }
    pub fn leaf(&self, id: &str, version: &str) -> String {
        format!("{}/registration/{id}/{version}.json", self.base)
    }
    pub fn content(&self, id: &str, version: &str) -> String {
        format!("{}/package/{id}/{version}/{id}.{version}.nupkg", self.base)
    }
}

/// The service index: every resource type the clients look for, including the versioned
/// `RegistrationsBaseUrl` ones NuGet.exe 5.8 needs (without them it fails on a null base URL).
pub fn service_index(urls: &Urls) -> Value {
    let base = &urls.base;
    let mut resources = Vec::new();
    let mut add = |id: String, types: &[&str], comment: &str| {
        for t in types {
            resources.push(json!({"@id": id, "@type": t, "comment": comment}));
        }
    };
    add(
        format!("{base}/"),
        &["PackagePublish/2.0.0"],
        "Push and delete packages",
    );
    // NuGet.exe's `list` reads the v2 feed the gallery resource names.
    add(
        format!("{base}/"),
        &["LegacyGallery", "LegacyGallery/2.0.0"],
        "The v2 feed",
    );
    add(
        format!("{base}/symbolpackage"),
        &["SymbolPackagePublish/4.9.0"],
        "Push symbol packages",
    );
    add(
        format!("{base}/package"),
        &["PackageBaseAddress/3.0.0"],
        "Package contents (flat container)",
    );
    add(
        format!("{base}/registration"),
        &[
            "RegistrationsBaseUrl",
            "RegistrationsBaseUrl/3.0.0-rc",
            "RegistrationsBaseUrl/3.0.0-beta",
            "RegistrationsBaseUrl/3.4.0",
            "RegistrationsBaseUrl/3.6.0",
        ],
        "Package metadata",
    );
    add(
        format!("{base}/query"),
        &[
            "SearchQueryService",
            "SearchQueryService/3.0.0-rc",
            "SearchQueryService/3.0.0-beta",
            "SearchQueryService/3.5.0",
        ],
        "Search",
    );
    json!({"version": "3.0.0", "resources": resources})
}

fn tags(spec: &Nuspec) -> Vec<&str> {
    spec.tags.split_whitespace().collect()
}

fn catalog_entry(urls: &Urls, id: &str, entry: &Entry) -> Value {
    let spec = &entry.stored.spec;
    let v = entry.lower();
    let groups: Vec<Value> = spec
        .dependency_groups
        .iter()
        .map(|g| {
            let deps: Vec<Value> = g
                .dependencies
                .iter()
                .map(|d| {
                    json!({
                        "@type": "PackageDependency",
                        "id": d.id,
                        "range": if d.range.is_empty() { "(, )" } else { d.range.as_str() },
                        "registration": urls.registration(&d.id.to_lowercase()),
                    })
                })
                .collect();
            let mut group = json!({"@type": "PackageDependencyGroup", "dependencies": deps});
            if !g.target_framework.is_empty() {
                group["targetFramework"] = json!(g.target_framework);
            }
            group
        })
        .collect();
    let license_expression = match spec.license_type.as_str() {
        "expression" => spec.license.as_str(),
        _ => "",
    };
    json!({
        "@id": urls.leaf(id, &v),
        "@type": "PackageDetails",
        "id": spec.id,
        "version": spec.full_version,
        "authors": spec.authors,
        "description": spec.description,
        "summary": spec.summary,
        "title": spec.title,
        "releaseNotes": spec.release_notes,
        "projectUrl": spec.project_url,
        "licenseUrl": spec.license_url,
        "licenseExpression": license_expression,
        "iconUrl": spec.icon_url,
        "language": spec.language,
        "requireLicenseAcceptance": spec.require_license_acceptance,
        "tags": tags(spec),
        "dependencyGroups": groups,
        "listed": true,
        "published": crate::clock::rfc3339(entry.published),
        "packageContent": urls.content(id, &v),
    })
}

fn leaf_item(urls: &Urls, id: &str, entry: &Entry) -> Value {
    json!({
        "@id": urls.leaf(id, &entry.lower()),
        "@type": "Package",
        "catalogEntry": catalog_entry(urls, id, entry),
        "packageContent": urls.content(id, &entry.lower()),
        "registration": urls.registration(id),
    })
}

fn page(urls: &Urls, id: &str, at: &str, entries: &[Entry], inline: bool) -> Value {
    let mut page = json!({
        "@id": at,
        "@type": "catalog:CatalogPage",
        "count": entries.len(),
        "lower": entries.first().map(|e| e.stored.spec.full_version.as_str()),
        "upper": entries.last().map(|e| e.stored.spec.full_version.as_str()),
        "parent": urls.registration(id),
    });
    if inline {
        page["items"] = entries.iter().map(|e| leaf_item(urls, id, e)).collect();
    }
    page
}

/// What a page's content follows from: its URL and, per version, the version, when it was
/// published and the package's hash (a version pushed again after a delete differs in both).
/// Kept in the index's page summary, so a render rebuilds only the pages whose versions changed.
fn fingerprint(at: &str, chunk: &[Entry]) -> String {
    let mut text = String::from(at);
    for e in chunk {
        text.push_str(&format!(
            "\0{}\0{}\0{}",
            e.version, e.published, e.stored.sha512
        ));
    }
    crate::blobs::digest::sha256_hex(text.as_bytes())
}

/// The registration index and, when the versions do not fit inline, the pages that need
/// rendering, by number: those `unchanged(n, fingerprint)` does not call unchanged (`entries`
/// sorted).
pub fn registration(
    urls: &Urls,
    id: &str,
    entries: &[Entry],
    unchanged: &dyn Fn(usize, &str) -> bool,
) -> (Value, Vec<(usize, Value)>) {
    let index_url = urls.registration(id);
    let inline = entries.len() <= PAGE_SIZE;
    let mut pages = Vec::new();
    let mut summaries = Vec::new();
    for (n, chunk) in entries.chunks(PAGE_SIZE).enumerate() {
        if inline {
            summaries.push(page(
                urls,
                id,
                &format!("{index_url}#page/{n}"),
                chunk,
                true,
            ));
        } else {
            let at = urls.page(id, n);
            let print = fingerprint(&at, chunk);
            let mut summary = page(urls, id, &at, chunk, false);
            summary["fingerprint"] = json!(print);
            summaries.push(summary);
            if !unchanged(n, &print) {
                pages.push((n, page(urls, id, &at, chunk, true)));
            }
        }
    }
    let index = json!({
        "@id": index_url,
        "@type": ["catalog:CatalogRoot", "PackageRegistration", "catalog:Permalink"],
        "count": summaries.len(),
        "items": summaries,
    });
    (index, pages)
}

/// The fingerprints of a stored registration index's pages, by number (none when inline).
pub fn fingerprints(index: &[u8]) -> Vec<Option<String>> {
    let index: Value = serde_json::from_slice(index).unwrap_or_default();
    index["items"]
        .as_array()
        .map(|pages| {
            pages
                .iter()
                .map(|p| p["fingerprint"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A registration leaf, built from one version when asked (one row, whatever the count).
pub fn leaf(urls: &Urls, id: &str, entry: &Entry) -> Value {
    json!({
        "@id": urls.leaf(id, &entry.lower()),
        "@type": ["Package", "http://schema.nuget.org/catalog#Permalink"],
        "catalogEntry": urls.leaf(id, &entry.lower()),
        "listed": true,
        "packageContent": urls.content(id, &entry.lower()),
        "published": crate::clock::rfc3339(entry.published),
        "registration": urls.registration(id),
    })
}

/// The flat container's version list: lower-case, in version order.
pub fn flat_versions(entries: &[Entry]) -> Value {
    json!({"versions": entries.iter().map(Entry::lower).collect::<Vec<_>>()})
}

/// What search shows of a package: the newest version's facts and every version, with the
/// flags `query` filters by.
pub fn search_entry(urls: &Urls, id: &str, entries: &[Entry]) -> Value {
    let newest = entries.last().map(|e| &e.stored.spec);
    let versions: Vec<Value> = entries
        .iter()
        .map(|e| {
            let parsed = NuGetVersion::parse(&e.version).ok();
            json!({
                "version": e.stored.spec.full_version,
                "downloads": e.downloads,
                "@id": urls.leaf(id, &e.lower()),
                "prerelease": parsed.as_ref().is_some_and(NuGetVersion::is_prerelease),
                "semver2": parsed.as_ref().is_some_and(NuGetVersion::is_semver2),
            })
        })
        .collect();
    json!({
        "@id": urls.registration(id),
        "@type": "Package",
        "registration": urls.registration(id),
        "id": newest.map(|s| s.id.as_str()).unwrap_or(id),
        "description": newest.map(|s| s.description.as_str()),
        "summary": newest.map(|s| s.summary.as_str()),
        "title": newest.map(|s| s.title.as_str()),
        "authors": newest.map(|s| vec![s.authors.as_str()]),
        "tags": newest.map(tags),
        "iconUrl": newest.map(|s| s.icon_url.as_str()),
        "projectUrl": newest.map(|s| s.project_url.as_str()),
        "totalDownloads": entries.iter().map(|e| e.downloads).sum::<i64>(),
        "verified": false,
        "versions": versions,
    })
}

/// One search result from a package's search entry, with only the versions the query asks
/// for; `None` when none is left.
pub fn search_result(entry: &Value, prerelease: bool, semver2: bool) -> Option<Value> {
    let mut result = entry.clone();
    let versions: Vec<Value> = entry["versions"]
        .as_array()?
        .iter()
        .filter(|v| prerelease || v["prerelease"] != json!(true))
        .filter(|v| semver2 || v["semver2"] != json!(true))
        .map(|v| json!({"version": v["version"], "downloads": v["downloads"], "@id": v["@id"]}))
        .collect();
    let latest = versions.last()?["version"].clone();
    result["version"] = latest;
    result["versions"] = Value::Array(versions);
    Some(result)
}

/// Cuts a stored document to the versions a predicate allows (a customer's view).
pub type Cut = fn(&[u8], &dyn Fn(&str) -> bool) -> Result<Bytes>;

/// The stored version a document's version (full, with metadata) names.
fn stored_version(full: &str) -> &str {
    full.split('+').next().unwrap_or(full)
}

fn reserialize(value: &Value) -> Result<Bytes> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(Error::internal)
}

fn keep_items(page: &mut Value, allows: &dyn Fn(&str) -> bool) {
    if let Some(items) = page["items"].as_array_mut() {
        items.retain(|item| {
            item["catalogEntry"]["version"]
                .as_str()
                .is_some_and(|v| allows(stored_version(v)))
        });
        let count = items.len();
        let bound = |i: Option<&Value>| i.map(|i| i["catalogEntry"]["version"].clone());
        let (lower, upper) = (bound(items.first()), bound(items.last()));
        page["count"] = json!(count);
        page["lower"] = lower.unwrap_or(Value::Null);
        page["upper"] = upper.unwrap_or(Value::Null);
    }
}

/// A registration index or page cut to the versions `allows` lets through (a paged index's
/// summaries stay: its pages are cut when read).
pub fn cut_registration(body: &[u8], allows: &dyn Fn(&str) -> bool) -> Result<Bytes> {
    let mut doc: Value = serde_json::from_slice(body).map_err(Error::internal)?;
    if doc["items"].is_array() && doc["@type"] == "catalog:CatalogPage" {
        keep_items(&mut doc, allows);
    } else if let Some(pages) = doc["items"].as_array_mut() {
        pages.iter_mut().for_each(|p| keep_items(p, allows));
    }
    reserialize(&doc)
}

pub fn cut_flat_versions(body: &[u8], allows: &dyn Fn(&str) -> bool) -> Result<Bytes> {
    let mut doc: Value = serde_json::from_slice(body).map_err(Error::internal)?;
    if let Some(versions) = doc["versions"].as_array_mut() {
        versions.retain(|v| v.as_str().is_some_and(allows));
    }
    reserialize(&doc)
}

pub fn cut_search(body: &[u8], allows: &dyn Fn(&str) -> bool) -> Result<Bytes> {
    let mut doc: Value = serde_json::from_slice(body).map_err(Error::internal)?;
    if let Some(versions) = doc["versions"].as_array_mut() {
        versions.retain(|v| {
            v["version"]
                .as_str()
                .is_some_and(|v| allows(stored_version(v)))
        });
    }
    reserialize(&doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(version: &str) -> Entry {
        let parsed = NuGetVersion::parse(version).unwrap();
        Entry {
            version: parsed.normalized(),
            stored: Stored {
                spec: Nuspec {
                    id: "Acme.Greet".into(),
                    version: parsed.normalized(),
                    full_version: parsed.full(),
                    description: format!("at {version}"),
                    ..Nuspec::default()
                },
                size: 10,
                sha512: String::new(),
            },
            published: 0,
            downloads: 1,
        }
    }

    fn urls() -> Urls {
        Urls::new("http://h", "acme")
    }

    #[test]
    fn service_index_names_every_resource_type() {
        let index = service_index(&urls());
        let types: Vec<&str> = index["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["@type"].as_str().unwrap())
            .collect();
        for wanted in [
            "PackagePublish/2.0.0",
            "PackageBaseAddress/3.0.0",
            "RegistrationsBaseUrl/3.0.0-rc",
            "RegistrationsBaseUrl/3.0.0-beta",
            "RegistrationsBaseUrl/3.4.0",
            "RegistrationsBaseUrl/3.6.0",
            "SearchQueryService/3.0.0-beta",
            "SymbolPackagePublish/4.9.0",
        ] {
            assert!(types.contains(&wanted), "{wanted}");
        }
    }

    #[test]
    fn small_packages_are_inline_large_ones_paged() {
        let mut entries: Vec<Entry> = ["2.0", "1.0-beta", "1.0", "10.0"]
            .iter()
            .map(|v| entry(v))
            .collect();
        sort(&mut entries);
        let order: Vec<&str> = entries.iter().map(|e| e.version.as_str()).collect();
        assert_eq!(order, ["1.0.0-beta", "1.0.0", "2.0.0", "10.0.0"]);
        let (index, pages) = registration(&urls(), "acme.greet", &entries, &|_, _| false);
        assert!(pages.is_empty());
        assert_eq!(index["count"], 1);
        assert_eq!(index["items"][0]["count"], 4);
        assert_eq!(index["items"][0]["lower"], "1.0.0-beta");
        assert_eq!(index["items"][0]["upper"], "10.0.0");
        let item = &index["items"][0]["items"][1];
        assert_eq!(item["catalogEntry"]["version"], "1.0.0");
        assert_eq!(
            item["packageContent"],
            "http://h/api/packages/acme/nuget/package/acme.greet/1.0.0/acme.greet.1.0.0.nupkg"
        );

        let many: Vec<Entry> = (0..300).map(|i| entry(&format!("1.0.{i}"))).collect();
        let (index, pages) = registration(&urls(), "acme.greet", &many, &|_, _| false);
        assert_eq!(pages.len(), 3);
        assert_eq!(index["count"], 3);
        assert!(index["items"][0].get("items").is_none(), "summaries only");
        assert_eq!(index["items"][2]["count"], 300 - 2 * PAGE_SIZE);
        assert_eq!(
            index["items"][1]["@id"],
            "http://h/api/packages/acme/nuget/registration/acme.greet/page/1.json"
        );
        assert_eq!(pages[1].0, 1);
        assert_eq!(pages[1].1["items"].as_array().unwrap().len(), PAGE_SIZE);
        assert_eq!(pages[1].1["lower"], "1.0.128");

        // A render rebuilds only the pages whose versions changed: here the last one.
        let stored = fingerprints(index.to_string().as_bytes());
        let mut more = many.clone();
        more.push(entry("1.0.300"));
        let (_, pages) = registration(&urls(), "acme.greet", &more, &|n, print| {
            stored.get(n).and_then(Option::as_deref) == Some(print)
        });
        let rebuilt: Vec<usize> = pages.iter().map(|(n, _)| *n).collect();
        assert_eq!(rebuilt, [2]);
    }

    #[test]
    fn cuts_keep_only_allowed_versions() {
        let entries: Vec<Entry> = ["1.0", "2.0", "3.0"].iter().map(|v| entry(v)).collect();
        let allows = |v: &str| v != "2.0.0";
        let (index, _) = registration(&urls(), "acme.greet", &entries, &|_, _| false);
        let cut: Value = serde_json::from_slice(
            &cut_registration(index.to_string().as_bytes(), &allows).unwrap(),
        )
        .unwrap();
        assert_eq!(cut["items"][0]["count"], 2);
        let flat = flat_versions(&entries).to_string();
        let cut: Value =
            serde_json::from_slice(&cut_flat_versions(flat.as_bytes(), &allows).unwrap()).unwrap();
        assert_eq!(cut["versions"], json!(["1.0.0", "3.0.0"]));
        let search = search_entry(&urls(), "acme.greet", &entries).to_string();
        let cut: Value =
            serde_json::from_slice(&cut_search(search.as_bytes(), &allows).unwrap()).unwrap();
        assert_eq!(cut["versions"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn search_results_follow_prerelease_and_semver_level() {
        let entries: Vec<Entry> = ["1.0", "2.0-beta", "2.0-rc.1"]
            .iter()
            .map(|v| entry(v))
            .collect();
        let doc = search_entry(&urls(), "acme.greet", &entries);
        assert_eq!(
            search_result(&doc, false, true).unwrap()["version"],
            "1.0.0"
        );
        assert_eq!(
            search_result(&doc, true, false).unwrap()["version"],
            "2.0.0-beta"
        );
        assert_eq!(
            search_result(&doc, true, true).unwrap()["version"],
            "2.0.0-rc.1"
        );
        let only_pre: Vec<Entry> = vec![entry("1.0-beta")];
        let doc = search_entry(&urls(), "acme.greet", &only_pre);
        assert!(search_result(&doc, false, true).is_none());
    }
}
