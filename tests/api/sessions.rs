//! `/sessions`: the signed-in person's devices (Kratos sessions), and signing out one of them or
//! all the others, each with a CSRF-protected form.

use reqwest::StatusCode;
use time::{Duration, OffsetDateTime};

use crate::support::fake_kratos::session;
use crate::support::{
    ada, assert_error_page, location_of, query, sign_in_ada, TestApp, ADA_SESSION, ADA_TOKEN,
};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const OTHER: &str = "5e550000-0000-4000-8000-0000000000f1";
const THIRD: &str = "5e550000-0000-4000-8000-0000000000f2";

/// Ada signed in in this browser and on two other devices.
async fn ada_on_three_devices() -> TestApp {
    let app = TestApp::spawn_for_flows().await;
    sign_in_ada(&app, Duration::minutes(5));
    let at = OffsetDateTime::parse(
        "2026-01-02T14:05:00Z",
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let until = OffsetDateTime::now_utc() + Duration::hours(1);
    let mut firefox = session(OTHER, ada(), at, until, "aal2", &["password", "totp"]);
    firefox["devices"][0]["user_agent"] = FIREFOX.into();
    firefox["devices"][0]["ip_address"] = "198.51.100.7:51000".into();
    firefox["devices"][0]["location"] = "Berlin, DE".into();
    app.kratos.add_session("firefox-token", firefox);
    app.kratos.add_session(
        "third-token",
        session(THIRD, ada(), at, until, "aal1", &["password"]),
    );
    app
}

fn end_form_token(html: &str, session_id: &str) -> String {
    let marker = format!("name=\"session_id\" value=\"{session_id}\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no form for {session_id} in:\n{html}"));
    crate::support::hidden_field(&html[start..], "csrf_token")
}

#[tokio::test]
async fn the_page_lists_this_device_and_the_others_with_their_browser_address_place_and_time() {
    let app = ada_on_three_devices().await;
    let page = app.navigate("/sessions").await;
    page.assert_at("/sessions");
    let text = page.text();
    assert!(text.contains("Your devices"), "{text}");
    assert!(text.contains("Signed in as ada@example.com"), "{text}");
    assert!(text.contains("This device"), "{text}");
    assert!(text.contains("Firefox on Linux"), "{text}");
    assert!(
        text.contains("IP address 198.51.100.7"),
        "the port is left out: {text}"
    );
    assert!(!text.contains("51000"), "{text}");
    assert!(text.contains("Place: Berlin, DE"), "{text}");
    assert!(
        text.contains("Signed in 2 January 2026, 14:05 UTC (with a second factor)"),
        "{text}"
    );
    // One form per other device, none for this one (that is the sign-out link).
    let forms = page.forms();
    let ends: Vec<String> = forms
        .iter()
        .filter(|f| f.action == "/sessions/end")
        .map(|f| f.input("session_id").unwrap().value.clone())
        .collect();
    assert_eq!(ends.len(), 2, "{ends:?}");
    assert!(ends.contains(&OTHER.to_owned()) && ends.contains(&THIRD.to_owned()));
    assert!(!ends.contains(&ADA_SESSION.to_owned()));
    assert!(forms.iter().any(|f| f.action == "/sessions/end-others"));
    assert!(
        page.html.contains("/self-service/logout?"),
        "a sign-out link for this device"
    );
}

