//! The health and metrics server over real HTTP, and what the metrics record.
//!
//! Each test records into its own [`Metrics`], the one its server encodes.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use dialpad_teams_operator::telemetry::logging::{self, LogFormat};
use dialpad_teams_operator::telemetry::{Metrics, Readiness, server};
use dialpad_teams_operator::upstream::{
    self, Idempotency, RetryPolicy, Service, UpstreamClient, UpstreamOutcome,
};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

struct Running {
    base: String,
    /// What `/metrics` encodes.
    recorded: Arc<Metrics>,
    http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), std::io::Error>>,
}

impl Running {
    async fn get(&self, path: &str) -> (u16, String, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .map(|value| value.to_str().expect("ascii").to_owned())
            .unwrap_or_default();
        (status, content_type, response.text().await.expect("body"))
    }

    async fn scrape(&self) -> String {
        let (status, content_type, body) = self.get("/metrics").await;
        assert_eq!(status, 200);
        assert_eq!(content_type, OPENMETRICS);
        body
    }
}

async fn start(readiness: Readiness) -> Running {
    dialpad_teams_operator::tls::ensure_crypto_provider();
    let (listener, addr) = server::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind");
    assert_ne!(addr.port(), 0);
    let (stop, stopped) = oneshot::channel::<()>();
    let recorded = Arc::new(Metrics::new());
    let task = tokio::spawn(server::serve_on(listener, readiness, recorded.clone(), async {
        let _ = stopped.await;
    }));
    Running {
        base: format!("http://{addr}"),
        recorded,
        http: reqwest::Client::new(),
        stop: Some(stop),
        task,
    }
}

fn has_line(text: &str, line: &str) -> bool {
    text.lines().any(|l| l == line)
}

fn counts(pairs: &[(&str, i32)]) -> BTreeMap<String, i32> {
    pairs
        .iter()
        .map(|(reason, count)| ((*reason).to_owned(), *count))
        .collect()
}

#[tokio::test]
async fn healthz_answers_ok_whatever_the_readiness() {
    let readiness = Readiness::new();
    let running = start(readiness.clone()).await;
    assert_eq!(
        running.get("/healthz").await,
        (200, "text/plain; charset=utf-8".into(), "ok".into())
    );
    readiness.ready();
    assert_eq!(running.get("/healthz").await.0, 200);
}

#[tokio::test]
async fn readyz_follows_readiness_transitions() {
    let readiness = Readiness::new();
    let running = start(readiness.clone()).await;

    let (status, _, body) = running.get("/readyz").await;
    assert_eq!((status, body.as_str()), (503, "starting"));

    readiness.ready();
    assert!(readiness.is_ready());
    let (status, _, body) = running.get("/readyz").await;
    assert_eq!((status, body.as_str()), (200, "ok"));

    readiness.not_ready();
    assert!(!readiness.is_ready());
    let (status, _, body) = running.get("/readyz").await;
    assert_eq!((status, body.as_str()), (503, "not ready"));

    readiness.not_ready_because("lost the leader lease");
    let (status, _, body) = running.get("/readyz").await;
    assert_eq!((status, body.as_str()), (503, "lost the leader lease"));
}

