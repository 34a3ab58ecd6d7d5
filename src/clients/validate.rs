//! Checking client definitions before anything is sent to Hydra.
//!
//! Every problem is reported with the file it is in and the field it concerns, and all of them
//! at once, so one run shows everything to fix. A definition with any problem stops the whole
//! run: Hera never applies half a folder.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};
use url::{Host, Url};

use super::fields::{self, Kind};
use super::files::{kind, Definition, Source};
use crate::domain::consent::redirect_reaches_local_apps;

/// The `metadata` key Hera sets on every client it writes, and the value it sets.
pub const MANAGED_BY: (&str, &str) = ("managed_by", "hera");

/// The prefix of a `client_secret` that names an environment variable.
const ENV_PREFIX: &str = "env:";

/// Hydra refuses shorter secrets (`client/validator.go`).
const MIN_SECRET_LEN: usize = 6;

const AUTH_METHODS: [&str; 4] = [
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
    "none",
];

const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

const GRANT_TYPES: [&str; 6] = [
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "implicit",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    DEVICE_CODE,
];

/// Grant types a public client may use: nothing that needs a secret, nothing that puts tokens
/// in a URL.
const PUBLIC_GRANT_TYPES: [&str; 3] = ["authorization_code", "refresh_token", DEVICE_CODE];

/// Members that only a private JSON Web Key has (RFC 7518 §6).
const PRIVATE_JWK_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];

/// A client secret read from the environment. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    /// The environment variable it came from, safe to print.
    pub variable: String,
    value: String,
}

impl Secret {
    pub fn new(variable: impl Into<String>, value: impl Into<String>) -> Secret {
        Secret {
            variable: variable.into(),
            value: value.into(),
        }
    }

    /// The secret itself, for the request body only.
    pub fn expose(&self) -> &str {
        &self.value
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(${}, ****)", self.variable)
    }
}

/// A valid client definition, ready to compare with Hydra.
#[derive(Debug, Clone)]
pub struct ClientSpec {
    pub id: String,
    pub source: Source,
    /// The object sent to Hydra without `client_secret`: the file's fields, minus `null`s and
    /// fields Hydra sets itself, with `metadata.managed_by: "hera"` merged in.
    pub body: Map<String, Value>,
    pub secret: Option<Secret>,
    /// Things that are allowed but worth a reviewer's attention.
    pub warnings: Vec<String>,
}

/// What is wrong with a definition, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub location: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Validates every definition and checks that each `client_id` appears once. On success the
/// clients are sorted by id.
pub fn validate_all(
    definitions: Vec<Definition>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<ClientSpec>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut specs = Vec::new();
    let mut sources: BTreeMap<String, Vec<Source>> = BTreeMap::new();
    for definition in definitions {
        if let Some(Value::String(id)) = definition.object.get("client_id") {
            sources
                .entry(id.clone())
                .or_default()
                .push(definition.source.clone());
        }
        match validate(definition, env) {
            Ok(spec) => specs.push(spec),
            Err(mut found) => problems.append(&mut found),
        }
    }
    for (id, sources) in &sources {
        if sources.len() > 1 {
            for source in sources {
                let others: Vec<String> = sources
                    .iter()
                    .filter(|other| *other != source)
                    .map(ToString::to_string)
                    .collect();
                problems.push(Problem {
                    location: source.to_string(),
                    message: format!(
                        "client_id {id:?} is also defined in {}; each client must have one file",
                        others.join(", ")
                    ),
                });
            }
        }
    }
    if problems.is_empty() {
        specs.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(specs)
    } else {
        Err(problems)
    }
}

