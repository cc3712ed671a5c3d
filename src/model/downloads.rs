//! Download and install counting without a database write on the download path: counts gather
//! in memory by (day, version, customer) and are written in one transaction every few seconds and
//! at shutdown, into the daily `download_stats` rows and `versions.download_count`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::download_stats::{self, Counts, Key, NO_CUSTOMER};
use crate::db::Db;
use crate::error::Result;

#[derive(Clone, Default)]
pub struct DownloadCounter {
    pending: Arc<Mutex<HashMap<Key, Counts>>>,
}

impl DownloadCounter {
    /// Counts a download of a version's file, today, by this customer (None: not a customer).
    pub fn record(&self, version_id: i64, customer_id: Option<i64>) {
        self.add(
            version_id,
            customer_id,
            Counts {
                downloads: 1,
                installs: 0,
            },
        );
    }

    /// Counts an install reported by a client (Composer's `notify-batch`).
    pub fn record_install(&self, version_id: i64, customer_id: Option<i64>) {
        self.add(
            version_id,
            customer_id,
            Counts {
                downloads: 0,
                installs: 1,
            },
        );
    }

    fn add(&self, version_id: i64, customer_id: Option<i64>, counts: Counts) {
        let key = Key {
            day: download_stats::today(),
            version_id,
            customer_id: customer_id.unwrap_or(NO_CUSTOMER),
        };
        self.pending
            .lock()
            .expect("download counter lock")
            .entry(key)
            .or_default()
            .add(counts);
    }

    /// Writes the gathered counts; on failure they are put back for the next flush.
    pub async fn flush(&self, db: &Db) -> Result<()> {
        let batch = std::mem::take(&mut *self.pending.lock().expect("download counter lock"));
        if batch.is_empty() {
            return Ok(());
        }
        let written = async {
            let mut per_version: HashMap<i64, i64> = HashMap::new();
            let mut tx = db.begin_write().await?;
            for (&key, &counts) in &batch {
                download_stats::add(&mut tx, key, counts).await?;
                if counts.downloads > 0 {
                    *per_version.entry(key.version_id).or_default() += counts.downloads;
                }
            }
            for (version_id, downloads) in per_version {
                super::packages::add_downloads(&mut tx, version_id, downloads).await?;
            }
            tx.commit().await?;
            Ok(())
        }
        .await;
        if written.is_err() {
            let mut pending = self.pending.lock().expect("download counter lock");
            for (key, counts) in batch {
                pending.entry(key).or_default().add(counts);
            }
        }
        written
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_keyed_by_day_version_and_customer() {
        let counter = DownloadCounter::default();
        counter.record(1, None);
        counter.record(1, None);
        counter.record(1, Some(7));
        counter.record_install(1, Some(7));
        counter.record_install(2, None);
        let pending = counter.pending.lock().unwrap();
        let today = download_stats::today();
        let at = |version_id, customer_id| {
            pending[&Key {
                day: today,
                version_id,
                customer_id,
            }]
        };
        assert_eq!(pending.len(), 3);
        assert_eq!(
            at(1, NO_CUSTOMER),
            Counts {
                downloads: 2,
                installs: 0
            }
        );
        assert_eq!(
            at(1, 7),
            Counts {
                downloads: 1,
                installs: 1
            }
        );
        assert_eq!(
            at(2, NO_CUSTOMER),
            Counts {
                downloads: 0,
                installs: 1
            }
        );
    }
}
