//! A stateful, in-process fake of the Ory Hydra v26.2.0 ADMIN API, limited
//! to what a login/consent provider calls (login, consent, logout and device
//! requests, consent sessions), plus the OAuth2 client endpoints
//! (`fake_hydra/clients.rs`). Its answers are checked against exchanges recorded
//! from a real Hydra in `tests/api/recorded.rs`.
//! Every body it receives or serves is checked against Hydra's OpenAPI spec; violations are
//! collected in `contract_violations()` rather
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
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::openapi;

mod clients;

/// The content type Hydra and Kratos put on their JSON answers.
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";
/// ... and on their error bodies (`{"error": …}`).
pub const JSON_ERROR_CONTENT_TYPE: &str = "application/json";
/// The content type of Hydra's OAuth2 endpoints (token, device authorization: fosite's writer).
pub const OAUTH2_CONTENT_TYPE: &str = "application/json;charset=UTF-8";

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
    /// The headers a caller may add for the server's sake ([`NOTED_HEADERS`]), as received.
    pub headers: Vec<(String, String)>,
}

/// The request headers the fakes note: credentials and the context Hera passes on.
pub const NOTED_HEADERS: [&str; 6] = [
    "authorization",
    "x-request-id",
    "traceparent",
    "tracestate",
    "x-forwarded-proto",
    "cookie",
];

impl Recorded {
    /// The value of the noted header `name`, when the request carried it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of query parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A failure mode a fake can be switched into (health endpoints excepted).
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Answer with this status and the service's error body (flat for
    /// Hydra, nested for Kratos).
    Status(u16),
    /// Never answer (the handler sleeps for an hour).
    Hang,
    /// `200` with truncated JSON and a JSON content type.
    Malformed,
    /// With this probability, one of the faults above (a 500, a 503, truncated JSON or a
    /// hang); otherwise answer normally.
    Random(f64),
}

/// What a fake does wrong, and how slowly: one fault for every request, faults for one
/// endpoint, and an added latency. Health probes are never affected.
#[derive(Clone, Debug, Default)]
pub struct FaultInjection {
    pub fault: Option<Fault>,
    /// `(method, path prefix, fault)`: the first match wins over `fault`.
    pub targeted: Vec<(String, String, Fault)>,
    /// Added before every answer, like a network round trip.
    pub latency: Duration,
}

