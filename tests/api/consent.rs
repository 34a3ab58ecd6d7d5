//! `GET /consent` and `POST /consent`: first-party auto-accept, the consent page, and the form.

use reqwest::StatusCode;
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use crate::support::fake_hydra::{client, with, ConsentSessionSpec, ConsentSpec, Fault};
use crate::support::fake_kratos::{identity, session};
use crate::support::{
    ada, assert_error_page, assert_redirect_to, closed_port_url, hidden_field, location_of,
    sign_in_ada, sign_in_bob, strings, TestApp, ADA, ADA_EMAIL, BOB,
};

fn third_party(app: &TestApp, scopes: &[&str]) -> String {
    app.kratos.add_identity(ada());
    app.hydra.add_consent(ConsentSpec {
        subject: ADA.into(),
        requested_scope: scopes.iter().map(|s| (*s).to_owned()).collect(),
        requested_audience: vec!["https://api.example.com".into()],
        ..ConsentSpec::default()
    })
}

#[tokio::test]
async fn a_missing_challenge_gets_a_400_page_and_hydra_is_never_called() {
    let app = TestApp::spawn().await;
    assert_error_page(
        app.get("/consent").await,
        StatusCode::BAD_REQUEST,
        "This link is incomplete",
    )
    .await;
    assert!(app.hydra_calls().is_empty());
}

#[tokio::test]
async fn unknown_and_expired_challenges_say_the_request_is_no_longer_valid() {
    let app = TestApp::spawn().await;
    assert_error_page(
        app.get_consent("unknown").await,
        StatusCode::NOT_FOUND,
        "This sign-in request is no longer valid",
    )
    .await;
    let challenge = third_party(&app, &["openid"]);
    app.hydra.expire(&challenge);
    assert_error_page(
        app.get_consent(&challenge).await,
        StatusCode::GONE,
        "This sign-in request is no longer valid",
    )
    .await;
}

#[tokio::test]
async fn an_already_handled_consent_redirects_to_where_hydra_says() {
    let app = TestApp::spawn().await;
    let challenge = third_party(&app, &["openid"]);
    app.hydra.mark_gone(
        &challenge,
        "http://127.0.0.1:4444/oauth2/auth?state=done1234",
    );
    assert_redirect_to(
        &app.get_consent(&challenge).await,
        "http://127.0.0.1:4444/oauth2/auth?state=done1234",
    );
    assert!(app.hydra.accepted_consents().is_empty());
}

#[tokio::test]
async fn first_party_clients_are_accepted_without_a_page_for_exactly_what_they_requested() {
    let cases: [(&str, bool, Value, Vec<String>); 4] = [
        ("hydra skip", true, client("remembered"), vec![]),
        (
            "skip_consent",
            false,
            with(client("own-web"), json!({"skip_consent": true})),
            vec![],
        ),
        (
            "metadata.first_party",
            false,
            with(
                client("own-spa"),
                json!({"metadata": {"first_party": true}}),
            ),
            vec![],
        ),
        (
            "TRUSTED_CLIENT_IDS",
            false,
            client("listed"),
            vec!["listed".to_owned()],
        ),
    ];
    for (case, skip, client, trusted) in cases {
        let app = TestApp::spawn_with(|s| s.trusted_client_ids = trusted).await;
        app.kratos.add_identity(ada());
        if skip {
            // The remembered consent Hydra skips with also granted the audience.
            app.hydra.add_consent_session(ConsentSessionSpec {
                subject: ADA.into(),
                client: client.clone(),
                grant_scope: vec!["openid".into(), "email".into(), "offline_access".into()],
                grant_audience: vec!["https://api.example.com".into()],
                ..ConsentSessionSpec::default()
            });
        }
        let challenge = app.hydra.add_consent(ConsentSpec {
            skip,
            subject: ADA.into(),
            client,
            requested_scope: vec!["openid".into(), "email".into(), "offline_access".into()],
            requested_audience: vec!["https://api.example.com".into()],
            ..ConsentSpec::default()
        });

        let response = app.get_consent(&challenge).await;

        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{case}");
        assert!(
            location_of(&response).contains("consent_verifier="),
            "{case}"
        );
        let accepted = app.hydra.accepted_consents();
        assert_eq!(accepted.len(), 1, "{case}");
        assert_eq!(
            strings(&accepted[0]["grant_scope"]),
            ["openid", "email", "offline_access"],
            "{case}"
        );
        assert_eq!(
            strings(&accepted[0]["grant_access_token_audience"]),
            ["https://api.example.com"],
            "{case}"
        );
        assert_eq!(
            accepted[0]["session"]["id_token"]["email"], ADA_EMAIL,
            "{case}"
        );
        assert!(
            accepted[0]["session"]["id_token"].get("name").is_none(),
            "{case}: profile not requested"
        );
        // Remembered, so prompt=none works later; a Hydra skip already has a remembered one.
        let remembered = !skip;
        assert_eq!(accepted[0]["remember"], remembered, "{case}");
        assert_eq!(
            accepted[0].get("remember_for"),
            remembered.then(|| json!(86_400)).as_ref(),
            "{case}"
        );
    }
}

