//! A stateful fake of Hydra's PUBLIC side: the `/oauth2/auth` redirect dance and the token
//! endpoint, driving the admin fake ([`FakeHydra`]) for challenges and verifiers. Its answers
//! are checked against exchanges recorded from a real Hydra in `tests/api/recorded.rs`.
//!
//! - `/oauth2/auth` validates the client, redirect URI, `state` (≥ 8 characters), scopes and
//!   audiences. It then sets a per-client login-CSRF cookie and redirects (302) to
//!   `urls.login?login_challenge=`.
//! - A `login_verifier`, only with that CSRF cookie, leads (302) to
//!   `urls.consent?consent_challenge=`; replayed in the same browser it is accepted again.
//! - A `consent_verifier` likewise leads (303) to the client's `redirect_uri?code=&scope=&state=`,
//!   once: a second redemption ends with `access_denied`.
//! - A rejected login or consent, or a verifier without the flow's CSRF cookie, ends (303) at
//!   `redirect_uri?error=&error_description=&state=`. Errors that cannot be sent to a verified
//!   redirect URI go to `urls.error`.
//! - `/oauth2/token` exchanges a code once (a replay revokes what it gave), checking the
//!   redirect URI, the client's authentication and PKCE (S256 or plain; one wrong verifier
//!   burns the code). Token bodies are checked against the spec.
//!
//! For whole-chain browser tests it also keeps Hydra's own memory:
//! - a login accepted with `remember: true` sets Hydra's session cookie; the next
//!   `/oauth2/auth` without `prompt=login` then asks Hera with `skip: true` for that subject;
//! - a consent accepted with `remember: true` is recorded as a consent session in the admin
//!   fake (every accepted consent is), and a later request whose scopes it covers is asked
//!   with `skip: true`; revoking it in the admin API forgets it;
//! - `ui_locales`, `login_hint` and `prompt` reach the requests' `oidc_context` / `request_url`;
//! - `/oauth2/sessions/logout` (RP-initiated with `id_token_hint`, or not) asks Hera at
//!   `urls.logout`; its verifier ends Hydra's session, revokes the Kratos session named by the
//!   login's `identity_provider_session_id`, and returns to the `post_logout_redirect_uri`
//!   (again for a replayed verifier); from then on the admin API answers 410 for the request;
//! - the device flow: `POST /oauth2/device/auth`, `/oauth2/device/verify` to
//!   `urls.device.verification`, the device verifier into the usual login and consent, then
//!   `urls.device.success`, and the `device_code` grant at the token endpoint.
//! - ID tokens are signed RS256 with the key served at `/.well-known/jwks.json`; refresh tokens
//!   rotate, reuse revokes the chain, and `/oauth2/revoke` works (see [`fake_hydra_tokens`]).
//!
//! [`fake_hydra_tokens`]: super::fake_hydra_tokens

#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::fake_hydra::{
    bind_local, lock, random_b64url, random_hex, record, spawn_servers, Configure,
    ConsentSessionSpec, ConsentSpec, FakeHydra, LoginSpec, LogoutSpec, Recorded, Reply,
    ServerGuard, JSON_CONTENT_TYPE, OAUTH2_CONTENT_TYPE,
};
use super::fake_hydra_tokens::{self, RefreshRefusal, TokenIssuer};
use super::fake_kratos::KratosSessions;
use super::openapi;

/// Hydra's login session cookie (`ory_hydra_session` plus the dev suffix).
pub const SESSION_COOKIE: &str = "ory_hydra_session_dev";

/// The device-code grant type (RFC 8628 §3.4).
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Where Hydra sends browsers: Hera's pages.
#[derive(Clone, Debug)]
pub struct LcpUrls {
    pub login: String,
    pub consent: String,
    pub error: String,
    pub logout: String,
    pub device_verification: String,
    pub device_success: String,
    /// Where a logout without `post_logout_redirect_uri` ends (`urls.post_logout_redirect`).
    pub post_logout: String,
}

impl LcpUrls {
    /// Hera's default paths under `base`.
    pub fn of(base: &str) -> LcpUrls {
        LcpUrls {
            login: format!("{base}/login"),
            consent: format!("{base}/consent"),
            error: format!("{base}/error"),
            logout: format!("{base}/logout"),
            device_verification: format!("{base}/device/verify"),
            device_success: format!("{base}/device/success"),
            post_logout: format!("{base}/"),
        }
    }
}

/// A login Hydra remembers (its session cookie).
#[derive(Clone, Debug)]
struct LoginSession {
    subject: String,
    /// The Kratos session Hera named in the accept, revoked on logout.
    identity_provider_session_id: Option<String>,
}

/// A logout in progress.
#[derive(Clone, Debug)]
struct LogoutFlow {
    session: Option<String>,
    return_to: String,
    state: String,
    /// The browser redeemed the verifier already (a replay goes the same way again).
    done: bool,
}

/// A device authorization (RFC 8628) and how far it got.
#[derive(Clone, Debug)]
struct DeviceAuthorization {
    client_id: String,
    scope: Vec<String>,
    user_code: String,
    outcome: DeviceOutcome,
}

#[derive(Clone, Debug)]
enum DeviceOutcome {
    Pending,
    Granted(Box<Grant>),
    Denied,
    Redeemed,
}

/// An authorization request in progress.
#[derive(Clone, Debug)]
struct AuthFlow {
    client_id: String,
    redirect_uri: String,
    state: String,
    scope: Vec<String>,
    audience: Vec<String>,
    code_challenge: Option<(String, String)>,
    nonce: Option<String>,
    request_url: String,
    csrf: String,
    subject: Option<String>,
    acr: String,
    amr: Vec<String>,
    /// `prompt` as requested (space-separated values).
    prompt: String,
    oidc_context: Value,
    /// Set when the flow authorizes a device (the device verifier started it).
    device_code: Option<String>,
    /// Hydra's session cookie value the flow started with or created.
    login_session: Option<String>,
    /// The consent request was asked with `skip: true`.
    consent_skip: bool,
}

