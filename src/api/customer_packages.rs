//! Package grants: `GET|PUT|POST /customers/{id}/packages`,
//! `DELETE /customers/{id}/packages/{vendor}/{name}` (or `vendor%2Fname`),
//! `DELETE /customers/{id}/collections/{slug}`, and the reverse lookup
//! `GET /packages/{vendor}/{name}/customers`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Data, Json, ok};
use crate::auth::{Permission, Principal};
use crate::customers::{self, GrantRequest};
use crate::error::{Error, Result};
use crate::model::collections;
use crate::model::customers::{self as rows, Customer, GrantTarget};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/customers/{id}/packages", get(list).post(add).put(replace))
        .route("/customers/{id}/packages/{package}", delete(remove_encoded))
        .route("/customers/{id}/packages/{vendor}/{name}", delete(remove))
        .route(
            "/customers/{id}/collections/{slug}",
            delete(remove_collection),
        )
        .route("/packages/{vendor}/{name}/customers", get(holders))
}

async fn grants_json(state: &AppState, customer: &Customer) -> Result<Value> {
    let mut conn = state.registry.db.pool().acquire().await?;
    serde_json::to_value(rows::grants(&mut conn, customer.id).await?).map_err(Error::internal)
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
    let (target, constraint) = customers::resolve_grant(&state.registry.db, &req).await?;
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
        resolved.push(customers::resolve_grant(&state.registry.db, grant).await?);
    }
    let mut tx = state.registry.db.begin_write().await?;
    rows::remove_all_grants(&mut tx, customer.id).await?;
    for (target, constraint) in &resolved {
        rows::put_grant(&mut tx, customer.id, target, constraint).await?;
    }
    tx.commit().await?;
    Ok(ok(grants_json(&state, &customer).await?))
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
    let package = customers::package_name(&format!("{vendor}/{name}"))?;
    revoke_grant(&state, &id, GrantTarget::Package(package.clone()), &package).await
}

/// `DELETE /customers/{id}/packages/vendor%2Fname`, the form Cargoman's docs show.
async fn remove_encoded(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, package)): Path<(String, String)>,
) -> Result<StatusCode> {
    principal.require(Permission::ManageCustomers)?;
    let package = customers::package_name(&package)?;
    revoke_grant(&state, &id, GrantTarget::Package(package.clone()), &package).await
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

/// Which customers hold a package, directly or through a collection.
async fn holders(
    State(state): State<AppState>,
    principal: Principal,
    Path((vendor, name)): Path<(String, String)>,
) -> Result<Data<Value>> {
    principal.require(Permission::ReadAdmin)?;
    let package = customers::package_name(&format!("{vendor}/{name}"))?;
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
