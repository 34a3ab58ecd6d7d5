//! `hera clients plan|apply` (the binary) against Hydra's real admin API: create, a second run
//! that changes nothing, an update, and `--prune`, which deletes only what Hera wrote.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use crate::stack::{send, Stack};

/// Runs `hera clients <args>` against the stack's Hydra; returns the exit code and stdout.
fn hera_clients(stack: &Stack, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_hera"))
        .arg("clients")
        .args(args)
        .env("HYDRA_ADMIN_URL", &stack.ory.hydra_admin)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    (
        output.status.code().unwrap_or(-1),
        format!("{stdout}{stderr}"),
    )
}

async fn hydra_client(stack: &Stack, id: &str) -> (u16, Value) {
    send(
        stack
            .http
            .get(format!("{}/admin/clients/{id}", stack.ory.hydra_admin)),
    )
    .await
}

fn write(dir: &Path, name: &str, client: &Value) {
    std::fs::write(
        dir.join(name),
        serde_json::to_string_pretty(client).unwrap(),
    )
    .unwrap();
}

fn web_client(name: &str) -> Value {
    json!({
        "client_id": "web",
        "client_name": name,
        "client_secret": "env:WEB_CLIENT_SECRET",
        "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
        "scope": "openid offline_access email orders.read",
        "redirect_uris": ["https://web.example.com/callback"],
        "post_logout_redirect_uris": ["https://web.example.com/"],
    })
}

#[tokio::test]
async fn clients_are_created_left_alone_updated_and_pruned() {
    let stack = Stack::start().await;
    let dir = tempdir();
    let secret = [("WEB_CLIENT_SECRET", "web-client-secret-0123456789")];
    write(dir.path(), "web.json", &web_client("Web shop"));
    write(
        dir.path(),
        "cli.json",
        &json!({
            "client_id": "cli",
            "client_name": "Command line",
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "scope": "openid offline_access",
            "redirect_uris": ["http://127.0.0.1/callback"],
        }),
    );
    // A client someone created by hand: never Hera's to delete.
    let by_hand = stack
        .http
        .post(format!("{}/admin/clients", stack.ory.hydra_admin))
        .json(&json!({"client_id": "by-hand", "scope": "openid"}))
        .send()
        .await
        .unwrap();
    assert_eq!(by_hand.status(), 201);
    let folder = dir.path().to_str().unwrap();

    let (code, out) = hera_clients(&stack, &["plan", folder], &secret);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("+ create cli"), "{out}");
    assert!(out.contains("+ create web"), "{out}");
    assert!(out.contains("Plan: 2 to create, 0 to update"), "{out}");
    assert_eq!(
        hydra_client(&stack, "web").await.0,
        404,
        "plan changes nothing"
    );

    let (code, out) = hera_clients(&stack, &["apply", folder], &secret);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Applied: 2 created"), "{out}");
    assert!(
        !out.contains("web-client-secret"),
        "a secret was printed: {out}"
    );
    let (_, web) = hydra_client(&stack, "web").await;
    assert_eq!(web["client_name"], "Web shop");
    assert_eq!(web["metadata"]["managed_by"], "hera");
    // The secret from the environment is the one Hydra checks.
    let token = stack
        .http
        .post(format!("{}/oauth2/token", stack.ory.hydra_public))
        .basic_auth("web", Some(secret[0].1))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "orders.read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200, "{}", token.text().await.unwrap());

    // Hydra's defaults and its own fields compare as equal: nothing to do.
    let (code, out) = hera_clients(&stack, &["apply", folder], &secret);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!(
            "No changes: Hydra already matched the 2 clients in {folder}"
        )),
        "{out}"
    );

    write(dir.path(), "web.json", &web_client("Web shop (new)"));
    let (code, out) = hera_clients(&stack, &["plan", folder], &secret);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("~ update web"), "{out}");
    assert!(out.contains("Web shop (new)"), "{out}");
    let (code, out) = hera_clients(&stack, &["apply", folder], &secret);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Applied: 0 created, 1 updated"), "{out}");
    assert_eq!(
        hydra_client(&stack, "web").await.1["client_name"],
        "Web shop (new)"
    );

    std::fs::remove_file(dir.path().join("cli.json")).unwrap();
    let (code, out) = hera_clients(&stack, &["apply", "--prune", folder], &secret);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("- deleted cli"), "{out}");
    assert_eq!(hydra_client(&stack, "cli").await.0, 404);
    assert_eq!(hydra_client(&stack, "by-hand").await.0, 200);
    assert_eq!(hydra_client(&stack, "web").await.0, 200);
}

#[tokio::test]
async fn the_local_stack_clients_apply_to_a_fresh_hydra_and_then_stay_unchanged() {
    let stack = Stack::start().await;
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/local/clients");
    let secrets = [
        ("DEMO_PHOTOS_CLIENT_SECRET", "demo-photos-secret-0123456789"),
        (
            "DEMO_ACCOUNT_CLIENT_SECRET",
            "demo-account-secret-0123456789",
        ),
    ];
    let (code, out) = hera_clients(&stack, &["apply", folder], &secrets);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Applied: 2 created"), "{out}");
    let (code, out) = hera_clients(&stack, &["apply", folder], &secrets);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("No changes"), "{out}");
    let (_, account) = hydra_client(&stack, "demo-account").await;
    assert_eq!(account["metadata"]["first_party"], true);
}

/// A temporary folder, removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempdir() -> TempDir {
    let dir = std::env::temp_dir().join(format!(
        "hera-clients-{}",
        crate::support::fake_hydra::random_hex(8)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}
