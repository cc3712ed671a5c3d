//! Format adapters. Each maps one client protocol onto the core (`registry`, `model`, `auth`)
//! and owns only its URL layout, naming rules and metadata documents.

pub mod composer;
pub mod generic;

use axum::Router;

use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().merge(generic::routes())
}