/// Validates one definition. `env` reads an environment variable (a parameter so tests need
/// not touch the process environment).
pub fn validate(
    definition: Definition,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ClientSpec, Vec<Problem>> {
    let mut check = Check {
        problems: Vec::new(),
        warnings: Vec::new(),
    };
    let object = &definition.object;

    let mut body = Map::new();
    for (name, value) in object {
        let Some(field) = fields::lookup(name) else {
            check.problem(format!(
                "unknown field `{name}`: not a field of Hydra's OAuth2Client (check the spelling)"
            ));
            continue;
        };
        if field.kind == Kind::ServerSet {
            check.warn(format!(
                "`{name}` is set by Hydra; the value in the file is ignored"
            ));
            continue;
        }
        if value.is_null() {
            continue;
        }
        if check.has_type(name, field.kind, value) && field.kind != Kind::Secret {
            body.insert(name.clone(), value.clone());
        }
    }

    let id = match object.get("client_id") {
        Some(Value::String(id)) if id.trim().is_empty() => {
            check.problem("client_id must not be empty".into());
            None
        }
        Some(Value::String(id)) if id.trim() != id || id.chars().any(char::is_control) => {
            check.problem(format!(
                "client_id {id:?} must not start or end with spaces or contain control characters"
            ));
            None
        }
        Some(Value::String(id)) => Some(id.clone()),
        None | Some(Value::Null) => {
            check.problem(
                "client_id is required: Hydra would otherwise make up a new id on every apply"
                    .into(),
            );
            None
        }
        Some(_) => None,
    };

    check_metadata(&mut check, &mut body);
    let auth_method = text(&body, "token_endpoint_auth_method").unwrap_or("client_secret_basic");
    if !AUTH_METHODS.contains(&auth_method) {
        check.problem(format!(
            "token_endpoint_auth_method {auth_method:?} is not one of {}",
            quoted(&AUTH_METHODS)
        ));
    }
    let public = auth_method == "none";

    check_scope(&mut check, &body);
    let grant_types = check_grant_types(&mut check, &body, public);
    check_response_types(&mut check, &body);
    check_redirects(&mut check, &body, &grant_types);
    check_other_uris(&mut check, &body);
    check_jwks(&mut check, &body, auth_method);
    let secret = check_secret(&mut check, object, auth_method, env);
    warn_about_local_apps(&mut check, &body, public);
    check_device_flow_consent(&mut check, &body, &grant_types);
    check_session_features(&mut check, &body, auth_method, &grant_types);

    if check.problems.is_empty() {
        if let Some(id) = id {
            return Ok(ClientSpec {
                id,
                source: definition.source,
                body,
                secret,
                warnings: check.warnings,
            });
        }
    }
    let location = definition.source.to_string();
    Err(check
        .problems
        .into_iter()
        .map(|message| Problem {
            location: location.clone(),
            message,
        })
        .collect())
}

struct Check {
    problems: Vec<String>,
    warnings: Vec<String>,
}

impl Check {
    fn problem(&mut self, message: String) {
        self.problems.push(message);
    }

    fn warn(&mut self, message: String) {
        self.warnings.push(message);
    }

    /// True when `value` has the JSON type `field_kind` needs; records a problem otherwise.
    fn has_type(&mut self, name: &str, field_kind: Kind, value: &Value) -> bool {
        let expected = match field_kind {
            Kind::Text | Kind::Secret if value.is_string() => return true,
            Kind::Text if name == "scope" => "a string of space-separated scopes",
            Kind::Text | Kind::Secret => "a string",
            Kind::List => match value.as_array() {
                Some(items) => match items.iter().position(|item| !item.is_string()) {
                    None => return true,
                    Some(index) => {
                        self.problem(format!(
                            "{name}[{index}] must be a string, found {}",
                            kind(&items[index])
                        ));
                        return false;
                    }
                },
                None => "an array of strings",
            },
            Kind::Flag if value.is_boolean() => return true,
            Kind::Flag => "a boolean (true or false)",
            Kind::Object if value.is_object() => return true,
            Kind::Object => "a JSON object",
            Kind::Lifespan => match value.as_str() {
                Some(text) if fields::is_lifespan(text) => return true,
                _ => {
                    self.problem(format!(
                        "{name} must be a duration such as \"1h\" or \"30m\" (whole numbers \
                         with ns, us, ms, s, m or h), found {}",
                        shown(value)
                    ));
                    return false;
                }
            },
            Kind::ServerSet => return true,
        };
        self.problem(format!("{name} must be {expected}, found {}", shown(value)));
        false
    }
}

fn text<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    body.get(name)
        .and_then(Value::as_str)
        .filter(|text| !text.is_empty())
}

fn list<'a>(body: &'a Map<String, Value>, name: &str) -> Vec<&'a str> {
    body.get(name)
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// A value for a message: its JSON type, plus the value itself when it is short.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    if text.len() <= 40 {
        format!("{} {text}", kind(value))
    } else {
        kind(value).to_owned()
    }
}

fn quoted(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("{v:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn check_scope(check: &mut Check, body: &Map<String, Value>) {
    if text(body, "scope").is_none_or(|scope| scope.trim().is_empty()) {
        check.problem(
            "scope is required: list the scopes this client may request, space-separated \
             (for example \"openid offline_access email\"); Hydra would otherwise fill in its \
             configured default, which Hera cannot compare"
                .into(),
        );
    }
}

/// Checks `grant_types` and returns the effective list (Hydra's default when empty).
fn check_grant_types<'a>(
    check: &mut Check,
    body: &'a Map<String, Value>,
    public: bool,
) -> Vec<&'a str> {
    let listed = list(body, "grant_types");
    for grant in &listed {
        if !GRANT_TYPES.contains(grant) {
            check.problem(format!(
                "grant_types: {grant:?} is not a grant type Hydra knows ({})",
                quoted(&GRANT_TYPES)
            ));
        }
    }
    if listed.contains(&"implicit") {
        check.problem(
            "grant_types: the \"implicit\" grant is refused: it puts tokens in the browser's URL \
             (RFC 9700 §2.1.2); use authorization_code with PKCE"
                .into(),
        );
    }
    if public {
        for grant in &listed {
            if GRANT_TYPES.contains(grant)
                && !PUBLIC_GRANT_TYPES.contains(grant)
                && *grant != "implicit"
            {
                let why = "it needs a client secret or key";
                check.problem(format!(
                    "a public client (token_endpoint_auth_method \"none\") must not use the \
                     {grant:?} grant: {why}"
                ));
            }
        }
        if !listed.contains(&"authorization_code") && !listed.contains(&DEVICE_CODE) {
            check.problem(
                "a public client (token_endpoint_auth_method \"none\") must list \
                 \"authorization_code\" (used with PKCE) or the device-code grant in grant_types"
                    .into(),
            );
        }
    }
    if listed.is_empty() {
        vec!["authorization_code"]
    } else {
        listed
    }
}

