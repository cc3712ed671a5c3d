//! Customer tokens: `GET|POST /customers/{id}/tokens`, `GET|DELETE /customers/{id}/tokens/{token_id}`,
//! `POST /customers/{id}/tokens/{token_id}/rotate`, the legacy single-token routes
//! `POST /customers/{id}/token/regenerate` and `DELETE /customers/{id}/token`, and
//! `POST /customers/{id}/jwt`. A plain token value appears only in the response that made it.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::parse_time;
use super::{Data, Json, OptionalJson, PageQuery, Query, ok};
use crate::auth::{CustomerScope, Permission, Principal};
use crate::customers::{self, TokenRequest};
use crate::error::{Error, Result};
use crate::model::customers::Customer;
use crate::model::tokens::{self, TokenRow};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/customers/{id}/tokens", get(list).post(create))
        .route(
            "/customers/{id}/tokens/{token_id}",
            get(show).delete(revoke),
        )
        .route("/customers/{id}/tokens/{token_id}/rotate", post(rotate))
        .route("/customers/{id}/token/regenerate", post(regenerate))
        .route("/customers/{id}/token", axum::routing::delete(revoke_all))
        .route("/customers/{id}/jwt", post(jwt))
}

/// Adds how each format's client is set up with `plain` (e.g. Cargoman's documented
/// `composer_auth`) to an answer that hands out a token.
pub fn with_client_setup(state: &AppState, plain: &str, mut body: Value) -> Value {
    for setup in state.client_setups.iter() {
        body[setup.key] = (setup.render)(&state.config, plain);
    }
    body
}

fn issued(state: &AppState, row: &TokenRow, customer: &Customer, plain: &str) -> Value {
    let body = json!({
        "token": customers::token_json(row, &customer.public_id),
        "plain_token": plain,
    });
    with_client_setup(state, plain, body)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateToken {
    name: Option<String>,
    scope: Option<String>,
    #[serde(default)]
    package_scopes: Vec<String>,
    expires_at: Option<String>,
}

pub fn parse_scope(text: Option<&str>) -> Result<CustomerScope> {
    match text {
        None => Ok(CustomerScope::Admin),
        Some(s) => CustomerScope::parse(s).ok_or_else(|| {
            Error::invalid(format!(
                "scope {s:?} is not one of admin, developer, download, webhook"
            ))
        }),
    }
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Json<CreateToken>,
) -> Result<Data<Value>> {
    principal.require(Permission::ManageCustomers)?;
    let req = body.parse()?;
    let request = TokenRequest {
        name: req.name.unwrap_or_else(|| "token".into()),
        scope: parse_scope(req.scope.as_deref())?,
        package_scopes: req
            .package_scopes
            .iter()
            .map(|s| crate::customers::scopes::normalize(s))
            .collect(),
        expires_at: req
            .expires_at
            .as_deref()
            .map(|t| parse_time("expires_at", t))
            .transpose()?,
    };
    let customer = customers::find(&state.registry.db, &id).await?;
    let (row, plain) = customers::issue_token(
        &state.registry.db,
        state.access.rules(),
        &customer,
        &request,
        state.config.customers.max_tokens,
    )
    .await?;
    Ok(Data(
        StatusCode::CREATED,
        issued(&state, &row, &customer, &plain),
    ))
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response> {
    principal.require(Permission::ReadAdmin)?;
    let customer = customers::find(&state.registry.db, &id).await?;
    let mut conn = state.registry.db.pool().acquire().await?;
    let listing = tokens::list(&mut conn, "customer", Some(customer.id), q.page()).await?;
    let items: Vec<Value> = listing
        .items
        .iter()
        .map(|t| customers::token_json(t, &customer.public_id))
        .collect();
    Ok(super::page(crate::model::Listing {
        items,
        total: listing.total,
        page: listing.page,
    }))
}

async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, token_id)): Path<(String, i64)>,
) -> Result<Data<Value>> {
    principal.require(Permission::ReadAdmin)?;
    let customer = customers::find(&state.registry.db, &id).await?;
    let row = customers::find_token(&state.registry.db, Some(&customer), token_id).await?;
    Ok(ok(customers::token_json(&row, &customer.public_id)))
}