impl AuthFlow {
    fn prompts(&self, value: &str) -> bool {
        self.prompt.split_whitespace().any(|p| p == value)
    }
}

/// A code or token issued to a client, with what it grants.
#[derive(Clone, Debug)]
pub struct Grant {
    pub client_id: String,
    pub subject: String,
    pub scope: Vec<String>,
    pub audience: Vec<String>,
    pub id_token_claims: Value,
    redirect_uri: String,
    code_challenge: Option<(String, String)>,
    nonce: Option<String>,
}

#[derive(Default)]
struct PublicState {
    clients: HashMap<String, Value>,
    /// By login or consent challenge.
    flows: HashMap<String, AuthFlow>,
    used_verifiers: HashSet<String>,
    /// Codes exchanged already: the client and the token response they gave.
    redeemed_codes: HashMap<String, (String, Value)>,
    /// Codes a wrong PKCE verifier made unusable.
    burned_codes: HashSet<String>,
    codes: HashMap<String, Grant>,
    /// What each refresh-token chain grants, by chain id.
    chains: HashMap<usize, Grant>,
    tokens: Vec<(Value, Grant)>,
    requests: Vec<Recorded>,
    login_sessions: HashMap<String, LoginSession>,
    logouts: HashMap<String, LogoutFlow>,
    devices: HashMap<String, DeviceAuthorization>,
    identity_provider: Option<KratosSessions>,
}

struct PublicShared {
    admin: FakeHydra,
    issuer: TokenIssuer,
    urls: LcpUrls,
    url: String,
    state: Mutex<PublicState>,
    violations: Mutex<Vec<String>>,
}

/// The fake Hydra public API. Dropping it stops the server.
pub struct FakeHydraPublic {
    /// `http://127.0.0.1:PORT`, the issuer.
    pub url: String,
    shared: Arc<PublicShared>,
    _server: ServerGuard,
}

impl FakeHydraPublic {
    pub async fn start(admin: &FakeHydra, urls: LcpUrls) -> FakeHydraPublic {
        let (listener, url) = bind_local();
        let shared = Arc::new(PublicShared {
            admin: admin.clone(),
            issuer: TokenIssuer::new(),
            urls,
            url: url.clone(),
            state: Mutex::new(PublicState::default()),
            violations: Mutex::new(Vec::new()),
        });
        let app_shared = shared.clone();
        let configure: Configure = Arc::new(move |cfg: &mut web::ServiceConfig| {
            cfg.app_data(web::Data::from(app_shared.clone()))
                .default_service(web::to(handle));
        });
        let server = spawn_servers("fake-hydra-public", vec![(listener, configure)]).await;
        FakeHydraPublic {
            url,
            shared,
            _server: server,
        }
    }

    /// Registers a client (a full OAuth2Client, `client_secret` included for confidential ones)
    /// on the public side and, without its secret, in the admin API (`GET /admin/clients/{id}`).
    pub fn register_client(&self, client: Value) {
        let id = client["client_id"].as_str().unwrap_or_default().to_owned();
        let mut public = client.clone();
        if let Some(object) = public.as_object_mut() {
            object.remove("client_secret");
        }
        self.shared.admin.add_client(public);
        lock(&self.shared.state).clients.insert(id, client);
    }

    /// `/oauth2/auth?…` for `client_id` with these extra parameters.
    pub fn authorize_url(&self, params: &[(&str, &str)]) -> String {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        format!("{}/oauth2/auth?{query}", self.url)
    }

    /// Hydra's `urls.identity_provider`: a completed logout ends the Kratos session too.
    pub fn set_identity_provider(&self, kratos: KratosSessions) {
        lock(&self.shared.state).identity_provider = Some(kratos);
    }

    /// How many logins Hydra remembers now.
    pub fn remembered_logins(&self) -> usize {
        lock(&self.shared.state).login_sessions.len()
    }

    /// Every token response issued, with what it grants.
    pub fn tokens(&self) -> Vec<(Value, Grant)> {
        lock(&self.shared.state).tokens.clone()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared.state).requests.clone()
    }

    /// The contract violations seen so far (they still fail the test at the end).
    pub fn contract_violations(&self) -> Vec<String> {
        lock(&self.shared.violations).clone()
    }

    /// The contract violations seen so far, which no longer fail the test.
    pub fn take_contract_violations(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.shared.violations))
    }

    /// Access tokens, refresh-token chains, signing keys and the knobs tests turn.
    pub fn issuer(&self) -> &TokenIssuer {
        &self.shared.issuer
    }

    /// For a fake API: accepts only access tokens this Hydra issued that are still active.
    pub fn token_check(&self) -> super::fake_api::TokenCheck {
        let shared = self.shared.clone();
        Arc::new(move |token: &str| shared.issuer.access_token_is_active(token))
    }
}

/// Dropping the fake fails the test if it saw a contract violation.
impl Drop for FakeHydraPublic {
    fn drop(&mut self) {
        super::violations::fail_on_violations(&[(
            "the fake Hydra public API",
            self.take_contract_violations(),
        )]);
    }
}

/// A PKCE S256 challenge for `verifier`.
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

