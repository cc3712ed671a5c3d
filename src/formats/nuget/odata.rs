//! The v2 OData feed older clients read (Debian's nuget 2.8, Visual Studio 2013-era tools): the
//! service document, `$metadata`, `Packages()`, `Search()`, `FindPackagesById()` (and their
//! `$count`), one entry `Packages(Id='…',Version='…')`. Atom XML, with text escaped by
//! quick-xml. The query options the clients send are read (`$filter` in the shapes they use,
//! `$skip`, `$top`, `searchTerm`, `includePrerelease`, `id`); anything else in `$filter` is a
//! 400 rather than a silently wrong answer.

use std::collections::HashMap;
use std::fmt::Write;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use quick_xml::escape::escape;

use super::feed::Entry;
use super::read::{matching_ids, registry_id, view};
use super::route::V2Function;
use super::rules::highest;
use super::version::NuGetVersion;
use super::{Call, FORMAT};
use crate::customers::View;
use crate::error::{Error, Result};

const ATOM: &str = "http://www.w3.org/2005/Atom";
const DATA: &str = "http://schemas.microsoft.com/ado/2007/08/dataservices";
const METADATA: &str = "http://schemas.microsoft.com/ado/2007/08/dataservices/metadata";

/// The most entries one feed page holds (a client pages with `$skip`).
const MAX_TOP: usize = 100;

fn xml(body: String, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn base(call: &Call) -> String {
    format!("{}/", call.urls().base)
}

/// `GET /`: the service document naming the `Packages` collection.
pub(super) async fn service(call: &Call) -> Result<Response> {
    view(call).await?;
    let body = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><service xml:base="{}" xmlns="http://www.w3.org/2007/app" xmlns:atom="{ATOM}"><workspace><atom:title type="text">Default</atom:title><collection href="Packages"><atom:title type="text">Packages</atom:title></collection></workspace></service>"#,
        escape(base(call))
    );
    Ok(xml(body, "application/atomsvc+xml;charset=utf-8"))
}

/// The entity's properties: (name, EDM type).
const PROPERTIES: &[(&str, &str)] = &[
    ("Id", "Edm.String"),
    ("Version", "Edm.String"),
    ("NormalizedVersion", "Edm.String"),
    ("Title", "Edm.String"),
    ("Authors", "Edm.String"),
    ("Owners", "Edm.String"),
    ("Description", "Edm.String"),
    ("Summary", "Edm.String"),
    ("ReleaseNotes", "Edm.String"),
    ("Copyright", "Edm.String"),
    ("Language", "Edm.String"),
    ("Tags", "Edm.String"),
    ("Dependencies", "Edm.String"),
    ("ProjectUrl", "Edm.String"),
    ("LicenseUrl", "Edm.String"),
    ("IconUrl", "Edm.String"),
    ("RequireLicenseAcceptance", "Edm.Boolean"),
    ("IsLatestVersion", "Edm.Boolean"),
    ("IsAbsoluteLatestVersion", "Edm.Boolean"),
    ("IsPrerelease", "Edm.Boolean"),
    ("Listed", "Edm.Boolean"),
    ("Created", "Edm.DateTime"),
    ("Published", "Edm.DateTime"),
    ("LastUpdated", "Edm.DateTime"),
    ("DownloadCount", "Edm.Int32"),
    ("VersionDownloadCount", "Edm.Int32"),
    ("PackageSize", "Edm.Int64"),
    ("PackageHash", "Edm.String"),
    ("PackageHashAlgorithm", "Edm.String"),
];

