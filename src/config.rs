//! Settings from Cargoman's documented environment variables (a `.env` file is read first by `main`).

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub database_max_connections: u32,
    pub admin_token: AdminTokenSource,
    pub host: String,
    pub port: u16,
    /// Public URL of the server, without a trailing slash; derived from host and port when unset.
    pub base_url: String,
    pub storage: StorageConfig,
    pub request_timeout: Duration,
    /// `TLS_CERT_PATH` and `TLS_KEY_PATH`: serve https with this certificate chain and key (PEM);
    /// plain http without them.
    pub tls: Option<TlsFiles>,
    /// A connection that has not sent a whole request head within this is closed
    /// (`HEADER_READ_TIMEOUT`).
    pub header_read_timeout: Duration,
    pub min_body_rate: MinBodyRate,
    pub max_upload_size: u64,
    pub metrics_enabled: bool,
    /// `GC_COLLECT_UNTAGGED`: garbage collection also removes the versions no tag points at
    /// (and nothing kept refers to), in the formats whose versions live by their tags (an OCI
    /// repository's untagged manifests); kept by default.
    pub gc_collect_untagged: bool,
    /// `ALLOW_DESCRIPTOR_REDEPLOY`: in formats whose releases are immutable, a release's
    /// descriptor (Maven's POM) may still be uploaded again and replaces the stored one; its
    /// other files stay immutable. Off by default.
    pub allow_descriptor_redeploy: bool,
    /// `SNAPSHOT_BUILDS_KEPT`: in formats with snapshot builds (Maven's timestamped SNAPSHOT
    /// files), only this many newest builds of a snapshot version are kept when a new one
    /// arrives; 0 (the default) keeps every build.
    pub snapshot_builds_kept: u32,
    /// `DEFAULT_ARCH` (Vieter's name): in formats whose packages may be built for any
    /// architecture (pacman's `any`), the architecture such a package goes to, besides every one
    /// its repository already has; `x86_64` by default.
    pub default_arch: String,
    /// `KEEP_REPLACED_VERSIONS`: in formats whose repository index lists one version per package
    /// (pacman's databases), a version a newer publish replaces keeps its files, still
    /// downloadable by name (on by default); off, they are deleted, as `repo-add -R` does.
    pub keep_replaced_versions: bool,
    pub auth: AuthConfig,
    pub git: GitConfig,
    pub tasks: TaskConfig,
    pub advisories: AdvisoriesConfig,
    pub proxy: ProxyConfig,
    pub webhooks: WebhookConfig,
    pub customers: CustomerConfig,
}

/// The PEM files of the server's TLS certificate chain and private key.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Token checking: caching of verified tokens and the bounds on failed checks.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// How long a verified token's row is reused before it is read again (`AUTH_CACHE_TTL_MS`);
    /// changes made through this process count at once regardless.
    pub cache_ttl: Duration,
    /// Failed token checks one client address may make per minute before it gets 429
    /// (`AUTH_FAILURE_LIMIT`); zero turns the limit off.
    pub failure_limit: u32,
    /// Every failed check is answered no sooner than this after it began
    /// (`AUTH_FAILURE_DELAY_MS`), so response times reveal nothing.
    pub failure_delay: Duration,
    /// Threads that run Argon2 (half the cores): the rest keep serving during a flood of guesses.
    pub hash_threads: usize,
}

/// Customer access: token limits, JWTs, the Stripe lifecycle webhook and the audit log.
#[derive(Clone)]
pub struct CustomerConfig {
    /// Most live (not revoked) tokens one customer may hold.
    pub max_tokens: u32,
    /// Signs `POST /api/v1/customers/{id}/jwt` credentials; the route is refused without it.
    pub jwt_secret: Option<String>,
    pub jwt_expiry_secs: i64,
    pub stripe_webhook_secret: Option<String>,
    pub audit_retention_days: u32,
}

impl std::fmt::Debug for CustomerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |s: &Option<String>| s.as_ref().map(|_| "<set>");
        f.debug_struct("CustomerConfig")
            .field("max_tokens", &self.max_tokens)
            .field("jwt_secret", &shown(&self.jwt_secret))
            .field("jwt_expiry_secs", &self.jwt_expiry_secs)
            .field("stripe_webhook_secret", &shown(&self.stripe_webhook_secret))
            .field("audit_retention_days", &self.audit_retention_days)
            .finish()
    }
}

