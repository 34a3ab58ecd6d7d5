//! The login decision: one pure function from everything Hera knows about a login request to
//! what to do with it. Handlers only execute the result.
//!
//! Why this matters: Hydra stamps `auth_time = now` on every non-skip accept, so it cannot tell
//! when a login provider reuses an old Kratos session although the client asked for
//! `prompt=login` or `max_age`. Hera compares those with the
//! Kratos session itself, and re-authenticates or steps up exactly when the request demands it.
//!
//! Rules, in order (the README has the same table for operators):
//! 1. `skip=true` for a subject whose identity is gone or not active → reject `login_required`.
//! 2. No Kratos session → Kratos login (registration for `prompt=registration`).
//!    Kratos says a second factor is required → Kratos login with `aal=aal2`.
//! 3. A session with less than a second left → Kratos login.
//! 4. `skip=true` but the session is someone else's: the person at the browser changed
//!    accounts. Hera answers Hydra with the signed-in identity, never the remembered one; Hydra
//!    refuses a different subject on a remembered login and restarts the flow with
//!    `prompt=login`, so the browser re-authenticates at Kratos once.
//! 5. `login_hint` names another account → Kratos login with `refresh=true`.
//! 6. `prompt=login`/`select_account`, `max_age` exceeded (`max_age=0` or malformed: always),
//!    or an unreadable `request_url` → Kratos login with `refresh=true`.
//! 7. A second factor is asked for (`acr_values` or client `metadata.min_aal: "aal2"`) and the
//!    session is `aal1` → Kratos login with `aal=aal2`; if Hera already sent this browser to
//!    step up for this challenge and it came back without, reject
//!    `unmet_authentication_requirements`.
//! 8. Otherwise accept the session's identity.
//!
//! Rules 5 and 6 are satisfied once the session was authenticated after Hera sent the browser
//! to Kratos for this authorization request (the [`ReauthMarker`]), so the browser never loops.
//! The marker belongs to the authorization request, not to the challenge: after rule 4, Hydra
//! restarts the same request on a **new** challenge with `prompt=login` added, and the sign-in
//! the person just completed must count there too. A `prompt=login` that Hydra added after rule
//! 4 accepted this very identity needs no sign-in at all: the client never asked for it. So an
//! account switch costs exactly one Kratos sign-in, or none when the person had already signed
//! in as the other account. Whenever Hera would have to send the browser anywhere and the
//! request says `prompt=none`, it rejects instead (`login_required`, or `interaction_required`
//! for a step-up).

use time::{Duration, OffsetDateTime};

use super::amr::amr;
use super::auth_request::AuthRequest;
use crate::model::{Identity, LoginAccept, LoginRequest, OAuthRejection, Session, Whoami};

/// A session authenticated up to this long before Hera sent the browser to Kratos still counts
/// as the re-authentication Hera asked for: Hera's and Kratos's clocks may differ slightly, and
/// nobody completes a sign-in in less time than this.
pub const CLOCK_SKEW: Duration = Duration::seconds(5);

/// The operator's login policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginPolicy {
    /// `acr_values` that mean "a second factor is required", besides `aal2` and `acr_aal2`.
    pub mfa_acr_values: Vec<String>,
    /// The `acr` sent for an `aal1` session.
    pub acr_aal1: String,
    /// The `acr` sent for an `aal2` session.
    pub acr_aal2: String,
    /// On `skip=true`, ask Hydra to extend its login session (`extend_session_lifespan`).
    pub extend_session_lifespan: bool,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        LoginPolicy {
            mfa_acr_values: vec![
                "http://schemas.openid.net/pape/policies/2007/06/multi-factor".to_owned(),
            ],
            acr_aal1: "aal1".to_owned(),
            acr_aal2: "aal2".to_owned(),
            extend_session_lifespan: false,
        }
    }
}

/// What Hera already did for this authorization request in this browser, from its session
/// cookie.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReauthMarker {
    /// When Hera first sent this browser to Kratos for this request; `None` if it never did.
    pub sent_at: Option<OffsetDateTime>,
    /// Hera has sent it to Kratos for a second factor (`aal=aal2`).
    pub step_up: bool,
    /// Hera answered a remembered login of this request with this identity instead (rule 4),
    /// so Hydra's restart with `prompt=login` is expected.
    pub switched_to: Option<String>,
}

/// Everything the decision needs; built by the handler.
#[derive(Debug, Clone, Copy)]
pub struct LoginInput<'a> {
    pub request: &'a LoginRequest,
    pub auth: &'a AuthRequest,
    pub whoami: &'a Whoami,
    /// For `skip=true`: the remembered subject's identity from Kratos admin (`None` if gone).
    pub skip_identity: Option<&'a Option<Identity>>,
    pub marker: Option<&'a ReauthMarker>,
    pub policy: &'a LoginPolicy,
    pub now: OffsetDateTime,
}