impl FaultInjection {
    /// The concrete fault for this request, if any (a `Random` fault is resolved here).
    pub fn pick(&self, method: &str, path: &str) -> Option<Fault> {
        if path.starts_with("/health/") {
            return None;
        }
        let fault = self
            .targeted
            .iter()
            .find(|(m, prefix, _)| m == method && path.starts_with(prefix.as_str()))
            .map(|(_, _, fault)| fault.clone())
            .or_else(|| self.fault.clone())?;
        match fault {
            Fault::Random(probability) => {
                use rand::Rng;
                let mut rng = rand::rng();
                if !rng.random_bool(probability.clamp(0.0, 1.0)) {
                    return None;
                }
                Some(match rng.random_range(0..4) {
                    0 => Fault::Status(500),
                    1 => Fault::Status(503),
                    2 => Fault::Malformed,
                    _ => Fault::Hang,
                })
            }
            concrete => Some(concrete),
        }
    }
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
    /// The `context` of the login accept; served as `null` when `None`.
    pub context: Option<Value>,
    /// Served as `login_session_id`; equals the login request's
    /// `session_id` in real flows (the consent's own `login_challenge` is an
    /// internal id, not the login challenge string). Random 32-hex default.
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

/// Hydra's `oidc_context` for an authorization request without OpenID Connect parameters:
/// an empty object (no empty arrays).
fn default_oidc_context() -> Value {
    json!({})
}

/// A complete OAuth2 client as Hydra embeds it in login and consent
/// requests (the secret is blanked, and Hydra omits a blank `client_secret`
/// entirely).
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
        "contacts": [],
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
    /// True for an answer without a body or content type (`204`); `body` is ignored.
    pub empty: bool,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            body,
            headers: Vec::new(),
            check: true,
            empty: false,
        }
    }

    /// An answer without a body, as Go's `w.WriteHeader(204)` sends it.
    pub fn empty(status: u16) -> Reply {
        Reply {
            empty: true,
            ..Reply::json(status, Value::Null)
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
    if reply.empty || reply.status == 204 {
        if reply.check {
            if let Err(e) = spec.check_empty_response(method, path, reply.status) {
                lock(violations).push(format!("served empty answer: {e}"));
            }
        }
        let status =
            StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = HttpResponse::build(status);
        for (name, value) in reply.headers {
            response.insert_header((name, value));
        }
        return response.finish();
    }
    if reply.check {
        if let Err(e) = spec.check_response(method, path, reply.status, &reply.body) {
            lock(violations).push(format!("served body: {e}"));
        }
    }
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    // Error bodies go through Ory's error writer, which leaves out the charset.
    let content_type = if reply.status >= 400 && reply.body.get("error").is_some() {
        JSON_ERROR_CONTENT_TYPE
    } else {
        JSON_CONTENT_TYPE
    };
    response.insert_header(("content-type", content_type));
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
        headers: NOTED_HEADERS
            .iter()
            .filter_map(|name| {
                let value = req.headers().get(*name)?.to_str().ok()?;
                Some(((*name).to_owned(), value.to_owned()))
            })
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
    Logout,
    Device,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Login => "login",
            Kind::Consent => "consent",
            Kind::Logout => "logout",
            Kind::Device => "device",
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
    faults: FaultInjection,
    not_ready: bool,
    accepted_logins: Vec<Value>,
    rejected_logins: Vec<Value>,
    accepted_consents: Vec<Value>,
    rejected_consents: Vec<Value>,
    requests: Vec<Recorded>,
    /// Challenges of accepted and rejected logout requests, in order.
    accepted_logouts: Vec<String>,
    rejected_logouts: Vec<String>,
    /// User codes Hydra issued to devices: code → the device's client.
    user_codes: HashMap<String, UserCode>,
    /// Bodies of successful device accepts.
    accepted_user_codes: Vec<Value>,
    consent_sessions: Vec<StoredConsentSession>,
    /// Page tokens handed out in `Link` headers → the offset they stand for.
    page_tokens: HashMap<String, usize>,
    /// `(subject, client)` of every successful consent-session revocation.
    revoked_consents: Vec<(String, String)>,
    /// `/admin/clients` (see `clients.rs`).
    clients: clients::ClientStore,
    /// What each minted verifier stands for, for the public side (`fake_hydra_public`).
    verifiers: HashMap<String, Verified>,
    /// Hydra's public URL in the `redirect_to`s of logout and device accepts; `HYDRA_PUBLIC`
    /// unless a whole-chain test runs the public fake (`set_public_url`).
    public_url: Option<String>,
}

impl HydraState {
    fn public_base(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| HYDRA_PUBLIC.to_owned())
    }
}

/// What a login or consent verifier stands for: the challenge it answers and the accept or
/// reject body Hera sent.
#[derive(Clone, Debug)]
pub struct Verified {
    pub challenge: String,
    /// `login` or `consent`.
    pub kind: &'static str,
    pub accepted: bool,
    pub body: Value,
}

struct Shared {
    state: Mutex<HydraState>,
    violations: Mutex<Vec<String>>,
}

/// The fake Hydra admin API. Dropping the last clone stops the server. The handle `start`
/// returns owns the fake for its test: dropping it fails the test if the fake saw a contract
/// violation (clones, such as the public fake's, do not check).
pub struct FakeHydra {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub url: String,
    shared: Arc<Shared>,
    _server: Arc<ServerGuard>,
    owner: bool,
}

impl Clone for FakeHydra {
    fn clone(&self) -> FakeHydra {
        FakeHydra {
            url: self.url.clone(),
            shared: self.shared.clone(),
            _server: self._server.clone(),
            owner: false,
        }
    }
}

impl Drop for FakeHydra {
    fn drop(&mut self) {
        if self.owner {
            super::violations::fail_on_violations(&[(
                "the fake Hydra admin API",
                self.take_contract_violations(),
            )]);
        }
    }
}

