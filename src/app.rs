//! Building a running server from a `Config`: database and migrations, blob store, root token,
//! background jobs, and a graceful stop that lets in-flight requests finish.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::auth::{Authenticator, RootToken, secret};
use crate::blobs::BlobStore;
use crate::config::{AdminTokenSource, Config};
use crate::db::{Db, run_migrations};
use crate::error::Result;
use crate::formats::Format;
use crate::maintenance::Retention;
use crate::model::settings;
use crate::registry::Registry;
use crate::router::router;
use crate::state::{AppState, Shared};
use crate::tasks::{Handler, Queue};
use std::collections::HashMap;

/// Settings key of the generated root token's hash (`root_token`, `cargoman admin-token reset`).
pub const GENERATED_ADMIN_HASH: &str = "admin_token_hash";
/// The generated root token's lookup prefix, so guesses of another prefix are never hashed.
pub const GENERATED_ADMIN_LOOKUP: &str = "admin_token_lookup";
const DOWNLOAD_FLUSH_INTERVAL: Duration = Duration::from_secs(5);
/// How often records past their retention (`maintenance::Retention`) are removed; `cleanup`
/// tasks remove them too.
const PURGE_INTERVAL: Duration = Duration::from_secs(3600);

pub struct App {
    pub state: AppState,
    /// Every registered format: its routes, its background jobs.
    formats: Arc<[Box<dyn Format>]>,
    /// https when the configuration names a certificate and key.
    tls: Option<tokio_rustls::TlsAcceptor>,
}

impl App {
    /// The server speaking every registered format (`formats::all`).
    pub async fn build(config: Config) -> Result<App> {
        Self::build_with(config, crate::formats::all()).await
    }

    /// The server speaking the given formats (tests add a toy format this way).
    pub async fn build_with(config: Config, formats: Vec<Box<dyn Format>>) -> Result<App> {
        // Bad certificate files stop the start before anything else is opened.
        let tls = config
            .tls
            .as_ref()
            .map(crate::http::tls::acceptor)
            .transpose()?;
        let registry = open_registry(&config).await?;
        let root = root_token(&registry.db, &config.admin_token).await?;
        crate::http::metrics_handle();
        let config = Arc::new(config);
        let formats: Arc<[Box<dyn Format>]> = formats.into();
        register_hooks(&registry, &formats, &config);
        let mut handlers: HashMap<String, Handler> = formats
            .iter()
            .flat_map(|f| f.task_handlers(&registry, &config))
            .collect();
        let cleanup_registry = registry.clone();
        let retention = retention(&config);
        handlers.insert(
            crate::maintenance::CLEANUP_TASK.to_string(),
            Arc::new(move |_task| {
                let registry = cleanup_registry.clone();
                Box::pin(async move {
                    let report = crate::maintenance::cleanup(&registry, retention).await?;
                    Ok(serde_json::to_value(report).unwrap_or_default())
                })
            }),
        );
        if let Some(feed) = &config.advisories.url {
            handlers.insert(
                crate::advisory_import::IMPORT_TASK.to_string(),
                crate::advisory_import::task_handler(registry.db.clone(), feed.clone()),
            );
        }
        Ok(App {
            state: AppState::new(Shared {
                auth: Arc::new(Authenticator::new(
                    registry.db.clone(),
                    root,
                    config.customers.jwt_secret.as_deref(),
                    &config.auth,
                )),
                tasks: Queue::new(registry.db.clone(), handlers),
                access: Arc::new(crate::customers::AccessCache::new(rulebook(&formats))),
                owner_visibilities: Default::default(),
                client_setups: formats.iter().filter_map(|f| f.client_setup()).collect(),
                audited_prefixes: formats
                    .iter()
                    .flat_map(|f| f.audited_prefixes().iter().copied())
                    .collect(),
                reserved_roots: crate::router::CORE_ROOT_SEGMENTS
                    .iter()
                    .chain(formats.iter().flat_map(|f| f.root_segments()))
                    .copied()
                    .collect(),
                ecosystems: formats
                    .iter()
                    .filter_map(|f| f.advisory_ecosystem())
                    .collect(),
                registry,
                config,
            }),
            formats,
            tls,
        })
    }

