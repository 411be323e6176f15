//! What reconciles of one watched scope share: the Kubernetes client, the HTTP client for
//! upstreams, the scope's Secrets (see [`SecretCache`]), the Event recorder, and per-resource
//! memory (last status, retry state, when and why it last synced, consecutive failures).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kube::runtime::events::{Recorder, Reporter};
use kube::{Client, ResourceExt};

use super::change_events::ChangeEvents;
use super::claim::TenantIds;
use super::secret_cache::SecretCache;
use super::secrets::KubeSecrets;
use super::teams_delta::TeamsDeltaWatches;
use super::users_report::ReportMemories;
use super::workload_identity::{OperatorToken, ResourceCredentials};
use crate::api::TeamsTenantSync;
use crate::connect::{ConnectOptions, SignIn};
use crate::events::FeedTimings;
use crate::sync::pipeline::SyncMemory;
use crate::telemetry::Metrics;

/// The field manager of every write, and the Event reporter name.
pub const MANAGER: &str = "dialpad-teams-operator";
/// The finalizer that applies the removal policy on delete.
pub const FINALIZER: &str = "teamssync.io/removal-policy";
/// The annotation that asks for a sync now; any new value triggers one.
pub const SYNC_NOW_ANNOTATION: &str = "teamssync.io/sync-now";

/// How often a sync that runs long reports its progress (log line and status), by default.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(30);

/// How long deleting a resource may try to apply `removal.policy: Unassign` before it gives up,
/// leaves the numbers assigned and records them (see [`super::deletion`]).
pub const DEFAULT_CLEANUP_TIMEOUT: Duration = Duration::from_secs(300);

/// Operator-wide settings every scope shares.
#[derive(Clone, Debug)]
pub struct OperatorSettings {
    /// The operator's own namespace: its leader Lease, the tenant claims, the ownership records,
    /// and Events about resources whose namespace is gone.
    pub operator_namespace: String,
    /// How long, from the deletion request, cleanup keeps trying before it gives up.
    pub cleanup_timeout: Duration,
    /// The operator's own ServiceAccount token for workload identity, and the namespaces that may
    /// use it.
    pub operator_token: OperatorToken,
    /// This replica's identity (its leader-election identity), named on the tenant claims it
    /// writes for.
    pub identity: String,
    /// Trust for the change events WebSocket (`wss://`): the platform's roots when `None`, plus
    /// `--ca-file`'s when given.
    pub event_tls: Option<Arc<rustls::ClientConfig>>,
    /// Timings of the change event feeds.
    pub event_timings: FeedTimings,
    /// How often a resource with change events asks Graph which users changed.
    pub teams_delta_interval: Duration,
}

impl Default for OperatorSettings {
    fn default() -> Self {
        Self {
            operator_namespace: "default".into(),
            cleanup_timeout: DEFAULT_CLEANUP_TIMEOUT,
            operator_token: OperatorToken::default(),
            identity: MANAGER.into(),
            event_tls: None,
            event_timings: FeedTimings::default(),
            teams_delta_interval: super::teams_delta::DEFAULT_INTERVAL,
        }
    }
}

/// `namespace/name`: the key of a resource in memory, logs and metrics.
pub fn key_of(resource: &TeamsTenantSync) -> String {
    format!(
        "{}/{}",
        resource.namespace().unwrap_or_default(),
        resource.name_any()
    )
}

/// Memory of one resource between reconciles.
#[derive(Clone, Debug, Default)]
pub struct ResourceMemory {
    /// Last status and retry state.
    pub sync: SyncMemory,
    /// When the last sync ran.
    pub last_sync: Option<Instant>,
    /// When the next sync is due unless a change asks for one earlier.
    pub next_sync: Option<Instant>,
    /// Syncs in a row that found assignments still activating (spaces out the next looks).
    pub pending_checks: u32,
    /// The generation it used.
    pub generation: Option<i64>,
    /// The sync-now annotation value it handled.
    pub sync_now: Option<String>,
    /// Versions of the Secrets it used.
    pub secret_versions: BTreeMap<String, String>,
    /// Consecutive failed reconciles, for backoff.
    pub failures: u32,
    /// The last sync's sign-in, whose cached token the next sync reuses while it is valid.
    pub sign_in: Option<SignIn>,
    /// When the users the last targeted re-sync left waiting (`sync.revisit`) are looked at
    /// again, by a targeted re-sync.
    pub revisit_at: Option<Instant>,
}

