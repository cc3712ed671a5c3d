//! The GOPROXY reads: `@v/list` and `@latest` served as rendered (a customer's copy cut to its
//! granted versions), a version's `.info`, `.mod` and `.zip` from its stored zip's row (cached;
//! the `.mod` was kept on it at upload). A module the caller may not see, one that does not
//! exist (the go command asks for every parent path first) and a version outside a customer's
//! grants are all plain 404s, which the go command reads as "not here"; only a caller who may
//! not read the owner at all gets 401/403.

use axum::response::Response;
use bytes::Bytes;

use super::render::{LATEST, LIST, info};
use super::route::VersionFile;
use super::rules::latest;
use super::version::GoVersion;
use super::{Call, FORMAT, zip_name};
use crate::customers::View;
use crate::error::{Error, Result};
use crate::http::download::{serve_document, serve_file};
use crate::http::owner_access::repository_view;
use crate::http::viewed::{self, DocumentAt};
use crate::model::packages::{File, FileCoord};

const TEXT: &str = "text/plain; charset=utf-8";
const JSON: &str = "application/json";

fn not_found(what: &str) -> Error {
    Error::not_found(format!("not found: {what}"))
}

/// What the caller sees of the owner's modules; 404 when `module` is not among them.
async fn view_of(call: &Call, module: &str) -> Result<View> {
    let view = repository_view(&call.state, &call.principal, &call.owner, FORMAT).await?;
    if !view.allows_package(module) {
        return Err(not_found(module));
    }
    Ok(view)
}

/// `GET {module}/@v/list`.
pub async fn list(call: &Call, module: &str) -> Result<Response> {
    let view = view_of(call, module).await?;
    let doc = viewed_list(call, &view, module)
        .await?
        .ok_or_else(|| not_found(module))?;
    Ok(serve_document(
        doc.body,
        &doc.tag,
        doc.last_modified,
        &call.method,
        &call.headers,
        TEXT,
    ))
}

async fn viewed_list(call: &Call, view: &View, module: &str) -> Result<Option<viewed::Viewed>> {
    let at = DocumentAt {
        owner: &call.owner,
        format: FORMAT,
        package: module,
        document: LIST,
    };
    viewed::document(&call.state, view, at, |body| {
        let text = String::from_utf8_lossy(body);
        let kept: String = text
            .lines()
            .filter(|v| view.allows_version(module, v))
            .map(|v| format!("{v}\n"))
            .collect();
        Ok(Bytes::from(kept))
    })
    .await
}

/// `GET {module}/@latest`: as rendered; for a customer, the latest of its granted tagged
/// versions.
pub async fn latest_info(call: &Call, module: &str) -> Result<Response> {
    let view = view_of(call, module).await?;
    if view.version_key(module).is_none() {
        let state = &call.state;
        let doc = state
            .registry
            .documents
            .get(&state.registry.db, &call.owner, FORMAT, module, LATEST)
            .await?
            .ok_or_else(|| not_found(module))?;
        return Ok(serve_document(
            doc.body.clone(),
            &doc.sha256,
            doc.updated_at,
            &call.method,
            &call.headers,
            JSON,
        ));
    }
    let doc = viewed_list(call, &view, module)
        .await?
        .ok_or_else(|| not_found(module))?;
    let granted: Vec<GoVersion> = String::from_utf8_lossy(&doc.body)
        .lines()
        .filter_map(|v| GoVersion::parse(v).ok())
        .collect();
    let newest = latest(&granted).ok_or_else(|| not_found(module))?;
    let file = find_zip(call, module, newest.as_str()).await?;
    Ok(version_info(call, &file, newest.as_str()))
}

/// `GET {module}/@v/{version}.info|.mod|.zip`.
pub async fn version_file(
    call: &Call,
    module: &str,
    version: &str,
    wanted: VersionFile,
) -> Result<Response> {
    let view = view_of(call, module).await?;
    if !view.allows_version(module, version) {
        return Err(not_found(&format!("{module}@{version}")));
    }
    let file = find_zip(call, module, version).await?;
    match wanted {
        VersionFile::Info => Ok(version_info(call, &file, version)),
        VersionFile::Mod => {
            let go_mod = file.details.metadata["gomod"]
                .as_str()
                .ok_or_else(|| Error::internal(format!("{module}@{version} has no go.mod kept")))?;
            Ok(serve_document(
                Bytes::from(go_mod.to_string()),
                &format!("{}.mod", file.blob.sha256),
                file.created_at,
                &call.method,
                &call.headers,
                TEXT,
            ))
        }
        VersionFile::Zip => {
            serve_file(
                &call.state.registry,
                &file,
                &call.method,
                &call.headers,
                "application/zip",
                call.principal.customer_id(),
            )
            .await
        }
    }
}

fn version_info(call: &Call, file: &File, version: &str) -> Response {
    serve_document(
        Bytes::from(info(version, file.created_at)),
        &format!("{}.info", file.blob.sha256),
        file.created_at,
        &call.method,
        &call.headers,
        JSON,
    )
}

async fn find_zip(call: &Call, module: &str, version: &str) -> Result<File> {
    let name = zip_name(version);
    let at = FileCoord {
        owner: &call.owner,
        format: FORMAT,
        package: module,
        version,
        file: &name,
    };
    call.state
        .registry
        .find_file(at)
        .await
        .map_err(|e| match e {
            Error::NotFound(_) => not_found(&format!("{module}@{version}")),
            other => other,
        })
}