async fn handle(
    req: HttpRequest,
    body: web::Bytes,
    shared: web::Data<PublicShared>,
) -> HttpResponse {
    let recorded = record(&req, &body);
    lock(&shared.state).requests.push(recorded.clone());
    let query: HashMap<String, String> = recorded.query.iter().cloned().collect();
    match (req.method().as_str(), req.path()) {
        ("GET", "/oauth2/auth") => authorize(&shared, &req, &query),
        ("GET", "/oauth2/sessions/logout") => logout(&shared, &req, &query),
        ("GET", "/oauth2/device/verify") => device_verify(&shared, &req, &query),
        ("POST", "/oauth2/device/auth") => {
            let form: HashMap<String, String> =
                url::form_urlencoded::parse(&body).into_owned().collect();
            let reply = device_authorization(&shared, &req, &form);
            HttpResponse::build(
                actix_web::http::StatusCode::from_u16(reply.status).unwrap_or_default(),
            )
            .insert_header(("content-type", OAUTH2_CONTENT_TYPE))
            .insert_header(("cache-control", "no-store"))
            .body(reply.body.to_string())
        }
        ("GET", "/.well-known/jwks.json") => {
            let body = shared.issuer.jwks();
            if let Err(e) =
                openapi::hydra().check_response("GET", "/.well-known/jwks.json", 200, &body)
            {
                lock(&shared.violations).push(format!("served body: {e}"));
            }
            HttpResponse::Ok()
                .insert_header(("content-type", JSON_CONTENT_TYPE))
                .body(body.to_string())
        }
        ("POST", "/oauth2/revoke") => {
            let form: HashMap<String, String> =
                url::form_urlencoded::parse(&body).into_owned().collect();
            revoke(&shared, &req, &form)
        }
        ("POST", "/oauth2/token") => {
            let form: HashMap<String, String> =
                url::form_urlencoded::parse(&body).into_owned().collect();
            if form.get("grant_type").map(String::as_str) == Some("refresh_token") {
                let latency = shared.issuer.refresh_latency();
                if !latency.is_zero() {
                    actix_web::rt::time::sleep(latency).await;
                }
            }
            let reply = token(&shared, &req, &form);
            let status = reply.status;
            if let Err(e) =
                openapi::hydra().check_response("POST", "/oauth2/token", status, &reply.body)
            {
                lock(&shared.violations).push(format!("served body: {e}"));
            }
            HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default())
                .insert_header(("content-type", OAUTH2_CONTENT_TYPE))
                .insert_header(("cache-control", "no-store"))
                .body(reply.body.to_string())
        }
        (method, path) => {
            lock(&shared.violations).push(format!("unhandled public request: {method} {path}"));
            HttpResponse::NotFound().finish()
        }
    }
}

/// 302 Found: how Hydra sends the browser to the login, consent, logout and device pages.
fn found(location: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header(("location", location.to_owned()))
        .finish()
}

/// 303 See Other: how Hydra ends an authorization at the client, with a code or an error.
fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("location", location.to_owned()))
        .finish()
}

fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().filter(|(_, v)| !v.is_empty()))
        .finish();
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}{query}")
}

/// An error Hydra cannot send to a verified redirect URI goes to `urls.error`.
fn to_error_page(shared: &PublicShared, error: &str, description: &str) -> HttpResponse {
    found(&with_query(
        &shared.urls.error,
        &[("error", error), ("error_description", description)],
    ))
}

fn to_client_error(flow: &AuthFlow, error: &str, description: &str) -> HttpResponse {
    see_other(&with_query(
        &flow.redirect_uri,
        &[
            ("error", error),
            ("error_description", description),
            ("state", &flow.state),
        ],
    ))
}

fn csrf_cookie_name(kind: &str, client_id: &str) -> String {
    let digest = Sha256::digest(client_id.as_bytes());
    let suffix: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("ory_hydra_{kind}_csrf_dev_{suffix}")
}

fn with_csrf_cookie(mut response: HttpResponse, name: &str, value: &str) -> HttpResponse {
    let cookie = actix_web::cookie::Cookie::build(name.to_owned(), value.to_owned())
        .path("/")
        .http_only(true)
        .same_site(actix_web::cookie::SameSite::Lax)
        .finish();
    let _ = response.add_cookie(&cookie);
    response
}

fn authorize(
    shared: &PublicShared,
    req: &HttpRequest,
    query: &HashMap<String, String>,
) -> HttpResponse {
    if let Some(verifier) = query.get("login_verifier") {
        return redeem(shared, req, verifier, "login");
    }
    if let Some(verifier) = query.get("consent_verifier") {
        return redeem(shared, req, verifier, "consent");
    }
    start(shared, req, query)
}

fn start(
    shared: &PublicShared,
    req: &HttpRequest,
    query: &HashMap<String, String>,
) -> HttpResponse {
    let param = |name: &str| query.get(name).cloned().unwrap_or_default();
    let client_id = param("client_id");
    let Some(client) = lock(&shared.state).clients.get(&client_id).cloned() else {
        return to_error_page(shared, "invalid_client", "Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method).");
    };
    let registered: Vec<String> = listed(&client["redirect_uris"]);
    let redirect_uri = match query.get("redirect_uri") {
        Some(uri) if registered.contains(uri) => uri.clone(),
        None if registered.len() == 1 => registered[0].clone(),
        _ => {
            return to_error_page(shared, "invalid_request", "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed. The 'redirect_uri' parameter does not match any of the OAuth 2.0 Client's pre-registered redirect urls.")
        }
    };
    let mut flow = AuthFlow {
        client_id: client_id.clone(),
        redirect_uri,
        state: param("state"),
        scope: param("scope")
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        audience: param("audience")
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        code_challenge: query.get("code_challenge").map(|c| {
            (
                c.clone(),
                query
                    .get("code_challenge_method")
                    .cloned()
                    .unwrap_or_else(|| "plain".into()),
            )
        }),
        nonce: query.get("nonce").cloned(),
        request_url: format!("{}{}", shared.url, req.uri()),
        csrf: random_b64url(24),
        subject: None,
        acr: String::new(),
        amr: Vec::new(),
        prompt: param("prompt"),
        oidc_context: oidc_context(query),
        device_code: None,
        login_session: None,
        consent_skip: false,
    };
    if param("response_type") != "code" {
        return to_client_error(
            &flow,
            "unsupported_response_type",
            "The authorization server does not support obtaining a token using this method.",
        );
    }
    if flow.state.len() < 8 {
        return to_client_error(&flow, "invalid_state", "The state is missing or does not have enough characters and is therefore considered too weak. Request parameter 'state' must be at least be 8 characters long to ensure sufficient entropy.");
    }
    let allowed_scopes: Vec<&str> = client["scope"]
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    if let Some(scope) = flow
        .scope
        .iter()
        .find(|s| !allowed_scopes.contains(&s.as_str()))
    {
        let description = format!("The requested scope is invalid, unknown, or malformed. The OAuth 2.0 Client is not allowed to request scope '{scope}'.");
        return to_client_error(&flow, "invalid_scope", &description);
    }
    let allowed_audience = listed(&client["audience"]);
    if let Some(audience) = flow.audience.iter().find(|a| !allowed_audience.contains(a)) {
        let description = format!("The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed. Requested audience '{audience}' has not been whitelisted by the OAuth 2.0 Client.");
        return to_client_error(&flow, "invalid_request", &description);
    }
    if let Some((_, method)) = &flow.code_challenge {
        if method != "S256" && method != "plain" {
            return to_client_error(&flow, "invalid_request", "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed. The code_challenge_method is not supported, use S256 instead.");
        }
    }
    flow.login_session = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
    ask_for_login(shared, &client, flow)
}

