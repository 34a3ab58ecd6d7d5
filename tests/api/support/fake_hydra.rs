//! A stateful, in-process fake of the Ory Hydra v26.2.0 ADMIN API, limited
//! to what a login/consent provider calls (`shared/ory/CONTRACT.md` §0, §1.1,
//! §1.2), plus the OAuth2 client endpoints of §2.2 (`fake_hydra/clients.rs`).
//! Every body it receives or serves is checked against Hydra's
//! OpenAPI spec; violations are collected in `contract_violations()` rather
//! than panicking inside a handler.
//!
//! The HTTP servers run on their own thread with their own actix system, so
//! the fakes work from `#[tokio::test]` (either flavour), `#[actix_web::test]`
//! or plain threads, and keep answering while a test blocks. Dropping the
//! fake stops its server.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::Engine;
use rand::RngCore;
use serde_json::{json, Value};

use super::openapi;

mod clients;

/// The content type Hydra and Kratos put on their JSON answers.
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// A fixed past instant used for `created_at`-style fields.
pub const FIXED_TIME: &str = "2026-01-02T03:04:05Z";

/// One request a fake received.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    pub method: String,
    /// The path without the query string.
    pub path: String,
    /// The decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    /// `None` for an empty body; the parsed JSON otherwise, or, when the body
    /// is not JSON, its text as a `Value::String`.
    pub body: Option<Value>,
}

impl Recorded {
    /// The first value of query parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A failure mode a fake can be switched into (health endpoints excepted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and the service's error body (flat for
    /// Hydra, nested for Kratos).
    Status(u16),
    /// Never answer (the handler sleeps for an hour).
    Hang,
    /// `200` with truncated JSON and a JSON content type.
    Malformed,
}

/// What `GET /admin/oauth2/auth/requests/login` serves for a challenge.
#[derive(Clone, Debug)]
pub struct LoginSpec {
    pub skip: bool,
    pub subject: String,
    pub client: Value,
    pub requested_scope: Vec<String>,
    pub requested_audience: Vec<String>,
    /// `None` builds `http://127.0.0.1:4444/oauth2/auth?client_id=..&..`.
    pub request_url: Option<String>,
    pub oidc_context: Value,
    pub session_id: String,
}

impl Default for LoginSpec {
    fn default() -> Self {
        LoginSpec {
            skip: false,
            subject: String::new(),
            client: client("third-party-app"),
            requested_scope: default_scopes(),
            requested_audience: Vec::new(),
            request_url: None,
            oidc_context: default_oidc_context(),
            session_id: random_hex(16),
        }
    }
}

/// What `GET /admin/oauth2/auth/requests/consent` serves for a challenge.
#[derive(Clone, Debug)]
pub struct ConsentSpec {
    pub skip: bool,
    pub subject: String,
    pub client: Value,
    pub requested_scope: Vec<String>,
    pub requested_audience: Vec<String>,
    pub request_url: Option<String>,
    pub oidc_context: Value,
    pub acr: String,
    pub amr: Vec<String>,
    /// Omitted from the served body when `None` (Hydra: omitempty).
    pub context: Option<Value>,
    /// Served as `login_session_id`; equals the login request's
    /// `session_id` in real flows (CONTRACT §0.7). Random 32-hex default.
    pub login_session_id: String,
}

impl Default for ConsentSpec {
    fn default() -> Self {
        ConsentSpec {
            skip: false,
            subject: String::new(),
            client: client("third-party-app"),
            requested_scope: default_scopes(),
            requested_audience: Vec::new(),
            request_url: None,
            oidc_context: default_oidc_context(),
            acr: "aal1".to_owned(),
            amr: vec!["pwd".to_owned()],
            context: None,
            login_session_id: random_hex(16),
        }
    }
}

fn default_scopes() -> Vec<String> {
    ["openid", "offline_access", "email", "profile"]
        .map(str::to_owned)
        .to_vec()
}

fn default_oidc_context() -> Value {
    json!({"acr_values": [], "ui_locales": [], "id_token_hint_claims": {}})
}

