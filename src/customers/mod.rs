//! Customers: lifecycle, scoped tokens and grants to packages of any format. The operations here
//! are shared by the REST API (`api::customers`), the CLI and the Stripe webhook; the formats'
//! routes ask `access` what a customer may see.

pub mod access;
pub mod scopes;

use crate::auth::secret::{self, CUSTOMER_PREFIX};
use crate::auth::{CustomerScope, CustomerStatus};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::model::customers::{self, Customer, GrantTarget};
use crate::model::package_ref::PackageRef;
use crate::model::tokens::{self, NewToken, TokenRow};
use crate::model::{collections, owners, packages};
use crate::package_rules::{PackageName, Rulebook};

pub use access::{AccessCache, DocumentKey, View};

/// How one format's client is set up with a customer token: the key of the field added to the
/// API's answers that hand out a token, and its value for the settings and the plain token
/// (Cargoman documents Composer's `composer_auth`).
#[derive(Clone, Copy)]
pub struct ClientSetup {
    pub key: &'static str,
    pub render: fn(&crate::config::Config, &str) -> serde_json::Value,
}

/// A new customer id: `cust_` and 16 random lower-case letters and digits.
pub fn new_public_id() -> String {
    let random = secret::generate("");
    format!("cust_{}", random[..16].to_ascii_lowercase())
}

pub async fn find(db: &Db, public_id: &str) -> Result<Customer> {
    let mut conn = db.pool().acquire().await?;
    customers::get_by_public_id(&mut conn, public_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("customer {public_id} not found")))
}

/// Checks the fields of a customer being created or changed.
pub fn check_fields(f: &customers::Fields) -> Result<()> {
    let name = f.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::invalid("name must be 1 to 200 characters"));
    }
    crate::text::check_visible("name", name)?;
    if let Some(email) = &f.email
        && (email.len() > 254 || !email.contains('@') || email.chars().any(char::is_whitespace))
    {
        return Err(Error::invalid(format!(
            "email {email:?} is not an e-mail address"
        )));
    }
    if let Some(ext) = &f.external_id
        && (ext.is_empty() || ext.len() > 200 || ext.chars().any(char::is_control))
    {
        return Err(Error::invalid(
            "external_id must be 1 to 200 printable characters",
        ));
    }
    Ok(())
}

/// What a new customer token is.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub name: String,
    pub scope: CustomerScope,
    pub package_scopes: Vec<String>,
    pub expires_at: Option<i64>,
}

impl TokenRequest {
    /// The token a new customer gets, and the one the legacy regenerate route leaves.
    pub fn initial() -> Self {
        TokenRequest {
            name: "default".into(),
            scope: CustomerScope::Admin,
            package_scopes: Vec::new(),
            expires_at: None,
        }
    }

    /// Checks the request; a package scope naming a format must name one of `rules`.
    pub fn check(&self, rules: &Rulebook) -> Result<()> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::invalid("token name must be 1 to 100 characters"));
        }
        crate::text::check_visible("token name", name)?;
        for text in &self.package_scopes {
            let scope = scopes::PackageScope::parse(text).ok_or_else(|| {
                Error::invalid(format!(
                    "package scope {text:?} is not a package glob such as vendor/*, \
                     vendor/package or format:owner/name-*"
                ))
            })?;
            if let Some(format) = scope.format() {
                rules.get(format)?;
            }
        }
        if self.expires_at.is_some_and(|t| t <= crate::clock::now()) {
            return Err(Error::invalid("expires_at is in the past"));
        }
        Ok(())
    }
}

/// A customer token as the API and CLI show it: never its value, only the public prefix.
pub fn token_json(row: &TokenRow, customer: &str) -> serde_json::Value {
    serde_json::json!({
        "id": row.id,
        "customer_id": customer,
        "name": row.name,
        "scope": row.level,
        "package_scopes": row.package_scopes,
        "prefix": row.lookup,
        "expires_at": row.expires_at.map(crate::clock::rfc3339),
        "revoked_at": row.revoked_at.map(crate::clock::rfc3339),
        "last_used_at": row.last_used_at.map(crate::clock::rfc3339),
        "last_used_ip": row.last_used_ip,
        "created_at": crate::clock::rfc3339(row.created_at),
    })
}

