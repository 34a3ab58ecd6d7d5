//! The fake Kratos's browser self-service API, as Kratos v26.2.0 answers a browser and the UI
//! server behind `selfservice.flows.*.ui_url` (the recorded exchanges in
//! `tests/contract/recorded/kratos-*` are replayed against it in `tests/api/recorded*.rs`):
//!
//! - `GET /self-service/<kind>/browser[?return_to=&refresh=&aal=]` starts a flow: a CSRF cookie
//!   (`csrf_token_<hash>`) and a 303 to `<ui>/<kind>?flow=<id>`; JSON callers get the flow.
//!   Signed-in browsers go to the return address instead; settings without a session go to
//!   Kratos's own login init, with too low an AAL to `…/login/browser?aal=aal2`.
//! - `GET /self-service/<kind>/flows?id=` reads a flow with the browser's cookies: 403
//!   `security_csrf_violation` without the flow's CSRF cookie, 404 unknown, 410 expired, and for
//!   settings 401 without a session, 403 for another identity's flow or too low an AAL.
//! - `POST /self-service/<kind>?flow=` takes the form as a browser posts it (CSRF cookie and
//!   token checked) and answers with redirects: back to the UI with the flow's new state (303;
//!   302 for registration validation errors), to the error UI (`?id=`), to the return address
//!   with a session cookie, to `…/login/browser?aal=aal2` when a second factor is due, to a
//!   refresh login when settings need a privileged session (the change is parked and resumed by
//!   `GET /self-service/settings?flow=`), to the settings UI after a recovery (carrying the
//!   recovery's `return_to`, where a saved settings change then goes).
//! - `GET /self-service/errors?id=`, `GET /sessions`, `DELETE /sessions[/{id}]`,
//!   `GET /self-service/logout?token=` and `GET /.well-known/ory/webauthn.js`.
//!
//! Methods: password (sign-in, sign-up, settings), one-time codes by email (sign-in by code,
//! recovery, verification; the codes are kept in an outbox tests read), TOTP and backup codes
//! (settings, second factor), security keys (settings, through a stand-in for Kratos's WebAuthn
//! script), social sign-in buttons. Login is `unified` or `identifier_first`, registration
//! `profile_first` (Kratos v26's default) or `unified`.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::nodes::{self, text, text_with};
use super::{
    extract_token, is_usable, kratos_error, lock, random_uuid, raw_cookie_header, rfc3339, session,
    wants_json, KratosState, Shared, SESSION_COOKIE,
};
use crate::support::fake_hydra::{random_hex, Reply};
use crate::support::totp;

/// How the fake Kratos is configured (`selfservice.*`).
#[derive(Clone, Debug)]
pub struct Config {
    /// Where the `ui_url`s point: `<ui_base>/<kind>` and `<ui_base>/error`.
    pub ui_base: String,
    /// `selfservice.default_browser_return_url`.
    pub default_return_to: String,
    /// `selfservice.flows.login.style: identifier_first` (else `unified`).
    pub identifier_first: bool,
    /// `selfservice.flows.registration.style: unified` (else `profile_first`).
    pub registration_unified: bool,
    /// Sign-in by a code sent by email.
    pub code_login: bool,
    /// TOTP as a second factor.
    pub totp: bool,
    /// Backup codes as a second factor.
    pub lookup_secret: bool,
    /// Security keys as a second factor (with Kratos's WebAuthn script).
    pub webauthn: bool,
    /// Social sign-in providers: (id, name).
    pub oidc: Vec<(String, String)>,
    pub recovery: bool,
    pub verification: bool,
    /// The `show_verification_ui` hook after registration.
    pub show_verification_ui: bool,
    /// `session.whoami.required_aal: highest_available` (the default): an identity with a
    /// second factor needs it after the password.
    pub highest_available_aal: bool,
    /// `selfservice.flows.settings.privileged_session_max_age`.
    pub privileged_for: Duration,
    pub min_password_length: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ui_base: "http://127.0.0.1:4455".into(),
            default_return_to: "http://127.0.0.1:4455/".into(),
            identifier_first: false,
            registration_unified: false,
            code_login: false,
            totp: true,
            lookup_secret: false,
            webauthn: false,
            oidc: Vec::new(),
            recovery: true,
            verification: true,
            show_verification_ui: true,
            highest_available_aal: true,
            privileged_for: Duration::from_secs(3600),
            min_password_length: 8,
        }
    }
}

/// A person who can sign in.
#[derive(Clone, Debug, Default)]
pub struct User {
    pub identity_id: String,
    pub password: Option<String>,
    /// Their TOTP secret (base32), once enrolled.
    pub totp: Option<String>,
    /// Their backup codes, and whether each was used.
    pub lookup: Vec<(String, bool)>,
    /// Names of their security keys.
    pub keys: Vec<String>,
}

impl User {
    fn second_factor(&self) -> bool {
        self.totp.is_some() || !self.lookup.is_empty() || !self.keys.is_empty()
    }
}

/// A message the courier would send.
#[derive(Clone, Debug)]
pub struct CourierMessage {
    pub recipient: String,
    /// `verification_code_valid`, `recovery_code_valid`, `login_code_valid`.
    pub template_type: String,
    pub code: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Login,
    Registration,
    Recovery,
    Verification,
    Settings,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Login => "login",
            Kind::Registration => "registration",
            Kind::Recovery => "recovery",
            Kind::Verification => "verification",
            Kind::Settings => "settings",
        }
    }

    fn from_name(name: &str) -> Option<Kind> {
        [
            Kind::Login,
            Kind::Registration,
            Kind::Recovery,
            Kind::Verification,
            Kind::Settings,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }

    /// Kratos's default lifespans: ten minutes for a login, an hour for the others.
    fn lifespan(self) -> time::Duration {
        match self {
            Kind::Login => time::Duration::minutes(10),
            _ => time::Duration::hours(1),
        }
    }
}

#[derive(Clone, Debug)]
struct Flow {
    kind: Kind,
    id: String,
    /// The browser it belongs to: the value of its CSRF cookie.
    csrf_cookie: String,
    csrf_token: String,
    issued: OffsetDateTime,
    expires: OffsetDateTime,
    request_url: String,
    return_to: Option<String>,
    refresh: bool,
    aal2: bool,
    state: &'static str,
    /// Registration's credential step; identifier-first's second step.
    step2: bool,
    /// What the person entered (`traits.*`, `identifier`, `email`).
    values: BTreeMap<String, String>,
    ui_messages: Vec<Value>,
    node_messages: Vec<(String, Value)>,
    /// Settings: whose.
    identity_id: Option<String>,
    /// The one-time code sent for this flow, and to whom.
    code: Option<String>,
    address: Option<String>,
    /// Settings: the TOTP secret offered for enrolment.
    totp_pending: String,
    /// Settings: backup codes generated but not confirmed yet.
    lookup_pending: Option<Vec<String>>,
    lookup_revealed: bool,
    /// Settings after a change: the flow `ui.action` names.
    action_flow: Option<String>,
    /// Settings: a change waiting for a privileged session.
    parked: Option<Vec<(String, String)>>,
    /// A form was posted to the flow (Kratos then re-renders second-factor fields without
    /// their empty `value`).
    submitted: bool,
    active: Option<&'static str>,
}

/// The self-service part of the fake's state.
#[derive(Default)]
pub struct SelfService {
    pub config: Config,
    /// Users by lower-case email.
    users: HashMap<String, User>,
    flows: HashMap<String, Flow>,
    /// Error containers by id (`/self-service/errors`).
    errors: HashMap<String, Value>,
    outbox: Vec<CourierMessage>,
    /// Each flow read: the flow id and the `Cookie` header it came with.
    flow_reads: Vec<(String, Option<String>)>,
}

impl SelfService {
    pub fn flow_read_cookies(&self) -> Vec<Option<String>> {
        self.flow_reads.iter().map(|(_, c)| c.clone()).collect()
    }
}

/// What a self-service route answers: a JSON body the caller checks against the spec, or a
/// browser answer (a redirect, a script).
pub enum Answer {
    Json(Reply),
    Raw(HttpResponse),
}

impl super::FakeKratos {
    /// Changes the self-service configuration (start with [`Config::default`]).
    pub fn configure(&self, change: impl FnOnce(&mut Config)) {
        change(&mut lock(&self.shared.state).selfservice.config);
    }

    /// Points every `ui_url` and the default return address at `ui_base` (Hera).
    pub fn set_ui_base(&self, ui_base: &str) {
        self.configure(|config| {
            config.ui_base = ui_base.trim_end_matches('/').to_owned();
            config.default_return_to = format!("{}/", config.ui_base);
        });
    }

    /// Lets `email` sign in with `password`, as `identity` (also stored for the admin API).
    pub fn add_user(&self, email: &str, password: &str, identity: Value) {
        let id = identity["id"].as_str().unwrap_or_default().to_owned();
        self.add_identity(identity);
        lock(&self.shared.state).selfservice.users.insert(
            email.to_ascii_lowercase(),
            User {
                identity_id: id,
                password: Some(password.to_owned()),
                ..User::default()
            },
        );
    }

    /// Gives `email` a TOTP second factor with `secret` (base32).
    pub fn set_totp(&self, email: &str, secret: &str) {
        if let Some(user) = lock(&self.shared.state)
            .selfservice
            .users
            .get_mut(&email.to_ascii_lowercase())
        {
            user.totp = Some(secret.to_owned());
        }
    }

    /// Takes `email`'s TOTP second factor away.
    pub fn remove_totp(&self, email: &str) {
        if let Some(user) = lock(&self.shared.state)
            .selfservice
            .users
            .get_mut(&email.to_ascii_lowercase())
        {
            user.totp = None;
        }
    }

    /// Gives `email` backup codes.
    pub fn set_lookup_codes(&self, email: &str, codes: &[&str]) {
        if let Some(user) = lock(&self.shared.state)
            .selfservice
            .users
            .get_mut(&email.to_ascii_lowercase())
        {
            user.lookup = codes.iter().map(|c| ((*c).to_owned(), false)).collect();
        }
    }

    /// The user with this email.
    pub fn user(&self, email: &str) -> Option<User> {
        lock(&self.shared.state)
            .selfservice
            .users
            .get(&email.to_ascii_lowercase())
            .cloned()
    }

    /// The last one-time code sent to `email`.
    pub fn last_code(&self, email: &str) -> Option<String> {
        lock(&self.shared.state)
            .selfservice
            .outbox
            .iter()
            .rev()
            .find(|m| m.recipient.eq_ignore_ascii_case(email))
            .map(|m| m.code.clone())
    }

    /// Every message the courier would have sent.
    pub fn outbox(&self) -> Vec<CourierMessage> {
        lock(&self.shared.state).selfservice.outbox.clone()
    }

    /// Makes a flow expire now.
    pub fn expire_flow(&self, id: &str) {
        if let Some(flow) = lock(&self.shared.state).selfservice.flows.get_mut(id) {
            flow.expires = OffsetDateTime::now_utc() - time::Duration::seconds(1);
        }
    }

