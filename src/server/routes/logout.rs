//! `GET /logout?logout_challenge=…` (Hydra's `urls.logout`) and the confirmation's
//! `POST /logout`.
//!
//! Hydra ends its own login session when the browser reaches the `redirect_to` of an accept.
//! Because every login accept carries `identity_provider_session_id`, Hydra also revokes the
//! Kratos session when its `urls.identity_provider.url` points at Kratos admin. With
//! `HERA_KRATOS_LOGOUT=browser` the browser additionally goes through Kratos's own browser
//! logout on its way to Hydra.
//!
//! The page is bound to the person at the browser: the account is named only to a browser
//! signed in as it, and an RP-initiated logout (whose session Hydra finds by the
//! `id_token_hint`, whoever opens the URL) is carried out only in a browser signed in as its
//! subject; anywhere else the page says nothing was signed out.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use tracing::Span;

use super::{
    app_badge, challenge, check_csrf, forwarded_cookies, render, see_other, texts, viewer,
};
use crate::domain::logout::{self as rules, LogoutDecision};
use crate::model::challenge::Challenge;
use crate::model::{Identity, LogoutRequest};
use crate::ory::HydraError;
use crate::server::error::HeraError;
use crate::server::session::{FormPurpose, TypedSession};
use crate::server::theme::Theme;
use crate::server::views::{Layout, LogoutNotYoursPage, LogoutPage};
use crate::server::KratosLogout;
use crate::server::State;

#[derive(Debug, Deserialize)]
pub struct LogoutQuery {
    logout_challenge: Option<String>,
}

