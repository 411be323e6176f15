//! How fast a change in Dialpad reaches Teams with change events, and what an idle tenant costs.
//!
//! `cargo bench --bench change_events` runs, per org size, against the rate-limited sandbox
//! (Graph 200 requests/s, Dialpad 20/s at `--rate-scale 1`): one full sync of an org whose users
//! are in sync, then the operator's change-event feed (`events::feed`) over the sandbox's real
//! WebSocket, and a worker that syncs whenever the feed wakes it, as the controller does (a
//! targeted re-sync of the users a batch names, a full sync when it cannot be one). It then
//! changes `--changes` users' numbers in Dialpad (one every `--gap-ms`, as an admin would) and
//! times each from the change to Teams holding the new number. It prints:
//! - the latency's p50, p95 and max, the syncs the changes caused, and how many full reads of
//!   Dialpad's users they made (listing requests);
//! - upstream requests per change (Dialpad and Graph, everything the feed and syncs sent);
//! - an idle tenant's requests per hour: with events (a full sync every `fullSyncInterval`, the
//!   hourly WebSocket renewal, `users/delta` every minute) against without them (a full sync
//!   every `syncInterval` of 15 minutes), from the requests one full sync measured here;
//! - without events, a change waits for the next interval: p50 7.5 min, p95 14.25 min plus a
//!   sync (computed, not run).
//!
//! Options (after `--`): `--users 1000,10000` (default), `--changes 200`, `--gap-ms 500`,
//! `--rate-scale F` (multiplies both rates), `--full-sync-interval-hours H` (default 24, as
//! `fullSyncInterval`; the idle cost is also printed for a week, 168).
//! Figures are printed, never asserted.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dialpad_teams_operator::commands::examples::DEMO_RESOURCE;
use dialpad_teams_operator::commands::parse_resource;
use dialpad_teams_operator::connect::{AnySource, Connection};
use dialpad_teams_operator::events::feed::{Feed, Subscriber, Subscribers, Wake};
use dialpad_teams_operator::events::store::MemoryFeedStore;
use dialpad_teams_operator::events::{FeedState, FeedTimings, Wanted};
use dialpad_teams_operator::sync::model::Policy;
use dialpad_teams_operator::sync::pipeline::{SyncMemory, sync_once};
use dialpad_teams_operator::sync::ports::MemoryOwnership;
use dialpad_teams_operator::sync::targeted::sync_targets;
use dialpad_teams_operator::sync::targets::Targets;
use dialpad_teams_sandbox::generator::{self, Case, GeneratorSpec};
use dialpad_teams_sandbox::{Counters, Endpoint, Sandbox, SandboxOptions};
use tokio::sync::{mpsc, watch};

#[path = "shared/connection.rs"]
mod connection;
use connection::{KEY, PASSWORD, connect_to};

struct Options {
    users: Vec<usize>,
    changes: usize,
    gap: Duration,
    rate_scale: f64,
    full_sync_hours: f64,
}

fn options() -> Options {
    let mut options = Options {
        users: vec![1_000, 10_000],
        changes: 200,
        gap: Duration::from_millis(500),
        rate_scale: 1.0,
        full_sync_hours: 24.0,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .cloned()
                .unwrap_or_else(|| panic!("{arg} needs a value"))
        };
        match arg.as_str() {
            "--users" => {
                options.users = value()
                    .split(',')
                    .map(|n| n.trim().parse().expect("--users takes numbers"))
                    .collect()
            }
            "--changes" => options.changes = value().parse().expect("--changes N"),
            "--gap-ms" => options.gap = Duration::from_millis(value().parse().expect("--gap-ms N")),
            "--rate-scale" => options.rate_scale = value().parse().expect("--rate-scale F"),
            "--full-sync-interval-hours" => {
                options.full_sync_hours = value().parse().expect("--full-sync-interval-hours H")
            }
            "--bench" => {}
            other => panic!("unknown option {other}"),
        }
    }
    options
}

/// Requests to each upstream between two snapshots: `(dialpad, graph)`.
fn requests(before: &Counters, after: &Counters) -> (u64, u64) {
    let mut totals = (0, 0);
    for (key, count) in &after.requests {
        let delta = count - before.requests.get(key).copied().unwrap_or(0);
        if key.starts_with("dialpad.") {
            totals.0 += delta;
        } else if key.starts_with("graph.") {
            totals.1 += delta;
        }
    }
    totals
}

