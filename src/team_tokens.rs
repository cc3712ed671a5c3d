//! Team (management) tokens: `cma_` + 32 alphanumerics, levels owner/admin/viewer. Issuing,
//! finding, rotating and revoking, shared by the management API (`api::tokens`) and the command
//! line (`cli::team_tokens`). Only an Argon2 hash of a value is stored; the value is returned once.

use crate::auth::TeamLevel;
use crate::auth::secret::{self, TEAM_PREFIX};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::model::tokens::{self, NewToken, TokenRow};
use crate::model::{Listing, Page};

const KIND: &str = "team";

/// A token with its plain value, shown only in the answer that created or rotated it.
#[derive(serde::Serialize)]
pub struct Issued {
    #[serde(flatten)]
    pub row: TokenRow,
    pub token: String,
}

/// Creates a token named `name` (1 to 100 characters) at `level`.
pub async fn issue(db: &Db, name: &str, level: &str, expires_at: Option<i64>) -> Result<Issued> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(Error::invalid("name must be 1 to 100 characters"));
    }
    crate::text::check_visible("name", name)?;
    let level = TeamLevel::parse(level)
        .ok_or_else(|| Error::invalid("level must be owner, admin or viewer"))?;
    let fresh = secret::Fresh::generate(TEAM_PREFIX).await?;
    let mut tx = db.begin_write().await?;
    let row = tokens::insert(
        &mut tx,
        &NewToken {
            kind: KIND,
            name,
            lookup: fresh.lookup(),
            secret_hash: &fresh.hash,
            level: level.as_str(),
            customer_id: None,
            package_scopes: &[],
            expires_at,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Issued {
        row,
        token: fresh.plain,
    })
}

pub async fn list(db: &Db, page: Page) -> Result<Listing<TokenRow>> {
    let mut conn = db.pool().acquire().await?;
    tokens::list(&mut conn, KIND, None, page).await
}

/// A team token by id (a customer token's id is not found here).
pub async fn find(db: &Db, id: i64) -> Result<TokenRow> {
    let mut conn = db.pool().acquire().await?;
    tokens::get(&mut conn, id)
        .await?
        .filter(|t| t.kind == KIND)
        .ok_or_else(|| Error::not_found(format!("token {id} not found")))
}

/// Revokes a token; returns it as it is now.
pub async fn revoke(db: &Db, id: i64) -> Result<TokenRow> {
    find(db, id).await?;
    let mut tx = db.begin_write().await?;
    tokens::revoke(&mut tx, id).await?;
    tx.commit().await?;
    find(db, id).await
}

/// Gives a live token a new value; the old one stops working.
pub async fn rotate(db: &Db, id: i64) -> Result<Issued> {
    if find(db, id).await?.revoked_at.is_some() {
        return Err(Error::conflict("a revoked token cannot be rotated"));
    }
    let fresh = secret::Fresh::generate(TEAM_PREFIX).await?;
    let mut tx = db.begin_write().await?;
    tokens::replace_secret(&mut tx, id, fresh.lookup(), &fresh.hash).await?;
    tx.commit().await?;
    Ok(Issued {
        row: find(db, id).await?,
        token: fresh.plain,
    })
}
