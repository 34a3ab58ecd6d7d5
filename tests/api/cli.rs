//! The `hera` binary's settings: documented in `--help`, refused with the variable's name.

use std::process::Command;

const VARIABLES: [&str; 25] = [
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
    "RUST_LOG",
];

fn hera() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hera"));
    for variable in VARIABLES {
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
