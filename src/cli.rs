//! The command line: `hera` (the server, with its settings read from environment variables or
//! flags and validated at startup), `hera clients …` and `hera bff`.
//!
//! The first names (`HYDRA_ADMIN_URL`, `KRATOS_PUBLIC_URL`, `TRUSTED_CLIENT_IDS`,
//! `REMEMBER_CONSENT_SESSION_FOR_SECONDS`, …) match Ory's own UIs so Hera drops into an existing
//! deployment. Every bad value is refused by clap with a message naming the variable.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand};
use url::Url;

use crate::domain::login::LoginPolicy;
use crate::secrets::{parse_cookie_secret, ClientSecret, CookieSecret};
use crate::server::KratosLogout;
use crate::session_api;
use crate::telemetry::LogFormat;
use crate::urls::parse_base_url;

/// Hera: login, consent, logout and device-verification provider for Ory Hydra, backed by Ory
/// Kratos sessions.
///
/// Every option can also be set with the environment variable shown in brackets. Without a
/// subcommand, Hera runs the server.
#[derive(Debug, Parser)]
#[command(
    name = "hera",
    version = crate::VERSION,
    about,
    long_about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// Run an admin command, or the BFF server role, instead of the server.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Hydra admin API, used server-side for login/consent requests.
    #[arg(long, env = "HYDRA_ADMIN_URL", value_name = "HYDRA_ADMIN_URL", default_value = "http://127.0.0.1:4445", value_parser = parse_base_url)]
    pub hydra_admin_url: Url,

    /// Kratos public API, used server-side for `/sessions/whoami`.
    #[arg(long, env = "KRATOS_PUBLIC_URL", value_name = "KRATOS_PUBLIC_URL", default_value = "http://127.0.0.1:4433", value_parser = parse_base_url)]
    pub kratos_public_url: Url,

    /// Kratos public URL as browsers reach it (sign-in redirects). Defaults to KRATOS_PUBLIC_URL.
    #[arg(long, env = "KRATOS_BROWSER_URL", value_name = "KRATOS_BROWSER_URL", value_parser = parse_base_url)]
    pub kratos_browser_url: Option<Url>,

    /// Kratos admin API, used server-side to load the consent subject's identity.
    #[arg(long, env = "KRATOS_ADMIN_URL", value_name = "KRATOS_ADMIN_URL", default_value = "http://127.0.0.1:4434", value_parser = parse_base_url)]
    pub kratos_admin_url: Url,

    /// Address Hera listens on.
    #[arg(
        long,
        env = "HERA_BIND",
        value_name = "HERA_BIND",
        default_value = "127.0.0.1:3000"
    )]
    pub bind: SocketAddr,

    #[command(flatten)]
    pub admin_access: crate::ory::AdminAccess,

    /// Hera's own public URL as browsers reach it; `https:` makes the session cookie `Secure`.
    /// A path (`https://example.com/auth/`) is the prefix every route is served under.
    #[arg(long, env = "HERA_PUBLIC_URL", value_name = "HERA_PUBLIC_URL", default_value = "http://127.0.0.1:3000", value_parser = crate::urls::parse_public_url)]
    pub public_url: Url,

    /// Key for Hera's encrypted session cookie, at least 64 bytes. If unset, a random key is
    /// generated: sessions then do not survive a restart or span several instances.
    #[arg(long, env = "HERA_COOKIE_SECRET", value_name = "HERA_COOKIE_SECRET", hide_env_values = true, value_parser = parse_cookie_secret)]
    pub cookie_secret: Option<CookieSecret>,

    /// Hydra's public URL as Hera reaches it server-side (the session bridge runs Hydra's
    /// authorization endpoint here).
    #[arg(long, env = "HYDRA_PUBLIC_URL", value_name = "HYDRA_PUBLIC_URL", default_value = "http://127.0.0.1:4444", value_parser = parse_base_url)]
    pub hydra_public_url: Url,

    /// Comma-separated origins (`https://app.example.com`) allowed to call `/session/*` from a
    /// browser; matched exactly. Empty: the session bridge refuses every browser request.
    #[arg(long, env = "HERA_BRIDGE_ALLOWED_ORIGINS", value_name = "HERA_BRIDGE_ALLOWED_ORIGINS", value_delimiter = ',', default_value = "", value_parser = parse_origin)]
    pub bridge_allowed_origins: Vec<String>,

    /// The client `POST /session/token` runs the flow for. Unset: the session grant is off.
    #[arg(
        long,
        env = "HERA_BRIDGE_CLIENT_ID",
        value_name = "HERA_BRIDGE_CLIENT_ID"
    )]
    pub bridge_client_id: Option<String>,

    /// The bridge client's secret, for a confidential client; without it Hera uses PKCE.
    #[arg(
        long,
        env = "HERA_BRIDGE_CLIENT_SECRET",
        value_name = "HERA_BRIDGE_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub bridge_client_secret: Option<ClientSecret>,

    /// Token exchanges (`POST /oauth2/token-exchange`) each client may make per minute, on each
    /// instance (each client address is also limited to 60 a minute).
    #[arg(long, env = "HERA_TOKEN_EXCHANGE_PER_CLIENT_PER_MINUTE", value_name = "HERA_TOKEN_EXCHANGE_PER_CLIENT_PER_MINUTE", default_value = "600", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub token_exchange_per_client_per_minute: u64,

    /// Minimum seconds between two `POST /session/extend` calls for the same Kratos session.
    #[arg(long, env = "HERA_SESSION_EXTEND_INTERVAL_SECONDS", value_name = "HERA_SESSION_EXTEND_INTERVAL_SECONDS", default_value = "60", value_parser = clap::value_parser!(u64).range(1..))]
    pub session_extend_interval_seconds: u64,

    /// Comma-separated client ids whose consent is accepted without asking the user.
    #[arg(
        long,
        env = "TRUSTED_CLIENT_IDS",
        value_name = "TRUSTED_CLIENT_IDS",
        value_delimiter = ',',
        default_value = ""
    )]
    pub trusted_client_ids: Vec<String>,

    /// How long Hydra remembers a consent the user ticked "remember" for, in seconds (> 0).
    #[arg(long, env = "REMEMBER_CONSENT_SESSION_FOR_SECONDS", value_name = "REMEMBER_CONSENT_SESSION_FOR_SECONDS", default_value = "3600", value_parser = clap::value_parser!(u64).range(1..))]
    pub remember_consent_session_for_seconds: u64,

    /// How long Hydra remembers a consent Hera accepted without asking (first-party,
    /// `skip_consent`, TRUSTED_CLIENT_IDS), in seconds (> 0). Silent sign-ins (`prompt=none`)
    /// of those clients work for this long after their last interactive sign-in.
    #[arg(long, env = "HERA_AUTO_CONSENT_REMEMBER_FOR_SECONDS", value_name = "HERA_AUTO_CONSENT_REMEMBER_FOR_SECONDS", default_value = "86400", value_parser = clap::value_parser!(u64).range(1..))]
    pub auto_consent_remember_for_seconds: u64,

    /// Comma-separated `acr_values` that mean "a second factor is required", besides `aal2` and
    /// HERA_ACR_AAL2.
    #[arg(
        long,
        env = "HERA_MFA_ACR_VALUES",
        value_name = "HERA_MFA_ACR_VALUES",
        value_delimiter = ',',
        default_value = "http://schemas.openid.net/pape/policies/2007/06/multi-factor"
    )]
    pub mfa_acr_values: Vec<String>,

    /// The `acr` Hera sends to Hydra for a Kratos session at `aal1`.
    #[arg(long, env = "HERA_ACR_AAL1", value_name = "HERA_ACR_AAL1", default_value = "aal1", value_parser = parse_acr)]
    pub acr_aal1: String,

    /// The `acr` Hera sends to Hydra for a Kratos session at `aal2` (also accepted in `acr_values`
    /// as a request for a second factor).
    #[arg(long, env = "HERA_ACR_AAL2", value_name = "HERA_ACR_AAL2", default_value = "aal2", value_parser = parse_acr)]
    pub acr_aal2: String,

    /// On a login Hydra remembers (`skip=true`), ask Hydra to extend its login session
    /// (`extend_session_lifespan`), never beyond the Kratos session.
    #[arg(long, env = "HERA_EXTEND_SESSION_LIFESPAN", value_name = "HERA_EXTEND_SESSION_LIFESPAN", default_value = "false", action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
    pub extend_session_lifespan: bool,

    /// Add `Server-Timing: upstream;dur=…, hera;dur=…` to every response (for benchmarks and
    /// diagnosis; off by default because it tells clients how long Hydra and Kratos take).
    #[arg(long, env = "HERA_SERVER_TIMING", value_name = "HERA_SERVER_TIMING", default_value = "false", action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
    pub server_timing: bool,

    /// Log format: `text` for people, `json` for log pipelines.
    #[arg(long, env = "HERA_LOG_FORMAT", value_name = "HERA_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Time allowed to open a connection to Hydra or Kratos, in milliseconds.
    #[arg(long, env = "HERA_UPSTREAM_CONNECT_TIMEOUT_MS", value_name = "HERA_UPSTREAM_CONNECT_TIMEOUT_MS", default_value = "2000", value_parser = clap::value_parser!(u64).range(1..))]
    pub upstream_connect_timeout_ms: u64,

    /// Time allowed for a whole call to Hydra or Kratos, in milliseconds.
    #[arg(long, env = "HERA_UPSTREAM_TIMEOUT_MS", value_name = "HERA_UPSTREAM_TIMEOUT_MS", default_value = "5000", value_parser = clap::value_parser!(u64).range(1..))]
    pub upstream_timeout_ms: u64,

    /// How logout ends the Kratos session: `hydra` relies on Hydra's
    /// `urls.identity_provider.url` (Kratos admin); `browser` also takes the browser through
    /// Kratos's browser logout after Hydra accepts.
    #[arg(long, env = "HERA_KRATOS_LOGOUT", value_name = "HERA_KRATOS_LOGOUT", value_enum, default_value_t = KratosLogout::Hydra)]
    pub kratos_logout: KratosLogout,

    /// Reverse proxies in front of Hera that append the client address to X-Forwarded-For.
    /// 0 ignores the header and uses the TCP peer (then, behind a proxy, every user shares the
    /// proxy's address for the device-code rate limit).
    #[arg(long, env = "HERA_TRUSTED_PROXY_HOPS", value_name = "HERA_TRUSTED_PROXY_HOPS", default_value = "0", value_parser = clap::value_parser!(u8).range(0..=10))]
    pub trusted_proxy_hops: u8,

    /// Milliseconds after the consent page was shown before an answer to it is taken; a sooner
    /// one (a double click that a page swapped onto "Allow") gets the page again. 0 turns the
    /// check off.
    #[arg(long, env = "HERA_CONSENT_MIN_DELAY_MS", value_name = "HERA_CONSENT_MIN_DELAY_MS", default_value = "1000", value_parser = clap::value_parser!(u64).range(0..=10_000))]
    pub consent_min_delay_ms: u64,

    /// A directory of `<tag>.ftl` message files read over the built-in ones: reword messages,
    /// or add a language.
    #[arg(long, env = "HERA_LOCALES_DIR", value_name = "HERA_LOCALES_DIR")]
    pub locales_dir: Option<std::path::PathBuf>,

    /// A TOML (`.toml`) or JSON file describing the operator's own scopes per language, for the
    /// consent and connected-apps pages.
    #[arg(long, env = "HERA_SCOPES_FILE", value_name = "HERA_SCOPES_FILE")]
    pub scopes_file: Option<std::path::PathBuf>,

    /// The product name in every page's tab and header (for example `Acme Accounts`).
    /// Unset: the tab says Hera and pages have no header.
    #[arg(long, env = "HERA_PRODUCT_NAME", value_name = "HERA_PRODUCT_NAME")]
    pub product_name: Option<String>,

    /// A logo for every page's header (.svg, .png, .webp, .jpg or .gif, at most 512 KiB),
    /// served by Hera itself.
    #[arg(long, env = "HERA_LOGO_FILE", value_name = "HERA_LOGO_FILE")]
    pub logo_file: Option<std::path::PathBuf>,

    /// The browser-tab icon (.svg, .png, .ico, …, at most 512 KiB). Unset: Hera's own.
    #[arg(long, env = "HERA_FAVICON_FILE", value_name = "HERA_FAVICON_FILE")]
    pub favicon_file: Option<std::path::PathBuf>,

    /// Address of a separate listener serving Prometheus metrics at `GET /metrics` (for example
    /// `127.0.0.1:9464`). Unset: no metrics listener. Never the public address.
    #[arg(long, env = "HERA_METRICS_BIND", value_name = "HERA_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,

    /// On SIGTERM or Ctrl-C, how long a graceful shutdown may take, in seconds. Readiness answers
    /// 503 at once while other requests are still served for a fifth of it (at most 5 s), so
    /// load balancers stop sending traffic; then requests in flight get the rest to finish.
    #[arg(long, env = "HERA_SHUTDOWN_TIMEOUT_SECONDS", value_name = "HERA_SHUTDOWN_TIMEOUT_SECONDS", default_value = "30", value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub shutdown_timeout_seconds: u64,
}

