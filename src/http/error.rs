//! The one place core errors become HTTP: status code and code name per error kind, a plain-text
//! body by default (what package clients print), re-rendered as Cargoman's JSON envelope under
//! `/api/v1` by `api_envelope`.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::Error;

/// Attached to every error response so a dialect layer can re-render it.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub code: &'static str,
    pub message: String,
}

impl Error {
    pub fn status(&self) -> (StatusCode, &'static str) {
        match self {
            Error::NotFound(_) => (StatusCode::NOT_FOUND, "NOT_FOUND"),
            Error::Validation(_) | Error::BodyInterrupted(_) => {
                (StatusCode::BAD_REQUEST, "VALIDATION_ERROR")
            }
            Error::Conflict(_) => (StatusCode::CONFLICT, "CONFLICT"),
            Error::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
            Error::Forbidden(_) => (StatusCode::FORBIDDEN, "FORBIDDEN"),
            Error::RequestTimeout(_) => (StatusCode::REQUEST_TIMEOUT, "REQUEST_TIMEOUT"),
            Error::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"),
            Error::LengthRequired(_) => (StatusCode::LENGTH_REQUIRED, "LENGTH_REQUIRED"),
            Error::Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "UNPROCESSABLE_ENTITY"),
            Error::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED"),
            Error::Unavailable { .. } => (StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE"),
            Error::Upstream(_) => (StatusCode::BAD_GATEWAY, "BAD_GATEWAY"),
            Error::Database(_)
            | Error::DatabaseUnavailable(_)
            | Error::Storage(_)
            | Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR"),
        }
    }
}

/// The challenge of the core's 401 answers; a format may answer with its own
/// (`Format::challenge`).
pub const DEFAULT_CHALLENGE: &str = r#"Basic realm="Cargoman""#;

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, code) = self.status();
        let retry_after = match &self {
            Error::RateLimited {
                retry_after_secs, ..
            }
            | Error::Unavailable {
                retry_after_secs, ..
            } => Some(HeaderValue::from(*retry_after_secs)),
            _ => None,
        };
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            // Details go to the log, not to the client.
            tracing::error!(error = %self, "request failed");
            "internal server error".to_string()
        } else {
            self.to_string()
        };
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{message}\n"),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(DEFAULT_CHALLENGE),
            );
        }
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, seconds);
        }
        response
            .extensions_mut()
            .insert(ErrorInfo { code, message });
        response
    }
}

/// What a path no route knows gets (rendered like every other error).
pub async fn unknown_route() -> Error {
    no_such_route()
}

/// The error of a path no route has, also for catch-all routes (pacman's `/{repo}/…`) when a
/// path turns out to name nothing of theirs.
pub fn no_such_route() -> Error {
    Error::not_found("no such route")
}

/// How a format (or the management API) gives an error response the body its clients read:
/// `render` gets the status and the error (for an error the core did not make, such as a
/// router's 405, the status's reason as message and code `HTTP_ERROR`) and returns the new body.
/// Everything else stays: the status, the headers (a 401's challenge, `Retry-After`, `Allow`)
/// but the body's own, and the `ErrorInfo` for layers further out.
pub fn restyle<B: IntoResponse>(
    response: Response,
    render: impl FnOnce(StatusCode, &ErrorInfo) -> B,
) -> Response {
    let status = response.status();
    let info = response
        .extensions()
        .get::<ErrorInfo>()
        .cloned()
        .unwrap_or_else(|| ErrorInfo {
            code: "HTTP_ERROR",
            message: status.canonical_reason().unwrap_or("error").to_string(),
        });
    let (mut parts, _) = response.into_parts();
    let (styled, body) = render(status, &info).into_response().into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    match styled.headers.get(header::CONTENT_TYPE) {
        Some(content_type) => {
            parts
                .headers
                .insert(header::CONTENT_TYPE, content_type.clone());
        }
        None => {
            parts.headers.remove(header::CONTENT_TYPE);
        }
    }
    parts.extensions.insert(info);
    Response::from_parts(parts, body)
}

/// Layer for `/api/v1`: errors become `{"data": null, "error": {"code", "message"}}`, and a 401
/// asks for a Bearer token (the API's credentials).
pub async fn api_envelope(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.extensions().get::<ErrorInfo>().is_none() {
        return response;
    }
    let mut enveloped = restyle(response, |_, info| {
        axum::Json(serde_json::json!({
            "data": null,
            "error": {"code": info.code, "message": info.message},
        }))
    });
    if enveloped.status() == StatusCode::UNAUTHORIZED {
        enveloped.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer realm="Cargoman""#),
        );
    }
    enveloped
}
