//! A stateful, in-process fake of Ory Kratos v26.2.0: the PUBLIC API
//! (`/sessions/whoami`, `/self-service/logout/browser`, health, and the browser self-service
//! flows, sessions and error records in `selfservice.rs`) and the ADMIN API
//! (`/admin/identities/{id}`, session extension, health) on two ports, like real Kratos
//! (4433/4434). Every served JSON body is checked against Kratos' OpenAPI spec into
//! `contract_violations()`, and its answers against exchanges recorded from a real Kratos in
//! `tests/api/recorded*.rs`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::fake_hydra::{
    bind_local, hang, lock, malformed, random_uuid, record, send, spawn_servers, Configure, Fault,
    FaultInjection, Recorded, Reply, ServerGuard, FIXED_TIME,
};
use super::openapi;

mod nodes;
mod selfservice;
#[allow(unused_imports)]
pub use selfservice::{csrf_cookie_name, integrity, Config, CourierMessage, User};

/// Kratos' default session cookie name. In the fake the cookie's value is
/// simply the session token.
pub const SESSION_COOKIE: &str = "ory_kratos_session";

/// What `Fault::Malformed` serves.
pub const MALFORMED_BODY: &str = r#"{"id": "x", "identity": {"id"#;

/// The reason Kratos gives on a whoami 401 (whose body has no `error.id`).
pub const WHOAMI_401_REASON: &str = "No valid session credentials found in the request.";

/// A full identity as the Kratos ADMIN API returns it,
/// including `metadata_admin` and password `credentials`.
pub fn identity(id: &str, email: &str, first: &str, last: &str) -> Value {
    json!({
        "id": id,
        "credentials": {
            "password": {
                "type": "password",
                "identifiers": [email],
                "version": 0,
                "created_at": FIXED_TIME,
                "updated_at": FIXED_TIME
            }
        },
        "schema_id": "default",
        "schema_url": "http://127.0.0.1:4433/schemas/ZGVmYXVsdA",
        "state": "active",
        "state_changed_at": FIXED_TIME,
        "traits": {"email": email, "name": {"first": first, "last": last}},
        "verifiable_addresses": [{
            "id": random_uuid(),
            "value": email,
            "verified": true,
            "via": "email",
            "status": "completed",
            "verified_at": FIXED_TIME,
            "created_at": FIXED_TIME,
            "updated_at": FIXED_TIME
        }],
        "recovery_addresses": [{
            "id": random_uuid(),
            "value": email,
            "via": "email",
            "created_at": FIXED_TIME,
            "updated_at": FIXED_TIME
        }],
        "metadata_public": null,
        "metadata_admin": null,
        "created_at": FIXED_TIME,
        "updated_at": FIXED_TIME,
        "organization_id": null
    })
}

/// The identity as the PUBLIC API embeds it: no `metadata_admin`, no
/// `credentials`.
pub fn public_identity(mut identity: Value) -> Value {
    if let Some(object) = identity.as_object_mut() {
        object.remove("metadata_admin");
        object.remove("credentials");
    }
    identity
}

pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).expect("format an RFC 3339 date-time")
}

/// The AAL Kratos credits an authentication method with.
fn method_aal(method: &str) -> &'static str {
    match method {
        "totp" | "webauthn" | "lookup_secret" => "aal2",
        _ => "aal1",
    }
}

/// A full session as whoami returns it. `identity` may be
/// an admin identity; `metadata_admin` and `credentials` are stripped.
pub fn session(
    id: &str,
    identity: Value,
    authenticated_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    aal: &str,
    methods: &[&str],
) -> Value {
    let authenticated = rfc3339(authenticated_at);
    json!({
        "id": id,
        "active": true,
        "expires_at": rfc3339(expires_at),
        "authenticated_at": authenticated,
        "issued_at": authenticated,
        "authenticator_assurance_level": aal,
        "authentication_methods": methods
            .iter()
            .map(|m| json!({"method": m, "aal": method_aal(m), "completed_at": authenticated}))
            .collect::<Vec<_>>(),
        "identity": public_identity(identity),
        "devices": [{
            "id": random_uuid(),
            "ip_address": "127.0.0.1",
            "user_agent": "Mozilla/5.0 (hera tests)",
            "location": ""
        }]
    })
}

