//! The core's typed error. Every layer below HTTP returns this; `http::error` maps it to a status code
//! and to the body format each client understands, in one place.

use std::fmt::Display;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The request must announce its body's length (`Content-Length`) and did not.
    #[error("{0}")]
    LengthRequired(String),
    /// Well-formed request whose content cannot be accepted (e.g. an uploaded archive without a
    /// valid composer.json).
    #[error("{0}")]
    Unprocessable(String),
    /// The caller sent too many failed requests; `Retry-After` tells it when to try again.
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    /// The server cannot take this request now (a bounded queue is full); retry shortly.
    #[error("{message}")]
    Unavailable {
        message: String,
        retry_after_secs: u64,
    },
    /// The client's body broke off or could not be read; nothing was stored.
    #[error("request body could not be read: {0}")]
    BodyInterrupted(String),
    /// The client was too slow sending its request; nothing was stored.
    #[error("{0}")]
    RequestTimeout(String),
    /// An upstream server this one relays (the Packagist proxy) failed or sent something wrong.
    #[error("{0}")]
    Upstream(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The database cannot be opened at all (missing, unreachable, refused), with which one and why.
    #[error("{0}")]
    DatabaseUnavailable(String),
    #[error("storage error: {0}")]
    Storage(String),
    #[error("{0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn not_found(what: impl Display) -> Self {
        Error::NotFound(what.to_string())
    }
    pub fn invalid(msg: impl Display) -> Self {
        Error::Validation(msg.to_string())
    }
    pub fn unprocessable(msg: impl Display) -> Self {
        Error::Unprocessable(msg.to_string())
    }
    pub fn conflict(msg: impl Display) -> Self {
        Error::Conflict(msg.to_string())
    }
    pub fn storage(err: impl Display) -> Self {
        Error::Storage(err.to_string())
    }
    pub fn upstream(msg: impl Display) -> Self {
        Error::Upstream(msg.to_string())
    }
    pub fn internal(err: impl Display) -> Self {
        Error::Internal(err.to_string())
    }

    /// True when the database refused a row because a unique key already exists.
    pub fn is_unique_violation(err: &sqlx::Error) -> bool {
        matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error::Storage(err.to_string())
    }
}
