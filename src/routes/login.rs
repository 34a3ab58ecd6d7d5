//! `GET /login?login_challenge=…`: Hydra's `urls.login` (and `urls.registration`).
//!
//! Gathers what the decision needs (the login request, the Kratos session, for a remembered
//! login the subject's identity, and what Hera already did for this challenge), lets
//! [`rules::decide`] decide, and executes the result.

use actix_session::Session;
use actix_web::{get, web, HttpRequest, HttpResponse};
use futures_util::future::{join, OptionFuture};
use serde::Deserialize;
use time::OffsetDateTime;
use tracing::Span;

use super::{follow, forwarded_cookies, see_other};
use crate::domain::auth_request::AuthRequest;
use crate::domain::challenge::Challenge;
use crate::domain::login::{self as rules, LoginDecision, LoginInput};
use crate::error::HeraError;
use crate::ory::HydraError;
use crate::session::TypedSession;
use crate::startup::AppState;

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    login_challenge: Option<String>,
}

#[get("/login")]
pub async fn login(
    request: HttpRequest,
    query: web::Query<LoginQuery>,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, HeraError> {
    let challenge = Challenge::parse(query.login_challenge.as_deref())
        .map_err(|e| HeraError::challenge("login_challenge", e))?;
    Span::current().record("challenge", challenge.log_id());
    let login_request = match state.hydra.login_request(&challenge).await {
        Ok(login_request) => login_request,
        Err(HydraError::AlreadyHandled { redirect_to }) => {
            return Ok(see_other(redirect_to.as_str()))
        }
        Err(error) => return Err(error.into()),
    };
    let client_id = login_request.client.id.clone();
    Span::current().record("client_id", &client_id);
    let auth = AuthRequest::parse(&login_request.request_url, &login_request.oidc_context);

    // A remembered (skip) login also needs the subject's identity, fetched alongside whoami.
    let cookies = forwarded_cookies(&request);
    let skip_lookup: OptionFuture<_> = login_request
        .skip
        .then(|| state.kratos.identity(&login_request.subject))
        .into();
    let (whoami, skip_identity) = join(state.kratos.whoami(cookies.as_deref()), skip_lookup).await;
    let whoami = whoami?;
    let skip_identity = skip_identity.transpose()?;

    let typed_session = TypedSession::new(&session);
    let now = OffsetDateTime::now_utc();
    let decision = rules::decide(&LoginInput {
        request: &login_request,
        auth: &auth,
        whoami: &whoami,
        skip_identity: skip_identity.as_ref(),
        marker: typed_session.reauth_marker(&challenge),
        policy: &state.settings.login_policy,
        now,
    });

    match decision {
        LoginDecision::Accept { accept, reason } => {
            let subject = accept.subject.clone();
            let response = follow(state.hydra.accept_login(&challenge, accept).await)?;
            audit("login.accepted", &subject, &client_id, reason);
            Ok(response)
        }
        LoginDecision::SendToKratos { send, reason } => {
            typed_session.record_reauth(&challenge, now, send.aal2)?;
            audit("login.sent_to_kratos", "", &client_id, reason);
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
