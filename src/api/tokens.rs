//! Team (management) tokens over `team_tokens`: `GET|POST /api/v1/tokens`,
//! `GET|DELETE /api/v1/tokens/{id}`, `POST /api/v1/tokens/{id}/rotate`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Data, Json, PageQuery, Query, ok, page};
use crate::auth::{Permission, Principal};
use crate::error::Result;
use crate::model::tokens::TokenRow;
use crate::state::AppState;
use crate::team_tokens::{self, Issued};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tokens", get(list).post(create))
        .route("/tokens/{id}", get(show).delete(revoke))
        .route("/tokens/{id}/rotate", post(rotate))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateToken {
    name: String,
    level: String,
    /// RFC 3339 time after which the token stops working.
    expires_at: Option<String>,
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    body: Json<CreateToken>,
) -> Result<Data<Issued>> {
    principal.require(Permission::ManageTeam)?;
    let req = body.parse()?;
    let expires_at = req
        .expires_at
        .as_deref()
        .map(|t| super::parse_time("expires_at", t))
        .transpose()?;
    let issued = team_tokens::issue(&state.registry.db, &req.name, &req.level, expires_at).await?;
    Ok(Data(StatusCode::CREATED, issued))
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<PageQuery>,
) -> Result<Response> {
    principal.require(Permission::ManageTeam)?;
    Ok(page(team_tokens::list(&state.registry.db, q.page()).await?))
}

async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Data<TokenRow>> {
    principal.require(Permission::ManageTeam)?;
    Ok(ok(team_tokens::find(&state.registry.db, id).await?))
}

async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Data<TokenRow>> {
    principal.require(Permission::ManageTeam)?;
    let row = team_tokens::revoke(&state.registry.db, id).await?;
    state.auth.forget(id);
    Ok(ok(row))
}

async fn rotate(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Data<Issued>> {
    principal.require(Permission::ManageTeam)?;
    let issued = team_tokens::rotate(&state.registry.db, id).await?;
    state.auth.forget(id);
    Ok(ok(issued))
}
