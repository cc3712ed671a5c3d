//! Worker loops: claim a task, run its kind's handler, record the outcome.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::store::{self, Task};
use crate::db::Db;
use crate::error::Result;

pub type Handler = Arc<dyn Fn(Task) -> BoxFuture<'static, Result<serde_json::Value>> + Send + Sync>;

/// A task running longer than this is taken to belong to a dead worker and is queued again.
const ABANDONED_AFTER_SECS: i64 = 3600;
const IDLE_POLL: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub struct Queue {
    db: Db,
    handlers: Arc<HashMap<String, Handler>>,
    wake: Arc<Notify>,
    running: Arc<Mutex<HashSet<i64>>>,
}

impl Queue {
    pub fn new(db: Db, handlers: HashMap<String, Handler>) -> Self {
        Queue {
            db,
            handlers: Arc::new(handlers),
            wake: Arc::new(Notify::new()),
            running: Arc::new(Mutex::new(HashSet::new())),
        }
    }

    /// The task kinds this queue can run.
    pub fn kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = self.handlers.keys().cloned().collect();
        kinds.sort();
        kinds
    }

    pub async fn enqueue(
        &self,
        kind: &str,
        payload: serde_json::Value,
        dedupe_key: Option<&str>,
    ) -> Result<Task> {
        let task = store::enqueue(&self.db, kind, &payload, dedupe_key).await?;
        self.wake.notify_waiters();
        Ok(task)
    }

    /// Starts `count` workers that run until `stop` turns true.
    pub async fn start(&self, count: usize, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
        let before = crate::clock::now() - ABANDONED_AFTER_SECS;
        match store::requeue(&self.db, &[], Some(before)).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(count = n, "queued abandoned tasks again"),
            Err(e) => tracing::warn!(error = %e, "could not look for abandoned tasks"),
        }
        (0..count)
            .map(|_| tokio::spawn(self.clone().work(stop.clone())))
            .collect()
    }

    /// Puts this instance's running tasks back in the queue (called after workers are stopped).
    pub async fn release_running(&self) {
        let ids: Vec<i64> = self.running.lock().expect("running lock").drain().collect();
        if let Err(e) = store::requeue(&self.db, &ids, None).await {
            tracing::warn!(error = %e, "could not requeue interrupted tasks");
        }
    }

    async fn work(self, mut stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
            let task = match store::claim(&self.db).await {
                Ok(task) => task,
                Err(e) => {
                    tracing::warn!(error = %e, "could not claim a task");
                    None
                }
            };
            let Some(task) = task else {
                tokio::select! {
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(IDLE_POLL) => {}
                    _ = stop.changed() => {}
                }
                continue;
            };
            self.running.lock().expect("running lock").insert(task.id);
            let outcome = self.run(task.clone()).await;
            if let Err(e) = &outcome {
                tracing::warn!(task = task.id, kind = %task.kind, error = %e, "task failed");
            }
            if let Err(e) = store::finish(&self.db, task.id, &outcome).await {
                tracing::warn!(task = task.id, error = %e, "could not record task outcome");
            }
            self.running.lock().expect("running lock").remove(&task.id);
        }
    }

    async fn run(&self, task: Task) -> std::result::Result<serde_json::Value, String> {
        let Some(handler) = self.handlers.get(&task.kind).cloned() else {
            return Err(format!("no handler for task kind {}", task.kind));
        };
        // A panicking handler fails its task instead of killing the worker.
        match tokio::spawn(handler(task)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(format!("task crashed: {e}")),
        }
    }
}
