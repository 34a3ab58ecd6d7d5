//! Login decisions through HTTP: prompt, max_age, step-up, account switches, login_hint,
//! registration.

use reqwest::StatusCode;
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use crate::support::fake_hydra::{client, with, LoginSpec};
use crate::support::fake_kratos::session;
use crate::support::logs::lines_with;
use crate::support::{
    ada, location_of, sign_in_bob, TestApp, ADA, ADA_SESSION, ADA_TOKEN, BOB, BOB_EMAIL,
};

/// Puts Ada's Kratos session (authenticated `age` ago, at `aal`) behind `ADA_TOKEN`.
fn ada_signed_in(app: &TestApp, age: Duration, aal: &str) {
    let now = OffsetDateTime::now_utc();
    let methods: &[&str] = if aal == "aal2" {
        &["password", "totp"]
    } else {
        &["password"]
    };
    app.kratos.add_session(
        ADA_TOKEN,
        session(
            ADA_SESSION,
            ada(),
            now - age,
            now + Duration::hours(8),
            aal,
            methods,
        ),
    );
    app.sign_in_browser(ADA_TOKEN);
}

fn request_url(client_id: &str, extra: &str) -> String {
    format!(
        "http://127.0.0.1:4444/oauth2/auth?client_id={client_id}&response_type=code&scope=openid&state=abcdefghijkl&redirect_uri=https%3A%2F%2F{client_id}.example.com%2Fcallback{extra}"
    )
}

fn login_with(client_id: &str, extra: &str, context: Value) -> LoginSpec {
    LoginSpec {
        client: client(client_id),
        request_url: Some(request_url(client_id, extra)),
        oidc_context: with(
            json!({"acr_values": [], "ui_locales": [], "id_token_hint_claims": {}}),
            context,
        ),
        ..LoginSpec::default()
    }
}

/// The Kratos URL Hera redirected to, as `(path, query pairs)`, or `None` for another host.
fn kratos_trip(response: &reqwest::Response) -> Option<(String, Vec<(String, String)>)> {
    let url = url::Url::parse(&location_of(response)).ok()?;
    (url.host_str() == Some("kratos.browser.test")).then(|| {
        let pairs = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        (url.path().to_owned(), pairs)
    })
}

fn has(pairs: &[(String, String)], key: &str, value: &str) -> bool {
    pairs.iter().any(|(k, v)| k == key && v == value)
}

fn return_to(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == "return_to")
        .unwrap()
        .1
        .clone()
}

#[tokio::test]
async fn prompt_login_takes_exactly_one_round_trip_to_kratos_and_then_succeeds() {
    let app = TestApp::spawn().await;
    ada_signed_in(&app, Duration::minutes(10), "aal1");
    let challenge = app
        .hydra
        .add_login(login_with("prompt-login-app", "&prompt=login", json!({})));

    let first = app.get_login(&challenge).await;
    let (path, pairs) = kratos_trip(&first).expect("sent to Kratos");
    assert_eq!(path, "/self-service/login/browser");
    assert!(has(&pairs, "refresh", "true"), "{pairs:?}");
    assert!(
        app.hydra.accepted_logins().is_empty(),
        "the old session was reused"
    );

    // Ada re-enters her password at Kratos; Kratos sends her back to return_to.
    ada_signed_in(&app, Duration::seconds(1), "aal1");
    let back = app.browser.get(return_to(&pairs)).send().await.unwrap();

    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert!(kratos_trip(&back).is_none(), "sent to Kratos a second time");
    assert!(location_of(&back).contains("login_verifier="));
    let accepted = app.hydra.accepted_logins();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0]["subject"], ADA);
    let reasons: Vec<Value> = lines_with("prompt-login-app")
        .into_iter()
        .filter(|l| l["target"] == "hera::audit")
        .map(|l| l["reason"].clone())
        .collect();
    assert_eq!(reasons, [json!("prompt_login"), json!("reauthenticated")]);
}

#[tokio::test]
async fn prompt_login_is_not_satisfied_by_coming_back_with_the_old_session() {
    let app = TestApp::spawn().await;
    ada_signed_in(&app, Duration::minutes(10), "aal1");
    let challenge = app
        .hydra
        .add_login(login_with("app", "&prompt=login", json!({})));
    let first = app.get_login(&challenge).await;
    let (_, pairs) = kratos_trip(&first).unwrap();

    // Back without signing in again (e.g. a crafted link straight to return_to).
    let back = app.browser.get(return_to(&pairs)).send().await.unwrap();

    let (_, again) = kratos_trip(&back).expect("sent to Kratos again");
    assert!(has(&again, "refresh", "true"));
    assert!(app.hydra.accepted_logins().is_empty());
}

