//! The interface between the core and a format adapter: what a format contributes to the server.
//! The implementations live in `formats/` and are listed in `formats::all()`; the core reaches
//! them only through this trait (`AppState::formats`), never by name.

use std::collections::HashMap;
use std::sync::Arc;

use crate::customers::ClientSetup;
use axum::Router;
use axum::http::HeaderValue;
use futures_util::future::BoxFuture;

use crate::config::Config;
use crate::package_rules::{PackageRules, PlainRules};
use crate::registry::{Collector, Registry, RenderHook};
use crate::state::AppState;
use crate::tasks::Handler;

/// What a format contributes to the server. Everything but its name and routes is optional.
pub trait Format: Send + Sync {
    /// Its name in the model (`packages.format`).
    fn name(&self) -> &'static str;

    /// The routes its clients use.
    fn routes(&self) -> Router<AppState>;

    /// The first path segments its routes take at the root (`v2`, `p2`, `packages.json`), which a
    /// format naming things by the first segment (a pacman repository, `/{repo}/…`) must refuse
    /// as names; `AppState::reserved_roots` holds them with the core's own.
    fn root_segments(&self) -> &'static [&'static str] {
        &[]
    }

    /// Routes whose first segment is a parameter (`/{repo}/{arch}/{file}`). They are merged with
    /// the fallbacks, below every route with a fixed first segment, so they answer only paths no
    /// other route (or another format's catch-all of its own prefix) claims.
    fn root_routes(&self) -> Router<AppState> {
        Router::new()
    }

    /// Its management routes, mounted under `/api/v1` with the API's envelope and limits.
    fn api_routes(&self) -> Router<AppState> {
        Router::new()
    }

    /// Catch-alls for the path prefixes whose unknown paths should answer in this format's error
    /// style (everything else gets the server's plain 404).
    fn unknown_routes(&self) -> Router<AppState> {
        Router::new()
    }

    /// The `WWW-Authenticate` challenge of its 401 answers when it is not the server's default
    /// (`Basic realm="Cargoman"`): most clients send credentials only after the challenge they
    /// expect (OCI clients, for example, want `Bearer realm=…,service=…`).
    fn challenge(&self, _config: &Config) -> Option<HeaderValue> {
        None
    }

    /// How it names packages and orders and matches versions (customer grants, listings). The
    /// default takes names as typed and versions as plain text.
    fn rules(&self) -> Arc<dyn PackageRules> {
        Arc::new(PlainRules(self.name()))
    }

    /// Re-renders its documents (the package's and the repository's) after a package of this
    /// format changed: published, deleted or re-tagged (`Registry::on_change`). `config` is there
    /// for documents that hold absolute URLs (`BASE_URL`), so they are served as stored.
    fn render_hook(&self, _config: &Arc<Config>) -> Option<RenderHook> {
        None
    }

    /// Its garbage collection, run by `cargoman gc` and the `cleanup` task before unused blobs
    /// are removed (`Registry::on_gc`), following the server's settings (`GC_COLLECT_UNTAGGED`).
    fn collector(&self, _config: &Arc<Config>) -> Option<Collector> {
        None
    }

    /// Handlers of its background tasks, by task kind.
    fn task_handlers(
        &self,
        _registry: &Registry,
        _config: &Arc<Config>,
    ) -> HashMap<String, Handler> {
        HashMap::new()
    }

    /// Jobs that run for as long as the server does (a periodic sync, say); stopped at shutdown.
    fn background(&self, _state: &AppState) -> Vec<BoxFuture<'static, ()>> {
        Vec::new()
    }

    /// Path prefixes of its administration routes outside `/api/v1` (a dialect's own management
    /// API), whose successful changes go into the audit log like `/api/v1`'s.
    fn audited_prefixes(&self) -> &'static [&'static str] {
        &[]
    }

    /// Its own commands under `cargoman package` (Composer's Git sync: `add`, `sync`, …).
    fn package_commands(&self) -> Option<Box<dyn PackageCommands>> {
        None
    }

    /// How its client is set up with a customer's token, added to the API's answers that hand
    /// out a token (Cargoman documents `composer_auth`).
    fn client_setup(&self) -> Option<ClientSetup> {
        None
    }

    /// The OSV ecosystem its packages belong to, for matching security advisories against
    /// its versions and reading its clients' lock files (`cargoman audit`).
    fn advisory_ecosystem(&self) -> Option<Arc<dyn crate::advisories::Ecosystem>> {
        None
    }
}

/// A format's commands under `cargoman package`. They run on the database directly, like the
/// rest of the command line; the format parses its arguments itself.
pub trait PackageCommands: Send + Sync {
    /// The name and one-line description of each, for `cargoman package --help`.
    fn list(&self) -> Vec<(String, String)>;

    /// Parses the command `args[0]` with the arguments after it, as typed, before anything is
    /// opened; help and usage errors end the process as the command line's own do.
    fn parse(&self, args: Vec<String>) -> Box<dyn ParsedCommand>;
}

/// One of a format's commands, parsed, ready to run.
pub trait ParsedCommand: Send {
    /// `json` is the global `--json` flag given before the command.
    fn run(
        self: Box<Self>,
        registry: Registry,
        config: Arc<Config>,
        json: bool,
    ) -> BoxFuture<'static, crate::error::Result<()>>;
}
