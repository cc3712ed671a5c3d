//! Git provider webhooks that sync Composer packages (seed 000, Cargoman's webhook docs):
//! `POST /api/webhooks/github`, `/api/webhooks/gitlab`, `/api/webhooks/bitbucket`, no admin token
//! (the signature is the authentication), `GET /api/v1/packages/{vendor}/{name}/webhook-deliveries`
//! and `GET /api/v1/webhook-deliveries`.
//!
//! Answers are JSON: `{"ok": true, …}`, or `{"ok": false, "error": {"code", "message"}}`. Every
//! delivery is recorded. A verified one is recorded once per package whose repository it names.
//! A refused one (unreadable, too large, bad signature) is recorded once with what diagnoses it
//! (provider, event header, status, reason, sender's address, time) and nothing from its payload,
//! which is not even parsed: anyone can send one, so it can name no package and fill no table.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::Composer;
use super::webhook_events::{self, Action, Provider, Verified};
use crate::auth::{Permission, Principal};
use crate::error::{Error, Result};
use crate::http::ClientIp;
use crate::http::json::{PageQuery, Query, page};
use crate::model::webhook_deliveries::{self, NewDelivery};
use crate::model::{git_sources, packages};
use crate::state::AppState;
use crate::tasks::Task;

/// Webhook payloads are small; GitHub caps its own at 25 MB but pushes are a few KiB.
const BODY_LIMIT: usize = 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/webhooks/github", post(github))
        .route("/api/webhooks/gitlab", post(gitlab))
        .route("/api/webhooks/bitbucket", post(bitbucket))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// Mounted under `/api/v1`.
pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/packages/{vendor}/{name}/webhook-deliveries",
            get(package_deliveries),
        )
        .route("/webhook-deliveries", get(all_deliveries))
}

type Body = std::result::Result<Bytes, BytesRejection>;

async fn github(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Body,
) -> Response {
    receive(&state, Provider::GitHub, ip, &headers, body).await
}

async fn gitlab(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Body,
) -> Response {
    receive(&state, Provider::GitLab, ip, &headers, body).await
}

async fn bitbucket(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Body,
) -> Response {
    receive(&state, Provider::Bitbucket, ip, &headers, body).await
}

fn secret(state: &AppState, provider: Provider) -> Option<&str> {
    let w = &state.config.webhooks;
    match provider {
        Provider::GitHub => w.github_secret.as_deref(),
        Provider::GitLab => w.gitlab_secret.as_deref(),
        Provider::Bitbucket => w.bitbucket_secret.as_deref(),
    }
    .filter(|s| !s.is_empty())
}

/// A package the delivery's repository is synced into.
struct Matched {
    id: i64,
    name: String,
    /// The monorepo this package was found in, when that monorepo matched too: its sync covers
    /// this package, so no task of its own.
    covered_by: Option<i64>,
}

/// What one delivery said and what became of it, for the response and the log.
struct Delivery<'a> {
    state: &'a AppState,
    provider: Provider,
    event: String,
    remote_ip: Option<String>,
    repository_url: Option<String>,
    packages: Vec<Matched>,
}