/// A complete OAuth2 client as Hydra embeds it in login and consent
/// requests (CONTRACT §2.1; the secret is blanked, and Hydra omits a blank
/// `client_secret` entirely).
pub fn client(id: &str) -> Value {
    json!({
        "client_id": id,
        "client_name": format!("{id} app"),
        "redirect_uris": [format!("https://{id}.example.com/callback")],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": "openid offline_access email profile",
        "audience": [],
        "owner": "",
        "policy_uri": "",
        "allowed_cors_origins": [],
        "tos_uri": "",
        "client_uri": "",
        "logo_uri": "",
        "contacts": null,
        "client_secret_expires_at": 0,
        "subject_type": "public",
        "jwks": {},
        "token_endpoint_auth_method": "client_secret_basic",
        "userinfo_signed_response_alg": "none",
        "created_at": FIXED_TIME,
        "updated_at": FIXED_TIME,
        "metadata": {},
        "skip_consent": false,
        "skip_logout_consent": null,
        "authorization_code_grant_access_token_lifespan": null,
        "authorization_code_grant_id_token_lifespan": null,
        "authorization_code_grant_refresh_token_lifespan": null,
        "client_credentials_grant_access_token_lifespan": null,
        "device_authorization_grant_access_token_lifespan": null,
        "device_authorization_grant_id_token_lifespan": null,
        "device_authorization_grant_refresh_token_lifespan": null,
        "implicit_grant_access_token_lifespan": null,
        "implicit_grant_id_token_lifespan": null,
        "jwt_bearer_grant_access_token_lifespan": null,
        "refresh_token_grant_id_token_lifespan": null,
        "refresh_token_grant_access_token_lifespan": null,
        "refresh_token_grant_refresh_token_lifespan": null
    })
}

/// Shallow-merges the object `patch` into the object `base`.
pub fn with(mut base: Value, patch: Value) -> Value {
    if let (Some(base_map), Value::Object(patch_map)) = (base.as_object_mut(), patch) {
        for (key, value) in patch_map {
            base_map.insert(key, value);
        }
    }
    base
}

// ---------------------------------------------------------------------------
// Random values

pub(crate) fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// `n` random bytes as lower-case hex (`2n` characters).
pub fn random_hex(n: usize) -> String {
    random_bytes(n).iter().map(|b| format!("{b:02x}")).collect()
}

/// `n` random bytes as unpadded base64url.
pub fn random_b64url(n: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes(n))
}

/// A random version-4 UUID.
pub fn random_uuid() -> String {
    let mut b = random_bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// `url` with `key=value` appended to its query.
fn append_query(url: &str, key: &str, value: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{key}={}", encode(value))
}

fn default_request_url(client: &Value, scopes: &[String]) -> String {
    let client_id = client["client_id"].as_str().unwrap_or_default();
    let redirect_uri = client["redirect_uris"][0].as_str().unwrap_or_default();
    format!(
        "http://127.0.0.1:4444/oauth2/auth?client_id={}&response_type=code&scope={}&state={}&redirect_uri={}",
        encode(client_id),
        encode(&scopes.join(" ")),
        random_hex(12),
        encode(redirect_uri)
    )
}

// ---------------------------------------------------------------------------
// In-process servers (shared with the Kratos fake)

/// Configures one actix `App`.
pub type Configure = Arc<dyn Fn(&mut web::ServiceConfig) + Send + Sync>;

/// Running servers; stopped when dropped.
pub struct ServerGuard {
    handles: Vec<ServerHandle>,
}

impl Drop for ServerGuard {
    fn drop(&mut self) {
        for handle in &self.handles {
            // `stop` sends the command eagerly; the returned future only
            // waits for completion, which nobody needs here.
            drop(handle.stop(false));
        }
    }
}

/// Binds `127.0.0.1:0` (the port is known and connections queue up before
/// the server thread even runs).
pub fn bind_local() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local addr").port();
    (listener, format!("http://127.0.0.1:{port}"))
}

