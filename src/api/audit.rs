//! The audit log: `GET /api/v1/audit?actor=&action=&since=&until=&page=&per_page=`, newest
//! first. `action` matches a prefix (`POST`, `DELETE /api/v1/tokens`), `since`/`until` are
//! RFC 3339 times (inclusive).

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::{Query, page};
use crate::auth::{Permission, Principal};
use crate::error::{Error, Result};
use crate::model::Page;
use crate::model::audit::{self, Filters};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/audit", get(list))
}

#[derive(Deserialize)]
struct AuditQuery {
    page: Option<u32>,
    per_page: Option<u32>,
    actor: Option<String>,
    action: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

fn time(name: &str, value: Option<&str>) -> Result<Option<i64>> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| {
            crate::clock::parse_rfc3339(v).ok_or_else(|| {
                Error::invalid(format!(
                    "{name} must be an RFC 3339 time such as 2026-01-31T00:00:00Z, got {v:?}"
                ))
            })
        })
        .transpose()
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<AuditQuery>,
) -> Result<Response> {
    principal.require(Permission::ReadAdmin)?;
    let filters = Filters {
        actor: q.actor.as_deref().filter(|a| !a.is_empty()),
        action_prefix: q.action.as_deref().filter(|a| !a.is_empty()),
        since: time("since", q.since.as_deref())?,
        until: time("until", q.until.as_deref())?,
    };
    let mut conn = state.registry.db.pool().acquire().await?;
    Ok(page(
        audit::list(&mut conn, filters, Page::new(q.page, q.per_page)).await?,
    ))
}
