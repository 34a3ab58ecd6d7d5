//! The `/session/*` handlers and their CORS and CSRF guards.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::bridge::{self as flow, BridgeFailure};
use super::{ApiError, State};
use crate::domain::bridge::{self as rules, BridgeRequest, Refusal};
use crate::model::{Client, Session, SessionCredentials, Whoami};
use crate::ory::hydra_public::{
    pkce_challenge, random_token, ClientCredentials, Token, TokenError,
};
use crate::ory::Extended;
use crate::web::forwarded_cookies;

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
        .app_data::<web::Data<State>>()
        .is_some_and(|state| allowed_origin(state, &origin));
    if !allowed {
        let refusal = ApiError::refused(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "This origin may not use the session bridge.",
        );
        return Ok(request.error_response(refusal));
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

fn allowed_origin(state: &State, origin: &HeaderValue) -> bool {
    origin.to_str().is_ok_and(|origin| {
        state
            .settings
            .allowed_origins
            .iter()
            .any(|allowed| allowed == origin)
    })
}

/// The CSRF guard of the POST endpoints: an allowed `Origin` and `X-Requested-With`. Returns
/// the origin.
fn guard(http: &HttpRequest, state: &State) -> Result<String, ApiError> {
    let origin = http
        .headers()
        .get(header::ORIGIN)
        .filter(|origin| allowed_origin(state, origin))
        .and_then(|origin| origin.to_str().ok());
    let Some(origin) = origin else {
        return Err(ApiError::refused(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "An allowed Origin header is required.",
        ));
    };
    let xhr = http
        .headers()
        .get("x-requested-with")
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"XMLHttpRequest"));
    if !xhr {
        return Err(ApiError::refused(
            StatusCode::FORBIDDEN,
            "csrf",
            "The X-Requested-With: XMLHttpRequest header is required.",
        ));
    }
    Ok(origin.to_owned())
}

/// The Kratos session of the caller, or the JSON answer to give instead.
async fn kratos_session(
    http: &HttpRequest,
    state: &State,
) -> Result<Result<Session, HttpResponse>, ApiError> {
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

fn step_up(state: &State) -> HttpResponse {
    let url = state
        .kratos
        .login_url(state.public_url.as_str(), true, false);
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
pub async fn whoami(http: HttpRequest, state: web::Data<State>) -> Result<HttpResponse, ApiError> {
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
    state: web::Data<State>,
) -> Result<HttpResponse, ApiError> {
    let origin = guard(&http, &state)?;
    let Ok(body) = serde_json::from_slice::<BridgeBody>(&body) else {
        return Err(ApiError::refused(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The body must be a JSON object.",
        ));
    };
    let request = BridgeRequest {
        client_id: body.client_id.unwrap_or_default(),
        redirect_uri: body.redirect_uri.unwrap_or_default(),
        scope: words(body.scope.as_deref()),
        audience: body.audience.map(Words::into_vec).unwrap_or_default(),
        state: body.state,
        code_challenge: body.code_challenge,
        code_challenge_method: body.code_challenge_method,
    };
    if request.client_id.is_empty() {
        return Err(Refusal::MissingField("client_id").into());
    }
    let session = session_or_answer!(&http, &state);
    let client = bridge_client(&state, &request.client_id).await?;
    rules::check_request(&request, &client, &origin)?;
    if rules::check_session(&session, &client).is_err() {
        return Ok(step_up(&state));
    }
    match flow::authorize(&state, &session, &client, &request).await {
        Ok(authorized) => {
            audit("bridge.code_issued", &session, &client, &request.scope);
            Ok(
                HttpResponse::Ok()
                    .json(json!({"code": authorized.code, "state": authorized.state})),
            )
        }
        Err(failure) => Err(failed(failure)),
    }
}

/// The client, when it exists and may use the bridge.
async fn bridge_client(state: &State, id: &str) -> Result<Client, ApiError> {
    let Some(client) = state.hydra.client(id).await? else {
        return Err(Refusal::UnknownClient.into());
    };
    rules::check_client(&client)?;
    Ok(client)
}

/// A flow that produced no code, as the caller hears it.
pub(super) fn failed(failure: BridgeFailure) -> ApiError {
    match failure {
        BridgeFailure::Refused { error, description } => {
            ApiError::refused(StatusCode::BAD_REQUEST, error, description)
        }
        BridgeFailure::Upstream(error) => error.into(),
        BridgeFailure::Misrouted(why) => {
            tracing::error!(why, "the session bridge flow went astray; do Hydra's urls.login and urls.consent point at HERA_PUBLIC_URL?");
            ApiError::refused(
                StatusCode::BAD_GATEWAY,
                "bridge_failed",
                "The authorization flow could not be completed.",
            )
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
    state: web::Data<State>,
) -> Result<HttpResponse, ApiError> {
    guard(&http, &state)?;
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
        return Err(ApiError::refused(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The body must be a form or a JSON object.",
        ));
    };
    let grant = rules::SessionGrantRequest {
        grant_type: body.grant_type,
        audience: body.audience.map(Words::into_vec).unwrap_or_default(),
        scope: words(body.scope.as_deref()),
    };
    let client_id = rules::check_session_grant(&grant, state.settings.client_id.as_deref())?;
    let session = session_or_answer!(&http, &state);
    let client = bridge_client(&state, client_id).await?;
    if rules::check_session(&session, &client).is_err() {
        return Ok(step_up(&state));
    }
    let secret = state.settings.client_secret.clone();
    let verifier = random_token(32);
    let request = rules::session_grant_request(&grant, &client, pkce_challenge(&verifier))
        .map_err(|refusal| {
            if refusal == Refusal::NoRedirectUri {
                ApiError::refused(
                    StatusCode::BAD_GATEWAY,
                    "bridge_failed",
                    "The bridge client has no redirect URI.",
                )
            } else {
                refusal.into()
            }
        })?;
    let authorized = flow::authorize(&state, &session, &client, &request)
        .await
        .map_err(failed)?;
    let credentials = ClientCredentials::basic(client.id.clone(), secret);
    match state
        .hydra_public
        .exchange_code(
            &credentials,
            &authorized.code,
            &request.redirect_uri,
            Some(&verifier),
        )
        .await
    {
        Ok(tokens) => {
            audit("bridge.token_issued", &session, &client, &request.scope);
            Ok(HttpResponse::Ok()
                .insert_header((header::PRAGMA, "no-cache"))
                .json(json!({
                    "access_token": tokens.access_token.expose(),
                    "token_type": tokens.token_type,
                    "expires_in": tokens.expires_in,
                    "scope": tokens.scope,
                    "id_token": tokens.id_token.as_ref().map(Token::expose),
                })))
        }
        Err(TokenError::Upstream(error)) => Err(error.into()),
        Err(TokenError::Refused { status, error }) => {
            tracing::error!(
                status,
                error,
                "Hydra refused the bridge client's code exchange; check HERA_BRIDGE_CLIENT_SECRET"
            );
            Err(ApiError::refused(
                StatusCode::BAD_GATEWAY,
                "bridge_failed",
                "The token could not be issued.",
            ))
        }
    }
}

fn words(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
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
pub async fn extend(http: HttpRequest, state: web::Data<State>) -> Result<HttpResponse, ApiError> {
    guard(&http, &state)?;
    let session = session_or_answer!(&http, &state);
    if let Err(wait) = state.extend_throttle.check(&session.id, Instant::now()) {
        return Err(ApiError::TooSoon {
            retry_after_seconds: wait.as_secs(),
            why: "The session was extended moments ago.",
        });
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
