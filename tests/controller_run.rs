//! `run_until`, the loop that `dialpad-teams-operator run` runs, against kube's tower-test mocked
//! apiserver: while it runs it lists and watches TeamsTenantSyncs and the Secrets' metadata (never
//! their data), it reports ready only once both lists are in, and it stops promptly when asked.
//! (The e2e suite runs the binary itself against a real apiserver.)

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dialpad_teams_operator::connect::ConnectOptions;
use dialpad_teams_operator::controller::{ControllerConfig, SHUTDOWN_GRACE, run_until};
use dialpad_teams_operator::telemetry::Metrics;
use dialpad_teams_operator::telemetry::server::Readiness;
use dialpad_teams_operator::upstream::{NotRecorded, http_client};
use http::{Method, Request, Response, StatusCode};
use kube::client::Body;
use serde_json::json;

mod common;

const TTS_PATH: &str = "/apis/teamssync.io/v1alpha1/namespaces/telephony/teamstenantsyncs";
const SECRETS_PATH: &str = "/api/v1/namespaces/telephony/secrets";

fn empty_list(kind: &str, api_version: &str) -> Response<Body> {
    let body =
        json!({"kind": kind, "apiVersion": api_version, "metadata": {"resourceVersion": "1"}, "items": []});
    Response::builder()
        .status(StatusCode::OK)
        .body(Body::from(serde_json::to_vec(&body).unwrap()))
        .unwrap()
}

#[tokio::test]
async fn the_controller_lists_and_watches_while_it_runs_and_is_ready_only_after_both_lists() {
    let (service, mut server) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let client = kube::Client::new(service, "telephony");
    let readiness = Readiness::new();
    let config = ControllerConfig {
        namespaces: vec!["telephony".into()],
        leader_election: None,
        connect: ConnectOptions {
            http: http_client(&[]).unwrap(),
            retry: Default::default(),
            graph_requests_per_second: None,
            dialpad_requests_per_second: None,
            allowed_endpoints: Default::default(),
            upstream_calls: Arc::new(NotRecorded),
            policy_types: Default::default(),
        },
        settings: Default::default(),
        readiness: readiness.clone(),
        metrics: Arc::new(Metrics::new()),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let operator = tokio::spawn(run_until(client, config, async move {
        let _ = stopped.await;
    }));

    let mut listed = BTreeSet::new();
    let mut watches = Vec::new();
    while listed.len() < 2 || watches.len() < 2 {
        let (request, send) = tokio::time::timeout(Duration::from_secs(10), server.next_request())
            .await
            .expect("the controller sends its list and watch requests while it runs, before any shutdown")
            .expect("the client is alive");
        assert_eq!(request.method(), Method::GET, "{}", request.uri());
        let path = request.uri().path().to_owned();
        let query = request.uri().query().unwrap_or_default().to_owned();
        if path == SECRETS_PATH {
            let accept = request.headers().get("accept").and_then(|v| v.to_str().ok());
            assert!(
                accept.is_some_and(|a| a.contains("as=PartialObjectMetadata")),
                "Secrets are listed and watched as metadata only: Accept {accept:?}"
            );
        }
        if query.contains("watch=true") {
            // Held open, as a watch with nothing to report is.
            watches.push((path, send));
            continue;
        }
        assert!(
            !readiness.is_ready(),
            "ready before the caches were listed ({listed:?} listed)"
        );
        match path.as_str() {
            TTS_PATH => send.send_response(empty_list("TeamsTenantSyncList", "teamssync.io/v1alpha1")),
            SECRETS_PATH => {
                assert!(
                    query.contains("fieldSelector=type%21%3Dhelm.sh%2Frelease.v1"),
                    "Helm's release Secrets are not cached: {query}"
                );
                send.send_response(empty_list("SecretList", "v1"));
            }
            other => panic!("unexpected request GET {other}?{query}"),
        }
        listed.insert(path);
    }
    let watched: BTreeSet<&str> = watches.iter().map(|(path, _)| path.as_str()).collect();
    assert_eq!(watched, BTreeSet::from([TTS_PATH, SECRETS_PATH]));
    common::wait_until(
        || readiness.is_ready(),
        || format!("not ready after both lists: {:?}", readiness.reason()),
    )
    .await;

    stop.send(()).unwrap();
    let stopping = Instant::now();
    tokio::time::timeout(Duration::from_secs(10), operator)
        .await
        .expect("run_until returns within 10 s of the shutdown signal")
        .expect("the task did not panic")
        .expect("a requested shutdown is not an error");
    assert!(stopping.elapsed() < SHUTDOWN_GRACE, "{:?}", stopping.elapsed());
    assert_eq!(readiness.reason().as_deref(), Some("shutting down"));
}
