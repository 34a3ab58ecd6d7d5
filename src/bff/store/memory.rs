//! The in-memory store: one process, lost on restart. Bounded, so a flood of sign-ins cannot
//! exhaust the server's memory; sign-ins in progress and sessions have separate budgets, so
//! such a flood cannot push out signed-in users either.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::StoreError;

/// Sessions kept at most.
const MAX_SESSIONS: usize = 1_000_000;
/// Sign-ins in progress kept at most (each lives ten minutes).
const MAX_LOGINS: usize = 100_000;

/// Which budget a key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Sessions,
    Logins,
}

/// Two bounded maps of `key → (value, expiry)`.
#[derive(Debug)]
pub struct MemoryStore {
    sessions: Mutex<Map>,
    logins: Mutex<Map>,
}

#[derive(Debug)]
struct Map {
    entries: HashMap<String, (Vec<u8>, Instant)>,
    capacity: usize,
}

impl Map {
    fn new(capacity: usize) -> Self {
        Map {
            entries: HashMap::new(),
            capacity,
        }
    }

    fn live(&self, key: &str, now: Instant) -> Option<&Vec<u8>> {
        self.entries
            .get(key)
            .filter(|(_, expires)| *expires > now)
            .map(|(value, _)| value)
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::with_capacity(MAX_SESSIONS, MAX_LOGINS)
    }
}

impl MemoryStore {
    pub fn with_capacity(sessions: usize, logins: usize) -> Self {
        MemoryStore {
            sessions: Mutex::new(Map::new(sessions)),
            logins: Mutex::new(Map::new(logins)),
        }
    }

    fn area(&self, area: Area) -> std::sync::MutexGuard<'_, Map> {
        let map = match area {
            Area::Sessions => &self.sessions,
            Area::Logins => &self.logins,
        };
        map.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn put(
        &self,
        area: Area,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let now = Instant::now();
        let mut map = self.area(area);
        if map.entries.len() >= map.capacity && !map.entries.contains_key(key) {
            map.entries.retain(|_, (_, expires)| *expires > now);
            if map.entries.len() >= map.capacity {
                return Err(StoreError::Full);
            }
        }
        map.entries.insert(key.to_owned(), (value, now + ttl));
        Ok(())
    }

    pub fn get(&self, area: Area, key: &str) -> Option<Vec<u8>> {
        self.area(area).live(key, Instant::now()).cloned()
    }

    /// Gets and deletes in one step: a sign-in state is used once.
    pub fn take(&self, area: Area, key: &str) -> Option<Vec<u8>> {
        let now = Instant::now();
        self.area(area)
            .entries
            .remove(key)
            .filter(|(_, expires)| *expires > now)
            .map(|(value, _)| value)
    }

    pub fn delete(&self, area: Area, key: &str) {
        self.area(area).entries.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_expire() {
        let store = MemoryStore::default();
        store
            .put(Area::Sessions, "a", b"1".to_vec(), Duration::from_secs(60))
            .unwrap();
        store
            .put(Area::Sessions, "b", b"2".to_vec(), Duration::ZERO)
            .unwrap();
        assert_eq!(store.get(Area::Sessions, "a").as_deref(), Some(&b"1"[..]));
        assert_eq!(store.get(Area::Sessions, "b"), None);
        assert_eq!(store.get(Area::Logins, "a"), None);
    }

    #[test]
    fn take_returns_a_value_once() {
        let store = MemoryStore::default();
        store
            .put(Area::Logins, "l", b"x".to_vec(), Duration::from_secs(60))
            .unwrap();
        assert!(store.take(Area::Logins, "l").is_some());
        assert!(store.take(Area::Logins, "l").is_none());
    }

    #[test]
    fn a_full_area_makes_room_from_expired_entries_or_refuses() {
        let store = MemoryStore::with_capacity(10, 2);
        store
            .put(Area::Logins, "old", vec![], Duration::ZERO)
            .unwrap();
        store
            .put(Area::Logins, "a", vec![], Duration::from_secs(60))
            .unwrap();
        store
            .put(Area::Logins, "b", vec![], Duration::from_secs(60))
            .unwrap();
        assert!(matches!(
            store.put(Area::Logins, "c", vec![], Duration::from_secs(60)),
            Err(StoreError::Full)
        ));
        // Sign-ins filling up never keep users from signing in.
        store
            .put(Area::Sessions, "s", vec![], Duration::from_secs(60))
            .unwrap();
        // Replacing an existing key is always possible.
        store
            .put(Area::Logins, "a", vec![1], Duration::from_secs(60))
            .unwrap();
    }
}
