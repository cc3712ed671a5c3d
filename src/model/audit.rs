//! The audit log: who did what to which resource, when and from where. Written by the
//! `/api/v1` middleware (`http::audit`) for every successful change and directly by callers that
//! act outside that API (the Stripe webhook); kept `AUDIT_LOG_RETENTION_DAYS` days.

use sqlx::{AnyConnection, Row, any::AnyRow};

use super::{Listing, Page, Param};
use crate::error::{Error, Result};

/// A row to record.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    /// Who acted: `Principal::display_name()` ("root", a team token's name, "customer cust_… token
    /// N"), or e.g. "stripe" for a webhook.
    pub actor: &'a str,
    /// What was done, e.g. `POST /api/v1/customers/{id}/suspend` or `stripe.invoice.payment_failed`.
    pub action: &'a str,
    /// The resource acted on, e.g. the concrete path or a customer's public id.
    pub target: Option<&'a str>,
    /// Free-form JSON facts (stored as text).
    pub details: Option<serde_json::Value>,
    pub ip: Option<&'a str>,
    pub method: &'a str,
    pub path: &'a str,
    /// The HTTP status the action was answered with.
    pub status: u16,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Entry {
    pub id: i64,
    #[serde(serialize_with = "crate::model::serialize_time")]
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub method: String,
    pub path: String,
    pub target: Option<String>,
    pub status: i64,
    pub ip: Option<String>,
    pub details: Option<serde_json::Value>,
}

fn from_row(row: &AnyRow) -> Result<Entry> {
    let details: Option<String> = row.try_get("details")?;
    Ok(Entry {
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        method: row.try_get("method")?,
        path: row.try_get("path")?,
        target: row.try_get("target")?,
        status: row.try_get("status")?,
        ip: row.try_get("ip")?,
        details: details
            .map(|d| serde_json::from_str(&d).map_err(Error::internal))
            .transpose()?,
    })
}

const COLUMNS: &str = "id, at, actor, action, method, path, target, status, ip, details";

/// Records an entry at the current time; returns its id.
pub async fn record(conn: &mut AnyConnection, entry: &NewEntry<'_>) -> Result<i64> {
    record_at(conn, entry, crate::clock::now()).await
}

/// Records an entry with an explicit time (imports, tests of retention).
pub async fn record_at(conn: &mut AnyConnection, entry: &NewEntry<'_>, at: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO audit_log (at, actor, action, method, path, target, status, ip, details) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(at)
    .bind(entry.actor)
    .bind(entry.action)
    .bind(entry.method)
    .bind(entry.path)
    .bind(entry.target)
    .bind(i64::from(entry.status))
    .bind(entry.ip)
    .bind(entry.details.as_ref().map(|d| d.to_string()))
    .fetch_one(conn)
    .await?)
}

/// What `list` returns; `None` is "any".
#[derive(Debug, Clone, Copy, Default)]
pub struct Filters<'a> {
    /// Exact actor.
    pub actor: Option<&'a str>,
    /// Actions starting with this, e.g. `DELETE` or `POST /api/v1/customers`.
    pub action_prefix: Option<&'a str>,
    /// Epoch seconds, inclusive.
    pub since: Option<i64>,
    pub until: Option<i64>,
}

/// A page of entries, newest first.
pub async fn list(
    conn: &mut AnyConnection,
    filters: Filters<'_>,
    page: Page,
) -> Result<Listing<Entry>> {
    // substr/length rather than LIKE: actions contain `_` and `{}`, which LIKE would interpret.
    const WHERE: &str = "WHERE ($1 IS NULL OR actor = $1) \
         AND ($2 IS NULL OR substr(action, 1, length($2)) = $2) \
         AND ($3 IS NULL OR at >= $3) AND ($4 IS NULL OR at <= $4)";
    super::fetch_page(
        conn,
        super::Select {
            columns: COLUMNS,
            from: "audit_log",
            filter: WHERE,
            order: "at DESC, id DESC",
        },
        &[
            Param::Text(filters.actor),
            Param::Text(filters.action_prefix),
            Param::Int(filters.since),
            Param::Int(filters.until),
        ],
        page,
        from_row,
    )
    .await
}

/// Deletes entries older than `epoch` (strictly); returns how many.
pub async fn purge_older_than(conn: &mut AnyConnection, epoch: i64) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM audit_log WHERE at < $1")
        .bind(epoch)
        .execute(conn)
        .await?
        .rows_affected())
}
