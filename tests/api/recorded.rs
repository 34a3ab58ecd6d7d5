//! The fakes against the real thing: each test puts a fake into the state a real Ory Hydra
//! v26.2.0 or Ory Kratos v26.2.0 was in when an exchange was recorded
//! (`tests/contract/recorded/`), replays the recorded request and expects the recorded answer:
//! the same status, a body of the same shape with the same fixed texts, a redirect to the same
//! place (see `support::recording`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use crate::support::fake_hydra::{
    with, ConsentSessionSpec, ConsentSpec, FakeHydra, LoginSpec, LogoutSpec,
};
use crate::support::fake_hydra_public::{s256, FakeHydraPublic, LcpUrls};
use crate::support::fake_kratos::{identity, session, FakeKratos, SESSION_COOKIE};
use crate::support::recording::{Answer, Cookies, Recording};
use crate::support::{query, strings};

/// Where the recording's Hydra sent browsers: the login and consent app on port 3000.
const APP: &str = "http://127.0.0.1:3000";
/// The recording's Hydra public URL, Kratos public URL and Kratos error UI.
const HYDRA_PUBLIC: &str = "http://127.0.0.1:4444";
const KRATOS_PUBLIC: &str = "http://127.0.0.1:4433";
/// The recording's subject, and the secret its web client gets here.
const SUBJECT: &str = "5682e595-5a5c-4bed-a9c6-77ee700a3328";
const WEB_SECRET: &str = "rec-web-secret-0123456789";
const PKCE_VERIFIER: &str = "recorded-flow-pkce-verifier-recorded-flow-pkce-verifier-0001";

/// The recorded web client as Hydra serves it (no secret).
fn web_client() -> Value {
    Recording::load("hydra-admin-client-get-200").response_body
}

/// The recorded public device client as Hydra embeds it in login and consent requests.
fn device_client() -> Value {
    Recording::load("hydra-admin-consent-get-device-200").response_body["client"].clone()
}

/// A login request as the recorded one: its client, scopes and request URL (everything else
/// is the fake's default).
fn login_like(recorded: &Value) -> LoginSpec {
    LoginSpec {
        skip: recorded["skip"] == true,
        subject: recorded["subject"].as_str().unwrap_or_default().to_owned(),
        client: recorded["client"].clone(),
        requested_scope: strings(&recorded["requested_scope"]),
        request_url: recorded["request_url"].as_str().map(str::to_owned),
        ..LoginSpec::default()
    }
}

fn basic(client_id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{client_id}:{secret}")))
}

/// The value of query parameter `name` of the `redirect_to` in a Hydra answer.
fn redirect_param(answer: &Answer, name: &str) -> String {
    param(
        answer.json()["redirect_to"].as_str().unwrap_or_default(),
        name,
    )
}

/// What a login request holds that is the same whenever Hydra is in the same state.
const LOGIN_REQUEST_FIXED: &[&str] = &[
    "/skip",
    "/subject",
    "/oidc_context",
    "/client",
    "/requested_scope",
];

/// ... and a consent request.
const CONSENT_REQUEST_FIXED: &[&str] = &[
    "/skip",
    "/subject",
    "/oidc_context",
    "/acr",
    "/amr",
    "/context",
];

/// The value of query parameter `name` of `url`.
fn param(url: &str, name: &str) -> String {
    query(url)
        .remove(name)
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}

// ---------------------------------------------------------------------------
// Hydra admin: login requests

#[tokio::test]
async fn hydra_serves_login_requests_as_recorded() {
    let hydra = FakeHydra::start().await;
    for name in [
        "hydra-admin-login-get-200",
        "hydra-admin-login-get-generic-challenge-param-200",
        "hydra-admin-login-get-skip-200",
    ] {
        let recording = Recording::load(name);
        let challenge = hydra.add_login(login_like(&recording.response_body));
        let answer = recording.to(&hydra.url).fill(&challenge).send().await;
        recording
            .expect()
            .exact(&["/skip", "/subject", "/oidc_context", "/client"])
            .check(&answer);
    }

    let recording = Recording::load("hydra-admin-login-get-missing-400");
    recording
        .expect()
        .check(&recording.to(&hydra.url).send().await);
    let recording = Recording::load("hydra-admin-login-get-unknown-404");
    let answer = recording.to(&hydra.url).fill("unknown").send().await;
    recording.expect().check(&answer);
}

#[tokio::test]
async fn hydra_answers_login_accepts_and_rejects_as_recorded() {
    let hydra = FakeHydra::start().await;
    let request = Recording::load("hydra-admin-login-get-200").response_body;
    let challenge = hydra.add_login(login_like(&request));

    let recording = Recording::load("hydra-admin-login-accept-200");
    let answer = recording.to(&hydra.url).fill(&challenge).send().await;
    recording.expect().urls(&["/redirect_to"]).check(&answer);
    // Challenges are stateless: read and accepted again after an accept.
    let recording = Recording::load("hydra-admin-login-get-after-accept-200");
    let answer = recording.to(&hydra.url).fill(&challenge).send().await;
    recording
        .expect()
        .exact(&["/skip", "/subject"])
        .check(&answer);
    let recording = Recording::load("hydra-admin-login-accept-twice-200");
    let answer = recording.to(&hydra.url).fill(&challenge).send().await;
    recording.expect().urls(&["/redirect_to"]).check(&answer);

    let recording = Recording::load("hydra-admin-login-accept-empty-subject-400");
    let answer = recording.to(&hydra.url).fill(&challenge).send().await;
    recording.expect().check(&answer);

    for name in [
        "hydra-admin-login-reject-200",
        "hydra-admin-login-reject-defaults-200",
    ] {
        let recording = Recording::load(name);
        let challenge = hydra.add_login(login_like(&request));
        let answer = recording.to(&hydra.url).fill(&challenge).send().await;
        recording.expect().urls(&["/redirect_to"]).check(&answer);
    }

    // A skipped login accepted for someone else restarts with `prompt=login`.
    let skipped = Recording::load("hydra-admin-login-get-skip-200").response_body;
    let challenge = hydra.add_login(login_like(&skipped));
    let recording = Recording::load("hydra-admin-login-accept-skip-other-subject-200");
    let answer = recording.to(&hydra.url).fill(&challenge).send().await;
    recording
        .expect()
        .urls(&["/redirect_to"])
        .params(&["prompt"])
        .check(&answer);
}

