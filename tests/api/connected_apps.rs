//! `GET /connected-apps` and `POST /connected-apps/revoke`: only the signed-in identity's own
//! grants are listed or revoked, whatever the request says.

use reqwest::StatusCode;
use serde_json::json;
use time::Duration;

use crate::support::fake_hydra::{client, with, ConsentSessionSpec, Fault};

use crate::support::{
    assert_error_page, assert_redirect_to, encode, location_of, revoke_token, sign_in_ada_as,
    TestApp, ADA, ADA_TOKEN, BOB,
};

fn grant(app: &TestApp, subject: &str, client_id: &str, scopes: &[&str], at: &str) {
    app.hydra.add_consent_session(ConsentSessionSpec {
        subject: subject.into(),
        client: client(client_id),
        grant_scope: scopes.iter().map(|s| (*s).to_owned()).collect(),
        handled_at: at.into(),
        ..ConsentSessionSpec::default()
    });
}

/// The `subject` of every consent-session listing Hydra received.
fn listed_subjects(app: &TestApp) -> Vec<String> {
    app.hydra
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == "/admin/oauth2/auth/sessions/consent")
        .map(|r| r.query_param("subject").unwrap_or_default().to_owned())
        .collect()
}

fn deletes(app: &TestApp) -> Vec<String> {
    app.hydra_calls()
        .into_iter()
        .filter(|call| call.starts_with("DELETE"))
        .collect()
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_kratos_and_back_here() {
    let app = TestApp::spawn().await;
    let response = app.get("/connected-apps").await;
    assert_redirect_to(
        &response,
        &format!(
            "http://kratos.browser.test:4433/self-service/login/browser?return_to={}",
            encode(&app.url("/connected-apps"))
        ),
    );
    assert!(app.hydra_calls().is_empty());
}

#[tokio::test]
async fn a_session_that_needs_a_second_factor_is_sent_to_kratos_for_it() {
    let app = TestApp::spawn().await;
    sign_in_ada_as(&app, ADA_TOKEN, Duration::ZERO);
    app.kratos.require_aal2(ADA_TOKEN);
    let response = app.get("/connected-apps").await;
    assert!(location_of(&response).contains("/self-service/login/browser?aal=aal2&return_to="));
    assert!(app.hydra_calls().is_empty());
}

#[tokio::test]
async fn the_list_shows_the_sessions_own_apps_with_what_they_can_do_and_when() {
    let app = TestApp::spawn().await;
    sign_in_ada_as(&app, ADA_TOKEN, Duration::ZERO);
    grant(
        &app,
        ADA,
        "photos",
        &["openid", "email"],
        "2026-01-02T03:04:05Z",
    );
    grant(
        &app,
        ADA,
        "photos",
        &["openid", "profile"],
        "2026-03-09T10:00:00Z",
    );
    grant(
        &app,
        ADA,
        "calendar",
        &["openid", "calendar.read"],
        "2025-12-24T00:00:00Z",
    );
    grant(
        &app,
        BOB,
        "bobs-secret-app",
        &["openid"],
        "2026-01-01T00:00:00Z",
    );

    let response = app.get("/connected-apps").await;

    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(page.contains("Signed in as ada@example.com"));
    // One entry per app, sorted by name, with the union of scopes and the latest date.
    let calendar = page.find("calendar app").expect("calendar is listed");
    let photos = page.find("photos app").expect("photos is listed");
    assert!(calendar < photos, "sorted by name");
    assert_eq!(page.matches("name=\"client_id\"").count(), 2, "{page}");
    assert!(page.contains("See your email address"));
    assert!(page.contains("See your basic profile"));
    assert!(page.contains("Allowed on 9 March 2026"));
    assert!(
        !page.contains("Allowed on 2 January 2026"),
        "only the latest grant"
    );
    assert!(
        page.contains("calendar.read"),
        "an unknown scope is shown by name"
    );
    assert!(page.contains("A permission Hera cannot describe"));
    assert!(!page.contains("bobs-secret-app"));
    assert_eq!(listed_subjects(&app), [ADA]);
}

#[tokio::test]
async fn a_subject_in_the_query_is_ignored() {
    let app = TestApp::spawn().await;
    sign_in_ada_as(&app, ADA_TOKEN, Duration::ZERO);
    grant(
        &app,
        BOB,
        "bobs-secret-app",
        &["openid"],
        "2026-01-01T00:00:00Z",
    );
    let page = app
        .get(&format!("/connected-apps?subject={BOB}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("No applications have access to your account."));
    assert!(!page.contains("bobs-secret-app"));
    assert_eq!(listed_subjects(&app), [ADA]);
}

#[tokio::test]
async fn more_than_one_page_of_grants_is_listed() {
    let app = TestApp::spawn().await;
    sign_in_ada_as(&app, ADA_TOKEN, Duration::ZERO);
    for n in 0..501 {
        grant(
            &app,
            ADA,
            &format!("app-{n:03}"),
            &["openid"],
            "2026-01-01T00:00:00Z",
        );
    }
    let page = app.get("/connected-apps").await.text().await.unwrap();
    assert_eq!(page.matches("name=\"client_id\"").count(), 501);
    assert!(page.contains("app-500 app"));
    let lists: Vec<_> = app
        .hydra
        .requests()
        .into_iter()
        .filter(|r| r.path == "/admin/oauth2/auth/sessions/consent")
        .collect();
    assert_eq!(lists.len(), 2);
    assert_eq!(lists[0].query_param("page_token"), None);
    assert!(lists[1].query_param("page_token").is_some());
    assert_eq!(lists[1].query_param("subject"), Some(ADA));
}

#[tokio::test]
async fn removing_access_revokes_that_app_for_this_identity_only_and_confirms_it() {
    let app = TestApp::spawn().await;
    sign_in_ada_as(&app, ADA_TOKEN, Duration::ZERO);
    grant(
        &app,
        ADA,
        "photos",
        &["openid", "email"],
        "2026-01-02T03:04:05Z",
    );
    grant(&app, ADA, "photos", &["profile"], "2026-01-03T03:04:05Z");
    grant(&app, ADA, "calendar", &["openid"], "2026-01-02T03:04:05Z");
    grant(&app, BOB, "photos", &["openid"], "2026-01-02T03:04:05Z");
    let page = app.get("/connected-apps").await.text().await.unwrap();
    let token = revoke_token(&page, "photos");

    let response = app
        .post_form(
            "/connected-apps/revoke",
            &[("client_id", "photos"), ("csrf_token", &token)],
        )
        .await;

    assert_redirect_to(&response, &app.url("/connected-apps?revoked=photos"));
    assert_eq!(
        app.hydra.revoked_consents(),
        [(ADA.to_owned(), "photos".to_owned())]
    );
    assert_eq!(app.hydra.consent_session_count(ADA, "photos"), 0);
    assert_eq!(app.hydra.consent_session_count(ADA, "calendar"), 1);
    assert_eq!(app.hydra.consent_session_count(BOB, "photos"), 1);

    let page = app
        .get("/connected-apps?revoked=photos")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("photos app no longer has access to your account."),
        "{page}"
    );
    assert!(page.contains("role=\"status\""));
    assert!(
        !page.contains("value=\"photos\""),
        "photos is no longer listed"
    );
}

#[tokio::test]
async fn a_crafted_form_never_revokes_another_identitys_grant() {
    let app = TestApp::spawn().await;
    sign_in_ada_as(&app, ADA_TOKEN, Duration::ZERO);
    grant(&app, ADA, "shared", &["openid"], "2026-01-02T03:04:05Z");
    grant(&app, BOB, "shared", &["openid"], "2026-01-02T03:04:05Z");
    grant(
        &app,
        BOB,
        "bobs-secret-app",
        &["openid"],
        "2026-01-02T03:04:05Z",
    );
    let page = app.get("/connected-apps").await.text().await.unwrap();
    let token = revoke_token(&page, "shared");

    // A client id Ada never saw a form for: the CSRF token cannot match, Hydra hears nothing.
    let calls_before = app.hydra_calls();
    for form in [
        vec![
            ("client_id", "bobs-secret-app"),
            ("csrf_token", token.as_str()),
        ],
        vec![
            ("client_id", "bobs-secret-app"),
            ("csrf_token", token.as_str()),
            ("subject", BOB),
        ],
    ] {
        let response = app.post_form("/connected-apps/revoke", &form).await;
        assert_error_page(response, StatusCode::FORBIDDEN, "This form has expired").await;
    }
    assert_eq!(app.hydra_calls(), calls_before);

    // A valid form for a grant Ada no longer has (removed in another tab meanwhile): Bob's
    // grant for the same client stays, and Hera sends no DELETE.
    reqwest::Client::new()
        .delete(format!(
            "{}/admin/oauth2/auth/sessions/consent?subject={ADA}&client=shared",
            app.hydra.url
        ))
        .send()
        .await
        .unwrap();
    let deletes_before = deletes(&app);
    let response = app
        .post_form(
            "/connected-apps/revoke",
            &[
                ("client_id", "shared"),
                ("csrf_token", &token),
                ("subject", BOB),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let page = response.text().await.unwrap();
    assert!(page.contains("That application does not have access to your account."));
    assert!(page.contains("Nothing was changed"));
    assert_eq!(deletes(&app), deletes_before, "Hera sent no DELETE");
    assert_eq!(app.hydra.consent_session_count(BOB, "shared"), 1);
    assert_eq!(app.hydra.consent_session_count(BOB, "bobs-secret-app"), 1);
    assert!(listed_subjects(&app).iter().all(|s| s == ADA));
}

#[tokio::test]
async fn csrf_failures_send_nothing_to_hydra() {
    let app = TestApp::spawn().await;
    sign_in_ada_as(&app, ADA_TOKEN, Duration::ZERO);
    grant(&app, ADA, "photos", &["openid"], "2026-01-02T03:04:05Z");
    grant(&app, ADA, "calendar", &["openid"], "2026-01-02T03:04:05Z");
    let page = app.get("/connected-apps").await.text().await.unwrap();
    let photos_token = revoke_token(&page, "photos");
    let calls_before = app.hydra_calls();

    for (client_id, token) in [
        ("photos", ""),
        ("photos", "AAAA"),
        ("calendar", photos_token.as_str()),
    ] {
        let response = app
            .post_form(
                "/connected-apps/revoke",
                &[("client_id", client_id), ("csrf_token", token)],
            )
            .await;
        assert_error_page(response, StatusCode::FORBIDDEN, "This form has expired").await;
    }
    let cross_site = app
        .browser
        .post(app.url("/connected-apps/revoke"))
        .header("sec-fetch-site", "cross-site")
        .form(&[
            ("client_id", "photos"),
            ("csrf_token", photos_token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    let no_client = app
        .post_form("/connected-apps/revoke", &[("csrf_token", &photos_token)])
        .await;
    assert_eq!(no_client.status(), StatusCode::BAD_REQUEST);

    assert_eq!(app.hydra_calls(), calls_before);
    assert!(app.hydra.revoked_consents().is_empty());
}

#[tokio::test]
async fn a_signed_out_revoke_goes_to_kratos_and_revokes_nothing() {
    let app = TestApp::spawn().await;
    sign_in_ada_as(&app, ADA_TOKEN, Duration::ZERO);
    grant(&app, ADA, "photos", &["openid"], "2026-01-02T03:04:05Z");
    let page = app.get("/connected-apps").await.text().await.unwrap();
    let token = revoke_token(&page, "photos");
    let url = url::Url::parse(&app.address).unwrap();
    app.jar
        .add_cookie_str("ory_kratos_session=; Path=/; Max-Age=0", &url);

    let response = app
        .post_form(
            "/connected-apps/revoke",
            &[("client_id", "photos"), ("csrf_token", &token)],
        )
        .await;

    assert!(location_of(&response)
        .starts_with("http://kratos.browser.test:4433/self-service/login/browser?return_to="));
    assert!(deletes(&app).is_empty());
}

#[tokio::test]
async fn a_crafted_confirmation_claims_nothing() {
    let app = TestApp::spawn().await;
    sign_in_ada_as(&app, ADA_TOKEN, Duration::ZERO);
    grant(&app, ADA, "photos", &["openid"], "2026-01-02T03:04:05Z");
    app.hydra
        .add_client(with(client("gone-app"), json!({"client_name": "Gone App"})));
    for (query, shown) in [
        ("revoked=photos", None),
        (
            "revoked=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
            Some("The application no longer has access"),
        ),
        ("revoked=gone-app", Some("Gone App no longer has access")),
    ] {
        let page = app
            .get(&format!("/connected-apps?{query}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(!page.contains("alert(1)"), "{query}");
        match shown {
            None => assert!(!page.contains("no longer has access"), "{query}: {page}"),
            Some(text) => assert!(page.contains(text), "{query}: {page}"),
        }
    }
}

#[tokio::test]
async fn hydra_failing_gives_an_error_page() {
    let app = TestApp::spawn().await;
    sign_in_ada_as(&app, ADA_TOKEN, Duration::ZERO);
    app.hydra.set_fault(Some(Fault::Status(500)));
    assert_error_page(
        app.get("/connected-apps").await,
        StatusCode::BAD_GATEWAY,
        "The sign-in service is unavailable",
    )
    .await;
}
