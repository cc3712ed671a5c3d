//! NuGet feed, Gitea dialect (seed 001), under `/api/packages/{owner}/nuget/`: the v3 API
//! (service index, registration index, pages and leaves, flat container, search, push, delete,
//! symbol packages) and the v2 OData feed older clients read (`$metadata`, `Packages()`,
//! `FindPackagesById()`, `Search()`, one entry, download).
//!
//! Ids are case-insensitive: the registry keeps them lower-case (the id as written is in each
//! version's metadata); versions are stored normalized (`1.0` → `1.0.0`). A push's body (raw
//! or multipart, chunked or not) is spooled to a temporary file, its nuspec read from the zip,
//! and the file streamed from there into the blob store. The registration index, its pages,
//! the flat container's version list and the search entry are rendered on every change
//! (`render`) and served as stored; a customer sees them cut to its granted versions.

mod feed;
mod nuspec;
mod odata;
mod package;
mod pdb;
mod push;
mod read;
mod render;
mod route;
mod rules;
mod symbols;
mod version;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use crate::auth::Principal;
use crate::config::Config;
use crate::customers::ClientSetup;
use crate::error::{Error, Result};
use crate::http::package_path;
use crate::registry::RenderHook;
use crate::state::AppState;
use route::Target;

const FORMAT: &str = "nuget";

/// The NuGet feed.
pub struct NuGet;

impl super::Format for NuGet {
    fn name(&self) -> &'static str {
        FORMAT
    }

    fn routes(&self) -> Router<AppState> {
        Router::new()
            .route("/api/packages/{owner}/nuget", any(dispatch))
            .route("/api/packages/{owner}/nuget/", any(dispatch))
            .route("/api/packages/{owner}/nuget/{*path}", any(dispatch))
    }

    fn rules(&self) -> Arc<dyn crate::package_rules::PackageRules> {
        Arc::new(rules::NuGetRules)
    }

    fn render_hook(&self, config: &Arc<Config>) -> Option<RenderHook> {
        Some(render::hook(config.base_url.clone()))
    }

    /// A `NuGet.Config` for the customer's token (the owner's feed URL replaces `{owner}`).
    fn client_setup(&self) -> Option<ClientSetup> {
        Some(ClientSetup {
            key: "nuget_config",
            render: |config, token| {
                let source = format!(
                    "{}/api/packages/{{owner}}/nuget/index.json",
                    config.base_url
                );
                serde_json::json!(format!(
                    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n  <packageSources>\n    <clear />\n    <add key=\"cargoman\" value=\"{source}\" protocolVersion=\"3\" />\n  </packageSources>\n  <packageSourceCredentials>\n    <cargoman>\n      <add key=\"Username\" value=\"customer\" />\n      <add key=\"ClearTextPassword\" value=\"{token}\" />\n    </cargoman>\n  </packageSourceCredentials>\n</configuration>\n"
                ))
            },
        })
    }
}

/// A request to one owner's feed.
pub(crate) struct Call {
    pub state: AppState,
    pub principal: Principal,
    pub owner: String,
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
}

impl Call {
    fn urls(&self) -> feed::Urls {
        feed::Urls::new(&self.state.config.base_url, &self.owner)
    }
}

async fn dispatch(
    State(state): State<AppState>,
    principal: Principal,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    request: Request,
) -> Result<Response> {
    let path = package_path::split(uri.path(), FORMAT)?;
    let target = route::parse(path.rest)
        .ok_or_else(|| Error::not_found(format!("{} not found", uri.path())))?;
    let owner = path.owner;
    let body: Body = request.into_body();
    let call = Call {
        state,
        principal,
        owner,
        method: method.clone(),
        uri,
        headers,
    };
    let get = method == Method::GET || method == Method::HEAD;
    match (target, method) {
        (Target::Root, _) if get => odata::service(&call).await,
        (Target::Root | Target::V2Publish, Method::PUT) => {
            push::push(&call, push::Kind::Package, body).await
        }
        (Target::SymbolPublish, Method::PUT) => push::push(&call, push::Kind::Symbols, body).await,
        (Target::ServiceIndex, _) if get => read::service_index(&call).await,
        (Target::RegistrationIndex(id), _) if get => read::registration(&call, &id, None).await,
        (Target::RegistrationPage(id, n), _) if get => {
            read::registration(&call, &id, Some(n)).await
        }
        (Target::RegistrationLeaf(id, version), _) if get => read::leaf(&call, &id, &version).await,
        (Target::FlatVersions(id), _) if get => read::flat_versions(&call, &id).await,
        (Target::FlatFile { id, version, file }, _) if get => {
            read::flat_file(&call, &id, &version, &file).await
        }
        (Target::V2Download { id, version }, _) if get => read::nupkg(&call, &id, &version).await,
        (Target::Search, _) if get => read::search(&call).await,
        (Target::Version { id, version }, Method::DELETE) => {
            push::delete(&call, &id, &version).await
        }
        (Target::Symbol { file, signature }, _) if get => {
            symbols::download(&call, &file, &signature).await
        }
        (Target::V2Metadata, _) if get => odata::metadata(&call).await,
        (Target::V2Feed { function, count }, _) if get => odata::feed(&call, function, count).await,
        (Target::V2Entry { id, version }, _) if get => odata::entry(&call, &id, &version).await,
        _ => Ok(StatusCode::METHOD_NOT_ALLOWED.into_response()),
    }
}