#[tokio::test]
async fn hydra_answers_expired_challenges_as_recorded() {
    let hydra = FakeHydra::start().await;
    let request = Recording::load("hydra-admin-login-get-200").response_body;
    for name in [
        "hydra-short-admin-login-get-expired-401",
        "hydra-short-admin-login-accept-expired-401",
    ] {
        let challenge = hydra.add_login(login_like(&request));
        hydra.expire(&challenge);
        let recording = Recording::load(name);
        let answer = recording.to(&hydra.url).fill(&challenge).send().await;
        recording.expect().check(&answer);
    }
    let challenge = hydra.add_consent(ConsentSpec::default());
    hydra.expire(&challenge);
    let recording = Recording::load("hydra-short-admin-consent-get-expired-401");
    let answer = recording.to(&hydra.url).fill(&challenge).send().await;
    recording.expect().check(&answer);
}

// ---------------------------------------------------------------------------
// Hydra admin: consent requests and consent sessions

/// A consent request as the recorded one: its client, subject, scopes, request URL, `acr`,
/// `amr` and the login's `context`.
fn consent_like(recorded: &Value) -> ConsentSpec {
    ConsentSpec {
        skip: recorded["skip"] == true,
        subject: recorded["subject"].as_str().unwrap_or_default().to_owned(),
        client: recorded["client"].clone(),
        requested_scope: strings(&recorded["requested_scope"]),
        request_url: recorded["request_url"].as_str().map(str::to_owned),
        acr: recorded["acr"].as_str().unwrap_or_default().to_owned(),
        amr: strings(&recorded["amr"]),
        context: Some(recorded["context"].clone()).filter(|c| !c.is_null()),
        ..ConsentSpec::default()
    }
}

#[tokio::test]
async fn hydra_serves_consent_requests_and_answers_accepts_and_rejects_as_recorded() {
    let hydra = FakeHydra::start().await;
    for name in [
        "hydra-admin-consent-get-200",
        "hydra-admin-consent-get-skip-200",
    ] {
        let recording = Recording::load(name);
        let challenge = hydra.add_consent(consent_like(&recording.response_body));
        let answer = recording.to(&hydra.url).fill(&challenge).send().await;
        recording
            .expect()
            .exact(CONSENT_REQUEST_FIXED)
            .check(&answer);
    }

    let request = Recording::load("hydra-admin-consent-get-200").response_body;
    let challenge = hydra.add_consent(consent_like(&request));
    let recording = Recording::load("hydra-admin-consent-accept-200");
    let answer = recording.to(&hydra.url).fill(&challenge).send().await;
    recording.expect().urls(&["/redirect_to"]).check(&answer);
    // Challenges are stateless: an accepted one still reads as 200.
    let recording = Recording::load("hydra-admin-consent-get-after-accept-200");
    let challenge = hydra.add_consent(consent_like(&recording.response_body));
    let accept = Recording::load("hydra-admin-consent-accept-200");
    accept.to(&hydra.url).fill(&challenge).send().await;
    let answer = recording.to(&hydra.url).fill(&challenge).send().await;
    recording
        .expect()
        .exact(&["/skip", "/context"])
        .check(&answer);

    let challenge = hydra.add_consent(consent_like(&request));
    let recording = Recording::load("hydra-admin-consent-reject-200");
    let answer = recording.to(&hydra.url).fill(&challenge).send().await;
    recording.expect().urls(&["/redirect_to"]).check(&answer);

    let recording = Recording::load("hydra-admin-consent-get-unknown-404");
    let answer = recording.to(&hydra.url).fill("unknown").send().await;
    recording.expect().check(&answer);
}

#[tokio::test]
async fn hydra_lists_and_revokes_consent_sessions_as_recorded() {
    let hydra = FakeHydra::start().await;
    let recording = Recording::load("hydra-admin-consent-sessions-list-200");
    let listed = &recording.response_body[0];
    hydra.add_consent_session(ConsentSessionSpec {
        subject: SUBJECT.to_owned(),
        client: listed["consent_request"]["client"].clone(),
        grant_scope: strings(&listed["grant_scope"]),
        remember: true,
        remember_for: 0,
        ..ConsentSessionSpec::default()
    });
    let answer = recording.to(&hydra.url).send().await;
    recording
        .expect()
        .exact(&[
            "/0/remember",
            "/0/remember_for",
            "/0/consent_request/challenge",
        ])
        // What Hera put into the accepts: the login's context and the token claims.
        .free(&[
            "/0/context",
            "/0/session/access_token",
            "/0/session/id_token",
            "/0/consent_request/context",
        ])
        .check(&answer);

    for name in [
        "hydra-admin-consent-sessions-list-no-subject-400",
        "hydra-admin-consent-sessions-delete-no-subject-400",
        "hydra-admin-consent-sessions-delete-204",
    ] {
        let recording = Recording::load(name);
        recording
            .expect()
            .check(&recording.to(&hydra.url).send().await);
    }
    assert_eq!(hydra.consent_session_count(SUBJECT, "rec-r72e3b2-web"), 0);
}

