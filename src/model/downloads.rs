//! Download counting without a database write on the download path: counts gather in memory and
//! are written in one batch every few seconds and at shutdown.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::db::Db;
use crate::error::Result;

#[derive(Clone, Default)]
pub struct DownloadCounter {
    pending: Arc<Mutex<HashMap<i64, i64>>>,
}

impl DownloadCounter {
    pub fn record(&self, version_id: i64) {
        *self
            .pending
            .lock()
            .expect("download counter lock")
            .entry(version_id)
            .or_default() += 1;
    }

    /// Writes the gathered counts; on failure they are put back for the next flush.
    pub async fn flush(&self, db: &Db) -> Result<()> {
        let batch = std::mem::take(&mut *self.pending.lock().expect("download counter lock"));
        if batch.is_empty() {
            return Ok(());
        }
        let written = async {
            let mut tx = db.begin_write().await?;
            for (&version_id, &count) in &batch {
                super::packages::add_downloads(&mut tx, version_id, count).await?;
            }
            tx.commit().await?;
            Ok(())
        }
        .await;
        if written.is_err() {
            let mut pending = self.pending.lock().expect("download counter lock");
            for (version_id, count) in batch {
                *pending.entry(version_id).or_default() += count;
            }
        }
        written
    }
}
