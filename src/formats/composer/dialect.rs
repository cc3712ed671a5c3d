//! What the upload dialects (Gitea's and Nitro Repo's) share beyond `uploads`: the Composer
//! service from the app state, URL segment encoding, and search over an owner's uploaded
//! packages with paging.

use serde::Deserialize;
use serde_json::Value;

use super::Composer;
use crate::error::Result;
use crate::state::AppState;

pub(super) fn composer(state: &AppState) -> Composer {
    Composer {
        registry: state.registry.clone(),
        config: state.config.clone(),
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters (one URL path segment or
/// query value).
pub(super) fn percent_encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `search.json`'s query, as Packagist, Gitea and Nitro spell it.
#[derive(Debug, Deserialize)]
pub(super) struct SearchQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default, rename = "type")]
    pub kind: String,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Where the search text is looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SearchIn {
    /// The package name only (Gitea).
    Name,
    /// Name, description and keywords of the newest version (Nitro).
    NameDescriptionKeywords,
}

/// One package found.
pub(super) struct Hit {
    pub name: String,
    /// The newest version's description ("" when it has none).
    pub description: Value,
    /// Downloads of all its versions.
    pub downloads: i64,
}

/// One page of hits.
pub(super) struct Found {
    pub total: usize,
    pub hits: Vec<Hit>,
    /// The query string of the next page, when there is one.
    pub next: Option<String>,
}

/// Packages whose text contains `q` (any case) and, with `type`, whose newest version has that
/// type; `per_page` 10 by default (at most 100), pages from 1.
pub(super) async fn search(
    composer: &Composer,
    owner: &str,
    query: &SearchQuery,
    within: SearchIn,
) -> Result<Found> {
    let needle = query.q.to_lowercase();
    let mut hits = Vec::new();
    for name in composer.uploaded_names(owner).await? {
        let Some(versions) = composer.uploaded_versions(owner, &name).await? else {
            continue;
        };
        let Some(newest) = versions.first() else {
            continue;
        };
        let text = |key: &str| newest.entry.get(key).and_then(Value::as_str).unwrap_or("");
        let keywords = || {
            newest
                .entry
                .get("keywords")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .any(|k| k.to_lowercase().contains(&needle))
        };
        let matches = name.contains(&needle)
            || (within == SearchIn::NameDescriptionKeywords
                && (text("description").to_lowercase().contains(&needle) || keywords()));
        let kind = match text("type") {
            "" => "library",
            kind => kind,
        };
        if !matches || (!query.kind.is_empty() && kind != query.kind) {
            continue;
        }
        hits.push(Hit {
            description: Value::String(text("description").to_string()),
            downloads: versions.iter().map(|v| v.download_count).sum(),
            name,
        });
    }
    let per_page = query.per_page.filter(|&n| n > 0).unwrap_or(10).min(100) as usize;
    let page = query.page.filter(|&n| n > 0).unwrap_or(1) as usize;
    let total = hits.len();
    let next = (page * per_page < total).then(|| {
        format!(
            "q={}&type={}&page={}&per_page={per_page}",
            percent_encode(&query.q),
            percent_encode(&query.kind),
            page + 1
        )
    });
    let hits = hits
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    Ok(Found { total, hits, next })
}

#[cfg(test)]
mod tests {
    use super::percent_encode;

    #[test]
    fn only_unreserved_characters_stay() {
        assert_eq!(percent_encode("acme/lib-1.0_x~"), "acme%2Flib-1.0_x~");
        assert_eq!(percent_encode("a b&c=d"), "a%20b%26c%3Dd");
        assert_eq!(percent_encode("ä"), "%C3%A4");
    }
}
