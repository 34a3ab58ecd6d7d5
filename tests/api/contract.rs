//! The fakes must behave like real Hydra and Kratos: every body they serve
//! must match the published OpenAPI schema (or a documented gap in
//! `support::openapi`), and their error bodies must be the exact ones the
//! real servers send (`recorded.rs` replays recorded exchanges against them).
//! These tests talk to the fakes over real HTTP with reqwest; they do not
//! involve Hera.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::support::fake_hydra::{
    client, random_uuid, with, ConsentSessionSpec, ConsentSpec, FakeHydra, Fault, LoginSpec,
    LogoutSpec, USER_CODE_NOT_FOUND,
};
use crate::support::fake_kratos::{identity, session, FakeKratos, ERROR_UI_URL, SESSION_COOKIE};
use crate::support::openapi::{self, OpenApi};
use crate::support::{query, TestApp, ADA_EMAIL};

const LOGIN: &str = "/admin/oauth2/auth/requests/login";
const LOGIN_ACCEPT: &str = "/admin/oauth2/auth/requests/login/accept";
const LOGIN_REJECT: &str = "/admin/oauth2/auth/requests/login/reject";
const CONSENT: &str = "/admin/oauth2/auth/requests/consent";
const CONSENT_ACCEPT: &str = "/admin/oauth2/auth/requests/consent/accept";
const CONSENT_REJECT: &str = "/admin/oauth2/auth/requests/consent/reject";
const LOGOUT: &str = "/admin/oauth2/auth/requests/logout";
const LOGOUT_ACCEPT: &str = "/admin/oauth2/auth/requests/logout/accept";
const LOGOUT_REJECT: &str = "/admin/oauth2/auth/requests/logout/reject";
const DEVICE_ACCEPT: &str = "/admin/oauth2/auth/requests/device/accept";
const CONSENT_SESSIONS: &str = "/admin/oauth2/auth/sessions/consent";

const INVALID_REQUEST: &str = "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.";

fn http() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Sends a request, checks the content type, parses the JSON body and
/// asserts it matches `spec` for that path and status.
async fn call(
    spec: &OpenApi,
    method: Method,
    base: &str,
    path_and_query: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = http().request(method.clone(), format!("{base}{path_and_query}"));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let content_type = response.headers()["content-type"].clone();
    let body: Value = response.json().await.unwrap();
    // Ory's error writer leaves the charset out; everything else carries it.
    let expected = if status.as_u16() >= 400 && body.get("error").is_some() {
        "application/json"
    } else {
        "application/json; charset=utf-8"
    };
    assert_eq!(
        content_type, expected,
        "{method} {path_and_query} -> {status}"
    );
    let path = path_and_query.split('?').next().unwrap();
    let checked = spec.check_response(method.as_str(), path, status.as_u16(), &body);
    assert_eq!(checked, Ok(()), "{method} {path} -> {status}, body: {body}");
    (status, body)
}

async fn hydra_call(
    hydra: &FakeHydra,
    method: Method,
    path_and_query: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    call(openapi::hydra(), method, &hydra.url, path_and_query, body).await
}

fn q(challenge: &str) -> String {
    url::form_urlencoded::byte_serialize(challenge.as_bytes()).collect()
}

fn param(url: &str, name: &str) -> Option<String> {
    query(url).remove(name)
}

