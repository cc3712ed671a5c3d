//! Streams a stored file to a client: `Content-Length`, `ETag` (the SHA-256), `Last-Modified`,
//! conditional requests (304) and single byte ranges (206/416). Shared by every format.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::range::{RangeRequest, parse_range};
use crate::clock;
use crate::error::Result;
use crate::model::packages::File;
use crate::registry::Registry;

pub async fn serve_file(
    registry: &Registry,
    file: &File,
    method: &Method,
    request: &HeaderMap,
    content_type: &str,
    customer_id: Option<i64>,
) -> Result<Response> {
    let size = file.blob.size as u64;
    let etag = format!("\"{}\"", file.blob.sha256);
    let last_modified = clock::http_date(file.created_at);
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
    set(
        header::CONTENT_DISPOSITION,
        &format!(
            "attachment; filename=\"{}\"",
            file.name.replace(['"', '\\'], "_")
        ),
    );
    set(
        header::HeaderName::from_static("x-checksum-sha256"),
        &file.blob.sha256,
    );

    if not_modified(request, &etag, file.created_at) {
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
        Body::from_stream(registry.open(file, bounds, customer_id).await?)
    };
    metrics::counter!("cargoman_download_bytes_total").increment(length);
    Ok((status, headers, body).into_response())
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
