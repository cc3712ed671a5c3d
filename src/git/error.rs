//! One error type for the Git layer; messages name the repository (credentials stripped) and say
//! what the operator can do about it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("unsupported repository URL {url}: {reason}")]
    UnsupportedUrl { url: String, reason: String },
    /// A local or private-network repository while `GIT_ALLOW_LOCAL` is off (`reach`).
    #[error("repository URL {url} is refused: {reason}; set GIT_ALLOW_LOCAL=true to allow it")]
    NotAllowed { url: String, reason: String },
    #[error("repository {url} is unreachable or does not exist: {message}")]
    Unreachable { url: String, message: String },
    #[error("authentication failed for {url} (set GIT_AUTH_USER/GIT_AUTH_TOKEN): {message}")]
    Auth { url: String, message: String },
    #[error("fetching from {url} failed: {message}")]
    Fetch { url: String, message: String },
    #[error("{path} is not a usable git repository: {message}")]
    NotARepository { path: PathBuf, message: String },
    #[error("invalid commit id {0:?}: expected a full hex object id")]
    InvalidCommit(String),
    #[error("unknown commit {0}")]
    UnknownCommit(String),
    #[error("{0:?} is not a directory in commit {1}")]
    NoSuchDirectory(String, String),
    #[error("git repository error: {0}")]
    Repository(String),
    #[error("writing the zip failed: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl GitError {
    /// Any gix (or other) failure while reading the repository, with its whole cause chain.
    pub(crate) fn repo(err: impl std::error::Error + 'static) -> Self {
        GitError::Repository(chain(&err))
    }
}

/// `outer: cause: root cause` — every level's Display, repeated messages once.
pub(crate) fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() && parts.last() != Some(&text) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// `url` without a password or token that someone may have put into it (`https://user:tok@host/x`).
pub(crate) fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let user = rest[..at].split(':').next().unwrap_or("");
            format!("{}{user}:***@{}", &url[..scheme_end + 3], &rest[at + 1..])
        }
        None => url.to_string(),
    }
}