/// Serves each `(listener, app)` with one worker on a dedicated thread that
/// runs its own actix system.
pub async fn spawn_servers(name: &str, apps: Vec<(TcpListener, Configure)>) -> ServerGuard {
    let (tx, rx) = std::sync::mpsc::channel::<Result<Vec<ServerHandle>, String>>();
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let mut servers = Vec::new();
                for (listener, configure) in apps {
                    let built = HttpServer::new(move || {
                        let configure = configure.clone();
                        App::new().configure(move |cfg| configure(cfg))
                    })
                    .workers(1)
                    .disable_signals()
                    .shutdown_timeout(0)
                    .listen(listener);
                    match built {
                        Ok(server) => servers.push(server.run()),
                        Err(e) => {
                            let _ = tx.send(Err(e.to_string()));
                            return;
                        }
                    }
                }
                let _ = tx.send(Ok(servers.iter().map(|s| s.handle()).collect()));
                let running: Vec<_> = servers.into_iter().map(actix_web::rt::spawn).collect();
                for server in running {
                    let _ = server.await;
                }
            });
        })
        .expect("spawn the fake's server thread");
    loop {
        match rx.try_recv() {
            Ok(Ok(handles)) => return ServerGuard { handles },
            Ok(Err(e)) => panic!("cannot start the {name} server: {e}"),
            Err(std::sync::mpsc::TryRecvError::Empty) => {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                panic!("the {name} server thread died while starting")
            }
        }
    }
}

/// An answer computed by a fake, before it is checked and sent.
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: Vec<(&'static str, String)>,
    /// False for answers to undocumented requests (already reported).
    pub check: bool,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            body,
            headers: Vec::new(),
            check: true,
        }
    }
}

/// Builds the HTTP response for `reply`, after checking its body against
/// `spec` for `method path` (violations go into `violations`).
pub fn send(
    spec: &openapi::OpenApi,
    violations: &Mutex<Vec<String>>,
    method: &str,
    path: &str,
    reply: Reply,
) -> HttpResponse {
    if reply.status == 204 {
        // An answer without a body (DELETE), as Go's `w.WriteHeader(204)`.
        if reply.check {
            if let Err(e) = spec.check_empty_response(method, path, reply.status) {
                lock(violations).push(format!("served answer: {e}"));
            }
        }
        return HttpResponse::NoContent().finish();
    }
    if reply.check {
        if let Err(e) = spec.check_response(method, path, reply.status, &reply.body) {
            lock(violations).push(format!("served body: {e}"));
        }
    }
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    response.insert_header(("content-type", JSON_CONTENT_TYPE));
    for (name, value) in reply.headers {
        response.insert_header((name, value));
    }
    response.body(reply.body.to_string())
}

/// Never answers (sleeps for an hour); for `Fault::Hang`.
pub async fn hang() -> HttpResponse {
    actix_web::rt::time::sleep(Duration::from_secs(3600)).await;
    HttpResponse::ServiceUnavailable().finish()
}

/// `200` with a truncated JSON body; for `Fault::Malformed`.
pub fn malformed(truncated: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("content-type", JSON_CONTENT_TYPE))
        .body(truncated)
}

pub fn record(req: &HttpRequest, body: &[u8]) -> Recorded {
    Recorded {
        method: req.method().as_str().to_owned(),
        path: req.path().to_owned(),
        query: url::form_urlencoded::parse(req.query_string().as_bytes())
            .into_owned()
            .collect(),
        body: if body.is_empty() {
            None
        } else {
            Some(
                serde_json::from_slice(body)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned())),
            )
        },
    }
}

/// Locks, ignoring poisoning (a panicking test must not hide its cause
/// behind a poisoned-lock panic elsewhere).
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------------------------------
// Hydra state

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Login,
    Consent,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Login => "login",
            Kind::Consent => "consent",
        }
    }
}

#[derive(Clone, Debug)]
enum FlowState {
    Active,
    Expired,
    Gone(String),
}

struct Flow {
    kind: Kind,
    state: FlowState,
    /// The body served by GET.
    request: Value,
}