    /// Ids of the flows of `kind` (`login`, …), oldest first.
    pub fn flow_ids(&self, kind: &str) -> Vec<String> {
        let state = lock(&self.shared.state);
        let mut flows: Vec<&Flow> = state
            .selfservice
            .flows
            .values()
            .filter(|f| f.kind.name() == kind)
            .collect();
        flows.sort_by_key(|f| f.issued);
        flows.iter().map(|f| f.id.clone()).collect()
    }

    /// Starts a flow the way a browser would and returns its id and the CSRF cookie
    /// (`name=value`) the browser got for it.
    pub fn start_flow(&self, kind: &str, return_to: Option<&str>) -> (String, String) {
        let kind = Kind::from_name(kind).unwrap_or(Kind::Login);
        let mut state = lock(&self.shared.state);
        let cookie = random_hex(16);
        let id = new_flow(
            &mut state,
            &self.shared.public_url,
            kind,
            &cookie,
            return_to,
            false,
            false,
            None,
        );
        (
            id,
            format!("{}={cookie}", csrf_cookie_name(&self.shared.public_url)),
        )
    }

    /// The CSRF token in a flow's forms.
    pub fn flow_csrf_token(&self, id: &str) -> Option<String> {
        lock(&self.shared.state)
            .selfservice
            .flows
            .get(id)
            .map(|f| f.csrf_token.clone())
    }

    /// Records an error container, as Kratos does before sending a browser to the error UI;
    /// returns its id.
    pub fn add_error(&self, error: Value) -> String {
        let id = random_uuid();
        let now = rfc3339(OffsetDateTime::now_utc());
        lock(&self.shared.state).selfservice.errors.insert(
            id.clone(),
            json!({"id": id, "error": error, "created_at": now, "updated_at": now}),
        );
        id
    }

    /// The script Kratos's `script` node loads, and its `integrity`.
    pub fn webauthn_script(&self) -> (String, String) {
        (WEBAUTHN_JS.to_owned(), integrity(WEBAUTHN_JS))
    }
}

/// The CSRF cookie's name: `csrf_token_` and a hash of Kratos's public URL.
pub fn csrf_cookie_name(public_url: &str) -> String {
    let digest = Sha256::digest(public_url.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("csrf_token_{hex}")
}

/// Answers the self-service routes; `None` for every other path.
pub fn route(
    shared: &Shared,
    req: &HttpRequest,
    body: &[u8],
    method: &str,
    path: &str,
) -> Option<Answer> {
    let query: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut state = lock(&shared.state);
    let answer = match (method, segments.as_slice()) {
        ("GET", ["self-service", kind, "browser"]) => {
            let kind = Kind::from_name(kind)?;
            init(&mut state, shared, req, kind, &param)
        }
        ("GET", ["self-service", kind, "flows"]) => {
            let kind = Kind::from_name(kind)?;
            get_flow(
                &mut state,
                shared,
                req,
                kind,
                &param("id").unwrap_or_default(),
            )
        }
        ("POST", ["self-service", kind]) => {
            let kind = Kind::from_name(kind)?;
            let form: Vec<(String, String)> =
                url::form_urlencoded::parse(body).into_owned().collect();
            submit(
                &mut state,
                shared,
                req,
                kind,
                &param("flow").unwrap_or_default(),
                &form,
            )
        }
        ("GET", ["self-service", "settings"]) => {
            resume_settings(&mut state, shared, req, &param("flow").unwrap_or_default())
        }
        ("GET", ["self-service", "errors"]) => get_error(&state, &param("id").unwrap_or_default()),
        ("GET", ["self-service", "logout"]) => logout(
            &mut state,
            &param("token").unwrap_or_default(),
            &param("return_to").unwrap_or_default(),
        ),
        ("GET", ["sessions"]) => list_sessions(&state, req),
        ("DELETE", ["sessions"]) => end_other_sessions(&mut state, req),
        ("DELETE", ["sessions", id]) => end_session(&mut state, req, id),
        ("GET", [".well-known", "ory", "webauthn.js"]) => Answer::Raw(
            HttpResponse::Ok()
                .content_type("text/javascript; charset=UTF-8")
                .insert_header(("access-control-allow-origin", "*"))
                .body(WEBAUTHN_JS),
        ),
        _ => return None,
    };
    Some(answer)
}

// ---------------------------------------------------------------------------------------------
// Browsers: cookies, sessions, redirects

fn csrf_cookie(state_public_url: &str, req: &HttpRequest) -> Option<String> {
    raw_cookie_header(req)
        .and_then(|c| super::cookie_value(&c, &csrf_cookie_name(state_public_url)))
}

/// The browser's usable session: its token and the session.
fn browser_session(state: &KratosState, req: &HttpRequest) -> Option<(String, Value)> {
    let cookie = raw_cookie_header(req);
    let token = extract_token(req, cookie.as_deref())?;
    let session = state.sessions.get(&token).filter(|s| is_usable(s))?;
    Some((token, session.clone()))
}

fn redirect(status: u16, location: &str, cookies: Vec<Cookie<'static>>) -> Answer {
    let mut response = HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::SEE_OTHER),
    );
    response.insert_header((header::LOCATION, location.to_owned()));
    response.content_type("text/html; charset=utf-8");
    for cookie in cookies {
        response.cookie(cookie);
    }
    Answer::Raw(response.body(format!("<a href=\"{location}\">See Other</a>.\n\n")))
}

fn set_cookie(name: &str, value: &str) -> Cookie<'static> {
    Cookie::build(name.to_owned(), value.to_owned())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::days(365))
        .finish()
}

fn session_cookie(token: &str) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE.to_owned(), token.to_owned())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::hours(24))
        .finish()
}

fn ui(config: &Config, kind: Kind, id: &str) -> String {
    format!("{}/{}?flow={id}", config.ui_base, kind.name())
}

/// A self-service error: JSON for API callers; a browser is sent to the error UI with the
/// recorded error's id.
fn fail(state: &mut KratosState, req: &HttpRequest, status: u16, error: Value) -> Answer {
    Answer::Json(error_reply(state, req, status, error))
}

/// [`fail`] as a reply: the nested error body, or a 303 to `<ui>/error?id=` (not a JSON
/// answer, so not checked against the spec).
pub fn error_reply(state: &mut KratosState, req: &HttpRequest, status: u16, error: Value) -> Reply {
    if wants_json(req) {
        return Reply::json(status, json!({ "error": error }));
    }
    let id = random_uuid();
    let now = rfc3339(OffsetDateTime::now_utc());
    state.selfservice.errors.insert(
        id.clone(),
        json!({"id": id, "error": error, "created_at": now, "updated_at": now}),
    );
    let mut reply = Reply::empty(303);
    reply.check = false;
    reply.headers.push((
        "location",
        format!("{}/error?id={id}", state.selfservice.config.ui_base),
    ));
    reply
}

fn csrf_violation(reject_reason: &str) -> Value {
    json!({
        "id": "security_csrf_violation",
        "code": 403,
        "status": "Forbidden",
        "reason": "Please retry the flow and optionally clear your cookies. The request was rejected to protect you from Cross-Site-Request-Forgery (CSRF) which could cause account takeover, leaking personal information, and other serious security issues.",
        "details": {
            "docs": "https://www.ory.sh/kratos/docs/debug/csrf",
            "hint": "We detected a regular browser or server-side call. To debug browser calls check your Browser's Network Tab to see what cookies are included or excluded. If you are calling from a server ensure that the appropriate cookies are being forwarded and that the SDK method is called correctly.",
            "reject_reason": reject_reason
        },
        "message": "the request was rejected to protect you from Cross-Site-Request-Forgery"
    })
}

fn not_found() -> Value {
    json!({"error": {"code": 404, "status": "Not Found", "message": "Unable to locate the resource"}})
}

/// Whether `return_to` is allowed (`selfservice.allowed_return_urls` prefixes; none set allows
/// anything, as does Kratos's own public URL).
fn return_to_allowed(state: &KratosState, public_url: &str, return_to: &str) -> bool {
    state.allowed_return_urls.is_empty()
        || return_to.starts_with(public_url)
        || state
            .allowed_return_urls
            .iter()
            .any(|prefix| return_to.starts_with(prefix.as_str()))
}

// ---------------------------------------------------------------------------------------------
// Starting flows

#[allow(clippy::too_many_arguments)]
fn new_flow(
    state: &mut KratosState,
    public_url: &str,
    kind: Kind,
    csrf_cookie: &str,
    return_to: Option<&str>,
    refresh: bool,
    aal2: bool,
    identity_id: Option<String>,
) -> String {
    let id = random_uuid();
    let now = OffsetDateTime::now_utc();
    let mut request_url = format!("{public_url}/self-service/{}/browser", kind.name());
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if aal2 {
        query.append_pair("aal", "aal2");
    }
    if refresh {
        query.append_pair("refresh", "true");
    }
    if let Some(return_to) = return_to {
        query.append_pair("return_to", return_to);
    }
    let query = query.finish();
    if !query.is_empty() {
        request_url = format!("{request_url}?{query}");
    }
    let flow = Flow {
        kind,
        id: id.clone(),
        csrf_cookie: csrf_cookie.to_owned(),
        csrf_token: random_hex(32),
        issued: now,
        expires: now + kind.lifespan(),
        request_url,
        return_to: return_to.map(str::to_owned),
        refresh,
        aal2,
        state: match kind {
            Kind::Settings => "show_form",
            _ => "choose_method",
        },
        step2: false,
        values: BTreeMap::new(),
        ui_messages: Vec::new(),
        node_messages: Vec::new(),
        identity_id,
        code: None,
        address: None,
        totp_pending: totp::new_secret(),
        lookup_pending: None,
        lookup_revealed: false,
        action_flow: None,
        parked: None,
        submitted: false,
        active: matches!(kind, Kind::Recovery | Kind::Verification).then_some("code"),
    };
    state.selfservice.flows.insert(id.clone(), flow);
    id
}

