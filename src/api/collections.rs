//! Collections, groups of packages granted as a unit: `GET|POST /collections`,
//! `GET|PATCH|DELETE /collections/{slug}`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::{Data, Json, PageQuery, Query, ok};
use crate::auth::{Permission, Principal};
use crate::customers;
use crate::error::{Error, Result};
use crate::model::collections::{self, Collection};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/collections", get(list).post(create))
        .route(
            "/collections/{slug}",
            get(show).patch(update).delete(remove),
        )
}

fn check_slug(slug: &str) -> Result<()> {
    let ok = (1..=64).contains(&slug.len())
        && slug
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "slug {slug:?} must be 1 to 64 lower-case letters, digits, '-' or '_'"
        )))
    }
}

fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::invalid("name must be 1 to 200 characters"));
    }
    crate::text::check_visible("name", name)?;
    Ok(name.to_string())
}

/// Member names, checked, lower-cased and without repeats.
fn check_packages(packages: &[String]) -> Result<Vec<String>> {
    let mut names = packages
        .iter()
        .map(|p| customers::package_name(p))
        .collect::<Result<Vec<_>>>()?;
    names.sort();
    names.dedup();
    Ok(names)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateCollection {
    name: String,
    slug: String,
    description: Option<String>,
    #[serde(default)]
    packages: Vec<String>,
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    body: Json<CreateCollection>,
) -> Result<Data<Collection>> {
    principal.require(Permission::ManageCustomers)?;
    let req = body.parse()?;
    check_slug(&req.slug)?;
    let name = check_name(&req.name)?;
    let packages = check_packages(&req.packages)?;
    let mut tx = state.registry.db.begin_write().await?;
    let collection = collections::insert(
        &mut tx,
        &req.slug,
        &name,
        req.description.as_deref(),
        &packages,
    )
    .await?;
    tx.commit().await?;
    Ok(Data(StatusCode::CREATED, collection))
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<PageQuery>,
) -> Result<Response> {
    principal.require(Permission::ReadAdmin)?;
    let mut conn = state.registry.db.pool().acquire().await?;
    Ok(super::page(collections::list(&mut conn, q.page()).await?))
}

async fn find(state: &AppState, slug: &str) -> Result<Collection> {
    let mut conn = state.registry.db.pool().acquire().await?;
    collections::get(&mut conn, slug)
        .await?
        .ok_or_else(|| Error::not_found(format!("collection {slug} not found")))
}

async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(slug): Path<String>,
) -> Result<Data<Collection>> {
    principal.require(Permission::ReadAdmin)?;
    Ok(ok(find(&state, &slug).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateCollection {
    name: Option<String>,
    description: Option<String>,
    packages: Option<Vec<String>>,
}

async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(slug): Path<String>,
    body: Json<UpdateCollection>,
) -> Result<Data<Collection>> {
    principal.require(Permission::ManageCustomers)?;
    let req = body.parse()?;
    let current = find(&state, &slug).await?;
    let name = match &req.name {
        Some(name) => check_name(name)?,
        None => current.name.clone(),
    };
    let packages = req.packages.as_deref().map(check_packages).transpose()?;
    let description = req.description.or(current.description);
    let mut tx = state.registry.db.begin_write().await?;
    collections::update(&mut tx, current.id, &name, description.as_deref()).await?;
    if let Some(packages) = &packages {
        collections::set_members(&mut tx, current.id, packages).await?;
    }
    tx.commit().await?;
    Ok(ok(find(&state, &slug).await?))
}

async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path(slug): Path<String>,
) -> Result<StatusCode> {
    principal.require(Permission::ManageCustomers)?;
    let current = find(&state, &slug).await?;
    let mut tx = state.registry.db.begin_write().await?;
    collections::delete(&mut tx, current.id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