/// Creates a customer token, within the per-customer maximum; returns the row and plain value.
pub async fn issue_token(
    db: &Db,
    rules: &Rulebook,
    customer: &Customer,
    req: &TokenRequest,
    max_tokens: u32,
) -> Result<(TokenRow, String)> {
    req.check(rules)?;
    let fresh = secret::Fresh::generate(CUSTOMER_PREFIX).await?;
    let mut tx = db.begin_write().await?;
    if tokens::count_live_for_customer(&mut tx, customer.id).await? >= i64::from(max_tokens) {
        return Err(Error::conflict(format!(
            "customer {} already has the maximum of {max_tokens} tokens; revoke one first",
            customer.public_id
        )));
    }
    let row = tokens::insert(
        &mut tx,
        &NewToken {
            kind: "customer",
            name: req.name.trim(),
            lookup: fresh.lookup(),
            secret_hash: &fresh.hash,
            level: req.scope.as_str(),
            customer_id: Some(customer.id),
            package_scopes: &req.package_scopes,
            expires_at: req.expires_at,
        },
    )
    .await?;
    tx.commit().await?;
    Ok((row, fresh.plain))
}

/// Gives a token a new value with the same settings; the old value stops working at once.
pub async fn rotate_token(db: &Db, token: &TokenRow) -> Result<(TokenRow, String)> {
    if token.revoked_at.is_some() {
        return Err(Error::conflict("a revoked token cannot be rotated"));
    }
    let fresh = secret::Fresh::generate(CUSTOMER_PREFIX).await?;
    let mut tx = db.begin_write().await?;
    tokens::replace_secret(&mut tx, token.id, fresh.lookup(), &fresh.hash).await?;
    tx.commit().await?;
    let mut conn = db.pool().acquire().await?;
    let row = tokens::get(&mut conn, token.id)
        .await?
        .ok_or_else(|| Error::internal("token vanished"))?;
    Ok((row, fresh.plain))
}

/// A customer token by id, checked to belong to `customer` when one is given.
pub async fn find_token(db: &Db, customer: Option<&Customer>, id: i64) -> Result<TokenRow> {
    let mut conn = db.pool().acquire().await?;
    tokens::get(&mut conn, id)
        .await?
        .filter(|t| t.kind == "customer")
        .filter(|t| customer.is_none_or(|c| t.customer_id == Some(c.id)))
        .ok_or_else(|| Error::not_found(format!("token {id} not found")))
}

/// Creates a customer with its initial token.
pub async fn create(
    db: &Db,
    rules: &Rulebook,
    fields: &customers::Fields,
    max_tokens: u32,
) -> Result<(Customer, TokenRow, String)> {
    check_fields(fields)?;
    let customer = {
        let mut tx = db.begin_write().await?;
        let customer = customers::insert(&mut tx, &new_public_id(), fields).await?;
        tx.commit().await?;
        customer
    };
    let (token, plain) =
        issue_token(db, rules, &customer, &TokenRequest::initial(), max_tokens).await?;
    Ok((customer, token, plain))
}

/// Moves a customer to `status`; the change counts on its next request on every instance.
pub async fn set_status(
    db: &Db,
    customer: &Customer,
    status: CustomerStatus,
    reason: Option<&str>,
) -> Result<Customer> {
    let mut tx = db.begin_write().await?;
    customers::set_status(&mut tx, customer.id, status.as_str(), reason).await?;
    if status == CustomerStatus::Active {
        customers::set_frozen_versions(&mut tx, customer.id, &[]).await?;
    }
    tx.commit().await?;
    find(db, &customer.public_id).await
}

/// Freezes a customer at the given (package, version) pairs, each of which must exist.
pub async fn freeze(
    db: &Db,
    customer: &Customer,
    versions: &[(PackageRef, String)],
) -> Result<Customer> {
    {
        let mut conn = db.pool().acquire().await?;
        for (package, version) in versions {
            let found = match existing_package(&mut conn, package).await? {
                Some(p) => packages::find_version(&mut conn, p.id, version).await?,
                None => None,
            };
            if found.is_none() {
                return Err(Error::invalid(format!(
                    "cannot freeze at {} {version}: no such version",
                    package.name
                )));
            }
        }
    }
    let mut tx = db.begin_write().await?;
    customers::set_frozen_versions(&mut tx, customer.id, versions).await?;
    customers::set_status(&mut tx, customer.id, CustomerStatus::Frozen.as_str(), None).await?;
    tx.commit().await?;
    find(db, &customer.public_id).await
}

async fn existing_package(
    conn: &mut sqlx::AnyConnection,
    package: &PackageRef,
) -> Result<Option<packages::Package>> {
    match owners::find(conn, &package.owner).await? {
        Some(owner) => packages::find_package(conn, owner.id, &package.format, &package.name).await,
        None => Ok(None),
    }
}

/// A grant as the API takes it: a package (`{"package": "vendor/name"}` for the format that
/// claims bare names, else with `format` and `owner`) or a collection, with a constraint in the
/// package's format's terms (default `*`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    pub format: Option<String>,
    pub owner: Option<String>,
    pub package: Option<String>,
    pub collection: Option<String>,
    pub constraint: Option<String>,
}

