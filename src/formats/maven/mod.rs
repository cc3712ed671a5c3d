//! Maven repository, Gitea dialect (seed 001), under `/api/packages/{owner}/maven/`: artifacts
//! of any kind at `{group path}/{artifact}/{version}/{file}` with their `.md5`, `.sha1`,
//! `.sha256` and `.sha512` checksums, and `maven-metadata.xml` of each artifact and SNAPSHOT
//! version, generated here.
//!
//! A package is `group:artifact`, a version its folder (`1.0`, `1.0-SNAPSHOT`), a file its name;
//! the file records its extension as `kind` and its classifier as `qualifier`. Every upload's
//! four checksums are computed while it streams in and kept on its blob row, so a checksum is
//! served, or an uploaded one checked, without reading the file again. Releases are immutable;
//! a SNAPSHOT takes new timestamped builds. The metadata documents are rendered whenever a
//! package changes (`render`) and served as stored, cut to a customer's granted versions.
//! Paths do not fit a route table (a group has any number of segments), so one catch-all hands
//! the raw path to `layout::parse`.

mod layout;
mod metadata;
mod pom;
mod read;
mod render;
mod rules;
mod upload;
mod version;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use crate::auth::Principal;
use crate::blobs::Digests;
use crate::config::Config;
use crate::customers::ClientSetup;
use crate::error::{Error, Result};
use crate::http::package_path;
use crate::registry::RenderHook;
use crate::state::AppState;
use layout::{Checksum, Target};

const FORMAT: &str = "maven";

/// The Maven repository.
pub struct Maven;

impl super::Format for Maven {
    fn name(&self) -> &'static str {
        FORMAT
    }

    fn routes(&self) -> Router<AppState> {
        Router::new().route("/api/packages/{owner}/maven/{*path}", any(dispatch))
    }

    fn rules(&self) -> Arc<dyn crate::package_rules::PackageRules> {
        Arc::new(rules::MavenRules)
    }

    fn render_hook(&self, _config: &Arc<Config>) -> Option<RenderHook> {
        Some(render::hook())
    }

    /// The `settings.xml` server entry for the customer's token: a project's repository with
    /// id `cargoman` (URL `{BASE_URL}/api/packages/{owner}/maven`) then reads with it.
    fn client_setup(&self) -> Option<ClientSetup> {
        Some(ClientSetup {
            key: "maven_settings",
            render: |_, token| {
                serde_json::json!(format!(
                    "<settings><servers><server><id>cargoman</id><username>customer</username>\
                     <password>{token}</password></server></servers></settings>"
                ))
            },
        })
    }
}

/// Two versions in Maven's order (`ComparableVersion`), for tests that compare it with `mvn`'s.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    version::MavenVersion::parse(a).cmp(&version::MavenVersion::parse(b))
}

/// A request to one owner's Maven repository.
pub(crate) struct Call {
    pub state: AppState,
    pub principal: Principal,
    pub owner: String,
    pub method: Method,
    pub headers: HeaderMap,
}

async fn dispatch(
    State(state): State<AppState>,
    principal: Principal,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let not_found = || Error::not_found(format!("{} not found", uri.path()));
    let path = package_path::split(uri.path(), FORMAT)?;
    let target = layout::parse(path.rest)?.ok_or_else(not_found)?;
    let owner = path.owner;
    let call = Call {
        state,
        principal,
        owner,
        method: method.clone(),
        headers,
    };
    let get = method == Method::GET || method == Method::HEAD;
    match target {
        Target::ArtifactMetadata { coords, checksum } if get => {
            read::artifact_metadata(&call, &coords, checksum).await
        }
        Target::SnapshotMetadata {
            coords,
            version,
            checksum,
        } if get => read::snapshot_metadata(&call, &coords, &version, checksum).await,
        Target::File {
            coords,
            version,
            file,
            checksum,
        } if get => read::file(&call, &coords, &version, &file, checksum).await,
        Target::Listing { coords } if get => read::listing(&call, &coords).await,
        Target::File {
            coords,
            version,
            file,
            checksum: None,
        } if method == Method::PUT => upload::file(&call, &coords, &version, &file, body).await,
        Target::File {
            coords,
            version,
            file,
            checksum: Some(checksum),
        } if method == Method::PUT => {
            upload::checksum(&call, &coords, &version, &file, checksum, body).await
        }
        Target::ArtifactMetadata { coords, checksum } if method == Method::PUT => {
            upload::metadata(&call, &coords, None, checksum, body).await
        }
        Target::SnapshotMetadata {
            coords,
            version,
            checksum,
        } if method == Method::PUT => {
            upload::metadata(&call, &coords, Some(&version), checksum, body).await
        }
        _ => Ok(StatusCode::METHOD_NOT_ALLOWED.into_response()),
    }
}

impl Checksum {
    /// This checksum among a blob's digests (hex), when it was computed.
    fn of(self, digests: &Digests) -> Option<&str> {
        match self {
            Checksum::Md5 => digests.md5.as_deref(),
            Checksum::Sha1 => digests.sha1.as_deref(),
            Checksum::Sha256 => Some(&digests.sha256),
            Checksum::Sha512 => digests.sha512.as_deref(),
        }
    }
}
