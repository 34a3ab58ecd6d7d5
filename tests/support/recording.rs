//! Real HTTP exchanges recorded from Ory Hydra v26.2.0 and Ory Kratos v26.2.0
//! (`tests/contract/recorded/`), replayed against the fakes.
//!
//! A test puts a fake into the state the real server was in, sends the recorded request
//! ([`Recording::to`], filling in what the recording redacted), and checks the answer
//! ([`Recording::expect`]): the same status; for a JSON answer the same `Content-Type` and a
//! body of the same shape (the same keys at every level, the same JSON types), with exact
//! values for Hydra's and Kratos's error texts and whatever else the test names; for a
//! redirect a `Location` to the same place with the same query parameters. Ids, timestamps,
//! tokens and redacted values are compared by type only.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::Value;
use url::Url;

/// What the recordings put where a secret was (cookie values, tokens, challenges, codes).
pub const REDACTED: &str = "<redacted>";

/// One recorded exchange.
#[derive(Clone, Debug)]
pub struct Recording {
    pub name: String,
    pub method: String,
    pub path_and_query: String,
    pub request_headers: HashMap<String, String>,
    pub request_body: Value,
    pub status: u16,
    pub response_headers: HashMap<String, Value>,
    pub response_body: Value,
}

impl Recording {
    /// `tests/contract/recorded/<name>.json`.
    pub fn load(name: &str) -> Recording {
        let path = format!(
            "{}/tests/contract/recorded/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read the recording {path}: {e}"));
        let file: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("the recording {path} is not JSON: {e}"));
        let text_of = |value: &Value| value.as_str().unwrap_or_default().to_owned();
        let request = &file["request"];
        let response = &file["response"];
        Recording {
            name: name.to_owned(),
            method: text_of(&request["method"]),
            path_and_query: text_of(&request["path_and_query"]),
            request_headers: request["headers"]
                .as_object()
                .map(|headers| {
                    headers
                        .iter()
                        .map(|(k, v)| (k.to_ascii_lowercase(), text_of(v)))
                        .collect()
                })
                .unwrap_or_default(),
            request_body: request["body"].clone(),
            status: u16::try_from(response["status"].as_u64().unwrap_or_default())
                .unwrap_or_default(),
            response_headers: response["headers"]
                .as_object()
                .map(|headers| {
                    headers
                        .iter()
                        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                        .collect()
                })
                .unwrap_or_default(),
            response_body: response["body"].clone(),
        }
    }

    /// The recorded answer's `Location`.
    pub fn location(&self) -> Option<&str> {
        self.response_headers
            .get("location")
            .and_then(Value::as_str)
    }

    /// The recorded request, to be sent to `base` (a fake's URL).
    pub fn to(&self, base: &str) -> Replay<'_> {
        Replay {
            recording: self,
            base: base.trim_end_matches('/').to_owned(),
            fills: Vec::new(),
            path_and_query: None,
            body: None,
            fields: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// How an answer must match this recording.
    pub fn expect(&self) -> Expect<'_> {
        Expect {
            recording: self,
            exact: Vec::new(),
            urls: Vec::new(),
            params: Vec::new(),
            free: Vec::new(),
            hosts: Vec::new(),
        }
    }
}

/// A recorded request about to be replayed.
pub struct Replay<'a> {
    recording: &'a Recording,
    base: String,
    fills: Vec<String>,
    path_and_query: Option<String>,
    body: Option<Value>,
    fields: Vec<(String, Value)>,
    headers: Vec<(String, String)>,
}

