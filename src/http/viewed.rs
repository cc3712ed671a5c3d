//! A package's rendered document as one caller sees it: whole for a caller that sees every
//! version, else cut by the format to the caller's versions (`View`) and kept in the access
//! cache. Every format that filters documents per customer (Composer's `p2`, npm's packuments)
//! reads them here, so the cache key and ETag rules live in one place.

use std::sync::Arc;

use bytes::Bytes;

use crate::blobs::digest::sha256_hex;
use crate::customers::{DocumentKey, View};
use crate::error::Result;
use crate::state::AppState;

/// Which stored document.
#[derive(Debug, Clone, Copy)]
pub struct DocumentAt<'a> {
    pub owner: &'a str,
    pub format: &'a str,
    pub package: &'a str,
    /// Any name: a format may number its documents (NuGet's registration pages).
    pub document: &'a str,
}

/// A document ready to serve.
pub struct Viewed {
    pub body: Bytes,
    /// The ETag (without quotes).
    pub tag: String,
    /// Moves with grant changes too, not only with the stored document.
    pub last_modified: i64,
}

impl Viewed {
    /// The answer to a read of this copy: `200` with `content_type`, or `304` for a client that
    /// holds it (`http::download::serve_document`).
    pub fn serve(
        self,
        method: &axum::http::Method,
        request: &axum::http::HeaderMap,
        content_type: &str,
    ) -> axum::response::Response {
        super::download::serve_document(
            self.body,
            &self.tag,
            self.last_modified,
            method,
            request,
            content_type,
        )
    }
}

/// The document at `at` through `view`, or `None` when none is stored; `cut` makes the
/// caller's copy from the stored body (run once per stored version and view key).
pub async fn document(
    state: &AppState,
    view: &View,
    at: DocumentAt<'_>,
    cut: impl FnOnce(&[u8]) -> Result<Bytes>,
) -> Result<Option<Viewed>> {
    let Some(doc) = state
        .registry
        .documents
        .get(
            &state.registry.db,
            at.owner,
            at.format,
            at.package,
            at.document,
        )
        .await?
    else {
        return Ok(None);
    };
    let (body, tag) = match view.version_key(at.package) {
        None => (doc.body.clone(), doc.sha256.clone()),
        Some(view_key) => {
            let tag = filtered_tag(&doc.sha256, &view_key);
            let key = DocumentKey {
                package_id: doc.package_id,
                document: Arc::from(at.document),
                updated_at: doc.updated_at,
                view: view_key,
            };
            (state.access.document(key, || cut(&doc.body))?, tag)
        }
    };
    Ok(Some(Viewed {
        body,
        tag,
        last_modified: view.last_modified(doc.updated_at),
    }))
}

/// The ETag of a document filtered through a view. The filtered body follows from the stored one
/// and the view key (the cache of filtered copies relies on that too), so a hash of the two tells
/// it apart without hashing the filtered body on every request.
fn filtered_tag(stored_sha256: &str, view_key: &str) -> String {
    sha256_hex(format!("{stored_sha256}\0{view_key}").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filtered_document_has_its_own_tag_per_stored_body_and_view() {
        let stored = sha256_hex(b"{}");
        let tag = filtered_tag(&stored, "grant:^1.0");
        assert_eq!(tag, filtered_tag(&stored, "grant:^1.0"), "stable");
        assert_ne!(tag, stored, "not the whole document's");
        assert_ne!(tag, filtered_tag(&stored, "grant:^2.0"), "another view");
        assert_ne!(
            tag,
            filtered_tag(&sha256_hex(b"[]"), "grant:^1.0"),
            "a new body"
        );
    }
}
