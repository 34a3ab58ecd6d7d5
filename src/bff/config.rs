//! `hera bff` settings: one typed value from `HERA_BFF_*` environment variables or flags,
//! checked at startup so a bad deployment stops with a message naming the variable.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use actix_web::http::header::HeaderName;
use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, ValueEnum};
use url::Url;

use crate::secrets::{parse_cookie_secret, ClientSecret, CookieSecret};
use crate::telemetry::LogFormat;
use crate::urls::parse_base_url;

/// `hera bff`'s options (its help text is on [`crate::cli::Command::Bff`]).
#[derive(Debug, Clone, Args)]
pub struct BffCli {
    /// Address the BFF listens on.
    #[arg(
        long,
        env = "HERA_BFF_BIND",
        value_name = "HERA_BFF_BIND",
        default_value = "127.0.0.1:3001"
    )]
    pub bind: SocketAddr,

    /// The app's origin as browsers reach it (`https://app.example.com`). The callback is
    /// `<origin>/api/callback`; state-changing requests must come from this origin; `https:`
    /// makes the cookies `Secure`.
    #[arg(long, env = "HERA_BFF_PUBLIC_ORIGIN", value_name = "HERA_BFF_PUBLIC_ORIGIN", default_value = "http://127.0.0.1:3001", value_parser = parse_public_origin)]
    pub public_origin: Url,

    /// The BFF's OAuth2 client id (a confidential client, see `hydra-clients/`).
    #[arg(long, env = "HERA_BFF_CLIENT_ID", value_name = "HERA_BFF_CLIENT_ID", value_parser = parse_client_id)]
    pub client_id: String,

    /// The client's secret (`client_secret_basic` at Hydra's token endpoint).
    #[arg(
        long,
        env = "HERA_BFF_CLIENT_SECRET",
        value_name = "HERA_BFF_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub client_secret: ClientSecret,

    /// Space-separated scopes to ask for; `openid` is required, `offline_access` gives a
    /// refresh token (without it the session ends when the access token does).
    #[arg(long, env = "HERA_BFF_SCOPES", value_name = "HERA_BFF_SCOPES", default_value = "openid offline_access profile email", value_parser = parse_scopes)]
    pub scopes: Scopes,

    /// Hydra's public API as the BFF reaches it server-side (token, revocation, JWKS).
    #[arg(long, env = "HYDRA_PUBLIC_URL", value_name = "HYDRA_PUBLIC_URL", default_value = "http://127.0.0.1:4444", value_parser = parse_base_url)]
    pub hydra_public_url: Url,

    /// Hydra's public URL as browsers reach it (sign-in and sign-out redirects). Defaults to
    /// HYDRA_PUBLIC_URL.
    #[arg(long, env = "HERA_BFF_HYDRA_BROWSER_URL", value_name = "HERA_BFF_HYDRA_BROWSER_URL", value_parser = parse_base_url)]
    pub hydra_browser_url: Option<Url>,

    /// The `iss` of Hydra's ID tokens (Hydra's `urls.self.issuer`). Defaults to the browser URL
    /// of Hydra. A trailing slash is ignored on both sides.
    #[arg(long, env = "HERA_BFF_ISSUER", value_name = "HERA_BFF_ISSUER", value_parser = parse_base_url)]
    pub issuer: Option<Url>,

    /// Comma-separated `name=https://api.example.com/base` pairs: `/api/proxy/<name>/<path>`
    /// goes to `<base>/<path>` with the user's access token.
    #[arg(long, env = "HERA_BFF_UPSTREAMS", value_name = "HERA_BFF_UPSTREAMS", value_parser = parse_upstreams)]
    pub upstreams: Option<Upstreams>,

    /// Where sessions live: `memory` (one instance), `redis` (several instances sharing
    /// HERA_BFF_REDIS_URL) or `cookie` (encrypted in the cookie itself; refused when the tokens
    /// do not fit in 4 KB).
    #[arg(long, env = "HERA_BFF_SESSION_STORE", value_name = "HERA_BFF_SESSION_STORE", value_enum, default_value_t = StoreKind::Memory)]
    pub session_store: StoreKind,

    /// `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS), for the `redis` store.
    #[arg(
        long,
        env = "HERA_BFF_REDIS_URL",
        value_name = "HERA_BFF_REDIS_URL",
        hide_env_values = true,
        value_parser = parse_redis_url
    )]
    pub redis_url: Option<RedisUrl>,

    /// Key for the BFF's sealed cookies, at least 64 bytes; the same on every instance. Every
    /// store seals sign-ins in progress with it, and the `cookie` store sessions too. Required
    /// with the `redis` and `cookie` stores; with `memory`, a random key is made at start.
    #[arg(long, env = "HERA_BFF_COOKIE_SECRET", value_name = "HERA_BFF_COOKIE_SECRET", hide_env_values = true, value_parser = parse_cookie_secret)]
    pub cookie_secret: Option<CookieSecret>,

    /// How long a session lasts after sign-in, in seconds, at most (it also ends when Hydra
    /// refuses to refresh its tokens or the user signs out).
    #[arg(long, env = "HERA_BFF_SESSION_LIFETIME_SECONDS", value_name = "HERA_BFF_SESSION_LIFETIME_SECONDS", default_value = "86400", value_parser = clap::value_parser!(u64).range(60..=31_536_000))]
    pub session_lifetime_seconds: u64,

    /// A folder of static files (the SPA) served for every path outside `/api/`; unknown paths
    /// get its `index.html`, for client-side routing.
    #[arg(long, env = "HERA_BFF_STATIC_DIR", value_name = "HERA_BFF_STATIC_DIR")]
    pub static_dir: Option<PathBuf>,

    /// Where Hydra sends the browser after sign-out; must be one of the client's
    /// `post_logout_redirect_uris`. Defaults to `<origin>/`.
    #[arg(long, env = "HERA_BFF_POST_LOGOUT_REDIRECT_URI", value_name = "HERA_BFF_POST_LOGOUT_REDIRECT_URI", value_parser = parse_absolute_url)]
    pub post_logout_redirect_uri: Option<Url>,

    /// The header every state-changing `/api/*` request must carry. `X-Requested-With` must be
    /// `XMLHttpRequest`; any other header must be present and non-empty.
    #[arg(long, env = "HERA_BFF_CSRF_HEADER", value_name = "HERA_BFF_CSRF_HEADER", default_value = "X-Requested-With", value_parser = parse_csrf_header)]
    pub csrf_header: HeaderName,

    /// Comma-separated request headers forwarded to upstream APIs besides the standard ones
    /// (`Accept`, `Content-Type`, conditional and range headers…). `Cookie`, `Authorization`,
    /// `Host` and hop-by-hop headers are never forwarded.
    #[arg(long, env = "HERA_BFF_FORWARD_HEADERS", value_name = "HERA_BFF_FORWARD_HEADERS", value_parser = parse_forward_headers)]
    pub forward_headers: Option<ForwardHeaders>,

    /// Largest request body forwarded to an upstream API, in bytes.
    #[arg(long, env = "HERA_BFF_MAX_BODY_BYTES", value_name = "HERA_BFF_MAX_BODY_BYTES", default_value = "10485760", value_parser = clap::value_parser!(u64).range(1..=1_073_741_824))]
    pub max_body_bytes: u64,

    /// Time allowed to connect to an upstream API, and between two reads of its answer, in
    /// milliseconds.
    #[arg(long, env = "HERA_BFF_UPSTREAM_TIMEOUT_MS", value_name = "HERA_BFF_UPSTREAM_TIMEOUT_MS", default_value = "30000", value_parser = clap::value_parser!(u64).range(1..))]
    pub upstream_timeout_ms: u64,

    /// Time allowed for a whole call to Hydra (token, revocation, keys), in milliseconds.
    #[arg(long, env = "HERA_BFF_HYDRA_TIMEOUT_MS", value_name = "HERA_BFF_HYDRA_TIMEOUT_MS", default_value = "5000", value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub hydra_timeout_ms: u64,

    /// PEM file of extra CA certificates trusted for Hydra and the API (a private CA).
    #[arg(long, env = "HERA_CA_FILE", value_name = "HERA_CA_FILE")]
    pub ca_file: Option<std::path::PathBuf>,

    /// Log format: `text` for people, `json` for log pipelines.
    #[arg(long, env = "HERA_BFF_LOG_FORMAT", value_name = "HERA_BFF_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Address of a separate listener serving Prometheus metrics at `GET /metrics`. Unset: no
    /// metrics listener.
    #[arg(
        long,
        env = "HERA_BFF_METRICS_BIND",
        value_name = "HERA_BFF_METRICS_BIND"
    )]
    pub metrics_bind: Option<SocketAddr>,
}