/// What to do with a login request.
#[derive(Debug, Clone, PartialEq)]
pub enum LoginDecision {
    Accept {
        accept: LoginAccept,
        reason: Reason,
    },
    SendToKratos {
        send: SendToKratos,
        reason: Reason,
    },
    Reject {
        rejection: OAuthRejection,
        reason: Reason,
    },
}

/// A trip through one of Kratos's browser flows, back to Hera's `/login`.
pub use crate::model::kratos::{BrowserFlow as SendToKratos, KratosFlow};

/// Which rule decided, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    HydraRememberedSession,
    KratosSession,
    Reauthenticated,
    AccountSwitched,
    AccountSwitchCompleted,
    NoSession,
    RegistrationRequested,
    SessionExpired,
    LoginHintMismatch,
    PromptLogin,
    MaxAgeExceeded,
    RequestUnreadable,
    StepUpRequired,
    StepUpFailed,
    SubjectGone,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::HydraRememberedSession => "hydra_remembered_session",
            Reason::KratosSession => "kratos_session",
            Reason::Reauthenticated => "reauthenticated",
            Reason::AccountSwitched => "account_switched",
            Reason::AccountSwitchCompleted => "account_switch_completed",
            Reason::NoSession => "no_session",
            Reason::RegistrationRequested => "registration_requested",
            Reason::SessionExpired => "session_expired",
            Reason::LoginHintMismatch => "login_hint_mismatch",
            Reason::PromptLogin => "prompt_login",
            Reason::MaxAgeExceeded => "max_age_exceeded",
            Reason::RequestUnreadable => "request_unreadable",
            Reason::StepUpRequired => "step_up_required",
            Reason::StepUpFailed => "step_up_failed",
            Reason::SubjectGone => "subject_gone",
        }
    }
}

/// Decides a login request. Pure: no I/O, the time is an input.
pub fn decide(input: &LoginInput<'_>) -> LoginDecision {
    let LoginInput {
        request,
        auth,
        whoami,
        skip_identity,
        marker,
        policy,
        now,
    } = *input;

    // 1. A remembered subject whose identity is gone or disabled is never signed in again.
    if request.skip
        && !skip_identity.is_some_and(|identity| identity.as_ref().is_some_and(Identity::is_active))
    {
        return reject(login_required(), Reason::SubjectGone);
    }

    // 2. What Kratos knows about the browser.
    let session = match whoami {
        Whoami::Active(session) => session,
        Whoami::Unauthenticated if auth.prompt.registration => {
            return send(
                auth,
                SendToKratos::registration(),
                Reason::RegistrationRequested,
            );
        }
        Whoami::Unauthenticated => return send(auth, SendToKratos::login(), Reason::NoSession),
        Whoami::Aal2Required => {
            if marker.is_some_and(|m| m.step_up) {
                return reject(unmet_requirements(), Reason::StepUpFailed);
            }
            let step_up = SendToKratos {
                refresh: needs_fresh_login(auth).is_some(),
                aal2: true,
                ..SendToKratos::login()
            };
            return send(auth, step_up, Reason::StepUpRequired);
        }
    };

    // 3. Hydra must never remember a login longer than Kratos does; `remember_for = 0` would
    //    even mean Hydra's 30-day default.
    let remaining = session
        .expires_at
        .map_or(0, |expires_at| (expires_at - now).whole_seconds());
    if remaining < 1 {
        return send(auth, SendToKratos::login(), Reason::SessionExpired);
    }

    let identity = &session.identity;
    let fresh = marker.and_then(|m| m.sent_at).is_some_and(|sent_at| {
        session
            .authenticated_at
            .is_some_and(|at| at + CLOCK_SKEW >= sent_at)
    });
    // Hydra's restart after rule 4 accepted this identity: its `prompt=login` is Hydra's, not
    // the client's.
    let switch_completed = !request.skip
        && marker.and_then(|m| m.switched_to.as_deref()) == Some(identity.id.as_str());

    // 4. Someone else is signed in than the subject Hydra remembers.
    if request.skip && identity.id != request.subject {
        if auth.prompt.none {
            return reject(login_required(), Reason::AccountSwitched);
        }
        return LoginDecision::Accept {
            accept: accept(session, remaining, policy, false),
            reason: Reason::AccountSwitched,
        };
    }

    // 5 and 6. The request wants a fresh sign-in, or a different account.
    let hint_mismatch = auth
        .login_hint
        .as_deref()
        .is_some_and(|hint| !identifies(hint, identity));
    let refresh_reason = if hint_mismatch {
        Some(Reason::LoginHintMismatch)
    } else {
        needs_fresh_login(auth)
            .filter(|reason| !(switch_completed && *reason == Reason::PromptLogin))
            .or_else(|| max_age_exceeded(auth, session, now))
    }
    .filter(|_| !fresh);

    // 7. Step-up.
    let needs_aal2 =
        (request.client.requires_aal2() || asks_for_mfa(auth, policy)) && !session.is_aal2();
    if needs_aal2 && refresh_reason.is_none() && marker.is_some_and(|m| m.step_up) {
        return reject(unmet_requirements(), Reason::StepUpFailed);
    }

    if refresh_reason.is_some() || needs_aal2 {
        let trip = SendToKratos {
            refresh: refresh_reason.is_some(),
            aal2: needs_aal2,
            ..SendToKratos::login()
        };
        return send(auth, trip, refresh_reason.unwrap_or(Reason::StepUpRequired));
    }

    // 8. Accept.
    let reason = if request.skip {
        Reason::HydraRememberedSession
    } else if fresh {
        Reason::Reauthenticated
    } else if switch_completed {
        Reason::AccountSwitchCompleted
    } else {
        Reason::KratosSession
    };
    LoginDecision::Accept {
        accept: accept(
            session,
            remaining,
            policy,
            request.skip && policy.extend_session_lifespan,
        ),
        reason,
    }
}

