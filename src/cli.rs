//! The command line: `dialpad-teams-operator <command>`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use dialpad_teams_sandbox::fixture::FixtureError;
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
    #[arg(long)]
    pub org: Option<PathBuf>,
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

async fn serve_sandbox(args: SandboxArgs) -> Result<(), CliError> {
    let (fixture, origin) = match &args.org {
        Some(path) => (OrgFixture::load(path)?, path.display().to_string()),
        None => (
            OrgFixture::from_yaml(EXAMPLE_ORG, "examples/sandbox-org.yaml")?,
            "bundled examples/sandbox-org.yaml".into(),
        ),
    };
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
