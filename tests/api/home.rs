//! `GET /`: who is signed in, with links to connected apps and a Kratos sign-out; or a sign-in
//! link.

use reqwest::StatusCode;
use time::Duration;

use crate::support::fake_hydra::Fault;
use crate::support::fake_kratos::SESSION_COOKIE;
use crate::support::{assert_error_page, encode, sign_in_ada_as, TestApp, ADA_TOKEN};

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
    assert!(page.contains("href=\"/connected-apps\""));
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
    sign_in_ada_as(&app, ADA_TOKEN, Duration::ZERO);
    app.kratos.require_aal2(ADA_TOKEN);
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
