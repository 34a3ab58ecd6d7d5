//! The BFF's own routes: sign-in (`/api/login` → Hydra → `/api/callback`), `/api/whoami`,
//! `/api/logout` and health checks. The proxy is in [`crate::bff::proxy`].

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::bff::error::BffError;
use crate::bff::oidc::{pkce_challenge, random_token, Token, TokenError, TokenResponse};
use crate::bff::proxy;
use crate::bff::session::{LoginState, ReturnTo, Session, LOGIN_TTL_SECONDS};
use crate::bff::{now, BffState};

/// Assumed lifetime of an access token whose response has no `expires_in`.
const DEFAULT_EXPIRES_IN: i64 = 300;

/// Every route under `/api`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/login", web::get().to(login))
        .route("/callback", web::get().to(callback))
        .route("/whoami", web::get().to(whoami))
        .route("/logout", web::post().to(logout))
        .route("/health/alive", web::get().to(alive))
        .route("/health/ready", web::get().to(ready))
        .route("/proxy/{upstream}", web::to(proxy::proxy))
        .route("/proxy/{upstream}/{tail:.*}", web::to(proxy::proxy));
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    return_to: Option<String>,
}

/// Starts a sign-in: a new `state`, `nonce` and PKCE verifier, sealed in a ten-minute cookie
/// (nothing is stored server-side, so anonymous traffic here costs no memory), then off to
/// Hydra.
#[tracing::instrument(name = "bff.login", skip_all)]
async fn login(
    query: web::Query<LoginQuery>,
    state: web::Data<BffState>,
) -> Result<HttpResponse, BffError> {
    let settings = &state.settings;
    let return_to = ReturnTo::parse(query.return_to.as_deref(), &settings.public_origin)
        .ok_or(BffError::BadReturnTo)?;
    let login = LoginState {
        state: random_token(32),
        nonce: random_token(32),
        verifier: Token::new(random_token(32)),
        return_to: return_to.as_str().to_owned(),
        expires_at: now() + LOGIN_TTL_SECONDS,
    };
    let cookie = state.sign_ins.start(&login)?.ok_or(BffError::BadReturnTo)?;
    let redirect_uri = settings.redirect_uri();
    let scope = settings.scopes.joined();
    let challenge = pkce_challenge(login.verifier.expose());
    let url = state.hydra.authorize_url(&[
        ("response_type", "code"),
        ("client_id", &settings.client_id),
        ("redirect_uri", &redirect_uri),
        ("scope", &scope),
        ("state", &login.state),
        ("nonce", &login.nonce),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, url.as_str()))
        .cookie(state.cookies.login(cookie))
        .finish())
}

#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Where Hydra sends the browser back. The sign-in cookie is used once and cleared whatever
/// happens.
#[tracing::instrument(name = "bff.callback", skip_all)]
async fn callback(
    request: HttpRequest,
    query: web::Query<CallbackQuery>,
    state: web::Data<BffState>,
) -> HttpResponse {
    let mut response = match finish_sign_in(&request, &query, &state).await {
        Ok(response) => response,
        Err(error) => HttpResponse::from_error(error),
    };
    let _ = response.add_cookie(&state.cookies.clear_login());
    response
}

async fn finish_sign_in(
    request: &HttpRequest,
    query: &CallbackQuery,
    state: &BffState,
) -> Result<HttpResponse, BffError> {
    let settings = &state.settings;
    let cookie = request
        .cookie(state.cookies.login_name())
        .ok_or(BffError::NoLoginInProgress)?;
    let now = now();
    // Replaying the cookie gains nothing: Hydra redeems the code once, and the answer clears
    // the cookie.
    let login = state
        .sign_ins
        .open(cookie.value())
        .filter(|login| login.expires_at > now)
        .ok_or(BffError::NoLoginInProgress)?;
    // RFC 6749 §10.12: the answer must belong to the request this browser started.
    if query.state.as_deref() != Some(login.state.as_str()) {
        return Err(BffError::StateMismatch);
    }
    if let Some(error) = &query.error {
        // An OAuth2 error code is a short `snake_case` word; anything else is not logged as is.
        let plausible = !error.is_empty()
            && error.len() <= 64
            && error.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        let code = if plausible {
            error.as_str()
        } else {
            "unreadable"
        };
        return Err(BffError::SignInRefused(code.to_owned()));
    }
    let code = query.code.as_deref().ok_or(BffError::MissingCode)?;
    let tokens = state
        .hydra
        .exchange_code(code, login.verifier.expose(), &settings.redirect_uri())
        .await
        .map_err(|error| match error {
            TokenError::Refused { error, .. } => BffError::CodeRefused(error),
            TokenError::Upstream(error) => BffError::Hydra(error),
        })?;
    let session = new_session(state, tokens, &login.nonce, now).await?;
    let stored = match state.sessions.create(&session, now).await {
        Ok(stored) => stored,
        Err(error) => {
            revoke_quietly(state, session.refresh_token.as_ref(), &session.access_token).await;
            return Err(error);
        }
    };
    // A new id on every sign-in (no session fixation); the previous session, if any, ends.
    if let Some(old) = request.cookie(state.cookies.session_name()) {
        end_session(state, old.value()).await;
    }
    tracing::info!(
        target: "hera::audit",
        event = "bff.signed_in",
        subject = %session.user.id,
    );
    let max_age = session.expires_at - now;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, login.return_to.as_str()))
        .cookie(state.cookies.session(stored.cookie, max_age))
        .finish())
}

