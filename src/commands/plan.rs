//! `dialpad-teams-operator plan -f tts.yaml --secrets DIR`: one sync against the configured
//! endpoints without a cluster, in DryRun unless `--apply`. Secrets come from files laid out like a
//! mounted Secret volume (`DIR/<secret name>/<key>`), never from arguments. It prints text
//! tables or one JSON or YAML document (`-o`), and with `--detailed-exitcode` its exit status says
//! whether anything is to change ([`super::plan_result`]).

use crate::commands::stdout::{out, outln};
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use secrecy::SecretString;
use tracing::Instrument;

use super::plan_result;
use super::{CommandError, load_resource, output};
use crate::api::{SyncMode, TeamsTenantSync};
use crate::connect::{ConnectOptions, SecretStore, connect};
use crate::microsoft::federated::{ENTRA_TOKEN_EXCHANGE_AUDIENCE, FederatedTokenSource, TokenFile};
use crate::sync::model::Policy;
use crate::sync::pipeline::{SyncMemory, SyncRun, sync_once};
use crate::upstream::{NotRecorded, RetryPolicy, http_client};

/// Options of `plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The TeamsTenantSync to plan.
    #[arg(short = 'f', long = "file")]
    pub file: PathBuf,
    /// Directory with one sub-directory per Secret and one file per key, e.g.
    /// `DIR/teams-admin/password` (the layout of a mounted Secret volume).
    #[arg(long)]
    pub secrets: PathBuf,
    /// Apply the plan (spec.mode decides); without it, the sync runs in DryRun. The numbers it
    /// assigns are kept in no ownership record, so neither a later plan nor the operator (`run`)
    /// ever unassigns or replaces them, unless the resource sets spec.removal.adoptExisting, which
    /// has the operator take over numbers users already hold as the source wants.
    #[arg(long)]
    pub apply: bool,
    /// Exit 0 when Teams matches the source (nothing changed or to change, nothing failing or
    /// pending), 2 when changes were planned or made or any user or tenant condition is failing
    /// or pending, 1 on an error, as `terraform plan --detailed-exitcode`. Without it, a plan that
    /// ran exits 0 whatever it found.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// What to print: text tables, or one JSON or YAML document with the same data.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = PlanFormat::Text)]
    pub output: PlanFormat,
    /// Extra CA certificate (PEM) to trust, e.g. the sandbox's with --tls.
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    /// Where credentials may go, and the token for `workloadIdentity` sign-ins.
    #[command(flatten)]
    pub credentials: super::CredentialArgs,
    /// Which Graph policy type each policy field is assigned as (as `run`'s flag).
    #[command(flatten)]
    pub policy_types: super::PolicyTypeArgs,
    /// Graph requests per second for the tenant (as `run`'s flag; 0 paces nothing).
    #[arg(long, default_value_t = crate::microsoft::graph::REQUESTS_PER_SECOND)]
    pub graph_requests_per_second: u32,
    /// Dialpad requests per second for the company (as `run`'s flag).
    #[arg(long, default_value_t = crate::dialpad::REQUESTS_PER_SECOND, value_parser = clap::value_parser!(u32).range(1..))]
    pub dialpad_requests_per_second: u32,
}

/// What `plan` prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    /// A summary line, the tenant conditions and every user, as tables.
    #[default]
    Text,
    /// One JSON document ([`plan_result::PlanDocument`]).
    Json,
    /// One YAML document ([`plan_result::PlanDocument`]).
    Yaml,
}

/// Reads Secret values from `DIR/<name>/<key>`, and the workload identity token from a file.
pub struct FileSecrets {
    /// The directory.
    pub dir: PathBuf,
    /// The token `--federated-token-file` names.
    pub federated_token_file: Option<PathBuf>,
}

impl SecretStore for FileSecrets {
    fn get(&self, name: &str, key: &str) -> Result<SecretString, String> {
        let path = self.dir.join(name).join(key);
        match std::fs::read_to_string(&path) {
            Ok(value) if !value.trim().is_empty() => Ok(SecretString::from(
                value.trim_end_matches(['\r', '\n']).to_owned(),
            )),
            Ok(_) => Err(format!(
                "{} is empty; put the value of key '{key}' of Secret '{name}' in it",
                path.display()
            )),
            Err(error) => Err(format!(
                "cannot read {} ({error}); create it with the value of key '{key}' of Secret '{name}'",
                path.display()
            )),
        }
    }