/// Shared state of the controller of one scope (all namespaces, or one).
pub struct Context {
    /// The Kubernetes client.
    pub client: Client,
    /// Upstream HTTP settings.
    pub connect: ConnectOptions,
    /// The Secrets of the scope: a watch of their versions, the data of the referenced ones.
    pub secrets: SecretCache,
    /// Publishes Events; kept across reconciles, so that an Event repeated within the recorder's
    /// cache period becomes a series (a count on the first Event) instead of a new object.
    pub recorder: Recorder,
    /// How often a long sync reports its progress (see [`super::progress`]).
    pub progress_every: Duration,
    /// Operator-wide settings.
    pub settings: OperatorSettings,
    /// Per-resource memory by `namespace/name`.
    pub memory: Mutex<HashMap<String, ResourceMemory>>,
    /// The tenants' GUIDs, by the names resources give them.
    pub tenant_ids: TenantIds,
    /// The process's metrics, which reconciles, status writes and deletions record into.
    pub metrics: Arc<Metrics>,
    /// What was last written of each resource's users report.
    pub users_reports: ReportMemories,
    /// Change events: the process's feeds and this scope's wake-up queue (`None`: not used).
    pub events: Option<ChangeEvents>,
    /// The Teams side of change events: a `users/delta` watch per resource.
    pub teams_deltas: TeamsDeltaWatches,
}

impl Context {
    /// A context for `client` that reads Secrets from `secrets` and records into `metrics`;
    /// `instance` names this replica in the Events it publishes.
    pub fn new(
        client: Client,
        connect: ConnectOptions,
        instance: Option<String>,
        secrets: SecretCache,
        metrics: Arc<Metrics>,
    ) -> Self {
        let reporter = Reporter {
            controller: MANAGER.into(),
            instance,
        };
        Self {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            connect,
            secrets,
            progress_every: PROGRESS_EVERY,
            settings: OperatorSettings::default(),
            memory: Mutex::new(HashMap::new()),
            tenant_ids: TenantIds::default(),
            metrics,
            users_reports: ReportMemories::default(),
            events: None,
            teams_deltas: TeamsDeltaWatches::default(),
        }
    }

    /// What a resource of `namespace` signs in with: `secrets` and its ServiceAccounts' tokens.
    pub fn credentials<'a>(
        &'a self,
        namespace: &'a str,
        secrets: &'a KubeSecrets,
    ) -> ResourceCredentials<'a> {
        ResourceCredentials {
            secrets,
            client: self.client.clone(),
            namespace,
            operator_token: &self.settings.operator_token,
        }
    }

    /// A copy of the memory of `key`.
    pub fn recall(&self, key: &str) -> ResourceMemory {
        self.memory
            .lock()
            .expect("memory lock")
            .get(key)
            .cloned()
            .unwrap_or_default()
    }

    /// Stores the memory of `key`.
    pub fn remember(&self, key: &str, memory: ResourceMemory) {
        self.memory
            .lock()
            .expect("memory lock")
            .insert(key.to_owned(), memory);
    }

    /// Forgets `key` (deleted).
    pub fn forget(&self, key: &str) {
        self.memory.lock().expect("memory lock").remove(key);
        self.users_reports.forget(key);
        super::change_events::leave(self, key);
    }

    /// Counts a failed reconcile of `key` and returns how long to wait (see [`backoff_after`]).
    pub fn backoff(&self, key: &str) -> Duration {
        let mut memory = self.memory.lock().expect("memory lock");
        let entry = memory.entry(key.to_owned()).or_default();
        entry.failures = entry.failures.saturating_add(1);
        backoff_after(entry.failures)
    }
}

/// How long to wait after `failures` failures in a row: 5 s doubling to 15 min, plus up to 10%
/// jitter.
pub fn backoff_after(failures: u32) -> Duration {
    let exponent = failures.saturating_sub(1).min(10);
    let base = Duration::from_secs(5)
        .saturating_mul(1 << exponent)
        .min(Duration::from_secs(900));
    base.mul_f64(1.0 + rand::random::<f64>() * 0.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn failing_resources_back_off_longer_and_longer_up_to_fifteen_minutes() {
        let (service, _handle) =
            tower_test::mock::pair::<http::Request<kube::client::Body>, http::Response<kube::client::Body>>();
        let connect = ConnectOptions {
            http: crate::upstream::http_client(&[]).unwrap(),
            retry: Default::default(),
            graph_requests_per_second: None,
            dialpad_requests_per_second: None,
            allowed_endpoints: Default::default(),
            upstream_calls: Arc::new(crate::upstream::NotRecorded),
            policy_types: Default::default(),
        };
        let (secrets, _writer) = kube::runtime::reflector::store();
        let ctx = Context::new(
            Client::new(service, "default"),
            connect,
            None,
            SecretCache::new(secrets),
            Arc::new(Metrics::new()),
        );
        let waits: Vec<Duration> = (0..12).map(|_| ctx.backoff("ns/a")).collect();
        assert!(
            waits[0] >= Duration::from_secs(5) && waits[0] < Duration::from_secs(6),
            "{waits:?}"
        );
        assert!(waits[1] >= Duration::from_secs(10), "{waits:?}");
        assert!(waits.windows(2).take(7).all(|w| w[1] > w[0]), "{waits:?}");
        assert!(waits.iter().all(|w| *w <= Duration::from_secs(990)), "{waits:?}");
        assert!(
            ctx.backoff("ns/b") < Duration::from_secs(6),
            "another resource starts from the bottom"
        );
    }
}
