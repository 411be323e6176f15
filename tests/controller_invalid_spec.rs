//! A TeamsTenantSync that slipped past the schema, seen by the running controller against kube's
//! tower-test mocked apiserver. One the operator's types cannot read (written before a CRD
//! upgrade: a `mode` that no longer exists) is reported on its own status as `InvalidSpec`, naming
//! the field, while the other resources of its scope are listed, cached and reconciled as usual;
//! one it reads but whose spec breaks the CRD's rules is reported the same way by its reconcile,
//! and changes nothing.

use std::sync::Arc;
use std::time::Duration;

use dialpad_teams_operator::api::TeamsTenantSync;
use dialpad_teams_operator::commands::examples::DEMO_RESOURCE;
use dialpad_teams_operator::commands::parse_resource;
use dialpad_teams_operator::connect::ConnectOptions;
use dialpad_teams_operator::controller::Context;
use dialpad_teams_operator::controller::context::FINALIZER;
use dialpad_teams_operator::controller::reconcile::reconcile;
use dialpad_teams_operator::controller::scope::{ScopeShared, WatchedScope, scope};
use dialpad_teams_operator::controller::secret_cache::SecretCache;
use dialpad_teams_operator::events::EventHub;
use dialpad_teams_operator::telemetry::Metrics;
use dialpad_teams_operator::upstream::{NotRecorded, http_client};
use http::{Method, Request, Response, StatusCode};
use kube::client::Body;
use kube::runtime::reflector;
use serde_json::{Value, json};

mod common;
use common::apiserver::{ApiServer, reply};

const TTS_PATH: &str = "/apis/teamssync.io/v1alpha1/namespaces/telephony/teamstenantsyncs";
const SECRETS_PATH: &str = "/api/v1/namespaces/telephony/secrets";
const EVENTS_PATH: &str = "/apis/events.k8s.io/v1/namespaces/telephony/events";

fn connect() -> ConnectOptions {
    ConnectOptions {
        http: http_client(&[]).unwrap(),
        retry: Default::default(),
        graph_requests_per_second: None,
        dialpad_requests_per_second: None,
        allowed_endpoints: Default::default(),
        upstream_calls: Arc::new(NotRecorded),
        policy_types: Default::default(),
    }
}

/// The demo resource (upstreams unreachable) named `name`, with the finalizer, as JSON.
fn resource(name: &str, uid: &str) -> Value {
    let mut resource: TeamsTenantSync = parse_resource(
        &DEMO_RESOURCE.replace("http://127.0.0.1:8080", "http://127.0.0.1:9"),
        "demo",
    )
    .unwrap();
    resource.metadata.name = Some(name.into());
    resource.metadata.uid = Some(uid.into());
    resource.metadata.generation = Some(2);
    resource.metadata.resource_version = Some("100".into());
    resource.metadata.finalizers = Some(vec![FINALIZER.into()]);
    serde_json::to_value(resource).unwrap()
}

fn list(kind: &str, api_version: &str, items: Vec<Value>) -> Value {
    json!({"kind": kind, "apiVersion": api_version, "metadata": {"resourceVersion": "1"}, "items": items})
}