impl Delivery<'_> {
    /// Records one row per matched package (or one without a package) with the same outcome.
    async fn record(&self, status: StatusCode, outcome: &str, tasks: &[Option<i64>]) {
        let rows: Vec<(Option<i64>, Option<i64>)> = if self.packages.is_empty() {
            vec![(None, None)]
        } else {
            self.packages
                .iter()
                .enumerate()
                .map(|(i, p)| (Some(p.id), tasks.get(i).copied().flatten()))
                .collect()
        };
        let recorded = async {
            let mut tx = self.state.registry.db.begin_write().await?;
            for (package_id, task_id) in rows {
                webhook_deliveries::insert(
                    &mut tx,
                    &NewDelivery {
                        provider: self.provider.as_str(),
                        event: &self.event,
                        repository_url: self.repository_url.as_deref(),
                        package_id,
                        status_code: status.as_u16(),
                        outcome,
                        task_id,
                        remote_ip: self.remote_ip.as_deref(),
                    },
                )
                .await?;
            }
            tx.commit().await?;
            Ok::<_, Error>(())
        }
        .await;
        if let Err(e) = recorded {
            tracing::warn!(provider = self.provider.as_str(), error = %e, "could not record a webhook delivery");
        }
    }

    /// Records the refusal and answers with it.
    async fn refuse(&self, status: StatusCode, code: &str, message: &str) -> Response {
        tracing::warn!(
            provider = self.provider.as_str(),
            event = %self.event,
            status = status.as_u16(),
            reason = message,
            "webhook refused"
        );
        self.record(status, &format!("refused: {message}"), &[])
            .await;
        failure(status, code, message)
    }

    /// Records an answer without tasks and returns it.
    async fn answer(&self, status: StatusCode, outcome: &str, body: Value) -> Response {
        self.record(status, outcome, &[]).await;
        (status, axum::Json(body)).into_response()
    }

    /// Each matched package's task: its own, or its monorepo's.
    fn task_ids(&self, task_of: &HashMap<i64, i64>) -> Vec<Option<i64>> {
        self.packages
            .iter()
            .map(|p| task_of.get(&p.covered_by.unwrap_or(p.id)).copied())
            .collect()
    }

    fn package_names(&self) -> Vec<&str> {
        self.packages.iter().map(|p| p.name.as_str()).collect()
    }
}

fn failure(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"ok": false, "error": {"code": code, "message": message}})),
    )
        .into_response()
}

/// The packages built from any of the repository's spellings, each once.
async fn match_packages(state: &AppState, urls: &[String]) -> Result<Vec<Matched>> {
    let mut conn = state.registry.db.pool().acquire().await?;
    let mut found: Vec<Matched> = Vec::new();
    for url in urls {
        for source in git_sources::find_by_url(&mut conn, url).await? {
            if found.iter().any(|m| m.id == source.package_id) {
                continue;
            }
            if let Some(package) = packages::get_package(&mut conn, source.package_id).await? {
                found.push(Matched {
                    id: package.id,
                    name: package.name,
                    covered_by: source.parent_package_id,
                });
            }
        }
    }
    let ids: Vec<i64> = found.iter().map(|m| m.id).collect();
    for m in &mut found {
        m.covered_by = m.covered_by.filter(|parent| ids.contains(parent));
    }
    found.sort_by_key(|m| m.id);
    Ok(found)
}

/// Longest event header kept for the response and the log (the stored row is clipped again).
const MAX_EVENT: usize = 64;

