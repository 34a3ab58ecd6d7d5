//! The `hera` binary's settings: documented in `--help`, refused with the variable's name.

use std::process::Command;

const VARIABLES: [&str; 33] = [
    "HYDRA_ADMIN_URL",
    "KRATOS_PUBLIC_URL",
    "KRATOS_BROWSER_URL",
    "KRATOS_ADMIN_URL",
    "HERA_BIND",
    "HERA_PUBLIC_URL",
    "HERA_COOKIE_SECRET",
    "TRUSTED_CLIENT_IDS",
    "REMEMBER_CONSENT_SESSION_FOR_SECONDS",
    "HERA_LOG_FORMAT",
    "HERA_UPSTREAM_CONNECT_TIMEOUT_MS",
    "HERA_UPSTREAM_TIMEOUT_MS",
    "HERA_MFA_ACR_VALUES",
    "HERA_ACR_AAL1",
    "HERA_ACR_AAL2",
    "HERA_EXTEND_SESSION_LIFESPAN",
    "HYDRA_PUBLIC_URL",
    "HERA_BRIDGE_ALLOWED_ORIGINS",
    "HERA_BRIDGE_CLIENT_ID",
    "HERA_BRIDGE_CLIENT_SECRET",
    "HERA_SESSION_EXTEND_INTERVAL_SECONDS",
    "HERA_KRATOS_LOGOUT",
    "HERA_TRUSTED_PROXY_HOPS",
    "HERA_SERVER_TIMING",
    "HERA_AUTO_CONSENT_REMEMBER_FOR_SECONDS",
    "HERA_METRICS_BIND",
    "HERA_SHUTDOWN_TIMEOUT_SECONDS",
    "HERA_LOCALES_DIR",
    "HERA_SCOPES_FILE",
    "HERA_PRODUCT_NAME",
    "HERA_LOGO_FILE",
    "HERA_FAVICON_FILE",
    "RUST_LOG",
];

fn hera() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hera"));
    for variable in VARIABLES {
        command.env_remove(variable);
    }
    for variable in [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ] {
        command.env_remove(variable);
    }
    command
}

#[test]
fn help_documents_every_setting() {
    let output = hera().arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for variable in &VARIABLES[..VARIABLES.len() - 1] {
        assert!(
            help.contains(variable),
            "--help does not mention {variable}:\n{help}"
        );
    }
}

#[test]
fn a_bad_value_exits_non_zero_naming_the_variable() {
    let cases = [
        ("HYDRA_ADMIN_URL", "not a url"),
        ("HERA_BIND", "nowhere"),
        ("HERA_COOKIE_SECRET", "too-short"),
        ("REMEMBER_CONSENT_SESSION_FOR_SECONDS", "soon"),
        ("HERA_LOG_FORMAT", "xml"),
        ("HERA_EXTEND_SESSION_LIFESPAN", "perhaps"),
        ("HERA_ACR_AAL2", "two words"),
        (
            "HERA_BRIDGE_ALLOWED_ORIGINS",
            "https://app.example.com/path",
        ),
        ("HYDRA_PUBLIC_URL", "ftp://hydra"),
        ("HERA_KRATOS_LOGOUT", "kratos"),
        ("HERA_TRUSTED_PROXY_HOPS", "-1"),
        ("HERA_AUTO_CONSENT_REMEMBER_FOR_SECONDS", "0"),
        ("HERA_METRICS_BIND", "localhost"),
        ("HERA_SHUTDOWN_TIMEOUT_SECONDS", "soon"),
        ("HERA_SCOPES_FILE", "/nonexistent/scopes.toml"),
        ("HERA_LOCALES_DIR", "/nonexistent/locales"),
        ("HERA_LOGO_FILE", "/etc/hostname"),
        ("HERA_FAVICON_FILE", "/nonexistent/icon.png"),
    ];
    for (variable, value) in cases {
        let output = hera().env(variable, value).output().unwrap();
        assert!(!output.status.success(), "{variable}={value} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(variable), "{variable}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn a_taken_port_exits_non_zero_with_a_message() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let output = hera().env("HERA_BIND", &address).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("could not start"));
}

/// Reads the child's stderr until a line contains `needle`, or gives up after 20 s.
fn read_until(
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
    needle: &str,
) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.contains(needle);
        seen.push(line);
        if done || std::time::Instant::now() > deadline {
            break;
        }
    }
    seen
}

