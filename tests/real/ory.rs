//! Real Ory Hydra and Ory Kratos for one test: the binaries `scripts/ory-install` builds (once
//! per machine; a cached build is found in milliseconds), started in memory with
//! `deploy/local/hydra.yml` and `kratos.yml` on free loopback ports, with a cleared environment
//! plus the variables that point them at this test's Hera and mail sink (`deploy/local/README.md`
//! lists them).
//!
//! Both are killed when the [`Ory`] value is dropped, also when the test fails; a watchdog
//! process kills them if the test process dies without dropping it. Their logs go to files
//! under the target directory, kept and named in the test output when the test fails.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long Hydra and Kratos may take to migrate their in-memory databases and answer their
/// readiness probes (about 0.4 s and 1.5 s on two idle cores).
const STARTUP: Duration = Duration::from_secs(90);

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// The two binaries, as `scripts/ory-install` reports them.
pub struct Binaries {
    pub hydra: PathBuf,
    pub kratos: PathBuf,
}

/// Runs `scripts/ory-install` once per test binary: builds Hydra and Kratos on a machine that
/// has never built them (several minutes; its progress goes straight to the terminal), else
/// just reads the cached paths.
pub fn binaries() -> &'static Binaries {
    static BINARIES: OnceLock<Result<Binaries, String>> = OnceLock::new();
    let result = BINARIES.get_or_init(|| {
        let output = Command::new(Path::new(REPO).join("scripts/ory-install"))
            .current_dir(REPO)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("cannot run scripts/ory-install: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "scripts/ory-install failed ({}); the real-Ory tests need Go >= 1.24 and a C \
                 compiler to build Hydra and Kratos once (see deploy/local/README.md)",
                output.status
            ));
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let path = |name: &str| {
            stdout
                .lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix('='))
                .map(PathBuf::from)
                .ok_or_else(|| format!("scripts/ory-install printed no {name}= line: {stdout}"))
        };
        Ok(Binaries {
            hydra: path("HYDRA")?,
            kratos: path("KRATOS")?,
        })
    });
    match result {
        Ok(binaries) => binaries,
        Err(problem) => panic!("{problem}"),
    }
}

/// What Hydra and Kratos are pointed at.
pub struct Wiring {
    /// Hera's origin (`http://127.0.0.1:PORT`): Hydra's login, consent, logout and error URLs,
    /// Kratos's self-service pages (its `ui_url`s) and return URLs.
    pub hera: String,
    /// The mail sink's URL that Kratos's courier POSTs to.
    pub mail: String,
    /// Extra Kratos settings for this test (`SESSION_WHOAMI_REQUIRED_AAL`, …).
    pub kratos_env: Vec<(String, String)>,
}

/// A running Hydra and Kratos.
pub struct Ory {
    pub hydra_public: String,
    pub hydra_admin: String,
    pub kratos_public: String,
    pub kratos_admin: String,
    hydra: Process,
    kratos: Process,
    logs: PathBuf,
}

impl Ory {
    /// Starts both and waits until each answers its readiness probes. A port another process
    /// took in the meantime is retried on new ports.
    pub async fn start(wiring: &Wiring) -> Ory {
        let binaries = binaries();
        let mut failure = String::new();
        for _ in 0..3 {
            let logs = log_dir();
            let [hp, ha, kp, ka] = [free_port(), free_port(), free_port(), free_port()];
            let mut ory = Ory {
                hydra_public: format!("http://127.0.0.1:{hp}"),
                hydra_admin: format!("http://127.0.0.1:{ha}"),
                kratos_public: format!("http://127.0.0.1:{kp}"),
                kratos_admin: format!("http://127.0.0.1:{ka}"),
                hydra: Process::spawn(
                    "hydra",
                    &binaries.hydra,
                    &["serve", "all", "--dev", "--sqa-opt-out"],
                    "deploy/local/hydra.yml",
                    &hydra_env(wiring, hp, ha, ka),
                    &logs,
                ),
                kratos: Process::spawn(
                    "kratos",
                    &binaries.kratos,
                    &["serve", "--dev", "--watch-courier", "--sqa-opt-out"],
                    "deploy/local/kratos.yml",
                    &kratos_env(wiring, kp, ka),
                    &logs,
                ),
                logs,
            };
            match ory.wait_until_ready().await {
                Ok(()) => return ory,
                Err(problem) => failure = problem,
            }
        }
        panic!("Hydra and Kratos did not start: {failure}");
    }