/// A nested Kratos error body: `{"error": {"code", "status", "message"}}`.
pub fn kratos_error(code: u16, status: &str, message: &str) -> Value {
    json!({"error": {"code": code, "status": status, "message": message}})
}

/// The error body Kratos (herodot) would answer `code` with.
pub fn kratos_error_for_status(code: u16) -> Value {
    let (status, message) = match code {
        400 => (
            "Bad Request",
            "The request was malformed or contained invalid parameters",
        ),
        401 => ("Unauthorized", "The request could not be authorized"),
        403 => ("Forbidden", "The requested action was forbidden"),
        404 => ("Not Found", "The requested resource could not be found"),
        409 => (
            "Conflict",
            "The resource could not be created due to a conflict",
        ),
        500 => (
            "Internal Server Error",
            "An internal server error occurred, please contact the system administrator",
        ),
        other => {
            let reason = actix_web::http::StatusCode::from_u16(other)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Error");
            (reason, reason)
        }
    };
    kratos_error(code, status, message)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Port {
    Public,
    Admin,
}

#[derive(Default)]
struct KratosState {
    identities: HashMap<String, Value>,
    sessions: HashMap<String, Value>,
    aal2_required: HashSet<String>,
    faults: FaultInjection,
    not_ready: bool,
    whoami_cookies: Vec<Option<String>>,
    requests: Vec<Recorded>,
    /// `selfservice.allowed_return_urls`; empty allows any `return_to`.
    allowed_return_urls: Vec<String>,
    /// Session token → the session's logout token (stable, like `session.LogoutToken`).
    logout_tokens: HashMap<String, String>,
    /// The raw `Cookie` header of each browser-logout call, in order.
    logout_cookies: Vec<Option<String>>,
    /// `feature_flags.faster_session_extend`: extend answers 204 instead of 200 + session.
    faster_session_extend: bool,
    /// Ids of the sessions extended, in order.
    extended_sessions: Vec<String>,
    /// The browser self-service flows, their users, errors and courier (`selfservice.rs`).
    selfservice: selfservice::SelfService,
    /// `(method, path prefix, status, body, checked)`: answers a test sets for what the fake
    /// cannot otherwise produce (checked against the spec unless the test says otherwise).
    answers: Vec<(String, String, u16, Value, bool)>,
}

struct Shared {
    public_url: String,
    state: Mutex<KratosState>,
    violations: Mutex<Vec<String>>,
}

/// The fake Kratos. Dropping it stops both servers.
pub struct FakeKratos {
    /// `http://127.0.0.1:PORT` of the public API, no trailing slash.
    pub public_url: String,
    /// `http://127.0.0.1:PORT` of the admin API, no trailing slash.
    pub admin_url: String,
    shared: Arc<Shared>,
    _server: ServerGuard,
}

impl FakeKratos {
    pub async fn start() -> FakeKratos {
        let (public_listener, public_url) = bind_local();
        let (admin_listener, admin_url) = bind_local();
        let shared = Arc::new(Shared {
            public_url: public_url.clone(),
            state: Mutex::new(KratosState::default()),
            violations: Mutex::new(Vec::new()),
        });
        let app = |port: Port| -> Configure {
            let shared = shared.clone();
            Arc::new(move |cfg: &mut web::ServiceConfig| {
                cfg.app_data(web::Data::from(shared.clone()))
                    .app_data(web::Data::new(port))
                    .default_service(web::to(handle));
            })
        };
        let server = spawn_servers(
            "fake-kratos",
            vec![
                (public_listener, app(Port::Public)),
                (admin_listener, app(Port::Admin)),
            ],
        )
        .await;
        FakeKratos {
            public_url,
            admin_url,
            shared,
            _server: server,
        }
    }

    fn state(&self) -> MutexGuard<'_, KratosState> {
        lock(&self.shared.state)
    }

    /// Stores an identity under `identity["id"]` for the admin API.
    pub fn add_identity(&self, identity: Value) {
        let id = identity["id"].as_str().unwrap_or_default().to_owned();
        self.state().identities.insert(id, identity);
    }

    /// Makes whoami answer `session` for `token` (cookie value, session
    /// token or bearer token).
    pub fn add_session(&self, token: &str, session: Value) {
        self.state().sessions.insert(token.to_owned(), session);
    }

    /// Makes whoami answer 403 `session_aal2_required` for `token`.
    pub fn require_aal2(&self, token: &str) {
        self.state().aal2_required.insert(token.to_owned());
    }

    /// Applies to whoami and the identities endpoint, not to health.
    pub fn set_fault(&self, fault: Option<Fault>) {
        self.state().faults.fault = fault;
    }

    /// A fault for one endpoint only (`method`, path prefix).
    pub fn set_fault_on(&self, method: &str, path_prefix: &str, fault: Fault) {
        let targeted = &mut self.state().faults.targeted;
        targeted.push((method.to_owned(), path_prefix.to_owned(), fault));
    }

    /// Makes `method path_prefix…` answer `status` with `body` (a body recorded from Kratos),
    /// checked against the spec like every other answer.
    pub fn answer_on(&self, method: &str, path_prefix: &str, status: u16, body: Value) {
        self.state().answers.push((
            method.to_owned(),
            path_prefix.to_owned(),
            status,
            body,
            true,
        ));
    }

    /// Like [`FakeKratos::answer_on`] for a body outside the v26.2.0 spec on purpose: what a
    /// later Kratos might send (a node type the spec does not list yet).
    pub fn answer_on_unchecked(&self, method: &str, path_prefix: &str, status: u16, body: Value) {
        self.state().answers.push((
            method.to_owned(),
            path_prefix.to_owned(),
            status,
            body,
            false,
        ));
    }

    /// Latency added to every answer.
    pub fn set_latency(&self, latency: std::time::Duration) {
        self.state().faults.latency = latency;
    }

    /// Makes session extension answer 204 (Ory Network's default) instead of 200.
    pub fn set_faster_session_extend(&self, on: bool) {
        self.state().faster_session_extend = on;
    }

    /// Ids of the sessions extended so far.
    pub fn extended_sessions(&self) -> Vec<String> {
        self.state().extended_sessions.clone()
    }

    pub fn set_not_ready(&self, not_ready: bool) {
        self.state().not_ready = not_ready;
    }

    /// The raw `Cookie` header of each whoami call, in order.
    pub fn whoami_cookies(&self) -> Vec<Option<String>> {
        self.state().whoami_cookies.clone()
    }

    /// Every request received on either port, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state().requests.clone()
    }

    /// The contract violations seen so far (they still fail the test at the end).
    pub fn contract_violations(&self) -> Vec<String> {
        lock(&self.shared.violations).clone()
    }

    /// The contract violations seen so far, which no longer fail the test.
    pub fn take_contract_violations(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.shared.violations))
    }

    /// Makes Kratos refuse a logout `return_to` that starts with none of `prefixes`, as
    /// `selfservice.allowed_return_urls` does.
    pub fn allow_return_urls(&self, prefixes: &[&str]) {
        self.state().allowed_return_urls = prefixes.iter().map(|p| (*p).to_owned()).collect();
    }

    /// The `Cookie` header of each `GET /self-service/logout/browser`, in order.
    pub fn logout_cookies(&self) -> Vec<Option<String>> {
        self.state().logout_cookies.clone()
    }

    /// The logout URL Kratos hands out for the session behind `token`, with `return_to`.
    pub fn logout_url(&self, token: &str, return_to: Option<&str>) -> String {
        let logout_token = logout_token(&mut self.state(), token);
        logout_url(&self.shared.public_url, &logout_token, return_to)
    }

    /// Where whoami's 403 (`session_aal2_required`) sends the browser.
    pub fn aal2_login_url(&self) -> String {
        aal2_url(&self.public_url)
    }
}

