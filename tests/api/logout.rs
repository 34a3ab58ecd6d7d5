//! `GET /logout` and `POST /logout`: when Hera asks, what Yes and No do, and the Kratos
//! browser-logout option.

use hera::server::KratosLogout;
use reqwest::StatusCode;
use serde_json::{json, Value};
use time::Duration;

use crate::support::fake_hydra::{client, with, Fault, LogoutSpec};
use crate::support::fake_kratos::SESSION_COOKIE;
use crate::support::{
    ada, assert_error_page, assert_redirect_to, hidden_field, location_of, sign_in_ada,
    sign_in_ada_as, sign_in_bob, TestApp, ADA, ADA_EMAIL, ADA_TOKEN,
};

const HYDRA_LOGOUT: &str = "http://127.0.0.1:4444/oauth2/sessions/logout?logout_verifier=";

fn rp(skip_logout_consent: Value) -> Value {
    with(
        client("rp"),
        json!({"skip_logout_consent": skip_logout_consent, "client_uri": "https://rp.example.com/home"}),
    )
}

fn logout(app: &TestApp, rp_initiated: bool, client: Option<Value>) -> String {
    app.hydra.add_logout(LogoutSpec {
        subject: ADA.into(),
        rp_initiated,
        client,
        ..LogoutSpec::default()
    })
}

/// Opens the confirmation page and returns its CSRF token.
async fn confirm_token(app: &TestApp, challenge: &str) -> String {
    let response = app.get_logout(challenge).await;
    assert_eq!(response.status(), StatusCode::OK);
    hidden_field(&response.text().await.unwrap(), "csrf_token")
}

async fn answer(app: &TestApp, challenge: &str, token: &str, action: &str) -> reqwest::Response {
    app.post_form(
        "/logout",
        &[
            ("logout_challenge", challenge),
            ("csrf_token", token),
            ("action", action),
        ],
    )
    .await
}

fn hydra_puts(app: &TestApp) -> Vec<String> {
    app.hydra_calls()
        .into_iter()
        .filter(|call| call.starts_with("PUT"))
        .collect()
}

#[tokio::test]
async fn only_an_rp_initiated_logout_of_a_skip_logout_consent_client_skips_the_question() {
    let cases = [
        (json!(true), true, true),
        (json!(true), false, false),
        (json!(false), true, false),
        (json!(false), false, false),
        (Value::Null, true, false),
        (Value::Null, false, false),
    ];
    for (skip, rp_initiated, skipped) in cases {
        let app = TestApp::spawn().await;
        sign_in_ada(&app, Duration::ZERO);
        let challenge = logout(&app, rp_initiated, Some(rp(skip.clone())));
        let case = format!("skip_logout_consent={skip} rp_initiated={rp_initiated}");

        let response = app.get_logout(&challenge).await;

        if skipped {
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{case}");
            assert!(location_of(&response).starts_with(HYDRA_LOGOUT), "{case}");
            assert_eq!(app.hydra.accepted_logouts(), [challenge], "{case}");
        } else {
            assert_eq!(response.status(), StatusCode::OK, "{case}");
            let page = response.text().await.unwrap();
            assert!(page.contains("Do you want to sign out?"), "{case}");
            assert!(page.contains("name=\"action\" value=\"accept\""), "{case}");
            assert!(page.contains("name=\"action\" value=\"reject\""), "{case}");
            assert!(
                hydra_puts(&app).is_empty(),
                "{case}: nothing accepted or rejected"
            );
        }
    }
}

#[tokio::test]
async fn an_op_initiated_logout_without_a_client_is_always_confirmed() {
    for rp_initiated in [true, false] {
        let app = TestApp::spawn().await;
        sign_in_ada(&app, Duration::ZERO);
        let challenge = logout(&app, rp_initiated, None);
        let response = app.get_logout(&challenge).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(!response.text().await.unwrap().contains("Requested by"));
        assert!(hydra_puts(&app).is_empty());
    }
}

#[tokio::test]
async fn the_confirmation_names_the_client_and_the_account() {
    let app = TestApp::spawn().await;
    sign_in_ada(&app, Duration::ZERO);
    let challenge = logout(
        &app,
        false,
        Some(with(
            rp(json!(false)),
            json!({"logo_uri": "https://rp.example.com/logo.png"}),
        )),
    );
    let page = app.get_logout(&challenge).await.text().await.unwrap();
    assert!(page.contains("Requested by"), "{page}");
    assert!(page.contains("rp app"), "{page}");
    assert!(
        page.contains("src=\"https://rp.example.com/logo.png\""),
        "{page}"
    );
    assert!(page.contains("Signed in as ada@example.com"), "{page}");
    assert!(page.contains("Yes, sign me out"));
    assert!(page.contains("No, stay signed in"));
}

