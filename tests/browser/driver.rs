//! Headless Chromium driven over WebDriver (fantoccini + Debian's `chromium` and
//! `chromium-driver`), with the checks every page must pass: axe-core (WCAG 2.1 A/AA), no
//! sideways scrolling at 320 CSS pixels, and a visible focus ring on what the keyboard reaches.
//!
//! One `chromedriver` serves the whole test binary (started on first use; a watchdog shell ends
//! it, and any browser it started, when the test process exits). Each test opens its own
//! browser session with a fresh `--user-data-dir`, so no cookie or cache leaks between tests,
//! and at most [`PARALLEL_BROWSERS`] run at once on the two cores. Every wait is bounded.
//!
//! Nothing is skipped silently: without Chromium, ChromeDriver or axe-core the tests fail and
//! say how to install them (`./scripts/test` does).

#![allow(dead_code)]

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Browsers open at once (each is several processes; the machine has two cores).
pub const PARALLEL_BROWSERS: usize = 2;

/// The longest any single wait for a page or element may take.
pub const WAIT: Duration = Duration::from_secs(15);

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const AXE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/node_modules/axe-core/axe.min.js"
);

/// How a browser session looks at pages.
#[derive(Clone, Debug)]
pub struct Look {
    /// `Accept-Language` and the browser's own language: `en` or `de`.
    pub language: &'static str,
    pub dark: bool,
    /// CSS pixels; `Some((320, 640))` emulates a small phone.
    pub viewport: (u32, u32),
    /// With `false`, pages run no JavaScript at all (WebDriver still reads and drives them,
    /// but [`Browser::js`], axe and the keyboard helpers that ask the page where the focus is
    /// do not work).
    pub javascript: bool,
}

impl Default for Look {
    fn default() -> Self {
        Look {
            language: "en",
            dark: false,
            viewport: (1024, 800),
            javascript: true,
        }
    }
}

impl Look {
    pub fn german() -> Look {
        Look {
            language: "de",
            ..Look::default()
        }
    }

    /// A phone-sized window: 320 CSS pixels wide, as a 1280 px window at 400 % zoom or a
    /// 640 px one at 200 % (WCAG 1.4.10 reflow).
    pub fn phone() -> Look {
        Look {
            viewport: (320, 640),
            ..Look::default()
        }
    }

    /// A browser with JavaScript switched off.
    pub fn without_javascript() -> Look {
        Look {
            javascript: false,
            ..Look::default()
        }
    }
}

fn driver_url() -> &'static str {
    static DRIVER: OnceLock<Result<String, String>> = OnceLock::new();
    match DRIVER.get_or_init(start_driver) {
        Ok(url) => url,
        Err(problem) => panic!("{problem}"),
    }
}

fn slots() -> Arc<Semaphore> {
    static SLOTS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    SLOTS
        .get_or_init(|| Arc::new(Semaphore::new(PARALLEL_BROWSERS)))
        .clone()
}

fn start_driver() -> Result<String, String> {
    for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
        if !std::path::Path::new(path).exists() {
            return Err(format!(
                "the browser tests need {path} (Debian package {package}); run ./scripts/test, \
                 which installs it, or apt-get install -y chromium chromium-driver"
            ));
        }
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port for chromedriver: {e}"))?
        .port();
    // chromedriver runs in its own process group under a watchdog that ends the group (the
    // driver and any browser it started) once this test process is gone.
    let watchdog = "\"$0\" --port=\"$1\" --allowed-ips=127.0.0.1 >/dev/null 2>&1 & \
                    while kill -0 \"$2\" 2>/dev/null; do sleep 0.5; done; kill -TERM 0";
    Command::new("setsid")
        .args(["sh", "-c", watchdog, CHROMEDRIVER])
        .arg(port.to_string())
        .arg(std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {CHROMEDRIVER}: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(format!("http://127.0.0.1:{port}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!(
        "{CHROMEDRIVER} did not listen on port {port} within 10 s"
    ))
}

/// The axe-core source, read once.
fn axe_source() -> &'static str {
    static SOURCE: OnceLock<Result<String, String>> = OnceLock::new();
    match SOURCE.get_or_init(|| {
        std::fs::read_to_string(AXE).map_err(|e| {
            format!(
                "the browser tests need axe-core at {AXE} ({e}); run ./scripts/test, which runs \
                 `npm ci`, or run `npm ci` in the repository"
            )
        })
    }) {
        Ok(source) => source,
        Err(problem) => panic!("{problem}"),
    }
}

