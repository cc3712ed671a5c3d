//! Token rows: team (management) tokens and customer tokens share the table, told apart by `kind`.

use sqlx::{AnyConnection, Row, any::AnyRow};

use super::{Listing, Page, Param};
use crate::error::{Error, Result};

#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenRow {
    pub id: i64,
    pub kind: String,
    pub name: String,
    /// The token's public prefix, safe to show (`cma_XXXXXXXX…`).
    pub lookup: String,
    #[serde(skip)]
    pub secret_hash: String,
    /// The team level, or the scope of a customer token.
    pub level: String,
    #[serde(skip)]
    pub customer_id: Option<i64>,
    /// Globs narrowing a customer token to some packages; empty means all granted packages.
    #[serde(skip)]
    pub package_scopes: Vec<String>,
    #[serde(serialize_with = "crate::model::serialize_opt_time")]
    pub expires_at: Option<i64>,
    #[serde(serialize_with = "crate::model::serialize_opt_time")]
    pub revoked_at: Option<i64>,
    #[serde(serialize_with = "crate::model::serialize_opt_time")]
    pub last_used_at: Option<i64>,
    pub last_used_ip: Option<String>,
    #[serde(serialize_with = "crate::model::serialize_time")]
    pub created_at: i64,
}

const COLUMNS: &str = "id, kind, name, lookup, secret_hash, level, customer_id, package_scopes, expires_at, revoked_at, last_used_at, last_used_ip, created_at";

fn from_row(row: &AnyRow) -> Result<TokenRow> {
    Ok(TokenRow {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        name: row.try_get("name")?,
        lookup: row.try_get("lookup")?,
        secret_hash: row.try_get("secret_hash")?,
        level: row.try_get("level")?,
        customer_id: row.try_get("customer_id")?,
        package_scopes: match row.try_get::<Option<String>, _>("package_scopes")? {
            Some(json) => serde_json::from_str(&json).map_err(Error::internal)?,
            None => Vec::new(),
        },
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        last_used_at: row.try_get("last_used_at")?,
        last_used_ip: row.try_get("last_used_ip")?,
        created_at: row.try_get("created_at")?,
    })
}

pub struct NewToken<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub lookup: &'a str,
    pub secret_hash: &'a str,
    pub level: &'a str,
    pub customer_id: Option<i64>,
    pub package_scopes: &'a [String],
    pub expires_at: Option<i64>,
}

pub async fn insert(conn: &mut AnyConnection, t: &NewToken<'_>) -> Result<TokenRow> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO tokens (kind, name, lookup, secret_hash, level, customer_id, package_scopes, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(t.kind)
    .bind(t.name)
    .bind(t.lookup)
    .bind(t.secret_hash)
    .bind(t.level)
    .bind(t.customer_id)
    .bind(serde_json::to_string(t.package_scopes).map_err(Error::internal)?)
    .bind(t.expires_at)
    .bind(crate::clock::now())
    .fetch_one(&mut *conn)
    .await?;
    get(conn, id)
        .await?
        .ok_or_else(|| Error::internal("token vanished"))
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<TokenRow>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM tokens WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list(
    conn: &mut AnyConnection,
    kind: &str,
    customer_id: Option<i64>,
    page: Page,
) -> Result<Listing<TokenRow>> {
    super::fetch_page(
        conn,
        super::Select {
            columns: COLUMNS,
            from: "tokens",
            filter: "WHERE kind = $1 AND ($2 IS NULL OR customer_id = $2)",
            order: "id",
        },
        &[Param::Text(Some(kind)), Param::Int(customer_id)],
        page,
        from_row,
    )
    .await
}

pub async fn revoke(conn: &mut AnyConnection, id: i64) -> Result<()> {
    sqlx::query("UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(id)
        .bind(crate::clock::now())
        .execute(conn)
        .await?;
    Ok(())
}

/// Gives a token a new secret; the old value stops working at once.
pub async fn replace_secret(
    conn: &mut AnyConnection,
    id: i64,
    lookup: &str,
    secret_hash: &str,
) -> Result<()> {
    sqlx::query("UPDATE tokens SET lookup = $2, secret_hash = $3 WHERE id = $1")
        .bind(id)
        .bind(lookup)
        .bind(secret_hash)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn touch(conn: &mut AnyConnection, id: i64, at: i64, ip: Option<&str>) -> Result<()> {
    sqlx::query("UPDATE tokens SET last_used_at = $2, last_used_ip = $3 WHERE id = $1")
        .bind(id)
        .bind(at)
        .bind(ip)
        .execute(conn)
        .await?;
    Ok(())
}

/// Live (neither revoked nor expired) tokens of a customer, for the per-customer maximum.
pub async fn count_live_for_customer(conn: &mut AnyConnection, customer_id: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM tokens WHERE kind = 'customer' AND customer_id = $1 \
         AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)",
    )
    .bind(customer_id)
    .bind(crate::clock::now())
    .fetch_one(conn)
    .await?)
}

/// Revokes every live token of a customer; returns their ids (to drop from caches).
pub async fn revoke_all_for_customer(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Vec<i64>> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM tokens WHERE kind = 'customer' AND customer_id = $1 AND revoked_at IS NULL",
    )
    .bind(customer_id)
    .fetch_all(&mut *conn)
    .await?;
    for id in &ids {
        revoke(conn, *id).await?;
    }
    Ok(ids)
}

/// The state of a customer token's customer, read with the token on every request.
#[derive(Debug, Clone)]
pub struct CustomerState {
    pub public_id: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub expires_at: Option<i64>,
    pub access_version: i64,
    /// When what the customer may see last changed.
    pub updated_at: i64,
}

/// A token row with, for a customer token, its customer's state: what authentication needs,
/// in one query.
/// How authentication finds a token: by id once verified (cached), else by its lookup prefix.
pub enum TokenKey<'a> {
    Id(i64),
    Lookup(&'a str),
}

pub async fn get_for_auth(
    conn: &mut AnyConnection,
    key: TokenKey<'_>,
) -> Result<Option<(TokenRow, Option<CustomerState>)>> {
    let columns: Vec<String> = COLUMNS.split(", ").map(|c| format!("t.{c}")).collect();
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {}, c.public_id AS c_public_id, c.status AS c_status, c.status_reason AS c_reason, \
         c.expires_at AS c_expires_at, c.access_version AS c_access_version, \
         c.updated_at AS c_updated_at \
         FROM tokens t LEFT JOIN customers c ON c.id = t.customer_id \
         WHERE {} = $1",
        columns.join(", "),
        match key {
            TokenKey::Id(_) => "t.id",
            TokenKey::Lookup(_) => "t.lookup",
        }
    )));
    let row = match key {
        TokenKey::Id(id) => row.bind(id),
        TokenKey::Lookup(lookup) => row.bind(lookup),
    }
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let token = from_row(&row)?;
    let customer = match row.try_get::<Option<String>, _>("c_public_id")? {
        Some(public_id) => Some(CustomerState {
            public_id,
            status: row.try_get("c_status")?,
            status_reason: row.try_get("c_reason")?,
            expires_at: row.try_get("c_expires_at")?,
            access_version: row.try_get("c_access_version")?,
            updated_at: row.try_get("c_updated_at")?,
        }),
        None => None,
    };
    Ok(Some((token, customer)))
}