const LOGIN_PATH: &str = "/admin/oauth2/auth/requests/login";
const LOGIN_ACCEPT_PATH: &str = "/admin/oauth2/auth/requests/login/accept";
const LOGIN_REJECT_PATH: &str = "/admin/oauth2/auth/requests/login/reject";
const CONSENT_PATH: &str = "/admin/oauth2/auth/requests/consent";
const CONSENT_ACCEPT_PATH: &str = "/admin/oauth2/auth/requests/consent/accept";
const CONSENT_REJECT_PATH: &str = "/admin/oauth2/auth/requests/consent/reject";
const LOGOUT_PATH: &str = "/admin/oauth2/auth/requests/logout";
const LOGOUT_ACCEPT_PATH: &str = "/admin/oauth2/auth/requests/logout/accept";
const LOGOUT_REJECT_PATH: &str = "/admin/oauth2/auth/requests/logout/reject";
const DEVICE_ACCEPT_PATH: &str = "/admin/oauth2/auth/requests/device/accept";
const CONSENT_SESSIONS_PATH: &str = "/admin/oauth2/auth/sessions/consent";
/// `GET /admin/clients/{id}`; the id follows.
/// Hydra's public URL in the `redirect_to`s the fake mints.
pub const HYDRA_PUBLIC: &str = "http://127.0.0.1:4444";

/// The hint Hydra adds when a user code is unknown, expired or malformed.
pub const USER_CODE_NOT_FOUND: &str =
    "The 'user_code' session could not be found or has expired or is otherwise malformed.";

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
            _server: Arc::new(server),
            owner: true,
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
        let request = json!({
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
            "context": spec.context.unwrap_or(Value::Null),
        });
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

    /// The browser redeemed the verifier of the accepted logout `challenge` at Hydra's public
    /// `/oauth2/sessions/logout`: from now on GET answers `410 {"redirect_to": request_url}`.
    pub fn logout_verifier_used(&self, challenge: &str) {
        if let Some(flow) = self.state().flows.get_mut(challenge) {
            flow.state = FlowState::Gone(request_url(&flow.request));
        }
    }

    /// From now on GET and PUT on `challenge` answer 401, as Hydra does for a
    /// challenge older than `ttl.login_consent_request` (30 minutes by default).
    pub fn expire(&self, challenge: &str) {
        if let Some(flow) = self.state().flows.get_mut(challenge) {
            flow.state = FlowState::Expired;
        }
    }

    /// From now on GET on `challenge` answers `410 {"redirect_to": ..}`, as
    /// Hydra does for a flow it holds as handled (a logout whose verifier the
    /// browser redeemed; login and consent challenges minted before v25). PUTs
    /// still succeed.
    pub fn mark_gone(&self, challenge: &str, redirect_to: &str) {
        if let Some(flow) = self.state().flows.get_mut(challenge) {
            flow.state = FlowState::Gone(redirect_to.to_owned());
        }
    }

    /// Applies to every request except `/health/*`.
    pub fn set_fault(&self, fault: Option<Fault>) {
        self.state().faults.fault = fault;
    }

    /// A fault for one endpoint only (`method`, path prefix).
    pub fn set_fault_on(&self, method: &str, path_prefix: &str, fault: Fault) {
        let targeted = &mut self.state().faults.targeted;
        targeted.push((method.to_owned(), path_prefix.to_owned(), fault));
    }

    /// Latency added to every answer.
    pub fn set_latency(&self, latency: Duration) {
        self.state().faults.latency = latency;
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

    /// Every request received so far, as `METHOD path`.
    pub fn calls(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }

    /// Makes logout and device accepts send browsers to this public URL (the public fake's)
    /// instead of `HYDRA_PUBLIC`.
    pub fn set_public_url(&self, url: &str) {
        self.state().public_url = Some(url.to_owned());
    }

    /// The scopes of the consent Hydra would skip with for `subject` and `client_id`, as
    /// `FindGrantedAndRememberedConsentRequest` finds it: the **latest** consent that was granted
    /// with `remember: true`, was not itself a skipped one, and has not expired. `None` when there
    /// is none.
    pub fn remembered_scopes(&self, subject: &str, client_id: &str) -> Option<Vec<String>> {
        let now = OffsetDateTime::now_utc();
        let state = self.state();
        let latest = state
            .consent_sessions
            .iter()
            .rev()
            .filter(|s| s.subject == subject && s.client_id == client_id)
            .find(|s| s.body["remember"] == Value::Bool(true) && s.is_live(now))?;
        Some(
            latest.body["grant_scope"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
        )
    }

    /// What a verifier minted by an accept or reject stands for.
    pub fn verified(&self, verifier: &str) -> Option<Verified> {
        self.state().verifiers.get(verifier).cloned()
    }

    /// The contract violations seen so far (they still fail the test at the end).
    pub fn contract_violations(&self) -> Vec<String> {
        lock(&self.shared.violations).clone()
    }

    /// The contract violations seen so far, which no longer fail the test: for tests that
    /// provoke one on purpose and assert on it.
    pub fn take_contract_violations(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.shared.violations))
    }
}

