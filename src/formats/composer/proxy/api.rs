//! The proxy's management API under `/api/v1/proxy`: `GET status|stats|alerts` (team tokens
//! that read the management API), `POST purge`, `POST freeze|unfreeze/{vendor}/{name}` (team
//! tokens that may change packages).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::extract::{Extension, Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::{Proxy, Runtime};
use crate::auth::{Permission, Principal};
use crate::error::Result;
use crate::http::json::ok;
use crate::model::proxy_cache;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/proxy/status", get(status))
        .route("/proxy/stats", get(stats))
        .route("/proxy/alerts", get(alerts))
        .route("/proxy/purge", post(purge))
        .route("/proxy/freeze/{vendor}/{name}", post(freeze))
        .route("/proxy/unfreeze/{vendor}/{name}", post(unfreeze))
}

async fn status(
    State(state): State<AppState>,
    Extension(rt): Extension<Arc<Runtime>>,
    principal: Principal,
) -> Result<Response> {
    principal.require(Permission::ReadAdmin)?;
    let settings = &state.config.proxy;
    let (packages, archives, bytes) = {
        let mut conn = state.registry.db.pool().acquire().await?;
        proxy_cache::totals(&mut conn).await?
    };
    // Only a proxy that is on talks to the upstream.
    let reachable = if settings.enabled {
        Some(reachable(&rt, &settings.upstream).await)
    } else {
        None
    };
    Ok(ok(json!({
        "enabled": settings.enabled,
        "upstream": settings.upstream,
        "reachable": reachable,
        "cached_packages": packages,
        "archives": archives,
        "bytes": bytes,
        "max_cache_size": settings.max_cache_size,
        "metadata_ttl": settings.metadata_ttl.as_secs(),
        "archive_ttl": settings.archive_ttl.as_secs(),
    }))
    .into_response())
}

/// Does the upstream answer its repository index within a few seconds?
async fn reachable(rt: &Runtime, upstream: &str) -> bool {
    let url = format!("{upstream}/packages.json");
    let request = rt.client().get(&url).timeout(Duration::from_secs(5));
    match request.send().await {
        Ok(r) if r.status().is_success() => true,
        Ok(r) => {
            rt.alert(&url, &format!("answered {}", r.status()));
            false
        }
        Err(e) => {
            rt.alert(&url, &e.to_string());
            false
        }
    }
}

async fn stats(Extension(rt): Extension<Arc<Runtime>>, principal: Principal) -> Result<Response> {
    principal.require(Permission::ReadAdmin)?;
    let s = &rt.stats;
    let read = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    Ok(ok(json!({
        "hits": read(&s.hits),
        "misses": read(&s.misses),
        "upstream_fetches": read(&s.upstream_fetches),
        "errors": read(&s.errors),
    }))
    .into_response())
}

async fn alerts(Extension(rt): Extension<Arc<Runtime>>, principal: Principal) -> Result<Response> {
    principal.require(Permission::ReadAdmin)?;
    Ok(ok(rt.alerts()).into_response())
}

/// Drops every cached document and archive; frozen names stay frozen (and are fetched again on
/// their next request).
async fn purge(
    State(state): State<AppState>,
    Extension(rt): Extension<Arc<Runtime>>,
    principal: Principal,
) -> Result<Response> {
    principal.require(Permission::WritePackages)?;
    let proxy = Proxy::new(&state, &rt);
    let archives = {
        let mut conn = state.registry.db.pool().acquire().await?;
        proxy_cache::archives_by_use(&mut conn).await?
    };
    for archive in &archives {
        proxy.drop_archive(archive).await?;
    }
    let mut tx = state.registry.db.begin_write().await?;
    proxy_cache::delete_all_documents(&mut tx).await?;
    tx.commit().await?;
    rt.forget_rendered();
    Ok(ok(json!({"archives_deleted": archives.len()})).into_response())
}

async fn freeze(
    State(state): State<AppState>,
    Extension(rt): Extension<Arc<Runtime>>,
    principal: Principal,
    Path((vendor, name)): Path<(String, String)>,
) -> Result<Response> {
    set_frozen(&state, &rt, &principal, &vendor, &name, true).await
}

async fn unfreeze(
    State(state): State<AppState>,
    Extension(rt): Extension<Arc<Runtime>>,
    principal: Principal,
    Path((vendor, name)): Path<(String, String)>,
) -> Result<Response> {
    set_frozen(&state, &rt, &principal, &vendor, &name, false).await
}

async fn set_frozen(
    state: &AppState,
    rt: &Runtime,
    principal: &Principal,
    vendor: &str,
    name: &str,
    frozen: bool,
) -> Result<Response> {
    principal.require(Permission::WritePackages)?;
    let full = format!("{vendor}/{name}").to_ascii_lowercase();
    crate::formats::composer::names::split_name(&full)?;
    let mut tx = state.registry.db.begin_write().await?;
    if frozen {
        proxy_cache::freeze(&mut tx, &full, crate::clock::now()).await?;
    } else {
        proxy_cache::unfreeze(&mut tx, &full).await?;
    }
    tx.commit().await?;
    rt.forget_rendered();
    Ok(ok(json!({"name": full, "frozen": frozen})).into_response())
}
