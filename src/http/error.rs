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
            Error::Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "UNPROCESSABLE_ENTITY"),
            Error::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED"),
            Error::Unavailable { .. } => (StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE"),
            Error::Database(_)
            | Error::DatabaseUnavailable(_)
            | Error::Storage(_)
            | Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR"),
        }
    }
}

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
                HeaderValue::from_static(r#"Basic realm="Cargoman""#),
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
    Error::not_found("no such route")
}

/// Layer for `/api/v1`: errors become `{"data": null, "error": {"code", "message"}}`.
pub async fn api_envelope(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let Some(info) = response.extensions().get::<ErrorInfo>().cloned() else {
        return response;
    };
    let status = response.status();
    let body = serde_json::json!({
        "data": null,
        "error": {"code": info.code, "message": info.message},
    });
    let mut enveloped = (status, axum::Json(body)).into_response();
    if let Some(retry_after) = response.headers().get(header::RETRY_AFTER) {
        enveloped
            .headers_mut()
            .insert(header::RETRY_AFTER, retry_after.clone());
    }
    if status == StatusCode::UNAUTHORIZED {
        enveloped.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer realm="Cargoman""#),
        );
    }
    enveloped
}