/// Dropping the fake fails the test if it saw a contract violation.
impl Drop for FakeKratos {
    fn drop(&mut self) {
        super::violations::fail_on_violations(&[(
            "the fake Kratos",
            self.take_contract_violations(),
        )]);
    }
}

/// Ends Kratos sessions by id, for the Hydra public fake: Hydra revokes the Kratos session named
/// by `identity_provider_session_id` when a logout completes (`urls.identity_provider`).
#[derive(Clone)]
pub struct KratosSessions(Arc<Shared>);

impl KratosSessions {
    pub fn revoke(&self, session_id: &str) {
        lock(&self.0.state)
            .sessions
            .retain(|_, session| session["id"] != session_id);
    }
}

impl FakeKratos {
    /// Handle for ending sessions from another fake.
    pub fn sessions(&self) -> KratosSessions {
        KratosSessions(self.shared.clone())
    }

    /// The ids of the sessions that exist now.
    pub fn session_ids(&self) -> Vec<String> {
        lock(&self.shared.state)
            .sessions
            .values()
            .filter_map(|s| s["id"].as_str().map(str::to_owned))
            .collect()
    }

    /// The `Cookie` header of each flow read (`GET /self-service/<kind>/flows`), in order.
    pub fn flow_read_cookies(&self) -> Vec<Option<String>> {
        lock(&self.shared.state).selfservice.flow_read_cookies()
    }
}