/// Where sessions are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    /// In this process: lost on restart, one instance only.
    Memory,
    /// In Redis: shared by several instances, survives restarts.
    Redis,
    /// Encrypted in the session cookie: no server state, 4 KB at most.
    Cookie,
}

/// Space-separated OAuth2 scopes, `openid` among them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scopes(Vec<String>);

impl Scopes {
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    pub fn joined(&self) -> String {
        self.0.join(" ")
    }
}

/// A named upstream API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    pub name: String,
    /// Absolute http(s) URL without query, fragment or trailing slash.
    pub base: Url,
}

/// The comma-separated list of `HERA_BFF_UPSTREAMS` (blank items are ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstreams(Vec<Upstream>);

/// The comma-separated list of `HERA_BFF_FORWARD_HEADERS` (blank items are ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardHeaders(Vec<HeaderName>);

/// A Redis URL; `Debug` never prints it, since it may carry a password.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl(String);

impl RedisUrl {
    pub fn new(url: impl Into<String>) -> Self {
        RedisUrl(url.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RedisUrl(<redacted>)")
    }
}

/// The session store and what it needs.
#[derive(Debug, Clone)]
pub enum StoreSettings {
    Memory,
    Redis(RedisUrl),
    Cookie(CookieSecret),
}

/// The BFF's validated settings, built from [`BffCli`] or directly by tests.
#[derive(Debug, Clone)]
pub struct BffSettings {
    pub bind: SocketAddr,
    /// Origin only: scheme, host and port, serialized without a trailing slash.
    pub public_origin: Url,
    pub client_id: String,
    pub client_secret: ClientSecret,
    pub scopes: Scopes,
    pub hydra_public_url: Url,
    pub hydra_browser_url: Url,
    pub issuer: Url,
    pub upstreams: Vec<Upstream>,
    pub store: StoreSettings,
    /// `HERA_BFF_COOKIE_SECRET`: seals sign-ins in progress (and, with the `cookie` store,
    /// sessions, which [`StoreSettings::Cookie`] carries too).
    pub cookie_secret: Option<CookieSecret>,
    pub session_lifetime: Duration,
    pub static_dir: Option<PathBuf>,
    pub post_logout_redirect_uri: Url,
    pub csrf_header: HeaderName,
    pub forward_headers: Vec<HeaderName>,
    pub max_body_bytes: u64,
    pub upstream_timeout: Duration,
    pub hydra_timeout: Duration,
    /// Extra roots for Hydra and the API (`HERA_CA_FILE`).
    pub ca_file: Option<std::path::PathBuf>,
    pub log_format: LogFormat,
    pub metrics_bind: Option<SocketAddr>,
}

/// `hera bff …` parsed on its own (for tests and `BffSettings::parse_from`).
#[derive(Debug, Parser)]
#[command(name = "hera bff")]
struct StandaloneBff {
    #[command(flatten)]
    cli: BffCli,
}

impl BffSettings {
    /// Parses `hera bff` arguments (program name first) and the environment.
    pub fn parse_from<I, T>(args: I) -> Result<BffSettings, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let parsed = StandaloneBff::try_parse_from(args)?;
        BffSettings::try_from(parsed.cli)
    }