#[derive(Default)]
struct HydraState {
    flows: HashMap<String, Flow>,
    fault: Option<Fault>,
    not_ready: bool,
    accepted_logins: Vec<Value>,
    rejected_logins: Vec<Value>,
    accepted_consents: Vec<Value>,
    rejected_consents: Vec<Value>,
    requests: Vec<Recorded>,
    /// `/admin/clients` (see `clients.rs`).
    clients: clients::ClientStore,
}

struct Shared {
    state: Mutex<HydraState>,
    violations: Mutex<Vec<String>>,
}

/// The fake Hydra admin API. Dropping it stops the server.
pub struct FakeHydra {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub url: String,
    shared: Arc<Shared>,
    _server: ServerGuard,
}

const LOGIN_PATH: &str = "/admin/oauth2/auth/requests/login";
const LOGIN_ACCEPT_PATH: &str = "/admin/oauth2/auth/requests/login/accept";
const LOGIN_REJECT_PATH: &str = "/admin/oauth2/auth/requests/login/reject";
const CONSENT_PATH: &str = "/admin/oauth2/auth/requests/consent";
const CONSENT_ACCEPT_PATH: &str = "/admin/oauth2/auth/requests/consent/accept";
const CONSENT_REJECT_PATH: &str = "/admin/oauth2/auth/requests/consent/reject";

/// What `Fault::Malformed` serves.
pub const MALFORMED_BODY: &str = r#"{"challenge": "x", "cli"#;

/// fosite's `ErrInvalidRequest` description; Hydra appends the hint to it.
pub const INVALID_REQUEST_DESCRIPTION: &str = "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.";

impl FakeHydra {
    pub async fn start() -> FakeHydra {
        let shared = Arc::new(Shared {
            state: Mutex::new(HydraState::default()),
            violations: Mutex::new(Vec::new()),
        });
        let (listener, url) = bind_local();
        let app_shared = shared.clone();
        let configure: Configure = Arc::new(move |cfg: &mut web::ServiceConfig| {
            cfg.app_data(web::Data::from(app_shared.clone()))
                .default_service(web::to(handle));
        });
        let server = spawn_servers("fake-hydra", vec![(listener, configure)]).await;
        FakeHydra {
            url,
            shared,
            _server: server,
        }
    }

    fn state(&self) -> MutexGuard<'_, HydraState> {
        lock(&self.shared.state)
    }

    /// Registers a login request and returns its (long, opaque) challenge.
    pub fn add_login(&self, spec: LoginSpec) -> String {
        let challenge = mint_challenge();
        let request_url = spec
            .request_url
            .clone()
            .unwrap_or_else(|| default_request_url(&spec.client, &spec.requested_scope));
        let request = json!({
            "challenge": challenge,
            "skip": spec.skip,
            "subject": spec.subject,
            "client": spec.client,
            "request_url": request_url,
            "requested_scope": spec.requested_scope,
            "requested_access_token_audience": spec.requested_audience,
            "session_id": spec.session_id,
            "oidc_context": spec.oidc_context,
        });
        self.insert(challenge.clone(), Kind::Login, request);
        challenge
    }

    /// Registers a consent request and returns its challenge.
    pub fn add_consent(&self, spec: ConsentSpec) -> String {
        let challenge = mint_challenge();
        let request_url = spec
            .request_url
            .clone()
            .unwrap_or_else(|| default_request_url(&spec.client, &spec.requested_scope));
        let mut request = json!({
            "challenge": challenge,
            "consent_request_id": random_hex(16),
            "skip": spec.skip,
            "subject": spec.subject,
            "client": spec.client,
            "requested_scope": spec.requested_scope,
            "requested_access_token_audience": spec.requested_audience,
            "request_url": request_url,
            "oidc_context": spec.oidc_context,
            "login_challenge": random_hex(16),
            "login_session_id": spec.login_session_id,
            "acr": spec.acr,
            "amr": spec.amr,
        });
        if let Some(context) = spec.context {
            request["context"] = context;
        }
        self.insert(challenge.clone(), Kind::Consent, request);
        challenge
    }

    fn insert(&self, challenge: String, kind: Kind, request: Value) {
        self.state().flows.insert(
            challenge,
            Flow {
                kind,
                state: FlowState::Active,
                request,
            },
        );
    }

    /// The body `GET` serves for `challenge` while it is active.
    pub fn flow(&self, challenge: &str) -> Option<Value> {
        self.state().flows.get(challenge).map(|f| f.request.clone())
    }

    /// From now on GET and PUT on `challenge` answer 401 (CONTRACT §0.2).
    pub fn expire(&self, challenge: &str) {
        if let Some(flow) = self.state().flows.get_mut(challenge) {
            flow.state = FlowState::Expired;
        }
    }

    /// From now on GET on `challenge` answers `410 {"redirect_to": ..}`
    /// (legacy handled flows, CONTRACT §0.1). PUTs still succeed.
    pub fn mark_gone(&self, challenge: &str, redirect_to: &str) {
        if let Some(flow) = self.state().flows.get_mut(challenge) {
            flow.state = FlowState::Gone(redirect_to.to_owned());
        }
    }

    /// Applies to every request except `/health/*`.
    pub fn set_fault(&self, fault: Option<Fault>) {
        self.state().fault = fault;
    }

    pub fn set_not_ready(&self, not_ready: bool) {
        self.state().not_ready = not_ready;
    }

    pub fn accepted_logins(&self) -> Vec<Value> {
        self.state().accepted_logins.clone()
    }

    pub fn rejected_logins(&self) -> Vec<Value> {
        self.state().rejected_logins.clone()
    }

    pub fn accepted_consents(&self) -> Vec<Value> {
        self.state().accepted_consents.clone()
    }

    pub fn rejected_consents(&self) -> Vec<Value> {
        self.state().rejected_consents.clone()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state().requests.clone()
    }

    pub fn contract_violations(&self) -> Vec<String> {
        lock(&self.shared.violations).clone()
    }
}

