//! `kubectl teamssync users NAME`: every user of a TeamsTenantSync's last sync, read from the
//! users report the operator keeps in ConfigMaps beside the resource (see
//! [`crate::controller::users_report`]). It reads the resource and those ConfigMaps only, with
//! the kubeconfig as kubectl would (`--kubeconfig`, `KUBECONFIG`, `--context`, the context's
//! namespace): no Secret, no credential of Microsoft's or Dialpad's.

use std::io::Write;
use std::path::PathBuf;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::ListParams;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config, ResourceExt};

use super::users_output::{ReportReadError, assemble, filter, parse_reasons, table, write_csv, write_json};
use crate::api::TeamsTenantSync;
use crate::controller::users_report::{DATA_KEY, selector};
use crate::sync::users_report::shards::decode;

/// How to print the users.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum UsersFormat {
    /// Aligned columns: email, number, reason, since, message.
    #[default]
    Table,
    /// A header and one RFC 4180 record per user.
    Csv,
    /// A JSON array.
    Json,
}

/// `users`: every user of a resource's last sync.
#[derive(Clone, Debug, clap::Args)]
pub struct UsersArgs {
    /// The TeamsTenantSync's name.
    pub name: String,
    /// Its namespace (default: the kubeconfig context's).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Only users with this reason (repeat it, or separate reasons by commas).
    #[arg(long = "reason", value_name = "REASON")]
    pub reasons: Vec<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: UsersFormat,
    /// The kubeconfig file (default: KUBECONFIG, then ~/.kube/config; in a pod, its ServiceAccount).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: the current one).
    #[arg(long)]
    pub context: Option<String>,
}

/// Why `users` failed.
#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    /// The kubeconfig could not be read or used.
    #[error("cannot use the kubeconfig: {0}")]
    Kubeconfig(String),
    /// The apiserver refused or could not be reached.
    #[error("cannot read {what}: {source}")]
    Api {
        /// What was being read.
        what: String,
        /// Why.
        #[source]
        source: kube::Error,
    },
    /// No such resource.
    #[error("TeamsTenantSync {namespace}/{name} not found")]
    NotFound {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
    /// The resource has no report (yet).
    #[error("{0}")]
    NoReport(String),
    /// A shard could not be read.
    #[error("the users report's ConfigMap {name} cannot be read: {message}")]
    Shard {
        /// The ConfigMap.
        name: String,
        /// Why.
        message: String,
    },
    /// Putting the report together, the reasons, or the output.
    #[error(transparent)]
    Report(#[from] ReportReadError),
}

/// Prints every user of the resource's report (only those with the reasons asked for).
pub async fn users(args: UsersArgs, out: impl Write) -> Result<(), UsersError> {
    let reasons = parse_reasons(&args.reasons)?;
    let (client, default_namespace) = connect(&args).await?;
    let namespace = args.namespace.clone().unwrap_or(default_namespace);
    let resources: Api<TeamsTenantSync> = Api::namespaced(client.clone(), &namespace);
    let resource = resources
        .get_opt(&args.name)
        .await
        .map_err(|source| UsersError::Api {
            what: format!("TeamsTenantSync {namespace}/{}", args.name),
            source,
        })?
        .ok_or_else(|| UsersError::NotFound {
            namespace: namespace.clone(),
            name: args.name.clone(),
        })?;
    let uid = resource.uid().unwrap_or_default();
    let maps: Api<ConfigMap> = Api::namespaced(client, &namespace);
    let list = maps
        .list(&ListParams::default().labels(&selector(&uid)))
        .await
        .map_err(|source| UsersError::Api {
            what: format!(
                "the ConfigMaps of namespace {namespace} labelled {}",
                selector(&uid)
            ),
            source,
        })?;
    let mut documents = Vec::new();
    for map in list.items.iter().filter(|map| owned_by(map, &uid)) {
        let payload = map
            .binary_data
            .as_ref()
            .and_then(|data| data.get(DATA_KEY))
            .map(|bytes| bytes.0.as_slice())
            .unwrap_or_default();
        let (document, _) = decode(payload).map_err(|e| UsersError::Shard {
            name: map.name_any(),
            message: e.to_string(),
        })?;
        documents.push(document);
    }
    if documents.is_empty() {
        return Err(UsersError::NoReport(no_report(&resource, &namespace)));
    }
    let (entries, omitted) = assemble(documents)?;
    let entries = filter(entries, &reasons);
    match args.output {
        UsersFormat::Table => {
            let mut out = out;
            out.write_all(table(&entries).as_bytes())
                .map_err(ReportReadError::Write)?;
            if omitted > 0 {
                writeln!(
                    out,
                    "({omitted} more users are left out of the report: it is bounded)"
                )
                .map_err(ReportReadError::Write)?;
            }
        }
        UsersFormat::Csv => write_csv(&entries, out)?,
        UsersFormat::Json => write_json(&entries, out)?,
    }
    Ok(())
}

/// Whether `map` is owned by the resource with `uid` (not a copy someone labelled alike).
fn owned_by(map: &ConfigMap, uid: &str) -> bool {
    map.owner_references()
        .iter()
        .any(|owner| owner.uid == uid && owner.kind == "TeamsTenantSync")
}

/// What to say of a resource without a report.
fn no_report(resource: &TeamsTenantSync, namespace: &str) -> String {
    let name = resource.name_any();
    let why = resource
        .status
        .as_ref()
        .and_then(|status| status.users_report.as_ref())
        .and_then(|report| report.message.clone())
        .map_or_else(
            || "the operator writes it after the resource's first complete sync".to_owned(),
            |message| format!("the operator could not write it: {message}"),
        );
    format!("TeamsTenantSync {namespace}/{name} has no users report yet: {why}")
}

/// A client from the kubeconfig, as kubectl reads it, and the namespace its context names.
async fn connect(args: &UsersArgs) -> Result<(Client, String), UsersError> {
    let options = KubeConfigOptions {
        context: args.context.clone(),
        ..KubeConfigOptions::default()
    };
    let kubeconfig = |e: &dyn std::fmt::Display| UsersError::Kubeconfig(e.to_string());
    let config = match (&args.kubeconfig, &args.context) {
        (Some(path), _) => {
            let file = Kubeconfig::read_from(path).map_err(|e| kubeconfig(&e))?;
            Config::from_custom_kubeconfig(file, &options)
                .await
                .map_err(|e| kubeconfig(&e))?
        }
        (None, Some(_)) => Config::from_kubeconfig(&options)
            .await
            .map_err(|e| kubeconfig(&e))?,
        (None, None) => Config::infer().await.map_err(|e| kubeconfig(&e))?,
    };
    let namespace = config.default_namespace.clone();
    let client = Client::try_from(config).map_err(|e| kubeconfig(&e))?;
    Ok((client, namespace))
}
