//! The device flow (RFC 8628) in the browser: `GET /device/verify?device_challenge=…
//! [&user_code=…]` (Hydra's `urls.device.verification`) with its form's `POST /device/verify`,
//! and `GET /device/success?client_id=…` (Hydra's `urls.device.success`).
//!
//! Device codes are phished: an attacker starts a sign-in on their own device and talks a victim
//! into entering the code. The page says plainly to continue only for a
//! sign-in the user started, and codes sent to Hydra are limited per device challenge and per
//! client address. Hydra offers no way to read a device request, so the application is only
//! known after the code is accepted: the sign-in and consent pages that follow name it.

use std::time::Instant;

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use tracing::Span;

use super::{app_badge, challenge, check_csrf, plausible_client_id, render, see_other, texts};
use crate::model::challenge::Challenge;
use crate::model::user_code::{UserCode, UserCodeError};
use crate::model::RedirectTo;
use crate::ory::UserCodeVerdict;
use crate::server::error::HeraError;
use crate::server::i18n::Texts;
use crate::server::session::{FormPurpose, TypedSession};
use crate::server::theme::Theme;
use crate::server::views::{DeviceSuccessPage, DeviceVerifyPage, Layout};
use crate::server::State;
use crate::web::rate_limit::{request_address_key, Attempt, Key};

#[derive(Debug, Deserialize)]
pub struct VerifyQuery {
    device_challenge: Option<String>,
    user_code: Option<String>,
}

#[get("/device/verify")]
pub async fn verify_page(
    http: HttpRequest,
    query: web::Query<VerifyQuery>,
    session: Session,
    state: web::Data<State>,
) -> Result<HttpResponse, HeraError> {
    let challenge = challenge("device_challenge", query.device_challenge.as_deref())?;
    // Prefilled only when it reads as a code, and then in Hera's own spelling: the link's text
    // is never echoed as is.
    let user_code = query
        .user_code
        .as_deref()
        .and_then(|code| UserCode::normalise(code).ok())
        .map(|code| code.as_str().to_owned())
        .unwrap_or_default();
    let t = texts(&http, &state, &[]);
    let page = form_page(&t, &session, &challenge, user_code, None)?;
    Ok(render(StatusCode::OK, &page))
}

#[derive(Debug, Deserialize)]
pub struct VerifyForm {
    device_challenge: Option<String>,
    csrf_token: Option<String>,
    user_code: Option<String>,
}

#[post("/device/verify")]
pub async fn verify_submit(
    http: HttpRequest,
    form: web::Form<VerifyForm>,
    session: Session,
    state: web::Data<State>,
) -> Result<HttpResponse, HeraError> {
    let challenge = challenge("device_challenge", form.device_challenge.as_deref())?;
    check_csrf(
        &http,
        &session,
        FormPurpose::Device,
        challenge.as_str(),
        form.csrf_token.as_deref(),
    )?;
    let typed = form.user_code.as_deref().unwrap_or_default();
    let t = texts(&http, &state, &[]);
    let code = match UserCode::normalise(typed) {
        Ok(code) => code,
        Err(UserCodeError::Empty) => {
            return retry(&t, &session, &challenge, typed, "device-problem-empty")
        }
        Err(UserCodeError::Malformed) => {
            return retry(&t, &session, &challenge, typed, "device-problem-malformed")
        }
    };

    // Only codes that would reach Hydra count: they are the guesses.
    let keys = attempt_keys(&http, &state, &challenge);
    if let Attempt::Refused { retry_after } = state.device_attempts.attempt(&keys, Instant::now()) {
        tracing::warn!(
            retry_after_secs = retry_after.as_secs(),
            "too many device codes tried; refused without asking Hydra"
        );
        state.metrics.rate_limited("device_code");
        return Err(HeraError::TooManyAttempts { retry_after });
    }

    match state
        .hydra
        .accept_user_code(&challenge, &code)
        .await
        .map_err(HeraError::device)?
    {
        UserCodeVerdict::Accepted(redirect_to) => {
            let client_id = client_id_in(&redirect_to);
            Span::current().record("client_id", &client_id);
            tracing::info!(
                target: "hera::audit",
                event = "device.code_accepted",
                client_id = %client_id,
            );
            Ok(see_other(redirect_to.as_str()))
        }
        UserCodeVerdict::Refused => {
            tracing::info!("Hydra refused the user code");
            retry(&t, &session, &challenge, typed, "device-problem-refused")
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct SuccessQuery {
    client_id: Option<String>,
}

#[get("/device/success")]
pub async fn success_page(
    http: HttpRequest,
    query: web::Query<SuccessQuery>,
    state: web::Data<State>,
) -> Result<HttpResponse, HeraError> {
    // The name comes from Hydra, never from the query. The device is signed in already, so a
    // failed look-up only makes the page less specific.
    let client_id = query
        .client_id
        .as_deref()
        .filter(|id| plausible_client_id(id));
    let client = match client_id {
        Some(id) => {
            Span::current().record("client_id", id);
            state.hydra.client(id).await.unwrap_or_else(|error| {
                tracing::warn!(error = %error, "could not load the device's client");
                None
            })
        }
        None => None,
    };
    let t = texts(&http, &state, &[]);
    let theme = client
        .as_ref()
        .map(|client| Theme::from_metadata(&client.metadata))
        .unwrap_or_default();
    let page = DeviceSuccessPage {
        layout: Layout::new(&t, t.text("device-success-title")).themed(&theme),
        app: client.as_ref().map(app_badge),
    };
    Ok(render(StatusCode::OK, &page))
}

/// The form again, with what the user typed and why it was not accepted: 400, not an error
/// page, so they can correct a typo.
fn retry(
    t: &Texts,
    session: &Session,
    challenge: &Challenge,
    typed: &str,
    problem_key: &str,
) -> Result<HttpResponse, HeraError> {
    let typed: String = typed.trim().chars().take(64).collect();
    let problem = t.text(problem_key).to_owned();
    let page = form_page(t, session, challenge, typed, Some(problem))?;
    Ok(render(StatusCode::BAD_REQUEST, &page))
}

fn form_page(
    t: &Texts,
    session: &Session,
    challenge: &Challenge,
    user_code: String,
    problem: Option<String>,
) -> Result<DeviceVerifyPage, HeraError> {
    Ok(DeviceVerifyPage {
        layout: Layout::new(t, t.text("device-title")),
        device_challenge: challenge.as_str().to_owned(),
        csrf_token: TypedSession::new(session).csrf_token(FormPurpose::Device, challenge)?,
        user_code,
        problem,
    })
}

/// What a code attempt is counted against: this device challenge, and the client's address,
/// an IPv6 client by its /64 (`X-Forwarded-For` is only read when `HERA_TRUSTED_PROXY_HOPS` is
/// set).
fn attempt_keys(http: &HttpRequest, state: &State, challenge: &Challenge) -> [Key; 2] {
    let address = request_address_key(http, state.settings.trusted_proxy_hops);
    [
        Key::new("device_challenge", challenge.as_str()),
        Key::new("address", &address),
    ]
}

/// The device's client, which Hydra names in its redirect, for the audit log.
fn client_id_in(redirect_to: &RedirectTo) -> String {
    url::Url::parse(redirect_to.as_str())
        .ok()
        .and_then(|url| {
            url.query_pairs()
                .find(|(key, _)| key == "client_id")
                .map(|(_, id)| id.into_owned())
        })
        .unwrap_or_default()
}