/// `GET /$metadata`: the EDMX schema of the feed.
pub(super) async fn metadata(call: &Call) -> Result<Response> {
    view(call).await?;
    let mut properties = String::new();
    for (name, kind) in PROPERTIES {
        let nullable = !matches!(*name, "Id" | "Version") && !kind.starts_with("Edm.Boolean");
        write!(
            properties,
            r#"<Property Name="{name}" Type="{kind}" Nullable="{nullable}"/>"#
        )
        .expect("a String takes writes");
    }
    let function = |name: &str, parameters: &[(&str, &str)]| {
        let mut text = format!(
            r#"<FunctionImport Name="{name}" ReturnType="Collection(NuGetGallery.V2FeedPackage)" EntitySet="Packages" m:HttpMethod="GET">"#
        );
        for (parameter, kind) in parameters {
            write!(text, r#"<Parameter Name="{parameter}" Type="{kind}" FixedLength="false" Unicode="false"/>"#)
                .expect("a String takes writes");
        }
        text.push_str("</FunctionImport>");
        text
    };
    let body = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><edmx:Edmx Version="1.0" xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx"><edmx:DataServices m:DataServiceVersion="2.0" m:MaxDataServiceVersion="2.0" xmlns:m="{METADATA}"><Schema Namespace="NuGetGallery" xmlns="http://schemas.microsoft.com/ado/2006/04/edm"><EntityType Name="V2FeedPackage" m:HasStream="true"><Key><PropertyRef Name="Id"/><PropertyRef Name="Version"/></Key>{properties}</EntityType><EntityContainer Name="V2FeedContext" m:IsDefaultEntityContainer="true"><EntitySet Name="Packages" EntityType="NuGetGallery.V2FeedPackage"/>{}{}</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>"#,
        function(
            "Search",
            &[
                ("searchTerm", "Edm.String"),
                ("targetFramework", "Edm.String"),
                ("includePrerelease", "Edm.Boolean")
            ]
        ),
        function("FindPackagesById", &[("id", "Edm.String")]),
    );
    Ok(xml(body, "application/xml;charset=utf-8"))
}

/// What `$filter` may say, in the shapes NuGet 2.x sends.
#[derive(Debug, Default, PartialEq)]
struct Filter {
    latest: bool,
    absolute_latest: bool,
    id: Option<String>,
}

/// Reads `$filter`: terms joined by `and`, each `IsLatestVersion`, `IsAbsoluteLatestVersion`,
/// `Id eq '…'` or `tolower(Id) eq '…'`, parenthesized or not. Pure.
fn parse_filter(text: &str) -> Result<Filter> {
    let mut filter = Filter::default();
    let unsupported = || Error::invalid(format!("$filter {text:?} is not supported"));
    for term in text.split(" and ") {
        let term = term
            .trim()
            .trim_start_matches('(')
            .trim_end_matches(')')
            .trim();
        match term {
            "" => {}
            "IsLatestVersion" => filter.latest = true,
            "IsAbsoluteLatestVersion" => filter.absolute_latest = true,
            _ => {
                let (field, value) = term.split_once(" eq ").ok_or_else(unsupported)?;
                if !matches!(field.trim(), "Id" | "tolower(Id)") {
                    return Err(unsupported());
                }
                filter.id = Some(unquote(value.trim()));
            }
        }
    }
    Ok(filter)
}

/// `'text'` → `text` (OData doubles a quote inside).
fn unquote(value: &str) -> String {
    value
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .unwrap_or(value)
        .replace("''", "'")
}

fn query_options(call: &Call) -> HashMap<String, String> {
    axum::extract::Query::<HashMap<String, String>>::try_from_uri(&call.uri)
        .map(|q| q.0)
        .unwrap_or_default()
}

/// One row of a feed: a version with the flags its package's other versions decide.
struct Row {
    entry: Entry,
    latest: bool,
    absolute_latest: bool,
}

/// The rows of one package the caller sees, by version.
async fn rows(call: &Call, view: &View, id: &str) -> Result<Vec<Row>> {
    if !view.allows_package(id) {
        return Ok(Vec::new());
    }
    let Ok(package) = call
        .state
        .registry
        .find_package(&call.owner, FORMAT, id)
        .await
    else {
        return Ok(Vec::new());
    };
    let mut entries = call
        .state
        .registry
        .versions(package.id)
        .await?
        .iter()
        .filter(|v| view.allows_version(id, &v.version))
        .map(super::render::entry)
        .collect::<Result<Vec<_>>>()?;
    super::feed::sort(&mut entries);
    let latest = highest(entries.iter().map(|e| e.version.as_str()), true).map(str::to_string);
    let absolute = highest(entries.iter().map(|e| e.version.as_str()), false).map(str::to_string);
    Ok(entries
        .into_iter()
        .map(|entry| Row {
            latest: latest.as_deref() == Some(entry.version.as_str()),
            absolute_latest: absolute.as_deref() == Some(entry.version.as_str()),
            entry,
        })
        .collect())
}

