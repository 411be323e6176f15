//! The operator: a kube-runtime Controller per watched scope over TeamsTenantSync, fed by a watch
//! of the Secrets the resources reference, with leader election so that two replicas never both
//! write.
//!
//! [`run_until`] is what `dialpad-teams-operator run` runs: it campaigns for the Lease (when leader
//! election is on), starts the controllers as tasks so that they list, watch and reconcile while
//! it waits, reports ready once every cache is synced, and on shutdown stops them within
//! [`SHUTDOWN_GRACE`] and releases the Lease.

pub mod change_events;
pub mod claim;
mod config_maps;
pub mod context;
pub mod deletion;
pub mod error;
pub mod events;
pub mod leader;
pub mod owner;
pub mod permissions;
pub mod progress;
pub mod publish;
pub mod ready;
pub mod reconcile;
pub mod record_store;
pub mod schedule;
pub mod scope;
pub mod secret_cache;
pub mod secrets;
pub mod spec_check;
pub mod status;
pub mod teams_delta;
pub mod timing;
pub mod unreadable;
pub mod users_report;
pub mod workload_identity;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use kube::Client;
use tokio::task::JoinSet;

use crate::connect::ConnectOptions;
use crate::telemetry::Metrics;
use crate::telemetry::server::Readiness;
pub use context::{Context, OperatorSettings};
pub use leader::LeaderElection;

/// How long reconciles in flight get to finish after a shutdown signal before they are cut off
/// (a cut-off sync is simply re-run by the next leader: every step is idempotent). With the Lease
/// release after it, the process exits well within the 10 s a pod usually gets.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(6);

/// How long releasing the Lease may take on shutdown.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(2);

/// How to run the controller.
#[derive(Clone)]
pub struct ControllerConfig {
    /// Watch only these namespaces (empty: all).
    pub namespaces: Vec<String>,
    /// Leader election, or `None` to run unconditionally (one replica, or tests).
    pub leader_election: Option<LeaderElection>,
    /// Upstream HTTP settings.
    pub connect: ConnectOptions,
    /// The operator's namespace and cleanup bound.
    pub settings: OperatorSettings,
    /// What `/readyz` answers: ready while standing by for the Lease (so that a rolling update of
    /// a standby never stalls), and while leading once every cache is synced.
    pub readiness: Readiness,
    /// The process's metrics (the same the `/metrics` route encodes).
    pub metrics: Arc<Metrics>,
}

/// Errors that stop the controller.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    /// The leader Lease could not be read or created.
    #[error("leader election: cannot get or create the Lease: {0}")]
    LeaderElection(#[source] kube_lease_manager::LeaseManagerError),
    /// Leadership was lost; the process should exit and campaign again.
    #[error("lost the leader lease {0}; stopping so that another replica can take over")]
    LostLeadership(String),
    /// A controller stopped although nobody asked it to.
    #[error("the controller of {0} stopped unexpectedly")]
    Stopped(String),
}

/// Runs until `shutdown` resolves (or leadership is lost).
pub async fn run_until(
    client: Client,
    config: ControllerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ControllerError> {
    let readiness = config.readiness.clone();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut leadership = match &config.leader_election {
        Some(election) => {
            readiness.ready();
            tokio::select! {
                leadership = leader::acquire(client.clone(), election) => Some(leadership?),
                () = &mut shutdown => {
                    tracing::info!("stopped while standing by");
                    readiness.not_ready_because("shutting down");
                    return Ok(());
                }
            }
        }
        None => None,
    };
    readiness.not_ready_because("syncing caches");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let scopes: Vec<Option<String>> = if config.namespaces.is_empty() {
        vec![None]
    } else {
        config.namespaces.iter().cloned().map(Some).collect()
    };
    let instance = config.leader_election.as_ref().map(|e| e.identity.clone());
    // One hub for every scope: a Dialpad company has one feed, whichever namespaces use it.
    let hub = Arc::new(crate::events::EventHub::with_timings(
        client.clone(),
        &config.settings.operator_namespace,
        context::MANAGER,
        config.settings.event_tls.clone(),
        config.settings.event_timings.clone(),
    ));
    let mut controllers = JoinSet::new();
    let mut caches = JoinSet::new();
    for namespace in scopes {
        let mut stop = stop_rx.clone();
        let shared = scope::ScopeShared {
            instance: instance.clone(),
            settings: config.settings.clone(),
            metrics: config.metrics.clone(),
            events: hub.clone(),
        };
        let scope = scope::scope(
            client.clone(),
            namespace,
            config.connect.clone(),
            shared,
            async move {
                let _ = stop.wait_for(|stopped| *stopped).await;
            },
        );
        let name = scope.name.clone();
        controllers.spawn(async move {
            scope.run.await;
            name
        });
        caches.spawn(scope::WatchedScope::synced(scope.resources, scope.secrets));
    }
    tracing::info!(namespaces = ?config.namespaces, "controllers started: listing and watching");
    let outcome = loop {
        tokio::select! {
            Some(_) = caches.join_next() => {
                if caches.is_empty() {
                    tracing::info!("caches synced: ready");
                    readiness.ready();
                }
            }
            () = &mut shutdown => break Ok(()),
            () = lost(&mut leadership) => {
                let lease = leadership.as_ref().map(|l| l.lease().to_owned()).unwrap_or_default();
                break Err(ControllerError::LostLeadership(lease));
            }
            Some(stopped) = controllers.join_next() => {
                let scope = stopped.unwrap_or_else(|e| format!("a scope ({e})"));
                break Err(ControllerError::Stopped(scope));
            }
        }
    };
    readiness.not_ready_because("shutting down");
    let _ = stop_tx.send(true);
    caches.abort_all();
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while controllers.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(grace = ?SHUTDOWN_GRACE, "reconciles still running after the shutdown grace period; cutting them off (the next sync repeats them)");
        controllers.shutdown().await;
    }
    // Feeds of deleted resources finish deleting what they made in Dialpad.
    hub.shut_down(RELEASE_TIMEOUT).await;
    if let Some(leadership) = leadership {
        leadership.release(RELEASE_TIMEOUT).await;
    }
    outcome
}

/// Resolves when leadership is lost; never without leader election.
async fn lost(leadership: &mut Option<leader::Leadership>) {
    match leadership {
        Some(leadership) => leadership.lost().await,
        None => std::future::pending().await,
    }
}
