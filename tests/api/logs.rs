//! Audit events are written, and challenges, cookies and CSRF tokens never are.

use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::support::fake_hydra::{client, with, ConsentSpec, LoginSpec};
use crate::support::fake_kratos::{identity, session};
use crate::support::logs::{captured, lines_with};
use crate::support::TestApp;

#[tokio::test]
async fn a_full_sign_in_is_audited_without_logging_any_secret() {
    let app = TestApp::spawn().await;
    let subject = "a0d17000-0000-4000-8000-000000007f3a";
    let now = OffsetDateTime::now_utc();
    app.kratos
        .add_identity(identity(subject, "audit@example.com", "Au", "Dit"));
    app.kratos.add_session(
        "audit-kratos-token-secret",
        session(
            "5e550000-0000-4000-8000-000000007f3a",
            identity(subject, "audit@example.com", "Au", "Dit"),
            now,
            now + Duration::hours(1),
            "aal1",
            &["password"],
        ),
    );
    app.sign_in_browser("audit-kratos-token-secret");

    let login = app.hydra.add_login(LoginSpec {
        client: client("audited-app"),
        ..LoginSpec::default()
    });
    app.get_login(&login).await;
    let auto = app.hydra.add_consent(ConsentSpec {
        subject: subject.into(),
        client: with(client("audited-own-app"), json!({"skip_consent": true})),
        ..ConsentSpec::default()
    });
    app.get_consent(&auto).await;
    let third = app.hydra.add_consent(ConsentSpec {
        subject: subject.into(),
        client: client("audited-app"),
        ..ConsentSpec::default()
    });
    let csrf = app.consent_csrf_token(&third).await;
    app.post_consent(&[
        ("consent_challenge", &third),
        ("csrf_token", &csrf),
        ("grant_scope", "openid"),
        ("action", "accept"),
    ])
    .await;
    app.post_consent(&[
        ("consent_challenge", &third),
        ("csrf_token", &csrf),
        ("action", "reject"),
    ])
    .await;

    let events: Vec<_> = lines_with(subject)
        .into_iter()
        .filter(|line| line["target"] == "hera::audit")
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "login.accepted",
            "consent.granted",
            "consent.granted",
            "consent.rejected"
        ]
    );
    assert_eq!(events[0]["client_id"], "audited-app");
    assert_eq!(events[0]["reason"], "kratos_session");
    assert_eq!(events[1]["by"], "auto");
    assert_eq!(events[1]["reason"], "client_skip_consent");
    assert_eq!(events[2]["by"], "user");
    assert_eq!(events[2]["scopes"], "openid");

    let logs = captured();
    for secret in [
        login.as_str(),
        auto.as_str(),
        third.as_str(),
        &csrf,
        "audit-kratos-token-secret",
    ] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
}

#[tokio::test]
async fn logout_device_and_revocation_are_audited_without_logging_any_secret() {
    use crate::support::fake_hydra::{ConsentSessionSpec, LogoutSpec};
    use crate::support::{hidden_field, revoke_token};

    let app = TestApp::spawn().await;
    let subject = "a0d17000-0000-4000-8000-00000000bee5";
    let now = OffsetDateTime::now_utc();
    app.kratos.add_session(
        "audit-kratos-token-second-secret",
        session(
            "5e550000-0000-4000-8000-00000000bee5",
            identity(subject, "bees@example.com", "Be", "Es"),
            now,
            now + Duration::hours(1),
            "aal1",
            &["password"],
        ),
    );
    app.sign_in_browser("audit-kratos-token-second-secret");

    let mut logouts = Vec::new();
    for action in ["reject", "accept"] {
        let logout = app.hydra.add_logout(LogoutSpec {
            subject: subject.into(),
            client: Some(client("audited-rp")),
            ..LogoutSpec::default()
        });
        let page = app.get_logout(&logout).await.text().await.unwrap();
        let csrf = hidden_field(&page, "csrf_token");
        app.post_form(
            "/logout",
            &[
                ("logout_challenge", &logout),
                ("csrf_token", &csrf),
                ("action", action),
            ],
        )
        .await;
        logouts.push(logout);
        logouts.push(csrf);
    }

    app.hydra.add_user_code("qZxWvKjH", "audited-tv");
    let device = app.hydra.add_device_challenge();
    let page = app.get_device_verify(&device).await.text().await.unwrap();
    let device_csrf = hidden_field(&page, "csrf_token");
    for code in ["qZxW-vKjX", "qZxW-vKjH"] {
        app.post_form(
            "/device/verify",
            &[
                ("device_challenge", &device),
                ("csrf_token", &device_csrf),
                ("user_code", code),
            ],
        )
        .await;
    }

    app.hydra.add_consent_session(ConsentSessionSpec {
        subject: subject.into(),
        client: client("audited-photos"),
        ..ConsentSessionSpec::default()
    });
    let page = app.get("/connected-apps").await.text().await.unwrap();
    let revoke_csrf = revoke_token(&page, "audited-photos");
    app.post_form(
        "/connected-apps/revoke",
        &[
            ("client_id", "audited-photos"),
            ("csrf_token", &revoke_csrf),
        ],
    )
    .await;

    let events: Vec<_> = lines_with(subject)
        .into_iter()
        .filter(|line| line["target"] == "hera::audit")
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["logout.declined", "logout.accepted", "consent.revoked"]
    );
    assert_eq!(events[0]["client_id"], "audited-rp");
    assert_eq!(events[1]["by"], "user");
    assert_eq!(events[2]["client_id"], "audited-photos");
    let device_events: Vec<_> = lines_with("audited-tv")
        .into_iter()
        .filter(|line| line["target"] == "hera::audit")
        .collect();
    assert_eq!(device_events.len(), 1);
    assert_eq!(device_events[0]["event"], "device.code_accepted");

    let logs = captured();
    for secret in logouts.iter().map(String::as_str).chain([
        device.as_str(),
        &device_csrf,
        &revoke_csrf,
        "qZxWvKjH",
        "qZxW-vKj",
        "audit-kratos-token-second-secret",
    ]) {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
}

#[tokio::test]
async fn an_ignored_x_forwarded_for_is_warned_about_once() {
    let warned = |request_id: &str| {
        lines_with("HERA_TRUSTED_PROXY_HOPS is 0")
            .into_iter()
            .filter(|line| line["level"] == "WARN" && line["span"]["request_id"] == request_id)
            .count()
    };
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let response = app
            .browser
            .get(app.url("/health/alive"))
            .header("x-forwarded-for", "203.0.113.9")
            .send()
            .await
            .unwrap();
        ids.push(
            response.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(
        warned(&ids[0]),
        1,
        "the first forwarded request is warned about"
    );
    assert_eq!(warned(&ids[1]), 0, "and only the first");

    let proxied = TestApp::spawn_with(|s| s.trusted_proxy_hops = 1).await;
    let response = proxied
        .browser
        .get(proxied.url("/health/alive"))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(warned(&id), 0, "the header is read: nothing to warn about");
}
