//! The `hera` binary: parse settings, start logging, serve; or run an admin command or `hera bff`.

use std::process::ExitCode;

use clap::Parser;
use hera::app::Application;
use hera::cli::{AdminCli, Cli, Command, Settings};
use hera::telemetry;

/// jemalloc with background threads: memory freed after a burst of requests goes back to the OS
/// within seconds. With glibc's allocator Hera's resident memory stayed at its peak after a load
/// spike (BENCHMARKS.md, "memory after a burst").
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[actix_web::main]
async fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().collect();
    if AdminCli::is_wanted(&args) {
        return match AdminCli::try_parse_from(args) {
            Ok(admin) => run_admin(admin.command).await,
            Err(error) => {
                // Admin commands exit 1 on bad arguments (clap's default is 2, which
                // `hera clients` keeps for "Hydra failed").
                let _ = error.print();
                ExitCode::from(if error.use_stderr() { 1 } else { 0 })
            }
        };
    }
    let cli = Cli::parse();
    if let Some(command) = cli.command {
        return run_admin(command).await;
    }
    let settings = Settings::from(cli);
    let _telemetry = telemetry::init(settings.log_format, "hera");
    let bind = settings.bind;
    let application = match Application::build(settings) {
        Ok(application) => application,
        Err(error) => {
            tracing::error!(error = %format!("{error:#}"), %bind, "Hera could not start");
            return ExitCode::FAILURE;
        }
    };
    let shutdown = application.shutdown();
    let stop = hera::app::stop_signal();
    tokio::spawn(async move {
        stop.await;
        shutdown.begin().await;
    });
    tracing::info!(%bind, port = application.port(), "Hera is listening");
    if let Some(port) = application.metrics_port() {
        tracing::info!(port, "metrics are served at /metrics");
    }
    match application.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "Hera stopped with an error");
            ExitCode::FAILURE
        }
    }
}

async fn run_admin(command: Command) -> ExitCode {
    match command {
        Command::Clients(command) => {
            let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
            let outcome = hera::clients::run(&command, &mut out, &mut err).await;
            ExitCode::from(outcome.exit_code())
        }
        Command::Bff(cli) => hera::bff::run(*cli).await,
        Command::Health(args) => {
            if args.probe().await {
                ExitCode::SUCCESS
            } else {
                eprintln!("hera health: {} did not answer 200", args.alive_url());
                ExitCode::FAILURE
            }
        }
    }
}
