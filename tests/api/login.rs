//! `GET /login`: every branch of the login path.

use reqwest::StatusCode;
use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::support::fake_hydra::{client, Fault, LoginSpec};
use crate::support::fake_kratos::{identity, session};
use crate::support::{
    ada, assert_error_page, assert_redirect_to, closed_port_url, encode, location_of, TestApp, ADA,
    ADA_SESSION,
};

/// A Kratos session for Ada that expires in `lifetime`, stored under `token`.
fn store_ada_session(app: &TestApp, token: &str, lifetime: Duration) -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    let expires_at = now + lifetime;
    app.kratos.add_session(
        token,
        crate::support::ada_session(now - Duration::minutes(3), expires_at),
    );
    expires_at
}

fn kratos_login_url(app: &TestApp, challenge: &str, aal2: bool) -> String {
    let return_to = format!(
        "{}/login?login_challenge={}",
        app.address,
        encode(challenge)
    );
    let aal = if aal2 { "aal=aal2&" } else { "" };
    format!(
        "http://kratos.browser.test:4433/self-service/login/browser?{aal}return_to={}",
        encode(&return_to)
    )
}

#[tokio::test]
async fn an_empty_challenge_gets_a_400_page_and_hydra_is_never_called() {
    let app = TestApp::spawn().await;
    assert_error_page(
        app.get("/login?login_challenge=").await,
        StatusCode::BAD_REQUEST,
        "This link is incomplete",
    )
    .await;
    assert!(app.hydra_calls().is_empty(), "{:?}", app.hydra_calls());
}

#[tokio::test]
async fn without_a_challenge_login_is_kratoss_sign_in_and_hydra_is_never_called() {
    let app = TestApp::spawn().await;
    for path in ["/login", "/login?other=1"] {
        assert_redirect_to(
            &app.get(path).await,
            "http://kratos.browser.test:4433/self-service/login/browser",
        );
    }
    assert!(app.hydra_calls().is_empty(), "{:?}", app.hydra_calls());
}

#[tokio::test]
async fn an_unknown_challenge_says_the_request_is_no_longer_valid_without_upstream_text() {
    let app = TestApp::spawn().await;
    let body = assert_error_page(
        app.get_login("no-such-challenge").await,
        StatusCode::NOT_FOUND,
        "This sign-in request is no longer valid",
    )
    .await;
    assert!(
        !body.contains("Unable to locate"),
        "upstream text leaked:\n{body}"
    );
    assert!(
        !body.contains("no-such-challenge"),
        "the challenge is echoed:\n{body}"
    );
}

#[tokio::test]
async fn an_expired_challenge_says_the_request_is_no_longer_valid() {
    let app = TestApp::spawn().await;
    let challenge = app.hydra.add_login(LoginSpec::default());
    app.hydra.expire(&challenge);
    let body = assert_error_page(
        app.get_login(&challenge).await,
        StatusCode::GONE,
        "start again",
    )
    .await;
    assert!(!body.contains("request_unauthorized"), "{body}");
    assert!(app.hydra.accepted_logins().is_empty());
}

#[tokio::test]
async fn an_already_handled_request_redirects_to_where_hydra_says() {
    let app = TestApp::spawn().await;
    let challenge = app.hydra.add_login(LoginSpec::default());
    app.hydra.mark_gone(
        &challenge,
        "http://127.0.0.1:4444/oauth2/auth?client_id=x&state=abcdefgh",
    );
    let response = app.get_login(&challenge).await;
    assert_redirect_to(
        &response,
        "http://127.0.0.1:4444/oauth2/auth?client_id=x&state=abcdefgh",
    );
    assert!(app.hydra.accepted_logins().is_empty());
}

#[tokio::test]
async fn skip_accepts_the_remembered_subject_when_kratos_still_has_its_session() {
    let app = TestApp::spawn().await;
    store_ada_session(&app, "ada-token", Duration::hours(1));
    app.kratos.add_identity(ada());
    app.sign_in_browser("ada-token");
    let challenge = app.hydra.add_login(LoginSpec {
        skip: true,
        subject: ADA.into(),
        ..LoginSpec::default()
    });

    let response = app.get_login(&challenge).await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location_of(&response).contains("login_verifier="));
    let accepted = app.hydra.accepted_logins();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0]["subject"], ADA);
    assert_eq!(accepted[0]["extend_session_lifespan"], false);
    assert!(
        app.kratos
            .requests()
            .iter()
            .all(|r| !r.path.starts_with("/admin/identities")),
        "the browser's own session already showed the remembered identity, active"
    );
    assert_eq!(accepted[0]["identity_provider_session_id"], ADA_SESSION);
}

