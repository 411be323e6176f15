//! One fault scenario: the org, the sandbox with its faults and limits, the syncs until the
//! outcome counts match the truth, and the checks over everything the sandbox saw.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use dialpad_teams_operator::connect::ConnectOptions;
use dialpad_teams_operator::sync::model::Policy;
use dialpad_teams_operator::sync::pipeline::{SyncMemory, SyncRun, sync_once};
use dialpad_teams_operator::telemetry::Metrics;
use dialpad_teams_operator::upstream::allowed::AllowedEndpoints;
use dialpad_teams_sandbox::fixture::FaultFixture;
use dialpad_teams_sandbox::generator::{self, Case, GeneratedOrg, GeneratorSpec};
use dialpad_teams_sandbox::traffic::Upstream;
use dialpad_teams_sandbox::world::{OperationKind, World};
use dialpad_teams_sandbox::{Counters, Sandbox, SandboxOptions};

use crate::common::captured_log::{Captured, keep_panics};
use crate::common::pipeline::{connection_with, converged_reason, quick_retries, resource, secrets};

/// Users in every scenario's org.
const USERS: usize = 10_000;
/// The sandbox's Graph limit.
const GRAPH_LIMIT: u32 = 500;
/// The sandbox's Dialpad limit.
const DIALPAD_LIMIT: u32 = 100;
/// The operator is configured 2% under each limit: it spaces its requests evenly, but the sandbox
/// counts them as they arrive, and network jitter can bring two arrivals closer than they left
/// (one run measured exactly 100 in a second at a configured 100).
const CONFIGURED_SHARE: f64 = 0.98;
/// Syncs a scenario may take to converge: a guard against a scenario that never converges, not a
/// speed target (the figures line reports how many it took). At 20% 5xx on every request a whole
/// sync is lost whenever one of its page reads (a hundred Dialpad pages alone) fails five times, and
/// the last few users need a sync or two more each (a pending assignment was seen to stay pending
/// for two syncs without a write). In fifteen local runs the passing ones took 5 to 9 syncs;
/// three of them, and one CI run, did not converge within the earlier bound of 8.
const MAX_SYNCS: usize = 14;

/// One kind of fault, and how the client meets it.
pub struct Scenario {
    /// Its name in the figures line.
    pub name: &'static str,
    /// Fault rules for the sandbox.
    pub faults: Vec<FaultFixture>,
    /// Operations of the sandbox that never complete (the first N).
    pub never_completing_operations: u32,
    /// The HTTP client's request timeout.
    pub http_timeout: Duration,
    /// After this many write requests (of the first sync), every access token expires; at the
    /// second such point refresh tokens expire too, so the client signs in from scratch.
    pub expire_tokens_at_writes: Vec<u64>,
}

impl Scenario {
    /// A scenario without faults, for `..Scenario::named(..)`.
    pub fn named(name: &'static str) -> Self {
        Self {
            name,
            faults: Vec::new(),
            never_completing_operations: 0,
            http_timeout: Duration::from_secs(20),
            expire_tokens_at_writes: Vec::new(),
        }
    }
}

