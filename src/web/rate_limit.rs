//! Attempt limits: at most `limit` attempts per key in any sliding `window`, in bounded memory,
//! and the client address attempts are counted against.
//!
//! The provider counts device user codes (Hydra generates them, but guesses arrive at Hera) per
//! device challenge and per client address; the session API counts token exchanges per client
//! and per client address. State is in memory and per instance: behind a load balancer each
//! instance counts on its own, which multiplies the allowance by the number of instances but
//! keeps Hera free of a shared store.
//!
//! Keys are hashes, so challenges, tokens and addresses are never kept as they are. Time is
//! passed in, which keeps the limiter a pure value for tests.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest};
use sha2::{Digest, Sha256};

/// The request header reverse proxies append the client address to.
const FORWARDED_FOR: &str = "x-forwarded-for";

/// What an attempt is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key([u8; 16]);

impl Key {
    /// A key for `value` in the namespace `kind` ("device_challenge", "address", …).
    pub fn new(kind: &str, value: &str) -> Key {
        let digest = Sha256::new()
            .chain_update(kind.as_bytes())
            .chain_update([0])
            .chain_update(value.as_bytes())
            .finalize();
        let mut key = [0u8; 16];
        key.copy_from_slice(&digest[..16]);
        Key(key)
    }
}

/// The answer to one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Counted; go ahead.
    Allowed,
    /// A key is at its limit; nothing was counted. Try again after `retry_after`.
    Refused { retry_after: Duration },
}

/// A sliding-window limiter over many keys.
#[derive(Debug)]
pub struct RateLimiter {
    limit: usize,
    window: Duration,
    /// Most keys remembered at once; past it the least recently used key is forgotten.
    capacity: usize,
    attempts: Mutex<HashMap<Key, VecDeque<Instant>>>,
}

