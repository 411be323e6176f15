//! How close a sync comes to the physical floor of the job: the upstreams' rate limits.
//!
//! `cargo bench --bench converge` runs the real pipeline (sign-in, Dialpad and Graph reads, plan,
//! writes, confirmation, status) against the sandbox with its rate limits on, for generated orgs
//! where every user needs a number, and prints one row per scenario:
//! - first sync: wall time, the floor (the most loaded upstream's calls needed / its rate),
//!   their ratio, Graph requests by kind and Graph 429s;
//! - steady state: the second sync, wall time vs floor, writes (must be 0);
//! - 1% churn: joiners, leavers and number changes; calls made vs changes needed;
//! - the serialized status size;
//! - a naive baseline: list Dialpad's users, then one user at a time (look the user up, check
//!   the licence, assign, wait for the operation), as the PowerShell scripts peers use do it,
//!   timed on a sample of users and scaled to the org; and our speed-up over it.
//!
//! With `--scenarios voice-routing`, every user needs a number and a voice routing policy
//! (`spec.assignment.voiceRoutingPolicy`), and only the first sync and the steady state are run.
//!
//! Options (after `--`): `--scenarios numbers,voice-routing` (default `numbers`, the rows above),
//! `--users 1000,10000` (default; add 100000 for the long run),
//! `--rate-scale F` (default 1: Graph 200 requests/s, Dialpad 20 requests/s, operations take
//! 100 ms; F multiplies the rates and divides the delay, so the ratios stay meaningful while
//! large orgs finish sooner), `--naive-sample N` (default 200).
//! The default run takes about two and a half minutes on 2 cores after the build. Figures are
//! printed, never asserted.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

#[path = "converge/voice_routing.rs"]
mod voice_routing;

use dialpad_teams_operator::api::TeamsTenantSync;
use dialpad_teams_operator::commands::examples::DEMO_RESOURCE;
use dialpad_teams_operator::commands::parse_resource;
use dialpad_teams_operator::connect::{AnySource, Connection};
use dialpad_teams_operator::microsoft::graph::GraphClient;
use dialpad_teams_operator::sync::model::Policy;
use dialpad_teams_operator::sync::pipeline::{SyncMemory, SyncRun, sync_once};
use dialpad_teams_operator::sync::ports::DEFAULT_POLICY_CHANGES_PER_REQUEST;
use dialpad_teams_operator::sync::report::status_changed;
use dialpad_teams_sandbox::fixture::OrgFixture;
use dialpad_teams_sandbox::generator::{self, Case, GeneratorSpec};
use dialpad_teams_sandbox::{Counters, Sandbox, SandboxOptions};
use secrecy::ExposeSecret;

#[path = "shared/connection.rs"]
mod connection;
use connection::{KEY, PASSWORD, connect_to};

const SECRET: &str = "bench-client-secret";
/// The sandbox's Graph and Dialpad budgets and operation delay at rate scale 1.
const GRAPH_RATE: f64 = 200.0;
const DIALPAD_RATE: f64 = 20.0;
const OPERATION_DELAY_MS: f64 = 100.0;

/// Which rows a run prints.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scenario {
    /// Every user needs a number: first sync, steady state, churn, the process, the baseline.
    Numbers,
    /// Every user needs a number and a voice routing policy: first sync and steady state.
    VoiceRouting,
}

struct Options {
    scenarios: Vec<Scenario>,
    users: Vec<usize>,
    rate_scale: f64,
    naive_sample: usize,
}

fn options() -> Options {
    let mut options = Options {
        scenarios: vec![Scenario::Numbers],
        users: vec![1_000, 10_000],
        rate_scale: 1.0,
        naive_sample: 200,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--scenarios" => {
                options.scenarios = args
                    .next()
                    .expect("--scenarios needs a list")
                    .split(',')
                    .map(|name| match name.trim() {
                        "numbers" => Scenario::Numbers,
                        "voice-routing" => Scenario::VoiceRouting,
                        other => panic!("unknown scenario {other} (numbers, voice-routing)"),
                    })
                    .collect();
            }
            "--users" => {
                options.users = args
                    .next()
                    .expect("--users needs a list")
                    .split(',')
                    .map(|n| n.trim().parse().expect("--users takes numbers"))
                    .collect();
            }
            "--rate-scale" => {
                options.rate_scale = args.next().and_then(|v| v.parse().ok()).expect("--rate-scale F")
            }
            "--naive-sample" => {
                options.naive_sample = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--naive-sample N");
            }
            // cargo bench passes --bench; anything else is a mistake worth seeing.
            "--bench" => {}
            other => panic!("unknown option {other}"),
        }
    }
    options
}

