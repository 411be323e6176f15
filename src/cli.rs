//! The command line: `dialpad-teams-operator <command>`.

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

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
    /// Print every user of a TeamsTenantSync's last sync, from the users report the operator keeps
    /// beside it (installed as `kubectl-teamssync`, this is `kubectl teamssync users`).
    Users(crate::commands::users::UsersArgs),
}

/// The file name under which the binary is the kubectl plugin (`kubectl teamssync ...`): "A plugin
/// is a standalone executable file, whose name begins with kubectl-", installed anywhere on the
/// PATH (https://kubernetes.io/docs/tasks/extend-kubectl/kubectl-plugins/), and kubectl calls it
/// "forwarding all extra arguments"
/// (https://kubectl.docs.kubernetes.io/guides/extending_kubectl/plugin_mechanism/).
pub const PLUGIN_NAME: &str = "kubectl-teamssync";

/// The command line of the kubectl plugin: `kubectl teamssync users NAME ...`.
#[derive(Debug, Parser)]
#[command(name = "kubectl teamssync", bin_name = "kubectl teamssync", version, about = "Read what the dialpad-teams-operator keeps beside TeamsTenantSync resources.", long_about = None)]
pub struct PluginCli {
    /// What to do.
    #[command(subcommand)]
    pub command: PluginCommand,
}

/// The plugin's subcommands.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Print every user of a TeamsTenantSync's last sync (its users report), optionally only
    /// those with some reasons, as a table, CSV or JSON.
    Users(crate::commands::users::UsersArgs),
}

/// Whether the program was invoked as the kubectl plugin (its file name, without any extension,
/// is [`PLUGIN_NAME`]).
pub fn invoked_as_plugin(program: &std::ffi::OsStr) -> bool {
    std::path::Path::new(program)
        .file_stem()
        .is_some_and(|stem| stem == PLUGIN_NAME)
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
    /// `users` failed.
    #[error(transparent)]
    Users(#[from] crate::commands::users::UsersError),
}

/// The flag of `plan` whose exit status 2 means "changes", not "usage error".
const DETAILED_EXITCODE: &str = "--detailed-exitcode";

/// Parses the process's arguments. On `--help`, `--version` or a usage error, prints what clap
/// has to say and returns the exit status to end with ([`usage_exit_status`]).
pub fn parse() -> Result<Cli, ExitCode> {
    let args: Vec<OsString> = std::env::args_os().collect();
    let parsed = match args.first() {
        Some(program) if invoked_as_plugin(program) => {
            PluginCli::try_parse_from(&args).map(|plugin| match plugin.command {
                PluginCommand::Users(users) => Cli {
                    command: Command::Users(users),
                },
            })
        }
        _ => Cli::try_parse_from(&args),
    };
    parsed.map_err(|error| {
        // A closed stream leaves nothing to report the failure on.
        let _ = error.print();
        ExitCode::from(usage_exit_status(error.exit_code(), &args))
    })
}

/// The exit status for clap's `status` (0 for help and version, 2 for a usage error): as clap
/// says, except that a usage error exits 1 when the arguments ask for `--detailed-exitcode`, so
/// that a mistyped pipeline step is never read as "changes planned".
pub fn usage_exit_status(status: i32, args: &[OsString]) -> u8 {
    let detailed = args.iter().any(|arg| arg == DETAILED_EXITCODE);
    match status {
        0 => 0,
        2 if !detailed => 2,
        _ => 1,
    }
}

/// Runs the parsed command; `plan` decides its exit status, every other command exits 0 when it
/// succeeds.
pub async fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Crd => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(crate::api::crd_yaml().as_bytes())
                .map_err(CliError::Stdout)?;
            stdout.flush().map_err(CliError::Stdout)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run(args) => Ok(crate::commands::run::run(args)
            .await
            .map(|()| ExitCode::SUCCESS)?),
        Command::Demo(args) => Ok(crate::commands::demo::demo(args)
            .await
            .map(|()| ExitCode::SUCCESS)?),
        Command::Plan(args) => Ok(ExitCode::from(crate::commands::plan::plan(args).await?)),
        Command::Sandbox(args) => Ok(crate::commands::sandbox::serve(args)
            .await
            .map(|()| ExitCode::SUCCESS)?),
        Command::Users(args) => {
            crate::commands::users::users(args, crate::commands::stdout::ClosingStdout::lock()).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn a_usage_error_exits_two_as_clap_says_without_detailed_exitcode() {
        let plain = args(&["dialpad-teams-operator", "plan", "--nonsense"]);
        assert_eq!(usage_exit_status(2, &plain), 2);
    }

    #[test]
    fn a_usage_error_exits_one_when_detailed_exitcode_is_asked_for() {
        let detailed = args(&[
            "dialpad-teams-operator",
            "plan",
            "--detailed-exitcode",
            "-o",
            "xml",
        ]);
        assert_eq!(usage_exit_status(2, &detailed), 1);
    }

    #[test]
    fn help_and_version_exit_zero_whatever_the_flags() {
        let detailed = args(&["dialpad-teams-operator", "plan", "--detailed-exitcode", "--help"]);
        assert_eq!(usage_exit_status(0, &detailed), 0);
    }

    #[test]
    fn the_binary_is_the_kubectl_plugin_under_the_plugin_name_only() {
        assert!(invoked_as_plugin(
            OsString::from("/usr/local/bin/kubectl-teamssync").as_os_str()
        ));
        assert!(invoked_as_plugin(
            OsString::from("kubectl-teamssync.exe").as_os_str()
        ));
        assert!(!invoked_as_plugin(
            OsString::from("/usr/bin/dialpad-teams-operator").as_os_str()
        ));
    }

    #[test]
    fn the_plugin_parses_users_with_its_flags() {
        let plugin = PluginCli::try_parse_from(args(&[
            "kubectl-teamssync",
            "users",
            "acme",
            "-n",
            "telephony",
            "--reason",
            "TeamsUserNotFound,EmailMissing",
            "-o",
            "csv",
        ]))
        .unwrap();
        let PluginCommand::Users(users) = plugin.command;
        assert_eq!(users.name, "acme");
        assert_eq!(users.namespace.as_deref(), Some("telephony"));
        assert_eq!(users.reasons, ["TeamsUserNotFound,EmailMissing"]);
        assert_eq!(users.output, crate::commands::users::UsersFormat::Csv);
    }
}
