//! The `cargoman` command line. Exit codes: 0 ok, 1 error, 2 configuration, 3 database.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use cargoman::app::{App, open_registry};
use cargoman::cli::customers::{CustomerCommand, TokenCommand, customer_command, token_command};
use cargoman::config::Config;
use cargoman::error::Error;
use cargoman::formats::composer::Composer;
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
    /// Delete blobs no file uses and stored objects no blob row names.
    Gc {
        /// Leave objects younger than this alone (uploads may still be in progress).
        #[arg(long, default_value_t = 3600)]
        grace_seconds: i64,
    },
    /// Report blob rows whose object is missing or corrupt and objects nothing references.
    Fsck {
        /// Also read every object and check its SHA-256.
        #[arg(long)]
        verify: bool,
    },
    /// Composer packages synced from Git (runs on the database directly; syncs run inline).
    Package {
        #[command(subcommand)]
        action: PackageCommand,
    },
    /// Customers of the Composer registry (runs on the database directly).
    Customer {
        #[command(subcommand)]
        action: CustomerCommand,
    },
    /// Customer tokens (runs on the database directly).
    Token {
        #[command(subcommand)]
        action: TokenCommand,
    },
}

#[derive(Subcommand)]
enum PackageCommand {
    /// Add a package from a Git repository and sync it.
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
    /// List packages.
    List,
    /// Show one package with its versions and skipped refs.
    Show { name: String },
    /// Sync one package, or every package with --all.
    Sync {
        name: Option<String>,
        #[arg(long)]
        all: bool,
    },
    /// Delete a package with its versions and archives.
    Delete { name: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env_loaded = match &cli.config {
        Some(path) => dotenvy::from_path(path).map(|_| ()),
        None => match dotenvy::dotenv() {
            Err(e) if e.not_found() => Ok(()),
            other => other.map(|_| ()),
        },
    };
    if let Err(e) = env_loaded {
        eprintln!("cannot read the environment file: {e}");
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
                let registry = open_registry(&config).await?;
                let report = maintenance::gc(&registry, grace_seconds).await?;
                print_report(cli.json, &report, || {
                    format!(
                        "gc: removed {} unused blob(s) and {} stray object(s), freed {} bytes",
                        report.blob_rows_removed, report.objects_removed, report.bytes_freed
                    )
                });
                Ok(ExitCode::SUCCESS)
            }
            Command::Fsck { verify } => {
                let registry = open_registry(&config).await?;
                let report = maintenance::fsck(&registry, verify).await?;
                print_report(cli.json, &report, || {
                    let mut lines = vec![format!("fsck: checked {} blob(s)", report.blobs_checked)];
                    lines.extend(
                        report
                            .missing
                            .iter()
                            .map(|s| format!("missing object for blob {s}")),
                    );
                    lines.extend(
                        report
                            .corrupt
                            .iter()
                            .map(|s| format!("corrupt object for blob {s}")),
                    );
                    lines.extend(
                        report
                            .unreferenced
                            .iter()
                            .map(|k| format!("unreferenced object {k}")),
                    );
                    lines.join("\n")
                });
                Ok(if report.is_clean() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                })
            }
            Command::Package { action } => {
                let registry = open_registry(&config).await?;
                let composer = Composer {
                    registry,
                    config: std::sync::Arc::new(config),
                };
                package_command(&composer, action, cli.json).await?;
                Ok(ExitCode::SUCCESS)
            }
            Command::Customer { action } => {
                let registry = open_registry(&config).await?;
                customer_command(&registry.db, &config, action, cli.json).await?;
                Ok(ExitCode::SUCCESS)
            }
            Command::Token { action } => {
                let registry = open_registry(&config).await?;
                token_command(&registry.db, &config, action, cli.json).await?;
                Ok(ExitCode::SUCCESS)
            }
        }
    });
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            match e {
                Error::Database(_) => ExitCode::from(3),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

async fn package_command(
    composer: &Composer,
    action: PackageCommand,
    json: bool,
) -> Result<(), Error> {
    let show = |value: &serde_json::Value| {
        println!(
            "{}",
            serde_json::to_string_pretty(value).expect("JSON prints")
        );
    };
    let sync = |name: String| async move {
        let package = composer.find_existing(&name).await?;
        let report = composer.sync_task(package.id).await?;
        print_report(json, &report, || summary(&name, &report));
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
        PackageCommand::List => {
            let packages = composer.describe_all().await?;
            if json {
                show(&serde_json::Value::Array(packages));
            } else {
                for p in packages {
                    println!(
                        "{}\t{}\t{}",
                        p["name"].as_str().unwrap_or(""),
                        p["latest_version"].as_str().unwrap_or("-"),
                        p["repository_url"].as_str().unwrap_or("")
                    );
                }
            }
        }
        PackageCommand::Show { name } => {
            let package = composer.find_existing(&name).await?;
            show(&composer.describe(&package).await?);
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

/// One line per synced package: what changed, then the refs skipped and why.
fn summary(name: &str, report: &serde_json::Value) -> String {
    let count = |r: &serde_json::Value, key: &str| r[key].as_array().map_or(0, Vec::len);
    let one = |name: &str, r: &serde_json::Value| {
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

fn print_report<T: serde::Serialize>(json: bool, report: &T, text: impl FnOnce() -> String) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(report).expect("report serializes")
        );
    } else {
        println!("{}", text());
    }
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
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("LOG_FORMAT").is_ok_and(|v| v == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}
