//! Download statistics: `GET /api/v1/stats`, `GET /api/v1/stats/packages/{vendor}/{name}`,
//! `GET …/stats/packages/{vendor}/{name}/versions/{version}`, `GET /api/v1/stats/daily`.
//!
//! Counts come from `download_stats` (daily rows written by the download counter every few
//! seconds, so the last seconds of downloads may not show yet). `{vendor}/{name}` is the bare-named
//! package of that name (the format that claims bare names, `package_rules`), otherwise owner
//! `{vendor}` and package `{name}` of any format (`?format=` picks one); the seed's encoded form
//! `vendor%2Fname` works too.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::AnyConnection;

use super::{Data, Query, ok};
use crate::auth::{Permission, Principal};
use crate::error::{Error, Result};
use crate::model::download_stats::{self as stats, Filter, FoundPackage};
use crate::model::packages;
use crate::state::AppState;

/// Days in the series of the package and version views, and in "last 30 days".
const SERIES_DAYS: i64 = 30;
const TOP_PACKAGES: i64 = 10;
const MAX_DAYS: i64 = 365;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/stats", get(overview))
        .route("/stats/daily", get(daily))
        .route("/stats/packages/{vendor}", get(package_encoded))
        .route("/stats/packages/{vendor}/{name}", get(package))
        .route(
            "/stats/packages/{vendor}/versions/{version}",
            get(version_encoded),
        )
        .route(
            "/stats/packages/{vendor}/{name}/versions/{version}",
            get(version),
        )
}

async fn overview(State(state): State<AppState>, principal: Principal) -> Result<Data<Value>> {
    principal.require(Permission::ReadAdmin)?;
    let mut conn = state.registry.db.pool().acquire().await?;
    let today = stats::today();
    let inventory = stats::inventory(&mut conn, crate::clock::now()).await?;
    let summary = stats::summary(&mut conn, Filter::default(), today).await?;
    let top = stats::top_packages(&mut conn, today - (SERIES_DAYS - 1), TOP_PACKAGES).await?;
    Ok(ok(json!({
        "packages": inventory.packages,
        "versions": inventory.versions,
        "customers": inventory.customers,
        "downloads": summary.downloads,
        "installs": summary.installs,
        "top_packages": top,
    })))
}

#[derive(Deserialize)]
struct FormatQuery {
    format: Option<String>,
}

/// The package `vendor/name`: the bare-named package of that name first, then owner `vendor`'s
/// package `name` (in `format` when given).
async fn resolve(
    state: &AppState,
    conn: &mut AnyConnection,
    full_name: &str,
    format: Option<&str>,
) -> Result<FoundPackage> {
    let not_found = || Error::not_found(format!("package {full_name} not found"));
    let (vendor, name) = full_name.split_once('/').ok_or_else(not_found)?;
    if vendor.is_empty() || name.is_empty() {
        return Err(not_found());
    }
    if let Some((bare_format, bare_owner)) = state.access.rules().bare()
        && format.is_none_or(|f| f == bare_format)
        && let Some(found) =
            stats::find_package(conn, bare_owner, Some(bare_format), full_name).await?
    {
        return Ok(found);
    }
    stats::find_package(conn, vendor, format, name)
        .await?
        .ok_or_else(not_found)
}

fn series_start(today: i64) -> i64 {
    today - (SERIES_DAYS - 1)
}

async fn package_stats(state: &AppState, full_name: &str, format: Option<&str>) -> Result<Value> {
    let mut conn = state.registry.db.pool().acquire().await?;
    let package = resolve(state, &mut conn, full_name, format).await?;
    let filter = Filter {
        package_id: Some(package.id),
        ..Filter::default()
    };
    let today = stats::today();
    let summary = stats::summary(&mut conn, filter, today).await?;
    let versions = stats::version_totals(&mut conn, package.id).await?;
    let daily = stats::daily(&mut conn, filter, series_start(today), today).await?;
    Ok(json!({
        "package": package,
        "downloads": summary.downloads,
        "installs": summary.installs,
        "versions": versions,
        "daily": daily,
    }))
}

async fn package(
    State(state): State<AppState>,
    principal: Principal,
    Path((vendor, name)): Path<(String, String)>,
    Query(q): Query<FormatQuery>,
) -> Result<Data<Value>> {
    principal.require(Permission::ReadAdmin)?;
    Ok(ok(package_stats(
        &state,
        &format!("{vendor}/{name}"),
        q.format.as_deref(),
    )
    .await?))
}