impl Replay<'_> {
    /// The value for the next `<redacted>` in the recorded path and query (a challenge, a
    /// verifier, a user code), URL-encoded here.
    pub fn fill(mut self, value: &str) -> Self {
        self.fills.push(value.to_owned());
        self
    }

    /// Sends to this path and query instead of the recorded one (which names ids that only
    /// existed on the recorded server).
    pub fn path_and_query(mut self, path_and_query: &str) -> Self {
        self.path_and_query = Some(path_and_query.to_owned());
        self
    }

    /// Sends this body instead of the recorded one (to set a fake up the way another recorded
    /// exchange did).
    pub fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// Sets a top-level field of the request body (a redacted secret, or an id of the fake's).
    pub fn field(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.fields.push((name.to_owned(), value.into()));
        self
    }

    /// Sends this header too (a cookie, credentials: the recording names them but redacted
    /// their values, so only the test can supply them).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub async fn send(self) -> Answer {
        let recording = self.recording;
        let mut path_and_query = self
            .path_and_query
            .clone()
            .unwrap_or_else(|| recording.path_and_query.clone());
        for value in &self.fills {
            let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
            path_and_query = path_and_query.replacen(REDACTED, &encoded, 1);
        }
        assert!(
            !path_and_query.contains(REDACTED),
            "{}: fill every redacted value of {path_and_query}",
            recording.name
        );
        let mut body = self
            .body
            .clone()
            .unwrap_or_else(|| recording.request_body.clone());
        for (name, value) in &self.fields {
            body[name.as_str()] = value.clone();
        }
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_else(|e| panic!("cannot build an HTTP client: {e}"));
        let method = reqwest::Method::from_bytes(recording.method.as_bytes())
            .unwrap_or_else(|e| panic!("{}: bad method: {e}", recording.name));
        let mut request = client.request(method, format!("{}{path_and_query}", self.base));
        if let Some(accept) = recording.request_headers.get("accept") {
            request = request.header("accept", accept);
        }
        let content_type = recording
            .request_headers
            .get("content-type")
            .map(String::as_str);
        match content_type {
            Some("application/x-www-form-urlencoded") => {
                let form: Vec<(String, String)> = body
                    .as_object()
                    .map(|fields| {
                        fields
                            .iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                            .collect()
                    })
                    .unwrap_or_default();
                request = request.form(&form);
            }
            Some(_) if !body.is_null() => {
                request = request.json(&body);
            }
            _ => {}
        }
        if let Some(text) = serde_json::to_string(&body)
            .ok()
            .filter(|_| !body.is_null())
        {
            assert!(
                !text.contains(REDACTED),
                "{}: set every redacted field of the body {text}",
                recording.name
            );
        }
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: the request failed: {e}", recording.name));
        Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            text: response.text().await.unwrap_or_default(),
        }
    }
}

/// A fake's answer to a replayed request.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn location(&self) -> &str {
        self.header("location")
            .unwrap_or_else(|| panic!("no Location on a {}", self.status))
    }

    /// The cookies the answer sets, as `(name, value, removed)`: `removed` when it clears one
    /// (`Max-Age=0`).
    pub fn cookies_set(&self) -> Vec<(String, String, bool)> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| {
                let (pair, attributes) = v.split_once(';').unwrap_or((v, ""));
                let (name, value) = pair.split_once('=')?;
                let removed = attributes
                    .split(';')
                    .any(|a| a.trim().eq_ignore_ascii_case("max-age=0"));
                Some((name.trim().to_owned(), value.trim().to_owned(), removed))
            })
            .collect()
    }
}

/// A browser's cookies, as the fakes set and clear them.
#[derive(Default)]
pub struct Cookies(BTreeMap<String, String>);

impl Cookies {
    /// Keeps the cookies `answer` sets and drops those it clears.
    pub fn take(&mut self, answer: &Answer) {
        for (name, value, removed) in answer.cookies_set() {
            if removed {
                self.0.remove(&name);
            } else {
                self.0.insert(name, value);
            }
        }
    }

