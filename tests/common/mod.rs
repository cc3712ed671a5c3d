//! Test harness: starts the real server in-process on an ephemeral port with a fresh data
//! folder, on each backend pair (SQLite + filesystem, PostgreSQL + S3), and drives it with `curl`.
//! PostgreSQL and the S3 server come from `scripts/test.sh`; a test never skips a backend.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use cargoman::app::App;
use cargoman::config::Config;

pub const ADMIN: &str = "test-root-token";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    SqliteFs,
    PostgresS3,
}

/// Every backend pair. Missing services are a failure with instructions, not a skip.
pub fn backends() -> Vec<Backend> {
    for var in [
        "CARGOMAN_TEST_POSTGRES_URL",
        "CARGOMAN_TEST_S3_ENDPOINT",
        "CARGOMAN_TEST_S3_DIR",
    ] {
        assert!(
            std::env::var(var).is_ok(),
            "{var} is not set: run the suite with ./scripts/test.sh, which starts PostgreSQL and the S3 test server"
        );
    }
    vec![Backend::SqliteFs, Backend::PostgresS3]
}

fn random_name() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("t{}x{n}x{nanos}", std::process::id())
}

pub struct TestServer {
    pub backend: Backend,
    pub base: String,
    pub dir: tempfile::TempDir,
    /// The server's settings as environment variables (also used to run the CLI on its data).
    pub env: HashMap<String, String>,
    /// The formats it speaks (`cargoman::formats::all` unless a test adds its own).
    formats: fn() -> Vec<Box<dyn cargoman::format::Format>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    pub fn start(backend: Backend) -> Self {
        Self::start_with(backend, &[])
    }

    /// Starts with extra or overriding environment settings.
    pub fn start_with(backend: Backend, extra: &[(&str, &str)]) -> Self {
        Self::start_speaking(backend, extra, cargoman::formats::all)
    }

    /// Starts speaking the formats `formats` makes (a test adds a toy format this way).
    pub fn start_speaking(
        backend: Backend,
        extra: &[(&str, &str)],
        formats: fn() -> Vec<Box<dyn cargoman::format::Format>>,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut env: HashMap<String, String> = HashMap::new();
        env.insert("ADMIN_TOKEN".into(), ADMIN.into());
        env.insert("HOST".into(), "127.0.0.1".into());
        env.insert(
            "GIT_CACHE_PATH".into(),
            dir.path().join("git").display().to_string(),
        );
        env.insert("TASK_SYNC_INTERVAL".into(), "0".into());
        // The permission matrices send many wrong tokens from one address on purpose; the
        // failure limit and delay have tests of their own (tests/it/auth.rs).
        env.insert("AUTH_FAILURE_LIMIT".into(), "0".into());
        env.insert("AUTH_FAILURE_DELAY_MS".into(), "0".into());
        // Test repositories are local paths and loopback servers.
        env.insert("GIT_ALLOW_LOCAL".into(), "true".into());
        env.insert("DATABASE_URL".into(), new_database_url(backend, dir.path()));
        match backend {
            Backend::SqliteFs => {
                env.insert(
                    "STORAGE_PATH".into(),
                    dir.path().join("packages").display().to_string(),
                );
            }
            Backend::PostgresS3 => {
                let name = random_name();
                let s3_dir = PathBuf::from(std::env::var("CARGOMAN_TEST_S3_DIR").unwrap());
                std::fs::create_dir_all(s3_dir.join(&name)).unwrap();
                env.insert("STORAGE_BACKEND".into(), "s3".into());
                env.insert("R2_BUCKET".into(), name);
                env.insert(
                    "R2_ENDPOINT".into(),
                    std::env::var("CARGOMAN_TEST_S3_ENDPOINT").unwrap(),
                );
                env.insert(
                    "R2_ACCESS_KEY_ID".into(),
                    std::env::var("CARGOMAN_TEST_S3_ACCESS_KEY").unwrap(),
                );
                env.insert(
                    "R2_SECRET_ACCESS_KEY".into(),
                    std::env::var("CARGOMAN_TEST_S3_SECRET_KEY").unwrap(),
                );
            }
        }
        for (k, v) in extra {
            env.insert(k.to_string(), v.to_string());
        }
        let mut server = TestServer {
            backend,
            base: String::new(),
            dir,
            env,
            formats,
            stop: None,
            thread: None,
        };
        server.launch();
        server
    }