#[tokio::test]
async fn signing_out_another_device_needs_its_own_token_and_ends_only_it() {
    let app = ada_on_three_devices().await;
    let page = app.navigate("/sessions").await;
    let token = end_form_token(&page.html, OTHER);
    let third_token = end_form_token(&page.html, THIRD);
    for form in [
        vec![("session_id", OTHER)],
        vec![("session_id", OTHER), ("csrf_token", "forged")],
        // Another button's token does not pass for this session.
        vec![("session_id", OTHER), ("csrf_token", &third_token)],
    ] {
        assert_error_page(
            app.post_form("/sessions/end", &form).await,
            StatusCode::FORBIDDEN,
            "This form has expired",
        )
        .await;
    }
    assert_eq!(app.kratos.session_ids().len(), 3);
    let response = app
        .post_form(
            "/sessions/end",
            &[("session_id", OTHER), ("csrf_token", &token)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = app.navigate(&location_of(&response)).await;
    assert!(
        page.text().contains("The device was signed out."),
        "{}",
        page.text()
    );
    let left = app.kratos.session_ids();
    assert!(!left.contains(&OTHER.to_owned()) && left.contains(&THIRD.to_owned()));
    // Cross-site posts are refused before anything reaches Kratos.
    let response = app
        .browser
        .post(app.url("/sessions/end"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("session_id", THIRD), ("csrf_token", third_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(app.kratos.session_ids().contains(&THIRD.to_owned()));
}

#[tokio::test]
async fn signing_out_every_other_device_keeps_this_one() {
    let app = ada_on_three_devices().await;
    let page = app.navigate("/sessions").await;
    let form = page
        .forms()
        .into_iter()
        .find(|f| f.action == "/sessions/end-others")
        .unwrap();
    let token = form.input("csrf_token").unwrap().value.clone();
    let response = app
        .post_form("/sessions/end-others", &[("csrf_token", &token)])
        .await;
    assert_eq!(query(&location_of(&response))["count"], "2");
    let page = app.navigate(&location_of(&response)).await;
    assert!(
        page.text().contains("2 other devices were signed out."),
        "{}",
        page.text()
    );
    assert!(page
        .text()
        .contains("You are not signed in on any other device."));
    assert_eq!(app.kratos.session_ids(), [ADA_SESSION]);
    assert_error_page(
        app.post_form("/sessions/end-others", &[("csrf_token", "forged")])
            .await,
        StatusCode::FORBIDDEN,
        "This form has expired",
    )
    .await;
}

#[tokio::test]
async fn a_confirmation_in_the_address_claims_nothing_that_did_not_happen() {
    let app = ada_on_three_devices().await;
    let page = app
        .navigate(&format!("/sessions?ended=one&session={OTHER}"))
        .await;
    assert!(!page.text().contains("was signed out"), "{}", page.text());
    let page = app.navigate("/sessions?ended=others&count=9").await;
    assert!(!page.text().contains("were signed out"), "{}", page.text());
}

#[tokio::test]
async fn the_browsers_own_session_cannot_be_ended_through_the_form_and_this_is_said() {
    let app = ada_on_three_devices().await;
    // A valid token for the browser's own session id; Kratos refuses with 400, Hera says so.
    let token = token_for_own_session(&app, ADA_SESSION).await;
    let response = app
        .post_form(
            "/sessions/end",
            &[("session_id", ADA_SESSION), ("csrf_token", &token)],
        )
        .await;
    let page = app.navigate(&location_of(&response)).await;
    assert!(
        page.text().contains("could not be signed out"),
        "{}",
        page.text()
    );
    assert!(app.kratos.session_ids().contains(&ADA_SESSION.to_owned()));
}

/// Hera renders no form for the browser's own session: the token comes from this browser's
/// page while it holds another of Ada's sessions, where `session_id` is listed as "other".
async fn token_for_own_session(app: &TestApp, session_id: &str) -> String {
    let now = OffsetDateTime::now_utc();
    app.kratos.add_session(
        "switch",
        session(
            "5e550000-0000-4000-8000-0000000000f3",
            ada(),
            now,
            now + Duration::hours(1),
            "aal1",
            &["password"],
        ),
    );
    app.sign_in_browser("switch");
    let page = app.navigate("/sessions").await;
    let token = end_form_token(&page.html, session_id);
    app.sign_in_browser(ADA_TOKEN);
    token
}

#[tokio::test]
async fn without_a_session_the_page_signs_in_first_and_comes_back() {
    let app = TestApp::spawn_for_flows().await;
    let response = app.get("/sessions").await;
    let location = location_of(&response);
    assert!(location.starts_with(&format!(
        "{}/self-service/login/browser?",
        app.kratos.public_url
    )));
    assert_eq!(query(&location)["return_to"], app.url("/sessions"));
    let response = app
        .post_form("/sessions/end-others", &[("csrf_token", "x")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_malformed_session_id_is_refused_without_asking_kratos() {
    let app = ada_on_three_devices().await;
    assert_error_page(
        app.post_form(
            "/sessions/end",
            &[("session_id", "../admin"), ("csrf_token", "x")],
        )
        .await,
        StatusCode::BAD_REQUEST,
        "Something is wrong with this request",
    )
    .await;
    assert!(app.kratos.requests().iter().all(|r| r.method != "DELETE"));
}