#[tokio::test]
async fn prompt_login_in_another_browser_does_not_count() {
    let app = TestApp::spawn().await;
    ada_signed_in(&app, Duration::minutes(10), "aal1");
    let challenge = app
        .hydra
        .add_login(login_with("app", "&prompt=login", json!({})));
    app.get_login(&challenge).await;
    ada_signed_in(&app, Duration::seconds(1), "aal1");

    // Same Kratos session, but a browser without Hera's marker for this challenge.
    let other = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = other
        .get(format!(
            "{}/login?login_challenge={}",
            app.address,
            crate::support::encode(&challenge)
        ))
        .header("Cookie", "ory_kratos_session=ada-token")
        .send()
        .await
        .unwrap();

    assert!(kratos_trip(&response).is_some());
    assert!(app.hydra.accepted_logins().is_empty());
}

#[tokio::test]
async fn max_age_exceeded_re_authenticates_and_a_young_session_is_reused() {
    let app = TestApp::spawn().await;
    ada_signed_in(&app, Duration::minutes(10), "aal1");
    let old = app
        .hydra
        .add_login(login_with("app", "&max_age=60", json!({})));
    let (_, pairs) = kratos_trip(&app.get_login(&old).await).expect("sent to Kratos");
    assert!(has(&pairs, "refresh", "true"));

    let young = app
        .hydra
        .add_login(login_with("app", "&max_age=3600", json!({})));
    let response = app.get_login(&young).await;
    assert!(location_of(&response).contains("login_verifier="));
}

#[tokio::test]
async fn prompt_none_never_renders_or_redirects_to_kratos() {
    let app = TestApp::spawn().await;
    // No session at all, and a session that would need a second factor.
    let cases = [
        ("no-session", None, json!({}), "login_required"),
        (
            "needs-mfa",
            Some("aal1"),
            json!({"acr_values": ["aal2"]}),
            "interaction_required",
        ),
        ("too-old", Some("aal1"), json!({}), "login_required"),
    ];
    for (client_id, aal, context, error) in cases {
        if let Some(aal) = aal {
            ada_signed_in(&app, Duration::hours(2), aal);
        }
        let extra = if client_id == "too-old" {
            "&prompt=none&max_age=60"
        } else {
            "&prompt=none"
        };
        let challenge = app.hydra.add_login(login_with(client_id, extra, context));

        let response = app.get_login(&challenge).await;

        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{client_id}");
        assert!(
            kratos_trip(&response).is_none(),
            "{client_id}: redirected to Kratos"
        );
        assert!(
            location_of(&response).starts_with("http://127.0.0.1:4444/"),
            "{client_id}"
        );
        let rejected = app.hydra.rejected_logins();
        assert_eq!(rejected.last().unwrap()["error"], error, "{client_id}");
    }
    assert!(app.hydra.accepted_logins().is_empty());
}

#[tokio::test]
async fn acr_values_asking_for_a_second_factor_step_up_and_then_accept_with_mfa() {
    let app = TestApp::spawn().await;
    ada_signed_in(&app, Duration::minutes(1), "aal1");
    let challenge = app
        .hydra
        .add_login(login_with("bank", "", json!({"acr_values": ["aal2"]})));

    let (path, pairs) = kratos_trip(&app.get_login(&challenge).await).expect("step-up");
    assert_eq!(path, "/self-service/login/browser");
    assert!(has(&pairs, "aal", "aal2"), "{pairs:?}");
    assert!(!has(&pairs, "refresh", "true"));

    ada_signed_in(&app, Duration::seconds(1), "aal2");
    let back = app.browser.get(return_to(&pairs)).send().await.unwrap();

    assert!(location_of(&back).contains("login_verifier="));
    let accepted = &app.hydra.accepted_logins()[0];
    assert_eq!(accepted["acr"], "aal2");
    assert_eq!(accepted["amr"], json!(["pwd", "otp", "mfa"]));
}

#[tokio::test]
async fn a_step_up_the_user_does_not_complete_is_rejected_not_looped() {
    let app = TestApp::spawn().await;
    ada_signed_in(&app, Duration::minutes(1), "aal1");
    let challenge = app.hydra.add_login(LoginSpec {
        client: with(client("strict"), json!({"metadata": {"min_aal": "aal2"}})),
        ..LoginSpec::default()
    });
    let (_, pairs) = kratos_trip(&app.get_login(&challenge).await).expect("step-up");
    assert!(has(&pairs, "aal", "aal2"));

    let back = app.browser.get(return_to(&pairs)).send().await.unwrap();

    assert!(kratos_trip(&back).is_none(), "looped back to Kratos");
    assert_eq!(
        app.hydra.rejected_logins()[0]["error"],
        "unmet_authentication_requirements"
    );
    assert!(app.hydra.accepted_logins().is_empty());
}

