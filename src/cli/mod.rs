//! Command-line management that runs on the database directly (no server needed): the
//! `package`, `customer`, `token`, `team-token`, `admin-token`, `advisories` and `audit`
//! commands. The `cargoman` binary
//! (src/main.rs) parses and dispatches.

pub mod admin_token;
pub mod advisories;
pub mod customers;
pub mod packages;
pub mod team_tokens;

use crate::model::tokens::TokenRow;

/// `id  level  live|revoked|expired  name  [package globs]`, tab separated.
pub fn token_line(row: &TokenRow) -> String {
    let state = if row.revoked_at.is_some() {
        "revoked"
    } else if row.expires_at.is_some_and(|t| t <= crate::clock::now()) {
        "expired"
    } else {
        "live"
    };
    let mut line = format!("{}\t{}\t{state}\t{}", row.id, row.level, row.name);
    if !row.package_scopes.is_empty() {
        line += &format!("\t{}", row.package_scopes.join(","));
    }
    line
}
