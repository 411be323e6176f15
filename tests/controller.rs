//! The controller against kube's tower-test mocked apiserver, asserting the exact requests: the
//! finalizer, a missing Secret reported as SecretInvalid, the status written by server-side apply
//! once per completed sync, Events with counts (none when nothing changed), and `run_until` listing
//! and watching while it runs. Upstreams are the sandbox; the scope's watch lists the Secrets, and
//! the mocked apiserver serves their GETs.

use std::sync::Arc;
use std::time::Duration;

use dialpad_teams_operator::api::TeamsTenantSync;
use dialpad_teams_operator::commands::examples::DEMO_RESOURCE;
use dialpad_teams_operator::commands::parse_resource;
use dialpad_teams_operator::connect::ConnectOptions;
use dialpad_teams_operator::controller::Context;
use dialpad_teams_operator::controller::context::{FINALIZER, SYNC_NOW_ANNOTATION};
use dialpad_teams_operator::controller::reconcile::reconcile;
use dialpad_teams_operator::controller::secret_cache::{ListedSecret, SecretCache};
use dialpad_teams_operator::telemetry::Metrics;
use dialpad_teams_operator::upstream::allowed::AllowedEndpoints;
use dialpad_teams_operator::upstream::{NotRecorded, RetryPolicy, http_client};
use dialpad_teams_sandbox::generator::{self, Case, GeneratorSpec};
use dialpad_teams_sandbox::{Sandbox, SandboxOptions};
use http::{Method, Request, Response, StatusCode};
use kube::client::Body;
use kube::runtime::controller::Action;
use kube::runtime::{reflector, watcher};
use serde_json::{Value, json};
use tower_test::mock::SendResponse;

mod common;
use common::apiserver::ApiServer;
use common::pipeline::start_immediate;

const PASSWORD: &str = "controller-test-password";
const KEY: &str = "controller-test-api-key";

/// A controller context whose Secret watch has listed `secrets`, which the apiserver serves,
/// allowing credentials to go to the unreachable `http://127.0.0.1:9` of the tests that make no
/// upstream call.
fn context(secrets: &[Value]) -> (Arc<Context>, ApiServer) {
    context_allowing(secrets, "http://127.0.0.1:9")
}

/// [`context`], allowing credentials to go to `sandbox_base` (as `--allowed-endpoint` does).
fn context_allowing(secrets: &[Value], sandbox_base: &str) -> (Arc<Context>, ApiServer) {
    let (store, mut writer) = reflector::store::<ListedSecret>();
    writer.apply_watcher_event(&watcher::Event::Init);
    for secret in secrets {
        let listed: ListedSecret = serde_json::from_value(secret.clone()).unwrap();
        writer.apply_watcher_event(&watcher::Event::InitApply(listed));
    }
    writer.apply_watcher_event(&watcher::Event::InitDone);
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let mut server = ApiServer::new(handle);
    for secret in secrets {
        let path = format!(
            "/api/v1/namespaces/telephony/secrets/{}",
            secret["metadata"]["name"].as_str().unwrap()
        );
        server.objects.insert(path, secret.clone());
    }
    let client = kube::Client::new(service, "telephony");
    let connect = ConnectOptions {
        http: http_client(&[]).unwrap(),
        retry: RetryPolicy {
            base: Duration::from_millis(5),
            cap: Duration::from_millis(20),
            ..Default::default()
        },
        graph_requests_per_second: None,
        dialpad_requests_per_second: None,
        allowed_endpoints: AllowedEndpoints::parse(&[sandbox_base]).unwrap(),
        upstream_calls: Arc::new(NotRecorded),
        policy_types: Default::default(),
    };
    let metrics = Arc::new(Metrics::new());
    (
        Arc::new(Context::new(
            client,
            connect,
            None,
            SecretCache::new(store),
            metrics,
        )),
        server,
    )
}

/// The two Secrets of the demo resource, both complete.
fn demo_secrets() -> Vec<Value> {
    vec![
        secret("dialpad", &[("apiKey", KEY)]),
        secret(
            "teams-admin",
            &[("username", generator::ADMIN_UPN), ("password", PASSWORD)],
        ),
    ]
}