/// Real challenges are base64url AEAD blobs of a gzipped flow, 1–2 KB;
/// 900 random bytes give 1200 characters.
fn mint_challenge() -> String {
    random_b64url(900)
}

fn remember_verifier(
    state: &mut HydraState,
    challenge: &str,
    kind: Kind,
    accepted: bool,
    body: Value,
) -> String {
    let verifier = mint_verifier();
    state.verifiers.insert(
        verifier.clone(),
        Verified {
            challenge: challenge.to_owned(),
            kind: kind.word(),
            accepted,
            body,
        },
    );
    verifier
}

fn mint_verifier() -> String {
    random_b64url(160)
}

/// A flat Hydra error body: `{error, error_description}`, the hint appended to the
/// description (no `error_hint`, `status_code` or `error_debug`).
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
    let (fault, latency) = {
        let mut state = lock(&shared.state);
        state.requests.push(recorded.clone());
        (state.faults.pick(&method, &path), state.faults.latency)
    };
    if !latency.is_zero() {
        actix_web::rt::time::sleep(latency).await;
    }
    let reply = match fault {
        None => route(&shared, &method, &path, &recorded.query, &body),
        Some(Fault::Status(status)) => hydra_error_for_status(status),
        Some(Fault::Hang) => return hang().await,
        Some(Fault::Malformed | Fault::Random(_)) => return malformed(MALFORMED_BODY),
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
        ("GET", LOGOUT_PATH) => get_flow(shared, Kind::Logout, query),
        ("PUT", LOGOUT_ACCEPT_PATH) => accept_logout(shared, query, raw),
        ("PUT", LOGOUT_REJECT_PATH) => reject_logout(shared, query, raw),
        ("PUT", DEVICE_ACCEPT_PATH) => accept_user_code(shared, query, raw),
        ("GET", CONSENT_SESSIONS_PATH) => list_consent_sessions(shared, query),
        ("DELETE", CONSENT_SESSIONS_PATH) => revoke_consent_sessions(shared, query),
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
    if kind == Kind::Logout {
        // Hydra words the logout expiry differently.
        return hydra_error(
            401,
            "request_unauthorized",
            "The request could not be authorized. The logout request has expired, please try the flow again.",
        );
    }
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
        // Logout requests live in Hydra's database: an unknown one is a missing row.
        _ if kind == Kind::Logout => Err(hydra_error(404, clients::NOT_FOUND_ERROR, "")),
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
        // A skipped login accepted for another subject: Hydra restarts the
        // authorization with `prompt=login`.
        return Reply::json(
            200,
            json!({"redirect_to": append_query(&url, "prompt", "login")}),
        );
    }
    state.accepted_logins.push(body.clone());
    let verifier = remember_verifier(&mut state, &challenge, Kind::Login, true, body);
    Reply::json(
        200,
        json!({"redirect_to": append_query(&url, "login_verifier", &verifier)}),
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
        // Consent accept and reject pass the raw decode error through.
        return hydra_error(400, "error", "The error is unrecognizable");
    };
    let mut state = lock(&shared.state);
    let request = match flow_for(&state, Kind::Consent, &challenge) {
        Err(reply) => return reply,
        Ok((_, request)) => request,
    };
    state.accepted_consents.push(body.clone());
    let verifier = remember_verifier(&mut state, &challenge, Kind::Consent, true, body);
    Reply::json(
        200,
        json!({"redirect_to": append_query(&request_url(&request), "consent_verifier", &verifier)}),
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
        (Err(_), _) => return hydra_error(400, "error", "The error is unrecognizable"),
    };
    let mut state = lock(&shared.state);
    let request = match flow_for(&state, kind, &challenge) {
        Err(reply) => return reply,
        Ok((_, request)) => request,
    };
    let verifier_name = format!("{}_verifier", kind.word());
    match kind {
        Kind::Login => state.rejected_logins.push(body.clone()),
        Kind::Consent => state.rejected_consents.push(body.clone()),
        Kind::Logout | Kind::Device => unreachable!("logout and device have their own rejects"),
    }
    let verifier = remember_verifier(&mut state, &challenge, kind, false, body);
    Reply::json(
        200,
        json!({"redirect_to": append_query(&request_url(&request), &verifier_name, &verifier)}),
    )
}