#[tokio::test]
async fn automatic_consents_of_impersonable_public_clients_are_not_remembered() {
    let app =
        TestApp::spawn_with(|s| s.auto_consent_remember_for = std::time::Duration::from_secs(600))
            .await;
    app.kratos.add_identity(ada());
    let challenge = app.hydra.add_consent(ConsentSpec {
        subject: ADA.into(),
        client: with(
            client("own-cli"),
            json!({"token_endpoint_auth_method": "none", "redirect_uris": ["http://127.0.0.1:8080/cb"], "skip_consent": true}),
        ),
        requested_scope: vec!["openid".into()],
        ..ConsentSpec::default()
    });
    let response = app.get_consent(&challenge).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let accepted = app.hydra.accepted_consents();
    assert_eq!(accepted[0]["remember"], false);
}

#[tokio::test]
async fn a_device_flow_always_shows_the_consent_page_whatever_marks_the_client_first_party() {
    let device_url =
        "http://127.0.0.1:4444/oauth2/device/verify?client_id=tv&user_code=%2A%2A%2A%2A";
    let cases: [(&str, bool, Value, Vec<String>); 4] = [
        (
            "skip_consent",
            false,
            with(client("tv"), json!({"skip_consent": true})),
            vec![],
        ),
        (
            "metadata.first_party",
            false,
            with(client("tv"), json!({"metadata": {"first_party": true}})),
            vec![],
        ),
        ("TRUSTED_CLIENT_IDS", false, client("tv"), vec!["tv".into()]),
        ("a Hydra skip", true, client("tv"), vec![]),
    ];
    for (case, skip, client, trusted) in cases {
        let app = TestApp::spawn_with(|s| s.trusted_client_ids = trusted).await;
        app.kratos.add_identity(ada());
        let challenge = app.hydra.add_consent(ConsentSpec {
            skip,
            subject: ADA.into(),
            client,
            requested_scope: vec!["openid".into()],
            request_url: Some(device_url.into()),
            ..ConsentSpec::default()
        });

        let response = app.get_consent(&challenge).await;

        assert_eq!(response.status(), StatusCode::OK, "{case}");
        let page = response.text().await.unwrap();
        assert!(page.contains("tv app"), "{case}: the page names the app");
        assert!(
            app.hydra.accepted_consents().is_empty(),
            "{case}: nothing accepted without the person"
        );
    }
}