#[test]
fn the_binary_serves_and_logs_json_lines_warning_about_a_missing_cookie_secret() {
    use std::io::BufRead;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = hera()
        .env("HERA_BIND", format!("127.0.0.1:{port}"))
        .env("HERA_LOG_FORMAT", "json")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let startup = read_until(&mut lines, "Hera is listening");

    let alive = std::net::TcpStream::connect(("127.0.0.1", port)).and_then(|mut stream| {
        use std::io::{Read, Write};
        stream.write_all(b"GET /health/alive HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok(answer)
    });
    child.kill().unwrap();
    child.wait().unwrap();

    assert!(alive.unwrap().starts_with("HTTP/1.1 200"));
    assert!(
        startup.iter().any(|l| l.contains("Hera is listening")),
        "{startup:#?}"
    );
    for line in &startup {
        let parsed: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        assert!(parsed.get("level").is_some(), "{line}");
    }
    assert!(
        startup
            .iter()
            .any(|l| l.contains("HERA_COOKIE_SECRET is not set")),
        "no warning about the random cookie key: {startup:#?}"
    );
}

#[test]
fn version_names_the_release_and_the_commit() {
    let output = hera().arg("--version").output().unwrap();
    assert!(output.status.success());
    let version = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        version.trim(),
        format!(
            "hera {} (commit {})",
            env!("CARGO_PKG_VERSION"),
            hera::GIT_COMMIT
        )
    );
}

#[test]
fn sigterm_drains_and_exits_cleanly() {
    use std::io::BufRead;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = hera()
        .env("HERA_BIND", format!("127.0.0.1:{port}"))
        .env("HERA_SHUTDOWN_TIMEOUT_SECONDS", "1")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    read_until(&mut lines, "Hera is listening");
    let started = std::time::Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let drained = read_until(&mut lines, "shutting down");
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(
        drained.iter().any(|l| l.contains("shutting down")),
        "{drained:#?}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

/// A stand-in OTLP/HTTP collector: keeps the body of every `POST /v1/traces`.
async fn collector() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>) {
    use actix_web::{web, App, HttpResponse, HttpServer};
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = bodies.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let server = HttpServer::new(move || {
        let kept = kept.clone();
        App::new().route(
            "/v1/traces",
            web::post().to(move |body: web::Bytes| {
                let kept = kept.clone();
                async move {
                    kept.lock().unwrap().push(body.to_vec());
                    HttpResponse::Ok().finish()
                }
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (url, bodies)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[tokio::test]
async fn traces_go_to_the_otlp_endpoint_with_the_callers_trace_and_a_span_per_upstream_call() {
    use std::io::BufRead;
    let (endpoint, bodies) = collector().await;
    let hydra = crate::support::fake_hydra::FakeHydra::start().await;
    let challenge = hydra.add_login(Default::default());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = hera()
        .env("HERA_BIND", format!("127.0.0.1:{port}"))
        .env("HYDRA_ADMIN_URL", &hydra.url)
        .env("HERA_SHUTDOWN_TIMEOUT_SECONDS", "1")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .env("OTEL_SERVICE_NAME", "hera-under-test")
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let started = read_until(&mut lines, "Hera is listening");
    assert!(
        started.iter().any(|l| l.contains("traces are exported")),
        "{started:#?}"
    );

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let answer = reqwest::Client::new()
        .get(format!(
            "http://127.0.0.1:{port}/login?login_challenge={challenge}"
        ))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_redirection() || answer.status().is_server_error());
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();

    let exported: Vec<u8> = bodies.lock().unwrap().concat();
    let trace_bytes: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&trace_id[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    assert!(contains(&exported, &trace_bytes), "the caller's trace id");
    assert!(contains(&exported, b"hera-under-test"), "the service name");
    assert!(contains(&exported, b"request"), "the request's span");
    assert!(
        contains(&exported, b"hydra.login_request"),
        "a child span for the call to Hydra"
    );
    assert!(
        !contains(&exported, challenge.as_bytes()),
        "challenges never reach traces"
    );
}

#[test]
fn without_the_otel_variables_nothing_is_exported() {
    use std::io::BufRead;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = hera()
        .env("HERA_BIND", format!("127.0.0.1:{port}"))
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let started = read_until(&mut lines, "Hera is listening");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!started.iter().any(|l| l.contains("traces are exported")));
}

#[tokio::test]
async fn health_exits_0_while_the_server_answers_and_1_when_it_does_not() {
    let app = crate::support::TestApp::spawn().await;
    let bind = app.address.trim_start_matches("http://").to_owned();
    // The test's runtime serves Hera, so the probe runs off it.
    let output = tokio::task::spawn_blocking(move || {
        hera()
            .args(["health"])
            .env("HERA_BIND", bind)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let closed = crate::support::closed_port_url();
    let closed = format!("0.0.0.0:{}", closed.port().unwrap());
    let output = hera()
        .args(["health"])
        .env("HERA_BIND", &closed)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("/health/alive did not answer 200"),
        "{stderr}"
    );
    assert!(
        stderr.contains("127.0.0.1:"),
        "probed on loopback: {stderr}"
    );
}

#[test]
fn text_logs_written_to_a_pipe_carry_no_colour_codes() {
    use std::io::BufRead;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = hera()
        .env("HERA_BIND", format!("127.0.0.1:{port}"))
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let startup = read_until(&mut lines, "Hera is listening");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        startup.iter().any(|l| l.contains("Hera is listening")),
        "{startup:#?}"
    );
    assert!(
        !startup.iter().any(|l| l.contains('\u{1b}')),
        "escape codes in a piped log: {startup:#?}"
    );
}
