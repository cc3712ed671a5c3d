//! The `Principal` extractor: every handler takes one and asks it for a permission.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::auth::{Principal, presented_token};
use crate::error::Error;
use crate::state::AppState;

impl FromRequestParts<AppState> for Principal {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let Some(token) = presented_token(&parts.headers)? else {
            return Ok(Principal::Anonymous);
        };
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        let principal = state.auth.authenticate(&token, ip.as_deref()).await?;
        if let Some(actor) = parts.extensions.get::<super::audit::AuditActor>() {
            actor.set(principal.display_name());
        }
        Ok(principal)
    }
}
