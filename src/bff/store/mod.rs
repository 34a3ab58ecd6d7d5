//! Where sign-ins in progress and sessions live.
//!
//! A sign-in in progress ([`SignIns`]) always travels sealed in its own short-lived cookie,
//! whatever the store: `/api/login` answers anyone, so anything it kept server-side would let
//! anonymous traffic fill memory or Redis and turn real users away. The one-time guarantee
//! stays where it matters: Hydra redeems an authorization code once, and the callback clears
//! the cookie.
//!
//! A session lives in memory, in Redis, or sealed in its cookie; [`Sessions`] hides the
//! difference behind the value of a cookie. With a server-side store the cookie holds a random
//! 256-bit id and the store keys entries by its SHA-256, so a copy of the store does not hand
//! out usable cookies. With the cookie store the cookie holds the encrypted entry itself, and
//! "saving" a session means sending the browser a new cookie.

pub mod cookie;
pub mod memory;
pub mod redis;

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use self::cookie::{CookieSealer, MAX_COOKIE_BYTES};
use self::memory::MemoryStore;
use self::redis::RedisStore;
use crate::bff::config::StoreSettings;
use crate::bff::error::BffError;
use crate::bff::oidc::random_token;
use crate::bff::session::{
    LoginState, Session, LOGIN_COOKIE, SECURE_LOGIN_COOKIE, SECURE_SESSION_COOKIE, SESSION_COOKIE,
};
use crate::secrets::CookieSecret;

/// The key purpose of sealed sessions (the `cookie` store).
const SESSIONS_PURPOSE: &str = "hera bff sessions";
/// The key purpose of sealed sign-ins in progress.
const SIGN_INS_PURPOSE: &str = "hera bff sign-ins";

/// Prefix of every Redis key the BFF writes.
const KEY_PREFIX: &str = "hera_bff:";
/// Time allowed to connect to Redis and for each command.
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

pub use crate::bff::error::StoreError;

enum Backend {
    Memory(MemoryStore),
    Redis(RedisStore),
    Cookie(CookieSealer),
}

/// Sign-ins and sessions, addressed by the value of their cookie.
pub struct Sessions {
    backend: Backend,
}

/// What was stored, and the cookie value that now points at it.
pub struct Stored {
    pub cookie: String,
}

impl Sessions {
    /// Opens the configured store (connecting to Redis now, so a bad URL stops startup).
    pub async fn open(settings: &StoreSettings) -> Result<Sessions, String> {
        let backend = match settings {
            StoreSettings::Memory => Backend::Memory(MemoryStore::default()),
            StoreSettings::Redis(url) => Backend::Redis(
                RedisStore::connect(url, REDIS_TIMEOUT)
                    .await
                    .map_err(|e| format!("HERA_BFF_REDIS_URL: {e}"))?,
            ),
            StoreSettings::Cookie(secret) => {
                Backend::Cookie(CookieSealer::new(secret, SESSIONS_PURPOSE)?)
            }
        };
        Ok(Sessions { backend })
    }

    /// A store for tests and single-process use.
    pub fn memory(store: MemoryStore) -> Sessions {
        Sessions {
            backend: Backend::Memory(store),
        }
    }

    /// True when a session's state travels in its cookie, so every change sets a new one.
    pub fn in_cookie(&self) -> bool {
        matches!(self.backend, Backend::Cookie(_))
    }

    /// How many entries the memory store holds (`None` for the other stores).
    pub fn held_in_memory(&self) -> Option<usize> {
        match &self.backend {
            Backend::Memory(store) => Some(store.len()),
            _ => None,
        }
    }

    /// True when several instances share the store and must coordinate refreshes.
    pub fn is_shared(&self) -> bool {
        matches!(self.backend, Backend::Redis(_))
    }

    /// Stores a new session under a new id; returns the session cookie's value.
    pub async fn create(&self, session: &Session, now: i64) -> Result<Stored, BffError> {
        match &self.backend {
            Backend::Cookie(sealer) => seal_session(sealer, session),
            _ => {
                let id = random_token(32);
                self.write(&id, session, now).await?;
                Ok(Stored { cookie: id })
            }
        }
    }