/// Real challenges are base64url AEAD blobs of a gzipped flow, 1–2 KB
/// (CONTRACT §0.8); 900 random bytes give 1200 characters.
fn mint_challenge() -> String {
    random_b64url(900)
}

fn mint_verifier() -> String {
    random_b64url(160)
}

/// A flat Hydra error body (CONTRACT §0.3).
pub fn hydra_error(status: u16, error: &str, description: &str) -> Reply {
    Reply::json(
        status,
        json!({"error": error, "error_description": description}),
    )
}

fn invalid_request(hint: &str) -> Reply {
    hydra_error(
        400,
        "invalid_request",
        &format!("{INVALID_REQUEST_DESCRIPTION} {hint}"),
    )
}

/// The error body Hydra would plausibly answer `status` with.
pub fn hydra_error_for_status(status: u16) -> Reply {
    match status {
        400 => invalid_request("The fake was told to fail."),
        401 => hydra_error(401, "request_unauthorized", "The request could not be authorized."),
        403 => hydra_error(403, "request_forbidden", "The request is not allowed."),
        404 => hydra_error(404, "Not Found", "Unable to locate the requested resource"),
        409 => hydra_error(
            409,
            "Unable to insert or update resource because a resource with that value exists already",
            "",
        ),
        503 => hydra_error(
            503,
            "temporarily_unavailable",
            "The authorization server is currently unable to handle the request due to a temporary overloading or maintenance of the server.",
        ),
        other => hydra_error(
            other,
            "server_error",
            "The authorization server encountered an unexpected condition that prevented it from fulfilling the request.",
        ),
    }
}

async fn handle(req: HttpRequest, body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let recorded = record(&req, &body);
    let method = recorded.method.clone();
    let path = recorded.path.clone();
    let health = path.starts_with("/health/");
    let fault = {
        let mut state = lock(&shared.state);
        state.requests.push(recorded.clone());
        if health {
            None
        } else {
            state.fault.clone()
        }
    };
    let reply = match fault {
        None => route(&shared, &method, &path, &recorded.query, &body),
        Some(Fault::Status(status)) => hydra_error_for_status(status),
        Some(Fault::Hang) => return hang().await,
        Some(Fault::Malformed) => return malformed(MALFORMED_BODY),
    };
    send(openapi::hydra(), &shared.violations, &method, &path, reply)
}