async fn receive(
    state: &AppState,
    provider: Provider,
    remote_ip: Option<String>,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let get_header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let event = get_header(provider.event_header())
        .map(|e| crate::text::clip(e.trim(), MAX_EVENT).to_string());
    let mut delivery = Delivery {
        state,
        provider,
        event: event.clone().unwrap_or_default(),
        remote_ip,
        repository_url: None,
        packages: Vec::new(),
    };
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let status = rejection.status();
            let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                "webhook body is larger than 1 MiB".to_string()
            } else {
                format!("webhook body could not be read: {}", rejection.body_text())
            };
            let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
                "PAYLOAD_TOO_LARGE"
            } else {
                "VALIDATION_ERROR"
            };
            return delivery.refuse(status, code, &message).await;
        }
    };

    let verified =
        match webhook_events::authenticate(provider, secret(state, provider), get_header, &body) {
            Ok(verified) => verified,
            Err(reason) => {
                return delivery
                    .refuse(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", &reason)
                    .await;
            }
        };
    let form = get_header(header::CONTENT_TYPE.as_str())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let json_bytes = if form {
        webhook_events::form_payload(&body)
    } else {
        Some(body.to_vec())
    };
    let payload: std::result::Result<Value, String> = match json_bytes {
        Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| e.to_string()),
        None => Err("form-encoded body without a payload field".to_string()),
    };
    let urls = payload
        .as_ref()
        .map(|p| webhook_events::repository_urls(provider, p))
        .unwrap_or_default();
    delivery.repository_url = urls.first().cloned();
    let matched = match match_packages(state, &urls).await {
        Ok(matched) => matched,
        Err(e) => {
            tracing::error!(error = %e, "webhook: looking up packages failed");
            delivery
                .record(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "failed: database error",
                    &[],
                )
                .await;
            return failure(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_ERROR",
                "internal server error",
            );
        }
    };
    delivery.packages = matched;

    let payload = match payload {
        Ok(Value::Object(map)) => Value::Object(map),
        Ok(_) => {
            return delivery
                .refuse(
                    StatusCode::BAD_REQUEST,
                    "VALIDATION_ERROR",
                    "webhook body is not a JSON object",
                )
                .await;
        }
        Err(e) => {
            return delivery
                .refuse(
                    StatusCode::BAD_REQUEST,
                    "VALIDATION_ERROR",
                    &format!("webhook body is not valid JSON: {e}"),
                )
                .await;
        }
    };
    let Some(event) = event.filter(|e| !e.is_empty()) else {
        return delivery
            .refuse(
                StatusCode::BAD_REQUEST,
                "VALIDATION_ERROR",
                &format!("missing {} header", provider.event_header()),
            )
            .await;
    };
    let unsigned_note = match verified {
        Verified::Signed => "",
        Verified::Unsigned => " (unsigned: no secret configured)",
    };

    let reason = match webhook_events::action(provider, &event, &payload) {
        Action::Ping => {
            return delivery
                .answer(
                    StatusCode::OK,
                    &format!("ping{unsigned_note}"),
                    json!({"ok": true}),
                )
                .await;
        }
        Action::Ignore(why) => {
            return delivery
                .answer(
                    StatusCode::ACCEPTED,
                    &format!("ignored: {why}{unsigned_note}"),
                    json!({"ok": true, "ignored": why}),
                )
                .await;
        }
        Action::Sync(reason) => reason,
    };
    if delivery.packages.is_empty() {
        let why = "no package uses this repository";
        return delivery
            .answer(
                StatusCode::ACCEPTED,
                &format!("ignored: {why}{unsigned_note}"),
                json!({"ok": true, "ignored": why}),
            )
            .await;
    }

    // One task per package, except packages of a matched monorepo: its sync covers them.
    let mut tasks: Vec<Task> = Vec::new();
    let mut task_of: HashMap<i64, i64> = HashMap::new();
    for package in delivery.packages.iter().filter(|p| p.covered_by.is_none()) {
        match super::enqueue_sync(&state.tasks, package.id).await {
            Ok(task) => {
                task_of.insert(package.id, task.id);
                tasks.push(task);
            }
            Err(e) => {
                tracing::error!(package = %package.name, error = %e, "webhook: queueing a sync failed");
                let ids = delivery.task_ids(&task_of);
                delivery
                    .record(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        &format!("failed: could not queue a sync ({reason})"),
                        &ids,
                    )
                    .await;
                return failure(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL_ERROR",
                    "internal server error",
                );
            }
        }
    }
    let ids = delivery.task_ids(&task_of);
    delivery
        .record(
            StatusCode::ACCEPTED,
            &format!("sync queued: {reason}{unsigned_note}"),
            &ids,
        )
        .await;
    tracing::info!(
        provider = provider.as_str(),
        event = %event,
        packages = ?delivery.package_names(),
        "webhook queued syncs"
    );
    (
        StatusCode::ACCEPTED,
        axum::Json(json!({
            "ok": true,
            "event": event,
            "packages": delivery.package_names(),
            "tasks": tasks,
        })),
    )
        .into_response()
}

async fn package_deliveries(
    State(state): State<AppState>,
    principal: Principal,
    Path((vendor, name)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> Result<Response> {
    principal.require(Permission::ReadAdmin)?;
    let full = format!("{vendor}/{name}");
    let composer = Composer {
        registry: state.registry.clone(),
        config: state.config.clone(),
    };
    let package = composer
        .find(&full)
        .await?
        .ok_or_else(|| Error::not_found(format!("package {full} not found")))?;
    let mut conn = state.registry.db.pool().acquire().await?;
    Ok(page(
        webhook_deliveries::list(&mut conn, Some(package.id), q.page()).await?,
    ))
}

/// Every delivery, refused ones included (they belong to no package).
async fn all_deliveries(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<PageQuery>,
) -> Result<Response> {
    principal.require(Permission::ReadAdmin)?;
    let mut conn = state.registry.db.pool().acquire().await?;
    Ok(page(
        webhook_deliveries::list(&mut conn, None, q.page()).await?,
    ))
}
