//! A minimum interval per key (for example one session extension a minute per Kratos session),
//! in memory and bounded. Time is an input so the rules are testable.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Allows one action per key per `interval`.
#[derive(Debug)]
pub struct Throttle {
    interval: Duration,
    last: Mutex<HashMap<String, Instant>>,
}

impl Throttle {
    pub fn new(interval: Duration) -> Self {
        Throttle {
            interval,
            last: Mutex::new(HashMap::new()),
        }
    }

    /// `Ok` and remembers `now` when `key` may act; otherwise how long it must wait. Entries
    /// older than the interval are dropped, so memory holds only recent keys.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(previous) = last.get(key) {
            let elapsed = now.saturating_duration_since(*previous);
            if elapsed < self.interval {
                return Err(self.interval - elapsed);
            }
        }
        let interval = self.interval;
        last.retain(|_, at| now.saturating_duration_since(*at) < interval);
        last.insert(key.to_owned(), now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_action_per_interval_per_key() {
        let throttle = Throttle::new(Duration::from_secs(60));
        let start = Instant::now();
        assert_eq!(throttle.check("a", start), Ok(()));
        assert_eq!(
            throttle.check("a", start + Duration::from_secs(10)),
            Err(Duration::from_secs(50))
        );
        assert_eq!(
            throttle.check("b", start + Duration::from_secs(10)),
            Ok(()),
            "keys are independent"
        );
        assert_eq!(throttle.check("a", start + Duration::from_secs(60)), Ok(()));
    }

    #[test]
    fn old_entries_are_forgotten() {
        let throttle = Throttle::new(Duration::from_secs(1));
        let start = Instant::now();
        for i in 0..100 {
            throttle.check(&format!("k{i}"), start).unwrap();
        }
        throttle
            .check("late", start + Duration::from_secs(2))
            .unwrap();
        assert_eq!(throttle.last.lock().unwrap().len(), 1);
    }
}
