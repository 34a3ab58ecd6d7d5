//! Hera keeps no state of its own, so instances sharing `HERA_COOKIE_SECRET` can sit
//! behind a load balancer: a flow that starts on one instance finishes on the other.

use reqwest::StatusCode;
use serde_json::json;
use time::Duration;

use crate::support::fake_hydra::{ConsentSpec, LoginSpec};
use crate::support::{encode, hidden_field, location_of, sign_in_ada, TestApp, ADA};

const SECRET: &str = "a-shared-cookie-secret-of-at-least-sixty-four-bytes-for-all-instances-0001";

fn shared_secret(settings: &mut hera::cli::Settings) {
    settings.cookie_secret = Some(hera::secrets::CookieSecret::new(SECRET).unwrap());
}

#[tokio::test]
async fn a_consent_page_from_one_instance_is_accepted_by_the_other() {
    let first = TestApp::spawn_with(shared_secret).await;
    let second = first.spawn_twin(shared_secret).await;
    sign_in_ada(&first, Duration::minutes(1));
    let challenge = first.hydra.add_consent(ConsentSpec {
        subject: ADA.into(),
        ..ConsentSpec::default()
    });

    let page = first.get_consent(&challenge).await.text().await.unwrap();
    let posted = first
        .browser
        .post(format!("{second}/consent"))
        .form(&[
            ("consent_challenge", challenge.as_str()),
            ("csrf_token", &hidden_field(&page, "csrf_token")),
            ("grant_scope", "email"),
            ("action", "accept"),
        ])
        .send()
        .await
        .unwrap();

    assert_eq!(
        posted.status(),
        StatusCode::SEE_OTHER,
        "the second instance refused the first's CSRF token"
    );
    assert_eq!(
        first.hydra.accepted_consents()[0]["grant_scope"],
        json!(["openid", "email"])
    );
}

#[tokio::test]
async fn a_prompt_login_round_trip_started_on_one_instance_completes_on_the_other() {
    let first = TestApp::spawn_with(shared_secret).await;
    let second = first.spawn_twin(shared_secret).await;
    sign_in_ada(&first, Duration::minutes(10));
    let challenge = first.hydra.add_login(LoginSpec {
        request_url: Some("http://127.0.0.1:4444/oauth2/auth?client_id=third-party-app&prompt=login&state=abcdefghij".into()),
        ..LoginSpec::default()
    });

    let to_kratos = first.get_login(&challenge).await;
    assert!(location_of(&to_kratos).contains("refresh=true"));
    sign_in_ada(&first, Duration::seconds(1));
    let back = first
        .browser
        .get(format!(
            "{second}/login?login_challenge={}",
            encode(&challenge)
        ))
        .send()
        .await
        .unwrap();

    assert!(
        location_of(&back).contains("login_verifier="),
        "the second instance did not see the first's marker"
    );
    assert_eq!(first.hydra.accepted_logins().len(), 1);
}

#[tokio::test]
async fn instances_with_different_secrets_do_not_share_sessions() {
    let first = TestApp::spawn_with(shared_secret).await;
    let second = first.spawn_twin(|s| s.cookie_secret = None).await;
    assert_second_refuses_the_firsts_form(&first, &second).await;
}

#[tokio::test]
async fn every_byte_of_the_cookie_secret_counts_not_just_the_first_64() {
    // Two secrets that agree on their first 64 bytes: a key cut from the first 64 raw bytes
    // would be the same for both, the key derived from the whole secret is not.
    let prefix = "a-shared-prefix-of-exactly-sixty-four-bytes-for-this-test-000000";
    assert_eq!(prefix.len(), 64);
    let first_secret = format!("{prefix}-first-instance");
    let second_secret = format!("{prefix}-other-deployment");
    let first = TestApp::spawn_with(|s| {
        s.cookie_secret = Some(hera::secrets::CookieSecret::new(&first_secret).unwrap());
    })
    .await;
    let second = first
        .spawn_twin(|s| {
            s.cookie_secret = Some(hera::secrets::CookieSecret::new(&second_secret).unwrap());
        })
        .await;
    assert_second_refuses_the_firsts_form(&first, &second).await;
}

/// A consent page rendered by `first`, answered at `second`: refused, nothing accepted.
async fn assert_second_refuses_the_firsts_form(first: &TestApp, second: &str) {
    sign_in_ada(first, Duration::minutes(1));
    let challenge = first.hydra.add_consent(ConsentSpec {
        subject: ADA.into(),
        ..ConsentSpec::default()
    });
    let page = first.get_consent(&challenge).await.text().await.unwrap();
    let posted = first
        .browser
        .post(format!("{second}/consent"))
        .form(&[
            ("consent_challenge", challenge.as_str()),
            ("csrf_token", &hidden_field(&page, "csrf_token")),
            ("action", "accept"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::FORBIDDEN);
    assert!(first.hydra.accepted_consents().is_empty());
}