    pub fn set(&mut self, name: &str, value: &str) {
        self.0.insert(name.to_owned(), value.to_owned());
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The `Cookie` header the browser sends.
    pub fn header(&self) -> String {
        self.0
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// How an answer must match a recording (see the module documentation).
pub struct Expect<'a> {
    recording: &'a Recording,
    exact: Vec<String>,
    urls: Vec<String>,
    params: Vec<String>,
    free: Vec<String>,
    hosts: Vec<(String, String)>,
}

/// Values that are fixed texts in every error Hydra and Kratos send.
const ERROR_TEXTS: [&str; 7] = [
    "/error",
    "/error_description",
    "/error/id",
    "/error/code",
    "/error/status",
    "/error/reason",
    "/error/message",
];

impl Expect<'_> {
    /// These JSON pointers must hold the recorded value exactly (besides the error texts).
    pub fn exact(mut self, pointers: &[&str]) -> Self {
        self.exact.extend(pointers.iter().map(|p| (*p).to_owned()));
        self
    }

    /// These JSON pointers hold URLs: the same place (after [`Expect::host`]) with the same
    /// query parameter names.
    pub fn urls(mut self, pointers: &[&str]) -> Self {
        self.urls.extend(pointers.iter().map(|p| (*p).to_owned()));
        self
    }

    /// In a redirect's `Location` (or a URL of [`Expect::urls`]), these query parameters must
    /// hold the recorded value exactly (besides `error` and `error_description`).
    pub fn params(mut self, names: &[&str]) -> Self {
        self.params.extend(names.iter().map(|n| (*n).to_owned()));
        self
    }

    /// Below these JSON pointers anything goes (free-form objects whose keys depend on what
    /// the recorded requests put there, such as `metadata`).
    pub fn free(mut self, pointers: &[&str]) -> Self {
        self.free.extend(pointers.iter().map(|p| (*p).to_owned()));
        self
    }

    /// The server the recording calls `recorded` (`http://127.0.0.1:4444`) is `actual` here.
    pub fn host(mut self, recorded: &str, actual: &str) -> Self {
        self.hosts.push((
            recorded.trim_end_matches('/').to_owned(),
            actual.trim_end_matches('/').to_owned(),
        ));
        self
    }

    /// Fails the test with every difference between `answer` and the recording.
    pub fn check(&self, answer: &Answer) {
        let differences = self.differences(answer);
        assert!(
            differences.is_empty(),
            "{}: the fake's answer differs from the recorded one:\n  - {}\nrecorded body: {}\nfake's answer: {} {}",
            self.recording.name,
            differences.join("\n  - "),
            self.recording.response_body,
            answer.status,
            answer.text,
        );
    }

    fn differences(&self, answer: &Answer) -> Vec<String> {
        let recording = self.recording;
        let mut differences = Vec::new();
        if answer.status != recording.status {
            differences.push(format!(
                "status {} instead of {}",
                answer.status, recording.status
            ));
        }
        if let Some(location) = recording.location() {
            match answer.header("location") {
                None => differences.push("no Location header".to_owned()),
                Some(actual) => self.compare_urls("Location", location, actual, &mut differences),
            }
            if (300..400).contains(&recording.status) {
                return differences;
            }
        }
        let body = &recording.response_body;
        if body.is_object() || body.is_array() {
            let recorded_type = recording
                .response_headers
                .get("content-type")
                .and_then(Value::as_str);
            if recorded_type != answer.header("content-type") {
                differences.push(format!(
                    "Content-Type {:?} instead of {recorded_type:?}",
                    answer.header("content-type")
                ));
            }
            match serde_json::from_str::<Value>(&answer.text) {
                Ok(actual) => {
                    self.compare(body, &actual, "", &mut differences);
                    let texts = ERROR_TEXTS.iter().filter(|p| {
                        body.pointer(p)
                            .is_some_and(|v| v.is_string() || v.is_number())
                    });
                    for pointer in texts.copied().chain(self.exact.iter().map(String::as_str)) {
                        let (want, got) = (body.pointer(pointer), actual.pointer(pointer));
                        if want != got && want.is_some_and(|w| w.as_str() != Some(REDACTED)) {
                            differences.push(format!(
                                "{pointer}: {} instead of {}",
                                got.map_or("nothing".to_owned(), Value::to_string),
                                want.map_or("nothing".to_owned(), Value::to_string),
                            ));
                        }
                    }
                    for pointer in &self.urls {
                        match (
                            body.pointer(pointer).and_then(Value::as_str),
                            actual.pointer(pointer).and_then(Value::as_str),
                        ) {
                            (Some(want), Some(got)) => {
                                self.compare_urls(pointer, want, got, &mut differences);
                            }
                            (want, got) => differences
                                .push(format!("{pointer}: {got:?} instead of the URL {want:?}")),
                        }
                    }
                }
                Err(e) => differences.push(format!("the body is not JSON: {e}")),
            }
        } else if body.as_str().is_some_and(str::is_empty) && !answer.text.is_empty() {
            differences.push("a body where the recorded answer had none".to_owned());
        }
        differences
    }

    /// Same JSON types and the same keys at every level.
    fn compare(&self, want: &Value, got: &Value, at: &str, differences: &mut Vec<String>) {
        if self.free.iter().any(|free| free == at) {
            return;
        }
        let here = if at.is_empty() { "/" } else { at };
        match (want, got) {
            (Value::Object(want), Value::Object(got)) => {
                let wanted: BTreeSet<&String> = want.keys().collect();
                let found: BTreeSet<&String> = got.keys().collect();
                for missing in wanted.difference(&found) {
                    differences.push(format!("{here}: missing `{missing}`"));
                }
                for extra in found.difference(&wanted) {
                    differences.push(format!("{here}: `{extra}` is not in the recorded answer"));
                }
                for (key, value) in want {
                    if let Some(actual) = got.get(key) {
                        let child = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                        self.compare(value, actual, &child, differences);
                    }
                }
            }
            (Value::Array(want), Value::Array(got)) => {
                // Each element is compared with the recorded one at its place, or the last.
                if let Some(last) = want.last() {
                    for (i, actual) in got.iter().enumerate() {
                        let recorded = want.get(i).unwrap_or(last);
                        self.compare(recorded, actual, &format!("{at}/{i}"), differences);
                    }
                }
            }
            (want, got) if kind(want) != kind(got) => differences.push(format!(
                "{here}: {} ({got}) instead of {} ({want})",
                kind(got),
                kind(want)
            )),
            _ => {}
        }
    }

    fn compare_urls(&self, what: &str, want: &str, got: &str, differences: &mut Vec<String>) {
        let mut want = want.to_owned();
        for (recorded, actual) in &self.hosts {
            if let Some(rest) = want.strip_prefix(recorded.as_str()) {
                want = format!("{actual}{rest}");
            }
        }
        let base = Url::parse("http://relative.invalid/").ok();
        let parse = |text: &str| {
            Url::parse(text)
                .or_else(|_| base.as_ref().map_or(Url::parse(text), |b| b.join(text)))
                .ok()
        };
        let (Some(want_url), Some(got_url)) = (parse(&want), parse(got)) else {
            differences.push(format!("{what}: {got:?} instead of {want:?}"));
            return;
        };
        let place = |url: &Url| format!("{}{}", &url[..url::Position::BeforePath], url.path());
        if place(&want_url) != place(&got_url) {
            differences.push(format!(
                "{what}: goes to {} instead of {}",
                place(&got_url),
                place(&want_url)
            ));
        }
        let pairs =
            |url: &Url| -> Vec<(String, String)> { url.query_pairs().into_owned().collect() };
        let (want_pairs, got_pairs) = (pairs(&want_url), pairs(&got_url));
        let names = |pairs: &[(String, String)]| -> BTreeSet<String> {
            pairs.iter().map(|(k, _)| k.clone()).collect()
        };
        if names(&want_pairs) != names(&got_pairs) {
            differences.push(format!(
                "{what}: query parameters {:?} instead of {:?}",
                names(&got_pairs),
                names(&want_pairs)
            ));
        }
        let exact = ["error", "error_description"]
            .into_iter()
            .chain(self.params.iter().map(String::as_str));
        for name in exact {
            let value = |pairs: &[(String, String)]| {
                pairs
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
            };
            let (w, g) = (value(&want_pairs), value(&got_pairs));
            if w != g && w.as_deref() != Some(REDACTED) {
                differences.push(format!("{what}: {name}={g:?} instead of {w:?}"));
            }
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
