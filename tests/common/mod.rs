//! Helpers shared by the integration tests.
#![allow(dead_code, reason = "each test binary uses a different subset")]

pub mod apiserver;
pub mod captured_log;
pub mod cli;
pub mod issuer;
pub mod metrics;
pub mod pipeline;
pub mod raw_http;
pub mod rbac;
pub mod sign_in;
pub mod specs;
pub mod statuses;

/// Polls `holds` every 20 ms until it is true; after five seconds, panics with `why_not()`.
pub async fn wait_until(mut holds: impl FnMut() -> bool, why_not: impl Fn() -> String) {
    let started = std::time::Instant::now();
    while !holds() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{}",
            why_not()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
