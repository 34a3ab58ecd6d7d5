//! `GET /`: who is signed in, with links to connected apps and a Kratos sign-out; or a sign-in
//! link.

use reqwest::StatusCode;
use time::{Duration, OffsetDateTime};

use crate::support::fake_hydra::Fault;
use crate::support::fake_kratos::{identity, session, SESSION_COOKIE};
use crate::support::{assert_error_page, encode, TestApp};

const ADA: &str = "a0a0a0a0-0000-4000-8000-00000000ada0";

fn sign_in_as_ada(app: &TestApp) {
    let now = OffsetDateTime::now_utc();
    app.kratos.add_session(
        "kratos-token-ada",
        session(
            "5e550000-0000-4000-8000-00000000ada0",
            identity(ADA, "ada@example.com", "Ada", "Lovelace"),
            now,
            now + Duration::hours(1),
            "aal1",
            &["password"],
        ),
    );
    app.sign_in_browser("kratos-token-ada");
}

/// `url` as it appears in an HTML attribute.
fn in_attribute(url: &str) -> String {
    url.replace('&', "&#38;")
}

#[tokio::test]
async fn signed_in_the_page_names_the_account_and_links_to_apps_and_a_kratos_sign_out() {
    let app = TestApp::spawn().await;
    sign_in_as_ada(&app);

    let response = app.get("/").await;

    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(page.contains("Signed in as ada@example.com"));
    assert!(page.contains("href=\"/connected-apps\""));
    let sign_out = app
        .kratos
        .logout_url("kratos-token-ada", Some(&app.url("/")));
    assert!(
        page.contains(&format!("href=\"{}\"", in_attribute(&sign_out))),
        "{sign_out}\n{page}"
    );
    assert_eq!(
        app.kratos.logout_cookies(),
        [Some(format!("{SESSION_COOKIE}=kratos-token-ada"))]
    );
    assert!(app.hydra_calls().is_empty());
}

#[tokio::test]
async fn signed_out_the_page_links_to_kratos_sign_in_returning_home() {
    let app = TestApp::spawn().await;
    let page = app.get("/").await.text().await.unwrap();
    assert!(page.contains("You are not signed in."));
    let sign_in = format!(
        "http://kratos.browser.test:4433/self-service/login/browser?return_to={}",
        encode(&app.url("/"))
    );
    assert!(page.contains(&format!("href=\"{sign_in}\"")), "{page}");
    assert!(!page.contains("Connected apps"));
    assert!(app.kratos.logout_cookies().is_empty());
}

#[tokio::test]
async fn a_session_that_needs_a_second_factor_gets_a_link_to_provide_it() {
    let app = TestApp::spawn().await;
    sign_in_as_ada(&app);
    app.kratos.require_aal2("kratos-token-ada");
    let page = app.get("/").await.text().await.unwrap();
    assert!(page.contains("second factor"));
    assert!(page.contains("/self-service/login/browser?aal=aal2&#38;return_to="));
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