    fn launch(&mut self) {
        // Bind first so BASE_URL (used in generated links) names the real port; a restart binds
        // the same port again.
        let port = self
            .base
            .rsplit(':')
            .next()
            .and_then(|p| p.parse::<u16>().ok())
            .unwrap_or(0);
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind");
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        self.env
            .entry("BASE_URL".into())
            .or_insert_with(|| format!("http://{addr}"));
        let env = self.env.clone();
        let formats = self.formats;
        // An empty value means unset, as in the environment (`ADMIN_TOKEN=""` → generated).
        let config = Config::from_lookup(|k| env.get(k).filter(|v| !v.is_empty()).cloned())
            .expect("test config");
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let app = App::build_with(config, formats())
                    .await
                    .expect("server builds");
                let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                app.serve(listener, async {
                    let _ = stop_rx.await;
                })
                .await
                .expect("server ran");
            });
        });
        let addr = addr_rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("server started");
        self.base = format!("http://{addr}");
        self.stop = Some(stop_tx);
        self.thread = Some(thread);
    }

    /// Stops gracefully and starts again on the same database and storage.
    pub fn restart(&mut self) {
        self.shutdown();
        self.launch();
    }

    /// Stops, replaces the database with one at schema `version` holding what `seed` (SQL
    /// statements) writes, and starts again: the server then migrates it as it would a database
    /// an older release left. Storage is kept.
    pub fn restart_from_schema(&mut self, version: i64, seed: &[&str]) {
        self.shutdown();
        let url = self.env["DATABASE_URL"].clone();
        if let Some(path) = url.strip_prefix("sqlite://") {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{path}{suffix}"));
            }
        }
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let db = cargoman::db::Db::connect(&url, 2).await.unwrap();
                if db.backend() == cargoman::db::Backend::Postgres {
                    for sql in ["DROP SCHEMA public CASCADE", "CREATE SCHEMA public"] {
                        sqlx::query(sql).execute(db.pool()).await.unwrap();
                    }
                }
                cargoman::db::run_migrations_up_to(&db, version)
                    .await
                    .unwrap();
                for sql in seed {
                    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                        .execute(db.pool())
                        .await
                        .unwrap_or_else(|e| panic!("{sql}: {e}"));
                }
                db.close().await;
            });
        self.launch();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            thread.join().expect("server thread");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Runs curl against the server: `args` are curl arguments, with the path as the last one.
    pub fn curl(&self, args: &[&str]) -> Reply {
        let (path, opts) = args.split_last().expect("a path");
        curl(opts, &self.url(path))
    }

    /// curl with the root token as HTTP Basic password (as the seed's examples do).
    pub fn admin(&self, args: &[&str]) -> Reply {
        let auth = format!("admin:{ADMIN}");
        let mut all = vec!["--user", auth.as_str()];
        all.extend_from_slice(args);
        self.curl(&all)
    }

    /// Runs the `cargoman` binary on this server's data.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_cargoman"))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(&self.env)
            .current_dir(self.dir.path())
            .output()
            .expect("cargoman runs")
    }

    /// Writes a file of `size` pseudo-random bytes (seeded) into the temp dir.
    pub fn make_file(&self, name: &str, size: usize, seed: u8) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, pseudo_random(size, seed)).unwrap();
        path
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

pub fn pseudo_random(size: usize, seed: u8) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ u64::from(seed);
    (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// The URL of a new, empty database on `backend`: a SQLite file in `dir`, or a PostgreSQL
/// database of its own.
pub fn new_database_url(backend: Backend, dir: &Path) -> String {
    match backend {
        Backend::SqliteFs => format!("sqlite://{}", dir.join("cargoman.db").display()),
        Backend::PostgresS3 => create_pg_database(&random_name()),
    }
}

fn create_pg_database(name: &str) -> String {
    let admin_url = std::env::var("CARGOMAN_TEST_POSTGRES_URL").unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&admin_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap();
    });
    let (base, _) = admin_url.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_lowercase()).map(String::as_str)
    }
}

pub fn curl(opts: &[&str], url: &str) -> Reply {
    let tmp = tempfile::tempdir().unwrap();
    let body = tmp.path().join("body");
    let headers = tmp.path().join("headers");
    let out = Command::new("curl")
        .args(["-sS", "-o"])
        .arg(&body)
        .arg("-D")
        .arg(&headers)
        .args(["-w", "%{http_code}"])
        .args(opts)
        .arg(url)
        .output()
        .expect("curl is installed");
    let status: u16 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("curl failed: {}", String::from_utf8_lossy(&out.stderr)));
    let raw = std::fs::read_to_string(&headers).unwrap_or_default();
    // With 100-continue there are several header blocks; the last one is the answer.
    let last_block = raw
        .split("\r\n\r\n")
        .filter(|b| !b.trim().is_empty())
        .last()
        .unwrap_or("");
    let headers = last_block
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: std::fs::read(&body).unwrap_or_default(),
    }
}