fn route(
    shared: &Shared,
    method: &str,
    path: &str,
    query: &[(String, String)],
    raw: &[u8],
) -> Reply {
    match (method, path) {
        ("GET", "/health/alive") => Reply::json(200, json!({"status": "ok"})),
        ("GET", "/health/ready") => {
            if lock(&shared.state).not_ready {
                Reply::json(
                    503,
                    json!({"errors": {"database": "the fake Hydra was told it is not ready"}}),
                )
            } else {
                Reply::json(200, json!({"status": "ok"}))
            }
        }
        ("GET", LOGIN_PATH) => get_flow(shared, Kind::Login, query),
        ("GET", CONSENT_PATH) => get_flow(shared, Kind::Consent, query),
        ("PUT", LOGIN_ACCEPT_PATH) => accept_login(shared, query, raw),
        ("PUT", LOGIN_REJECT_PATH) => reject(shared, Kind::Login, path, query, raw),
        ("PUT", CONSENT_ACCEPT_PATH) => accept_consent(shared, query, raw),
        ("PUT", CONSENT_REJECT_PATH) => reject(shared, Kind::Consent, path, query, raw),
        (_, _) if clients::serves(method, path) => clients::route(shared, method, path, query, raw),
        _ => {
            lock(&shared.violations).push(format!(
                "unhandled request: {method} {path} (the fake Hydra does not implement it)"
            ));
            let mut reply =
                hydra_error(404, "Not Found", "Unable to locate the requested resource");
            reply.check = false;
            reply
        }
    }
}

/// `login_challenge` (or `consent_challenge`), falling back to `challenge`.
fn challenge_param(kind: Kind, query: &[(String, String)]) -> Option<String> {
    let specific = format!("{}_challenge", kind.word());
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    get(&specific).or_else(|| get("challenge"))
}

fn missing_challenge() -> Reply {
    invalid_request("Query parameter 'challenge' is not defined but should have been.")
}

fn not_found() -> Reply {
    hydra_error(404, "Not Found", "Unable to locate the requested resource")
}

fn expired(kind: Kind) -> Reply {
    hydra_error(
        401,
        "request_unauthorized",
        &format!(
            "The request could not be authorized. The {} request has expired, please try again.",
            kind.word()
        ),
    )
}

/// The flow for a challenge usable by a PUT: unknown, wrong-purpose and
/// expired challenges give their error reply.
fn flow_for(state: &HydraState, kind: Kind, challenge: &str) -> Result<(FlowState, Value), Reply> {
    match state.flows.get(challenge) {
        Some(flow) if flow.kind == kind => match flow.state {
            FlowState::Expired => Err(expired(kind)),
            ref other => Ok((other.clone(), flow.request.clone())),
        },
        _ => Err(not_found()),
    }
}

fn get_flow(shared: &Shared, kind: Kind, query: &[(String, String)]) -> Reply {
    let Some(challenge) = challenge_param(kind, query) else {
        return missing_challenge();
    };
    let state = lock(&shared.state);
    match flow_for(&state, kind, &challenge) {
        Err(reply) => reply,
        Ok((FlowState::Gone(redirect_to), _)) => {
            Reply::json(410, json!({"redirect_to": redirect_to}))
        }
        Ok((_, request)) => Reply::json(200, request),
    }
}

