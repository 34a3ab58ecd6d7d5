//! The fake Kratos's browser self-service API against the real Kratos v26.2.0: each test walks
//! a flow the way the recordings did (`tests/contract/recorded/kratos-*`), replaying each
//! recorded request against the fake in the same state and expecting the recorded answer: the
//! same status, redirects to the same place, bodies of the same shape with the same error texts,
//! and flows with the same nodes (type, group, name, input type, label and message ids) in the
//! same order.

use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use crate::support::fake_kratos::{
    csrf_cookie_name, identity, session, FakeKratos, SESSION_COOKIE,
};
use crate::support::recording::{Answer, Cookies as Browser, Recording};
use crate::support::{query, totp};

/// The recordings' Kratos public URL (`main` instance), its UI and its default return address.
const KRATOS_PUBLIC: &str = "http://127.0.0.1:4433";
/// The recordings' `kratos-full` and `kratos-short` instances.
const KRATOS_FULL: &str = "http://127.0.0.1:4533";
const KRATOS_SHORT: &str = "http://127.0.0.1:4633";
const UI: &str = "http://127.0.0.1:4455";
const APP: &str = "http://127.0.0.1:3000";

/// The Kratos instance a recording was made at, by its name: `kratos-full-…`, `kratos-short-…`
/// or the `main` instance.
fn recorded_host(name: &str) -> &'static str {
    if name.starts_with("kratos-full-") {
        KRATOS_FULL
    } else if name.starts_with("kratos-short-") {
        KRATOS_SHORT
    } else {
        KRATOS_PUBLIC
    }
}

/// The fake configured like the recordings' `main` instance: unified sign-in with a password,
/// two-step sign-up, TOTP, recovery and verification switched off, `required_aal: aal1`.
async fn main_instance() -> FakeKratos {
    let kratos = FakeKratos::start().await;
    kratos.configure(|c| {
        c.recovery = false;
        c.verification = false;
        c.highest_available_aal = false;
        c.default_return_to = format!("{APP}/");
    });
    kratos
}

/// Like `kratos-full`: recovery and verification by code, sign-in by code, identifier first,
/// backup codes, `required_aal: highest_available`, no `show_verification_ui`.
async fn full_instance() -> FakeKratos {
    let kratos = FakeKratos::start().await;
    kratos.configure(|c| {
        c.identifier_first = true;
        c.code_login = true;
        c.lookup_secret = true;
        c.show_verification_ui = false;
        c.default_return_to = format!("{APP}/");
    });
    kratos
}

