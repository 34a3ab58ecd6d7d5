//! `hera clients plan|apply`: the real binary against the fake Hydra admin API.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::support::closed_port_url;
use crate::support::fake_hydra::{random_hex, with, FakeHydra};

/// Every variable the binary reads, cleared so the developer's environment cannot leak in.
const VARIABLES: [&str; 7] = [
    "HYDRA_ADMIN_URL",
    "HERA_UPSTREAM_CONNECT_TIMEOUT_MS",
    "HERA_UPSTREAM_TIMEOUT_MS",
    "WEB_SECRET",
    "EXAMPLE_ACCOUNT_CLIENT_SECRET",
    "PHOTO_PRINTER_CLIENT_SECRET",
    "EXAMPLE_SHOP_BFF_CLIENT_SECRET",
];

const WEB_SECRET: &str = "web-secret-0123456789abcdef";

/// A client folder in the temp directory, removed when dropped.
struct Folder(PathBuf);

impl Folder {
    fn new(files: &[(&str, Value)]) -> Folder {
        let path = std::env::temp_dir().join(format!("hera-clients-{}", random_hex(8)));
        std::fs::create_dir_all(&path).unwrap();
        let folder = Folder(path);
        for (name, content) in files {
            folder.write(name, &serde_json::to_string_pretty(content).unwrap());
        }
        folder
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.0.join(name), text).unwrap();
    }

    fn remove(&self, name: &str) {
        std::fs::remove_file(self.0.join(name)).unwrap();
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn assert_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts no secret ever reaches the output.
    fn assert_no_secret(&self, secrets: &[&str]) {
        for secret in secrets {
            assert!(
                !self.stdout.contains(secret),
                "stdout shows a secret:\n{}",
                self.stdout
            );
            assert!(
                !self.stderr.contains(secret),
                "stderr shows a secret:\n{}",
                self.stderr
            );
        }
    }
}

