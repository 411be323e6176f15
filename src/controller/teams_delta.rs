//! The Teams side of change events: per resource with change events enabled, a task that asks
//! Graph's `users/delta` every `--teams-delta-interval` which users changed (one request when none
//! did) and wakes the resource when some did (a licence removed, an account disabled, an address
//! changed), so that the full sync may wait for `fullSyncInterval` on this side too.
//!
//! It starts from now (`$deltaToken=latest`): the sync that started it has just read Teams. A
//! reset (Graph no longer knows the token) wakes the resource, since changes may have been missed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::microsoft::graph::GraphClient;
use crate::microsoft::graph::delta::DeltaError;

/// The default pause between two `users/delta` requests of a tenant.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);

struct Watch {
    version: String,
    task: JoinHandle<()>,
    /// Why the last attempt failed, while it fails.
    problem: Arc<Mutex<Option<String>>>,
}

/// The watches of a scope, by `namespace/name`.
#[derive(Default)]
pub struct TeamsDeltaWatches {
    watches: Mutex<HashMap<String, Watch>>,
}

impl TeamsDeltaWatches {
    /// Starts watching for `resource` with `graph` every `interval`, unless a watch with the same
    /// `version` (its credentials and endpoint) runs; `wake` is called with the users that
    /// changed, or `None` when Graph reset the round (changes in between are unknown).
    pub fn ensure(
        &self,
        resource: &str,
        version: &str,
        graph: GraphClient,
        interval: Duration,
        wake: impl Fn(Option<&[String]>) + Send + Sync + 'static,
    ) {
        let mut watches = self.watches.lock().expect("watches lock");
        if watches.get(resource).is_some_and(|w| w.version == version) {
            return;
        }
        if let Some(old) = watches.remove(resource) {
            old.task.abort();
        }
        let problem = Arc::new(Mutex::new(None));
        let task = tokio::spawn(watch(resource.to_owned(), graph, interval, wake, problem.clone()));
        watches.insert(
            resource.to_owned(),
            Watch {
                version: version.to_owned(),
                task,
                problem,
            },
        );
    }

    /// Stops watching for `resource`.
    pub fn stop(&self, resource: &str) {
        if let Some(old) = self.watches.lock().expect("watches lock").remove(resource) {
            old.task.abort();
        }
    }

    /// Why Teams changes cannot be read for `resource` now, if they cannot.
    pub fn problem(&self, resource: &str) -> Option<String> {
        let watches = self.watches.lock().expect("watches lock");
        watches
            .get(resource)?
            .problem
            .lock()
            .expect("problem lock")
            .clone()
    }
}

impl Drop for TeamsDeltaWatches {
    fn drop(&mut self) {
        for (_, watch) in self.watches.lock().expect("watches lock").drain() {
            watch.task.abort();
        }
    }
}

async fn watch(
    resource: String,
    graph: GraphClient,
    interval: Duration,
    wake: impl Fn(Option<&[String]>) + Send + Sync + 'static,
    problem: Arc<Mutex<Option<String>>>,
) {
    let mut link: Option<String> = None;
    let mut failures: u32 = 0;
    loop {
        let outcome = match &link {
            None => graph
                .users_delta_from_now()
                .await
                .map(|from_now| (from_now, Vec::new())),
            Some(since) => graph
                .users_delta_since(since)
                .await
                .map(|round| (round.delta_link, round.changed)),
        };
        let wait = match outcome {
            Ok((next, changed)) => {
                link = Some(next);
                failures = 0;
                *problem.lock().expect("problem lock") = None;
                if !changed.is_empty() {
                    tracing::debug!(%resource, users = changed.len(), "users changed in Microsoft 365");
                    wake(Some(&changed));
                }
                interval
            }
            Err(DeltaError::Reset(status)) => {
                tracing::info!(%resource, status, "Graph reset the users/delta round; syncing in full and starting again from now");
                link = None;
                wake(None);
                Duration::ZERO
            }
            Err(DeltaError::Graph(error)) => {
                failures = failures.saturating_add(1);
                if failures == 1 || failures.is_power_of_two() {
                    tracing::warn!(%resource, failures, %error, "cannot read which users changed in Microsoft 365; full syncs go on");
                }
                *problem.lock().expect("problem lock") = Some(format!(
                    "cannot read which users changed in Microsoft 365 (users/delta): {error}"
                ));
                interval
                    .saturating_mul(1 << failures.min(4))
                    .min(Duration::from_secs(900))
            }
        };
        tokio::time::sleep(wait).await;
    }
}
