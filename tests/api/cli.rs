//! The `hera` binary's settings: documented in `--help`, refused with the variable's name.

use std::process::Command;

const VARIABLES: [&str; 13] = [
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
    for variable in &VARIABLES[..12] {
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