/// The slowest a request body may arrive: fewer than `bytes_per_second × window` bytes in any
/// `window` spent waiting for the client cuts it with 408 (`UPLOAD_MIN_BYTES_PER_SECOND`, 0 turns
/// it off; `UPLOAD_MIN_RATE_WINDOW` seconds).
#[derive(Debug, Clone, Copy)]
pub struct MinBodyRate {
    pub bytes_per_second: u64,
    pub window: Duration,
}

/// Secrets of Git provider webhooks; a provider without one refuses its hooks (Bitbucket, whose
/// hooks are signed only when a secret is set, then takes them unsigned).
#[derive(Clone, Default)]
pub struct WebhookConfig {
    pub github_secret: Option<String>,
    pub gitlab_secret: Option<String>,
    pub bitbucket_secret: Option<String>,
    /// Days Git provider deliveries and Stripe event ids are kept
    /// (`WEBHOOK_DELIVERY_RETENTION_DAYS`).
    pub delivery_retention_days: u32,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |s: &Option<String>| s.as_ref().map(|_| "<set>");
        f.debug_struct("WebhookConfig")
            .field("github_secret", &shown(&self.github_secret))
            .field("gitlab_secret", &shown(&self.gitlab_secret))
            .field("bitbucket_secret", &shown(&self.bitbucket_secret))
            .field("delivery_retention_days", &self.delivery_retention_days)
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct GitConfig {
    /// Where bare mirrors of synced repositories are kept.
    pub cache_path: PathBuf,
    pub auth_user: Option<String>,
    pub auth_token: Option<String>,
    /// May repositories be local paths or hosts on loopback or private networks
    /// (`GIT_ALLOW_LOCAL`)? Off, an admin's URL cannot reach into the server's own machine or
    /// network.
    pub allow_local: bool,
}

/// The OSV advisories feed the server imports by itself.
#[derive(Debug, Clone)]
pub struct AdvisoriesConfig {
    /// `ADVISORIES_URL`: an http(s) URL (or a path) of OSV JSON; unset, nothing is imported.
    pub url: Option<String>,
    /// `ADVISORIES_INTERVAL` (seconds, default a day, at least a minute) between imports.
    pub interval: Duration,
}

/// The Packagist proxy: off unless asked for, since it sends the names of the packages clients
/// ask for to the upstream.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// `PROXY_ENABLED`: names no private package holds are answered from the upstream.
    pub enabled: bool,
    /// `PROXY_PACKAGIST_URL`, without a trailing slash (`https://repo.packagist.org`).
    pub upstream: String,
    /// `PROXY_METADATA_TTL` (seconds, default 300): cached metadata younger than this is served
    /// without asking the upstream; older, it is served and refreshed in the background.
    pub metadata_ttl: Duration,
    /// `PROXY_ARCHIVE_TTL` (seconds, default 30 days): an older cached archive is fetched again.
    pub archive_ttl: Duration,
    /// `PROXY_MAX_CACHE_SIZE` (bytes, default 10 GiB) of cached archives; beyond it the least
    /// recently used ones are deleted.
    pub max_cache_size: u64,
}

#[derive(Debug, Clone)]
pub struct TaskConfig {
    pub workers: usize,
    /// Seconds between automatic syncs of every Git package; 0 turns it off.
    pub sync_interval: u64,
    pub sync_on_startup: bool,
}

#[derive(Debug, Clone)]
pub enum AdminTokenSource {
    Plain(String),
    Argon2Hash(String),
    /// None configured: generated on first start, only its hash is kept in the database.
    Generated,
}

#[derive(Debug, Clone)]
pub enum StorageConfig {
    Filesystem { path: PathBuf },
    S3(S3Config),
}

