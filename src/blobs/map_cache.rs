//! Small blob files kept mapped after they were served once: mapping a file costs a hop to a
//! blocking thread, an open, a mapping and page faults, which for a small download is more than
//! sending it. Blobs never change (they are written once under a fresh name), so a mapping stays
//! right until its blob is deleted, which drops it here too so its disk space is freed.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;

/// Files up to this size are kept; larger ones are mapped per request (their transfer dwarfs it).
pub const FILE_LIMIT: u64 = 16 * 1024 * 1024;
/// Mapped bytes kept at most (address space backed by the page cache, not heap memory).
const TOTAL_LIMIT: u64 = 512 * 1024 * 1024;
const MAX_ENTRIES: usize = 4096;

#[derive(Default)]
pub struct MapCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    maps: HashMap<String, Bytes>,
    bytes: u64,
}

impl MapCache {
    pub fn get(&self, key: &str) -> Option<Bytes> {
        self.inner.lock().expect("map cache").maps.get(key).cloned()
    }

    pub fn insert(&self, key: &str, map: Bytes) {
        let len = map.len() as u64;
        if len > FILE_LIMIT {
            return;
        }
        let mut inner = self.inner.lock().expect("map cache");
        // Starting over is crude but bounded; the hot set is back after one request each.
        if inner.bytes + len > TOTAL_LIMIT || inner.maps.len() >= MAX_ENTRIES {
            inner.maps.clear();
            inner.bytes = 0;
        }
        if let Some(old) = inner.maps.insert(key.to_string(), map) {
            inner.bytes -= old.len() as u64;
        }
        inner.bytes += len;
    }

    /// Drops the mappings whose key `still_stored` says is gone (a blob deleted by another
    /// process, such as `cargoman gc`), so their disk space is freed.
    pub fn retain_stored(&self, still_stored: impl Fn(&str) -> bool) {
        let mut inner = self.inner.lock().expect("map cache");
        let gone: Vec<String> = inner
            .maps
            .keys()
            .filter(|key| !still_stored(key))
            .cloned()
            .collect();
        for key in gone {
            if let Some(old) = inner.maps.remove(&key) {
                inner.bytes -= old.len() as u64;
            }
        }
    }

    pub fn remove(&self, key: &str) {
        let mut inner = self.inner.lock().expect("map cache");
        if let Some(old) = inner.maps.remove(key) {
            inner.bytes -= old.len() as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_small_maps_within_bounds() {
        let cache = MapCache::default();
        cache.insert("a", Bytes::from_static(b"abc"));
        assert_eq!(cache.get("a").as_deref(), Some(&b"abc"[..]));
        cache.remove("a");
        assert!(cache.get("a").is_none());
        assert_eq!(cache.inner.lock().unwrap().bytes, 0);

        cache.insert("big", Bytes::from(vec![0; FILE_LIMIT as usize + 1]));
        assert!(cache.get("big").is_none(), "large files are not kept");

        for n in 0..MAX_ENTRIES + 5 {
            cache.insert(&n.to_string(), Bytes::from_static(b"x"));
        }
        let inner = cache.inner.lock().unwrap();
        assert!(inner.maps.len() <= MAX_ENTRIES);
        assert_eq!(inner.bytes, inner.maps.len() as u64);
    }

    #[test]
    fn mappings_of_blobs_gone_elsewhere_are_dropped() {
        let cache = MapCache::default();
        cache.insert("kept", Bytes::from_static(b"abc"));
        cache.insert("gone", Bytes::from_static(b"defg"));
        cache.retain_stored(|key| key == "kept");
        assert!(cache.get("kept").is_some());
        assert!(cache.get("gone").is_none());
        assert_eq!(cache.inner.lock().unwrap().bytes, 3);
    }
}