/// The session for a fresh token response, after the ID token checks out. Tokens that come
/// with an unacceptable ID token are revoked: they must not outlive the refused sign-in.
async fn new_session(
    state: &BffState,
    tokens: TokenResponse,
    nonce: &str,
    now: i64,
) -> Result<Session, BffError> {
    let checked = match &tokens.id_token {
        Some(id_token) => state
            .verifier
            .validate(&state.hydra, id_token, Some(nonce), now)
            .await
            .map_err(BffError::from),
        None => Err(BffError::IncompleteTokens("an ID token")),
    };
    let (identity, Some(id_token)) = (checked, tokens.id_token) else {
        return Err(BffError::IncompleteTokens("an ID token"));
    };
    let identity = match identity {
        Ok(identity) => identity,
        Err(error) => {
            revoke_quietly(state, tokens.refresh_token.as_ref(), &tokens.access_token).await;
            return Err(error);
        }
    };
    if tokens.refresh_token.is_none() {
        tracing::warn!("Hydra issued no refresh token (is offline_access granted?): the session ends with the access token");
    }
    let lifetime = i64::try_from(state.settings.session_lifetime.as_secs()).unwrap_or(i64::MAX / 2);
    Ok(Session {
        user: identity.into(),
        access_token: tokens.access_token,
        access_expires_at: now + tokens.expires_in.unwrap_or(DEFAULT_EXPIRES_IN).max(0),
        refresh_token: tokens.refresh_token,
        id_token,
        expires_at: now + lifetime,
    })
}

/// Revokes a replaced session's refresh token and forgets it; failures are only logged.
async fn end_session(state: &BffState, cookie: &str) {
    match state.sessions.load(cookie, now()).await {
        Ok(Some(old)) => revoke_quietly(state, old.refresh_token.as_ref(), &old.access_token).await,
        Ok(None) => {}
        Err(error) => tracing::warn!(error = %error, "could not read the replaced session"),
    }
    if let Err(error) = state.sessions.destroy(cookie).await {
        tracing::warn!(error = %error, "could not delete the replaced session");
    }
}

/// Revokes a refresh token, or the access token when there is none (RFC 7009: revoking a
/// refresh token also revokes the access tokens issued with it). Failures are only logged.
async fn revoke_quietly(state: &BffState, refresh_token: Option<&Token>, access_token: &Token) {
    let result = match refresh_token {
        Some(token) => state.hydra.revoke(token, "refresh_token").await,
        None => state.hydra.revoke(access_token, "access_token").await,
    };
    if let Err(error) = result {
        tracing::warn!(error = %error, "could not revoke a token at Hydra");
    }
}

/// `{"authenticated": true, "user": {"id", "email", "name"}}` or 401 `{"authenticated": false}`.
#[tracing::instrument(name = "bff.whoami", skip_all)]
async fn whoami(
    request: HttpRequest,
    state: web::Data<BffState>,
) -> Result<HttpResponse, BffError> {
    let Some(cookie) = request.cookie(state.cookies.session_name()) else {
        return Ok(HttpResponse::Unauthorized().json(json!({"authenticated": false})));
    };
    match state.sessions.load(cookie.value(), now()).await? {
        Some(session) => Ok(HttpResponse::Ok().json(json!({
            "authenticated": true,
            "user": session.user,
        }))),
        None => Ok(HttpResponse::Unauthorized()
            .cookie(state.cookies.clear_session())
            .json(json!({"authenticated": false}))),
    }
}

/// Ends the session here and at Hydra's token level, and returns the URL that ends the
/// sign-in at Hydra too (RP-initiated logout), for the app to navigate to.
#[tracing::instrument(name = "bff.logout", skip_all)]
async fn logout(
    request: HttpRequest,
    state: web::Data<BffState>,
) -> Result<HttpResponse, BffError> {
    let mut logout_url = None;
    if let Some(cookie) = request.cookie(state.cookies.session_name()) {
        let cookie = cookie.value();
        // Wait for a refresh in progress, so it cannot save the session again afterwards.
        let lock = state.refresher.lock(&state, cookie).await?;
        let ended = sign_out(&state, cookie).await;
        state.refresher.unlock(&state, cookie, lock).await;
        logout_url = ended?;
    }
    Ok(HttpResponse::Ok()
        .cookie(state.cookies.clear_session())
        .json(json!({ "logout_url": logout_url })))
}

async fn sign_out(state: &BffState, cookie: &str) -> Result<Option<String>, BffError> {
    let Some(session) = state.sessions.load(cookie, now()).await? else {
        return Ok(None);
    };
    revoke_quietly(state, session.refresh_token.as_ref(), &session.access_token).await;
    if let Some(newer) = state.refresher.rotated_from(&session) {
        revoke_quietly(state, newer.refresh_token.as_ref(), &newer.access_token).await;
    }
    state.sessions.destroy(cookie).await?;
    tracing::info!(
        target: "hera::audit",
        event = "bff.signed_out",
        subject = %session.user.id,
    );
    let url = state
        .hydra
        .logout_url(&session.id_token, &state.settings.post_logout_redirect_uri);
    Ok(Some(url.to_string()))
}

async fn alive() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// 200 while the session store answers.
async fn ready(state: web::Data<BffState>) -> HttpResponse {
    match state.sessions.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ok"})),
        Err(error) => {
            tracing::warn!(error = %error, "the session store is not ready");
            HttpResponse::ServiceUnavailable().json(json!({"status": "session store unavailable"}))
        }
    }
}

/// Unknown `/api/*` paths: a JSON 404 (never the SPA's index page).
pub async fn not_found() -> actix_web::Result<HttpResponse> {
    Err(actix_web::error::ErrorNotFound("no such API route"))
}