    fn federated_token(
        &self,
        service_account: Option<&str>,
    ) -> Result<Arc<dyn FederatedTokenSource>, String> {
        let owner = match service_account {
            Some(name) => format!("ServiceAccount '{name}'"),
            None => "the ServiceAccount token given to plan".to_owned(),
        };
        match &self.federated_token_file {
            Some(path) => Ok(Arc::new(TokenFile {
                path: path.clone(),
                owner,
            })),
            None => Err(format!(
                "plan runs outside the cluster and cannot mint a token for {owner}; make one with `kubectl create token NAME -n NAMESPACE --audience {ENTRA_TOKEN_EXCHANGE_AUDIENCE} > FILE` and pass --federated-token-file FILE"
            )),
        }
    }
}

/// Runs `plan`, prints what it found, and returns the process's exit status
/// ([`plan_result::exit_status`]).
pub async fn plan(args: PlanArgs) -> Result<u8, CommandError> {
    let mut resource = load_resource(&args.file)?;
    if !args.apply {
        resource.spec.mode = SyncMode::DryRun;
    }
    let roots = super::extra_roots(args.ca_file.as_deref())?;
    let options = ConnectOptions {
        http: http_client(&roots).map_err(CommandError::Http)?,
        retry: RetryPolicy::default(),
        graph_requests_per_second: super::graph_budget(args.graph_requests_per_second),
        dialpad_requests_per_second: Some(args.dialpad_requests_per_second),
        allowed_endpoints: args.credentials.allowed_endpoints(),
        // A one-off plan serves no metrics.
        upstream_calls: Arc::new(NotRecorded),
        policy_types: args.policy_types.policy_types(),
    };
    let secrets = FileSecrets {
        dir: args.secrets.clone(),
        federated_token_file: args.credentials.federated_token_file.clone(),
    };
    let connection = connect(&resource.spec, &secrets, &options)
        .map_err(|f| CommandError::Setup(format!("{}: {}", f.reason, f.message)))?;
    let policy = Policy::from_spec(&resource.spec).map_err(|e| CommandError::Setup(e.to_string()))?;
    let mut memory = SyncMemory::default();
    // With --apply, the change trail's lines name the resource through this span, as `run`'s do.
    let name = format!(
        "{}/{}",
        resource.metadata.namespace.as_deref().unwrap_or_default(),
        resource.metadata.name.as_deref().unwrap_or_default()
    );
    let run = sync_once(
        &connection.source,
        &connection.tenant,
        &policy,
        &mut memory,
        resource.metadata.generation,
    )
    .instrument(tracing::info_span!("sync", resource = %name))
    .await;
    match args.output {
        PlanFormat::Text => print_text(&args, &resource, policy.mode, &run),
        PlanFormat::Json => {
            let document = plan_result::document(&resource, policy.mode, &run);
            let json = serde_json::to_string_pretty(&document).map_err(CommandError::Json)?;
            outln!("{json}");
        }
        PlanFormat::Yaml => {
            let document = plan_result::document(&resource, policy.mode, &run);
            out!(
                "{}",
                serde_yaml::to_string(&document).map_err(CommandError::Output)?
            );
        }
    }
    Ok(plan_result::exit_status(
        args.detailed_exitcode,
        plan_result::finding(&run),
    ))
}

/// The text output: what was done, the `kubectl get`-style summary, the conditions, every user.
fn print_text(args: &PlanArgs, resource: &TeamsTenantSync, mode: SyncMode, run: &SyncRun) {
    let e = &run.execution;
    let mode = if mode == SyncMode::DryRun {
        "dry run: nothing changed"
    } else {
        "applied"
    };
    outln!(
        "Plan for {} ({mode}): {} assigned, {} unassigned, {} failed\n",
        args.file.display(),
        e.assigned,
        e.unassigned,
        e.failed
    );
    out!("{}", output::summary(resource, &run.status));
    outln!();
    out!("{}", output::conditions(&run.status));
    outln!();
    out!("{}", output::users(&run.plan.outcomes));
}
