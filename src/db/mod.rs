//! One metadata code path for SQLite and PostgreSQL: sqlx's `Any` driver with `$n` placeholders and
//! epoch-second BIGINT times. The only backend differences live here and in `migrate`.

mod migrate;
pub mod recent;

use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::error::{Error, Result};

pub use migrate::{run_migrations, run_migrations_up_to};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer at a time; writers of this process queue here instead of polling
    /// SQLite's lock with its busy handler's growing sleeps.
    sqlite_writer: Arc<Mutex<()>>,
    /// Write transactions this process committed: in-memory copies of rows (the token cache)
    /// compare it to know whether something may have changed under them.
    writes: Arc<AtomicU64>,
}

/// A write transaction; with SQLite it also holds this process's writer turn until it ends.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    _turn: Option<OwnedMutexGuard<()>>,
    writes: Arc<AtomicU64>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        self.writes.fetch_add(1, Ordering::Release);
        Ok(())
    }
}

impl Deref for WriteTx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

/// How long opening waits for the database server to answer before saying so.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl Db {
    /// Connects, creating a missing SQLite file and its folder: for `serve` and `migrate`.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db> {
        Self::open(url, max_connections, true).await
    }

    /// Connects to a database that already holds Cargoman's tables, as every command but `serve`
    /// and `migrate` does: run in the wrong folder, a command names the database it did not find
    /// instead of creating an empty one there.
    pub async fn connect_existing(url: &str, max_connections: u32) -> Result<Db> {
        let db = Self::open(url, max_connections, false).await?;
        if !migrate::is_initialized(&db).await? {
            db.close().await;
            return Err(Error::DatabaseUnavailable(format!(
                "the database {} has no Cargoman tables; `cargoman migrate` or `cargoman serve` \
                 creates them",
                without_password(url)
            )));
        }
        Ok(db)
    }

    async fn open(url: &str, max_connections: u32, create: bool) -> Result<Db> {
        sqlx::any::install_default_drivers();
        let (backend, connect_url) =
            if url.starts_with("postgres://") || url.starts_with("postgresql://") {
                (Backend::Postgres, url.to_string())
            } else if url.starts_with("sqlite:") {
                (Backend::Sqlite, prepare_sqlite_url(url, create)?)
            } else {
                return Err(Error::invalid(format!(
                    "DATABASE_URL must start with sqlite: or postgres://, got {url:?}"
                )));
            };
        let options = AnyConnectOptions::from_str(&connect_url)?;
        probe(&options, &without_password(url)).await?;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(2))
            // A database that goes away after the probe fails the start soon rather than hang.
            .acquire_timeout(CONNECT_TIMEOUT)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers proceed during a write; the busy timeout makes writers
                        // queue instead of failing; foreign keys are off by default in SQLite.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Db {
            pool,
            backend,
            sqlite_writer: Arc::new(Mutex::new(())),
            writes: Arc::default(),
        })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A transaction that will write. SQLite takes the write lock up front (`BEGIN IMMEDIATE`), so
    /// two writers queue on the busy timeout instead of one failing when it upgrades its read lock.
    pub async fn begin_write(&self) -> Result<WriteTx> {
        Ok(match self.backend {
            Backend::Sqlite => {
                let turn = self.sqlite_writer.clone().lock_owned().await;
                WriteTx {
                    tx: self.pool.begin_with("BEGIN IMMEDIATE").await?,
                    _turn: Some(turn),
                    writes: self.writes.clone(),
                }
            }
            Backend::Postgres => WriteTx {
                tx: self.pool.begin().await?,
                _turn: None,
                writes: self.writes.clone(),
            },
        })
    }

    /// How many write transactions this process has committed so far.
    pub fn write_epoch(&self) -> u64 {
        self.writes.load(Ordering::Acquire)
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// One connection before the pool: its error says at once what is wrong (refused, unknown host,
/// wrong password, no such database) and where, while the pool would retry until its timeout and
/// then report only "pool timed out".
async fn probe(options: &AnyConnectOptions, shown: &str) -> Result<()> {
    let unavailable = |cause: String| {
        Error::DatabaseUnavailable(format!("cannot open the database {shown}: {cause}"))
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, AnyConnection::connect_with(options)).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(unavailable(e.to_string())),
        Err(_) => Err(unavailable(format!(
            "no answer within {} s",
            CONNECT_TIMEOUT.as_secs()
        ))),
    }
}

/// A database URL fit for messages: the password left out.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rsplit_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split_once(':').map_or(credentials, |(u, _)| u);
            format!("{scheme}://{user}@{host}{}", &rest[authority_end..])
        }
        None => url.to_string(),
    }
}

/// With `create`, makes the database file's folder and lets SQLite create the file (`mode=rwc`);
/// without, the file must exist (`mode=rw`) and a missing one is named.
fn prepare_sqlite_url(url: &str, create: bool) -> Result<String> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        return Err(Error::invalid(
            "DATABASE_URL must name a SQLite file (a server shares it between connections)",
        ));
    }
    if !create && !Path::new(path).exists() {
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.into());
        return Err(Error::DatabaseUnavailable(format!(
            "no database at {} (DATABASE_URL={url}): run the command where the server runs, or \
             set DATABASE_URL or --config; `cargoman migrate` creates a new one",
            absolute.display()
        )));
    }
    if create
        && let Some(parent) = Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::invalid(format!("cannot create {}: {e}", parent.display())))?;
    }
    let mode = match (query.contains("mode="), create) {
        (true, _) => "",
        (false, true) => "mode=rwc",
        (false, false) => "mode=rw",
    };
    let sep = if query.is_empty() || mode.is_empty() {
        ""
    } else {
        "&"
    };
    Ok(format!("sqlite://{path}?{query}{sep}{mode}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_get_create_mode() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("sub/c.db");
        let url = format!("sqlite://{}", db.display());
        let missing = prepare_sqlite_url(&url, false).unwrap_err().to_string();
        assert!(missing.contains(&db.display().to_string()), "{missing}");
        assert!(!db.parent().unwrap().exists(), "nothing created");
        assert_eq!(
            prepare_sqlite_url(&url, true).unwrap(),
            format!("sqlite://{}?mode=rwc", db.display())
        );
        assert!(db.parent().unwrap().is_dir());
        std::fs::write(&db, b"").unwrap();
        assert_eq!(
            prepare_sqlite_url(&url, false).unwrap(),
            format!("sqlite://{}?mode=rw", db.display())
        );
        assert!(prepare_sqlite_url("sqlite::memory:", true).is_err());
        assert_eq!(
            prepare_sqlite_url("sqlite:///tmp/x.db?mode=ro", true).unwrap(),
            "sqlite:///tmp/x.db?mode=ro"
        );
    }

    #[test]
    fn messages_leave_the_password_out() {
        assert_eq!(
            without_password("postgres://cargo:s3cret@db.example:5432/reg?sslmode=require"),
            "postgres://cargo@db.example:5432/reg?sslmode=require"
        );
        assert_eq!(
            without_password("postgres://db.example/reg"),
            "postgres://db.example/reg"
        );
        assert_eq!(
            without_password("sqlite://./data/cargoman.db"),
            "sqlite://./data/cargoman.db"
        );
    }
}