    /// `<origin><path>`.
    pub fn origin_url(&self, path: &str) -> String {
        format!("{}{path}", self.origin())
    }

    /// The origin as browsers send it in `Origin`.
    pub fn origin(&self) -> String {
        self.public_origin.origin().ascii_serialization()
    }

    /// `<origin>/api/callback`, the client's redirect URI.
    pub fn redirect_uri(&self) -> String {
        self.origin_url("/api/callback")
    }

    /// True when browsers reach the BFF over plain http (local development): cookies cannot
    /// be `Secure` then.
    pub fn is_plain_http(&self) -> bool {
        self.public_origin.scheme() == "http"
    }

    pub fn upstream(&self, name: &str) -> Option<&Upstream> {
        self.upstreams.iter().find(|upstream| upstream.name == name)
    }
}

impl TryFrom<BffCli> for BffSettings {
    type Error = clap::Error;

    /// The checks that span several settings.
    fn try_from(cli: BffCli) -> Result<Self, Self::Error> {
        let invalid =
            |kind: ErrorKind, message: String| StandaloneBff::command().error(kind, message);
        let store = match cli.session_store {
            StoreKind::Memory => StoreSettings::Memory,
            StoreKind::Redis => {
                let url = cli.redis_url.ok_or_else(|| {
                    invalid(
                        ErrorKind::MissingRequiredArgument,
                        "HERA_BFF_SESSION_STORE=redis needs HERA_BFF_REDIS_URL".into(),
                    )
                })?;
                if cli.cookie_secret.is_none() {
                    return Err(invalid(
                        ErrorKind::MissingRequiredArgument,
                        "HERA_BFF_SESSION_STORE=redis needs HERA_BFF_COOKIE_SECRET (at least 64 \
                         bytes, the same on every instance): it seals sign-ins in progress, so \
                         any instance can finish one another started"
                            .into(),
                    ));
                }
                StoreSettings::Redis(url)
            }
            StoreKind::Cookie => {
                StoreSettings::Cookie(cli.cookie_secret.clone().ok_or_else(|| {
                    invalid(
                    ErrorKind::MissingRequiredArgument,
                    "HERA_BFF_SESSION_STORE=cookie needs HERA_BFF_COOKIE_SECRET (at least 64 bytes)"
                        .into(),
                )
                })?)
            }
        };
        let upstreams = cli.upstreams.map(|list| list.0).unwrap_or_default();
        if let Some(dir) = &cli.static_dir {
            if !dir.is_dir() {
                return Err(invalid(
                    ErrorKind::ValueValidation,
                    format!("HERA_BFF_STATIC_DIR {} is not a folder", dir.display()),
                ));
            }
        }
        let hydra_browser_url = cli
            .hydra_browser_url
            .unwrap_or_else(|| cli.hydra_public_url.clone());
        let post_logout_redirect_uri = match cli.post_logout_redirect_uri {
            Some(uri) => uri,
            None => cli.public_origin.join("/").map_err(|e| {
                invalid(
                    ErrorKind::ValueValidation,
                    format!("HERA_BFF_PUBLIC_ORIGIN: {e}"),
                )
            })?,
        };
        Ok(BffSettings {
            bind: cli.bind,
            public_origin: cli.public_origin,
            client_id: cli.client_id,
            client_secret: cli.client_secret,
            scopes: cli.scopes,
            issuer: cli.issuer.unwrap_or_else(|| hydra_browser_url.clone()),
            hydra_public_url: cli.hydra_public_url,
            hydra_browser_url,
            upstreams,
            store,
            cookie_secret: cli.cookie_secret,
            session_lifetime: Duration::from_secs(cli.session_lifetime_seconds),
            static_dir: cli.static_dir,
            post_logout_redirect_uri,
            csrf_header: cli.csrf_header,
            forward_headers: cli.forward_headers.map(|list| list.0).unwrap_or_default(),
            max_body_bytes: cli.max_body_bytes,
            upstream_timeout: Duration::from_millis(cli.upstream_timeout_ms),
            hydra_timeout: Duration::from_millis(cli.hydra_timeout_ms),
            ca_file: cli.ca_file,
            log_format: cli.log_format,
            metrics_bind: cli.metrics_bind,
        })
    }
}

