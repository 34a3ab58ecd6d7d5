//! `GET /`: who is signed in, with links to settings, devices, connected apps and a Kratos
//! sign-out, and a reminder of an unverified address; or links to sign in and create an account.

use reqwest::StatusCode;
use time::Duration;

use crate::support::fake_hydra::Fault;
use crate::support::fake_kratos::SESSION_COOKIE;
use crate::support::{assert_error_page, sign_in_ada_as, TestApp, ADA_TOKEN};

/// `url` as it appears in an HTML attribute.
fn in_attribute(url: &str) -> String {
    url.replace('&', "&#38;")
}

#[tokio::test]
async fn signed_in_the_page_names_the_account_and_links_to_apps_and_a_kratos_sign_out() {
    let app = TestApp::spawn().await;
    sign_in_ada_as(&app, ADA_TOKEN, Duration::ZERO);

    let response = app.get("/").await;

    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(page.contains("Signed in as ada@example.com"));
    for link in ["/settings", "/sessions", "/connected-apps"] {
        assert!(page.contains(&format!("href=\"{link}\"")), "{link}\n{page}");
    }
    assert!(
        !page.contains("is not verified yet"),
        "Ada's address is verified: {page}"
    );
    let sign_out = app.kratos.logout_url(ADA_TOKEN, Some(&app.url("/")));
    assert!(
        page.contains(&format!("href=\"{}\"", in_attribute(&sign_out))),
        "{sign_out}\n{page}"
    );
    assert_eq!(
        app.kratos.logout_cookies(),
        [Some(format!("{SESSION_COOKIE}={ADA_TOKEN}"))]
    );
    assert!(app.hydra_calls().is_empty());
}

#[tokio::test]
async fn signed_out_the_page_links_to_heras_sign_in_and_sign_up() {
    let app = TestApp::spawn().await;
    let page = app.get("/").await.text().await.unwrap();
    assert!(page.contains("You are not signed in."));
    assert!(page.contains("href=\"/login\""), "{page}");
    assert!(page.contains("href=\"/registration\""), "{page}");
    assert!(!page.contains("Connected apps"));
    assert!(
        !page.contains("/self-service/"),
        "no Kratos page is linked: {page}"
    );
    assert!(app.kratos.logout_cookies().is_empty());
}

#[tokio::test]
async fn a_session_that_needs_a_second_factor_gets_a_link_to_provide_it() {
    let app = TestApp::spawn().await;
    sign_in_ada_as(&app, ADA_TOKEN, Duration::ZERO);
    app.kratos.require_aal2(ADA_TOKEN);
    let page = app.get("/").await.text().await.unwrap();
    assert!(page.contains("second factor"));
    assert!(page.contains("href=\"/login?aal=aal2\""), "{page}");
    assert!(!page.contains("Create an account"), "{page}");
}

#[tokio::test]
async fn an_unverified_address_gets_a_link_to_verify_it() {
    let app = TestApp::spawn().await;
    let mut identity = crate::support::ada();
    identity["verifiable_addresses"][0]["verified"] = serde_json::json!(false);
    identity["verifiable_addresses"][0]["status"] = serde_json::json!("sent");
    let now = time::OffsetDateTime::now_utc();
    app.kratos.add_session(
        ADA_TOKEN,
        crate::support::fake_kratos::session(
            crate::support::ADA_SESSION,
            identity,
            now,
            now + Duration::hours(1),
            "aal1",
            &["password"],
        ),
    );
    app.sign_in_browser(ADA_TOKEN);
    let page = app.get("/").await.text().await.unwrap();
    assert!(
        page.contains("Your email address ada@example.com is not verified yet."),
        "{page}"
    );
    assert!(page.contains("href=\"/verification\""), "{page}");
}

#[tokio::test]
async fn kratos_failing_gives_an_error_page() {
    let app = TestApp::spawn().await;
    app.kratos.set_fault(Some(Fault::Status(500)));
    assert_error_page(
        app.get("/").await,
        StatusCode::BAD_GATEWAY,
        "The sign-in service is unavailable",
    )
    .await;
}
