//! Hera's benchmark: requests per second, latency, Hera's own overhead, peak memory
//! and upstream connection reuse, on the hot paths (Hydra's login and consent, Kratos's sign-in
//! and settings pages), at 0, 1 and 10 ms upstream latency.
//!
//! Run: `apt-get install -y wrk && cargo bench --bench load` (results go to stdout and to
//! `target/bench-results.md`). `HERA_BENCH_SECONDS` (default 10), `HERA_BENCH_CONNECTIONS`
//! (default 64) and `HERA_BENCH_LATENCIES_MS` (default `0,1,10`) change the run.
//!
//! Set-up: lean fakes of Hydra admin and Kratos public/admin run in this process (prebuilt JSON
//! bodies and an exact added latency, so their own cost is small and constant; the
//! contract-checked fakes of the test suite validate every body and would dominate). Hera is the
//! release binary in its own process, with production logging (JSON, `info`) and
//! `HERA_SERVER_TIMING=true`, so every response says how long Hera waited on its upstreams and
//! how long it spent itself. wrk (one thread) drives each path; a Lua script collects those
//! headers. Everything shares the machine's cores, load generator included.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::{json, Value};

const ADA: &str = "a0a0a0a0-0000-4000-8000-00000000ada0";
const SESSION: &str = "5e550000-0000-4000-8000-00000000ada0";

/// Shared by the fake servers.
struct Fakes {
    latency_us: AtomicU64,
    connections: AtomicUsize,
    login_skip: Vec<u8>,
    login_fresh: Vec<u8>,
    consent_auto: Vec<u8>,
    consent_third: Vec<u8>,
    session: Vec<u8>,
    identity: Vec<u8>,
    redirect: Vec<u8>,
    /// Kratos's flows as recorded from Kratos v26.2.0, on the fake Kratos's origin.
    login_flow: Vec<u8>,
    login_flow_for_app: Vec<u8>,
    settings_flow: Vec<u8>,
}

/// A recorded flow (`tests/contract/recorded/`), with what the recording redacted filled in as
/// Kratos sends it (a CSRF token, a TOTP secret and a QR code of the real size) and Kratos's
/// address replaced by the fake's.
fn recorded_flow(recording: &str, kratos: &str) -> Value {
    let file: Value = serde_json::from_str(recording).unwrap();
    let text = file["response"]["body"]
        .to_string()
        .replace("http://127.0.0.1:4433", kratos)
        .replace(
            "data:image/png;base64,<redacted>",
            &format!("data:image/png;base64,{}", "iVBORw0KGgo".repeat(200)),
        )
        .replace(
            "<redacted>",
            "Q2FyZWZ1bGx5LXJlZGFjdGVkLWNzcmYtdG9rZW4tdmFsdWUtb2YtODgtY2hhcnM=",
        );
    serde_json::from_str(&text).unwrap()
}

fn client(id: &str, first_party: bool) -> Value {
    json!({
        "client_id": id, "client_name": format!("{id} app"),
        "redirect_uris": [format!("https://{id}.example.com/callback")],
        "grant_types": ["authorization_code"], "response_types": ["code"],
        "scope": "openid email profile", "audience": [], "skip_consent": first_party,
        "token_endpoint_auth_method": "client_secret_basic", "metadata": {},
    })
}