/// Graph requests and 429s between two counter snapshots, by kind.
fn graph_delta(before: &Counters, after: &Counters) -> (BTreeMap<String, u64>, u64) {
    let mut kinds = BTreeMap::new();
    for (key, count) in &after.requests {
        let delta = count - before.requests.get(key).copied().unwrap_or(0);
        if key.starts_with("graph.") && delta > 0 {
            kinds.insert(key.clone(), delta);
        }
    }
    let throttled = after
        .responses
        .iter()
        .filter(|(key, _)| key.starts_with("graph.") && key.ends_with(" 429"))
        .map(|(key, count)| count - before.responses.get(key).copied().unwrap_or(0))
        .sum();
    (kinds, throttled)
}

fn upstream_total(before: &Counters, after: &Counters, prefix: &str) -> u64 {
    after
        .requests
        .iter()
        .filter(|(key, _)| key.starts_with(prefix))
        .map(|(key, count)| count - before.requests.get(key).copied().unwrap_or(0))
        .sum()
}

/// The Graph calls Teams policies add to an optimal sync.
#[derive(Clone, Copy, Debug, Default)]
struct PolicyLoad {
    /// Policies the resource names: one `getPolicyId` each.
    named: usize,
    /// Users whose effective policies are read (`userConfigurations`, in pages).
    users: usize,
    /// Policy changes to make, in lists of the operator's request size.
    changes: usize,
}

/// The most users one `userConfigurations` page may carry: the sandbox's `$top` maximum (Microsoft
/// documents `$top` on the list but no maximum, so this bound is the sandbox's, UNCONFIRMED for
/// Teams; https://learn.microsoft.com/graph/api/teamsadministration-teamsadminroot-list-userconfigurations).
const USER_CONFIGURATIONS_PAGE: usize = 999;

/// The floor: the calls an optimal sync must make to each upstream, less the one-second burst
/// both the sandbox and Graph's token bucket allow, divided by its rate; the slower upstream
/// bounds the sync. Reads are pages (Graph users 999, numbers 1,000, user configurations 999;
/// Dialpad users and numbers 100), plus the admin's role check and one `getPolicyId` per named
/// policy; policy changes go in lists of the operator's request size.
fn floor(
    users: usize,
    held_numbers: usize,
    writes: usize,
    policies: PolicyLoad,
    graph_rate: f64,
    dialpad_rate: f64,
) -> Duration {
    let graph_reads = users.div_ceil(999)
        + held_numbers.div_ceil(1000).max(1)
        + 1
        + policies.named
        + policies.users.div_ceil(USER_CONFIGURATIONS_PAGE);
    let policy_writes = policies.changes.div_ceil(DEFAULT_POLICY_CHANGES_PER_REQUEST);
    let dialpad_reads = users.div_ceil(100) * 2;
    let after_burst = |calls: usize, rate: f64| ((calls as f64 - rate).max(0.0)) / rate;
    let graph = after_burst(graph_reads + writes + policy_writes, graph_rate);
    let dialpad = after_burst(dialpad_reads, dialpad_rate);
    Duration::from_secs_f64(graph.max(dialpad))
}

/// Wall time over floor, or why there is no ratio: a floor under 0.2 s means every call fits in
/// the burst, and the wall time is then latency, not rate.
fn ratio(wall: Duration, floor: Duration) -> String {
    if floor < Duration::from_millis(200) {
        "n/a (within the burst)".into()
    } else {
        format!("{:.2}", wall.as_secs_f64() / floor.as_secs_f64())
    }
}

/// The demo resource, pointed at `sandbox`.
fn resource_for(sandbox: &Sandbox) -> TeamsTenantSync {
    let mut resource = parse_resource(DEMO_RESOURCE, "demo").expect("the demo resource parses");
    let base = sandbox.base_url().to_owned();
    let endpoints = resource.spec.endpoints.as_mut().expect("the demo sets endpoints");
    endpoints.login = base.clone();
    endpoints.graph = base.clone();
    endpoints.dialpad = base;
    resource
}

/// Puts the sandbox's Graph and Dialpad rates and operation delay at `options`' scale, and
/// activates numbers at once; returns the Graph and Dialpad rates.
fn pace(fixture: &mut OrgFixture, options: &Options) -> (f64, f64) {
    let graph_rate = GRAPH_RATE * options.rate_scale;
    let dialpad_rate = DIALPAD_RATE * options.rate_scale;
    fixture.behaviour.graph_requests_per_second = graph_rate.round() as u32;
    fixture.behaviour.dialpad_requests_per_second = dialpad_rate.round() as u32;
    fixture.behaviour.operation_delay_ms = (OPERATION_DELAY_MS / options.rate_scale).round() as u64;
    fixture.behaviour.activation_delay_ms = 0;
    (graph_rate, dialpad_rate)
}