/// `GET Packages()`, `Search()`, `FindPackagesById()` and their `$count`.
pub(super) async fn feed(call: &Call, function: V2Function, count: bool) -> Result<Response> {
    let view = view(call).await?;
    let options = query_options(call);
    let option = |name: &str| options.get(name).map(|v| unquote(v.trim()));
    let filter = parse_filter(&option("$filter").unwrap_or_default())?;
    let include_prerelease = function != V2Function::Search
        || option("includePrerelease").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let ids: Vec<String> = match function {
        V2Function::FindPackagesById => {
            let id = option("id").ok_or_else(|| Error::invalid("FindPackagesById needs id"))?;
            registry_id(&id).map(|id| vec![id]).unwrap_or_default()
        }
        _ => {
            let term = option("searchTerm").unwrap_or_default();
            let mut ids = matching_ids(call, &view, &term).await?;
            if let Some(id) = &filter.id {
                ids.retain(|candidate| candidate.eq_ignore_ascii_case(id));
            }
            ids
        }
    };
    let skip: usize = option("$skip").and_then(|v| v.parse().ok()).unwrap_or(0);
    let top: usize = option("$top")
        .and_then(|v| v.parse().ok())
        .unwrap_or(MAX_TOP)
        .min(MAX_TOP);
    // Rows are found package by package, in id order, until the page is full (and, for
    // `$count`, to the end).
    let mut found = 0usize;
    let mut page = Vec::new();
    for id in &ids {
        for row in rows(call, &view, id).await? {
            let prerelease =
                NuGetVersion::parse(&row.entry.version).is_ok_and(|v| v.is_prerelease());
            if (filter.latest && !row.latest)
                || (filter.absolute_latest && !row.absolute_latest)
                || (prerelease && !include_prerelease)
            {
                continue;
            }
            if found >= skip && page.len() < top {
                page.push(row);
            }
            found += 1;
        }
        if !count && page.len() >= top {
            break;
        }
    }
    if count {
        return Ok(xml(found.to_string(), "text/plain;charset=utf-8"));
    }
    let base = base(call);
    let mut body = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><feed xml:base="{}" xmlns="{ATOM}" xmlns:d="{DATA}" xmlns:m="{METADATA}"><id>{}</id><title type="text">Packages</title><updated>{}</updated><link rel="self" title="Packages" href="Packages"/>"#,
        escape(&base),
        escape(format!("{base}Packages")),
        crate::clock::rfc3339(crate::clock::now()),
    );
    for row in &page {
        body.push_str(&entry_xml(&base, row, false));
    }
    body.push_str("</feed>");
    Ok(xml(body, "application/atom+xml;type=feed;charset=utf-8"))
}

/// `GET Packages(Id='…',Version='…')`: one entry.
pub(super) async fn entry(call: &Call, id: &str, version: &str) -> Result<Response> {
    let view = view(call).await?;
    let missing = || Error::not_found(format!("package {id} {version} not found"));
    let registry_id = registry_id(id).map_err(|_| missing())?;
    let wanted = NuGetVersion::parse(version).map_err(|_| missing())?;
    let row = rows(call, &view, &registry_id)
        .await?
        .into_iter()
        .find(|row| NuGetVersion::parse(&row.entry.version).is_ok_and(|v| v == wanted))
        .ok_or_else(missing)?;
    let body = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>{}"#,
        entry_xml(&base(call), &row, true)
    );
    Ok(xml(body, "application/atom+xml;type=entry;charset=utf-8"))
}

/// v2's dependency list: `id:range:framework` joined by `|` (an empty group keeps its
/// framework with `::framework`).
fn dependencies(entry: &Entry) -> String {
    let mut parts = Vec::new();
    for group in &entry.stored.spec.dependency_groups {
        if group.dependencies.is_empty() {
            parts.push(format!("::{}", group.target_framework));
        }
        for d in &group.dependencies {
            parts.push(format!("{}:{}:{}", d.id, d.range, group.target_framework));
        }
    }
    parts.join("|")
}