#[tokio::test]
async fn a_remembered_consent_for_one_api_does_not_give_the_client_another_api_without_a_page() {
    const API_A: &str = "https://a.api.example.com";
    const API_B: &str = "https://b.api.example.com";
    let app = TestApp::spawn().await;
    app.kratos.add_identity(ada());
    let photos = with(client("photos"), json!({"audience": [API_A, API_B]}));
    app.hydra.add_consent_session(ConsentSessionSpec {
        subject: ADA.into(),
        client: photos.clone(),
        grant_scope: vec!["openid".into()],
        grant_audience: vec![API_A.into()],
        ..ConsentSessionSpec::default()
    });
    // A consent the person did not ask to remember, and another client's, cover nothing.
    app.hydra.add_consent_session(ConsentSessionSpec {
        subject: ADA.into(),
        client: photos.clone(),
        grant_scope: vec!["openid".into()],
        grant_audience: vec![API_B.into()],
        remember: false,
        ..ConsentSessionSpec::default()
    });
    app.hydra.add_consent_session(ConsentSessionSpec {
        subject: ADA.into(),
        client: with(client("other"), json!({"audience": [API_B]})),
        grant_scope: vec!["openid".into()],
        grant_audience: vec![API_B.into()],
        ..ConsentSessionSpec::default()
    });
    // Hydra compares scopes only: both requests arrive with `skip: true`.
    let skip = |audience: &[&str]| ConsentSpec {
        skip: true,
        subject: ADA.into(),
        client: photos.clone(),
        requested_scope: vec!["openid".into()],
        requested_audience: audience.iter().map(|a| (*a).to_owned()).collect(),
        ..ConsentSpec::default()
    };

    let new_api = app
        .get_consent(&app.hydra.add_consent(skip(&[API_A, API_B])))
        .await;

    assert_eq!(
        new_api.status(),
        StatusCode::OK,
        "the consent page is shown"
    );
    let page = new_api.text().await.unwrap();
    assert!(page.contains(API_B), "the page names the new API");
    assert!(app.hydra.accepted_consents().is_empty());

    let known_api = app
        .get_consent(&app.hydra.add_consent(skip(&[API_A])))
        .await;

    assert_eq!(known_api.status(), StatusCode::SEE_OTHER);
    let accepted = app.hydra.accepted_consents();
    assert_eq!(accepted.len(), 1);
    assert_eq!(
        strings(&accepted[0]["grant_access_token_audience"]),
        [API_A]
    );
    // Hydra's list has no client filter: Hera asks for the subject's consents and picks.
    let listed: Vec<_> = app
        .hydra
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == "/admin/oauth2/auth/sessions/consent")
        .collect();
    assert_eq!(listed.len(), 2, "one listing per skip with audiences");
    for request in listed {
        assert_eq!(request.query_param("subject"), Some(ADA));
        assert_eq!(request.query_param("client"), None);
    }
}

#[tokio::test]
async fn hydra_failing_to_list_consents_on_a_skip_with_audiences_accepts_nothing() {
    let app = TestApp::spawn().await;
    app.kratos.add_identity(ada());
    app.hydra.set_fault_on(
        "GET",
        "/admin/oauth2/auth/sessions/consent",
        Fault::Status(500),
    );
    let challenge = app.hydra.add_consent(ConsentSpec {
        skip: true,
        subject: ADA.into(),
        requested_scope: vec!["openid".into()],
        requested_audience: vec!["https://api.example.com".into()],
        ..ConsentSpec::default()
    });
    assert_error_page(
        app.get_consent(&challenge).await,
        StatusCode::BAD_GATEWAY,
        "The sign-in service is unavailable",
    )
    .await;
    assert!(app.hydra.accepted_consents().is_empty());
}

#[tokio::test]
async fn the_operator_sets_how_long_automatic_consents_are_remembered() {
    let app =
        TestApp::spawn_with(|s| s.auto_consent_remember_for = std::time::Duration::from_secs(600))
            .await;
    app.kratos.add_identity(ada());
    let challenge = app.hydra.add_consent(ConsentSpec {
        subject: ADA.into(),
        client: with(client("own"), json!({"skip_consent": true})),
        requested_scope: vec!["openid".into()],
        ..ConsentSpec::default()
    });
    app.get_consent(&challenge).await;
    let accepted = app.hydra.accepted_consents();
    assert_eq!(accepted[0]["remember"], true);
    assert_eq!(accepted[0]["remember_for"], 600);
}

