//! The command line: `dialpad-teams-operator <command>`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use dialpad_teams_sandbox::fixture::FixtureError;
use dialpad_teams_sandbox::generator::{self, Case, GeneratorSpec};
use dialpad_teams_sandbox::{OrgFixture, Sandbox, SandboxError, SandboxOptions};

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
    Sandbox(SandboxArgs),
}

/// Options of `sandbox`.
#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The org fixture (YAML). Defaults to the bundled examples/sandbox-org.yaml.
    #[arg(long, conflicts_with = "generate")]
    pub org: Option<PathBuf>,
    /// Serve a generated org of this many Dialpad users instead: 70% in sync, 10% needing a
    /// number, 20% spread over drift and every failure reason. It signs in with the example
    /// org's sandbox credentials (see the README's "against the sandbox").
    #[arg(long, value_name = "USERS")]
    pub generate: Option<usize>,
    /// With --generate: every user is healthy and needs its number assigned (the first sync of
    /// a new tenant).
    #[arg(long, requires = "generate")]
    pub healthy: bool,
    /// With --generate: the seed of the generated ids and names.
    #[arg(long, requires = "generate", default_value_t = 1)]
    pub seed: u64,
    /// Base URL clients reach the sandbox at, when a proxy sits in front of it.
    #[arg(long)]
    pub public_url: Option<String>,
    /// Serve HTTPS with a certificate generated at start (Microsoft's auth libraries need https).
    #[arg(long)]
    pub tls: bool,
    /// With --tls: where to write the CA certificate clients must trust.
    #[arg(long, default_value = "sandbox-ca.pem")]
    pub ca_file: PathBuf,
}

/// The bundled example org, so `sandbox` and `demo` work from any directory.
pub const EXAMPLE_ORG: &str = include_str!("../examples/sandbox-org.yaml");

/// Errors a command can end with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Writing to standard output failed (for example, a closed pipe).
    #[error("cannot write to standard output: {0}")]
    Stdout(#[source] std::io::Error),
    /// The org fixture could not be loaded.
    #[error(transparent)]
    Fixture(#[from] FixtureError),
    /// The sandbox could not start.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// `demo` or `plan` failed.
    #[error(transparent)]
    Command(#[from] crate::commands::CommandError),
    /// Waiting for Ctrl-C failed.
    #[error("cannot wait for Ctrl-C: {0}")]
    Signal(#[source] std::io::Error),
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
        Command::Sandbox(args) => serve_sandbox(args).await,
    }
}

/// The credentials of the example org, which a generated org accepts too, so that the same
/// Secrets work against both.
const SANDBOX_ADMIN_PASSWORD: &str = "sandbox-admin-password";
const SANDBOX_CLIENT_SECRET: &str = "sandbox-client-secret";
const SANDBOX_DIALPAD_API_KEY: &str = "sandbox-dialpad-api-key";

/// The org `sandbox` serves, and where it came from.
fn sandbox_org(args: &SandboxArgs) -> Result<(OrgFixture, String), CliError> {
    if let Some(users) = args.generate {
        let spec = if args.healthy {
            GeneratorSpec {
                users,
                seed: args.seed,
                mix: vec![(Case::NeedsAssignment, 1)],
            }
        } else {
            GeneratorSpec::with_every_case(users, args.seed)
        };
        let org = generator::generate(
            &spec,
            SANDBOX_ADMIN_PASSWORD,
            SANDBOX_CLIENT_SECRET,
            SANDBOX_DIALPAD_API_KEY,
        );
        let kind = if args.healthy { "healthy" } else { "mixed" };
        return Ok((
            org.fixture,
            format!("generated ({users} users, {kind}, seed {})", args.seed),
        ));
    }
    Ok(match &args.org {
        Some(path) => (OrgFixture::load(path)?, path.display().to_string()),
        None => (
            OrgFixture::from_yaml(EXAMPLE_ORG, "examples/sandbox-org.yaml")?,
            "bundled examples/sandbox-org.yaml".into(),
        ),
    })
}

async fn serve_sandbox(args: SandboxArgs) -> Result<(), CliError> {
    let (fixture, origin) = sandbox_org(&args)?;
    let options = SandboxOptions {
        listen: args.listen,
        public_url: args.public_url.clone(),
        tls: args.tls,
        ca_file: args.tls.then(|| args.ca_file.clone()),
    };
    let sandbox = Sandbox::start(&fixture, options).await?;
    let base = args.public_url.as_deref().unwrap_or(sandbox.base_url());
    println!("sandbox for org {origin} listening on {}", sandbox.base_url());
    println!("  Entra sign-in  {base}/{}/oauth2/v2.0/token", fixture.tenant.id);
    println!("  Graph          {base}/v1.0/users");
    println!("  Dialpad        {base}/api/v2/users");
    println!("  introspection  {base}/_sandbox/counters, {base}/_sandbox/assignments");
    if args.tls {
        println!(
            "  trust the CA in {} (e.g. SSL_CERT_FILE or REQUESTS_CA_BUNDLE)",
            args.ca_file.display()
        );
    }
    println!("press Ctrl-C to stop");
    tokio::signal::ctrl_c().await.map_err(CliError::Signal)?;
    drop(sandbox);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sandbox_args(args: &[&str]) -> Result<SandboxArgs, clap::Error> {
        let cli = Cli::try_parse_from(["dialpad-teams-operator", "sandbox"].iter().chain(args))?;
        match cli.command {
            Command::Sandbox(args) => Ok(args),
            _ => unreachable!("the sandbox subcommand"),
        }
    }

    #[test]
    fn sandbox_generate_healthy_serves_users_who_all_need_a_number() {
        let args = sandbox_args(&["--generate", "250", "--healthy"]).unwrap();
        let (org, origin) = sandbox_org(&args).unwrap();
        assert_eq!(org.dialpad.users.len(), 250);
        assert_eq!(org.tenant.users.len(), 250);
        assert!(
            org.tenant.users.iter().all(|u| u.phone_number.is_none()),
            "no number yet"
        );
        assert_eq!(origin, "generated (250 users, healthy, seed 1)");
        assert_eq!(org.dialpad.api_key, SANDBOX_DIALPAD_API_KEY);
    }

    #[test]
    fn sandbox_generate_mixes_every_reason_by_default() {
        let args = sandbox_args(&["--generate", "1000", "--seed", "3"]).unwrap();
        let (org, origin) = sandbox_org(&args).unwrap();
        assert!(org.dialpad.users.len() >= 1000, "{}", org.dialpad.users.len());
        assert!(
            org.tenant.users.iter().any(|u| u.phone_number.is_some()),
            "some are in sync"
        );
        assert_eq!(origin, "generated (1000 users, mixed, seed 3)");
    }

    #[test]
    fn sandbox_generate_and_org_cannot_be_combined() {
        let error = sandbox_args(&["--generate", "10", "--org", "org.yaml"]).unwrap_err();
        assert_eq!(error.kind(), clap::error::ErrorKind::ArgumentConflict);
        let error = sandbox_args(&["--healthy"]).unwrap_err();
        assert_eq!(error.kind(), clap::error::ErrorKind::MissingRequiredArgument);
    }
}