/// An origin: `http(s)://host[:port]`, nothing else.
fn parse_public_origin(value: &str) -> Result<Url, String> {
    let url = Url::parse(value.trim()).map_err(|e| format!("not an origin: {e}"))?;
    let origin = url.origin().ascii_serialization();
    if !matches!(url.scheme(), "http" | "https") || value.trim().trim_end_matches('/') != origin {
        return Err(format!(
            "must be an origin like https://app.example.com, without a path (got {value})"
        ));
    }
    Url::parse(&origin).map_err(|e| e.to_string())
}

fn parse_client_id(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    Ok(value.to_owned())
}

fn parse_scopes(value: &str) -> Result<Scopes, String> {
    let scopes: Vec<String> = value.split_whitespace().map(str::to_owned).collect();
    if !scopes.iter().any(|scope| scope == "openid") {
        return Err("must include `openid`: the BFF signs users in with OpenID Connect".into());
    }
    Ok(Scopes(scopes))
}

fn parse_upstreams(value: &str) -> Result<Upstreams, String> {
    let mut upstreams: Vec<Upstream> = Vec::new();
    for item in value.split(',').filter(|item| !item.trim().is_empty()) {
        let upstream = parse_upstream(item)?;
        if upstreams.iter().any(|known| known.name == upstream.name) {
            return Err(format!("names `{}` twice", upstream.name));
        }
        upstreams.push(upstream);
    }
    Ok(Upstreams(upstreams))
}

