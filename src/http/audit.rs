//! The audit middleware: every administrative action — under `/api/v1` and Nitro Repo's
//! repository management `/api/repository/…` — is recorded in the audit log (`model::audit`)
//! without the handlers doing anything.
//!
//! What counts as an action: a request whose method changes something (not GET, HEAD or
//! OPTIONS) and that succeeded (status below 400). Refusals (401/403), validation errors and
//! failures change nothing and are not recorded, so the log reads as "what was done", not as an
//! access log. Routes under `/api/v1/webhooks` are deliveries from outside systems rather than
//! administrators' actions and are skipped; such callers (the Stripe webhook) record their own
//! entries with `model::audit::record`.
//!
//! The actor is whoever the `Principal` extractor authenticated for the request: the middleware
//! puts an empty `AuditActor` slot into the request's extensions, the extractor fills it with
//! `Principal::display_name()`. An action no principal was extracted for is recorded as
//! "anonymous". The entry is written before the response leaves, so a client that saw the
//! answer finds the entry; a failed write is logged and does not undo the action's answer.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::extract::{ConnectInfo, MatchedPath, OriginalUri, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use crate::model::audit::{self, NewEntry};
use crate::state::AppState;

/// Per-request slot for the authenticated caller's name.
#[derive(Clone, Default)]
pub struct AuditActor(Arc<OnceLock<String>>);

impl AuditActor {
    /// Sets the actor; the first principal extracted for a request wins.
    pub fn set(&self, name: String) {
        let _ = self.0.set(name);
    }

    pub fn get(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }
}

/// Does this request/answer pair go into the audit log? `/api/v1` and the formats' own
/// administration prefixes (`Format::audited_prefixes`) are administration; package uploads and
/// deletes through a format's client routes are publishing, recorded as files' `uploaded_by`.
pub fn is_audited(method: &Method, path: &str, status: u16, format_admin: &[&str]) -> bool {
    let changes = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    let webhook = path == "/api/v1/webhooks" || path.starts_with("/api/v1/webhooks/");
    let admin = path.starts_with("/api/v1/") || format_admin.iter().any(|p| path.starts_with(p));
    changes && status < 400 && admin && !webhook
}

pub async fn record(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let method = request.method().clone();
    if matches!(method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    let path = request
        .extensions()
        .get::<OriginalUri>()
        .map(|u| u.path().to_string())
        .unwrap_or_else(|| request.uri().path().to_string());
    let template = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let actor = AuditActor::default();
    request.extensions_mut().insert(actor.clone());

    let response = next.run(request).await;

    let status = response.status().as_u16();
    if !is_audited(&method, &path, status, &state.audited_prefixes) {
        return response;
    }
    // Without a matched route (the fallback) the concrete path stands in for the template.
    let template = template.unwrap_or_else(|| path.clone());
    // Inside the nested `/api/v1` router the template lacks the prefix.
    let template = if template.starts_with("/api/") {
        template
    } else {
        format!("/api/v1{template}")
    };
    let action = format!("{method} {template}");
    let entry = NewEntry {
        actor: actor.get().unwrap_or("anonymous"),
        action: &action,
        target: Some(&path),
        details: None,
        ip: ip.as_deref(),
        method: method.as_str(),
        path: &path,
        status,
    };
    let written = async {
        let mut tx = state.registry.db.begin_write().await?;
        audit::record(&mut tx, &entry).await?;
        tx.commit().await
    }
    .await;
    if let Err(e) = written {
        tracing::warn!(error = %e, action = %action, "could not write the audit log entry");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A format's own administration prefix (Composer declares Nitro Repo's management API).
    const FORMAT_ADMIN: &[&str] = &["/api/repository/"];

    #[test]
    fn only_successful_changes_outside_webhooks_are_audited() {
        assert!(is_audited(
            &Method::POST,
            "/api/v1/tokens",
            201,
            FORMAT_ADMIN
        ));
        assert!(is_audited(
            &Method::DELETE,
            "/api/v1/owners/x",
            204,
            FORMAT_ADMIN
        ));
        assert!(is_audited(&Method::PUT, "/api/v1/x", 302, FORMAT_ADMIN));
        assert!(!is_audited(
            &Method::GET,
            "/api/v1/tokens",
            200,
            FORMAT_ADMIN
        ));
        assert!(!is_audited(
            &Method::HEAD,
            "/api/v1/tokens",
            200,
            FORMAT_ADMIN
        ));
        assert!(!is_audited(
            &Method::OPTIONS,
            "/api/v1/tokens",
            204,
            FORMAT_ADMIN
        ));
        assert!(!is_audited(
            &Method::POST,
            "/api/v1/tokens",
            400,
            FORMAT_ADMIN
        ));
        assert!(!is_audited(
            &Method::POST,
            "/api/v1/tokens",
            401,
            FORMAT_ADMIN
        ));
        assert!(!is_audited(
            &Method::POST,
            "/api/v1/tokens",
            403,
            FORMAT_ADMIN
        ));
        assert!(!is_audited(
            &Method::POST,
            "/api/v1/webhooks/stripe",
            200,
            FORMAT_ADMIN
        ));
        assert!(is_audited(
            &Method::POST,
            "/api/v1/webhooksx",
            200,
            FORMAT_ADMIN
        ));
        assert!(is_audited(
            &Method::PUT,
            "/api/repository/php/config/php",
            200,
            FORMAT_ADMIN
        ));
        assert!(is_audited(
            &Method::DELETE,
            "/api/repository/php/packages",
            200,
            FORMAT_ADMIN
        ));
        assert!(!is_audited(
            &Method::PUT,
            "/api/packages/acme/generic/a/1/f",
            201,
            FORMAT_ADMIN
        ));
        assert!(!is_audited(
            &Method::PUT,
            "/repositories/s/r/downloads/a-b-1.0.0.zip",
            201,
            FORMAT_ADMIN
        ));
    }

    #[test]
    fn the_first_actor_wins() {
        let slot = AuditActor::default();
        assert_eq!(slot.get(), None);
        slot.clone().set("root".into());
        slot.set("other".into());
        assert_eq!(slot.get(), Some("root"));
    }
}