    /// The live session the cookie points at.
    pub async fn load(&self, cookie: &str, now: i64) -> Result<Option<Session>, StoreError> {
        let json = match &self.backend {
            Backend::Cookie(sealer) => sealer.open(SESSION_COOKIE, cookie).map(String::into_bytes),
            Backend::Memory(store) => store.get(&session_key(cookie)),
            Backend::Redis(store) => store.get(&session_key(cookie)).await?,
        };
        Ok(json
            .and_then(|json| from_json::<Session>(&json))
            .filter(|session| !session.is_expired(now)))
    }

    /// Replaces the session behind `cookie`; returns the new cookie value when the state lives
    /// in the cookie.
    pub async fn save(
        &self,
        cookie: &str,
        session: &Session,
        now: i64,
    ) -> Result<Option<String>, BffError> {
        match &self.backend {
            Backend::Cookie(sealer) => Ok(Some(seal_session(sealer, session)?.cookie)),
            _ => {
                self.write(cookie, session, now).await?;
                Ok(None)
            }
        }
    }

    /// Forgets the session (a no-op for the cookie store: the browser's cookie is cleared).
    pub async fn destroy(&self, cookie: &str) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Cookie(_) => Ok(()),
            Backend::Memory(store) => {
                store.delete(&session_key(cookie));
                Ok(())
            }
            Backend::Redis(store) => store.delete(&session_key(cookie)).await,
        }
    }

    /// Tries to take the cross-instance refresh lock of a session (Redis only; other stores
    /// serve one process, where an in-process lock is enough, and always succeed).
    pub async fn try_lock(
        &self,
        cookie: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        match &self.backend {
            Backend::Redis(store) => store.try_lock(&lock_key(cookie), owner, ttl).await,
            _ => Ok(true),
        }
    }

    pub async fn unlock(&self, cookie: &str, owner: &str) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Redis(store) => store.unlock(&lock_key(cookie), owner).await,
            _ => Ok(()),
        }
    }

    /// Whether the store answers (for `/api/health/ready`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Redis(store) => store.ping().await,
            _ => Ok(()),
        }
    }

    async fn write(&self, id: &str, session: &Session, now: i64) -> Result<(), StoreError> {
        let json = to_json(session).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let ttl = Duration::from_secs(u64::try_from(session.expires_at - now).unwrap_or(0).max(1));
        match &self.backend {
            Backend::Memory(store) => store.put(&session_key(id), json.into_bytes(), ttl),
            Backend::Redis(store) => store.put(&session_key(id), json.as_bytes(), ttl).await,
            Backend::Cookie(_) => Ok(()),
        }
    }
}

/// Sign-ins in progress, sealed in their cookie (see the module documentation).
pub struct SignIns {
    sealer: CookieSealer,
}

impl SignIns {
    /// Sealed with a key derived from `secret`, so any instance sharing it finishes a sign-in
    /// another one started.
    pub fn new(secret: &CookieSecret) -> Result<SignIns, String> {
        CookieSealer::new(secret, SIGN_INS_PURPOSE).map(|sealer| SignIns { sealer })
    }

    /// Sealed with a random key: sign-ins finish only on this instance (the memory store
    /// serves one instance anyway).
    pub fn random() -> Result<SignIns, String> {
        CookieSealer::random().map(|sealer| SignIns { sealer })
    }

    /// The login cookie's value for `login`; `None` when it would not fit in a cookie (only a
    /// very long `return_to` can make it that large).
    pub fn start(&self, login: &LoginState) -> Result<Option<String>, BffError> {
        let sealed = self.sealer.seal(LOGIN_COOKIE, to_json(login)?);
        Ok(
            (CookieSealer::cookie_size(SECURE_LOGIN_COOKIE, &sealed) <= MAX_COOKIE_BYTES)
                .then_some(sealed),
        )
    }

    /// The sign-in the login cookie holds, if this BFF sealed it. Its expiry is the caller's to
    /// check.
    pub fn open(&self, cookie: &str) -> Option<LoginState> {
        let json = self.sealer.open(LOGIN_COOKIE, cookie)?;
        from_json(json.as_bytes())
    }
}

/// A key naming the session behind a cookie, for in-process maps (never the cookie itself).
pub fn local_key(cookie: &str) -> String {
    hex_sha256(cookie)
}