async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, token_id)): Path<(String, i64)>,
) -> Result<Data<Value>> {
    principal.require(Permission::ManageCustomers)?;
    let customer = customers::find(&state.registry.db, &id).await?;
    customers::find_token(&state.registry.db, Some(&customer), token_id).await?;
    let mut tx = state.registry.db.begin_write().await?;
    tokens::revoke(&mut tx, token_id).await?;
    tx.commit().await?;
    state.auth.forget(token_id);
    let row = customers::find_token(&state.registry.db, Some(&customer), token_id).await?;
    Ok(ok(customers::token_json(&row, &customer.public_id)))
}

async fn rotate(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, token_id)): Path<(String, i64)>,
) -> Result<Data<Value>> {
    principal.require(Permission::ManageCustomers)?;
    let customer = customers::find(&state.registry.db, &id).await?;
    let row = customers::find_token(&state.registry.db, Some(&customer), token_id).await?;
    let (row, plain) = customers::rotate_token(&state.registry.db, &row).await?;
    state.auth.forget(token_id);
    Ok(ok(issued(&state, &row, &customer, &plain)))
}

async fn revoke_every_token(state: &AppState, customer: &Customer) -> Result<Vec<i64>> {
    let mut tx = state.registry.db.begin_write().await?;
    let ids = tokens::revoke_all_for_customer(&mut tx, customer.id).await?;
    tx.commit().await?;
    for id in &ids {
        state.auth.forget(*id);
    }
    Ok(ids)
}

/// Legacy: replaces every token of the customer with one new admin-scope token.
async fn regenerate(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Data<Value>> {
    principal.require(Permission::ManageCustomers)?;
    let customer = customers::find(&state.registry.db, &id).await?;
    revoke_every_token(&state, &customer).await?;
    let (row, plain) = customers::issue_token(
        &state.registry.db,
        state.access.rules(),
        &customer,
        &TokenRequest::initial(),
        state.config.customers.max_tokens,
    )
    .await?;
    // The legacy shape, as when the customer was created: the plain value under `token`.
    let body = json!({
        "customer_id": customer.public_id,
        "token": plain,
        "token_id": row.id,
    });
    Ok(ok(with_client_setup(&state, &plain, body)))
}

/// Legacy: revokes every token of the customer.
async fn revoke_all(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Data<Value>> {
    principal.require(Permission::ManageCustomers)?;
    let customer = customers::find(&state.registry.db, &id).await?;
    let ids = revoke_every_token(&state, &customer).await?;
    Ok(ok(
        json!({"customer_id": customer.public_id, "revoked": ids}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JwtRequest {
    scope: Option<String>,
    /// Lifetime in seconds, at most `JWT_EXPIRY`.
    expires_in: Option<i64>,
}

/// A signed, short-lived credential for the customer (needs `JWT_SECRET`).
async fn jwt(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: OptionalJson<JwtRequest>,
) -> Result<Response> {
    principal.require(Permission::ManageCustomers)?;
    let req = body.parse()?;
    let secret = state
        .config
        .customers
        .jwt_secret
        .as_deref()
        .ok_or_else(|| {
            Error::invalid("JWT_SECRET is not configured on this server, so it cannot issue JWTs")
        })?;
    let scope = parse_scope(req.as_ref().and_then(|r| r.scope.as_deref()))?;
    if scope == CustomerScope::Webhook {
        return Err(Error::invalid("a JWT cannot have the webhook scope"));
    }
    let max = state.config.customers.jwt_expiry_secs;
    let ttl = req.as_ref().and_then(|r| r.expires_in).unwrap_or(max);
    if !(1..=max).contains(&ttl) {
        return Err(Error::invalid(format!(
            "expires_in must be between 1 and {max} seconds"
        )));
    }
    let customer = customers::find(&state.registry.db, &id).await?;
    let now = crate::clock::now();
    let token = crate::auth::jwt::issue(
        secret.as_bytes(),
        &customer.public_id,
        scope.as_str(),
        now,
        ttl,
    )?;
    Ok(Data(
        StatusCode::CREATED,
        with_client_setup(
            &state,
            &token,
            json!({
                "token": token,
                "token_type": "Bearer",
                "scope": scope.as_str(),
                "expires_at": crate::clock::rfc3339(now + ttl),
            }),
        ),
    )
    .into_response())
}