// ---------------------------------------------------------------------------
// Hydra admin: logout and device requests

#[tokio::test]
async fn hydra_serves_and_answers_logout_requests_as_recorded() {
    let hydra = FakeHydra::start().await;
    let recording = Recording::load("hydra-admin-logout-get-200");
    let recorded = &recording.response_body;
    let rp = hydra.add_logout(LogoutSpec {
        subject: SUBJECT.to_owned(),
        sid: recorded["sid"].as_str().unwrap_or_default().to_owned(),
        rp_initiated: true,
        client: Some(web_client()),
        request_url: None,
    });
    let answer = recording.to(&hydra.url).fill(&rp).send().await;
    recording
        .expect()
        .exact(&["/rp_initiated", "/expires_at", "/requested_at"])
        .urls(&["/request_url"])
        .check(&answer);

    let recording = Recording::load("hydra-admin-logout-get-op-initiated-200");
    let op = hydra.add_logout(LogoutSpec {
        subject: SUBJECT.to_owned(),
        rp_initiated: false,
        client: None,
        request_url: Some("/oauth2/sessions/logout".to_owned()),
        ..LogoutSpec::default()
    });
    let answer = recording.to(&hydra.url).fill(&op).send().await;
    recording
        .expect()
        .exact(&["/rp_initiated", "/client", "/request_url"])
        .check(&answer);

    // Accepting twice works, and until the browser follows `redirect_to` the request still
    // reads as 200.
    for name in [
        "hydra-admin-logout-accept-200",
        "hydra-admin-logout-accept-twice-200",
    ] {
        let recording = Recording::load(name);
        let answer = recording.to(&hydra.url).fill(&rp).send().await;
        recording
            .expect()
            .host(HYDRA_PUBLIC, crate::support::fake_hydra::HYDRA_PUBLIC)
            .urls(&["/redirect_to"])
            .check(&answer);
    }
    let recording = Recording::load("hydra-admin-logout-get-after-accept-200");
    let answer = recording.to(&hydra.url).fill(&rp).send().await;
    recording.expect().exact(&["/rp_initiated"]).check(&answer);

    // A rejected request is gone.
    let recording = Recording::load("hydra-admin-logout-reject-204");
    recording
        .expect()
        .check(&recording.to(&hydra.url).fill(&op).send().await);
    let recording = Recording::load("hydra-admin-logout-get-after-reject-404");
    recording
        .expect()
        .check(&recording.to(&hydra.url).fill(&op).send().await);
    let recording = Recording::load("hydra-admin-logout-get-unknown-404");
    recording
        .expect()
        .check(&recording.to(&hydra.url).fill("unknown").send().await);
}

#[tokio::test]
async fn hydra_answers_device_accepts_as_recorded() {
    let hydra = FakeHydra::start().await;
    let code = "r7wWvcHs";
    hydra.add_user_code(code, "rec-r72e3b2-device");

    let challenge = hydra.add_device_challenge();
    let recording = Recording::load("hydra-admin-device-accept-200");
    let answer = recording
        .to(&hydra.url)
        .fill(&challenge)
        .field("user_code", code)
        .send()
        .await;
    recording
        .expect()
        .host(HYDRA_PUBLIC, crate::support::fake_hydra::HYDRA_PUBLIC)
        .urls(&["/redirect_to"])
        .params(&["client_id", "user_code"])
        .check(&answer);

    let recording = Recording::load("hydra-admin-device-accept-bad-challenge-404");
    let answer = recording
        .to(&hydra.url)
        .fill("garbage")
        .field("user_code", code)
        .send()
        .await;
    recording.expect().check(&answer);
    let recording = Recording::load("hydra-admin-device-accept-empty-code-400");
    let answer = recording.to(&hydra.url).fill(&challenge).send().await;
    recording.expect().check(&answer);
    let recording = Recording::load("hydra-admin-device-accept-invalid-code-400");
    let answer = recording
        .to(&hydra.url)
        .fill(&challenge)
        .field("user_code", "nOpe4444")
        .send()
        .await;
    recording.expect().check(&answer);
}

// ---------------------------------------------------------------------------
// Hydra admin: OAuth2 clients

#[tokio::test]
async fn hydra_creates_and_serves_clients_as_recorded() {
    let hydra = FakeHydra::start().await;
    let recording = Recording::load("hydra-admin-client-create-201");
    let answer = recording
        .to(&hydra.url)
        .field("client_secret", WEB_SECRET)
        .send()
        .await;
    recording
        .expect()
        .exact(&["/contacts", "/metadata", "/post_logout_redirect_uris"])
        .urls(&["/registration_client_uri"])
        .host(HYDRA_PUBLIC, crate::support::fake_hydra::HYDRA_PUBLIC)
        .check(&answer);
    assert_eq!(answer.json()["client_secret"], WEB_SECRET);

    let recording = Recording::load("hydra-admin-client-create-duplicate-409");
    let answer = recording
        .to(&hydra.url)
        .field("client_secret", WEB_SECRET)
        .send()
        .await;
    recording.expect().check(&answer);

    let recording = Recording::load("hydra-admin-client-get-200");
    let answer = recording.to(&hydra.url).send().await;
    recording
        .expect()
        .exact(&["/contacts", "/metadata", "/response_types", "/scope"])
        .check(&answer);

    let recording = Recording::load("hydra-admin-client-create-device-public-201");
    let answer = recording.to(&hydra.url).send().await;
    recording
        .expect()
        .exact(&[
            "/response_types",
            "/contacts",
            "/token_endpoint_auth_method",
        ])
        .urls(&["/registration_client_uri"])
        .host(HYDRA_PUBLIC, crate::support::fake_hydra::HYDRA_PUBLIC)
        .check(&answer);

    let recording = Recording::load("hydra-admin-client-create-invalid-400");
    recording
        .expect()
        .check(&recording.to(&hydra.url).send().await);
    let recording = Recording::load("hydra-admin-client-create-short-secret-400");
    let answer = recording
        .to(&hydra.url)
        .field("client_secret", "abc")
        .send()
        .await;
    recording.expect().check(&answer);
    let recording = Recording::load("hydra-admin-client-get-unknown-404");
    recording
        .expect()
        .check(&recording.to(&hydra.url).send().await);
}

