//! Team (management) tokens: `cma_` + 32 alphanumerics, levels owner/admin/viewer.
//! `GET|POST /api/v1/tokens`, `GET|DELETE /api/v1/tokens/{id}`, `POST /api/v1/tokens/{id}/rotate`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Data, Json, PageQuery, Query, ok, page};
use crate::auth::secret::{self, TEAM_PREFIX};
use crate::auth::{Permission, Principal, TeamLevel};
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::model::tokens::{self, NewToken, TokenRow};

const KIND: &str = "team";

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

/// A token with its plain value, shown only in the response that created or rotated it.
#[derive(serde::Serialize)]
struct Issued {
    #[serde(flatten)]
    row: TokenRow,
    token: String,
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    body: Json<CreateToken>,
) -> Result<Data<Issued>> {
    principal.require(Permission::ManageTeam)?;
    let req = body.parse()?;
    let name = req.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(Error::invalid("name must be 1 to 100 characters"));
    }
    crate::text::check_visible("name", name)?;
    let level = TeamLevel::parse(&req.level)
        .ok_or_else(|| Error::invalid("level must be owner, admin or viewer"))?;
    let expires_at = match req.expires_at.as_deref() {
        None => None,
        Some(text) => Some(crate::clock::parse_rfc3339(text).ok_or_else(|| {
            Error::invalid(format!("expires_at {text:?} is not an RFC 3339 time"))
        })?),
    };
    let fresh = secret::Fresh::generate(TEAM_PREFIX).await?;
    let mut tx = state.registry.db.begin_write().await?;
    let row = tokens::insert(
        &mut tx,
        &NewToken {
            kind: KIND,
            name,
            lookup: fresh.lookup(),
            secret_hash: &fresh.hash,
            level: level.as_str(),
            customer_id: None,
            package_scopes: &[],
            expires_at,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Data(
        StatusCode::CREATED,
        Issued {
            row,
            token: fresh.plain,
        },
    ))
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<PageQuery>,
) -> Result<Response> {
    principal.require(Permission::ManageTeam)?;
    let mut conn = state.registry.db.pool().acquire().await?;
    Ok(page(tokens::list(&mut conn, KIND, None, q.page()).await?))
}

async fn find(state: &AppState, id: i64) -> Result<TokenRow> {
    let mut conn = state.registry.db.pool().acquire().await?;
    tokens::get(&mut conn, id)
        .await?
        .filter(|t| t.kind == KIND)
        .ok_or_else(|| Error::not_found(format!("token {id} not found")))
}

async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Data<TokenRow>> {
    principal.require(Permission::ManageTeam)?;
    Ok(ok(find(&state, id).await?))
}

async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Data<TokenRow>> {
    principal.require(Permission::ManageTeam)?;
    find(&state, id).await?;
    let mut tx = state.registry.db.begin_write().await?;
    tokens::revoke(&mut tx, id).await?;
    tx.commit().await?;
    state.auth.forget(id);
    Ok(ok(find(&state, id).await?))
}

async fn rotate(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Data<Issued>> {
    principal.require(Permission::ManageTeam)?;
    let current = find(&state, id).await?;
    if current.revoked_at.is_some() {
        return Err(Error::conflict("a revoked token cannot be rotated"));
    }
    let fresh = secret::Fresh::generate(TEAM_PREFIX).await?;
    let mut tx = state.registry.db.begin_write().await?;
    tokens::replace_secret(&mut tx, id, fresh.lookup(), &fresh.hash).await?;
    tx.commit().await?;
    state.auth.forget(id);
    Ok(ok(Issued {
        row: find(&state, id).await?,
        token: fresh.plain,
    }))
}