fn request_url(request: &Value) -> String {
    request["request_url"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Decodes a PUT body. Non-JSON and schema-violating bodies give
/// `Err(message)`; violations are recorded.
fn decode_body(shared: &Shared, path: &str, raw: &[u8]) -> Result<Value, String> {
    if raw.is_empty() {
        lock(&shared.violations).push(format!("PUT {path}: empty request body"));
        return Err("EOF".to_owned());
    }
    let body: Value = match serde_json::from_slice(raw) {
        Ok(body) => body,
        Err(e) => {
            lock(&shared.violations).push(format!("PUT {path}: request body is not JSON: {e}"));
            return Err(e.to_string());
        }
    };
    match openapi::hydra().check_request("PUT", path, &body) {
        Ok(()) => Ok(body),
        Err(e) => {
            lock(&shared.violations).push(format!("received body: {e}"));
            Err(e)
        }
    }
}

fn accept_login(shared: &Shared, query: &[(String, String)], raw: &[u8]) -> Reply {
    let Some(challenge) = challenge_param(Kind::Login, query) else {
        return missing_challenge();
    };
    let body = match decode_body(shared, LOGIN_ACCEPT_PATH, raw) {
        Ok(body) => body,
        // Go decodes a missing or null `subject` as "" without complaint.
        Err(_) if raw_subject_missing(raw) => {
            return invalid_request("Field 'subject' must not be empty.");
        }
        Err(e) => return invalid_request(&format!("Unable to decode body because: {e}")),
    };
    let subject = body["subject"].as_str().unwrap_or_default().to_owned();
    if subject.is_empty() {
        return invalid_request("Field 'subject' must not be empty.");
    }
    let mut state = lock(&shared.state);
    let request = match flow_for(&state, Kind::Login, &challenge) {
        Err(reply) => return reply,
        Ok((_, request)) => request,
    };
    let url = request_url(&request);
    let flow_subject = request["subject"].as_str().unwrap_or_default();
    if request["skip"] == Value::Bool(true) && !flow_subject.is_empty() && flow_subject != subject {
        // CONTRACT §1.1: a remembered subject that differs forces re-login.
        return Reply::json(
            200,
            json!({"redirect_to": append_query(&url, "prompt", "login")}),
        );
    }
    state.accepted_logins.push(body);
    Reply::json(
        200,
        json!({"redirect_to": append_query(&url, "login_verifier", &mint_verifier())}),
    )
}

/// True when the raw body is a JSON object whose `subject` is absent or
/// null and which has no other problem than that.
fn raw_subject_missing(raw: &[u8]) -> bool {
    let Ok(mut body) = serde_json::from_slice::<Value>(raw) else {
        return false;
    };
    let Some(object) = body.as_object_mut() else {
        return false;
    };
    if !object.get("subject").is_none_or(Value::is_null) {
        return false;
    }
    object.insert("subject".to_owned(), json!("placeholder"));
    openapi::hydra()
        .check_request("PUT", LOGIN_ACCEPT_PATH, &body)
        .is_ok()
}

fn accept_consent(shared: &Shared, query: &[(String, String)], raw: &[u8]) -> Reply {
    let Some(challenge) = challenge_param(Kind::Consent, query) else {
        return missing_challenge();
    };
    let Ok(body) = decode_body(shared, CONSENT_ACCEPT_PATH, raw) else {
        // CONTRACT §1: the raw decode error is passed through.
        return hydra_error(400, "error", "The error is unrecognizable");
    };
    let mut state = lock(&shared.state);
    let request = match flow_for(&state, Kind::Consent, &challenge) {
        Err(reply) => return reply,
        Ok((_, request)) => request,
    };
    state.accepted_consents.push(body);
    Reply::json(
        200,
        json!({"redirect_to": append_query(&request_url(&request), "consent_verifier", &mint_verifier())}),
    )
}

fn reject(
    shared: &Shared,
    kind: Kind,
    path: &str,
    query: &[(String, String)],
    raw: &[u8],
) -> Reply {
    let Some(challenge) = challenge_param(kind, query) else {
        return missing_challenge();
    };
    let body = match (decode_body(shared, path, raw), kind) {
        (Ok(body), _) => body,
        (Err(e), Kind::Login) => {
            return invalid_request(&format!("Unable to decode body because: {e}"))
        }
        (Err(_), Kind::Consent) => return hydra_error(400, "error", "The error is unrecognizable"),
    };
    let mut state = lock(&shared.state);
    let request = match flow_for(&state, kind, &challenge) {
        Err(reply) => return reply,
        Ok((_, request)) => request,
    };
    let verifier_name = format!("{}_verifier", kind.word());
    match kind {
        Kind::Login => state.rejected_logins.push(body),
        Kind::Consent => state.rejected_consents.push(body),
    }
    Reply::json(
        200,
        json!({"redirect_to": append_query(&request_url(&request), &verifier_name, &mint_verifier())}),
    )
}
