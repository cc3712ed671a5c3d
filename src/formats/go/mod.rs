//! Go module proxy, Gitea dialect (seed 002), under `/api/packages/{owner}/go/`: module zips
//! uploaded with `PUT upload`, served by the GOPROXY protocol (`{module}/@v/list`,
//! `@v/{version}.info|.mod|.zip`, `@latest`, paths and versions in the proxy's case encoding).
//!
//! A package is a module path (`example.com/lib/v2`), a version a canonical semantic version,
//! its one file the module zip `{version}.zip`, checked on upload as the go command checks the
//! zips it downloads; the `.mod` served is the zip's `go.mod` byte for byte (the go command
//! checks it against the zip's), kept on the file's row. `@v/list` and `@latest` are rendered
//! whenever a module changes (`render`) and served as stored, cut to a customer's granted
//! versions. Private owners need https: the go command sends `.netrc` credentials only there.

mod module_path;
mod module_zip;
mod read;
mod render;
mod route;
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
use percent_encoding::percent_decode_str;

use crate::auth::Principal;
use crate::config::Config;
use crate::customers::ClientSetup;
use crate::error::{Error, Result};
use crate::http::package_path;
use crate::registry::RenderHook;
use crate::state::AppState;
use route::Target;

const FORMAT: &str = "go";

/// The Go module proxy.
pub struct Go;

impl super::Format for Go {
    fn name(&self) -> &'static str {
        FORMAT
    }

    fn routes(&self) -> Router<AppState> {
        Router::new().route("/api/packages/{owner}/go/{*path}", any(dispatch))
    }

    fn rules(&self) -> Arc<dyn crate::package_rules::PackageRules> {
        Arc::new(rules::GoRules)
    }

    fn render_hook(&self, _config: &Arc<Config>) -> Option<RenderHook> {
        Some(render::hook())
    }

    /// The `~/.netrc` line for the customer's token: the go command sends it (over https) to
    /// the server's host, whatever the port.
    fn client_setup(&self) -> Option<ClientSetup> {
        Some(ClientSetup {
            key: "go_netrc",
            render: |config, token| {
                let host = netrc_machine(&config.base_url);
                serde_json::json!(format!("machine {host} login customer password {token}\n"))
            },
        })
    }
}

/// The host of a URL as `.netrc` names a machine: no scheme, credentials, port or path.
fn netrc_machine(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    }
}

/// The stored name of a version's zip (versions hold no `/`).
fn zip_name(version: &str) -> String {
    format!("{version}.zip")
}

/// A request to one owner's Go proxy.
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
    let not_found = || Error::not_found(format!("not found: {}", uri.path()));
    let path = package_path::split(uri.path(), FORMAT)?;
    let owner = path.owner;
    let rest = percent_decode_str(path.rest)
        .decode_utf8()
        .map_err(|_| not_found())?;
    let target = route::parse(&rest).ok_or_else(not_found)?;
    let call = Call {
        state,
        principal,
        owner,
        method: method.clone(),
        headers,
    };
    let get = method == Method::GET || method == Method::HEAD;
    // A path or version the go command could not have asked for names nothing.
    let valid = |module: &str| module_path::check_module_path(module).is_ok();
    match target {
        Target::Upload if method == Method::PUT => upload::upload(&call, body).await,
        Target::List { module } if get && valid(&module) => read::list(&call, &module).await,
        Target::Latest { module } if get && valid(&module) => {
            read::latest_info(&call, &module).await
        }
        Target::Version {
            module,
            version,
            file,
        } if get && valid(&module) && version::GoVersion::parse(&version).is_ok() => {
            read::version_file(&call, &module, &version, file).await
        }
        Target::Upload => Ok(StatusCode::METHOD_NOT_ALLOWED.into_response()),
        _ if get => Err(not_found()),
        _ => Ok(StatusCode::METHOD_NOT_ALLOWED.into_response()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netrc_machines_are_bare_hosts() {
        assert_eq!(netrc_machine("https://pkg.example.com"), "pkg.example.com");
        assert_eq!(
            netrc_machine("https://pkg.example.com:8443/x"),
            "pkg.example.com"
        );
        assert_eq!(netrc_machine("http://127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(netrc_machine("https://u:p@h.example/"), "h.example");
        assert_eq!(netrc_machine("https://[::1]:8443"), "::1");
    }
}