impl Fakes {
    /// `kratos` is the fake Kratos public URL (where the flows' forms post); `hera` is Hera's
    /// own, which a flow started for an application returns to.
    fn new(kratos: &str, hera: &str) -> Fakes {
        let now = time::OffsetDateTime::now_utc();
        let rfc = |t: time::OffsetDateTime| {
            t.format(&time::format_description::well_known::Rfc3339)
                .unwrap()
        };
        let identity = json!({
            "id": ADA, "schema_id": "default", "schema_url": "http://kratos/schemas/default", "state": "active",
            "traits": {"email": "ada@example.com", "name": {"first": "Ada", "last": "Lovelace"}},
            "verifiable_addresses": [{"value": "ada@example.com", "verified": true, "via": "email", "status": "completed"}],
            "metadata_public": null, "created_at": rfc(now), "updated_at": rfc(now),
        });
        let login = |skip: bool| {
            json!({
                "challenge": "c", "skip": skip, "subject": if skip { ADA } else { "" },
                "client": client("app", false),
                "request_url": "http://127.0.0.1:4444/oauth2/auth?client_id=app&response_type=code&scope=openid%20email&state=benchmark-state",
                "requested_scope": ["openid", "email"], "requested_access_token_audience": [],
                "session_id": "0123456789abcdef0123456789abcdef",
                "oidc_context": {"acr_values": [], "ui_locales": [], "id_token_hint_claims": {}},
            })
        };
        let consent = |id: &str, first_party: bool| {
            json!({
                "challenge": "c", "consent_request_id": "0123456789abcdef0123456789abcdef", "skip": false,
                "subject": ADA, "client": client(id, first_party),
                "request_url": format!("http://127.0.0.1:4444/oauth2/auth?client_id={id}&response_type=code&scope=openid%20email&state=benchmark-state"),
                "requested_scope": ["openid", "email"], "requested_access_token_audience": [],
                "oidc_context": {"acr_values": [], "ui_locales": [], "id_token_hint_claims": {}},
                "login_challenge": "0123456789abcdef0123456789abcdef", "login_session_id": "s", "acr": "aal1", "amr": ["pwd"],
            })
        };
        let session = json!({
            "id": SESSION, "active": true,
            "expires_at": rfc(now + time::Duration::hours(12)), "authenticated_at": rfc(now),
            "issued_at": rfc(now), "authenticator_assurance_level": "aal1",
            "authentication_methods": [{"method": "password", "aal": "aal1", "completed_at": rfc(now)}],
            "identity": identity,
        });
        let bytes = |value: Value| value.to_string().into_bytes();
        let login_flow = recorded_flow(
            include_str!("../tests/contract/recorded/kratos-login-browser-get-flow-200.json"),
            kratos,
        );
        let mut login_flow_for_app = login_flow.clone();
        login_flow_for_app["return_to"] = json!(format!("{hera}/login?login_challenge=fresh-1"));
        let settings_flow = recorded_flow(
            include_str!("../tests/contract/recorded/kratos-settings-browser-get-flow-200.json"),
            kratos,
        );
        Fakes {
            latency_us: AtomicU64::new(0),
            connections: AtomicUsize::new(0),
            login_skip: bytes(login(true)),
            login_fresh: bytes(login(false)),
            consent_auto: bytes(consent("own", true)),
            consent_third: bytes(consent("photos", false)),
            session: bytes(session),
            identity: bytes(identity),
            redirect: bytes(
                json!({"redirect_to": "http://127.0.0.1:4444/oauth2/auth?client_id=app&state=benchmark-state&login_verifier=v"}),
            ),
            login_flow: bytes(login_flow),
            login_flow_for_app: bytes(login_flow_for_app),
            settings_flow: bytes(settings_flow),
        }
    }
}

/// Reads the whole request body (like Hydra does for an accept): actix closes a connection whose
/// body was left unread, which would make the benchmark measure reconnects instead of Hera.
async fn answer(request: HttpRequest, _body: web::Bytes, fakes: web::Data<Fakes>) -> HttpResponse {
    let latency = fakes.latency_us.load(Ordering::Relaxed);
    if latency > 0 {
        actix_web::rt::time::sleep(Duration::from_micros(latency)).await;
    }
    let query = request.query_string();
    let body: &[u8] = match (request.method().as_str(), request.path()) {
        ("GET", "/admin/oauth2/auth/requests/login") if query.contains("challenge=skip") => {
            &fakes.login_skip
        }
        ("GET", "/admin/oauth2/auth/requests/login") => &fakes.login_fresh,
        ("GET", "/admin/oauth2/auth/requests/consent") if query.contains("challenge=auto") => {
            &fakes.consent_auto
        }
        ("GET", "/admin/oauth2/auth/requests/consent") => &fakes.consent_third,
        ("PUT", _) => &fakes.redirect,
        ("GET", "/sessions/whoami") => &fakes.session,
        ("GET", "/self-service/login/flows") if query.contains("id=app-") => {
            &fakes.login_flow_for_app
        }
        ("GET", "/self-service/login/flows") => &fakes.login_flow,
        ("GET", "/self-service/settings/flows") => &fakes.settings_flow,
        ("GET", path) if path.starts_with("/admin/identities/") => &fakes.identity,
        ("GET", "/health/ready" | "/health/alive") => b"{\"status\":\"ok\"}",
        _ => return HttpResponse::NotFound().finish(),
    };
    HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .body(body.to_vec())
}