/// `oidc_context` as Hydra builds it from the authorization request: only the parameters the
/// request has (`{}` for a plain OAuth2 request).
fn oidc_context(query: &HashMap<String, String>) -> Value {
    let mut context = serde_json::Map::new();
    for list in ["acr_values", "ui_locales"] {
        let words: Vec<&str> = query
            .get(list)
            .map(|v| v.split_whitespace().collect())
            .unwrap_or_default();
        if !words.is_empty() {
            context.insert(list.to_owned(), json!(words));
        }
    }
    for text in ["login_hint", "display"] {
        if let Some(value) = query.get(text).filter(|v| !v.is_empty()) {
            context.insert(text.to_owned(), json!(value));
        }
    }
    Value::Object(context)
}

/// Registers the login request (remembered when Hydra's session cookie is valid and the client
/// did not ask for `prompt=login`) and sends the browser to `urls.login`.
fn ask_for_login(shared: &PublicShared, client: &Value, mut flow: AuthFlow) -> HttpResponse {
    let mut public_client = client.clone();
    if let Some(object) = public_client.as_object_mut() {
        object.remove("client_secret");
    }
    let remembered = flow
        .login_session
        .as_ref()
        .and_then(|id| lock(&shared.state).login_sessions.get(id).cloned())
        .filter(|_| !flow.prompts("login"));
    if remembered.is_none() {
        flow.login_session = None;
        // Hydra answers itself: the login provider is never asked.
        if flow.prompts("none") {
            return to_client_error(&flow, "login_required", "The Authorization Server requires End-User authentication. Prompt 'none' was requested, but no existing login session was found.");
        }
    }
    let challenge = shared.admin.add_login(LoginSpec {
        skip: remembered.is_some(),
        subject: remembered
            .as_ref()
            .map(|s| s.subject.clone())
            .unwrap_or_default(),
        client: public_client,
        requested_scope: flow.scope.clone(),
        requested_audience: flow.audience.clone(),
        request_url: Some(flow.request_url.clone()),
        oidc_context: flow.oidc_context.clone(),
        session_id: flow.login_session.clone().unwrap_or_else(|| random_hex(16)),
    });
    flow.subject = None;
    let csrf = flow.csrf.clone();
    let client_id = flow.client_id.clone();
    lock(&shared.state).flows.insert(challenge.clone(), flow);
    let response = found(&with_query(
        &shared.urls.login,
        &[("login_challenge", &challenge)],
    ));
    with_csrf_cookie(response, &csrf_cookie_name("login", &client_id), &csrf)
}

fn redeem(shared: &PublicShared, req: &HttpRequest, verifier: &str, kind: &str) -> HttpResponse {
    let Some(verified) = shared.admin.verified(verifier).filter(|v| v.kind == kind) else {
        return to_error_page(
            shared,
            "invalid_request",
            "The login or consent verifier is unknown.",
        );
    };
    let Some(flow) = lock(&shared.state).flows.get(&verified.challenge).cloned() else {
        return to_error_page(
            shared,
            "invalid_request",
            "The verifier does not belong to a flow started here.",
        );
    };
    // Consent verifiers are one-time; a login verifier replayed in the same browser is
    // accepted again (Hydra's login-session write is an upsert).
    if kind == "consent"
        && !lock(&shared.state)
            .used_verifiers
            .insert(verifier.to_owned())
    {
        let description = format!("The resource owner or authorization server denied the request. The {kind} verifier has already been used.");
        return to_client_error(&flow, "access_denied", &description);
    }
    let cookie = req.cookie(&csrf_cookie_name(kind, &flow.client_id));
    if cookie.as_ref().map(|c| c.value()) != Some(flow.csrf.as_str()) {
        let description =
            "The request is not allowed. No CSRF value available in the session cookie.";
        if flow.device_code.is_some() {
            return to_error_page(shared, "request_forbidden", description);
        }
        return to_client_error(&flow, "request_forbidden", description);
    }
    if !verified.accepted {
        let error = verified.body["error"].as_str().unwrap_or("request_denied");
        let description = verified.body["error_description"]
            .as_str()
            .unwrap_or_default();
        if let Some(device_code) = &flow.device_code {
            if let Some(device) = lock(&shared.state).devices.get_mut(device_code) {
                device.outcome = DeviceOutcome::Denied;
            }
            return to_error_page(shared, error, description);
        }
        return to_client_error(&flow, error, description);
    }
    match kind {
        "login" => login_done(shared, flow, &verified.body),
        _ => consent_done(shared, flow, &verified.body),
    }
}