#[tokio::test]
async fn every_body_the_fake_hydra_serves_matches_the_hydra_openapi_schema() {
    let hydra = FakeHydra::start().await;
    let login = hydra.add_login(LoginSpec::default());
    let skipped = hydra.add_login(LoginSpec {
        skip: true,
        subject: "user-1".into(),
        client: with(client("first-party"), json!({"skip_consent": true})),
        ..LoginSpec::default()
    });
    let consent = hydra.add_consent(ConsentSpec {
        subject: "user-1".into(),
        context: Some(json!({"kratos_session_id": "abc"})),
        ..ConsentSpec::default()
    });

    // Login: 200, accept 200, reject 200, with the `challenge=` fallback too.
    let (status, body) = hydra_call(
        &hydra,
        Method::GET,
        &format!("{LOGIN}?login_challenge={}", q(&login)),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["challenge"], login);
    let (status, _) = hydra_call(
        &hydra,
        Method::GET,
        &format!("{LOGIN}?challenge={}", q(&skipped)),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = hydra_call(
        &hydra,
        Method::PUT,
        &format!("{LOGIN_ACCEPT}?login_challenge={}", q(&login)),
        Some(json!({"subject": "user-1", "remember": true, "remember_for": 3600, "acr": "aal1", "amr": ["pwd"], "context": {"a": 1}, "identity_provider_session_id": "s"})),
    )
    .await;
    assert_eq!(status, 200);
    assert!(param(body["redirect_to"].as_str().unwrap(), "login_verifier").is_some());
    let (status, body) = hydra_call(
        &hydra,
        Method::PUT,
        &format!("{LOGIN_REJECT}?login_challenge={}", q(&login)),
        Some(json!({"error": "access_denied", "error_description": "The resource owner denied the request"})),
    )
    .await;
    assert_eq!(status, 200);
    assert!(param(body["redirect_to"].as_str().unwrap(), "login_verifier").is_some());

    // Consent: 200, accept 200, reject 200.
    let (status, body) = hydra_call(
        &hydra,
        Method::GET,
        &format!("{CONSENT}?consent_challenge={}", q(&consent)),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["context"], json!({"kratos_session_id": "abc"}));
    let (status, body) = hydra_call(
        &hydra,
        Method::PUT,
        &format!("{CONSENT_ACCEPT}?consent_challenge={}", q(&consent)),
        Some(json!({"grant_scope": ["openid"], "grant_access_token_audience": [], "remember": false, "remember_for": 0, "session": {"id_token": {"email": "a@b.c"}, "access_token": {}}})),
    )
    .await;
    assert_eq!(status, 200);
    assert!(param(body["redirect_to"].as_str().unwrap(), "consent_verifier").is_some());
    let (status, _) = hydra_call(
        &hydra,
        Method::PUT,
        &format!("{CONSENT_REJECT}?consent_challenge={}", q(&consent)),
        Some(json!({"error": "access_denied"})),
    )
    .await;
    assert_eq!(status, 200);

    // Errors: 400 missing challenge, 404 unknown, 401 expired, 410 gone.
    let (status, _) = hydra_call(&hydra, Method::GET, LOGIN, None).await;
    assert_eq!(status, 400);
    let (status, _) = hydra_call(
        &hydra,
        Method::GET,
        &format!("{CONSENT}?consent_challenge=nope"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    hydra.expire(&login);
    let (status, _) = hydra_call(
        &hydra,
        Method::GET,
        &format!("{LOGIN}?login_challenge={}", q(&login)),
        None,
    )
    .await;
    assert_eq!(status, 401);
    hydra.mark_gone(&skipped, "http://127.0.0.1:4444/oauth2/auth?client_id=x");
    let (status, body) = hydra_call(
        &hydra,
        Method::GET,
        &format!("{LOGIN}?login_challenge={}", q(&skipped)),
        None,
    )
    .await;
    assert_eq!(status, 410);
    assert_eq!(
        body,
        json!({"redirect_to": "http://127.0.0.1:4444/oauth2/auth?client_id=x"})
    );

    // Health: 200, then 503.
    for path in ["/health/alive", "/health/ready"] {
        let (status, body) = hydra_call(&hydra, Method::GET, path, None).await;
        assert_eq!((status.as_u16(), body), (200, json!({"status": "ok"})));
    }
    hydra.set_not_ready(true);
    let (status, body) = hydra_call(&hydra, Method::GET, "/health/ready", None).await;
    assert_eq!(status, 503);
    assert!(body["errors"].is_object());
}

#[tokio::test]
async fn hydra_error_bodies_are_flat_and_worded_exactly_as_the_contract_says() {
    let hydra = FakeHydra::start().await;
    let login = hydra.add_login(LoginSpec::default());
    let consent = hydra.add_consent(ConsentSpec::default());

    let (_, body) = hydra_call(&hydra, Method::GET, CONSENT, None).await;
    assert_eq!(
        body,
        json!({"error": "invalid_request", "error_description": format!("{INVALID_REQUEST} Query parameter 'challenge' is not defined but should have been.")})
    );
    // A consent challenge is not a login challenge: 404.
    let (status, body) = hydra_call(
        &hydra,
        Method::GET,
        &format!("{LOGIN}?login_challenge={}", q(&consent)),
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"error": "Not Found", "error_description": "Unable to locate the requested resource"})
    );

    hydra.expire(&login);
    hydra.expire(&consent);
    let login_expired = json!({"error": "request_unauthorized", "error_description": "The request could not be authorized. The login request has expired, please try again."});
    let consent_expired = json!({"error": "request_unauthorized", "error_description": "The request could not be authorized. The consent request has expired, please try again."});
    let (status, body) = hydra_call(
        &hydra,
        Method::GET,
        &format!("{LOGIN}?login_challenge={}", q(&login)),
        None,
    )
    .await;
    assert_eq!((status.as_u16(), body), (401, login_expired.clone()));
    let (status, body) = hydra_call(
        &hydra,
        Method::PUT,
        &format!("{LOGIN_ACCEPT}?login_challenge={}", q(&login)),
        Some(json!({"subject": "u"})),
    )
    .await;
    assert_eq!((status.as_u16(), body), (401, login_expired));
    let (status, body) = hydra_call(
        &hydra,
        Method::GET,
        &format!("{CONSENT}?consent_challenge={}", q(&consent)),
        None,
    )
    .await;
    assert_eq!((status.as_u16(), body), (401, consent_expired.clone()));
    let (status, body) = hydra_call(
        &hydra,
        Method::PUT,
        &format!("{CONSENT_ACCEPT}?consent_challenge={}", q(&consent)),
        Some(json!({})),
    )
    .await;
    assert_eq!((status.as_u16(), body), (401, consent_expired));

    assert!(hydra.accepted_logins().is_empty());
    assert!(hydra.accepted_consents().is_empty());
}

#[tokio::test]
async fn bad_accept_bodies_get_hydras_400s_and_are_reported_as_violations() {
    let hydra = FakeHydra::start().await;
    let login = hydra.add_login(LoginSpec::default());
    let consent = hydra.add_consent(ConsentSpec::default());
    let accept = format!("{}{LOGIN_ACCEPT}?login_challenge={}", hydra.url, q(&login));

    // An empty subject is valid JSON for the schema but refused by Hydra.
    let (status, body) = hydra_call(
        &hydra,
        Method::PUT,
        &format!("{LOGIN_ACCEPT}?login_challenge={}", q(&login)),
        Some(json!({"subject": ""})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error_description"],
        format!("{INVALID_REQUEST} Field 'subject' must not be empty.")
    );
    assert_eq!(
        hydra.contract_violations(),
        Vec::<String>::new(),
        "an empty subject breaks no schema"
    );

    // A missing subject: same answer, and a schema violation (required).
    let (status, body) = hydra_call(
        &hydra,
        Method::PUT,
        &format!("{LOGIN_ACCEPT}?login_challenge={}", q(&login)),
        Some(json!({"remember": true})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error_description"],
        format!("{INVALID_REQUEST} Field 'subject' must not be empty.")
    );
    assert_eq!(hydra.take_contract_violations().len(), 1);

    // Not JSON at all.
    let response = http()
        .put(&accept)
        .header("content-type", "application/json")
        .body("subject=u")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("Unable to decode body because: "));

    // A wrongly typed field.
    let (status, body) = hydra_call(
        &hydra,
        Method::PUT,
        &format!("{LOGIN_ACCEPT}?login_challenge={}", q(&login)),
        Some(json!({"subject": "u", "remember": "yes"})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_request");
    let violations = hydra.take_contract_violations();
    assert!(
        violations
            .iter()
            .any(|v| v.contains("/remember: expected boolean, got string")),
        "{violations:#?}"
    );

    // Consent accept passes the raw decode error through.
    let response = http()
        .put(format!(
            "{}{CONSENT_ACCEPT}?consent_challenge={}",
            hydra.url,
            q(&consent)
        ))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"error": "error", "error_description": "The error is unrecognizable"})
    );
    assert!(hydra.accepted_logins().is_empty());
    assert!(hydra.accepted_consents().is_empty());
    let violations = hydra.take_contract_violations();
    assert_eq!(violations.len(), 1, "{violations:#?}");
    assert!(violations[0].contains("not JSON"), "{violations:#?}");
}

#[tokio::test]
async fn a_login_challenge_can_be_read_and_accepted_twice_with_a_new_verifier_each_time() {
    let hydra = FakeHydra::start().await;
    let challenge = hydra.add_login(LoginSpec::default());
    let get = format!("{LOGIN}?login_challenge={}", q(&challenge));
    let accept = format!("{LOGIN_ACCEPT}?login_challenge={}", q(&challenge));

    let (_, first_read) = hydra_call(&hydra, Method::GET, &get, None).await;
    let (_, first) = hydra_call(
        &hydra,
        Method::PUT,
        &accept,
        Some(json!({"subject": "user-1"})),
    )
    .await;
    let (status, second_read) = hydra_call(&hydra, Method::GET, &get, None).await;
    assert_eq!(status, 200, "an accepted challenge still reads as 200");
    assert_eq!(first_read, second_read);
    let (status, second) = hydra_call(
        &hydra,
        Method::PUT,
        &accept,
        Some(json!({"subject": "user-1"})),
    )
    .await;
    assert_eq!(status, 200, "accepting twice succeeds");

    let first = first["redirect_to"].as_str().unwrap();
    let second = second["redirect_to"].as_str().unwrap();
    let request_url = first_read["request_url"].as_str().unwrap();
    assert!(first.starts_with(&format!("{request_url}&login_verifier=")));
    assert_ne!(
        param(first, "login_verifier"),
        param(second, "login_verifier")
    );
    assert_eq!(hydra.accepted_logins().len(), 2);

    // Consent behaves the same.
    let consent = hydra.add_consent(ConsentSpec::default());
    let accept = format!("{CONSENT_ACCEPT}?consent_challenge={}", q(&consent));
    let body = json!({"grant_scope": ["openid"]});
    let (_, a) = hydra_call(&hydra, Method::PUT, &accept, Some(body.clone())).await;
    let (_, b) = hydra_call(&hydra, Method::PUT, &accept, Some(body)).await;
    assert_ne!(
        param(a["redirect_to"].as_str().unwrap(), "consent_verifier"),
        param(b["redirect_to"].as_str().unwrap(), "consent_verifier")
    );
    assert_eq!(hydra.accepted_consents().len(), 2);
}

#[tokio::test]
async fn a_skipped_login_accepted_with_another_subject_is_sent_back_with_prompt_login() {
    let hydra = FakeHydra::start().await;
    let challenge = hydra.add_login(LoginSpec {
        skip: true,
        subject: "remembered-user".into(),
        ..LoginSpec::default()
    });
    let request_url = hydra.flow(&challenge).unwrap()["request_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let accept = format!("{LOGIN_ACCEPT}?login_challenge={}", q(&challenge));

    let (status, body) = hydra_call(
        &hydra,
        Method::PUT,
        &accept,
        Some(json!({"subject": "someone-else"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["redirect_to"], format!("{request_url}&prompt=login"));
    assert!(hydra.accepted_logins().is_empty());

    let (_, body) = hydra_call(
        &hydra,
        Method::PUT,
        &accept,
        Some(json!({"subject": "remembered-user"})),
    )
    .await;
    assert!(param(body["redirect_to"].as_str().unwrap(), "login_verifier").is_some());
    assert_eq!(
        hydra.accepted_logins(),
        vec![json!({"subject": "remembered-user"})]
    );
}

#[tokio::test]
async fn the_fake_hydra_serves_the_requests_it_was_given_and_records_what_it_got() {
    let hydra = FakeHydra::start().await;
    let challenge = hydra.add_login(LoginSpec {
        subject: String::new(),
        requested_scope: vec!["openid".into(), "email".into()],
        requested_audience: vec!["api".into()],
        oidc_context: json!({"acr_values": ["aal2"], "ui_locales": ["de"], "login_hint": "a@b.c", "id_token_hint_claims": {}}),
        session_id: "feedfacefeedfacefeedfacefeedface".into(),
        ..LoginSpec::default()
    });
    let (_, body) = hydra_call(
        &hydra,
        Method::GET,
        &format!("{LOGIN}?login_challenge={}", q(&challenge)),
        None,
    )
    .await;
    assert_eq!(body["requested_scope"], json!(["openid", "email"]));
    assert_eq!(body["requested_access_token_audience"], json!(["api"]));
    assert_eq!(body["oidc_context"]["acr_values"], json!(["aal2"]));
    assert_eq!(body["session_id"], "feedfacefeedfacefeedfacefeedface");
    assert_eq!(body["skip"], false);
    assert_eq!(body["subject"], "");
    assert_eq!(body["client"]["client_id"], "third-party-app");
    assert!(body["client"].get("client_secret").is_none());
    let request_url = body["request_url"].as_str().unwrap();
    assert!(request_url.starts_with("http://127.0.0.1:4444/oauth2/auth?"));
    assert_eq!(param(request_url, "client_id").unwrap(), "third-party-app");
    assert_eq!(param(request_url, "response_type").unwrap(), "code");
    assert_eq!(param(request_url, "scope").unwrap(), "openid email");
    assert!(param(request_url, "state").unwrap().len() >= 16);
    assert_eq!(
        param(request_url, "redirect_uri").unwrap(),
        "https://third-party-app.example.com/callback"
    );

    let consent = hydra.add_consent(ConsentSpec {
        subject: "user-1".into(),
        login_session_id: "feedfacefeedfacefeedfacefeedface".into(),
        ..ConsentSpec::default()
    });
    let (_, body) = hydra_call(
        &hydra,
        Method::GET,
        &format!("{CONSENT}?challenge={}", q(&consent)),
        None,
    )
    .await;
    for field in ["consent_request_id", "login_challenge"] {
        let value = body[field].as_str().unwrap();
        assert_eq!(value.len(), 32, "{field}");
        assert!(value.chars().all(|c| c.is_ascii_hexdigit()), "{field}");
    }
    assert_ne!(body["login_challenge"], body["challenge"]);
    assert_eq!(body["login_session_id"], "feedfacefeedfacefeedfacefeedface");
    assert_eq!(body["acr"], "aal1");
    assert_eq!(body["amr"], json!(["pwd"]));
    assert_eq!(
        body["context"],
        Value::Null,
        "without a login context, `context` is null"
    );

    let requests = hydra.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, LOGIN);
    assert_eq!(
        requests[0].query,
        vec![("login_challenge".to_owned(), challenge)]
    );
    assert_eq!(requests[0].body, None);
    assert_eq!(requests[1].query_param("challenge"), Some(consent.as_str()));
}

#[tokio::test]
async fn challenges_are_long_opaque_base64url_strings() {
    let hydra = FakeHydra::start().await;
    let login = hydra.add_login(LoginSpec::default());
    let consent = hydra.add_consent(ConsentSpec::default());
    for challenge in [&login, &consent] {
        assert!(challenge.len() >= 1000, "{}", challenge.len());
        assert!(challenge
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
    assert_ne!(login, consent);
}

#[tokio::test]
async fn hydra_faults_answer_with_flat_error_bodies_or_break_the_transport() {
    let hydra = FakeHydra::start().await;
    let login = hydra.add_login(LoginSpec::default());
    let get = format!("{LOGIN}?login_challenge={}", q(&login));

    for code in [400u16, 401, 403, 404, 409, 500, 502, 503] {
        hydra.set_fault(Some(Fault::Status(code)));
        let (status, body) = hydra_call(&hydra, Method::GET, &get, None).await;
        assert_eq!(status.as_u16(), code);
        let object = body.as_object().unwrap();
        assert!(object.contains_key("error") && object.contains_key("error_description"));
        assert_eq!(
            object.len(),
            2,
            "flat errors have exactly two fields: {body}"
        );
        let (status, _) = hydra_call(
            &hydra,
            Method::PUT,
            &format!("{LOGIN_ACCEPT}?login_challenge={}", q(&login)),
            Some(json!({"subject": "u"})),
        )
        .await;
        assert_eq!(status.as_u16(), code);
    }
    // Health is never faulted.
    let (status, _) = hydra_call(&hydra, Method::GET, "/health/ready", None).await;
    assert_eq!(status, 200);

    hydra.set_fault(Some(Fault::Malformed));
    let response = http()
        .get(format!("{}{get}", hydra.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    assert!(response.json::<Value>().await.is_err());

    hydra.set_fault(Some(Fault::Hang));
    let error = http()
        .get(format!("{}{get}", hydra.url))
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error}");

    hydra.set_fault(None);
    let (status, _) = hydra_call(&hydra, Method::GET, &get, None).await;
    assert_eq!(status, 200);
    assert!(hydra.accepted_logins().is_empty());
}

/// The message of the panic `drop` raised, if it raised one.
fn panic_on_drop<T>(value: T) -> Option<String> {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(value)));
    outcome.err().map(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default()
    })
}

#[tokio::test]
async fn a_contract_violation_fails_the_test_that_used_the_fake() {
    let unhandled = "/admin/trust/grants/jwt-bearer/issuers";

    // Through a TestApp: all its fakes are checked when it is dropped.
    let app = TestApp::spawn().await;
    let response = http()
        .get(format!("{}{unhandled}", app.hydra.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let message = panic_on_drop(app).expect("dropping the app fails the test");
    assert!(
        message.contains("the fake Hydra admin API")
            && message.contains(&format!("unhandled request: GET {unhandled}")),
        "{message}"
    );

    // A fake on its own is checked when the test lets go of it; a clone does not check.
    let hydra = FakeHydra::start().await;
    http()
        .get(format!("{}{unhandled}", hydra.url))
        .send()
        .await
        .unwrap();
    assert_eq!(panic_on_drop(hydra.clone()), None);
    assert!(panic_on_drop(hydra).is_some());
    let kratos = FakeKratos::start().await;
    http()
        .get(format!("{}/sessions/whoami", kratos.admin_url))
        .send()
        .await
        .unwrap();
    let message = panic_on_drop(kratos).expect("dropping the fake fails the test");
    assert!(message.contains("the fake Kratos"), "{message}");

    // Violations a test took (and asserted on) no longer fail it.
    let hydra = FakeHydra::start().await;
    http()
        .get(format!("{}{unhandled}", hydra.url))
        .send()
        .await
        .unwrap();
    assert_eq!(hydra.take_contract_violations().len(), 1);
    assert_eq!(panic_on_drop(hydra), None);
}

#[tokio::test]
async fn the_fakes_report_calls_to_endpoints_they_do_not_implement() {
    let hydra = FakeHydra::start().await;
    let response = http()
        .get(format!(
            "{}/admin/trust/grants/jwt-bearer/issuers",
            hydra.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(hydra.take_contract_violations().len(), 1);

    let kratos = FakeKratos::start().await;
    // whoami lives on the public port only.
    let response = http()
        .get(format!("{}/sessions/whoami", kratos.admin_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(kratos.take_contract_violations().len(), 1);
}

#[test]
fn the_validator_rejects_a_login_request_whose_skip_is_a_string() {
    let mut body = json!({
        "challenge": "c",
        "skip": false,
        "subject": "",
        "client": client("x"),
        "request_url": "http://127.0.0.1:4444/oauth2/auth?client_id=x",
        "requested_scope": [],
        "requested_access_token_audience": [],
        "session_id": "",
        "oidc_context": {}
    });
    openapi::hydra()
        .check_response("GET", LOGIN, 200, &body)
        .unwrap();
    body["skip"] = json!("yes");
    let error = openapi::hydra()
        .check_response("GET", LOGIN, 200, &body)
        .unwrap_err();
    assert!(
        error.contains("/skip: expected boolean, got string"),
        "{error}"
    );
    // And a 200 body is not an acceptable 401 body, nor the reverse.
    let flat = json!({"error": 5});
    assert!(openapi::hydra()
        .check_response("GET", LOGIN, 401, &flat)
        .is_err());
    assert!(openapi::kratos()
        .check_response("GET", "/sessions/whoami", 401, &json!({"error": "x"}))
        .is_err());
}

#[test]
fn the_helpers_build_schema_valid_objects() {
    let hydra = openapi::hydra();
    hydra.check_schema("oAuth2Client", &client("x")).unwrap();
    let patched = with(
        client("x"),
        json!({"skip_consent": true, "skip_logout_consent": true}),
    );
    assert_eq!(patched["skip_consent"], true);
    assert_eq!(patched["client_id"], "x");
    hydra.check_schema("oAuth2Client", &patched).unwrap();
    assert!(hydra
        .check_schema(
            "oAuth2Client",
            &with(client("x"), json!({"skip_consent": "yes"}))
        )
        .is_err());

    let kratos = openapi::kratos();
    let id = random_uuid();
    let person = identity(&id, ADA_EMAIL, "Ada", "Lovelace");
    kratos.check_schema("identity", &person).unwrap();
    let now = OffsetDateTime::now_utc();
    let s = session(
        &random_uuid(),
        person,
        now,
        now + time::Duration::hours(1),
        "aal2",
        &["password", "totp"],
    );
    kratos.check_schema("session", &s).unwrap();
    assert_eq!(s["authentication_methods"][1]["aal"], "aal2");
    assert!(s["identity"].get("metadata_admin").is_none());
    assert!(s["identity"].get("credentials").is_none());
}

// ---------------------------------------------------------------------------
// Kratos

fn kratos_session(id: &str, minutes: i64) -> Value {
    let now = OffsetDateTime::now_utc();
    session(
        &random_uuid(),
        identity(id, ADA_EMAIL, "Ada", "Lovelace"),
        now - time::Duration::minutes(5),
        now + time::Duration::minutes(minutes),
        "aal1",
        &["password"],
    )
}

async fn whoami(kratos: &FakeKratos, headers: &[(&str, &str)]) -> (StatusCode, Value) {
    let mut request = http().get(format!("{}/sessions/whoami", kratos.public_url));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let identity_header = response
        .headers()
        .get("x-kratos-authenticated-identity-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = response.json().await.unwrap();
    let checked =
        openapi::kratos().check_response("GET", "/sessions/whoami", status.as_u16(), &body);
    assert_eq!(checked, Ok(()), "whoami -> {status}, body: {body}");
    if status == 200 {
        assert_eq!(
            identity_header.as_deref(),
            body["identity"]["id"].as_str(),
            "X-Kratos-Authenticated-Identity-Id"
        );
    } else {
        assert!(identity_header.is_none());
    }
    (status, body)
}

#[tokio::test]
async fn every_body_the_fake_kratos_serves_matches_the_kratos_openapi_schema() {
    let kratos = FakeKratos::start().await;
    let id = random_uuid();
    kratos.add_identity(identity(&id, ADA_EMAIL, "Ada", "Lovelace"));
    kratos.add_session("good", kratos_session(&id, 60));
    kratos.add_session("needs-2fa", kratos_session(&id, 60));
    kratos.require_aal2("needs-2fa");

    let cookie = format!("{SESSION_COOKIE}=good");
    let (status, body) = whoami(&kratos, &[("cookie", &cookie)]).await;
    assert_eq!(status, 200);
    assert_eq!(body["identity"]["id"], id);
    let (status, _) = whoami(&kratos, &[]).await;
    assert_eq!(status, 401);
    let cookie = format!("{SESSION_COOKIE}=needs-2fa");
    let (status, _) = whoami(&kratos, &[("cookie", &cookie)]).await;
    assert_eq!(status, 403);

    let (status, body) = call(
        openapi::kratos(),
        Method::GET,
        &kratos.admin_url,
        &format!("/admin/identities/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["credentials"]["password"]["identifiers"],
        json!([ADA_EMAIL])
    );
    assert!(body.as_object().unwrap().contains_key("metadata_admin"));
    let (status, body) = call(
        openapi::kratos(),
        Method::GET,
        &kratos.admin_url,
        &format!("/admin/identities/{}", random_uuid()),
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"error": {"code": 404, "status": "Not Found", "message": "Unable to locate the resource"}})
    );

    for base in [&kratos.public_url, &kratos.admin_url] {
        for path in ["/health/alive", "/health/ready"] {
            let (status, body) = call(openapi::kratos(), Method::GET, base, path, None).await;
            assert_eq!((status.as_u16(), body), (200, json!({"status": "ok"})));
        }
    }
    kratos.set_not_ready(true);
    for base in [&kratos.public_url, &kratos.admin_url] {
        let (status, body) =
            call(openapi::kratos(), Method::GET, base, "/health/ready", None).await;
        assert_eq!(status, 503);
        assert!(body["errors"].is_object());
    }
}

#[tokio::test]
async fn whoami_401_has_no_error_id_and_403_points_at_the_aal2_login() {
    let kratos = FakeKratos::start().await;
    let id = random_uuid();
    kratos.add_session("t", kratos_session(&id, 60));
    kratos.require_aal2("t");

    let (_, body) = whoami(&kratos, &[("x-session-token", "unknown")]).await;
    let error = body["error"].as_object().unwrap();
    assert!(!error.contains_key("id"), "whoami 401 has no error.id");
    assert_eq!(error["code"], 401);
    assert_eq!(error["status"], "Unauthorized");
    assert_eq!(
        error["reason"],
        "No valid session credentials found in the request."
    );
    assert_eq!(error["message"], "The request could not be authorized");
    assert!(
        !error.contains_key("request"),
        "no request id unless the request sent one"
    );
    assert_eq!(error.len(), 4);
    assert_eq!(body.as_object().unwrap().len(), 1);

    let (status, body) = whoami(&kratos, &[("x-session-token", "t")]).await;
    assert_eq!(status, 403);
    let to = format!("{}/self-service/login/browser?aal=aal2", kratos.public_url);
    assert_eq!(kratos.aal2_login_url(), to);
    assert_eq!(
        body,
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
        })
    );
}

#[tokio::test]
async fn whoami_finds_the_token_in_the_same_order_as_kratos() {
    let kratos = FakeKratos::start().await;
    let (a, b, c) = (random_uuid(), random_uuid(), random_uuid());
    kratos.add_session("token-a", kratos_session(&a, 60));
    kratos.add_session("token-b", kratos_session(&b, 60));
    kratos.add_session("token-c", kratos_session(&c, 60));
    let cookie_b = format!("csrf_token=xyz; {SESSION_COOKIE}=token-b; theme=dark");

    // X-Session-Token beats the cookie, which beats Bearer.
    let (_, body) = whoami(
        &kratos,
        &[
            ("x-session-token", "token-a"),
            ("cookie", &cookie_b),
            ("authorization", "Bearer token-c"),
        ],
    )
    .await;
    assert_eq!(body["identity"]["id"], a);
    let (_, body) = whoami(
        &kratos,
        &[("cookie", &cookie_b), ("authorization", "Bearer token-c")],
    )
    .await;
    assert_eq!(body["identity"]["id"], b);
    // An empty X-Session-Token is ignored; the bearer scheme is case-blind.
    let (_, body) = whoami(
        &kratos,
        &[("x-session-token", ""), ("authorization", "bEaReR token-c")],
    )
    .await;
    assert_eq!(body["identity"]["id"], c);
    // A cookie header without the session cookie falls back to Bearer.
    let (_, body) = whoami(
        &kratos,
        &[("cookie", "other=1"), ("authorization", "Bearer token-c")],
    )
    .await;
    assert_eq!(body["identity"]["id"], c);
    // An unknown X-Session-Token does not fall back to anything.
    let (status, _) = whoami(
        &kratos,
        &[("x-session-token", "nope"), ("cookie", &cookie_b)],
    )
    .await;
    assert_eq!(status, 401);
    // Authorization must be exactly two parts, scheme Bearer.
    for value in ["Bearer", "Bearer token-c extra", "Basic token-c", "token-c"] {
        let (status, _) = whoami(&kratos, &[("authorization", value)]).await;
        assert_eq!(status, 401, "{value}");
    }
    // The session cookie's name must match exactly.
    let (status, _) = whoami(&kratos, &[("cookie", "x_ory_kratos_session=token-b")]).await;
    assert_eq!(status, 401);

    let cookies = kratos.whoami_cookies();
    assert_eq!(cookies.len(), 10);
    assert_eq!(cookies[0].as_deref(), Some(cookie_b.as_str()));
    assert_eq!(cookies[2], None);
}

#[tokio::test]
async fn an_expired_or_inactive_kratos_session_gets_401() {
    let kratos = FakeKratos::start().await;
    let id = random_uuid();
    kratos.add_session("expired", kratos_session(&id, -1));
    kratos.add_session(
        "inactive",
        with(kratos_session(&id, 60), json!({"active": false})),
    );
    kratos.add_session("fine", kratos_session(&id, 60));
    for token in ["expired", "inactive"] {
        let (status, _) = whoami(&kratos, &[("x-session-token", token)]).await;
        assert_eq!(status, 401, "{token}");
    }
    let (status, _) = whoami(&kratos, &[("x-session-token", "fine")]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn whoami_never_exposes_admin_metadata_or_credentials() {
    let kratos = FakeKratos::start().await;
    let id = random_uuid();
    let admin_identity = with(
        identity(&id, ADA_EMAIL, "Ada", "Lovelace"),
        json!({"metadata_admin": {"secret": 1}}),
    );
    kratos.add_identity(admin_identity.clone());
    // Even a session built by hand around the admin identity.
    let mut raw = kratos_session(&id, 60);
    raw["identity"] = admin_identity;
    kratos.add_session("t", raw);

    let (_, body) = whoami(&kratos, &[("authorization", "Bearer t")]).await;
    let person = body["identity"].as_object().unwrap();
    assert!(!person.contains_key("metadata_admin"));
    assert!(!person.contains_key("credentials"));
    assert!(person.contains_key("metadata_public"));

    let (_, body) = call(
        openapi::kratos(),
        Method::GET,
        &kratos.admin_url,
        &format!("/admin/identities/{id}"),
        None,
    )
    .await;
    assert_eq!(body["metadata_admin"], json!({"secret": 1}));
    assert!(body["credentials"]["password"].is_object());
}

#[tokio::test]
async fn kratos_faults_answer_with_nested_error_bodies_or_break_the_transport() {
    let kratos = FakeKratos::start().await;
    let id = random_uuid();
    kratos.add_identity(identity(&id, ADA_EMAIL, "Ada", "Lovelace"));
    kratos.add_session("t", kratos_session(&id, 60));

    for code in [400u16, 404, 500, 502, 503] {
        kratos.set_fault(Some(Fault::Status(code)));
        let (status, body) = whoami(&kratos, &[("x-session-token", "t")]).await;
        assert_eq!(status.as_u16(), code);
        assert_eq!(body["error"]["code"], code);
        let (status, _) = call(
            openapi::kratos(),
            Method::GET,
            &kratos.admin_url,
            &format!("/admin/identities/{id}"),
            None,
        )
        .await;
        assert_eq!(status.as_u16(), code);
    }
    let (status, _) = call(
        openapi::kratos(),
        Method::GET,
        &kratos.public_url,
        "/health/ready",
        None,
    )
    .await;
    assert_eq!(status, 200, "health is never faulted");

    kratos.set_fault(Some(Fault::Malformed));
    let response = http()
        .get(format!("{}/sessions/whoami", kratos.public_url))
        .header("x-session-token", "t")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.json::<Value>().await.is_err());

    kratos.set_fault(Some(Fault::Hang));
    let error = http()
        .get(format!("{}/admin/identities/{id}", kratos.admin_url))
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error}");

    kratos.set_fault(None);
    let (status, _) = whoami(&kratos, &[("x-session-token", "t")]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_kratos_fake_records_every_request_on_both_ports() {
    let kratos = FakeKratos::start().await;
    whoami(&kratos, &[("cookie", "a=b")]).await;
    call(
        openapi::kratos(),
        Method::GET,
        &kratos.admin_url,
        "/admin/identities/x?include_credential=oidc",
        None,
    )
    .await;
    let requests = kratos.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].path, "/sessions/whoami");
    assert_eq!(requests[1].path, "/admin/identities/x");
    assert_eq!(requests[1].query_param("include_credential"), Some("oidc"));
    assert_eq!(kratos.whoami_cookies(), vec![Some("a=b".to_owned())]);
}

#[test]
fn the_fakes_work_from_a_plain_thread_and_a_multi_thread_runtime() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let hydra = FakeHydra::start().await;
        let kratos = FakeKratos::start().await;
        let (status, _) = hydra_call(&hydra, Method::GET, "/health/alive", None).await;
        assert_eq!(status, 200);
        let (status, _) = whoami(&kratos, &[]).await;
        assert_eq!(status, 401);
    });
}

async fn refuses_connections(url: &str) -> bool {
    for _ in 0..200 {
        let result = http()
            .get(format!("{url}/health/alive"))
            .timeout(Duration::from_millis(200))
            .send()
            .await;
        if result.is_err_and(|e| e.is_connect()) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test]
async fn dropping_a_fake_stops_its_servers_even_with_a_request_hanging() {
    let hydra = FakeHydra::start().await;
    let kratos = FakeKratos::start().await;
    hydra.set_fault(Some(Fault::Hang));
    let hanging = tokio::spawn(
        http()
            .get(format!("{}{LOGIN}?login_challenge=x", hydra.url))
            .send(),
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    let urls = [
        hydra.url.clone(),
        kratos.public_url.clone(),
        kratos.admin_url.clone(),
    ];
    drop(hydra);
    drop(kratos);
    for url in urls {
        assert!(refuses_connections(&url).await, "{url} still answers");
    }
    let outcome = tokio::time::timeout(Duration::from_secs(5), hanging)
        .await
        .expect("the hanging request ends when the server stops")
        .unwrap();
    assert!(outcome.is_err());
}

// ---------------------------------------------------------------------------
// Logout, device verification, consent sessions, clients, Kratos browser logout

/// Sends a request whose answer has no body (204): no JSON, no content type, and the status
/// documented as empty in the spec.
async fn empty_call(spec: &OpenApi, method: Method, base: &str, path_and_query: &str) -> u16 {
    let response = http()
        .request(method.clone(), format!("{base}{path_and_query}"))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    assert!(response.headers().get("content-type").is_none());
    assert_eq!(response.bytes().await.unwrap().len(), 0);
    let path = path_and_query.split('?').next().unwrap();
    assert_eq!(
        spec.check_empty_response(method.as_str(), path, status),
        Ok(())
    );
    status
}

#[tokio::test]
async fn logout_requests_are_served_accepted_and_rejected_as_hydra_does() {
    let hydra = FakeHydra::start().await;
    let rp = hydra.add_logout(LogoutSpec {
        subject: "user-1".into(),
        client: Some(with(client("rp"), json!({"skip_logout_consent": true}))),
        ..LogoutSpec::default()
    });
    let op = hydra.add_logout(LogoutSpec {
        subject: "user-1".into(),
        sid: String::new(),
        rp_initiated: false,
        client: None,
        request_url: Some("/oauth2/sessions/logout".into()),
    });

    let (status, body) = hydra_call(
        &hydra,
        Method::GET,
        &format!("{LOGOUT}?logout_challenge={}", q(&rp)),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["challenge"], rp);
    assert_eq!(body["rp_initiated"], true);
    assert_eq!(body["client"]["skip_logout_consent"], true);
    assert!(body["sid"].is_string());
    let rp_request_url = body["request_url"].as_str().unwrap().to_owned();
    let (status, body) = hydra_call(
        &hydra,
        Method::GET,
        &format!("{LOGOUT}?challenge={}", q(&op)),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["client"], Value::Null, "OP-initiated: client is null");
    assert_eq!(body["rp_initiated"], false);
    assert!(body.get("sid").is_none(), "sid is omitempty");

    // Accept: 200 with the public logout URL. The request still reads as 200 until the
    // browser redeems the verifier; from then on Hydra answers 410 with the request URL.
    let (status, body) = hydra_call(
        &hydra,
        Method::PUT,
        &format!("{LOGOUT_ACCEPT}?logout_challenge={}", q(&rp)),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let redirect_to = body["redirect_to"].as_str().unwrap();
    assert!(
        redirect_to.starts_with("http://127.0.0.1:4444/oauth2/sessions/logout?logout_verifier="),
        "{redirect_to}"
    );
    let (status, _) = hydra_call(
        &hydra,
        Method::GET,
        &format!("{LOGOUT}?logout_challenge={}", q(&rp)),
        None,
    )
    .await;
    assert_eq!(status, 200);
    hydra.logout_verifier_used(&rp);
    let (status, body) = hydra_call(
        &hydra,
        Method::GET,
        &format!("{LOGOUT}?logout_challenge={}", q(&rp)),
        None,
    )
    .await;
    assert_eq!(
        (status.as_u16(), body),
        (410, json!({"redirect_to": rp_request_url}))
    );

    // Reject: 204 without a body; the request is gone afterwards.
    let status = empty_call(
        openapi::hydra(),
        Method::PUT,
        &hydra.url,
        &format!("{LOGOUT_REJECT}?logout_challenge={}", q(&op)),
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = hydra_call(
        &hydra,
        Method::GET,
        &format!("{LOGOUT}?logout_challenge={}", q(&op)),
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(hydra.accepted_logouts(), [rp]);
    assert_eq!(hydra.rejected_logouts(), [op]);
}

#[tokio::test]
async fn logout_errors_are_hydras_flat_bodies() {
    let hydra = FakeHydra::start().await;
    let login = hydra.add_login(LoginSpec::default());
    let logout = hydra.add_logout(LogoutSpec::default());

    let (_, body) = hydra_call(&hydra, Method::GET, LOGOUT, None).await;
    assert_eq!(
        body,
        json!({"error": "invalid_request", "error_description": format!("{INVALID_REQUEST} Query parameter 'challenge' is not defined but should have been.")})
    );
    // A login challenge is not a logout challenge.
    for path in [LOGOUT, LOGOUT_ACCEPT] {
        let method = if path == LOGOUT {
            Method::GET
        } else {
            Method::PUT
        };
        let (status, body) = hydra_call(
            &hydra,
            method,
            &format!("{path}?logout_challenge={}", q(&login)),
            None,
        )
        .await;
        // Logout requests live in Hydra's database: any other challenge is a missing row.
        assert_eq!(status, 404, "{path}");
        assert_eq!(
            body,
            json!({"error": "Unable to locate the resource", "error_description": ""})
        );
    }
    let (status, _) = hydra_call(
        &hydra,
        Method::PUT,
        &format!("{LOGOUT_REJECT}?logout_challenge=nope"),
        None,
    )
    .await;
    assert_eq!(status, 404);

    hydra.expire(&logout);
    let (status, body) = hydra_call(
        &hydra,
        Method::GET,
        &format!("{LOGOUT}?logout_challenge={}", q(&logout)),
        None,
    )
    .await;
    assert_eq!(
        (status.as_u16(), body),
        (
            401,
            json!({"error": "request_unauthorized", "error_description": "The request could not be authorized. The logout request has expired, please try the flow again."})
        )
    );
    assert!(hydra.accepted_logouts().is_empty());
}

// Hydra OAuth2 clients (`/admin/clients`)

const CLIENTS: &str = "/admin/clients";

/// A confidential client body as an admin would POST it.
fn client_body(id: &str) -> Value {
    json!({
        "client_id": id,
        "client_name": format!("{id} app"),
        "client_secret": format!("{id}-secret-value"),
        "grant_types": ["authorization_code", "refresh_token"],
        "scope": "openid offline_access",
        "redirect_uris": [format!("https://{id}.example.com/cb")],
        "skip_consent": true,
        "metadata": {"managed_by": "hera"}
    })
}

#[tokio::test]
async fn creating_a_client_answers_201_with_its_location_and_secret_and_a_taken_id_409() {
    let hydra = FakeHydra::start().await;
    let response = http()
        .post(format!("{}{CLIENTS}", hydra.url))
        .json(&client_body("web"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["location"], "/admin/clients/web");
    let created: Value = response.json().await.unwrap();
    openapi::hydra()
        .check_response("POST", CLIENTS, 201, &created)
        .unwrap();
    assert_eq!(created["client_secret"], "web-secret-value");
    assert_eq!(created["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(created["subject_type"], "public");

    let (status, body) = hydra_call(&hydra, Method::POST, CLIENTS, Some(client_body("web"))).await;
    assert_eq!(status, 409);
    assert_eq!(
        body,
        json!({"error": "Unable to insert or update resource because a resource with that value exists already", "error_description": ""})
    );

    // No secret: one is generated for a confidential client, none is shown for a public one.
    let mut generated = client_body("generated");
    generated.as_object_mut().unwrap().remove("client_secret");
    let (status, body) = hydra_call(&hydra, Method::POST, CLIENTS, Some(generated)).await;
    assert_eq!(status, 201);
    assert_eq!(body["client_secret"].as_str().unwrap().len(), 26);
    let mut public = with(
        client_body("public"),
        json!({"token_endpoint_auth_method": "none"}),
    );
    public.as_object_mut().unwrap().remove("client_secret");
    let (status, body) = hydra_call(&hydra, Method::POST, CLIENTS, Some(public)).await;
    assert_eq!(status, 201);
    assert!(body.get("client_secret").is_none(), "{body}");

    let short = with(client_body("short"), json!({"client_secret": "abc"}));
    let (status, body) = hydra_call(&hydra, Method::POST, CLIENTS, Some(short)).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_client_metadata");

    // A post-logout redirect needs a redirect URI with its scheme, host and port.
    let same_origin = with(
        client_body("bye"),
        json!({"post_logout_redirect_uris": ["https://bye.example.com/signed-out"]}),
    );
    let (status, _) = hydra_call(&hydra, Method::POST, CLIENTS, Some(same_origin)).await;
    assert_eq!(status, 201);
    let elsewhere = with(
        client_body("elsewhere"),
        json!({"post_logout_redirect_uris": ["https://elsewhere.example.com:8443/bye"]}),
    );
    let (status, body) = hydra_call(&hydra, Method::POST, CLIENTS, Some(elsewhere)).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_client_metadata");
    assert!(
        body["error_description"].as_str().unwrap().contains(
            "must match the domain, port, scheme of at least one of the registered redirect URIs"
        ),
        "{body}"
    );
}

#[tokio::test]
async fn a_logout_accept_with_a_body_is_reported() {
    let hydra = FakeHydra::start().await;
    let logout = hydra.add_logout(LogoutSpec::default());
    hydra_call(
        &hydra,
        Method::PUT,
        &format!("{LOGOUT_ACCEPT}?logout_challenge={}", q(&logout)),
        Some(json!({})),
    )
    .await;
    assert_eq!(hydra.take_contract_violations().len(), 1);
}

#[tokio::test]
async fn device_accept_matches_user_codes_exactly_and_answers_like_hydra() {
    let hydra = FakeHydra::start().await;
    let challenge = hydra.add_device_challenge();
    hydra.add_user_code("r7wWvcHs", "tv-app");
    hydra.add_user_code("XWVTSRQP", "tv-app");
    hydra.expire_user_code("XWVTSRQP");
    let accept = format!("{DEVICE_ACCEPT}?device_challenge={}", q(&challenge));
    let bad_code = json!({"error": "invalid_request", "error_description": format!("{INVALID_REQUEST} {USER_CODE_NOT_FOUND}")});

    let (status, body) = hydra_call(
        &hydra,
        Method::PUT,
        &accept,
        Some(json!({"user_code": "r7wWvcHs"})),
    )
    .await;
    assert_eq!(status, 200);
    let redirect_to = body["redirect_to"].as_str().unwrap();
    assert!(redirect_to.starts_with("http://127.0.0.1:4444/oauth2/device/verify?"));
    assert_eq!(param(redirect_to, "client_id").unwrap(), "tv-app");
    assert!(param(redirect_to, "device_verifier").is_some());

    for code in ["R7WWVCHS", "r7wW-vcHs", "XWVTSRQP", "NOTACODE"] {
        let (status, body) = hydra_call(
            &hydra,
            Method::PUT,
            &accept,
            Some(json!({ "user_code": code })),
        )
        .await;
        assert_eq!((status.as_u16(), body), (400, bad_code.clone()), "{code}");
    }
    let (_, body) = hydra_call(&hydra, Method::PUT, &accept, Some(json!({"user_code": ""}))).await;
    assert_eq!(
        body["error_description"],
        format!("{INVALID_REQUEST} Field 'user_code' must not be empty.")
    );
    // Only `device_challenge` is read: no `challenge=` fallback.
    let (status, body) = hydra_call(
        &hydra,
        Method::PUT,
        &format!("{DEVICE_ACCEPT}?challenge={}", q(&challenge)),
        Some(json!({"user_code": "r7wWvcHs"})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error_description"],
        format!("{INVALID_REQUEST} Query parameter 'device_challenge' is not defined but should have been.")
    );
    let (status, _) = hydra_call(
        &hydra,
        Method::PUT,
        &format!("{DEVICE_ACCEPT}?device_challenge=unknown"),
        Some(json!({"user_code": "r7wWvcHs"})),
    )
    .await;
    assert_eq!(status, 404);
    hydra.expire(&challenge);
    let (status, _) = hydra_call(
        &hydra,
        Method::PUT,
        &accept,
        Some(json!({"user_code": "r7wWvcHs"})),
    )
    .await;
    assert_eq!(status, 401);

    assert_eq!(
        hydra.accepted_user_codes(),
        [json!({"user_code": "r7wWvcHs"})]
    );
}

/// `GET …/sessions/consent`, returning the body and the `Link` header.
async fn list_consent_sessions(hydra: &FakeHydra, query: &str) -> (StatusCode, Value, String) {
    let response = http()
        .get(format!("{}{CONSENT_SESSIONS}?{query}", hydra.url))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let link = response
        .headers()
        .get("link")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body: Value = response.json().await.unwrap();
    let checked = openapi::hydra().check_response("GET", CONSENT_SESSIONS, status.as_u16(), &body);
    assert_eq!(checked, Ok(()), "{status} {body}");
    (status, body, link)
}

/// The `page_token` of the `rel="next"` link, if any.
fn next_token(link: &str) -> Option<String> {
    link.split(',')
        .find(|part| part.ends_with("rel=\"next\""))
        .map(|part| {
            let url = part.split_once('<').unwrap().1.split_once('>').unwrap().0;
            param(&format!("http://hydra{url}"), "page_token").unwrap()
        })
}

#[tokio::test]
async fn consent_sessions_are_listed_a_page_at_a_time_with_a_link_header() {
    let hydra = FakeHydra::start().await;
    for id in ["app-1", "app-2", "app-3"] {
        hydra.add_consent_session(ConsentSessionSpec {
            subject: "ada".into(),
            client: client(id),
            ..ConsentSessionSpec::default()
        });
    }
    hydra.add_consent_session(ConsentSessionSpec {
        subject: "bob".into(),
        client: client("app-4"),
        ..ConsentSessionSpec::default()
    });

    let (status, first, link) = list_consent_sessions(&hydra, "subject=ada&page_size=2").await;
    assert_eq!(status, 200);
    assert_eq!(first.as_array().unwrap().len(), 2);
    assert_eq!(first[0]["consent_request"]["client"]["client_id"], "app-1");
    assert_eq!(first[0]["consent_request"]["subject"], "ada");
    assert_eq!(first[0]["consent_request"]["challenge"], "");
    assert_eq!(first[0]["grant_scope"], json!(["openid", "email"]));
    // ory/x keysetpagination: relative links, keys sorted, joined by a bare comma.
    let parts: Vec<&str> = link.split(',').collect();
    assert_eq!(parts.len(), 2, "{link}");
    assert!(
        parts[0].starts_with("</admin/oauth2/auth/sessions/consent?page_size=2&page_token=")
            && parts[0].ends_with("&subject=ada>; rel=\"first\""),
        "{link}"
    );
    let token = next_token(&link).expect("a next link");

    let (_, second, link) = list_consent_sessions(
        &hydra,
        &format!("subject=ada&page_size=2&page_token={token}"),
    )
    .await;
    assert_eq!(second.as_array().unwrap().len(), 1);
    assert_eq!(second[0]["consent_request"]["client"]["client_id"], "app-3");
    assert_eq!(next_token(&link), None, "the last page has no next link");
    assert!(link.ends_with("rel=\"first\""), "{link}");

    let (_, bob, _) = list_consent_sessions(&hydra, "subject=bob").await;
    assert_eq!(bob.as_array().unwrap().len(), 1);
    let (_, nobody, _) = list_consent_sessions(&hydra, "subject=nobody").await;
    assert_eq!(nobody, json!([]));

    let (status, body, _) = list_consent_sessions(&hydra, "page_size=2").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_request");
    let (status, _, _) = list_consent_sessions(&hydra, "subject=ada&page_token=forged").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn consent_sessions_are_revoked_for_one_subject_and_client_only() {
    let hydra = FakeHydra::start().await;
    for (subject, id) in [("ada", "app-1"), ("ada", "app-2"), ("bob", "app-1")] {
        hydra.add_consent_session(ConsentSessionSpec {
            subject: subject.into(),
            client: client(id),
            ..ConsentSessionSpec::default()
        });
    }

    let status = empty_call(
        openapi::hydra(),
        Method::DELETE,
        &hydra.url,
        &format!("{CONSENT_SESSIONS}?subject=ada&client=app-1"),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(hydra.consent_session_count("ada", "app-1"), 0);
    assert_eq!(hydra.consent_session_count("ada", "app-2"), 1);
    assert_eq!(hydra.consent_session_count("bob", "app-1"), 1);
    // Nothing left to revoke is still a 204.
    let status = empty_call(
        openapi::hydra(),
        Method::DELETE,
        &hydra.url,
        &format!("{CONSENT_SESSIONS}?subject=ada&client=app-1"),
    )
    .await;
    assert_eq!(status, 204);

    for query in [
        "client=app-1",
        "subject=ada",
        "subject=ada&client=app-2&all=true",
    ] {
        let (status, body) = hydra_call(
            &hydra,
            Method::DELETE,
            &format!("{CONSENT_SESSIONS}?{query}"),
            None,
        )
        .await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(
            body["error_description"],
            format!("{INVALID_REQUEST} Invalid combination of query parameters.")
        );
    }
    assert_eq!(
        hydra.revoked_consents(),
        [
            ("ada".to_owned(), "app-1".to_owned()),
            ("ada".to_owned(), "app-1".to_owned())
        ]
    );
}

#[tokio::test]
async fn a_client_is_served_without_its_secret_and_an_unknown_id_gets_hydras_404() {
    let hydra = FakeHydra::start().await;
    hydra_call(&hydra, Method::POST, CLIENTS, Some(client_body("web"))).await;
    let (status, body) = hydra_call(&hydra, Method::GET, "/admin/clients/web", None).await;
    assert_eq!(status, 200);
    assert!(body.get("client_secret").is_none(), "{body}");
    assert_eq!(body["skip_consent"], true);
    assert_eq!(body["metadata"], json!({"managed_by": "hera"}));
    for (method, body) in [
        (Method::GET, None),
        (Method::PUT, Some(client_body("nope"))),
        (Method::DELETE, None),
    ] {
        let (status, answer) =
            hydra_call(&hydra, method.clone(), "/admin/clients/nope", body).await;
        assert_eq!(status, 404, "{method}");
        assert_eq!(
            answer,
            json!({"error": "Unable to locate the resource", "error_description": ""}),
            "{method}"
        );
    }
}

#[tokio::test]
async fn clients_are_served_without_their_secret_or_answered_with_hydras_404() {
    let hydra = FakeHydra::start().await;
    hydra.add_client(with(client("tv-app"), json!({"client_secret": "s3cr3t!"})));
    let (status, body) = hydra_call(&hydra, Method::GET, "/admin/clients/tv-app", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["client_name"], "tv-app app");
    assert!(body.get("client_secret").is_none());
    let (status, body) = hydra_call(&hydra, Method::GET, "/admin/clients/nope", None).await;
    assert_eq!(
        (status.as_u16(), body),
        (
            404,
            json!({"error": "Unable to locate the resource", "error_description": ""})
        )
    );
}

#[tokio::test]
async fn the_browser_logout_url_needs_the_session_cookie_and_an_allowed_return_to() {
    let kratos = FakeKratos::start().await;
    let id = random_uuid();
    kratos.add_session("good", kratos_session(&id, 60));
    let cookie = format!("{SESSION_COOKIE}=good");
    let logout = "/self-service/logout/browser";
    let return_to = "http://127.0.0.1:4444/oauth2/sessions/logout?logout_verifier=v";

    let response = http()
        .get(format!("{}{logout}", kratos.public_url))
        .query(&[("return_to", return_to)])
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        openapi::kratos().check_response("GET", logout, 200, &body),
        Ok(())
    );
    let token = body["logout_token"].as_str().unwrap();
    assert_eq!(
        body["logout_url"],
        format!(
            "{}/self-service/logout?return_to=http%3A%2F%2F127.0.0.1%3A4444%2Foauth2%2Fsessions%2Flogout%3Flogout_verifier%3Dv&token={token}",
            kratos.public_url
        )
    );
    assert_eq!(
        kratos.logout_url("good", Some(return_to)),
        body["logout_url"],
        "the logout token is stable per session"
    );

    // No session: 401 session_inactive for JSON clients, a redirect to the error UI otherwise.
    let (status, body) = call(
        openapi::kratos(),
        Method::GET,
        &kratos.public_url,
        logout,
        None,
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["id"], "session_inactive");
    assert_eq!(
        body["error"]["reason"],
        "No active session was found in this request."
    );
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}{logout}", kratos.public_url))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert!(response.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with(ERROR_UI_URL));

    kratos.allow_return_urls(&["https://hera.example/"]);
    let response = http()
        .get(format!("{}{logout}", kratos.public_url))
        .query(&[("return_to", return_to)])
        .header("cookie", &cookie)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        openapi::kratos().check_response("GET", logout, 400, &body),
        Ok(())
    );
    assert_eq!(body["error"]["id"], "self_service_flow_return_to_forbidden");
    assert_eq!(
        kratos.logout_cookies(),
        [Some(cookie.clone()), None, None, Some(cookie)]
    );
}

#[tokio::test]
async fn put_replaces_a_client_resetting_what_it_leaves_out_and_keeps_the_secret_unless_given() {
    let hydra = FakeHydra::start().await;
    hydra_call(&hydra, Method::POST, CLIENTS, Some(client_body("web"))).await;
    let created_at = hydra.oauth2_client("web").unwrap()["created_at"].clone();

    let replacement = json!({
        "client_name": "Renamed",
        "scope": "openid",
        "redirect_uris": ["https://web.example.com/cb"],
        "authorization_code_grant_access_token_lifespan": "90m",
        "allowed_cors_origins": ["https://web.example.com/"]
    });
    let (status, body) =
        hydra_call(&hydra, Method::PUT, "/admin/clients/web", Some(replacement)).await;
    assert_eq!(status, 200);
    assert_eq!(body["client_id"], "web", "the id comes from the path");
    assert!(body.get("client_secret").is_none());
    assert_eq!(body["client_name"], "Renamed");
    assert_eq!(body["skip_consent"], false, "missing fields are reset");
    assert_eq!(body["metadata"], json!({}));
    assert_eq!(body["grant_types"], json!([]));
    assert_eq!(body["created_at"], created_at);
    assert_eq!(
        body["authorization_code_grant_access_token_lifespan"],
        "1h30m0s"
    );
    assert_eq!(
        body["allowed_cors_origins"],
        json!(["https://web.example.com"])
    );
    assert_eq!(
        hydra.oauth2_client_secret("web").as_deref(),
        Some("web-secret-value")
    );

    let (status, body) = hydra_call(
        &hydra,
        Method::PUT,
        "/admin/clients/web",
        Some(json!({"scope": "openid", "client_secret": "a-new-secret"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["client_secret"], "a-new-secret", "echoed once");
    assert_eq!(
        hydra.oauth2_client_secret("web").as_deref(),
        Some("a-new-secret")
    );
}

#[tokio::test]
async fn delete_answers_204_without_a_body() {
    let hydra = FakeHydra::start().await;
    hydra_call(&hydra, Method::POST, CLIENTS, Some(client_body("web"))).await;
    let response = http()
        .delete(format!("{}/admin/clients/web", hydra.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert!(response.headers().get("content-type").is_none());
    assert_eq!(response.text().await.unwrap(), "");
    assert_eq!(hydra.oauth2_client("web"), None);
}

#[tokio::test]
async fn clients_are_listed_in_pages_linked_by_the_link_header() {
    let hydra = FakeHydra::start().await;
    for id in ["e", "c", "a", "d", "b"] {
        hydra_call(&hydra, Method::POST, CLIENTS, Some(client_body(id))).await;
    }
    let mut seen = Vec::new();
    let mut next = format!("{CLIENTS}?page_size=2");
    loop {
        let response = http()
            .get(format!("{}{next}", hydra.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let link = response.headers()["link"].to_str().unwrap().to_owned();
        assert!(
            link.starts_with("</admin/clients?page_size=2&page_token="),
            "{link}"
        );
        assert!(link.contains("; rel=\"first\""), "{link}");
        let page: Value = response.json().await.unwrap();
        openapi::hydra()
            .check_response("GET", CLIENTS, 200, &page)
            .unwrap();
        for client in page.as_array().unwrap() {
            assert!(client.get("client_secret").is_none());
            seen.push(client["client_id"].as_str().unwrap().to_owned());
        }
        match link
            .split(',')
            .find_map(|part| part.strip_suffix("; rel=\"next\""))
        {
            Some(target) => {
                next = target
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            }
            None => break,
        }
    }
    assert_eq!(seen, ["a", "b", "c", "d", "e"]);
    let (status, _) = hydra_call(&hydra, Method::GET, "/admin/clients?page_size=0", None).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn client_bodies_that_break_the_schema_are_refused_and_reported() {
    let hydra = FakeHydra::start().await;
    let bad = with(client_body("web"), json!({"skip_consent": "yes"}));
    let (status, body) = hydra_call(&hydra, Method::POST, CLIENTS, Some(bad)).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_request");
    let violations = hydra.take_contract_violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(
        violations[0].contains("/skip_consent: expected boolean, got string"),
        "{violations:?}"
    );
}
