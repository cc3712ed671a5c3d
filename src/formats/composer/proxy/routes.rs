//! The proxy's client routes: `/dist-proxy/{vendor}/{package}/{version}/{reference}.zip`, and
//! the answer of `/p2/…` (with or without a time machine date) for a name no private package
//! holds. Only callers who may read every package (`ReadPackages`: team tokens) reach the proxy;
//! customers see their grants and nothing else.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::Response;
use axum::routing::get;

use super::archives::Wanted;
use super::{Proxy, Rendered, Runtime, render, time_machine};
use crate::auth::{Permission, Principal};
use crate::error::{Error, Result};
use crate::formats::composer::names;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/dist-proxy/{vendor}/{package}/{version}/{file}", get(dist))
}

/// Refuses unless the proxy is on and the caller may read every package.
fn enter(state: &AppState, rt: &Arc<Runtime>, principal: &Principal) -> Result<Proxy> {
    principal.require(Permission::ReadPackages)?;
    if !state.config.proxy.enabled {
        return Err(Error::not_found(
            "the Packagist proxy is off (PROXY_ENABLED)",
        ));
    }
    Ok(Proxy::new(state, rt))
}

async fn dist(
    State(state): State<AppState>,
    Extension(rt): Extension<Arc<Runtime>>,
    principal: Principal,
    Path((vendor, package, version, file)): Path<(String, String, String, String)>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response> {
    let proxy = enter(&state, &rt, &principal)?;
    let reference = file
        .strip_suffix(".zip")
        .ok_or_else(|| Error::not_found(format!("{file} is not a zip archive")))?;
    let name = format!("{vendor}/{package}").to_ascii_lowercase();
    names::split_name(&name)?;
    let wanted = Wanted {
        name: &name,
        version: &version,
        reference,
    };
    proxy.serve_archive(wanted, &method, &headers).await
}

/// Which metadata a client asks for.
pub struct Metadata<'a> {
    pub name: &'a str,
    /// `p2` or `p2~dev`.
    pub document: &'a str,
    /// The time machine's moment, if any.
    pub at: Option<i64>,
}

/// The `p2` or `p2~dev` document of `name` from the upstream, as of `at` when given; answers
/// 404 when the proxy is off, for callers it does not serve, and for names the upstream lacks.
pub async fn proxied_p2(
    state: &AppState,
    rt: &Arc<Runtime>,
    principal: &Principal,
    wanted: Metadata<'_>,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Response> {
    let Metadata { name, document, at } = wanted;
    let not_found = || Error::not_found(format!("package {name} not found"));
    if !state.config.proxy.enabled || !principal.allows(Permission::ReadPackages) {
        return Err(not_found());
    }
    let name = name.to_ascii_lowercase();
    // Only a Composer name goes into an upstream URL.
    names::split_name(&name).map_err(|e| Error::not_found(e.to_string()))?;
    let serve = |rendered: &Rendered| {
        crate::http::download::serve_document(
            rendered.body.clone(),
            &rendered.tag,
            rendered.fetched_at,
            method,
            headers,
            "application/json",
        )
    };
    let key = format!("{name}\n{document}\n{at:?}");
    if let Some(rendered) = rt.rendered(&key) {
        Runtime::count(&rt.stats.hits);
        return Ok(serve(&rendered));
    }
    let proxy = Proxy::new(state, rt);
    let served = proxy
        .document(&name, document)
        .await?
        .ok_or_else(not_found)?;
    let body = render::document(&state.config.base_url, &name, &served.body, at)?;
    let rendered = Rendered::new(bytes::Bytes::from(body), served.fetched_at);
    let mut response = serve(&rendered);
    // A stale copy is not kept: its refresh is under way, and the next read should see it.
    if !served.stale {
        rt.keep_rendered(key, rendered);
    }
    if served.stale {
        response.headers_mut().insert(
            header::WARNING,
            HeaderValue::from_static("110 cargoman \"Response is Stale\""),
        );
    }
    Ok(response)
}

/// The time machine date of `/time-machine/{date}/…`, once the proxy is known to be on.
pub fn time_machine_index_date(state: &AppState, date: &str) -> Result<i64> {
    if !state.config.proxy.enabled {
        return Err(Error::not_found(
            "the time machine needs the Packagist proxy (PROXY_ENABLED)",
        ));
    }
    time_machine::parse(date)
}