fn login_done(shared: &PublicShared, mut flow: AuthFlow, accept: &Value) -> HttpResponse {
    let subject = accept["subject"].as_str().unwrap_or_default().to_owned();
    let client = lock(&shared.state)
        .clients
        .get(&flow.client_id)
        .cloned()
        .unwrap_or_default();
    let mut public_client = client;
    if let Some(object) = public_client.as_object_mut() {
        object.remove("client_secret");
    }
    flow.subject = Some(subject.clone());
    flow.acr = accept["acr"].as_str().unwrap_or_default().to_owned();
    flow.amr = listed(&accept["amr"]);
    flow.csrf = random_b64url(24);
    // Hydra remembers the login when asked to, or keeps the session it skipped with.
    let mut new_session_cookie = None;
    if accept["remember"] == Value::Bool(true) || flow.login_session.is_some() {
        let id = flow.login_session.clone().unwrap_or_else(|| random_hex(16));
        let provider_session = accept["identity_provider_session_id"]
            .as_str()
            .map(str::to_owned);
        let mut state = lock(&shared.state);
        let entry = state
            .login_sessions
            .entry(id.clone())
            .or_insert(LoginSession {
                subject: subject.clone(),
                identity_provider_session_id: None,
            });
        entry.subject = subject.clone();
        if provider_session.is_some() {
            entry.identity_provider_session_id = provider_session;
        }
        if flow.login_session.is_none() {
            new_session_cookie = Some(id.clone());
        }
        flow.login_session = Some(id);
    }
    let skip = consent_can_be_skipped(shared, &flow, &public_client, &subject);
    if flow.prompts("none") && !skip {
        return to_client_error(&flow, "consent_required", "The Authorization Server requires End-User consent. Prompt 'none' was requested, but no previous consent was found.");
    }
    flow.consent_skip = skip;
    let challenge = shared.admin.add_consent(ConsentSpec {
        skip,
        subject,
        client: public_client,
        requested_scope: flow.scope.clone(),
        requested_audience: flow.audience.clone(),
        request_url: Some(flow.request_url.clone()),
        oidc_context: flow.oidc_context.clone(),
        acr: flow.acr.clone(),
        amr: flow.amr.clone(),
        // The login accept's `context` reaches the consent request.
        context: accept.get("context").filter(|c| !c.is_null()).cloned(),
        login_session_id: flow.login_session.clone().unwrap_or_else(|| random_hex(16)),
    });
    let csrf = flow.csrf.clone();
    let client_id = flow.client_id.clone();
    lock(&shared.state).flows.insert(challenge.clone(), flow);
    let response = found(&with_query(
        &shared.urls.consent,
        &[("consent_challenge", &challenge)],
    ));
    let mut response = with_csrf_cookie(response, &csrf_cookie_name("consent", &client_id), &csrf);
    if let Some(id) = new_session_cookie {
        response = with_csrf_cookie(response, SESSION_COOKIE, &id);
    }
    response
}

/// Hydra's `requestConsent`: never with `prompt=consent`; never for a public client's device
/// flow or a public client whose redirect is neither https nor http on localhost; otherwise
/// when the latest remembered consent covers every requested scope.
fn consent_can_be_skipped(
    shared: &PublicShared,
    flow: &AuthFlow,
    client: &Value,
    subject: &str,
) -> bool {
    if flow.prompts("consent") {
        return false;
    }
    if client["token_endpoint_auth_method"] == "none" {
        let redirect = url::Url::parse(&flow.redirect_uri).ok();
        let claimed = redirect.as_ref().is_some_and(|url| {
            url.scheme() == "https"
                || (url.scheme() == "http"
                    && matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]")))
        });
        if flow.device_code.is_some() || !claimed {
            return false;
        }
    }
    shared
        .admin
        .remembered_scopes(subject, &flow.client_id)
        .is_some_and(|granted| flow.scope.iter().all(|s| granted.contains(s)))
}

fn consent_done(shared: &PublicShared, flow: AuthFlow, accept: &Value) -> HttpResponse {
    let scope = listed(&accept["grant_scope"]);
    let grant = Grant {
        client_id: flow.client_id.clone(),
        subject: flow.subject.clone().unwrap_or_default(),
        scope: scope.clone(),
        audience: listed(&accept["grant_access_token_audience"]),
        id_token_claims: accept["session"]["id_token"].clone(),
        redirect_uri: flow.redirect_uri.clone(),
        code_challenge: flow.code_challenge.clone(),
        nonce: flow.nonce.clone(),
    };
    // Every accepted consent is a consent session (connected apps list them); a remembered one
    // also skips the next consent screen.
    let client = lock(&shared.state)
        .clients
        .get(&flow.client_id)
        .cloned()
        .unwrap_or_default();
    let mut public_client = client;
    if let Some(object) = public_client.as_object_mut() {
        object.remove("client_secret");
    }
    shared.admin.add_consent_session(ConsentSessionSpec {
        subject: grant.subject.clone(),
        client: public_client,
        grant_scope: scope.clone(),
        grant_audience: grant.audience.clone(),
        handled_at: super::fake_kratos::rfc3339(time::OffsetDateTime::now_utc()),
        remember: accept["remember"] == Value::Bool(true),
        remember_for: accept["remember_for"].as_i64().unwrap_or(0),
        login_session_id: flow.login_session.clone().unwrap_or_default(),
        skipped: flow.consent_skip,
    });
    if let Some(device_code) = &flow.device_code {
        if let Some(device) = lock(&shared.state).devices.get_mut(device_code) {
            device.outcome = DeviceOutcome::Granted(Box::new(grant));
        }
        return found(&with_query(
            &shared.urls.device_success,
            &[("client_id", &flow.client_id)],
        ));
    }
    let code = format!("ory_ac_{}", random_b64url(32));
    lock(&shared.state).codes.insert(code.clone(), grant);
    see_other(&with_query(
        &flow.redirect_uri,
        &[
            ("code", &code),
            ("scope", &scope.join(" ")),
            ("state", &flow.state),
        ],
    ))
}

fn token_error(status: u16, error: &str, description: &str) -> Reply {
    Reply::json(
        status,
        json!({"error": error, "error_description": description}),
    )
}