fn init(
    state: &mut KratosState,
    shared: &Shared,
    req: &HttpRequest,
    kind: Kind,
    param: &dyn Fn(&str) -> Option<String>,
) -> Answer {
    let public_url = &shared.public_url;
    let config = state.selfservice.config.clone();
    let return_to = param("return_to").filter(|r| !r.is_empty());
    let refresh = param("refresh").as_deref() == Some("true");
    let aal = param("aal");
    if let Some(aal) = aal.as_deref().filter(|a| !matches!(*a, "aal1" | "aal2")) {
        return Answer::Json(Reply::json(
            400,
            json!({"error": {"code": 400, "status": "Bad Request",
            "reason": format!("Unable to parse AuthenticationMethod Assurance Level (AAL): expected one of [aal1, aal2] but got {aal}"),
            "message": "The request was malformed or contained invalid parameters"}}),
        ));
    }
    let aal2 = aal.as_deref() == Some("aal2");
    if let Some(r) = &return_to {
        if !return_to_allowed(state, public_url, r) {
            return fail(
                state,
                req,
                400,
                json!({
                "id": "self_service_flow_return_to_forbidden", "code": 400, "status": "Bad Request",
                "reason": format!("Requested return_to URL \"{r}\" is not allowed."),
                "message": "The request was malformed or contained invalid parameters"}),
            );
        }
    }
    let session = browser_session(state, req);
    let after = return_to
        .clone()
        .unwrap_or_else(|| config.default_return_to.clone());
    match kind {
        Kind::Recovery if !config.recovery => {
            return fail(
                state,
                req,
                400,
                json!({"code": 400, "status": "Bad Request",
                "reason": "Recovery is not allowed because it was disabled.",
                "message": "The request was malformed or contained invalid parameters"}),
            );
        }
        Kind::Verification if !config.verification => {
            return fail(
                state,
                req,
                400,
                json!({"code": 400, "status": "Bad Request",
                "reason": "Verification is not allowed because it was disabled.",
                "message": "The request was malformed or contained invalid parameters"}),
            );
        }
        Kind::Login if aal2 && session.is_none() => {
            return fail(
                state,
                req,
                401,
                json!({"id": "session_aal1_required", "code": 401, "status": "Unauthorized",
                "reason": "You can not requested a higher AAL (AAL2/AAL3) without an active session.",
                "message": "aal2 and aal3 can only be requested if a session exists already"}),
            );
        }
        Kind::Login
            if aal2
                && session
                    .as_ref()
                    .is_some_and(|(_, s)| s["authenticator_assurance_level"] == "aal2") =>
        {
            return already_signed_in(req, kind, 303, &after);
        }
        Kind::Login if session.is_some() && !refresh && !aal2 => {
            return already_signed_in(req, kind, 303, &after);
        }
        Kind::Registration if session.is_some() => {
            return already_signed_in(req, kind, 303, &after)
        }
        Kind::Recovery if session.is_some() => return already_signed_in(req, kind, 302, &after),
        Kind::Settings if session.is_none() && wants_json(req) => {
            let mut reply = Reply::json(
                401,
                json!({"error": {"id": "session_inactive", "code": 401, "status": "Unauthorized",
                    "reason": "No active session was found in this request.",
                    "message": "request does not have a valid authentication session"},
                    "CredentialsMissing": false}),
            );
            // A stray Go field Kratos leaks next to `error` (recorded), outside the spec.
            reply.check = false;
            return Answer::Json(reply);
        }
        Kind::Settings
            if wants_json(req) && needs_aal2(state, session.as_ref().map(|(_, s)| s)) =>
        {
            let to = format!("{public_url}/self-service/login/browser?aal=aal2");
            return Answer::Json(Reply::json(
                403,
                json!({"error": {"id": "session_aal2_required", "code": 403, "status": "Forbidden",
                    "reason": "An active session was found but it does not fulfill the requested Authenticator Assurance Level. Please verify yourself with a second factor to resolve this issue.",
                    "details": {"redirect_browser_to": to},
                    "message": "Session does not fulfill the requested Authenticator Assurance Level"},
                    "redirect_browser_to": to}),
            ));
        }
        Kind::Settings if session.is_none() => {
            let mut login = format!("{public_url}/self-service/login/browser");
            if let Some(r) = &return_to {
                let q: String = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("return_to", r)
                    .finish();
                login = format!("{login}?{q}");
            }
            return redirect(303, &login, vec![]);
        }
        Kind::Settings if needs_aal2(state, session.as_ref().map(|(_, s)| s)) => {
            return redirect(
                303,
                &format!("{public_url}/self-service/login/browser?aal=aal2"),
                vec![],
            );
        }
        _ => {}
    }
    let existing = csrf_cookie(public_url, req);
    let cookie = existing.clone().unwrap_or_else(|| random_hex(16));
    let identity_id = session
        .as_ref()
        .and_then(|(_, s)| s["identity"]["id"].as_str().map(str::to_owned));
    let refresh = refresh && session.is_some();
    let identity_id = identity_id.filter(|_| kind == Kind::Settings || aal2 || refresh);
    let id = new_flow(
        state,
        public_url,
        kind,
        &cookie,
        return_to.as_deref(),
        refresh,
        aal2,
        identity_id.clone(),
    );
    // A re-authentication knows who; a second factor is asked for.
    let email = identity_id
        .as_ref()
        .and_then(|id| state.identities.get(id))
        .and_then(|identity| identity["traits"]["email"].as_str().map(str::to_owned));
    if let Some(flow) = state.selfservice.flows.get_mut(&id) {
        if aal2 {
            flow.ui_messages = vec![text(
                1010004,
                "Please complete the second authentication challenge.",
                "info",
            )];
        } else if refresh {
            flow.ui_messages = vec![text(
                1010003,
                "Please confirm this action by verifying that it is you.",
                "info",
            )];
            if let Some(email) = email {
                flow.values.insert("identifier".into(), email);
            }
        }
    }
    let cookies = if existing.is_none() {
        vec![set_cookie(&csrf_cookie_name(public_url), &cookie)]
    } else {
        Vec::new()
    };
    if wants_json(req) {
        let body = flow_json(state, public_url, &id);
        let mut response = HttpResponse::Ok();
        for cookie in cookies {
            response.cookie(cookie);
        }
        // JSON flows are checked against the spec by the caller's tests; sent as they are here.
        return Answer::Raw(
            response
                .content_type("application/json; charset=utf-8")
                .body(body.to_string()),
        );
    }
    redirect(303, &ui(&config, kind, &id), cookies)
}

/// A signed-in browser starting a flow that needs none: sent on (`302` for recovery, as
/// recorded), or `400 session_already_available` for JSON callers.
fn already_signed_in(req: &HttpRequest, kind: Kind, status: u16, after: &str) -> Answer {
    if !wants_json(req) {
        return redirect(status, after, vec![]);
    }
    let (reason, message) = match kind {
        Kind::Login => (
            "A valid session was detected and thus login is not possible. Did you forget to set `?refresh=true`?",
            "you are already logged in",
        ),
        Kind::Registration => (
            "A valid session was detected and thus registration is not possible.",
            "you are already logged in",
        ),
        _ => (
            "A valid session was detected and thus recovery is not possible.",
            "The request was malformed or contained invalid parameters",
        ),
    };
    Answer::Json(Reply::json(
        400,
        json!({"error": {"id": "session_already_available", "code": 400, "status": "Bad Request",
            "reason": reason, "message": message}}),
    ))
}

/// Whether a session is below the AAL its identity could reach (`highest_available`).
fn needs_aal2(state: &KratosState, session: Option<&Value>) -> bool {
    let Some(session) = session else { return false };
    if !state.selfservice.config.highest_available_aal
        || session["authenticator_assurance_level"] == "aal2"
    {
        return false;
    }
    let identity = session["identity"]["id"].as_str().unwrap_or_default();
    state
        .selfservice
        .users
        .values()
        .any(|u| u.identity_id == identity && u.second_factor())
}

// ---------------------------------------------------------------------------------------------
// Reading flows

fn get_flow(
    state: &mut KratosState,
    shared: &Shared,
    req: &HttpRequest,
    kind: Kind,
    id: &str,
) -> Answer {
    let public_url = &shared.public_url;
    // Settings need a session before anything else (recorded with an unknown flow id).
    if kind == Kind::Settings && browser_session(state, req).is_none() {
        return Answer::Json(Reply::json(
            401,
            json!({"error": {"code": 401, "status": "Unauthorized",
                "reason": "A valid Ory Session Cookie or Ory Session Token is missing.",
                "message": "The request could not be authorized"}}),
        ));
    }
    let Some(flow) = state
        .selfservice
        .flows
        .get(id)
        .filter(|f| f.kind == kind)
        .cloned()
    else {
        return Answer::Json(Reply::json(404, not_found()));
    };
    state
        .selfservice
        .flow_reads
        .push((id.to_owned(), raw_cookie_header(req)));
    if OffsetDateTime::now_utc() > flow.expires {
        let mut error = json!({
            "code": 410, "status": "Gone",
            "reason": format!("The {0} flow has expired. Redirect the user to the {0} flow init endpoint to initialize a new {0} flow.", kind.name()),
            "details": {"redirect_to": format!("{public_url}/self-service/{}/browser", kind.name()), "return_to": flow.return_to.clone().unwrap_or_default()},
            "message": "The requested resource is no longer available because it has expired or is otherwise invalid."});
        if matches!(kind, Kind::Login | Kind::Registration | Kind::Settings) {
            error["id"] = json!("self_service_flow_expired");
        }
        return Answer::Json(Reply::json(410, json!({ "error": error })));
    }
    if kind == Kind::Settings {
        let session = browser_session(state, req);
        let Some((_, session)) = session else {
            return Answer::Json(Reply::json(
                401,
                json!({"error": {"code": 401, "status": "Unauthorized",
                "reason": "A valid Ory Session Cookie or Ory Session Token is missing.",
                "message": "The request could not be authorized"}}),
            ));
        };
        if session["identity"]["id"].as_str() != flow.identity_id.as_deref() {
            return Answer::Json(Reply::json(
                403,
                json!({"error": {"id": "security_identity_mismatch", "code": 403, "status": "Forbidden",
                "reason": "The request was made for another identity and has been blocked for security reasons.",
                "message": "The requested action was forbidden"}}),
            ));
        }
        if needs_aal2(state, Some(&session)) {
            let to = format!(
                "{public_url}/self-service/login/browser?aal=aal2&return_to={}",
                crate::support::encode(&ui(&state.selfservice.config, Kind::Settings, id))
            );
            return Answer::Json(Reply::json(
                403,
                json!({
                "error": {"id": "session_aal2_required", "code": 403, "status": "Forbidden",
                    "reason": "An active session was found but it does not fulfill the requested Authenticator Assurance Level. Please verify yourself with a second factor to resolve this issue.",
                    "details": {"redirect_browser_to": to},
                    "message": "Session does not fulfill the requested Authenticator Assurance Level"},
                "redirect_browser_to": to}),
            ));
        }
    }
    if csrf_cookie(public_url, req).as_deref() != Some(flow.csrf_cookie.as_str()) {
        let reason = if raw_cookie_header(req).is_none() {
            "The HTTP Cookie Header is empty or not set."
        } else {
            "The HTTP Cookie Header was set and a CSRF token was sent but they do not match. We recommend deleting all cookies for this domain and retrying the flow."
        };
        let mut reply = Reply::json(403, json!({ "error": csrf_violation(reason) }));
        reply.headers.push((
            "set-cookie",
            set_cookie(&csrf_cookie_name(public_url), &random_hex(16)).to_string(),
        ));
        return Answer::Json(reply);
    }
    Answer::Json(Reply::json(200, flow_json(state, public_url, id)))
}

