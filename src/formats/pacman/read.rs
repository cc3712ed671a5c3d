//! `GET|HEAD {arch-repo}/{filename}` in both dialects: Vieter's three behaviours by the file
//! name (`filename::classify`): a database, a package file or its signature, or a package's
//! `desc`.

use axum::http::{HeaderMap, Method};
use axum::response::Response;

use super::filename::{Requested, classify};
use super::place::{ArchRepo, stored_name};
use super::{FORMAT, database};
use crate::auth::Principal;
use crate::error::Result;
use crate::http::download::serve_file;
use crate::http::owner_access::{PackageRead, require_package_read};
use crate::model::packages::FileCoord;
use crate::state::AppState;

pub struct Read<'a> {
    pub state: &'a AppState,
    pub principal: &'a Principal,
    pub at: ArchRepo<'a>,
    pub method: &'a Method,
    pub headers: &'a HeaderMap,
}

pub async fn read(read: Read<'_>, filename: &str) -> Result<Response> {
    let Read {
        state,
        principal,
        at,
        method,
        headers,
    } = read;
    let requested = classify(filename).ok_or_else(crate::http::error::no_such_route)?;
    match requested {
        Requested::Database(db) => database::serve(state, principal, at, db, method, headers).await,
        Requested::Desc { name, version } => {
            database::desc(state, principal, at, name, version, method, headers).await
        }
        Requested::Package { file, signature } => {
            let package = PackageRead {
                owner: at.repository.owner,
                format: FORMAT,
                package: file.name,
                version: file.version,
            };
            require_package_read(state, principal, package).await?;
            let stored = stored_name(&at.qualifier(), filename);
            let found = state
                .registry
                .find_file(FileCoord {
                    owner: at.repository.owner,
                    format: FORMAT,
                    package: file.name,
                    version: file.version,
                    file: &stored,
                })
                .await?;
            let content_type = if signature {
                "application/pgp-signature"
            } else {
                "application/octet-stream"
            };
            serve_file(
                &state.registry,
                &found,
                method,
                headers,
                content_type,
                principal.customer_id(),
            )
            .await
        }
    }
}
