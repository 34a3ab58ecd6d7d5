//! The login decision: accept the Hydra login request for the Kratos session, or send the
//! browser to Kratos to sign in first.

use time::OffsetDateTime;

use crate::ory::{LoginAccept, LoginRequest, Session, Whoami};

/// What to do with a login request.
#[derive(Debug, Clone, PartialEq)]
pub enum LoginDecision {
    /// Accept the challenge with this body.
    Accept(LoginAccept),
    /// Send the browser through Kratos's login flow, then back to Hera's `/login`.
    SendToKratos { aal2: bool },
}

/// Why a login was accepted, for the audit log.
pub fn accept_reason(request: &LoginRequest) -> &'static str {
    if request.skip {
        "hydra_remembered_session"
    } else {
        "kratos_session"
    }
}

/// `skip=true`: Hydra remembers this browser's login; Hera must accept with the same subject
/// (CONTRACT.md §1.1) and needs nothing from Kratos. Hydra forces `remember` on a skipped login
/// and leaves its cookie alone, so no lifetime is sent.
pub fn accept_skipped(request: &LoginRequest) -> LoginAccept {
    LoginAccept {
        subject: request.subject.clone(),
        remember: true,
        remember_for: None,
        acr: None,
        amr: Vec::new(),
        identity_provider_session_id: None,
        extend_session_lifespan: false,
    }
}

/// `skip=false`: decide from what Kratos said about the browser.
pub fn decide(whoami: &Whoami, now: OffsetDateTime) -> LoginDecision {
    match whoami {
        Whoami::Active(session) => match accept_session(session, now) {
            Some(accept) => LoginDecision::Accept(accept),
            None => LoginDecision::SendToKratos { aal2: false },
        },
        Whoami::Unauthenticated => LoginDecision::SendToKratos { aal2: false },
        Whoami::Aal2Required => LoginDecision::SendToKratos { aal2: true },
    }
}

/// Accepts for the session's identity, remembered exactly as long as the Kratos session lives
/// so Hydra's login session never outlives Kratos's. A session with no time left is not
/// accepted: `remember_for = 0` would mean Hydra's 30-day default (CONTRACT.md §1.1).
fn accept_session(session: &Session, now: OffsetDateTime) -> Option<LoginAccept> {
    let remaining = (session.expires_at? - now).whole_seconds();
    if remaining < 1 {
        return None;
    }
    let mut amr: Vec<String> = Vec::new();
    for method in &session.authentication_methods {
        if !amr.contains(&method.method) {
            amr.push(method.method.clone());
        }
    }
    Some(LoginAccept {
        subject: session.identity.id.clone(),
        remember: true,
        remember_for: Some(remaining),
        acr: session.aal.clone(),
        amr,
        identity_provider_session_id: Some(session.id.clone()),
        extend_session_lifespan: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ory::{AuthenticationMethod, Identity};
    use time::macros::datetime;
    use time::Duration;

    const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

    fn session(expires_in: Option<Duration>, methods: &[&str]) -> Session {
        Session {
            id: "kratos-session-1".into(),
            active: true,
            expires_at: expires_in.map(|d| NOW + d),
            authenticated_at: Some(NOW - Duration::minutes(5)),
            aal: Some("aal1".into()),
            authentication_methods: methods
                .iter()
                .map(|m| AuthenticationMethod {
                    method: (*m).into(),
                    aal: None,
                    completed_at: None,
                })
                .collect(),
            identity: Identity {
                id: "identity-ada".into(),
                state: Some("active".into()),
                traits: serde_json::json!({}),
                verifiable_addresses: vec![],
                updated_at: None,
            },
        }
    }

    #[test]
    fn an_active_session_is_accepted_for_its_identity_until_it_expires() {
        let whoami = Whoami::Active(Box::new(session(
            Some(Duration::hours(2)),
            &["password", "totp", "password"],
        )));
        let LoginDecision::Accept(accept) = decide(&whoami, NOW) else {
            panic!("expected an accept");
        };
        assert_eq!(accept.subject, "identity-ada");
        assert_eq!(
            accept.identity_provider_session_id.as_deref(),
            Some("kratos-session-1")
        );
        assert_eq!(accept.remember_for, Some(7200));
        assert!(accept.remember);
        assert_eq!(accept.acr.as_deref(), Some("aal1"));
        assert_eq!(accept.amr, ["password", "totp"]);
    }

    #[test]
    fn a_session_at_or_past_its_expiry_is_not_accepted() {
        for expires_in in [
            Some(Duration::ZERO),
            Some(Duration::milliseconds(999)),
            Some(Duration::seconds(-5)),
            None,
        ] {
            let whoami = Whoami::Active(Box::new(session(expires_in, &["password"])));
            assert_eq!(
                decide(&whoami, NOW),
                LoginDecision::SendToKratos { aal2: false },
                "{expires_in:?}"
            );
        }
    }

    #[test]
    fn one_second_left_is_remembered_for_one_second_not_hydras_default() {
        let whoami = Whoami::Active(Box::new(session(Some(Duration::seconds(1)), &[])));
        let LoginDecision::Accept(accept) = decide(&whoami, NOW) else {
            panic!("expected an accept");
        };
        assert_eq!(accept.remember_for, Some(1));
    }

    #[test]
    fn no_session_sends_to_kratos_and_aal2_required_asks_for_a_second_factor() {
        assert_eq!(
            decide(&Whoami::Unauthenticated, NOW),
            LoginDecision::SendToKratos { aal2: false }
        );
        assert_eq!(
            decide(&Whoami::Aal2Required, NOW),
            LoginDecision::SendToKratos { aal2: true }
        );
    }
}
