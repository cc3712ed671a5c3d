//! Git provider webhook deliveries as received: accepted, ignored and refused alike. A verified
//! delivery has one row per package its repository is synced into (or one without a package); a
//! refused one has a single row without a package or repository, since nothing its unverified
//! payload claims can be trusted. Every text field is clipped here, so a row stays small whatever
//! a sender puts in its headers or payload. Rows are purged after
//! `WEBHOOK_DELIVERY_RETENTION_DAYS`.

use serde::Serialize;
use sqlx::{AnyConnection, Row, any::AnyRow};

use super::{Listing, Page, Param};
use crate::error::Result;
use crate::text::clip;

/// Longest event name, repository URL and outcome kept, in bytes.
const MAX_EVENT: usize = 64;
const MAX_URL: usize = 512;
const MAX_OUTCOME: usize = 512;

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
    pub remote_ip: Option<String>,
    #[serde(serialize_with = "crate::model::serialize_time")]
    pub created_at: i64,
}

const COLUMNS: &str = "id, provider, event, repository_url, package_id, status_code, outcome, \
                       task_id, remote_ip, created_at";

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
        remote_ip: row.try_get("remote_ip")?,
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
    pub remote_ip: Option<&'a str>,
}

pub async fn insert(conn: &mut AnyConnection, d: &NewDelivery<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO webhook_deliveries (provider, event, repository_url, package_id, \
         status_code, outcome, task_id, remote_ip, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(d.provider)
    .bind(clip(d.event, MAX_EVENT))
    .bind(d.repository_url.map(|u| clip(u, MAX_URL)))
    .bind(d.package_id)
    .bind(i64::from(d.status_code))
    .bind(clip(d.outcome, MAX_OUTCOME))
    .bind(d.task_id)
    .bind(d.remote_ip)
    .bind(crate::clock::now())
    .fetch_one(conn)
    .await?)
}

/// Deliveries newest first: a package's, or with `None` every one (refused ones included).
pub async fn list(
    conn: &mut AnyConnection,
    package_id: Option<i64>,
    page: Page,
) -> Result<Listing<Delivery>> {
    super::fetch_page(
        conn,
        super::Select {
            columns: COLUMNS,
            from: "webhook_deliveries",
            filter: "WHERE ($1 IS NULL OR package_id = $1)",
            order: "id DESC",
        },
        &[Param::Int(package_id)],
        page,
        from_row,
    )
    .await
}

/// Deletes deliveries received before `epoch`; returns how many.
pub async fn purge_older_than(conn: &mut AnyConnection, epoch: i64) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM webhook_deliveries WHERE created_at < $1")
            .bind(epoch)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}