// ---------------------------------------------------------------------------
// Logout, device verification, consent sessions and clients

/// What `GET /admin/oauth2/auth/requests/logout` serves for a challenge.
#[derive(Clone, Debug)]
pub struct LogoutSpec {
    pub subject: String,
    /// Omitted from the served body when empty (Hydra: omitempty).
    pub sid: String,
    /// True when the RP sent an `id_token_hint`.
    pub rp_initiated: bool,
    /// `None` is served as `"client": null` (an OP-initiated logout).
    pub client: Option<Value>,
    /// `None` builds `/oauth2/sessions/logout?id_token_hint=…&post_logout_redirect_uri=…&state=…`
    /// (Hydra serves the path and query the browser asked for, without its own URL).
    pub request_url: Option<String>,
}

impl Default for LogoutSpec {
    fn default() -> Self {
        LogoutSpec {
            subject: String::new(),
            sid: random_uuid(),
            rp_initiated: true,
            client: Some(client("third-party-app")),
            request_url: None,
        }
    }
}

/// A user code Hydra issued to a device (`POST /oauth2/device/auth`).
#[derive(Clone, Debug)]
struct UserCode {
    client_id: String,
    expired: bool,
}

/// A completed consent as `GET /admin/oauth2/auth/sessions/consent` lists it.
#[derive(Clone, Debug)]
pub struct ConsentSessionSpec {
    pub subject: String,
    pub client: Value,
    pub grant_scope: Vec<String>,
    pub grant_audience: Vec<String>,
    /// RFC 3339.
    pub handled_at: String,
    pub remember: bool,
    pub remember_for: i64,
    pub login_session_id: String,
    /// The consent request had `skip: true`. Hydra stores such a consent but neither lists it
    /// nor counts it as the remembered one.
    pub skipped: bool,
}

impl Default for ConsentSessionSpec {
    fn default() -> Self {
        ConsentSessionSpec {
            subject: String::new(),
            client: client("third-party-app"),
            grant_scope: vec!["openid".to_owned(), "email".to_owned()],
            grant_audience: Vec::new(),
            handled_at: FIXED_TIME.to_owned(),
            remember: true,
            // Remembered indefinitely, so that fixed past dates stay listed.
            remember_for: 0,
            login_session_id: random_hex(16),
            skipped: false,
        }
    }
}

#[derive(Clone, Debug)]
struct StoredConsentSession {
    subject: String,
    client_id: String,
    login_session_id: String,
    skipped: bool,
    /// `handled_at + remember_for` for a remembered consent with `remember_for > 0`.
    expires_at: Option<OffsetDateTime>,
    /// The list element served (`flow.ToListConsentSessionResponse`).
    body: Value,
}

impl StoredConsentSession {
    /// Hydra lists and skips with consents that were not skipped themselves and have not
    /// expired.
    fn is_live(&self, now: OffsetDateTime) -> bool {
        !self.skipped && self.expires_at.is_none_or(|at| at > now)
    }
}

impl FakeHydra {
    /// Registers a logout request and returns its challenge.
    pub fn add_logout(&self, spec: LogoutSpec) -> String {
        let challenge = mint_challenge();
        let request_url = spec.request_url.clone().unwrap_or_else(|| {
            let client_id = spec
                .client
                .as_ref()
                .and_then(|c| c["client_id"].as_str())
                .unwrap_or("app");
            format!(
                "/oauth2/sessions/logout?id_token_hint={}&post_logout_redirect_uri={}&state={}",
                random_b64url(60),
                encode(&format!("https://{client_id}.example.com/signed-out")),
                random_hex(12)
            )
        });
        // Hydra v26.2.0 serves an RP-initiated logout request without these timestamps.
        let now = OffsetDateTime::now_utc();
        let (requested_at, expires_at) = if spec.rp_initiated {
            (Value::Null, Value::Null)
        } else {
            (
                json!(rfc3339(now)),
                json!(rfc3339(now + time::Duration::minutes(30))),
            )
        };
        let mut request = json!({
            "challenge": challenge,
            "subject": spec.subject,
            "request_url": request_url,
            "rp_initiated": spec.rp_initiated,
            "requested_at": requested_at,
            "expires_at": expires_at,
            "client": spec.client,
        });
        if !spec.sid.is_empty() {
            request["sid"] = json!(spec.sid);
        }
        self.insert(challenge.clone(), Kind::Logout, request);
        challenge
    }