    /// Serves until `shutdown` resolves, then waits for in-flight requests and flushes counters.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        let registry = self.state.registry.clone();
        let queue = self.state.tasks.clone();
        let (stop_workers, stop_rx) = tokio::sync::watch::channel(false);
        let workers = queue.start(self.state.config.tasks.workers, stop_rx).await;
        let mut background: Vec<_> = self
            .formats
            .iter()
            .flat_map(|f| f.background(&self.state))
            .map(tokio::spawn)
            .collect();
        let advisories = &self.state.config.advisories;
        if advisories.url.is_some() {
            background.push(tokio::spawn(crate::advisory_import::schedule(
                queue.clone(),
                advisories.interval,
            )));
        }
        let flusher = {
            let registry = registry.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(DOWNLOAD_FLUSH_INTERVAL);
                loop {
                    tick.tick().await;
                    // Also drop kept mappings of blobs another process (the CLI) deleted.
                    registry.blobs.forget_deleted().await;
                    if let Err(e) = registry.downloads.flush(&registry.db).await {
                        tracing::warn!(error = %e, "could not write download counts");
                    }
                }
            })
        };
        let purger = {
            let registry = registry.clone();
            let retention = retention(&self.state.config);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(PURGE_INTERVAL);
                loop {
                    tick.tick().await;
                    match crate::maintenance::purge_expired(&registry.db, retention).await {
                        Ok(report) if report.is_empty() => {}
                        Ok(report) => {
                            tracing::info!(?report, "purged records past their retention")
                        }
                        Err(e) => tracing::warn!(error = %e, "could not purge old records"),
                    }
                    match registry.expire_uploads().await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(sessions = n, "removed expired upload sessions"),
                        Err(e) => tracing::warn!(error = %e, "could not remove expired uploads"),
                    }
                }
            })
        };
        let header_read_timeout = self.state.config.header_read_timeout;
        let tls = self.tls;
        let app = router(self.state, &self.formats);
        let served =
            crate::http::server::serve(listener, app, header_read_timeout, tls, shutdown).await;
        flusher.abort();
        purger.abort();
        for job in background {
            job.abort();
        }
        let _ = stop_workers.send(true);
        for worker in workers {
            worker.abort();
        }
        queue.release_running().await;
        let flushed = registry.downloads.flush(&registry.db).await;
        registry.db.close().await;
        // Only now: connections opened by the serving threads were in use until here.
        let served = served?;
        served.release().await;
        flushed
    }
}

fn retention(config: &Config) -> Retention {
    Retention {
        audit_days: config.customers.audit_retention_days,
        webhook_days: config.webhooks.delivery_retention_days,
    }
}

/// The database (migrated, created when missing) and blob store, without the HTTP side: what
/// `serve` and `migrate` start from.
pub async fn open_registry(config: &Config) -> Result<Registry> {
    let db = Db::connect(&config.database_url, config.database_max_connections).await?;
    registry_on(db, config).await
}

/// The same on a database that must exist already (pending migrations are still applied): what
/// every other command works on.
pub async fn open_existing_registry(config: &Config) -> Result<Registry> {
    let db = Db::connect_existing(&config.database_url, config.database_max_connections).await?;
    registry_on(db, config).await
}

/// Connects the formats' hooks to the registry: document re-rendering and garbage collection.
pub fn register_hooks(registry: &Registry, formats: &[Box<dyn Format>], config: &Arc<Config>) {
    for format in formats {
        if let Some(hook) = format.render_hook(config) {
            registry.on_change(format.name(), hook);
        }
        if let Some(collector) = format.collector(config) {
            registry.on_gc(format.name(), collector);
        }
    }
}

async fn registry_on(db: Db, config: &Config) -> Result<Registry> {
    run_migrations(&db).await?;
    let blobs = BlobStore::from_config(&config.storage)?;
    Ok(Registry::new(db, blobs))
}

async fn root_token(db: &Db, source: &AdminTokenSource) -> Result<RootToken> {
    Ok(match source {
        AdminTokenSource::Plain(token) => RootToken::Digest(secret::fingerprint(token)),
        AdminTokenSource::Argon2Hash(hash) => RootToken::Argon2(hash.clone()),
        AdminTokenSource::Generated => {
            let mut conn = db.pool().acquire().await?;
            if settings::get(&mut conn, GENERATED_ADMIN_HASH)
                .await?
                .is_none()
            {
                let token = secret::Fresh::generate(secret::ROOT_PREFIX).await?;
                let in_force =
                    settings::set_if_absent(&mut conn, GENERATED_ADMIN_HASH, &token.hash).await?;
                // Another instance starting at the same moment may have won; its token stands.
                if in_force == token.hash {
                    settings::set_if_absent(&mut conn, GENERATED_ADMIN_LOOKUP, token.lookup())
                        .await?;
                    println!(
                        "\nNo ADMIN_TOKEN was configured, so one was generated. It is shown only this once;\n\
                         only its hash is stored. Keep it safe:\n\n    ADMIN_TOKEN={}\n",
                        token.plain
                    );
                }
            }
            RootToken::Generated {
                phc: settings::get(&mut conn, GENERATED_ADMIN_HASH)
                    .await?
                    .ok_or_else(|| crate::error::Error::internal("the root token hash vanished"))?,
                lookup: settings::get(&mut conn, GENERATED_ADMIN_LOOKUP).await?,
            }
        }
    })
}

/// Every format's naming and versioning rules, for the code that handles packages of any format.
pub fn rulebook(formats: &[Box<dyn Format>]) -> crate::package_rules::Rulebook {
    crate::package_rules::Rulebook::new(formats.iter().map(|f| f.rules()))
}