fn check_response_types(check: &mut Check, body: &Map<String, Value>) {
    for entry in list(body, "response_types") {
        for word in entry.split(' ') {
            if !matches!(word, "code" | "token" | "id_token" | "none") {
                check.problem(format!(
                    "response_types: {entry:?} is not a response type (use \"code\", \"token\", \
                     \"id_token\" or space-separated combinations)"
                ));
                break;
            }
            if matches!(word, "token" | "id_token") {
                check.problem(format!(
                    "response_types: {entry:?} is refused: it returns tokens in the browser's URL \
                     (the implicit and hybrid flows, RFC 9700 §2.1.2); use [\"code\"], the \
                     authorization code flow with PKCE"
                ));
                break;
            }
        }
    }
}

fn check_redirects(check: &mut Check, body: &Map<String, Value>, grant_types: &[&str]) {
    let redirects = list(body, "redirect_uris");
    if grant_types.contains(&"authorization_code") && redirects.is_empty() {
        check.problem(
            "redirect_uris is empty, but the authorization_code grant needs at least one".into(),
        );
    }
    for name in ["redirect_uris", "post_logout_redirect_uris"] {
        for (index, uri) in list(body, name).into_iter().enumerate() {
            if let Err(why) = redirect_problem(uri) {
                check.problem(format!("{name}[{index}] {uri:?} {why}"));
            }
        }
    }
    // Hydra refuses a post-logout redirect URI unless one of the redirect URIs has its scheme,
    // host and port.
    let origin = |url: &Url| {
        (
            url.scheme().to_owned(),
            url.host_str().map(str::to_owned),
            url.port(),
        )
    };
    let origins: Vec<_> = redirects
        .iter()
        .filter_map(|uri| Url::parse(uri).ok())
        .map(|url| origin(&url))
        .collect();
    for (index, uri) in list(body, "post_logout_redirect_uris")
        .into_iter()
        .enumerate()
    {
        let Ok(url) = Url::parse(uri) else {
            continue;
        };
        if !origins.contains(&origin(&url)) {
            check.problem(format!(
                "post_logout_redirect_uris[{index}] {uri:?} must have the scheme, host and port \
                 of one of the redirect_uris (Hydra refuses it otherwise)"
            ));
        }
    }
}

/// A redirect URI must be absolute, without a fragment (RFC 6749 §3.1.2), and use https;
/// plain http only on the loopback names RFC 8252 §7.3 allows; and a custom scheme only in the
/// reverse-domain form of RFC 8252 §7.1 (`com.example.app:/callback`).
fn redirect_problem(uri: &str) -> Result<(), String> {
    let url = Url::parse(uri).map_err(|e| format!("is not an absolute URI ({e})"))?;
    if url.fragment().is_some() {
        return Err("must not contain a fragment (#)".into());
    }
    match url.scheme() {
        "https" if url.host().is_some() => Ok(()),
        "http" if is_plain_http_allowed(url.host()) => Ok(()),
        "http" => Err(
            "must use https (plain http is allowed only for localhost, 127.0.0.1 and [::1])".into(),
        ),
        "https" => Err("has no host".into()),
        scheme if scheme.contains('.') => Ok(()),
        scheme => Err(format!(
            "uses the scheme {scheme:?}: use https, or a reverse-domain custom scheme such as \
             \"com.example.app\" for native apps (RFC 8252 §7.1)"
        )),
    }
}