async fn sync(
    connection: &Connection,
    resource: &TeamsTenantSync,
    memory: &mut SyncMemory,
) -> (SyncRun, Duration) {
    let started = Instant::now();
    let run = sync_once(
        &connection.source,
        &connection.tenant,
        &Policy::from_spec(&resource.spec).expect("the bench resource is valid"),
        memory,
        Some(1),
    )
    .await;
    (run, started.elapsed())
}

/// The heading and column names of a scenario's table.
fn table_heading(title: &str, graph_rate: f64, dialpad_rate: f64, options: &Options) {
    println!(
        "\n## {title} (Graph {graph_rate:.0}/s, Dialpad {dialpad_rate:.0}/s, operations {:.0} ms)",
        OPERATION_DELAY_MS / options.rate_scale
    );
    println!("| scenario | wall | floor | ratio | writes | Graph requests by kind | Graph 429s | notes |");
    println!("|---|---|---|---|---|---|---|---|");
}

fn kinds_text(kinds: &BTreeMap<String, u64>) -> String {
    kinds
        .iter()
        .map(|(k, v)| format!("{} {v}", k.trim_start_matches("graph.")))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn scenario(users: usize, options: &Options) {
    // 1% more users than the org: they join during the churn step.
    let joiners = users / 100 / 3;
    let spec = GeneratorSpec {
        users: users + joiners,
        seed: 7,
        mix: vec![(Case::NeedsAssignment, 1)],
    };
    let mut org = generator::generate(&spec, PASSWORD, SECRET, KEY);
    let (graph_rate, dialpad_rate) = pace(&mut org.fixture, options);
    let withheld: Vec<_> = org.fixture.dialpad.users.split_off(users);
    let sandbox = Sandbox::start(&org.fixture, SandboxOptions::default())
        .await
        .expect("the sandbox starts");

    let mut resource = resource_for(&sandbox);
    resource.spec.removal.grace_period = "0s".into();
    // 1% churn takes more numbers off users (leavers' unassigned, changers' replaced) than the
    // default safety limit of 25 at 10,000 users.
    resource.spec.safety.max_unassignments_per_sync = 10_000;
    let connection = connect_to(&sandbox, &resource, graph_rate, dialpad_rate);
    let mut memory = SyncMemory::default();

    table_heading(&format!("{users} users"), graph_rate, dialpad_rate, options);

    // First sync: every user needs a number.
    let before = sandbox.counters();
    let (first, wall) = sync(&connection, &resource, &mut memory).await;
    let first_wall = wall;
    let after = sandbox.counters();
    let (kinds, throttled) = graph_delta(&before, &after);
    let writes = first.execution.assigned + first.execution.unassigned;
    let floor_first = floor(users, 0, users, PolicyLoad::default(), graph_rate, dialpad_rate);
    println!(
        "| first sync | {:.1} s | {:.1} s | {} | {writes} | {} | {throttled} | {} assigned, {} failed |",
        wall.as_secs_f64(),
        floor_first.as_secs_f64(),
        ratio(wall, floor_first),
        kinds_text(&kinds),
        first.execution.assigned,
        first.execution.failed,
    );

    // Steady state: nothing changed.
    let before = sandbox.counters();
    let (steady, wall) = sync(&connection, &resource, &mut memory).await;
    let after = sandbox.counters();
    let (kinds, throttled) = graph_delta(&before, &after);
    let floor_steady = floor(users, users, 0, PolicyLoad::default(), graph_rate, dialpad_rate);
    let status_bytes = serde_json::to_vec(&steady.status).map_or(0, |b| b.len());
    println!(
        "| steady state | {:.1} s | {:.1} s | {} | {} | {} | {throttled} | status {status_bytes} bytes; 1 status patch (one per completed sync), content changed: {} |",
        wall.as_secs_f64(),
        floor_steady.as_secs_f64(),
        ratio(wall, floor_steady),
        steady.execution.assigned + steady.execution.unassigned,
        kinds_text(&kinds),
        status_changed(&first.status, &steady.status),
    );

    // 1% churn: a third join, a third leave, a third change number.
    let changers = users / 100 / 3;
    let leavers = users / 100 / 3;
    sandbox.with_world(|world| {
        let users = &mut world.dialpad.users;
        let mut returned = Vec::new();
        for (index, user) in users.iter_mut().take(changers).enumerate() {
            let new_number = format!("+1737{:07}", 2_000_000 + index);
            returned.extend(std::mem::replace(&mut user.phone_numbers, vec![new_number]));
        }
        // A leaver's number and a changed user's old number return to the company's pool, as
        // in Dialpad: they stay Dialpad's, so the operator may move or remove them in Teams.
        let keep = users.len() - leavers;
        let left: Vec<_> = users.drain(keep..).collect();
        let office = left.first().map(|u| u.office_id.clone()).unwrap_or_default();
        returned.extend(left.into_iter().flat_map(|leaver| leaver.phone_numbers));
        {
            for number in returned {
                world
                    .dialpad
                    .other_numbers
                    .push(dialpad_teams_sandbox::world::DialpadNumber {
                        number,
                        status: "available".into(),
                        target_id: None,
                        target_type: None,
                        office_id: office.clone(),
                    });
            }
        }
        let users = &mut world.dialpad.users;
        for joiner in &withheld {
            users.push(dialpad_teams_sandbox::world::DialpadUser {
                id: joiner.id.clone().expect("generated users have ids"),
                emails: joiner.emails.clone(),
                phone_numbers: joiner.phone_numbers.clone(),
                state: "active".into(),
                office_id: users[0].office_id.clone(),
                first_name: None,
                last_name: None,
                date_added: users[0].date_added,
            });
        }
        users.sort_by(|a, b| a.id.cmp(&b.id));
    });
    let needed = changers + leavers + withheld.len();
    let before = sandbox.counters();
    let (churn, wall) = sync(&connection, &resource, &mut memory).await;
    let after = sandbox.counters();
    let (kinds, throttled) = graph_delta(&before, &after);
    let made = churn.execution.assigned + churn.execution.unassigned;
    let floor_churn = floor(
        users,
        users,
        needed,
        PolicyLoad::default(),
        graph_rate,
        dialpad_rate,
    );
    println!(
        "| 1% churn | {:.1} s | {:.1} s | {} | {made} | {} | {throttled} | {needed} changes needed ({changers} number changes, {leavers} leavers, {} joiners); Graph calls {}, Dialpad calls {} |",
        wall.as_secs_f64(),
        floor_churn.as_secs_f64(),
        ratio(wall, floor_churn),
        kinds_text(&kinds),
        withheld.len(),
        upstream_total(&before, &after, "graph."),
        upstream_total(&before, &after, "dialpad."),
    );
    // The operator's own footprint: a sync of the converged org by the binary, in its own
    // process, so the sandbox's memory is not counted.
    let footprint = operator_process(&resource, graph_rate, dialpad_rate);
    println!(
        "| operator process (`plan --apply`, converged org) | {:.1} s | | | | | | peak RSS {:.0} MiB, CPU {:.1} s |",
        footprint.wall.as_secs_f64(),
        footprint.peak_rss_kib as f64 / 1024.0,
        footprint.cpu.as_secs_f64(),
    );
    drop(sandbox);

    // The naive baseline, on a fresh org of the same size, over a sample of its users.
    let (naive_listing, naive_per_user) = naive_baseline(users, options).await;
    let naive_total = naive_listing + naive_per_user * users as u32;
    println!(
        "| naive, one user at a time | {:.0} s (the Dialpad listing {:.1} s, then {:.0} ms a user, timed on {} users and scaled) | | | | | | our first sync is {:.0}x faster |",
        naive_total.as_secs_f64(),
        naive_listing.as_secs_f64(),
        naive_per_user.as_secs_f64() * 1000.0,
        options.naive_sample.min(users),
        naive_total.as_secs_f64() / first_wall.as_secs_f64(),
    );
}

/// What the operator process used.
struct Footprint {
    wall: Duration,
    peak_rss_kib: u64,
    cpu: Duration,
}

/// Runs `dialpad-teams-operator plan --apply` for `resource` and samples its peak RSS (`VmHWM`)
/// and CPU time from /proc until it exits.
fn operator_process(resource: &TeamsTenantSync, graph_rate: f64, dialpad_rate: f64) -> Footprint {
    let dir = std::env::temp_dir().join(format!("converge-{}", std::process::id()));
    let write = |path: std::path::PathBuf, text: &str| {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("a directory");
        std::fs::write(path, text).expect("a file");
    };
    write(
        dir.join("resource.yaml"),
        &serde_yaml::to_string(resource).expect("YAML"),
    );
    write(dir.join("secrets/teams-admin/username"), generator::ADMIN_UPN);
    write(dir.join("secrets/teams-admin/password"), PASSWORD);
    write(dir.join("secrets/dialpad/apiKey"), KEY);
    let started = Instant::now();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dialpad-teams-operator"))
        .arg("plan")
        .arg("--apply")
        .arg("-f")
        .arg(dir.join("resource.yaml"))
        .arg("--secrets")
        .arg(dir.join("secrets"))
        .arg("--graph-requests-per-second")
        .arg((graph_rate.round() as u32).to_string())
        .arg("--dialpad-requests-per-second")
        .arg((dialpad_rate.round() as u32).to_string())
        // The sandbox is no vendor's public endpoint: credentials go there only when allowed.
        .arg("--allowed-endpoint")
        .arg(resource.spec.endpoints.as_ref().map_or("", |e| e.graph.as_str()))
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("the operator binary starts");
    let ticks = 100.0; // USER_HZ on Linux
    let (mut peak_rss_kib, mut cpu) = (0, Duration::ZERO);
    loop {
        let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
        if let Some(kib) = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        {
            peak_rss_kib = kib;
        }
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", child.id())) {
            let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
            let utime: f64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0);
            let stime: f64 = fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
            if utime + stime > 0.0 {
                cpu = Duration::from_secs_f64((utime + stime) / ticks);
            }
        }
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            assert!(status.success(), "the operator's sync failed: {status}");
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::fs::remove_dir_all(&dir);
    Footprint {
        wall: started.elapsed(),
        peak_rss_kib,
        cpu,
    }
}

