//! `cargoman admin-token reset`: the way back in when the root token generated at first start
//! (printed once, only its hash kept) is lost.

use clap::Subcommand;
use serde_json::json;

use crate::app::{GENERATED_ADMIN_HASH, GENERATED_ADMIN_LOOKUP};
use crate::auth::secret;
use crate::config::{AdminTokenSource, Config};
use crate::console::print;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::model::settings;

#[derive(Subcommand)]
pub enum AdminTokenCommand {
    /// Generate a new root token in place of the stored one and print it once; a running server
    /// takes it at its next start.
    Reset,
}

pub async fn admin_token_command(
    db: &Db,
    config: &Config,
    action: AdminTokenCommand,
    json: bool,
) -> Result<()> {
    match action {
        AdminTokenCommand::Reset => {
            if !matches!(config.admin_token, AdminTokenSource::Generated) {
                return Err(Error::invalid(
                    "ADMIN_TOKEN or ADMIN_TOKEN_HASH is set, so that is the root token and no \
                     generated one is used: change it there instead",
                ));
            }
            let fresh = secret::Fresh::generate(secret::ROOT_PREFIX).await?;
            let token = &fresh.plain;
            let mut tx = db.begin_write().await?;
            settings::set(&mut tx, GENERATED_ADMIN_HASH, &fresh.hash).await?;
            settings::set(&mut tx, GENERATED_ADMIN_LOOKUP, fresh.lookup()).await?;
            tx.commit().await?;
            print(json, &json!({ "token": token }), || {
                format!(
                    "A new root token replaces the old one (a running server takes it when it \
                     restarts).\nIt is shown only this once; keep it safe:\n\n    ADMIN_TOKEN={token}\n"
                )
            });
        }
    }
    Ok(())
}