async fn package_encoded(
    State(state): State<AppState>,
    principal: Principal,
    Path(full_name): Path<String>,
    Query(q): Query<FormatQuery>,
) -> Result<Data<Value>> {
    principal.require(Permission::ReadAdmin)?;
    Ok(ok(
        package_stats(&state, &full_name, q.format.as_deref()).await?
    ))
}

async fn version_stats(
    state: &AppState,
    full_name: &str,
    version: &str,
    format: Option<&str>,
) -> Result<Value> {
    let mut conn = state.registry.db.pool().acquire().await?;
    let package = resolve(state, &mut conn, full_name, format).await?;
    let found = packages::find_version(&mut conn, package.id, version)
        .await?
        .ok_or_else(|| Error::not_found(format!("version {version} of {full_name} not found")))?;
    let filter = Filter {
        package_id: Some(package.id),
        version_id: Some(found.id),
        ..Filter::default()
    };
    let today = stats::today();
    let summary = stats::summary(&mut conn, filter, today).await?;
    let daily = stats::daily(&mut conn, filter, series_start(today), today).await?;
    Ok(json!({
        "package": package,
        "version": found.version,
        "downloads": summary.downloads,
        "installs": summary.installs,
        "daily": daily,
    }))
}

async fn version(
    State(state): State<AppState>,
    principal: Principal,
    Path((vendor, name, version)): Path<(String, String, String)>,
    Query(q): Query<FormatQuery>,
) -> Result<Data<Value>> {
    principal.require(Permission::ReadAdmin)?;
    Ok(ok(version_stats(
        &state,
        &format!("{vendor}/{name}"),
        &version,
        q.format.as_deref(),
    )
    .await?))
}

async fn version_encoded(
    State(state): State<AppState>,
    principal: Principal,
    Path((full_name, version)): Path<(String, String)>,
    Query(q): Query<FormatQuery>,
) -> Result<Data<Value>> {
    principal.require(Permission::ReadAdmin)?;
    Ok(ok(version_stats(
        &state,
        &full_name,
        &version,
        q.format.as_deref(),
    )
    .await?))
}

#[derive(Deserialize)]
struct DailyQuery {
    days: Option<i64>,
    package: Option<String>,
    format: Option<String>,
    customer: Option<String>,
}

/// `days` must be within 1..=365 (default 30).
fn check_days(days: Option<i64>) -> Result<i64> {
    let days = days.unwrap_or(SERIES_DAYS);
    if (1..=MAX_DAYS).contains(&days) {
        Ok(days)
    } else {
        Err(Error::invalid(format!(
            "days must be between 1 and {MAX_DAYS}, got {days}"
        )))
    }
}

async fn daily(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<DailyQuery>,
) -> Result<Data<Vec<stats::DailyPoint>>> {
    principal.require(Permission::ReadAdmin)?;
    let days = check_days(q.days)?;
    let mut conn = state.registry.db.pool().acquire().await?;
    let mut filter = Filter::default();
    if let Some(name) = q.package.as_deref().filter(|p| !p.is_empty()) {
        filter.package_id = Some(
            resolve(&state, &mut conn, name, q.format.as_deref())
                .await?
                .id,
        );
    }
    if let Some(customer) = q.customer.as_deref().filter(|c| !c.is_empty()) {
        filter.customer_id = Some(
            stats::customer_id_by_public_id(&mut conn, customer)
                .await?
                .ok_or_else(|| Error::not_found(format!("customer {customer} not found")))?,
        );
    }
    let today = stats::today();
    Ok(ok(stats::daily(
        &mut conn,
        filter,
        today - (days - 1),
        today,
    )
    .await?))
}

#[cfg(test)]
mod tests {
    use super::check_days;

    #[test]
    fn days_are_bounded() {
        assert_eq!(check_days(None).unwrap(), 30);
        assert_eq!(check_days(Some(1)).unwrap(), 1);
        assert_eq!(check_days(Some(365)).unwrap(), 365);
        assert!(check_days(Some(0)).is_err());
        assert!(check_days(Some(366)).is_err());
        assert!(check_days(Some(-5)).is_err());
    }
}