// ---------------------------------------------------------------------------
// Hydra public: the authorization code flow, tokens and logout

/// Hydra's admin and public fakes with the recorded web and device clients, sending browsers
/// to the recording's login and consent app.
struct Hydra {
    admin: FakeHydra,
    public: FakeHydraPublic,
}

impl Hydra {
    async fn start() -> Hydra {
        let admin = FakeHydra::start().await;
        let public = FakeHydraPublic::start(&admin, LcpUrls::of(APP)).await;
        admin.set_public_url(&public.url);
        public.register_client(with(web_client(), json!({"client_secret": WEB_SECRET})));
        public.register_client(device_client());
        Hydra { admin, public }
    }

    /// The recorded `/oauth2/auth` request of `recording` (one that redeems a verifier), as
    /// the browser first sent it: without the verifier, and with a PKCE challenge whose
    /// verifier this test knows.
    async fn start_flow(&self, recording: &str, cookies: &mut Cookies) -> String {
        let recorded = Recording::load(recording);
        let mut url = url::Url::parse(&format!("{HYDRA_PUBLIC}{}", recorded.path_and_query))
            .unwrap_or_else(|e| panic!("{e}"));
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .into_owned()
            .filter(|(k, _)| !k.ends_with("_verifier"))
            .map(|(k, v)| {
                if k == "code_challenge" {
                    (k, s256(PKCE_VERIFIER))
                } else {
                    (k, v)
                }
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
        let start = Recording::load("hydra-public-oauth2-auth-302");
        let answer = start
            .to(&self.public.url)
            .path_and_query(&url[url::Position::BeforePath..])
            .send()
            .await;
        start.expect().check(&answer);
        cookies.take(&answer);
        param(answer.location(), "login_challenge")
    }

    /// Accepts the login (as recorded, `remember: true`) and returns the verifier.
    async fn accept_login(&self, challenge: &str) -> String {
        let accept = Recording::load("hydra-admin-login-accept-200");
        let answer = accept.to(&self.admin.url).fill(challenge).send().await;
        redirect_param(&answer, "login_verifier")
    }

    /// Accepts the consent (as recorded) and returns the verifier.
    async fn accept_consent(&self, challenge: &str) -> String {
        let accept = Recording::load("hydra-admin-consent-accept-200");
        let answer = accept.to(&self.admin.url).fill(challenge).send().await;
        redirect_param(&answer, "consent_verifier")
    }

    /// Replays `recording` (a verifier redemption) with `verifier` and the browser's cookies.
    async fn redeem(&self, recording: &Recording, verifier: &str, cookies: &mut Cookies) -> Answer {
        let answer = recording
            .to(&self.public.url)
            .fill(verifier)
            .header("cookie", &cookies.header())
            .send()
            .await;
        cookies.take(&answer);
        answer
    }

    /// A whole flow up to the code: returns the code and the browser's cookies.
    async fn code(&self) -> (String, Cookies) {
        let mut cookies = Cookies::default();
        let login = self
            .start_flow("hydra-public-oauth2-auth-login-verifier-302", &mut cookies)
            .await;
        let verifier = self.accept_login(&login).await;
        let recording = Recording::load("hydra-public-oauth2-auth-login-verifier-302");
        let answer = self.redeem(&recording, &verifier, &mut cookies).await;
        let consent = param(answer.location(), "consent_challenge");
        let verifier = self.accept_consent(&consent).await;
        let recording = Recording::load("hydra-public-oauth2-auth-consent-verifier-303");
        let answer = self.redeem(&recording, &verifier, &mut cookies).await;
        (param(answer.location(), "code"), cookies)
    }

    async fn exchange(&self, code: &str) -> Answer {
        Recording::load("hydra-public-token-authorization-code-200")
            .to(&self.public.url)
            .field("code", code)
            .field("code_verifier", PKCE_VERIFIER)
            .header("authorization", &basic("rec-r72e3b2-web", WEB_SECRET))
            .send()
            .await
    }
}

#[tokio::test]
async fn the_authorization_code_flow_goes_as_recorded() {
    let hydra = Hydra::start().await;
    let mut cookies = Cookies::default();
    let login = hydra
        .start_flow("hydra-public-oauth2-auth-login-verifier-302", &mut cookies)
        .await;

    let recording = Recording::load("hydra-admin-login-get-200");
    let answer = recording.to(&hydra.admin.url).fill(&login).send().await;
    recording.expect().exact(LOGIN_REQUEST_FIXED).check(&answer);

    let verifier = hydra.accept_login(&login).await;
    let recording = Recording::load("hydra-public-oauth2-auth-login-verifier-302");
    let answer = hydra.redeem(&recording, &verifier, &mut cookies).await;
    recording.expect().check(&answer);
    let consent = param(answer.location(), "consent_challenge");

    let recording = Recording::load("hydra-admin-consent-get-200");
    let answer = recording.to(&hydra.admin.url).fill(&consent).send().await;
    recording
        .expect()
        .exact(CONSENT_REQUEST_FIXED)
        .host(HYDRA_PUBLIC, &hydra.public.url)
        .urls(&["/request_url"])
        .check(&answer);

    let consent_verifier = hydra.accept_consent(&consent).await;
    let recording = Recording::load("hydra-public-oauth2-auth-consent-verifier-303");
    let answer = hydra
        .redeem(&recording, &consent_verifier, &mut cookies)
        .await;
    recording
        .expect()
        .params(&["scope", "state"])
        .check(&answer);
    let code = param(answer.location(), "code");

    // A consent verifier works once; a login verifier again, in the same browser.
    let recording = Recording::load("hydra-public-oauth2-auth-consent-verifier-reused-303");
    let answer = hydra
        .redeem(&recording, &consent_verifier, &mut cookies)
        .await;
    recording.expect().check(&answer);
    let recording = Recording::load("hydra-public-oauth2-auth-login-verifier-reused-302");
    let answer = hydra.redeem(&recording, &verifier, &mut cookies).await;
    recording.expect().check(&answer);

    // The code gives tokens, the refresh token new ones; a replayed code is refused and
    // revokes what it gave.
    let recording = Recording::load("hydra-public-token-authorization-code-200");
    let tokens = hydra.exchange(&code).await;
    recording
        .expect()
        .exact(&["/token_type", "/scope"])
        .check(&tokens);
    let recording = Recording::load("hydra-public-token-refresh-200");
    let refreshed = recording
        .to(&hydra.public.url)
        .field("refresh_token", tokens.json()["refresh_token"].clone())
        .header("authorization", &basic("rec-r72e3b2-web", WEB_SECRET))
        .send()
        .await;
    recording
        .expect()
        .exact(&["/token_type", "/scope"])
        .check(&refreshed);
    let recording = Recording::load("hydra-public-token-code-reused-400");
    let answer = recording
        .to(&hydra.public.url)
        .field("code", code.as_str())
        .field("code_verifier", PKCE_VERIFIER)
        .header("authorization", &basic("rec-r72e3b2-web", WEB_SECRET))
        .send()
        .await;
    recording.expect().check(&answer);
    let refreshed_access = refreshed.json()["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!hydra
        .public
        .issuer()
        .access_token_is_active(&refreshed_access));
}

#[tokio::test]
async fn refused_and_repeated_verifiers_end_as_recorded() {
    let hydra = Hydra::start().await;

    // A rejected login ends at the client with the rejection.
    let mut cookies = Cookies::default();
    let recording = Recording::load("hydra-public-oauth2-auth-login-rejected-303");
    let login = hydra.start_flow(&recording.name, &mut cookies).await;
    let reject = Recording::load("hydra-admin-login-reject-200");
    let answer = reject.to(&hydra.admin.url).fill(&login).send().await;
    let verifier = redirect_param(&answer, "login_verifier");
    let answer = hydra.redeem(&recording, &verifier, &mut cookies).await;
    recording.expect().params(&["state"]).check(&answer);

    // A verifier redeemed in a browser without the flow's CSRF cookie.
    let mut cookies = Cookies::default();
    let recording = Recording::load("hydra-public-oauth2-auth-login-verifier-other-browser-303");
    let login = hydra.start_flow(&recording.name, &mut cookies).await;
    let verifier = hydra.accept_login(&login).await;
    let answer = hydra
        .redeem(&recording, &verifier, &mut Cookies::default())
        .await;
    recording.expect().params(&["state"]).check(&answer);

    // The verifier of a second accept of the same challenge, after the first one was used.
    let mut cookies = Cookies::default();
    let recording = Recording::load("hydra-public-oauth2-auth-login-verifier-of-second-accept-302");
    let login = hydra.start_flow(&recording.name, &mut cookies).await;
    let first = hydra.accept_login(&login).await;
    let second = hydra.accept_login(&login).await;
    hydra.redeem(&recording, &first, &mut cookies).await;
    let answer = hydra.redeem(&recording, &second, &mut cookies).await;
    recording.expect().check(&answer);
}

#[tokio::test]
async fn the_token_endpoint_refuses_as_recorded() {
    let hydra = Hydra::start().await;
    let (code, _) = hydra.code().await;
    let recording = Recording::load("hydra-public-token-bad-client-secret-401");
    let answer = recording
        .to(&hydra.public.url)
        .field("code", code.as_str())
        .field("code_verifier", PKCE_VERIFIER)
        .header("authorization", &basic("rec-r72e3b2-web", "a-wrong-secret"))
        .send()
        .await;
    recording.expect().check(&answer);

    // One wrong PKCE verifier burns the code.
    for (name, verifier) in [
        (
            "hydra-public-token-bad-pkce-400",
            "a-wrong-verifier-a-wrong-verifier-a-wrong-verifier",
        ),
        ("hydra-public-token-after-bad-pkce-400", PKCE_VERIFIER),
    ] {
        let recording = Recording::load(name);
        let answer = recording
            .to(&hydra.public.url)
            .field("code", code.as_str())
            .field("code_verifier", verifier)
            .header("authorization", &basic("rec-r72e3b2-web", WEB_SECRET))
            .send()
            .await;
        recording.expect().check(&answer);
    }

    let recording = Recording::load("hydra-public-token-missing-code-400");
    let answer = recording
        .to(&hydra.public.url)
        .header("authorization", &basic("rec-r72e3b2-web", WEB_SECRET))
        .send()
        .await;
    recording.expect().check(&answer);
    let recording = Recording::load("hydra-public-token-unsupported-grant-400");
    let answer = recording
        .to(&hydra.public.url)
        .field("password", "a-password")
        .header("authorization", &basic("rec-r72e3b2-web", WEB_SECRET))
        .send()
        .await;
    recording.expect().check(&answer);
}

#[tokio::test]
async fn logout_goes_as_recorded() {
    let hydra = Hydra::start().await;
    let (code, mut cookies) = hydra.code().await;
    let id_token = hydra.exchange(&code).await.json()["id_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let recording = Recording::load("hydra-public-logout-rp-initiated-302");
    let answer = recording
        .to(&hydra.public.url)
        .fill(&id_token)
        .header("cookie", &cookies.header())
        .send()
        .await;
    recording.expect().check(&answer);
    let challenge = param(answer.location(), "logout_challenge");

    let recording = Recording::load("hydra-admin-logout-get-200");
    let answer = recording.to(&hydra.admin.url).fill(&challenge).send().await;
    recording
        .expect()
        .exact(&["/rp_initiated", "/subject", "/expires_at", "/requested_at"])
        .urls(&["/request_url"])
        .params(&["post_logout_redirect_uri", "state"])
        .check(&answer);
    let subject = answer.json()["subject"].clone();
    assert_eq!(subject, SUBJECT);

    let recording = Recording::load("hydra-admin-logout-accept-200");
    let answer = recording.to(&hydra.admin.url).fill(&challenge).send().await;
    recording
        .expect()
        .host(HYDRA_PUBLIC, &hydra.public.url)
        .urls(&["/redirect_to"])
        .check(&answer);
    let verifier = redirect_param(&answer, "logout_verifier");
    let recording = Recording::load("hydra-admin-logout-get-after-accept-200");
    let answer = recording.to(&hydra.admin.url).fill(&challenge).send().await;
    recording.expect().exact(&["/rp_initiated"]).check(&answer);

    // The browser follows the verifier: Hydra's session ends, the client gets its state back.
    let recording = Recording::load("hydra-public-logout-verifier-302");
    let answer = hydra.redeem(&recording, &verifier, &mut cookies).await;
    recording.expect().params(&["state"]).check(&answer);
    assert!(cookies.get("ory_hydra_session_dev").is_none());
    let recording = Recording::load("hydra-admin-logout-get-after-verifier-used-410");
    let answer = recording.to(&hydra.admin.url).fill(&challenge).send().await;
    recording
        .expect()
        .urls(&["/redirect_to"])
        .params(&["post_logout_redirect_uri", "state"])
        .check(&answer);
    let recording = Recording::load("hydra-public-logout-verifier-reused-302");
    let answer = hydra.redeem(&recording, &verifier, &mut cookies).await;
    recording.expect().params(&["state"]).check(&answer);
}

#[tokio::test]
async fn an_op_initiated_logout_goes_as_recorded() {
    let hydra = Hydra::start().await;
    let (_, cookies) = hydra.code().await;
    let recording = Recording::load("hydra-public-logout-op-initiated-302");
    let answer = recording
        .to(&hydra.public.url)
        .header("cookie", &cookies.header())
        .send()
        .await;
    recording.expect().check(&answer);
    let challenge = param(answer.location(), "logout_challenge");
    let recording = Recording::load("hydra-admin-logout-get-op-initiated-200");
    let answer = recording.to(&hydra.admin.url).fill(&challenge).send().await;
    recording
        .expect()
        .exact(&["/rp_initiated", "/client", "/request_url", "/subject"])
        .check(&answer);
}

// ---------------------------------------------------------------------------
// Hydra public: the device flow

#[tokio::test]
async fn the_device_flow_goes_as_recorded() {
    let hydra = Hydra::start().await;
    let recording = Recording::load("hydra-public-device-auth-200");
    let device = recording.to(&hydra.public.url).send().await;
    recording
        .expect()
        .host(HYDRA_PUBLIC, &hydra.public.url)
        .exact(&["/Header"])
        .urls(&["/verification_uri", "/verification_uri_complete"])
        .check(&device);
    let device = device.json();
    let device_code = device["device_code"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let user_code = device["user_code"].as_str().unwrap_or_default().to_owned();

    let recording = Recording::load("hydra-public-token-device-pending-400");
    let answer = recording
        .to(&hydra.public.url)
        .field("device_code", device_code.as_str())
        .send()
        .await;
    recording.expect().check(&answer);

    let mut cookies = Cookies::default();
    let recording = Recording::load("hydra-public-device-verify-no-code-302");
    let answer = recording.to(&hydra.public.url).send().await;
    recording.expect().check(&answer);
    let recording = Recording::load("hydra-public-device-verify-302");
    let answer = recording
        .to(&hydra.public.url)
        .fill(&user_code)
        .send()
        .await;
    recording.expect().check(&answer);
    cookies.take(&answer);
    assert_eq!(param(answer.location(), "user_code"), user_code);
    let device_challenge = param(answer.location(), "device_challenge");

    let recording = Recording::load("hydra-admin-device-accept-200");
    let answer = recording
        .to(&hydra.admin.url)
        .fill(&device_challenge)
        .field("user_code", user_code.as_str())
        .send()
        .await;
    recording
        .expect()
        .host(HYDRA_PUBLIC, &hydra.public.url)
        .urls(&["/redirect_to"])
        .params(&["client_id", "user_code"])
        .check(&answer);
    let verifier = redirect_param(&answer, "device_verifier");
    let recording = Recording::load("hydra-public-device-verifier-302");
    let answer = hydra.redeem(&recording, &verifier, &mut cookies).await;
    recording.expect().check(&answer);
    let login = param(answer.location(), "login_challenge");

    let recording = Recording::load("hydra-admin-login-get-device-200");
    let answer = recording.to(&hydra.admin.url).fill(&login).send().await;
    recording
        .expect()
        .exact(LOGIN_REQUEST_FIXED)
        .host(HYDRA_PUBLIC, &hydra.public.url)
        .urls(&["/request_url"])
        .params(&["client_id", "user_code"])
        .check(&answer);

    // Accepted without `acr`, `amr` or `context`, as the recorded device login was.
    let answer = Recording::load("hydra-admin-login-accept-200")
        .to(&hydra.admin.url)
        .fill(&login)
        .body(json!({"subject": SUBJECT}))
        .send()
        .await;
    let answer = reqwest_get(
        answer.json()["redirect_to"].as_str().unwrap_or_default(),
        &cookies,
    )
    .await;
    cookies.take(&answer);
    let consent = param(answer.location(), "consent_challenge");
    let recording = Recording::load("hydra-admin-consent-get-device-200");
    let answer = recording.to(&hydra.admin.url).fill(&consent).send().await;
    recording
        .expect()
        .exact(CONSENT_REQUEST_FIXED)
        .exact(&["/client"])
        .host(HYDRA_PUBLIC, &hydra.public.url)
        .urls(&["/request_url"])
        .check(&answer);

    // Granted what the device asked for, as recorded.
    let answer = Recording::load("hydra-admin-consent-accept-200")
        .to(&hydra.admin.url)
        .fill(&consent)
        .field("grant_scope", json!(["openid", "offline_access"]))
        .send()
        .await;
    let verifier = redirect_param(&answer, "consent_verifier");
    let recording = Recording::load("hydra-public-device-consent-verifier-302");
    let answer = hydra.redeem(&recording, &verifier, &mut cookies).await;
    recording.expect().params(&["client_id"]).check(&answer);

    for name in [
        "hydra-public-token-device-200",
        "hydra-public-token-device-reused-400",
    ] {
        let recording = Recording::load(name);
        let answer = recording
            .to(&hydra.public.url)
            .field("device_code", device_code.as_str())
            .send()
            .await;
        recording
            .expect()
            .exact(&["/token_type", "/scope"])
            .check(&answer);
    }

    // A confidential client that does not authenticate gets no device code.
    let recording = Recording::load("hydra-public-device-auth-wrong-grant-401");
    recording
        .expect()
        .check(&recording.to(&hydra.public.url).send().await);
}

async fn reqwest_get(url: &str, cookies: &Cookies) -> Answer {
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
        .get(url)
        .header("cookie", cookies.header())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        text: response.text().await.unwrap_or_default(),
    }
}

// ---------------------------------------------------------------------------
// Kratos

/// The recorded identity (`rec-…-api@example.com`) as the fake builds it.
fn identity_like(recorded: &Value) -> Value {
    let traits = &recorded["traits"];
    identity(
        recorded["id"].as_str().unwrap_or_default(),
        traits["email"].as_str().unwrap_or_default(),
        traits["name"]["first"].as_str().unwrap_or_default(),
        traits["name"]["last"].as_str().unwrap_or_default(),
    )
}

/// The recorded session as the fake builds it, for its identity.
fn session_like(recorded: &Value, identity: Value) -> Value {
    let now = OffsetDateTime::now_utc();
    let methods: Vec<&str> = recorded["authentication_methods"]
        .as_array()
        .map(|methods| {
            methods
                .iter()
                .filter_map(|m| m["method"].as_str())
                .collect()
        })
        .unwrap_or_default();
    session(
        recorded["id"].as_str().unwrap_or_default(),
        identity,
        now,
        now + Duration::hours(2),
        recorded["authenticator_assurance_level"]
            .as_str()
            .unwrap_or_default(),
        &methods,
    )
}

#[tokio::test]
async fn kratos_whoami_answers_as_recorded() {
    let kratos = FakeKratos::start().await;
    for (name, header) in [
        ("kratos-whoami-cookie-200", "cookie"),
        ("kratos-whoami-bearer-200", "authorization"),
        ("kratos-whoami-x-session-token-200", "x-session-token"),
        ("kratos-whoami-cookie-aal2-200", "cookie"),
        ("kratos-whoami-cookie-after-totp-enrolment-200", "cookie"),
    ] {
        let recording = Recording::load(name);
        let recorded = &recording.response_body;
        let mut person = identity_like(&recorded["identity"]);
        if recorded["identity"].get("state_changed_at").is_none() {
            // Kratos leaves it out for an identity whose state never changed.
            person.as_object_mut().map(|p| p.remove("state_changed_at"));
        }
        let token = format!("token-of-{name}");
        kratos.add_session(&token, session_like(recorded, person));
        let value = match header {
            "cookie" => format!("{SESSION_COOKIE}={token}"),
            "authorization" => format!("Bearer {token}"),
            _ => token.clone(),
        };
        let answer = recording
            .to(&kratos.public_url)
            .header(header, &value)
            .send()
            .await;
        recording
            .expect()
            .exact(&[
                "/active",
                "/authenticator_assurance_level",
                "/authentication_methods/0/method",
                "/authentication_methods/0/aal",
                "/identity/traits",
            ])
            .check(&answer);
        assert_eq!(
            answer.header("x-kratos-authenticated-identity-id"),
            recorded["identity"]["id"].as_str()
        );
    }

    let recording = Recording::load("kratos-whoami-none-401");
    recording
        .expect()
        .check(&recording.to(&kratos.public_url).send().await);
    let recording = Recording::load("kratos-whoami-bad-token-401");
    let answer = recording
        .to(&kratos.public_url)
        .header("x-session-token", "unknown")
        .send()
        .await;
    recording.expect().check(&answer);

    // A revoked session, and one Hydra's logout revoked through `urls.identity_provider`.
    let recorded = Recording::load("kratos-whoami-x-session-token-200").response_body;
    let mut revoked = session_like(&recorded, identity_like(&recorded["identity"]));
    revoked["active"] = json!(false);
    kratos.add_session("revoked", revoked);
    let recording = Recording::load("kratos-whoami-revoked-401");
    let answer = recording
        .to(&kratos.public_url)
        .header("x-session-token", "revoked")
        .send()
        .await;
    recording.expect().check(&answer);
    let mut ended = session_like(&recorded, identity_like(&recorded["identity"]));
    ended["id"] = json!("8ad5b408-aef4-4523-ac08-6625ed5df9af");
    kratos.add_session("ended-by-hydra", ended);
    kratos
        .sessions()
        .revoke("8ad5b408-aef4-4523-ac08-6625ed5df9af");
    let recording = Recording::load("kratos-whoami-after-hydra-logout-401");
    let answer = recording
        .to(&kratos.public_url)
        .header("x-session-token", "ended-by-hydra")
        .send()
        .await;
    recording.expect().check(&answer);

    let recording = Recording::load("kratos-whoami-tokenize-unknown-template-400");
    let answer = recording
        .to(&kratos.public_url)
        .header(
            "x-session-token",
            "token-of-kratos-whoami-x-session-token-200",
        )
        .send()
        .await;
    recording.expect().check(&answer);
}

#[tokio::test]
async fn kratos_serves_identities_and_extends_sessions_as_recorded() {
    let kratos = FakeKratos::start().await;
    let recording = Recording::load("kratos-admin-identity-get-200");
    let recorded = &recording.response_body;
    kratos.add_identity(identity_like(recorded));
    let answer = recording.to(&kratos.admin_url).send().await;
    recording
        .expect()
        .exact(&[
            "/traits",
            "/schema_id",
            "/state",
            "/credentials/password/identifiers",
        ])
        .check(&answer);
    let recording = Recording::load("kratos-admin-identity-get-include-password-200");
    let answer = recording.to(&kratos.admin_url).send().await;
    recording.expect().check(&answer);
    let recording = Recording::load("kratos-admin-identity-get-unknown-404");
    recording
        .expect()
        .check(&recording.to(&kratos.admin_url).send().await);

    let recording = Recording::load("kratos-admin-session-extend-200");
    let recorded = &recording.response_body;
    kratos.add_session(
        "to-extend",
        session_like(recorded, identity_like(&recorded["identity"])),
    );
    let answer = recording.to(&kratos.admin_url).send().await;
    recording
        .expect()
        .exact(&["/id", "/active", "/devices"])
        .check(&answer);
    for name in [
        "kratos-admin-session-extend-malformed-400",
        "kratos-admin-session-extend-unknown-404",
    ] {
        let recording = Recording::load(name);
        recording
            .expect()
            .check(&recording.to(&kratos.admin_url).send().await);
    }
}

#[tokio::test]
async fn kratos_browser_logout_goes_as_recorded() {
    let kratos = FakeKratos::start().await;
    let recorded = Recording::load("kratos-whoami-cookie-200").response_body;
    kratos.add_session(
        "browser",
        session_like(&recorded, identity_like(&recorded["identity"])),
    );
    let cookie = format!("{SESSION_COOKIE}=browser");

    for name in [
        "kratos-logout-browser-200",
        "kratos-logout-browser-html-accept-200",
    ] {
        let recording = Recording::load(name);
        let answer = recording
            .to(&kratos.public_url)
            .header("cookie", &cookie)
            .send()
            .await;
        recording
            .expect()
            .host(KRATOS_PUBLIC, &kratos.public_url)
            .urls(&["/logout_url"])
            .params(&["return_to"])
            .check(&answer);
    }
    for name in [
        "kratos-logout-browser-no-session-401",
        "kratos-logout-browser-no-session-browser-303",
    ] {
        let recording = Recording::load(name);
        recording
            .expect()
            .check(&recording.to(&kratos.public_url).send().await);
    }

    let recording = Recording::load("kratos-logout-browser-follow-wrong-token-303");
    let answer = recording
        .to(&kratos.public_url)
        .fill("ory_lo_wrong")
        .header("cookie", &cookie)
        .send()
        .await;
    recording.expect().check(&answer);

    let logout_url = kratos.logout_url("browser", Some(&format!("{APP}/bye")));
    let recording = Recording::load("kratos-logout-browser-follow-303");
    let answer = recording
        .to(&kratos.public_url)
        .fill(&param(&logout_url, "token"))
        .header("cookie", &cookie)
        .send()
        .await;
    recording.expect().check(&answer);
    assert!(answer
        .cookies_set()
        .iter()
        .any(|(name, _, removed)| name == SESSION_COOKIE && *removed));
    let recording = Recording::load("kratos-whoami-after-logout-401");
    let answer = recording
        .to(&kratos.public_url)
        .header("cookie", &cookie)
        .send()
        .await;
    recording.expect().check(&answer);
}

/// Every recording kept in the repository is replayed by a test here or in
/// `recorded_selfservice.rs`.
#[test]
fn every_recording_in_the_repository_is_used() {
    let source = [
        include_str!("recorded.rs"),
        include_str!("recorded_selfservice.rs"),
    ]
    .concat();
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/contract/recorded");
    let unused: Vec<String> = std::fs::read_dir(folder)
        .unwrap_or_else(|e| panic!("{folder}: {e}"))
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| entry.file_name().to_str().map(str::to_owned))
        .filter_map(|name| name.strip_suffix(".json").map(str::to_owned))
        .filter(|name| !source.contains(&format!("\"{name}\"")))
        .collect();
    assert_eq!(unused, Vec::<String>::new(), "recordings no test replays");
}
