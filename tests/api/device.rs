//! `GET/POST /device/verify` and `GET /device/success`: the user-code form, how codes are read,
//! the attempt limit, and the success page.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::fake_hydra::{client, with, Fault};
use crate::support::{assert_error_page, hidden_field, location_of, TestApp};

/// A code as Hydra v26.2 issues it by default: mixed case, compared exactly.
const CODE: &str = "r7wWvcHs";

/// A device challenge with `CODE` issued to `tv-app`.
fn device(app: &TestApp) -> String {
    app.hydra.add_user_code(CODE, "tv-app");
    app.hydra.add_device_challenge()
}

async fn form_token(app: &TestApp, challenge: &str) -> String {
    let response = app.get_device_verify(challenge).await;
    assert_eq!(response.status(), StatusCode::OK);
    hidden_field(&response.text().await.unwrap(), "csrf_token")
}

async fn submit(app: &TestApp, challenge: &str, token: &str, code: &str) -> reqwest::Response {
    app.post_form(
        "/device/verify",
        &[
            ("device_challenge", challenge),
            ("csrf_token", token),
            ("user_code", code),
        ],
    )
    .await
}

/// Opens the form for a new challenge and submits `code` once.
async fn try_code(app: &TestApp, code: &str) -> reqwest::Response {
    let challenge = app.hydra.add_device_challenge();
    let token = form_token(app, &challenge).await;
    submit(app, &challenge, &token, code).await
}

fn device_accepts(app: &TestApp) -> usize {
    app.hydra_calls()
        .iter()
        .filter(|call| call.as_str() == "PUT /admin/oauth2/auth/requests/device/accept")
        .count()
}

#[tokio::test]
async fn the_form_warns_about_codes_from_others_and_prefills_the_devices_code() {
    let app = TestApp::spawn().await;
    let challenge = device(&app);
    let response = app
        .get(&format!(
            "/device/verify?device_challenge={challenge}&user_code=4CTVyfaJ"
        ))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(page.contains(
        "Only continue if you started this sign-in yourself, on a device in front of you."
    ));
    assert_eq!(hidden_field(&page, "device_challenge"), challenge);
    assert!(
        page.contains("name=\"user_code\" value=\"4CTVyfaJ\""),
        "the device's code is prefilled exactly as it came: {page}"
    );
    assert!(
        page.contains("<label for=\"user-code\">"),
        "the field is labelled"
    );
    assert!(
        app.hydra_calls().is_empty(),
        "Hydra has no device request to read"
    );
}

#[tokio::test]
async fn a_prefill_that_is_not_a_code_is_not_echoed() {
    let app = TestApp::spawn().await;
    let challenge = device(&app);
    let page = app
        .get(&format!(
            "/device/verify?device_challenge={challenge}&user_code=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E"
        ))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("name=\"user_code\" value=\"\""), "{page}");
    assert!(!page.contains("alert(1)"));
}

#[tokio::test]
async fn a_code_typed_exactly_as_shown_is_accepted_in_its_case() {
    let app = TestApp::spawn().await;
    let challenge = device(&app);
    let token = form_token(&app, &challenge).await;

    let response = submit(&app, &challenge, &token, CODE).await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.hydra.accepted_user_codes(),
        [json!({"user_code": CODE})]
    );
}

#[tokio::test]
async fn spaces_and_dashes_around_and_inside_a_code_are_dropped_but_case_is_kept() {
    let app = TestApp::spawn().await;
    let challenge = device(&app);
    let token = form_token(&app, &challenge).await;

    let response = submit(&app, &challenge, &token, "  r7wW-vc Hs ").await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = location_of(&response);
    assert!(
        location.starts_with(
            "http://127.0.0.1:4444/oauth2/device/verify?client_id=tv-app&device_verifier="
        ),
        "{location}"
    );
    assert_eq!(
        app.hydra.accepted_user_codes(),
        [json!({"user_code": CODE})]
    );
}

#[tokio::test]
async fn a_code_in_the_wrong_case_is_refused_by_hydra_as_a_wrong_code() {
    let app = TestApp::spawn().await;
    let challenge = device(&app);
    let token = form_token(&app, &challenge).await;

    let response = submit(&app, &challenge, &token, "R7WWVCHS").await;

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("That code is wrong or has expired."),
        "{page}"
    );
    assert!(app.hydra.accepted_user_codes().is_empty());
    assert_eq!(device_accepts(&app), 1, "Hydra itself compared the code");
}