#[tokio::test]
async fn the_confirmation_still_works_when_kratos_cannot_name_the_account() {
    let app = TestApp::spawn().await;
    app.kratos.set_fault(Some(Fault::Status(500)));
    let challenge = logout(&app, false, Some(rp(json!(false))));
    let response = app.get_logout(&challenge).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(!response.text().await.unwrap().contains("Signed in as"));
}

#[tokio::test]
async fn yes_accepts_and_sends_the_browser_to_hydras_redirect() {
    let app = TestApp::spawn().await;
    let challenge = logout(&app, false, Some(rp(json!(false))));
    let token = confirm_token(&app, &challenge).await;

    let response = answer(&app, &challenge, &token, "accept").await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location_of(&response).starts_with(HYDRA_LOGOUT));
    assert_eq!(
        app.hydra.accepted_logouts(),
        std::slice::from_ref(&challenge)
    );
    assert!(app.hydra.rejected_logouts().is_empty());
    // Once the browser has followed that redirect, Hydra holds the request as handled:
    // opening the page again follows Hydra (410).
    app.hydra.logout_verifier_used(&challenge);
    let again = app.get_logout(&challenge).await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn no_rejects_and_returns_to_the_clients_https_site() {
    let app = TestApp::spawn().await;
    sign_in_ada(&app, Duration::ZERO);
    let challenge = logout(&app, true, Some(rp(json!(false))));
    let token = confirm_token(&app, &challenge).await;

    let response = answer(&app, &challenge, &token, "reject").await;

    assert_redirect_to(&response, "https://rp.example.com/home");
    assert_eq!(app.hydra.rejected_logouts(), [challenge]);
    assert!(app.hydra.accepted_logouts().is_empty());
}

#[tokio::test]
async fn no_never_leaves_hera_except_for_an_https_client_uri() {
    let clients = [
        Some(with(
            rp(json!(false)),
            json!({"client_uri": "http://rp.example.com/"}),
        )),
        Some(with(rp(json!(false)), json!({"client_uri": ""}))),
        Some(with(
            rp(json!(false)),
            json!({"client_uri": "javascript:alert(1)"}),
        )),
        None,
    ];
    for client in clients {
        let app = TestApp::spawn().await;
        let case = format!("{:?}", client.as_ref().map(|c| c["client_uri"].clone()));
        let challenge = logout(&app, false, client);
        let token = confirm_token(&app, &challenge).await;

        let response = answer(&app, &challenge, &token, "reject").await;

        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{case}");
        assert_eq!(location_of(&response), app.url("/"), "{case}");
        assert_eq!(app.hydra.rejected_logouts().len(), 1, "{case}");
    }
}

#[tokio::test]
async fn a_logout_hydra_already_handled_goes_where_hydra_says() {
    let app = TestApp::spawn().await;
    let challenge = logout(&app, false, Some(rp(json!(false))));
    let token = confirm_token(&app, &challenge).await;
    app.hydra.mark_gone(
        &challenge,
        "http://127.0.0.1:4444/oauth2/sessions/logout?done=1",
    );

    assert_redirect_to(
        &app.get_logout(&challenge).await,
        "http://127.0.0.1:4444/oauth2/sessions/logout?done=1",
    );
    assert_redirect_to(
        &answer(&app, &challenge, &token, "reject").await,
        "http://127.0.0.1:4444/oauth2/sessions/logout?done=1",
    );
    assert!(hydra_puts(&app).is_empty());
}

