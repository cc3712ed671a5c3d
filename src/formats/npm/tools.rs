//! The account and tool endpoints npm calls around installs and publishes: `npm ping`,
//! `npm whoami`, `npm login` (legacy: a team token as the password), and the audit endpoints,
//! which answer an empty report (no advisories are kept) so `npm install` neither warns nor fails.

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::Call;
use super::read::view;
use crate::auth::Principal;
use crate::error::{Error, Result};

/// The largest login body read (a name and a password).
const MAX_LOGIN_BODY: usize = 64 << 10;

/// `GET /-/ping`: the registry answers, for whoever may read it.
pub(super) async fn ping(call: &Call) -> Result<Response> {
    view(call).await?;
    Ok(axum::Json(json!({})).into_response())
}

/// `GET /-/whoami`: the name of the token's holder, if it may read the registry.
pub(super) async fn whoami(call: &Call) -> Result<Response> {
    view(call).await?;
    if call.principal == Principal::Anonymous {
        return Err(Error::Unauthorized("npm whoami needs a token".into()));
    }
    Ok(axum::Json(json!({"username": call.principal.display_name()})).into_response())
}

#[derive(Deserialize)]
struct Login {
    password: String,
}

/// `PUT /-/user/org.couchdb.user:{name}` (`npm login --auth-type=legacy`, `npm adduser`): there
/// are no user accounts, so the password must be a team token, which becomes npm's token. A
/// customer token is refused: customers read with the `.npmrc` their API answer carries.
pub(super) async fn login(call: &Call, name: &str, body: Body) -> Result<Response> {
    let bytes = axum::body::to_bytes(body, MAX_LOGIN_BODY)
        .await
        .map_err(|e| Error::invalid(format!("login body: {e}")))?;
    let login: Login =
        serde_json::from_slice(&bytes).map_err(|e| Error::invalid(format!("login body: {e}")))?;
    let caller = call
        .state
        .auth
        .authenticate(&login.password, None)
        .await
        .map_err(|_| Error::Unauthorized("the password must be a team token".into()))?;
    // A delegated token would stop working within minutes: npm keeps the one it gets.
    if caller.delegated_scope.is_some()
        || matches!(
            caller.principal,
            Principal::Customer(_) | Principal::Anonymous
        )
    {
        return Err(Error::Unauthorized(
            "the password must be a team token".into(),
        ));
    }
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({
            "ok": true,
            "id": format!("org.couchdb.user:{name}"),
            "token": login.password,
        })),
    )
        .into_response())
}

/// `POST /-/npm/v1/security/advisories/bulk` and `…/audits/quick`: nothing to report.
pub(super) async fn audit(call: &Call) -> Result<Response> {
    view(call).await?;
    let quick = call.uri.path().ends_with("/quick");
    let body = if quick {
        json!({
            "actions": [],
            "advisories": {},
            "muted": [],
            "metadata": {
                "vulnerabilities": {"info": 0, "low": 0, "moderate": 0, "high": 0, "critical": 0},
                "dependencies": 0,
                "devDependencies": 0,
                "optionalDependencies": 0,
                "totalDependencies": 0,
            },
        })
    } else {
        json!({})
    };
    Ok(axum::Json(body).into_response())
}
