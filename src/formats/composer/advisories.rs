//! Packagist's security advisories API, which `composer audit` (and `composer update`'s check)
//! asks once `packages.json` announces its `api-url`: `GET|POST /api/security-advisories/` with
//! `packages[]=vendor/name` (query or form; Composer posts `packages[0]=…`) and optional
//! `updatedSince` (Unix seconds), `GET /api/security-advisories/{vendor}/{package}.json` and
//! `GET /security-advisories.json` (every advisory the caller may see). All answer
//! `{"advisories": {"vendor/name": [advisory…]}}` in the fields Composer 2.5 reads.
//!
//! A caller sees advisories of the packages it may read: everything when it reads the owner
//! whole, a customer only those of its granted packages.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use serde_json::{Value, json};

use super::ecosystem::{PACKAGIST, affected_versions};
use crate::advisories::Advisory;
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::model::advisories;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/security-advisories/",
            get(query_advisories).post(form_advisories),
        )
        .route("/api/security-advisories/{vendor}/{file}", get(one_package))
        .route("/security-advisories.json", get(every_advisory))
}

async fn query_advisories(
    State(state): State<AppState>,
    principal: Principal,
    RawQuery(query): RawQuery,
) -> Result<Response> {
    let request = Request::parse(query.as_deref().unwrap_or(""))?;
    answer(&state, &principal, request).await
}

/// Composer's own call: a form body, with any query parameters added to it.
async fn form_advisories(
    State(state): State<AppState>,
    principal: Principal,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response> {
    let form =
        std::str::from_utf8(&body).map_err(|_| Error::invalid("the form body is not UTF-8"))?;
    let both = [query.as_deref().unwrap_or(""), form].join("&");
    answer(&state, &principal, Request::parse(&both)?).await
}

async fn one_package(
    State(state): State<AppState>,
    principal: Principal,
    Path((vendor, file)): Path<(String, String)>,
) -> Result<Response> {
    let project = file
        .strip_suffix(".json")
        .ok_or_else(|| Error::not_found(format!("{file} not found")))?;
    let request = Request {
        packages: Some(vec![format!("{vendor}/{project}").to_lowercase()]),
        updated_since: None,
    };
    answer(&state, &principal, request).await
}

async fn every_advisory(State(state): State<AppState>, principal: Principal) -> Result<Response> {
    let request = Request {
        packages: None,
        updated_since: None,
    };
    answer(&state, &principal, request).await
}

/// What was asked: some packages (lower-case) or all, changed since a time or ever.
struct Request {
    packages: Option<Vec<String>>,
    updated_since: Option<i64>,
}

impl Request {
    /// Reads `packages[]=`, `packages[N]=` and `updatedSince=` from a URL-encoded form.
    fn parse(form: &str) -> Result<Request> {
        let mut packages = Vec::new();
        let mut updated_since = None;
        for pair in form.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (key, value) = (decode(key)?, decode(value)?);
            let indexed = key
                .strip_prefix("packages[")
                .and_then(|k| k.strip_suffix(']'))
                .is_some_and(|i| i.chars().all(|c| c.is_ascii_digit()));
            if indexed || key == "packages" {
                packages.push(value.trim().to_lowercase());
            } else if key == "updatedSince" {
                updated_since = Some(value.trim().parse::<i64>().map_err(|_| {
                    Error::invalid(format!("updatedSince must be Unix seconds, not {value:?}"))
                })?);
            }
        }
        if packages.is_empty() && updated_since.is_none() {
            return Err(Error::invalid(
                "name the packages (packages[]=vendor/name) or give updatedSince",
            ));
        }
        Ok(Request {
            packages: (!packages.is_empty()).then_some(packages),
            updated_since,
        })
    }
}

fn decode(text: &str) -> Result<String> {
    percent_encoding::percent_decode_str(&text.replace('+', " "))
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| Error::invalid("the form is not UTF-8"))
}

async fn answer(state: &AppState, principal: &Principal, request: Request) -> Result<Response> {
    let view = super::view(state, principal).await?;
    let asked: Option<Vec<String>> = request.packages.map(|names| {
        names
            .into_iter()
            .filter(|n| view.allows_package(n))
            .collect()
    });
    let found = {
        let mut conn = state.registry.db.pool().acquire().await?;
        advisories::of_packages(
            &mut conn,
            PACKAGIST,
            asked.as_deref(),
            request.updated_since,
        )
        .await?
    };
    // Every visible package asked for has a list, empty or not: Composer takes a name it gets
    // back as answered.
    let mut lists: BTreeMap<String, Vec<Value>> = asked
        .iter()
        .flatten()
        .map(|n| (n.clone(), Vec::new()))
        .collect();
    for advisory in &found {
        for name in package_names(advisory) {
            let wanted = asked
                .as_ref()
                .map_or_else(|| view.allows_package(&name), |a| a.contains(&name));
            if let Some(entry) = wanted
                .then(|| composer_entry(state, advisory, &name))
                .flatten()
            {
                lists.entry(name).or_default().push(entry);
            }
        }
    }
    Ok(axum::Json(json!({"advisories": lists})).into_response())
}

/// The Packagist packages an advisory names, lower-case, each once.
fn package_names(advisory: &Advisory) -> Vec<String> {
    let mut names: Vec<String> = advisory
        .affected
        .iter()
        .filter(|a| a.ecosystem == PACKAGIST)
        .map(|a| a.package.to_lowercase())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// One advisory for one package in the fields Composer reads (`PartialSecurityAdvisory::create`
/// needs `advisoryId` and `affectedVersions`; a full one `title`, `sources` and `reportedAt`).
fn composer_entry(state: &AppState, advisory: &Advisory, name: &str) -> Option<Value> {
    let affected = affected_versions(advisory.entries_for(PACKAGIST, name))?;
    let reported = advisory.published.unwrap_or(advisory.modified);
    let sources: Vec<Value> = std::iter::once(&advisory.id)
        .chain(&advisory.aliases)
        .map(|id| json!({"name": source_name(id), "remoteId": id}))
        .collect();
    Some(json!({
        "advisoryId": advisory.id,
        "packageName": name,
        "remoteId": advisory.id,
        "title": advisory.summary,
        "link": advisory.link,
        "cve": advisory.cve(),
        "affectedVersions": affected,
        "source": source_name(&advisory.id),
        "reportedAt": chrono::DateTime::from_timestamp(reported, 0)
            .unwrap_or_default()
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        "composerRepository": state.config.base_url,
        "severity": advisory.severity.map(|s| s.as_str()),
        "sources": sources,
    }))
}

/// The database an id comes from, by its prefix (`GHSA-…` is GitHub's).
fn source_name(id: &str) -> &str {
    match id.split('-').next().unwrap_or(id) {
        "GHSA" => "GitHub",
        "CVE" => "NVD",
        "PKSA" => "FriendsOfPHP/security-advisories",
        prefix => prefix,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_name_packages_as_composer_and_people_write_them() {
        let r = Request::parse("packages%5B0%5D=Acme%2Fwidget&packages%5B1%5D=a%2Fb").unwrap();
        assert_eq!(r.packages.unwrap(), ["acme/widget", "a/b"]);
        let r = Request::parse("packages[]=a/b&updatedSince=1700000000").unwrap();
        assert_eq!(
            (r.packages.unwrap().len(), r.updated_since),
            (1, Some(1_700_000_000))
        );
        assert!(Request::parse("updatedSince=yesterday").is_err());
        assert!(Request::parse("").is_err());
    }
}
