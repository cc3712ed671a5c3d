//! Composer's commands under `cargoman package`: `add`, `show`, `sync` and `delete` of packages
//! synced from Git. They run on the database directly; syncs run inline.

use std::sync::Arc;

use clap::{CommandFactory, Parser, Subcommand};
use futures_util::future::BoxFuture;
use serde_json::Value;

use super::Composer;
use crate::config::Config;
use crate::console::{print, print_json};
use crate::error::{Error, Result};
use crate::format::{PackageCommands, ParsedCommand};
use crate::registry::Registry;

#[derive(Parser)]
#[command(name = "cargoman package")]
struct Args {
    /// Print reports as JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Add a Composer package from a Git repository and sync it.
    Add {
        /// Repository URL (https://, http://, git://; file://, a local path or a loopback or
        /// private host only with GIT_ALLOW_LOCAL=true).
        url: String,
        /// vendor/package; read from composer.json when omitted.
        #[arg(long)]
        name: Option<String>,
        /// github, gitlab, bitbucket or git (guessed from the URL when omitted).
        #[arg(long = "type")]
        provider: Option<String>,
        /// A monorepo: glob of its packages' composer.json files (e.g. "packages/*/composer.json").
        #[arg(long)]
        monorepo: Option<String>,
    },
    /// Show one Composer package synced from Git with its versions and skipped refs.
    Show { name: String },
    /// Sync one Composer package from Git, or every one with --all.
    Sync {
        name: Option<String>,
        #[arg(long)]
        all: bool,
    },
    /// Delete a Composer package synced from Git with its versions and archives.
    Delete { name: String },
}

pub struct ComposerCommands;

impl PackageCommands for ComposerCommands {
    fn list(&self) -> Vec<(String, String)> {
        Args::command()
            .get_subcommands()
            .map(|c| {
                let about = c.get_about().map(|a| a.to_string()).unwrap_or_default();
                (c.get_name().to_string(), about)
            })
            .collect()
    }

    fn parse(&self, args: Vec<String>) -> Box<dyn ParsedCommand> {
        let prefix = std::iter::once("cargoman package".to_string());
        Box::new(Args::try_parse_from(prefix.chain(args)).unwrap_or_else(|e| e.exit()))
    }
}

impl ParsedCommand for Args {
    fn run(
        self: Box<Self>,
        registry: Registry,
        config: Arc<Config>,
        json: bool,
    ) -> BoxFuture<'static, Result<()>> {
        Box::pin(async move {
            let composer = Composer { registry, config };
            run(&composer, self.command, json || self.json).await
        })
    }
}

async fn run(composer: &Composer, command: Command, json: bool) -> Result<()> {
    let sync = |name: String| async move {
        let package = composer.find_existing(&name).await?;
        let report = composer.sync_task(package.id).await?;
        print(json, &report, || summary(&name, &report));
        Ok::<_, Error>(())
    };
    match command {
        Command::Add {
            url,
            name,
            provider,
            monorepo,
        } => {
            let package = composer
                .add(name, &url, provider.as_deref(), monorepo.as_deref())
                .await?;
            sync(package.name).await?;
        }
        Command::Show { name } => {
            let package = composer.find_existing(&name).await?;
            print_json(&composer.describe(&package).await?);
        }
        Command::Sync { name, all } => match (name, all) {
            (Some(name), false) => sync(name).await?,
            (None, true) => {
                for p in composer.describe_all().await? {
                    sync(p["name"].as_str().unwrap_or_default().to_string()).await?;
                }
            }
            _ => return Err(Error::invalid("give a package name or --all")),
        },
        Command::Delete { name } => {
            let package = composer.find_existing(&name).await?;
            composer.registry.delete_package(package.id).await?;
            println!("deleted {name}");
        }
    }
    Ok(())
}

/// One line per synced package: what changed, then the refs skipped and why.
fn summary(name: &str, report: &Value) -> String {
    let count = |r: &Value, key: &str| r[key].as_array().map_or(0, Vec::len);
    let one = |name: &str, r: &Value| {
        let mut line = format!(
            "{name}: {} added, {} updated, {} removed, {} unchanged, {} skipped",
            count(r, "added"),
            count(r, "updated"),
            count(r, "removed"),
            r["unchanged"].as_u64().unwrap_or(0),
            count(r, "skipped"),
        );
        for s in r["skipped"].as_array().into_iter().flatten() {
            line += &format!(
                "\n  skipped {}: {}",
                s["reference"].as_str().unwrap_or(""),
                s["reason"].as_str().unwrap_or("")
            );
        }
        line
    };
    if report.get("root").is_none() {
        return one(name, report);
    }
    let mut text = one(name, &report["root"]);
    for child in report["children"].as_array().into_iter().flatten() {
        let child_name = child["name"].as_str().unwrap_or("");
        match child["error"].as_str() {
            Some(e) => text += &format!("\n{child_name}: failed: {e}"),
            None => text += &format!("\n{}", one(child_name, &child["sync"])),
        }
    }
    text
}
