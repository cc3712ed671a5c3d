//! `cargoman package list` (every format) and `cargoman package add|show|sync|delete` (Composer
//! packages synced from Git; syncs run inline).

use clap::Subcommand;
use serde_json::Value;

use super::{print, print_json, print_list};
use crate::error::{Error, Result};
use crate::formats::composer::Composer;
use crate::model::packages;

#[derive(Subcommand)]
pub enum PackageCommand {
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
    /// List the packages of every format (owner, name, newest version, Git repository).
    List {
        /// Only packages of this format (generic, composer).
        #[arg(long)]
        format: Option<String>,
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

pub async fn package_command(
    composer: &Composer,
    action: PackageCommand,
    json: bool,
) -> Result<()> {
    let sync = |name: String| async move {
        let package = composer.find_existing(&name).await?;
        let report = composer.sync_task(package.id).await?;
        print(json, &report, || summary(&name, &report));
        Ok::<_, Error>(())
    };
    match action {
        PackageCommand::Add {
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
        PackageCommand::List { format } => {
            let mut listed = {
                let mut conn = composer.registry.db.pool().acquire().await?;
                packages::summaries(&mut conn, format.as_deref()).await?
            };
            latest_by_format_order(composer, &mut listed).await?;
            let lines = listed.iter().map(summary_line).collect();
            let empty = match &format {
                Some(format) => format!("no {format} packages"),
                None => "no packages".to_string(),
            };
            print_list(json, &listed, lines, &empty);
        }
        PackageCommand::Show { name } => {
            let package = composer.find_existing(&name).await?;
            print_json(&composer.describe(&package).await?);
        }
        PackageCommand::Sync { name, all } => match (name, all) {
            (Some(name), false) => sync(name).await?,
            (None, true) => {
                for p in composer.describe_all().await? {
                    sync(p["name"].as_str().unwrap_or_default().to_string()).await?;
                }
            }
            _ => return Err(Error::invalid("give a package name or --all")),
        },
        PackageCommand::Delete { name } => {
            let package = composer.find_existing(&name).await?;
            composer.registry.delete_package(package.id).await?;
            println!("deleted {name}");
        }
    }
    Ok(())
}

/// Each package shows its latest release by its own format's version order.
async fn latest_by_format_order(
    composer: &Composer,
    listed: &mut [packages::PackageSummary],
) -> Result<()> {
    let formats = crate::formats::all();
    let mut conn = composer.registry.db.pool().acquire().await?;
    for summary in listed.iter_mut() {
        let Some(format) = formats.iter().find(|f| f.name() == summary.format) else {
            continue;
        };
        let versions = packages::all_versions(&mut conn, summary.id).await?;
        if let Some(latest) = format.rules().latest_release(&versions) {
            summary.newest_version = Some(latest);
        }
    }
    Ok(())
}

/// `format  owner  name  newest  N version(s)  [repository]`, tab separated.
fn summary_line(p: &packages::PackageSummary) -> String {
    let mut line = format!(
        "{}\t{}\t{}\t{}\t{} version(s)",
        p.format,
        p.owner,
        p.name,
        p.newest_version.as_deref().unwrap_or("-"),
        p.versions
    );
    if let Some(url) = &p.repository_url {
        line += &format!("\t{url}");
    }
    line
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
