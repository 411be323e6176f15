//! The operator: a kube-runtime Controller over TeamsTenantSync that also watches the Secrets the
//! resources reference, with leader election so that two replicas never both write.

pub mod context;
pub mod reconcile;
pub mod secrets;
pub mod writer;

use std::future::Future;
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::{Controller, watcher};
use kube::{Api, Client, ResourceExt};

use crate::api::TeamsTenantSync;
use crate::sync::connect::ConnectOptions;
pub use context::Context;

/// Leader election settings.
#[derive(Clone, Debug)]
pub struct LeaderElection {
    /// The Lease's name.
    pub lease_name: String,
    /// The Lease's namespace.
    pub lease_namespace: String,
    /// This replica's identity (the pod name).
    pub identity: String,
}

/// How to run the controller.
#[derive(Clone)]
pub struct ControllerConfig {
    /// Watch only these namespaces (empty: all).
    pub namespaces: Vec<String>,
    /// Leader election, or `None` to run unconditionally (one replica, or tests).
    pub leader_election: Option<LeaderElection>,
    /// Upstream HTTP settings.
    pub connect: ConnectOptions,
    /// Called once the controllers are watching (readiness).
    pub on_ready: Option<Arc<dyn Fn() + Send + Sync>>,
}

/// Errors that stop the controller.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    /// Leader election failed.
    #[error("leader election: {0}")]
    LeaderElection(String),
    /// Leadership was lost; the process should exit and campaign again.
    #[error("lost the leader lease {0}; stopping so that another replica can take over")]
    LostLeadership(String),
}

/// Runs until `shutdown` resolves (or leadership is lost).
pub async fn run_until(
    client: Client,
    config: ControllerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ControllerError> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut leadership = None;
    if let Some(election) = &config.leader_election {
        let manager = kube_lease_manager::LeaseManagerBuilder::new(client.clone(), &election.lease_name)
            .with_namespace(&election.lease_namespace)
            .with_identity(&election.identity)
            .build()
            .await
            .map_err(|e| ControllerError::LeaderElection(e.to_string()))?;
        let (mut channel, task) = manager.watch().await;
        tracing::info!(lease = %election.lease_name, identity = %election.identity, "waiting to become the leader");
        while !*channel.borrow_and_update() {
            if channel.changed().await.is_err() {
                return Err(ControllerError::LeaderElection(
                    "the lease manager stopped".into(),
                ));
            }
        }
        tracing::info!("leading: starting the controllers");
        leadership = Some((channel, task, election.lease_name.clone()));
    }
    let ctx = Arc::new(Context::new(
        client.clone(),
        config.connect.clone(),
        config.leader_election.as_ref().map(|e| e.identity.clone()),
    ));
    let scopes: Vec<Option<String>> = if config.namespaces.is_empty() {
        vec![None]
    } else {
        config.namespaces.iter().cloned().map(Some).collect()
    };
    let controllers = futures::future::join_all(scopes.into_iter().map(|scope| {
        let mut stop = stop_rx.clone();
        controller_for(client.clone(), scope, ctx.clone(), async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        })
    }));
    if let Some(ready) = &config.on_ready {
        ready();
    }
    let lost = async {
        match &mut leadership {
            Some((channel, _, lease)) => {
                while *channel.borrow_and_update() {
                    if channel.changed().await.is_err() {
                        break;
                    }
                }
                Some(lease.clone())
            }
            None => std::future::pending().await,
        }
    };
    let outcome = tokio::select! {
        _ = shutdown => Ok(()),
        Some(lease) = lost => Err(ControllerError::LostLeadership(lease)),
    };
    let _ = stop_tx.send(true);
    controllers.await;
    if let Some((channel, task, _)) = leadership {
        drop(channel);
        let _ = task.await;
    }
    outcome
}

async fn controller_for(
    client: Client,
    namespace: Option<String>,
    ctx: Arc<Context>,
    stop: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let (resources, secrets): (Api<TeamsTenantSync>, Api<Secret>) = match &namespace {
        Some(ns) => (Api::namespaced(client.clone(), ns), Api::namespaced(client, ns)),
        None => (Api::all(client.clone()), Api::all(client)),
    };
    let controller = Controller::new(resources, watcher::Config::default().any_semantic());
    let store = controller.store();
    controller
        .watches(secrets, watcher::Config::default(), move |secret: Secret| {
            let namespace = secret.namespace();
            let name = secret.name_any();
            store
                .state()
                .into_iter()
                .filter(|tts| tts.namespace() == namespace)
                .filter(|tts| secrets::referenced_secrets(&tts.spec).contains(&name))
                .map(|tts| ObjectRef::from_obj(&*tts))
                .collect::<Vec<_>>()
        })
        .graceful_shutdown_on(stop)
        .run(reconcile::reconcile, reconcile::error_policy, ctx)
        .for_each(|result| async move {
            match result {
                Ok((object, _)) => tracing::debug!(resource = %object, "reconciled"),
                Err(error) => tracing::debug!(%error, "reconcile error"),
            }
        })
        .await;
}
