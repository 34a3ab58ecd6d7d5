//! Fresh access tokens for proxied requests, refreshed single-flight per session.
//!
//! Hydra rotates refresh tokens and treats the reuse of an old one as theft: it revokes the
//! whole chain and the user is signed out. So two requests of one session must never both
//! refresh. Within a process, requests of one session queue on an async mutex; across
//! instances sharing Redis, the one that takes the session's `SET NX PX` lock refreshes while
//! the others wait, re-reading the session until it is fresh. Whoever gets the lock reads the
//! session again first: the previous holder may have refreshed it a moment ago.
//!
//! With the cookie store every request carries its own copy of the tokens, and a request sent
//! before the browser saw the refreshed cookie still carries the old refresh token. Refreshes
//! are single-flight per refresh token, and the result is remembered for a minute so such late
//! requests get the new tokens (and cookie) instead of reusing the old token. This only works
//! within one process, which is why the cookie store is for a single instance.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use crate::bff::error::BffError;
use crate::bff::oidc::{random_token, TokenError, TokenResponse};
use crate::bff::session::Session;
use crate::bff::store::{local_key, StoreError};
use crate::bff::{now, BffState};
use crate::ory::{Service, UpstreamError};

/// How often a waiting request looks whether another instance has finished refreshing.
const LOCK_POLL: Duration = Duration::from_millis(25);
/// How long a rotation is remembered for late requests of the cookie store.
const ROTATION_MEMORY: Duration = Duration::from_secs(60);
/// Rotations remembered at most.
const MAX_ROTATIONS: usize = 10_000;
/// Assumed lifetime of an access token whose response has no `expires_in`.
const DEFAULT_EXPIRES_IN: i64 = 300;

/// The session to use for a request, and the new cookie value when the cookie store refreshed.
#[derive(Debug)]
pub struct Current {
    pub session: Session,
    pub set_cookie: Option<String>,
}

/// What asking Hydra for new tokens came to.
enum Refreshed {
    /// New tokens.
    Fresh(Session),
    /// Nothing changed (no refresh token, or Hydra is down while the token is still valid).
    Unchanged(Session),
    /// The session is over: Hydra refused the refresh token.
    Ended,
}

/// In-process locks and the cookie store's memory of recent rotations.
pub struct Refresher {
    locks: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
    rotations: Mutex<HashMap<String, (Session, Instant)>>,
    /// Longest a refresh may take: the cross-instance lock expires after it.
    lock_ttl: Duration,
}

/// A session locked against concurrent refreshes and sign-outs, in this process and (with
/// Redis) across instances.
pub struct SessionLock {
    _local: tokio::sync::OwnedMutexGuard<()>,
    owner: String,
}

