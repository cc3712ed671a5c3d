//! Customer rows, their package grants and frozen versions. Every change that alters what a
//! customer may see bumps `access_version`, which keys the caches of filtered views.

use sqlx::{AnyConnection, Row, any::AnyRow};

use super::package_ref::PackageRef;
use super::{Listing, Page, Param};
use crate::error::{Error, Result};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Customer {
    #[serde(skip)]
    pub id: i64,
    /// `cust_…`: the id the API and CLI use.
    #[serde(rename = "id")]
    pub public_id: String,
    pub name: String,
    pub email: Option<String>,
    pub external_id: Option<String>,
    pub status: String,
    pub status_reason: Option<String>,
    #[serde(serialize_with = "crate::model::serialize_opt_time")]
    pub expires_at: Option<i64>,
    #[serde(skip)]
    pub access_version: i64,
    #[serde(serialize_with = "crate::model::serialize_time")]
    pub created_at: i64,
    #[serde(serialize_with = "crate::model::serialize_time")]
    pub updated_at: i64,
}

const COLUMNS: &str = "id, public_id, name, email, external_id, status, status_reason, expires_at, access_version, created_at, updated_at";

/// A customer whose `expires_at` has passed reads as `expired`.
fn from_row(row: &AnyRow) -> Result<Customer> {
    let expires_at: Option<i64> = row.try_get("expires_at")?;
    let mut status: String = row.try_get("status")?;
    if expires_at.is_some_and(|t| t <= crate::clock::now()) {
        status = "expired".into();
    }
    Ok(Customer {
        id: row.try_get("id")?,
        public_id: row.try_get("public_id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        external_id: row.try_get("external_id")?,
        status,
        status_reason: row.try_get("status_reason")?,
        expires_at,
        access_version: row.try_get("access_version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The editable fields of a customer.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    pub name: String,
    pub email: Option<String>,
    pub external_id: Option<String>,
    pub expires_at: Option<i64>,
}

fn conflict_or(e: sqlx::Error, fields: &Fields) -> Error {
    if Error::is_unique_violation(&e) {
        Error::conflict(format!(
            "a customer with external_id {:?} already exists",
            fields.external_id.as_deref().unwrap_or_default()
        ))
    } else {
        e.into()
    }
}

pub async fn insert(conn: &mut AnyConnection, public_id: &str, f: &Fields) -> Result<Customer> {
    let now = crate::clock::now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO customers (public_id, name, email, external_id, status, expires_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'active', $5, $6, $6) RETURNING id",
    )
    .bind(public_id)
    .bind(&f.name)
    .bind(&f.email)
    .bind(&f.external_id)
    .bind(f.expires_at)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| conflict_or(e, f))?;
    get(conn, id)
        .await?
        .ok_or_else(|| Error::internal("customer vanished"))
}

async fn fetch_one_where(
    conn: &mut AnyConnection,
    condition: &str,
    value: impl for<'q> sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any> + Send,
) -> Result<Option<Customer>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM customers WHERE {condition} = $1"
    )))
    .bind(value)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<Customer>> {
    fetch_one_where(conn, "id", id).await
}

pub async fn get_by_public_id(
    conn: &mut AnyConnection,
    public_id: &str,
) -> Result<Option<Customer>> {
    fetch_one_where(conn, "public_id", public_id.to_string()).await
}

pub async fn get_by_external_id(
    conn: &mut AnyConnection,
    external_id: &str,
) -> Result<Option<Customer>> {
    fetch_one_where(conn, "external_id", external_id.to_string()).await
}

pub async fn list(
    conn: &mut AnyConnection,
    status: Option<&str>,
    page: Page,
) -> Result<Listing<Customer>> {
    // The state a customer is in now: `expired` once its `expires_at` ($2 = now) has passed,
    // whatever the stored state, as the authenticator and the statistics read it.
    super::fetch_page(
        conn,
        super::Select {
            columns: COLUMNS,
            from: "customers",
            filter: "WHERE ($1 IS NULL OR $1 = CASE WHEN expires_at IS NOT NULL AND expires_at <= $2 \
         THEN 'expired' ELSE status END)",
            order: "id",
        },
        &[Param::Text(status), Param::Int(Some(crate::clock::now()))],
        page,
        from_row,
    )
    .await
}