#[tokio::test]
async fn a_wrong_or_expired_code_shows_the_form_again_with_a_message() {
    let app = TestApp::spawn().await;
    let challenge = device(&app);
    app.hydra.add_user_code("xWvTsRqP", "tv-app");
    app.hydra.expire_user_code("xWvTsRqP");
    let mut token = form_token(&app, &challenge).await;

    for code in ["WRONGCDE", "xWvTsRqP"] {
        let response = submit(&app, &challenge, &token, code).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{code}");
        let page = response.text().await.unwrap();
        assert!(
            page.contains("That code is wrong or has expired."),
            "{page}"
        );
        assert!(page.contains("role=\"alert\""));
        assert!(
            page.contains(&format!("value=\"{code}\"")),
            "what was typed stays"
        );
        assert!(page.contains("aria-invalid=\"true\""));
        // The re-rendered form works: its new token is the next answer's.
        assert_eq!(hidden_field(&page, "device_challenge"), challenge);
        token = hidden_field(&page, "csrf_token");
    }
    let response = submit(&app, &challenge, &token, CODE).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(device_accepts(&app), 3);
}

#[tokio::test]
async fn empty_and_impossible_codes_are_refused_without_asking_hydra() {
    let app = TestApp::spawn().await;
    let challenge = device(&app);
    let token = form_token(&app, &challenge).await;
    for (code, says) in [
        ("", "Enter the code shown on your device."),
        (" - ", "Enter the code shown on your device."),
        ("BCDF_GHJK", "That is not a code from a device."),
        ("<b>x</b>", "That is not a code from a device."),
    ] {
        let response = submit(&app, &challenge, &token, code).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{code:?}");
        let page = response.text().await.unwrap();
        assert!(page.contains(says), "{code:?}: {page}");
        assert!(!page.contains("<b>x</b>"), "typed text is escaped");
    }
    assert_eq!(device_accepts(&app), 0);
}

#[tokio::test]
async fn the_sixth_code_in_a_minute_for_one_device_gets_a_429_without_asking_hydra() {
    let app = TestApp::spawn().await;
    let challenge = device(&app);
    let token = form_token(&app, &challenge).await;
    for attempt in 1..=5 {
        let response = submit(&app, &challenge, &token, "WRONGCDE").await;
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "attempt {attempt}"
        );
    }

    let response = submit(&app, &challenge, &token, CODE).await;

    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_error_page(response, StatusCode::TOO_MANY_REQUESTS, "Too many attempts").await;
    assert_eq!(
        device_accepts(&app),
        5,
        "the sixth code never reached Hydra"
    );
    assert!(app.hydra.accepted_user_codes().is_empty());
}

#[tokio::test]
async fn the_limit_also_holds_per_address_across_device_challenges() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        assert_eq!(
            try_code(&app, "WRONGCDE").await.status(),
            StatusCode::BAD_REQUEST
        );
    }
    assert_eq!(
        try_code(&app, "WRONGCDE").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(device_accepts(&app), 5);
}

#[tokio::test]
async fn x_forwarded_for_is_ignored_unless_proxy_hops_are_trusted() {
    let app = TestApp::spawn().await;
    for n in 0..5 {
        assert_eq!(
            wrong_code_from(&app, format!("203.0.113.{n}")).await,
            StatusCode::BAD_REQUEST
        );
    }
    assert_eq!(
        try_code(&app, "WRONGCDE").await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a forged header does not buy more attempts"
    );
}

