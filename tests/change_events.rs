//! Change events against the sandbox over real HTTP and a real WebSocket: a company's feed
//! (`events::feed`) sets up its endpoint and subscription, connects, and wakes its resources with
//! coalesced batches; faults (a dropped connection, expiring URLs and connections, frames with a
//! bad signature or for another company, a flood, a key without the scope) lose nothing and wake
//! nobody wrongly; the last resource leaving deletes what was made, and a restarted feed finds it
//! again.

mod common;

use std::sync::Arc;
use std::time::Duration;

use dialpad_teams_operator::api::Reason;
use dialpad_teams_operator::connect::AnySource;
use dialpad_teams_operator::dialpad::DialpadClient;
use dialpad_teams_operator::events::feed::{Feed, Subscriber, Subscribers, Wake};
use dialpad_teams_operator::events::store::MemoryFeedStore;
use dialpad_teams_operator::events::{FeedState, FeedTimings};
use dialpad_teams_sandbox::Sandbox;
use dialpad_teams_sandbox::fixture::OrgFixture;
use dialpad_teams_sandbox::generator::{self, Case, GeneratorSpec};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use common::pipeline::{connection, resource, sandbox_admin, secrets, start_immediate};

const PASSWORD: &str = "change-events-password";
const KEY: &str = "change-events-api-key";

/// A feed running against a sandbox, with one subscriber whose wakes are collected.
struct Running {
    sandbox: Sandbox,
    store: MemoryFeedStore,
    wakes: mpsc::UnboundedReceiver<Wake>,
    state: watch::Receiver<FeedState>,
    retire: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    http: reqwest::Client,
}

fn org(tweak: impl FnOnce(&mut OrgFixture)) -> OrgFixture {
    let spec = GeneratorSpec {
        users: 20,
        seed: 27,
        mix: vec![(Case::InSync, 1)],
    };
    let mut fixture = generator::generate(&spec, PASSWORD, "unused-client-secret", KEY).fixture;
    tweak(&mut fixture);
    fixture
}

fn client_of(sandbox: &Sandbox) -> DialpadClient {
    let resource = resource(sandbox);
    match connection(&resource, &secrets(generator::ADMIN_UPN, PASSWORD, KEY)).source {
        AnySource::Dialpad(source) => source.client,
        AnySource::Static(_) => unreachable!("the demo resource reads Dialpad"),
    }
}

fn quick() -> FeedTimings {
    FeedTimings {
        first_backoff: Duration::from_millis(100),
        longest_backoff: Duration::from_secs(1),
        ..FeedTimings::default()
    }
}

async fn run_feed(sandbox: Sandbox, store: MemoryFeedStore, timings: FeedTimings) -> Running {
    let (wake_tx, wakes) = mpsc::unbounded_channel();
    let subscribers = Subscribers::default();
    subscribers.lock().unwrap().insert(
        "telephony/contoso".into(),
        Subscriber {
            client: client_of(&sandbox),
            waker: Arc::new(move |wake: &Wake| {
                let _ = wake_tx.send(wake.clone());
            }),
        },
    );
    let (state_tx, state) = watch::channel(FeedState::Connecting("starting".into()));
    let (retire, retired) = watch::channel(false);
    let feed = Feed {
        name: "test feed".into(),
        store: store.clone(),
        subscribers,
        state: state_tx,
        tls: None,
        timings,
    };
    let task = tokio::spawn(feed.run(retired));
    Running {
        sandbox,
        store,
        wakes,
        state,
        retire,
        task,
        http: reqwest::Client::new(),
    }
}

async fn started(tweak: impl FnOnce(&mut OrgFixture)) -> Running {
    let sandbox = start_immediate(org(tweak), 1_000).await;
    let mut running = run_feed(sandbox, MemoryFeedStore::default(), quick()).await;
    running.until_connected().await;
    running
}

impl Running {
    async fn until_connected(&mut self) {
        let connected = tokio::time::timeout(
            Duration::from_secs(10),
            self.state.wait_for(|s| *s == FeedState::Connected),
        )
        .await
        .is_ok();
        assert!(connected, "not connected: {:?}", *self.state.borrow());
    }

    async fn admin(&self, path: &str, body: Value) -> Value {
        sandbox_admin(&self.sandbox, path, body).await
    }

    async fn introspect(&self) -> Value {
        self.http
            .get(format!("{}/_sandbox/websockets", self.sandbox.base_url()))
            .send()
            .await
            .expect("the sandbox answers")
            .json()
            .await
            .expect("JSON")
    }