fn ready_of(status_patch: &Value) -> Value {
    status_patch["status"]["conditions"]
        .as_array()
        .and_then(|conditions| conditions.iter().find(|c| c["type"] == "Ready"))
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn an_unreadable_resource_is_reported_and_the_rest_of_its_scope_still_syncs() {
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let mut server = ApiServer::new(handle);
    let client = kube::Client::new(service, "telephony");
    let mut suspended = resource("contoso", "uid-contoso");
    suspended["spec"]["suspend"] = json!(true);
    let mut broken = resource("written-before-the-upgrade", "uid-broken");
    broken["spec"]["mode"] = json!("Audit");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let metrics = Arc::new(Metrics::new());
    let WatchedScope {
        resources,
        secrets,
        run,
        ..
    } = scope(
        client.clone(),
        Some("telephony".into()),
        connect(),
        ScopeShared {
            instance: None,
            settings: Default::default(),
            metrics: metrics.clone(),
            events: Arc::new(EventHub::new(
                client,
                "dialpad-teams-operator",
                "dialpad-teams-operator",
                None,
            )),
        },
        async move {
            let _ = stopped.await;
        },
    );
    let running = tokio::spawn(run);
    let synced = tokio::spawn(WatchedScope::synced(resources.clone(), secrets));

    let mut watches = Vec::new();
    let (mut broken_status, mut broken_event, mut contoso_status) = (None, None, None);
    while broken_status.is_none() || broken_event.is_none() || contoso_status.is_none() {
        let (request, send) = tokio::time::timeout(Duration::from_secs(10), server.next_request())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "stuck: broken status {broken_status:?}, event {broken_event:?}, contoso status {contoso_status:?}"
                )
            })
            .expect("the client is alive");
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let query = request.uri().query().unwrap_or_default().to_owned();
        let body: Value = {
            let bytes = request.into_body().collect_bytes().await.unwrap();
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        match (method, path.as_str()) {
            (Method::GET, _) if query.contains("watch=true") => watches.push(send),
            (Method::GET, TTS_PATH) => reply(
                send,
                StatusCode::OK,
                &list(
                    "TeamsTenantSyncList",
                    "teamssync.io/v1alpha1",
                    vec![broken.clone(), suspended.clone()],
                ),
            ),
            (Method::GET, SECRETS_PATH) => reply(send, StatusCode::OK, &list("SecretList", "v1", vec![])),
            (Method::PATCH, p) if p == format!("{TTS_PATH}/written-before-the-upgrade/status") => {
                let mut echoed = broken.clone();
                echoed["status"] = body["status"].clone();
                reply(send, StatusCode::OK, &echoed);
                broken_status = Some(body);
            }
            (Method::PATCH, p) if p == format!("{TTS_PATH}/contoso/status") => {
                let mut echoed = suspended.clone();
                echoed["status"] = body["status"].clone();
                reply(send, StatusCode::OK, &echoed);
                contoso_status = Some(body);
            }
            (Method::POST, EVENTS_PATH) => {
                reply(send, StatusCode::CREATED, &body);
                if body["regarding"]["name"] == "written-before-the-upgrade" {
                    broken_event = Some(body);
                }
            }
            (method, other) => panic!("unexpected request {method} {other}?{query}"),
        }
    }

    let broken_status = broken_status.unwrap();
    let ready = ready_of(&broken_status);
    assert_eq!(
        (&ready["status"], &ready["reason"]),
        (&json!("False"), &json!("InvalidSpec"))
    );
    let message = ready["message"].as_str().unwrap();
    assert!(
        message.contains("spec.mode: ") && message.contains("Audit") && message.contains("Enforce"),
        "names the field, the value and what is allowed: {message}"
    );
    assert_eq!(broken_status["status"]["observedGeneration"], 2);
    let stalled = broken_status["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Stalled")
        .cloned()
        .unwrap();
    assert_eq!(stalled["status"], "True");
    let event = broken_event.unwrap();
    assert_eq!(
        (&event["type"], &event["reason"]),
        (&json!("Warning"), &json!("InvalidSpec"))
    );
    assert_eq!(ready_of(&contoso_status.unwrap())["reason"], "Suspended");

    tokio::time::timeout(Duration::from_secs(5), synced)
        .await
        .expect("the scope's caches are complete although one resource cannot be read")
        .unwrap();
    let cached: Vec<String> = resources
        .state()
        .iter()
        .map(|r| r.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(
        cached,
        ["contoso"],
        "the unreadable resource is never cached or reconciled"
    );
    // The status write publishes its conditions in the metrics the scope was given.
    let suspended_ready = r#"dialpad_teams_condition{namespace="telephony",name="contoso",type="Ready"} 1"#;
    common::wait_until(
        || metrics.encode().lines().any(|line| line == suspended_ready),
        || format!("missing {suspended_ready:?} in\n{}", metrics.encode()),
    )
    .await;
    stop.send(()).unwrap();
    drop(watches);
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the scope stops when asked")
        .unwrap();
}

#[tokio::test]
async fn a_readable_spec_that_breaks_the_crds_rules_is_stalled_with_the_field_and_changes_nothing() {
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let mut server = ApiServer::new(handle);
    let (secrets, _writer) = reflector::store();
    let ctx = Arc::new(Context::new(
        kube::Client::new(service, "telephony"),
        connect(),
        None,
        SecretCache::new(secrets),
        Arc::new(Metrics::new()),
    ));
    let mut document = resource("contoso", "uid-contoso");
    document["spec"]["removal"] = json!({"policy": "Unassign", "gracePeriod": "3 days"});
    let typed: TeamsTenantSync = serde_json::from_value(document.clone()).unwrap();
    let verifier = tokio::spawn(async move {
        let mut seen = Vec::new();
        for _ in 0..2 {
            let (request, send) = tokio::time::timeout(Duration::from_secs(10), server.next_request())
                .await
                .expect("a request in time")
                .unwrap();
            let path = request.uri().path().to_owned();
            let bytes = request.into_body().collect_bytes().await.unwrap();
            let body: Value = serde_json::from_slice(&bytes).unwrap();
            if path.ends_with("/status") {
                let mut echoed = document.clone();
                echoed["status"] = body["status"].clone();
                reply(send, StatusCode::OK, &echoed);
            } else {
                assert_eq!(path, EVENTS_PATH);
                reply(send, StatusCode::CREATED, &body);
            }
            seen.push((path, body));
        }
        let extra = tokio::time::timeout(Duration::from_millis(300), server.next_request()).await;
        if let Ok(Some((request, _))) = extra {
            panic!(
                "nothing else is read or written: {} {}",
                request.method(),
                request.uri()
            );
        }
        seen
    });
    let action = reconcile(Arc::new(typed), ctx).await.unwrap();
    let seen = verifier.await.unwrap();
    let status = &seen.iter().find(|(path, _)| path.ends_with("/status")).unwrap().1;
    let ready = ready_of(status);
    assert_eq!(ready["reason"], "InvalidSpec");
    let message = ready["message"].as_str().unwrap();
    assert!(
        message.contains("spec.removal.gracePeriod: ")
            && message.contains("3 days")
            && message.contains("kubectl explain teamstenantsync.spec.removal.gracePeriod"),
        "{message}"
    );
    let event = &seen.iter().find(|(path, _)| path == EVENTS_PATH).unwrap().1;
    assert_eq!(event["reason"], "InvalidSpec");
    assert!(
        format!("{action:?}").contains("requeue_after: Some(")
            && !format!("{action:?}").contains("requeue_after: Some(0ns)"),
        "waits for a change, no hot loop: {action:?}"
    );
}