/// The client a token or revocation request authenticates as (HTTP Basic, or
/// `client_id`/`client_secret` in the form; public clients send no secret), or the
/// `invalid_client` answer.
fn authenticate(
    shared: &PublicShared,
    req: &HttpRequest,
    form: &HashMap<String, String>,
) -> Result<(String, Value), Reply> {
    let basic = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| STANDARD.decode(v).ok())
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|v| {
            let (id, secret) = v.split_once(':')?;
            let decode = |s: &str| {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
            };
            Some((decode(id)?, decode(secret)?))
        });
    let basic_secret = basic
        .as_ref()
        .map(|(_, secret)| secret.clone())
        .filter(|secret| !secret.is_empty());
    let form_secret = form
        .get("client_secret")
        .filter(|secret| !secret.is_empty())
        .cloned();
    let form_id = form.get("client_id").filter(|id| !id.is_empty()).cloned();
    let (client_id, secret) = match basic {
        Some((id, secret)) => (id, Some(secret)),
        None => (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned(),
        ),
    };
    let invalid = |hint: &str| {
        token_error(401, "invalid_client", &format!("Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method).{hint}"))
    };
    let Some(client) = lock(&shared.state).clients.get(&client_id).cloned() else {
        return Err(invalid(""));
    };
    let method = client["token_endpoint_auth_method"]
        .as_str()
        .unwrap_or("client_secret_basic");
    // fosite refuses a secret sent another way than the client is registered for.
    let used = if form_id.is_some() && form_secret.is_some() && method != "client_secret_post" {
        Some("client_secret_post")
    } else if basic_secret.is_some() && method != "client_secret_basic" {
        Some("client_secret_basic")
    } else {
        None
    };
    if let Some(used) = used {
        return Err(invalid(&format!(" The OAuth 2.0 Client supports client authentication method '{method}', but method '{used}' was requested. You must configure the OAuth 2.0 client's 'token_endpoint_auth_method' value to accept '{used}'.")));
    }
    let authenticated = match method {
        "none" => secret.is_none(),
        _ => secret
            .as_deref()
            .is_some_and(|s| Some(s) == client["client_secret"].as_str()),
    };
    if !authenticated {
        // A confidential client's missing or wrong secret fails Hydra's hash comparison.
        let hint = if method == "none" {
            ""
        } else {
            " passwords do not match"
        };
        return Err(invalid(hint));
    }
    Ok((client_id, client))
}

const INVALID_GRANT: &str = "The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.";

fn token(shared: &PublicShared, req: &HttpRequest, form: &HashMap<String, String>) -> Reply {
    let param = |name: &str| form.get(name).cloned().unwrap_or_default();
    let grant_type = param("grant_type");
    if grant_type == DEVICE_GRANT {
        return device_token(shared, req, form);
    }
    let (client_id, client) = match authenticate(shared, req, form) {
        Ok(client) => client,
        Err(reply) => return reply,
    };
    if grant_type == "refresh_token" {
        return refresh(shared, &client_id, &param("refresh_token"));
    }
    if grant_type != "authorization_code" {
        // No handler takes the grant: fosite's generic refusal (after client authentication).
        return token_error(400, "invalid_request", "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed. Make sure that the various parameters are correct, be aware of case sensitivity and trim your parameters. Make sure that the client you are using has exactly whitelisted the redirect_uri you specified.");
    }
    let code = param("code");
    let Some(grant) = lock(&shared.state).codes.remove(&code) else {
        let state = lock(&shared.state);
        if let Some((client_id, issued)) = state.redeemed_codes.get(&code).cloned() {
            // A replayed code also revokes the tokens issued for it.
            drop(state);
            for token in ["refresh_token", "access_token"] {
                if let Some(token) = issued[token].as_str() {
                    shared.issuer.revoke(&client_id, token);
                }
            }
            return token_error(
                400,
                "invalid_grant",
                &format!("{INVALID_GRANT} The authorization code has already been used."),
            );
        }
        if state.burned_codes.contains(&code) {
            return token_error(
                400,
                "invalid_grant",
                &format!(
                    "{INVALID_GRANT} Unable to find initial PKCE data tied to this request not_found"
                ),
            );
        }
        return token_error(400, "invalid_grant", &format!("{INVALID_GRANT} not_found"));
    };
    if grant.client_id != client_id || grant.redirect_uri != param("redirect_uri") {
        return token_error(400, "invalid_grant", INVALID_GRANT);
    }
    if let Some((challenge, method)) = &grant.code_challenge {
        let verifier = param("code_verifier");
        let computed = if method == "S256" {
            s256(&verifier)
        } else {
            verifier.clone()
        };
        if verifier.is_empty() || &computed != challenge {
            // One wrong verifier burns the code.
            lock(&shared.state).burned_codes.insert(code);
            return token_error(
                400,
                "invalid_grant",
                &format!(
                    "{INVALID_GRANT} The PKCE code challenge did not match the code verifier."
                ),
            );
        }
    }
    let reply = issue_tokens(shared, &client, grant);
    lock(&shared.state)
        .redeemed_codes
        .insert(code, (client_id, reply.body.clone()));
    reply
}

/// The token response for a fresh grant (a code exchange or a device grant): a refresh-token
/// chain when the grant is for offline access and the client may refresh.
fn issue_tokens(shared: &PublicShared, client: &Value, grant: Grant) -> Reply {
    let offline = grant
        .scope
        .iter()
        .any(|s| s == "offline" || s == "offline_access");
    let chain = (offline
        && listed(&client["grant_types"])
            .iter()
            .any(|g| g == "refresh_token"))
    .then(|| shared.issuer.new_chain(&grant.client_id));
    if let Some((id, _)) = &chain {
        lock(&shared.state).chains.insert(*id, grant.clone());
    }
    let body = token_body(shared, &grant, chain, true);
    lock(&shared.state).tokens.push((body.clone(), grant));
    Reply::json(200, body)
}

