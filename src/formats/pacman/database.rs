//! Serving an arch-repo's databases and one package's `desc`. A database is assembled from the
//! entries `render` keeps per package: their gzip members in one read (one statement, so one
//! snapshot: a reader never sees half a change), then the member that ends the tar. The result
//! is kept in memory under the arch-repo's head (which every change replaces) and the caller's
//! view, so while nothing changes a read costs two small queries (the owner, the arch-repo's
//! head), on every instance.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use axum::http::{HeaderMap, Method};
use axum::response::Response;
use bytes::Bytes;

use super::FORMAT;
use super::db_archive::{desc_of_member, end_member};
use super::filename::Database;
use super::place::{ArchRepo, entry_document, head_document};
use crate::customers::View;
use crate::error::{Error, Result};
use crate::http::download::serve_document;
use crate::http::owner_access::{PackageRead, repository_view, require_package_read};
use crate::http::viewed::{self, DocumentAt};
use crate::model::documents::{self, Scope};
use crate::model::owners;
use crate::state::AppState;

/// Beyond this many bytes of assembled databases, the cache starts over.
const CACHE_BYTES: usize = 256 << 20;

#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    /// The head's ETag: unique to one state of one arch-repo.
    head: String,
    database: Database,
    /// Whose view: everything, or one customer token at one state of its grants.
    view: String,
}

#[derive(Default)]
struct Assembled {
    entries: HashMap<Key, Bytes>,
    bytes: usize,
}

fn cache() -> &'static Mutex<Assembled> {
    static CACHE: OnceLock<Mutex<Assembled>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

fn view_key(view: &View) -> String {
    match view {
        View::All => "all".to_string(),
        View::Customer { token, .. } => format!("{}@{}", token.token_id, token.access_version),
    }
}

/// `GET {arch-repo}/{name}.db` (or `.files`, `.db.tar.gz`, `.files.tar.gz`): the database, cut to
/// a customer's granted packages and versions.
pub async fn serve(
    state: &AppState,
    principal: &crate::auth::Principal,
    at: ArchRepo<'_>,
    database: Database,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Response> {
    let view = repository_view(state, principal, at.repository.owner, FORMAT).await?;
    let qualifier = at.qualifier();
    let missing = || Error::not_found(format!("no arch-repo {qualifier}"));
    let mut conn = state.registry.db.pool().acquire().await?;
    let owner = owners::find(&mut conn, at.repository.owner)
        .await?
        .ok_or_else(missing)?;
    let repository = Scope::repository(owner.id, FORMAT);
    let head = documents::get(&mut conn, repository, &head_document(&qualifier))
        .await?
        .ok_or_else(missing)?;
    let key = Key {
        head: head.sha256.clone(),
        database,
        view: view_key(&view),
    };
    let cached = cache()
        .lock()
        .expect("database cache")
        .entries
        .get(&key)
        .cloned();
    let body = match cached {
        Some(body) => body,
        None => {
            let parts = documents::parts(
                &mut conn,
                owner.id,
                FORMAT,
                &entry_document(database, &qualifier),
            )
            .await?;
            let mut body =
                Vec::with_capacity(parts.iter().map(|p| p.body.len()).sum::<usize>() + 64);
            for part in parts {
                if visible(&view, &part.package, &part.body) {
                    body.extend_from_slice(&part.body);
                }
            }
            body.extend_from_slice(&end_member());
            let body = Bytes::from(body);
            remember(key.clone(), body.clone());
            body
        }
    };
    let tag = match &view {
        View::All => key.head.clone(),
        View::Customer { .. } => format!("{}-{}", key.head, key.view),
    };
    Ok(serve_document(
        body,
        &tag,
        view.last_modified(head.updated_at),
        method,
        headers,
        "application/x-tar",
    ))
}

/// Whether a customer's view holds a package's entry: the package and the entry's version.
fn visible(view: &View, package: &str, entry: &[u8]) -> bool {
    match view {
        View::All => true,
        View::Customer { .. } => {
            view.allows_package(package)
                && desc_of_member(entry)
                    .ok()
                    .and_then(|desc| desc_field(&desc, "VERSION"))
                    .is_some_and(|version| view.allows_version(package, &version))
        }
    }
}

/// The first value of a `desc` field (`%VERSION%` followed by its line).
fn desc_field(desc: &[u8], field: &str) -> Option<String> {
    let text = std::str::from_utf8(desc).ok()?;
    let header = format!("%{field}%");
    let mut lines = text.lines();
    lines.find(|l| *l == header)?;
    lines.next().map(str::to_string)
}

fn remember(key: Key, body: Bytes) {
    let mut cache = cache().lock().expect("database cache");
    if cache.bytes + body.len() > CACHE_BYTES {
        cache.entries.clear();
        cache.bytes = 0;
    }
    cache.bytes += body.len();
    if let Some(old) = cache.entries.insert(key, body) {
        cache.bytes -= old.len();
    }
}

/// `GET {arch-repo}/{name}-{version}`: the package's `desc` in the arch-repo's database, when
/// that is the version listed there.
pub async fn desc(
    state: &AppState,
    principal: &crate::auth::Principal,
    at: ArchRepo<'_>,
    name: &str,
    version: &str,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Response> {
    let read = PackageRead {
        owner: at.repository.owner,
        format: FORMAT,
        package: name,
        version,
    };
    require_package_read(state, principal, read).await?;
    let qualifier = at.qualifier();
    let document = entry_document(Database::Packages, &qualifier);
    let place = DocumentAt {
        owner: at.repository.owner,
        format: FORMAT,
        package: name,
        document: &document,
    };
    let not_listed = || Error::not_found(format!("{name} {version} is not in {qualifier}"));
    let entry = viewed::document(state, &View::All, place, |body| {
        Ok(Bytes::copy_from_slice(body))
    })
    .await?
    .ok_or_else(not_listed)?;
    let desc = desc_of_member(&entry.body)?;
    if desc_field(&desc, "VERSION").as_deref() != Some(version) {
        return Err(not_listed());
    }
    Ok(serve_document(
        Bytes::from(desc),
        &entry.tag,
        entry.last_modified,
        method,
        headers,
        "text/plain; charset=utf-8",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn desc_fields_are_read_by_header() {
        let desc = b"%FILENAME%\na-1-1-any.pkg.tar.zst\n\n%NAME%\na\n\n%VERSION%\n1:2.0-3\n\n";
        assert_eq!(desc_field(desc, "VERSION").as_deref(), Some("1:2.0-3"));
        assert_eq!(desc_field(desc, "NAME").as_deref(), Some("a"));
        assert_eq!(desc_field(desc, "BASE"), None);
    }

    #[test]
    fn the_cache_starts_over_rather_than_grow() {
        let key = |n: u8| Key {
            head: format!("test-{n}"),
            database: Database::Files,
            view: "all".into(),
        };
        remember(key(1), Bytes::from(vec![0; 16]));
        assert!(cache().lock().unwrap().entries.contains_key(&key(1)));
        remember(key(2), Bytes::from(vec![0; CACHE_BYTES]));
        let cache = cache().lock().unwrap();
        assert!(!cache.entries.contains_key(&key(1)));
        assert!(cache.bytes <= CACHE_BYTES);
    }
}
