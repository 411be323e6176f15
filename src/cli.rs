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
    /// Run the operator: reconcile TeamsTenantSync resources of the cluster (in-cluster config in a
    /// pod, the current kubeconfig context elsewhere).
    Run(crate::commands::run::RunArgs),
    /// Run the real sync pipeline twice against the bundled sandbox and show what an admin sees.
    Demo(crate::commands::demo::DemoArgs),
    /// Run one sync of a TeamsTenantSync file against its endpoints, without a cluster (DryRun
    /// unless --apply).
    Plan(crate::commands::plan::PlanArgs),
    /// Serve the simulated Dialpad, Entra sign-in and Microsoft Graph APIs for an org fixture.
    Sandbox(crate::commands::sandbox::SandboxArgs),
}

/// Errors a command can end with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Writing to standard output failed (for example, a closed pipe).
    #[error("cannot write to standard output: {0}")]
    Stdout(#[source] std::io::Error),
    /// `demo`, `plan`, `run` or `sandbox` failed.
    #[error(transparent)]
    Command(#[from] crate::commands::CommandError),
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
        Command::Run(args) => Ok(crate::commands::run::run(args).await?),
        Command::Demo(args) => Ok(crate::commands::demo::demo(args).await?),
        Command::Plan(args) => Ok(crate::commands::plan::plan(args).await?),
        Command::Sandbox(args) => Ok(crate::commands::sandbox::serve(args).await?),
    }
}
