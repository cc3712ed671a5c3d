//! Building a running server from a `Config`: database and migrations, blob store, root token,
//! background jobs, and a graceful stop that lets in-flight requests finish.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;

use crate::auth::{Authenticator, RootToken, secret};
use crate::blobs::BlobStore;
use crate::config::{AdminTokenSource, Config};
use crate::db::{Db, run_migrations};
use crate::error::Result;
use crate::http::{AppState, router};
use crate::model::settings;
use crate::registry::Registry;

const GENERATED_ADMIN_HASH: &str = "admin_token_hash";
const DOWNLOAD_FLUSH_INTERVAL: Duration = Duration::from_secs(5);

pub struct App {
    pub state: AppState,
}

impl App {
    pub async fn build(config: Config) -> Result<App> {
        let registry = open_registry(&config).await?;
        let root = root_token(&registry.db, &config.admin_token).await?;
        crate::http::metrics_handle();
        Ok(App {
            state: AppState {
                auth: Arc::new(Authenticator::new(registry.db.clone(), root)),
                registry,
                config: Arc::new(config),
            },
        })
    }

    /// Serves until `shutdown` resolves, then waits for in-flight requests and flushes counters.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        let registry = self.state.registry.clone();
        let flusher = {
            let registry = registry.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(DOWNLOAD_FLUSH_INTERVAL);
                loop {
                    tick.tick().await;
                    if let Err(e) = registry.downloads.flush(&registry.db).await {
                        tracing::warn!(error = %e, "could not write download counts");
                    }
                }
            })
        };
        let app = router(self.state).into_make_service_with_connect_info::<SocketAddr>();
        // Without TCP_NODELAY a small response written in two parts waits ~40 ms for a delayed ACK.
        let listener = listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "could not set TCP_NODELAY");
            }
        });
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await;
        flusher.abort();
        registry.downloads.flush(&registry.db).await?;
        registry.db.close().await;
        served?;
        Ok(())
    }
}

/// The database (migrated) and blob store, without the HTTP side: what `migrate`, `gc` and
/// `fsck` need.
pub async fn open_registry(config: &Config) -> Result<Registry> {
    let db = Db::connect(&config.database_url, config.database_max_connections).await?;
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
            if let Some(hash) = settings::get(&mut conn, GENERATED_ADMIN_HASH).await? {
                return Ok(RootToken::Argon2(hash));
            }
            let token = secret::generate("cmr_");
            let hash = secret::hash(&token)?;
            let in_force = settings::set_if_absent(&mut conn, GENERATED_ADMIN_HASH, &hash).await?;
            if in_force == hash {
                println!(
                    "\nNo ADMIN_TOKEN was configured, so one was generated. It is shown only this once;\n\
                     only its hash is stored. Keep it safe:\n\n    ADMIN_TOKEN={token}\n"
                );
            }
            RootToken::Argon2(in_force)
        }
    })
}