fn aal2_url(public_url: &str) -> String {
    format!("{public_url}/self-service/login/browser?aal=aal2")
}

async fn handle(
    req: HttpRequest,
    body: web::Bytes,
    shared: web::Data<Shared>,
    port: web::Data<Port>,
) -> HttpResponse {
    // Browsers ask the public API's host for an icon; it has none.
    if req.path() == "/favicon.ico" {
        return HttpResponse::NotFound().finish();
    }
    let recorded = record(&req, &body);
    let method = recorded.method.clone();
    let path = recorded.path.clone();
    let (fault, latency, answer) = {
        let mut state = lock(&shared.state);
        state.requests.push(recorded);
        let answer = state
            .answers
            .iter()
            .find(|(m, prefix, ..)| *m == method && path.starts_with(prefix.as_str()))
            .map(|(_, _, status, body, checked)| {
                let mut reply = Reply::json(*status, body.clone());
                reply.check = *checked;
                reply
            });
        (
            state.faults.pick(&method, &path),
            state.faults.latency,
            answer,
        )
    };
    if let Some(reply) = answer {
        return send(openapi::kratos(), &shared.violations, &method, &path, reply);
    }
    if !latency.is_zero() {
        actix_web::rt::time::sleep(latency).await;
    }
    let self_service = if **port == Port::Public && fault.is_none() {
        selfservice::route(&shared, &req, &body, &method, &path)
    } else {
        None
    };
    let reply = match (fault, self_service) {
        (None, Some(selfservice::Answer::Raw(response))) => return response,
        (None, Some(selfservice::Answer::Json(reply))) => reply,
        (fault, _) => match fault {
            None => route(&shared, **port, &req, &method, &path),
            Some(Fault::Status(code)) => Reply::json(code, kratos_error_for_status(code)),
            Some(Fault::Hang) => return hang().await,
            Some(Fault::Malformed | Fault::Random(_)) => return malformed(MALFORMED_BODY),
        },
    };
    send(openapi::kratos(), &shared.violations, &method, &path, reply)
}

