//! Security advisories in the management API: `GET /vulnerabilities[?package=&severity=]`
//! (paginated, newest change first), `GET /vulnerabilities/{id}` (with the OSV record) and
//! `POST /vulnerabilities/scan`: which stored versions each advisory affects, for every format
//! that serves an OSV ecosystem. Team tokens only (`ReadAdmin`): the scan reads, it changes
//! nothing.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::{Query, ok, page};
use crate::advisories::Severity;
use crate::auth::{Permission, Principal};
use crate::error::{Error, Result};
use crate::model::{Listing, Page, advisories};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/vulnerabilities", get(list))
        .route("/vulnerabilities/scan", post(scan))
        .route("/vulnerabilities/{id}", get(show))
}

#[derive(Deserialize)]
struct ListQuery {
    page: Option<u32>,
    per_page: Option<u32>,
    package: Option<String>,
    severity: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<ListQuery>,
) -> Result<Response> {
    principal.require(Permission::ReadAdmin)?;
    let severity = match q.severity.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(Severity::parse(s).ok_or_else(|| {
            Error::invalid(format!(
                "severity must be low, medium, high or critical, not {s:?}"
            ))
        })?),
        None => None,
    };
    let mut conn = state.registry.db.pool().acquire().await?;
    let listing = advisories::list(
        &mut conn,
        q.package.as_deref().filter(|p| !p.is_empty()),
        severity.map(Severity::as_str),
        Page::new(q.page, q.per_page),
    )
    .await?;
    Ok(page(Listing {
        items: listing.items.iter().map(|a| a.describe(false)).collect(),
        total: listing.total,
        page: listing.page,
    }))
}

async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response> {
    principal.require(Permission::ReadAdmin)?;
    let mut conn = state.registry.db.pool().acquire().await?;
    let advisory = advisories::get(&mut conn, &id)
        .await?
        .ok_or_else(|| Error::not_found(format!("advisory {id} not found")))?;
    Ok(ok(advisory.describe(true)).into_response())
}

async fn scan(State(state): State<AppState>, principal: Principal) -> Result<Response> {
    principal.require(Permission::ReadAdmin)?;
    let mut conn = state.registry.db.pool().acquire().await?;
    let mut affected = Vec::new();
    for ecosystem in state.ecosystems.iter() {
        let known = advisories::of_packages(&mut conn, ecosystem.name(), None, None).await?;
        let mut stored: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for (owner, package, version) in
            advisories::stored_versions(&mut conn, ecosystem.format()).await?
        {
            stored.entry((owner, package)).or_default().push(version);
        }
        for advisory in &known {
            for ((owner, package), versions) in &stored {
                let hit: Vec<&String> = versions
                    .iter()
                    .filter(|v| advisory.affects(ecosystem.as_ref(), package, v))
                    .collect();
                if !hit.is_empty() {
                    affected.push(json!({
                        "advisory": advisory.id,
                        "severity": advisory.severity,
                        "format": ecosystem.format(),
                        "owner": owner,
                        "package": package,
                        "versions": hit,
                    }));
                }
            }
        }
    }
    Ok(ok(json!({"affected": affected})).into_response())
}
