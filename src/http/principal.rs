//! The `Principal` extractor: every handler takes one and asks it for a permission. A handler
//! that reads the scope of a delegated token takes `Authenticated` instead.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::auth::{Authenticated, Principal, presented_token};
use crate::error::Error;
use crate::state::AppState;

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let Some(token) = presented_token(&parts.headers)? else {
            return Ok(Principal::Anonymous.into());
        };
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        let authenticated = state.auth.authenticate(&token, ip.as_deref()).await?;
        if let Some(actor) = parts.extensions.get::<super::audit::AuditActor>() {
            actor.set(authenticated.principal.display_name());
        }
        Ok(authenticated)
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        Ok(Authenticated::from_request_parts(parts, state)
            .await?
            .principal)
    }
}