fn route(shared: &Shared, port: Port, req: &HttpRequest, method: &str, path: &str) -> Reply {
    match (port, method, path) {
        (_, "GET", "/health/alive") => Reply::json(200, json!({"status": "ok"})),
        (_, "GET", "/health/ready") => {
            if lock(&shared.state).not_ready {
                Reply::json(
                    503,
                    json!({"errors": {"database": "the fake Kratos was told it is not ready"}}),
                )
            } else {
                Reply::json(200, json!({"status": "ok"}))
            }
        }
        (Port::Public, "GET", "/sessions/whoami") => whoami(shared, req),
        (Port::Public, "GET", "/self-service/logout/browser") => browser_logout(shared, req),
        (Port::Admin, "PATCH", _)
            if path.starts_with("/admin/sessions/") && path.ends_with("/extend") =>
        {
            extend_session(
                shared,
                &path["/admin/sessions/".len()..path.len() - "/extend".len()],
            )
        }
        (Port::Admin, "GET", _) if path.starts_with("/admin/identities/") => {
            get_identity(shared, req, &path["/admin/identities/".len()..])
        }
        _ => {
            let which = match port {
                Port::Public => "public",
                Port::Admin => "admin",
            };
            lock(&shared.violations).push(format!(
                "unhandled request: {method} {path} on the {which} port (the fake Kratos does not implement it)"
            ));
            let mut reply = Reply::json(404, kratos_error_for_status(404));
            reply.check = false;
            reply
        }
    }
}

/// All `Cookie` headers, joined as one header would be.
pub(crate) fn raw_cookie_header(req: &HttpRequest) -> Option<String> {
    let values: Vec<String> = req
        .headers()
        .get_all(header::COOKIE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    if values.is_empty() {
        None
    } else {
        Some(values.join("; "))
    }
}

/// The value of cookie `name` in a `Cookie` header (`a=b; c=d`).
pub fn cookie_value(cookie_header: &str, name: &str) -> Option<String> {
    cookie_header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key.trim() == name).then(|| value.trim().trim_matches('"').to_owned())
    })
}

/// The session token, in Kratos' order: a non-empty
/// `X-Session-Token`, else the session cookie, else `Authorization: Bearer`.
pub(crate) fn extract_token(req: &HttpRequest, cookie_header: Option<&str>) -> Option<String> {
    let header_text = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if let Some(token) = header_text("x-session-token").filter(|t| !t.is_empty()) {
        return Some(token);
    }
    if let Some(token) = cookie_header
        .and_then(|c| cookie_value(c, SESSION_COOKIE))
        .filter(|t| !t.is_empty())
    {
        return Some(token);
    }
    let authorization = header_text("authorization")?;
    let parts: Vec<&str> = authorization.split(' ').collect();
    match parts.as_slice() {
        [scheme, token] if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() => {
            Some((*token).to_owned())
        }
        _ => None,
    }
}

fn unauthorized() -> Reply {
    Reply::json(
        401,
        json!({"error": {
            "code": 401,
            "status": "Unauthorized",
            "reason": WHOAMI_401_REASON,
            "message": "The request could not be authorized"
        }}),
    )
}

fn aal2_required(public_url: &str) -> Reply {
    let to = aal2_url(public_url);
    Reply::json(
        403,
        json!({
            "error": {
                "id": "session_aal2_required",
                "code": 403,
                "status": "Forbidden",
                "reason": "An active session was found but it does not fulfill the requested Authenticator Assurance Level. Please verify yourself with a second factor to resolve this issue.",
                "message": "Session does not fulfill the requested Authenticator Assurance Level",
                "details": {"redirect_browser_to": to}
            },
            "redirect_browser_to": to
        }),
    )
}

pub(crate) fn is_usable(session: &Value) -> bool {
    if session.get("active") == Some(&Value::Bool(false)) {
        return false;
    }
    match session.get("expires_at").and_then(Value::as_str) {
        Some(text) => OffsetDateTime::parse(text, &Rfc3339)
            .map(|at| at > OffsetDateTime::now_utc())
            .unwrap_or(false),
        None => true,
    }
}