/// A wrong code for a new challenge, sent with this `X-Forwarded-For`.
async fn wrong_code_from(app: &TestApp, forwarded_for: String) -> StatusCode {
    let challenge = app.hydra.add_device_challenge();
    let token = form_token(app, &challenge).await;
    app.browser
        .post(app.url("/device/verify"))
        .header("x-forwarded-for", forwarded_for)
        .form(&[
            ("device_challenge", challenge.as_str()),
            ("csrf_token", token.as_str()),
            ("user_code", "WRONGCDE"),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_address_has_its_own_limit() {
    let app = TestApp::spawn_with(|s| s.trusted_proxy_hops = 1).await;
    let from = |address: &str| wrong_code_from(&app, format!("198.51.100.7, {address}"));
    for _ in 0..5 {
        assert_eq!(from("203.0.113.1").await, StatusCode::BAD_REQUEST);
    }
    assert_eq!(from("203.0.113.1").await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(from("203.0.113.2").await, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_ipv6_client_is_counted_by_its_64_network_whatever_its_interface_id() {
    let app = TestApp::spawn_with(|s| s.trusted_proxy_hops = 1).await;
    let from = |address: String| wrong_code_from(&app, address);
    // Five different addresses, one /64: one allowance.
    for host in 1..=5 {
        assert_eq!(
            from(format!("2001:db8:1:2::{host:x}")).await,
            StatusCode::BAD_REQUEST
        );
    }
    assert_eq!(
        from("2001:db8:1:2:ffff:ffff:ffff:ffff".into()).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        from("2001:db8:1:3::1".into()).await,
        StatusCode::BAD_REQUEST,
        "the next /64 is someone else"
    );
    assert_eq!(device_accepts(&app), 6);
}

#[tokio::test]
async fn csrf_failures_send_nothing_to_hydra() {
    let app = TestApp::spawn().await;
    let challenge = device(&app);
    let other = app.hydra.add_device_challenge();
    let other_token = form_token(&app, &other).await;
    let token = form_token(&app, &challenge).await;
    // The logout confirmation's token for a challenge does not pass the device form for the
    // same challenge string: tokens are bound to their form's purpose.
    let logout = app
        .hydra
        .add_logout(crate::support::fake_hydra::LogoutSpec {
            rp_initiated: false,
            ..Default::default()
        });
    let page = app.get_logout(&logout).await.text().await.unwrap();
    let logout_token = hidden_field(&page, "csrf_token");
    let calls_before = app.hydra_calls();
    for (for_challenge, bad) in [
        (&challenge, ""),
        (&challenge, "AAAA"),
        (&challenge, other_token.as_str()),
        (&logout, logout_token.as_str()),
    ] {
        let response = submit(&app, for_challenge, bad, CODE).await;
        assert_error_page(response, StatusCode::FORBIDDEN, "This form has expired").await;
    }
    let cross_site = app
        .browser
        .post(app.url("/device/verify"))
        .header("sec-fetch-site", "cross-site")
        .form(&[
            ("device_challenge", challenge.as_str()),
            ("csrf_token", token.as_str()),
            ("user_code", CODE),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.hydra_calls(), calls_before);
    assert!(app.hydra.accepted_user_codes().is_empty());
}

#[tokio::test]
async fn an_unknown_or_expired_device_challenge_says_to_start_again_on_the_device() {
    let app = TestApp::spawn().await;
    app.hydra.add_user_code(CODE, "tv-app");
    let token = form_token(&app, "no-such-challenge").await;
    assert_error_page(
        submit(&app, "no-such-challenge", &token, CODE).await,
        StatusCode::NOT_FOUND,
        "Start again on your device",
    )
    .await;
    let challenge = app.hydra.add_device_challenge();
    let token = form_token(&app, &challenge).await;
    app.hydra.expire(&challenge);
    assert_error_page(
        submit(&app, &challenge, &token, CODE).await,
        StatusCode::GONE,
        "This device sign-in is no longer valid",
    )
    .await;
    assert_error_page(
        app.get("/device/verify").await,
        StatusCode::BAD_REQUEST,
        "This link is incomplete",
    )
    .await;
}

#[tokio::test]
async fn hydra_failing_on_a_code_gives_an_error_page_not_a_wrong_code_message() {
    let app = TestApp::spawn().await;
    let challenge = device(&app);
    let token = form_token(&app, &challenge).await;
    app.hydra.set_fault(Some(Fault::Status(500)));
    assert_error_page(
        submit(&app, &challenge, &token, CODE).await,
        StatusCode::BAD_GATEWAY,
        "The sign-in service is unavailable",
    )
    .await;
}

#[tokio::test]
async fn the_success_page_names_the_client_from_hydra() {
    let app = TestApp::spawn().await;
    app.hydra.add_client(with(
        client("tv-app"),
        json!({"client_name": "Living-room TV", "logo_uri": "https://tv.example.com/logo.png"}),
    ));
    let response = app.get("/device/success?client_id=tv-app").await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(page.contains("Living-room TV"), "{page}");
    assert!(page.contains("is now signed in on your device"));
    assert!(page.contains("You can go back to your device"));
    assert!(page.contains("src=\"https://tv.example.com/logo.png\""));
    assert_eq!(app.hydra_calls(), ["GET /admin/clients/tv-app"]);
}

#[tokio::test]
async fn the_success_page_never_echoes_an_unknown_client_id() {
    let app = TestApp::spawn().await;
    for query in ["client_id=%3Cb%3EEvil%20Corp%3C%2Fb%3E", "client_id=", ""] {
        let response = app.get(&format!("/device/success?{query}")).await;
        assert_eq!(response.status(), StatusCode::OK, "{query}");
        let page = response.text().await.unwrap();
        assert!(page.contains("Your device is now signed in."), "{query}");
        assert!(!page.contains("Evil Corp"), "{query}");
    }
    app.hydra.set_fault(Some(Fault::Status(503)));
    let response = app.get("/device/success?client_id=tv-app").await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "the device is signed in regardless"
    );
}