/// A trip to Kratos, unless the client said `prompt=none`: then nothing may be shown, so the
/// request is rejected (OIDC Core §3.1.2.6).
fn send(auth: &AuthRequest, trip: SendToKratos, reason: Reason) -> LoginDecision {
    if auth.prompt.none {
        let only_step_up = trip.aal2 && !trip.refresh && trip.kind == KratosFlow::Login;
        let rejection = if only_step_up {
            OAuthRejection {
                error: "interaction_required",
                description:
                    "A second factor is required, but the request does not allow any interaction."
                        .into(),
            }
        } else {
            login_required()
        };
        return reject(rejection, reason);
    }
    LoginDecision::SendToKratos { send: trip, reason }
}

fn reject(rejection: OAuthRejection, reason: Reason) -> LoginDecision {
    LoginDecision::Reject { rejection, reason }
}

fn login_required() -> OAuthRejection {
    OAuthRejection {
        error: "login_required",
        description: "The user must sign in, but the request does not allow it.".into(),
    }
}

fn unmet_requirements() -> OAuthRejection {
    OAuthRejection {
        error: "unmet_authentication_requirements",
        description: "The requested second factor was not completed.".into(),
    }
}

/// `prompt=login`/`select_account`, `max_age=0`, or an unreadable request.
fn needs_fresh_login(auth: &AuthRequest) -> Option<Reason> {
    if auth.unreadable {
        Some(Reason::RequestUnreadable)
    } else if auth.wants_fresh_login() {
        Some(Reason::PromptLogin)
    } else if auth.max_age.is_some_and(|max_age| max_age.seconds() == 0) {
        Some(Reason::MaxAgeExceeded)
    } else {
        None
    }
}

/// `now - authenticated_at > max_age`; a session without `authenticated_at` is too old.
fn max_age_exceeded(auth: &AuthRequest, session: &Session, now: OffsetDateTime) -> Option<Reason> {
    let max_age = auth.max_age?;
    let allowed = Duration::seconds(i64::try_from(max_age.seconds()).unwrap_or(i64::MAX));
    let too_old = session
        .authenticated_at
        .is_none_or(|authenticated_at| now - authenticated_at > allowed);
    too_old.then_some(Reason::MaxAgeExceeded)
}

fn asks_for_mfa(auth: &AuthRequest, policy: &LoginPolicy) -> bool {
    auth.acr_values
        .iter()
        .any(|acr| acr == "aal2" || *acr == policy.acr_aal2 || policy.mfa_acr_values.contains(acr))
}

/// True when `hint` names this identity: its id, or one of its identifier traits or addresses
/// (compared without case).
fn identifies(hint: &str, identity: &Identity) -> bool {
    let hint = hint.trim();
    let traits = ["email", "username", "phone", "phone_number"]
        .into_iter()
        .filter_map(|key| identity.trait_str(key));
    let addresses = identity
        .verifiable_addresses
        .iter()
        .map(|a| a.value.as_str());
    hint == identity.id
        || traits
            .chain(addresses)
            .any(|value| value.trim().eq_ignore_ascii_case(hint))
}

fn accept(session: &Session, remaining: i64, policy: &LoginPolicy, extend: bool) -> LoginAccept {
    LoginAccept {
        remember: true,
        remember_for: Some(remaining),
        extend_session_lifespan: extend,
        ..accept_for_session(session, policy)
    }
}