fn seal_session(sealer: &CookieSealer, session: &Session) -> Result<Stored, BffError> {
    let sealed = sealer.seal(SESSION_COOKIE, to_json(session)?);
    let size = CookieSealer::cookie_size(SECURE_SESSION_COOKIE, &sealed);
    if size > MAX_COOKIE_BYTES {
        return Err(BffError::SessionTooLarge {
            size,
            limit: MAX_COOKIE_BYTES,
        });
    }
    Ok(Stored { cookie: sealed })
}

fn to_json(value: &impl Serialize) -> Result<String, BffError> {
    serde_json::to_string(value).map_err(|e| BffError::Unexpected(e.into()))
}

/// A stored value that no longer parses (written by another version) counts as absent.
fn from_json<T: DeserializeOwned>(json: &[u8]) -> Option<T> {
    serde_json::from_slice(json)
        .map_err(|e| tracing::warn!(error = %e, "ignoring an unreadable stored BFF entry"))
        .ok()
}

fn hex_sha256(value: &str) -> String {
    Sha256::digest(value.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn session_key(id: &str) -> String {
    format!("{KEY_PREFIX}session:{}", hex_sha256(id))
}

fn lock_key(id: &str) -> String {
    format!("{KEY_PREFIX}refresh-lock:{}", hex_sha256(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bff::oidc::Token;
    use crate::bff::session::User;

    fn session(expires_at: i64) -> Session {
        Session {
            user: User {
                id: "ada".into(),
                email: Some("ada@example.com".into()),
                name: None,
            },
            access_token: Token::new("ory_at_1"),
            access_expires_at: 2_000,
            refresh_token: Some(Token::new("ory_rt_1")),
            id_token: Token::new("h.p.s"),
            expires_at,
        }
    }

    fn cookie_sessions() -> Sessions {
        let secret = crate::secrets::parse_cookie_secret(&"c".repeat(64)).unwrap();
        Sessions {
            backend: Backend::Cookie(CookieSealer::new(&secret, SESSIONS_PURPOSE).unwrap()),
        }
    }

    #[test]
    fn keys_never_contain_the_cookie_value() {
        let key = session_key("the-cookie-value");
        assert!(key.starts_with("hera_bff:session:"));
        assert!(!key.contains("the-cookie-value"));
        assert_ne!(session_key("a"), lock_key("a"));
    }

    #[actix_web::test]
    async fn a_memory_session_is_found_by_its_cookie_until_it_ends() {
        let sessions = Sessions::memory(MemoryStore::default());
        let stored = sessions.create(&session(5_000), 1_000).await.unwrap();
        assert_eq!(stored.cookie.len(), 43, "256 random bits");
        let loaded = sessions.load(&stored.cookie, 1_000).await.unwrap().unwrap();
        assert_eq!(loaded.user.id, "ada");
        assert!(sessions
            .load(&stored.cookie, 5_000)
            .await
            .unwrap()
            .is_none());
        assert!(sessions.load("another", 1_000).await.unwrap().is_none());
        sessions.destroy(&stored.cookie).await.unwrap();
        assert!(sessions
            .load(&stored.cookie, 1_000)
            .await
            .unwrap()
            .is_none());
        let other = sessions.create(&session(5_000), 1_000).await.unwrap();
        assert_ne!(other.cookie, stored.cookie, "a new id on every sign-in");
    }

    #[actix_web::test]
    async fn a_cookie_session_lives_in_its_sealed_cookie() {
        let sessions = cookie_sessions();
        let stored = sessions.create(&session(5_000), 1_000).await.unwrap();
        assert!(!stored.cookie.contains("ory_at_1"));
        let loaded = sessions.load(&stored.cookie, 1_000).await.unwrap().unwrap();
        assert_eq!(loaded.access_token.expose(), "ory_at_1");
        assert!(sessions
            .load(&stored.cookie, 5_000)
            .await
            .unwrap()
            .is_none());
        let resaved = sessions.save(&stored.cookie, &loaded, 1_000).await.unwrap();
        assert!(resaved.is_some(), "a change means a new cookie");
    }

    #[actix_web::test]
    async fn tokens_too_large_for_a_cookie_are_refused_with_a_clear_error() {
        let sessions = cookie_sessions();
        let mut big = session(5_000);
        big.access_token = Token::new("x".repeat(3_500));
        let error = sessions.create(&big, 1_000).await.err().unwrap();
        assert!(matches!(error, BffError::SessionTooLarge { .. }));
        assert!(
            error.to_string().contains("HERA_BFF_SESSION_STORE"),
            "{error}"
        );
    }
}