/// Admin commands and the BFF server role; `hera` without one runs the server.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Keep Hydra's OAuth2 clients in step with the JSON files in a folder (`hydra-clients/`).
    #[command(subcommand)]
    Clients(Box<crate::clients::ClientsCommand>),
    /// Run the backend-for-frontend for a single-page app (settings `HERA_BFF_*`).
    ///
    /// A server on the app's own origin that signs users in with Hydra, keeps their tokens
    /// server-side and proxies the app's API calls with them; the browser only ever holds an
    /// `HttpOnly` session cookie. Routes: `GET /api/login[?return_to=/path]`,
    /// `GET /api/callback`, `GET /api/whoami`, `/api/proxy/{upstream}/{path…}` (any method),
    /// `POST /api/logout`, `GET /api/health/{alive,ready}`; every other path is served from
    /// HERA_BFF_STATIC_DIR when it is set. Every option can also be set with the environment
    /// variable shown in brackets.
    Bff(Box<crate::bff::config::BffCli>),
    /// Exit 0 if the server on HERA_BIND answers `GET /health/alive` with 200 within two
    /// seconds, 1 otherwise: a health check for containers, whose image has no shell or curl.
    Health(HealthArgs),
}

/// `hera health`: where the server to probe listens.
#[derive(Debug, clap::Args)]
pub struct HealthArgs {
    /// The server's listen address; an unspecified one (`0.0.0.0`, `[::]`) is probed on
    /// loopback.
    #[arg(
        long,
        env = "HERA_BIND",
        value_name = "HERA_BIND",
        default_value = "127.0.0.1:3000"
    )]
    pub bind: SocketAddr,
}