fn guard<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Refresher {
    /// `hydra_timeout` bounds each Hydra call; a refresh makes at most two (token, keys) and a
    /// few store calls (each bounded by two seconds for Redis).
    pub fn new(hydra_timeout: Duration) -> Self {
        Refresher {
            locks: Mutex::new(HashMap::new()),
            rotations: Mutex::new(HashMap::new()),
            lock_ttl: hydra_timeout * 2 + Duration::from_secs(8),
        }
    }

    /// The session behind `cookie` with an access token valid for at least 30 more seconds,
    /// refreshed first if needed; `None` when there is no session or it just ended.
    pub async fn current(
        &self,
        state: &BffState,
        cookie: &str,
    ) -> Result<Option<Current>, BffError> {
        let now = now();
        let Some(session) = state.sessions.load(cookie, now).await? else {
            return Ok(None);
        };
        if !session.needs_refresh(now) {
            return Ok(Some(Current {
                session,
                set_cookie: None,
            }));
        }
        if state.sessions.in_cookie() {
            self.refresh_cookie_session(state, session).await
        } else {
            self.refresh_stored_session(state, cookie).await
        }
    }

    /// Locks the session behind `cookie` (for sign-out), waiting for any refresh in progress.
    pub async fn lock(&self, state: &BffState, cookie: &str) -> Result<SessionLock, BffError> {
        match self.acquire(state, cookie, |_, _| false).await? {
            Acquired::Locked(lock) => Ok(lock),
            Acquired::Settled(_) => Err(BffError::Unexpected(anyhow::anyhow!(
                "a session lock settled without being taken"
            ))),
        }
    }

    /// Releases a lock taken with [`Refresher::lock`] (or by a refresh).
    pub async fn unlock(&self, state: &BffState, cookie: &str, lock: SessionLock) {
        if let Err(error) = state.sessions.unlock(cookie, &lock.owner).await {
            // The lock expires on its own after `lock_ttl`.
            tracing::warn!(error = %error, "could not release a session's refresh lock");
        }
    }

    /// The refreshed session that replaced one with `refresh_token` in the last minute (cookie
    /// store), so sign-out can revoke it too.
    pub fn rotated_from(&self, old: &Session) -> Option<Session> {
        let key = rotation_key(old)?;
        let rotations = guard(&self.rotations);
        rotations
            .get(&key)
            .filter(|(_, at)| at.elapsed() < ROTATION_MEMORY)
            .map(|(session, _)| session.clone())
    }

    async fn refresh_stored_session(
        &self,
        state: &BffState,
        cookie: &str,
    ) -> Result<Option<Current>, BffError> {
        let settled =
            |session: Option<&Session>, now| session.is_none_or(|s| !s.needs_refresh(now));
        let lock = match self.acquire(state, cookie, settled).await? {
            Acquired::Settled(session) => {
                return Ok(session.map(|session| Current {
                    session,
                    set_cookie: None,
                }))
            }
            Acquired::Locked(lock) => lock,
        };
        let result = self.refresh_locked(state, cookie).await;
        self.unlock(state, cookie, lock).await;
        result
    }

    /// Runs with the session locked: reads it again, refreshes if still needed, saves.
    async fn refresh_locked(
        &self,
        state: &BffState,
        cookie: &str,
    ) -> Result<Option<Current>, BffError> {
        let now = now();
        let Some(session) = state.sessions.load(cookie, now).await? else {
            return Ok(None);
        };
        if !session.needs_refresh(now) {
            return Ok(Some(Current {
                session,
                set_cookie: None,
            }));
        }
        match refresh(state, session, now).await? {
            Refreshed::Fresh(session) => {
                state.sessions.save(cookie, &session, now).await?;
                Ok(Some(Current {
                    session,
                    set_cookie: None,
                }))
            }
            Refreshed::Unchanged(session) => Ok(Some(Current {
                session,
                set_cookie: None,
            })),
            Refreshed::Ended => {
                state.sessions.destroy(cookie).await?;
                Ok(None)
            }
        }
    }

    async fn refresh_cookie_session(
        &self,
        state: &BffState,
        session: Session,
    ) -> Result<Option<Current>, BffError> {
        let key = rotation_key(&session).unwrap_or_else(|| local_key(session.id_token.expose()));
        let _local = self.local_lock(&key).lock_owned().await;
        if let Some(newer) = self.rotated_from(&session) {
            return self.resealed(state, newer).await;
        }
        let now = now();
        match refresh(state, session, now).await? {
            Refreshed::Fresh(next) => {
                self.remember_rotation(key, &next);
                self.resealed(state, next).await
            }
            Refreshed::Unchanged(session) => Ok(Some(Current {
                session,
                set_cookie: None,
            })),
            Refreshed::Ended => Ok(None),
        }
    }

    /// The cookie-store session with its new cookie value; a session that no longer fits in a
    /// cookie ends (its new refresh token is revoked) rather than fail on every request.
    async fn resealed(
        &self,
        state: &BffState,
        session: Session,
    ) -> Result<Option<Current>, BffError> {
        match state.sessions.save("", &session, now()).await {
            Ok(set_cookie) => Ok(Some(Current {
                session,
                set_cookie,
            })),
            Err(error @ BffError::SessionTooLarge { .. }) => {
                tracing::error!(error = %error, "ending a session whose refreshed tokens do not fit in the cookie");
                if let Some(token) = &session.refresh_token {
                    if let Err(error) = state.hydra.revoke(token, "refresh_token").await {
                        tracing::warn!(error = %error, "could not revoke the refresh token");
                    }
                }
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    fn remember_rotation(&self, key: String, next: &Session) {
        let mut rotations = guard(&self.rotations);
        if rotations.len() >= MAX_ROTATIONS {
            rotations.retain(|_, (_, at)| at.elapsed() < ROTATION_MEMORY);
        }
        if rotations.len() < MAX_ROTATIONS {
            rotations.insert(key, (next.clone(), Instant::now()));
        }
    }

    fn local_lock(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = guard(&self.locks);
        if let Some(lock) = locks.get(key).and_then(Weak::upgrade) {
            return lock;
        }
        if locks.len() >= 1024 {
            locks.retain(|_, lock| lock.strong_count() > 0);
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        locks.insert(key.to_owned(), Arc::downgrade(&lock));
        lock
    }

    /// Takes the session's lock, unless `settled(session, now)` says that waiting already gave
    /// the answer (another instance refreshed it, or it ended).
    async fn acquire(
        &self,
        state: &BffState,
        cookie: &str,
        settled: impl Fn(Option<&Session>, i64) -> bool,
    ) -> Result<Acquired, BffError> {
        let local = self.local_lock(&local_key(cookie)).lock_owned().await;
        let owner = random_token(16);
        let deadline = Instant::now() + self.lock_ttl + Duration::from_secs(1);
        loop {
            let now = now();
            let session = state.sessions.load(cookie, now).await?;
            if settled(session.as_ref(), now) {
                return Ok(Acquired::Settled(session));
            }
            if state
                .sessions
                .try_lock(cookie, &owner, self.lock_ttl)
                .await?
            {
                return Ok(Acquired::Locked(SessionLock {
                    _local: local,
                    owner,
                }));
            }
            if Instant::now() >= deadline {
                return Err(StoreError::LockTimeout.into());
            }
            tokio::time::sleep(LOCK_POLL).await;
        }
    }
}

enum Acquired {
    Locked(SessionLock),
    Settled(Option<Session>),
}

fn rotation_key(session: &Session) -> Option<String> {
    session
        .refresh_token
        .as_ref()
        .map(|token| local_key(token.expose()))
}

/// Asks Hydra for new tokens with the session's refresh token.
async fn refresh(state: &BffState, session: Session, now: i64) -> Result<Refreshed, BffError> {
    let subject = session.user.id.clone();
    let Some(refresh_token) = &session.refresh_token else {
        if session.access_token_valid(now) {
            return Ok(Refreshed::Unchanged(session));
        }
        audit_ended(&subject, "access_token_expired");
        return Ok(Refreshed::Ended);
    };
    match state.hydra.refresh(refresh_token).await {
        Ok(tokens) => apply(state, session, tokens, now).await,
        Err(error) if error.is_invalid_grant() => {
            audit_ended(&subject, "refresh_refused");
            Ok(Refreshed::Ended)
        }
        Err(error) if session.access_token_valid(now) => {
            tracing::warn!(error = %error, "refresh failed; using the access token while it lasts");
            Ok(Refreshed::Unchanged(session))
        }
        Err(TokenError::Upstream(error)) => Err(error.into()),
        Err(TokenError::Refused { status, error }) => {
            tracing::error!(%error, "Hydra refused the BFF's refresh request (check the client's configuration)");
            Err(UpstreamError::Status {
                service: Service::HydraPublic,
                status,
            }
            .into())
        }
    }
}

/// The session with Hydra's new tokens. A new ID token must validate and name the same user.
async fn apply(
    state: &BffState,
    session: Session,
    tokens: TokenResponse,
    now: i64,
) -> Result<Refreshed, BffError> {
    let mut next = session;
    next.access_token = tokens.access_token;
    next.access_expires_at = now + tokens.expires_in.unwrap_or(DEFAULT_EXPIRES_IN).max(0);
    if let Some(token) = tokens.refresh_token {
        next.refresh_token = Some(token);
    }
    if let Some(id_token) = tokens.id_token {
        match state
            .verifier
            .validate(&state.hydra, &id_token, None, now)
            .await
        {
            Ok(identity) if identity.subject == next.user.id => {
                next.id_token = id_token;
                next.user = identity.into();
            }
            Ok(_) => {
                tracing::error!("a refreshed ID token names another user; ending the session");
                audit_ended(&next.user.id, "subject_changed");
                return Ok(Refreshed::Ended);
            }
            Err(error) => {
                tracing::warn!(error = %error, "keeping the previous ID token: the refreshed one did not validate");
            }
        }
    }
    tracing::info!(
        target: "hera::audit",
        event = "bff.tokens_refreshed",
        subject = %next.user.id,
    );
    Ok(Refreshed::Fresh(next))
}

fn audit_ended(subject: &str, reason: &'static str) {
    tracing::info!(
        target: "hera::audit",
        event = "bff.session_ended",
        subject = %subject,
        reason,
    );
}
