//! Content discovery (spec: "Listing tags", and distribution's catalog): sorted names, paged by
//! `n` (how many) and `last` (the name the previous page ended with), with a `Link` to the next
//! page while there is one. Only what the caller may read is listed.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::errors::{Code, Failure, NotFoundAs, OciError};
use super::token::{Needed, TokenScope};
use super::{FORMAT, Params, Request};
use crate::auth::Authenticated;
use crate::error::Error;
use crate::http::owner_access::{PackageRead, reads_whole_owner, require_package_content_read};
use crate::state::AppState;

/// One page of `sorted` names: those after `last`, at most `n` (all without `n`), and whether
/// more follow.
pub fn page<'a>(
    sorted: &'a [String],
    n: Option<usize>,
    last: Option<&str>,
) -> (&'a [String], bool) {
    let start = last.map_or(0, |last| {
        sorted.partition_point(|name| name.as_str() <= last)
    });
    let rest = &sorted[start..];
    match n {
        Some(n) if n < rest.len() => (&rest[..n], true),
        _ => (rest, false),
    }
}

/// `n` and `last` from the query; a malformed `n` is the spec's `PAGINATION_NUMBER_INVALID`
/// in distribution, a 400 here.
fn paging(query: &Params) -> Result<(Option<usize>, Option<&str>), Failure> {
    let n = match query.get("n") {
        None => None,
        Some(n) => Some(n.parse::<usize>().map_err(|_| {
            OciError::new(Code::Unsupported, format!("n must be a number, not {n:?}"))
        })?),
    };
    Ok((n, query.get("last")))
}

/// The JSON answer with the next page's `Link` when `more`.
fn answer(
    path: &str,
    body: serde_json::Value,
    shown: &[String],
    n: Option<usize>,
    more: bool,
) -> Response {
    let mut headers = HeaderMap::new();
    if let (true, Some(n), Some(last)) = (more, n, shown.last()) {
        let link = format!("<{path}?n={n}&last={last}>; rel=\"next\"");
        super::blobs::set(&mut headers, header::LINK.as_str(), &link);
    }
    super::blobs::set(
        &mut headers,
        header::CONTENT_TYPE.as_str(),
        "application/json",
    );
    (StatusCode::OK, headers, body.to_string()).into_response()
}

/// `GET /v2/{name}/tags/list`: the repository's tags a caller may read (a customer, only
/// those its grant's constraint allows).
pub async fn tags(req: &Request) -> Result<Response, Failure> {
    let registry = &req.state.registry;
    req.require_read(None).await?;
    let package = req.package().await.not_found_as(Code::NameUnknown)?;
    let whole = reads_whole_owner(&req.state, &req.principal, &req.repo.owner).await?;
    let mut names = Vec::new();
    for tag in registry.tags(package.id).await? {
        if whole || req.require_read(Some(&tag.name)).await.is_ok() {
            names.push(tag.name);
        }
    }
    // By bytes, whatever the database's collation.
    names.sort();
    let (n, last) = paging(&req.query)?;
    let (shown, more) = page(&names, n, last);
    let body = json!({ "name": req.repo.name(), "tags": shown });
    Ok(answer(&req.url("tags/list"), body, shown, n, more))
}

/// `GET /v2/_catalog`: the repositories the caller may read (a customer, those granted); a
/// delegated token must have been issued for `registry:catalog:*`.
pub async fn catalog(
    State(state): State<AppState>,
    caller: Authenticated,
    Query(query): Query<Params>,
) -> Result<Response, Failure> {
    let scope = caller.delegated_scope.as_deref().map(TokenScope::parse);
    if scope.is_some_and(|scope| !scope.allows_catalog()) {
        let refused = Error::Unauthorized("the token was not issued for the catalog".into());
        return Err(super::with_scoped_challenge(
            refused.into(),
            &state,
            Needed::Catalog,
            true,
        ));
    }
    let principal = caller.principal;
    let mut names = Vec::new();
    for package in state.registry.packages_of_format(FORMAT).await? {
        let read = PackageRead {
            owner: &package.owner,
            format: FORMAT,
            package: &package.name,
            version: "",
        };
        // Visibilities and customer views are cached: no query per repository.
        if require_package_content_read(&state, &principal, read)
            .await
            .is_ok()
        {
            names.push(format!("{}/{}", package.owner.to_lowercase(), package.name));
        }
    }
    names.sort();
    let (n, last) = paging(&query)?;
    let (shown, more) = page(&names, n, last);
    let body = json!({ "repositories": shown });
    Ok(answer("/v2/_catalog", body, shown, n, more))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_last_and_n() {
        let names: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        let all = page(&names, None, None);
        assert_eq!((all.0.len(), all.1), (4, false));
        let first = page(&names, Some(2), None);
        assert_eq!((first.0, first.1), (&names[..2], true));
        let second = page(&names, Some(2), Some("b"));
        assert_eq!((second.0, second.1), (&names[2..], false));
        assert_eq!(page(&names, Some(0), None).0.len(), 0);
        assert_eq!(page(&names, None, Some("bb")).0, &names[2..]);
        assert_eq!(page(&names, Some(9), Some("d")).0.len(), 0);
    }
}
