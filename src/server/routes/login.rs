//! `GET /login?login_challenge=…`: Hydra's `urls.login` (and `urls.registration`). Without a
//! challenge, `/login` is Kratos's login page instead (`selfservice`).
//!
//! Gathers what the decision needs (the login request, the Kratos session, for a remembered
//! login the subject's identity, and what Hera already did for this challenge), lets
//! [`rules::decide`] decide, and executes the result.

use actix_session::Session;
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use time::OffsetDateTime;
use tracing::Span;

use super::selfservice::{self, FlowQuery};
use super::{challenge, follow, forwarded_cookies, loaded, see_other};
use crate::domain::auth_request::AuthRequest;
use crate::domain::login::{self as rules, LoginDecision, LoginInput};
use crate::model::{KratosFlow, Whoami};
use crate::server::error::HeraError;
use crate::server::session::TypedSession;
use crate::server::State;

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    login_challenge: Option<String>,
    /// Kratos's login flow to render (`selfservice.flows.login.ui_url`).
    flow: Option<String>,
    return_to: Option<String>,
    refresh: Option<String>,
    aal: Option<String>,
}

/// With `login_challenge` (even an empty one), Hydra's login decision; without, Kratos's login
/// flow (`?flow=`, or a new one).
#[get("/login")]
pub async fn login(
    request: HttpRequest,
    query: web::Query<LoginQuery>,
    session: Session,
    state: web::Data<State>,
) -> Result<HttpResponse, HeraError> {
    if query.login_challenge.is_none() {
        let query = query.into_inner();
        let flow_query = FlowQuery {
            flow: query.flow,
            return_to: query.return_to,
            refresh: query.refresh,
            aal: query.aal,
        };
        return selfservice::page(KratosFlow::Login, &request, &flow_query, &session, &state).await;
    }
    let challenge = challenge("login_challenge", query.login_challenge.as_deref())?;
    let login_request = match loaded(state.hydra.login_request(&challenge).await)? {
        Ok(login_request) => login_request,
        Err(redirect) => return Ok(redirect),
    };
    let client_id = login_request.client.id.clone();
    Span::current().record("client_id", &client_id);
    let auth = AuthRequest::parse(&login_request.request_url, &login_request.oidc_context);

    let whoami = state
        .kratos
        .whoami(forwarded_cookies(&request).as_deref())
        .await?;
    // A remembered (skip) login also needs the remembered subject's identity. Usually the
    // browser's own session is that identity, active (Kratos answers 401 for inactive ones), and
    // nothing more needs asking; otherwise Kratos admin is asked.
    let skip_identity = match &whoami {
        _ if !login_request.skip => None,
        Whoami::Active(session) if session.identity.id == login_request.subject => {
            Some(Some(session.identity.clone()))
        }
        _ => Some(state.kratos.identity(&login_request.subject).await?),
    };

    let typed_session = TypedSession::new(&session);
    // What Hera did for this request survives Hydra's restart of it on a new challenge.
    let request_key = auth.request_key.as_deref().unwrap_or(challenge.as_str());
    let marker = typed_session.reauth_marker(request_key);
    let now = OffsetDateTime::now_utc();
    let decision = rules::decide(&LoginInput {
        request: &login_request,
        auth: &auth,
        whoami: &whoami,
        skip_identity: skip_identity.as_ref(),
        marker: marker.as_ref(),
        policy: &state.settings.login_policy,
        now,
    });

    match decision {
        LoginDecision::Accept { accept, reason } => {
            let subject = accept.subject.clone();
            let response = follow(state.hydra.accept_login(&challenge, accept).await)?;
            if reason == rules::Reason::AccountSwitched {
                typed_session.record_switch(request_key, &subject, now)?;
            } else {
                typed_session.forget_marker(request_key)?;
            }
            audit("login.accepted", &subject, &client_id, reason);
            state.metrics.decision("login", "accepted", reason.as_str());
            Ok(response)
        }
        LoginDecision::SendToKratos { send, reason } => {
            typed_session.record_reauth(request_key, now, send.aal2)?;
            audit("login.sent_to_kratos", "", &client_id, reason);
            state
                .metrics
                .decision("login", "sent_to_kratos", reason.as_str());
            let return_to = state.login_url(&challenge);
            Ok(see_other(&state.kratos.browser_flow_url(send, &return_to)))
        }
        LoginDecision::Reject { rejection, reason } => {
            let error = rejection.error;
            let response = follow(state.hydra.reject_login(&challenge, rejection).await)?;
            tracing::info!(
                target: "hera::audit",
                event = "login.rejected",
                client_id = %client_id,
                error,
                reason = reason.as_str(),
            );
            state.metrics.decision("login", "rejected", reason.as_str());
            Ok(response)
        }
    }
}

fn audit(event: &str, subject: &str, client_id: &str, reason: rules::Reason) {
    tracing::info!(
        target: "hera::audit",
        event,
        subject,
        client_id,
        reason = reason.as_str(),
    );
}