fn whoami(shared: &Shared, req: &HttpRequest) -> Reply {
    // The fake has no tokenizer templates (`session.whoami.tokenizer.templates`).
    let template = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "tokenize_as")
        .map(|(_, v)| v.into_owned());
    let cookie_header = raw_cookie_header(req);
    let token = extract_token(req, cookie_header.as_deref());
    let mut state = lock(&shared.state);
    state.whoami_cookies.push(cookie_header);
    let Some(token) = token else {
        return unauthorized();
    };
    let Some(session) = state.sessions.get(&token).cloned() else {
        return unauthorized();
    };
    if !is_usable(&session) {
        return unauthorized();
    }
    if state.aal2_required.contains(&token) {
        return aal2_required(&shared.public_url);
    }
    if let Some(template) = template {
        return Reply::json(
            400,
            json!({"error": {
                "code": 400,
                "status": "Bad Request",
                "reason": format!("Unable to find tokenizer template \"{template}\"."),
                "message": "The request was malformed or contained invalid parameters"
            }}),
        );
    }
    let mut body = session;
    if let Some(identity) = body.get_mut("identity") {
        *identity = public_identity(identity.take());
    }
    let identity_id = body["identity"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut reply = Reply::json(200, body);
    reply
        .headers
        .push(("x-kratos-authenticated-identity-id", identity_id));
    reply
}

/// `PATCH /admin/sessions/{id}/extend`: 200 with the session by default, 204
/// with `faster_session_extend`; 400 for a non-UUID id, 404 for an unknown session.
fn extend_session(shared: &Shared, id: &str) -> Reply {
    if !openapi::is_uuid(id) {
        // The parser's own words, passed through.
        let message = if id.len() == 36 {
            format!("uuid: incorrect UUID format in string {id:?}")
        } else {
            format!("uuid: incorrect UUID length {} in string {id:?}", id.len())
        };
        return Reply::json(
            400,
            json!({"error": {"code": 400, "status": "Bad Request", "message": message}}),
        );
    }
    let mut state = lock(&shared.state);
    let found = state
        .sessions
        .iter()
        .find(|(_, session)| session["id"] == id)
        .map(|(token, _)| token.clone());
    let Some(token) = found else {
        return Reply::json(
            404,
            kratos_error(404, "Not Found", "Unable to locate the resource"),
        );
    };
    let expires_at = rfc3339(OffsetDateTime::now_utc() + time::Duration::hours(24));
    let session = state.sessions.get_mut(&token).map(|session| {
        session["expires_at"] = json!(expires_at);
        let mut answer = session.clone();
        // The answer does not expand the session's devices.
        answer["devices"] = json!([]);
        answer
    });
    state.extended_sessions.push(id.to_owned());
    if state.faster_session_extend {
        return Reply::empty(204);
    }
    Reply::json(200, session.unwrap_or(Value::Null))
}

/// `GET /admin/identities/{id}[?include_credential=…]`: with `include_credential=password` the
/// password credential carries its (fake) hash in `config.hashed_password`.
fn get_identity(shared: &Shared, req: &HttpRequest, id: &str) -> Reply {
    let not_found = || {
        Reply::json(
            404,
            kratos_error(404, "Not Found", "Unable to locate the resource"),
        )
    };
    if id.is_empty() || id.contains('/') {
        return not_found();
    }
    let state = lock(&shared.state);
    let Some(mut identity) = state.identities.get(id).cloned() else {
        return not_found();
    };
    if let Some(object) = identity.as_object_mut() {
        object.entry("metadata_admin").or_insert(Value::Null);
        if !object.contains_key("credentials") {
            let email = object.get("traits").and_then(|t| t.get("email")).cloned();
            let credentials = match email {
                Some(email) => json!({"password": {
                    "type": "password",
                    "identifiers": [email],
                    "version": 0,
                    "created_at": FIXED_TIME,
                    "updated_at": FIXED_TIME
                }}),
                None => json!({}),
            };
            object.insert("credentials".to_owned(), credentials);
        }
    }
    let include_password = url::form_urlencoded::parse(req.query_string().as_bytes())
        .any(|(k, v)| k == "include_credential" && v == "password");
    if let Some(password) = identity
        .pointer_mut("/credentials/password")
        .and_then(Value::as_object_mut)
        .filter(|_| include_password)
    {
        password.insert(
            "config".to_owned(),
            json!({"hashed_password": "$argon2id$v=19$m=65536,t=1,p=2$ZmFrZQ$ZmFrZS1oYXNo"}),
        );
    }
    Reply::json(200, identity)
}