pub async fn update(conn: &mut AnyConnection, id: i64, f: &Fields) -> Result<()> {
    sqlx::query(
        "UPDATE customers SET name = $2, email = $3, external_id = $4, expires_at = $5, \
         access_version = access_version + 1, \
         updated_at = CASE WHEN updated_at >= $6 THEN updated_at + 1 ELSE $6 END WHERE id = $1",
    )
    .bind(id)
    .bind(&f.name)
    .bind(&f.email)
    .bind(&f.external_id)
    .bind(f.expires_at)
    .bind(crate::clock::now())
    .execute(conn)
    .await
    .map_err(|e| conflict_or(e, f))?;
    Ok(())
}

pub async fn set_status(
    conn: &mut AnyConnection,
    id: i64,
    status: &str,
    reason: Option<&str>,
) -> Result<()> {
    // Reactivating a customer whose end date has passed would leave it expired: the date goes.
    sqlx::query(
        "UPDATE customers SET status = $2, status_reason = $3, access_version = access_version + 1, \
         updated_at = CASE WHEN updated_at >= $4 THEN updated_at + 1 ELSE $4 END, \
         expires_at = CASE WHEN $2 = 'active' AND expires_at <= $4 THEN NULL ELSE expires_at END \
         WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(reason)
    .bind(crate::clock::now())
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks a change of what the customer may see (a grant added, removed or changed). Besides
/// `access_version`, `updated_at` moves strictly forward: it is the `Last-Modified` of the
/// customer's filtered metadata, and Composer's `If-Modified-Since` must not hide the change.
pub async fn bump_access(conn: &mut AnyConnection, id: i64) -> Result<()> {
    sqlx::query(
        "UPDATE customers SET access_version = access_version + 1, \
         updated_at = CASE WHEN updated_at >= $2 THEN updated_at + 1 ELSE $2 END WHERE id = $1",
    )
    .bind(id)
    .bind(crate::clock::now())
    .execute(conn)
    .await?;
    Ok(())
}

/// Every customer granted a collection sees its membership change.
pub async fn bump_access_for_collection(
    conn: &mut AnyConnection,
    collection_id: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE customers SET access_version = access_version + 1, \
         updated_at = CASE WHEN updated_at >= $2 THEN updated_at + 1 ELSE $2 END WHERE id IN \
         (SELECT customer_id FROM customer_grants WHERE collection_id = $1)",
    )
    .bind(collection_id)
    .bind(crate::clock::now())
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes a customer with its tokens, grants and frozen versions.
pub async fn delete(conn: &mut AnyConnection, id: i64) -> Result<()> {
    for sql in [
        "DELETE FROM tokens WHERE kind = 'customer' AND customer_id = $1",
        "DELETE FROM customer_grants WHERE customer_id = $1",
        "DELETE FROM customer_freezes WHERE customer_id = $1",
        "DELETE FROM customers WHERE id = $1",
    ] {
        sqlx::query(sql).bind(id).execute(&mut *conn).await?;
    }
    Ok(())
}

/// A grant as stored: one package (of any format) or one collection, with its constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub package: Option<PackageRef>,
    pub collection: Option<String>,
    pub constraint: String,
    pub created_at: i64,
}

pub async fn grants(conn: &mut AnyConnection, customer_id: i64) -> Result<Vec<Grant>> {
    let rows = sqlx::query(
        "SELECT g.owner, g.format, g.package, c.slug, g.version_constraint, g.created_at \
         FROM customer_grants g LEFT JOIN collections c ON c.id = g.collection_id \
         WHERE g.customer_id = $1 ORDER BY g.format, g.owner, g.package, c.slug",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let package: Option<String> = r.try_get("package")?;
            Ok(Grant {
                package: match package {
                    Some(_) => Some(PackageRef::from_row(r)?),
                    None => None,
                },
                collection: r.try_get("slug")?,
                constraint: r.try_get("version_constraint")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// What a grant is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantTarget {
    Package(PackageRef),
    Collection(i64),
}

/// Adds a grant or replaces the constraint of an existing one.
pub async fn put_grant(
    conn: &mut AnyConnection,
    customer_id: i64,
    target: &GrantTarget,
    constraint: &str,
) -> Result<()> {
    remove_grant(conn, customer_id, target).await?;
    let (package, collection) = match target {
        GrantTarget::Package(package) => (Some(package), None),
        GrantTarget::Collection(id) => (None, Some(*id)),
    };
    sqlx::query(
        "INSERT INTO customer_grants \
         (customer_id, owner, format, package, collection_id, version_constraint, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(customer_id)
    .bind(package.map(|p| p.owner.as_str()))
    .bind(package.map(|p| p.format.as_str()))
    .bind(package.map(|p| p.name.as_str()))
    .bind(collection)
    .bind(constraint)
    .bind(crate::clock::now())
    .execute(&mut *conn)
    .await?;
    bump_access(conn, customer_id).await
}

/// Removes a grant; false when there was none.
pub async fn remove_grant(
    conn: &mut AnyConnection,
    customer_id: i64,
    target: &GrantTarget,
) -> Result<bool> {
    let done = match target {
        GrantTarget::Package(package) => {
            sqlx::query(
                "DELETE FROM customer_grants \
                 WHERE customer_id = $1 AND owner = $2 AND format = $3 AND package = $4",
            )
            .bind(customer_id)
            .bind(&package.owner)
            .bind(&package.format)
            .bind(&package.name)
            .execute(&mut *conn)
            .await?
        }
        GrantTarget::Collection(id) => {
            sqlx::query("DELETE FROM customer_grants WHERE customer_id = $1 AND collection_id = $2")
                .bind(customer_id)
                .bind(*id)
                .execute(&mut *conn)
                .await?
        }
    };
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    bump_access(conn, customer_id).await?;
    Ok(true)
}

pub async fn remove_all_grants(conn: &mut AnyConnection, customer_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM customer_grants WHERE customer_id = $1")
        .bind(customer_id)
        .execute(&mut *conn)
        .await?;
    bump_access(conn, customer_id).await
}

/// (package, constraint) pairs the customer holds, directly or through collections.
pub async fn effective_grants(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Vec<(PackageRef, String)>> {
    let rows = sqlx::query(
        "SELECT owner, format, package, version_constraint FROM customer_grants \
         WHERE customer_id = $1 AND package IS NOT NULL \
         UNION ALL \
         SELECT m.owner, m.format, m.package, g.version_constraint FROM customer_grants g \
         JOIN collection_members m ON m.collection_id = g.collection_id WHERE g.customer_id = $1",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok((PackageRef::from_row(r)?, r.try_get("version_constraint")?)))
        .collect()
}

/// A customer holding a package, for the reverse lookup.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Holder {
    pub customer: Customer,
    pub constraint: String,
    /// The collection the grant comes through, if not direct.
    pub via_collection: Option<String>,
}

pub async fn holders_of(conn: &mut AnyConnection, package: &PackageRef) -> Result<Vec<Holder>> {
    let rows = sqlx::query(
        "SELECT g.customer_id, g.version_constraint, NULL AS slug FROM customer_grants g \
         WHERE g.owner = $1 AND g.format = $2 AND g.package = $3 \
         UNION ALL \
         SELECT g.customer_id, g.version_constraint, c.slug FROM customer_grants g \
         JOIN collections c ON c.id = g.collection_id \
         JOIN collection_members m ON m.collection_id = g.collection_id \
         WHERE m.owner = $1 AND m.format = $2 AND m.package = $3",
    )
    .bind(&package.owner)
    .bind(&package.format)
    .bind(&package.name)
    .fetch_all(&mut *conn)
    .await?;
    let mut holders = Vec::with_capacity(rows.len());
    for r in &rows {
        let customer_id: i64 = r.try_get(0)?;
        if let Some(customer) = get(conn, customer_id).await? {
            holders.push(Holder {
                customer,
                constraint: r.try_get(1)?,
                via_collection: r.try_get(2)?,
            });
        }
    }
    holders.sort_by_key(|h| h.customer.id);
    Ok(holders)
}

/// Replaces the versions a frozen customer keeps.
pub async fn set_frozen_versions(
    conn: &mut AnyConnection,
    customer_id: i64,
    versions: &[(PackageRef, String)],
) -> Result<()> {
    sqlx::query("DELETE FROM customer_freezes WHERE customer_id = $1")
        .bind(customer_id)
        .execute(&mut *conn)
        .await?;
    for (package, version) in versions {
        sqlx::query(
            "INSERT INTO customer_freezes (customer_id, owner, format, package, version) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(customer_id)
        .bind(&package.owner)
        .bind(&package.format)
        .bind(&package.name)
        .bind(version)
        .execute(&mut *conn)
        .await?;
    }
    bump_access(conn, customer_id).await
}

pub async fn frozen_versions(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Vec<(PackageRef, String)>> {
    let rows = sqlx::query(
        "SELECT owner, format, package, version FROM customer_freezes WHERE customer_id = $1 \
         ORDER BY format, owner, package, version",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok((PackageRef::from_row(r)?, r.try_get("version")?)))
        .collect()
}
