//! File lookups kept in memory for a moment: a download is otherwise one database round trip
//! before the first byte, the largest part of serving a small file. An entry is trusted for at
//! most `TTL` and only while this process has committed no write since it was read
//! (`Db::write_epoch`), so a delete or re-publish made here counts at once and one made by another
//! instance within `TTL`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::model::packages::{File, FileCoord};

const TTL: Duration = Duration::from_secs(1);
/// Beyond this many entries the cache starts over rather than grow without bound.
const MAX_ENTRIES: usize = 10_000;

struct Entry {
    file: File,
    read_at: Instant,
    epoch: u64,
}

#[derive(Clone, Default)]
pub struct FileCache {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
}

/// Names compare case-insensitively (as in the database query), so the key is lower case.
fn key(at: &FileCoord<'_>) -> String {
    [at.owner, at.format, at.package, at.version, at.file]
        .map(str::to_lowercase)
        .join("\0")
}

impl FileCache {
    /// The file at `at` if it was read at write epoch `epoch` less than `TTL` ago.
    pub fn get(&self, at: &FileCoord<'_>, epoch: u64) -> Option<File> {
        let entries = self.entries.lock().expect("file cache");
        let entry = entries.get(&key(at))?;
        (entry.epoch == epoch && entry.read_at.elapsed() < TTL).then(|| entry.file.clone())
    }

    /// Remembers `file`, read from the database at write epoch `epoch` (taken before the read).
    pub fn insert(&self, at: &FileCoord<'_>, file: &File, epoch: u64) {
        let mut entries = self.entries.lock().expect("file cache");
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            key(at),
            Entry {
                file: file.clone(),
                read_at: Instant::now(),
                epoch,
            },
        );
    }
}
