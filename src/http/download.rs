//! Streams a stored file, or a bare blob by digest, to a client: `Content-Length`, `ETag` (the
//! SHA-256), `Last-Modified`, conditional requests (304) and single byte ranges (206/416). Shared
//! by every format; a file and a blob differ only in the name offered and in what is counted.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::range::{RangeRequest, parse_range};
use crate::clock;
use crate::error::Result;
use crate::model::blobs::Blob;
use crate::model::packages::File;
use crate::registry::Registry;

/// What is served.
enum Content<'a> {
    /// A package file: offered under its name, counted as a download of its version.
    File {
        file: &'a File,
        customer_id: Option<i64>,
    },
    /// A blob by digest (e.g. an OCI layer): no name, not counted.
    Blob(&'a Blob),
}

impl Content<'_> {
    fn blob(&self) -> &Blob {
        match self {
            Content::File { file, .. } => &file.blob,
            Content::Blob(blob) => blob,
        }
    }

    fn modified(&self) -> i64 {
        match self {
            Content::File { file, .. } => file.created_at,
            Content::Blob(blob) => blob.created_at,
        }
    }

    async fn open(
        &self,
        registry: &Registry,
        range: Option<(u64, u64)>,
    ) -> Result<crate::blobs::ByteStream> {
        match self {
            Content::File { file, customer_id } => registry.open(file, range, *customer_id).await,
            Content::Blob(blob) => registry.open_blob(blob, range).await,
        }
    }
}

pub async fn serve_file(
    registry: &Registry,
    file: &File,
    method: &Method,
    request: &HeaderMap,
    content_type: &str,
    customer_id: Option<i64>,
) -> Result<Response> {
    let content = Content::File { file, customer_id };
    serve(registry, content, method, request, content_type).await
}

/// Serves a blob by digest with the same headers, ranges and revalidation as a file.
pub async fn serve_blob(
    registry: &Registry,
    blob: &Blob,
    method: &Method,
    request: &HeaderMap,
    content_type: &str,
) -> Result<Response> {
    serve(registry, Content::Blob(blob), method, request, content_type).await
}

async fn serve(
    registry: &Registry,
    content: Content<'_>,
    method: &Method,
    request: &HeaderMap,
    content_type: &str,
) -> Result<Response> {
    let blob = content.blob();
    let size = blob.size as u64;
    let etag = format!("\"{}\"", blob.sha256);
    let modified = content.modified();
    let last_modified = clock::http_date(modified);
    let mut headers = HeaderMap::new();
    let mut set = |name: header::HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    set(header::ETAG, &etag);
    set(header::LAST_MODIFIED, &last_modified);
    set(header::ACCEPT_RANGES, "bytes");
    set(header::CONTENT_TYPE, content_type);
    if let Content::File { file, .. } = &content {
        set(
            header::CONTENT_DISPOSITION,
            &format!(
                "attachment; filename=\"{}\"",
                file.name.replace(['"', '\\'], "_")
            ),
        );
    }
    set(
        header::HeaderName::from_static("x-checksum-sha256"),
        &blob.sha256,
    );

    if not_modified(request, &etag, modified) {
        headers.remove(header::CONTENT_TYPE);
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }

    let range_header = request.get(header::RANGE).and_then(|v| v.to_str().ok());
    let range = if if_range_matches(request, &etag, &last_modified) {
        parse_range(range_header, size)
    } else {
        RangeRequest::Full
    };
    let (status, bounds, length) = match range {
        RangeRequest::Full => (StatusCode::OK, None, size),
        RangeRequest::Partial(first, last) => {
            headers.insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes {first}-{last}/{size}")).expect("ascii"),
            );
            (
                StatusCode::PARTIAL_CONTENT,
                Some((first, last)),
                last - first + 1,
            )
        }
        RangeRequest::Unsatisfiable => {
            headers.insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{size}")).expect("ascii"),
            );
            return Ok((StatusCode::RANGE_NOT_SATISFIABLE, headers).into_response());
        }
    };
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    if method == Method::HEAD {
        return Ok((status, headers).into_response());
    }
    let body = if length == 0 {
        Body::empty()
    } else {
        Body::from_stream(content.open(registry, bounds).await?)
    };
    metrics::counter!("cargoman_download_bytes_total").increment(length);
    Ok((status, headers, body).into_response())
}

/// Serves a rendered document whole (text or binary) with the same revalidation as a file:
/// `ETag`, `Last-Modified`, 304 for a current copy, no body for HEAD. `tag` is the ETag unquoted:
/// the body's SHA-256, or any value that changes whenever the body does.
pub fn serve_document(
    body: bytes::Bytes,
    tag: &str,
    updated_at: i64,
    method: &Method,
    request: &HeaderMap,
    content_type: &str,
) -> Response {
    let etag = format!("\"{tag}\"");
    let mut headers = HeaderMap::new();
    for (name, value) in [
        (header::ETAG, etag.clone()),
        (header::LAST_MODIFIED, clock::http_date(updated_at)),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    if not_modified(request, &etag, updated_at) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    if let Ok(v) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    if method == Method::HEAD {
        return (StatusCode::OK, headers).into_response();
    }
    (StatusCode::OK, headers, Body::from(body)).into_response()
}

fn not_modified(request: &HeaderMap, etag: &str, modified: i64) -> bool {
    if let Some(candidates) = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        return candidates
            .split(',')
            .map(|c| c.trim().trim_start_matches("W/"))
            .any(|c| c == "*" || c == etag);
    }
    request
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(clock::parse_http_date)
        .is_some_and(|since| modified <= since)
}

/// `If-Range`: the range applies only while the client's copy is still current.
fn if_range_matches(request: &HeaderMap, etag: &str, last_modified: &str) -> bool {
    match request.get(header::IF_RANGE).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(v) => v.trim() == etag || v.trim() == last_modified,
    }
}