/// One user at a time, after listing Dialpad's users (at Dialpad's rate): look the user up by UPN
/// with its licences, then assign the number and wait for the operation, before the next user.
/// Returns the listing's time and the time per user.
async fn naive_baseline(users: usize, options: &Options) -> (Duration, Duration) {
    let graph_rate = GRAPH_RATE * options.rate_scale;
    let spec = GeneratorSpec {
        users,
        seed: 7,
        mix: vec![(Case::NeedsAssignment, 1)],
    };
    let mut org = generator::generate(&spec, PASSWORD, SECRET, KEY);
    org.fixture.behaviour.graph_requests_per_second = graph_rate.round() as u32;
    org.fixture.behaviour.operation_delay_ms = (OPERATION_DELAY_MS / options.rate_scale).round() as u64;
    org.fixture.behaviour.dialpad_requests_per_second = (DIALPAD_RATE * options.rate_scale).round() as u32;
    let sample: Vec<(String, String)> = org
        .fixture
        .dialpad
        .users
        .iter()
        .take(options.naive_sample.min(users))
        .map(|u| (u.emails[0].clone(), u.phone_numbers[0].clone()))
        .collect();
    let sandbox = Sandbox::start(&org.fixture, SandboxOptions::default())
        .await
        .expect("the sandbox starts");
    let resource = resource_for(&sandbox);
    let base = sandbox.base_url().to_owned();
    let connection = connect_to(&sandbox, &resource, graph_rate, DIALPAD_RATE * options.rate_scale);
    let graph: &GraphClient = &connection.tenant.graph;
    let http = reqwest::Client::new();
    let listed = Instant::now();
    let AnySource::Dialpad(source) = &connection.source else {
        panic!("the bench's resource reads Dialpad");
    };
    source
        .client
        .list_users("active", &[])
        .await
        .expect("Dialpad lists its users");
    let listing = listed.elapsed();
    let started = Instant::now();
    for (email, number) in &sample {
        let token = graph.tokens().access_token().await.expect("a token");
        let user: serde_json::Value = http
            .get(format!("{base}/v1.0/users/{email}?$select=id,assignedPlans"))
            .bearer_auth(token.secret.expose_secret())
            .send()
            .await
            .expect("the lookup answers")
            .json()
            .await
            .expect("a user");
        let id = user["id"].as_str().expect("an id").to_owned();
        let licensed = user["assignedPlans"]
            .as_array()
            .is_some_and(|plans| plans.iter().any(|p| p["capabilityStatus"] == "Enabled"));
        if licensed {
            graph
                .assign_number(number, &id, "directRouting", None)
                .await
                .expect("the assignment answers");
        }
    }
    (listing, started.elapsed() / sample.len().max(1) as u32)
}

fn main() {
    let options = options();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    println!(
        "# converge: the real pipeline against the rate-limited sandbox (rate scale {})",
        options.rate_scale
    );
    for &scenario_kind in &options.scenarios {
        for &users in &options.users {
            match scenario_kind {
                Scenario::Numbers => runtime.block_on(scenario(users, &options)),
                Scenario::VoiceRouting => runtime.block_on(voice_routing::scenario(users, &options)),
            }
        }
    }
}