impl RateLimiter {
    /// `limit` attempts per key per `window`, remembering at most `capacity` keys. Memory is
    /// bounded by `capacity × limit` instants.
    pub fn new(limit: usize, window: Duration, capacity: usize) -> RateLimiter {
        RateLimiter {
            limit: limit.max(1),
            window,
            capacity: capacity.max(1),
            attempts: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one attempt against every key in `keys`, unless any of them already had `limit`
    /// attempts in the last `window`: then nothing is counted and the attempt is refused, so a
    /// refused attempt does not extend the wait.
    pub fn attempt(&self, keys: &[Key], now: Instant) -> Attempt {
        let mut attempts = self.lock();
        let mut retry_after = Duration::ZERO;
        for key in keys {
            if let Some(times) = attempts.get_mut(key) {
                self.forget_old(times, now);
                if times.len() >= self.limit {
                    let oldest = times.front().copied().unwrap_or(now);
                    let free_at = oldest + self.window;
                    retry_after = retry_after.max(free_at.saturating_duration_since(now));
                }
            }
        }
        if !retry_after.is_zero() {
            return Attempt::Refused { retry_after };
        }
        for key in keys {
            if !attempts.contains_key(key) && attempts.len() >= self.capacity {
                self.make_room(&mut attempts, now);
            }
            attempts.entry(*key).or_default().push_back(now);
        }
        Attempt::Allowed
    }

    /// How many keys are remembered (for tests and metrics).
    pub fn remembered_keys(&self) -> usize {
        self.lock().len()
    }

    fn forget_old(&self, times: &mut VecDeque<Instant>, now: Instant) {
        while times
            .front()
            .is_some_and(|at| now.saturating_duration_since(*at) >= self.window)
        {
            times.pop_front();
        }
    }

    /// Drops every key without a recent attempt; if all are recent, the least recently used.
    fn make_room(&self, attempts: &mut HashMap<Key, VecDeque<Instant>>, now: Instant) {
        attempts.retain(|_, times| {
            times
                .back()
                .is_some_and(|at| now.saturating_duration_since(*at) < self.window)
        });
        if attempts.len() >= self.capacity {
            let least_recent = attempts
                .iter()
                .min_by_key(|(_, times)| times.back().copied())
                .map(|(key, _)| *key);
            if let Some(key) = least_recent {
                attempts.remove(&key);
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, VecDeque<Instant>>> {
        // A panic while holding the lock leaves consistent data: only whole entries change.
        self.attempts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The address attempts are counted against.
///
/// With `trusted_hops = 0` this is the TCP peer and `X-Forwarded-For` is ignored: anyone can
/// write that header. With `n` reverse proxies in front of Hera that each append the address
/// they saw, it is the `n`-th entry from the right, the one the outermost trusted proxy
/// appended; entries further left came from the client and are never trusted. A header with
/// fewer entries, or an unreadable entry there, was not written by those proxies, so the peer
/// is used.
pub fn client_address(
    peer: Option<IpAddr>,
    forwarded_for: &[&str],
    trusted_hops: u8,
) -> Option<IpAddr> {
    if trusted_hops == 0 {
        return peer;
    }
    let entries: Vec<&str> = forwarded_for
        .iter()
        .flat_map(|header| header.split(','))
        .map(str::trim)
        .collect();
    let hops = usize::from(trusted_hops);
    if entries.len() < hops {
        return peer;
    }
    let entry = entries[entries.len() - hops];
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
        .or(peer)
}

/// What attempts from `address` are counted against: an IPv4 address as it is, and an IPv6
/// address by its /64 network. One IPv6 subscriber usually gets a whole /64 (RFC 6177 §3
/// recommends at least that), so counting single IPv6 addresses would give one person 2^64
/// fresh allowances. IPv4-mapped IPv6 addresses count as the IPv4 address.
pub fn address_key(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                format!("{}/64", Ipv6Addr::from(network))
            }
        },
    }
}

/// The key attempts from this request's client are counted against ([`client_address`] with
/// the request's `X-Forwarded-For`, then [`address_key`]); `unknown` without a peer address.
pub fn request_address_key(request: &HttpRequest, trusted_hops: u8) -> String {
    let forwarded_for: Vec<&str> = request
        .headers()
        .get_all(FORWARDED_FOR)
        .filter_map(|value| value.to_str().ok())
        .collect();
    client_address(
        request.peer_addr().map(|addr| addr.ip()),
        &forwarded_for,
        trusted_hops,
    )
    .map_or_else(|| "unknown".to_owned(), address_key)
}

/// Whether the once-only warning about an ignored `X-Forwarded-For` was logged (app data of
/// [`warn_when_forwarded_for_is_ignored`]).
#[derive(Debug, Default)]
pub struct ForwardedForWarning {
    logged: AtomicBool,
}

impl ForwardedForWarning {
    /// Logs the warning the first time a request carries `X-Forwarded-For` while no proxy hop is
    /// trusted; true when this call logged it.
    pub fn observe(&self, carries_forwarded_for: bool, trusted_hops: u8) -> bool {
        if trusted_hops != 0 || !carries_forwarded_for || self.logged.swap(true, Ordering::Relaxed)
        {
            return false;
        }
        tracing::warn!(
            "requests carry X-Forwarded-For but HERA_TRUSTED_PROXY_HOPS is 0: the header is \
             ignored and attempt limits count the proxy's address for everyone behind it; set \
             HERA_TRUSTED_PROXY_HOPS to the number of reverse proxies in front of Hera"
        );
        true
    }
}

/// Middleware: the [`ForwardedForWarning`] for every request, with the trusted hop count in app
/// data (`web::Data<TrustedProxyHops>`); requests without either pass untouched.
pub async fn warn_when_forwarded_for_is_ignored(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let warning = request
        .app_data::<web::Data<ForwardedForWarning>>()
        .cloned();
    let hops = request
        .app_data::<web::Data<TrustedProxyHops>>()
        .map(|hops| hops.0);
    if let (Some(warning), Some(hops)) = (warning, hops) {
        warning.observe(request.headers().contains_key(FORWARDED_FOR), hops);
    }
    next.call(request).await
}

/// `HERA_TRUSTED_PROXY_HOPS`, as app data for [`warn_when_forwarded_for_is_ignored`].
#[derive(Debug, Clone, Copy)]
pub struct TrustedProxyHops(pub u8);

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn key(name: &str) -> Key {
        Key::new("test", name)
    }

    #[test]
    fn the_sixth_attempt_in_a_minute_is_refused_until_the_first_one_ages_out() {
        let limiter = RateLimiter::new(5, MINUTE, 100);
        let start = Instant::now();
        for second in 0..5 {
            let at = start + Duration::from_secs(second * 10);
            assert_eq!(
                limiter.attempt(&[key("a")], at),
                Attempt::Allowed,
                "{second}"
            );
        }
        assert_eq!(
            limiter.attempt(&[key("a")], start + Duration::from_secs(45)),
            Attempt::Refused {
                retry_after: Duration::from_secs(15)
            }
        );
        assert_eq!(
            limiter.attempt(&[key("a")], start + MINUTE),
            Attempt::Allowed,
            "the first attempt left the window"
        );
        assert!(matches!(
            limiter.attempt(&[key("a")], start + MINUTE),
            Attempt::Refused { .. }
        ));
    }

    #[test]
    fn keys_are_counted_separately() {
        let limiter = RateLimiter::new(1, MINUTE, 100);
        let now = Instant::now();
        assert_eq!(limiter.attempt(&[key("a")], now), Attempt::Allowed);
        assert_eq!(limiter.attempt(&[key("b")], now), Attempt::Allowed);
        assert!(matches!(
            limiter.attempt(&[key("a")], now),
            Attempt::Refused { .. }
        ));
        assert_ne!(Key::new("address", "x"), Key::new("device_challenge", "x"));
    }

    #[test]
    fn a_refused_attempt_counts_against_no_key() {
        let limiter = RateLimiter::new(2, MINUTE, 100);
        let now = Instant::now();
        limiter.attempt(&[key("address")], now);
        limiter.attempt(&[key("address")], now);
        // The address is at its limit: the challenge key must not be charged.
        for _ in 0..3 {
            assert!(matches!(
                limiter.attempt(&[key("challenge"), key("address")], now),
                Attempt::Refused { .. }
            ));
        }
        assert_eq!(limiter.attempt(&[key("challenge")], now), Attempt::Allowed);
        assert_eq!(limiter.attempt(&[key("challenge")], now), Attempt::Allowed);
    }

    #[test]
    fn the_longest_wait_of_all_keys_is_reported() {
        let limiter = RateLimiter::new(1, MINUTE, 100);
        let start = Instant::now();
        limiter.attempt(&[key("a")], start);
        limiter.attempt(&[key("b")], start + Duration::from_secs(30));
        assert_eq!(
            limiter.attempt(&[key("a"), key("b")], start + Duration::from_secs(40)),
            Attempt::Refused {
                retry_after: Duration::from_secs(50)
            }
        );
    }

    #[test]
    fn memory_stays_bounded_by_dropping_stale_then_least_recent_keys() {
        let limiter = RateLimiter::new(5, MINUTE, 3);
        let start = Instant::now();
        limiter.attempt(&[key("old")], start);
        limiter.attempt(&[key("b")], start + Duration::from_secs(50));
        limiter.attempt(&[key("c")], start + Duration::from_secs(55));
        // "old" is stale by now and goes first.
        limiter.attempt(&[key("d")], start + Duration::from_secs(65));
        assert_eq!(limiter.remembered_keys(), 3);
        // Nothing is stale: the least recently used ("b") goes.
        limiter.attempt(&[key("e")], start + Duration::from_secs(66));
        assert_eq!(limiter.remembered_keys(), 3);
        for _ in 0..4 {
            limiter.attempt(&[key("c")], start + Duration::from_secs(67));
        }
        assert!(
            matches!(
                limiter.attempt(&[key("c")], start + Duration::from_secs(67)),
                Attempt::Refused { .. }
            ),
            "a recently used key keeps its count"
        );
        for i in 0..1000 {
            limiter.attempt(&[key(&i.to_string())], start + Duration::from_secs(70));
        }
        assert_eq!(limiter.remembered_keys(), 3);
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_ignored_without_trusted_proxies() {
        let peer = Some(ip("10.0.0.1"));
        assert_eq!(client_address(peer, &["203.0.113.7"], 0), peer);
        assert_eq!(client_address(None, &["203.0.113.7"], 0), None);
    }

    #[test]
    fn each_trusted_proxy_hop_is_counted_from_the_right() {
        let peer = Some(ip("10.0.0.1"));
        let header = ["198.51.100.9, 203.0.113.7", "192.0.2.44"];
        assert_eq!(client_address(peer, &header, 1), Some(ip("192.0.2.44")));
        assert_eq!(client_address(peer, &header, 2), Some(ip("203.0.113.7")));
        assert_eq!(
            client_address(peer, &["[2001:db8::1]:443"], 1),
            Some(ip("2001:db8::1"))
        );
    }

    #[test]
    fn a_short_or_unreadable_header_falls_back_to_the_peer() {
        let peer = Some(ip("10.0.0.1"));
        assert_eq!(client_address(peer, &[], 1), peer);
        assert_eq!(client_address(peer, &["203.0.113.7"], 2), peer);
        assert_eq!(client_address(peer, &["not-an-ip"], 1), peer);
        assert_eq!(
            client_address(peer, &["unknown, 203.0.113.7"], 1),
            Some(ip("203.0.113.7"))
        );
    }
    #[test]
    fn ipv6_clients_are_counted_by_their_64_network_and_ipv4_as_is() {
        assert_eq!(
            address_key(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            address_key(ip("2001:db8:1:2::1")),
            address_key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")),
            "one /64, one key"
        );
        assert_ne!(
            address_key(ip("2001:db8:1:2::1")),
            address_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(address_key(ip("203.0.113.7")), "203.0.113.7");
        assert_eq!(address_key(ip("::ffff:203.0.113.7")), "203.0.113.7");
    }

    #[test]
    fn the_ignored_forwarded_for_warning_is_logged_once_and_only_without_trusted_hops() {
        let warning = ForwardedForWarning::default();
        assert!(!warning.observe(false, 0), "no header, nothing to say");
        assert!(!warning.observe(true, 1), "the header is read");
        assert!(warning.observe(true, 0));
        assert!(!warning.observe(true, 0), "once is enough");
    }
}
