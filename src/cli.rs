//! The command line: `dialpad-teams-operator <command>`.

use std::io::Write;

use clap::{Parser, Subcommand};

/// Keeps Dialpad users' phone numbers assigned to their Microsoft Teams users.
#[derive(Debug, Parser)]
#[command(name = "dialpad-teams-operator", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the TeamsTenantSync CustomResourceDefinition as YAML (pipe it to `kubectl apply -f -`).
    Crd,
}

/// Errors a command can end with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Writing to standard output failed (for example, a closed pipe).
    #[error("cannot write to standard output: {0}")]
    Stdout(#[source] std::io::Error),
}

/// Runs the parsed command.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Crd => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(crate::api::crd_yaml().as_bytes())
                .map_err(CliError::Stdout)?;
            stdout.flush().map_err(CliError::Stdout)
        }
    }
}