fn is_plain_http_allowed(host: Option<Host<&str>>) -> bool {
    match host {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
        Some(Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
        None => false,
    }
}

fn check_other_uris(check: &mut Check, body: &Map<String, Value>) {
    // Hydra refuses these unless they are absolute http(s) URIs.
    for name in ["client_uri", "logo_uri", "policy_uri", "tos_uri"] {
        if let Some(uri) = text(body, name) {
            match Url::parse(uri) {
                Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {}
                _ => check.problem(format!("{name} {uri:?} must be an absolute http(s) URI")),
            }
        }
    }
    // Hydra (or the browser, for CORS) calls these; the same https rule as redirects applies.
    for name in [
        "jwks_uri",
        "sector_identifier_uri",
        "backchannel_logout_uri",
        "frontchannel_logout_uri",
    ] {
        if let Some(uri) = text(body, name) {
            if let Err(why) = web_uri_problem(uri) {
                check.problem(format!("{name} {uri:?} {why}"));
            }
        }
    }
    for (index, uri) in list(body, "request_uris").into_iter().enumerate() {
        if let Err(why) = web_uri_problem(uri) {
            check.problem(format!("request_uris[{index}] {uri:?} {why}"));
        }
    }
    for (index, origin) in list(body, "allowed_cors_origins").into_iter().enumerate() {
        let Some(url) = Url::parse(origin).ok().filter(|url| {
            matches!(url.scheme(), "http" | "https")
                && url.host().is_some()
                && url.username().is_empty()
                && url.password().is_none()
                && url.path() == "/"
                && url.query().is_none()
                && url.fragment().is_none()
        }) else {
            check.problem(format!(
                "allowed_cors_origins[{index}] {origin:?} must be an origin such as \
                 \"https://app.example.com\" (scheme, host and port only)"
            ));
            continue;
        };
        if url.scheme() == "http" && !is_plain_http_allowed(url.host()) {
            check.problem(format!(
                "allowed_cors_origins[{index}] {origin:?} must use https: a page served over plain \
                 http can be rewritten by anyone on the network, who would then call Hydra as \
                 this origin (http is allowed only for localhost, 127.0.0.1 and [::1])"
            ));
        }
    }
}

fn web_uri_problem(uri: &str) -> Result<(), String> {
    match redirect_problem(uri) {
        Ok(()) if uri.starts_with("http") => Ok(()),
        Ok(()) => Err("must use https".into()),
        Err(why) => Err(why),
    }
}

fn check_metadata(check: &mut Check, body: &mut Map<String, Value>) {
    let mut metadata = match body.remove("metadata") {
        Some(Value::Object(metadata)) => metadata,
        // Wrong types were already reported.
        _ => Map::new(),
    };
    if let Some(flag) = metadata.get("first_party") {
        if !flag.is_boolean() {
            check.problem(format!(
                "metadata.first_party must be a boolean (true or false), found {}; Hera's \
                 consent page only honours the JSON boolean true",
                shown(flag)
            ));
        }
    }
    let (key, value) = MANAGED_BY;
    match metadata.get(key) {
        None => {}
        Some(Value::String(owner)) if owner == value => {}
        Some(other) => check.problem(format!(
            "metadata.{key} is reserved: Hera sets it to {value:?} on every client it manages \
             (found {})",
            shown(other)
        )),
    }
    metadata.insert(key.to_owned(), Value::String(value.to_owned()));
    body.insert("metadata".into(), Value::Object(metadata));
}

fn check_jwks(check: &mut Check, body: &Map<String, Value>, auth_method: &str) {
    let jwks = body.get("jwks");
    if auth_method == "private_key_jwt" && jwks.is_none() && text(body, "jwks_uri").is_none() {
        check.problem(
            "token_endpoint_auth_method \"private_key_jwt\" needs jwks or jwks_uri".into(),
        );
    }
    if jwks.is_some() && text(body, "jwks_uri").is_some() {
        check.problem("set jwks or jwks_uri, not both".into());
    }
    let keys = jwks
        .and_then(|jwks| jwks.get("keys"))
        .and_then(Value::as_array);
    for (index, key) in keys.into_iter().flatten().enumerate() {
        if let Some(member) = PRIVATE_JWK_MEMBERS
            .iter()
            .find(|member| key.get(**member).is_some())
        {
            check.problem(format!(
                "jwks.keys[{index}] has the private member {member:?}: register public keys only"
            ));
        }
    }
}

/// Resolves `client_secret: "env:NAME"`. A literal secret is refused without echoing it.
fn check_secret(
    check: &mut Check,
    object: &Map<String, Value>,
    auth_method: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<Secret> {
    let written = match object.get("client_secret") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.as_str()),
        // The type problem was already reported.
        Some(_) => return None,
    };
    let secret = match written {
        None => None,
        Some(text) => match text.strip_prefix(ENV_PREFIX) {
            None => {
                check.problem(format!(
                    "client_secret holds a literal secret, which is refused: write \
                     \"{ENV_PREFIX}NAME\" and set the environment variable NAME when running \
                     hera clients"
                ));
                None
            }
            Some(name) if !is_env_name(name) => {
                check.problem(format!(
                    "client_secret {text:?} does not name an environment variable (letters, \
                     digits and _, not starting with a digit)"
                ));
                None
            }
            Some(name) => match env(name).filter(|value| !value.is_empty()) {
                None => {
                    check.problem(format!(
                        "client_secret comes from the environment variable {name}, which is \
                         not set"
                    ));
                    None
                }
                Some(value) if value.chars().count() < MIN_SECRET_LEN => {
                    check.problem(format!(
                        "the secret in {name} is shorter than the {MIN_SECRET_LEN} characters \
                         Hydra requires"
                    ));
                    None
                }
                Some(value) => Some(Secret::new(name, value)),
            },
        },
    };
    match auth_method {
        "none" if written.is_some() => check.problem(
            "a public client (token_endpoint_auth_method \"none\") must not have a \
             client_secret"
                .into(),
        ),
        "client_secret_basic" | "client_secret_post" if written.is_none() => {
            check.problem(format!(
                "client_secret is required for token_endpoint_auth_method {auth_method:?}: write \
                 \"{ENV_PREFIX}NAME\" (Hydra would otherwise generate a secret nobody can read)"
            ))
        }
        "private_key_jwt" if written.is_some() => check.problem(
            "a private_key_jwt client authenticates with its key: remove client_secret".into(),
        ),
        _ => {}
    }
    secret
}

fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A public client with a redirect any local app can receive: `metadata.first_party` gets a
/// warning (Hera's consent page ignores it for such a client), and `skip_consent` is refused (it
/// would hand the client's tokens to whichever app claims the redirect).
fn warn_about_local_apps(check: &mut Check, body: &Map<String, Value>, public: bool) {
    if !public {
        return;
    }
    let Some(local) = list(body, "redirect_uris")
        .into_iter()
        .find(|uri| redirect_reaches_local_apps(uri))
    else {
        return;
    };
    let first_party = metadata_flag(body, "first_party");
    if first_party {
        check.warn(format!(
            "metadata.first_party is not enough to skip consent for this public client: any \
             app on the user's device could receive its redirect {local:?}, so Hera's consent \
             page still asks the user"
        ));
    }
    if body.get("skip_consent") == Some(&Value::Bool(true)) {
        check.problem(format!(
            "skip_consent on a public client whose redirect {local:?} any local app could \
             receive is refused: such an app could start the flow with this public client_id and \
             obtain tokens without the user being asked (RFC 8252 §8.6)"
        ));
    }
}

