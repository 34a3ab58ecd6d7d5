//! `hera clients plan|apply [DIR]`: arguments and environment.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use url::Url;

use crate::urls::parse_base_url;

const EXIT_CODES: &str = "Exit codes: 0 done; 1 invalid files or arguments (nothing was sent to \
                          Hydra); 2 Hydra failed (see the report for what was done).";

/// `hera clients …`
#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// Compare the files with Hydra and print what `apply` would change, field by field
    /// (secrets masked). Changes nothing.
    #[command(after_help = EXIT_CODES)]
    Plan(ClientsArgs),
    /// Create (POST) or replace (PUT) clients so that Hydra matches the files, then print what
    /// was done. Running it again reports no changes.
    #[command(after_help = EXIT_CODES)]
    Apply(ClientsArgs),
}

impl ClientsCommand {
    pub fn args(&self) -> &ClientsArgs {
        match self {
            ClientsCommand::Plan(args) | ClientsCommand::Apply(args) => args,
        }
    }

    pub fn is_apply(&self) -> bool {
        matches!(self, ClientsCommand::Apply(_))
    }
}

/// What `plan` and `apply` share, so a plan shows exactly what the same `apply` would do.
#[derive(Debug, Args)]
pub struct ClientsArgs {
    /// Folder of client files: every `*.json` in it holds one Hydra OAuth2Client object, or an
    /// array of them (as `hydra import oauth2-client` takes).
    #[arg(value_name = "DIR", default_value = "hydra-clients")]
    pub dir: PathBuf,

    /// Also delete clients that carry `metadata.managed_by: "hera"` but have no file any more.
    /// Clients Hera did not write are never deleted.
    #[arg(long)]
    pub prune: bool,

    /// Also send the secret of clients that exist already, replacing the secret in Hydra (and
    /// dropping any rotated ones). Without it a secret is only sent when a client is created:
    /// Hydra never returns secrets, so they cannot be compared.
    #[arg(long)]
    pub replace_secrets: bool,

    /// Hydra admin API.
    #[arg(long, env = "HYDRA_ADMIN_URL", value_name = "HYDRA_ADMIN_URL", default_value = "http://127.0.0.1:4445", value_parser = parse_base_url)]
    pub hydra_admin_url: Url,

    #[command(flatten)]
    pub admin_access: crate::ory::AdminAccess,

    /// Time allowed to open a connection to Hydra, in milliseconds.
    #[arg(long, env = "HERA_UPSTREAM_CONNECT_TIMEOUT_MS", value_name = "HERA_UPSTREAM_CONNECT_TIMEOUT_MS", default_value = "2000", value_parser = clap::value_parser!(u64).range(1..))]
    pub upstream_connect_timeout_ms: u64,

    /// Time allowed for each call to Hydra, in milliseconds.
    #[arg(long, env = "HERA_UPSTREAM_TIMEOUT_MS", value_name = "HERA_UPSTREAM_TIMEOUT_MS", default_value = "5000", value_parser = clap::value_parser!(u64).range(1..))]
    pub upstream_timeout_ms: u64,
}

impl ClientsArgs {
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.upstream_connect_timeout_ms)
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.upstream_timeout_ms)
    }
}
