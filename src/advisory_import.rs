//! Importing OSV advisories (above the model and the task queue, which it uses; the records'
//! reading and matching, `advisories`, stay below them): from a JSON file (one object or an array), a folder of `*.json`
//! files, or an http(s) URL. Everything is read and checked before anything is stored, so a bad
//! record leaves the store as it was; then one transaction stores them all, an id replacing its
//! stored copy only when its `modified` is newer. The server imports `ADVISORIES_URL` as a
//! queued task every `ADVISORIES_INTERVAL` seconds.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::advisories::osv::{self, Advisory};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::model::advisories::{self, Stored};
use crate::tasks::{Handler, Queue};

/// Task kind: import the configured `ADVISORIES_URL`.
pub const IMPORT_TASK: &str = "advisories.import";

/// A feed larger than this is refused rather than held in memory.
const MAX_FEED_BYTES: usize = 256 * 1024 * 1024;

#[derive(Debug, Default, Clone, Serialize)]
pub struct ImportReport {
    pub read: usize,
    pub added: usize,
    pub replaced: usize,
    pub unchanged: usize,
}

/// Reads and checks every advisory of `source` (a path or an http(s) URL).
pub async fn load(source: &str) -> Result<Vec<Advisory>> {
    if source.starts_with("http://") || source.starts_with("https://") {
        let bytes = fetch(source).await?;
        return osv::parse_document(&bytes, source);
    }
    let path = Path::new(source);
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(|e| Error::invalid(format!("{source}: {e}")))?;
    if !meta.is_dir() {
        return read_file(path).await;
    }
    let mut files = Vec::new();
    let mut dir = tokio::fs::read_dir(path)
        .await
        .map_err(|e| Error::invalid(format!("{source}: {e}")))?;
    while let Some(entry) = dir.next_entry().await.map_err(Error::internal)? {
        if entry.path().extension().is_some_and(|e| e == "json") {
            files.push(entry.path());
        }
    }
    files.sort();
    let mut all = Vec::new();
    for file in files {
        all.extend(read_file(&file).await?);
    }
    Ok(all)
}

async fn read_file(path: &Path) -> Result<Vec<Advisory>> {
    let origin = path.display().to_string();
    let bytes = tokio::fs::read(path)
        .await
        .map_err(|e| Error::invalid(format!("{origin}: {e}")))?;
    osv::parse_document(&bytes, &origin)
}

async fn fetch(url: &str) -> Result<Vec<u8>> {
    let failed = |e: reqwest::Error| Error::invalid(format!("{url}: {e}"));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(Error::internal)?;
    let mut response = client.get(url).send().await.map_err(failed)?;
    if !response.status().is_success() {
        return Err(Error::invalid(format!(
            "{url}: answered {}",
            response.status()
        )));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        if body.len() + chunk.len() > MAX_FEED_BYTES {
            return Err(Error::invalid(format!(
                "{url}: larger than {MAX_FEED_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Stores the advisories in one transaction.
pub async fn store(db: &Db, list: &[Advisory]) -> Result<ImportReport> {
    let mut report = ImportReport {
        read: list.len(),
        ..ImportReport::default()
    };
    let mut tx = db.begin_write().await?;
    for advisory in list {
        match advisories::store(&mut tx, advisory).await? {
            Stored::Added => report.added += 1,
            Stored::Replaced => report.replaced += 1,
            Stored::Kept => report.unchanged += 1,
        }
    }
    tx.commit().await?;
    Ok(report)
}

/// Loads and stores `source`.
pub async fn import(db: &Db, source: &str) -> Result<ImportReport> {
    let list = load(source).await?;
    store(db, &list).await
}

/// The handler of `IMPORT_TASK`: imports `url`.
pub fn task_handler(db: Db, url: String) -> Handler {
    Arc::new(move |_task| {
        let (db, url) = (db.clone(), url.clone());
        Box::pin(async move {
            let report = import(&db, &url).await?;
            Ok(serde_json::to_value(report).unwrap_or_default())
        })
    })
}

/// Queues an import at start and every `interval`; the dedupe key keeps them from piling up.
pub async fn schedule(queue: Queue, interval: Duration) {
    loop {
        if let Err(e) = queue
            .enqueue(IMPORT_TASK, serde_json::json!({}), Some(IMPORT_TASK))
            .await
        {
            tracing::warn!(error = %e, "could not queue the advisories import");
        }
        tokio::time::sleep(interval).await;
    }
}
