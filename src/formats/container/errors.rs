//! The distribution spec's error codes and body, `{"errors":[{"code","message","detail"}]}`.
//! Handlers name the spec's code where the situation has one (`OciError`); every other error
//! response under `/v2/` (the core's, an extractor's 401, a router's 405) is re-rendered in the
//! same shape by `restyle_errors`, its code chosen from the core's.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::Error;
use crate::http::error::{ErrorInfo, restyle};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    BlobUnknown,
    BlobUploadInvalid,
    BlobUploadUnknown,
    DigestInvalid,
    ManifestBlobUnknown,
    ManifestInvalid,
    ManifestUnknown,
    NameInvalid,
    NameUnknown,
    SizeInvalid,
    Unsupported,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::BlobUnknown => "BLOB_UNKNOWN",
            Code::BlobUploadInvalid => "BLOB_UPLOAD_INVALID",
            Code::BlobUploadUnknown => "BLOB_UPLOAD_UNKNOWN",
            Code::DigestInvalid => "DIGEST_INVALID",
            Code::ManifestBlobUnknown => "MANIFEST_BLOB_UNKNOWN",
            Code::ManifestInvalid => "MANIFEST_INVALID",
            Code::ManifestUnknown => "MANIFEST_UNKNOWN",
            Code::NameInvalid => "NAME_INVALID",
            Code::NameUnknown => "NAME_UNKNOWN",
            Code::SizeInvalid => "SIZE_INVALID",
            Code::Unsupported => "UNSUPPORTED",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Code::BlobUnknown
            | Code::BlobUploadUnknown
            | Code::ManifestUnknown
            | Code::NameUnknown => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// An error in the spec's terms, or one of the core's, re-rendered by the layer.
#[derive(Debug)]
pub struct OciError {
    pub code: Code,
    pub status: StatusCode,
    pub message: String,
}

impl OciError {
    pub fn new(code: Code, message: impl Into<String>) -> OciError {
        OciError {
            code,
            status: code.status(),
            message: message.into(),
        }
    }

    pub fn with_status(mut self, status: StatusCode) -> OciError {
        self.status = status;
        self
    }
}

/// What a handler returns: a spec error, a core one, or an error response it built itself
/// (with headers of its own, and its `ErrorInfo` for the layer).
#[derive(Debug)]
pub enum Failure {
    Oci(OciError),
    Core(Error),
    Response(Box<Response>),
}

impl From<OciError> for Failure {
    fn from(e: OciError) -> Self {
        Failure::Oci(e)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Core(e)
    }
}

/// `Err(NotFound)` from the core as the spec's code for what was not found.
pub trait NotFoundAs<T> {
    fn not_found_as(self, code: Code) -> Result<T, Failure>;
}

impl<T> NotFoundAs<T> for Result<T, Error> {
    fn not_found_as(self, code: Code) -> Result<T, Failure> {
        self.map_err(|e| not_found_as(e, code))
    }
}

/// A core error, its not found as the spec's `code`.
fn not_found_as(error: Error, code: Code) -> Failure {
    match error {
        Error::NotFound(message) => OciError::new(code, message).into(),
        other => other.into(),
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Failure::Core(e) => e.into_response(),
            Failure::Response(response) => *response,
            Failure::Oci(e) => {
                let mut response = (e.status, e.message.clone()).into_response();
                response.extensions_mut().insert(ErrorInfo {
                    code: e.code.as_str(),
                    message: e.message,
                });
                response
            }
        }
    }
}

/// The spec's code for an error the core (or the router) made.
fn spec_code(status: StatusCode, core_code: &'static str) -> &'static str {
    match core_code {
        "UNAUTHORIZED" => "UNAUTHORIZED",
        "FORBIDDEN" => "DENIED",
        "NOT_FOUND" => "NAME_UNKNOWN",
        "PAYLOAD_TOO_LARGE" => "SIZE_INVALID",
        "RATE_LIMITED" => "TOOMANYREQUESTS",
        "HTTP_ERROR" if status == StatusCode::METHOD_NOT_ALLOWED => "UNSUPPORTED",
        // A code a handler chose is one of the spec's, in upper case with underscores.
        code if code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') && is_spec_code(code) => {
            code
        }
        _ => "UNKNOWN",
    }
}

fn is_spec_code(code: &str) -> bool {
    [
        Code::BlobUnknown,
        Code::BlobUploadInvalid,
        Code::BlobUploadUnknown,
        Code::DigestInvalid,
        Code::ManifestBlobUnknown,
        Code::ManifestInvalid,
        Code::ManifestUnknown,
        Code::NameInvalid,
        Code::NameUnknown,
        Code::SizeInvalid,
        Code::Unsupported,
    ]
    .iter()
    .any(|c| c.as_str() == code)
}

/// Response layer of every `/v2/` route: errors get the spec's JSON body (status and headers,
/// such as the 401 challenge, stay).
pub async fn restyle_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    restyle(response, |status, info| {
        let body = json!({"errors": [{
            "code": spec_code(status, info.code),
            "message": info.message,
            "detail": null,
        }]});
        (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_codes_become_spec_codes() {
        let cases = [
            (StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "UNAUTHORIZED"),
            (StatusCode::FORBIDDEN, "FORBIDDEN", "DENIED"),
            (StatusCode::NOT_FOUND, "NOT_FOUND", "NAME_UNKNOWN"),
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                "SIZE_INVALID",
            ),
            (StatusCode::METHOD_NOT_ALLOWED, "HTTP_ERROR", "UNSUPPORTED"),
            (StatusCode::BAD_REQUEST, "DIGEST_INVALID", "DIGEST_INVALID"),
            (StatusCode::BAD_REQUEST, "VALIDATION_ERROR", "UNKNOWN"),
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_ERROR",
                "UNKNOWN",
            ),
        ];
        for (status, core, spec) in cases {
            assert_eq!(spec_code(status, core), spec, "{core}");
        }
    }

    #[test]
    fn not_found_takes_the_situations_code() {
        let failure = Err::<(), _>(Error::not_found("gone"))
            .not_found_as(Code::BlobUnknown)
            .unwrap_err();
        assert!(matches!(
            failure,
            Failure::Oci(OciError {
                code: Code::BlobUnknown,
                ..
            })
        ));
        let failure = Err::<(), _>(Error::invalid("bad"))
            .not_found_as(Code::BlobUnknown)
            .unwrap_err();
        assert!(matches!(failure, Failure::Core(Error::Validation(_))));
    }
}
