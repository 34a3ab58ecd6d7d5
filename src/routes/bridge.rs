//! `/session/*`: the session bridge for first-party apps (JSON, CORS for allowed origins).
//!
//! - `GET /session/whoami`: who the Kratos session (cookie, `X-Session-Token` or bearer) is.
//! - `POST /session/bridge`: an authorization code for a first-party client (see `crate::bridge`).
//! - `POST /session/token`: the "session grant" of seed 003: tokens for the operator's bridge
//!   client, with no refresh token (the session is the refresh).
//! - `POST /session/extend`: keep the Kratos session alive (seed 002), throttled per session.
//!
//! The POST endpoints mint credentials from an ambient cookie, so they are CSRF targets
//! (seed 000): they require an allowed `Origin` and `X-Requested-With: XMLHttpRequest`, a header
//! no cross-site form can send and that triggers a CORS preflight.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::forwarded_cookies;
use crate::bridge::{self as flow, BridgeFailure};
use crate::domain::bridge::{self as rules, BridgeRequest, Refusal};
use crate::error::HeraError;
use crate::ory::hydra_public::{pkce_challenge, random_token, ClientAuth, TokenError};
use crate::ory::{Client, Extended, Session, SessionCredentials, Whoami};
use crate::startup::AppState;

/// Every `/session/*` route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/session")
            .wrap(actix_web::middleware::from_fn(cors))
            .service(whoami)
            .service(bridge)
            .service(token)
            .service(extend),
    );
}

/// CORS for allowed origins only (exact match): they get `Access-Control-Allow-Origin` with
/// credentials and an answered preflight. Any other origin gets a 403 and no CORS headers.
/// Requests without `Origin` (native apps, servers) pass; the POST handlers require one.
async fn cors(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(origin) = request.headers().get(header::ORIGIN).cloned() else {
        return Ok(next.call(request).await?.map_into_boxed_body());
    };
    let allowed = request
        .app_data::<web::Data<AppState>>()
        .is_some_and(|state| allowed_origin(state, &origin));
    if !allowed {
        let response = refusal(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "This origin may not use the session bridge.",
        );
        return Ok(request.into_response(response));
    }
    if request.method() == Method::OPTIONS {
        let mut response = HttpResponse::NoContent();
        response
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST"))
            .insert_header((
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                "Content-Type, X-Requested-With, X-Session-Token, Authorization",
            ))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"));
        let mut response = request.into_response(response.finish());
        allow(response.headers_mut(), origin);
        return Ok(response);
    }
    let mut response = next.call(request).await?.map_into_boxed_body();
    allow(response.headers_mut(), origin);
    Ok(response)
}

fn allow(headers: &mut header::HeaderMap, origin: HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
}

fn allowed_origin(state: &AppState, origin: &HeaderValue) -> bool {
    origin.to_str().is_ok_and(|origin| {
        state
            .settings
            .bridge
            .allowed_origins
            .iter()
            .any(|allowed| allowed == origin)
    })
}

fn refusal(status: StatusCode, error: &str, description: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({"error": error, "error_description": description}))
}

fn refused(refusal_: &Refusal) -> HttpResponse {
    let (status, error, description) = refusal_.answer();
    refusal(
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        error,
        &description,
    )
}

/// The CSRF guard of the POST endpoints: an allowed `Origin` and `X-Requested-With`. `Some` is
/// the refusal to send.
fn guard(http: &HttpRequest, state: &AppState) -> Option<HttpResponse> {
    let origin_ok = http
        .headers()
        .get(header::ORIGIN)
        .is_some_and(|origin| allowed_origin(state, origin));
    if !origin_ok {
        return Some(refusal(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "An allowed Origin header is required.",
        ));
    }
    let xhr = http
        .headers()
        .get("x-requested-with")
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"XMLHttpRequest"));
    (!xhr).then(|| {
        refusal(
            StatusCode::FORBIDDEN,
            "csrf",
            "The X-Requested-With: XMLHttpRequest header is required.",
        )
    })
}