    async fn wait_until_ready(&mut self) -> Result<(), String> {
        let http = reqwest::Client::new();
        let probes = [
            format!("{}/health/ready", self.hydra_public),
            format!("{}/health/ready", self.hydra_admin),
            format!("{}/health/ready", self.kratos_public),
            format!("{}/admin/health/ready", self.kratos_admin),
        ];
        let deadline = Instant::now() + STARTUP;
        for probe in &probes {
            loop {
                for process in [&mut self.hydra, &mut self.kratos] {
                    if let Some(status) = process.exited() {
                        return Err(format!(
                            "{} exited with {status}:\n{}",
                            process.name,
                            process.log_tail()
                        ));
                    }
                }
                let ready = http
                    .get(probe)
                    .timeout(Duration::from_secs(2))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if ready {
                    break;
                }
                if Instant::now() > deadline {
                    return Err(format!(
                        "{probe} not ready within {STARTUP:?}\nhydra:\n{}\nkratos:\n{}",
                        self.hydra.log_tail(),
                        self.kratos.log_tail()
                    ));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        // Hydra creates its signing keys when they are first needed, which can take longer on
        // a busy machine than Hydra lets a browser's request wait for the first ID token: the
        // browser then retries the request with the consent verifier already redeemed. Asking
        // for the public keys creates them now.
        let keys = http
            .get(format!("{}/.well-known/jwks.json", self.hydra_public))
            .timeout(STARTUP)
            .send()
            .await;
        match keys {
            Ok(response) if response.status().is_success() => Ok(()),
            other => Err(format!("Hydra's keys: {other:?}")),
        }
    }
}

impl Drop for Ory {
    fn drop(&mut self) {
        self.hydra.stop();
        self.kratos.stop();
        if std::thread::panicking() {
            eprintln!(
                "Hydra's and Kratos's logs of the failed test: {}",
                self.logs.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.logs);
        }
    }
}

/// `deploy/local/hydra.yml` pointed at this test's Hera and Kratos.
fn hydra_env(wiring: &Wiring, public: u16, admin: u16, kratos_admin: u16) -> Vec<(String, String)> {
    let hera = &wiring.hera;
    let public_url = format!("http://127.0.0.1:{public}");
    [
        ("SERVE_PUBLIC_PORT", public.to_string()),
        ("SERVE_ADMIN_PORT", admin.to_string()),
        ("URLS_SELF_ISSUER", public_url.clone()),
        ("URLS_SELF_PUBLIC", public_url),
        ("URLS_SELF_ADMIN", format!("http://127.0.0.1:{admin}")),
        ("URLS_LOGIN", format!("{hera}/login")),
        ("URLS_REGISTRATION", format!("{hera}/login")),
        ("URLS_CONSENT", format!("{hera}/consent")),
        ("URLS_LOGOUT", format!("{hera}/logout")),
        ("URLS_ERROR", format!("{hera}/error")),
        ("URLS_POST_LOGOUT_REDIRECT", format!("{hera}/")),
        (
            "URLS_IDENTITY_PROVIDER_URL",
            format!("http://127.0.0.1:{kratos_admin}"),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// `deploy/local/kratos.yml` pointed at this test's Hera and mail sink.
fn kratos_env(wiring: &Wiring, public: u16, admin: u16) -> Vec<(String, String)> {
    let hera = &wiring.hera;
    let mut env: Vec<(String, String)> = [
        ("SERVE_PUBLIC_PORT", public.to_string()),
        ("SERVE_ADMIN_PORT", admin.to_string()),
        (
            "SERVE_PUBLIC_BASE_URL",
            format!("http://127.0.0.1:{public}/"),
        ),
        ("SERVE_ADMIN_BASE_URL", format!("http://127.0.0.1:{admin}/")),
        ("SELFSERVICE_DEFAULT_BROWSER_RETURN_URL", format!("{hera}/")),
        ("SELFSERVICE_ALLOWED_RETURN_URLS", format!("[\"{hera}/\"]")),
        ("SELFSERVICE_FLOWS_LOGIN_UI_URL", format!("{hera}/login")),
        (
            "SELFSERVICE_FLOWS_REGISTRATION_UI_URL",
            format!("{hera}/registration"),
        ),
        (
            "SELFSERVICE_FLOWS_SETTINGS_UI_URL",
            format!("{hera}/settings"),
        ),
        (
            "SELFSERVICE_FLOWS_RECOVERY_UI_URL",
            format!("{hera}/recovery"),
        ),
        (
            "SELFSERVICE_FLOWS_VERIFICATION_UI_URL",
            format!("{hera}/verification"),
        ),
        ("SELFSERVICE_FLOWS_ERROR_UI_URL", format!("{hera}/error")),
        (
            "SELFSERVICE_FLOWS_VERIFICATION_AFTER_DEFAULT_BROWSER_RETURN_URL",
            format!("{hera}/"),
        ),
        (
            "SELFSERVICE_FLOWS_LOGOUT_AFTER_DEFAULT_BROWSER_RETURN_URL",
            format!("{hera}/"),
        ),
        ("COURIER_HTTP_REQUEST_CONFIG_URL", wiring.mail.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    env.extend(wiring.kratos_env.iter().cloned());
    env
}

/// One Hydra or Kratos process.
struct Process {
    name: &'static str,
    child: Child,
    watchdog: Option<Child>,
    log: PathBuf,
}

impl Process {
    fn spawn(
        name: &'static str,
        binary: &Path,
        args: &[&str],
        config: &str,
        env: &[(String, String)],
        logs: &Path,
    ) -> Process {
        let log = logs.join(format!("{name}.log"));
        let out = File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        // Both read every environment variable that matches a config key (`DSN`, `LOG_LEVEL`,
        // `SECRETS_…`), so they get none of the test process's. Kratos reads the identity
        // schema and the courier template relative to the repository root.
        let child = Command::new(binary)
            .args(args)
            .args(["-c", config])
            .current_dir(REPO)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", logs)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        // Kills the server if this test process goes away without dropping it (a crash, a kill
        // -9 of the test runner); ends on its own when the server is gone.
        let script = "while kill -0 \"$0\" 2>/dev/null; do \
                        kill -0 \"$1\" 2>/dev/null || exit 0; sleep 1; \
                      done; kill -KILL \"$1\" 2>/dev/null";
        let watchdog = Command::new("sh")
            .args(["-c", script])
            .arg(std::process::id().to_string())
            .arg(child.id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok();
        Process {
            name,
            child,
            watchdog,
            log,
        }
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The last lines of the process's log.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A fresh directory for one test's Hydra and Kratos logs, under the target directory.
fn log_dir() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "real-ory/{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap()
}
