//! `dialpad-teams-operator sandbox`: serves the simulated Dialpad, Entra sign-in and Graph for the
//! bundled example org, an org file, or a generated org.

use crate::commands::stdout::outln;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use dialpad_teams_sandbox::generator::{self, Case, GeneratorSpec};
use dialpad_teams_sandbox::{OrgFixture, Sandbox, SandboxOptions};

use super::CommandError;
use super::examples::EXAMPLE_ORG;

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

/// The credentials of the example org, which a generated org accepts too, so that the same
/// Secrets work against both.
const SANDBOX_ADMIN_PASSWORD: &str = "sandbox-admin-password";
const SANDBOX_CLIENT_SECRET: &str = "sandbox-client-secret";
const SANDBOX_DIALPAD_API_KEY: &str = "sandbox-dialpad-api-key";

/// The org `sandbox` serves, and where it came from.
fn sandbox_org(args: &SandboxArgs) -> Result<(OrgFixture, String), CommandError> {
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

/// Serves the org `args` name until Ctrl-C.
pub async fn serve(args: SandboxArgs) -> Result<(), CommandError> {
    let (fixture, origin) = sandbox_org(&args)?;
    let options = SandboxOptions {
        listen: args.listen,
        public_url: args.public_url.clone(),
        tls: args.tls,
        ca_file: args.tls.then(|| args.ca_file.clone()),
    };
    let sandbox = Sandbox::start(&fixture, options).await?;
    let base = args.public_url.as_deref().unwrap_or(sandbox.base_url());
    outln!("sandbox for org {origin} listening on {}", sandbox.base_url());
    outln!("  Entra sign-in  {base}/{}/oauth2/v2.0/token", fixture.tenant.id);
    outln!("  Graph          {base}/v1.0/users");
    outln!("  Dialpad        {base}/api/v2/users");
    outln!("  introspection  {base}/_sandbox/counters, {base}/_sandbox/assignments");
    if args.tls {
        outln!(
            "  trust the CA in {} (e.g. SSL_CERT_FILE or REQUESTS_CA_BUNDLE)",
            args.ca_file.display()
        );
    }
    outln!("press Ctrl-C to stop");
    tokio::signal::ctrl_c().await.map_err(CommandError::Signal)?;
    drop(sandbox);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser)]
    struct Wrapper {
        #[command(flatten)]
        sandbox: SandboxArgs,
    }

    fn sandbox_args(args: &[&str]) -> Result<SandboxArgs, clap::Error> {
        use clap::Parser;
        Wrapper::try_parse_from(["sandbox"].iter().chain(args)).map(|w| w.sandbox)
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
