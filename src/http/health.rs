//! Liveness and readiness. Public by design (load balancers call them without credentials); they
//! reveal nothing but up/down.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

pub async fn live() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

pub async fn ready(State(state): State<AppState>) -> Response {
    let db = state.registry.db.ping().await;
    let storage = state.registry.blobs.ready().await;
    let status = if db.is_ok() && storage.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    (
        status,
        Json(json!({
            "status": word(status == StatusCode::OK),
            "database": word(db.is_ok()),
            "storage": word(storage.is_ok()),
        })),
    )
        .into_response()
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    if !state.config.metrics_enabled {
        return StatusCode::NOT_FOUND.into_response();
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        super::metrics::handle().render(),
    )
        .into_response()
}
