//! What a platform team operates Hera with: Prometheus metrics on their own listener, the
//! version, and a graceful shutdown that drains.

use std::time::Duration as StdDuration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use time::Duration;

use crate::support::fake_hydra::{client, with};
use crate::support::{sign_in_ada, TestApp};

fn with_metrics(settings: &mut hera::cli::Settings) {
    settings.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
}

async fn scrape(app: &TestApp) -> String {
    let url = app.metrics_url.as_deref().expect("a metrics listener");
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    response.text().await.unwrap()
}

/// The value of the sample whose line starts with `prefix` (`name{labels}`), 0 when absent.
fn sample(text: &str, prefix: &str) -> f64 {
    text.lines()
        .find(|line| line.starts_with(prefix))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_count_requests_by_route_decisions_by_reason_and_limiter_refusals() {
    let app = TestApp::spawn_with(with_metrics).await;
    sign_in_ada(&app, Duration::minutes(1));
    app.public
        .register_client(with(client("own"), json!({"skip_consent": true})));
    let start = app.public.authorize_url(&[
        ("client_id", "own"),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "state-1234567"),
    ]);
    app.follow_until(&start, "https://own.example.com/callback")
        .await
        .unwrap();
    app.get("/consent").await;

    let text = scrape(&app).await;
    assert_eq!(
        sample(
            &text,
            "hera_http_requests_total{route=\"/login\",method=\"GET\",status=\"303\"}"
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "hera_http_requests_total{route=\"/consent\",method=\"GET\",status=\"400\"}"
        ),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            "hera_decisions_total{flow=\"login\",outcome=\"accepted\",reason=\"kratos_session\"}"
        ),
        1.0
    );
    assert_eq!(
        sample(&text, "hera_decisions_total{flow=\"consent\",outcome=\"granted_automatically\",reason=\"client_skip_consent\"}"),
        1.0
    );
    assert!(
        sample(
            &text,
            "hera_http_request_duration_seconds_count{route=\"/login\",method=\"GET\"}"
        ) >= 1.0
    );
    assert!(text.contains(&format!(
        "hera_build_info{{version=\"{}\",commit=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION"),
        hera::GIT_COMMIT
    )));
    assert!(
        !text.contains("login_challenge") && !text.contains("state-1234567"),
        "only route templates, never paths or queries"
    );
}

#[tokio::test]
async fn device_code_refusals_are_counted() {
    let app = TestApp::spawn_with(with_metrics).await;
    app.hydra.add_user_code("r7wWvcHs", "tv-app");
    let challenge = app.hydra.add_device_challenge();
    let page = app
        .get_device_verify(&challenge)
        .await
        .text()
        .await
        .unwrap();
    let token = crate::support::hidden_field(&page, "csrf_token");
    for _ in 0..6 {
        app.post_form(
            "/device/verify",
            &[
                ("device_challenge", challenge.as_str()),
                ("csrf_token", token.as_str()),
                ("user_code", "WRONGCDE"),
            ],
        )
        .await;
    }
    let text = scrape(&app).await;
    assert_eq!(
        sample(&text, "hera_rate_limited_total{limiter=\"device_code\"}"),
        1.0,
        "{text}"
    );
}