/// Runs `hera clients <args>` against `hydra_url` with `env` set.
fn hera_clients(hydra_url: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hera"));
    for variable in VARIABLES {
        command.env_remove(variable);
    }
    let output = command
        .arg("clients")
        .args(args)
        .env("HYDRA_ADMIN_URL", hydra_url)
        .env("HERA_UPSTREAM_TIMEOUT_MS", "3000")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn run(hydra: &FakeHydra, args: &[&str]) -> Run {
    hera_clients(&hydra.url, args, &[("WEB_SECRET", WEB_SECRET)])
}

/// A confidential server-side client.
fn web() -> Value {
    json!({
        "client_id": "web",
        "client_name": "Web app",
        "client_secret": "env:WEB_SECRET",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": "openid offline_access email",
        "redirect_uris": ["https://web.example.com/callback"],
        "skip_consent": true
    })
}

/// A public single-page app.
fn spa() -> Value {
    json!({
        "client_id": "spa",
        "client_name": "Single-page app",
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "scope": "openid",
        "redirect_uris": ["https://spa.example.com/callback"],
        "metadata": {"first_party": true}
    })
}

fn public(id: &str) -> Value {
    json!({
        "client_id": id,
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code"],
        "scope": "openid",
        "redirect_uris": [format!("https://{id}.example.com/cb")]
    })
}

#[tokio::test]
async fn apply_creates_each_client_with_its_secret_and_marks_it_as_managed_by_hera() {
    let hydra = FakeHydra::start().await;
    let folder = Folder::new(&[("web.json", web()), ("spa.json", spa())]);

    let done = run(&hydra, &["apply", folder.path()]);

    done.assert_code(0).assert_no_secret(&[WEB_SECRET]);
    assert!(done.stdout.contains("+ created spa ("), "{}", done.stdout);
    assert!(done.stdout.contains("+ created web ("), "{}", done.stdout);
    assert!(done
        .stdout
        .contains("    client_secret: **** (from $WEB_SECRET)"));
    assert!(done
        .stdout
        .ends_with("Applied: 2 created, 0 updated, 0 deleted, 0 unchanged.\n"));
    assert_eq!(
        hydra.calls(),
        [
            "GET /admin/clients/spa",
            "GET /admin/clients/web",
            "POST /admin/clients",
            "POST /admin/clients"
        ]
    );
    let web = hydra.oauth2_client("web").unwrap();
    assert_eq!(web["client_name"], "Web app");
    assert_eq!(web["skip_consent"], true);
    assert_eq!(web["metadata"], json!({"managed_by": "hera"}));
    assert_eq!(
        hydra.oauth2_client_secret("web").as_deref(),
        Some(WEB_SECRET)
    );
    let spa = hydra.oauth2_client("spa").unwrap();
    assert_eq!(
        spa["metadata"],
        json!({"first_party": true, "managed_by": "hera"})
    );
    assert_eq!(spa["token_endpoint_auth_method"], "none");
}

#[tokio::test]
async fn a_second_apply_reports_no_changes_and_writes_nothing() {
    let hydra = FakeHydra::start().await;
    let folder = Folder::new(&[("web.json", web()), ("spa.json", spa())]);
    run(&hydra, &["apply", folder.path()]).assert_code(0);
    let before = hydra.requests().len();

    let again = run(&hydra, &["apply", folder.path()]);

    again.assert_code(0);
    assert_eq!(
        again.stdout,
        format!(
            "= unchanged spa ({0}/spa.json)\n= unchanged web ({0}/web.json)\n\
             No changes: Hydra already matched the 2 clients in {0}.\n",
            folder.path()
        )
    );
    let writes: Vec<String> = hydra.calls()[before..]
        .iter()
        .filter(|call| !call.starts_with("GET "))
        .cloned()
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
}

#[tokio::test]
async fn values_hydra_rewrites_or_fills_in_do_not_count_as_changes() {
    let hydra = FakeHydra::start().await;
    let folder = Folder::new(&[(
        "web.json",
        json!({
            "client_id": "web",
            "client_secret": "env:WEB_SECRET",
            "scope": "openid",
            "redirect_uris": ["https://web.example.com/callback"],
            "allowed_cors_origins": ["https://web.example.com/"],
            "refresh_token_grant_refresh_token_lifespan": "720h",
            "authorization_code_grant_access_token_lifespan": "90m",
            "contacts": null,
            "created_at": "2020-01-01T00:00:00Z"
        }),
    )]);
    let first = run(&hydra, &["apply", folder.path()]);
    first.assert_code(0);
    assert!(first
        .stdout
        .contains("warning: `created_at` is set by Hydra; the value in the file is ignored"));
    let stored = hydra.oauth2_client("web").unwrap();
    assert_eq!(
        stored["authorization_code_grant_access_token_lifespan"],
        "1h30m0s"
    );
    assert_eq!(
        stored["allowed_cors_origins"],
        json!(["https://web.example.com"])
    );

    let plan = run(&hydra, &["plan", folder.path()]);

    plan.assert_code(0);
    assert_eq!(
        plan.stdout,
        format!(
            "= unchanged web ({0}/web.json)\n    warning: `created_at` is set by Hydra; the value in the file is ignored\n\
             No changes: Hydra matches the 1 client in {0}.\n",
            folder.path()
        )
    );
}

#[tokio::test]
async fn plan_prints_each_change_field_by_field_with_secrets_masked_and_changes_nothing() {
    let hydra = FakeHydra::start().await;
    hydra.add_oauth2_client(with(
        web(),
        json!({
            "client_name": "Old name",
            "client_secret": "the-old-secret-in-hydra",
            "redirect_uris": ["https://old.example.com/callback"],
            "metadata": {"managed_by": "hera"}
        }),
    ));
    let other = with(
        web(),
        json!({"client_id": "other", "redirect_uris": ["https://other.example.com/cb"]}),
    );
    let folder = Folder::new(&[
        ("web.json", web()),
        ("other.json", other),
        ("spa.json", spa()),
    ]);
    let before = hydra.oauth2_client("web").unwrap();

    let plan = run(&hydra, &["plan", folder.path()]);

    plan.assert_code(0)
        .assert_no_secret(&[WEB_SECRET, "the-old-secret-in-hydra"]);
    let path = folder.path();
    let expected = format!(
        "+ create other ({path}/other.json)
    client_id: \"other\"
    client_name: \"Web app\"
    client_secret: **** (from $WEB_SECRET)
    grant_types: [\"authorization_code\",\"refresh_token\"]
    response_types: [\"code\"]
    scope: \"openid offline_access email\"
    redirect_uris: [\"https://other.example.com/cb\"]
    skip_consent: true
    metadata: {{\"managed_by\":\"hera\"}}
+ create spa ({path}/spa.json)
    client_id: \"spa\"
    client_name: \"Single-page app\"
    token_endpoint_auth_method: \"none\"
    grant_types: [\"authorization_code\"]
    response_types: [\"code\"]
    scope: \"openid\"
    redirect_uris: [\"https://spa.example.com/callback\"]
    metadata: {{\"first_party\":true,\"managed_by\":\"hera\"}}
~ update web ({path}/web.json)
    client_name: \"Old name\" → \"Web app\"
    redirect_uris: [\"https://old.example.com/callback\"] → [\"https://web.example.com/callback\"]
    client_secret: kept (Hydra never returns secrets, so they cannot be compared; --replace-secrets sends it)
Plan: 2 to create, 1 to update, 0 to delete, 0 unchanged.
"
    );
    assert_eq!(plan.stdout, expected);
    assert!(hydra.calls().iter().all(|call| call.starts_with("GET ")));
    assert_eq!(hydra.oauth2_client("web").unwrap(), before);
    assert_eq!(hydra.oauth2_client_ids(), ["web"]);

    let replacing = run(&hydra, &["plan", "--replace-secrets", folder.path()]);
    assert!(replacing
        .stdout
        .contains("    client_secret: replaced by **** (from $WEB_SECRET)\n"));
    replacing.assert_no_secret(&[WEB_SECRET]);
}

#[tokio::test]
async fn apply_replaces_a_changed_client_and_keeps_its_secret() {
    let hydra = FakeHydra::start().await;
    hydra.add_oauth2_client(with(
        web(),
        json!({
            "client_name": "Old name",
            "client_secret": "the-old-secret-in-hydra",
            "client_uri": "https://old.example.com",
            "metadata": {"managed_by": "hera"}
        }),
    ));
    let folder = Folder::new(&[("web.json", web())]);

    let done = run(&hydra, &["apply", folder.path()]);

    done.assert_code(0);
    assert!(done.stdout.contains(&format!(
        "~ updated web ({}/web.json)\n    client_name: \"Old name\" → \"Web app\"\n    client_uri: \"https://old.example.com\" → \"\"\n",
        folder.path()
    )), "{}", done.stdout);
    let put = hydra
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT")
        .unwrap();
    assert_eq!(put.path, "/admin/clients/web");
    let body = put.body.unwrap();
    assert!(body.get("client_secret").is_none(), "{body}");
    assert!(body.get("client_uri").is_none(), "{body}");
    let stored = hydra.oauth2_client("web").unwrap();
    assert_eq!(stored["client_name"], "Web app");
    assert_eq!(
        stored["client_uri"], "",
        "PUT resets what the file leaves out"
    );
    assert_eq!(
        hydra.oauth2_client_secret("web").as_deref(),
        Some("the-old-secret-in-hydra")
    );
}

#[tokio::test]
async fn replace_secrets_sends_the_secret_to_clients_that_exist() {
    let hydra = FakeHydra::start().await;
    hydra.add_oauth2_client(with(
        web(),
        json!({"client_secret": "the-old-secret-in-hydra", "metadata": {"managed_by": "hera"}}),
    ));
    let folder = Folder::new(&[("web.json", web()), ("spa.json", spa())]);
    run(&hydra, &["apply", folder.path()]).assert_code(0);
    assert_eq!(
        hydra.oauth2_client_secret("web").as_deref(),
        Some("the-old-secret-in-hydra"),
        "a plain apply never replaces a secret"
    );

    let done = run(&hydra, &["apply", "--replace-secrets", folder.path()]);

    done.assert_code(0).assert_no_secret(&[WEB_SECRET]);
    assert!(done.stdout.contains("~ updated web"), "{}", done.stdout);
    assert!(done.stdout.contains("= unchanged spa"), "{}", done.stdout);
    assert_eq!(
        hydra.oauth2_client_secret("web").as_deref(),
        Some(WEB_SECRET)
    );
}

#[tokio::test]
async fn prune_deletes_only_hera_managed_clients_that_have_no_file() {
    let hydra = FakeHydra::start().await;
    // More clients than one page (1000) holds, so pruning must follow the Link header.
    for n in 0..1001 {
        hydra.add_oauth2_client(public(&format!("bulk-{n:04}")));
    }
    hydra.add_oauth2_client(with(
        public("terraformed"),
        json!({"metadata": {"managed_by": "terraform"}}),
    ));
    let folder = Folder::new(&[
        ("web.json", web()),
        ("retired.json", public("retired")),
        ("zz-retired.json", public("zz-retired-on-page-two")),
    ]);
    run(&hydra, &["apply", folder.path()]).assert_code(0);
    folder.remove("retired.json");
    folder.remove("zz-retired.json");

    let without_prune = run(&hydra, &["apply", folder.path()]);
    without_prune.assert_code(0);
    assert!(!hydra.calls().iter().any(|c| c.starts_with("DELETE")));

    let plan = run(&hydra, &["plan", "--prune", folder.path()]);
    plan.assert_code(0);
    assert!(
        plan.stdout.ends_with(
            "- delete retired (managed by Hera, and no file defines it any more)\n\
             - delete zz-retired-on-page-two (managed by Hera, and no file defines it any more)\n\
             Plan: 0 to create, 0 to update, 2 to delete, 1 unchanged.\n"
        ),
        "{}",
        plan.stdout
    );

    let done = run(&hydra, &["apply", "--prune", folder.path()]);

    done.assert_code(0);
    assert!(done.stdout.ends_with(
        "- deleted retired\n- deleted zz-retired-on-page-two\n\
         Applied: 0 created, 0 updated, 2 deleted, 1 unchanged.\n"
    ));
    let deletes: Vec<String> = hydra
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("DELETE"))
        .collect();
    assert_eq!(
        deletes,
        [
            "DELETE /admin/clients/retired",
            "DELETE /admin/clients/zz-retired-on-page-two"
        ]
    );
    let ids = hydra.oauth2_client_ids();
    assert_eq!(ids.len(), 1003, "1001 bulk, terraformed and web remain");
    assert!(ids.contains(&"terraformed".to_owned()));
    assert!(ids.contains(&"web".to_owned()));
    let pages: Vec<_> = hydra
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == "/admin/clients")
        .collect();
    assert_eq!(pages.len(), 4, "two pages for the plan, two for the apply");
    assert_eq!(pages[0].query_param("page_token"), None);
    assert!(pages[1].query_param("page_token").is_some());
}

#[tokio::test]
async fn a_client_created_between_plan_and_post_is_replaced_instead() {
    let hydra = FakeHydra::start().await;
    hydra.create_client_before_next_post(with(
        web(),
        json!({"client_name": "Someone else's", "client_secret": "someone-elses-secret"}),
    ));
    let folder = Folder::new(&[("web.json", web())]);

    let done = run(&hydra, &["apply", folder.path()]);

    done.assert_code(0)
        .assert_no_secret(&[WEB_SECRET, "someone-elses-secret"]);
    assert!(done.stdout.contains("+ created web"), "{}", done.stdout);
    assert!(done.stdout.contains(
        "    note: Hydra already had this client (it was created after the plan was made); it was replaced to match the file, secret included\n"
    ), "{}", done.stdout);
    assert_eq!(
        hydra.calls(),
        [
            "GET /admin/clients/web",
            "POST /admin/clients",
            "PUT /admin/clients/web"
        ]
    );
    let stored = hydra.oauth2_client("web").unwrap();
    assert_eq!(stored["client_name"], "Web app");
    assert_eq!(stored["metadata"]["managed_by"], "hera");
    assert_eq!(
        hydra.oauth2_client_secret("web").as_deref(),
        Some(WEB_SECRET)
    );
    run(&hydra, &["apply", folder.path()]).assert_code(0);
}

#[tokio::test]
async fn hydra_down_exits_2_and_nothing_is_reported_as_done() {
    let folder = Folder::new(&[("web.json", web())]);
    for command in ["plan", "apply"] {
        let url = closed_port_url();
        let failed = hera_clients(
            url.as_str(),
            &[command, folder.path()],
            &[("WEB_SECRET", WEB_SECRET)],
        );
        failed.assert_code(2).assert_no_secret(&[WEB_SECRET]);
        assert_eq!(failed.stdout, "", "{command}");
        assert!(
            failed
                .stderr
                .starts_with("error: could not read client \"web\" from Hydra: Hydra admin API could not be reached"),
            "{command}: {}",
            failed.stderr
        );
        assert!(
            failed.stderr.ends_with("Nothing was changed.\n"),
            "{}",
            failed.stderr
        );
    }
}

#[tokio::test]
async fn a_hydra_failure_during_apply_stops_and_reports_only_what_was_done() {
    let hydra = FakeHydra::start().await;
    hydra.add_oauth2_client(with(
        public("b-gone"),
        json!({"metadata": {"managed_by": "hera"}}),
    ));
    hydra.fail_client_writes("b", 500);
    let folder = Folder::new(&[
        ("a.json", public("a")),
        ("b.json", public("b")),
        ("c.json", public("c")),
    ]);

    let failed = run(&hydra, &["apply", "--prune", folder.path()]);

    failed.assert_code(2);
    assert!(
        failed.stdout.starts_with("+ created a ("),
        "{}",
        failed.stdout
    );
    assert!(!failed.stdout.contains(" b "), "{}", failed.stdout);
    assert!(!failed.stdout.contains("created c"), "{}", failed.stdout);
    assert!(!failed.stdout.contains("Applied"), "{}", failed.stdout);
    assert_eq!(
        failed.stderr,
        format!(
            "error: could not create client \"b\" ({}/b.json): Hydra admin API answered HTTP 500\n\
             Stopped after 1 change; not attempted: c, b-gone (delete). Run `hera clients plan` to see what is left.\n",
            folder.path()
        )
    );
    assert_eq!(hydra.oauth2_client_ids(), ["a", "b-gone"]);
}

#[tokio::test]
async fn invalid_files_exit_1_name_every_problem_and_send_nothing() {
    let hydra = FakeHydra::start().await;
    let folder = Folder::new(&[
        ("good.json", spa()),
        (
            "literal.json",
            with(web(), json!({"client_secret": "a-literal-secret-value"})),
        ),
        (
            "loose.json",
            with(
                public("loose"),
                json!({"redirect_uris": ["http://app.example.com/cb"], "skip_consent": "true"}),
            ),
        ),
        ("twin.json", with(spa(), json!({"client_name": "Twin"}))),
    ]);
    folder.write(
        "broken.json",
        "{\n  \"client_id\": \"broken\",\n  \"scope\" \"openid\"\n}\n",
    );
    folder.write("notes.txt", "not a client file");

    let failed = run(&hydra, &["apply", folder.path()]);

    failed
        .assert_code(1)
        .assert_no_secret(&["a-literal-secret-value"]);
    assert_eq!(failed.stdout, "");
    let path = folder.path();
    for expected in [
        format!("error: {path}/broken.json:3:11: invalid JSON: expected `:`"),
        format!("error: {path}/literal.json: client_secret holds a literal secret, which is refused"),
        format!("error: {path}/loose.json: redirect_uris[0] \"http://app.example.com/cb\" must use https"),
        format!("error: {path}/loose.json: skip_consent must be a boolean (true or false), found a string \"true\""),
        format!("error: {path}/good.json: client_id \"spa\" is also defined in {path}/twin.json"),
        format!("error: {path}/twin.json: client_id \"spa\" is also defined in {path}/good.json"),
    ] {
        assert!(failed.stderr.contains(&expected), "missing {expected:?} in:\n{}", failed.stderr);
    }
    assert!(failed.stderr.ends_with(&format!(
        "6 problems in {path}; nothing was sent to Hydra.\n"
    )));
    assert!(hydra.requests().is_empty(), "{:?}", hydra.calls());
}

#[tokio::test]
async fn an_empty_or_missing_folder_is_refused() {
    let hydra = FakeHydra::start().await;
    let empty = Folder::new(&[]);
    let failed = run(&hydra, &["apply", "--prune", empty.path()]);
    failed.assert_code(1);
    assert!(
        failed.stderr.contains("holds no *.json client files"),
        "{}",
        failed.stderr
    );
    let missing = run(&hydra, &["plan", "/nonexistent/hydra-clients"]);
    missing.assert_code(1);
    assert!(
        missing.stderr.contains("cannot read the folder"),
        "{}",
        missing.stderr
    );
    assert!(hydra.requests().is_empty());
}

#[tokio::test]
async fn a_public_first_party_client_with_a_loopback_redirect_is_planned_with_a_warning() {
    let hydra = FakeHydra::start().await;
    let native = with(
        spa(),
        json!({"redirect_uris": ["http://127.0.0.1:8080/callback"]}),
    );
    let folder = Folder::new(&[("native.json", native)]);

    let plan = run(&hydra, &["plan", folder.path()]);

    plan.assert_code(0);
    assert!(plan.stdout.contains(
        "    warning: metadata.first_party is not enough to skip consent for this public client: any app on the user's device could receive its redirect \"http://127.0.0.1:8080/callback\", so Hera's consent page still asks the user\n"
    ), "{}", plan.stdout);
}

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("hydra-clients")
}

#[tokio::test]
async fn the_shipped_examples_apply_cleanly_and_a_second_apply_is_a_noop() {
    let hydra = FakeHydra::start().await;
    let dir = shipped();
    let dir = dir.to_str().unwrap();
    let secrets = [
        ("EXAMPLE_ACCOUNT_CLIENT_SECRET", "account-secret-0123456789"),
        ("PHOTO_PRINTER_CLIENT_SECRET", "printer-secret-0123456789"),
        (
            "EXAMPLE_SHOP_BFF_CLIENT_SECRET",
            "shop-bff-secret-0123456789",
        ),
    ];

    let plan = hera_clients(&hydra.url, &["plan", dir], &secrets);
    plan.assert_code(0);
    assert!(plan
        .stdout
        .ends_with("Plan: 5 to create, 0 to update, 0 to delete, 0 unchanged.\n"));
    assert!(!plan.stdout.contains("warning"), "{}", plan.stdout);
    hera_clients(&hydra.url, &["apply", dir], &secrets).assert_code(0);
    let again = hera_clients(&hydra.url, &["apply", dir], &secrets);

    again.assert_code(0).assert_no_secret(&[
        "account-secret-0123456789",
        "printer-secret-0123456789",
        "shop-bff-secret-0123456789",
    ]);
    assert!(again.stdout.ends_with(&format!(
        "No changes: Hydra already matched the 5 clients in {dir}.\n"
    )));
    assert_eq!(
        hydra.oauth2_client_ids(),
        [
            "example-account",
            "example-cli",
            "example-shop-bff",
            "example-spa",
            "photo-printer"
        ]
    );

    let missing = hera_clients(&hydra.url, &["plan", dir], &[]);
    missing.assert_code(1);
    assert!(missing
        .stderr
        .contains("client_secret comes from the environment variable EXAMPLE_ACCOUNT_CLIENT_SECRET, which is not set"));
}

#[test]
fn help_documents_the_clients_commands_and_their_exit_codes() {
    let help = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_hera"))
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    assert!(help(&["--help"]).contains("clients"));
    let clients = help(&["clients", "--help"]);
    assert!(
        clients.contains("plan") && clients.contains("apply"),
        "{clients}"
    );
    for command in ["plan", "apply"] {
        let text = help(&["clients", command, "--help"]);
        for needle in [
            "[DIR]",
            "hydra-clients",
            "--prune",
            "--replace-secrets",
            "HYDRA_ADMIN_URL",
            "HERA_UPSTREAM_TIMEOUT_MS",
            "Exit codes: 0 done; 1 invalid files or arguments",
        ] {
            assert!(
                text.contains(needle),
                "{command} --help lacks {needle}:\n{text}"
            );
        }
    }
}

#[test]
fn bad_arguments_exit_1_and_server_settings_are_not_needed() {
    let output = Command::new(env!("CARGO_BIN_EXE_hera"))
        .args(["clients", "apply", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    // A broken server setting does not stop an admin command.
    let folder = Folder::new(&[]);
    let output = Command::new(env!("CARGO_BIN_EXE_hera"))
        .args(["clients", "plan", folder.path()])
        .env("HERA_BIND", "nowhere")
        .env("HERA_COOKIE_SECRET", "short")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("holds no *.json client files"), "{stderr}");
}

#[tokio::test]
async fn plan_refuses_clients_that_would_weaken_consent_or_leak_tokens() {
    let hydra = FakeHydra::start().await;
    let folder = Folder::new(&[
        (
            "native.json",
            with(
                public("native"),
                json!({"redirect_uris": ["http://127.0.0.1:8080/cb"], "skip_consent": true}),
            ),
        ),
        (
            "implicit.json",
            with(
                web(),
                json!({"client_id": "implicit", "grant_types": ["authorization_code", "implicit"], "response_types": ["code", "token"]}),
            ),
        ),
        (
            "cors.json",
            with(
                spa(),
                json!({"client_id": "cors", "allowed_cors_origins": ["http://spa.example.com"]}),
            ),
        ),
        (
            "tv.json",
            json!({
                "client_id": "tv",
                "token_endpoint_auth_method": "none",
                "grant_types": ["urn:ietf:params:oauth:grant-type:device_code"],
                "scope": "openid",
                "metadata": {"first_party": true}
            }),
        ),
        (
            "bridge.json",
            with(
                spa(),
                json!({"client_id": "bridge", "scope": "openid offline", "redirect_uris": ["com.example.bridge:/cb"], "metadata": {"first_party": true, "session_bridge": true}}),
            ),
        ),
        (
            "exchange.json",
            with(
                public("exchange"),
                json!({"metadata": {"token_exchange": true}}),
            ),
        ),
    ]);

    let plan = run(&hydra, &["plan", folder.path()]);

    plan.assert_code(1);
    let path = folder.path();
    for expected in [
        format!("{path}/native.json: skip_consent on a public client whose redirect \"http://127.0.0.1:8080/cb\" any local app could receive is refused"),
        format!("{path}/implicit.json: grant_types: the \"implicit\" grant is refused"),
        format!("{path}/implicit.json: response_types: \"token\" is refused"),
        format!("{path}/cors.json: allowed_cors_origins[0] \"http://spa.example.com\" must use https"),
        format!("{path}/tv.json: metadata.first_party on a client with the device-code grant"),
        format!("{path}/bridge.json: metadata.session_bridge on a client the session bridge would refuse: it has no web origin"),
        format!("{path}/bridge.json: metadata.session_bridge on a client the session bridge would refuse: its scope lists \"offline\""),
        format!("{path}/exchange.json: metadata.token_exchange on a client token exchange would refuse: it is not first-party"),
    ] {
        assert!(plan.stderr.contains(&expected), "missing {expected:?} in:\n{}", plan.stderr);
    }
    assert!(hydra.requests().is_empty(), "{:?}", hydra.calls());
}

#[tokio::test]
async fn every_call_carries_the_admin_token_and_a_missing_tls_file_is_refused_before_any_call() {
    let hydra = FakeHydra::start().await;
    let folder = Folder::new(&[("web.json", web())]);
    hera_clients(
        &hydra.url,
        &["apply", folder.path()],
        &[
            ("WEB_SECRET", WEB_SECRET),
            ("HYDRA_ADMIN_TOKEN", "ops-gateway-token"),
            ("HERA_HYDRA_ADMIN_FORWARDED_HTTPS", "true"),
        ],
    )
    .assert_code(0)
    .assert_no_secret(&["ops-gateway-token"]);
    let requests = hydra.requests();
    assert_eq!(requests.len(), 2);
    for call in requests {
        assert_eq!(
            call.header("authorization"),
            Some("Bearer ops-gateway-token")
        );
        assert_eq!(call.header("x-forwarded-proto"), Some("https"));
    }

    let refused = hera_clients(
        &hydra.url,
        &["apply", folder.path()],
        &[
            ("WEB_SECRET", WEB_SECRET),
            ("HERA_CA_FILE", "/nonexistent/ca.pem"),
        ],
    );
    refused.assert_code(2);
    assert!(
        refused.stderr.contains("HERA_CA_FILE"),
        "{}",
        refused.stderr
    );
    assert_eq!(hydra.requests().len(), 2, "nothing more was sent");
}