/// Listeners for the fakes of Hydra admin, Kratos public and Kratos admin, and their URLs.
fn bind_fakes() -> (Vec<TcpListener>, Vec<String>) {
    let listeners: Vec<TcpListener> = (0..3)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let urls = listeners
        .iter()
        .map(|l| format!("http://{}", l.local_addr().unwrap()))
        .collect();
    (listeners, urls)
}

/// Starts the fake servers on their own thread.
fn start_fakes(fakes: Arc<Fakes>, listeners: Vec<TcpListener>) {
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let mut servers = Vec::new();
            for listener in listeners {
                let fakes = fakes.clone();
                let counted = fakes.clone();
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(web::Data::from(fakes.clone()))
                        .default_service(web::to(answer))
                })
                .on_connect(move |_, _| {
                    counted.connections.fetch_add(1, Ordering::Relaxed);
                })
                .workers(1)
                .disable_signals()
                .listen(listener)
                .unwrap()
                .run();
                servers.push(actix_web::rt::spawn(server));
            }
            for server in servers {
                let _ = server.await;
            }
        });
    });
}

struct Hera {
    child: Child,
    url: String,
}

impl Drop for Hera {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Hera {
    /// Hera on `port`; with `metrics`, serving Prometheus metrics on a listener of its own (so
    /// counting every request and upstream call), as in production.
    fn start(upstreams: &[String], port: u16, metrics: bool) -> Hera {
        let url = format!("http://127.0.0.1:{port}");
        let mut command = Command::new(env!("CARGO_BIN_EXE_hera"));
        if metrics {
            command.env("HERA_METRICS_BIND", "127.0.0.1:0");
        }
        let child = command
            .env("HERA_BIND", format!("127.0.0.1:{port}"))
            .env("HERA_PUBLIC_URL", &url)
            .env("HYDRA_ADMIN_URL", &upstreams[0])
            .env("KRATOS_PUBLIC_URL", &upstreams[1])
            .env("KRATOS_ADMIN_URL", &upstreams[2])
            .env("HERA_COOKIE_SECRET", "b".repeat(64))
            .env("HERA_SERVER_TIMING", "true")
            .env("HERA_LOG_FORMAT", "json")
            .env(
                "RUST_LOG",
                std::env::var("HERA_BENCH_RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start hera");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "Hera did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Hera { child, url }
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }
}

const LUA: &str = r#"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) own = {}; up = {}; bad = 0 end
function response(status, headers, body)
  if status ~= EXPECT then bad = bad + 1 end
  local timing = headers["server-timing"] or headers["Server-Timing"]
  if timing then
    table.insert(up, tonumber(timing:match("upstream;dur=([%d%.]+)")))
    table.insert(own, tonumber(timing:match("hera;dur=([%d%.]+)")))
  end
end
local function pct(t, p)
  if #t == 0 then return 0 end
  table.sort(t)
  return t[math.max(1, math.ceil(#t * p / 100))]
end
function done(summary, latency, requests)
  local all_own, all_up, all_bad = {}, {}, 0
  for _, t in ipairs(threads) do
    for _, v in ipairs(t:get("own")) do table.insert(all_own, v) end
    for _, v in ipairs(t:get("up")) do table.insert(all_up, v) end
    all_bad = all_bad + t:get("bad")
  end
  io.write(string.format("RESULT rps=%.1f p50=%.3f p99=%.3f own50=%.3f own99=%.3f up50=%.3f bad=%d requests=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    pct(all_own, 50), pct(all_own, 99), pct(all_up, 50), all_bad, summary.requests))
end
"#;

struct Scenario {
    name: &'static str,
    method: &'static str,
    path: String,
    body: Option<String>,
    cookie: String,
    expect: u16,
}

/// A consent page's CSRF token and Hera's session cookie, as a browser would hold them.
fn consent_form(hera: &Hera) -> (String, String) {
    use std::io::{Read, Write};
    let address = hera.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(stream, "GET /consent?consent_challenge=third-1 HTTP/1.1\r\nHost: {address}\r\nCookie: ory_kratos_session=x\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let cookie = text
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: hera_session=")
                .then(|| l[12..].split(';').next().unwrap().trim().to_owned())
        })
        .expect("a session cookie");
    let marker = "name=\"csrf_token\" value=\"";
    let start = text.find(marker).expect("a csrf token") + marker.len();
    let token = text[start..][..text[start..].find('"').unwrap()].to_owned();
    // Hera takes an answer only a second after the page was shown (HERA_CONSENT_MIN_DELAY_MS).
    std::thread::sleep(std::time::Duration::from_millis(1_100));
    (token, cookie)
}

fn run(
    hera: &Hera,
    fakes: &Fakes,
    scenario: &Scenario,
    seconds: u64,
    connections: u32,
) -> (String, u64, usize) {
    let script = std::env::temp_dir().join(format!("hera-bench-{}.lua", scenario.name));
    let mut lua = format!(
        "EXPECT = {}\nwrk.method = \"{}\"\nwrk.headers[\"Cookie\"] = \"{}\"\n",
        scenario.expect, scenario.method, scenario.cookie
    );
    if let Some(body) = &scenario.body {
        writeln!(lua, "wrk.body = \"{body}\"\nwrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"").unwrap();
    }
    lua.push_str(LUA);
    std::fs::write(&script, lua).unwrap();
    let before = fakes.connections.load(Ordering::Relaxed);
    let (hera_cpu, fakes_cpu) = (cpu_us(&hera.child.id().to_string()), cpu_us("self"));
    let sampling = Arc::new(AtomicBool::new(true));
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (sampling, peak, pid) = (sampling.clone(), peak.clone(), hera.child.id());
        std::thread::spawn(move || {
            while sampling.load(Ordering::Relaxed) {
                let status =
                    std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
                if let Some(rss) = status
                    .lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse::<u64>().ok())
                {
                    peak.fetch_max(rss, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let output = Command::new("wrk")
        .args([
            "-t1",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            "-s",
        ])
        .arg(&script)
        .arg(format!("{}{}", hera.url, scenario.path))
        .output()
        .expect("wrk is needed: apt-get install -y wrk");
    sampling.store(false, Ordering::Relaxed);
    sampler.join().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut result = stdout
        .lines()
        .find(|l| l.starts_with("RESULT"))
        .unwrap_or_else(|| panic!("wrk said: {stdout}"))
        .to_owned();
    let requests = field(&result, "requests").max(1.0);
    let hera_per_request = (cpu_us(&hera.child.id().to_string()) - hera_cpu) as f64 / requests;
    let fakes_per_request = (cpu_us("self") - fakes_cpu) as f64 / requests;
    write!(
        result,
        " hera_cpu_us={hera_per_request:.0} fakes_cpu_us={fakes_per_request:.0}"
    )
    .unwrap();
    (
        result,
        peak.load(Ordering::Relaxed),
        fakes.connections.load(Ordering::Relaxed) - before,
    )
}

/// User + system CPU time of a process so far, in microseconds (`/proc/<pid>/stat`).
fn cpu_us(pid: &str) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: u64 = fields
        .get(11)
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        + fields
            .get(12)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
    // Linux reports in clock ticks of 1/100 s.
    ticks * 10_000
}

fn field(result: &str, name: &str) -> f64 {
    result
        .split_whitespace()
        .find_map(|part| part.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

/// The paths measured, for a browser of `hera` (signed in to Kratos; on the consent page for
/// the posts).
fn scenarios(hera: &Hera) -> Vec<Scenario> {
    let (token, hera_cookie) = consent_form(hera);
    let kratos = "ory_kratos_session=bench-session-token".to_owned();
    // A browser on a flow page: Kratos's CSRF cookie (and, for settings, its session).
    let flow_cookies = format!("csrf_token_806060ca=bench-csrf; {kratos}");
    vec![
        Scenario { name: "login_skip", method: "GET", path: "/login?login_challenge=skip-1".into(), body: None, cookie: kratos.clone(), expect: 303 },
        Scenario { name: "login_session", method: "GET", path: "/login?login_challenge=fresh-1".into(), body: None, cookie: kratos.clone(), expect: 303 },
        Scenario { name: "consent_auto", method: "GET", path: "/consent?consent_challenge=auto-1".into(), body: None, cookie: kratos.clone(), expect: 303 },
        Scenario { name: "consent_page", method: "GET", path: "/consent?consent_challenge=third-1".into(), body: None, cookie: hera_cookie.clone(), expect: 200 },
        Scenario {
            name: "consent_post",
            method: "POST",
            path: "/consent".into(),
            body: Some(format!("consent_challenge=third-1&csrf_token={token}&grant_scope=openid&grant_scope=email&action=accept")),
            cookie: hera_cookie.clone(),
            expect: 303,
        },
        Scenario { name: "signin_page", method: "GET", path: "/login?flow=239044ac-8a4c-4c0a-abf4-0930ac15dba2".into(), body: None, cookie: flow_cookies.clone(), expect: 200 },
        Scenario { name: "signin_for_app", method: "GET", path: "/login?flow=app-239044ac-8a4c-4c0a-abf4".into(), body: None, cookie: flow_cookies.clone(), expect: 200 },
        Scenario { name: "settings_page", method: "GET", path: "/settings?flow=102a6a77-13c4-4ae5-bf43-f56945b8d781".into(), body: None, cookie: flow_cookies.clone(), expect: 200 },
    ]
}

/// The cost of metrics, traces off: two Heras, one without a metrics listener and one with
/// (counting every request and upstream call), measured in turns at 1 ms upstream latency, three
/// rounds per path, so the machine's drift hits both alike. Prints and writes medians.
fn compare_metrics(
    urls: &[String],
    first_port: u16,
    fakes: &Fakes,
    seconds: u64,
    connections: u32,
) {
    let second_port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let without = Hera::start(urls, first_port, false);
    let with = Hera::start(urls, second_port, true);
    fakes.latency_us.store(1000, Ordering::Relaxed);
    let median = |mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let mut table = format!(
        "Metrics off versus on (traces off), 1 ms upstream latency, {connections} connections, {seconds} s per run, medians of 3 alternating runs.\n\n\
         | path | req/s off | req/s on | Hera own p50 ms off | on | Hera own p99 ms off | on | Hera CPU µs/req off | on |\n\
         |---|---|---|---|---|---|---|---|---|\n"
    );
    for (plain, counted) in scenarios(&without).iter().zip(&scenarios(&with)) {
        let mut results: [Vec<String>; 2] = [Vec::new(), Vec::new()];
        for _ in 0..3 {
            for (slot, (hera, scenario)) in [(&without, plain), (&with, counted)]
                .into_iter()
                .enumerate()
            {
                run(hera, fakes, scenario, 1, connections);
                results[slot].push(run(hera, fakes, scenario, seconds, connections).0);
            }
        }
        let column = |slot: usize, name: &str| {
            median(results[slot].iter().map(|r| field(r, name)).collect())
        };
        writeln!(
            table,
            "| {} | {:.0} | {:.0} | {:.3} | {:.3} | {:.3} | {:.3} | {:.0} | {:.0} |",
            plain.name,
            column(0, "rps"),
            column(1, "rps"),
            column(0, "own50"),
            column(1, "own50"),
            column(0, "own99"),
            column(1, "own99"),
            column(0, "hera_cpu_us"),
            column(1, "hera_cpu_us"),
        )
        .unwrap();
        println!("{}: off {:?} on {:?}", plain.name, results[0], results[1]);
    }
    println!("\n{table}");
    std::fs::write("target/bench-metrics.md", &table).unwrap();
}

fn main() {
    let env =
        |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    let seconds: u64 = env("HERA_BENCH_SECONDS", "10").parse().unwrap();
    let connections: u32 = env("HERA_BENCH_CONNECTIONS", "64").parse().unwrap();
    let latencies: Vec<u64> = env("HERA_BENCH_LATENCIES_MS", "0,1,10")
        .split(',')
        .map(|v| v.trim().parse().unwrap())
        .collect();

    let (listeners, urls) = bind_fakes();
    let hera_port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let fakes = Arc::new(Fakes::new(
        &urls[1],
        &format!("http://127.0.0.1:{hera_port}"),
    ));
    start_fakes(fakes.clone(), listeners);
    let metrics = env("HERA_BENCH_METRICS", "on") != "off";
    if env("HERA_BENCH_COMPARE", "") == "metrics" {
        compare_metrics(&urls, hera_port, &fakes, seconds, connections);
        return;
    }
    let hera = Hera::start(&urls, hera_port, metrics);
    let idle = hera.rss_kib();
    let scenarios = scenarios(&hera);

    let mut table = format!(
        "Hera idle RSS: {idle} KiB. Metrics {}, traces off. {connections} connections, {seconds} s per row, wrk -t1, 2 cores shared by wrk, Hera and the fakes.\n\n\
         | upstream latency | path | upstream calls | req/s | p50 ms | p99 ms | Hera own p50 ms | Hera own p99 ms | upstream wait p50 ms | Hera CPU µs/req | fakes CPU µs/req | unexpected answers | new upstream connections | peak RSS KiB |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        if metrics { "on" } else { "off" }
    );
    let calls = |name: &str| match name {
        "login_skip" | "login_session" | "consent_auto" | "consent_post" => "3",
        "signin_page" | "settings_page" => "1",
        _ => "2",
    };
    let mut budget = Vec::new();
    for latency in latencies {
        fakes.latency_us.store(latency * 1000, Ordering::Relaxed);
        for scenario in &scenarios {
            // Warm up the connection pools, then measure.
            run(&hera, &fakes, scenario, 1, connections);
            let (result, peak, new_connections) =
                run(&hera, &fakes, scenario, seconds, connections);
            writeln!(
                table,
                "| {latency} ms | {} | {} | {:.0} | {:.2} | {:.2} | {:.3} | {:.3} | {:.2} | {:.0} | {:.0} | {} | {new_connections} | {peak} |",
                scenario.name,
                calls(scenario.name),
                field(&result, "rps"),
                field(&result, "p50"),
                field(&result, "p99"),
                field(&result, "own50"),
                field(&result, "own99"),
                field(&result, "up50"),
                field(&result, "hera_cpu_us"),
                field(&result, "fakes_cpu_us"),
                field(&result, "bad"),
            )
            .unwrap();
            println!(
                "{latency} ms {}: {result} peak_rss={peak}KiB new_connections={new_connections}",
                scenario.name
            );
            if latency == 1 {
                budget.push((
                    scenario.name,
                    field(&result, "own50"),
                    field(&result, "rps"),
                    peak,
                    new_connections,
                ));
            }
        }
    }
    if !budget.is_empty() {
        table.push_str("\nBudgets at 1 ms upstream latency:\n\n");
        for (name, own50, rps, peak, new_connections) in budget {
            let mut checks = vec![
                format!(
                    "own p50 {own50:.3} ms {}",
                    if own50 < 0.3 {
                        "< 0.3 ✓"
                    } else {
                        "≥ 0.3 ✗"
                    }
                ),
                format!(
                    "peak RSS {peak} KiB {}",
                    if peak < 30 * 1024 {
                        "< 30 MiB ✓"
                    } else {
                        "≥ 30 MiB ✗"
                    }
                ),
                format!(
                    "{new_connections} new upstream connections {}",
                    if new_connections <= 8 {
                        "≤ 8 ✓"
                    } else {
                        "> 8 ✗"
                    }
                ),
            ];
            if name == "login_skip" {
                checks.push(format!(
                    "{rps:.0} req/s {}",
                    if rps > 5000.0 {
                        "> 5000 ✓"
                    } else {
                        "≤ 5000 ✗"
                    }
                ));
            }
            writeln!(table, "- {name}: {}", checks.join(", ")).unwrap();
        }
    }
    println!("\n{table}");
    std::fs::write("target/bench-results.md", &table).unwrap();
}
