//! The operator's Prometheus metrics, built on `prometheus-client` and exposed as OpenMetrics text.
//!
//! One [`Metrics`] holds every series. The process makes one and passes it in: to the
//! controller (its context), to the upstream clients (as their [`CallRecorder`]) and to the
//! `/metrics` route; tests make their own. Label values are resource names, reasons, upstreams and endpoint templates
//! (`GET /v1.0/users`), never user data or secrets: query strings are cut off endpoints.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::api::{TeamsTenantSyncStatus, conditions};
use crate::upstream::{CallRecorder, Service, UpstreamOutcome};

/// The content type of [`encode`]'s output, for the `/metrics` response.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds (seconds) of the sync duration histogram: 0.1 s to 10 minutes.
pub const SYNC_DURATION_BUCKETS: [f64; 12] = [
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];

/// The `status` label of an upstream call that got no HTTP answer.
pub const TRANSPORT_ERROR: &str = "transport_error";

/// The `status` label of an upstream attempt: its HTTP status, or [`TRANSPORT_ERROR`].
fn status_label(outcome: UpstreamOutcome) -> String {
    match outcome {
        UpstreamOutcome::Status(status) => status.to_string(),
        UpstreamOutcome::Transport => TRANSPORT_ERROR.to_owned(),
    }
}

/// The `upstream` label of an upstream: `dialpad`, `entra` or `graph`.
pub fn service_label(service: Service) -> &'static str {
    match service {
        Service::Dialpad => "dialpad",
        Service::Entra => "entra",
        Service::Graph => "graph",
    }
}

