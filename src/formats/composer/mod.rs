//! Composer: packages synced from Git (Cargoman's own registry, seed 000) served with Composer
//! protocol v2 at the server root, managed under `/api/v1/packages`.

mod advisories;
mod api;
mod cli;
pub mod constraint;
mod dialect;
pub mod ecosystem;
mod gitea;
mod manage;
pub mod metadata;
pub mod monorepo;
pub mod names;
mod nitro;
mod notify;
mod proxy;
mod routes;
mod rules;
pub mod sync;
pub mod uploads;
pub mod version;
pub mod webhook_events;
mod webhooks;
pub mod zip_inspect;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;

use crate::customers::ClientSetup;
use futures_util::future::BoxFuture;

use crate::config::{Config, TaskConfig};
use crate::db::Db;
use crate::error::Result;
use crate::registry::Registry;
use crate::state::AppState;
use crate::tasks::{Handler, Queue, Task};

/// The owner (namespace) that holds the root Composer registry's packages.
pub const OWNER: &str = "cargoman";
pub const FORMAT: &str = "composer";
/// Task kind: sync one package (payload `{"package_id"}`).
pub const SYNC_TASK: &str = "composer.sync";

/// What Composer operations need: the core registry and the settings.
#[derive(Clone)]
pub struct Composer {
    pub registry: Registry,
    pub config: Arc<Config>,
}

/// Composer, in all three ways in: Git sync at the root, Gitea's and Nitro Repo's upload
/// dialects; and the Packagist proxy, whose counters and alerts live as long as the server.
#[derive(Default)]
pub struct ComposerFormat {
    proxy: Arc<proxy::Runtime>,
}

impl super::Format for ComposerFormat {
    fn name(&self) -> &'static str {
        FORMAT
    }

    fn routes(&self) -> Router<AppState> {
        routes::routes()
            .merge(proxy::routes())
            .merge(webhooks::routes())
            .merge(notify::routes())
            .merge(gitea::routes())
            .merge(nitro::routes())
            .layer(axum::Extension(self.proxy.clone()))
    }

    /// Cargoman's Composer repository (`packages.json`, `p2`, `p`, `dist`), the Packagist
    /// proxy's archives and time machine, Packagist's `downloads` notification, Nitro's
    /// `repositories`.
    fn root_segments(&self) -> &'static [&'static str] {
        &[
            "packages.json",
            "p2",
            "p",
            "dist",
            "dist-proxy",
            "time-machine",
            "downloads",
            "repositories",
            "security-advisories.json",
        ]
    }

    fn api_routes(&self) -> Router<AppState> {
        api::routes()
            .merge(webhooks::api_routes())
            .merge(proxy::api_routes())
            .layer(axum::Extension(self.proxy.clone()))
    }

    /// Nitro's paths answer unknown routes in Nitro's error body.
    fn unknown_routes(&self) -> Router<AppState> {
        nitro::unknown_routes()
    }

    fn task_handlers(&self, registry: &Registry, config: &Arc<Config>) -> HashMap<String, Handler> {
        let composer = Composer {
            registry: registry.clone(),
            config: config.clone(),
        };
        let handler: Handler = Arc::new(move |task| {
            let composer = composer.clone();
            Box::pin(async move {
                let package_id = task.payload["package_id"]
                    .as_i64()
                    .ok_or_else(|| crate::error::Error::invalid("sync task without package_id"))?;
                composer.sync_task(package_id).await
            })
        });
        HashMap::from([(SYNC_TASK.to_string(), handler)])
    }

    fn rules(&self) -> Arc<dyn crate::package_rules::PackageRules> {
        Arc::new(rules::ComposerRules)
    }

    /// Nitro Repo's repository management.
    fn audited_prefixes(&self) -> &'static [&'static str] {
        &["/api/repository/"]
    }

    /// `composer config http-basic.<host> token <value>`.
    fn package_commands(&self) -> Option<Box<dyn crate::format::PackageCommands>> {
        Some(Box::new(cli::ComposerCommands))
    }

    fn client_setup(&self) -> Option<ClientSetup> {
        Some(ClientSetup {
            key: "composer_auth",
            render: |config, token| {
                serde_json::json!({
                    "username": "token",
                    "password": token,
                    "repository_url": config.base_url,
                })
            },
        })
    }

    /// OSV's "Packagist", in Composer's version order.
    fn advisory_ecosystem(&self) -> Option<Arc<dyn crate::advisories::Ecosystem>> {
        Some(Arc::new(ecosystem::Packagist))
    }

    fn background(&self, state: &AppState) -> Vec<BoxFuture<'static, ()>> {
        vec![Box::pin(schedule_syncs(
            state.tasks.clone(),
            state.registry.db.clone(),
            state.config.tasks.clone(),
        ))]
    }
}

/// Queues a sync of every Git package at start (`TASK_SYNC_ON_STARTUP`) and every
/// `TASK_SYNC_INTERVAL` seconds; the queue's dedupe keys keep syncs from piling up.
async fn schedule_syncs(queue: Queue, db: Db, tasks: TaskConfig) {
    if tasks.sync_interval == 0 && !tasks.sync_on_startup {
        return;
    }
    let period = std::time::Duration::from_secs(tasks.sync_interval.max(1));
    let mut first = true;
    loop {
        if (!first || tasks.sync_on_startup)
            && let Err(e) = enqueue_all_syncs(&queue, &db).await
        {
            tracing::warn!(error = %e, "could not queue the periodic sync");
        }
        first = false;
        if tasks.sync_interval == 0 {
            return;
        }
        tokio::time::sleep(period).await;
    }
}

pub fn sync_dedupe_key(package_id: i64) -> String {
    format!("{SYNC_TASK}:{package_id}")
}

/// Queues a sync of one package (or returns the one already queued or running).
pub async fn enqueue_sync(queue: &Queue, package_id: i64) -> Result<Task> {
    queue
        .enqueue(
            SYNC_TASK,
            serde_json::json!({"package_id": package_id}),
            Some(&sync_dedupe_key(package_id)),
        )
        .await
}

/// Queues a sync of every package that has a Git source.
pub async fn enqueue_all_syncs(queue: &Queue, db: &Db) -> Result<Vec<Task>> {
    let ids = {
        let mut conn = db.pool().acquire().await?;
        crate::model::git_sources::all_package_ids(&mut conn).await?
    };
    let mut tasks = Vec::new();
    for id in ids {
        tasks.push(enqueue_sync(queue, id).await?);
    }
    Ok(tasks)
}

/// The caller's view of the repository, once it may read packages at all. When the owner's
/// visibility lets the caller read it whole (a public owner: anyone; limited: any authenticated
/// reader), there is nothing to filter, as for a team token; a private owner keeps the grants.
async fn view(
    state: &AppState,
    principal: &crate::auth::Principal,
) -> Result<crate::customers::View> {
    crate::http::owner_access::repository_view(state, principal, OWNER, FORMAT).await
}
