//! `cargoman advisories import PATH|URL` and `cargoman audit [LOCK]`: security advisories on the
//! database directly, like the rest of the command line.
//!
//! `audit` exits 0 when no finding is at or above `--min-severity` (default low; an advisory
//! without a severity counts as meeting every threshold), 1 when one is (with `--fail-on-any`,
//! when anything is found), 2 for bad arguments or an unreadable lock file, 3 when the database
//! cannot be opened.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand, ValueEnum};

use crate::advisories::{Ecosystem, Severity, report};
use crate::advisory_import as import;
use crate::app::open_existing_registry;
use crate::config::Config;
use crate::console::print;
use crate::error::Result;
use crate::model::advisories;

#[derive(Subcommand)]
pub enum AdvisoriesCommand {
    /// Import OSV advisories from a JSON file (one object or an array), a folder of *.json
    /// files, or an http(s) URL; an id already stored is replaced only by a newer `modified`.
    /// Nothing is stored when any record is invalid.
    Import { source: String },
}

pub async fn advisories_command(
    config: &Config,
    action: AdvisoriesCommand,
    json: bool,
) -> Result<()> {
    let AdvisoriesCommand::Import { source } = action;
    // Read and checked before the database is opened: a bad file is reported as such.
    let list = import::load(&source).await?;
    let registry = open_existing_registry(config).await?;
    let report = import::store(&registry.db, &list).await?;
    print(json, &report, || {
        format!(
            "read {} advisory(ies): {} added, {} replaced, {} unchanged",
            report.read, report.added, report.replaced, report.unchanged
        )
    });
    Ok(())
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Junit,
    Sarif,
}

#[derive(Args)]
pub struct AuditArgs {
    /// The lock file to audit (default: composer.lock, or the lock file of the first format
    /// that reads advisories).
    lock: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
    /// Fail (exit 1) on any finding, whatever its severity.
    #[arg(long)]
    fail_on_any: bool,
    /// Fail only on findings at or above this severity.
    #[arg(long, value_enum, default_value = "low")]
    min_severity: Severity,
}

/// Runs `cargoman audit`; the exit code is the answer (see the module's documentation).
pub async fn audit_command(
    config: &Config,
    args: AuditArgs,
    global_json: bool,
) -> Result<ExitCode> {
    let ecosystems: Vec<Arc<dyn Ecosystem>> = crate::formats::all()
        .iter()
        .filter_map(|f| f.advisory_ecosystem())
        .collect();
    let Some(first) = ecosystems.first() else {
        eprintln!("error: no format reads security advisories");
        return Ok(ExitCode::from(2));
    };
    let lock = args
        .lock
        .unwrap_or_else(|| PathBuf::from(first.lock_file()));
    let file_name = lock.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let ecosystem = ecosystems
        .iter()
        .find(|e| e.lock_file() == file_name)
        .unwrap_or(first);
    let locked = match std::fs::read(&lock)
        .map_err(|e| e.to_string())
        .and_then(|bytes| ecosystem.locked_packages(&bytes).map_err(|e| e.to_string()))
    {
        Ok(locked) => locked,
        Err(e) => {
            eprintln!("error: {}: {e}", lock.display());
            return Ok(ExitCode::from(2));
        }
    };
    let registry = open_existing_registry(config).await?;
    let names: Vec<String> = locked.iter().map(|p| p.name.clone()).collect();
    let known = {
        let mut conn = registry.db.pool().acquire().await?;
        advisories::of_packages(&mut conn, ecosystem.name(), Some(&names), None).await?
    };
    let found = report::findings(ecosystem.as_ref(), &locked, &known);
    let format = if global_json {
        ReportFormat::Json
    } else {
        args.format
    };
    println!(
        "{}",
        match format {
            ReportFormat::Text => report::text(&found, locked.len()),
            ReportFormat::Json => report::json(&found, locked.len()),
            ReportFormat::Junit => report::junit(&found, locked.len()),
            ReportFormat::Sarif => report::sarif(&found, &lock.display().to_string()),
        }
    );
    let failing = found
        .iter()
        .any(|f| args.fail_on_any || f.at_least(args.min_severity));
    Ok(if failing {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
