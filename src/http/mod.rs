//! The HTTP toolkit every route uses: serving connections, the `Principal` extractor, error
//! rendering, downloads with ranges, and the cross-cutting layers (metrics, audit, body rate) that
//! `router` puts around them. Nothing here knows a format or the management API.

pub mod audit;
pub mod body_rate;
pub mod download;
pub mod error;
pub mod health;
pub mod json;
pub mod metrics;
pub mod owner_access;
pub mod package_path;
mod principal;
mod range;
pub mod server;
pub mod tls;
pub mod upload_size;
pub mod viewed;

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