/// The flow as `GET /self-service/<kind>/flows` serves it.
fn flow_json(state: &KratosState, public_url: &str, id: &str) -> Value {
    let Some(flow) = state.selfservice.flows.get(id) else {
        return Value::Null;
    };
    let config = &state.selfservice.config;
    let mut nodes = nodes_of(state, public_url, flow);
    for (name, message) in &flow.node_messages {
        nodes::attach(&mut nodes, name, std::slice::from_ref(message));
    }
    let action = match (flow.kind, flow.state) {
        (Kind::Verification, "passed_challenge") => flow
            .return_to
            .clone()
            .unwrap_or_else(|| config.default_return_to.clone()),
        _ => format!(
            "{public_url}/self-service/{}?flow={}",
            flow.kind.name(),
            flow.action_flow.as_deref().unwrap_or(&flow.id)
        ),
    };
    // A finished verification's form is a plain link back (recorded: `GET` to the return address).
    let method = if flow.state == "passed_challenge" {
        "GET"
    } else {
        "POST"
    };
    let mut ui = json!({"action": action, "method": method, "nodes": nodes});
    if !flow.ui_messages.is_empty() {
        ui["messages"] = json!(flow.ui_messages);
    }
    let mut body = json!({
        "id": flow.id,
        "type": "browser",
        "expires_at": rfc3339(flow.expires),
        "issued_at": rfc3339(flow.issued),
        "request_url": flow.request_url,
        "ui": ui,
        "state": flow.state,
    });
    if let Some(return_to) = &flow.return_to {
        body["return_to"] = json!(return_to);
    }
    match flow.kind {
        Kind::Login => {
            body["organization_id"] = Value::Null;
            body["created_at"] = json!(rfc3339(flow.issued));
            body["updated_at"] = json!(rfc3339(flow.issued));
            body["refresh"] = json!(flow.refresh);
            body["requested_aal"] = json!(if flow.aal2 { "aal2" } else { "aal1" });
            if let Some(active) = flow.active {
                body["active"] = json!(active);
            }
        }
        Kind::Registration => body["organization_id"] = Value::Null,
        Kind::Recovery | Kind::Verification => body["active"] = json!("code"),
        Kind::Settings => {
            let identity = flow
                .identity_id
                .as_ref()
                .and_then(|id| state.identities.get(id))
                .cloned()
                .unwrap_or(Value::Null);
            body["identity"] = super::public_identity(identity);
        }
    }
    body
}

fn nodes_of(state: &KratosState, public_url: &str, flow: &Flow) -> Vec<Value> {
    let config = &state.selfservice.config;
    let value = |name: &str| flow.values.get(name).cloned();
    let csrf = nodes::csrf(&flow.csrf_token);
    let oidc = |label_id: u64, verb: &str| -> Vec<Value> {
        config
            .oidc
            .iter()
            .map(|(id, name)| {
                nodes::submit(
                    "oidc",
                    "provider",
                    id,
                    text_with(
                        label_id,
                        &format!("{verb} {name}"),
                        "info",
                        json!({"provider": name, "provider_id": id}),
                    ),
                )
            })
            .collect()
    };
    match flow.kind {
        Kind::Login if flow.aal2 => {
            let user = flow_user(state, flow);
            let mut list = vec![csrf];
            let fresh: Vec<(&str, Value)> = if flow.submitted {
                vec![("required", json!(true))]
            } else {
                vec![("value", json!("")), ("required", json!(true))]
            };
            if user.as_ref().is_some_and(|u| u.totp.is_some()) {
                list.push(nodes::input(
                    "totp",
                    "totp_code",
                    "text",
                    &fresh,
                    Some(text(1010006, "Authentication code", "info")),
                ));
                list.push(nodes::submit(
                    "totp",
                    "method",
                    "totp",
                    text(1010009, "Use Authenticator", "info"),
                ));
            }
            if user.as_ref().is_some_and(|u| !u.lookup.is_empty()) {
                list.push(nodes::input(
                    "lookup_secret",
                    "lookup_secret",
                    "text",
                    &fresh,
                    Some(text(1010007, "Backup recovery code", "info")),
                ));
                list.push(nodes::submit(
                    "lookup_secret",
                    "method",
                    "lookup_secret",
                    text(1010010, "Use backup recovery code", "info"),
                ));
            }
            list
        }
        Kind::Login if flow.state == "sent_email" => vec![
            nodes::input(
                "identifier_first",
                "identifier",
                "hidden",
                &[
                    ("value", json!(value("identifier").unwrap_or_default())),
                    ("required", json!(true)),
                    ("autocomplete", json!("username webauthn")),
                ],
                Some(nodes::schema_label("traits.email", "E-Mail")),
            ),
            nodes::input(
                "code",
                "method",
                "hidden",
                &[("value", json!("code"))],
                None,
            ),
            nodes::input(
                "code",
                "code",
                "text",
                &[("required", json!(true))],
                Some(text(1070013, "Login code", "info")),
            ),
            nodes::submit("code", "method", "code", text(1070009, "Continue", "info")),
            nodes::submit(
                "code",
                "resend",
                "code",
                text(1070008, "Resend code", "info"),
            ),
            csrf,
        ],
        Kind::Login if flow.refresh => vec![
            csrf,
            nodes::input(
                "default",
                "identifier",
                "hidden",
                &[("value", json!(value("identifier").unwrap_or_default()))],
                None,
            ),
            nodes::password("current-password"),
            nodes::submit(
                "password",
                "method",
                "password",
                text(1010001, "Sign in", "info"),
            ),
        ],
        Kind::Login if config.identifier_first && !flow.step2 => {
            let mut list = vec![
                nodes::input(
                    "identifier_first",
                    "identifier",
                    "text",
                    &[
                        ("value", json!(value("identifier").unwrap_or_default())),
                        ("required", json!(true)),
                        ("autocomplete", json!("username webauthn")),
                    ],
                    Some(nodes::schema_label("traits.email", "E-Mail")),
                ),
                nodes::submit(
                    "identifier_first",
                    "method",
                    "identifier_first",
                    text(1070009, "Continue", "info"),
                ),
            ];
            list.extend(oidc(1010002, "Sign in with"));
            list.push(csrf);
            list
        }
        Kind::Login if config.identifier_first => {
            let mut list = vec![
                nodes::input(
                    "identifier_first",
                    "identifier",
                    "hidden",
                    &[
                        ("value", json!(value("identifier").unwrap_or_default())),
                        ("required", json!(true)),
                        ("autocomplete", json!("username webauthn")),
                    ],
                    Some(nodes::schema_label("traits.email", "E-Mail")),
                ),
                csrf,
                nodes::password("current-password"),
                nodes::submit(
                    "password",
                    "method",
                    "password",
                    text(1010022, "Sign in with password", "info"),
                ),
            ];
            if config.code_login {
                list.push(nodes::submit(
                    "code",
                    "method",
                    "code",
                    text(1010015, "Send sign in code", "info"),
                ));
            }
            list
        }
        Kind::Login => {
            let mut list = oidc(1010002, "Sign in with");
            list.push(csrf);
            list.push(nodes::input(
                "default",
                "identifier",
                "text",
                &[
                    ("value", json!(value("identifier").unwrap_or_default())),
                    ("required", json!(true)),
                ],
                Some(nodes::schema_label("traits.email", "E-Mail")),
            ));
            list.push(nodes::password("current-password"));
            list.push(nodes::submit(
                "password",
                "method",
                "password",
                text(1010022, "Sign in with password", "info"),
            ));
            if config.code_login {
                list.push(nodes::submit(
                    "code",
                    "method",
                    "code",
                    text(1010015, "Send sign in code", "info"),
                ));
            }
            list
        }
        Kind::Registration if config.registration_unified => {
            let mut list = oidc(1040002, "Sign up with");
            list.push(csrf);
            list.extend(nodes::traits("default", false, &value));
            list.push(nodes::password("new-password"));
            list.push(nodes::submit(
                "password",
                "method",
                "password",
                text(1040001, "Sign up", "info"),
            ));
            list
        }
        Kind::Registration if flow.step2 => {
            let mut list = oidc(1040002, "Sign up with");
            list.push(csrf);
            let traits = nodes::traits("default", true, &value);
            let mut traits = traits.into_iter();
            if let Some(email) = traits.next() {
                list.push(email);
            }
            list.push(nodes::password("new-password"));
            list.extend(traits);
            list.push(nodes::submit(
                "password",
                "method",
                "password",
                text(1040001, "Sign up", "info"),
            ));
            list.push(nodes::submit(
                "profile",
                "screen",
                "previous",
                text(1040008, "Back", "info"),
            ));
            list
        }
        Kind::Registration => {
            let mut list = oidc(1040002, "Sign up with");
            list.push(csrf);
            list.extend(nodes::traits("default", false, &value));
            list.push(nodes::submit(
                "profile",
                "method",
                "profile",
                text(1040001, "Sign up", "info"),
            ));
            list
        }
        Kind::Recovery | Kind::Verification => code_nodes(flow, csrf, &config.default_return_to),
        Kind::Settings => settings_nodes(state, public_url, flow, csrf),
    }
}

fn code_nodes(flow: &Flow, csrf: Value, default_return_to: &str) -> Vec<Value> {
    let recovery = flow.kind == Kind::Recovery;
    let continue_to = flow
        .return_to
        .clone()
        .unwrap_or_else(|| default_return_to.to_owned());
    match flow.state {
        "passed_challenge" => vec![
            csrf,
            json!({"type": "a", "group": "code",
                   "attributes": {"href": continue_to, "title": text(1070009, "Continue", "info"), "id": "continue", "node_type": "a"},
                   "messages": [], "meta": {"label": text(1070009, "Continue", "info")}}),
        ],
        "sent_email" => {
            let code = if recovery {
                nodes::input(
                    "code",
                    "code",
                    "text",
                    &[
                        ("required", json!(true)),
                        ("pattern", json!("[0-9]+")),
                        ("maxlength", json!(6)),
                    ],
                    Some(text(1070010, "Recovery code", "info")),
                )
            } else {
                nodes::input(
                    "code",
                    "code",
                    "text",
                    &[("required", json!(true))],
                    Some(text(1070011, "Verification code", "info")),
                )
            };
            let hidden = nodes::input(
                "code",
                "method",
                "hidden",
                &[("value", json!("code"))],
                None,
            );
            let address = flow.address.clone().unwrap_or_default();
            let rest = vec![nodes::submit(
                "code",
                "method",
                "code",
                text(1070009, "Continue", "info"),
            )];
            let resend = nodes::submit(
                "code",
                "email",
                &address,
                text(1070008, "Resend code", "info"),
            );
            if recovery {
                let mut list = vec![csrf, code, hidden];
                list.extend(rest);
                list.push(resend);
                list
            } else {
                let mut list = vec![hidden, code];
                list.extend(rest);
                list.push(csrf);
                list.push(resend);
                list
            }
        }
        _ => {
            let email = nodes::input(
                "code",
                "email",
                "email",
                &[("required", json!(true))],
                Some(text(1070007, "Email", "info")),
            );
            let submit = nodes::submit("code", "method", "code", text(1070009, "Continue", "info"));
            let _ = &flow.values;
            if recovery {
                vec![csrf, email, submit]
            } else {
                vec![email, submit, csrf]
            }
        }
    }
}