#[tokio::test]
async fn first_party_needs_the_json_boolean_true() {
    let app = TestApp::spawn().await;
    app.kratos.add_identity(ada());
    let challenge = app.hydra.add_consent(ConsentSpec {
        subject: ADA.into(),
        client: with(
            client("sneaky"),
            json!({"metadata": {"first_party": "true"}}),
        ),
        ..ConsentSpec::default()
    });
    assert_eq!(app.get_consent(&challenge).await.status(), StatusCode::OK);
    assert!(app.hydra.accepted_consents().is_empty());
}

#[tokio::test]
async fn the_consent_page_names_the_client_its_destination_and_every_scope() {
    let app = TestApp::spawn().await;
    sign_in_ada(&app, Duration::ZERO);
    let challenge = app.hydra.add_consent(ConsentSpec {
        subject: ADA.into(),
        client: with(
            client("third-party-app"),
            json!({
                "client_name": "Photo <Printer>",
                "logo_uri": "https://cdn.example.com/logo.png",
                "policy_uri": "https://photos.example.com/privacy",
                "tos_uri": "https://photos.example.com/terms",
                "client_uri": "https://photos.example.com",
            }),
        ),
        requested_scope: vec!["openid".into(), "email".into(), "photos.print".into()],
        requested_audience: vec!["https://api.example.com".into()],
        ..ConsentSpec::default()
    });

    let response = app.get_consent(&challenge).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let html = response.text().await.unwrap();
    assert!(
        html.contains("Photo &#60;Printer&#62;"),
        "client name escaped:\n{html}"
    );
    assert!(html.contains("https://cdn.example.com/logo.png"));
    assert!(html.contains("https://photos.example.com/privacy"));
    assert!(html.contains("https://photos.example.com/terms"));
    assert!(
        html.contains("third-party-app.example.com"),
        "redirect host shown"
    );
    assert!(html.contains("https://api.example.com"), "audience shown");
    assert!(html.contains(ADA_EMAIL), "account and email preview shown");
    assert!(
        html.contains("not described"),
        "unknown scope marked:\n{html}"
    );
    for scope in ["openid", "email", "photos.print"] {
        assert!(
            html.contains(&format!("name=\"grant_scope\" value=\"{scope}\"")),
            "{scope}"
        );
    }
    assert!(html.contains("name=\"remember\""));
    assert!(html.contains("name=\"action\" value=\"accept\""));
    assert!(html.contains("name=\"action\" value=\"reject\""));
    assert_eq!(hidden_field(&html, "consent_challenge"), challenge);
    assert!(!hidden_field(&html, "csrf_token").is_empty());
    assert!(
        app.hydra.accepted_consents().is_empty(),
        "nothing accepted before the user answers"
    );
}

#[tokio::test]
async fn a_logo_that_is_not_https_is_not_shown() {
    let app = TestApp::spawn().await;
    app.kratos.add_identity(ada());
    let challenge = app.hydra.add_consent(ConsentSpec {
        subject: ADA.into(),
        client: with(
            client("plain"),
            json!({"logo_uri": "http://cdn.example.com/logo.png"}),
        ),
        ..ConsentSpec::default()
    });
    let html = app.get_consent(&challenge).await.text().await.unwrap();
    assert!(!html.contains("cdn.example.com"), "{html}");
    assert!(!html.contains("<img"), "{html}");
}