/// (type, group, name, input type, label id, message ids) of every node, in order.
fn nodes(flow: &Value) -> Vec<(String, String, String, String, u64, Vec<u64>)> {
    flow["ui"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no nodes in {flow}"))
        .iter()
        .map(|node| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            (
                text(&node["type"]),
                text(&node["group"]),
                text(&node["attributes"]["name"]),
                text(&node["attributes"]["type"]),
                node["meta"]["label"]["id"].as_u64().unwrap_or_default(),
                node["messages"]
                    .as_array()
                    .map(|m| m.iter().filter_map(|m| m["id"].as_u64()).collect())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

/// The flow-level message ids.
fn messages(flow: &Value) -> Vec<u64> {
    flow["ui"]["messages"]
        .as_array()
        .map(|m| m.iter().filter_map(|m| m["id"].as_u64()).collect())
        .unwrap_or_default()
}

/// Replays a recorded `GET /self-service/<kind>/flows?id=` for `flow` and checks the answer:
/// the shape, the nodes, the messages, the state.
async fn check_flow(kratos: &FakeKratos, browser: &Browser, name: &str, flow: &str) -> Value {
    let recording = Recording::load(name);
    let path = recording
        .path_and_query
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let answer = recording
        .to(&kratos.public_url)
        .path_and_query(&format!("{path}?id={flow}"))
        .header("cookie", &browser.header())
        .send()
        .await;
    recording
        .expect()
        .host(recorded_host(name), &kratos.public_url)
        .urls(&["/ui/action", "/request_url"])
        .exact(&["/state", "/type", "/refresh", "/requested_aal"])
        .free(&["/identity"])
        .check(&answer);
    let body = answer.json();
    let recorded = &recording.response_body;
    assert_eq!(nodes(&body), nodes(recorded), "{name}: the nodes differ");
    assert_eq!(
        messages(&body),
        messages(recorded),
        "{name}: the messages differ"
    );
    body
}

/// Replays a recorded form post to the fake's flow `flow`, with `fields` filled in where the
/// recording redacted them.
async fn post(
    kratos: &FakeKratos,
    browser: &Browser,
    name: &str,
    flow: &str,
    fields: &[(&str, &str)],
) -> Answer {
    let recording = Recording::load(name);
    let path = recording
        .path_and_query
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let mut replay = recording
        .to(&kratos.public_url)
        .path_and_query(&format!("{path}?flow={flow}"))
        .header("cookie", &browser.header());
    for (field, value) in fields {
        replay = replay.field(field, *value);
    }
    let answer = replay.send().await;
    recording
        .expect()
        .host(recorded_host(name), &kratos.public_url)
        .host(UI, UI)
        .check(&answer);
    answer
}

/// Replays a recorded browser init and returns the new flow's id (`None` when the recording
/// went elsewhere).
async fn init(kratos: &FakeKratos, browser: &mut Browser, name: &str) -> (Answer, Option<String>) {
    let recording = Recording::load(name);
    let answer = recording
        .to(&kratos.public_url)
        .header("cookie", &browser.header())
        .send()
        .await;
    recording
        .expect()
        .host(recorded_host(name), &kratos.public_url)
        .host(&format!("{APP}/"), &format!("{APP}/"))
        .params(&["return_to", "aal", "refresh"])
        .check(&answer);
    browser.take(&answer);
    let flow = answer
        .header("location")
        .and_then(|l| query(l).get("flow").cloned());
    (answer, flow)
}

fn csrf(kratos: &FakeKratos, flow: &str) -> String {
    kratos.flow_csrf_token(flow).unwrap()
}

/// A signed-in browser: Ada's session cookie.
fn signed_in(kratos: &FakeKratos, browser: &mut Browser, email: &str, password: &str) -> String {
    let id = "e66940aa-edb9-43ff-8bf3-5e3efef779cb";
    kratos.add_user(email, password, identity(id, email, "Ada", "Rec"));
    let now = OffsetDateTime::now_utc();
    kratos.add_session(
        "recorded-session",
        session(
            "0a86cb27-c893-4871-a12c-3600ed55f555",
            identity(id, email, "Ada", "Rec"),
            now,
            now + Duration::hours(1),
            "aal1",
            &["password"],
        ),
    );
    browser.set(SESSION_COOKIE, "recorded-session");
    id.to_owned()
}

#[tokio::test]
async fn a_sign_in_goes_as_recorded() {
    let kratos = main_instance().await;
    kratos.add_user(
        "rec-r72e3b2-ada@example.com",
        "correct horse",
        identity(
            "e66940aa-edb9-43ff-8bf3-5e3efef779cb",
            "rec-r72e3b2-ada@example.com",
            "Ada",
            "Rec",
        ),
    );
    let mut browser = Browser::default();
    let (answer, flow) = init(&kratos, &mut browser, "kratos-login-browser-init-303").await;
    let flow = flow.unwrap();
    assert!(answer
        .cookies_set()
        .iter()
        .any(|(name, ..)| *name == csrf_cookie_name(&kratos.public_url)));
    check_flow(
        &kratos,
        &browser,
        "kratos-login-browser-get-flow-200",
        &flow,
    )
    .await;

    // Reading the flow without the browser's cookies fails Kratos's CSRF check.
    let recording = Recording::load("kratos-login-browser-get-flow-no-cookie-403");
    let answer = recording
        .to(&kratos.public_url)
        .path_and_query(&format!("/self-service/login/flows?id={flow}"))
        .send()
        .await;
    recording
        .expect()
        .exact(&["/error/details/reject_reason"])
        .check(&answer);
    for name in [
        "kratos-login-browser-get-flow-unknown-404",
        "kratos-login-browser-get-flow-malformed-id-404",
    ] {
        let recording = Recording::load(name);
        let answer = recording
            .to(&kratos.public_url)
            .header("cookie", &browser.header())
            .send()
            .await;
        recording.expect().check(&answer);
    }

    post(
        &kratos,
        &browser,
        "kratos-login-browser-submit-missing-identifier-303",
        &flow,
        &[("csrf_token", &csrf(&kratos, &flow)), ("password", "x")],
    )
    .await;
    check_flow(
        &kratos,
        &browser,
        "kratos-login-browser-get-flow-after-missing-identifier-200",
        &flow,
    )
    .await;
    post(
        &kratos,
        &browser,
        "kratos-login-browser-submit-wrong-password-303",
        &flow,
        &[("csrf_token", &csrf(&kratos, &flow)), ("password", "wrong")],
    )
    .await;
    let after = check_flow(
        &kratos,
        &browser,
        "kratos-login-browser-get-flow-after-wrong-password-200",
        &flow,
    )
    .await;
    assert_eq!(
        after["ui"]["nodes"][1]["attributes"]["value"],
        "rec-r72e3b2-ada@example.com"
    );
    post(
        &kratos,
        &browser,
        "kratos-login-browser-submit-unknown-method-303",
        &flow,
        &[("csrf_token", &csrf(&kratos, &flow)), ("password", "x")],
    )
    .await;
    check_flow(
        &kratos,
        &browser,
        "kratos-login-browser-get-flow-after-unknown-method-200",
        &flow,
    )
    .await;

    // A forged CSRF token: the error UI, and the error Kratos recorded for it.
    let answer = post(
        &kratos,
        &browser,
        "kratos-login-browser-submit-csrf-mismatch-303",
        &flow,
        &[("csrf_token", "forged"), ("password", "x")],
    )
    .await;
    let error = query(answer.location())["id"].clone();
    let recording = Recording::load("kratos-error-get-csrf-200");
    let answer = recording
        .to(&kratos.public_url)
        .path_and_query(&format!("/self-service/errors?id={error}"))
        .header("cookie", &browser.header())
        .send()
        .await;
    recording
        .expect()
        .exact(&["/error/details/reject_reason"])
        .check(&answer);
    let recording = Recording::load("kratos-login-browser-submit-csrf-mismatch-json-403");
    let answer = recording
        .to(&kratos.public_url)
        .path_and_query(&format!("/self-service/login?flow={flow}"))
        .header("cookie", &browser.header())
        .field("csrf_token", "forged")
        .field("password", "x")
        .send()
        .await;
    recording
        .expect()
        .exact(&["/error/details/reject_reason"])
        .check(&answer);
    for name in [
        "kratos-login-browser-submit-unknown-flow-303",
        "kratos-login-browser-submit-unknown-flow-json-404",
    ] {
        let recording = Recording::load(name);
        let answer = recording
            .to(&kratos.public_url)
            .header("cookie", &browser.header())
            .field("csrf_token", "x")
            .field("password", "x")
            .send()
            .await;
        recording.expect().host(UI, UI).check(&answer);
    }

    // With a return address: kept on the flow, and where a success goes.
    let (_, flow) = init(
        &kratos,
        &mut browser,
        "kratos-login-browser-init-return-to-303",
    )
    .await;
    let flow = flow.unwrap();
    let body = check_flow(
        &kratos,
        &browser,
        "kratos-login-browser-get-flow-with-return-to-200",
        &flow,
    )
    .await;
    assert_eq!(body["return_to"], format!("{APP}/after-login?x=1"));
    let answer = post(
        &kratos,
        &browser,
        "kratos-login-browser-submit-success-303",
        &flow,
        &[
            ("csrf_token", &csrf(&kratos, &flow)),
            ("password", "correct horse"),
        ],
    )
    .await;
    assert!(answer
        .cookies_set()
        .iter()
        .any(|(name, _, removed)| name == SESSION_COOKIE && !removed));
    browser.take(&answer);

    // Signed in: no new flow, on to the return address.
    for name in [
        "kratos-login-browser-init-already-signed-in-303",
        "kratos-login-browser-init-already-signed-in-return-to-303",
        "kratos-login-browser-init-already-signed-in-json-400",
    ] {
        let (_, flow) = init(&kratos, &mut browser, name).await;
        assert_eq!(flow, None, "{name}");
    }
}

#[tokio::test]
async fn refresh_second_factor_and_refused_sign_ins_go_as_recorded() {
    let kratos = main_instance().await;
    let mut browser = Browser::default();
    kratos.allow_return_urls(&[&format!("{APP}/")]);
    for name in [
        "kratos-login-browser-init-aal2-no-session-json-401",
        "kratos-login-browser-init-bad-aal-json-400",
        "kratos-login-browser-init-return-to-forbidden-json-400",
    ] {
        init(&kratos, &mut browser, name).await;
    }
    let (answer, _) = init(
        &kratos,
        &mut browser,
        "kratos-login-browser-init-aal2-no-session-303",
    )
    .await;
    let recording = Recording::load("kratos-error-get-aal1-required-200");
    let reply = recording
        .to(&kratos.public_url)
        .path_and_query(&format!(
            "/self-service/errors?id={}",
            query(answer.location())["id"]
        ))
        .send()
        .await;
    recording.expect().check(&reply);
    let (answer, _) = init(
        &kratos,
        &mut browser,
        "kratos-login-browser-init-return-to-forbidden-303",
    )
    .await;
    let recording = Recording::load("kratos-error-get-return-to-forbidden-200");
    let reply = recording
        .to(&kratos.public_url)
        .path_and_query(&format!(
            "/self-service/errors?id={}",
            query(answer.location())["id"]
        ))
        .send()
        .await;
    // The recorded reason names the recording's own address.
    let mut expected = recording.expect();
    expected = expected.free(&[]);
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json()["error"]["id"],
        "self_service_flow_return_to_forbidden"
    );
    let _ = expected;
    let (_, flow) = init(&kratos, &mut browser, "kratos-login-browser-init-json-200").await;
    assert_eq!(flow, None, "JSON callers get the flow itself");

    // A refresh, and a second factor, for a signed-in browser.
    let secret = totp::new_secret();
    signed_in(
        &kratos,
        &mut browser,
        "rec-r72e3b2-ada@example.com",
        "correct horse",
    );
    kratos.set_totp("rec-r72e3b2-ada@example.com", &secret);
    let (_, flow) = init(
        &kratos,
        &mut browser,
        "kratos-login-browser-init-refresh-303",
    )
    .await;
    let body = check_flow(
        &kratos,
        &browser,
        "kratos-login-browser-get-flow-refresh-200",
        &flow.unwrap(),
    )
    .await;
    assert_eq!(
        body["ui"]["nodes"][1]["attributes"]["value"],
        "rec-r72e3b2-ada@example.com"
    );
    let (_, flow) = init(&kratos, &mut browser, "kratos-login-browser-init-aal2-303").await;
    let flow = flow.unwrap();
    check_flow(
        &kratos,
        &browser,
        "kratos-login-browser-get-flow-aal2-200",
        &flow,
    )
    .await;
    post(
        &kratos,
        &browser,
        "kratos-login-browser-submit-totp-wrong-303",
        &flow,
        &[
            ("csrf_token", &csrf(&kratos, &flow)),
            ("totp_code", "000000"),
        ],
    )
    .await;
    check_flow(
        &kratos,
        &browser,
        "kratos-login-browser-get-flow-after-totp-wrong-200",
        &flow,
    )
    .await;
    let answer = post(
        &kratos,
        &browser,
        "kratos-login-browser-submit-totp-success-303",
        &flow,
        &[
            ("csrf_token", &csrf(&kratos, &flow)),
            ("totp_code", &totp::code_now(&secret)),
        ],
    )
    .await;
    browser.take(&answer);
    let recording = Recording::load("kratos-login-browser-init-aal2-already-aal2-json-400");
    recording.expect().check(
        &recording
            .to(&kratos.public_url)
            .header("cookie", &browser.header())
            .send()
            .await,
    );
}

#[tokio::test]
async fn a_second_factor_for_an_identity_without_one_goes_as_recorded() {
    let kratos = main_instance().await;
    let mut browser = Browser::default();
    signed_in(
        &kratos,
        &mut browser,
        "rec-r72e3b2-ada@example.com",
        "correct horse",
    );
    let (_, flow) = init(
        &kratos,
        &mut browser,
        "kratos-login-browser-init-aal2-no-second-factor-303",
    )
    .await;
    check_flow(
        &kratos,
        &browser,
        "kratos-login-browser-get-flow-aal2-no-second-factor-200",
        &flow.unwrap(),
    )
    .await;
    // Submitting an older sign-in flow while signed in.
    let mut other = Browser::default();
    let (_, older) = init(&kratos, &mut other, "kratos-login-browser-init-303").await;
    let older = older.unwrap();
    other.set(SESSION_COOKIE, "recorded-session");
    post(
        &kratos,
        &other,
        "kratos-login-browser-submit-already-signed-in-303",
        &older,
        &[("csrf_token", &csrf(&kratos, &older)), ("password", "x")],
    )
    .await;
}

#[tokio::test]
async fn a_two_step_sign_up_goes_as_recorded() {
    let kratos = main_instance().await;
    let mut browser = Browser::default();
    let (_, flow) = init(
        &kratos,
        &mut browser,
        "kratos-registration-browser-init-303",
    )
    .await;
    let flow = flow.unwrap();
    check_flow(
        &kratos,
        &browser,
        "kratos-registration-browser-get-flow-200",
        &flow,
    )
    .await;
    let token = csrf(&kratos, &flow);
    post(
        &kratos,
        &browser,
        "kratos-registration-browser-submit-profile-invalid-email-302",
        &flow,
        &[("csrf_token", &token)],
    )
    .await;
    check_flow(
        &kratos,
        &browser,
        "kratos-registration-browser-get-flow-after-invalid-email-200",
        &flow,
    )
    .await;
    // An empty address is missing; the flow keeps the one typed before.
    post(
        &kratos,
        &browser,
        "kratos-registration-browser-submit-profile-missing-email-302",
        &flow,
        &[("csrf_token", &token)],
    )
    .await;
    check_flow(
        &kratos,
        &browser,
        "kratos-registration-browser-get-flow-after-missing-email-200",
        &flow,
    )
    .await;
    post(
        &kratos,
        &browser,
        "kratos-registration-browser-submit-profile-303",
        &flow,
        &[("csrf_token", &token)],
    )
    .await;
    check_flow(
        &kratos,
        &browser,
        "kratos-registration-browser-get-flow-step2-200",
        &flow,
    )
    .await;
    post(
        &kratos,
        &browser,
        "kratos-registration-browser-submit-back-303",
        &flow,
        &[("csrf_token", &token)],
    )
    .await;
    let back = check_flow(
        &kratos,
        &browser,
        "kratos-registration-browser-get-flow-after-back-200",
        &flow,
    )
    .await;
    assert_eq!(
        back["ui"]["nodes"][1]["attributes"]["value"],
        "rec-r72e3b2-reg@example.com"
    );
    post(
        &kratos,
        &browser,
        "kratos-registration-browser-submit-profile-303",
        &flow,
        &[("csrf_token", &token)],
    )
    .await;
    post(
        &kratos,
        &browser,
        "kratos-registration-browser-submit-short-password-302",
        &flow,
        &[("csrf_token", &token), ("password", "short")],
    )
    .await;
    check_flow(
        &kratos,
        &browser,
        "kratos-registration-browser-get-flow-after-short-password-200",
        &flow,
    )
    .await;
    post(
        &kratos,
        &browser,
        "kratos-registration-browser-submit-password-like-identifier-302",
        &flow,
        &[
            ("csrf_token", &token),
            ("password", "rec-r72e3b2-reg@example.com"),
        ],
    )
    .await;
    check_flow(
        &kratos,
        &browser,
        "kratos-registration-browser-get-flow-after-password-like-identifier-200",
        &flow,
    )
    .await;
    let answer = post(
        &kratos,
        &browser,
        "kratos-registration-browser-submit-success-303",
        &flow,
        &[
            ("csrf_token", &token),
            ("password", "correct horse battery staple"),
        ],
    )
    .await;
    browser.take(&answer);
    assert!(kratos.user("rec-r72e3b2-reg@example.com").is_some());
    for name in [
        "kratos-registration-browser-init-already-signed-in-303",
        "kratos-registration-browser-init-already-signed-in-json-400",
    ] {
        init(&kratos, &mut browser, name).await;
    }
    let recording = Recording::load("kratos-registration-browser-get-flow-unknown-404");
    recording.expect().check(
        &recording
            .to(&kratos.public_url)
            .header("cookie", &browser.header())
            .send()
            .await,
    );
}

#[tokio::test]
async fn a_sign_up_with_a_taken_address_goes_as_recorded() {
    let kratos = main_instance().await;
    kratos.add_user(
        "rec-r72e3b2-taken@example.com",
        "x",
        identity(
            "f0f0f0f0-0000-4000-8000-000000000001",
            "rec-r72e3b2-taken@example.com",
            "T",
            "A",
        ),
    );
    let mut browser = Browser::default();
    let (_, flow) = init(
        &kratos,
        &mut browser,
        "kratos-registration-browser-init-303",
    )
    .await;
    let flow = flow.unwrap();
    let token = csrf(&kratos, &flow);
    let recording = Recording::load("kratos-registration-browser-submit-profile-303");
    recording
        .to(&kratos.public_url)
        .path_and_query(&format!("/self-service/registration?flow={flow}"))
        .header("cookie", &browser.header())
        .field("csrf_token", token.as_str())
        .field("traits.email", "rec-r72e3b2-taken@example.com")
        .field("traits.name.first", "")
        .field("traits.name.last", "")
        .send()
        .await;
    post(
        &kratos,
        &browser,
        "kratos-registration-browser-submit-duplicate-302",
        &flow,
        &[
            ("csrf_token", &token),
            ("password", "correct horse battery staple"),
        ],
    )
    .await;
    check_flow(
        &kratos,
        &browser,
        "kratos-registration-browser-get-flow-after-duplicate-200",
        &flow,
    )
    .await;
}

#[tokio::test]
async fn settings_go_as_recorded() {
    let kratos = main_instance().await;
    let mut browser = Browser::default();
    for name in [
        "kratos-settings-browser-init-no-session-303",
        "kratos-settings-browser-init-no-session-return-to-303",
    ] {
        init(&kratos, &mut browser, name).await;
    }
    let recording = Recording::load("kratos-settings-browser-init-no-session-json-401");
    recording.expect().check(
        &recording
            .to(&kratos.public_url)
            .header("cookie", &browser.header())
            .send()
            .await,
    );
    let recording = Recording::load("kratos-settings-browser-get-flow-no-session-401");
    recording.expect().check(
        &recording
            .to(&kratos.public_url)
            .header("cookie", &browser.header())
            .send()
            .await,
    );

    signed_in(
        &kratos,
        &mut browser,
        "rec-r72e3b2-ada@example.com",
        "correct horse",
    );
    let (_, flow) = init(&kratos, &mut browser, "kratos-settings-browser-init-303").await;
    let flow = flow.unwrap();
    check_flow(
        &kratos,
        &browser,
        "kratos-settings-browser-get-flow-200",
        &flow,
    )
    .await;
    let token = csrf(&kratos, &flow);
    let answer = post(
        &kratos,
        &browser,
        "kratos-settings-browser-submit-profile-303",
        &flow,
        &[("csrf_token", &token)],
    )
    .await;
    browser.take(&answer);
    let body = check_flow(
        &kratos,
        &browser,
        "kratos-settings-browser-get-flow-after-profile-200",
        &flow,
    )
    .await;
    // After a change, the form posts to a new flow: never rebuild the action from the id.
    let next = query(body["ui"]["action"].as_str().unwrap())["flow"].clone();
    assert_ne!(next, flow);
    post(
        &kratos,
        &browser,
        "kratos-settings-browser-submit-short-password-303",
        &next,
        &[("csrf_token", &token), ("password", "short")],
    )
    .await;
    check_flow(
        &kratos,
        &browser,
        "kratos-settings-browser-get-flow-after-short-password-200",
        &next,
    )
    .await;
    let fresh = kratos_flow_secret(&kratos, &browser, &next).await;
    post(
        &kratos,
        &browser,
        "kratos-settings-browser-submit-totp-wrong-code-303",
        &next,
        &[("csrf_token", &token), ("totp_code", "000000")],
    )
    .await;
    check_flow(
        &kratos,
        &browser,
        "kratos-settings-browser-get-flow-after-totp-wrong-code-200",
        &next,
    )
    .await;
    post(
        &kratos,
        &browser,
        "kratos-settings-browser-submit-totp-success-303",
        &next,
        &[
            ("csrf_token", &token),
            ("totp_code", &totp::code_now(&fresh)),
        ],
    )
    .await;
    let body = check_flow(
        &kratos,
        &browser,
        "kratos-settings-browser-get-flow-after-totp-success-200",
        &next,
    )
    .await;
    let last = query(body["ui"]["action"].as_str().unwrap())["flow"].clone();
    post(
        &kratos,
        &browser,
        "kratos-settings-browser-submit-password-success-303",
        &last,
        &[
            ("csrf_token", &token),
            ("password", "a much longer passphrase"),
        ],
    )
    .await;
    check_flow(
        &kratos,
        &browser,
        "kratos-settings-browser-get-flow-after-password-success-200",
        &last,
    )
    .await;
    // The session now has the second factor.
    let recording = Recording::load("kratos-whoami-cookie-after-totp-enrolment-200");
    let answer = recording
        .to(&kratos.public_url)
        .header("cookie", &browser.header())
        .send()
        .await;
    assert_eq!(answer.json()["authenticator_assurance_level"], "aal2");

    // Another identity's flow.
    let mut other = Browser::default();
    let bob = "b0b0b0b0-0000-4000-8000-000000000b0b";
    kratos.add_user(
        "bob@example.com",
        "x",
        identity(bob, "bob@example.com", "Bob", "B"),
    );
    let now = OffsetDateTime::now_utc();
    kratos.add_session(
        "bob",
        session(
            "5e550000-0000-4000-8000-000000000b0b",
            identity(bob, "bob@example.com", "Bob", "B"),
            now,
            now + Duration::hours(1),
            "aal1",
            &["password"],
        ),
    );
    let csrf_cookie = csrf_cookie_name(&kratos.public_url);
    other.set(SESSION_COOKIE, "bob");
    other.set(&csrf_cookie, browser.get(&csrf_cookie).unwrap());
    let recording = Recording::load("kratos-settings-browser-get-flow-other-identity-403");
    recording.expect().check(
        &recording
            .to(&kratos.public_url)
            .path_and_query(&format!("/self-service/settings/flows?id={last}"))
            .header("cookie", &other.header())
            .send()
            .await,
    );
}

/// The TOTP secret a settings flow offers now.
async fn kratos_flow_secret(kratos: &FakeKratos, browser: &Browser, flow: &str) -> String {
    let body: Value = reqwest::Client::new()
        .get(format!(
            "{}/self-service/settings/flows?id={flow}",
            kratos.public_url
        ))
        .header("accept", "application/json")
        .header("cookie", browser.header())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["ui"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|n| n["attributes"]["text"]["context"]["secret"].as_str())
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn expired_flows_and_a_privileged_change_go_as_recorded() {
    let kratos = main_instance().await;
    let mut browser = Browser::default();
    let (_, flow) = init(&kratos, &mut browser, "kratos-login-browser-init-303").await;
    let flow = flow.unwrap();
    kratos.expire_flow(&flow);
    check_expired(
        &kratos,
        &browser,
        "kratos-short-login-browser-get-flow-expired-410",
        &flow,
    )
    .await;
    let answer = post(
        &kratos,
        &browser,
        "kratos-short-login-browser-submit-expired-303",
        &flow,
        &[("csrf_token", &csrf(&kratos, &flow)), ("password", "x")],
    )
    .await;
    let replacement = query(answer.location())["flow"].clone();
    assert_ne!(replacement, flow);
    check_flow(
        &kratos,
        &browser,
        "kratos-short-login-browser-get-flow-replacement-200",
        &replacement,
    )
    .await;
    let recording = Recording::load("kratos-short-login-browser-submit-expired-json-410");
    let answer = recording
        .to(&kratos.public_url)
        .path_and_query(&format!("/self-service/login?flow={flow}"))
        .header("cookie", &browser.header())
        .field("csrf_token", csrf(&kratos, &flow).as_str())
        .field("password", "x")
        .send()
        .await;
    recording.expect().check(&answer);
    for (kind, name) in [
        (
            "registration",
            "kratos-short-registration-browser-get-flow-expired-410",
        ),
        (
            "recovery",
            "kratos-short-recovery-browser-get-flow-expired-410",
        ),
        (
            "verification",
            "kratos-short-verification-browser-get-flow-expired-410",
        ),
    ] {
        let (flow, cookie) = kratos.start_flow(kind, None);
        let mut b = Browser::default();
        let (name_, value) = cookie.split_once('=').unwrap();
        b.set(name_, value);
        kratos.expire_flow(&flow);
        check_expired(&kratos, &b, name, &flow).await;
    }

    // A password change after the privileged window: parked, re-authenticated, resumed (the
    // recording's instance has no TOTP).
    kratos.configure(|c| {
        c.privileged_for = std::time::Duration::ZERO;
        c.totp = false;
    });
    signed_in(
        &kratos,
        &mut browser,
        "rec-r72e3b2-short@example.com",
        "correct horse",
    );
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (_, flow) = init(&kratos, &mut browser, "kratos-settings-browser-init-303").await;
    let flow = flow.unwrap();
    let token = csrf(&kratos, &flow);
    let recording =
        Recording::load("kratos-short-settings-browser-submit-password-needs-reauth-json-403");
    let answer = recording
        .to(&kratos.public_url)
        .path_and_query(&format!("/self-service/settings?flow={flow}"))
        .header("cookie", &browser.header())
        .field("csrf_token", token.as_str())
        .field("password", "a much longer passphrase")
        .send()
        .await;
    recording
        .expect()
        .host(KRATOS_SHORT, &kratos.public_url)
        .urls(&["/redirect_browser_to"])
        .check(&answer);
    let answer = post(
        &kratos,
        &browser,
        "kratos-short-settings-browser-submit-password-needs-reauth-303",
        &flow,
        &[
            ("csrf_token", &token),
            ("password", "a much longer passphrase"),
        ],
    )
    .await;
    browser.take(&answer);
    kratos.configure(|c| c.privileged_for = std::time::Duration::from_secs(3600));
    let recording = Recording::load("kratos-short-login-browser-init-refresh-from-settings-303");
    let answer = recording
        .to(&kratos.public_url)
        .path_and_query(&answer.location()[kratos.public_url.len()..])
        .header("cookie", &browser.header())
        .send()
        .await;
    recording.expect().host(UI, UI).check(&answer);
    let login = query(answer.location())["flow"].clone();
    check_flow(
        &kratos,
        &browser,
        "kratos-short-login-browser-get-flow-refresh-from-settings-200",
        &login,
    )
    .await;
    let answer = post(
        &kratos,
        &browser,
        "kratos-short-login-browser-submit-refresh-back-to-settings-303",
        &login,
        &[
            ("csrf_token", &csrf(&kratos, &login)),
            ("password", "correct horse"),
        ],
    )
    .await;
    browser.take(&answer);
    let recording = Recording::load("kratos-short-settings-browser-continue-after-reauth-303");
    let answer = recording
        .to(&kratos.public_url)
        .path_and_query(&format!("/self-service/settings?flow={flow}"))
        .header("cookie", &browser.header())
        .send()
        .await;
    recording.expect().host(UI, UI).check(&answer);
    check_flow(
        &kratos,
        &browser,
        "kratos-short-settings-browser-get-flow-after-reauth-200",
        &flow,
    )
    .await;
}

async fn check_expired(kratos: &FakeKratos, browser: &Browser, name: &str, flow: &str) {
    let recording = Recording::load(name);
    let path = recording
        .path_and_query
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let answer = recording
        .to(&kratos.public_url)
        .path_and_query(&format!("{path}?id={flow}"))
        .header("cookie", &browser.header())
        .send()
        .await;
    recording
        .expect()
        .host(KRATOS_SHORT, &kratos.public_url)
        .urls(&["/error/details/redirect_to"])
        .check(&answer);
}

#[tokio::test]
async fn recovery_and_verification_by_code_go_as_recorded() {
    let kratos = full_instance().await;
    let email = "rec-r72e3b2-full-recover@example.com";
    kratos.add_user(
        email,
        "x",
        identity("c0c0c0c0-0000-4000-8000-00000000c0de", email, "Re", "Cover"),
    );
    let mut browser = Browser::default();
    let (_, flow) = init(
        &kratos,
        &mut browser,
        "kratos-full-recovery-browser-init-303",
    )
    .await;
    let flow = flow.unwrap();
    let token = csrf(&kratos, &flow);
    check_flow(
        &kratos,
        &browser,
        "kratos-full-recovery-browser-get-flow-200",
        &flow,
    )
    .await;
    post(
        &kratos,
        &browser,
        "kratos-full-recovery-browser-submit-invalid-email-303",
        &flow,
        &[("csrf_token", &token)],
    )
    .await;
    check_flow(
        &kratos,
        &browser,
        "kratos-full-recovery-browser-get-flow-after-invalid-email-200",
        &flow,
    )
    .await;
    post(
        &kratos,
        &browser,
        "kratos-full-recovery-browser-submit-email-303",
        &flow,
        &[("csrf_token", &token)],
    )
    .await;
    check_flow(
        &kratos,
        &browser,
        "kratos-full-recovery-browser-get-flow-sent-200",
        &flow,
    )
    .await;
    post(
        &kratos,
        &browser,
        "kratos-full-recovery-browser-submit-wrong-code-303",
        &flow,
        &[("csrf_token", &token), ("code", "000000")],
    )
    .await;
    check_flow(
        &kratos,
        &browser,
        "kratos-full-recovery-browser-get-flow-after-wrong-code-200",
        &flow,
    )
    .await;
    let code = kratos.last_code(email).unwrap();
    let answer = post(
        &kratos,
        &browser,
        "kratos-full-recovery-browser-submit-code-success-303",
        &flow,
        &[("csrf_token", &token), ("code", &code)],
    )
    .await;
    browser.take(&answer);
    let settings = query(answer.location())["flow"].clone();
    let body: Value = reqwest::Client::new()
        .get(format!(
            "{}/self-service/settings/flows?id={settings}",
            kratos.public_url
        ))
        .header("accept", "application/json")
        .header("cookie", browser.header())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let recorded =
        Recording::load("kratos-full-settings-after-recovery-get-flow-200").response_body;
    assert_eq!(messages(&body), messages(&recorded));
    for name in [
        "kratos-full-recovery-browser-init-already-signed-in-302",
        "kratos-full-recovery-browser-init-already-signed-in-json-400",
    ] {
        init(&kratos, &mut browser, name).await;
    }

    // An unknown address gets the same answer: nothing tells who has an account.
    let mut stranger = Browser::default();
    let (_, flow) = init(
        &kratos,
        &mut stranger,
        "kratos-full-recovery-browser-init-303",
    )
    .await;
    let flow = flow.unwrap();
    let recording = Recording::load("kratos-full-recovery-browser-submit-email-303");
    recording
        .to(&kratos.public_url)
        .path_and_query(&format!("/self-service/recovery?flow={flow}"))
        .header("cookie", &stranger.header())
        .field("csrf_token", csrf(&kratos, &flow).as_str())
        .field("email", "rec-r72e3b2-nobody@example.com")
        .send()
        .await;
    check_flow(
        &kratos,
        &stranger,
        "kratos-full-recovery-browser-get-flow-unknown-address-200",
        &flow,
    )
    .await;

    // Verification.
    let email = "rec-r72e3b2-full@example.com";
    kratos.add_user(
        email,
        "x",
        identity("c0c0c0c0-0000-4000-8000-00000000f011", email, "Full", ""),
    );
    let mut browser = Browser::default();
    let (_, flow) = init(
        &kratos,
        &mut browser,
        "kratos-full-verification-browser-init-303",
    )
    .await;
    let flow = flow.unwrap();
    let token = csrf(&kratos, &flow);
    check_flow(
        &kratos,
        &browser,
        "kratos-full-verification-browser-get-flow-200",
        &flow,
    )
    .await;
    post(
        &kratos,
        &browser,
        "kratos-full-verification-browser-submit-email-303",
        &flow,
        &[("csrf_token", &token)],
    )
    .await;
    check_flow(
        &kratos,
        &browser,
        "kratos-full-verification-browser-get-flow-sent-200",
        &flow,
    )
    .await;
    post(
        &kratos,
        &browser,
        "kratos-full-verification-browser-submit-wrong-code-303",
        &flow,
        &[("csrf_token", &token), ("code", "000000")],
    )
    .await;
    check_flow(
        &kratos,
        &browser,
        "kratos-full-verification-browser-get-flow-after-wrong-code-200",
        &flow,
    )
    .await;
    // A verification started with a return address: its "continue" goes there.
    let answer = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!(
            "{}/self-service/verification/browser?return_to={}",
            kratos.public_url,
            crate::support::encode(&format!("{APP}/verified"))
        ))
        .header("accept", crate::support::NAVIGATION)
        .header("cookie", browser.header())
        .send()
        .await
        .unwrap();
    let flow = query(&crate::support::location_of(&answer))["flow"].clone();
    let token = csrf(&kratos, &flow);
    post(
        &kratos,
        &browser,
        "kratos-full-verification-browser-submit-email-303",
        &flow,
        &[("csrf_token", &token)],
    )
    .await;
    let code = kratos.last_code(email).unwrap();
    post(
        &kratos,
        &browser,
        "kratos-full-verification-browser-submit-code-success-303",
        &flow,
        &[("csrf_token", &token), ("code", &code)],
    )
    .await;
    let body = check_flow(
        &kratos,
        &browser,
        "kratos-full-verification-browser-get-flow-passed-200",
        &flow,
    )
    .await;
    assert_eq!(body["ui"]["action"], format!("{APP}/verified"));
    assert_eq!(body["ui"]["method"], "GET");
    let verified = kratos.user(email).unwrap();
    let _ = verified;
    let message = kratos
        .outbox()
        .into_iter()
        .find(|m| m.recipient == email)
        .unwrap();
    assert_eq!(message.template_type, "verification_code_valid");
}

#[tokio::test]
async fn disabled_flows_go_as_recorded() {
    let kratos = main_instance().await;
    let mut browser = Browser::default();
    for name in [
        "kratos-recovery-browser-init-disabled-303",
        "kratos-recovery-browser-init-disabled-json-400",
        "kratos-verification-browser-init-disabled-303",
        "kratos-verification-browser-init-disabled-json-400",
    ] {
        init(&kratos, &mut browser, name).await;
    }
    for name in [
        "kratos-error-get-unknown-404",
        "kratos-error-get-stub-500-200",
    ] {
        let recording = Recording::load(name);
        recording
            .expect()
            .check(&recording.to(&kratos.public_url).send().await);
    }
}

#[tokio::test]
async fn a_sign_in_by_code_after_the_identifier_goes_as_recorded() {
    let kratos = full_instance().await;
    let email = "rec-r72e3b2-full-recover@example.com";
    let secret = totp::new_secret();
    kratos.add_user(
        email,
        "correct horse",
        identity("c0c0c0c0-0000-4000-8000-00000000c0de", email, "Re", "Cover"),
    );
    let mut browser = Browser::default();
    let (_, flow) = init(&kratos, &mut browser, "kratos-login-browser-init-303").await;
    let flow = flow.unwrap();
    let token = csrf(&kratos, &flow);
    post(
        &kratos,
        &browser,
        "kratos-full-login-browser-submit-identifier-first-303",
        &flow,
        &[
            ("csrf_token", &token),
            ("identifier", email),
            ("passkey_challenge", "{}"),
        ],
    )
    .await;
    post(
        &kratos,
        &browser,
        "kratos-full-login-browser-submit-code-request-303",
        &flow,
        &[("csrf_token", &token), ("passkey_challenge", "{}")],
    )
    .await;
    check_flow(
        &kratos,
        &browser,
        "kratos-full-login-browser-get-flow-code-sent-200",
        &flow,
    )
    .await;

    // A password for an identity with a second factor: on to the second step.
    kratos.set_totp(email, &secret);
    kratos.set_lookup_codes(email, &["one"]);
    let mut browser = Browser::default();
    let (_, flow) = init(&kratos, &mut browser, "kratos-login-browser-init-303").await;
    let flow = flow.unwrap();
    let token = csrf(&kratos, &flow);
    post(
        &kratos,
        &browser,
        "kratos-full-login-browser-submit-identifier-first-unknown-303",
        &flow,
        &[
            ("csrf_token", &token),
            ("identifier", "rec-r72e3b2-nobody-here@example.com"),
            ("passkey_challenge", "{}"),
        ],
    )
    .await;
    let body = reqwest::Client::new()
        .get(format!(
            "{}/self-service/login/flows?id={flow}",
            kratos.public_url
        ))
        .header("accept", "application/json")
        .header("cookie", browser.header())
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let recorded =
        Recording::load("kratos-full-login-browser-get-flow-identifier-first-unknown-200")
            .response_body;
    assert_eq!(
        nodes(&body)[0],
        nodes(&recorded)[0],
        "the message is on the identifier"
    );
    post(
        &kratos,
        &browser,
        "kratos-full-login-browser-submit-identifier-first-303",
        &flow,
        &[
            ("csrf_token", &token),
            ("identifier", email),
            ("passkey_challenge", "{}"),
        ],
    )
    .await;
    let answer = post(
        &kratos,
        &browser,
        "kratos-full-login-browser-submit-password-2fa-identity-303",
        &flow,
        &[
            ("csrf_token", &token),
            ("identifier", email),
            ("password", "correct horse"),
            ("passkey_challenge", "{}"),
        ],
    )
    .await;
    browser.take(&answer);
    let recording = Recording::load("kratos-full-whoami-aal2-required-403");
    let answer = recording
        .to(&kratos.public_url)
        .header("cookie", &browser.header())
        .send()
        .await;
    assert_eq!(answer.status, 403);
    let (_, flow) = init(
        &kratos,
        &mut browser,
        "kratos-login-browser-init-aal2-no-second-factor-303",
    )
    .await;
    check_flow(
        &kratos,
        &browser,
        "kratos-full-login-browser-get-flow-aal2-200",
        &flow.unwrap(),
    )
    .await;
    let _ = json!(null);
}

#[tokio::test]
async fn the_sessions_api_goes_as_recorded() {
    let kratos = main_instance().await;
    let mut browser = Browser::default();
    let recording = Recording::load("kratos-sessions-list-no-session-401");
    recording
        .expect()
        .check(&recording.to(&kratos.public_url).send().await);
    let id = signed_in(&kratos, &mut browser, "rec-r72e3b2-api@example.com", "x");
    let now = OffsetDateTime::now_utc();
    for (token, session_id) in [
        ("other-1", "d0d238a9-628e-4b14-a0ea-388268512664"),
        ("other-2", "cd34a5a3-4058-4540-befa-ff0bfd78a541"),
        ("other-3", "3ddbf9ad-3bd7-49a3-a39f-a62014e67f2d"),
    ] {
        kratos.add_session(
            token,
            session(
                session_id,
                identity(&id, "rec-r72e3b2-api@example.com", "Ada", "Rec"),
                now,
                now + Duration::hours(1),
                "aal1",
                &["password"],
            ),
        );
    }
    let recording = Recording::load("kratos-sessions-list-200");
    let answer = recording
        .to(&kratos.public_url)
        .header("cookie", &browser.header())
        .send()
        .await;
    recording
        .expect()
        .free(&["/0/identity", "/1/identity", "/2/identity"])
        .check(&answer);
    assert_eq!(
        answer.json().as_array().unwrap().len(),
        3,
        "the current session is not listed"
    );
    let recording = Recording::load("kratos-sessions-delete-current-400");
    recording.expect().check(
        &recording
            .to(&kratos.public_url)
            .header("cookie", &browser.header())
            .send()
            .await,
    );
    let recording = Recording::load("kratos-sessions-delete-one-204");
    recording.expect().check(
        &recording
            .to(&kratos.public_url)
            .header("cookie", &browser.header())
            .send()
            .await,
    );
    let recording = Recording::load("kratos-sessions-delete-others-200");
    let answer = recording
        .to(&kratos.public_url)
        .header("cookie", &browser.header())
        .send()
        .await;
    recording.expect().check(&answer);
    assert_eq!(answer.json()["count"], 2);
}