impl HealthArgs {
    /// `http://<address>/health/alive`, with an unspecified address replaced by loopback.
    pub fn alive_url(&self) -> String {
        let mut address = self.bind;
        if address.ip().is_unspecified() {
            address.set_ip(match address {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        format!("http://{address}/health/alive")
    }

    /// True when the server answered 200 within two seconds.
    pub async fn probe(&self) -> bool {
        let Ok(http) = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .redirect(reqwest::redirect::Policy::none())
            .build()
        else {
            return false;
        };
        http.get(self.alive_url())
            .send()
            .await
            .is_ok_and(|response| response.status() == reqwest::StatusCode::OK)
    }
}

/// `hera <admin command> …`, parsed apart from [`Cli`] so that the server's settings, and the
/// environment variables behind them, are neither needed nor checked by an admin command.
#[derive(Debug, Parser)]
#[command(name = "hera", version = crate::VERSION)]
pub struct AdminCli {
    #[command(subcommand)]
    pub command: Command,
}

impl AdminCli {
    /// True when `args` (program name first) start with an admin command.
    pub fn is_wanted(args: &[OsString]) -> bool {
        let Some(first) = args.get(1).and_then(|arg| arg.to_str()) else {
            return false;
        };
        AdminCli::command()
            .get_subcommands()
            .any(|command| command.get_name() == first && first != "help")
    }
}

/// An origin as browsers send it: scheme, host and port, nothing else. An empty value (the
/// default) is dropped later.
fn parse_origin(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(String::new());
    }
    let url = Url::parse(value).map_err(|e| format!("not an origin: {e}"))?;
    let origin = url.origin().ascii_serialization();
    if origin == "null" || value.trim_end_matches('/') != origin {
        return Err(format!(
            "must be an origin like https://app.example.com (got {value})"
        ));
    }
    Ok(origin)
}

fn parse_acr(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() || value.contains(char::is_whitespace) {
        return Err("must be one non-empty word (acr values are space-separated)".into());
    }
    Ok(value.to_owned())
}

/// Hera's validated settings, built from [`Cli`] or directly by tests.
#[derive(Debug, Clone)]
pub struct Settings {
    pub hydra_admin_url: Url,
    pub hydra_public_url: Url,
    pub kratos_public_url: Url,
    pub kratos_browser_url: Url,
    pub kratos_admin_url: Url,
    /// Admin tokens and TLS towards Hydra and Kratos.
    pub admin_access: crate::ory::AdminAccess,
    pub bind: SocketAddr,
    pub public_url: Url,
    pub cookie_secret: Option<CookieSecret>,
    pub trusted_client_ids: Vec<String>,
    pub bridge: session_api::Settings,
    pub remember_consent_for: Duration,
    /// How long Hydra remembers an automatic consent (never 0, which Hydra reads as forever).
    pub auto_consent_remember_for: Duration,
    pub login_policy: LoginPolicy,
    pub server_timing: bool,
    pub log_format: LogFormat,
    pub upstream_connect_timeout: Duration,
    pub upstream_timeout: Duration,
    pub kratos_logout: KratosLogout,
    pub trusted_proxy_hops: u8,
    /// How long after the consent page was shown an answer is taken.
    pub consent_min_delay: Duration,
    pub metrics_bind: Option<SocketAddr>,
    pub shutdown_timeout: Duration,
    pub locales_dir: Option<std::path::PathBuf>,
    pub scopes_file: Option<std::path::PathBuf>,
    pub product_name: Option<String>,
    pub logo_file: Option<std::path::PathBuf>,
    pub favicon_file: Option<std::path::PathBuf>,
}

impl From<Cli> for Settings {
    fn from(cli: Cli) -> Self {
        Settings {
            kratos_browser_url: cli
                .kratos_browser_url
                .unwrap_or_else(|| cli.kratos_public_url.clone()),
            hydra_admin_url: cli.hydra_admin_url,
            hydra_public_url: cli.hydra_public_url,
            bridge: session_api::Settings {
                allowed_origins: cli
                    .bridge_allowed_origins
                    .into_iter()
                    .filter(|origin| !origin.is_empty())
                    .collect(),
                client_id: cli.bridge_client_id.filter(|id| !id.trim().is_empty()),
                client_secret: cli.bridge_client_secret,
                extend_interval: Duration::from_secs(cli.session_extend_interval_seconds),
                exchanges_per_client_per_minute: usize::try_from(
                    cli.token_exchange_per_client_per_minute,
                )
                .unwrap_or(usize::MAX),
            },
            kratos_public_url: cli.kratos_public_url,
            kratos_admin_url: cli.kratos_admin_url,
            admin_access: cli.admin_access,
            bind: cli.bind,
            public_url: cli.public_url,
            cookie_secret: cli.cookie_secret,
            trusted_client_ids: cli
                .trusted_client_ids
                .into_iter()
                .map(|id| id.trim().to_owned())
                .filter(|id| !id.is_empty())
                .collect(),
            remember_consent_for: Duration::from_secs(cli.remember_consent_session_for_seconds),
            auto_consent_remember_for: Duration::from_secs(cli.auto_consent_remember_for_seconds),
            login_policy: LoginPolicy {
                mfa_acr_values: cli
                    .mfa_acr_values
                    .into_iter()
                    .map(|acr| acr.trim().to_owned())
                    .filter(|acr| !acr.is_empty())
                    .collect(),
                acr_aal1: cli.acr_aal1,
                acr_aal2: cli.acr_aal2,
                extend_session_lifespan: cli.extend_session_lifespan,
            },
            server_timing: cli.server_timing,
            log_format: cli.log_format,
            upstream_connect_timeout: Duration::from_millis(cli.upstream_connect_timeout_ms),
            upstream_timeout: Duration::from_millis(cli.upstream_timeout_ms),
            kratos_logout: cli.kratos_logout,
            trusted_proxy_hops: cli.trusted_proxy_hops,
            consent_min_delay: Duration::from_millis(cli.consent_min_delay_ms),
            metrics_bind: cli.metrics_bind,
            shutdown_timeout: Duration::from_secs(cli.shutdown_timeout_seconds),
            locales_dir: cli.locales_dir,
            scopes_file: cli.scopes_file,
            product_name: cli.product_name,
            logo_file: cli.logo_file,
            favicon_file: cli.favicon_file,
        }
    }
}

impl Settings {
    /// The settings Hera would run with given no environment at all.
    pub fn defaults() -> Settings {
        Cli::parse_from(["hera"]).into()
    }

    /// True when the browser reaches Hera over plain http (local development): the session
    /// cookie cannot be `Secure` then.
    pub fn is_plain_http(&self) -> bool {
        self.public_url.scheme() == "http"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Settings, clap::Error> {
        Cli::try_parse_from(std::iter::once("hera").chain(args.iter().copied())).map(Into::into)
    }

    #[test]
    fn kratos_browser_url_defaults_to_kratos_public_url() {
        let settings = parse(&["--kratos-public-url", "http://kratos:4433/"]).unwrap();
        assert_eq!(settings.kratos_browser_url.as_str(), "http://kratos:4433/");
        assert_eq!(
            crate::urls::join(&settings.kratos_public_url, "/sessions/whoami"),
            "http://kratos:4433/sessions/whoami"
        );
    }

    #[test]
    fn a_path_prefix_is_kept_and_its_trailing_slash_dropped() {
        let settings = parse(&["--hydra-admin-url", "https://ory.example/hydra/"]).unwrap();
        assert_eq!(
            crate::urls::join(&settings.hydra_admin_url, "/admin/clients"),
            "https://ory.example/hydra/admin/clients"
        );
    }

    #[test]
    fn the_public_urls_path_is_a_prefix_and_a_query_is_refused_naming_the_variable() {
        let settings = parse(&["--public-url", "https://example.com/auth/"]).unwrap();
        assert_eq!(settings.public_url.as_str(), "https://example.com/auth");
        assert_eq!(crate::urls::path_prefix(&settings.public_url), Ok("/auth"));
        assert_eq!(
            crate::urls::path_prefix(&Settings::defaults().public_url),
            Ok("")
        );
        for bad in ["https://example.com/auth?x=1", "https://example.com/auth#x"] {
            let err = parse(&["--public-url", bad]).unwrap_err().to_string();
            assert!(err.contains("HERA_PUBLIC_URL"), "{err}");
            assert!(err.contains("no query or fragment"), "{err}");
        }
    }

    #[test]
    fn a_short_cookie_secret_is_refused_naming_the_variable() {
        let err = parse(&["--cookie-secret", "short"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("HERA_COOKIE_SECRET"), "{err}");
        assert!(err.contains("at least 64 bytes"), "{err}");
    }

    #[test]
    fn a_url_without_scheme_is_refused_naming_the_variable() {
        let err = parse(&["--kratos-admin-url", "kratos:4434"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("KRATOS_ADMIN_URL"), "{err}");
    }

    #[test]
    fn a_zero_remember_period_is_refused() {
        let err = parse(&["--remember-consent-session-for-seconds", "0"]).unwrap_err();
        assert!(err
            .to_string()
            .contains("REMEMBER_CONSENT_SESSION_FOR_SECONDS"));
    }

    #[test]
    fn trusted_client_ids_are_split_and_trimmed() {
        let settings = parse(&["--trusted-client-ids", "a, b,,c"]).unwrap();
        assert_eq!(settings.trusted_client_ids, ["a", "b", "c"]);
    }

    #[test]
    fn the_login_policy_defaults_match_the_documented_ones() {
        assert_eq!(Settings::defaults().login_policy, LoginPolicy::default());
        let settings = parse(&[
            "--mfa-acr-values",
            "urn:a, urn:b",
            "--acr-aal2",
            "urn:gold",
            "--extend-session-lifespan",
            "true",
        ])
        .unwrap();
        assert_eq!(settings.login_policy.mfa_acr_values, ["urn:a", "urn:b"]);
        assert_eq!(settings.login_policy.acr_aal2, "urn:gold");
        assert!(settings.login_policy.extend_session_lifespan);
        assert!(parse(&["--acr-aal1", "two words"]).is_err());
        assert!(parse(&["--extend-session-lifespan", "maybe"]).is_err());
    }

    #[test]
    fn bridge_origins_must_be_bare_origins() {
        let settings = parse(&[
            "--bridge-allowed-origins",
            "https://app.example.com, http://localhost:5173",
        ])
        .unwrap();
        assert_eq!(
            settings.bridge.allowed_origins,
            ["https://app.example.com", "http://localhost:5173"]
        );
        assert!(Settings::defaults().bridge.allowed_origins.is_empty());
        for bad in [
            "https://app.example.com/path",
            "app.example.com",
            "https://app.example.com?x=1",
        ] {
            let err = parse(&["--bridge-allowed-origins", bad])
                .unwrap_err()
                .to_string();
            assert!(err.contains("HERA_BRIDGE_ALLOWED_ORIGINS"), "{bad}: {err}");
        }
    }

    #[test]
    fn logout_relies_on_hydra_unless_browser_logout_is_asked_for() {
        assert_eq!(Settings::defaults().kratos_logout, KratosLogout::Hydra);
        let settings = parse(&["--kratos-logout", "browser"]).unwrap();
        assert_eq!(settings.kratos_logout, KratosLogout::Browser);
        let err = parse(&["--kratos-logout", "both"]).unwrap_err().to_string();
        assert!(err.contains("HERA_KRATOS_LOGOUT"), "{err}");
    }

    #[test]
    fn forwarded_for_is_ignored_unless_proxy_hops_are_configured() {
        assert_eq!(Settings::defaults().trusted_proxy_hops, 0);
        assert_eq!(
            parse(&["--trusted-proxy-hops", "2"])
                .unwrap()
                .trusted_proxy_hops,
            2
        );
        let err = parse(&["--trusted-proxy-hops", "11"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("HERA_TRUSTED_PROXY_HOPS"), "{err}");
    }

    #[test]
    fn health_probes_loopback_when_the_server_listens_everywhere() {
        let url = |bind: &str| {
            HealthArgs {
                bind: bind.parse().unwrap(),
            }
            .alive_url()
        };
        assert_eq!(url("0.0.0.0:3000"), "http://127.0.0.1:3000/health/alive");
        assert_eq!(url("[::]:8080"), "http://[::1]:8080/health/alive");
        assert_eq!(url("10.0.0.5:3000"), "http://10.0.0.5:3000/health/alive");
    }

    #[test]
    fn a_consent_answer_is_taken_a_second_after_the_page_by_default() {
        assert_eq!(
            Settings::defaults().consent_min_delay,
            Duration::from_secs(1)
        );
        assert_eq!(
            parse(&["--consent-min-delay-ms", "0"])
                .unwrap()
                .consent_min_delay,
            Duration::ZERO
        );
        let err = parse(&["--consent-min-delay-ms", "60000"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("HERA_CONSENT_MIN_DELAY_MS"), "{err}");
    }

    #[test]
    fn the_cookie_secret_is_never_printed() {
        let secret = parse_cookie_secret(&"s".repeat(64)).unwrap();
        assert_eq!(format!("{secret:?}"), "CookieSecret(<redacted>)");
    }
}
