//! Collections, groups of packages granted as a unit: `GET|POST /collections`,
//! `GET|PATCH|DELETE /collections/{slug}`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use serde_json::Value;

use super::{Data, Json, PageQuery, Query, ok};
use crate::auth::{Permission, Principal};
use crate::customers::collection_json;
use crate::error::{Error, Result};
use crate::model::Listing;
use crate::model::collections::{self, Collection};
use crate::model::package_ref::PackageRef;
use crate::package_rules::{PackageName, Rulebook};
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

/// A member as the API takes it: a bare name (`"vendor/name"`) or `{"format", "owner", "package"}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum Member {
    Bare(String),
    Named(PackageName),
}

/// Members, checked, in their stored form and without repeats.
fn check_packages(rules: &Rulebook, packages: &[Member]) -> Result<Vec<PackageRef>> {
    let mut refs = packages
        .iter()
        .map(|member| match member {
            Member::Bare(name) => rules.resolve(&PackageName::bare(name)),
            Member::Named(name) => rules.resolve(name),
        })
        .collect::<Result<Vec<_>>>()?;
    refs.sort();
    refs.dedup();
    Ok(refs)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateCollection {
    name: String,
    slug: String,
    description: Option<String>,
    #[serde(default)]
    packages: Vec<Member>,
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    body: Json<CreateCollection>,
) -> Result<Data<Value>> {
    principal.require(Permission::ManageCustomers)?;
    let req = body.parse()?;
    check_slug(&req.slug)?;
    let name = check_name(&req.name)?;
    let rules = state.access.rules();
    let packages = check_packages(rules, &req.packages)?;
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
    Ok(Data(
        StatusCode::CREATED,
        collection_json(rules, &collection),
    ))
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<PageQuery>,
) -> Result<Response> {
    principal.require(Permission::ReadAdmin)?;
    let mut conn = state.registry.db.pool().acquire().await?;
    let listing = collections::list(&mut conn, q.page()).await?;
    let rules = state.access.rules();
    Ok(super::page(Listing {
        items: listing
            .items
            .iter()
            .map(|c| collection_json(rules, c))
            .collect(),
        total: listing.total,
        page: listing.page,
    }))
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
) -> Result<Data<Value>> {
    principal.require(Permission::ReadAdmin)?;
    let collection = find(&state, &slug).await?;
    Ok(ok(collection_json(state.access.rules(), &collection)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateCollection {
    name: Option<String>,
    description: Option<String>,
    packages: Option<Vec<Member>>,
}

async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(slug): Path<String>,
    body: Json<UpdateCollection>,
) -> Result<Data<Value>> {
    principal.require(Permission::ManageCustomers)?;
    let req = body.parse()?;
    let current = find(&state, &slug).await?;
    let name = match &req.name {
        Some(name) => check_name(name)?,
        None => current.name.clone(),
    };
    let rules = state.access.rules();
    let packages = req
        .packages
        .as_deref()
        .map(|p| check_packages(rules, p))
        .transpose()?;
    let description = req.description.or(current.description);
    let mut tx = state.registry.db.begin_write().await?;
    collections::update(&mut tx, current.id, &name, description.as_deref()).await?;
    if let Some(packages) = &packages {
        collections::set_members(&mut tx, current.id, packages).await?;
    }
    tx.commit().await?;
    Ok(ok(collection_json(rules, &find(&state, &slug).await?)))
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
