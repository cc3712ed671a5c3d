//! `cargoman package list` (every format), and the formats' own commands under `cargoman
//! package` (`Format::package_commands`: Composer's `add`, `show`, `sync`, `delete`).

use std::sync::Arc;

use clap::Subcommand;

use crate::config::Config;
use crate::console::print_list;
use crate::error::{Error, Result};
use crate::format::{Format, ParsedCommand};
use crate::model::packages;
use crate::registry::Registry;

#[derive(Subcommand)]
pub enum PackageCommand {
    /// List the packages of every format (owner, name, newest version, Git repository).
    List {
        /// Only packages of this format.
        #[arg(long)]
        format: Option<String>,
    },
    /// A format's own command (see the list below).
    #[command(external_subcommand)]
    Format(Vec<String>),
}

/// The formats' own commands, as `cargoman package --help` lists them after its own.
pub fn format_commands_help(formats: &[Box<dyn Format>]) -> String {
    let commands: Vec<(String, String)> = formats
        .iter()
        .filter_map(|f| f.package_commands())
        .flat_map(|c| c.list())
        .collect();
    let width = commands.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let mut help = String::from("Commands of the formats:");
    for (name, about) in commands {
        help += &format!("\n  {name:width$}  {about}");
    }
    help
}

/// A `package` command, parsed (a format's by that format), before the database is opened.
pub enum Parsed {
    List { format: Option<String> },
    Format(Box<dyn ParsedCommand>),
}

/// Parses what `PackageCommand` left to a format: the format whose command it names parses it.
pub fn parse(formats: &[Box<dyn Format>], action: PackageCommand) -> Result<Parsed> {
    match action {
        PackageCommand::List { format } => Ok(Parsed::List { format }),
        PackageCommand::Format(args) => {
            let name = args.first().cloned().unwrap_or_default();
            let commands = formats
                .iter()
                .filter_map(|f| f.package_commands())
                .find(|c| c.list().iter().any(|(n, _)| *n == name))
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "no package command {name:?}; `cargoman package --help` lists them"
                    ))
                })?;
            Ok(Parsed::Format(commands.parse(args)))
        }
    }
}

pub async fn package_command(
    formats: &[Box<dyn Format>],
    registry: Registry,
    config: Arc<Config>,
    parsed: Parsed,
    json: bool,
) -> Result<()> {
    match parsed {
        Parsed::List { format } => {
            let mut listed = {
                let mut conn = registry.db.pool().acquire().await?;
                packages::summaries(&mut conn, format.as_deref()).await?
            };
            latest_by_format_order(formats, &registry, &mut listed).await?;
            let lines = listed.iter().map(summary_line).collect();
            let empty = match &format {
                Some(format) => format!("no {format} packages"),
                None => "no packages".to_string(),
            };
            print_list(json, &listed, lines, &empty);
            Ok(())
        }
        Parsed::Format(command) => command.run(registry, config, json).await,
    }
}

/// Each package shows its latest release by its own format's version order.
async fn latest_by_format_order(
    formats: &[Box<dyn Format>],
    registry: &Registry,
    listed: &mut [packages::PackageSummary],
) -> Result<()> {
    let mut conn = registry.db.pool().acquire().await?;
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
