//! Requests to the upstream repository. Every failure (unreachable, a 5xx, a body that is not
//! Composer v2 metadata) is recorded as an alert and comes back as `Error::Upstream` (502);
//! a 404 is an answer, not a failure.

use bytes::Bytes;
use futures_util::Stream;

use super::Runtime;
use crate::error::{Error, Result};

/// Upstream metadata larger than this is refused rather than held in memory (Packagist's
/// largest `p2` documents are a few MiB).
const MAX_METADATA_BYTES: usize = 64 * 1024 * 1024;

/// The URL of `document` (`p2` or `p2~dev`) of `name` upstream.
pub fn metadata_url(upstream: &str, name: &str, document: &str) -> String {
    let suffix = if document == "p2~dev" { "~dev" } else { "" };
    format!("{upstream}/p2/{name}{suffix}.json")
}

/// The upstream's document, checked to be Composer v2 metadata of `name`; None when the upstream
/// does not know the package.
pub async fn metadata(
    rt: &Runtime,
    upstream: &str,
    name: &str,
    document: &str,
) -> Result<Option<String>> {
    let url = metadata_url(upstream, name, document);
    let outcome = fetch_metadata(rt, &url, name).await;
    if let Err(e) = &outcome {
        rt.alert(&url, &e.to_string());
    }
    outcome
}

async fn fetch_metadata(rt: &Runtime, url: &str, name: &str) -> Result<Option<String>> {
    Runtime::count(&rt.stats.upstream_fetches);
    let failed = |e: reqwest::Error| Error::upstream(format!("upstream {url}: {e}"));
    let mut response = rt.client().get(url).send().await.map_err(failed)?;
    let status = response.status();
    if status == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !status.is_success() {
        return Err(Error::upstream(format!("upstream {url} answered {status}")));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        if body.len() + chunk.len() > MAX_METADATA_BYTES {
            return Err(Error::upstream(format!(
                "upstream {url}: metadata larger than {MAX_METADATA_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    let text = String::from_utf8(body)
        .map_err(|_| Error::upstream(format!("upstream {url}: metadata is not UTF-8")))?;
    let doc: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::upstream(format!("upstream {url}: metadata is not JSON: {e}")))?;
    if !doc["packages"][name].is_array() {
        return Err(Error::upstream(format!(
            "upstream {url}: not Composer v2 metadata of {name} (no packages.{name} list)"
        )));
    }
    Ok(Some(text))
}

/// The archive at `url`, as a stream of its body.
pub async fn archive(
    rt: &Runtime,
    url: &str,
) -> Result<impl Stream<Item = std::result::Result<Bytes, reqwest::Error>> + Send + use<>> {
    Runtime::count(&rt.stats.upstream_fetches);
    let outcome = match rt.client().get(url).send().await {
        Err(e) => Err(Error::upstream(format!("upstream {url}: {e}"))),
        Ok(r) if !r.status().is_success() => Err(Error::upstream(format!(
            "upstream {url} answered {}",
            r.status()
        ))),
        Ok(r) => Ok(r),
    };
    let response = outcome.inspect_err(|e| rt.alert(url, &e.to_string()))?;
    Ok(futures_util::stream::unfold(response, |mut r| async move {
        match r.chunk().await {
            Ok(Some(chunk)) => Some((Ok(chunk), r)),
            Ok(None) => None,
            Err(e) => Some((Err(e), r)),
        }
    }))
}
