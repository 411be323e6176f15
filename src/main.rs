use std::process::ExitCode;

use clap::Parser;
use dialpad_teams_operator::cli::{self, Cli, Command};
use dialpad_teams_operator::telemetry::logging::{self, LogFormat};

#[tokio::main]
async fn main() -> ExitCode {
    dialpad_teams_operator::tls::ensure_crypto_provider();
    let cli = Cli::parse();
    let format = match &cli.command {
        Command::Run(args) => args.log_format,
        _ => LogFormat::Text,
    };
    logging::init(format, None);
    match cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