fn entry_xml(base: &str, row: &Row, standalone: bool) -> String {
    let entry = &row.entry;
    let spec = &entry.stored.spec;
    let lower_id = spec.id.to_lowercase();
    let self_link = format!("Packages(Id='{}',Version='{}')", spec.id, entry.version);
    let download = format!("{base}package/{lower_id}/{}", entry.lower());
    let published = crate::clock::rfc3339(entry.published);
    let namespaces = if standalone {
        format!(
            r#" xml:base="{}" xmlns="{ATOM}" xmlns:d="{DATA}" xmlns:m="{METADATA}""#,
            escape(base)
        )
    } else {
        String::new()
    };
    let text = |name: &str, value: &str| format!("<d:{name}>{}</d:{name}>", escape(value));
    let typed = |name: &str, kind: &str, value: &str| {
        format!(r#"<d:{name} m:type="{kind}">{value}</d:{name}>"#)
    };
    let prerelease = NuGetVersion::parse(&entry.version).is_ok_and(|v| v.is_prerelease());
    let properties = [
        text("Id", &spec.id),
        text("Version", &entry.version),
        text("NormalizedVersion", &entry.version),
        text(
            "Title",
            if spec.title.is_empty() {
                &spec.id
            } else {
                &spec.title
            },
        ),
        text("Authors", &spec.authors),
        text("Owners", &spec.owners),
        text("Description", &spec.description),
        text("Summary", &spec.summary),
        text("ReleaseNotes", &spec.release_notes),
        text("Copyright", &spec.copyright),
        text("Language", &spec.language),
        text("Tags", &spec.tags),
        text("Dependencies", &dependencies(entry)),
        text("ProjectUrl", &spec.project_url),
        text("LicenseUrl", &spec.license_url),
        text("IconUrl", &spec.icon_url),
        typed(
            "RequireLicenseAcceptance",
            "Edm.Boolean",
            &spec.require_license_acceptance.to_string(),
        ),
        typed("IsLatestVersion", "Edm.Boolean", &row.latest.to_string()),
        typed(
            "IsAbsoluteLatestVersion",
            "Edm.Boolean",
            &row.absolute_latest.to_string(),
        ),
        typed("IsPrerelease", "Edm.Boolean", &prerelease.to_string()),
        typed("Listed", "Edm.Boolean", "true"),
        typed("Created", "Edm.DateTime", &published),
        typed("Published", "Edm.DateTime", &published),
        typed("LastUpdated", "Edm.DateTime", &published),
        typed("DownloadCount", "Edm.Int32", &entry.downloads.to_string()),
        typed(
            "VersionDownloadCount",
            "Edm.Int32",
            &entry.downloads.to_string(),
        ),
        typed("PackageSize", "Edm.Int64", &entry.stored.size.to_string()),
        text("PackageHash", &entry.stored.sha512),
        text("PackageHashAlgorithm", "SHA512"),
    ]
    .concat();
    format!(
        r#"<entry{namespaces}><id>{id}</id><category term="NuGetGallery.V2FeedPackage" scheme="http://schemas.microsoft.com/ado/2007/08/dataservices/scheme"/><link rel="edit" title="V2FeedPackage" href="{link}"/><link rel="self" title="V2FeedPackage" href="{link}"/><title type="text">{title}</title><summary type="text">{summary}</summary><updated>{published}</updated><author><name>{authors}</name></author><content type="application/zip" src="{download}"/><m:properties>{properties}</m:properties></entry>"#,
        id = escape(format!("{base}{self_link}")),
        link = escape(&self_link),
        title = escape(&spec.id),
        summary = escape(&spec.summary),
        authors = escape(&spec.authors),
        download = escape(&download),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_nuget_2_sends() {
        assert_eq!(
            parse_filter("IsLatestVersion").unwrap(),
            Filter {
                latest: true,
                ..Filter::default()
            }
        );
        assert_eq!(
            parse_filter("(tolower(Id) eq 'acme.greet') and IsAbsoluteLatestVersion").unwrap(),
            Filter {
                absolute_latest: true,
                id: Some("acme.greet".into()),
                ..Filter::default()
            }
        );
        assert_eq!(
            parse_filter("Id eq 'O''Neil'").unwrap().id.as_deref(),
            Some("O'Neil")
        );
        assert_eq!(parse_filter("").unwrap(), Filter::default());
        for bad in [
            "Downloads gt 5",
            "IsLatestVersion or IsPrerelease",
            "substringof('a',Id)",
        ] {
            assert!(parse_filter(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dependency_strings() {
        use super::super::feed::Stored;
        use super::super::nuspec::{Dependency, DependencyGroup, Nuspec};
        let entry = Entry {
            version: "1.0.0".into(),
            stored: Stored {
                spec: Nuspec {
                    dependency_groups: vec![
                        DependencyGroup {
                            target_framework: "net45".into(),
                            dependencies: vec![
                                Dependency {
                                    id: "A".into(),
                                    range: "[1.0,2.0)".into(),
                                },
                                Dependency {
                                    id: "B".into(),
                                    range: "1.0".into(),
                                },
                            ],
                        },
                        DependencyGroup {
                            target_framework: "net6.0".into(),
                            dependencies: vec![],
                        },
                    ],
                    ..Nuspec::default()
                },
                size: 0,
                sha512: String::new(),
            },
            published: 0,
            downloads: 0,
        };
        assert_eq!(
            dependencies(&entry),
            "A:[1.0,2.0):net45|B:1.0:net45|::net6.0"
        );
    }
}
