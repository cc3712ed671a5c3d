//! Blobs and blob uploads (spec: "Pulling blobs", "Pushing blobs", "Deleting blobs"). A pushed
//! blob is held by its repository (the package) until the client deletes it; uploads in parts
//! go through the core's resumable upload sessions, so no part is read twice and nothing is
//! buffered in memory.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::content;
use super::errors::{Code, Failure, NotFoundAs, OciError};
use super::names::{Algorithm, Digest};
use super::token::Action;
use super::{FORMAT, Request};
use crate::blobs::PutOptions;
use crate::error::Error;
use crate::http::download::serve_blob;
use crate::http::upload_size::announced_length;
use crate::model::blob_refs::Holder;
use crate::model::upload_sessions::UploadSession;

const DIGEST_HEADER: &str = "docker-content-digest";
const UPLOAD_UUID_HEADER: &str = "docker-upload-uuid";

/// `GET`/`HEAD /v2/{name}/blobs/{digest}`: the content, with ranges, when this repository
/// holds it.
pub async fn get(req: &Request, digest: &str) -> Result<Response, Failure> {
    let digest = Digest::parse(digest)?;
    req.require_read(None).await?;
    let registry = &req.state.registry;
    let sha256 = content::stored_sha256(registry, &digest)
        .await
        .not_found_as(Code::BlobUnknown)?;
    let blob = registry
        .find_held_blob(&req.repo.owner, FORMAT, &req.repo.image, &sha256)
        .await
        .not_found_as(Code::BlobUnknown)?;
    let mut response = serve_blob(
        registry,
        &blob,
        &req.method,
        &req.headers,
        "application/octet-stream",
    )
    .await?;
    set(response.headers_mut(), DIGEST_HEADER, &digest.to_string());
    Ok(response)
}

