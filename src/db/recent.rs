//! Rows read a moment ago, kept in memory so the hottest reads (a file's lookup, an owner's
//! visibility) skip their database round trip. An entry is trusted for at most its cache's time
//! to live, and only while this process has committed no write since it was read
//! (`Db::write_epoch`): a change made here counts at once, one made by another instance within
//! the time to live.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Beyond this many entries a cache starts over rather than grow without bound.
const MAX_ENTRIES: usize = 10_000;

struct Entry<V> {
    value: V,
    read_at: Instant,
    epoch: u64,
}

#[derive(Clone)]
pub struct Recent<V> {
    ttl: Duration,
    entries: Arc<Mutex<HashMap<String, Entry<V>>>>,
}

impl<V: Clone> Recent<V> {
    pub fn new(ttl: Duration) -> Self {
        Recent {
            ttl,
            entries: Arc::default(),
        }
    }

    /// The value under `key` if it was read at write epoch `epoch` within the time to live.
    pub fn get(&self, key: &str, epoch: u64) -> Option<V> {
        let entries = self.entries.lock().expect("recent rows");
        let entry = entries.get(key)?;
        (entry.epoch == epoch && entry.read_at.elapsed() < self.ttl).then(|| entry.value.clone())
    }

    /// Remembers `value`, read from the database at write epoch `epoch` (taken before the read).
    pub fn insert(&self, key: String, value: V, epoch: u64) {
        let mut entries = self.entries.lock().expect("recent rows");
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                value,
                read_at: Instant::now(),
                epoch,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_with_time_and_with_any_write() {
        let recent = Recent::new(Duration::from_millis(30));
        recent.insert("a".into(), 1, 7);
        assert_eq!(recent.get("a", 7), Some(1));
        assert_eq!(recent.get("a", 8), None, "a write since the read");
        assert_eq!(recent.get("b", 7), None);
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(recent.get("a", 7), None, "older than the time to live");
    }

    #[test]
    fn memory_is_bounded() {
        let recent = Recent::new(Duration::from_secs(60));
        for n in 0..MAX_ENTRIES + 5 {
            recent.insert(n.to_string(), n, 0);
        }
        assert!(recent.entries.lock().unwrap().len() <= MAX_ENTRIES);
    }
}