/// A token response for `grant`: an access token (in `chain`), an ID token when `openid` was
/// granted (with the flow's nonce on a code exchange), a refresh token when there is a chain.
fn token_body(
    shared: &PublicShared,
    grant: &Grant,
    chain: Option<(usize, String)>,
    with_nonce: bool,
) -> Value {
    let (access_token, expires_in) = shared
        .issuer
        .issue_access(&grant.client_id, chain.as_ref().map(|(id, _)| *id));
    let mut body = json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": expires_in,
        "scope": grant.scope.join(" "),
    });
    if grant.scope.iter().any(|s| s == "openid") {
        let now = fake_hydra_tokens::now();
        let mut claims = json!({
            "iss": shared.url,
            "sub": grant.subject,
            "aud": [grant.client_id],
            "iat": now,
            "exp": now + 3600,
            "auth_time": now,
        });
        if let (Some(object), Some(extra)) =
            (claims.as_object_mut(), grant.id_token_claims.as_object())
        {
            for (key, value) in extra {
                object.insert(key.clone(), value.clone());
            }
        }
        if let (true, Some(nonce)) = (with_nonce, &grant.nonce) {
            claims["nonce"] = json!(nonce);
        }
        body["id_token"] = json!(shared.issuer.id_token(claims));
    }
    if let Some((_, refresh_token)) = chain {
        body["refresh_token"] = json!(refresh_token);
    }
    body
}

/// `grant_type=refresh_token`: rotation, and reuse detection that revokes the chain.
fn refresh(shared: &PublicShared, client_id: &str, refresh_token: &str) -> Reply {
    match shared.issuer.rotate(client_id, refresh_token) {
        Ok((chain, next)) => {
            let Some(grant) = lock(&shared.state).chains.get(&chain).cloned() else {
                return token_error(400, "invalid_grant", INVALID_GRANT);
            };
            let body = token_body(shared, &grant, Some((chain, next)), false);
            lock(&shared.state).tokens.push((body.clone(), grant));
            Reply::json(200, body)
        }
        Err(RefreshRefusal::Reused) => token_error(400, "invalid_grant", &format!("{INVALID_GRANT} The refresh token was already used; the token chain has been revoked.")),
        Err(RefreshRefusal::Invalid) => token_error(400, "invalid_grant", INVALID_GRANT),
    }
}

/// `POST /oauth2/revoke` (RFC 7009): 200 with no body, also for unknown tokens.
fn revoke(
    shared: &PublicShared,
    req: &HttpRequest,
    form: &HashMap<String, String>,
) -> HttpResponse {
    // An unknown token is revoked "successfully" (RFC 7009 §2.2); a client that fails to
    // authenticate gets fosite's bare `invalid_client`, without the token endpoint's hints.
    let reply = match authenticate(shared, req, form) {
        Ok((client_id, _)) => {
            shared.issuer.revoke(
                &client_id,
                form.get("token").map(String::as_str).unwrap_or_default(),
            );
            Reply::empty(200)
        }
        Err(_) => token_error(401, "invalid_client", "Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method)."),
    };
    super::fake_hydra::send(
        openapi::hydra(),
        &shared.violations,
        "POST",
        "/oauth2/revoke",
        reply,
    )
}