/// Hydra's 410 for a logout request names its `request_url`, which is relative
/// (`/oauth2/sessions/logout?…`): the browser must go to that path on Hydra's public URL.
#[tokio::test]
async fn a_logout_hydra_handled_goes_to_its_request_url_on_hydras_public_url() {
    let app = TestApp::spawn().await;
    sign_in_ada(&app, Duration::ZERO);
    let challenge = logout(&app, true, Some(rp(json!(false))));
    let token = confirm_token(&app, &challenge).await;
    let request_url = app.hydra.flow(&challenge).unwrap()["request_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(request_url.starts_with("/oauth2/sessions/logout?"));
    app.hydra.logout_verifier_used(&challenge);

    let on_hydra = format!("{}{request_url}", app.public.url);
    assert_redirect_to(&app.get_logout(&challenge).await, &on_hydra);
    assert_redirect_to(&answer(&app, &challenge, &token, "reject").await, &on_hydra);
}

#[tokio::test]
async fn unknown_and_expired_logout_challenges_say_the_sign_out_is_no_longer_valid() {
    let app = TestApp::spawn().await;
    assert_error_page(
        app.get_logout("unknown").await,
        StatusCode::NOT_FOUND,
        "This sign-out request is no longer valid",
    )
    .await;
    let challenge = logout(&app, false, None);
    app.hydra.expire(&challenge);
    assert_error_page(
        app.get_logout(&challenge).await,
        StatusCode::GONE,
        "This sign-out request is no longer valid",
    )
    .await;
    assert_error_page(
        app.get("/logout").await,
        StatusCode::BAD_REQUEST,
        "This link is incomplete",
    )
    .await;
}

#[tokio::test]
async fn csrf_failures_send_nothing_to_hydra() {
    let app = TestApp::spawn().await;
    let challenge = logout(&app, false, Some(rp(json!(false))));
    let other = logout(&app, false, Some(rp(json!(false))));
    let token = confirm_token(&app, &challenge).await;
    let other_token = confirm_token(&app, &other).await;
    let stranger = TestApp::spawn().await;
    let calls_before = app.hydra_calls();

    for (case, form) in [
        (
            "no token",
            vec![
                ("logout_challenge", challenge.as_str()),
                ("action", "accept"),
            ],
        ),
        (
            "garbage token",
            vec![
                ("logout_challenge", challenge.as_str()),
                ("csrf_token", "AAAA"),
                ("action", "accept"),
            ],
        ),
        (
            "another challenge's token",
            vec![
                ("logout_challenge", challenge.as_str()),
                ("csrf_token", other_token.as_str()),
                ("action", "accept"),
            ],
        ),
    ] {
        let response = app.post_form("/logout", &form).await;
        assert_error_page(response, StatusCode::FORBIDDEN, "This form has expired").await;
        assert_eq!(app.hydra_calls(), calls_before, "{case}");
    }
    // The right token, posted cross-site or from a browser it was not issued to.
    let cross_site = app
        .browser
        .post(app.url("/logout"))
        .header("sec-fetch-site", "cross-site")
        .form(&[
            ("logout_challenge", challenge.as_str()),
            ("csrf_token", token.as_str()),
            ("action", "accept"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    let elsewhere = stranger
        .browser
        .post(format!("{}/logout", stranger.address))
        .form(&[
            ("logout_challenge", challenge.as_str()),
            ("csrf_token", token.as_str()),
            ("action", "accept"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), StatusCode::FORBIDDEN);

    assert_eq!(app.hydra_calls(), calls_before);
    assert!(stranger.hydra_calls().is_empty());
    assert!(app.hydra.accepted_logouts().is_empty());
    assert!(app.hydra.rejected_logouts().is_empty());
}

#[tokio::test]
async fn an_unknown_action_is_refused_without_calling_hydra() {
    let app = TestApp::spawn().await;
    let challenge = logout(&app, false, None);
    let token = confirm_token(&app, &challenge).await;
    let response = answer(&app, &challenge, &token, "maybe").await;
    assert_error_page(response, StatusCode::BAD_REQUEST, "Nothing was changed").await;
    assert!(hydra_puts(&app).is_empty());
}

#[tokio::test]
async fn hydra_failing_during_the_answer_gives_an_error_page() {
    let app = TestApp::spawn().await;
    let challenge = logout(&app, false, None);
    let token = confirm_token(&app, &challenge).await;
    app.hydra.set_fault(Some(Fault::Status(500)));
    let response = answer(&app, &challenge, &token, "accept").await;
    assert_error_page(response, StatusCode::BAD_GATEWAY, "Nothing was changed").await;
    assert!(app.hydra.accepted_logouts().is_empty());
}

#[tokio::test]
async fn browser_logout_goes_through_kratos_and_then_on_to_hydra() {
    let app = TestApp::spawn_with(|s| s.kratos_logout = KratosLogout::Browser).await;
    sign_in_ada_as(&app, ADA_TOKEN, Duration::ZERO);
    let challenge = logout(&app, true, Some(rp(json!(true))));

    let response = app.get_logout(&challenge).await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = url::Url::parse(&location_of(&response)).unwrap();
    let return_to = location
        .query_pairs()
        .find(|(k, _)| k == "return_to")
        .map(|(_, v)| v.into_owned())
        .expect("a return_to");
    assert!(return_to.starts_with(HYDRA_LOGOUT), "{return_to}");
    assert_eq!(
        location.as_str(),
        app.kratos.logout_url(ADA_TOKEN, Some(&return_to))
    );
    assert_eq!(app.hydra.accepted_logouts(), [challenge]);
    assert_eq!(
        app.kratos.logout_cookies(),
        [Some(format!("{SESSION_COOKIE}={ADA_TOKEN}"))],
        "the Kratos cookie is forwarded, Hera's own is not"
    );
}

#[tokio::test]
async fn browser_logout_without_a_kratos_session_goes_straight_to_hydra() {
    let app = TestApp::spawn_with(|s| s.kratos_logout = KratosLogout::Browser).await;
    let challenge = logout(&app, false, Some(rp(json!(false))));
    let token = confirm_token(&app, &challenge).await;

    let response = answer(&app, &challenge, &token, "accept").await;

    assert!(location_of(&response).starts_with(HYDRA_LOGOUT));
    assert_eq!(app.kratos.logout_cookies().len(), 1);
}

#[tokio::test]
async fn browser_logout_that_kratos_refuses_shows_an_error_page() {
    let app = TestApp::spawn_with(|s| s.kratos_logout = KratosLogout::Browser).await;
    sign_in_ada_as(&app, ADA_TOKEN, Duration::ZERO);
    app.kratos.allow_return_urls(&["https://hera.example/"]);
    let challenge = logout(&app, true, Some(rp(json!(true))));
    assert_error_page(
        app.get_logout(&challenge).await,
        StatusCode::BAD_GATEWAY,
        "The sign-in service is unavailable",
    )
    .await;
}

#[tokio::test]
async fn the_default_leaves_the_kratos_session_to_hydra() {
    let app = TestApp::spawn().await;
    sign_in_ada_as(&app, ADA_TOKEN, Duration::ZERO);
    let challenge = logout(&app, true, Some(rp(json!(true))));
    let response = app.get_logout(&challenge).await;
    assert!(location_of(&response).starts_with(HYDRA_LOGOUT));
    assert!(
        app.kratos.logout_cookies().is_empty(),
        "Kratos is not asked"
    );
}

#[tokio::test]
async fn an_rp_initiated_logout_opened_in_someone_elses_browser_ends_nothing() {
    // Whoever holds Ada's ID token can open her logout URL; Hydra finds her session by the
    // hint, not by the browser. Opened by nobody, or by Bob, it must end nothing.
    for bobs_browser in [false, true] {
        let app = TestApp::spawn().await;
        app.kratos.add_identity(ada());
        if bobs_browser {
            sign_in_bob(&app);
        }
        // Even a client whose logouts are never confirmed.
        let challenge = logout(&app, true, Some(rp(json!(true))));

        let response = app.get_logout(&challenge).await;

        let case = format!("Bob's browser: {bobs_browser}");
        assert_eq!(response.status(), StatusCode::OK, "{case}");
        let page = response.text().await.unwrap();
        assert!(page.contains("Nothing was signed out"), "{case}: {page}");
        assert!(!page.contains(ADA_EMAIL), "{case}: Ada's account is named");
        assert!(!page.contains("name=\"action\""), "{case}: no form");
        assert!(
            page.contains("href=\"https://rp.example.com/home\""),
            "{case}: a way on"
        );
        assert!(hydra_puts(&app).is_empty(), "{case}: Hydra was asked");
    }
}

#[tokio::test]
async fn a_sign_out_answered_after_the_browser_changed_accounts_ends_nothing() {
    let app = TestApp::spawn().await;
    sign_in_ada(&app, Duration::ZERO);
    let challenge = logout(&app, true, Some(rp(json!(false))));
    let token = confirm_token(&app, &challenge).await;
    sign_in_bob(&app);

    let response = answer(&app, &challenge, &token, "accept").await;

    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Nothing was signed out"));
    assert!(hydra_puts(&app).is_empty());
}

#[tokio::test]
async fn the_logout_page_names_the_account_only_to_a_browser_signed_in_as_it() {
    let app = TestApp::spawn().await;
    app.kratos.add_identity(ada());
    sign_in_bob(&app);
    // OP-initiated: the session is this browser's own at Hydra, so the question stays.
    let challenge = logout(&app, false, Some(rp(json!(false))));

    let page = app.get_logout(&challenge).await.text().await.unwrap();

    assert!(page.contains("Do you want to sign out?"), "{page}");
    assert!(!page.contains(ADA_EMAIL), "{page}");
    assert!(!page.contains("Signed in as"), "{page}");
}

#[tokio::test]
async fn kratos_failing_when_an_rp_initiated_logout_needs_to_know_who_is_there_is_an_error_page() {
    let app = TestApp::spawn().await;
    sign_in_ada(&app, Duration::ZERO);
    app.kratos
        .set_fault_on("GET", "/sessions/whoami", Fault::Status(500));
    let challenge = logout(&app, true, Some(rp(json!(true))));
    assert_error_page(
        app.get_logout(&challenge).await,
        StatusCode::BAD_GATEWAY,
        "The sign-in service is unavailable",
    )
    .await;
    assert!(hydra_puts(&app).is_empty());
}
