//! Prometheus metrics: requests by route template, method and status, and their latency.
//! Byte counters are incremented where bytes move (`blobs::put`, `download`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// The process-wide recorder (installed once even when tests start several servers).
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (e.g. by an embedding program).
            let _ = metrics::set_global_recorder(recorder);
            // Histograms keep every sample until upkeep folds them in; without it memory grows
            // with each request until someone scrapes /metrics.
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(std::time::Duration::from_secs(5));
                        upkeep.run_upkeep();
                    }
                })
                .expect("metrics upkeep thread starts");
            handle
        })
        .clone()
}

/// The metric handles of one route template, looked up in the recorder once instead of on every
/// request (a lookup hashes the labels and allocates them, which shows on small, fast answers).
struct RouteMetrics {
    duration: Histogram,
    /// Request counters by method and status; a route sees only a few of them.
    requests: Mutex<Vec<(Method, u16, Counter)>>,
}

/// Distinct (method, status) counters kept per route; more (odd methods) are looked up each time.
const COUNTERS_PER_ROUTE: usize = 64;

fn route_metrics(route: &str) -> Arc<RouteMetrics> {
    static ROUTES: OnceLock<RwLock<HashMap<String, Arc<RouteMetrics>>>> = OnceLock::new();
    let routes = ROUTES.get_or_init(RwLock::default);
    if let Some(found) = routes.read().expect("route metrics").get(route) {
        return found.clone();
    }
    routes
        .write()
        .expect("route metrics")
        .entry(route.to_string())
        .or_insert_with(|| {
            Arc::new(RouteMetrics {
                duration: metrics::histogram!("cargoman_http_request_duration_seconds", "route" => route.to_string()),
                requests: Mutex::default(),
            })
        })
        .clone()
}

fn requests_counter(route: &str, method: &Method, status: u16) -> Counter {
    metrics::counter!("cargoman_http_requests_total", "route" => route.to_string(), "method" => method.as_str().to_string(), "status" => status.to_string())
}

pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    let handles = route_metrics(route);
    let route = route.to_string();
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    handles.duration.record(started.elapsed().as_secs_f64());
    let mut requests = handles.requests.lock().expect("route counters");
    match requests
        .iter()
        .find(|(m, s, _)| *m == method && *s == status)
    {
        Some((_, _, counter)) => counter.increment(1),
        None => {
            let counter = requests_counter(&route, &method, status);
            counter.increment(1);
            if requests.len() < COUNTERS_PER_ROUTE {
                requests.push((method, status, counter));
            }
        }
    }
    response
}
