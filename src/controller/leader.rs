//! Leader election over a `coordination.k8s.io/v1` Lease, with kube-lease-manager doing the
//! locking. Two things are added on top of it: a standby replica watches the Lease, so that it
//! campaigns as soon as the leader releases it instead of sleeping until the lock expires; and the
//! leader releases the Lease when it stops, so that a rolling update or a `kubectl delete pod` hands
//! over at once. Only a leader that dies without releasing (`kill -9`, a lost node) makes the others
//! wait for the lease duration.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::coordination::v1::Lease;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use kube_lease_manager::{LeaseManager, LeaseManagerBuilder};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::ControllerError;

/// Leader election settings.
#[derive(Clone, Debug)]
pub struct LeaderElection {
    /// The Lease's name.
    pub lease_name: String,
    /// The Lease's namespace.
    pub lease_namespace: String,
    /// This replica's identity (the pod name).
    pub identity: String,
    /// How long a lock lasts without renewal: the longest a standby waits for a leader that died
    /// without releasing the Lease. The leader renews a third of this before it expires.
    pub lease_duration: Duration,
}

impl LeaderElection {
    /// The default lease duration (as client-go's leader election).
    pub const DEFAULT_LEASE_DURATION: Duration = Duration::from_secs(15);

    fn duration_seconds(&self) -> u64 {
        self.lease_duration.as_secs().max(3)
    }

    /// How long before expiry the leader renews: a third of the duration, at least a second.
    fn renew_margin_seconds(&self) -> u64 {
        (self.duration_seconds() / 3).max(1)
    }
}

/// This replica holds the Lease. Watch [`Leadership::lost`]; call [`Leadership::release`] on the
/// way out.
pub struct Leadership {
    manager: Arc<LeaseManager>,
    renewer: JoinHandle<()>,
    held: watch::Receiver<bool>,
    lease: String,
}

/// Campaigns until this replica holds the Lease. Never gives up on API errors (they are logged and
/// retried); cancel the future to stop campaigning.
pub async fn acquire(client: Client, election: &LeaderElection) -> Result<Leadership, ControllerError> {
    let manager = LeaseManagerBuilder::new(client.clone(), &election.lease_name)
        .with_namespace(&election.lease_namespace)
        .with_identity(&election.identity)
        .with_duration(election.duration_seconds())
        .with_grace(election.renew_margin_seconds())
        .build()
        .await
        .map_err(ControllerError::LeaderElection)?;
    let leases: Api<Lease> = Api::namespaced(client, &election.lease_namespace);
    let by_name = watcher::Config::default().fields(&format!("metadata.name={}", election.lease_name));
    let mut released = watcher(leases, by_name)
        .default_backoff()
        .applied_objects()
        .try_filter(|lease| std::future::ready(is_free(lease)))
        .boxed();
    tracing::info!(
        lease = %election.lease_name,
        namespace = %election.lease_namespace,
        identity = %election.identity,
        "standing by: waiting to hold the leader Lease"
    );
    loop {
        tokio::select! {
            changed = manager.changed() => match changed {
                Ok(true) => break,
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(%error, lease = %election.lease_name, "leader election: cannot read or lock the Lease; retrying");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            },
            Some(event) = released.next() => match event {
                // The manager caches the Lease until it expires; a release by a non-holder only
                // re-reads it, so that the next `changed()` sees the Lease free and takes it.
                Ok(_) => {
                    tracing::debug!("the leader released the Lease; campaigning now");
                    if let Err(error) = manager.release().await {
                        tracing::debug!(%error, "cannot re-read the Lease");
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, lease = %election.lease_name, "leader election: cannot watch the Lease (handover waits for its expiry)");
                }
            },
        }
    }
    tracing::info!(lease = %election.lease_name, identity = %election.identity, "leading: holding the Lease");
    let manager = Arc::new(manager);
    let (held_tx, held) = watch::channel(true);
    let renewer = tokio::spawn(renew(manager.clone(), held_tx, election.clone()));
    Ok(Leadership {
        manager,
        renewer,
        held,
        lease: election.lease_name.clone(),
    })
}

/// A Lease without a holder.
fn is_free(lease: &Lease) -> bool {
    lease
        .spec
        .as_ref()
        .and_then(|spec| spec.holder_identity.as_deref())
        .is_none_or(str::is_empty)
}

/// Keeps the Lease renewed; says `false` on `held` when it is lost, or when renewals have failed
/// for longer than the lease lasts (another replica may hold it by then).
async fn renew(manager: Arc<LeaseManager>, held: watch::Sender<bool>, election: LeaderElection) {
    let renew_period = Duration::from_secs(election.duration_seconds() - election.renew_margin_seconds());
    let mut failing_since: Option<Instant> = None;
    loop {
        let started = Instant::now();
        let result = manager.changed().await;
        if started.elapsed() >= renew_period {
            // A renewal period passed inside the call: at least one renewal succeeded.
            failing_since = None;
        }
        match result {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                let since = *failing_since.get_or_insert(started);
                if since.elapsed() >= election.lease_duration {
                    tracing::error!(%error, "cannot renew the leader Lease for longer than it lasts");
                    break;
                }
                tracing::warn!(%error, "cannot renew the leader Lease; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
    let _ = held.send(false);
}

impl Leadership {
    /// Resolves when this replica no longer holds the Lease.
    pub async fn lost(&mut self) {
        let _ = self.held.wait_for(|held| !*held).await;
    }

    /// The Lease's name.
    pub fn lease(&self) -> &str {
        &self.lease
    }

    /// Stops renewing and releases the Lease, so that a standby replica takes over at once. Gives
    /// up after `timeout` (the Lease then expires by itself).
    pub async fn release(self, timeout: Duration) {
        self.renewer.abort();
        let _ = self.renewer.await;
        match tokio::time::timeout(timeout, self.manager.release()).await {
            Ok(Ok(())) => tracing::info!(lease = %self.lease, "released the leader Lease"),
            Ok(Err(error)) => {
                tracing::warn!(%error, lease = %self.lease, "cannot release the leader Lease; it expires by itself")
            }
            Err(_) => {
                tracing::warn!(lease = %self.lease, "releasing the leader Lease timed out; it expires by itself")
            }
        }
    }
}