    /// A device challenge, as Hydra puts it in `urls.device.verification?device_challenge=…`
    /// when a browser opens `/oauth2/device/verify`.
    pub fn add_device_challenge(&self) -> String {
        let challenge = mint_challenge();
        let request = json!({"request_url": format!("{HYDRA_PUBLIC}/oauth2/device/verify")});
        self.insert(challenge.clone(), Kind::Device, request);
        challenge
    }

    /// Makes `code` a user code Hydra issued to a device of `client_id`. Hydra compares codes
    /// exactly (it looks up an HMAC of the code as sent).
    pub fn add_user_code(&self, code: &str, client_id: &str) {
        self.state().user_codes.insert(
            code.to_owned(),
            UserCode {
                client_id: client_id.to_owned(),
                expired: false,
            },
        );
    }

    /// From now on `code` is refused like an expired user code.
    pub fn expire_user_code(&self, code: &str) {
        if let Some(user_code) = self.state().user_codes.get_mut(code) {
            user_code.expired = true;
        }
    }

    /// Registers a completed consent; its client becomes known to `GET /admin/clients/{id}`.
    pub fn add_consent_session(&self, spec: ConsentSessionSpec) {
        let client_id = spec.client["client_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let consent_request_id = random_hex(16);
        let body = json!({
            "consent_request_id": consent_request_id,
            "grant_scope": spec.grant_scope,
            "grant_access_token_audience": spec.grant_audience,
            "remember_for": spec.remember_for,
            "session": {"access_token": {}, "id_token": {}},
            "remember": spec.remember,
            "handled_at": spec.handled_at,
            "context": {},
            "consent_request": {
                // No longer available in a listed session (Hydra sends "").
                "challenge": "",
                "consent_request_id": consent_request_id,
                "skip": spec.skipped,
                "subject": spec.subject,
                "client": spec.client,
                "request_url": default_request_url(&spec.client, &spec.grant_scope),
                "requested_scope": spec.grant_scope,
                "requested_access_token_audience": spec.grant_audience,
                "oidc_context": default_oidc_context(),
                "login_challenge": random_hex(16),
                "login_session_id": spec.login_session_id,
                "acr": "aal1",
                "amr": ["pwd"],
                "context": {}
            }
        });
        if self.oauth2_client(&client_id).is_none() {
            self.add_oauth2_client(spec.client.clone());
        }
        let expires_at = OffsetDateTime::parse(&spec.handled_at, &Rfc3339)
            .ok()
            .filter(|_| spec.remember && spec.remember_for > 0)
            .map(|at| at + time::Duration::seconds(spec.remember_for));
        let mut state = self.state();
        state.consent_sessions.push(StoredConsentSession {
            subject: spec.subject,
            client_id,
            login_session_id: spec.login_session_id,
            skipped: spec.skipped,
            expires_at,
            body,
        });
    }

    /// Makes `GET /admin/clients/{client_id}` serve `client`.
    pub fn add_client(&self, client: Value) {
        self.add_oauth2_client(client);
    }

    pub fn accepted_logouts(&self) -> Vec<String> {
        self.state().accepted_logouts.clone()
    }

    pub fn rejected_logouts(&self) -> Vec<String> {
        self.state().rejected_logouts.clone()
    }

    /// Bodies of successful device accepts (`{"user_code": …}`).
    pub fn accepted_user_codes(&self) -> Vec<Value> {
        self.state().accepted_user_codes.clone()
    }

    /// `(subject, client)` of every consent-session revocation that succeeded.
    pub fn revoked_consents(&self) -> Vec<(String, String)> {
        self.state().revoked_consents.clone()
    }

    /// How many consent sessions `subject` still has with `client_id`.
    pub fn consent_session_count(&self, subject: &str, client_id: &str) -> usize {
        self.state()
            .consent_sessions
            .iter()
            .filter(|s| s.subject == subject && s.client_id == client_id)
            .count()
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).expect("format an RFC 3339 date-time")
}

fn query_value<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, v)| k == name && !v.is_empty())
        .map(|(_, v)| v.as_str())
}

