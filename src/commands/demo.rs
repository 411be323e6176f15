//! `dialpad-teams-operator demo`: the real pipeline against the bundled sandbox org, twice, to
//! show what an admin would see and that the second sync changes nothing.

use crate::commands::stdout::{out, outln};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use secrecy::SecretString;

use super::examples::OFFICES_RESOURCE;
use super::output;
use super::{CommandError, load_resource};
use crate::api::{EndpointsSpec, TeamsTenantSync};
use crate::connect::{ConnectOptions, SecretStore, connect};
use crate::microsoft::federated::FederatedTokenSource;
use crate::sync::model::Policy;
use crate::sync::pipeline::{SyncMemory, sync_once};
use crate::upstream::allowed::AllowedEndpoints;
use crate::upstream::{NotRecorded, RetryPolicy, http_client};
use dialpad_teams_sandbox::{OrgFixture, Sandbox, SandboxOptions};

/// The demo resource, parsed, at generation 1: what the controller's unit tests reconcile.
#[cfg(test)]
pub(crate) fn demo_resource() -> TeamsTenantSync {
    let mut resource =
        super::parse_resource(super::examples::DEMO_RESOURCE, "demo").expect("the demo resource parses");
    resource.metadata.generation = Some(1);
    resource
}

/// Options of `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The TeamsTenantSync to run (defaults to the bundled examples/teamstenantsync-offices.yaml).
    #[arg(short = 'f', long = "file")]
    pub file: Option<PathBuf>,
    /// The org to simulate (defaults to the bundled examples/sandbox-org.yaml).
    #[arg(long)]
    pub org: Option<PathBuf>,
    /// Also print the resulting status as YAML (`-o yaml`).
    #[arg(short = 'o', long = "output")]
    pub output: Option<OutputFormat>,
}

/// Extra output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// The status as YAML.
    Yaml,
}

/// Secret values taken from the org fixture, under the names and keys the resource references.
struct FixtureSecrets(HashMap<(String, String), String>);

impl SecretStore for FixtureSecrets {
    fn get(&self, name: &str, key: &str) -> Result<SecretString, String> {
        self.0
            .get(&(name.to_owned(), key.to_owned()))
            .map(|value| SecretString::from(value.clone()))
            .ok_or_else(|| format!("the demo has no value for key '{key}' of Secret '{name}'"))
    }

    fn federated_token(&self, _: Option<&str>) -> Result<Arc<dyn FederatedTokenSource>, String> {
        Err("the demo signs in with the sandbox org's stored credentials; workload identity needs a cluster (run) or a token file (plan --federated-token-file)".into())
    }
}

fn fixture_secrets(resource: &TeamsTenantSync, org: &OrgFixture) -> FixtureSecrets {
    let mut values = HashMap::new();
    let spec = &resource.spec;
    if let Some(admin) = &spec.credentials.admin_account {
        let wanted = crate::microsoft::admin::required_account_name(&spec.tenant.domain);
        let account = org
            .tenant
            .admins
            .iter()
            .find(|a| a.user_principal_name.eq_ignore_ascii_case(&wanted))
            .or_else(|| org.tenant.admins.first());
        if let Some(account) = account {
            let name = admin.secret_ref.name.clone();
            values.insert(
                (name.clone(), admin.secret_ref.username_key.clone()),
                account.user_principal_name.clone(),
            );
            values.insert(
                (name, admin.secret_ref.password_key.clone()),
                account.password.clone(),
            );
        }
    }
    if let Some(app) = &spec.credentials.application
        && let Some(secret_ref) = &app.secret_ref
        && let Some(registered) = org
            .tenant
            .applications
            .iter()
            .find(|a| a.client_id.eq_ignore_ascii_case(&app.client_id))
    {
        values.insert(
            (secret_ref.name.clone(), app.client_secret_key().to_owned()),
            registered.client_secret.clone(),
        );
    }
    if let Some(dialpad) = &spec.source.dialpad {
        values.insert(
            (
                dialpad.api_key_secret_ref.name.clone(),
                dialpad.api_key_key().to_owned(),
            ),
            org.dialpad.api_key.clone(),
        );
    }
    FixtureSecrets(values)
}

