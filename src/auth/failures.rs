//! Failed token checks counted per client address, so one client guessing tokens is stopped
//! after a handful of tries instead of costing a hash per guess.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Addresses tracked at most; beyond this, windows that ended are dropped first, then all.
const TRACKED_LIMIT: usize = 10_000;

pub struct FailureLimiter {
    /// Failures one address may have within `window`; zero turns the limit off.
    limit: u32,
    window: Duration,
    clients: Mutex<HashMap<String, Window>>,
}

struct Window {
    started: Instant,
    failures: u32,
}

impl FailureLimiter {
    pub fn new(limit: u32, window: Duration) -> Self {
        FailureLimiter {
            limit,
            window,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(seconds to wait)` while `client` has used up its failures in the current window.
    pub fn blocked(&self, client: &str) -> Option<u64> {
        if self.limit == 0 {
            return None;
        }
        let clients = self.clients.lock().expect("failure limiter lock");
        let window = clients.get(client)?;
        let elapsed = window.started.elapsed();
        (window.failures >= self.limit && elapsed < self.window)
            .then(|| (self.window - elapsed).as_secs().max(1))
    }

    pub fn record_failure(&self, client: &str) {
        if self.limit == 0 {
            return;
        }
        let mut clients = self.clients.lock().expect("failure limiter lock");
        if clients.len() >= TRACKED_LIMIT && !clients.contains_key(client) {
            clients.retain(|_, w| w.started.elapsed() < self.window);
            if clients.len() >= TRACKED_LIMIT {
                clients.clear();
            }
        }
        let window = clients.entry(client.to_string()).or_insert(Window {
            started: Instant::now(),
            failures: 0,
        });
        if window.started.elapsed() >= self.window {
            *window = Window {
                started: Instant::now(),
                failures: 0,
            };
        }
        window.failures = window.failures.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_within_the_window() {
        let limiter = FailureLimiter::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert_eq!(limiter.blocked("10.0.0.1"), None);
            limiter.record_failure("10.0.0.1");
        }
        let wait = limiter
            .blocked("10.0.0.1")
            .expect("blocked after 3 failures");
        assert!((1..=60).contains(&wait));
        assert_eq!(
            limiter.blocked("10.0.0.2"),
            None,
            "other clients are unaffected"
        );
    }

    #[test]
    fn a_new_window_starts_afresh() {
        let limiter = FailureLimiter::new(1, Duration::from_millis(20));
        limiter.record_failure("a");
        assert!(limiter.blocked("a").is_some());
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(limiter.blocked("a"), None);
        limiter.record_failure("a");
        assert!(limiter.blocked("a").is_some());
    }

    #[test]
    fn zero_turns_it_off() {
        let limiter = FailureLimiter::new(0, Duration::from_secs(60));
        for _ in 0..100 {
            limiter.record_failure("a");
        }
        assert_eq!(limiter.blocked("a"), None);
    }

    #[test]
    fn memory_is_bounded() {
        let limiter = FailureLimiter::new(5, Duration::from_secs(60));
        for n in 0..TRACKED_LIMIT + 10 {
            limiter.record_failure(&n.to_string());
        }
        assert!(limiter.clients.lock().unwrap().len() <= TRACKED_LIMIT);
    }
}