/// Logout accept and reject take no body (the spec documents none).
fn refuse_logout_body(shared: &Shared, path: &str, raw: &[u8]) {
    if !raw.is_empty() {
        lock(&shared.violations).push(format!("PUT {path}: Hydra takes no request body here"));
    }
}

/// `PUT …/logout/accept`: 200 with the public `/oauth2/sessions/logout?logout_verifier=…`.
/// The request still reads as 200 until the browser redeems that verifier (then 410, see
/// `FakeHydra::logout_verifier_used`); accepting again works.
fn accept_logout(shared: &Shared, query: &[(String, String)], raw: &[u8]) -> Reply {
    refuse_logout_body(shared, LOGOUT_ACCEPT_PATH, raw);
    let Some(challenge) = challenge_param(Kind::Logout, query) else {
        return missing_challenge();
    };
    let mut state = lock(&shared.state);
    if let Err(reply) = flow_for(&state, Kind::Logout, &challenge) {
        return reply;
    }
    state.accepted_logouts.push(challenge.clone());
    let verifier = remember_verifier(&mut state, &challenge, Kind::Logout, true, json!({}));
    let public = state.public_base();
    Reply::json(
        200,
        json!({"redirect_to": format!("{public}/oauth2/sessions/logout?logout_verifier={verifier}")}),
    )
}

/// `PUT …/logout/reject`: 204 without a body; the request is gone afterwards (404).
fn reject_logout(shared: &Shared, query: &[(String, String)], raw: &[u8]) -> Reply {
    refuse_logout_body(shared, LOGOUT_REJECT_PATH, raw);
    let Some(challenge) = challenge_param(Kind::Logout, query) else {
        return missing_challenge();
    };
    let mut state = lock(&shared.state);
    if let Err(reply) = flow_for(&state, Kind::Logout, &challenge) {
        return reply;
    }
    state.flows.remove(&challenge);
    state.rejected_logouts.push(challenge);
    Reply::empty(204)
}

/// `PUT …/device/accept?device_challenge=…` with `{"user_code": …}`. Only
/// `device_challenge` is read: there is no `challenge=` fallback here.
fn accept_user_code(shared: &Shared, query: &[(String, String)], raw: &[u8]) -> Reply {
    let Some(challenge) = query_value(query, "device_challenge").map(str::to_owned) else {
        return invalid_request(
            "Query parameter 'device_challenge' is not defined but should have been.",
        );
    };
    let body = match decode_body(shared, DEVICE_ACCEPT_PATH, raw) {
        Ok(body) => body,
        Err(e) => return invalid_request(&format!("Unable to decode request body: {e}")),
    };
    let user_code = body["user_code"].as_str().unwrap_or_default().to_owned();
    if user_code.is_empty() {
        return invalid_request("Field 'user_code' must not be empty.");
    }
    let mut state = lock(&shared.state);
    if let Err(reply) = flow_for(&state, Kind::Device, &challenge) {
        return reply;
    }
    let client_id = match state.user_codes.get(&user_code) {
        Some(code) if !code.expired => code.client_id.clone(),
        _ => return invalid_request(USER_CODE_NOT_FOUND),
    };
    state.accepted_user_codes.push(body.clone());
    let verifier = remember_verifier(&mut state, &challenge, Kind::Device, true, body);
    let public = state.public_base();
    Reply::json(
        200,
        // Hydra masks the user code in the URL it hands out.
        json!({"redirect_to": format!(
            "{public}/oauth2/device/verify?client_id={}&device_verifier={verifier}&user_code=%2A%2A%2A%2A",
            encode(&client_id),
        )}),
    )
}

/// Default and largest `page_size` (the spec's bounds).
const DEFAULT_PAGE_SIZE: usize = 250;
const MAX_PAGE_SIZE: usize = 500;