    /// The wakes that arrive within `within`.
    async fn wakes_within(&mut self, within: Duration) -> Vec<Wake> {
        let mut wakes = Vec::new();
        let until = tokio::time::Instant::now() + within;
        while let Ok(Some(wake)) = tokio::time::timeout_at(until, self.wakes.recv()).await {
            wakes.push(wake);
        }
        wakes
    }

    /// The first batch of changes within `within`, skipping state wakes.
    async fn next_changes(
        &mut self,
        within: Duration,
    ) -> Option<dialpad_teams_operator::events::coalesce::ChangeBatch> {
        let until = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(until, self.wakes.recv()).await {
                Ok(Some(Wake::Changes(batch))) => return Some(batch),
                Ok(Some(_)) => continue,
                _ => return None,
            }
        }
    }

    async fn retire(self) -> (Sandbox, MemoryFeedStore) {
        let _ = self.retire.send(true);
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the feed stops")
            .expect("the feed does not panic");
        (self.sandbox, self.store)
    }
}

fn changes(wakes: &[Wake]) -> Vec<&dialpad_teams_operator::events::coalesce::ChangeBatch> {
    wakes
        .iter()
        .filter_map(|w| match w {
            Wake::Changes(batch) => Some(batch),
            _ => None,
        })
        .collect()
}