/// Checks a grant and resolves what it is for; the package or collection must exist.
pub async fn resolve_grant(
    db: &Db,
    rules: &Rulebook,
    req: &GrantRequest,
) -> Result<(GrantTarget, String)> {
    let constraint = req.constraint.as_deref().unwrap_or("*").trim().to_string();
    let mut conn = db.pool().acquire().await?;
    let target = match (&req.package, &req.collection) {
        (Some(package), None) => {
            let package = rules.resolve(&PackageName {
                format: req.format.clone(),
                owner: req.owner.clone(),
                package: package.clone(),
            })?;
            rules.get(&package.format)?.version_range(&constraint)?;
            if existing_package(&mut conn, &package).await?.is_none() {
                return Err(Error::not_found(format!(
                    "package {} not found",
                    describe(rules, &package)
                )));
            }
            GrantTarget::Package(package)
        }
        (None, Some(_)) if req.format.is_some() || req.owner.is_some() => {
            return Err(Error::invalid(
                "\"format\" and \"owner\" name a package; a collection grant has neither",
            ));
        }
        (None, Some(slug)) => {
            // A collection may hold packages of several formats: its constraint must read the
            // same in each of them.
            let collection = collections::get(&mut conn, slug)
                .await?
                .ok_or_else(|| Error::not_found(format!("collection {slug} not found")))?;
            for format in collection_formats(rules, &collection) {
                rules.get(format)?.version_range(&constraint)?;
            }
            GrantTarget::Collection(collection.id)
        }
        _ => {
            return Err(Error::invalid(
                "a grant names exactly one of \"package\" or \"collection\"",
            ));
        }
    };
    Ok((target, constraint))
}

/// The formats of a collection's members, each once; an empty collection's constraint is read as
/// the bare-name format's, as before collections held other formats. (A member of another format
/// added later whose format cannot read the constraint gets no version through the grant.)
fn collection_formats<'a>(
    rules: &Rulebook,
    collection: &'a collections::Collection,
) -> Vec<&'a str> {
    let mut formats: Vec<&str> = collection
        .packages
        .iter()
        .map(|p| p.format.as_str())
        .collect();
    formats.sort_unstable();
    formats.dedup();
    if formats.is_empty()
        && let Some((format, _)) = rules.bare()
    {
        formats.push(format);
    }
    formats
}

/// How messages name a package: `vendor/name`, or `format package owner/name`.
pub fn describe(rules: &Rulebook, package: &PackageRef) -> String {
    if rules.is_bare(package) {
        package.name.clone()
    } else {
        format!(
            "{} package {}/{}",
            package.format, package.owner, package.name
        )
    }
}

/// Freezes a customer at what it has: per package, the version it downloaded most recently
/// (download counts still in memory are written first so none is missed).
pub async fn freeze_at_current_versions(
    registry: &crate::registry::Registry,
    customer: &Customer,
) -> Result<Customer> {
    registry.downloads.flush(&registry.db).await?;
    let versions = {
        let mut conn = registry.db.pool().acquire().await?;
        crate::model::download_stats::latest_versions_for_customer(&mut conn, customer.id).await?
    };
    freeze(&registry.db, customer, &versions).await
}

/// A grant as the API and CLI show it: its package (named as `Rulebook::fields` does) or its
/// collection, its constraint and when it was made.
pub fn grant_json(rules: &Rulebook, grant: &customers::Grant) -> serde_json::Value {
    let mut fields = match &grant.package {
        Some(package) => rules.fields(package),
        None => serde_json::Map::new(),
    };
    if let Some(slug) = &grant.collection {
        fields.insert("collection".into(), serde_json::json!(slug));
    }
    fields.insert("constraint".into(), serde_json::json!(grant.constraint));
    fields.insert(
        "created_at".into(),
        serde_json::json!(crate::clock::rfc3339(grant.created_at)),
    );
    serde_json::Value::Object(fields)
}

/// Every grant of a customer, as `grant_json` shows each.
pub async fn grants_json(
    db: &Db,
    rules: &Rulebook,
    customer: &Customer,
) -> Result<serde_json::Value> {
    let mut conn = db.pool().acquire().await?;
    let grants = customers::grants(&mut conn, customer.id).await?;
    Ok(grants.iter().map(|g| grant_json(rules, g)).collect())
}

/// A collection as the API shows it, each member named as `Rulebook::describe` does.
pub fn collection_json(rules: &Rulebook, c: &collections::Collection) -> serde_json::Value {
    serde_json::json!({
        "slug": c.slug,
        "name": c.name,
        "description": c.description,
        "packages": c.packages.iter().map(|p| rules.describe(p)).collect::<Vec<_>>(),
        "created_at": crate::clock::rfc3339(c.created_at),
        "updated_at": crate::clock::rfc3339(c.updated_at),
    })
}