#[tokio::test]
async fn the_user_can_grant_part_of_the_request_and_remember_it() {
    let app = TestApp::spawn().await;
    let challenge = third_party(&app, &["openid", "email", "profile", "offline_access"]);
    let csrf = app.consent_csrf_token(&challenge).await;

    let response = app
        .post_consent(&[
            ("consent_challenge", &challenge),
            ("csrf_token", &csrf),
            ("grant_scope", "openid"),
            ("grant_scope", "profile"),
            ("remember", "true"),
            ("action", "accept"),
        ])
        .await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location_of(&response).contains("consent_verifier="));
    let accepted = app.hydra.accepted_consents();
    assert_eq!(accepted.len(), 1);
    let body = &accepted[0];
    assert_eq!(strings(&body["grant_scope"]), ["openid", "profile"]);
    assert_eq!(
        strings(&body["grant_access_token_audience"]),
        ["https://api.example.com"]
    );
    assert_eq!(body["remember"], true);
    assert_eq!(body["remember_for"], 3600);
    let claims = &body["session"]["id_token"];
    assert_eq!(claims["given_name"], "Ada");
    assert_eq!(claims["family_name"], "Lovelace");
    assert!(
        claims.get("email").is_none(),
        "email was not granted: {claims}"
    );
    assert!(claims.get("email_verified").is_none(), "{claims}");
    assert!(claims.get("sub").is_none());
}

#[tokio::test]
async fn a_consent_post_never_grants_a_scope_the_client_did_not_request() {
    let app = TestApp::spawn().await;
    let challenge = third_party(&app, &["openid", "email"]);
    let csrf = app.consent_csrf_token(&challenge).await;

    app.post_consent(&[
        ("consent_challenge", &challenge),
        ("csrf_token", &csrf),
        ("grant_scope", "email"),
        ("grant_scope", "admin"),
        ("grant_scope", "profile"),
        ("action", "accept"),
    ])
    .await;

    let accepted = app.hydra.accepted_consents();
    assert_eq!(strings(&accepted[0]["grant_scope"]), ["openid", "email"]);
    let claims = &accepted[0]["session"]["id_token"];
    assert!(
        claims.get("name").is_none(),
        "profile claims leaked: {claims}"
    );
}

#[tokio::test]
async fn openid_stays_granted_even_if_the_form_leaves_it_out() {
    let app = TestApp::spawn().await;
    let challenge = third_party(&app, &["openid", "email"]);
    let csrf = app.consent_csrf_token(&challenge).await;
    app.post_consent(&[
        ("consent_challenge", &challenge),
        ("csrf_token", &csrf),
        ("action", "accept"),
    ])
    .await;
    assert_eq!(
        strings(&app.hydra.accepted_consents()[0]["grant_scope"]),
        ["openid"]
    );
    assert_eq!(app.hydra.accepted_consents()[0]["remember"], false);
}

#[tokio::test]
async fn deny_rejects_with_access_denied() {
    let app = TestApp::spawn().await;
    let challenge = third_party(&app, &["openid", "email"]);
    let csrf = app.consent_csrf_token(&challenge).await;

    let response = app
        .post_consent(&[
            ("consent_challenge", &challenge),
            ("csrf_token", &csrf),
            ("grant_scope", "openid"),
            ("action", "reject"),
        ])
        .await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location_of(&response).contains("consent_verifier="));
    assert!(app.hydra.accepted_consents().is_empty());
    let rejected = app.hydra.rejected_consents();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0]["error"], "access_denied");
    assert_eq!(
        rejected[0]["error_description"],
        "The resource owner denied the request"
    );
}

#[tokio::test]
async fn a_missing_or_wrong_csrf_token_gets_a_403_and_hydra_is_never_called() {
    let app = TestApp::spawn().await;
    let challenge = third_party(&app, &["openid", "email"]);
    let other = third_party(&app, &["openid"]);
    let csrf_for_other = app.consent_csrf_token(&other).await;
    let calls_before = app.hydra_calls().len();

    for csrf in [None, Some("forged"), Some(csrf_for_other.as_str())] {
        let mut form = vec![
            ("consent_challenge", challenge.as_str()),
            ("grant_scope", "email"),
            ("action", "accept"),
        ];
        if let Some(csrf) = csrf {
            form.push(("csrf_token", csrf));
        }
        assert_error_page(
            app.post_consent(&form).await,
            StatusCode::FORBIDDEN,
            "This form has expired",
        )
        .await;
    }
    assert_eq!(
        app.hydra_calls().len(),
        calls_before,
        "{:?}",
        app.hydra_calls()
    );
    assert!(app.hydra.accepted_consents().is_empty());
}