/// `DELETE /v2/{name}/blobs/{digest}`: the repository lets go of the blob (202); it is removed
/// once nothing else holds it.
pub async fn delete(req: &Request, digest: &str) -> Result<Response, Failure> {
    req.require_write()?;
    let digest = Digest::parse(digest)?;
    let package = req.package().await.not_found_as(Code::BlobUnknown)?;
    let registry = &req.state.registry;
    let sha256 = content::stored_sha256(registry, &digest)
        .await
        .not_found_as(Code::BlobUnknown)?;
    registry
        .unlink(&sha256, Holder::Package(package.id))
        .await
        .not_found_as(Code::BlobUnknown)?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `POST /v2/{name}/blobs/uploads/`: a cross-repository mount (`?mount=&from=`, where the
/// caller may read `from` and it holds the blob), a monolithic upload (`?digest=`, the body is
/// the blob), or a new upload session (202 with its location).
pub async fn start(req: &Request, body: Body) -> Result<Response, Failure> {
    req.require_write()?;
    let registry = &req.state.registry;
    if let Some(mounted) = mount(req).await? {
        return Ok(mounted);
    }
    let package = req.ensure_package().await?;
    if let Some(digest) = req.query.get("digest") {
        let digest = Digest::parse(digest)?;
        let opts = PutOptions {
            max_size: req.state.config.max_upload_size,
            expected_sha256: (digest.algorithm == Algorithm::Sha256).then(|| digest.hex.clone()),
            expected_sha512: (digest.algorithm == Algorithm::Sha512).then(|| digest.hex.clone()),
            ..Default::default()
        };
        // Either digest is checked while the body streams in; a mismatch stores nothing.
        registry
            .put_blob(body.into_data_stream(), &opts, Holder::Package(package.id))
            .await
            .map_err(digest_mismatch)?;
        return Ok(created(req, &digest));
    }
    let session = registry
        .start_upload(&req.repo.owner, FORMAT, false)
        .await?;
    Ok(progress(req, StatusCode::ACCEPTED, &session))
}

/// A mount of a blob from another repository, when the caller may read it there and it is held
/// there; `None` (a normal upload session follows) otherwise, as the spec asks.
async fn mount(req: &Request) -> Result<Option<Response>, Failure> {
    let (Some(mount), Some(from)) = (req.query.get("mount"), req.query.get("from")) else {
        return Ok(None);
    };
    let (Ok(digest), Ok(from)) = (Digest::parse(mount), super::Repo::parse(from)) else {
        return Ok(None);
    };
    if !req.token_allows(&from, Action::Pull)
        || super::require_repo_read(&req.state, &req.principal, &from, None)
            .await
            .is_err()
    {
        return Ok(None);
    }
    let registry = &req.state.registry;
    let Ok(from_package) = registry
        .find_package(&from.owner, FORMAT, &from.image)
        .await
    else {
        return Ok(None);
    };
    let Ok(sha256) = content::stored_sha256(registry, &digest).await else {
        return Ok(None);
    };
    if !registry.package_holds(from_package.id, &sha256).await? {
        return Ok(None);
    }
    let package = req.ensure_package().await?;
    match registry.link(&sha256, Holder::Package(package.id)).await {
        Ok(()) => Ok(Some(created(req, &digest))),
        // Deleted in between: upload it instead.
        Err(Error::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// `GET /v2/{name}/blobs/uploads/{id}`: how far the upload is (204).
pub async fn status(req: &Request, id: &str) -> Result<Response, Failure> {
    req.require_write()?;
    let session = session(req, id).await?;
    Ok(progress(req, StatusCode::NO_CONTENT, &session))
}

/// `PATCH /v2/{name}/blobs/uploads/{id}`: appends the body (`chunk_offset`).
pub async fn patch(req: &Request, id: &str, body: Body) -> Result<Response, Failure> {
    req.require_write()?;
    let session = session(req, id).await?;
    let session = append(req, &session, body).await?;
    Ok(progress(req, StatusCode::ACCEPTED, &session))
}

/// Appends a chunk where `chunk_offset` says; a concurrent append that won is a chunk out of
/// order too.
async fn append(
    req: &Request,
    session: &UploadSession,
    body: Body,
) -> Result<UploadSession, Failure> {
    let offset = chunk_offset(req, session)?;
    let appended = req
        .state
        .registry
        .append_upload(
            &session.id,
            offset,
            body.into_data_stream(),
            req.state.config.max_upload_size,
        )
        .await;
    match appended {
        Ok(session) => Ok(session),
        Err(Error::Conflict(_)) => Err(out_of_order(req, session)),
        Err(e) => Err(e).not_found_as(Code::BlobUploadUnknown),
    }
}

/// `PUT /v2/{name}/blobs/uploads/{id}?digest=`: appends a last chunk if the body has one (as
/// `PATCH` does, `Content-Range` included), then ends the upload as the blob, held by this repository (201). A different digest ends the
/// upload too, keeping nothing (400 `DIGEST_INVALID`).
pub async fn finish(req: &Request, id: &str, body: Body) -> Result<Response, Failure> {
    req.require_write()?;
    let session = session(req, id).await?;
    let digest = req
        .query
        .get("digest")
        .ok_or_else(|| OciError::new(Code::DigestInvalid, "the digest parameter is missing"))?;
    let digest = Digest::parse(digest)?;
    let registry = &req.state.registry;
    if has_body(&req.headers) {
        append(req, &session, body).await?;
    }
    let package = req.ensure_package().await?;
    let holder = Holder::Package(package.id);
    let expected = (digest.algorithm == Algorithm::Sha256).then_some(digest.hex.as_str());
    let finished = registry.finish_upload(id, expected, holder).await;
    match finished {
        Ok(blob) => {
            content::confirm(registry, &digest, blob, holder).await?;
            Ok(created(req, &digest))
        }
        Err(Error::Validation(message)) => {
            registry.cancel_upload(id).await?;
            Err(OciError::new(Code::DigestInvalid, message).into())
        }
        Err(e) => Err(e).not_found_as(Code::BlobUploadUnknown),
    }
}

/// `DELETE /v2/{name}/blobs/uploads/{id}`: cancels the upload (204).
pub async fn cancel(req: &Request, id: &str) -> Result<Response, Failure> {
    req.require_write()?;
    session(req, id).await?;
    req.state
        .registry
        .cancel_upload(id)
        .await
        .not_found_as(Code::BlobUploadUnknown)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A live session of this format under this repository's owner (sessions are not tied to one
/// image: the id is a secret only its pusher knows).
async fn session(req: &Request, id: &str) -> Result<UploadSession, Failure> {
    let unknown = || OciError::new(Code::BlobUploadUnknown, format!("upload {id} not found"));
    let session = req
        .state
        .registry
        .upload_session(id)
        .await
        .not_found_as(Code::BlobUploadUnknown)?;
    let package = req.package().await.not_found_as(Code::BlobUploadUnknown)?;
    if session.format != FORMAT || session.owner_id != package.owner_id {
        return Err(unknown().into());
    }
    Ok(session)
}

/// A mismatch between the content and its announced digest (the core's validation error of a
/// digest-checked write) as the spec's error.
fn digest_mismatch(error: Error) -> Failure {
    match error {
        Error::Validation(message) => OciError::new(Code::DigestInvalid, message).into(),
        other => other.into(),
    }
}

/// Where a chunk goes: at the start its `Content-Range` names, which must be where the upload
/// stands (416 otherwise, the upload unharmed), or at the end for a streamed chunk.
fn chunk_offset(req: &Request, session: &UploadSession) -> Result<u64, Failure> {
    let received = session.bytes_received as u64;
    let Some(value) = req.headers.get(header::CONTENT_RANGE) else {
        return Ok(received);
    };
    match value.to_str().ok().and_then(parse_content_range) {
        Some((start, _)) if start == received => Ok(start),
        Some(_) => Err(out_of_order(req, session)),
        None => Err(OciError::new(
            Code::BlobUploadInvalid,
            "Content-Range must be {start}-{end}",
        )
        .with_status(StatusCode::RANGE_NOT_SATISFIABLE)
        .into()),
    }
}

fn out_of_order(req: &Request, session: &UploadSession) -> Failure {
    let mut response = progress(req, StatusCode::RANGE_NOT_SATISFIABLE, session);
    response
        .extensions_mut()
        .insert(crate::http::error::ErrorInfo {
            code: Code::BlobUploadInvalid.as_str(),
            message: format!(
                "the upload has {} bytes; a chunk must start there",
                session.bytes_received
            ),
        });
    Failure::Response(Box::new(response))
}

/// 201 for a blob now held by this repository.
fn created(req: &Request, digest: &Digest) -> Response {
    let mut response = StatusCode::CREATED.into_response();
    let headers = response.headers_mut();
    set(
        headers,
        header::LOCATION.as_str(),
        &req.url(&format!("blobs/{digest}")),
    );
    set(headers, DIGEST_HEADER, &digest.to_string());
    set(headers, header::CONTENT_LENGTH.as_str(), "0");
    response
}

/// An upload's state: where to send the next chunk and what was received (`Range: 0-{last}`).
fn progress(req: &Request, status: StatusCode, session: &UploadSession) -> Response {
    let mut response = status.into_response();
    let headers = response.headers_mut();
    let last = (session.bytes_received - 1).max(0);
    set(
        headers,
        header::LOCATION.as_str(),
        &req.url(&format!("blobs/uploads/{}", session.id)),
    );
    set(headers, header::RANGE.as_str(), &format!("0-{last}"));
    set(headers, UPLOAD_UUID_HEADER, &session.id);
    set(headers, header::CONTENT_LENGTH.as_str(), "0");
    response
}

pub(super) fn set(headers: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (
        header::HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        headers.insert(name, value);
    }
}

/// Whether the request carries a body (a last chunk on `PUT`).
fn has_body(headers: &HeaderMap) -> bool {
    match announced_length(headers) {
        Some(length) => length > 0,
        None => headers.contains_key(header::TRANSFER_ENCODING),
    }
}

/// A chunk's `Content-Range: {start}-{end}` (inclusive; clients send it without `bytes `,
/// some with).
fn parse_content_range(value: &str) -> Option<(u64, u64)> {
    let value = value.trim();
    let value = value.strip_prefix("bytes ").unwrap_or(value);
    let value = value.split('/').next()?;
    let (start, end) = value.split_once('-')?;
    let (start, end) = (start.trim().parse().ok()?, end.trim().parse().ok()?);
    (start <= end).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges() {
        assert_eq!(parse_content_range("0-99"), Some((0, 99)));
        assert_eq!(parse_content_range("bytes 100-199/*"), Some((100, 199)));
        assert_eq!(parse_content_range(" 5-5 "), Some((5, 5)));
        for bad in ["", "5", "9-5", "a-b", "-5", "5-"] {
            assert_eq!(parse_content_range(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_body_is_announced_by_length_or_chunking() {
        let mut headers = HeaderMap::new();
        assert!(!has_body(&headers));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        assert!(!has_body(&headers));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("12"));
        assert!(has_body(&headers));
        let mut chunked = HeaderMap::new();
        chunked.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        assert!(has_body(&chunked));
    }
}