/// One browser session (a fresh profile); call [`Browser::close`] at the end of the test. The
/// profile is removed when it is dropped, also when a test fails.
pub struct Browser {
    pub client: Client,
    profile: PathBuf,
    _slot: OwnedSemaphorePermit,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Browser {
    pub async fn open(look: Look) -> Browser {
        let url = driver_url();
        let slot = slots().acquire_owned().await.unwrap();
        let profile = std::env::temp_dir().join(format!(
            "hera-chromium-{}",
            crate::support::fake_hydra::random_hex(8)
        ));
        std::fs::create_dir_all(&profile).unwrap();
        let mut args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            format!("--user-data-dir={}", profile.display()),
            format!("--lang={}", look.language),
            "--hide-scrollbars".to_owned(),
        ];
        if look.dark {
            args.push("--blink-settings=preferredColorScheme=0".to_owned());
            args.push("--force-dark-mode".to_owned());
        }
        let (width, height) = look.viewport;
        let mut options = json!({
            "binary": CHROMIUM,
            "args": args,
            "prefs": {
                "intl.accept_languages": look.language,
                "profile.managed_default_content_settings.javascript": if look.javascript { 1 } else { 2 },
            },
            "mobileEmulation": {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 1.0}},
        });
        if width >= 800 {
            options.as_object_mut().unwrap().remove("mobileEmulation");
            options["args"]
                .as_array_mut()
                .unwrap()
                .push(json!(format!("--window-size={width},{height}")));
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert("goog:chromeOptions".into(), options);
        capabilities.insert(
            "timeouts".into(),
            json!({"pageLoad": WAIT.as_millis() as u64, "script": WAIT.as_millis() as u64}),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(url)
            .await
            .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e}"));
        Browser {
            client,
            profile,
            _slot: slot,
        }
    }