/// Runs `scenario` and asserts everything the suite promises; prints its figures.
pub async fn run_scenario(scenario: Scenario) {
    let log = captured_log();
    let password = format!("fault-password-{:016x}", rand::random::<u64>());
    let api_key = format!("fault-api-key-{:016x}", rand::random::<u64>());
    let org = org(&scenario, &password, &api_key);
    let sandbox = Sandbox::start(&org.fixture, SandboxOptions::default())
        .await
        .expect("the sandbox starts");
    let resource = resource(&sandbox);
    let store = secrets(generator::ADMIN_UPN, &password, &api_key);
    let metrics = Arc::new(Metrics::new());
    let options = ConnectOptions {
        http: reqwest::Client::builder()
            .timeout(scenario.http_timeout)
            .build()
            .expect("an HTTP client"),
        retry: quick_retries(),
        graph_requests_per_second: Some((f64::from(GRAPH_LIMIT) * CONFIGURED_SHARE) as u32),
        dialpad_requests_per_second: Some((f64::from(DIALPAD_LIMIT) * CONFIGURED_SHARE) as u32),
        allowed_endpoints: AllowedEndpoints::parse(&[sandbox.base_url()]).expect("the sandbox URL"),
        upstream_calls: metrics.clone(),
        policy_types: Default::default(),
    };
    let mut connection = connection_with(&resource, &store, &options);
    // Waiting the production minute for an operation that never completes would only slow the
    // suite; what is still running after 5 s is handled the same way.
    connection.tenant.graph.operation_timeout = Duration::from_secs(5);
    let policy = Policy::from_spec(&resource.spec).expect("a valid spec");
    let expected = expected_by_reason(&org);

    let started = Instant::now();
    let mut memory = SyncMemory::default();
    let mut converged_after = None;
    let mut last = None;
    for sync in 1..=MAX_SYNCS {
        let expiry = expire_tokens_during(&sandbox, &scenario.expire_tokens_at_writes, sync);
        let run = sync_once(
            &connection.source,
            &connection.tenant,
            &policy,
            &mut memory,
            Some(1),
        )
        .await;
        expiry.abort();
        // The backoff of users whose change failed is what a later sync waits for; the suite
        // lets that time pass at once.
        for retry in memory.retries.values_mut() {
            retry.next_attempt = None;
        }
        let by_reason = by_reason(&run);
        let off: BTreeMap<&String, i32> = by_reason
            .keys()
            .chain(expected.keys())
            .filter(|reason| expected.get(*reason) != by_reason.get(*reason))
            .map(|reason| (reason, by_reason.get(reason).copied().unwrap_or(0)))
            .collect();
        eprintln!(
            "{}: sync {sync} after {:.1} s, {} writes so far: off the truth {off:?}",
            scenario.name,
            started.elapsed().as_secs_f64(),
            sandbox.counters().write_requests()
        );
        if std::env::var_os("FAULT_SUITE_SAMPLES").is_some() {
            for condition in run
                .status
                .conditions
                .iter()
                .filter(|c| c.reason != "UsersNotInSync")
            {
                eprintln!(
                    "  condition {} {} {}: {}",
                    condition.type_, condition.status, condition.reason, condition.message
                );
            }
            for reason in off.keys() {
                for outcome in run
                    .plan
                    .outcomes
                    .iter()
                    .filter(|o| o.reason.to_string() == **reason)
                    .take(2)
                {
                    eprintln!("  {reason}: {}", outcome.message);
                }
            }
        }
        last = Some(run);
        if by_reason == expected {
            converged_after = Some(sync);
            break;
        }
    }
    let elapsed = started.elapsed();
    let last = last.expect("at least one sync ran");
    let counters = sandbox.counters();
    let syncs = converged_after.unwrap_or_else(|| {
        panic!(
            "{}: not converged after {MAX_SYNCS} syncs; expected {expected:?}, got {:?}",
            scenario.name,
            by_reason(&last)
        )
    });
    println!("{}", figures(scenario.name, syncs, elapsed, &counters));

    sandbox.with_world(|world| {
        assert_no_wrong_assignment(scenario.name, world);
        assert_nothing_outside_the_inventory_unassigned(scenario.name, world);
    });
    for (upstream, limit) in [(Upstream::Graph, GRAPH_LIMIT), (Upstream::Dialpad, DIALPAD_LIMIT)] {
        assert!(
            counters.peak_per_second_of(upstream) <= u64::from(limit),
            "{}: {} was called {} times within one second; its limit is {limit}",
            scenario.name,
            upstream.name(),
            counters.peak_per_second_of(upstream)
        );
    }
    let mut secrets: Vec<String> = vec![password, api_key];
    sandbox.with_world(|world| {
        secrets.extend(world.access_tokens.keys().cloned());
        secrets.extend(world.refresh_tokens.keys().cloned());
    });
    let status = serde_json::to_string(&last.status).expect("the status serializes");
    let text = String::from_utf8_lossy(&log.lock().expect("log lock")).into_owned();
    let metrics = metrics.encode();
    for secret in &secrets {
        for (what, haystack) in [("log", &text), ("status", &status), ("metrics", &metrics)] {
            assert!(
                !haystack.contains(secret.as_str()),
                "{}: a secret ({} characters) appears in the {what}",
                scenario.name,
                secret.len()
            );
        }
    }
}

fn org(scenario: &Scenario, password: &str, api_key: &str) -> GeneratedOrg {
    let spec = GeneratorSpec::with_every_case(USERS, 14);
    let mut org = generator::generate(&spec, password, "unused-client-secret", api_key);
    let behaviour = &mut org.fixture.behaviour;
    behaviour.activation_delay_ms = 0;
    behaviour.operation_delay_ms = 20;
    behaviour.graph_requests_per_second = GRAPH_LIMIT;
    behaviour.dialpad_requests_per_second = DIALPAD_LIMIT;
    behaviour.faults = scenario.faults.clone();
    behaviour.never_completing_operations = scenario.never_completing_operations;
    org
}

/// The outcome counts a converged sync reports: each planted user's reason; deleted users are not
/// desired and hold numbers assigned before this resource, so they have no outcome.
fn expected_by_reason(org: &GeneratedOrg) -> BTreeMap<String, i32> {
    let mut expected = BTreeMap::new();
    for case in org.truth.values().filter(|case| **case != Case::RemovalPending) {
        *expected.entry(converged_reason(*case).to_string()).or_default() += 1;
    }
    expected
}

