//! Cargoman's management REST API under `/api/v1`: `{"data", "error"}` envelopes, paginated lists.

mod audit;
mod collections;
mod customer_packages;
mod customer_tokens;
mod customers;
mod owners;
mod stats;
pub mod stripe_webhook;
pub mod tasks;
mod tokens;
mod vulnerabilities;

use axum::Router;

pub use crate::http::json::{
    Data, Json, OptionalJson, PageQuery, Query, ok, page, pagination, parse_time,
};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(tokens::routes())
        .merge(owners::routes())
        .merge(tasks::routes())
        .merge(stats::routes())
        .merge(audit::routes())
        .merge(customers::routes())
        .merge(customer_tokens::routes())
        .merge(customer_packages::routes())
        .merge(collections::routes())
        .merge(vulnerabilities::routes())
}