#[get("/logout")]
pub async fn logout_page(
    http: HttpRequest,
    query: web::Query<LogoutQuery>,
    session: Session,
    state: web::Data<State>,
) -> Result<HttpResponse, HeraError> {
    let challenge = challenge("logout_challenge", query.logout_challenge.as_deref())?;
    let request = match load(&state, &challenge).await? {
        Loaded::Request(request) => request,
        Loaded::AlreadyHandled(response) => return Ok(response),
    };
    let viewer = viewer_of(&http, &state, &request).await?;
    match rules::decide(&request, viewer.as_ref().map(|v| v.id.as_str())) {
        LogoutDecision::Accept => sign_out(&http, &state, &challenge, &request, "auto").await,
        LogoutDecision::NotThisPerson => {
            Ok(not_this_person(&http, &state, &request, StatusCode::OK))
        }
        LogoutDecision::AskUser => {
            let csrf_token =
                TypedSession::new(&session).csrf_token(FormPurpose::Logout, &challenge)?;
            let t = texts(&http, &state, &[]);
            let page = LogoutPage {
                layout: Layout::new(&t, t.text("logout-title")).themed(&theme(&request)),
                app: request.client.as_ref().map(app_badge),
                account: viewer
                    .filter(|viewer| rules::is_subject(&request, Some(viewer.id.as_str())))
                    .map(|viewer| viewer.account_label()),
                logout_challenge: challenge.as_str().to_owned(),
                csrf_token,
            };
            Ok(render(StatusCode::OK, &page))
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    logout_challenge: Option<String>,
    csrf_token: Option<String>,
    action: Option<String>,
}

#[post("/logout")]
pub async fn logout_submit(
    http: HttpRequest,
    form: web::Form<LogoutForm>,
    session: Session,
    state: web::Data<State>,
) -> Result<HttpResponse, HeraError> {
    let challenge = challenge("logout_challenge", form.logout_challenge.as_deref())?;
    let sign_out_chosen = match form.action.as_deref() {
        Some("accept") => true,
        Some("reject") => false,
        _ => return Err(HeraError::BadForm("action must be accept or reject".into())),
    };
    check_csrf(
        &http,
        &session,
        FormPurpose::Logout,
        challenge.as_str(),
        form.csrf_token.as_deref(),
    )?;
    let request = match load(&state, &challenge).await? {
        Loaded::Request(request) => request,
        Loaded::AlreadyHandled(response) => return Ok(response),
    };
    let viewer = viewer_of(&http, &state, &request).await?;
    if rules::decide(&request, viewer.as_ref().map(|v| v.id.as_str()))
        == LogoutDecision::NotThisPerson
    {
        return Ok(not_this_person(
            &http,
            &state,
            &request,
            StatusCode::FORBIDDEN,
        ));
    }
    if sign_out_chosen {
        return sign_out(&http, &state, &challenge, &request, "user").await;
    }
    state
        .hydra
        .reject_logout(&challenge)
        .await
        .map_err(HeraError::logout)?;
    tracing::info!(
        target: "hera::audit",
        event = "logout.declined",
        subject = %request.subject,
        client_id = %client_id(&request),
    );
    // Hydra does nothing after a reject; Hera picks the way back: the
    // client's https site, or Hera's own home page. Never a fixed external site.
    Ok(see_other(&way_back(&state, &request)))
}

/// The asking client's theme (Hera's own without a client).
fn theme(request: &LogoutRequest) -> Theme {
    request
        .client
        .as_ref()
        .map(|client| Theme::from_metadata(&client.metadata))
        .unwrap_or_default()
}

/// Where someone goes who stays signed in, or who had nothing to sign out.
fn way_back(state: &State, request: &LogoutRequest) -> String {
    rules::after_staying_signed_in(request.client.as_ref())
        .map_or_else(|| state.page_url("/"), String::from)
}

/// Who this browser is signed in as. For an RP-initiated logout the answer decides, so Kratos
/// failing is an error page; otherwise it only decides whether the account is named, and the
/// page works without it.
async fn viewer_of(
    http: &HttpRequest,
    state: &State,
    request: &LogoutRequest,
) -> Result<Option<Identity>, HeraError> {
    match viewer(http, state).await {
        Ok(viewer) => Ok(viewer),
        Err(error) if !request.rp_initiated => {
            tracing::warn!(error = %error, "could not tell who is signed in; the sign-out page names no account");
            Ok(None)
        }
        Err(error) => Err(error.into()),
    }
}

/// The page for a logout this browser may not perform: nothing is signed out, Hydra is not
/// asked, and "Continue" leads where "No" would.
fn not_this_person(
    http: &HttpRequest,
    state: &State,
    request: &LogoutRequest,
    status: StatusCode,
) -> HttpResponse {
    tracing::info!(
        target: "hera::audit",
        event = "logout.not_signed_in_as_subject",
        subject = %request.subject,
        client_id = %client_id(request),
    );
    let t = texts(http, state, &[]);
    let page = LogoutNotYoursPage {
        layout: Layout::new(&t, t.text("logout-not-yours-title")).themed(&theme(request)),
        app: request.client.as_ref().map(app_badge),
        continue_to: way_back(state, request),
    };
    render(status, &page)
}

enum Loaded {
    Request(Box<LogoutRequest>),
    /// Hydra said 410: the browser goes to `redirect_to`.
    AlreadyHandled(HttpResponse),
}

async fn load(state: &State, challenge: &Challenge) -> Result<Loaded, HeraError> {
    match state.hydra.logout_request(challenge).await {
        Ok(request) => {
            Span::current().record("subject", &request.subject);
            Span::current().record("client_id", client_id(&request));
            Ok(Loaded::Request(Box::new(request)))
        }
        Err(HydraError::AlreadyHandled { redirect_to }) => {
            Ok(Loaded::AlreadyHandled(see_other(redirect_to.as_str())))
        }
        Err(error) => Err(HeraError::logout(error)),
    }
}

/// Accepts the logout and sends the browser on: to Hydra's `redirect_to`, or first through
/// Kratos's browser logout when `HERA_KRATOS_LOGOUT=browser`.
async fn sign_out(
    http: &HttpRequest,
    state: &State,
    challenge: &Challenge,
    request: &LogoutRequest,
    by: &str,
) -> Result<HttpResponse, HeraError> {
    let redirect_to = match state.hydra.accept_logout(challenge).await {
        Ok(redirect_to) | Err(HydraError::AlreadyHandled { redirect_to }) => redirect_to,
        Err(error) => return Err(HeraError::logout(error)),
    };
    tracing::info!(
        target: "hera::audit",
        event = "logout.accepted",
        subject = %request.subject,
        client_id = %client_id(request),
        by,
    );
    if state.settings.kratos_logout == KratosLogout::Hydra {
        return Ok(see_other(redirect_to.as_str()));
    }
    // Kratos signs the browser out, then sends it on to Hydra's `redirect_to` (which must be
    // in Kratos's `selfservice.allowed_return_urls`). No Kratos session: nothing to end there.
    let cookies = forwarded_cookies(http);
    match state
        .kratos
        .browser_logout_url(cookies.as_deref(), redirect_to.as_str())
        .await?
    {
        Some(logout_url) => Ok(see_other(&logout_url)),
        None => Ok(see_other(redirect_to.as_str())),
    }
}

fn client_id(request: &LogoutRequest) -> &str {
    request
        .client
        .as_ref()
        .map_or("", |client| client.id.as_str())
}
