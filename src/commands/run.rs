//! `dialpad-teams-operator run`: the operator. It uses the in-cluster configuration in a pod and
//! the current kubeconfig context elsewhere, so it also runs from a laptop against any cluster.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{ArgAction, Args};

use super::CommandError;
use crate::connect::ConnectOptions;
use crate::controller::workload_identity::OperatorToken;
use crate::controller::{ControllerConfig, LeaderElection, OperatorSettings, run_until};
use crate::telemetry::Metrics;
use crate::telemetry::logging::LogFormat;
use crate::telemetry::server::{Readiness, serve};
use crate::upstream::{RetryPolicy, http_client};

/// Options of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Watch only this namespace (repeat for several); all namespaces when absent.
    #[arg(long = "namespace")]
    pub namespaces: Vec<String>,
    /// Where `/healthz`, `/readyz` and `/metrics` are served.
    #[arg(long, default_value = "0.0.0.0:8080")]
    pub metrics_addr: SocketAddr,
    /// Log format.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Elect a leader through a Lease so that only one replica writes (`--leader-election=false`
    /// for a single replica outside a cluster).
    #[arg(long, action = ArgAction::Set, default_value_t = true)]
    pub leader_election: bool,
    /// The Lease's name.
    #[arg(long, default_value = "dialpad-teams-operator")]
    pub lease_name: String,
    /// The operator's own namespace (the pod's namespace in a cluster): its leader Lease, one
    /// claim Lease per Microsoft tenant, the ownership records (ConfigMaps) and Events about
    /// resources whose namespace is gone.
    #[arg(
        long,
        alias = "lease-namespace",
        env = "POD_NAMESPACE",
        default_value = "default"
    )]
    pub operator_namespace: String,
    /// How long deleting a resource with `removal.policy: Unassign` keeps trying to unassign its
    /// numbers (for example while its Secrets are gone) before it gives up, leaves them assigned
    /// and records them: a log line, a metric, an Event in the operator's namespace, and the
    /// ownership record kept there.
    #[arg(long, default_value = "5m", value_parser = parse_cleanup_timeout)]
    pub cleanup_timeout: Duration,
    /// This replica's identity in the Lease (the pod name in a cluster).
    #[arg(long, env = "POD_NAME")]
    pub identity: Option<String>,
    /// How long the Lease lasts without renewal: the longest a standby replica waits for a leader
    /// that died without releasing it (a leader that stops normally releases it at once).
    #[arg(long, default_value = "15s", value_parser = parse_lease_duration)]
    pub lease_duration: Duration,
    /// Graph requests per second per tenant, evenly spaced: no second ever holds more (Graph's
    /// own 429s also slow us down). The default is Microsoft's documented limit for Teams calls
    /// per app per tenant; 0 paces nothing and leaves it to Graph's 429s.
    #[arg(long, default_value_t = crate::microsoft::graph::REQUESTS_PER_SECOND)]
    pub graph_requests_per_second: u32,
    /// Dialpad requests per second per company, shared by all its endpoints (Dialpad documents
    /// 20; each endpoint also has its own 1,200 a minute, which this budget never exceeds while it
    /// stays at 20 or below). Lower it when other tools use the same company's API key.
    #[arg(long, default_value_t = crate::dialpad::REQUESTS_PER_SECOND, value_parser = clap::value_parser!(u32).range(1..))]
    pub dialpad_requests_per_second: u32,
    /// With change events (`spec.source.dialpad.changeEvents.enabled`): how often each tenant is
    /// asked which users changed in Microsoft 365 (Graph `users/delta`, one request when none
    /// did). At least 5s.
    #[arg(long, default_value = "60s", value_parser = parse_teams_delta_interval)]
    pub teams_delta_interval: Duration,
    /// Extra CA certificate (PEM) to trust for upstream HTTPS, e.g. a proxy's or the sandbox's.
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    /// Where credentials may go, and the operator's own token for `workloadIdentity` sign-ins.
    #[command(flatten)]
    pub credentials: super::CredentialArgs,
    /// Which Graph policy type each policy field is assigned as.
    #[command(flatten)]
    pub policy_types: super::PolicyTypeArgs,
    /// A namespace whose TeamsTenantSyncs may sign in with the operator's own ServiceAccount token
    /// (workloadIdentity without serviceAccountName); repeat, or separate with commas; `*` for
    /// every namespace. None by default: that token is trusted wherever the operator is, so each
    /// namespace should sign in as a ServiceAccount of its own.
    #[arg(
        long = "operator-token-namespace",
        env = "OPERATOR_TOKEN_NAMESPACES",
        value_delimiter = ','
    )]
    pub operator_token_namespaces: Vec<String>,
}