/// An endpoint as a label: anything after `?` or `#` is cut off, so query values (filters, page
/// cursors, tokens) never become label values.
pub fn endpoint_label(endpoint: &str) -> &str {
    endpoint.split(['?', '#']).next().unwrap_or_default().trim_end()
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

// `upstream` and `upstream_endpoint`, not `service` and `endpoint`: the Prometheus Operator
// attaches those two names to every series it scrapes (the Kubernetes Service and the port),
// and the ServiceMonitor honours the operator's labels so that `namespace` is the resource's.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    upstream: &'static str,
    upstream_endpoint: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    upstream: &'static str,
    upstream_endpoint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UserLabels {
    namespace: String,
    name: String,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConditionLabels {
    namespace: String,
    name: String,
    r#type: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResourceLabels {
    namespace: String,
    name: String,
}

type ResourceKey = (String, String);

fn sync_histogram() -> Histogram {
    Histogram::new(SYNC_DURATION_BUCKETS)
}

/// Every metric the operator exports, in its own registry. The process makes one (shared as an
/// `Arc`); each test may make its own.
pub struct Metrics {
    registry: Registry,
    reconciles: Family<ResultLabels, Counter>,
    reconcile_errors: Family<ReasonLabels, Counter>,
    upstream_requests: Family<UpstreamLabels, Counter>,
    upstream_throttled: Family<EndpointLabels, Counter>,
    users: Family<UserLabels, Gauge>,
    sync_duration: Family<ResourceLabels, Histogram, fn() -> Histogram>,
    numbers_left: Family<ResourceLabels, Counter>,
    conditions: Family<ConditionLabels, Gauge>,
    last_sync: Family<ResourceLabels, Gauge>,
    failed_users: Family<ResourceLabels, Gauge>,
    sync_interval: Family<ResourceLabels, Gauge>,
    suspended: Family<ResourceLabels, Gauge>,
    users_report_bytes: Family<ResourceLabels, Counter>,
    /// Every reason each resource has had a `users` series for, to zero and forget them.
    user_reasons: Mutex<HashMap<ResourceKey, BTreeSet<String>>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh set of metrics, all at zero, registered under the `dialpad_teams` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("dialpad_teams");
        let reconciles = Family::<ResultLabels, Counter>::default();
        let reconcile_errors = Family::<ReasonLabels, Counter>::default();
        let upstream_requests = Family::<UpstreamLabels, Counter>::default();
        let upstream_throttled = Family::<EndpointLabels, Counter>::default();
        let users = Family::<UserLabels, Gauge>::default();
        let numbers_left = Family::<ResourceLabels, Counter>::default();
        let conditions = Family::<ConditionLabels, Gauge>::default();
        let sync_duration: Family<ResourceLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(sync_histogram);
        registry.register(
            "reconciles",
            "Reconciliations of TeamsTenantSync resources, by result (success or error)",
            reconciles.clone(),
        );
        registry.register(
            "reconcile_errors",
            "Failed reconciliations, by reason (a status Reason or an error kind)",
            reconcile_errors.clone(),
        );
        registry.register(
            "upstream_requests",
            "HTTP attempts to Dialpad, Microsoft sign-in and Graph, by upstream, upstream_endpoint and status \
             (the HTTP status, or transport_error when no answer came)",
            upstream_requests.clone(),
        );
        registry.register(
            "upstream_throttled",
            "Upstream attempts answered 429 Too Many Requests, by upstream and upstream_endpoint",
            upstream_throttled.clone(),
        );
        registry.register(
            "users",
            "Users of a TeamsTenantSync resource at its last sync, by reason",
            users.clone(),
        );
        registry.register_with_unit(
            "sync_duration",
            "Duration of one sync of a TeamsTenantSync resource",
            Unit::Seconds,
            sync_duration.clone(),
        );
        registry.register(
            "numbers_left_on_delete",
            "Numbers a deleted TeamsTenantSync owned but could not unassign before its cleanup \
             timeout: still assigned in Teams, listed in its ownership record in the operator's \
             namespace",
            numbers_left.clone(),
        );
        registry.register(
            "condition",
            "Tenant conditions of a TeamsTenantSync resource as last written: 1 when True, 0 when \
             False or absent (Ready, AdminConnected, AdminAuthorized, SourceConnected, UsersSynced, \
             Reconciling, Stalled)",
            conditions.clone(),
        );
        let last_sync = Family::<ResourceLabels, Gauge>::default();
        registry.register(
            "last_sync_timestamp_seconds",
            "When the last completed sync of a TeamsTenantSync resource finished (its status's \
             lastSyncTime), in seconds since the Unix epoch",
            last_sync.clone(),
        );
        let failed_users = Family::<ResourceLabels, Gauge>::default();
        registry.register(
            "failed_users",
            "Users of a TeamsTenantSync resource that need an admin's attention at its last sync \
             (status.summary.failed)",
            failed_users.clone(),
        );
        let sync_interval = Family::<ResourceLabels, Gauge>::default();
        registry.register(
            "sync_interval_seconds",
            "The spec.syncInterval of a TeamsTenantSync resource, in seconds",
            sync_interval.clone(),
        );
        let suspended = Family::<ResourceLabels, Gauge>::default();
        registry.register(
            "suspended",
            "1 while a TeamsTenantSync resource is suspended (spec.suspend), else 0",
            suspended.clone(),
        );
        let users_report_bytes = Family::<ResourceLabels, Counter>::default();
        registry.register(
            "users_report_bytes_written",
            "Bytes of the requests that wrote a TeamsTenantSync resource's users report to the \
             apiserver (its ConfigMaps; nothing when the report did not change)",
            users_report_bytes.clone(),
        );
        // Both results exist from the start, so rate() and alerts see an error's first increase.
        for result in ["success", "error"] {
            let _ = reconciles.get_or_create(&ResultLabels { result });
        }
        Self {
            registry,
            reconciles,
            reconcile_errors,
            upstream_requests,
            upstream_throttled,
            users,
            sync_duration,
            numbers_left,
            conditions,
            last_sync,
            failed_users,
            sync_interval,
            suspended,
            users_report_bytes,
            user_reasons: Mutex::new(HashMap::new()),
        }
    }

    /// Sets `dialpad_teams_condition` of one resource from its status conditions, and
    /// `dialpad_teams_last_sync_timestamp_seconds` and `dialpad_teams_failed_users` from its
    /// `lastSyncTime` and summary once it has them.
    pub fn set_status(&self, namespace: &str, name: &str, status: &TeamsTenantSyncStatus) {
        for type_ in CONDITION_TYPES {
            let value = status
                .conditions
                .iter()
                .find(|c| c.type_ == type_)
                .is_some_and(|c| c.status == "True");
            self.conditions
                .get_or_create(&condition_labels(namespace, name, type_))
                .set(i64::from(value));
        }
        if let Some(at) = &status.last_sync_time {
            self.last_sync
                .get_or_create(&resource_labels(namespace, name))
                .set(at.0.as_second());
        }
        if let Some(summary) = &status.summary {
            self.failed_users
                .get_or_create(&resource_labels(namespace, name))
                .set(i64::from(summary.failed));
        }
    }

    /// Sets what one resource's spec says about its schedule: `syncInterval` (as the operator
    /// reads it) and whether it is suspended.
    pub fn set_schedule(&self, namespace: &str, name: &str, interval: Duration, suspended: bool) {
        let labels = resource_labels(namespace, name);
        let seconds = i64::try_from(interval.as_secs()).unwrap_or(i64::MAX);
        self.sync_interval.get_or_create(&labels).set(seconds);
        self.suspended.get_or_create(&labels).set(i64::from(suspended));
    }

    /// Counts `count` numbers a deleted resource left assigned.
    pub fn record_numbers_left(&self, namespace: &str, name: &str, count: u64) {
        self.numbers_left
            .get_or_create(&ResourceLabels {
                namespace: namespace.into(),
                name: name.into(),
            })
            .inc_by(count);
    }

    /// Counts `bytes` written to the apiserver for one resource's users report (also zero, so
    /// the series exists from its first sync).
    pub fn record_users_report_written(&self, namespace: &str, name: &str, bytes: u64) {
        self.users_report_bytes
            .get_or_create(&resource_labels(namespace, name))
            .inc_by(bytes);
    }

    /// Counts one reconciliation as a success or an error.
    pub fn record_reconcile(&self, ok: bool) {
        let result = if ok { "success" } else { "error" };
        self.reconciles.get_or_create(&ResultLabels { result }).inc();
    }

    /// Counts one failed reconciliation under `reason` (`CredentialsInvalid`, an error kind, ...).
    pub fn record_reconcile_error(&self, reason: &str) {
        let labels = ReasonLabels {
            reason: reason.to_owned(),
        };
        self.reconcile_errors.get_or_create(&labels).inc();
    }

    /// Counts one upstream HTTP attempt; a 429 also counts as throttled.
    pub fn record_upstream_call(&self, service: Service, endpoint: &str, outcome: UpstreamOutcome) {
        let upstream = service_label(service);
        let upstream_endpoint = endpoint_label(endpoint).to_owned();
        if outcome == UpstreamOutcome::Status(429) {
            let labels = EndpointLabels {
                upstream,
                upstream_endpoint: upstream_endpoint.clone(),
            };
            self.upstream_throttled.get_or_create(&labels).inc();
        }
        let labels = UpstreamLabels {
            upstream,
            upstream_endpoint,
            status: status_label(outcome),
        };
        self.upstream_requests.get_or_create(&labels).inc();
    }

    /// Sets the users gauge of one resource to `by_reason`; reasons it had before and no longer
    /// has are set to zero.
    pub fn set_user_counts(&self, namespace: &str, name: &str, by_reason: &BTreeMap<String, i32>) {
        let mut known = self.user_reasons.lock().unwrap_or_else(PoisonError::into_inner);
        let reasons = known.entry((namespace.to_owned(), name.to_owned())).or_default();
        for reason in reasons.iter().filter(|reason| !by_reason.contains_key(*reason)) {
            self.users
                .get_or_create(&user_labels(namespace, name, reason))
                .set(0);
        }
        for (reason, count) in by_reason {
            self.users
                .get_or_create(&user_labels(namespace, name, reason))
                .set(i64::from(*count));
            reasons.insert(reason.clone());
        }
    }

    /// Removes every series of one resource (users gauge and sync duration), e.g. once it is
    /// deleted.
    pub fn forget_resource(&self, namespace: &str, name: &str) {
        let mut known = self.user_reasons.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(reasons) = known.remove(&(namespace.to_owned(), name.to_owned())) {
            for reason in &reasons {
                self.users.remove(&user_labels(namespace, name, reason));
            }
        }
        self.sync_duration.remove(&ResourceLabels {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        });
        for type_ in CONDITION_TYPES {
            self.conditions.remove(&condition_labels(namespace, name, type_));
        }
        let labels = resource_labels(namespace, name);
        for family in [
            &self.last_sync,
            &self.failed_users,
            &self.sync_interval,
            &self.suspended,
        ] {
            family.remove(&labels);
        }
        self.users_report_bytes.remove(&labels);
    }

    /// Records how long one sync of a resource took; negative or non-finite values are ignored.
    pub fn observe_sync(&self, namespace: &str, name: &str, seconds: f64) {
        if !(seconds.is_finite() && seconds >= 0.0) {
            return;
        }
        let labels = ResourceLabels {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        };
        self.sync_duration.get_or_create(&labels).observe(seconds);
    }

    /// Every metric in the OpenMetrics text format, ending with `# EOF`.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if let Err(error) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            // Writing to a String does not fail; should a label encoder, scrape what there is.
            tracing::warn!(%error, "encoding metrics failed");
        }
        text
    }
}

/// The condition types exported by `dialpad_teams_condition`.
const CONDITION_TYPES: [&str; 7] = [
    conditions::READY,
    conditions::ADMIN_CONNECTED,
    conditions::ADMIN_AUTHORIZED,
    conditions::SOURCE_CONNECTED,
    conditions::USERS_SYNCED,
    conditions::RECONCILING,
    conditions::STALLED,
];

fn condition_labels(namespace: &str, name: &str, type_: &'static str) -> ConditionLabels {
    ConditionLabels {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        r#type: type_,
    }
}

fn resource_labels(namespace: &str, name: &str) -> ResourceLabels {
    ResourceLabels {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
    }
}

fn user_labels(namespace: &str, name: &str, reason: &str) -> UserLabels {
    UserLabels {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        reason: reason.to_owned(),
    }
}

impl CallRecorder for Metrics {
    fn record_call(&self, service: Service, endpoint: &str, outcome: UpstreamOutcome) {
        self.record_upstream_call(service, endpoint, outcome);
    }
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