fn parse_upstream(value: &str) -> Result<Upstream, String> {
    let (name, url) = value
        .trim()
        .split_once('=')
        .ok_or_else(|| format!("expected name=https://…, got {value}"))?;
    let name = name.trim();
    let valid_name = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid_name {
        return Err(format!(
            "upstream name `{name}` must be 1-64 letters, digits, `-` or `_`"
        ));
    }
    let base = parse_base_url(url.trim()).map_err(|e| format!("upstream `{name}`: {e}"))?;
    Ok(Upstream {
        name: name.to_owned(),
        base,
    })
}

fn parse_redis_url(value: &str) -> Result<RedisUrl, String> {
    let url = Url::parse(value).map_err(|_| "not a URL".to_owned())?;
    if !matches!(url.scheme(), "redis" | "rediss") || url.host().is_none() {
        return Err("must be redis://host:port or rediss://host:port".into());
    }
    Ok(RedisUrl(value.to_owned()))
}

fn parse_absolute_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| format!("not an absolute URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.fragment().is_some() {
        return Err("must be an http(s) URL without a fragment".into());
    }
    Ok(url)
}

/// Headers a browser cannot send cross-origin without a CORS preflight, which the BFF never
/// approves. Simple (CORS-safelisted) headers would not protect anything.
fn parse_csrf_header(value: &str) -> Result<HeaderName, String> {
    let name = HeaderName::try_from(value.trim()).map_err(|_| "not a header name".to_owned())?;
    let safelisted = [
        "accept",
        "accept-language",
        "content-language",
        "content-type",
        "range",
        "origin",
        "cookie",
        "referer",
        "host",
        "user-agent",
    ];
    if safelisted.contains(&name.as_str()) || name.as_str().starts_with("sec-") {
        return Err(format!(
            "`{name}` cannot prove a same-origin request; use a custom header such as X-Requested-With"
        ));
    }
    Ok(name)
}

fn parse_forward_headers(value: &str) -> Result<ForwardHeaders, String> {
    value
        .split(',')
        .filter(|item| !item.trim().is_empty())
        .map(parse_forward_header)
        .collect::<Result<_, _>>()
        .map(ForwardHeaders)
}

