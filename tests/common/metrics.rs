//! The operator's metrics with one series recorded in every family (a family without series is
//! not printed), for tests of what `/metrics` exposes and of what the chart queries.

use std::collections::BTreeMap;
use std::time::Duration;

use dialpad_teams_operator::api::TeamsTenantSyncStatus;
use dialpad_teams_operator::telemetry::Metrics;
use dialpad_teams_operator::upstream::{Service, UpstreamOutcome};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

/// Metrics with one series in each family, for resource `ns/tts`.
pub fn every_family() -> Metrics {
    let metrics = Metrics::new();
    metrics.record_reconcile(true);
    metrics.record_reconcile_error("Cleanup");
    metrics.record_upstream_call(Service::Graph, "GET /v1.0/users", UpstreamOutcome::Status(429));
    metrics.set_user_counts("ns", "tts", &BTreeMap::from([("InSync".to_owned(), 3)]));
    metrics.observe_sync("ns", "tts", 1.5);
    let synced = TeamsTenantSyncStatus {
        last_sync_time: Some(Time(Timestamp::now())),
        summary: Some(Default::default()),
        ..Default::default()
    };
    metrics.set_status("ns", "tts", &synced);
    metrics.set_schedule("ns", "tts", Duration::from_secs(900), false);
    metrics.record_numbers_left("ns", "tts", 2);
    metrics.record_users_report_written("ns", "tts", 1024);
    metrics
}

/// Every label name on a series of `encoded` (OpenMetrics text).
pub fn label_names(encoded: &str) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    for line in encoded.lines().filter(|line| !line.starts_with('#')) {
        let Some((_, labels)) = line.split_once('{') else {
            continue;
        };
        let labels = labels.split('}').next().unwrap_or_default();
        for pair in labels.split("\",") {
            if let Some((name, _)) = pair.split_once('=') {
                names.insert(name.trim_matches(',').to_owned());
            }
        }
    }
    names
}
