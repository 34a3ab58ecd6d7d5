//! The local stack's companion, run by `./scripts/quickstart` next to Hera, Hydra and Kratos:
//!
//! - the demo application with "Sign in with Hera" (`app.rs`), on `DEMO_APP_URL`;
//! - the mail sink Kratos's courier posts to (`mail.rs`), which prints every message and its
//!   code, on `DEMO_MAIL_BIND`;
//! - and, at start, a demo account created through Kratos's admin API.
//!
//! Every setting has the local stack's default (`deploy/local/`); `--help` lists them.

mod app;
mod mail;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpServer};
use clap::Parser;
use serde_json::json;

use app::{DemoApp, DemoClient};
use mail::Mailbox;

/// The demo app and the mail sink of the local stack.
#[derive(Debug, Parser)]
#[command(name = "demo")]
struct Options {
    /// The demo app's URL as browsers reach it (its clients' redirect URIs are on it).
    #[arg(long, env = "DEMO_APP_URL", default_value = "http://127.0.0.1:5555")]
    app_url: url::Url,

    /// Where the mail sink listens (Kratos's `courier.http.request_config.url`).
    #[arg(long, env = "DEMO_MAIL_BIND", default_value = "127.0.0.1:4437")]
    mail_bind: SocketAddr,

    #[arg(
        long,
        env = "HYDRA_PUBLIC_URL",
        default_value = "http://127.0.0.1:4444"
    )]
    hydra_public_url: String,

    #[arg(
        long,
        env = "KRATOS_ADMIN_URL",
        default_value = "http://127.0.0.1:4434"
    )]
    kratos_admin_url: String,

    /// The secret of `deploy/local/clients/demo-photos.json`.
    #[arg(long, env = "DEMO_PHOTOS_CLIENT_SECRET", hide_env_values = true)]
    photos_secret: String,

    /// The secret of `deploy/local/clients/demo-account.json`.
    #[arg(long, env = "DEMO_ACCOUNT_CLIENT_SECRET", hide_env_values = true)]
    account_secret: String,

    /// The demo account's email; empty: no demo account.
    #[arg(long, env = "DEMO_USER_EMAIL", default_value = "demo@example.com")]
    user_email: String,

    #[arg(
        long,
        env = "DEMO_USER_PASSWORD",
        default_value = "correct-horse-battery-staple"
    )]
    user_password: String,
}

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    let options = Options::parse();
    let app_bind = match options
        .app_url
        .socket_addrs(|| None)
        .ok()
        .and_then(|a| a.first().copied())
    {
        Some(address) => address,
        None => {
            eprintln!("demo: DEMO_APP_URL has no usable host and port");
            return std::process::ExitCode::FAILURE;
        }
    };
    if !options.user_email.is_empty() {
        if let Err(problem) = create_account(&options).await {
            eprintln!("demo: {problem}");
            return std::process::ExitCode::FAILURE;
        }
    }
    let hint = if options.user_email.is_empty() {
        "Create an account on the sign-in page.".to_owned()
    } else {
        format!(
            "Demo account: {} with password {} (or create your own).",
            options.user_email, options.user_password
        )
    };
    let app_url = options.app_url.as_str().trim_end_matches('/').to_owned();
    let demo = web::Data::new(DemoApp::new(
        &app_url,
        &options.hydra_public_url,
        vec![
            DemoClient {
                id: "demo-photos".into(),
                secret: options.photos_secret.clone(),
                name: "Photo Printer",
                about: "Someone else's app: Hera asks you what it may see.",
            },
            DemoClient {
                id: "demo-account".into(),
                secret: options.account_secret.clone(),
                name: "Your account",
                about: "The operator's own app (first-party): no consent page.",
            },
        ],
        &hint,
    ));
    let mailbox = web::Data::from(Mailbox::new(true));
    let servers = (
        HttpServer::new(move || App::new().app_data(demo.clone()).configure(app::configure))
            .workers(1)
            .bind(app_bind),
        HttpServer::new(move || {
            App::new()
                .app_data(mailbox.clone())
                .configure(mail::configure)
        })
        .workers(1)
        .bind(options.mail_bind),
    );
    let (app_server, mail_server) = match servers {
        (Ok(a), Ok(m)) => (a.run(), m.run()),
        (a, m) => {
            for error in [a.err(), m.err()].into_iter().flatten() {
                eprintln!("demo: cannot listen: {error}");
            }
            return std::process::ExitCode::FAILURE;
        }
    };
    // Each server stops on Ctrl-C or SIGTERM; the first to stop ends the demo.
    let _ = futures_util::future::select_all([
        actix_web::rt::spawn(app_server),
        actix_web::rt::spawn(mail_server),
    ])
    .await;
    std::process::ExitCode::SUCCESS
}

/// Creates the demo account (email verified, with a password) unless it exists; waits up to
/// 30 s for Kratos's admin API.
async fn create_account(options: &Options) -> Result<(), String> {
    let http = reqwest::Client::new();
    let body = json!({
        "schema_id": "default",
        "traits": {"email": options.user_email, "name": {"first": "Demo", "last": "User"}},
        "verifiable_addresses": [{
            "value": options.user_email, "verified": true, "via": "email", "status": "completed",
        }],
        "credentials": {"password": {"config": {"password": options.user_password}}},
    });
    let url = format!(
        "{}/admin/identities",
        options.kratos_admin_url.trim_end_matches('/')
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match http.post(&url).json(&body).send().await {
            // 409: it exists already.
            Ok(response) if response.status().is_success() || response.status() == 409 => {
                return Ok(())
            }
            Ok(response) => {
                let status = response.status();
                let text = response.text().await.unwrap_or_default();
                return Err(format!(
                    "Kratos refused the demo account ({status}): {text}"
                ));
            }
            Err(_) if Instant::now() < deadline => {
                actix_web::rt::time::sleep(Duration::from_millis(250)).await;
            }
            Err(error) => return Err(format!("Kratos admin API unreachable: {error}")),
        }
    }
}
