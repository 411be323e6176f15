//! A long sync shows its progress: at most every `Context::progress_every` (30 s by default) it
//! logs a line at info level and writes `Reconciling=True` with how far it is (for a new resource
//! also `Ready=False`, so that `kubectl get` is not blank for minutes). A sync that finishes
//! sooner writes nothing more than its one status.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use kube::Api;
use tokio::sync::watch;

use super::status::{self, progress_status};
use crate::api::{TeamsTenantSync, TeamsTenantSyncStatus};
use crate::telemetry::Metrics;

/// `(changes applied, changes planned)` so far.
pub type Progress = (usize, usize);

/// What a running sync reports about itself.
pub struct ProgressReport<'a> {
    /// Where the status goes.
    pub api: &'a Api<TeamsTenantSync>,
    /// Where its conditions are published.
    pub metrics: &'a Metrics,
    /// The resource's namespace.
    pub namespace: &'a str,
    /// The resource's name.
    pub name: &'a str,
    /// `namespace/name`, for the log.
    pub key: &'a str,
    /// The resource's generation.
    pub generation: Option<i64>,
    /// The status of the last sync, which the progress is written on top of.
    pub previous: Option<TeamsTenantSyncStatus>,
    /// When the sync started.
    pub started: Instant,
    /// How often to report.
    pub every: Duration,
}

impl ProgressReport<'_> {
    /// Reports every [`ProgressReport::every`] until dropped (race it against the sync).
    pub async fn run(self, progress: watch::Receiver<Progress>) -> Infallible {
        loop {
            tokio::time::sleep(self.every).await;
            let (done, total) = *progress.borrow();
            let seconds = self.started.elapsed().as_secs();
            tracing::info!(resource = %self.key, done, total, seconds, "sync in progress");
            let status = progress_status(
                self.previous.as_ref(),
                self.generation,
                &message(done, total, seconds),
            );
            if let Err(error) =
                status::write(self.api, self.metrics, self.namespace, self.name, &status).await
            {
                tracing::warn!(resource = %self.key, %error, "cannot write the sync's progress");
            }
        }
    }
}

fn message(done: usize, total: usize, seconds: u64) -> String {
    if total == 0 {
        format!("sync running for {seconds}s: reading the source and Teams, planning")
    } else {
        format!("sync running for {seconds}s: applied {done} of {total} planned changes")
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    use super::*;
    use crate::api::Reason;
    use crate::api::conditions::{ConditionUpdate, READY, RECONCILING, find_condition, set_condition};

    #[test]
    fn a_first_sync_in_progress_says_so_on_ready_and_reconciling() {
        let status = progress_status(None, Some(1), &message(413, 10_000, 95));
        let ready = find_condition(&status.conditions, READY).unwrap();
        let reconciling = find_condition(&status.conditions, RECONCILING).unwrap();
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("False", "Syncing")
        );
        assert_eq!(
            (reconciling.status.as_str(), reconciling.reason.as_str()),
            ("True", "Syncing")
        );
        assert_eq!(
            reconciling.message,
            "sync running for 95s: applied 413 of 10000 planned changes"
        );
    }

    #[test]
    fn a_later_sync_in_progress_keeps_ready_and_everything_else() {
        let mut previous = progress_status(None, Some(1), "x");
        previous.conditions.retain(|c| c.type_ != RECONCILING);
        set_condition(
            &mut previous.conditions,
            ConditionUpdate::new(READY, Reason::Synced, "10 of 10 users in sync"),
            &Time(k8s_openapi::jiff::Timestamp::now()),
        );
        let status = progress_status(Some(&previous), Some(2), &message(0, 0, 31));
        assert_eq!(
            find_condition(&status.conditions, READY).unwrap().reason,
            "Synced"
        );
        assert_eq!(
            find_condition(&status.conditions, RECONCILING).unwrap().message,
            "sync running for 31s: reading the source and Teams, planning"
        );
    }
}
