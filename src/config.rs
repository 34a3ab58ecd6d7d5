//! Settings: one typed value, read from environment variables or flags and validated at startup.
//!
//! The first names (`HYDRA_ADMIN_URL`, `KRATOS_PUBLIC_URL`, `TRUSTED_CLIENT_IDS`,
//! `REMEMBER_CONSENT_SESSION_FOR_SECONDS`, …) match Ory's own UIs so Hera drops into an existing
//! deployment. Every bad value is refused by clap with a message naming the variable.

use std::ffi::OsString;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use url::Url;

/// Hera: login, consent, logout and device-verification provider for Ory Hydra, backed by Ory
/// Kratos sessions.
///
/// Every option can also be set with the environment variable shown in brackets. Without a
/// subcommand, Hera runs the server.
#[derive(Debug, Parser)]
#[command(
    name = "hera",
    version,
    about,
    long_about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// Run an admin command instead of the server.
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

    /// Hera's own public URL as browsers reach it; `https:` makes the session cookie `Secure`.
    #[arg(long, env = "HERA_PUBLIC_URL", value_name = "HERA_PUBLIC_URL", default_value = "http://127.0.0.1:3000", value_parser = parse_base_url)]
    pub public_url: Url,

    /// Key for Hera's encrypted session cookie, at least 64 bytes. If unset, a random key is
    /// generated: sessions then do not survive a restart or span several instances.
    #[arg(long, env = "HERA_COOKIE_SECRET", value_name = "HERA_COOKIE_SECRET", hide_env_values = true, value_parser = parse_cookie_secret)]
    pub cookie_secret: Option<CookieSecret>,

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

    /// Log format: `text` for people, `json` for log pipelines.
    #[arg(long, env = "HERA_LOG_FORMAT", value_name = "HERA_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Time allowed to open a connection to Hydra or Kratos, in milliseconds.
    #[arg(long, env = "HERA_UPSTREAM_CONNECT_TIMEOUT_MS", value_name = "HERA_UPSTREAM_CONNECT_TIMEOUT_MS", default_value = "2000", value_parser = clap::value_parser!(u64).range(1..))]
    pub upstream_connect_timeout_ms: u64,

    /// Time allowed for a whole call to Hydra or Kratos, in milliseconds.
    #[arg(long, env = "HERA_UPSTREAM_TIMEOUT_MS", value_name = "HERA_UPSTREAM_TIMEOUT_MS", default_value = "5000", value_parser = clap::value_parser!(u64).range(1..))]
    pub upstream_timeout_ms: u64,
}

/// Admin commands; `hera` without one runs the server.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Keep Hydra's OAuth2 clients in step with the JSON files in a folder (`hydra-clients/`).
    #[command(subcommand)]
    Clients(crate::clients::ClientsCommand),
}

/// `hera <admin command> …`, parsed apart from [`Cli`] so that the server's settings, and the
/// environment variables behind them, are neither needed nor checked by an admin command.
#[derive(Debug, Parser)]
#[command(name = "hera", version)]
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

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// The session-cookie key. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct CookieSecret(Vec<u8>);

impl CookieSecret {
    pub const MIN_LEN: usize = 64;

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for CookieSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CookieSecret(<redacted>)")
    }
}

fn parse_cookie_secret(value: &str) -> Result<CookieSecret, String> {
    if value.len() < CookieSecret::MIN_LEN {
        return Err(format!(
            "must be at least {} bytes long (got {}); generate one with `openssl rand -base64 64`",
            CookieSecret::MIN_LEN,
            value.len()
        ));
    }
    Ok(CookieSecret(value.as_bytes().to_vec()))
}

/// An absolute `http(s)` base URL without query or fragment; a trailing slash is dropped so
/// paths can be appended.
pub(crate) fn parse_base_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| format!("not an absolute URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must start with http:// or https://".into());
    }
    if url.host().is_none() || url.query().is_some() || url.fragment().is_some() {
        return Err("must be a base URL with a host and no query or fragment".into());
    }
    if url.cannot_be_a_base() {
        return Err("must be a base URL".into());
    }
    let trimmed = url.as_str().trim_end_matches('/').to_owned();
    Url::parse(&trimmed).map_err(|e| e.to_string())
}

/// Hera's validated settings, built from [`Cli`] or directly by tests.
#[derive(Debug, Clone)]
pub struct Settings {
    pub hydra_admin_url: Url,
    pub kratos_public_url: Url,
    pub kratos_browser_url: Url,
    pub kratos_admin_url: Url,
    pub bind: SocketAddr,
    pub public_url: Url,
    pub cookie_secret: Option<CookieSecret>,
    pub trusted_client_ids: Vec<String>,
    pub remember_consent_for: Duration,
    pub log_format: LogFormat,
    pub upstream_connect_timeout: Duration,
    pub upstream_timeout: Duration,
}

impl From<Cli> for Settings {
    fn from(cli: Cli) -> Self {
        Settings {
            kratos_browser_url: cli
                .kratos_browser_url
                .unwrap_or_else(|| cli.kratos_public_url.clone()),
            hydra_admin_url: cli.hydra_admin_url,
            kratos_public_url: cli.kratos_public_url,
            kratos_admin_url: cli.kratos_admin_url,
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
            log_format: cli.log_format,
            upstream_connect_timeout: Duration::from_millis(cli.upstream_connect_timeout_ms),
            upstream_timeout: Duration::from_millis(cli.upstream_timeout_ms),
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

    /// `<base>/<path>` for one of the configured base URLs (which never end in `/`).
    pub fn join(base: &Url, path: &str) -> String {
        format!("{}{}", base.as_str().trim_end_matches('/'), path)
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
            Settings::join(&settings.kratos_public_url, "/sessions/whoami"),
            "http://kratos:4433/sessions/whoami"
        );
    }

    #[test]
    fn a_path_prefix_is_kept_and_its_trailing_slash_dropped() {
        let settings = parse(&["--hydra-admin-url", "https://ory.example/hydra/"]).unwrap();
        assert_eq!(
            Settings::join(&settings.hydra_admin_url, "/admin/clients"),
            "https://ory.example/hydra/admin/clients"
        );
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
    fn the_cookie_secret_is_never_printed() {
        let secret = parse_cookie_secret(&"s".repeat(64)).unwrap();
        assert_eq!(format!("{secret:?}"), "CookieSecret(<redacted>)");
    }
}
