//! The fault suite: a generated org of 10,000 Dialpad users, every case mixed in, synced against a
//! sandbox that injects one kind of fault at a time (server errors, 429 bursts, connection resets,
//! answers later than the client waits, tokens expiring mid-sync, operations that never complete,
//! truncated bodies). Each scenario syncs until the outcome counts match the generator's truth and
//! then checks, over everything the sandbox saw, that no number was ever assigned to a user who
//! does not own it, that nothing outside the company's inventory was unassigned, that no upstream
//! was called faster than its limit, and that no secret reached a log line, a status or a metric.
//! Each prints a line per sync and one `fault-suite` line of figures (`--nocapture` shows them);
//! `FAULT_SUITE_SAMPLES=1` also prints the tenant conditions and two users per reason off the truth.

mod common;
#[path = "fault_suite/harness.rs"]
mod harness;

use std::time::Duration;

use dialpad_teams_sandbox::fixture::FaultFixture;
use harness::{Scenario, run_scenario};

fn faults(yaml: &str) -> Vec<FaultFixture> {
    serde_yaml::from_str(yaml).expect("the scenario's fault rules are valid")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_percent_server_errors_converge_to_the_truth() {
    run_scenario(Scenario {
        faults: faults(
            "[{endpoint: '*', errorRate: 0.1, errorStatus: 500}, \
              {endpoint: '*', errorRate: 0.11, errorStatus: 503}]",
        ),
        ..Scenario::named("20% 5xx")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_of_429_with_retry_after_converge_to_the_truth() {
    run_scenario(Scenario {
        faults: faults("[{endpoint: '*', throttleRate: 0.005, throttleBurst: 10, retryAfterSeconds: 1}]"),
        ..Scenario::named("429 bursts")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_percent_connection_resets_converge_to_the_truth() {
    run_scenario(Scenario {
        faults: faults("[{endpoint: '*', resetRate: 0.05}]"),
        ..Scenario::named("5% resets")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_later_than_the_client_waits_converge_to_the_truth() {
    run_scenario(Scenario {
        // The upstream acts, but answers after the client gave up: a write's outcome is unknown.
        faults: faults("[{endpoint: '*', lateRate: 0.02, lateMs: 6000}]"),
        http_timeout: Duration::from_secs(5),
        ..Scenario::named("late answers")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_expiring_mid_sync_converge_to_the_truth() {
    run_scenario(Scenario {
        expire_tokens_at_writes: vec![300, 700],
        ..Scenario::named("token expiry")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_that_never_complete_converge_to_the_truth() {
    run_scenario(Scenario {
        never_completing_operations: 25,
        ..Scenario::named("lost operations")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_bodies_converge_to_the_truth() {
    run_scenario(Scenario {
        faults: faults("[{endpoint: '*', malformedRate: 0.05}]"),
        ..Scenario::named("truncated bodies")
    })
    .await;
}