#[tokio::test]
async fn an_active_kratos_session_is_accepted_for_its_identity_and_remembered_while_it_lives() {
    let app = TestApp::spawn().await;
    let expires_at = store_ada_session(&app, "ada-token", Duration::hours(2));
    app.sign_in_browser("ada-token");
    let challenge = app.hydra.add_login(LoginSpec::default());

    let response = app.get_login(&challenge).await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = location_of(&response);
    assert!(
        location.starts_with("http://127.0.0.1:4444/oauth2/auth?"),
        "{location}"
    );
    assert!(location.contains("login_verifier="), "{location}");
    let accepted = app.hydra.accepted_logins();
    assert_eq!(accepted.len(), 1);
    let body = &accepted[0];
    assert_eq!(body["subject"], ADA);
    assert_eq!(body["identity_provider_session_id"], ADA_SESSION);
    assert_eq!(body["amr"], json!(["pwd"]));
    assert_eq!(body["acr"], "aal1");
    assert_eq!(body["remember"], true);
    let remember_for = body["remember_for"].as_i64().unwrap();
    let expected = (expires_at - OffsetDateTime::now_utc()).whole_seconds();
    assert!(
        (expected - 5..=expected + 1).contains(&remember_for),
        "remember_for {remember_for}, session ends in {expected}s"
    );
}

#[tokio::test]
async fn the_browser_cookies_reach_kratos_but_heras_own_session_cookie_does_not() {
    let app = TestApp::spawn().await;
    store_ada_session(&app, "ada-token", Duration::hours(1));
    app.sign_in_browser("ada-token");
    // Give the browser a Hera session cookie first (the consent page sets one).
    app.jar.add_cookie_str(
        "hera_session=opaque; Path=/",
        &url::Url::parse(&app.address).unwrap(),
    );
    let challenge = app.hydra.add_login(LoginSpec::default());

    app.get_login(&challenge).await;

    let cookies = app.kratos.whoami_cookies();
    assert_eq!(cookies.len(), 1);
    let forwarded = cookies[0].clone().unwrap();
    assert!(
        forwarded.contains("ory_kratos_session=ada-token"),
        "{forwarded}"
    );
    assert!(!forwarded.contains("hera_session"), "{forwarded}");
}

#[tokio::test]
async fn without_a_kratos_session_the_browser_is_sent_to_kratos_and_back_to_hera() {
    let app = TestApp::spawn().await;
    let challenge = app.hydra.add_login(LoginSpec::default());

    let response = app.get_login(&challenge).await;

    assert_redirect_to(&response, &kratos_login_url(&app, &challenge, false));
    assert!(app.hydra.accepted_logins().is_empty());
    let kratos_url = url::Url::parse(&location_of(&response)).unwrap();
    assert!(
        kratos_url
            .query_pairs()
            .all(|(key, _)| key != "login_challenge"),
        "login_challenge must never be passed to Kratos itself"
    );
}

#[tokio::test]
async fn after_signing_in_at_kratos_the_return_to_hera_accepts_the_login() {
    let app = TestApp::spawn().await;
    let challenge = app.hydra.add_login(LoginSpec::default());
    let to_kratos = app.get_login(&challenge).await;
    let return_to = url::Url::parse(&location_of(&to_kratos))
        .unwrap()
        .query_pairs()
        .find(|(key, _)| key == "return_to")
        .map(|(_, value)| value.into_owned())
        .unwrap();

    store_ada_session(&app, "ada-token", Duration::hours(1));
    app.sign_in_browser("ada-token");
    let back = app.browser.get(&return_to).send().await.unwrap();

    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert!(location_of(&back).contains("login_verifier="));
    assert_eq!(app.hydra.accepted_logins()[0]["subject"], ADA);
}

#[tokio::test]
async fn a_session_needing_a_second_factor_is_sent_to_kratos_with_aal2() {
    let app = TestApp::spawn().await;
    store_ada_session(&app, "ada-token", Duration::hours(1));
    app.kratos.require_aal2("ada-token");
    app.sign_in_browser("ada-token");
    let challenge = app.hydra.add_login(LoginSpec::default());

    let response = app.get_login(&challenge).await;

    assert_redirect_to(&response, &kratos_login_url(&app, &challenge, true));
    assert!(app.hydra.accepted_logins().is_empty());
}