fn resource(base: &str, finalizer: bool) -> TeamsTenantSync {
    let mut resource = parse_resource(&DEMO_RESOURCE.replace("http://127.0.0.1:8080", base), "demo").unwrap();
    resource.metadata.uid = Some("5a7c0c2e-0000-4000-a000-000000000001".into());
    resource.metadata.generation = Some(1);
    resource.metadata.resource_version = Some("100".into());
    if finalizer {
        resource.metadata.finalizers = Some(vec![FINALIZER.into()]);
    }
    resource
}

/// A generated org of `users` (`seed`, `mix`) whose Teams decides and activates changes at once
/// (see [`start_immediate`]), at the sandbox's default Graph rate.
async fn immediate_sandbox(users: usize, seed: u64, mix: Vec<(Case, u32)>) -> Sandbox {
    let org = generator::generate(&GeneratorSpec { users, seed, mix }, PASSWORD, "secret", KEY);
    let graph_rate = org.fixture.behaviour.graph_requests_per_second;
    start_immediate(org.fixture, graph_rate).await
}

async fn next(server: &mut ApiServer) -> (Request<Body>, SendResponse<Response<Body>>) {
    tokio::time::timeout(Duration::from_secs(10), server.next_request())
        .await
        .expect("the controller sent a request in time")
        .expect("the client is alive")
}

async fn body_of(request: Request<Body>) -> Value {
    let bytes = request.into_body().collect_bytes().await.unwrap();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

fn respond(send: SendResponse<Response<Body>>, status: StatusCode, body: Value) {
    send.send_response(
        Response::builder()
            .status(status)
            .body(Body::from(serde_json::to_vec(&body).unwrap()))
            .unwrap(),
    );
}

fn secret(name: &str, data: &[(&str, &str)]) -> Value {
    use base64::Engine;
    let data: serde_json::Map<String, Value> = data
        .iter()
        .map(|(k, v)| {
            (
                (*k).to_owned(),
                Value::from(base64::engine::general_purpose::STANDARD.encode(v)),
            )
        })
        .collect();
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "telephony", "resourceVersion": "7"}, "data": data})
}

/// Expects the status SSA patch; returns its body.
async fn expect_status_patch(server: &mut ApiServer, resource: &TeamsTenantSync) -> Value {
    let (request, send) = next(server).await;
    assert_eq!(request.method(), Method::PATCH);
    assert_eq!(
        request.uri().path(),
        "/apis/teamssync.io/v1alpha1/namespaces/telephony/teamstenantsyncs/contoso/status"
    );
    let query = request.uri().query().unwrap_or_default().to_owned();
    assert!(
        query.contains("fieldManager=dialpad-teams-operator") && query.contains("force=true"),
        "{query}"
    );
    assert_eq!(request.headers()["content-type"], "application/apply-patch+yaml");
    let body = body_of(request).await;
    assert_eq!(body["apiVersion"], "teamssync.io/v1alpha1");
    assert_eq!(body["kind"], "TeamsTenantSync");
    let mut echoed = serde_json::to_value(resource).unwrap();
    echoed["status"] = body["status"].clone();
    respond(send, StatusCode::OK, echoed);
    body
}