fn logout_token(state: &mut KratosState, session_token: &str) -> String {
    state
        .logout_tokens
        .entry(session_token.to_owned())
        .or_insert_with(|| format!("ory_lo_{}", super::fake_hydra::random_hex(16)))
        .clone()
}

/// `<public>/self-service/logout?return_to=…&token=…` (Go's `url.Values.Encode` sorts keys).
fn logout_url(public_url: &str, logout_token: &str, return_to: Option<&str>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(return_to) = return_to {
        query.append_pair("return_to", return_to);
    }
    query.append_pair("token", logout_token);
    format!("{public_url}/self-service/logout?{}", query.finish())
}

/// Whether Kratos answers JSON rather than redirecting the browser: `x.IsJSONRequest`
/// negotiates `Accept` against `application/json, text/html, text/*, */*` (default `text/*`),
/// so no `Accept` means HTML, `*/*` means JSON and `text/html` beats a lower-weighted `*/*`.
pub(crate) fn wants_json(req: &HttpRequest) -> bool {
    let Some(accept) = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let (mut json_q, mut html_q) = (0.0_f32, 0.0_f32);
    for spec in accept.split(',') {
        let mut parts = spec.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let q = parts
            .find_map(|p| p.strip_prefix("q="))
            .and_then(|q| q.parse().ok())
            .unwrap_or(1.0_f32);
        if matches!(media.as_str(), "application/json" | "application/*" | "*/*") {
            json_q = json_q.max(q);
        }
        if matches!(media.as_str(), "text/html" | "text/*" | "*/*") {
            html_q = html_q.max(q);
        }
    }
    json_q > 0.0 && json_q >= html_q
}

/// Where Kratos sends a browser whose self-service request failed (`selfservice.flows.error`)
/// until a test points the UI URLs elsewhere ([`FakeKratos::set_ui_base`]).
pub const ERROR_UI_URL: &str = "http://127.0.0.1:4455/error";

/// A self-service error: JSON for API-style requests, otherwise a 303 to the error UI
/// (`SelfServiceErrorManager().Forward`), where `GET /self-service/errors?id=` finds it.
fn self_service_error(state: &mut KratosState, req: &HttpRequest, code: u16, body: Value) -> Reply {
    selfservice::error_reply(state, req, code, body["error"].clone())
}

/// `GET /self-service/logout/browser[?return_to=…]`: the logout URL for the
/// browser's session; 401 `session_inactive` without one; 400 when `return_to` is not allowed.
fn browser_logout(shared: &Shared, req: &HttpRequest) -> Reply {
    let cookie_header = raw_cookie_header(req);
    let token = extract_token(req, cookie_header.as_deref());
    let return_to = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "return_to")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty());
    let mut state = lock(&shared.state);
    state.logout_cookies.push(cookie_header);
    let session = token
        .as_ref()
        .and_then(|t| state.sessions.get(t))
        .filter(|s| is_usable(s));
    let Some(token) = token.filter(|_| session.is_some()) else {
        return self_service_error(
            &mut state,
            req,
            401,
            json!({"error": {
                "id": "session_inactive",
                "code": 401,
                "status": "Unauthorized",
                    "reason": "No active session was found in this request.",
                "message": "request does not have a valid authentication session"
            }}),
        );
    };
    if let Some(return_to) = &return_to {
        let allowed = &state.allowed_return_urls;
        if !allowed.is_empty() && !allowed.iter().any(|p| return_to.starts_with(p.as_str())) {
            return self_service_error(
                &mut state,
                req,
                400,
                json!({"error": {
                    "id": "self_service_flow_return_to_forbidden",
                    "code": 400,
                    "status": "Bad Request",
                            "reason": format!("Requested return_to URL \"{return_to}\" is not allowed."),
                    "message": "The request was malformed or contained invalid parameters"
                }}),
            );
        }
    }
    let logout_token = logout_token(&mut state, &token);
    Reply::json(
        200,
        json!({
            "logout_url": logout_url(&shared.public_url, &logout_token, return_to.as_deref()),
            "logout_token": logout_token
        }),
    )
}