fn percentile(sorted: &[Duration], share: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let at = ((sorted.len() as f64 * share).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[at]
}

fn main() {
    let options = options();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    println!(
        "| users | changes | p50 | p95 | max | syncs | full Dialpad reads | Dialpad req/change | Graph req/change | one full sync (Dialpad + Graph req) | idle req/hour without events | with events ({}h) | share | with events (168h) | share |",
        options.full_sync_hours
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for &users in &options.users {
        runtime.block_on(run(users, &options));
    }
}

async fn run(users: usize, options: &Options) {
    let spec = GeneratorSpec {
        users,
        seed: 27,
        mix: vec![(Case::InSync, 1)],
    };
    let mut org = generator::generate(&spec, PASSWORD, "unused-client-secret", KEY);
    let (graph_rate, dialpad_rate) = (200.0 * options.rate_scale, 20.0 * options.rate_scale);
    let behaviour = &mut org.fixture.behaviour;
    behaviour.graph_requests_per_second = graph_rate.round() as u32;
    behaviour.dialpad_requests_per_second = dialpad_rate.round() as u32;
    behaviour.operation_delay_ms = (100.0 / options.rate_scale).round() as u64;
    behaviour.activation_delay_ms = 0;
    let sandbox = Sandbox::start(&org.fixture, SandboxOptions::default())
        .await
        .expect("the sandbox starts");
    let mut resource = parse_resource(DEMO_RESOURCE, "demo").expect("the demo resource parses");
    // The org's numbers were assigned before the operator: it takes them over, so that a changed
    // number may replace one.
    resource.spec.removal.adopt_existing = true;
    // A new number replaces the old one, which counts toward the safety limit (25 by default):
    // at 100,000 users one sync covers every change of the run.
    resource.spec.safety.max_unassignments_per_sync = 10_000;
    let endpoints = resource.spec.endpoints.as_mut().expect("the demo sets endpoints");
    let base = sandbox.base_url().to_owned();
    (endpoints.login, endpoints.graph, endpoints.dialpad) = (base.clone(), base.clone(), base);
    let connection = Arc::new(connect_to(&sandbox, &resource, graph_rate, dialpad_rate));
    let policy = Arc::new(Policy::from_spec(&resource.spec).expect("the bench resource is valid"));
    let mut memory = SyncMemory {
        keeps_snapshot: true,
        ..SyncMemory::default()
    };

    // One full sync of a converged org: what every periodic sync costs.
    let before = sandbox.counters();
    let started = Instant::now();
    let run = sync_once(&connection.source, &connection.tenant, &policy, &mut memory, None).await;
    let full_sync = started.elapsed();
    let (full_dialpad, full_graph) = requests(&before, &sandbox.counters());
    assert_eq!(
        run.execution.assigned + run.execution.unassigned,
        0,
        "the org starts converged"
    );

    // The feed, and a worker that syncs whenever it is woken (as the controller does).
    let AnySource::Dialpad(source) = &connection.source else {
        unreachable!("the demo resource reads Dialpad")
    };
    let (wake_tx, mut wakes) = mpsc::unbounded_channel();
    let subscribers = Subscribers::default();
    let wanted = Arc::new(Mutex::new(Wanted::default()));
    let gathered = wanted.clone();
    subscribers.lock().expect("lock").insert(
        "bench/demo".into(),
        Subscriber {
            client: source.client.clone(),
            waker: Arc::new(move |wake: &Wake| {
                if !matches!(wake, Wake::State) {
                    gathered.lock().expect("lock").add_wake(wake);
                    let _ = wake_tx.send(());
                }
            }),
        },
    );
    let (state_tx, mut state) = watch::channel(FeedState::Connecting("starting".into()));
    let (retire, retired) = watch::channel(false);
    let feed = Feed {
        name: "bench".into(),
        store: MemoryFeedStore::default(),
        subscribers,
        state: state_tx,
        tls: None,
        timings: FeedTimings::default(),
    };
    let feed_task = tokio::spawn(feed.run(retired));
    state
        .wait_for(|s| *s == FeedState::Connected)
        .await
        .expect("the feed connects");
    let before_changes = sandbox.counters();
    let syncs = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let worker = {
        let (connection, policy, syncs) = (connection.clone(), policy.clone(), syncs.clone());
        tokio::spawn(async move {
            while wakes.recv().await.is_some() {
                while wakes.try_recv().is_ok() {}
                let taken = std::mem::take(&mut *wanted.lock().expect("lock"));
                sync_as_the_controller_does(&connection, &policy, &mut memory, taken).await;
                syncs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        })
    };

    // The changes, one every gap, each timed until Teams holds the new number.
    let http = reqwest::Client::new();
    let targets: Vec<(String, String)> = sandbox.with_world(|world| {
        world
            .dialpad
            .users
            .iter()
            .take(options.changes)
            .map(|user| {
                let upn = user.emails[0].clone();
                let id = world.user_by_upn(&upn).map(|u| u.id.clone()).unwrap_or_default();
                (upn, id)
            })
            .collect()
    });
    let mut pending: BTreeMap<usize, (Instant, String, String)> = BTreeMap::new();
    let mut latencies = Vec::new();
    let mut next_change = Instant::now();
    let mut sent = 0;
    while latencies.len() < targets.len() {
        if sent < targets.len() && Instant::now() >= next_change {
            let (email, teams_id) = &targets[sent];
            let number = format!("+1737{:07}", 3_000_000 + sent);
            let answer = http
                .post(format!("{}/_sandbox/dialpad/changes", sandbox.base_url()))
                .json(&serde_json::json!({"change": "changeNumber", "email": email, "number": number}))
                .send()
                .await
                .expect("the sandbox answers");
            assert!(
                answer.status().is_success(),
                "{}",
                answer.text().await.unwrap_or_default()
            );
            pending.insert(sent, (Instant::now(), number, teams_id.clone()));
            sent += 1;
            next_change += options.gap;
        }
        let done: Vec<usize> = sandbox.with_world(|world| {
            pending
                .iter()
                .filter(|(_, (_, number, id))| {
                    world
                        .numbers
                        .get(number.as_str())
                        .or_else(|| world.numbers.get(number.trim_start_matches('+')))
                        .is_some_and(|n| n.assignment_target_id.as_deref() == Some(id.as_str()))
                })
                .map(|(index, _)| *index)
                .collect()
        });
        for index in done {
            if let Some((at, ..)) = pending.remove(&index) {
                latencies.push(at.elapsed());
            }
        }
        assert!(
            pending
                .values()
                .all(|(at, ..)| at.elapsed() < Duration::from_secs(1_800)),
            "a change did not arrive within half an hour"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let after_changes = sandbox.counters();
    let (dialpad, graph) = requests(&before_changes, &after_changes);
    let full_reads = after_changes.requests_to(Endpoint::DialpadUsers, "GET")
        - before_changes.requests_to(Endpoint::DialpadUsers, "GET");
    let _ = retire.send(true);
    let _ = feed_task.await;
    worker.abort();
    let syncs = syncs.load(std::sync::atomic::Ordering::Relaxed);
    latencies.sort();
    let changes = latencies.len() as f64;
    // Idle, per hour: with events, a full sync every fullSyncInterval, the WebSocket URL renewed
    // every 50 minutes (one GET), users/delta once a minute; without, a full sync every 15 minutes.
    let full = (full_dialpad + full_graph) as f64;
    let with_events = |hours: f64| full / hours + 60.0 / 50.0 + 60.0;
    let (daily, weekly) = (with_events(options.full_sync_hours), with_events(168.0));
    let without = full * 4.0;
    println!(
        "| {users} | {} | {:.2} s | {:.2} s | {:.2} s | {} | {full_reads} | {:.1} | {:.1} | {:.1} s ({full_dialpad} + {full_graph}) | {without:.0} | {daily:.0} | {:.1}% | {weekly:.0} | {:.1}% |",
        latencies.len(),
        percentile(&latencies, 0.5).as_secs_f64(),
        percentile(&latencies, 0.95).as_secs_f64(),
        latencies.last().copied().unwrap_or_default().as_secs_f64(),
        syncs,
        dialpad as f64 / changes,
        graph as f64 / changes,
        full_sync.as_secs_f64(),
        100.0 * daily / without,
        100.0 * weekly / without,
    );
}

/// What the controller does with the changes a resource gathered: a targeted re-sync of the
/// users they name when it can be done exactly, else a full sync.
async fn sync_as_the_controller_does(
    connection: &Connection,
    policy: &Policy,
    memory: &mut SyncMemory,
    wanted: Wanted,
) {
    if let Some((dialpad_users, teams_users)) = wanted.named() {
        let targets = Targets {
            dialpad_users,
            teams_users,
        };
        let store = MemoryOwnership(Mutex::new(std::mem::take(&mut memory.owned)));
        let (source, tenant) = (&connection.source, &connection.tenant);
        let targeted = sync_targets(source, tenant, &store, policy, memory, None, &targets, &|_, _| {}).await;
        memory.owned = store.0.into_inner().expect("record lock");
        if targeted.expect("a record in memory is readable").is_some() {
            return;
        }
    }
    sync_once(&connection.source, &connection.tenant, policy, memory, None).await;
}