#[tokio::test]
async fn metrics_are_never_on_the_public_listener_and_off_unless_configured() {
    let app = TestApp::spawn().await;
    assert!(app.metrics_url.is_none());
    assert_eq!(app.get("/metrics").await.status(), StatusCode::NOT_FOUND);
    let with = TestApp::spawn_with(with_metrics).await;
    assert_eq!(with.get("/metrics").await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn alive_names_the_version_and_commit() {
    let app = TestApp::spawn().await;
    let body: Value = app.get("/health/alive").await.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["commit"], hera::GIT_COMMIT);
    assert!(!hera::GIT_COMMIT.is_empty());
}

#[tokio::test]
async fn a_shutdown_turns_readiness_to_503_at_once_and_lets_requests_in_flight_finish() {
    let app = TestApp::spawn_with(|s| s.shutdown_timeout = StdDuration::from_secs(5)).await;
    assert_eq!(app.shutdown.notice_period(), StdDuration::from_secs(1));
    sign_in_ada(&app, Duration::minutes(1));
    // One keep-alive connection, opened before the shutdown, to ask readiness on afterwards.
    let probe = reqwest::Client::builder()
        .pool_idle_timeout(StdDuration::from_secs(30))
        .build()
        .unwrap();
    let ready = app.url("/health/ready");
    assert_eq!(
        probe.get(&ready).send().await.unwrap().status(),
        StatusCode::OK
    );

    // A request in flight: Hydra takes 1.3 s to answer it, past the notice period.
    app.hydra.set_latency(StdDuration::from_millis(1300));
    let challenge = app.hydra.add_login(Default::default());
    let browser = app.browser.clone();
    let login = app.url(&format!("/login?login_challenge={challenge}"));
    let in_flight = tokio::spawn(async move { browser.get(login).send().await });
    tokio::time::sleep(StdDuration::from_millis(200)).await;

    let shutdown = app.shutdown.clone();
    let stopping = tokio::spawn(async move { shutdown.begin().await });
    tokio::time::sleep(StdDuration::from_millis(100)).await;
    let during = probe.get(&ready).send().await.unwrap();
    assert_eq!(during.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = during.json().await.unwrap();
    assert_eq!(body["status"], "draining");
    // Everything else is still served during the notice period.
    let alive = reqwest::get(app.url("/health/alive")).await.unwrap();
    assert_eq!(alive.status(), StatusCode::OK);

    let answer = in_flight.await.unwrap().unwrap();
    assert_eq!(
        answer.status(),
        StatusCode::SEE_OTHER,
        "the request in flight finished normally"
    );
    stopping.await.unwrap();
    assert!(
        reqwest::get(app.url("/health/alive")).await.is_err(),
        "the server is gone after the drain"
    );
}

#[tokio::test]
async fn the_bff_serves_its_own_metrics_on_its_own_listener() {
    let bff = crate::support::bff::TestBff::start_with(
        1,
        hera::bff::config::StoreSettings::Memory,
        |s| s.metrics_bind = Some("127.0.0.1:0".parse().unwrap()),
    )
    .await;
    assert_eq!(bff.whoami(0).await.status, 401);
    assert_eq!(bff.get(0, "/metrics").await.status, 404);
    let url = bff.metrics_urls[0].clone().expect("a metrics listener");
    let text = reqwest::get(url).await.unwrap().text().await.unwrap();
    assert_eq!(
        sample(
            &text,
            "hera_http_requests_total{route=\"/api/whoami\",method=\"GET\",status=\"401\"}"
        ),
        1.0,
        "{text}"
    );
    assert!(text.contains("hera_build_info{"));
}

#[tokio::test]
async fn each_request_writes_one_access_log_line_with_its_route_template_and_request_id() {
    let app = TestApp::spawn().await;
    let challenge = "access-log-secret-challenge-0123456789";
    let response = app
        .get(&format!("/consent?consent_challenge={challenge}"))
        .await;
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();

    let lines: Vec<Value> = crate::support::logs::lines_with(&request_id)
        .into_iter()
        .filter(|line| line["target"] == "hera::access")
        .collect();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let line = &lines[0];
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["method"], "GET");
    assert_eq!(line["route"], "/consent");
    assert_eq!(line["status"], 404);
    assert!(line["duration_ms"].as_f64().unwrap() >= 0.0);
    assert!(!line.to_string().contains(challenge), "{line}");
}

#[tokio::test]
async fn an_incoming_request_id_is_used_only_behind_trusted_proxies() {
    let behind_proxy = TestApp::spawn_with(|s| s.trusted_proxy_hops = 1).await;
    let answer = behind_proxy
        .browser
        .get(behind_proxy.url("/nowhere"))
        .header("x-request-id", "lb-7f3a.0001")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.headers()["x-request-id"], "lb-7f3a.0001");
    assert!(answer.text().await.unwrap().contains("lb-7f3a.0001"));
    let garbage = behind_proxy
        .browser
        .get(behind_proxy.url("/nowhere"))
        .header("x-request-id", "<b>not an id</b>")
        .send()
        .await
        .unwrap();
    assert_ne!(garbage.headers()["x-request-id"], "<b>not an id</b>");

    let direct = TestApp::spawn().await;
    let answer = direct
        .browser
        .get(direct.url("/nowhere"))
        .header("x-request-id", "lb-7f3a.0001")
        .send()
        .await
        .unwrap();
    assert_ne!(
        answer.headers()["x-request-id"],
        "lb-7f3a.0001",
        "anyone could have sent it"
    );
}