/// The strings of a JSON array; none when the field is absent (Hydra treats both alike).
fn listed(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// `GET /oauth2/sessions/logout`: without a verifier, starts a logout and asks Hera; with one,
/// ends Hydra's session (and the Kratos session through `urls.identity_provider`) and returns
/// to the client.
fn logout(
    shared: &PublicShared,
    req: &HttpRequest,
    query: &HashMap<String, String>,
) -> HttpResponse {
    if let Some(verifier) = query.get("logout_verifier") {
        let Some(verified) = shared
            .admin
            .verified(verifier)
            .filter(|v| v.kind == "logout")
        else {
            return to_error_page(shared, "invalid_request", "The logout verifier is unknown.");
        };
        let Some(flow) = lock(&shared.state)
            .logouts
            .get_mut(&verified.challenge)
            .map(|flow| {
                let first = flow.clone();
                flow.done = true;
                first
            })
        else {
            return to_error_page(
                shared,
                "invalid_request",
                "The logout request was not started here.",
            );
        };
        if !flow.done {
            // From now on Hydra answers GET on the logout request with 410.
            shared.admin.logout_verifier_used(&verified.challenge);
            let ended = flow
                .session
                .and_then(|id| lock(&shared.state).login_sessions.remove(&id));
            let provider = lock(&shared.state).identity_provider.clone();
            if let (Some(ended), Some(kratos)) = (ended, provider) {
                if let Some(id) = ended.identity_provider_session_id {
                    kratos.revoke(&id);
                }
            }
        }
        let response = found(&with_query(&flow.return_to, &[("state", &flow.state)]));
        let mut gone = actix_web::cookie::Cookie::new(SESSION_COOKIE, "");
        gone.set_path("/");
        gone.make_removal();
        let mut response = response;
        let _ = response.add_cookie(&gone);
        return response;
    }
    let session_id = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
    let session = session_id
        .as_ref()
        .and_then(|id| lock(&shared.state).login_sessions.get(id).cloned());
    // The client comes from the ID token's audience (read, not verified).
    let hint = query
        .get("id_token_hint")
        .and_then(|jwt| super::jwt_claims(jwt));
    let client = hint
        .as_ref()
        .and_then(|claims| claims["aud"][0].as_str().map(str::to_owned))
        .and_then(|id| lock(&shared.state).clients.get(&id).cloned());
    let return_to = match (query.get("post_logout_redirect_uri"), &client) {
        (Some(uri), Some(client)) if listed(&client["post_logout_redirect_uris"]).contains(uri) => {
            uri.clone()
        }
        (Some(_), _) => {
            return to_error_page(shared, "invalid_request", "Logout failed because query parameter post_logout_redirect_uri is not a whitelisted as a post_logout_redirect_uri for the client.")
        }
        (None, _) => shared.urls.post_logout.clone(),
    };
    let Some(session) = session else {
        // Nobody is signed in: nothing to ask.
        return found(&with_query(
            &return_to,
            &[("state", query.get("state").map_or("", String::as_str))],
        ));
    };
    let mut public_client = client.clone();
    if let Some(object) = public_client.as_mut().and_then(Value::as_object_mut) {
        object.remove("client_secret");
    }
    let challenge = shared.admin.add_logout(LogoutSpec {
        subject: session.subject.clone(),
        sid: session_id.clone().unwrap_or_default(),
        rp_initiated: hint.is_some(),
        client: public_client,
        // Hydra keeps the path and query the browser asked for, without its own URL.
        request_url: Some(req.uri().to_string()),
    });
    lock(&shared.state).logouts.insert(
        challenge.clone(),
        LogoutFlow {
            session: session_id,
            return_to,
            state: query.get("state").cloned().unwrap_or_default(),
            done: false,
        },
    );
    found(&with_query(
        &shared.urls.logout,
        &[("logout_challenge", &challenge)],
    ))
}

/// Hydra's default user-code alphabet (`entropy_preset: high`): upper- and lower-case letters
/// and digits without look-alikes. Codes are 8 characters and compared exactly.
const USER_CODE_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY34679";

/// `POST /oauth2/device/auth` (RFC 8628 §3.1–3.2): the client authenticates as at the token
/// endpoint (a public client by its `client_id` alone).
fn device_authorization(
    shared: &PublicShared,
    req: &HttpRequest,
    form: &HashMap<String, String>,
) -> Reply {
    let client_id = match authenticate(shared, req, form) {
        Ok((client_id, _)) => client_id,
        Err(reply) => return reply,
    };
    let user_code: String = super::fake_hydra::random_bytes(8)
        .iter()
        .map(|b| USER_CODE_ALPHABET[usize::from(*b) % USER_CODE_ALPHABET.len()] as char)
        .collect();
    let device_code = format!("ory_dc_{}", random_b64url(32));
    shared.admin.add_user_code(&user_code, &client_id);
    lock(&shared.state).devices.insert(
        device_code.clone(),
        DeviceAuthorization {
            client_id,
            scope: form
                .get("scope")
                .map(|s| s.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
            user_code: user_code.clone(),
            outcome: DeviceOutcome::Pending,
        },
    );
    let verification_uri = format!("{}/oauth2/device/verify", shared.url);
    Reply::json(
        200,
        // Hydra's answer carries a stray `"Header": null` (a Go struct field it embeds).
        json!({
            "Header": null,
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": verification_uri,
            "verification_uri_complete": format!("{verification_uri}?user_code={user_code}"),
            "expires_in": 600,
            "interval": 1,
        }),
    )
}

/// `GET /oauth2/device/verify`: a browser arriving from the device's instructions is sent to
/// `urls.device.verification`; one coming back with a device verifier goes on to log in.
fn device_verify(
    shared: &PublicShared,
    req: &HttpRequest,
    query: &HashMap<String, String>,
) -> HttpResponse {
    // The login and consent of a device flow come back here with their verifiers.
    if let Some(verifier) = query.get("login_verifier") {
        return redeem(shared, req, verifier, "login");
    }
    if let Some(verifier) = query.get("consent_verifier") {
        return redeem(shared, req, verifier, "consent");
    }
    let Some(verifier) = query.get("device_verifier") else {
        let challenge = shared.admin.add_device_challenge();
        let mut pairs = vec![("device_challenge", challenge.as_str())];
        if let Some(code) = query.get("user_code") {
            pairs.push(("user_code", code.as_str()));
        }
        return found(&with_query(&shared.urls.device_verification, &pairs));
    };
    let Some(verified) = shared
        .admin
        .verified(verifier)
        .filter(|v| v.kind == "device")
    else {
        return to_error_page(shared, "invalid_request", "The device verifier is unknown.");
    };
    let user_code = verified.body["user_code"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let found_device = lock(&shared.state)
        .devices
        .iter()
        .find(|(_, d)| d.user_code == user_code)
        .map(|(code, d)| (code.clone(), d.clone()));
    let Some((device_code, device)) = found_device else {
        return to_error_page(shared, "invalid_request", "The device request is unknown.");
    };
    let Some(client) = lock(&shared.state).clients.get(&device.client_id).cloned() else {
        return to_error_page(shared, "invalid_client", "Client authentication failed.");
    };
    let flow = AuthFlow {
        client_id: device.client_id.clone(),
        redirect_uri: String::new(),
        state: String::new(),
        scope: device.scope.clone(),
        audience: Vec::new(),
        code_challenge: None,
        nonce: None,
        // The verification URL with the masked user code, not the device verifier.
        request_url: format!(
            "{}/oauth2/device/verify?client_id={}&user_code=%2A%2A%2A%2A",
            shared.url,
            url::form_urlencoded::byte_serialize(device.client_id.as_bytes()).collect::<String>()
        ),
        csrf: random_b64url(24),
        subject: None,
        acr: String::new(),
        amr: Vec::new(),
        prompt: String::new(),
        // A device authorization has no OpenID Connect request: Hydra serves `null`.
        oidc_context: Value::Null,
        device_code: Some(device_code),
        login_session: req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned()),
        consent_skip: false,
    };
    ask_for_login(shared, &client, flow)
}

/// The device polls (RFC 8628 §3.4–3.5), authenticated like any token request.
fn device_token(shared: &PublicShared, req: &HttpRequest, form: &HashMap<String, String>) -> Reply {
    let device_code = form.get("device_code").cloned().unwrap_or_default();
    let (client_id, client) = match authenticate(shared, req, form) {
        Ok(client) => client,
        Err(reply) => return reply,
    };
    let mut state = lock(&shared.state);
    let Some(device) = state
        .devices
        .get_mut(&device_code)
        .filter(|d| d.client_id == client_id)
    else {
        return token_error(400, "invalid_grant", &format!("{INVALID_GRANT} not_found"));
    };
    match std::mem::replace(&mut device.outcome, DeviceOutcome::Redeemed) {
        DeviceOutcome::Pending => {
            device.outcome = DeviceOutcome::Pending;
            token_error(400, "authorization_pending", "The authorization request is still pending as the end user hasn't yet completed the user-interaction steps.")
        }
        DeviceOutcome::Denied => token_error(
            400,
            "access_denied",
            "The resource owner or authorization server denied the request.",
        ),
        DeviceOutcome::Redeemed => {
            token_error(400, "invalid_grant", &format!("{INVALID_GRANT} not_found"))
        }
        DeviceOutcome::Granted(grant) => {
            drop(state);
            issue_tokens(shared, &client, *grant)
        }
    }
}