/// Runs the operator until SIGTERM or Ctrl-C.
pub async fn run(args: RunArgs) -> Result<(), CommandError> {
    let client = kube::Client::try_default().await.map_err(|e| {
        CommandError::Setup(format!(
            "cannot reach Kubernetes (in-cluster config or kubeconfig): {e}"
        ))
    })?;
    let roots = super::extra_roots(args.ca_file.as_deref())?;
    // One set of metrics for the process: the controller and the upstream clients record into
    // it, `/metrics` encodes it.
    let metrics = Arc::new(Metrics::new());
    let connect = ConnectOptions {
        http: http_client(&roots).map_err(CommandError::Http)?,
        retry: RetryPolicy::default(),
        graph_requests_per_second: super::graph_budget(args.graph_requests_per_second),
        dialpad_requests_per_second: Some(args.dialpad_requests_per_second),
        allowed_endpoints: args.credentials.allowed_endpoints(),
        upstream_calls: metrics.clone(),
        policy_types: args.policy_types.policy_types(),
    };
    // The change events WebSocket trusts what the HTTP client trusts.
    let event_tls = if roots.is_empty() {
        None
    } else {
        let config = crate::tls::client_config_with_roots(&roots).map_err(CommandError::EventTls)?;
        Some(Arc::new(config))
    };
    let identity = args
        .identity
        .clone()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| format!("dialpad-teams-operator-{}", std::process::id()));
    let leader_election = args.leader_election.then(|| LeaderElection {
        lease_name: args.lease_name.clone(),
        lease_namespace: args.operator_namespace.clone(),
        identity: identity.clone(),
        lease_duration: args.lease_duration,
    });
    let readiness = Readiness::default();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let server = {
        let readiness = readiness.clone();
        let metrics = metrics.clone();
        let mut stop = stop_rx.clone();
        let addr = args.metrics_addr;
        tokio::spawn(async move {
            let stopped = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            if let Err(error) = serve(addr, readiness, metrics, stopped).await {
                tracing::error!(%error, %addr, "the health and metrics server stopped");
            }
        })
    };
    let config = ControllerConfig {
        namespaces: args.namespaces.clone(),
        leader_election,
        connect,
        settings: OperatorSettings {
            operator_namespace: args.operator_namespace.clone(),
            cleanup_timeout: args.cleanup_timeout,
            operator_token: OperatorToken {
                file: args.credentials.federated_token_file.clone(),
                namespaces: args.operator_token_namespaces.clone(),
            },
            identity,
            event_tls,
            event_timings: Default::default(),
            teams_delta_interval: args.teams_delta_interval,
        },
        readiness: readiness.clone(),
        metrics,
    };
    let allowed: Vec<String> = args
        .credentials
        .allowed_endpoints
        .iter()
        .map(ToString::to_string)
        .collect();
    tracing::info!(namespaces = ?args.namespaces, allowed_endpoints = ?allowed, "starting the controller");
    let outcome = run_until(client, config, shutdown_signal()).await;
    readiness.not_ready();
    let _ = stop_tx.send(true);
    let _ = server.await;
    outcome.map_err(|e| CommandError::Setup(e.to_string()))
}

/// A lease duration such as `15s` or `1m`: at least 3 s (it is renewed a third before expiry).
fn parse_lease_duration(text: &str) -> Result<Duration, String> {
    let duration = crate::sync::model::parse_duration(text)
        .ok_or_else(|| format!("'{text}' is not a duration such as 15s or 1m"))?;
    if duration < Duration::from_secs(3) {
        return Err(format!("'{text}' is too short: a lease lasts at least 3s"));
    }
    Ok(duration)
}

fn parse_cleanup_timeout(text: &str) -> Result<Duration, String> {
    crate::sync::model::parse_duration(text)
        .ok_or_else(|| format!("'{text}' is not a duration such as 30s or 5m"))
}

fn parse_teams_delta_interval(text: &str) -> Result<Duration, String> {
    let interval = parse_cleanup_timeout(text)?;
    if interval < Duration::from_secs(5) {
        return Err(format!("'{text}' is shorter than 5s"));
    }
    Ok(interval)
}

/// Resolves on SIGTERM (Kubernetes stopping the pod) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("Ctrl-C: shutting down"),
        _ = terminate => tracing::info!("SIGTERM: shutting down"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_durations_are_kubernetes_durations_of_at_least_three_seconds() {
        assert_eq!(parse_lease_duration("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_lease_duration("1m"), Ok(Duration::from_secs(60)));
        let short = parse_lease_duration("2s").unwrap_err();
        assert!(short.contains("at least 3s"), "{short}");
        let garbage = parse_lease_duration("soon").unwrap_err();
        assert!(garbage.contains("not a duration"), "{garbage}");
    }

    #[derive(clap::Parser)]
    struct Wrapper {
        #[command(flatten)]
        run: RunArgs,
    }

    #[test]
    fn the_dialpad_budget_defaults_to_dialpads_documented_rate_and_can_be_lowered() {
        use clap::Parser;
        let default = Wrapper::try_parse_from(["run"]).unwrap();
        assert_eq!(default.run.dialpad_requests_per_second, 20);
        let lowered = Wrapper::try_parse_from(["run", "--dialpad-requests-per-second", "5"]).unwrap();
        assert_eq!(lowered.run.dialpad_requests_per_second, 5);
        assert!(Wrapper::try_parse_from(["run", "--dialpad-requests-per-second", "0"]).is_err());
    }

    #[test]
    fn the_graph_budget_starts_from_microsofts_documented_teams_limit_and_0_paces_nothing() {
        use clap::Parser;
        let default = Wrapper::try_parse_from(["run"]).unwrap();
        assert_eq!(
            crate::commands::graph_budget(default.run.graph_requests_per_second),
            Some(30)
        );
        let unpaced = Wrapper::try_parse_from(["run", "--graph-requests-per-second", "0"]).unwrap();
        assert_eq!(
            crate::commands::graph_budget(unpaced.run.graph_requests_per_second),
            None
        );
    }
}