#[tokio::test]
async fn an_unreachable_kratos_gives_a_502_page_and_nothing_is_accepted() {
    let app = TestApp::spawn_with(|s| s.kratos_public_url = closed_port_url()).await;
    let challenge = app.hydra.add_login(LoginSpec::default());

    assert_error_page(
        app.get_login(&challenge).await,
        StatusCode::BAD_GATEWAY,
        "The sign-in service is unavailable",
    )
    .await;
    assert!(app.hydra.accepted_logins().is_empty());
    assert!(app.hydra.rejected_logins().is_empty());
}

#[tokio::test]
async fn a_kratos_500_gives_a_502_page_and_nothing_is_accepted() {
    let app = TestApp::spawn().await;
    app.kratos.set_fault(Some(Fault::Status(500)));
    let challenge = app.hydra.add_login(LoginSpec::default());

    assert_error_page(
        app.get_login(&challenge).await,
        StatusCode::BAD_GATEWAY,
        "unavailable",
    )
    .await;
    assert!(app.hydra.accepted_logins().is_empty());
}

#[tokio::test]
async fn a_kratos_that_hangs_gives_a_504_page_within_the_timeout() {
    let app = TestApp::spawn().await;
    app.kratos.set_fault(Some(Fault::Hang));
    let challenge = app.hydra.add_login(LoginSpec::default());

    let started = std::time::Instant::now();
    let response = app.get_login(&challenge).await;
    let took = started.elapsed();

    assert_error_page(
        response,
        StatusCode::GATEWAY_TIMEOUT,
        "did not answer in time",
    )
    .await;
    assert!(
        took < crate::support::UPSTREAM_TIMEOUT + std::time::Duration::from_secs(1),
        "took {took:?}"
    );
    assert!(app.hydra.accepted_logins().is_empty());
}

#[tokio::test]
async fn a_malformed_kratos_session_gives_a_502_page_and_nothing_is_accepted() {
    let app = TestApp::spawn().await;
    app.kratos.set_fault(Some(Fault::Malformed));
    let challenge = app.hydra.add_login(LoginSpec::default());

    assert_error_page(
        app.get_login(&challenge).await,
        StatusCode::BAD_GATEWAY,
        "unavailable",
    )
    .await;
    assert!(app.hydra.accepted_logins().is_empty());
}

#[tokio::test]
async fn an_unreachable_hydra_gives_a_502_page() {
    let app = TestApp::spawn_with(|s| s.hydra_admin_url = closed_port_url()).await;
    assert_error_page(
        app.get_login("some-challenge").await,
        StatusCode::BAD_GATEWAY,
        "The sign-in service is unavailable",
    )
    .await;
}

#[tokio::test]
async fn a_hydra_503_gives_a_503_page() {
    let app = TestApp::spawn().await;
    let challenge = app.hydra.add_login(LoginSpec::default());
    app.hydra.set_fault(Some(Fault::Status(503)));
    assert_error_page(
        app.get_login(&challenge).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
    )
    .await;
}

#[tokio::test]
async fn a_session_method_hera_has_never_seen_is_accepted_and_passed_on() {
    let app = TestApp::spawn().await;
    let now = OffsetDateTime::now_utc();
    app.kratos.add_session(
        "dev-token",
        session(
            "5e550000-0000-4000-8000-000000000de0",
            identity(
                "dede0000-0000-4000-8000-0000000000de",
                "dev@example.com",
                "Dev",
                "Ice",
            ),
            now,
            now + Duration::hours(1),
            "aal1",
            &["deviceauthn"],
        ),
    );
    app.sign_in_browser("dev-token");
    let challenge = app.hydra.add_login(LoginSpec {
        client: client("some-app"),
        ..LoginSpec::default()
    });

    let response = app.get_login(&challenge).await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.hydra.accepted_logins()[0]["amr"],
        json!(["deviceauthn"])
    );
}

#[tokio::test]
async fn over_https_heras_session_cookie_is_a_host_cookie() {
    for (public_url, expected) in [
        ("https://hera.example.com", "__Host-hera_session="),
        ("http://127.0.0.1:3000", "hera_session="),
    ] {
        let app =
            TestApp::spawn_with(|s| s.public_url = url::Url::parse(public_url).unwrap()).await;
        let challenge = app.hydra.add_device_challenge();
        let response = app.get_device_verify(&challenge).await;
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        let set_cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            set_cookie.starts_with(expected),
            "{public_url}: {set_cookie}"
        );
        assert!(set_cookie.contains("Path=/"), "{set_cookie}");
        assert!(!set_cookie.contains("Domain"), "{set_cookie}");
        assert_eq!(
            set_cookie.contains("Secure"),
            public_url.starts_with("https"),
            "{set_cookie}"
        );
    }
}
