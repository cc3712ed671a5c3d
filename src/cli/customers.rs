//! `cargoman customer create|list|show|suspend|reactivate|delete` and
//! `cargoman token create|list|show|rotate|revoke`, over the same operations as the REST API.

use clap::Subcommand;
use serde_json::{Value, json};

use super::token_line;
use crate::auth::{CustomerScope, CustomerStatus};
use crate::config::Config;
use crate::console::{print, print_json, print_list};
use crate::customers::{self, TokenRequest};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::model::customers::{self as rows, Fields};
use crate::model::{Page, tokens};

#[derive(Subcommand)]
pub enum CustomerCommand {
    /// Create a customer; prints its initial token once.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        external_id: Option<String>,
    },
    /// List customers.
    List {
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Only customers in this state (active, suspended, frozen, expired).
        #[arg(long)]
        status: Option<String>,
    },
    /// Show one customer with its grants.
    Show { id: String },
    /// Suspend a customer: package access is refused until reactivated.
    Suspend {
        id: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Reactivate a suspended, frozen or expired customer.
    Reactivate { id: String },
    /// Delete a customer with its tokens and grants.
    Delete {
        id: String,
        /// Required: deleting cannot be undone.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a scoped token for a customer; prints the value once.
    Create {
        #[arg(long)]
        customer: String,
        /// admin, developer, download or webhook.
        #[arg(long, default_value = "download")]
        scope: String,
        #[arg(long, default_value = "token")]
        name: String,
        /// Package globs the token is limited to, comma separated (e.g. "vendor/*").
        #[arg(long, value_delimiter = ',')]
        packages: Vec<String>,
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    /// List a customer's tokens (never their values).
    List { customer: String },
    /// Show one token.
    Show { token_id: i64 },
    /// Give a token a new value; the old one stops working at once.
    Rotate { token_id: i64 },
    /// Revoke a token.
    Revoke { token_id: i64 },
}

fn customer_line(c: &rows::Customer) -> String {
    format!(
        "{}\t{}\t{}\t{}",
        c.public_id,
        c.status,
        c.name,
        c.external_id.as_deref().unwrap_or("-")
    )
}

pub async fn customer_command(
    db: &Db,
    config: &Config,
    action: CustomerCommand,
    json_output: bool,
) -> Result<()> {
    match action {
        CustomerCommand::Create {
            name,
            email,
            external_id,
        } => {
            let fields = Fields {
                name,
                email,
                external_id,
                expires_at: None,
            };
            let (customer, _, plain) =
                customers::create(db, &rules(), &fields, config.customers.max_tokens).await?;
            let mut value = serde_json::to_value(&customer).map_err(Error::internal)?;
            value["token"] = json!(plain);
            print(json_output, &value, || {
                format!(
                    "created {} ({})\ntoken (shown once): {plain}",
                    customer.public_id, customer.name
                )
            });
        }
        CustomerCommand::List { limit, status } => {
            if let Some(s) = &status
                && CustomerStatus::parse(s).is_none()
            {
                return Err(Error::invalid(format!("unknown status {s:?}")));
            }
            let mut conn = db.pool().acquire().await?;
            let listing =
                rows::list(&mut conn, status.as_deref(), Page::new(None, Some(limit))).await?;
            let value = serde_json::to_value(&listing.items).map_err(Error::internal)?;
            let lines = listing.items.iter().map(customer_line).collect();
            let empty = match &status {
                Some(status) => format!("no {status} customers"),
                None => "no customers".to_string(),
            };
            print_list(json_output, &value, lines, &empty);
        }
        CustomerCommand::Show { id } => {
            let customer = customers::find(db, &id).await?;
            let mut value = serde_json::to_value(&customer).map_err(Error::internal)?;
            value["packages"] = customers::grants_json(db, &rules(), &customer).await?;
            print_json(&value);
        }
        CustomerCommand::Suspend { id, reason } => {
            let customer = customers::find(db, &id).await?;
            let customer =
                customers::set_status(db, &customer, CustomerStatus::Suspended, reason.as_deref())
                    .await?;
            println!("{}", customer_line(&customer));
        }
        CustomerCommand::Reactivate { id } => {
            let customer = customers::find(db, &id).await?;
            let customer =
                customers::set_status(db, &customer, CustomerStatus::Active, None).await?;
            println!("{}", customer_line(&customer));
        }
        CustomerCommand::Delete { id, force } => {
            let customer = customers::find(db, &id).await?;
            if !force {
                return Err(Error::invalid(format!(
                    "deleting {} removes its tokens and grants; repeat with --force",
                    customer.public_id
                )));
            }
            let mut tx = db.begin_write().await?;
            rows::delete(&mut tx, customer.id).await?;
            tx.commit().await?;
            println!("deleted {}", customer.public_id);
        }
    }
    Ok(())
}

/// A token with its customer's public id, as the API shows it.
async fn token_json(db: &Db, row: &tokens::TokenRow) -> Result<Value> {
    let mut conn = db.pool().acquire().await?;
    let customer = match row.customer_id {
        Some(id) => rows::get(&mut conn, id).await?.map(|c| c.public_id),
        None => None,
    };
    Ok(customers::token_json(
        row,
        customer.as_deref().unwrap_or(""),
    ))
}

pub async fn token_command(
    db: &Db,
    config: &Config,
    action: TokenCommand,
    json_output: bool,
) -> Result<()> {
    match action {
        TokenCommand::Create {
            customer,
            scope,
            name,
            packages,
            expires_in_days,
        } => {
            let customer = customers::find(db, &customer).await?;
            let scope = CustomerScope::parse(&scope).ok_or_else(|| {
                Error::invalid(format!(
                    "scope {scope:?} is not one of admin, developer, download, webhook"
                ))
            })?;
            let request = TokenRequest {
                name,
                scope,
                package_scopes: packages
                    .iter()
                    .map(|s| customers::scopes::normalize(s))
                    .collect(),
                expires_at: expires_in_days.map(|d| crate::clock::now() + i64::from(d) * 86_400),
            };
            let (row, plain) = customers::issue_token(
                db,
                &rules(),
                &customer,
                &request,
                config.customers.max_tokens,
            )
            .await?;
            let mut value = token_json(db, &row).await?;
            value["plain_token"] = json!(plain);
            print(json_output, &value, || {
                format!(
                    "token {} for {}\nvalue (shown once): {plain}",
                    row.id, customer.public_id
                )
            });
        }
        TokenCommand::List { customer } => {
            let customer = customers::find(db, &customer).await?;
            let mut conn = db.pool().acquire().await?;
            let listing = tokens::list(
                &mut conn,
                "customer",
                Some(customer.id),
                Page::new(None, Some(100)),
            )
            .await?;
            let value = Value::Array(
                listing
                    .items
                    .iter()
                    .map(|t| customers::token_json(t, &customer.public_id))
                    .collect(),
            );
            let lines = listing.items.iter().map(token_line).collect();
            let empty = format!("no tokens for {}", customer.public_id);
            print_list(json_output, &value, lines, &empty);
        }
        TokenCommand::Show { token_id } => {
            let row = customers::find_token(db, None, token_id).await?;
            print_json(&token_json(db, &row).await?);
        }
        TokenCommand::Rotate { token_id } => {
            let row = customers::find_token(db, None, token_id).await?;
            let (row, plain) = customers::rotate_token(db, &row).await?;
            let mut value = token_json(db, &row).await?;
            value["plain_token"] = json!(plain);
            print(json_output, &value, || {
                format!("token {} rotated\nnew value (shown once): {plain}", row.id)
            });
        }
        TokenCommand::Revoke { token_id } => {
            customers::find_token(db, None, token_id).await?;
            let mut tx = db.begin_write().await?;
            tokens::revoke(&mut tx, token_id).await?;
            tx.commit().await?;
            println!("revoked token {token_id}");
        }
    }
    Ok(())
}

/// Every format's rules, which read token package scopes and grants.
fn rules() -> crate::package_rules::Rulebook {
    crate::app::rulebook(&crate::formats::all())
}
