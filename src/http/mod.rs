//! The HTTP surface: one router that mounts the management API and every format's routes over
//! shared state, with the cross-cutting layers (metrics, tracing, limits, error rendering).

pub mod audit;
mod body_rate;
pub mod download;
pub mod error;
mod health;
mod metrics;
pub mod owner_access;
mod principal;
mod range;
pub mod server;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::get;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::Authenticator;
use crate::config::Config;
use crate::registry::Registry;
use crate::tasks::Queue;

/// Largest JSON body the management API accepts.
const API_BODY_LIMIT: usize = 1024 * 1024;

/// What every handler shares, behind one `Arc`: axum clones the state for each request (and each
/// layer that takes it), and one reference count is far cheaper than one per field, whose
/// atomic updates from both cores showed in profiles of small reads.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub config: Arc<Config>,
    pub registry: Registry,
    pub auth: Arc<Authenticator>,
    pub tasks: Queue,
    /// What each customer may see, and documents filtered for them.
    pub access: Arc<crate::customers::AccessCache>,
    /// Owners' visibilities, read by `owner_access` for callers who are not members.
    pub owner_visibilities: owner_access::OwnerVisibilities,
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub fn router(state: AppState) -> Router {
    // Package uploads stream without a time limit (a 1 GiB PUT may take a while); the management
    // API gets REQUEST_TIMEOUT and a small body limit.
    let api = crate::api::routes()
        .layer(middleware::from_fn(error::api_envelope))
        .layer(DefaultBodyLimit::max(API_BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            state.config.request_timeout,
        ));
    // An unknown path is a short 404 in the error style of the routes around it: `/api/v1` has
    // its own fallback, formats claim their prefixes, plain text answers the rest.
    let unknown = crate::formats::unknown_routes()
        .fallback(error::unknown_route)
        .with_state(state.clone());
    Router::new()
        .route("/health", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/metrics", get(health::metrics))
        .nest("/api/v1", api)
        .merge(crate::formats::routes())
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

pub use metrics::handle as metrics_handle;

/// The address of the connection a request came on, as text; `None` when the server was not
/// started with connection info (router tests).
pub struct ClientIp(pub Option<String>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let connected = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>();
        Ok(ClientIp(connected.map(|c| c.0.ip().to_string())))
    }
}
