//! Fault injection. Hydra or Kratos refusing connections, hanging past the timeout,
//! answering 500/503, or answering truncated JSON, at every upstream call of the login and
//! consent paths. Each gives the right page and status within the timeout plus a margin, and
//! nothing is ever accepted or consented with partial data.

use std::time::{Duration as StdDuration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::support::fake_hydra::{client, with, ConsentSpec, Fault, LoginSpec};
use crate::support::fake_kratos::session;
use crate::support::{
    ada, assert_error_page, closed_port_url, sign_in_ada, TestApp, ADA, ADA_SESSION,
    UPSTREAM_TIMEOUT,
};

/// Where a fault is injected.
#[derive(Clone, Copy, Debug)]
enum Site {
    HydraLoginRequest,
    KratosWhoami,
    HydraLoginAccept,
    HydraConsentRequest,
    KratosIdentity,
    HydraConsentAccept,
}

impl Site {
    fn inject(self, app: &TestApp, fault: Fault) {
        let hydra = |method, path| app.hydra.set_fault_on(method, path, fault.clone());
        let kratos = |method, path| app.kratos.set_fault_on(method, path, fault.clone());
        match self {
            Site::HydraLoginRequest => hydra("GET", "/admin/oauth2/auth/requests/login"),
            Site::KratosWhoami => kratos("GET", "/sessions/whoami"),
            Site::HydraLoginAccept => hydra("PUT", "/admin/oauth2/auth/requests/login/accept"),
            Site::HydraConsentRequest => hydra("GET", "/admin/oauth2/auth/requests/consent"),
            Site::KratosIdentity => kratos("GET", "/admin/identities/"),
            Site::HydraConsentAccept => hydra("PUT", "/admin/oauth2/auth/requests/consent/accept"),
        }
    }

    fn is_login(self) -> bool {
        matches!(
            self,
            Site::HydraLoginRequest | Site::KratosWhoami | Site::HydraLoginAccept
        )
    }
}

const SITES: [Site; 6] = [
    Site::HydraLoginRequest,
    Site::KratosWhoami,
    Site::HydraLoginAccept,
    Site::HydraConsentRequest,
    Site::KratosIdentity,
    Site::HydraConsentAccept,
];

async fn signed_in_app() -> TestApp {
    let app = TestApp::spawn().await;
    crate::support::sign_in_ada(&app, Duration::ZERO);
    app
}

/// Runs the page for `site` (login, or a first-party consent auto-accept) and returns the answer
/// and how long it took.
async fn run(app: &TestApp, site: Site) -> (reqwest::Response, StdDuration) {
    let started = Instant::now();
    let response = if site.is_login() {
        let challenge = app.hydra.add_login(LoginSpec::default());
        app.get_login(&challenge).await
    } else {
        let challenge = app.hydra.add_consent(ConsentSpec {
            subject: ADA.into(),
            client: with(client("own"), json!({"skip_consent": true})),
            ..ConsentSpec::default()
        });
        app.get_consent(&challenge).await
    };
    (response, started.elapsed())
}

fn assert_nothing_accepted(app: &TestApp, context: &str) {
    assert!(
        app.hydra.accepted_logins().is_empty(),
        "{context}: a login was accepted"
    );
    assert!(
        app.hydra.accepted_consents().is_empty(),
        "{context}: a consent was accepted"
    );
}

#[tokio::test]
async fn every_fault_at_every_call_gives_the_right_page_in_time_and_accepts_nothing() {
    let faults = [
        (Fault::Status(500), StatusCode::BAD_GATEWAY, "unavailable"),
        (
            Fault::Status(503),
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
        ),
        (Fault::Malformed, StatusCode::BAD_GATEWAY, "unavailable"),
        (
            Fault::Hang,
            StatusCode::GATEWAY_TIMEOUT,
            "did not answer in time",
        ),
    ];
    let margin = StdDuration::from_secs(1);
    let mut cases = Vec::new();
    for site in SITES {
        for (fault, status, says) in &faults {
            cases.push(async move {
                let app = signed_in_app().await;
                site.inject(&app, fault.clone());
                let (response, took) = run(&app, site).await;
                let context = format!("{site:?} {fault:?}");
                assert_eq!(response.status(), *status, "{context}");
                assert_error_page(response, *status, says).await;
                assert!(took < UPSTREAM_TIMEOUT + margin, "{context}: took {took:?}");
                assert_nothing_accepted(&app, &context);
            });
        }
    }
    // Run them concurrently so the hangs cost one timeout, not twelve.
    futures_util::future::join_all(cases).await;
}

#[tokio::test]
async fn refused_connections_give_a_502_page_at_every_upstream() {
    for (name, customise) in [
        (
            "hydra admin",
            (|s: &mut hera::cli::Settings| s.hydra_admin_url = closed_port_url())
                as fn(&mut hera::cli::Settings),
        ),
        ("kratos public", |s| s.kratos_public_url = closed_port_url()),
        ("kratos admin", |s| s.kratos_admin_url = closed_port_url()),
    ] {
        let app = TestApp::spawn_with(customise).await;
        sign_in_ada(&app, Duration::ZERO);
        let site = if name == "kratos admin" {
            Site::KratosIdentity
        } else {
            Site::KratosWhoami
        };
        let (response, took) = run(&app, site).await;
        assert_error_page(response, StatusCode::BAD_GATEWAY, "could not be reached").await;
        assert!(took < StdDuration::from_secs(2), "{name}: took {took:?}");
        assert_nothing_accepted(&app, name);
    }
}

#[tokio::test]
async fn a_failed_consent_post_never_leaves_a_half_done_accept() {
    for site in [
        Site::HydraConsentRequest,
        Site::KratosIdentity,
        Site::HydraConsentAccept,
    ] {
        let app = signed_in_app().await;
        let challenge = app.hydra.add_consent(ConsentSpec {
            subject: ADA.into(),
            ..ConsentSpec::default()
        });
        let csrf = app.consent_csrf_token(&challenge).await;
        site.inject(&app, Fault::Status(500));
        let response = app
            .post_consent(&[
                ("consent_challenge", &challenge),
                ("csrf_token", &csrf),
                ("grant_scope", "email"),
                ("action", "accept"),
            ])
            .await;
        assert_error_page(response, StatusCode::BAD_GATEWAY, "Nothing was changed").await;
        assert_nothing_accepted(&app, &format!("{site:?}"));
    }
}

#[tokio::test]
async fn a_session_with_a_method_and_aal_hera_has_never_seen_is_handled_conservatively() {
    let app = TestApp::spawn().await;
    let now = OffsetDateTime::now_utc();
    let mut odd = session(
        ADA_SESSION,
        ada(),
        now,
        now + Duration::hours(1),
        "aal1",
        &["quantum_key"],
    );
    odd["authenticator_assurance_level"] = json!("aal7");
    odd["authentication_methods"][0]["aal"] = json!("aal7");
    app.kratos.add_session("odd", odd);
    app.sign_in_browser("odd");

    // Accepted with the values passed through as they are...
    let plain = app.hydra.add_login(LoginSpec::default());
    assert_eq!(app.get_login(&plain).await.status(), StatusCode::SEE_OTHER);
    let accepted = &app.hydra.accepted_logins()[0];
    assert_eq!(accepted["amr"], json!(["quantum_key"]));
    assert_eq!(accepted["acr"], "aal7");

    // ...but an unknown AAL never counts as a second factor.
    let mfa = app.hydra.add_login(LoginSpec {
        oidc_context: json!({"acr_values": ["aal2"], "ui_locales": [], "id_token_hint_claims": {}}),
        ..LoginSpec::default()
    });
    let response = app.get_login(&mfa).await;
    assert!(crate::support::location_of(&response).contains("aal=aal2"));
    assert_eq!(app.hydra.accepted_logins().len(), 1);
    // Kratos's schema has no `aal7`: the fake reports serving it, which this test wants.
    let violations = app.kratos.take_contract_violations();
    assert!(
        !violations.is_empty() && violations.iter().all(|v| v.contains("\"aal7\"")),
        "{violations:#?}"
    );
}
