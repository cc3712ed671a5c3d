//! Format adapters. Each maps one client protocol onto the core (`registry`, `model`, `auth`)
//! and owns only its URL layout, naming rules and metadata documents.

pub mod composer;
pub mod generic;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;

use crate::config::Config;
use crate::http::AppState;
use crate::registry::Registry;
use crate::tasks::Handler;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(generic::routes())
        .merge(composer::routes())
}

/// The server's fallback for paths no route matched: a format whose dialect has its own error
/// style claims its prefixes here with catch-all routes (everything else gets plain text).
pub fn unknown_routes() -> Router<AppState> {
    composer::unknown_routes()
}

/// Format-specific management routes, mounted under `/api/v1`.
pub fn api_routes() -> Router<AppState> {
    Router::new().merge(composer::api_routes())
}

/// Background task handlers by kind.
pub fn task_handlers(registry: &Registry, config: &Arc<Config>) -> HashMap<String, Handler> {
    composer::task_handlers(composer::Composer {
        registry: registry.clone(),
        config: config.clone(),
    })
}
