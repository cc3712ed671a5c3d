//! The task queue: `GET /api/v1/tasks[/pending|/running|/failed]`, `GET /api/v1/tasks/{id}`,
//! `POST /api/v1/tasks {"kind", "payload"}`, `POST /api/v1/tasks/cleanup`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::json;

use super::{Data, Json, PageQuery, Query, ok, page};
use crate::auth::{Permission, Principal};
use crate::error::{Error, Result};
use crate::maintenance::CLEANUP_TASK;
use crate::state::AppState;
use crate::tasks::{self, Task, TaskStatus};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tasks", get(all).post(create))
        .route("/tasks/pending", get(pending))
        .route("/tasks/running", get(running))
        .route("/tasks/failed", get(failed))
        .route("/tasks/{id}", get(show))
        .route("/tasks/cleanup", post(cleanup))
}

async fn listing(
    state: &AppState,
    principal: &Principal,
    status: Option<TaskStatus>,
    q: &PageQuery,
) -> Result<Response> {
    principal.require(Permission::ReadAdmin)?;
    let mut conn = state.registry.db.pool().acquire().await?;
    Ok(page(tasks::list(&mut conn, status, q.page()).await?))
}

async fn all(
    State(s): State<AppState>,
    p: Principal,
    Query(q): Query<PageQuery>,
) -> Result<Response> {
    listing(&s, &p, None, &q).await
}

async fn pending(
    State(s): State<AppState>,
    p: Principal,
    Query(q): Query<PageQuery>,
) -> Result<Response> {
    listing(&s, &p, Some(TaskStatus::Pending), &q).await
}

async fn running(
    State(s): State<AppState>,
    p: Principal,
    Query(q): Query<PageQuery>,
) -> Result<Response> {
    listing(&s, &p, Some(TaskStatus::Running), &q).await
}

async fn failed(
    State(s): State<AppState>,
    p: Principal,
    Query(q): Query<PageQuery>,
) -> Result<Response> {
    listing(&s, &p, Some(TaskStatus::Failed), &q).await
}

async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Data<Task>> {
    principal.require(Permission::ReadAdmin)?;
    let mut conn = state.registry.db.pool().acquire().await?;
    let task = tasks::get(&mut conn, id)
        .await?
        .ok_or_else(|| Error::not_found(format!("task {id} not found")))?;
    Ok(ok(task))
}

async fn cleanup(State(state): State<AppState>, principal: Principal) -> Result<Data<Task>> {
    principal.require(Permission::WritePackages)?;
    let task = state
        .tasks
        .enqueue(CLEANUP_TASK, json!({}), Some(CLEANUP_TASK))
        .await?;
    Ok(Data(StatusCode::ACCEPTED, task))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTask {
    kind: String,
    #[serde(default)]
    payload: serde_json::Value,
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    body: Json<NewTask>,
) -> Result<Data<Task>> {
    principal.require(Permission::WritePackages)?;
    let req = body.parse()?;
    let kinds = state.tasks.kinds();
    if !kinds.contains(&req.kind) {
        return Err(Error::invalid(format!(
            "unknown task kind {:?}; known: {}",
            req.kind,
            kinds.join(", ")
        )));
    }
    let payload = match req.payload {
        serde_json::Value::Null => json!({}),
        other => other,
    };
    let task = state.tasks.enqueue(&req.kind, payload, None).await?;
    Ok(Data(StatusCode::ACCEPTED, task))
}
