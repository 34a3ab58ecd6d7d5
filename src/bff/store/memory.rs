//! The in-memory store: one process, lost on restart. Bounded, so sessions cannot exhaust the
//! server's memory. Only signed-in sessions live here: a sign-in in progress travels in its own
//! sealed cookie, so anonymous `/api/login` traffic never touches this store.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::StoreError;

/// Sessions kept at most.
const MAX_SESSIONS: usize = 1_000_000;

/// A bounded map of `key → (value, expiry)`.
#[derive(Debug)]
pub struct MemoryStore {
    map: Mutex<Map>,
}

#[derive(Debug)]
struct Map {
    entries: HashMap<String, (Vec<u8>, Instant)>,
    capacity: usize,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::with_capacity(MAX_SESSIONS)
    }
}

impl MemoryStore {
    pub fn with_capacity(capacity: usize) -> Self {
        MemoryStore {
            map: Mutex::new(Map {
                entries: HashMap::new(),
                capacity,
            }),
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, Map> {
        self.map
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Stores `value` until `ttl` has passed. A full store first drops expired entries, then
    /// refuses.
    pub fn put(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), StoreError> {
        let now = Instant::now();
        let mut map = self.map();
        if map.entries.len() >= map.capacity && !map.entries.contains_key(key) {
            map.entries.retain(|_, (_, expires)| *expires > now);
            if map.entries.len() >= map.capacity {
                return Err(StoreError::Full);
            }
        }
        map.entries.insert(key.to_owned(), (value, now + ttl));
        Ok(())
    }

    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        let now = Instant::now();
        self.map()
            .entries
            .get(key)
            .filter(|(_, expires)| *expires > now)
            .map(|(value, _)| value.clone())
    }

    pub fn delete(&self, key: &str) {
        self.map().entries.remove(key);
    }

    /// How many entries are held, expired ones not yet dropped included.
    pub fn len(&self) -> usize {
        self.map().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_expire() {
        let store = MemoryStore::default();
        store
            .put("a", b"1".to_vec(), Duration::from_secs(60))
            .unwrap();
        store.put("b", b"2".to_vec(), Duration::ZERO).unwrap();
        assert_eq!(store.get("a").as_deref(), Some(&b"1"[..]));
        assert_eq!(store.get("b"), None);
        store.delete("a");
        assert_eq!(store.get("a"), None);
    }

    #[test]
    fn a_full_store_makes_room_from_expired_entries_or_refuses() {
        let store = MemoryStore::with_capacity(2);
        store.put("old", vec![], Duration::ZERO).unwrap();
        store.put("a", vec![], Duration::from_secs(60)).unwrap();
        store.put("b", vec![], Duration::from_secs(60)).unwrap();
        assert_eq!(store.len(), 2, "the expired entry made room");
        assert!(matches!(
            store.put("c", vec![], Duration::from_secs(60)),
            Err(StoreError::Full)
        ));
        // Replacing an existing key is always possible.
        store.put("a", vec![1], Duration::from_secs(60)).unwrap();
    }
}