/// `metadata.session_bridge` and `metadata.token_exchange`, the two ways Hera mints tokens from
/// a Kratos session without a consent page, are booleans, and `true` only on a client that
/// can pass what Hera checks when they are used: a first-party client (Hera refuses others
/// with `unauthorized_client`) with the `authorization_code` grant, which both run with PKCE.
/// The bridge also binds each caller's `Origin` to the client, so the client needs a web origin
/// (an `allowed_cors_origins` entry or an http(s) redirect URI), and it never grants offline
/// access, so the client may not list `offline`/`offline_access`. Token exchange authenticates
/// the caller with what it sends, which a `private_key_jwt` assertion made out to Hydra cannot
/// be.
fn check_session_features(
    check: &mut Check,
    body: &Map<String, Value>,
    auth_method: &str,
    grant_types: &[&str],
) {
    let metadata = body.get("metadata").and_then(Value::as_object);
    let flag = |name: &str| metadata.and_then(|metadata| metadata.get(name));
    for name in ["session_bridge", "token_exchange"] {
        if let Some(value) = flag(name).filter(|value| !value.is_boolean()) {
            check.problem(format!(
                "metadata.{name} must be a boolean (true or false), found {}; Hera only honours \
                 the JSON boolean true",
                shown(value)
            ));
        }
    }
    let first_party =
        metadata_flag(body, "first_party") || body.get("skip_consent") == Some(&Value::Bool(true));
    let code_flow = grant_types.contains(&"authorization_code");
    // What both need: first-party, and the code flow they mint with.
    let common = |how: &str| {
        let mut why = Vec::new();
        if !first_party {
            why.push("it is not first-party (metadata.first_party or skip_consent)".to_owned());
        }
        if !code_flow {
            why.push(format!(
                "it lacks the authorization_code grant ({how} the code flow with PKCE)"
            ));
        }
        why
    };
    if metadata_flag(body, "session_bridge") {
        let mut why = common("the bridge runs");
        let has_origin = !list(body, "allowed_cors_origins").is_empty()
            || list(body, "redirect_uris").iter().any(|uri| {
                Url::parse(uri).is_ok_and(|url| matches!(url.scheme(), "http" | "https"))
            });
        if !has_origin {
            why.push(
                "it has no web origin to bind callers to (no allowed_cors_origins and no \
                 http(s) redirect_uris)"
                    .to_owned(),
            );
        }
        let scope = text(body, "scope").unwrap_or_default();
        if let Some(offline) = scope
            .split_whitespace()
            .find(|scope| matches!(*scope, "offline" | "offline_access"))
        {
            why.push(format!(
                "its scope lists {offline:?}, which the bridge never grants (a script must not \
                 mint refresh tokens)"
            ));
        }
        refuse(check, "session_bridge", "the session bridge", why);
    }
    if metadata_flag(body, "token_exchange") {
        let mut why = common("Hera mints the token through");
        if auth_method == "private_key_jwt" {
            why.push(
                "it authenticates with private_key_jwt; token exchange takes client_secret_basic, \
                 client_secret_post or a public client"
                    .to_owned(),
            );
        }
        refuse(check, "token_exchange", "token exchange", why);
    }
}

/// One problem per reason a client marked with `metadata.<flag>` would be refused.
fn refuse(check: &mut Check, flag: &str, feature: &str, why: Vec<String>) {
    for reason in why {
        check.problem(format!(
            "metadata.{flag} on a client {feature} would refuse: {reason}"
        ));
    }
}

/// True when `metadata.<key>` is the JSON boolean `true`.
fn metadata_flag(body: &Map<String, Value>, key: &str) -> bool {
    body.get("metadata").and_then(|metadata| metadata.get(key)) == Some(&Value::Bool(true))
}