/// The Kratos session of the caller, or the JSON answer to give instead.
async fn kratos_session(
    http: &HttpRequest,
    state: &AppState,
) -> Result<Result<Session, HttpResponse>, HeraError> {
    let header = |name: header::HeaderName| {
        http.headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let credentials = SessionCredentials {
        cookie: forwarded_cookies(http),
        session_token: header(header::HeaderName::from_static("x-session-token")),
        authorization: header(header::AUTHORIZATION)
            .filter(|value| value.len() > 7 && value[..7].eq_ignore_ascii_case("bearer ")),
    };
    if credentials.is_empty() {
        return Ok(Err(unauthenticated()));
    }
    Ok(match state.kratos.whoami_with(&credentials).await? {
        Whoami::Active(session) => Ok(*session),
        Whoami::Unauthenticated => Err(unauthenticated()),
        Whoami::Aal2Required => Err(step_up(state)),
    })
}

fn unauthenticated() -> HttpResponse {
    HttpResponse::Unauthorized().json(json!({"authenticated": false}))
}

fn step_up(state: &AppState) -> HttpResponse {
    let url = state
        .kratos
        .login_url(state.settings.public_url.as_str(), true, false);
    HttpResponse::Forbidden().json(json!({
        "authenticated": false,
        "error": "session_aal2_required",
        "redirect_browser_to": url,
    }))
}

macro_rules! session_or_answer {
    ($http:expr, $state:expr) => {
        match kratos_session($http, $state).await? {
            Ok(session) => session,
            Err(answer) => return Ok(answer),
        }
    };
}

#[get("/whoami")]
pub async fn whoami(
    http: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, HeraError> {
    let session = session_or_answer!(&http, &state);
    let identity = &session.identity;
    let name = match identity.traits.get("name") {
        Some(serde_json::Value::String(name)) => Some(name.clone()),
        Some(serde_json::Value::Object(parts)) => {
            let part = |key: &str| parts.get(key).and_then(|v| v.as_str()).unwrap_or_default();
            Some(
                format!("{} {}", part("first"), part("last"))
                    .trim()
                    .to_owned(),
            )
            .filter(|n| !n.is_empty())
        }
        _ => None,
    };
    let expires_at = session.expires_at.and_then(|at| {
        at.format(&time::format_description::well_known::Rfc3339)
            .ok()
    });
    Ok(HttpResponse::Ok().json(json!({
        "authenticated": true,
        "identity": {"id": identity.id, "email": identity.trait_str("email"), "name": name},
        "session": {"id": session.id, "aal": session.aal, "expires_at": expires_at},
    })))
}

#[derive(Debug, Deserialize)]
struct BridgeBody {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    audience: Option<Words>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

/// A space-separated string or a list.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Words {
    One(String),
    Many(Vec<String>),
}

impl Words {
    fn into_vec(self) -> Vec<String> {
        match self {
            Words::One(words) => words.split_whitespace().map(str::to_owned).collect(),
            Words::Many(words) => words,
        }
    }
}

#[post("/bridge")]
pub async fn bridge(
    http: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, HeraError> {
    if let Some(answer) = guard(&http, &state) {
        return Ok(answer);
    }
    let Ok(body) = serde_json::from_slice::<BridgeBody>(&body) else {
        return Ok(refusal(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The body must be a JSON object.",
        ));
    };
    let request = BridgeRequest {
        client_id: body.client_id.unwrap_or_default(),
        redirect_uri: body.redirect_uri.unwrap_or_default(),
        scope: body
            .scope
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        audience: body.audience.map(Words::into_vec).unwrap_or_default(),
        state: body.state,
        code_challenge: body.code_challenge,
        code_challenge_method: body.code_challenge_method,
    };
    if request.client_id.is_empty() {
        return Ok(refused(&Refusal::MissingField("client_id")));
    }
    let session = session_or_answer!(&http, &state);
    let client = match bridge_client(&state, &request.client_id).await? {
        Ok(client) => client,
        Err(refusal_) => return Ok(refused(&refusal_)),
    };
    if let Err(refusal_) = rules::check_request(&request, &client) {
        return Ok(refused(&refusal_));
    }
    match flow::authorize(&state, &session, &client, &request).await {
        Ok(authorized) => {
            audit("bridge.code_issued", &session, &client, &request.scope);
            Ok(
                HttpResponse::Ok()
                    .json(json!({"code": authorized.code, "state": authorized.state})),
            )
        }
        Err(failure) => failed(failure),
    }
}

async fn bridge_client(state: &AppState, id: &str) -> Result<Result<Client, Refusal>, HeraError> {
    let Some(client) = state.hydra.client(id).await? else {
        return Ok(Err(Refusal::UnknownClient));
    };
    Ok(rules::check_client(&client).map(|()| client))
}

fn failed(failure: BridgeFailure) -> Result<HttpResponse, HeraError> {
    match failure {
        BridgeFailure::Refused { error, description } => {
            Ok(refusal(StatusCode::BAD_REQUEST, &error, &description))
        }
        BridgeFailure::Upstream(error) => Err(error.into()),
        BridgeFailure::Misrouted(why) => {
            tracing::error!(why, "the session bridge flow went astray; do Hydra's urls.login and urls.consent point at HERA_PUBLIC_URL?");
            Ok(refusal(
                StatusCode::BAD_GATEWAY,
                "bridge_failed",
                "The authorization flow could not be completed.",
            ))
        }
    }
}

fn audit(event: &str, session: &Session, client: &Client, scopes: &[String]) {
    tracing::info!(
        target: "hera::audit",
        event,
        subject = %session.identity.id,
        client_id = %client.id,
        scopes = %scopes.join(" "),
    );
}

#[derive(Debug, Deserialize)]
struct TokenBody {
    grant_type: Option<String>,
    audience: Option<Words>,
    scope: Option<String>,
}

#[post("/token")]
pub async fn token(
    http: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, HeraError> {
    if let Some(answer) = guard(&http, &state) {
        return Ok(answer);
    }
    let is_json = http
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let parsed: Option<TokenBody> = if is_json {
        serde_json::from_slice(&body).ok()
    } else {
        serde_urlencoded_body(&body)
    };
    let Some(body) = parsed else {
        return Ok(refusal(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The body must be a form or a JSON object.",
        ));
    };
    if body.grant_type.as_deref() != Some("session") {
        return Ok(refusal(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Only grant_type=session is supported here.",
        ));
    }
    let audience = body.audience.map(Words::into_vec).unwrap_or_default();
    if audience.is_empty() {
        return Ok(refused(&Refusal::MissingField("audience")));
    }
    let Some(client_id) = state.settings.bridge.client_id.clone() else {
        return Ok(refusal(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The session grant is not configured (HERA_BRIDGE_CLIENT_ID).",
        ));
    };
    let session = session_or_answer!(&http, &state);
    let client = match bridge_client(&state, &client_id).await? {
        Ok(client) => client,
        Err(refusal_) => return Ok(refused(&refusal_)),
    };
    if let Err(refusal_) = rules::check_audience(&audience, &client) {
        return Ok(refused(&refusal_));
    }
    let Some(redirect_uri) = client.redirect_uris.first().cloned() else {
        return Ok(refusal(
            StatusCode::BAD_GATEWAY,
            "bridge_failed",
            "The bridge client has no redirect URI.",
        ));
    };
    let secret = state.settings.bridge.client_secret.clone();
    let verifier = random_token(32);
    let request = BridgeRequest {
        client_id: client.id.clone(),
        redirect_uri: redirect_uri.clone(),
        scope: rules::session_grant_scopes(
            &body
                .scope
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>(),
        ),
        audience,
        state: None,
        code_challenge: secret.is_none().then(|| pkce_challenge(&verifier)),
        code_challenge_method: secret.is_none().then(|| "S256".to_owned()),
    };
    let authorized = match flow::authorize(&state, &session, &client, &request).await {
        Ok(authorized) => authorized,
        Err(failure) => return failed(failure),
    };
    let auth = match &secret {
        Some(secret) => ClientAuth::Secret(secret.expose()),
        None => ClientAuth::Pkce(&verifier),
    };
    match state
        .hydra_public
        .exchange_code(&client.id, auth, &authorized.code, &redirect_uri)
        .await
    {
        Ok(tokens) => {
            audit("bridge.token_issued", &session, &client, &request.scope);
            Ok(HttpResponse::Ok()
                .insert_header((header::PRAGMA, "no-cache"))
                .json(json!({
                    "access_token": tokens.access_token,
                    "token_type": tokens.token_type,
                    "expires_in": tokens.expires_in,
                    "scope": tokens.scope,
                    "id_token": tokens.id_token,
                })))
        }
        Err(TokenError::Upstream(error)) => Err(error.into()),
        Err(TokenError::Refused { status, error }) => {
            tracing::error!(
                status,
                error,
                "Hydra refused the bridge client's code exchange; check HERA_BRIDGE_CLIENT_SECRET"
            );
            Ok(refusal(
                StatusCode::BAD_GATEWAY,
                "bridge_failed",
                "The token could not be issued.",
            ))
        }
    }
}

fn serde_urlencoded_body(body: &[u8]) -> Option<TokenBody> {
    let mut parsed = TokenBody {
        grant_type: None,
        audience: None,
        scope: None,
    };
    let mut audience = Vec::new();
    for (key, value) in url::form_urlencoded::parse(body) {
        match key.as_ref() {
            "grant_type" => parsed.grant_type = Some(value.into_owned()),
            "scope" => parsed.scope = Some(value.into_owned()),
            "audience" => audience.extend(value.split_whitespace().map(str::to_owned)),
            _ => {}
        }
    }
    parsed.audience = Some(Words::Many(audience));
    Some(parsed)
}

#[post("/extend")]
pub async fn extend(
    http: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, HeraError> {
    if let Some(answer) = guard(&http, &state) {
        return Ok(answer);
    }
    let session = session_or_answer!(&http, &state);
    if let Err(wait) = state.extend_throttle.check(&session.id, Instant::now()) {
        return Ok(HttpResponse::TooManyRequests()
            .insert_header((header::RETRY_AFTER, wait.as_secs().max(1).to_string()))
            .json(json!({"error": "too_many_requests", "error_description": "The session was extended moments ago."})));
    }
    match state.kratos.extend_session(&session.id).await? {
        Extended::Extended { expires_at } => {
            let expires_at = expires_at.or(session.expires_at).and_then(|at| {
                at.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            });
            tracing::info!(target: "hera::audit", event = "session.extended", subject = %session.identity.id);
            Ok(HttpResponse::Ok().json(
                json!({"extended": true, "session": {"id": session.id, "expires_at": expires_at}}),
            ))
        }
        Extended::NoSuchSession => Ok(unauthenticated()),
    }
}