fn parse_forward_header(value: &str) -> Result<HeaderName, String> {
    let name = HeaderName::try_from(value.trim()).map_err(|_| "not a header name".to_owned())?;
    if crate::bff::headers::never_forwarded(&name) {
        return Err(format!("`{name}` is never forwarded to upstream APIs"));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUIRED: [&str; 5] = [
        "hera bff",
        "--client-id",
        "bff",
        "--client-secret",
        "bff-secret",
    ];

    fn parse(args: &[&str]) -> Result<BffSettings, clap::Error> {
        BffSettings::parse_from(REQUIRED.iter().chain(args.iter()).copied())
    }

    #[test]
    fn the_defaults_are_a_local_development_setup() {
        let settings = parse(&[]).unwrap();
        assert_eq!(settings.origin(), "http://127.0.0.1:3001");
        assert_eq!(
            settings.redirect_uri(),
            "http://127.0.0.1:3001/api/callback"
        );
        assert_eq!(
            settings.scopes.joined(),
            "openid offline_access profile email"
        );
        assert!(matches!(settings.store, StoreSettings::Memory));
        assert_eq!(settings.issuer.as_str(), "http://127.0.0.1:4444/");
        assert_eq!(
            settings.post_logout_redirect_uri.as_str(),
            "http://127.0.0.1:3001/"
        );
        assert_eq!(settings.csrf_header, "x-requested-with");
        assert!(settings.is_plain_http());
    }

    #[test]
    fn the_client_is_required_and_named_by_its_variable() {
        let err = BffSettings::parse_from(["hera bff"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("HERA_BFF_CLIENT_ID"), "{err}");
        assert!(err.contains("HERA_BFF_CLIENT_SECRET"), "{err}");
    }

    #[test]
    fn upstreams_are_name_url_pairs() {
        let settings = parse(&[
            "--upstreams",
            "orders=https://orders.internal/v1/, billing=http://billing:8080",
        ])
        .unwrap();
        assert_eq!(settings.upstreams.len(), 2);
        let orders = settings.upstream("orders").unwrap();
        assert_eq!(orders.base.as_str(), "https://orders.internal/v1");
        assert!(settings.upstream("nope").is_none());
        for bad in [
            "orders",
            "=https://x",
            "or ders=https://x",
            "orders=ftp://x",
            "orders=https://x?y=1",
        ] {
            let err = parse(&["--upstreams", bad]).unwrap_err().to_string();
            assert!(err.contains("HERA_BFF_UPSTREAMS"), "{bad}: {err}");
        }
        let err = parse(&["--upstreams", "a=https://x,a=https://y"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("names `a` twice"), "{err}");
        assert!(parse(&["--upstreams", ""]).unwrap().upstreams.is_empty());
        assert_eq!(
            parse(&["--upstreams", "a=https://x,"])
                .unwrap()
                .upstreams
                .len(),
            1
        );
    }

    #[test]
    fn the_public_origin_must_be_a_bare_origin() {
        let settings = parse(&["--public-origin", "https://app.example.com/"]).unwrap();
        assert_eq!(settings.origin(), "https://app.example.com");
        assert!(!settings.is_plain_http());
        for bad in ["https://app.example.com/app", "app.example.com", "ftp://x"] {
            let err = parse(&["--public-origin", bad]).unwrap_err().to_string();
            assert!(err.contains("HERA_BFF_PUBLIC_ORIGIN"), "{bad}: {err}");
        }
    }

    #[test]
    fn scopes_must_include_openid() {
        let err = parse(&["--scopes", "profile email"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("openid"), "{err}");
    }

    #[test]
    fn each_store_asks_for_what_it_needs() {
        let err = parse(&["--session-store", "redis"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("HERA_BFF_REDIS_URL"), "{err}");
        let err = parse(&["--session-store", "cookie"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("HERA_BFF_COOKIE_SECRET"), "{err}");
        let err = parse(&[
            "--session-store",
            "redis",
            "--redis-url",
            "redis://127.0.0.1:6379",
        ])
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("HERA_BFF_COOKIE_SECRET"),
            "several instances must open each other's sign-ins: {err}"
        );
        let secret = "r".repeat(64);
        let settings = parse(&[
            "--session-store",
            "redis",
            "--redis-url",
            "redis://:pw@127.0.0.1:6379/0",
            "--cookie-secret",
            &secret,
        ])
        .unwrap();
        assert!(matches!(settings.store, StoreSettings::Redis(_)));
        assert!(settings.cookie_secret.is_some());
        assert!(!format!("{settings:?}").contains("pw@"));
        assert!(parse(&["--redis-url", "http://x"]).is_err());
    }

    #[test]
    fn the_csrf_header_cannot_be_a_simple_header() {
        let settings = parse(&["--csrf-header", "X-CSRF"]).unwrap();
        assert_eq!(settings.csrf_header, "x-csrf");
        for bad in ["Content-Type", "Accept", "Sec-Fetch-Site"] {
            let err = parse(&["--csrf-header", bad]).unwrap_err().to_string();
            assert!(err.contains("HERA_BFF_CSRF_HEADER"), "{bad}: {err}");
        }
    }

    #[test]
    fn credentials_and_hop_by_hop_headers_cannot_be_forwarded() {
        let settings = parse(&["--forward-headers", "Idempotency-Key, X-Tenant"]).unwrap();
        assert_eq!(settings.forward_headers, ["idempotency-key", "x-tenant"]);
        assert!(parse(&["--forward-headers", ""])
            .unwrap()
            .forward_headers
            .is_empty());
        for bad in [
            "Cookie",
            "Authorization",
            "Host",
            "Connection",
            "Transfer-Encoding",
        ] {
            let err = parse(&["--forward-headers", bad]).unwrap_err().to_string();
            assert!(err.contains("HERA_BFF_FORWARD_HEADERS"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_static_dir_must_exist() {
        let err = parse(&["--static-dir", "/definitely/not/here"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("HERA_BFF_STATIC_DIR"), "{err}");
    }

    #[test]
    fn secrets_are_never_printed() {
        let settings = parse(&[]).unwrap();
        assert!(!format!("{settings:?}").contains("bff-secret"));
    }
}