fn first_email(sandbox: &Sandbox) -> String {
    sandbox.with_world(|world| world.dialpad.users[0].emails[0].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_user_in_dialpad_wakes_the_resource_with_that_user_within_seconds() {
    let mut running = started(|_| {}).await;
    let added = running
        .admin(
            "/_sandbox/dialpad/changes",
            json!({"change": "addUser", "email": "new.hire@contoso.example", "number": "+14155550100"}),
        )
        .await;
    let user_id = added["userId"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| added["userId"].to_string());
    let batch = running
        .next_changes(Duration::from_secs(5))
        .await
        .expect("a batch of changes within five seconds");
    assert!(batch.users.contains(&user_id), "{batch:?} names {user_id}");
    assert!(!batch.everyone);
    running.retire().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_a_thousand_events_becomes_one_or_two_batches() {
    let mut running = started(|_| {}).await;
    running
        .admin(
            "/_sandbox/websockets/emit",
            json!({"payload": {"action": "updated_user", "target": {"type": "User", "id": 42}}, "count": 1000}),
        )
        .await;
    let wakes = running.wakes_within(Duration::from_secs(4)).await;
    let batches = changes(&wakes);
    let events: usize = batches.iter().map(|b| b.events).sum();
    assert_eq!(events, 1000, "every event is in a batch: {batches:?}");
    assert!(batches.len() <= 2, "coalesced: {} batches", batches.len());
    running.retire().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_with_a_bad_signature_or_for_another_company_wake_nobody() {
    let mut running = started(|_| {}).await;
    let payload = json!({"action": "added_user", "target": {"type": "User", "id": 7}});
    running
        .admin(
            "/_sandbox/websockets/emit",
            json!({"payload": payload, "secret": "not-the-secret"}),
        )
        .await;
    running
        .admin(
            "/_sandbox/websockets/emit",
            json!({"raw": "{\"target\":{\"type\":\"User\",\"id\":7}}"}),
        )
        .await;
    running
        .admin(
            "/_sandbox/websockets/emit",
            json!({"payload": payload, "company": "other"}),
        )
        .await;
    let wakes = running.wakes_within(Duration::from_secs(2)).await;
    assert!(changes(&wakes).is_empty(), "nothing woke: {wakes:?}");
    // The connection is still good: a real change gets through.
    let email = first_email(&running.sandbox);
    running
        .admin(
            "/_sandbox/dialpad/changes",
            json!({"change": "changeNumber", "email": email, "number": "+14155550101"}),
        )
        .await;
    assert!(running.next_changes(Duration::from_secs(5)).await.is_some());
    running.retire().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_reconnects_and_asks_for_a_full_sync() {
    let mut running = started(|_| {}).await;
    running.admin("/_sandbox/websockets/drop", json!({})).await;
    let wakes = running.wakes_within(Duration::from_secs(5)).await;
    assert!(
        wakes.contains(&Wake::Gap),
        "a gap asks for a full sync: {wakes:?}"
    );
    running.until_connected().await;
    let email = first_email(&running.sandbox);
    running
        .admin(
            "/_sandbox/dialpad/changes",
            json!({"change": "changeNumber", "email": email, "number": "+14155550102"}),
        )
        .await;
    assert!(
        running.next_changes(Duration::from_secs(5)).await.is_some(),
        "events flow again"
    );
    running.retire().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiring_urls_and_connections_are_renewed_without_a_gap() {
    let sandbox = start_immediate(
        org(|fixture| {
            fixture.behaviour.websocket_url_lifetime_seconds = 2;
            fixture.behaviour.websocket_connection_lifetime_seconds = 3;
        }),
        1_000,
    )
    .await;
    let timings = FeedTimings {
        refresh_after: Duration::from_millis(1_500),
        ..quick()
    };
    let mut running = run_feed(sandbox, MemoryFeedStore::default(), timings).await;
    running.until_connected().await;
    let email = first_email(&running.sandbox);
    let mut wakes = Vec::new();
    for round in 0..4 {
        // Past two URL lifetimes and a connection lifetime by the end.
        wakes.extend(running.wakes_within(Duration::from_millis(1_500)).await);
        running
            .admin(
                "/_sandbox/dialpad/changes",
                json!({"change": "changeNumber", "email": email, "number": format!("+1415555011{round}")}),
            )
            .await;
        let batch = running.next_changes(Duration::from_secs(5)).await;
        assert!(batch.is_some(), "round {round}: a change still arrives");
    }
    assert!(!wakes.contains(&Wake::Gap), "renewals leave no gap: {wakes:?}");
    running.retire().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_without_the_change_log_scope_is_reported_as_scope_missing() {
    let sandbox = start_immediate(org(|fixture| fixture.dialpad.api_key_scopes.clear()), 1_000).await;
    let mut running = run_feed(sandbox, MemoryFeedStore::default(), quick()).await;
    let unavailable = tokio::time::timeout(
        Duration::from_secs(10),
        running
            .state
            .wait_for(|s| matches!(s, FeedState::Unavailable { .. })),
    )
    .await
    .expect("reported within seconds")
    .expect("the feed runs")
    .clone();
    let FeedState::Unavailable { reason, message } = unavailable else {
        unreachable!()
    };
    assert_eq!(reason, Reason::ChangeLogScopeMissing);
    assert!(message.contains("change_log"), "{message}");
    assert!(!message.contains(KEY), "{message}");
    let wakes = running.wakes_within(Duration::from_millis(300)).await;
    assert!(changes(&wakes).is_empty());
    running.retire().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_feed_finds_its_endpoint_again_and_the_last_one_out_deletes_it() {
    let sandbox = start_immediate(org(|_| {}), 1_000).await;
    let store = MemoryFeedStore::default();
    let mut first = run_feed(sandbox, store.clone(), quick()).await;
    first.until_connected().await;
    let made = first.introspect().await;
    // The process dies: nothing is torn down.
    first.task.abort();
    let Running { sandbox, .. } = first;
    let mut second = run_feed(sandbox, store.clone(), quick()).await;
    second.until_connected().await;
    let again = second.introspect().await;
    let count = |v: &Value, key: &str| v[key].as_array().map_or(0, Vec::len);
    assert_eq!(count(&made, "websockets"), 1, "{made}");
    assert_eq!(count(&again, "websockets"), 1, "reused, not made again: {again}");
    assert_eq!(count(&again, "subscriptions"), 1, "{again}");
    assert_eq!(
        made["websockets"][0]["id"], again["websockets"][0]["id"],
        "the same endpoint"
    );
    let (sandbox, store) = second.retire().await;
    let left: Value = reqwest::get(format!("{}/_sandbox/websockets", sandbox.base_url()))
        .await
        .expect("the sandbox answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(count(&left, "websockets"), 0, "deleted in Dialpad: {left}");
    assert_eq!(count(&left, "subscriptions"), 0, "{left}");
    assert!(store.0.lock().unwrap().is_none(), "the record is forgotten");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_licence_removed_in_microsoft_365_wakes_the_resource_and_an_idle_tenant_costs_one_request_a_round()
{
    use dialpad_teams_operator::controller::teams_delta::TeamsDeltaWatches;
    use dialpad_teams_sandbox::Endpoint;

    let sandbox = start_immediate(org(|_| {}), 1_000).await;
    let resource = resource(&sandbox);
    let graph = connection(&resource, &secrets(generator::ADMIN_UPN, PASSWORD, KEY))
        .tenant
        .graph;
    let (wake_tx, mut wakes) = mpsc::unbounded_channel();
    let watches = TeamsDeltaWatches::default();
    let interval = Duration::from_millis(200);
    watches.ensure("telephony/contoso", "v1", graph, interval, move |changed| {
        let _ = wake_tx.send(changed.map(<[String]>::to_vec));
    });
    // Idle: one request a round, and no wake.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = sandbox.counters().requests_to(Endpoint::GraphUsersDelta, "GET");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = sandbox.counters().requests_to(Endpoint::GraphUsersDelta, "GET") - before;
    assert!(
        (8..=11).contains(&idle),
        "{idle} requests in 2 s at one per 200 ms"
    );
    assert!(wakes.try_recv().is_err(), "nothing changed, nobody woken");
    assert_eq!(watches.problem("telephony/contoso"), None);

    let upn = sandbox.with_world(|world| world.dialpad.users[3].emails[0].clone());
    let answer = reqwest::Client::new()
        .post(format!("{}/_sandbox/directory/changes", sandbox.base_url()))
        .json(&json!({"change": "removeLicence", "userPrincipalName": upn}))
        .send()
        .await
        .expect("the sandbox answers");
    assert!(
        answer.status().is_success(),
        "{}",
        answer.text().await.unwrap_or_default()
    );
    let teams_id = sandbox.with_world(|world| {
        let user = world
            .users
            .iter()
            .find(|u| u.user_principal_name.eq_ignore_ascii_case(&upn));
        user.map(|u| u.id.clone()).unwrap()
    });
    let woken = tokio::time::timeout(Duration::from_secs(3), wakes.recv()).await;
    assert_eq!(
        woken,
        Ok(Some(Some(vec![teams_id]))),
        "woken within a round or two, naming the user"
    );
    watches.stop("telephony/contoso");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_events_naming_strangers_writes_nothing_and_a_real_change_still_converges() {
    use dialpad_teams_operator::sync::model::Policy;
    use dialpad_teams_operator::sync::pipeline::{SyncMemory, sync_once};

    let mut running = started(|_| {}).await;
    let mut resource = resource(&running.sandbox);
    // The org's numbers were assigned before the operator: it takes them over, so that it may
    // replace one.
    resource.spec.removal.adopt_existing = true;
    let connection = connection(&resource, &secrets(generator::ADMIN_UPN, PASSWORD, KEY));
    let policy = Policy::from_spec(&resource.spec).unwrap();
    let mut memory = SyncMemory::default();
    let first = sync_once(&connection.source, &connection.tenant, &policy, &mut memory, None).await;
    assert_eq!(
        first.execution.assigned + first.execution.unassigned,
        0,
        "converged"
    );
    // A thousand events, signed correctly, about users no company has, and others' users.
    running
        .admin(
            "/_sandbox/websockets/emit",
            json!({"payload": {"action": "user_deleted", "target": {"type": "User", "id": 999_999_999}}, "count": 1000}),
        )
        .await;
    let email = first_email(&running.sandbox);
    running
        .admin(
            "/_sandbox/dialpad/changes",
            json!({"change": "changeNumber", "email": email, "number": "+14155550150"}),
        )
        .await;
    // Every batch is a sync, as the controller runs it: the stranger events change nothing, the
    // real change is applied once.
    let writes_before = running.sandbox.counters().write_requests();
    let mut syncs = 0;
    while let Some(batch) = running.next_changes(Duration::from_secs(3)).await {
        assert!(batch.events > 0);
        sync_once(&connection.source, &connection.tenant, &policy, &mut memory, None).await;
        syncs += 1;
    }
    assert!(syncs >= 1, "the burst was handed out");
    let writes = running.sandbox.counters().write_requests() - writes_before;
    assert_eq!(
        writes, 1,
        "only the real change was written (the new number replaces the old one)"
    );
    let again = sync_once(&connection.source, &connection.tenant, &policy, &mut memory, None).await;
    assert_eq!(
        again.execution.assigned + again.execution.unassigned,
        0,
        "converged"
    );
    let summary = again.status.summary.unwrap();
    assert_eq!((summary.in_sync, summary.failed), (summary.desired, 0));
    let holder = running.sandbox.with_world(|world| {
        world
            .numbers
            .get("+14155550150")
            .and_then(|n| n.assignment_target_id.clone())
            .and_then(|id| world.user(&id).map(|u| u.user_principal_name.clone()))
    });
    assert_eq!(holder.map(|u| u.to_lowercase()), Some(email.to_lowercase()));
    running.retire().await;
}