/// A device-flow client may not be marked to skip consent: Hera always shows the consent page
/// for a device-authorization request (the last point where a person who was talked into
/// typing someone else's code sees which app gets the grant, RFC 8628 §5.4), so the mark would
/// promise what never happens.
fn check_device_flow_consent(check: &mut Check, body: &Map<String, Value>, grant_types: &[&str]) {
    if !grant_types.contains(&DEVICE_CODE) {
        return;
    }
    let first_party = metadata_flag(body, "first_party");
    if first_party {
        check.problem(
            "metadata.first_party on a client with the device-code grant: Hera asks for consent \
             on every device sign-in whatever the client is (RFC 8628 §5.4); remove the mark, or \
             give the device flow a client of its own"
                .into(),
        );
    }
    if body.get("skip_consent") == Some(&Value::Bool(true)) {
        check.problem(
            "skip_consent on a client with the device-code grant: Hera asks for consent on every \
             device sign-in whatever the client is (RFC 8628 §5.4); remove it, or give the \
             device flow a client of its own"
                .into(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn definition(object: Value) -> Definition {
        Definition {
            source: Source {
                file: "hydra-clients/app.json".into(),
                index: None,
            },
            object: object.as_object().unwrap().clone(),
        }
    }

    fn env(name: &str) -> Option<String> {
        match name {
            "APP_SECRET" => Some("a-long-enough-secret".into()),
            "SHORT_SECRET" => Some("abc".into()),
            "EMPTY_SECRET" => Some(String::new()),
            _ => None,
        }
    }

    /// A valid confidential web client.
    fn web() -> Value {
        json!({
            "client_id": "web",
            "client_name": "Web app",
            "client_secret": "env:APP_SECRET",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "scope": "openid offline_access email",
            "redirect_uris": ["https://app.example.com/callback"],
        })
    }

    /// A valid public single-page app.
    fn spa() -> Value {
        json!({
            "client_id": "spa",
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "scope": "openid",
            "redirect_uris": ["https://spa.example.com/callback"],
            "metadata": {"first_party": true},
        })
    }

    fn with(base: Value, patch: Value) -> Value {
        let mut base = base;
        for (key, value) in patch.as_object().unwrap() {
            base[key] = value.clone();
        }
        base
    }

    fn without(base: Value, key: &str) -> Value {
        let mut base = base;
        base.as_object_mut().unwrap().remove(key);
        base
    }

    fn problems(object: Value) -> Vec<String> {
        validate(definition(object), &env)
            .map(|spec| panic!("accepted: {spec:?}"))
            .unwrap_err()
            .into_iter()
            .map(|p| p.to_string())
            .collect()
    }

    fn assert_refused(case: &str, object: Value, expected: &str) {
        let found = problems(object);
        assert!(
            found.iter().any(|p| p.contains(expected)),
            "{case}: expected a problem containing {expected:?}, got {found:#?}"
        );
        assert!(
            found
                .iter()
                .all(|p| p.starts_with("hydra-clients/app.json: ")),
            "{case}: {found:#?}"
        );
    }

    #[test]
    fn well_formed_clients_are_accepted() {
        for object in [web(), spa()] {
            let spec = validate(definition(object.clone()), &env).unwrap();
            assert!(spec.warnings.is_empty(), "{:?}", spec.warnings);
            assert_eq!(Some(&spec.body["client_id"]), object.get("client_id"));
        }
    }

    #[test]
    fn each_invalid_definition_is_refused_with_a_precise_message() {
        let cases = [
            ("missing id", without(web(), "client_id"), "client_id is required"),
            ("empty id", with(web(), json!({"client_id": " "})), "client_id must not be empty"),
            ("id with spaces", with(web(), json!({"client_id": " web"})), "must not start or end with spaces"),
            ("numeric id", with(web(), json!({"client_id": 7})), "client_id must be a string, found a number 7"),
            ("unknown field", with(web(), json!({"skip_consnet": true})), "unknown field `skip_consnet`"),
            ("relative redirect", with(web(), json!({"redirect_uris": ["/callback"]})), "redirect_uris[0] \"/callback\" is not an absolute URI"),
            ("http redirect", with(web(), json!({"redirect_uris": ["https://a.example/cb", "http://app.example.com/cb"]})), "redirect_uris[1] \"http://app.example.com/cb\" must use https (plain http is allowed only for localhost, 127.0.0.1 and [::1])"),
            ("fragment", with(web(), json!({"redirect_uris": ["https://a.example/cb#x"]})), "must not contain a fragment"),
            ("javascript scheme", with(web(), json!({"redirect_uris": ["javascript:alert(1)"]})), "uses the scheme \"javascript\""),
            ("http post-logout", with(web(), json!({"post_logout_redirect_uris": ["http://a.example/bye"]})), "post_logout_redirect_uris[0]"),
            ("post-logout elsewhere", with(web(), json!({"post_logout_redirect_uris": ["https://app.example.com/", "https://app.example.com:8443/bye"]})), "post_logout_redirect_uris[1] \"https://app.example.com:8443/bye\" must have the scheme, host and port of one of the redirect_uris"),
            ("no redirect for a code grant", without(web(), "redirect_uris"), "redirect_uris is empty, but the authorization_code grant needs at least one"),
            ("skip_consent as a string", with(web(), json!({"skip_consent": "true"})), "skip_consent must be a boolean (true or false), found a string \"true\""),
            ("first_party as a string", with(web(), json!({"metadata": {"first_party": "yes"}})), "metadata.first_party must be a boolean (true or false), found a string \"yes\""),
            ("first_party as a number", with(web(), json!({"metadata": {"first_party": 1}})), "metadata.first_party must be a boolean"),
            ("metadata not an object", with(web(), json!({"metadata": "x"})), "metadata must be a JSON object"),
            ("managed_by taken", with(web(), json!({"metadata": {"managed_by": "terraform"}})), "metadata.managed_by is reserved"),
            ("literal secret", with(web(), json!({"client_secret": "hunter2-hunter2"})), "client_secret holds a literal secret, which is refused"),
            ("bad env name", with(web(), json!({"client_secret": "env:1X"})), "does not name an environment variable"),
            ("unset env", with(web(), json!({"client_secret": "env:NOT_SET"})), "the environment variable NOT_SET, which is not set"),
            ("empty env", with(web(), json!({"client_secret": "env:EMPTY_SECRET"})), "EMPTY_SECRET, which is not set"),
            ("short env", with(web(), json!({"client_secret": "env:SHORT_SECRET"})), "the secret in SHORT_SECRET is shorter than the 6 characters"),
            ("confidential without secret", without(web(), "client_secret"), "client_secret is required for token_endpoint_auth_method \"client_secret_basic\""),
            ("public with secret", with(spa(), json!({"client_secret": "env:APP_SECRET"})), "a public client (token_endpoint_auth_method \"none\") must not have a client_secret"),
            ("public without code grant", with(spa(), json!({"grant_types": ["refresh_token"]})), "must list \"authorization_code\" (used with PKCE)"),
            ("public relying on the default grant", without(spa(), "grant_types"), "must list \"authorization_code\""),
            ("public implicit", with(spa(), json!({"grant_types": ["authorization_code", "implicit"]})), "the \"implicit\" grant is refused"),
            ("confidential implicit", with(web(), json!({"grant_types": ["authorization_code", "implicit"]})), "the \"implicit\" grant is refused"),
            ("confidential token response", with(web(), json!({"response_types": ["code", "token"]})), "response_types: \"token\" is refused"),
            ("hybrid response", with(web(), json!({"response_types": ["code id_token"]})), "response_types: \"code id_token\" is refused"),
            ("http cors origin", with(web(), json!({"allowed_cors_origins": ["http://app.example.com"]})), "allowed_cors_origins[0] \"http://app.example.com\" must use https"),
            ("public skip_consent with a loopback redirect", with(spa(), json!({"skip_consent": true, "redirect_uris": ["http://127.0.0.1:8080/cb"]})), "skip_consent on a public client whose redirect \"http://127.0.0.1:8080/cb\" any local app could receive is refused"),
            ("public skip_consent with a custom scheme", with(spa(), json!({"skip_consent": true, "redirect_uris": ["com.example.app:/cb"]})), "skip_consent on a public client whose redirect \"com.example.app:/cb\""),
            ("public client credentials", with(spa(), json!({"grant_types": ["authorization_code", "client_credentials"]})), "must not use the \"client_credentials\" grant: it needs a client secret or key"),
            ("public token response", with(spa(), json!({"response_types": ["code", "token"]})), "response_types: \"token\" is refused"),
            ("unknown grant", with(web(), json!({"grant_types": ["password"]})), "grant_types: \"password\" is not a grant type Hydra knows"),
            ("unknown auth method", with(web(), json!({"token_endpoint_auth_method": "basic"})), "token_endpoint_auth_method \"basic\" is not one of"),
            ("no scope", without(web(), "scope"), "scope is required"),
            ("scope as a list", with(web(), json!({"scope": ["openid"]})), "scope must be a string of space-separated scopes, found an array"),
            ("list of numbers", with(web(), json!({"audience": ["a", 2]})), "audience[1] must be a string, found a number"),
            ("bad lifespan", with(web(), json!({"refresh_token_grant_refresh_token_lifespan": "30d"})), "must be a duration such as \"1h\""),
            ("bad logo", with(web(), json!({"logo_uri": "logo.png"})), "logo_uri \"logo.png\" must be an absolute http(s) URI"),
            ("bad cors origin", with(web(), json!({"allowed_cors_origins": ["https://a.example/app"]})), "allowed_cors_origins[0] \"https://a.example/app\" must be an origin"),
            ("private jwk", with(web(), json!({"token_endpoint_auth_method": "private_key_jwt", "client_secret": null, "jwks": {"keys": [{"kty": "RSA", "n": "x", "e": "AQAB", "d": "secret"}]}})), "jwks.keys[0] has the private member \"d\""),
            ("key client without keys", with(web(), json!({"token_endpoint_auth_method": "private_key_jwt", "client_secret": null})), "needs jwks or jwks_uri"),
        ];
        for (case, object, expected) in cases {
            assert_refused(case, object, expected);
        }
    }

    #[test]
    fn a_literal_secret_is_never_repeated_in_the_message() {
        let found = problems(with(web(), json!({"client_secret": "hunter2-hunter2"})));
        assert!(found.iter().all(|p| !p.contains("hunter2")), "{found:#?}");
    }

    #[test]
    fn every_problem_of_a_definition_is_reported_at_once() {
        let found = problems(json!({
            "client_secret": "literal-secret",
            "skip_consent": "yes",
            "redirect_uris": ["http://evil.example/cb"],
        }));
        assert_eq!(found.len(), 5, "{found:#?}");
    }

    #[test]
    fn loopback_http_and_reverse_domain_schemes_are_allowed_redirects() {
        for uri in [
            "http://localhost:8080/callback",
            "http://127.0.0.1:53682/",
            "http://[::1]:9000/cb",
            "com.example.app:/oauth2redirect",
            "https://app.example.com/cb?x=1",
        ] {
            assert_eq!(redirect_problem(uri), Ok(()), "{uri}");
        }
        for uri in [
            "http://127.0.0.2/cb",
            "http://localhost.example.com/cb",
            "myapp://cb",
        ] {
            assert!(redirect_problem(uri).is_err(), "{uri}");
        }
    }

    #[test]
    fn a_public_first_party_client_with_a_local_redirect_is_accepted_with_a_warning() {
        for redirect in [
            "http://127.0.0.1:8080/callback",
            "com.example.app:/callback",
        ] {
            let object = with(spa(), json!({"redirect_uris": [redirect]}));
            let spec = validate(definition(object), &env).unwrap();
            assert_eq!(spec.warnings.len(), 1, "{redirect}");
            assert!(
                spec.warnings[0].contains("Hera's consent page still asks the user"),
                "{}",
                spec.warnings[0]
            );
        }
        let confidential = with(
            web(),
            json!({"redirect_uris": ["http://127.0.0.1:8080/cb"], "metadata": {"first_party": true}}),
        );
        assert!(validate(definition(confidential), &env)
            .unwrap()
            .warnings
            .is_empty());
    }

    #[test]
    fn session_bridge_and_token_exchange_are_refused_on_clients_that_could_not_use_them() {
        let bridge = |patch: Value| {
            with(
                with(
                    spa(),
                    json!({"allowed_cors_origins": ["https://spa.example.com"]}),
                ),
                patch,
            )
        };
        validate(
            definition(bridge(
                json!({"metadata": {"first_party": true, "session_bridge": true}}),
            )),
            &env,
        )
        .unwrap();
        let cases = [
            ("a string flag", bridge(json!({"metadata": {"first_party": true, "session_bridge": "yes"}})), "metadata.session_bridge must be a boolean"),
            ("third party", bridge(json!({"metadata": {"session_bridge": true}})), "metadata.session_bridge on a client the session bridge would refuse: it is not first-party"),
            ("no origin", with(spa(), json!({"redirect_uris": ["com.example.app:/cb"], "metadata": {"first_party": true, "session_bridge": true}})), "it has no web origin to bind callers to"),
            ("offline scopes", bridge(json!({"scope": "openid offline_access", "metadata": {"first_party": true, "session_bridge": true}})), "its scope lists \"offline_access\", which the bridge never grants"),
            ("no code flow", with(web(), json!({"grant_types": ["client_credentials"], "redirect_uris": ["https://web.example.com/cb"], "metadata": {"first_party": true, "session_bridge": true}})), "it lacks the authorization_code grant (the bridge runs the code flow with PKCE)"),
            ("token exchange as a string", with(spa(), json!({"metadata": {"first_party": true, "token_exchange": 1}})), "metadata.token_exchange must be a boolean"),
            ("token exchange, third party", with(spa(), json!({"metadata": {"token_exchange": true}})), "metadata.token_exchange on a client token exchange would refuse: it is not first-party"),
            ("token exchange with a key", with(web(), json!({"token_endpoint_auth_method": "private_key_jwt", "client_secret": null, "jwks_uri": "https://web.example.com/jwks", "metadata": {"first_party": true, "token_exchange": true}})), "it authenticates with private_key_jwt"),
        ];
        for (case, object, expected) in cases {
            assert_refused(case, object, expected);
        }
        let native = json!({
            "client_id": "native",
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code"],
            "scope": "openid email",
            "redirect_uris": ["com.example.app:/oauth2redirect"],
            "metadata": {"first_party": true, "token_exchange": true},
        });
        validate(definition(native), &env).unwrap();
    }

    #[test]
    fn loopback_cors_origins_may_use_plain_http() {
        for origin in [
            "http://localhost:5173",
            "http://127.0.0.1:3000",
            "http://[::1]:8080",
        ] {
            let object = with(web(), json!({"allowed_cors_origins": [origin]}));
            validate(definition(object), &env).unwrap();
        }
    }

    #[test]
    fn a_device_flow_client_marked_first_party_or_skipping_consent_is_refused() {
        let cli = json!({
            "client_id": "cli",
            "token_endpoint_auth_method": "none",
            "grant_types": [DEVICE_CODE],
            "scope": "openid",
        });
        assert_refused(
            "first_party",
            with(cli.clone(), json!({"metadata": {"first_party": true}})),
            "metadata.first_party on a client with the device-code grant",
        );
        assert_refused(
            "skip_consent",
            with(cli.clone(), json!({"skip_consent": true})),
            "skip_consent on a client with the device-code grant",
        );
        let both_grants = with(
            web(),
            json!({"grant_types": ["authorization_code", DEVICE_CODE], "metadata": {"first_party": true}}),
        );
        assert_refused(
            "a web client that also has the device grant",
            both_grants,
            "device-code grant",
        );
        validate(
            definition(with(cli, json!({"metadata": {"first_party": false}}))),
            &env,
        )
        .unwrap();
    }

    #[test]
    fn a_device_flow_client_needs_no_redirect() {
        let cli = json!({
            "client_id": "cli",
            "token_endpoint_auth_method": "none",
            "grant_types": [DEVICE_CODE, "refresh_token"],
            "scope": "openid offline_access",
        });
        validate(definition(cli), &env).unwrap();
    }

    #[test]
    fn the_body_is_the_file_without_secret_nulls_or_server_fields_and_marked_as_managed() {
        let object = with(
            web(),
            json!({"created_at": "2026-01-01T00:00:00Z", "contacts": null, "metadata": {"team": "a"}}),
        );
        let spec = validate(definition(object), &env).unwrap();
        assert_eq!(spec.id, "web");
        assert!(spec.body.get("client_secret").is_none());
        assert!(spec.body.get("created_at").is_none());
        assert!(spec.body.get("contacts").is_none());
        assert_eq!(
            spec.body["metadata"],
            json!({"team": "a", "managed_by": "hera"})
        );
        assert_eq!(spec.body["scope"], "openid offline_access email");
        let secret = spec.secret.unwrap();
        assert_eq!(secret.variable, "APP_SECRET");
        assert_eq!(secret.expose(), "a-long-enough-secret");
        assert_eq!(format!("{secret:?}"), "Secret($APP_SECRET, ****)");
        assert_eq!(
            spec.warnings,
            ["`created_at` is set by Hydra; the value in the file is ignored"]
        );
    }

    #[test]
    fn a_client_id_defined_twice_is_refused_in_both_places() {
        let mut second = definition(with(web(), json!({"client_name": "Other"})));
        second.source.file = "hydra-clients/other.json".into();
        let problems = validate_all(vec![definition(web()), second], &env).unwrap_err();
        let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "hydra-clients/app.json: client_id \"web\" is also defined in hydra-clients/other.json; each client must have one file",
                "hydra-clients/other.json: client_id \"web\" is also defined in hydra-clients/app.json; each client must have one file",
            ]
        );
    }

    #[test]
    fn valid_clients_come_back_sorted_by_id() {
        let specs = validate_all(vec![definition(web()), definition(spa())], &env).unwrap();
        let ids: Vec<&str> = specs.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["spa", "web"]);
    }
}