#[derive(Debug, Clone)]
pub struct S3Config {
    pub endpoint: String,
    pub bucket: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub region: String,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

const DEFAULT_MAX_UPLOAD: u64 = 16 * 1024 * 1024 * 1024;

fn is_false(value: Option<String>) -> bool {
    matches!(value.as_deref(), Some("false" | "0" | "no" | "off"))
}

fn is_true(value: Option<String>) -> bool {
    matches!(value.as_deref(), Some("true" | "1" | "yes" | "on"))
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok().filter(|v| !v.is_empty()))
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let parse_num = |key: &str, default: u64| -> Result<u64, ConfigError> {
            match get(key) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse()
                    .map_err(|_| ConfigError(format!("{key} must be a whole number, got {v:?}"))),
            }
        };
        let host = get("HOST").unwrap_or_else(|| "0.0.0.0".into());
        let port = u16::try_from(parse_num("PORT", 8080)?)
            .map_err(|_| ConfigError("PORT must be below 65536".into()))?;
        let admin_token = match (get("ADMIN_TOKEN"), get("ADMIN_TOKEN_HASH")) {
            (Some(_), Some(_)) => {
                return Err(ConfigError(
                    "set ADMIN_TOKEN or ADMIN_TOKEN_HASH, not both".into(),
                ));
            }
            (Some(plain), None) => AdminTokenSource::Plain(plain),
            (None, Some(hash)) => {
                argon2::PasswordHash::new(&hash).map_err(|e| {
                    ConfigError(format!("ADMIN_TOKEN_HASH is not an Argon2 PHC string: {e}"))
                })?;
                AdminTokenSource::Argon2Hash(hash)
            }
            (None, None) => AdminTokenSource::Generated,
        };
        let storage = match get("STORAGE_BACKEND").as_deref().unwrap_or("filesystem") {
            "filesystem" | "fs" | "local" => StorageConfig::Filesystem {
                path: get("STORAGE_PATH")
                    .unwrap_or_else(|| "./data/packages".into())
                    .into(),
            },
            "s3" | "r2" => {
                let need = |key: &str| {
                    get(key).ok_or_else(|| {
                        ConfigError(format!("STORAGE_BACKEND=s3 needs {key} to be set"))
                    })
                };
                let endpoint = match (get("R2_ENDPOINT"), get("R2_ACCOUNT_ID")) {
                    (Some(endpoint), _) => endpoint,
                    (None, Some(account)) => format!("https://{account}.r2.cloudflarestorage.com"),
                    (None, None) => {
                        return Err(ConfigError(
                            "STORAGE_BACKEND=s3 needs R2_ENDPOINT (or R2_ACCOUNT_ID)".into(),
                        ));
                    }
                };
                StorageConfig::S3(S3Config {
                    endpoint: endpoint.trim_end_matches('/').to_string(),
                    bucket: need("R2_BUCKET")?,
                    access_key_id: need("R2_ACCESS_KEY_ID")?,
                    secret_access_key: need("R2_SECRET_ACCESS_KEY")?,
                    region: get("R2_REGION").unwrap_or_else(|| "auto".into()),
                })
            }
            other => {
                return Err(ConfigError(format!(
                    "STORAGE_BACKEND must be filesystem or s3 (r2), got {other:?}"
                )));
            }
        };
        let tls = match (get("TLS_CERT_PATH"), get("TLS_KEY_PATH")) {
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert: cert.into(),
                key: key.into(),
            }),
            (None, None) => None,
            _ => {
                return Err(ConfigError(
                    "TLS_CERT_PATH and TLS_KEY_PATH go together: set both for https, neither for http"
                        .into(),
                ));
            }
        };
        let base_url = get("BASE_URL")
            .map(|u| u.trim_end_matches('/').to_string())
            .unwrap_or_else(|| {
                let shown = if host == "0.0.0.0" {
                    "127.0.0.1"
                } else {
                    &host
                };
                let scheme = if tls.is_some() { "https" } else { "http" };
                format!("{scheme}://{shown}:{port}")
            });
        Ok(Config {
            database_url: get("DATABASE_URL")
                .unwrap_or_else(|| "sqlite://./data/cargoman.db".into()),
            database_max_connections: parse_num("DATABASE_MAX_CONNECTIONS", 10)? as u32,
            admin_token,
            host,
            port,
            base_url,
            storage,
            tls,
            request_timeout: Duration::from_secs(parse_num("REQUEST_TIMEOUT", 30)?),
            header_read_timeout: Duration::from_secs(parse_num("HEADER_READ_TIMEOUT", 30)?.max(1)),
            min_body_rate: MinBodyRate {
                bytes_per_second: parse_num("UPLOAD_MIN_BYTES_PER_SECOND", 1024)?,
                window: Duration::from_secs(parse_num("UPLOAD_MIN_RATE_WINDOW", 30)?.max(1)),
            },
            max_upload_size: parse_num("MAX_UPLOAD_SIZE", DEFAULT_MAX_UPLOAD)?,
            metrics_enabled: !is_false(get("METRICS_ENABLED")),
            gc_collect_untagged: is_true(get("GC_COLLECT_UNTAGGED")),
            allow_descriptor_redeploy: is_true(get("ALLOW_DESCRIPTOR_REDEPLOY")),
            snapshot_builds_kept: parse_num("SNAPSHOT_BUILDS_KEPT", 0)?.min(u32::MAX as u64) as u32,
            default_arch: get("DEFAULT_ARCH").unwrap_or_else(|| "x86_64".to_string()),
            keep_replaced_versions: !is_false(get("KEEP_REPLACED_VERSIONS")),
            auth: AuthConfig {
                cache_ttl: Duration::from_millis(parse_num("AUTH_CACHE_TTL_MS", 1000)?.min(60_000)),
                failure_limit: parse_num("AUTH_FAILURE_LIMIT", 20)?.min(u32::MAX as u64) as u32,
                failure_delay: Duration::from_millis(
                    parse_num("AUTH_FAILURE_DELAY_MS", 100)?.min(10_000),
                ),
                hash_threads: std::thread::available_parallelism()
                    .map_or(1, |n| (n.get() / 2).max(1)),
            },
            git: GitConfig {
                cache_path: get("GIT_CACHE_PATH")
                    .unwrap_or_else(|| "./data/git".into())
                    .into(),
                auth_user: get("GIT_AUTH_USER"),
                auth_token: get("GIT_AUTH_TOKEN"),
                allow_local: is_true(get("GIT_ALLOW_LOCAL")),
            },
            tasks: TaskConfig {
                workers: parse_num("TASK_NUM_WORKERS", 4)?.clamp(1, 64) as usize,
                sync_interval: parse_num("TASK_SYNC_INTERVAL", 3600)?,
                sync_on_startup: is_true(get("TASK_SYNC_ON_STARTUP")),
            },
            advisories: AdvisoriesConfig {
                url: get("ADVISORIES_URL"),
                interval: Duration::from_secs(parse_num("ADVISORIES_INTERVAL", 86_400)?.max(60)),
            },
            proxy: ProxyConfig {
                enabled: is_true(get("PROXY_ENABLED")),
                upstream: get("PROXY_PACKAGIST_URL")
                    .unwrap_or_else(|| "https://repo.packagist.org".into())
                    .trim_end_matches('/')
                    .to_string(),
                metadata_ttl: Duration::from_secs(parse_num("PROXY_METADATA_TTL", 300)?),
                archive_ttl: Duration::from_secs(parse_num("PROXY_ARCHIVE_TTL", 30 * 86_400)?),
                max_cache_size: parse_num("PROXY_MAX_CACHE_SIZE", 10 << 30)?,
            },
            webhooks: WebhookConfig {
                github_secret: get("GITHUB_WEBHOOK_SECRET"),
                gitlab_secret: get("GITLAB_WEBHOOK_SECRET"),
                bitbucket_secret: get("BITBUCKET_WEBHOOK_SECRET"),
                // At least a week: Stripe retries an event for three days, and its id must be
                // remembered for as long.
                delivery_retention_days: parse_num("WEBHOOK_DELIVERY_RETENTION_DAYS", 30)?
                    .clamp(7, 36_500) as u32,
            },
            customers: CustomerConfig {
                max_tokens: parse_num("MAX_TOKENS_PER_CUSTOMER", 25)?.clamp(1, 10_000) as u32,
                jwt_secret: get("JWT_SECRET"),
                jwt_expiry_secs: parse_num("JWT_EXPIRY", 3600)?.clamp(60, 31_536_000) as i64,
                stripe_webhook_secret: get("STRIPE_WEBHOOK_SECRET"),
                audit_retention_days: parse_num("AUDIT_LOG_RETENTION_DAYS", 90)?.clamp(1, 36_500)
                    as u32,
            },
        })
    }

    /// `--port` on the command line wins over `PORT`; the derived base URL follows it.
    pub fn override_port(&mut self, port: u16) {
        let derived = format!(":{}", self.port);
        if self.base_url.ends_with(&derived) {
            self.base_url = format!(
                "{}:{port}",
                &self.base_url[..self.base_url.len() - derived.len()]
            );
        }
        self.port = port;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_the_embedded_setup() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database_url, "sqlite://./data/cargoman.db");
        assert_eq!(c.port, 8080);
        assert_eq!(c.host, "0.0.0.0");
        assert_eq!(c.base_url, "http://127.0.0.1:8080");
        assert!(matches!(c.admin_token, AdminTokenSource::Generated));
        assert!(
            matches!(c.storage, StorageConfig::Filesystem { ref path } if path.ends_with("data/packages"))
        );
    }

    #[test]
    fn the_proxy_is_off_unless_asked_for() {
        let c = config(&[]).unwrap();
        assert!(!c.proxy.enabled);
        assert_eq!(c.proxy.upstream, "https://repo.packagist.org");
        assert_eq!(c.proxy.metadata_ttl, Duration::from_secs(300));
        assert_eq!(c.proxy.archive_ttl, Duration::from_secs(30 * 86_400));
        assert_eq!(c.proxy.max_cache_size, 10 * 1024 * 1024 * 1024);
        let c = config(&[
            ("PROXY_ENABLED", "true"),
            ("PROXY_PACKAGIST_URL", "http://mirror.example/"),
        ])
        .unwrap();
        assert!(c.proxy.enabled);
        assert_eq!(c.proxy.upstream, "http://mirror.example");
        let err = config(&[("PROXY_MAX_CACHE_SIZE", "10G")]).unwrap_err();
        assert!(err.0.contains("PROXY_MAX_CACHE_SIZE"), "{err}");
    }

    #[test]
    fn port_override_moves_derived_base_url() {
        let mut c = config(&[("PORT", "9000")]).unwrap();
        c.override_port(18080);
        assert_eq!(c.base_url, "http://127.0.0.1:18080");
        let mut c = config(&[("BASE_URL", "https://pkg.example.com/")]).unwrap();
        c.override_port(18080);
        assert_eq!(c.base_url, "https://pkg.example.com");
    }

    #[test]
    fn tls_needs_both_files_and_makes_the_derived_url_https() {
        let c = config(&[("TLS_CERT_PATH", "/c.pem"), ("TLS_KEY_PATH", "/k.pem")]).unwrap();
        let tls = c.tls.unwrap();
        assert_eq!(
            (tls.cert.to_str(), tls.key.to_str()),
            (Some("/c.pem"), Some("/k.pem"))
        );
        assert_eq!(c.base_url, "https://127.0.0.1:8080");
        assert!(config(&[]).unwrap().tls.is_none());
        for half in ["TLS_CERT_PATH", "TLS_KEY_PATH"] {
            let err = config(&[(half, "/x.pem")]).unwrap_err();
            assert!(err.0.contains("go together"), "{err}");
        }
    }

    #[test]
    fn s3_needs_its_settings() {
        let err = config(&[("STORAGE_BACKEND", "s3")]).unwrap_err();
        assert!(err.0.contains("R2_ENDPOINT"), "{err}");
        let c = config(&[
            ("STORAGE_BACKEND", "r2"),
            ("R2_ACCOUNT_ID", "acc"),
            ("R2_BUCKET", "b"),
            ("R2_ACCESS_KEY_ID", "k"),
            ("R2_SECRET_ACCESS_KEY", "s"),
        ])
        .unwrap();
        assert!(
            matches!(c.storage, StorageConfig::S3(ref s) if s.endpoint == "https://acc.r2.cloudflarestorage.com")
        );
    }

    #[test]
    fn webhook_secrets_are_optional_and_not_printed() {
        let c = config(&[]).unwrap();
        assert!(c.webhooks.github_secret.is_none());
        assert!(c.webhooks.gitlab_secret.is_none());
        assert!(c.webhooks.bitbucket_secret.is_none());
        let c = config(&[
            ("GITHUB_WEBHOOK_SECRET", "gh-s3cret"),
            ("GITLAB_WEBHOOK_SECRET", "gl-s3cret"),
            ("BITBUCKET_WEBHOOK_SECRET", "bb-s3cret"),
        ])
        .unwrap();
        assert_eq!(c.webhooks.github_secret.as_deref(), Some("gh-s3cret"));
        assert_eq!(c.webhooks.gitlab_secret.as_deref(), Some("gl-s3cret"));
        assert_eq!(c.webhooks.bitbucket_secret.as_deref(), Some("bb-s3cret"));
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn bad_values_are_named() {
        assert!(config(&[("PORT", "http")]).unwrap_err().0.contains("PORT"));
        assert!(
            config(&[("ADMIN_TOKEN_HASH", "plain")])
                .unwrap_err()
                .0
                .contains("ADMIN_TOKEN_HASH")
        );
        assert!(
            config(&[("STORAGE_BACKEND", "ftp")])
                .unwrap_err()
                .0
                .contains("STORAGE_BACKEND")
        );
    }
}