#[tokio::test]
async fn metrics_serves_openmetrics_with_recorded_series() {
    let running = start(Readiness::new()).await;
    running.recorded.record_reconcile(true);
    running.recorded.record_reconcile(false);
    running.recorded.record_reconcile_error("TelemetryTestReason");
    running.recorded.record_reconcile_error("TelemetryTestReason");
    let endpoint = "GET /telemetry-test/users";
    running
        .recorded
        .record_upstream_call(Service::Graph, endpoint, UpstreamOutcome::Status(429));
    running
        .recorded
        .record_upstream_call(Service::Graph, endpoint, UpstreamOutcome::Status(200));
    running
        .recorded
        .record_upstream_call(Service::Entra, endpoint, UpstreamOutcome::Transport);
    running.recorded.observe_sync("telemetry", "metrics-test", 42.0);

    let text = running.scrape().await;
    for line in [
        r#"dialpad_teams_reconcile_errors_total{reason="TelemetryTestReason"} 2"#,
        r#"dialpad_teams_upstream_requests_total{upstream="graph",upstream_endpoint="GET /telemetry-test/users",status="429"} 1"#,
        r#"dialpad_teams_upstream_requests_total{upstream="graph",upstream_endpoint="GET /telemetry-test/users",status="200"} 1"#,
        r#"dialpad_teams_upstream_requests_total{upstream="entra",upstream_endpoint="GET /telemetry-test/users",status="transport_error"} 1"#,
        r#"dialpad_teams_upstream_throttled_total{upstream="graph",upstream_endpoint="GET /telemetry-test/users"} 1"#,
        r#"dialpad_teams_sync_duration_seconds_bucket{le="30.0",namespace="telemetry",name="metrics-test"} 0"#,
        r#"dialpad_teams_sync_duration_seconds_bucket{le="60.0",namespace="telemetry",name="metrics-test"} 1"#,
        r#"dialpad_teams_sync_duration_seconds_sum{namespace="telemetry",name="metrics-test"} 42.0"#,
        "# TYPE dialpad_teams_reconciles counter",
        "# TYPE dialpad_teams_sync_duration_seconds histogram",
    ] {
        assert!(has_line(&text, line), "missing {line:?} in\n{text}");
    }
    assert!(
        !text.contains(
            r#"dialpad_teams_upstream_throttled_total{upstream="entra",upstream_endpoint="GET /telemetry-test/users"}"#
        ),
        "a transport error is not throttling"
    );
    for result in ["success", "error"] {
        let line = format!(r#"dialpad_teams_reconciles_total{{result="{result}"}} 1"#);
        assert!(has_line(&text, &line), "missing {line:?} in\n{text}");
    }
    assert!(text.ends_with("# EOF\n"));
}

#[tokio::test]
async fn users_gauge_zeroes_reasons_that_disappeared_and_forgets_deleted_resources() {
    let running = start(Readiness::new()).await;
    let series = |reason: &str| {
        format!(r#"dialpad_teams_users{{namespace="telemetry",name="gauge-test",reason="{reason}"}}"#)
    };

    running.recorded.set_user_counts(
        "telemetry",
        "gauge-test",
        &counts(&[("Synced", 3), ("EmailMissing", 2)]),
    );
    let text = running.scrape().await;
    assert!(has_line(&text, &format!("{} 3", series("Synced"))), "{text}");
    assert!(
        has_line(&text, &format!("{} 2", series("EmailMissing"))),
        "{text}"
    );

    running
        .recorded
        .set_user_counts("telemetry", "gauge-test", &counts(&[("Synced", 5)]));
    let text = running.scrape().await;
    assert!(has_line(&text, &format!("{} 5", series("Synced"))), "{text}");
    assert!(
        has_line(&text, &format!("{} 0", series("EmailMissing"))),
        "{text}"
    );

    running.recorded.observe_sync("telemetry", "gauge-test", 1.0);
    running.recorded.forget_resource("telemetry", "gauge-test");
    let text = running.scrape().await;
    assert!(!text.contains(r#"name="gauge-test""#), "{text}");
}

#[tokio::test]
async fn endpoint_query_string_is_not_recorded() {
    let running = start(Readiness::new()).await;
    running.recorded.record_upstream_call(
        Service::Dialpad,
        "GET /telemetry-test/query?cursor=s3cr3t-cursor&limit=100",
        UpstreamOutcome::Status(200),
    );
    let text = running.scrape().await;
    assert!(
        has_line(
            &text,
            r#"dialpad_teams_upstream_requests_total{upstream="dialpad",upstream_endpoint="GET /telemetry-test/query",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(!text.contains("s3cr3t-cursor"), "{text}");
}

#[tokio::test]
async fn upstream_client_records_every_attempt_with_its_status() {
    let recorded = Arc::new(Metrics::new());
    // An upstream that throttles the first request and answers the second.
    let hits = Arc::new(AtomicU32::new(0));
    let handler_hits = hits.clone();
    let app = axum::Router::new().route(
        "/telemetry-test/throttled",
        axum::routing::get(move || {
            let hits = handler_hits.clone();
            async move {
                if hits.fetch_add(1, Ordering::SeqCst) == 0 {
                    (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "0")], "{}")
                } else {
                    (StatusCode::OK, [("retry-after", "0")], "{}")
                }
            }
        }),
    );
    let (listener, addr) = server::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let client = UpstreamClient::new(
        Service::Dialpad,
        upstream::http_client(&[]).expect("client"),
        None,
        RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(1),
            cap: Duration::from_millis(5),
            ..RetryPolicy::default()
        },
    )
    .recording_calls_to(recorded.clone());
    let url = format!("http://{addr}/telemetry-test/throttled?page=2");
    let answer = client
        .call("GET /telemetry-test/throttled", Idempotency::Idempotent, |http| {
            http.get(&url)
        })
        .await
        .expect("answer");
    assert_eq!((answer.status, answer.attempts), (200, 2));

    // Nothing listens on a port that was just freed: a transport error.
    let (closed, closed_addr) = server::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind");
    drop(closed);
    let closed_url = format!("http://{closed_addr}/telemetry-test/closed");
    let refused = RetryPolicy {
        max_attempts: 1,
        ..RetryPolicy::default()
    };
    let client = UpstreamClient::new(
        Service::Graph,
        upstream::http_client(&[]).expect("client"),
        None,
        refused,
    )
    .recording_calls_to(recorded.clone());
    client
        .call("GET /telemetry-test/closed", Idempotency::Idempotent, |http| {
            http.get(&closed_url)
        })
        .await
        .expect_err("nothing listens");

    let text = recorded.encode();
    for line in [
        r#"dialpad_teams_upstream_requests_total{upstream="dialpad",upstream_endpoint="GET /telemetry-test/throttled",status="429"} 1"#,
        r#"dialpad_teams_upstream_requests_total{upstream="dialpad",upstream_endpoint="GET /telemetry-test/throttled",status="200"} 1"#,
        r#"dialpad_teams_upstream_throttled_total{upstream="dialpad",upstream_endpoint="GET /telemetry-test/throttled"} 1"#,
        r#"dialpad_teams_upstream_requests_total{upstream="graph",upstream_endpoint="GET /telemetry-test/closed",status="transport_error"} 1"#,
    ] {
        assert!(has_line(&text, line), "missing {line:?} in\n{text}");
    }
}

#[tokio::test]
async fn server_stops_when_shutdown_completes() {
    let mut running = start(Readiness::new()).await;
    assert_eq!(running.get("/healthz").await.0, 200);
    running
        .stop
        .take()
        .expect("sender")
        .send(())
        .expect("server listening");
    let result = tokio::time::timeout(Duration::from_secs(10), &mut running.task)
        .await
        .expect("stops in time")
        .expect("task");
    assert!(result.is_ok(), "{result:?}");
    let refused = running.http.get(format!("{}/healthz", running.base)).send().await;
    assert!(refused.is_err(), "still answering after shutdown");
}

#[tokio::test]
async fn serve_binds_the_given_address() {
    let (probe, addr) = server::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind");
    drop(probe);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server::serve(
        addr,
        Readiness::new(),
        Arc::new(Metrics::new()),
        async {
            let _ = stopped.await;
        },
    ));
    dialpad_teams_operator::tls::ensure_crypto_provider();
    let http = reqwest::Client::new();
    let mut answer = None;
    for _ in 0..50 {
        if let Ok(response) = http.get(format!("http://{addr}/healthz")).send().await {
            answer = Some(response.status().as_u16());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(answer, Some(200));
    stop.send(()).expect("server listening");
    task.await.expect("task").expect("served");
}

#[test]
fn logging_init_twice_is_a_no_op() {
    logging::init(LogFormat::Json, Some("off"));
    logging::init(LogFormat::Text, Some("debug"));
    tracing::info!("not shown: the first filter is off");
}
