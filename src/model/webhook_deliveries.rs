//! Git provider webhook deliveries as received: accepted, ignored and refused alike, one row per
//! package the delivery named (or one without a package).

use serde::Serialize;
use sqlx::{AnyConnection, Row, any::AnyRow};

use super::{Listing, Page};
use crate::error::Result;

#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub id: i64,
    pub provider: String,
    pub event: String,
    pub repository_url: Option<String>,
    pub package_id: Option<i64>,
    pub status_code: i64,
    pub outcome: String,
    pub task_id: Option<i64>,
    #[serde(serialize_with = "crate::model::serialize_time")]
    pub created_at: i64,
}

const COLUMNS: &str =
    "id, provider, event, repository_url, package_id, status_code, outcome, task_id, created_at";

fn from_row(row: &AnyRow) -> Result<Delivery> {
    Ok(Delivery {
        id: row.try_get("id")?,
        provider: row.try_get("provider")?,
        event: row.try_get("event")?,
        repository_url: row.try_get("repository_url")?,
        package_id: row.try_get("package_id")?,
        status_code: row.try_get("status_code")?,
        outcome: row.try_get("outcome")?,
        task_id: row.try_get("task_id")?,
        created_at: row.try_get("created_at")?,
    })
}

pub struct NewDelivery<'a> {
    pub provider: &'a str,
    pub event: &'a str,
    pub repository_url: Option<&'a str>,
    pub package_id: Option<i64>,
    pub status_code: u16,
    pub outcome: &'a str,
    pub task_id: Option<i64>,
}

pub async fn insert(conn: &mut AnyConnection, d: &NewDelivery<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO webhook_deliveries \
         (provider, event, repository_url, package_id, status_code, outcome, task_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(d.provider)
    .bind(d.event)
    .bind(d.repository_url)
    .bind(d.package_id)
    .bind(i64::from(d.status_code))
    .bind(d.outcome)
    .bind(d.task_id)
    .bind(crate::clock::now())
    .fetch_one(conn)
    .await?)
}

/// A package's deliveries, newest first.
pub async fn list_for_package(
    conn: &mut AnyConnection,
    package_id: i64,
    page: Page,
) -> Result<Listing<Delivery>> {
    super::fetch_page(
        conn,
        super::Select {
            columns: COLUMNS,
            from: "webhook_deliveries",
            filter: "WHERE package_id = $1",
            order: "id DESC",
        },
        &[super::Param::Int(Some(package_id))],
        page,
        from_row,
    )
    .await
}
