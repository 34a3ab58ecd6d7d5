//! Size limits. Real challenges (several KB) pass; larger input gets 414, 431 or 413,
//! as a page with a request id, and nothing reaches Hydra.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{assert_error_page, TestApp};

#[tokio::test]
async fn a_challenge_of_several_kilobytes_is_admitted() {
    let app = TestApp::spawn().await;
    let challenge = "A".repeat(8 * 1024);
    // Unknown to Hydra, so a 404 page: it got through the limits and was asked about.
    assert_error_page(
        app.get_login(&challenge).await,
        StatusCode::NOT_FOUND,
        "no longer valid",
    )
    .await;
    assert_eq!(app.hydra_calls().len(), 1);
}

#[tokio::test]
async fn an_oversized_query_string_gets_414() {
    let app = TestApp::spawn().await;
    let response = app
        .get(&format!("/login?login_challenge={}", "A".repeat(40 * 1024)))
        .await;
    assert_error_page(response, StatusCode::URI_TOO_LONG, "too large").await;
    assert!(app.hydra_calls().is_empty());
}

#[tokio::test]
async fn oversized_headers_get_431() {
    let app = TestApp::spawn().await;
    let response = app
        .browser
        .get(format!("{}/login?login_challenge=abc", app.address))
        .header("X-Padding", "p".repeat(70 * 1024))
        .send()
        .await
        .unwrap();
    assert_error_page(
        response,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "too large",
    )
    .await;
    // Past actix's own 128 KiB head limit the connection answers 431 before Hera sees anything.
    let response = app
        .browser
        .get(format!("{}/login?login_challenge=abc", app.address))
        .header("X-Padding", "p".repeat(200 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    assert!(app.hydra_calls().is_empty());
}

#[tokio::test]
async fn an_oversized_form_gets_413_and_nothing_is_sent() {
    let app = TestApp::spawn().await;
    let padding = "x".repeat(100 * 1024);
    let response = app
        .post_consent(&[
            ("consent_challenge", "c"),
            ("padding", &padding),
            ("action", "accept"),
        ])
        .await;
    assert_error_page(response, StatusCode::PAYLOAD_TOO_LARGE, "too large").await;
    assert!(app.hydra_calls().is_empty());
}

#[tokio::test]
async fn an_oversized_json_body_gets_a_413_json_error() {
    let app =
        TestApp::spawn_with(|s| s.bridge.allowed_origins = vec!["https://app.example.com".into()])
            .await;
    let response = app
        .browser
        .post(format!("{}/session/bridge", app.address))
        .header("Origin", "https://app.example.com")
        .header("X-Requested-With", "XMLHttpRequest")
        .header("Content-Type", "application/json")
        .body(format!("{{\"client_id\": \"{}\"}}", "x".repeat(100 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "request_too_large");
    assert!(app.hydra_calls().is_empty());
}