/// Ada, signed in, through the whole sign-in of the first-party client `own` (login, automatic
/// consent), with `headers` on every request the browser makes.
async fn sign_in_to_own(app: &TestApp, headers: &[(&'static str, &str)]) {
    sign_in_ada(app, Duration::minutes(1));
    app.public
        .register_client(with(client("own"), json!({"skip_consent": true})));
    let mut defaults = reqwest::header::HeaderMap::new();
    for (name, value) in headers {
        defaults.insert(*name, value.parse().unwrap());
    }
    let browser = reqwest::Client::builder()
        .cookie_provider(app.jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(defaults)
        .build()
        .unwrap();
    let start = app.public.authorize_url(&[
        ("client_id", "own"),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "state-1234567"),
    ]);
    crate::support::follow_until(&browser, &start, "https://own.example.com/callback")
        .await
        .unwrap();
}

#[tokio::test]
async fn upstream_calls_are_counted_by_service_operation_and_outcome() {
    let app = TestApp::spawn_with(with_metrics).await;
    sign_in_to_own(&app, &[]).await;
    app.get("/consent?consent_challenge=an-unknown-but-plausible-challenge-000")
        .await;

    let text = scrape(&app).await;
    let calls = |service: &str, operation: &str, outcome: &str| {
        sample(
            &text,
            &format!("hera_upstream_requests_total{{service=\"{service}\",operation=\"{operation}\",outcome=\"{outcome}\"}}"),
        )
    };
    for (service, operation) in [
        ("hydra_admin", "login_request"),
        ("hydra_admin", "accept_login"),
        ("hydra_admin", "accept_consent"),
        ("kratos_admin", "identity"),
    ] {
        assert_eq!(
            calls(service, operation, "ok"),
            1.0,
            "{service} {operation}\n{text}"
        );
    }
    assert_eq!(calls("hydra_admin", "consent_request", "ok"), 1.0, "{text}");
    assert_eq!(
        calls("hydra_admin", "consent_request", "client_error"),
        1.0,
        "Hydra's 404 for the unknown challenge"
    );
    assert!(calls("kratos_public", "whoami", "ok") >= 1.0, "{text}");
    assert_eq!(
        sample(
            &text,
            "hera_upstream_request_duration_seconds_count{service=\"hydra_admin\",operation=\"login_request\"}"
        ),
        1.0
    );
}

#[tokio::test]
async fn an_unreachable_upstream_is_counted_as_such() {
    let app = TestApp::spawn_with(|s| {
        with_metrics(s);
        s.kratos_public_url = "http://127.0.0.1:9/".parse().unwrap();
    })
    .await;
    sign_in_ada(&app, Duration::minutes(1));
    let challenge = app.hydra.add_login(Default::default());
    let page = app.get_login(&challenge).await;
    assert_eq!(page.status(), StatusCode::BAD_GATEWAY);
    let text = scrape(&app).await;
    assert_eq!(
        sample(
            &text,
            "hera_upstream_requests_total{service=\"kratos_public\",operation=\"whoami\",outcome=\"unreachable\"}"
        ),
        1.0,
        "{text}"
    );
}

#[tokio::test]
async fn calls_upstream_carry_the_request_id_and_the_callers_trace_context() {
    let app = TestApp::spawn_with(|s| s.trusted_proxy_hops = 1).await;
    let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    sign_in_to_own(
        &app,
        &[
            ("x-request-id", "edge-7f3a"),
            ("traceparent", parent),
            ("tracestate", "vendor=1"),
        ],
    )
    .await;

    let hydra = app.hydra.requests();
    let kratos = app.kratos.requests();
    assert!(hydra.len() >= 4 && !kratos.is_empty());
    for call in hydra.iter().chain(&kratos) {
        let what = format!("{} {}", call.method, call.path);
        assert_eq!(call.header("x-request-id"), Some("edge-7f3a"), "{what}");
        // Hera exports no traces here, so the caller's context goes on unchanged and Hydra's
        // and Kratos's spans join the caller's trace.
        assert_eq!(call.header("traceparent"), Some(parent), "{what}");
        assert_eq!(call.header("tracestate"), Some("vendor=1"), "{what}");
    }

    let direct = TestApp::spawn().await;
    sign_in_to_own(&direct, &[("x-request-id", "edge-7f3a")]).await;
    for call in direct.hydra.requests() {
        let id = call.header("x-request-id").expect("Hera's own id");
        assert_ne!(id, "edge-7f3a", "anyone could have sent it");
        assert!(call.header("traceparent").is_none());
    }
}

#[tokio::test]
async fn admin_calls_carry_the_admin_tokens_and_public_calls_never_do() {
    let app = TestApp::spawn_with(|s| {
        s.admin_access.hydra_token = Some("hydra-admin-token".parse().unwrap());
        s.admin_access.kratos_token = Some("kratos-admin-token".parse().unwrap());
        s.admin_access.hydra_forwarded_https = true;
    })
    .await;
    sign_in_to_own(&app, &[]).await;

    let hydra = app.hydra.requests();
    assert!(hydra.len() >= 4);
    for call in &hydra {
        let what = format!("{} {}", call.method, call.path);
        assert_eq!(
            call.header("authorization"),
            Some("Bearer hydra-admin-token"),
            "{what}"
        );
        assert_eq!(call.header("x-forwarded-proto"), Some("https"), "{what}");
    }
    let kratos = app.kratos.requests();
    let (admin, public): (Vec<_>, Vec<_>) = kratos
        .iter()
        .partition(|call| call.path.starts_with("/admin/"));
    assert!(!admin.is_empty() && !public.is_empty());
    for call in admin {
        assert_eq!(
            call.header("authorization"),
            Some("Bearer kratos-admin-token"),
            "{} {}",
            call.method,
            call.path
        );
    }
    for call in public {
        assert_eq!(call.header("authorization"), None, "{}", call.path);
        assert_eq!(call.header("x-forwarded-proto"), None, "{}", call.path);
    }
    for call in app.public.requests() {
        assert!(
            call.header("authorization")
                .is_none_or(|auth| !auth.contains("admin-token")),
            "{}",
            call.path
        );
    }
}