    /// Ends the session; dropping the `Browser` then removes its profile.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    pub async fn url(&self) -> String {
        self.client.current_url().await.unwrap().to_string()
    }

    /// Waits until the current URL starts with `prefix`.
    pub async fn wait_for_url(&self, prefix: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let url = self.url().await;
            if url.starts_with(prefix) {
                return url;
            }
            assert!(
                Instant::now() < deadline,
                "waited {WAIT:?} for {prefix}…, still at {url}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn find(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(e) => panic!("no {css} on {}: {e}", self.url_or_unknown().await),
        }
    }

    async fn url_or_unknown(&self) -> String {
        self.client
            .current_url()
            .await
            .map_or_else(|_| "?".into(), |u| u.to_string())
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    /// The whole page's text as a reader sees it.
    pub async fn page_text(&self) -> String {
        self.text("body").await
    }

    pub async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    /// Types `text` into the field matching `css`, replacing what it held (WebDriver, so it
    /// works without JavaScript).
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Clicks the element matching `css` (WebDriver, so it works without JavaScript).
    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap();
    }

    /// Waits until the page's text contains `text`; returns the text.
    pub async fn wait_for_text(&self, text: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            // The page may change between finding its body and reading it: read again.
            let body = match self.client.find(Locator::Css("body")).await {
                Ok(body) => body.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if body.contains(text) {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "waited {WAIT:?} for {text:?} on {}:\n{body}",
                self.url_or_unknown().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Presses one key on the keyboard.
    pub async fn press(&self, key: Key) {
        let value = key.chars().next().unwrap();
        let actions = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value })
            .then(KeyAction::Up { value });
        self.client.perform_actions(actions).await.unwrap();
    }

    /// Types text into whatever has focus.
    pub async fn type_text(&self, text: &str) {
        let mut actions = KeyActions::new("keyboard".into());
        for value in text.chars() {
            actions = actions
                .then(KeyAction::Down { value })
                .then(KeyAction::Up { value });
        }
        self.client.perform_actions(actions).await.unwrap();
    }

    /// Presses Tab until the focused element matches `css`, as a keyboard user would, and on
    /// Hera's pages checks that the focus is visible there. Fails after 40 presses.
    pub async fn tab_to(&self, css: &str) {
        for _ in 0..40 {
            self.press(Key::Tab).await;
            let matches = self
                .client
                .execute(
                    "return document.activeElement !== null && document.activeElement.matches(arguments[0]);",
                    vec![json!(css)],
                )
                .await
                .unwrap();
            if matches == Value::Bool(true) {
                // Hera's pages (those with its stylesheet) must show where the focus is.
                let hera = self
                    .js("return document.querySelector('link[href^=\"/static/hera.\"]') !== null;")
                    .await;
                if hera == Value::Bool(true) {
                    self.assert_focus_visible(css).await;
                }
                return;
            }
        }
        panic!("Tab never reached {css} on {}", self.url_or_unknown().await);
    }

    /// The focused element shows a focus indicator: an outline at least 2 px wide.
    pub async fn assert_focus_visible(&self, what: &str) {
        let style = self
            .js(
                "const s = getComputedStyle(document.activeElement); \
                 return [s.outlineStyle, s.outlineWidth, document.activeElement.matches(':focus-visible')];",
            )
            .await;
        let width: f64 = style[1]
            .as_str()
            .unwrap_or("0px")
            .trim_end_matches("px")
            .parse()
            .unwrap_or(0.0);
        assert!(
            style[0] != "none" && width >= 2.0 && style[2] == true,
            "no visible focus on {what}: {style}"
        );
    }

    /// Runs axe-core (WCAG 2.0/2.1 A and AA rules) on the current page and fails with every
    /// violation, its help text and the offending HTML.
    pub async fn assert_accessible(&self, state: &str) {
        self.client.execute(axe_source(), vec![]).await.unwrap();
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})\
                   .then(r => done({violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.html + ' — ' + n.failureSummary)})), passes: r.passes.length}))\
                   .catch(e => done({error: String(e)}));",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            result.get("error").is_none(),
            "axe failed on {state}: {result}"
        );
        assert!(
            result["passes"].as_u64().unwrap_or(0) > 0,
            "axe checked nothing on {state}: {result}"
        );
        let violations = result["violations"].as_array().cloned().unwrap_or_default();
        if !violations.is_empty() {
            let report: Vec<String> = violations
                .iter()
                .map(|v| {
                    format!(
                        "- {} ({}): {}\n    {}",
                        v["id"],
                        v["impact"],
                        v["help"],
                        v["nodes"]
                            .as_array()
                            .map(|n| n
                                .iter()
                                .map(|x| x.as_str().unwrap_or_default().to_owned())
                                .collect::<Vec<_>>()
                                .join("\n    "))
                            .unwrap_or_default()
                    )
                })
                .collect();
            panic!(
                "axe found {} WCAG 2.1 A/AA violation(s) on {state} ({}):\n{}",
                violations.len(),
                self.url_or_unknown().await,
                report.join("\n")
            );
        }
    }

    /// Nothing on the page is wider than the window (no sideways scrolling).
    pub async fn assert_no_horizontal_scroll(&self, state: &str) {
        let sizes = self
            .js("return [document.documentElement.scrollWidth, window.innerWidth];")
            .await;
        let (scroll, inner) = (sizes[0].as_f64().unwrap(), sizes[1].as_f64().unwrap());
        assert!(
            scroll <= inner,
            "{state} scrolls sideways: {scroll}px of content in a {inner}px window"
        );
    }

    /// The page's `<html lang>`.
    pub async fn lang(&self) -> String {
        self.js("return document.documentElement.lang;")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Whether the page sees `prefers-color-scheme: dark`.
    pub async fn prefers_dark(&self) -> bool {
        self.js("return matchMedia('(prefers-color-scheme: dark)').matches;")
            .await
            == Value::Bool(true)
    }

    /// With `HERA_SCREENSHOTS=1`, saves the window as `docs/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        if std::env::var("HERA_SCREENSHOTS").as_deref() != Ok("1") {
            return;
        }
        let png = self.client.screenshot().await.unwrap();
        let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/screenshots"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}
