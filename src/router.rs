//! Assembling the server's router: the management API, every registered format's routes, the
//! fallbacks for unknown paths, and the layers around them all.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::Response;
use axum::routing::get;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::error::Error;
use crate::format::Format;
use crate::http::{audit, body_rate, error, health, metrics};
use crate::state::AppState;

/// The first path segments the core's own routes take (`/api/…`, `/health`, `/metrics`); the
/// formats add theirs (`Format::root_segments`).
pub const CORE_ROOT_SEGMENTS: &[&str] = &["api", "health", "metrics"];

/// Largest JSON body the management API accepts.
const API_BODY_LIMIT: usize = 1024 * 1024;

pub fn router(state: AppState, formats: &[Box<dyn Format>]) -> Router {
    // Package uploads stream without a time limit (a 1 GiB PUT may take a while); the management
    // API gets REQUEST_TIMEOUT and a small body limit.
    let api = formats
        .iter()
        .fold(crate::api::routes(), |api, f| api.merge(f.api_routes()))
        .fallback(|| async { Error::not_found("no such API route") })
        .layer(middleware::from_fn(error::api_envelope))
        .layer(DefaultBodyLimit::max(API_BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.config.request_timeout,
        ));
    // An unknown path is a short 404 in the error style of the routes around it: `/api/v1` has
    // its own fallback, formats claim their prefixes, plain text answers the rest.
    let unknown = formats
        .iter()
        .fold(Router::new(), |r, f| {
            r.merge(f.unknown_routes()).merge(f.root_routes())
        })
        .fallback(error::unknown_route)
        .with_state(state.clone());
    let format_routes = formats.iter().fold(Router::new(), |all, f| {
        let routes = f.routes();
        all.merge(match f.challenge(&state.config) {
            Some(challenge) => routes.layer(middleware::map_response(move |r: Response| {
                let challenge = challenge.clone();
                async move { with_challenge(r, challenge) }
            })),
            None => routes,
        })
    });
    Router::new()
        .route("/health", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/metrics", get(health::metrics))
        .nest("/api/v1", api)
        .merge(format_routes)
        .merge(crate::api::stripe_webhook::routes())
        .fallback_service(unknown)
        .layer(middleware::from_fn_with_state(state.clone(), audit::record))
        .layer(middleware::from_fn_with_state(
            state.config.min_body_rate,
            body_rate::enforce,
        ))
        .layer(middleware::from_fn(metrics::track))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// A format's own challenge on its 401 answers, in place of the core's default; a handler that
/// chose a more precise one itself (OCI's `scope=` of the refused request) keeps it.
fn with_challenge(mut response: Response, challenge: HeaderValue) -> Response {
    let default = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .is_none_or(|present| present == error::DEFAULT_CHALLENGE);
    if response.status() == StatusCode::UNAUTHORIZED && default {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, challenge);
    }
    response
}