/// Sends a PUT exactly as written (no client-side path normalisation) and returns the status.
pub fn raw_put(server: &TestServer, path: &str, body: &[u8]) -> u16 {
    use std::io::{Read, Write};
    let addr = server.base.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    write!(
        conn,
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {ADMIN}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    conn.write_all(body).unwrap();
    let mut reply = String::new();
    let _ = conn.read_to_string(&mut reply);
    reply
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {reply:?}"))
}

/// Runs git in `dir` with a fixed identity (test fixtures only; the server never runs git).
pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .expect("git is installed");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Writes a file, creating its folders.
pub fn write(dir: &Path, path: &str, content: &str) {
    let full = dir.join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(full, content).unwrap();
}

/// Reads an HTTP request's head from a test's own loopback server connection; returns its
/// request line (`GET /path HTTP/1.1`).
pub fn read_request_line(stream: &mut std::net::TcpStream) -> String {
    use std::io::Read;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    head.lines().next().unwrap_or("").to_string()
}

/// A Composer package `name` synced from a new local Git repository in `repo` whose one commit
/// is tagged `tag`; waits for the sync.
pub fn synced_composer_package(s: &TestServer, repo: &Path, name: &str, tag: &str) {
    std::fs::create_dir_all(repo).unwrap();
    git(repo, &["init", "-q", "-b", "main"]);
    write(
        repo,
        "composer.json",
        &serde_json::json!({"name": name}).to_string(),
    );
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "first"]);
    git(repo, &["tag", tag]);
    let body = serde_json::json!({"repository_url": format!("file://{}", repo.display())});
    let created = api(s, "POST", "/api/v1/packages", Some(&body));
    assert_eq!(created.status, 201, "{}", created.text());
    wait_for_task(s, &created.json()["data"]["task"]);
}

/// A management API call with the root token and an optional JSON body.
pub fn api(s: &TestServer, method: &str, path: &str, body: Option<&Value>) -> Reply {
    let mut args = vec![
        "-X".to_string(),
        method.to_string(),
        "-H".to_string(),
        format!("Authorization: Bearer {ADMIN}"),
    ];
    if let Some(b) = body {
        args.extend([
            "-H".into(),
            "Content-Type: application/json".into(),
            "-d".into(),
            b.to_string(),
        ]);
    }
    args.push(path.to_string());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    s.curl(&refs)
}

/// Polls a task until it is done; a failed or stuck task fails the test.
pub fn wait_for_task(s: &TestServer, task: &Value) -> Value {
    let id = task["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no task in {task}"));
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let t = api(s, "GET", &format!("/api/v1/tasks/{id}"), None).json()["data"].clone();
        match t["status"].as_str() {
            Some("done") => return t,
            Some("failed") => panic!("sync failed: {t}"),
            _ if Instant::now() > deadline => panic!("task did not finish: {t}"),
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// The versions of `acme/widget` as the management API lists them.
pub fn versions(s: &TestServer) -> Vec<String> {
    let pkg = api(s, "GET", "/api/v1/packages/acme/widget", None).json();
    pkg["data"]["versions"]
        .as_array()
        .unwrap_or_else(|| panic!("no versions in {pkg}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// Runs the real `composer` in `dir` with its own home and cache, never interactive. With `auth`,
/// HTTP Basic credentials (user `token`, the given token as password) for the server's host come
/// from `COMPOSER_AUTH`; without, none are inherited.
pub fn composer(
    dir: &Path,
    auth: Option<(&TestServer, &str)>,
    args: &[&str],
) -> std::process::Output {
    // `composer config` and `composer audit` have no --no-progress.
    let progress: &[&str] = if matches!(args.first(), Some(&"config" | &"audit")) {
        &[]
    } else {
        &["--no-progress"]
    };
    let mut cmd = Command::new("composer");
    cmd.args(args)
        .arg("--no-interaction")
        .args(progress)
        .current_dir(dir)
        .env("COMPOSER_HOME", dir.join(".composer-home"))
        .env("COMPOSER_CACHE_DIR", dir.join(".composer-cache"))
        .env("COMPOSER_ALLOW_SUPERUSER", "1");
    match auth {
        Some((s, token)) => {
            let host = s.base.trim_start_matches("http://");
            let auth =
                serde_json::json!({"http-basic": {host: {"username": "token", "password": token}}});
            cmd.env("COMPOSER_AUTH", auth.to_string())
        }
        None => cmd.env_remove("COMPOSER_AUTH"),
    };
    cmd.output().expect("composer is installed")
}

/// A client command's outcome for an assertion message: status, stdout and stderr.
pub fn describe(out: &std::process::Output) -> String {
    format!(
        "{}\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Makes `owner` public: anyone reads its packages.
pub fn make_public(s: &TestServer, owner: &str) {
    let r = api(
        s,
        "PATCH",
        &format!("/api/v1/owners/{owner}"),
        Some(&serde_json::json!({"visibility": "public"})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
}
