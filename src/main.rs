//! The `hera` binary: parse settings, start logging, serve.

use std::process::ExitCode;

use clap::Parser;
use hera::config::{Cli, Settings};
use hera::startup::Application;
use hera::telemetry;

#[actix_web::main]
async fn main() -> ExitCode {
    let settings = Settings::from(Cli::parse());
    telemetry::init(settings.log_format);
    let bind = settings.bind;
    let application = match Application::build(settings) {
        Ok(application) => application,
        Err(error) => {
            tracing::error!(error = %format!("{error:#}"), %bind, "Hera could not start");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(%bind, port = application.port(), "Hera is listening");
    match application.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "Hera stopped with an error");
            ExitCode::FAILURE
        }
    }
}
