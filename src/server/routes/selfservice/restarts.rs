//! Which flow Hera just started anew because Kratos did not have the page's flow (unknown,
//! expired, or failing Kratos's CSRF check), kept in Hera's own cookie session.
//!
//! A new flow that fails the same way moments later ends on the error page instead of in a
//! redirect loop. Only the flow's kind and the time are kept: a few bytes of the cookie.

use actix_session::Session;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::model::KratosFlow;

const KEY: &str = "flow_restart";

/// A restart older than this is not the one that just failed again: Kratos's redirect to the new
/// flow comes back within a second or two.
const WINDOW_SECONDS: i64 = 120;

#[derive(Debug, Serialize, Deserialize)]
struct Restart {
    /// The flow's kind (`login`, …).
    k: String,
    /// Unix seconds when Hera started it.
    t: i64,
}

/// True when Hera started a new `kind` flow for this browser within the last two minutes.
pub fn recent(session: &Session, kind: KratosFlow, now: OffsetDateTime) -> bool {
    session.get::<Restart>(KEY).ok().flatten().is_some_and(|r| {
        r.k == kind.name() && (0..WINDOW_SECONDS).contains(&(now.unix_timestamp() - r.t))
    })
}

/// Remembers that Hera starts a new `kind` flow now.
pub fn record(session: &Session, kind: KratosFlow, now: OffsetDateTime) -> anyhow::Result<()> {
    session
        .insert(
            KEY,
            Restart {
                k: kind.name().to_owned(),
                t: now.unix_timestamp(),
            },
        )
        .map_err(|e| anyhow::anyhow!("cannot store the flow restart: {e}"))
}

/// Forgets the restart (a flow was shown, or the error page explains): the cookie is only
/// rewritten when there was one.
pub fn forget(session: &Session) {
    if session.get::<Restart>(KEY).ok().flatten().is_some() {
        session.remove(KEY);
    }
}