fn settings_nodes(state: &KratosState, public_url: &str, flow: &Flow, csrf: Value) -> Vec<Value> {
    let config = &state.selfservice.config;
    let identity = flow
        .identity_id
        .as_ref()
        .and_then(|id| state.identities.get(id))
        .cloned()
        .unwrap_or(Value::Null);
    let trait_value = |name: &str| -> Option<String> {
        let pointer = format!(
            "/traits/{}",
            name.trim_start_matches("traits.").replace('.', "/")
        );
        identity
            .pointer(&pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let user = flow_user(state, flow).unwrap_or_default();
    let mut list = vec![csrf];
    list.extend(nodes::traits("profile", false, &trait_value));
    list.push(nodes::submit(
        "profile",
        "method",
        "profile",
        text(1070003, "Save", "info"),
    ));
    list.push(nodes::password("new-password"));
    list.push(nodes::submit(
        "password",
        "method",
        "password",
        text(1070003, "Save", "info"),
    ));
    for (id, name) in &config.oidc {
        list.push(nodes::submit(
            "oidc",
            "link",
            id,
            text_with(
                1050002,
                &format!("Link {name}"),
                "info",
                json!({"provider": name}),
            ),
        ));
    }
    if config.lookup_secret {
        if let Some(pending) = &flow.lookup_pending {
            let codes: Vec<(String, bool)> = pending.iter().map(|c| (c.clone(), false)).collect();
            list.push(nodes::lookup_codes(&codes));
            list.push(nodes::submit(
                "lookup_secret",
                "lookup_secret_confirm",
                "true",
                text(1050011, "Confirm backup recovery codes", "info"),
            ));
        } else if !user.lookup.is_empty() {
            if flow.lookup_revealed {
                list.push(nodes::lookup_codes(&user.lookup));
            } else {
                list.push(nodes::submit(
                    "lookup_secret",
                    "lookup_secret_reveal",
                    "true",
                    text(1050007, "Reveal backup recovery codes", "info"),
                ));
            }
            list.push(nodes::submit(
                "lookup_secret",
                "lookup_secret_regenerate",
                "true",
                text(1050008, "Generate new backup recovery codes", "info"),
            ));
            list.push(nodes::submit(
                "lookup_secret",
                "lookup_secret_disable",
                "true",
                text(1050016, "Disable this method", "info"),
            ));
        } else {
            list.push(nodes::submit(
                "lookup_secret",
                "lookup_secret_regenerate",
                "true",
                text(1050008, "Generate new backup recovery codes", "info"),
            ));
        }
    }
    if config.webauthn {
        for key in &user.keys {
            list.push(nodes::submit("webauthn", "webauthn_remove", key, text_with(1050018, &format!("Remove security key \"{key}\""), "info", json!({"display_name": key, "added_at": "2026-01-01T00:00:00Z", "added_at_unix": 1767225600}))));
        }
        list.push(nodes::input(
            "webauthn",
            "webauthn_register_displayname",
            "text",
            &[("value", json!(""))],
            Some(text(1050013, "Name of the security key", "info")),
        ));
        list.push(nodes::input(
            "webauthn",
            "webauthn_register",
            "hidden",
            &[("value", json!(""))],
            None,
        ));
        let options = json!({"publicKey": {"rp": {"name": "Hera tests", "id": "127.0.0.1"}, "challenge": random_hex(16)}}).to_string();
        list.push(nodes::input(
            "webauthn",
            "webauthn_register_trigger",
            "button",
            &[
                ("value", json!(options)),
                (
                    "onclick",
                    json!(format!("window.oryWebAuthnRegistration({options})")),
                ),
                ("onclickTrigger", json!("oryWebAuthnRegistration")),
            ],
            Some(text(1050012, "Add security key", "info")),
        ));
        list.push(nodes::webauthn_script(
            &format!("{public_url}/.well-known/ory/webauthn.js"),
            &integrity(WEBAUTHN_JS),
        ));
    }
    match &user.totp {
        _ if !config.totp => {}
        Some(_) => list.push(nodes::input(
            "totp",
            "totp_unlink",
            "submit",
            &[("value", json!("true")), ("required", json!(true))],
            Some(text(1050004, "Unlink TOTP Authenticator App", "info")),
        )),
        None => list.extend(nodes::totp_enrolment(&flow.totp_pending)),
    }
    list
}

fn flow_user(state: &KratosState, flow: &Flow) -> Option<User> {
    let identity = flow.identity_id.as_deref()?;
    state
        .selfservice
        .users
        .values()
        .find(|u| u.identity_id == identity)
        .cloned()
}

// ---------------------------------------------------------------------------------------------
// Submitting flows

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn submit(
    state: &mut KratosState,
    shared: &Shared,
    req: &HttpRequest,
    kind: Kind,
    id: &str,
    form: &[(String, String)],
) -> Answer {
    let public_url = shared.public_url.clone();
    let Some(flow) = state
        .selfservice
        .flows
        .get(id)
        .filter(|f| f.kind == kind)
        .cloned()
    else {
        return fail(
            state,
            req,
            404,
            json!({"code": 404, "status": "Not Found", "message": "Unable to locate the resource"}),
        );
    };
    let cookie = csrf_cookie(&public_url, req);
    if cookie.as_deref() != Some(flow.csrf_cookie.as_str())
        || field(form, "csrf_token") != Some(flow.csrf_token.as_str())
    {
        let reason = if raw_cookie_header(req).is_none() {
            "The HTTP Cookie Header is empty or not set."
        } else {
            "The HTTP Cookie Header was set and a CSRF token was sent but they do not match. We recommend deleting all cookies for this domain and retrying the flow."
        };
        return fail(state, req, 403, csrf_violation(reason));
    }
    if OffsetDateTime::now_utc() > flow.expires && wants_json(req) {
        let replacement = new_flow(
            state,
            &public_url,
            kind,
            &flow.csrf_cookie,
            flow.return_to.as_deref(),
            flow.refresh,
            flow.aal2,
            flow.identity_id.clone(),
        );
        let since = OffsetDateTime::now_utc() - flow.expires;
        // `expired_at`, `since` and `use_flow_id` next to `error` are not in the spec's error
        // schema (recorded).
        let mut reply = Reply::json(
            410,
            json!({"error": {"id": "self_service_flow_expired", "code": 410, "status": "Gone",
                "reason": format!("The self-service flow expired {:.2} minutes ago, initialize a new one.", since.as_seconds_f64() / 60.0),
                "message": "self-service flow expired"},
                "expired_at": rfc3339(flow.expires),
                "since": since.whole_nanoseconds() as i64,
                "use_flow_id": replacement}),
        );
        reply.check = false;
        return Answer::Json(reply);
    }
    if OffsetDateTime::now_utc() > flow.expires {
        // A new flow of the same kind, carrying the "expired" message.
        let replacement = new_flow(
            state,
            &public_url,
            kind,
            &flow.csrf_cookie,
            flow.return_to.as_deref(),
            flow.refresh,
            flow.aal2,
            flow.identity_id.clone(),
        );
        let message_id = match kind {
            Kind::Login => 4010001,
            Kind::Registration => 4040001,
            Kind::Settings => 4050001,
            Kind::Recovery => 4060005,
            Kind::Verification => 4070005,
        };
        let expired_at = rfc3339(flow.expires);
        if let Some(new) = state.selfservice.flows.get_mut(&replacement) {
            new.ui_messages = vec![text_with(
                message_id,
                &format!(
                    "The {} flow expired 0.02 minutes ago, please try again.",
                    kind.name()
                ),
                "error",
                json!({"expired_at": expired_at, "expired_at_unix": flow.expires.unix_timestamp()}),
            )];
        }
        let ui_base = state.selfservice.config.ui_base.clone();
        return redirect(
            303,
            &format!("{ui_base}/{}?flow={replacement}", kind.name()),
            vec![],
        );
    }
    match kind {
        Kind::Login => submit_login(state, &public_url, req, flow, form),
        Kind::Registration => submit_registration(state, &public_url, req, flow, form),
        Kind::Recovery => submit_recovery(state, &public_url, flow, form),
        Kind::Verification => submit_verification(state, flow, form),
        Kind::Settings => submit_settings(state, &public_url, req, flow, form),
    }
}

/// Saves the flow and sends the browser back to its page.
fn back(state: &mut KratosState, flow: Flow, status: u16) -> Answer {
    let location = ui(&state.selfservice.config, flow.kind, &flow.id);
    state.selfservice.flows.insert(flow.id.clone(), flow);
    redirect(status, &location, vec![])
}

fn error_text(id: u64, english: &str) -> Value {
    text(id, english, "error")
}

fn user_by_identity(state: &KratosState, identity_id: &str) -> Option<(String, User)> {
    state
        .selfservice
        .users
        .iter()
        .find(|(_, u)| u.identity_id == identity_id)
        .map(|(email, u)| (email.clone(), u.clone()))
}

/// A new session for `identity_id` (replacing the browser's), its cookies and where next.
fn sign_in(
    state: &mut KratosState,
    req: &HttpRequest,
    identity_id: &str,
    methods: &[&str],
) -> String {
    let now = OffsetDateTime::now_utc();
    let identity = state
        .identities
        .get(identity_id)
        .cloned()
        .unwrap_or(Value::Null);
    let token = format!("ory_st_{}", random_hex(16));
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("Mozilla/5.0 (hera tests)")
        .to_owned();
    let aal = if methods
        .iter()
        .any(|m| matches!(*m, "totp" | "lookup_secret" | "webauthn"))
    {
        "aal2"
    } else {
        "aal1"
    };
    let mut new_session = session(
        &random_uuid(),
        identity,
        now,
        now + time::Duration::hours(24),
        aal,
        methods,
    );
    new_session["devices"][0]["user_agent"] = json!(user_agent);
    if let Some(old) = browser_session(state, req) {
        state.sessions.remove(&old.0);
    }
    state.sessions.insert(token.clone(), new_session);
    token
}

fn submit_login(
    state: &mut KratosState,
    public_url: &str,
    req: &HttpRequest,
    mut flow: Flow,
    form: &[(String, String)],
) -> Answer {
    let config = state.selfservice.config.clone();
    let current = browser_session(state, req);
    if current.is_some() && !flow.refresh && !flow.aal2 {
        return redirect(303, &config.default_return_to, vec![]);
    }
    if let Some(provider) = field(form, "provider") {
        let location = format!(
            "https://provider.example/oauth2/auth?client_id=kratos&provider={provider}&state={}",
            random_hex(8)
        );
        return redirect(
            303,
            &location,
            vec![set_cookie("ory_kratos_continuity", &random_hex(8))],
        );
    }
    flow.ui_messages.clear();
    flow.node_messages.clear();
    flow.submitted = true;
    let method = field(form, "method").unwrap_or_default().to_owned();
    let identifier = field(form, "identifier")
        .map(str::to_owned)
        .or_else(|| flow.values.get("identifier").cloned())
        .unwrap_or_default();
    let done =
        |state: &mut KratosState, flow: &Flow, identity_id: &str, methods: &[&str]| -> Answer {
            let token = match (flow.aal2, browser_session(state, req)) {
                (true, Some((token, _))) => {
                    if let Some(session) = state.sessions.get_mut(&token) {
                        session["authenticator_assurance_level"] = json!("aal2");
                        let now = rfc3339(OffsetDateTime::now_utc());
                        if let Some(list) = session["authentication_methods"].as_array_mut() {
                            list.push(
                                json!({"method": methods[0], "aal": "aal2", "completed_at": now}),
                            );
                        }
                    }
                    state.aal2_required.remove(&token);
                    token
                }
                _ => sign_in(state, req, identity_id, methods),
            };
            state.selfservice.flows.remove(&flow.id);
            let cookies = vec![
                set_cookie(&csrf_cookie_name(public_url), &flow.csrf_cookie),
                session_cookie(&token),
            ];
            let second_factor = !flow.aal2
                && config.highest_available_aal
                && user_by_identity(state, identity_id).is_some_and(|(_, u)| u.second_factor());
            if second_factor {
                state.aal2_required.insert(token);
                let mut location = format!("{public_url}/self-service/login/browser?aal=aal2");
                if let Some(return_to) = &flow.return_to {
                    location =
                        format!("{location}&return_to={}", crate::support::encode(return_to));
                }
                return redirect(303, &location, cookies);
            }
            let to = flow
                .return_to
                .clone()
                .unwrap_or_else(|| config.default_return_to.clone());
            redirect(303, &to, cookies)
        };
    match method.as_str() {
        "identifier_first" if config.identifier_first => {
            flow.values.insert("identifier".into(), identifier.clone());
            if state
                .selfservice
                .users
                .contains_key(&identifier.to_ascii_lowercase())
            {
                flow.step2 = true;
                flow.active = Some("identifier_first");
            } else {
                flow.node_messages.push((
                    "identifier".into(),
                    error_text(
                        4000037,
                        "This account does not exist or has no login method configured.",
                    ),
                ));
            }
            back(state, flow, 303)
        }
        "password" => {
            flow.values.insert("identifier".into(), identifier.clone());
            if identifier.is_empty() {
                flow.node_messages.push((
                    "identifier".into(),
                    text_with(
                        4000002,
                        "Property identifier is missing.",
                        "error",
                        json!({"property": "identifier"}),
                    ),
                ));
                return back(state, flow, 303);
            }
            let user = state
                .selfservice
                .users
                .get(&identifier.to_ascii_lowercase())
                .cloned();
            match user {
                Some(user)
                    if user.password.as_deref() == field(form, "password")
                        && field(form, "password").is_some() =>
                {
                    done(state, &flow, &user.identity_id, &["password"])
                }
                _ => {
                    flow.ui_messages.push(error_text(4000006, "The provided credentials are invalid, check for spelling mistakes in your password or username, email address, or phone number."));
                    back(state, flow, 303)
                }
            }
        }
        "code" if config.code_login => {
            let resend = field(form, "resend") == Some("code");
            if flow.state == "sent_email" && !resend {
                let entered = field(form, "code").unwrap_or_default();
                if flow.code.as_deref() == Some(entered) && !entered.is_empty() {
                    let user = state
                        .selfservice
                        .users
                        .get(
                            &flow
                                .values
                                .get("identifier")
                                .cloned()
                                .unwrap_or_default()
                                .to_ascii_lowercase(),
                        )
                        .cloned();
                    if let Some(user) = user {
                        return done(state, &flow, &user.identity_id, &["code"]);
                    }
                }
                flow.ui_messages.push(error_text(
                    4010008,
                    "The login code is invalid or has already been used. Please try again.",
                ));
                return back(state, flow, 303);
            }
            let address = identifier.to_ascii_lowercase();
            if !state.selfservice.users.contains_key(&address) {
                flow.node_messages.push((
                    "identifier".into(),
                    error_text(
                        4000035,
                        "This account does not exist or has not setup sign in with code.",
                    ),
                ));
                return back(state, flow, 303);
            }
            let code = send_code(state, &address, "login_code_valid");
            flow.values.insert("identifier".into(), identifier);
            flow.code = Some(code);
            flow.state = "sent_email";
            flow.active = Some("code");
            flow.ui_messages = vec![text(1010014, "A code was sent to the address you provided. If you didn't receive it, please check the spelling of the address and try again.", "info")];
            back(state, flow, 303)
        }
        "totp" if flow.aal2 => {
            let user = current
                .as_ref()
                .and_then(|(_, s)| s["identity"]["id"].as_str().map(str::to_owned))
                .and_then(|id| user_by_identity(state, &id));
            match user {
                Some((_, user))
                    if user.totp.as_deref().is_some_and(|secret| {
                        totp::verify(secret, field(form, "totp_code").unwrap_or_default())
                    }) =>
                {
                    done(state, &flow, &user.identity_id, &["totp"])
                }
                _ => {
                    flow.ui_messages.push(error_text(
                        4000008,
                        "The provided authentication code is invalid, please try again.",
                    ));
                    back(state, flow, 303)
                }
            }
        }
        "lookup_secret" if flow.aal2 => {
            let entry = current
                .as_ref()
                .and_then(|(_, s)| s["identity"]["id"].as_str().map(str::to_owned))
                .and_then(|id| user_by_identity(state, &id));
            let entered = field(form, "lookup_secret")
                .unwrap_or_default()
                .trim()
                .to_owned();
            if let Some((email, user)) = entry {
                let position = user.lookup.iter().position(|(code, _)| *code == entered);
                match position {
                    Some(i) if !user.lookup[i].1 => {
                        if let Some(u) = state.selfservice.users.get_mut(&email) {
                            u.lookup[i].1 = true;
                        }
                        return done(state, &flow, &user.identity_id, &["lookup_secret"]);
                    }
                    Some(_) => flow.ui_messages.push(error_text(
                        4000012,
                        "This backup recovery code has already been used.",
                    )),
                    None => flow.ui_messages.push(error_text(
                        4000016,
                        "The backup recovery code is not valid.",
                    )),
                }
            }
            back(state, flow, 303)
        }
        _ => {
            flow.ui_messages.push(error_text(4010002, "Could not find a strategy to log you in with. Did you fill out the form correctly?"));
            back(state, flow, 303)
        }
    }
}

fn valid_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !value.contains(char::is_whitespace)
}

fn submit_registration(
    state: &mut KratosState,
    public_url: &str,
    req: &HttpRequest,
    mut flow: Flow,
    form: &[(String, String)],
) -> Answer {
    let config = state.selfservice.config.clone();
    if browser_session(state, req).is_some() {
        return redirect(303, &config.default_return_to, vec![]);
    }
    flow.ui_messages.clear();
    flow.node_messages.clear();
    if field(form, "screen") == Some("previous") && flow.step2 {
        flow.step2 = false;
        return back(state, flow, 303);
    }
    // An empty value does not replace what the flow had (Kratos's form decoder drops it).
    for (name, value) in form
        .iter()
        .filter(|(k, v)| k.starts_with("traits.") && !v.trim().is_empty())
    {
        flow.values.insert(name.clone(), value.trim().to_owned());
    }
    let method = field(form, "method").unwrap_or_default();
    let email = field(form, "traits.email")
        .map(|e| e.trim().to_owned())
        .unwrap_or_else(|| flow.values.get("traits.email").cloned().unwrap_or_default());
    let traits_ok = if email.is_empty() {
        flow.node_messages.push((
            "traits.email".into(),
            text_with(
                4000002,
                "Property email is missing.",
                "error",
                json!({"property": "email"}),
            ),
        ));
        false
    } else if !valid_email(&email) {
        flow.node_messages.push((
            "traits.email".into(),
            text_with(
                4000040,
                "Enter a valid email address",
                "error",
                json!({"value": email}),
            ),
        ));
        false
    } else {
        true
    };
    if !traits_ok {
        flow.step2 = false;
        return back(state, flow, 302);
    }
    if method == "profile" && !config.registration_unified {
        flow.step2 = true;
        flow.ui_messages = vec![text(
            1040009,
            "Please choose a credential to authenticate yourself with.",
            "info",
        )];
        return back(state, flow, 303);
    }
    if method != "password" {
        flow.ui_messages.push(error_text(
            4010003,
            "Could not find a strategy to sign you up with. Did you fill out the form correctly?",
        ));
        return back(state, flow, 303);
    }
    let password = field(form, "password").unwrap_or_default().to_owned();
    let local = email
        .split('@')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if password.chars().count() < config.min_password_length {
        flow.node_messages.push(("password".into(), text_with(4000032,
            &format!("The password must be at least {} characters long, but got {}.", config.min_password_length, password.chars().count()),
            "error", json!({"min_length": config.min_password_length, "actual_length": password.chars().count()}))));
        return back(state, flow, 302);
    }
    if password.to_ascii_lowercase().contains(&local) || email.eq_ignore_ascii_case(&password) {
        flow.node_messages.push((
            "password".into(),
            error_text(
                4000031,
                "The password can not be used because it is too similar to the identifier.",
            ),
        ));
        return back(state, flow, 302);
    }
    if state
        .selfservice
        .users
        .contains_key(&email.to_ascii_lowercase())
    {
        flow.ui_messages.push(error_text(
            4000007,
            "An account with the same identifier (email, phone, username, ...) exists already.",
        ));
        return back(state, flow, 302);
    }
    // A new identity whose address is not verified yet.
    let identity_id = random_uuid();
    let mut identity = super::identity(
        &identity_id,
        &email,
        flow.values
            .get("traits.name.first")
            .map(String::as_str)
            .unwrap_or_default(),
        flow.values
            .get("traits.name.last")
            .map(String::as_str)
            .unwrap_or_default(),
    );
    identity["verifiable_addresses"][0]["verified"] = json!(false);
    identity["verifiable_addresses"][0]["status"] = json!("sent");
    if let Some(address) = identity["verifiable_addresses"][0].as_object_mut() {
        address.remove("verified_at");
    }
    state.identities.insert(identity_id.clone(), identity);
    state.selfservice.users.insert(
        email.to_ascii_lowercase(),
        User {
            identity_id: identity_id.clone(),
            password: Some(password),
            ..User::default()
        },
    );
    state.selfservice.flows.remove(&flow.id);
    let token = sign_in(state, req, &identity_id, &["password"]);
    let cookies = vec![
        set_cookie(&csrf_cookie_name(public_url), &flow.csrf_cookie),
        session_cookie(&token),
    ];
    let mut location = flow
        .return_to
        .clone()
        .unwrap_or_else(|| config.default_return_to.clone());
    if config.verification {
        // Kratos sends a code right away; the verification flow ends where registration would.
        let verification = new_flow(
            state,
            public_url,
            Kind::Verification,
            &flow.csrf_cookie,
            flow.return_to.as_deref(),
            false,
            false,
            None,
        );
        let code = send_code(
            state,
            &email.to_ascii_lowercase(),
            "verification_code_valid",
        );
        if let Some(v) = state.selfservice.flows.get_mut(&verification) {
            v.request_url = flow.request_url.clone();
            v.state = "sent_email";
            v.code = Some(code);
            v.address = Some(email.clone());
            v.ui_messages = vec![text(1080003, "An email containing a verification code has been sent to the email address you provided. If you have not received an email, check the spelling of the address and make sure to use the address you registered with.", "info")];
        }
        if config.show_verification_ui {
            location = ui(&config, Kind::Verification, &verification);
        }
    }
    redirect(303, &location, cookies)
}

fn send_code(state: &mut KratosState, recipient: &str, template_type: &str) -> String {
    let code = format!("{:06}", rand::random::<u32>() % 1_000_000);
    state.selfservice.outbox.push(CourierMessage {
        recipient: recipient.to_owned(),
        template_type: template_type.to_owned(),
        code: code.clone(),
    });
    code
}

/// The first step of recovery and verification by code, and Kratos's "resend": the address is
/// checked, a code goes to it when it belongs to an account, and the flow says it was sent
/// either way (nobody learns who has an account). `None` when the form carries a code instead.
fn send_flow_code(
    state: &mut KratosState,
    flow: &mut Flow,
    form: &[(String, String)],
    kind: Kind,
) -> Option<Answer> {
    let resend = flow.state == "sent_email" && field(form, "email").is_some();
    if flow.state != "choose_method" && !resend {
        return None;
    }
    let email = field(form, "email").unwrap_or_default().trim().to_owned();
    flow.values.insert("email".into(), email.clone());
    if !valid_email(&email) {
        flow.node_messages.push((
            "email".into(),
            text_with(
                4000040,
                "Enter a valid email address",
                "error",
                json!({"value": email}),
            ),
        ));
        return Some(back(state, flow.clone(), 303));
    }
    let (template, sent) = match kind {
        Kind::Recovery => (
            "recovery_code_valid",
            text(1060003, "An email containing a recovery code has been sent to the email address you provided. If you have not received an email, check the spelling of the address and make sure to use the address you registered with.", "info"),
        ),
        _ => (
            "verification_code_valid",
            text(1080003, "An email containing a verification code has been sent to the email address you provided. If you have not received an email, check the spelling of the address and make sure to use the address you registered with.", "info"),
        ),
    };
    let address = email.to_ascii_lowercase();
    if state.selfservice.users.contains_key(&address) {
        flow.code = Some(send_code(state, &address, template));
    }
    flow.address = Some(email);
    flow.state = "sent_email";
    flow.ui_messages = vec![sent];
    Some(back(state, flow.clone(), 303))
}

fn submit_recovery(
    state: &mut KratosState,
    public_url: &str,
    mut flow: Flow,
    form: &[(String, String)],
) -> Answer {
    flow.ui_messages.clear();
    flow.node_messages.clear();
    if let Some(answer) = send_flow_code(state, &mut flow, form, Kind::Recovery) {
        return answer;
    }
    let entered = field(form, "code").unwrap_or_default();
    let address = flow
        .address
        .clone()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let user = state.selfservice.users.get(&address).cloned();
    match user {
        Some(user) if !entered.is_empty() && flow.code.as_deref() == Some(entered) => {
            state.selfservice.flows.remove(&flow.id);
            let now = OffsetDateTime::now_utc();
            let identity = state
                .identities
                .get(&user.identity_id)
                .cloned()
                .unwrap_or(Value::Null);
            let token = format!("ory_st_{}", random_hex(16));
            state.sessions.insert(
                token.clone(),
                session(
                    &random_uuid(),
                    identity,
                    now,
                    now + time::Duration::hours(24),
                    "aal1",
                    &["code"],
                ),
            );
            if state.selfservice.config.highest_available_aal && user.second_factor() {
                state.aal2_required.insert(token.clone());
            }
            // Kratos hands the recovery's `return_to` on to the settings flow, whose success
            // then goes there.
            let settings = new_flow(
                state,
                public_url,
                Kind::Settings,
                &flow.csrf_cookie,
                flow.return_to.as_deref(),
                false,
                false,
                Some(user.identity_id.clone()),
            );
            let privileged = now
                + time::Duration::seconds(state.selfservice.config.privileged_for.as_secs() as i64);
            if let Some(s) = state.selfservice.flows.get_mut(&settings) {
                s.request_url = format!("{public_url}/self-service/recovery?flow={}", flow.id);
                s.ui_messages = vec![text_with(1060001, "You successfully recovered your account. Please change your password or set up an alternative login method (e.g. social sign in) within the next 60.00 minutes.", "success",
                    json!({"privilegedSessionExpiresAt": rfc3339(privileged), "privileged_session_expires_at": rfc3339(privileged), "privileged_session_expires_at_unix": privileged.unix_timestamp()}))];
            }
            let location = ui(&state.selfservice.config, Kind::Settings, &settings);
            redirect(
                303,
                &location,
                vec![
                    set_cookie(&csrf_cookie_name(public_url), &flow.csrf_cookie),
                    session_cookie(&token),
                ],
            )
        }
        _ => {
            flow.ui_messages.push(error_text(
                4060006,
                "The recovery code is invalid or has already been used. Please try again.",
            ));
            back(state, flow, 303)
        }
    }
}

fn submit_verification(
    state: &mut KratosState,
    mut flow: Flow,
    form: &[(String, String)],
) -> Answer {
    flow.ui_messages.clear();
    flow.node_messages.clear();
    if let Some(answer) = send_flow_code(state, &mut flow, form, Kind::Verification) {
        return answer;
    }
    if flow.state == "passed_challenge" {
        flow.ui_messages.push(error_text(
            4070002,
            "The request was already completed successfully and can not be retried.",
        ));
        return back(state, flow, 303);
    }
    let entered = field(form, "code").unwrap_or_default();
    if entered.is_empty() || flow.code.as_deref() != Some(entered) {
        flow.ui_messages.push(error_text(
            4070006,
            "The verification code is invalid or has already been used. Please try again.",
        ));
        return back(state, flow, 303);
    }
    let address = flow
        .address
        .clone()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if let Some(user) = state.selfservice.users.get(&address).cloned() {
        let now = rfc3339(OffsetDateTime::now_utc());
        if let Some(identity) = state.identities.get_mut(&user.identity_id) {
            if let Some(addresses) = identity["verifiable_addresses"].as_array_mut() {
                for a in addresses.iter_mut().filter(|a| {
                    a["value"]
                        .as_str()
                        .is_some_and(|v| v.eq_ignore_ascii_case(&address))
                }) {
                    a["verified"] = json!(true);
                    a["status"] = json!("completed");
                    a["verified_at"] = json!(now);
                }
            }
        }
        refresh_identity(state, &user.identity_id);
    }
    flow.code = None;
    flow.state = "passed_challenge";
    flow.ui_messages = vec![text(
        1080002,
        "You successfully verified your email address.",
        "success",
    )];
    back(state, flow, 303)
}

/// Sessions embed the identity: copy a change into them.
fn refresh_identity(state: &mut KratosState, identity_id: &str) {
    let Some(identity) = state.identities.get(identity_id).cloned() else {
        return;
    };
    for session in state.sessions.values_mut() {
        if session["identity"]["id"] == identity_id {
            session["identity"] = super::public_identity(identity.clone());
        }
    }
}

fn submit_settings(
    state: &mut KratosState,
    public_url: &str,
    req: &HttpRequest,
    flow: Flow,
    form: &[(String, String)],
) -> Answer {
    let config = state.selfservice.config.clone();
    let Some((token, session)) = browser_session(state, req) else {
        return redirect(302, &format!("{}/login", config.ui_base), vec![]);
    };
    if session["identity"]["id"].as_str() != flow.identity_id.as_deref() {
        return fail(
            state,
            req,
            403,
            json!({"id": "security_identity_mismatch", "code": 403, "status": "Forbidden",
            "reason": "The request was made for another identity and has been blocked for security reasons.",
            "message": "The requested action was forbidden"}),
        );
    }
    let authenticated_at = session["authenticated_at"]
        .as_str()
        .and_then(|t| OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let privileged = OffsetDateTime::now_utc() - authenticated_at
        <= time::Duration::seconds(config.privileged_for.as_secs() as i64);
    let needs_privilege = ["password", "profile", "totp"]
        .contains(&field(form, "method").unwrap_or_default())
        || form.iter().any(|(k, _)| {
            k.starts_with("lookup_secret_")
                || k == "totp_unlink"
                || k == "webauthn_register" && !field(form, k).unwrap_or_default().is_empty()
        });
    if needs_privilege && !privileged && wants_json(req) {
        let return_to = format!("{public_url}/self-service/settings?flow={}", flow.id);
        let to = format!(
            "{public_url}/self-service/login/browser?refresh=true&return_to={}",
            crate::support::encode(&return_to)
        );
        // `redirect_browser_to` next to `error` is not in the spec's error schema (recorded).
        let mut reply = Reply::json(
            403,
            json!({"error": {"id": "session_refresh_required", "code": 403, "status": "Forbidden",
                "reason": "The login session is too old and thus not allowed to update these fields. Please re-authenticate.",
                "message": "The requested action was forbidden"},
                "redirect_browser_to": to}),
        );
        reply.check = false;
        return Answer::Json(reply);
    }
    if needs_privilege && !privileged {
        let mut parked = flow.clone();
        parked.parked = Some(form.to_vec());
        state.selfservice.flows.insert(parked.id.clone(), parked);
        let return_to = format!("{public_url}/self-service/settings?flow={}", flow.id);
        let location = format!(
            "{public_url}/self-service/login/browser?refresh=true&return_to={}",
            crate::support::encode(&return_to)
        );
        return redirect(
            303,
            &location,
            vec![set_cookie("ory_kratos_continuity", &random_hex(8))],
        );
    }
    apply_settings(state, public_url, &token, flow, form)
}

/// Applies a settings change; a success re-issues the session cookie and sends the browser
/// back to the flow, whose `ui.action` now names a new flow.
fn apply_settings(
    state: &mut KratosState,
    public_url: &str,
    token: &str,
    mut flow: Flow,
    form: &[(String, String)],
) -> Answer {
    let config = state.selfservice.config.clone();
    flow.ui_messages.clear();
    flow.node_messages.clear();
    flow.parked = None;
    let identity_id = flow.identity_id.clone().unwrap_or_default();
    let Some((email, _)) = user_by_identity(state, &identity_id) else {
        return back(state, flow, 303);
    };
    let method = field(form, "method").unwrap_or_default();
    let mut upgraded = None;
    let outcome: Result<(), ()> = if method == "password" {
        let password = field(form, "password").unwrap_or_default();
        if password.chars().count() < config.min_password_length {
            flow.node_messages.push(("password".into(), text_with(4000032,
                &format!("The password must be at least {} characters long, but got {}.", config.min_password_length, password.chars().count()),
                "error", json!({"min_length": config.min_password_length, "actual_length": password.chars().count()}))));
            Err(())
        } else {
            if let Some(user) = state.selfservice.users.get_mut(&email) {
                user.password = Some(password.to_owned());
            }
            Ok(())
        }
    } else if method == "profile" {
        if let Some(identity) = state.identities.get_mut(&identity_id) {
            for (name, value) in form.iter().filter(|(k, _)| k.starts_with("traits.")) {
                let pointer: Vec<&str> = name.trim_start_matches("traits.").split('.').collect();
                let mut target = &mut identity["traits"];
                for part in &pointer {
                    target = &mut target[*part];
                }
                *target = json!(value);
            }
        }
        refresh_identity(state, &identity_id);
        Ok(())
    } else if method == "totp" {
        if totp::verify(
            &flow.totp_pending,
            field(form, "totp_code").unwrap_or_default(),
        ) {
            if let Some(user) = state.selfservice.users.get_mut(&email) {
                user.totp = Some(flow.totp_pending.clone());
            }
            upgraded = Some("totp");
            Ok(())
        } else {
            flow.node_messages.push((
                "totp_code".into(),
                error_text(
                    4000008,
                    "The provided authentication code is invalid, please try again.",
                ),
            ));
            Err(())
        }
    } else if field(form, "totp_unlink") == Some("true") {
        if let Some(user) = state.selfservice.users.get_mut(&email) {
            user.totp = None;
        }
        Ok(())
    } else if field(form, "lookup_secret_regenerate") == Some("true") {
        flow.lookup_pending = Some((0..12).map(|_| random_hex(4)).collect());
        return back(state, flow, 303);
    } else if field(form, "lookup_secret_reveal") == Some("true") {
        flow.lookup_revealed = true;
        return back(state, flow, 303);
    } else if field(form, "lookup_secret_confirm") == Some("true") {
        let pending = flow.lookup_pending.take().unwrap_or_default();
        if let Some(user) = state.selfservice.users.get_mut(&email) {
            user.lookup = pending.into_iter().map(|c| (c, false)).collect();
        }
        upgraded = Some("lookup_secret");
        Ok(())
    } else if field(form, "lookup_secret_disable") == Some("true") {
        if let Some(user) = state.selfservice.users.get_mut(&email) {
            user.lookup.clear();
        }
        Ok(())
    } else if let Some(registration) =
        field(form, "webauthn_register").filter(|r| !r.is_empty() && config.webauthn)
    {
        let name = field(form, "webauthn_register_displayname")
            .filter(|n| !n.is_empty())
            .unwrap_or("Security key")
            .to_owned();
        let _ = registration;
        if let Some(user) = state.selfservice.users.get_mut(&email) {
            user.keys.push(name);
        }
        upgraded = Some("webauthn");
        Ok(())
    } else if let Some(key) = field(form, "webauthn_remove") {
        if let Some(user) = state.selfservice.users.get_mut(&email) {
            user.keys.retain(|k| k != key);
        }
        Ok(())
    } else if let Some(provider) = field(form, "link") {
        let location = format!(
            "https://provider.example/oauth2/auth?client_id=kratos&provider={provider}&state={}",
            random_hex(8)
        );
        return redirect(303, &location, vec![]);
    } else {
        flow.ui_messages.push(error_text(4010004, "Could not find a strategy to update your settings. Did you fill out the form correctly?"));
        Err(())
    };
    if outcome.is_err() {
        flow.state = "show_form";
        return back(state, flow, 303);
    }
    if let Some(method) = upgraded {
        if let Some(session) = state.sessions.get_mut(token) {
            session["authenticator_assurance_level"] = json!("aal2");
            let now = rfc3339(OffsetDateTime::now_utc());
            if let Some(list) = session["authentication_methods"].as_array_mut() {
                list.push(json!({"method": method, "aal": "aal2", "completed_at": now}));
            }
        }
        state.aal2_required.remove(token);
    }
    // The UI of a fresh flow is copied in: `ui.action` names the new flow.
    let next = new_flow(
        state,
        public_url,
        Kind::Settings,
        &flow.csrf_cookie,
        flow.return_to.as_deref(),
        false,
        false,
        flow.identity_id.clone(),
    );
    // The page shows the new flow's UI: the same CSRF token and TOTP secret.
    let secret = totp::new_secret();
    if let Some(new) = state.selfservice.flows.get_mut(&next) {
        new.request_url = format!("{public_url}/self-service/settings?flow={}", flow.id);
        new.csrf_token = flow.csrf_token.clone();
        new.totp_pending = secret.clone();
    }
    flow.state = "success";
    flow.action_flow = Some(next);
    flow.lookup_pending = None;
    flow.lookup_revealed = false;
    flow.totp_pending = secret;
    flow.ui_messages = vec![text(1050001, "Your changes have been saved!", "success")];
    // A flow started with a `return_to` (or a recovery's) goes there once saved; otherwise the
    // settings page shows the change.
    let location = flow
        .return_to
        .clone()
        .unwrap_or_else(|| ui(&config, Kind::Settings, &flow.id));
    state.selfservice.flows.insert(flow.id.clone(), flow);
    redirect(303, &location, vec![session_cookie(token)])
}

/// `GET /self-service/settings?flow=`: after a re-authentication, the parked change is applied.
fn resume_settings(
    state: &mut KratosState,
    shared: &Shared,
    req: &HttpRequest,
    id: &str,
) -> Answer {
    let ui_base = state.selfservice.config.ui_base.clone();
    let Some(flow) = state.selfservice.flows.get(id).cloned() else {
        return fail(
            state,
            req,
            404,
            json!({"code": 404, "status": "Not Found", "message": "Unable to locate the resource"}),
        );
    };
    let parked = flow.parked.clone();
    match (parked, browser_session(state, req)) {
        (Some(form), Some((token, _))) => {
            apply_settings(state, &shared.public_url, &token, flow, &form)
        }
        _ => redirect(303, &format!("{ui_base}/settings?flow={id}"), vec![]),
    }
}

// ---------------------------------------------------------------------------------------------
// Errors, sessions, logout

fn get_error(state: &KratosState, id: &str) -> Answer {
    if id == "stub:500" {
        return Answer::Json(Reply::json(
            200,
            json!({"id": random_uuid(),
            "error": {"code": 500, "status": "Internal Server Error", "reason": "This is a stub error.",
                      "message": "An internal server error occurred, please contact the system administrator"},
            "created_at": "0001-01-01T00:00:00Z", "updated_at": "0001-01-01T00:00:00Z"}),
        ));
    }
    match state.selfservice.errors.get(id) {
        Some(container) => Answer::Json(Reply::json(200, container.clone())),
        None => Answer::Json(Reply::json(404, not_found())),
    }
}

fn list_sessions(state: &KratosState, req: &HttpRequest) -> Answer {
    let Some((token, current)) = browser_session(state, req) else {
        return Answer::Json(Reply::json(
            401,
            kratos_error_with_reason(
                401,
                "Unauthorized",
                "No valid session cookie found.",
                "The request could not be authorized",
            ),
        ));
    };
    let identity = current["identity"]["id"].clone();
    let mut others: Vec<Value> = state
        .sessions
        .iter()
        .filter(|(t, s)| **t != token && s["identity"]["id"] == identity && is_usable(s))
        .map(|(_, s)| s.clone())
        .collect();
    others.sort_by(|a, b| {
        b["authenticated_at"]
            .as_str()
            .cmp(&a["authenticated_at"].as_str())
    });
    Answer::Json(Reply::json(200, json!(others)))
}

fn kratos_error_with_reason(code: u16, status: &str, reason: &str, message: &str) -> Value {
    let mut body = kratos_error(code, status, message);
    body["error"]["reason"] = json!(reason);
    body
}

fn end_session(state: &mut KratosState, req: &HttpRequest, id: &str) -> Answer {
    let Some((token, current)) = browser_session(state, req) else {
        return Answer::Json(Reply::json(
            401,
            kratos_error_with_reason(
                401,
                "Unauthorized",
                "No valid session cookie found.",
                "The request could not be authorized",
            ),
        ));
    };
    if !crate::support::openapi::is_uuid(id) {
        return Answer::Json(Reply::json(
            400,
            kratos_error(
                400,
                "Bad Request",
                &format!("uuid: incorrect UUID length {} in string {id:?}", id.len()),
            ),
        ));
    }
    if current["id"] == id {
        return Answer::Json(Reply::json(
            400,
            kratos_error(400, "Bad Request", "cannot revoke current session"),
        ));
    }
    let identity = current["identity"]["id"].clone();
    state
        .sessions
        .retain(|t, s| !(*t != token && s["id"] == id && s["identity"]["id"] == identity));
    Answer::Json(Reply::empty(204))
}

fn end_other_sessions(state: &mut KratosState, req: &HttpRequest) -> Answer {
    let Some((token, current)) = browser_session(state, req) else {
        return Answer::Json(Reply::json(
            401,
            kratos_error_with_reason(
                401,
                "Unauthorized",
                "No valid session cookie found.",
                "The request could not be authorized",
            ),
        ));
    };
    let identity = current["identity"]["id"].clone();
    let before = state.sessions.len();
    state
        .sessions
        .retain(|t, s| *t == token || s["identity"]["id"] != identity);
    Answer::Json(Reply::json(
        200,
        json!({"count": before - state.sessions.len()}),
    ))
}

/// `GET /self-service/logout?token=…&return_to=…` (the URL `/self-service/logout/browser`
/// hands out): ends that session, clears the cookie, 303 to `return_to`.
fn logout(state: &mut KratosState, token: &str, return_to: &str) -> Answer {
    let session_token = state
        .logout_tokens
        .iter()
        .find(|(_, logout)| **logout == token)
        .map(|(session, _)| session.clone());
    let Some(session_token) = session_token else {
        let ui_base = state.selfservice.config.ui_base.clone();
        let id = random_uuid();
        let now = rfc3339(OffsetDateTime::now_utc());
        state.selfservice.errors.insert(id.clone(), json!({"id": id, "error": {"code": 401, "status": "Unauthorized",
            "reason": "Unable to parse logout token because it is invalid or expired.", "message": "The request could not be authorized"},
            "created_at": now, "updated_at": now}));
        return redirect(303, &format!("{ui_base}/error?id={id}"), vec![]);
    };
    state.sessions.remove(&session_token);
    let to = if return_to.is_empty() {
        state.selfservice.config.default_return_to.clone()
    } else {
        return_to.to_owned()
    };
    let mut gone = Cookie::new(SESSION_COOKIE, "");
    gone.set_path("/");
    gone.make_removal();
    redirect(303, &to, vec![gone])
}

/// `sha512-<base64>` of a script, as Kratos's script node's `integrity` carries it.
pub fn integrity(script: &str) -> String {
    use base64::Engine;
    let digest = ring::digest::digest(&ring::digest::SHA512, script.as_bytes());
    format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
    )
}

/// A stand-in for Kratos's WebAuthn script: the same functions on `window`, which instead of a
/// ceremony with an authenticator put a marker in the result field and submit the form, and the
/// same initialisation event.
pub const WEBAUTHN_JS: &str = r#"(function () {
  if (window.__oryWebAuthnInitialized) { return; }
  function finish(resultName, value, trigger) {
    var result = document.querySelector('*[name="' + resultName + '"]');
    result.value = value;
    result.closest("form").submit();
  }
  window.oryWebAuthnRegistration = function () { finish("webauthn_register", '{"fake":"registration"}'); };
  window.oryWebAuthnLogin = function () { finish("webauthn_login", '{"fake":"login"}'); };
  window.oryPasskeyRegistration = function () { finish("passkey_register", '{"fake":"passkey"}'); };
  window.oryPasskeySettingsRegistration = function () { finish("passkey_settings_register", '{"fake":"passkey"}'); };
  window.oryPasskeyLogin = function () { finish("passkey_login", '{"fake":"passkey"}'); };
  window.oryPasskeyLoginAutocompleteInit = function () {};
  window.__oryWebAuthnInitialized = true;
  window.dispatchEvent(new CustomEvent("oryWebAuthnInitialized"));
})();
"#;