#[tokio::test]
async fn a_remembered_login_for_someone_else_is_never_accepted_as_the_old_subject() {
    let app = TestApp::spawn().await;
    app.kratos.add_identity(ada());
    // Ada signed in earlier (Hydra remembers her); now Bob is signed in to Kratos.
    sign_in_bob(&app);
    let challenge = app.hydra.add_login(LoginSpec {
        skip: true,
        subject: ADA.into(),
        ..LoginSpec::default()
    });

    let response = app.get_login(&challenge).await;

    // Hydra refuses Bob for Ada's remembered login and restarts the flow with prompt=login,
    // which Hera then answers with one Kratos re-authentication.
    let location = location_of(&response);
    assert!(location.contains("prompt=login"), "{location}");
    assert!(!location.contains("login_verifier"), "{location}");
    assert!(
        app.hydra.accepted_logins().is_empty(),
        "someone was signed in"
    );
    let attempted: Vec<String> = app
        .hydra
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/login/accept"))
        .filter_map(|r| {
            r.body
                .map(|b| b["subject"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    assert_eq!(attempted, [BOB], "Ada must never be accepted");
}

#[tokio::test]
async fn a_remembered_subject_whose_identity_is_gone_is_rejected_with_login_required() {
    let app = TestApp::spawn().await;
    ada_signed_in(&app, Duration::minutes(1), "aal1");
    let challenge = app.hydra.add_login(LoginSpec {
        skip: true,
        subject: "de1e7ed0-0000-4000-8000-000000000000".into(),
        ..LoginSpec::default()
    });
    let response = app.get_login(&challenge).await;
    assert!(location_of(&response).contains("login_verifier="));
    assert_eq!(app.hydra.rejected_logins()[0]["error"], "login_required");
    assert!(app.hydra.accepted_logins().is_empty());
}

#[tokio::test]
async fn a_login_hint_for_another_account_sends_the_user_to_sign_in_again() {
    let app = TestApp::spawn().await;
    ada_signed_in(&app, Duration::minutes(1), "aal1");
    let matching = app.hydra.add_login(login_with(
        "app",
        "",
        json!({"login_hint": "Ada@Example.com"}),
    ));
    assert!(location_of(&app.get_login(&matching).await).contains("login_verifier="));

    let other = app
        .hydra
        .add_login(login_with("app", "", json!({"login_hint": BOB_EMAIL})));
    let (_, pairs) = kratos_trip(&app.get_login(&other).await).expect("sent to Kratos");
    assert!(has(&pairs, "refresh", "true"));
    assert_eq!(app.hydra.accepted_logins().len(), 1);
}

#[tokio::test]
async fn prompt_registration_without_a_session_opens_kratos_registration() {
    let app = TestApp::spawn().await;
    let challenge = app
        .hydra
        .add_login(login_with("app", "&prompt=registration", json!({})));
    let response = app.get_login(&challenge).await;
    let (path, pairs) = kratos_trip(&response).expect("sent to Kratos");
    assert_eq!(path, "/self-service/registration/browser");
    assert!(return_to(&pairs).starts_with(&format!("{}/login?login_challenge=", app.address)));
}

#[tokio::test]
async fn the_operator_can_extend_remembered_sessions_and_rename_acr_values() {
    let app = TestApp::spawn_with(|s| {
        s.login_policy.extend_session_lifespan = true;
        s.login_policy.acr_aal1 = "urn:example:silver".into();
    })
    .await;
    ada_signed_in(&app, Duration::minutes(1), "aal1");
    app.kratos.add_identity(ada());
    let challenge = app.hydra.add_login(LoginSpec {
        skip: true,
        subject: ADA.into(),
        ..LoginSpec::default()
    });
    app.get_login(&challenge).await;
    let accepted = &app.hydra.accepted_logins()[0];
    assert_eq!(accepted["extend_session_lifespan"], true);
    assert_eq!(accepted["acr"], "urn:example:silver");
    let remember_for = accepted["remember_for"].as_i64().unwrap();
    assert!(
        remember_for <= 8 * 3600 && remember_for > 8 * 3600 - 10,
        "{remember_for}"
    );
}
