//! Package grants: `GET|PUT|POST /customers/{id}/packages`,
//! `DELETE /customers/{id}/packages/{vendor}/{name}` (or `vendor%2Fname`) for the format that
//! claims bare names, `DELETE /customers/{id}/packages?format=&owner=&package=` for any,
//! `DELETE /customers/{id}/collections/{slug}`, and the reverse lookups
//! `GET /packages/{vendor}/{name}/customers` and `GET /customers/by-package?format=&owner=&package=`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Data, Json, Query, ok};
use crate::auth::{Permission, Principal};
use crate::customers::{self, GrantRequest};
use crate::error::{Error, Result};
use crate::model::collections;
use crate::model::customers::{self as rows, Customer, GrantTarget};
use crate::package_rules::PackageName;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/customers/{id}/packages",
            get(list).post(add).put(replace).delete(remove_named),
        )
        .route("/customers/{id}/packages/{package}", delete(remove_encoded))
        .route("/customers/{id}/packages/{vendor}/{name}", delete(remove))
        .route(
            "/customers/{id}/collections/{slug}",
            delete(remove_collection),
        )
        .route("/packages/{vendor}/{name}/customers", get(holders))
        .route("/customers/by-package", get(holders_named))
}

async fn grants_json(state: &AppState, customer: &Customer) -> Result<Value> {
    customers::grants_json(&state.registry.db, state.access.rules(), customer).await
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Data<Value>> {
    principal.require(Permission::ReadAdmin)?;
    let customer = customers::find(&state.registry.db, &id).await?;
    Ok(ok(grants_json(&state, &customer).await?))
}

async fn add(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Json<GrantRequest>,
) -> Result<Data<Value>> {
    principal.require(Permission::ManageCustomers)?;
    let req = body.parse()?;
    let customer = customers::find(&state.registry.db, &id).await?;
    let (target, constraint) =
        customers::resolve_grant(&state.registry.db, state.access.rules(), &req).await?;
    let mut tx = state.registry.db.begin_write().await?;
    rows::put_grant(&mut tx, customer.id, &target, &constraint).await?;
    tx.commit().await?;
    Ok(Data(
        StatusCode::CREATED,
        grants_json(&state, &customer).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Replace {
    packages: Vec<GrantRequest>,
}

/// Replaces every grant of the customer at once: all are checked before any is written.
async fn replace(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Json<Replace>,
) -> Result<Data<Value>> {
    principal.require(Permission::ManageCustomers)?;
    let req = body.parse()?;
    let customer = customers::find(&state.registry.db, &id).await?;
    let mut resolved = Vec::with_capacity(req.packages.len());
    for grant in &req.packages {
        resolved
            .push(customers::resolve_grant(&state.registry.db, state.access.rules(), grant).await?);
    }
    let mut tx = state.registry.db.begin_write().await?;
    rows::remove_all_grants(&mut tx, customer.id).await?;
    for (target, constraint) in &resolved {
        rows::put_grant(&mut tx, customer.id, target, constraint).await?;
    }
    tx.commit().await?;
    Ok(ok(grants_json(&state, &customer).await?))
}

/// Removes the grant of a package named as the API names packages.
async fn revoke_package(state: &AppState, id: &str, name: &PackageName) -> Result<StatusCode> {
    let rules = state.access.rules();
    let package = rules.resolve(name)?;
    let what = customers::describe(rules, &package);
    revoke_grant(state, id, GrantTarget::Package(package), &what).await
}

async fn revoke_grant(
    state: &AppState,
    id: &str,
    target: GrantTarget,
    what: &str,
) -> Result<StatusCode> {
    let customer = customers::find(&state.registry.db, id).await?;
    let mut tx = state.registry.db.begin_write().await?;
    let removed = rows::remove_grant(&mut tx, customer.id, &target).await?;
    tx.commit().await?;
    if removed {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::not_found(format!(
            "customer {id} has no grant for {what}"
        )))
    }
}

async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, vendor, name)): Path<(String, String, String)>,
) -> Result<StatusCode> {
    principal.require(Permission::ManageCustomers)?;
    revoke_package(&state, &id, &PackageName::bare(&format!("{vendor}/{name}"))).await
}

/// `DELETE /customers/{id}/packages/vendor%2Fname`, the form Cargoman's docs show.
async fn remove_encoded(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, package)): Path<(String, String)>,
) -> Result<StatusCode> {
    principal.require(Permission::ManageCustomers)?;
    revoke_package(&state, &id, &PackageName::bare(&package)).await
}

/// `DELETE /customers/{id}/packages?format=generic&owner=acme&package=tool`: any format's
/// package, named as grants name it.
async fn remove_named(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(name): Query<PackageName>,
) -> Result<StatusCode> {
    principal.require(Permission::ManageCustomers)?;
    revoke_package(&state, &id, &name).await
}

async fn remove_collection(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, slug)): Path<(String, String)>,
) -> Result<StatusCode> {
    principal.require(Permission::ManageCustomers)?;
    let collection = {
        let mut conn = state.registry.db.pool().acquire().await?;
        collections::get(&mut conn, &slug)
            .await?
            .ok_or_else(|| Error::not_found(format!("collection {slug} not found")))?
    };
    revoke_grant(
        &state,
        &id,
        GrantTarget::Collection(collection.id),
        &format!("collection {slug}"),
    )
    .await
}

/// Which customers hold a bare-named package, directly or through a collection.
async fn holders(
    State(state): State<AppState>,
    principal: Principal,
    Path((vendor, name)): Path<(String, String)>,
) -> Result<Data<Value>> {
    principal.require(Permission::ReadAdmin)?;
    holders_of(&state, &PackageName::bare(&format!("{vendor}/{name}"))).await
}

/// `GET /customers/by-package?format=generic&owner=acme&package=tool`.
async fn holders_named(
    State(state): State<AppState>,
    principal: Principal,
    Query(name): Query<PackageName>,
) -> Result<Data<Value>> {
    principal.require(Permission::ReadAdmin)?;
    holders_of(&state, &name).await
}

async fn holders_of(state: &AppState, name: &PackageName) -> Result<Data<Value>> {
    let package = state.access.rules().resolve(name)?;
    let mut conn = state.registry.db.pool().acquire().await?;
    let holders = rows::holders_of(&mut conn, &package).await?;
    Ok(ok(json!(
        holders
            .iter()
            .map(|h| {
                let mut customer = serde_json::to_value(&h.customer).unwrap_or_default();
                customer["constraint"] = json!(h.constraint);
                customer["via_collection"] = json!(h.via_collection);
                customer
            })
            .collect::<Vec<_>>()
    )))
}
