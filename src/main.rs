//! The `cargoman` command line. Exit codes: 0 ok, 1 error, 2 configuration, 3 database.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use cargoman::app::{App, open_existing_registry, open_registry, register_hooks};
use cargoman::cli::admin_token::{AdminTokenCommand, admin_token_command};
use cargoman::cli::advisories::{AdvisoriesCommand, AuditArgs, advisories_command, audit_command};
use cargoman::cli::customers::{CustomerCommand, TokenCommand, customer_command, token_command};
use cargoman::cli::packages::{
    PackageCommand, format_commands_help, package_command, parse as parse_package_command,
};
use cargoman::cli::team_tokens::{TeamTokenCommand, team_token_command};
use cargoman::config::Config;
use cargoman::console::print;
use cargoman::error::Error;
use cargoman::maintenance;

#[derive(Parser)]
#[command(
    name = "cargoman",
    version,
    about = "Self-hosted multi-format package registry"
)]
struct Cli {
    /// Environment file to read settings from (default: ./.env when present).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Print reports as JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (runs pending migrations first).
    Serve {
        /// Port to listen on (overrides PORT).
        #[arg(long)]
        port: Option<u16>,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Run the formats' garbage collection (OCI: layers no manifest names), then delete blobs
    /// nothing holds and stored objects no blob row names.
    Gc {
        /// Leave objects younger than this alone (uploads may still be in progress); 0 is safe
        /// when no server is running, e.g. to clean up after a crash.
        #[arg(long, default_value_t = 3600)]
        grace_seconds: i64,
    },
    /// Report blob rows whose object is missing or corrupt and objects nothing references (exit
    /// code 1); temporary files of interrupted uploads are listed apart and are no problem.
    Fsck {
        /// Also read every object and check its SHA-256.
        #[arg(long)]
        verify: bool,
    },
    /// Packages of every format; Composer packages synced from Git (runs on the database
    /// directly; syncs run inline).
    Package {
        #[command(subcommand)]
        action: PackageCommand,
    },
    /// Customers, their tokens and grants (runs on the database directly).
    Customer {
        #[command(subcommand)]
        action: CustomerCommand,
    },
    /// Customer tokens (runs on the database directly).
    Token {
        #[command(subcommand)]
        action: TokenCommand,
    },
    /// Team tokens for the management API (runs on the database directly).
    TeamToken {
        #[command(subcommand)]
        action: TeamTokenCommand,
    },
    /// The root token generated at first start (when ADMIN_TOKEN is not set).
    AdminToken {
        #[command(subcommand)]
        action: AdminTokenCommand,
    },
    /// Security advisories in OSV form (runs on the database directly).
    Advisories {
        #[command(subcommand)]
        action: AdvisoriesCommand,
    },
    /// Check a lock file (composer.lock) against the stored security advisories. Exit codes: 0
    /// nothing at or above --min-severity, 1 something (or anything, with --fail-on-any), 2 bad
    /// arguments or lock file, 3 database unavailable.
    Audit(AuditArgs),
}

fn main() -> ExitCode {
    // `cargoman package --help` lists the formats' own commands after its own.
    let formats = cargoman::formats::all();
    let help = format_commands_help(&formats);
    let command = Cli::command().mut_subcommand("package", |p| p.after_help(help));
    let cli = Cli::from_arg_matches(&command.get_matches()).unwrap_or_else(|e| e.exit());
    let env_loaded = match &cli.config {
        Some(path) => dotenvy::from_path(path).map_err(|e| (path.clone(), e)),
        None => match dotenvy::dotenv() {
            Err(e) if e.not_found() => Ok(()),
            other => other.map(|_| ()).map_err(|e| (PathBuf::from(".env"), e)),
        },
    };
    if let Err((path, e)) = env_loaded {
        eprintln!("cannot read the environment file {}: {e}", path.display());
        return ExitCode::from(2);
    }
    init_logging();
    let mut config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Serve { port } => {
                if let Some(port) = port {
                    config.override_port(port);
                }
                serve(config).await.map(|_| ExitCode::SUCCESS)
            }
            Command::Migrate => {
                open_registry(&config).await?;
                println!("migrations applied");
                Ok(ExitCode::SUCCESS)
            }
            Command::Gc { grace_seconds } => {
                let registry = open_existing_registry(&config).await?;
                let formats = cargoman::formats::all();
                register_hooks(&registry, &formats, &std::sync::Arc::new(config.clone()));
                let report = maintenance::gc(&registry, grace_seconds).await?;
                print(cli.json, &report, || {
                    let formats: String = report
                        .released_by_format
                        .iter()
                        .filter(|(_, n)| **n > 0)
                        .map(|(format, n)| format!("; {format}: released {n} item(s)"))
                        .collect();
                    format!(
                        "gc: removed {} unused blob(s) and {} stray object(s), freed {} bytes{formats}",
                        report.blob_rows_removed, report.objects_removed, report.bytes_freed
                    )
                });
                Ok(ExitCode::SUCCESS)
            }
            Command::Fsck { verify } => {
                let registry = open_existing_registry(&config).await?;
                let report = maintenance::fsck(&registry, verify).await?;
                print(cli.json, &report, || fsck_text(&report));
                Ok(if report.is_clean() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                })
            }
            Command::Package { action } => {
                let parsed = parse_package_command(&formats, action)?;
                let registry = open_existing_registry(&config).await?;
                let config = std::sync::Arc::new(config);
                package_command(&formats, registry, config, parsed, cli.json).await?;
                Ok(ExitCode::SUCCESS)
            }
            Command::Customer { action } => {
                let registry = open_existing_registry(&config).await?;
                customer_command(&registry.db, &config, action, cli.json).await?;
                Ok(ExitCode::SUCCESS)
            }
            Command::Token { action } => {
                let registry = open_existing_registry(&config).await?;
                token_command(&registry.db, &config, action, cli.json).await?;
                Ok(ExitCode::SUCCESS)
            }
            Command::TeamToken { action } => {
                let registry = open_existing_registry(&config).await?;
                team_token_command(&registry.db, action, cli.json).await?;
                Ok(ExitCode::SUCCESS)
            }
            Command::Advisories { action } => {
                advisories_command(&config, action, cli.json).await?;
                Ok(ExitCode::SUCCESS)
            }
            Command::Audit(args) => audit_command(&config, args, cli.json).await,
            Command::AdminToken { action } => {
                let registry = open_existing_registry(&config).await?;
                admin_token_command(&registry.db, &config, action, cli.json).await?;
                Ok(ExitCode::SUCCESS)
            }
        }
    });
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            match e {
                Error::Database(_) | Error::DatabaseUnavailable(_) => ExitCode::from(3),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

/// One line per problem found, then the temporary upload files, which are not problems.
fn fsck_text(report: &maintenance::FsckReport) -> String {
    let held: Vec<String> = report
        .references
        .iter()
        .map(|(kind, n)| format!("{n} {kind}"))
        .collect();
    let mut lines = vec![format!(
        "fsck: checked {} blob(s), held by references: {}",
        report.blobs_checked,
        if held.is_empty() {
            "none".to_string()
        } else {
            held.join(", ")
        }
    )];
    let mut add = |items: &[String], describe: fn(&String) -> String| {
        lines.extend(items.iter().map(describe));
    };
    add(&report.missing, |s| format!("missing object for blob {s}"));
    add(&report.corrupt, |s| format!("corrupt object for blob {s}"));
    add(&report.unreferenced, |k| format!("unreferenced object {k}"));
    add(&report.dangling_references, |r| {
        format!("reference {r} whose holder is gone")
    });
    add(&report.temporary_uploads, |k| {
        format!("temporary upload file {k} (an upload in progress or interrupted; gc removes it)")
    });
    lines.join("\n")
}

async fn serve(config: Config) -> Result<(), Error> {
    let address = format!("{}:{}", config.host, config.port);
    let app = App::build(config).await?;
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .map_err(|e| Error::internal(format!("cannot listen on {address}: {e}")))?;
    let bound = listener.local_addr().map_err(Error::internal)?;
    tracing::info!(address = %bound, base_url = %app.state.config.base_url, "cargoman is listening");
    app.serve(listener, shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    // Colours only for a person at a terminal: a log file or pipe gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if std::env::var("LOG_FORMAT").is_ok_and(|v| v == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}
