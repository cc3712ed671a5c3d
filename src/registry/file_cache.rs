//! File lookups kept in memory for a moment: a download is otherwise one database round trip
//! before the first byte, the largest part of serving a small file. See `db::recent` for when an
//! entry is trusted (1 s, and no write by this process since).

use std::time::Duration;

use crate::db::recent::Recent;
use crate::model::packages::{File, FileCoord};

const TTL: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct FileCache(Recent<File>);

impl Default for FileCache {
    fn default() -> Self {
        FileCache(Recent::new(TTL))
    }
}

/// Names compare case-insensitively (as in the database query), so the key is lower case.
fn key(at: &FileCoord<'_>) -> String {
    [at.owner, at.format, at.package, at.version, at.file]
        .map(str::to_lowercase)
        .join("\0")
}

impl FileCache {
    /// The file at `at` if it was read at write epoch `epoch` a moment ago.
    pub fn get(&self, at: &FileCoord<'_>, epoch: u64) -> Option<File> {
        self.0.get(&key(at), epoch)
    }

    /// Remembers `file`, read from the database at write epoch `epoch` (taken before the read).
    pub fn insert(&self, at: &FileCoord<'_>, file: &File, epoch: u64) {
        self.0.insert(key(at), file.clone(), epoch);
    }
}