#[tokio::test]
async fn a_csrf_token_from_another_browser_is_refused() {
    let app = TestApp::spawn().await;
    let challenge = third_party(&app, &["openid"]);
    let csrf = app.consent_csrf_token(&challenge).await;
    let other_browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let response = other_browser
        .post(format!("{}/consent", app.address))
        .form(&[
            ("consent_challenge", challenge.as_str()),
            ("csrf_token", &csrf),
            ("action", "accept"),
        ])
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(app.hydra.accepted_consents().is_empty());
}

#[tokio::test]
async fn a_cross_site_form_post_is_refused_even_with_a_valid_token() {
    let app = TestApp::spawn().await;
    let challenge = third_party(&app, &["openid"]);
    let csrf = app.consent_csrf_token(&challenge).await;
    let response = app
        .browser
        .post(format!("{}/consent", app.address))
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[
            ("consent_challenge", challenge.as_str()),
            ("csrf_token", &csrf),
            ("action", "accept"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(app.hydra.accepted_consents().is_empty());
}

#[tokio::test]
async fn a_form_without_an_action_or_not_urlencoded_is_a_400_and_nothing_is_sent() {
    let app = TestApp::spawn().await;
    let challenge = third_party(&app, &["openid"]);
    let csrf = app.consent_csrf_token(&challenge).await;
    let calls_before = app.hydra_calls().len();

    let no_action = app
        .post_consent(&[("consent_challenge", &challenge), ("csrf_token", &csrf)])
        .await;
    assert_eq!(no_action.status(), StatusCode::BAD_REQUEST);
    let json_body = app
        .browser
        .post(format!("{}/consent", app.address))
        .json(&json!({"consent_challenge": challenge, "csrf_token": csrf, "action": "accept"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_body.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.hydra_calls().len(), calls_before);
}

#[tokio::test]
async fn claims_come_from_the_consent_subject_not_from_the_browsers_kratos_session() {
    let app = TestApp::spawn().await;
    // The browser is signed in to Kratos as Mallory...
    let now = OffsetDateTime::now_utc();
    app.kratos.add_session(
        "mallory-token",
        session(
            "5e550000-0000-4000-8000-0000000ba0ba",
            identity(
                "ba0ba0ba-0000-4000-8000-0000000ba0ba",
                "mallory@example.com",
                "Mallory",
                "Evil",
            ),
            now,
            now + Duration::hours(1),
            "aal1",
            &["password"],
        ),
    );
    app.sign_in_browser("mallory-token");
    // ...but the consent request is for Ada.
    let challenge = third_party(&app, &["openid", "email", "profile"]);
    let csrf = app.consent_csrf_token(&challenge).await;

    app.post_consent(&[
        ("consent_challenge", &challenge),
        ("csrf_token", &csrf),
        ("grant_scope", "email"),
        ("grant_scope", "profile"),
        ("action", "accept"),
    ])
    .await;

    let claims = &app.hydra.accepted_consents()[0]["session"]["id_token"];
    assert_eq!(claims["email"], ADA_EMAIL);
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["name"], "Ada Lovelace");
    assert!(!claims.to_string().contains("mallory"), "{claims}");
}

#[tokio::test]
async fn a_subject_without_an_identity_is_refused_and_nothing_is_accepted() {
    let app = TestApp::spawn().await;
    let challenge = app.hydra.add_consent(ConsentSpec {
        subject: "de1e7ed0-0000-4000-8000-000000000000".into(),
        client: with(client("own"), json!({"skip_consent": true})),
        ..ConsentSpec::default()
    });
    assert_error_page(
        app.get_consent(&challenge).await,
        StatusCode::FORBIDDEN,
        "This account is not available",
    )
    .await;
    assert!(app.hydra.accepted_consents().is_empty());
}

#[tokio::test]
async fn an_inactive_identity_is_refused() {
    let app = TestApp::spawn().await;
    app.kratos
        .add_identity(with(ada(), json!({"state": "inactive"})));
    let challenge = app.hydra.add_consent(ConsentSpec {
        subject: ADA.into(),
        client: with(client("own"), json!({"skip_consent": true})),
        ..ConsentSpec::default()
    });
    assert_eq!(
        app.get_consent(&challenge).await.status(),
        StatusCode::FORBIDDEN
    );
    assert!(app.hydra.accepted_consents().is_empty());
}

#[tokio::test]
async fn an_unreachable_kratos_admin_gives_a_502_page_and_nothing_is_accepted() {
    let app = TestApp::spawn_with(|s| s.kratos_admin_url = closed_port_url()).await;
    let challenge = app.hydra.add_consent(ConsentSpec {
        subject: ADA.into(),
        client: with(client("own"), json!({"skip_consent": true})),
        ..ConsentSpec::default()
    });
    assert_error_page(
        app.get_consent(&challenge).await,
        StatusCode::BAD_GATEWAY,
        "unavailable",
    )
    .await;
    assert!(app.hydra.accepted_consents().is_empty());
}

#[tokio::test]
async fn hydra_failing_during_the_post_gives_an_error_page_not_a_half_done_accept() {
    let app = TestApp::spawn().await;
    let challenge = third_party(&app, &["openid", "email"]);
    let csrf = app.consent_csrf_token(&challenge).await;
    app.hydra.set_fault(Some(Fault::Status(500)));

    let response = app
        .post_consent(&[
            ("consent_challenge", &challenge),
            ("csrf_token", &csrf),
            ("grant_scope", "email"),
            ("action", "accept"),
        ])
        .await;

    assert_error_page(response, StatusCode::BAD_GATEWAY, "Nothing was changed").await;
    assert!(app.hydra.accepted_consents().is_empty());
}

#[tokio::test]
async fn a_public_first_party_client_with_a_loopback_or_custom_scheme_redirect_gets_the_consent_page(
) {
    for redirect_uri in [
        "http://127.0.0.1:8080/callback",
        "com.example.app:/callback",
    ] {
        let app = TestApp::spawn().await;
        app.kratos.add_identity(ada());
        let native = with(
            client("own-native-app"),
            json!({
                "token_endpoint_auth_method": "none",
                "redirect_uris": [redirect_uri],
                "metadata": {"first_party": true}
            }),
        );
        let challenge = app.hydra.add_consent(ConsentSpec {
            subject: ADA.into(),
            client: native.clone(),
            ..ConsentSpec::default()
        });

        let response = app.get_consent(&challenge).await;

        assert_eq!(response.status(), StatusCode::OK, "{redirect_uri}");
        assert!(app.hydra.accepted_consents().is_empty(), "{redirect_uri}");

        // skip_consent is the admin's explicit choice and still skips the page.
        let skipping = app.hydra.add_consent(ConsentSpec {
            subject: ADA.into(),
            client: with(native, json!({"skip_consent": true})),
            ..ConsentSpec::default()
        });
        let response = app.get_consent(&skipping).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{redirect_uri}");
        assert_eq!(app.hydra.accepted_consents().len(), 1);
    }
}

#[tokio::test]
async fn an_answer_sooner_than_a_second_after_the_page_gets_the_page_again() {
    let app = TestApp::spawn_with(|s| {
        s.consent_min_delay = hera::cli::Settings::defaults().consent_min_delay;
    })
    .await;
    let challenge = third_party(&app, &["openid", "email"]);
    let token = app.consent_csrf_token(&challenge).await;
    let form = [
        ("consent_challenge", challenge.as_str()),
        ("csrf_token", token.as_str()),
        ("grant_scope", "email"),
        ("action", "accept"),
    ];

    // A double click the page swapped onto "Allow": the second click comes at once.
    let hasty = app.post_consent(&form).await;

    assert_redirect_to(
        &hasty,
        &app.url(&format!(
            "/consent?consent_challenge={}",
            crate::support::encode(&challenge)
        )),
    );
    assert!(app.hydra.accepted_consents().is_empty(), "nothing accepted");

    // The render time is inside the token's MAC: an earlier time cannot be written in.
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut bytes = engine.decode(&token).unwrap();
    let earlier = i64::from_be_bytes(bytes[..8].try_into().unwrap()) - 60_000;
    bytes[..8].copy_from_slice(&earlier.to_be_bytes());
    let backdated = engine.encode(bytes);
    let forged = app
        .post_consent(&[
            ("consent_challenge", challenge.as_str()),
            ("csrf_token", backdated.as_str()),
            ("action", "accept"),
        ])
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    // A person who read the page for a second is taken at their word.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let considered = app.post_consent(&form).await;
    assert_eq!(considered.status(), StatusCode::SEE_OTHER);
    assert!(location_of(&considered).contains("consent_verifier="));
    assert_eq!(app.hydra.accepted_consents().len(), 1);
}

#[tokio::test]
async fn the_consent_page_shows_personal_data_only_to_a_browser_signed_in_as_the_subject() {
    let app = TestApp::spawn().await;
    app.kratos.add_identity(ada());
    let challenge = app.hydra.add_consent(ConsentSpec {
        subject: ADA.into(),
        requested_scope: vec!["openid".into(), "email".into(), "profile".into()],
        ..ConsentSpec::default()
    });
    let neutral = "The account this request is for is not signed in in this browser";

    // Nobody signed in, then Bob: neither learns Ada's email or name from her consent link.
    for who in ["nobody", "Bob"] {
        if who == "Bob" {
            sign_in_bob(&app);
        }
        let response = app.get_consent(&challenge).await;
        assert_eq!(response.status(), StatusCode::OK, "{who:?}");
        let html = response.text().await.unwrap();
        assert!(
            !html.contains(ADA_EMAIL),
            "{who:?}: the email is shown:\n{html}"
        );
        assert!(!html.contains("Lovelace"), "{who:?}: the name is shown");
        assert!(html.contains(neutral), "{who:?}");
        assert!(
            html.contains("name=\"grant_scope\" value=\"email\""),
            "the page still works"
        );
    }
    assert_ne!(BOB, ADA);

    // Ada herself sees what she would share.
    sign_in_ada(&app, Duration::ZERO);
    let html = app.get_consent(&challenge).await.text().await.unwrap();
    assert!(html.contains(ADA_EMAIL));
    assert!(html.contains("Ada Lovelace"));
    assert!(!html.contains(neutral));
}

#[tokio::test]
async fn the_operators_scopes_file_describes_their_own_api_scopes_in_the_pages_language() {
    let dir = std::env::temp_dir().join(format!("hera-scopes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("scopes.toml");
    std::fs::write(
        &file,
        r#"
        ["photos.read".en]
        title = "See your photos"
        description = "The app can list and open the photos in your library."

        ["photos.read".de]
        title = "Ihre Fotos sehen"
        description = "Die App kann die Fotos in Ihrer Bibliothek auflisten und öffnen."
        "#,
    )
    .unwrap();
    let app = TestApp::spawn_with(|s| s.scopes_file = Some(file.clone())).await;
    let challenge = third_party(&app, &["openid", "photos.read", "orders.write"]);

    let english = app.get_consent(&challenge).await.text().await.unwrap();
    assert!(english.contains("See your photos"), "{english}");
    assert!(english.contains("The app can list and open the photos in your library."));
    let german = app
        .browser
        .get(app.url(&format!("/consent?consent_challenge={challenge}")))
        .header("accept-language", "de")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(german.contains("Ihre Fotos sehen"), "{german}");
    assert!(
        english.contains("orders.write"),
        "a scope nobody describes keeps its name"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