fn by_reason(run: &SyncRun) -> BTreeMap<String, i32> {
    run.status
        .summary
        .as_ref()
        .map(|summary| summary.by_reason.clone())
        .unwrap_or_default()
}

/// During the first sync, expires every access token (and at the second point every refresh
/// token too) once the sandbox has seen that many writes.
fn expire_tokens_during(sandbox: &Sandbox, at_writes: &[u64], sync: usize) -> tokio::task::JoinHandle<()> {
    let points = if sync == 1 { at_writes.to_vec() } else { Vec::new() };
    let state = sandbox.state().clone();
    tokio::spawn(async move {
        for (index, writes) in points.into_iter().enumerate() {
            while state.counters.lock().expect("counters").write_requests() < writes {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let now = std::time::Instant::now();
            let mut world = state.world();
            world
                .access_tokens
                .values_mut()
                .for_each(|grant| grant.expires_at = now);
            if index > 0 {
                world
                    .refresh_tokens
                    .values_mut()
                    .for_each(|grant| grant.expires_at = now);
            }
        }
    })
}

fn digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

/// Every assignment Teams ever made must be of an active Dialpad user's number to the Teams user
/// with that Dialpad user's email (as mail, sign-in name or SMTP proxy address).
fn assert_no_wrong_assignment(scenario: &str, world: &World) {
    let mut teams_by_address: HashMap<String, Vec<&str>> = HashMap::new();
    for teams in &world.users {
        let smtp = teams.proxy_addresses.iter().filter_map(|address| {
            let (kind, address) = address.split_once(':')?;
            kind.eq_ignore_ascii_case("smtp").then_some(address)
        });
        let addresses: HashSet<String> = std::iter::once(teams.user_principal_name.as_str())
            .chain(teams.mail.as_deref())
            .chain(smtp)
            .map(str::to_lowercase)
            .collect();
        for address in addresses {
            teams_by_address.entry(address).or_default().push(&teams.id);
        }
    }
    let mut rightful: HashSet<(String, &str)> = HashSet::new();
    for dialpad in world.dialpad.users.iter().filter(|u| u.state == "active") {
        for email in &dialpad.emails {
            for teams_id in teams_by_address.get(&email.to_lowercase()).into_iter().flatten() {
                for number in &dialpad.phone_numbers {
                    rightful.insert((digits(number), teams_id));
                }
            }
        }
    }
    for operation in world.operations.values() {
        if let (
            OperationKind::Assign {
                telephone_number,
                target_id,
                ..
            },
            Some(Ok(_)),
        ) = (&operation.kind, &operation.outcome)
        {
            assert!(
                rightful.contains(&(digits(telephone_number), target_id.as_str())),
                "{scenario}: {telephone_number} was assigned to {target_id}, who does not own it"
            );
        }
    }
}

/// No unassignment was ever asked for a number the company does not hold.
fn assert_nothing_outside_the_inventory_unassigned(scenario: &str, world: &World) {
    let inventory: HashSet<String> = world
        .dialpad
        .inventory()
        .iter()
        .map(|number| digits(&number.number))
        .collect();
    for operation in world.operations.values() {
        if let OperationKind::Unassign { telephone_number } = &operation.kind {
            assert!(
                inventory.contains(&digits(telephone_number)),
                "{scenario}: {telephone_number} is not in the company's inventory, yet was unassigned"
            );
        }
    }
}

fn figures(name: &str, syncs: usize, elapsed: Duration, counters: &Counters) -> String {
    let per_upstream = |prefix: &str| -> u64 {
        counters
            .requests
            .iter()
            .filter(|(key, _)| key.starts_with(prefix))
            .map(|(_, count)| count)
            .sum()
    };
    let injected: u64 = counters.injected.values().sum();
    format!(
        "fault-suite {name}: converged in {syncs} syncs, {:.1} s; requests graph {} (writes {}), \
         dialpad {}, entra {}; faults injected {injected}; peak graph {}/s (limit {GRAPH_LIMIT}), \
         peak dialpad {}/s (limit {DIALPAD_LIMIT}); refused by the rate limit: graph {}, dialpad {}",
        elapsed.as_secs_f64(),
        per_upstream("graph."),
        counters.write_requests(),
        per_upstream("dialpad."),
        per_upstream("entra."),
        counters.peak_per_second_of(Upstream::Graph),
        counters.peak_per_second_of(Upstream::Dialpad),
        counters.rate_limited_of(Upstream::Graph),
        counters.rate_limited_of(Upstream::Dialpad),
    )
}

/// Everything the operator logs (at debug) and every panic message, for the whole test binary.
fn captured_log() -> Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = buffer.clone();
        tracing_subscriber::fmt()
            .with_env_filter("info,dialpad_teams_operator=debug")
            .with_writer(move || Captured(writer.clone()))
            .init();
        keep_panics(buffer.clone());
        buffer
    })
    .clone()
}
