//! Token auth as Docker clients do it: every 401 under `/v2/` carries
//! `Bearer realm="{BASE_URL}/v2/token",service="{host}"`; the client calls the realm with its
//! Basic credentials (a team or customer token as password) or with none, and sends the token it
//! gets as Bearer from then on. The token stands for the caller (`auth::delegated`), so what it
//! may do is decided per request as for the credentials themselves; anonymous callers get one
//! too, which reads public owners only.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::Params;
use super::errors::Failure;
use crate::auth::Principal;
use crate::state::AppState;

/// The `WWW-Authenticate` value of the registry's 401s.
pub fn challenge(base_url: &str) -> String {
    let base = base_url.trim_end_matches('/');
    let service = base
        .split_once("://")
        .map_or(base, |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or_default();
    format!(r#"Bearer realm="{base}/v2/token",service="{service}""#)
}

/// `GET /v2/token?service=…&scope=…` (scope may repeat).
pub async fn token(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<Params>,
) -> Result<Response, Failure> {
    let scopes: Vec<&str> = query.all("scope").collect();
    let issued = state.auth.delegate(&principal, &scopes.join(" ")).await?;
    let issued_at = crate::clock::rfc3339(issued.issued_at);
    let body = json!({
        "token": issued.token,
        "access_token": issued.token,
        "expires_in": issued.expires_in,
        "issued_at": issued_at,
    });
    Ok(axum::Json(body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_names_the_token_endpoint_and_the_host() {
        assert_eq!(
            challenge("http://127.0.0.1:8080/"),
            r#"Bearer realm="http://127.0.0.1:8080/v2/token",service="127.0.0.1:8080""#
        );
        assert_eq!(
            challenge("https://registry.example.com"),
            r#"Bearer realm="https://registry.example.com/v2/token",service="registry.example.com""#
        );
    }
}
