//! `cargoman team-token create|list|rotate|revoke`: team (management API) tokens, over the same
//! operations and with the same JSON as `/api/v1/tokens`.

use clap::Subcommand;

use super::token_line;
use crate::console::{print, print_list};
use crate::db::Db;
use crate::error::Result;
use crate::model::Page;
use crate::team_tokens;

#[derive(Subcommand)]
pub enum TeamTokenCommand {
    /// Create a token for the management API; prints the value once.
    Create {
        #[arg(long)]
        name: String,
        /// owner (everything, including team tokens), admin (packages and owners) or viewer
        /// (read only).
        #[arg(long)]
        level: String,
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    /// List team tokens (never their values).
    List,
    /// Give a token a new value; the old one stops working.
    Rotate { token_id: i64 },
    /// Revoke a token.
    Revoke { token_id: i64 },
}

pub async fn team_token_command(db: &Db, action: TeamTokenCommand, json: bool) -> Result<()> {
    match action {
        TeamTokenCommand::Create {
            name,
            level,
            expires_in_days,
        } => {
            let expires_at = expires_in_days.map(|d| crate::clock::now() + i64::from(d) * 86_400);
            let issued = team_tokens::issue(db, &name, &level, expires_at).await?;
            print(json, &issued, || {
                format!(
                    "team token {} ({}, {})\nvalue (shown once): {}",
                    issued.row.id, issued.row.name, issued.row.level, issued.token
                )
            });
        }
        TeamTokenCommand::List => {
            let listing = team_tokens::list(db, Page::new(None, Some(Page::MAX_PER_PAGE))).await?;
            let lines = listing.items.iter().map(token_line).collect();
            print_list(json, &listing.items, lines, "no team tokens");
        }
        TeamTokenCommand::Rotate { token_id } => {
            let issued = team_tokens::rotate(db, token_id).await?;
            print(json, &issued, || {
                format!(
                    "team token {token_id} rotated\nnew value (shown once): {}",
                    issued.token
                )
            });
        }
        TeamTokenCommand::Revoke { token_id } => {
            let row = team_tokens::revoke(db, token_id).await?;
            print(json, &row, || format!("revoked team token {token_id}"));
        }
    }
    Ok(())
}
