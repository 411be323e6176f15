//! Tests of `metrics.rs`.

use super::*;

fn counts(pairs: &[(&str, i32)]) -> BTreeMap<String, i32> {
    pairs
        .iter()
        .map(|(reason, count)| ((*reason).to_owned(), *count))
        .collect()
}

#[test]
fn metric_names_carry_the_prefix_and_suffixes() {
    let metrics = Metrics::new();
    metrics.record_reconcile(true);
    metrics.record_reconcile_error("CredentialsInvalid");
    metrics.record_upstream_call(Service::Graph, "GET /v1.0/users", UpstreamOutcome::Status(429));
    metrics.set_user_counts("ns", "tenant", &counts(&[("Synced", 3)]));
    metrics.observe_sync("ns", "tenant", 1.5);
    let text = metrics.encode();
    for line in [
        r#"dialpad_teams_reconciles_total{result="success"} 1"#,
        r#"dialpad_teams_reconciles_total{result="error"} 0"#,
        r#"dialpad_teams_reconcile_errors_total{reason="CredentialsInvalid"} 1"#,
        r#"dialpad_teams_upstream_requests_total{upstream="graph",upstream_endpoint="GET /v1.0/users",status="429"} 1"#,
        r#"dialpad_teams_upstream_throttled_total{upstream="graph",upstream_endpoint="GET /v1.0/users"} 1"#,
        r#"dialpad_teams_users{namespace="ns",name="tenant",reason="Synced"} 3"#,
        r#"dialpad_teams_sync_duration_seconds_bucket{le="600.0",namespace="ns",name="tenant"} 1"#,
        r#"dialpad_teams_sync_duration_seconds_count{namespace="ns",name="tenant"} 1"#,
        "# UNIT dialpad_teams_sync_duration_seconds seconds",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
    }
    assert!(text.ends_with("# EOF\n"));
}

#[test]
fn non_throttled_status_is_not_counted_as_throttled() {
    let metrics = Metrics::new();
    metrics.record_upstream_call(
        Service::Dialpad,
        "GET /api/v2/users",
        UpstreamOutcome::Status(200),
    );
    metrics.record_upstream_call(Service::Dialpad, "GET /api/v2/users", UpstreamOutcome::Transport);
    let text = metrics.encode();
    assert!(text.contains(r#"status="transport_error"} 1"#), "{text}");
    assert!(
        !text.contains("dialpad_teams_upstream_throttled_total{"),
        "{text}"
    );
}

#[test]
fn endpoint_label_drops_query_and_fragment() {
    assert_eq!(
        endpoint_label("GET /v1.0/users?$top=999&$skiptoken=abc"),
        "GET /v1.0/users"
    );
    assert_eq!(endpoint_label("GET /api/v2/users#x"), "GET /api/v2/users");
    assert_eq!(
        endpoint_label("POST /oauth2/v2.0/token"),
        "POST /oauth2/v2.0/token"
    );
}

#[test]
fn forgetting_a_resource_removes_its_series_only() {
    let metrics = Metrics::new();
    metrics.set_user_counts("ns", "gone", &counts(&[("Synced", 1), ("EmailMissing", 2)]));
    metrics.set_user_counts("ns", "kept", &counts(&[("Synced", 5)]));
    metrics.observe_sync("ns", "gone", 0.2);
    metrics.set_schedule("ns", "gone", Duration::from_secs(900), true);
    metrics.set_status("ns", "gone", &synced_at(1_800_000_000));
    metrics.forget_resource("ns", "gone");
    let text = metrics.encode();
    assert!(!text.contains(r#"name="gone""#), "{text}");
    assert!(text.contains(r#"dialpad_teams_users{namespace="ns",name="kept",reason="Synced"} 5"#));
}

#[test]
fn invalid_durations_are_ignored() {
    let metrics = Metrics::new();
    metrics.observe_sync("ns", "t", f64::NAN);
    metrics.observe_sync("ns", "t", -1.0);
    assert!(!metrics.encode().contains(r#"name="t""#));
}

fn synced_at(second: i64) -> TeamsTenantSyncStatus {
    TeamsTenantSyncStatus {
        last_sync_time: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            k8s_openapi::jiff::Timestamp::from_second(second).unwrap(),
        )),
        summary: Some(crate::api::SyncSummary {
            failed: 4,
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn last_sync_failed_users_interval_and_suspension_are_series_of_the_resource() {
    let metrics = Metrics::new();
    metrics.set_schedule("telephony", "contoso", Duration::from_secs(900), false);
    // A status without a completed sync (the first one still running) sets no timestamp.
    metrics.set_status("telephony", "contoso", &TeamsTenantSyncStatus::default());
    assert!(
        !metrics
            .encode()
            .contains("dialpad_teams_last_sync_timestamp_seconds{")
    );
    metrics.set_status("telephony", "contoso", &synced_at(1_800_000_000));
    metrics.set_schedule("telephony", "contoso", Duration::from_secs(3600), true);
    let text = metrics.encode();
    for line in [
        r#"dialpad_teams_last_sync_timestamp_seconds{namespace="telephony",name="contoso"} 1800000000"#,
        r#"dialpad_teams_sync_interval_seconds{namespace="telephony",name="contoso"} 3600"#,
        r#"dialpad_teams_suspended{namespace="telephony",name="contoso"} 1"#,
        r#"dialpad_teams_failed_users{namespace="telephony",name="contoso"} 4"#,
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
    }
}