/// Runs the demo.
pub async fn demo(args: DemoArgs) -> Result<(), CommandError> {
    let (org, org_origin) = match &args.org {
        Some(path) => (OrgFixture::load(path)?, path.display().to_string()),
        None => (
            OrgFixture::from_yaml(super::examples::EXAMPLE_ORG, "examples/sandbox-org.yaml")?,
            "examples/sandbox-org.yaml".into(),
        ),
    };
    let (mut resource, origin) = match &args.file {
        Some(path) => (load_resource(path)?, path.display().to_string()),
        None => (
            super::parse_resource(OFFICES_RESOURCE, "examples/teamstenantsync-offices.yaml")?,
            "examples/teamstenantsync-offices.yaml".into(),
        ),
    };
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await?;
    let base = sandbox.base_url().to_owned();
    resource.spec.endpoints = Some(EndpointsSpec {
        login: base.clone(),
        graph: base.clone(),
        dialpad: base.clone(),
    });
    let secrets = fixture_secrets(&resource, &org);
    let options = ConnectOptions {
        http: http_client(&[]).map_err(CommandError::Http)?,
        retry: RetryPolicy::default(),
        graph_requests_per_second: None,
        dialpad_requests_per_second: None,
        // The in-process sandbox, and nothing else, besides the vendors' public endpoints.
        allowed_endpoints: AllowedEndpoints::parse(&[&base]).map_err(CommandError::Setup)?,
        // A one-off run serves no metrics.
        upstream_calls: Arc::new(NotRecorded),
        policy_types: Default::default(),
    };
    let connection =
        connect(&resource.spec, &secrets, &options).map_err(|f| CommandError::Setup(f.message))?;
    let policy = Policy::from_spec(&resource.spec).map_err(|e| CommandError::Setup(e.to_string()))?;
    let mut memory = SyncMemory::default();
    outln!("Sandbox {base} simulates Dialpad, Microsoft sign-in and Graph for {org_origin}.");
    outln!("Syncing {origin} ({:?} mode) against it.\n", policy.mode);
    let settle = Duration::from_millis(org.behaviour.activation_delay_ms + 200);
    for round in 1..=2 {
        let writes_before = sandbox.counters().write_requests();
        let run = sync_once(
            &connection.source,
            &connection.tenant,
            &policy,
            &mut memory,
            Some(1),
        )
        .await;
        let writes = sandbox.counters().write_requests() - writes_before;
        let e = &run.execution;
        outln!(
            "=== Sync {round}: {} assigned ({} drift corrected), {} unassigned, {} failed; {writes} write calls to Teams ===\n",
            e.assigned,
            e.drift_corrected,
            e.unassigned,
            e.failed
        );
        out!("{}", output::summary(&resource, &run.status));
        outln!();
        out!("{}", output::conditions(&run.status));
        outln!();
        out!("{}", output::users(&run.plan.outcomes));
        outln!();
        if round == 1 {
            let leaver = sandbox.with_world(|world| {
                // A user whose number this resource just assigned leaves Dialpad, so that the
                // second sync shows a removal of a number the resource owns: one that is not in
                // sync for another reason (a missing policy) if there is one, so that the others
                // show their assignment completing.
                let assigned: Vec<&crate::sync::model::UserOutcome> = run
                    .plan
                    .outcomes
                    .iter()
                    .filter(|o| o.desired && o.message.starts_with("assigned +"))
                    .collect();
                let owned = assigned
                    .iter()
                    .find(|o| o.reason.severity() == crate::api::Severity::Failed)
                    .or(assigned.first());
                let email = owned.and_then(|o| o.email.clone())?.to_lowercase();
                let user = world
                    .dialpad
                    .users
                    .iter_mut()
                    .find(|u| u.emails.iter().any(|e| e.to_lowercase() == email))?;
                user.state = "deleted".into();
                Some(email)
            });
            if let Some(email) = leaver {
                outln!("(meanwhile {email} leaves Dialpad)");
            }
            outln!("(waiting {settle:?} for Teams to activate the new assignments)\n");
            tokio::time::sleep(settle).await;
        }
    }
    if args.output == Some(OutputFormat::Yaml) {
        let yaml = serde_yaml::to_string(&memory.status).map_err(CommandError::Output)?;
        outln!("status:\n{}", indent(&yaml));
    }
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines().map(|line| format!("  {line}\n")).collect()
}