/// Expects the status a new resource gets as its first sync starts: Ready False and Reconciling
/// True (`Syncing`), its generation observed, so that kstatus does not take it for done.
async fn expect_first_sync_status(server: &mut ApiServer, resource: &TeamsTenantSync) {
    let body = expect_status_patch(server, resource).await;
    let conditions = body["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let find = |type_: &str| conditions.iter().find(|c| c["type"] == type_).cloned().unwrap();
    assert_eq!(
        (&find("Ready")["status"], &find("Ready")["reason"]),
        (&json!("False"), &json!("Syncing"))
    );
    assert_eq!(find("Reconciling")["status"], "True");
    assert_eq!(body["status"]["observedGeneration"], 1);
}

/// Expects an Event; returns its reason.
async fn expect_event(server: &mut ApiServer) -> (String, String) {
    let (request, send) = next(server).await;
    assert_eq!(request.method(), Method::POST);
    assert_eq!(
        request.uri().path(),
        "/apis/events.k8s.io/v1/namespaces/telephony/events"
    );
    let body = body_of(request).await;
    assert_eq!(body["regarding"]["name"], "contoso");
    assert_eq!(body["reportingController"], "dialpad-teams-operator");
    let reason = body["reason"].as_str().unwrap().to_owned();
    let note = body["note"].as_str().unwrap_or_default().to_owned();
    respond(send, StatusCode::CREATED, body);
    (reason, note)
}

async fn expect_silence(server: &mut ApiServer) {
    let extra = tokio::time::timeout(Duration::from_millis(300), server.next_request()).await;
    if let Ok(Some((request, _))) = extra {
        panic!("unexpected request {} {}", request.method(), request.uri());
    }
}

#[tokio::test]
async fn a_new_resource_gets_the_finalizer_before_anything_else() {
    let (ctx, mut server) = context(&demo_secrets());
    let fresh = resource("http://127.0.0.1:9", false);
    let with_finalizer = resource("http://127.0.0.1:9", true);
    let verifier = tokio::spawn(async move {
        let (request, send) = next(&mut server).await;
        assert_eq!(request.method(), Method::PATCH);
        assert_eq!(
            request.uri().path(),
            "/apis/teamssync.io/v1alpha1/namespaces/telephony/teamstenantsyncs/contoso"
        );
        let patch = body_of(request).await;
        let added = patch
            .as_array()
            .unwrap()
            .iter()
            .any(|op| op["op"] == "add" && op["value"] == json!([FINALIZER]));
        assert!(added, "{patch}");
        let mut object = serde_json::to_value(with_finalizer).unwrap();
        object["metadata"]["resourceVersion"] = "101".into();
        respond(send, StatusCode::OK, object);
        expect_silence(&mut server).await;
    });
    reconcile(Arc::new(fresh), ctx).await.unwrap();
    verifier.await.unwrap();
}

#[tokio::test]
async fn a_missing_secret_is_reported_as_secret_invalid_and_nothing_else_is_touched() {
    let (ctx, mut server) = context(&[secret("dialpad", &[("apiKey", KEY)])]);
    let resource = resource("http://127.0.0.1:9", true);
    let expected = resource.clone();
    let verifier = tokio::spawn(async move {
        let body = expect_status_patch(&mut server, &expected).await;
        let connected = body["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "AdminConnected")
            .unwrap()
            .clone();
        assert_eq!(connected["reason"], "SecretInvalid");
        let message = connected["message"].as_str().unwrap();
        assert!(
            message.contains("Secret 'teams-admin'") && message.contains("telephony"),
            "{message}"
        );
        assert!(
            message.contains("'username'") && message.contains("'password'"),
            "every missing key is named: {message}"
        );
        let (reason, _) = expect_event(&mut server).await;
        assert_eq!(reason, "SecretInvalid");
        expect_silence(&mut server).await;
    });
    let action = reconcile(Arc::new(resource), ctx).await.unwrap();
    verifier.await.unwrap();
    assert!(
        format!("{action:?}").contains("requeue_after: Some"),
        "{action:?}"
    );
}

#[tokio::test]
async fn a_sync_writes_the_status_by_server_side_apply_and_publishes_counts_then_stays_quiet() {
    let sandbox = immediate_sandbox(6, 1, vec![(Case::NeedsAssignment, 1), (Case::InSync, 1)]).await;
    let (ctx, mut server) = context_allowing(&demo_secrets(), sandbox.base_url());
    let first = resource(sandbox.base_url(), true);
    let expected = first.clone();
    let verifier = tokio::spawn(async move {
        expect_first_sync_status(&mut server, &expected).await;
        let body = expect_status_patch(&mut server, &expected).await;
        assert_eq!(body["status"]["summary"]["desired"], 6);
        assert_eq!(body["status"]["observedGeneration"], 1);
        let (reason, note) = expect_event(&mut server).await;
        assert_eq!(reason, "NumbersAssigned");
        // The count and the users, in the order Teams' verdicts came.
        assert!(note.starts_with("Assigned 3 number(s) in Teams: "), "{note}");
        for user in [
            "user000000@contoso.com (+14152000000)",
            "user000002@contoso.com (+14152000002)",
            "user000004@contoso.com (+14152000004)",
        ] {
            assert!(note.contains(user), "{note}");
        }
        expect_silence(&mut server).await;
        (server, body)
    });
    let action = reconcile(Arc::new(first.clone()), ctx.clone()).await.unwrap();
    let (mut server, body) = verifier.await.unwrap();
    let records = server.config_maps();
    let record = &records["tts-owned-5a7c0c2e-0000-4000-a000-000000000001-0"];
    let owned = record["data"]["numbers"].as_str().unwrap();
    assert_eq!(
        owned.lines().count(),
        3,
        "the three numbers it assigned are recorded as owned, the in-sync ones are not: {owned}"
    );
    assert_eq!(body["status"]["summary"]["owned"], 3);
    assert_eq!(
        server.objects["/apis/coordination.k8s.io/v1/namespaces/default/leases/tts-tenant-9b5e2f1c-4d3a-4b8e-9f61-2c7d8e0a1b34"]
            ["spec"]["holderIdentity"],
        "telephony/contoso",
        "the resource claimed its tenant"
    );
    assert_eq!(
        action,
        Action::requeue(Duration::from_secs(30)),
        "3 assignments are activating: the next look comes in 30 s, not after the 15 min interval"
    );
    let text = body.to_string();
    assert!(
        !text.contains(PASSWORD) && !text.contains(KEY),
        "a secret reached the status"
    );

    // The second sync (forced by the annotation) activates the assignments: the status changes.
    let mut second = first.clone();
    second.status = serde_json::from_value(body["status"].clone()).unwrap();
    second.metadata.annotations = Some([(SYNC_NOW_ANNOTATION.to_owned(), "1".to_owned())].into());
    let expected = second.clone();
    let verifier = tokio::spawn(async move {
        let body = expect_status_patch(&mut server, &expected).await;
        assert_eq!(body["status"]["summary"]["inSync"], 6);
        assert_eq!(
            body["status"]["lastHandledSyncNow"], "1",
            "the status acknowledges the sync that was asked for"
        );
        expect_silence(&mut server).await;
        (server, body)
    });
    reconcile(Arc::new(second.clone()), ctx.clone()).await.unwrap();
    let (mut server, body) = verifier.await.unwrap();

    // A third sync finds nothing new: one status write that moves only lastSyncTime and
    // acknowledges the request, and no Event.
    let mut third = second;
    third.status = serde_json::from_value(body["status"].clone()).unwrap();
    third.metadata.annotations = Some([(SYNC_NOW_ANNOTATION.to_owned(), "2".to_owned())].into());
    let expected = third.clone();
    let before = body;
    let verifier = tokio::spawn(async move {
        let body = expect_status_patch(&mut server, &expected).await;
        expect_silence(&mut server).await;
        body
    });
    reconcile(Arc::new(third), ctx).await.unwrap();
    let after = verifier.await.unwrap();
    assert_eq!(after["status"]["lastHandledSyncNow"], "2");
    assert!(
        after["status"]["lastSyncTime"].is_string(),
        "every completed sync writes lastSyncTime"
    );
    let without_times = |body: &Value| {
        let mut status = body["status"].clone();
        status["lastSyncTime"] = Value::Null;
        status["lastHandledSyncNow"] = Value::Null;
        status
    };
    assert_eq!(without_times(&after), without_times(&before));
    assert_eq!(
        sandbox.counters().write_requests(),
        3,
        "three assignments in all, none repeated"
    );
    assert_eq!(
        sandbox
            .counters()
            .requests_to(dialpad_teams_sandbox::Endpoint::EntraToken, "POST"),
        1,
        "one sign-in for three syncs: the token is kept between syncs until close to expiry"
    );
}

#[tokio::test]
async fn a_status_event_alone_does_not_cause_another_sync() {
    let sandbox = immediate_sandbox(2, 2, vec![(Case::InSync, 1)]).await;
    let (ctx, mut server) = context_allowing(&demo_secrets(), sandbox.base_url());
    let resource = resource(sandbox.base_url(), true);
    let expected = resource.clone();
    let verifier = tokio::spawn(async move {
        expect_first_sync_status(&mut server, &expected).await;
        let body = expect_status_patch(&mut server, &expected).await;
        (server, body)
    });
    reconcile(Arc::new(resource.clone()), ctx.clone()).await.unwrap();
    let (mut server, body) = verifier.await.unwrap();
    let mut after = resource;
    after.status = serde_json::from_value(body["status"].clone()).unwrap();
    let verifier = tokio::spawn(async move {
        expect_silence(&mut server).await;
    });
    let before = sandbox
        .counters()
        .requests_to(dialpad_teams_sandbox::Endpoint::DialpadUsers, "GET");
    let action = reconcile(Arc::new(after), ctx).await.unwrap();
    verifier.await.unwrap();
    assert_eq!(
        sandbox
            .counters()
            .requests_to(dialpad_teams_sandbox::Endpoint::DialpadUsers, "GET"),
        before
    );
    assert!(
        format!("{action:?}").contains("requeue_after: Some"),
        "{action:?}"
    );
}

/// After a restart, the series that come from a resource's status (failed users, last sync time,
/// interval, suspended) are published from the status the apiserver holds as soon as the resource
/// is seen, not only once the new process's first sync has written its own: alerts on them
/// neither see the series vanish nor wait out a long sync.
#[tokio::test]
async fn a_restarted_operator_publishes_the_stored_status_as_metrics_before_its_first_sync_writes() {
    let sandbox = immediate_sandbox(3, 3, vec![(Case::InSync, 2), (Case::TeamsUserNotFound, 1)]).await;
    let (first, mut server) = context_allowing(&demo_secrets(), sandbox.base_url());
    let resource = resource(sandbox.base_url(), true);
    let expected = resource.clone();
    let verifier = tokio::spawn(async move {
        expect_first_sync_status(&mut server, &expected).await;
        expect_status_patch(&mut server, &expected).await
    });
    reconcile(Arc::new(resource.clone()), first).await.unwrap();
    let body = verifier.await.unwrap();
    let mut stored = resource;
    stored.status = serde_json::from_value(body["status"].clone()).unwrap();
    let stored_last_sync = stored
        .status
        .as_ref()
        .and_then(|s| s.last_sync_time.clone())
        .unwrap();

    // A new process syncs a resource it has just seen (it does not know when the last sync ran),
    // and a sync can take minutes; the series must not wait for it. Metrics are read when the
    // restarted sync sends its first request to the apiserver, before its own status is written.
    let (restarted, mut server) = context_allowing(&demo_secrets(), sandbox.base_url());
    assert!(
        !restarted.metrics.encode().contains("dialpad_teams_failed_users{"),
        "a new process starts without the resource's series"
    );
    let metrics = restarted.metrics.clone();
    let echoed = stored.clone();
    let verifier = tokio::spawn(async move {
        let (request, send) = next(&mut server).await;
        let encoded = metrics.encode();
        assert!(
            request.uri().path().ends_with("/contoso/status"),
            "{}",
            request.uri()
        );
        let mut answer = serde_json::to_value(&echoed).unwrap();
        answer["status"] = body_of(request).await["status"].clone();
        respond(send, StatusCode::OK, answer.clone());
        while let Ok(Some((request, send))) =
            tokio::time::timeout(Duration::from_millis(300), server.next_request()).await
        {
            let body = body_of(request).await;
            respond(
                send,
                StatusCode::OK,
                if body.is_null() { answer.clone() } else { body },
            );
        }
        encoded
    });
    reconcile(Arc::new(stored), restarted).await.unwrap();
    let encoded = verifier.await.unwrap();
    let series = |family: &str| {
        encoded
            .lines()
            .find(|line| line.starts_with(&format!("{family}{{")) && line.contains(r#"name="contoso""#))
            .unwrap_or_else(|| panic!("no {family} series for contoso in:\n{encoded}"))
            .to_owned()
    };
    assert!(series("dialpad_teams_failed_users").ends_with(" 1"), "{encoded}");
    assert!(series("dialpad_teams_suspended").ends_with(" 0"), "{encoded}");
    assert!(
        series("dialpad_teams_sync_interval_seconds").ends_with(" 900"),
        "{encoded}"
    );
    let last_sync: f64 = series("dialpad_teams_last_sync_timestamp_seconds")
        .rsplit(' ')
        .next()
        .and_then(|value| value.parse().ok())
        .unwrap();
    assert_eq!(last_sync, stored_last_sync.0.as_second() as f64, "{encoded}");
}

#[tokio::test]
async fn a_suspended_resource_reads_nothing_and_says_so_in_ready() {
    let (ctx, mut server) = context(&demo_secrets());
    let mut suspended = resource("http://127.0.0.1:9", true);
    suspended.spec.suspend = true;
    let expected = suspended.clone();
    let verifier = tokio::spawn(async move {
        let body = expect_status_patch(&mut server, &expected).await;
        let ready = body["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Ready")
            .unwrap()
            .clone();
        assert_eq!(
            (ready["status"].as_str(), ready["reason"].as_str()),
            (Some("True"), Some("Suspended")),
            "pausing is a choice, not a failure"
        );
        expect_silence(&mut server).await;
    });
    let action = reconcile(Arc::new(suspended), ctx).await.unwrap();
    verifier.await.unwrap();
    assert!(
        format!("{action:?}").contains("requeue_after: Some"),
        "{action:?}"
    );
}

#[tokio::test]
async fn suspending_changes_only_ready_and_keeps_what_the_last_sync_found() {
    let (ctx, mut server) = context(&demo_secrets());
    let mut suspended = resource("http://127.0.0.1:9", true);
    suspended.spec.suspend = true;
    suspended.metadata.generation = Some(2);
    let condition = |type_: &str, status: &str, reason: &str| {
        json!({"type": type_, "status": status, "reason": reason, "message": "from the last sync",
               "lastTransitionTime": "2026-11-30T10:00:00Z", "observedGeneration": 1})
    };
    suspended.status = Some(
        serde_json::from_value(json!({
            "observedGeneration": 1,
            "lastSyncTime": "2026-11-30T10:00:00Z",
            "lastHandledSyncNow": "7",
            "conditions": [
                condition("Ready", "True", "AllUsersInSync"),
                condition("AdminConnected", "True", "SignedIn"),
                condition("AdminAuthorized", "True", "Authorized"),
                condition("SourceConnected", "True", "SourceRead"),
                condition("UsersSynced", "True", "AllUsersInSync"),
            ],
            "summary": {"desired": 3, "inSync": 3, "pending": 0, "failed": 0, "byReason": {"InSync": 3}},
        }))
        .unwrap(),
    );
    let before = serde_json::to_value(&suspended.status).unwrap();
    let expected = suspended.clone();
    let verifier = tokio::spawn(async move {
        let body = expect_status_patch(&mut server, &expected).await;
        expect_silence(&mut server).await;
        body
    });
    reconcile(Arc::new(suspended), ctx).await.unwrap();
    let after = verifier.await.unwrap()["status"].clone();
    let conditions = after["conditions"].as_array().unwrap();
    let ready = conditions.iter().find(|c| c["type"] == "Ready").unwrap();
    assert_eq!(
        (&ready["status"], &ready["reason"], &ready["observedGeneration"]),
        (&json!("True"), &json!("Suspended"), &json!(2))
    );
    for type_ in [
        "AdminConnected",
        "AdminAuthorized",
        "SourceConnected",
        "UsersSynced",
    ] {
        let now = conditions.iter().find(|c| c["type"] == type_).unwrap();
        let then = before["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == type_)
            .unwrap();
        assert_eq!(
            now, then,
            "{type_} is left as the last sync found it: nothing was tried"
        );
    }
    for field in ["lastSyncTime", "lastHandledSyncNow", "summary"] {
        assert_eq!(after[field], before[field], "{field} is the last sync's");
    }
    assert_eq!(after["observedGeneration"], 2);
}

#[tokio::test]
async fn a_missing_dialpad_secret_is_reported_on_source_connected_and_sign_in_is_not_judged() {
    let admin = secret(
        "teams-admin",
        &[("username", generator::ADMIN_UPN), ("password", PASSWORD)],
    );
    let (ctx, mut server) = context(&[admin]);
    let resource = resource("http://127.0.0.1:9", true);
    let expected = resource.clone();
    let verifier = tokio::spawn(async move {
        let body = expect_status_patch(&mut server, &expected).await;
        let (reason, note) = expect_event(&mut server).await;
        expect_silence(&mut server).await;
        (body, reason, note)
    });
    reconcile(Arc::new(resource), ctx).await.unwrap();
    let (body, reason, note) = verifier.await.unwrap();
    let conditions = body["status"]["conditions"].as_array().unwrap().clone();
    let find = |type_: &str| conditions.iter().find(|c| c["type"] == type_).cloned();
    let source = find("SourceConnected").expect("SourceConnected is set");
    assert_eq!(
        (&source["status"], &source["reason"]),
        (&json!("False"), &json!("SecretInvalid"))
    );
    assert!(
        source["message"].as_str().unwrap().contains("Secret 'dialpad'"),
        "{source}"
    );
    assert!(
        find("AdminConnected").is_none() && find("AdminAuthorized").is_none(),
        "sign-in was not tried, so nothing is said about it: {conditions:?}"
    );
    assert_eq!(find("Ready").unwrap()["reason"], "SecretInvalid");
    assert_eq!(reason, "SecretInvalid");
    assert!(note.starts_with("SourceConnected: "), "{note}");
}

#[tokio::test]
async fn a_long_sync_writes_its_progress_before_its_result() {
    let mut org = generator::generate(
        &GeneratorSpec {
            users: 4,
            seed: 3,
            mix: vec![(Case::NeedsAssignment, 2), (Case::InSync, 2)],
        },
        PASSWORD,
        "secret",
        KEY,
    );
    // Teams takes a while to finish each assignment, so the sync outlasts a few progress periods.
    org.fixture.behaviour.operation_delay_ms = 1_200;
    let sandbox = Sandbox::start(&org.fixture, SandboxOptions::default())
        .await
        .unwrap();
    let (ctx, mut server) = context_allowing(&demo_secrets(), sandbox.base_url());
    let mut ctx = Arc::into_inner(ctx).expect("the only reference");
    ctx.progress_every = Duration::from_millis(250);
    let ctx = Arc::new(ctx);
    let resource = resource(sandbox.base_url(), true);
    let expected = resource.clone();
    let verifier = tokio::spawn(async move {
        expect_first_sync_status(&mut server, &expected).await;
        let mut progress = Vec::new();
        loop {
            let body = expect_status_patch(&mut server, &expected).await;
            let conditions = body["status"]["conditions"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let reconciling = conditions.iter().find(|c| c["type"] == "Reconciling").cloned();
            if reconciling.as_ref().is_some_and(|c| c["reason"] == "Syncing") {
                let ready = conditions.iter().find(|c| c["type"] == "Ready").cloned().unwrap();
                progress.push((reconciling.unwrap(), ready));
                continue;
            }
            let (reason, _) = expect_event(&mut server).await;
            assert_eq!(reason, "NumbersAssigned");
            expect_silence(&mut server).await;
            return (progress, body);
        }
    });
    reconcile(Arc::new(resource), ctx).await.unwrap();
    let (progress, result) = verifier.await.unwrap();
    assert!(
        !progress.is_empty(),
        "a sync longer than the period reports its progress"
    );
    for (reconciling, ready) in &progress {
        assert_eq!(reconciling["status"], "True", "{reconciling}");
        assert!(
            reconciling["message"]
                .as_str()
                .unwrap()
                .starts_with("sync running for "),
            "{reconciling}"
        );
        assert_eq!(
            (&ready["status"], &ready["reason"]),
            (&json!("False"), &json!("Syncing")),
            "a new resource is not Ready while its first sync runs"
        );
    }
    assert_eq!(result["status"]["summary"]["desired"], 4);
}
