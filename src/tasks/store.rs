use serde::Serialize;
use sqlx::{AnyConnection, Row, any::AnyRow};

use crate::db::Db;
use crate::error::{Error, Result};
use crate::model::{Listing, Page};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskStatus {
    Pending,
    Running,
    Done,
    Failed,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "pending",
            TaskStatus::Running => "running",
            TaskStatus::Done => "done",
            TaskStatus::Failed => "failed",
        }
    }

    fn parse(value: &str) -> Result<Self> {
        Ok(match value {
            "pending" => TaskStatus::Pending,
            "running" => TaskStatus::Running,
            "done" => TaskStatus::Done,
            "failed" => TaskStatus::Failed,
            other => return Err(Error::internal(format!("unknown task status {other}"))),
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Task {
    pub id: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    pub status: TaskStatus,
    pub attempts: i64,
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
    #[serde(serialize_with = "crate::model::serialize_time")]
    pub created_at: i64,
    #[serde(serialize_with = "crate::model::serialize_opt_time")]
    pub started_at: Option<i64>,
    #[serde(serialize_with = "crate::model::serialize_opt_time")]
    pub finished_at: Option<i64>,
}

const COLUMNS: &str =
    "id, kind, payload, status, attempts, result, error, created_at, started_at, finished_at";

fn from_row(row: &AnyRow) -> Result<Task> {
    let json = |text: String| serde_json::from_str(&text).map_err(Error::internal);
    let result: Option<String> = row.try_get("result")?;
    Ok(Task {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        payload: json(row.try_get("payload")?)?,
        status: TaskStatus::parse(&row.try_get::<String, _>("status")?)?,
        attempts: row.try_get("attempts")?,
        result: result.map(json).transpose()?,
        error: row.try_get("error")?,
        created_at: row.try_get("created_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

fn select(filter: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM tasks {filter}"))
}

/// Queues a task, or returns the pending/running one that already has this dedupe key.
pub async fn enqueue(
    db: &Db,
    kind: &str,
    payload: &serde_json::Value,
    dedupe_key: Option<&str>,
) -> Result<Task> {
    let mut tx = db.begin_write().await?;
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO tasks (kind, payload, dedupe_key, status, created_at) VALUES ($1, $2, $3, 'pending', $4) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(kind)
    .bind(payload.to_string())
    .bind(dedupe_key)
    .bind(crate::clock::now())
    .fetch_optional(&mut *tx)
    .await?;
    let task = match inserted {
        Some(id) => get(&mut tx, id).await?,
        None => {
            let row = sqlx::query(select(
                "WHERE dedupe_key = $1 AND status IN ('pending', 'running')",
            ))
            .bind(dedupe_key)
            .fetch_optional(&mut *tx)
            .await?;
            row.as_ref().map(from_row).transpose()?
        }
    }
    .ok_or_else(|| Error::internal("queued task vanished"))?;
    tx.commit().await?;
    Ok(task)
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<Task>> {
    let row = sqlx::query(select("WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list(
    conn: &mut AnyConnection,
    status: Option<TaskStatus>,
    page: Page,
) -> Result<Listing<Task>> {
    let status = status.map(TaskStatus::as_str);
    crate::model::fetch_page(
        conn,
        crate::model::Select {
            columns: COLUMNS,
            from: "tasks",
            filter: "WHERE ($1 IS NULL OR status = $1)",
            order: "id DESC",
        },
        &[crate::model::Param::Text(status)],
        page,
        from_row,
    )
    .await
}

/// Takes the oldest pending task, if any. Two workers racing for one row: the loser's update
/// matches nothing (the status is re-checked) and it simply looks again.
pub(super) async fn claim(db: &Db) -> Result<Option<Task>> {
    let mut tx = db.begin_write().await?;
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE tasks SET status = 'running', started_at = $1, attempts = attempts + 1 \
         WHERE id = (SELECT id FROM tasks WHERE status = 'pending' ORDER BY id LIMIT 1) \
           AND status = 'pending' RETURNING {COLUMNS}"
    )))
    .bind(crate::clock::now())
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    row.as_ref().map(from_row).transpose()
}

pub(super) async fn finish(
    db: &Db,
    id: i64,
    outcome: &std::result::Result<serde_json::Value, String>,
) -> Result<()> {
    let (status, result, error) = match outcome {
        Ok(value) => (TaskStatus::Done, Some(value.to_string()), None),
        Err(message) => (TaskStatus::Failed, None, Some(message.as_str())),
    };
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "UPDATE tasks SET status = $2, result = $3, error = $4, finished_at = $5 WHERE id = $1",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(result)
    .bind(error)
    .bind(crate::clock::now())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Puts running tasks back in the queue: those of this instance at a graceful stop (`ids`), or
/// any started before `started_before` (their worker died).
pub(super) async fn requeue(db: &Db, ids: &[i64], started_before: Option<i64>) -> Result<u64> {
    let mut tx = db.begin_write().await?;
    let mut count = 0;
    for id in ids {
        count +=
            sqlx::query("UPDATE tasks SET status = 'pending' WHERE id = $1 AND status = 'running'")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
    }
    if let Some(before) = started_before {
        count += sqlx::query(
            "UPDATE tasks SET status = 'pending' WHERE status = 'running' AND started_at < $1",
        )
        .bind(before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    tx.commit().await?;
    Ok(count)
}