/// An accept for the session's identity with its `acr`, RFC 8176 `amr` and Kratos session id
/// (so Hydra can end the Kratos session at logout), not remembered by Hydra.
pub fn accept_for_session(session: &Session, policy: &LoginPolicy) -> LoginAccept {
    let acr = session.aal.as_deref().map(|aal| match aal {
        "aal1" => policy.acr_aal1.clone(),
        "aal2" => policy.acr_aal2.clone(),
        other => other.to_owned(),
    });
    LoginAccept {
        subject: session.identity.id.clone(),
        remember: false,
        remember_for: None,
        acr,
        amr: amr(&session.authentication_methods),
        identity_provider_session_id: Some(session.id.clone()),
        extend_session_lifespan: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::auth_request::AuthRequest;
    use crate::model::{AuthenticationMethod, Client, OidcContext};
    use serde_json::json;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);
    const ADA: &str = "ada";

    /// What Kratos says, in test shorthand.
    #[derive(Clone, Copy)]
    enum Kratos {
        /// A session for `identity`, authenticated `age` ago, expiring in `left`, at `aal`.
        Session {
            identity: &'static str,
            age: i64,
            left: i64,
            aal: &'static str,
        },
        NoSession,
        NeedsAal2,
    }

    /// A session for Ada, authenticated `age` seconds ago, one hour left, aal1.
    fn ada(age: i64) -> Kratos {
        Kratos::Session {
            identity: ADA,
            age,
            left: 3600,
            aal: "aal1",
        }
    }

    #[derive(Clone, Copy)]
    struct Case {
        skip: bool,
        /// Identity of the remembered subject (skip only): active, inactive, or gone.
        skip_identity: Option<Option<&'static str>>,
        query: &'static str,
        acr_values: &'static [&'static str],
        login_hint: Option<&'static str>,
        min_aal: Option<&'static str>,
        kratos: Kratos,
        /// Seconds since Hera sent the browser to Kratos for this challenge, and whether for aal2.
        marker: Option<(i64, bool)>,
        /// Hera accepted this request for this identity on a remembered login of another.
        switched_to: Option<&'static str>,
    }

    impl Default for Case {
        fn default() -> Self {
            Case {
                skip: false,
                skip_identity: None,
                query: "",
                acr_values: &[],
                login_hint: None,
                min_aal: None,
                kratos: ada(60),
                marker: None,
                switched_to: None,
            }
        }
    }

    fn identity(id: &str, state: &str) -> Identity {
        Identity {
            id: id.into(),
            state: Some(state.into()),
            traits: json!({"email": format!("{id}@example.com"), "username": id}),
            verifiable_addresses: vec![],
            updated_at: None,
        }
    }

    fn run(case: Case) -> LoginDecision {
        run_with(case, &LoginPolicy::default())
    }

    fn run_with(case: Case, policy: &LoginPolicy) -> LoginDecision {
        let metadata = case
            .min_aal
            .map_or(json!({}), |aal| json!({ "min_aal": aal }));
        let request = LoginRequest {
            skip: case.skip,
            subject: if case.skip { ADA.into() } else { String::new() },
            client: Client {
                id: "app".into(),
                metadata,
                ..Client::default()
            },
            request_url: format!(
                "http://127.0.0.1:4444/oauth2/auth?client_id=app&{}",
                case.query
            ),
            requested_scope: vec![],
            requested_audience: vec![],
            session_id: None,
            oidc_context: OidcContext::default(),
        };
        let context = OidcContext {
            acr_values: case.acr_values.iter().map(|v| (*v).to_owned()).collect(),
            login_hint: case.login_hint.map(str::to_owned),
            ..OidcContext::default()
        };
        let auth = AuthRequest::parse(&request.request_url, &context);
        let whoami = match case.kratos {
            Kratos::Session {
                identity: id,
                age,
                left,
                aal,
            } => Whoami::Active(Box::new(Session {
                id: "kratos-session".into(),
                active: true,
                expires_at: Some(NOW + Duration::seconds(left)),
                authenticated_at: Some(NOW - Duration::seconds(age)),
                aal: Some(aal.into()),
                authentication_methods: ["password", "totp"][..if aal == "aal2" { 2 } else { 1 }]
                    .iter()
                    .map(|m| AuthenticationMethod {
                        method: (*m).into(),
                        aal: None,
                        completed_at: None,
                    })
                    .collect(),
                identity: identity(id, "active"),
                issued_at: None,
                devices: Vec::new(),
            })),
            Kratos::NoSession => Whoami::Unauthenticated,
            Kratos::NeedsAal2 => Whoami::Aal2Required,
        };
        let skip_identity = case
            .skip_identity
            .unwrap_or(Some("active"))
            .map(|state| identity(ADA, state));
        let marker = case
            .marker
            .map(|(ago, step_up)| ReauthMarker {
                sent_at: Some(NOW - Duration::seconds(ago)),
                step_up,
                switched_to: None,
            })
            .or_else(|| {
                case.switched_to.map(|id| ReauthMarker {
                    switched_to: Some(id.to_owned()),
                    ..ReauthMarker::default()
                })
            });
        decide(&LoginInput {
            request: &request,
            auth: &auth,
            whoami: &whoami,
            skip_identity: case.skip.then_some(&skip_identity),
            marker: marker.as_ref(),
            policy,
            now: NOW,
        })
    }

    #[derive(Debug, PartialEq)]
    enum Outcome {
        Accept(&'static str),
        Send {
            refresh: bool,
            aal2: bool,
            registration: bool,
            reason: &'static str,
        },
        Reject(&'static str, &'static str),
    }

    fn outcome(decision: &LoginDecision) -> Outcome {
        match decision {
            LoginDecision::Accept { reason, .. } => Outcome::Accept(reason.as_str()),
            LoginDecision::SendToKratos { send, reason } => Outcome::Send {
                refresh: send.refresh,
                aal2: send.aal2,
                registration: send.kind == KratosFlow::Registration,
                reason: reason.as_str(),
            },
            LoginDecision::Reject { rejection, reason } => {
                Outcome::Reject(rejection.error, reason.as_str())
            }
        }
    }

    fn login(refresh: bool, aal2: bool, reason: &'static str) -> Outcome {
        Outcome::Send {
            refresh,
            aal2,
            registration: false,
            reason,
        }
    }

    /// Every rule and the combinations that interact.
    #[test]
    fn the_decision_table() {
        use Outcome::{Accept, Reject};
        let table: Vec<(&str, Case, Outcome)> = vec![
            // Plain session reuse.
            (
                "a session is reused",
                Case::default(),
                Accept("kratos_session"),
            ),
            (
                "no session: sign in",
                Case {
                    kratos: Kratos::NoSession,
                    ..Case::default()
                },
                login(false, false, "no_session"),
            ),
            (
                "kratos wants aal2",
                Case {
                    kratos: Kratos::NeedsAal2,
                    ..Case::default()
                },
                login(false, true, "step_up_required"),
            ),
            (
                "kratos wants aal2 again after a step-up",
                Case {
                    kratos: Kratos::NeedsAal2,
                    marker: Some((30, true)),
                    ..Case::default()
                },
                Reject("unmet_authentication_requirements", "step_up_failed"),
            ),
            (
                "kratos wants aal2 and prompt=login",
                Case {
                    kratos: Kratos::NeedsAal2,
                    query: "prompt=login",
                    ..Case::default()
                },
                login(true, true, "step_up_required"),
            ),
            (
                "session with under a second left",
                Case {
                    kratos: Kratos::Session {
                        identity: ADA,
                        age: 10,
                        left: 0,
                        aal: "aal1",
                    },
                    ..Case::default()
                },
                login(false, false, "session_expired"),
            ),
            // prompt=login / select_account.
            (
                "prompt=login re-authenticates",
                Case {
                    query: "prompt=login",
                    ..Case::default()
                },
                login(true, false, "prompt_login"),
            ),
            (
                "prompt=select_account re-authenticates",
                Case {
                    query: "prompt=select_account",
                    ..Case::default()
                },
                login(true, false, "prompt_login"),
            ),
            (
                "prompt=login, back with a fresh session",
                Case {
                    query: "prompt=login",
                    kratos: ada(5),
                    marker: Some((30, false)),
                    ..Case::default()
                },
                Accept("reauthenticated"),
            ),
            (
                "prompt=login, back with the old session",
                Case {
                    query: "prompt=login",
                    kratos: ada(300),
                    marker: Some((30, false)),
                    ..Case::default()
                },
                login(true, false, "prompt_login"),
            ),
            (
                "prompt=login, authenticated a second before the marker (clock skew)",
                Case {
                    query: "prompt=login",
                    kratos: ada(31),
                    marker: Some((30, false)),
                    ..Case::default()
                },
                Accept("reauthenticated"),
            ),
            (
                "prompt=login, authenticated six seconds before the marker",
                Case {
                    query: "prompt=login",
                    kratos: ada(36),
                    marker: Some((30, false)),
                    ..Case::default()
                },
                login(true, false, "prompt_login"),
            ),
            (
                "prompt=login without a session",
                Case {
                    query: "prompt=login",
                    kratos: Kratos::NoSession,
                    ..Case::default()
                },
                login(false, false, "no_session"),
            ),
            (
                "a marker without prompt or max_age changes nothing",
                Case {
                    kratos: ada(300),
                    marker: Some((30, false)),
                    ..Case::default()
                },
                Accept("kratos_session"),
            ),
            // max_age.
            (
                "max_age not exceeded",
                Case {
                    query: "max_age=300",
                    kratos: ada(299),
                    ..Case::default()
                },
                Accept("kratos_session"),
            ),
            (
                "exactly max_age old is not exceeded",
                Case {
                    query: "max_age=300",
                    kratos: ada(300),
                    ..Case::default()
                },
                Accept("kratos_session"),
            ),
            (
                "a second over max_age",
                Case {
                    query: "max_age=300",
                    kratos: ada(301),
                    ..Case::default()
                },
                login(true, false, "max_age_exceeded"),
            ),
            (
                "max_age=0 behaves like prompt=login",
                Case {
                    query: "max_age=0",
                    kratos: ada(0),
                    ..Case::default()
                },
                login(true, false, "max_age_exceeded"),
            ),
            (
                "max_age=0, back with a fresh session",
                Case {
                    query: "max_age=0",
                    kratos: ada(2),
                    marker: Some((20, false)),
                    ..Case::default()
                },
                Accept("reauthenticated"),
            ),
            (
                "max_age exceeded while the user re-authenticated slowly",
                Case {
                    query: "max_age=5",
                    kratos: ada(20),
                    marker: Some((60, false)),
                    ..Case::default()
                },
                Accept("reauthenticated"),
            ),
            (
                "a malformed max_age is the strictest",
                Case {
                    query: "max_age=soon",
                    kratos: ada(1),
                    ..Case::default()
                },
                login(true, false, "max_age_exceeded"),
            ),
            (
                "a Kratos clock a second ahead",
                Case {
                    query: "max_age=60",
                    kratos: ada(-1),
                    ..Case::default()
                },
                Accept("kratos_session"),
            ),
            // Step-up.
            (
                "acr_values aal2 on an aal1 session",
                Case {
                    acr_values: &["aal2"],
                    ..Case::default()
                },
                login(false, true, "step_up_required"),
            ),
            (
                "the PAPE multi-factor acr on an aal1 session",
                Case {
                    acr_values: &["http://schemas.openid.net/pape/policies/2007/06/multi-factor"],
                    ..Case::default()
                },
                login(false, true, "step_up_required"),
            ),
            (
                "acr_values aal2 on an aal2 session",
                Case {
                    acr_values: &["aal2"],
                    kratos: Kratos::Session {
                        identity: ADA,
                        age: 60,
                        left: 3600,
                        aal: "aal2",
                    },
                    ..Case::default()
                },
                Accept("kratos_session"),
            ),
            (
                "an unknown acr value asks for nothing",
                Case {
                    acr_values: &["urn:something"],
                    ..Case::default()
                },
                Accept("kratos_session"),
            ),
            (
                "client min_aal aal2",
                Case {
                    min_aal: Some("aal2"),
                    ..Case::default()
                },
                login(false, true, "step_up_required"),
            ),
            (
                "client min_aal aal1",
                Case {
                    min_aal: Some("aal1"),
                    ..Case::default()
                },
                Accept("kratos_session"),
            ),
            (
                "back from a step-up still at aal1",
                Case {
                    acr_values: &["aal2"],
                    marker: Some((30, true)),
                    ..Case::default()
                },
                Reject("unmet_authentication_requirements", "step_up_failed"),
            ),
            (
                "back from a step-up at aal2",
                Case {
                    min_aal: Some("aal2"),
                    marker: Some((30, true)),
                    kratos: Kratos::Session {
                        identity: ADA,
                        age: 10,
                        left: 3600,
                        aal: "aal2",
                    },
                    ..Case::default()
                },
                Accept("reauthenticated"),
            ),
            (
                "prompt=login and a step-up at once",
                Case {
                    query: "prompt=login",
                    acr_values: &["aal2"],
                    ..Case::default()
                },
                login(true, true, "prompt_login"),
            ),
            (
                "refreshed, still aal1, step-up next",
                Case {
                    query: "prompt=login",
                    acr_values: &["aal2"],
                    kratos: ada(5),
                    marker: Some((30, false)),
                    ..Case::default()
                },
                login(false, true, "step_up_required"),
            ),
            (
                "max_age exceeded and a step-up",
                Case {
                    query: "max_age=10",
                    min_aal: Some("aal2"),
                    kratos: ada(60),
                    ..Case::default()
                },
                login(true, true, "max_age_exceeded"),
            ),
            // login_hint.
            (
                "login_hint names the session's account",
                Case {
                    login_hint: Some("ADA@example.com"),
                    ..Case::default()
                },
                Accept("kratos_session"),
            ),
            (
                "login_hint names the session's username",
                Case {
                    login_hint: Some("ada"),
                    ..Case::default()
                },
                Accept("kratos_session"),
            ),
            (
                "login_hint names another account",
                Case {
                    login_hint: Some("bob@example.com"),
                    ..Case::default()
                },
                login(true, false, "login_hint_mismatch"),
            ),
            (
                "login_hint mismatch, back after signing in as the other account",
                Case {
                    login_hint: Some("bob@example.com"),
                    kratos: Kratos::Session {
                        identity: "bob",
                        age: 3,
                        left: 3600,
                        aal: "aal1",
                    },
                    marker: Some((30, false)),
                    ..Case::default()
                },
                Accept("reauthenticated"),
            ),
            (
                "login_hint mismatch, user kept the same account",
                Case {
                    login_hint: Some("bob@example.com"),
                    kratos: ada(3),
                    marker: Some((30, false)),
                    ..Case::default()
                },
                Accept("reauthenticated"),
            ),
            // Registration.
            (
                "prompt=registration without a session",
                Case {
                    query: "prompt=registration",
                    kratos: Kratos::NoSession,
                    ..Case::default()
                },
                Outcome::Send {
                    refresh: false,
                    aal2: false,
                    registration: true,
                    reason: "registration_requested",
                },
            ),
            (
                "prompt=registration with a session",
                Case {
                    query: "prompt=registration",
                    ..Case::default()
                },
                Accept("kratos_session"),
            ),
            // skip=true.
            (
                "skip with the same account",
                Case {
                    skip: true,
                    ..Case::default()
                },
                Accept("hydra_remembered_session"),
            ),
            (
                "skip with another account signed in",
                Case {
                    skip: true,
                    kratos: Kratos::Session {
                        identity: "bob",
                        age: 60,
                        left: 3600,
                        aal: "aal1",
                    },
                    ..Case::default()
                },
                Accept("account_switched"),
            ),
            (
                "skip with another account and prompt=none",
                Case {
                    skip: true,
                    query: "prompt=none",
                    kratos: Kratos::Session {
                        identity: "bob",
                        age: 60,
                        left: 3600,
                        aal: "aal1",
                    },
                    ..Case::default()
                },
                Reject("login_required", "account_switched"),
            ),
            (
                "Hydra's restart after a switch: its prompt=login needs no sign-in",
                Case {
                    query: "prompt=login",
                    switched_to: Some(ADA),
                    ..Case::default()
                },
                Accept("account_switch_completed"),
            ),
            (
                "the restart's prompt=login still needs a sign-in for another identity",
                Case {
                    query: "prompt=login",
                    switched_to: Some("bob"),
                    ..Case::default()
                },
                login(true, false, "prompt_login"),
            ),
            (
                "a switch does not excuse an exceeded max_age",
                Case {
                    query: "prompt=login&max_age=10",
                    switched_to: Some(ADA),
                    ..Case::default()
                },
                login(true, false, "max_age_exceeded"),
            ),
            (
                "a switch does not excuse a login_hint for another account",
                Case {
                    query: "prompt=login",
                    login_hint: Some("bob@example.com"),
                    switched_to: Some(ADA),
                    ..Case::default()
                },
                login(true, false, "login_hint_mismatch"),
            ),
            (
                "skip, remembered identity deleted",
                Case {
                    skip: true,
                    skip_identity: Some(None),
                    ..Case::default()
                },
                Reject("login_required", "subject_gone"),
            ),
            (
                "skip, remembered identity inactive",
                Case {
                    skip: true,
                    skip_identity: Some(Some("inactive")),
                    ..Case::default()
                },
                Reject("login_required", "subject_gone"),
            ),
            (
                "skip without a Kratos session",
                Case {
                    skip: true,
                    kratos: Kratos::NoSession,
                    ..Case::default()
                },
                login(false, false, "no_session"),
            ),
            (
                "skip, Kratos session older than max_age",
                Case {
                    skip: true,
                    query: "max_age=60",
                    kratos: ada(120),
                    ..Case::default()
                },
                login(true, false, "max_age_exceeded"),
            ),
            (
                "skip and a step-up",
                Case {
                    skip: true,
                    acr_values: &["aal2"],
                    ..Case::default()
                },
                login(false, true, "step_up_required"),
            ),
            // prompt=none never shows anything.
            (
                "prompt=none with a session",
                Case {
                    query: "prompt=none",
                    ..Case::default()
                },
                Accept("kratos_session"),
            ),
            (
                "prompt=none without a session",
                Case {
                    query: "prompt=none",
                    kratos: Kratos::NoSession,
                    ..Case::default()
                },
                Reject("login_required", "no_session"),
            ),
            (
                "prompt=none and max_age exceeded",
                Case {
                    query: "prompt=none&max_age=10",
                    ..Case::default()
                },
                Reject("login_required", "max_age_exceeded"),
            ),
            (
                "prompt=none needing a step-up",
                Case {
                    query: "prompt=none",
                    acr_values: &["aal2"],
                    ..Case::default()
                },
                Reject("interaction_required", "step_up_required"),
            ),
            (
                "prompt=none when Kratos wants aal2",
                Case {
                    query: "prompt=none",
                    kratos: Kratos::NeedsAal2,
                    ..Case::default()
                },
                Reject("interaction_required", "step_up_required"),
            ),
            (
                "prompt=none with a login_hint mismatch",
                Case {
                    query: "prompt=none",
                    login_hint: Some("bob@example.com"),
                    ..Case::default()
                },
                Reject("login_required", "login_hint_mismatch"),
            ),
            (
                "prompt=none and registration",
                Case {
                    query: "prompt=none%20registration",
                    kratos: Kratos::NoSession,
                    ..Case::default()
                },
                Reject("login_required", "registration_requested"),
            ),
            (
                "prompt=none on a remembered login",
                Case {
                    skip: true,
                    query: "prompt=none",
                    ..Case::default()
                },
                Accept("hydra_remembered_session"),
            ),
            (
                "prompt=none, skip, remembered identity gone",
                Case {
                    skip: true,
                    query: "prompt=none",
                    skip_identity: Some(None),
                    ..Case::default()
                },
                Reject("login_required", "subject_gone"),
            ),
        ];
        let mut failures = Vec::new();
        for (name, case, expected) in table {
            let got = outcome(&run(case));
            if got != expected {
                failures.push(format!("{name}: expected {expected:?}, got {got:?}"));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn an_unreadable_request_url_is_treated_like_prompt_login() {
        let request = LoginRequest {
            skip: false,
            subject: String::new(),
            client: Client::default(),
            request_url: "not a url".into(),
            requested_scope: vec![],
            requested_audience: vec![],
            session_id: None,
            oidc_context: OidcContext::default(),
        };
        let auth = AuthRequest::parse(&request.request_url, &request.oidc_context);
        let whoami = run_whoami();
        let decision = decide(&LoginInput {
            request: &request,
            auth: &auth,
            whoami: &whoami,
            skip_identity: None,
            marker: None,
            policy: &LoginPolicy::default(),
            now: NOW,
        });
        assert_eq!(outcome(&decision), login(true, false, "request_unreadable"));
    }

    fn run_whoami() -> Whoami {
        Whoami::Active(Box::new(Session {
            id: "s".into(),
            active: true,
            expires_at: Some(NOW + Duration::hours(1)),
            authenticated_at: Some(NOW - Duration::seconds(1)),
            aal: Some("aal1".into()),
            authentication_methods: vec![],
            identity: identity(ADA, "active"),
            issued_at: None,
            devices: Vec::new(),
        }))
    }

    #[test]
    fn an_accept_carries_the_session_identity_acr_amr_and_remaining_lifetime() {
        let case = Case {
            kratos: Kratos::Session {
                identity: ADA,
                age: 60,
                left: 7200,
                aal: "aal2",
            },
            ..Case::default()
        };
        let LoginDecision::Accept { accept, .. } = run(case) else {
            panic!("expected an accept")
        };
        assert_eq!(accept.subject, ADA);
        assert_eq!(
            accept.identity_provider_session_id.as_deref(),
            Some("kratos-session")
        );
        assert_eq!(accept.acr.as_deref(), Some("aal2"));
        assert_eq!(accept.amr, ["pwd", "otp", "mfa"]);
        assert!(accept.remember);
        assert_eq!(accept.remember_for, Some(7200));
        assert!(!accept.extend_session_lifespan);
    }

    #[test]
    fn the_operator_can_rename_acr_values_and_extend_remembered_sessions() {
        let policy = LoginPolicy {
            acr_aal1: "urn:hera:silver".into(),
            acr_aal2: "urn:hera:gold".into(),
            extend_session_lifespan: true,
            ..LoginPolicy::default()
        };
        let LoginDecision::Accept { accept, .. } = run_with(
            Case {
                skip: true,
                ..Case::default()
            },
            &policy,
        ) else {
            panic!("expected an accept")
        };
        assert_eq!(accept.acr.as_deref(), Some("urn:hera:silver"));
        assert!(accept.extend_session_lifespan);
        let LoginDecision::Accept { accept, .. } = run_with(Case::default(), &policy) else {
            panic!("expected an accept")
        };
        assert!(
            !accept.extend_session_lifespan,
            "only remembered (skip) logins are extended"
        );
        let asks_gold = Case {
            acr_values: &["urn:hera:gold"],
            ..Case::default()
        };
        assert_eq!(
            outcome(&run_with(asks_gold, &policy)),
            login(false, true, "step_up_required")
        );
    }

    #[test]
    fn an_account_switch_never_accepts_the_remembered_subject() {
        let case = Case {
            skip: true,
            kratos: Kratos::Session {
                identity: "bob",
                age: 60,
                left: 3600,
                aal: "aal1",
            },
            ..Case::default()
        };
        let LoginDecision::Accept { accept, .. } = run(case) else {
            panic!("expected an accept")
        };
        assert_eq!(accept.subject, "bob");
    }
}