/// `GET /admin/oauth2/auth/sessions/consent?subject=…[&login_session_id=…][&page_size=…]
/// [&page_token=…]`: one page, and a `Link` header with `first` and, unless this is the last
/// page, `next` (ory/x keysetpagination: the request's own path and query with `page_size` and
/// `page_token` set, keys sorted as Go's `url.Values.Encode` sorts them, joined by `,`).
fn list_consent_sessions(shared: &Shared, query: &[(String, String)]) -> Reply {
    let Some(subject) = query_value(query, "subject") else {
        return invalid_request("Query parameter 'subject' is not defined but should have been.");
    };
    let size = match query_value(query, "page_size").map(str::parse::<usize>) {
        None => DEFAULT_PAGE_SIZE,
        Some(Ok(size)) if (1..=MAX_PAGE_SIZE).contains(&size) => size,
        Some(Ok(size)) => {
            lock(&shared.violations).push(format!(
                "GET {CONSENT_SESSIONS_PATH}: page_size {size} is outside 1..={MAX_PAGE_SIZE}"
            ));
            size.clamp(1, MAX_PAGE_SIZE)
        }
        Some(Err(e)) => {
            return invalid_request(&format!("Unable to parse pagination parameters: {e}"))
        }
    };
    let mut state = lock(&shared.state);
    let offset = match query_value(query, "page_token") {
        None => 0,
        Some(token) => match state.page_tokens.get(token) {
            Some(offset) => *offset,
            None => {
                return invalid_request(
                    "Unable to parse pagination parameters: the page token is invalid",
                )
            }
        },
    };
    let login_session_id = query_value(query, "login_session_id");
    let matching: Vec<Value> = state
        .consent_sessions
        .iter()
        .filter(|s| s.subject == subject && s.is_live(OffsetDateTime::now_utc()))
        .filter(|s| login_session_id.is_none_or(|id| s.login_session_id == id))
        .map(|s| s.body.clone())
        .collect();
    let page: Vec<Value> = matching.iter().skip(offset).take(size).cloned().collect();
    let is_last = offset + size >= matching.len();

    let mut link = vec![page_link(&mut state, query, 0, size, "first")];
    if !is_last {
        link.push(page_link(&mut state, query, offset + size, size, "next"));
    }
    let mut reply = Reply::json(200, Value::Array(page));
    reply.headers.push(("link", link.join(",")));
    reply
}

fn page_link(
    state: &mut HydraState,
    query: &[(String, String)],
    offset: usize,
    size: usize,
    rel: &str,
) -> String {
    let token = random_b64url(48);
    state.page_tokens.insert(token.clone(), offset);
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .filter(|(k, _)| k != "page_token" && k != "page_size")
        .cloned()
        .collect();
    pairs.push(("page_size".to_owned(), size.to_string()));
    pairs.push(("page_token".to_owned(), token));
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let encoded: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("<{CONSENT_SESSIONS_PATH}?{encoded}>; rel=\"{rel}\"")
}

/// `DELETE /admin/oauth2/auth/sessions/consent`: `subject` + `client` (that client's
/// sessions), `subject` + `all=true` (every session), or `consent_request_id` alone; any other
/// combination is a 400. Revoking nothing is still a 204.
fn revoke_consent_sessions(shared: &Shared, query: &[(String, String)]) -> Reply {
    let subject = query_value(query, "subject").map(str::to_owned);
    let client = query_value(query, "client").map(str::to_owned);
    let consent_request_id = query_value(query, "consent_request_id").map(str::to_owned);
    let all = query_value(query, "all") == Some("true");
    let mut state = lock(&shared.state);
    match (subject, client, consent_request_id, all) {
        (Some(subject), Some(client), None, false) => {
            state
                .consent_sessions
                .retain(|s| !(s.subject == subject && s.client_id == client));
            state.revoked_consents.push((subject, client));
        }
        (Some(subject), None, None, true) => {
            state.consent_sessions.retain(|s| s.subject != subject);
            state.revoked_consents.push((subject, "*".to_owned()));
        }
        (None, None, Some(id), false) => {
            state
                .consent_sessions
                .retain(|s| s.body["consent_request_id"] != json!(id));
        }
        _ => return invalid_request("Invalid combination of query parameters."),
    }
    Reply::empty(204)
}
