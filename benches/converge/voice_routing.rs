//! The voice routing row: every user needs a number and the voice routing policy the resource
//! names (`spec.assignment.voiceRoutingPolicy`), first sync and steady state.

use dialpad_teams_operator::sync::pipeline::{SyncMemory, SyncRun};
use dialpad_teams_sandbox::generator::{self, Case, GeneratorSpec};
use dialpad_teams_sandbox::{Sandbox, SandboxOptions};

use super::{
    KEY, Options, PASSWORD, PolicyLoad, SECRET, connect_to, floor, graph_delta, kinds_text, pace, ratio,
    resource_for, sync, table_heading,
};

/// The policy's type as Teams' assign list names it (the operator's default for
/// `voiceRoutingPolicy`, and one of the sandbox's accepted types).
const POLICY_TYPE: &str = "OnlineVoiceRoutingPolicy";
/// The policy the resource names, present in the generated tenant.
const POLICY_NAME: &str = "Bench-Routes";

/// Number and policy changes a sync made.
fn writes(run: &SyncRun) -> usize {
    let execution = &run.execution;
    execution.assigned + execution.unassigned + execution.policies_assigned + execution.policies_unassigned
}

/// Prints the first sync and the steady state of `users` users who each need a number and
/// `POLICY_NAME`.
pub(super) async fn scenario(users: usize, options: &Options) {
    let spec = GeneratorSpec {
        users,
        seed: 7,
        mix: vec![(Case::NeedsAssignment, 1)],
    };
    let mut org =
        generator::generate(&spec, PASSWORD, SECRET, KEY).with_teams_policy(POLICY_TYPE, POLICY_NAME);
    let (graph_rate, dialpad_rate) = pace(&mut org.fixture, options);
    let sandbox = Sandbox::start(&org.fixture, SandboxOptions::default())
        .await
        .expect("the sandbox starts");
    let mut resource = resource_for(&sandbox);
    resource.spec.assignment.voice_routing_policy = Some(POLICY_NAME.into());
    let connection = connect_to(&sandbox, &resource, graph_rate, dialpad_rate);
    let mut memory = SyncMemory::default();

    table_heading(
        &format!("{users} users needing a number and a voice routing policy"),
        graph_rate,
        dialpad_rate,
        options,
    );

    let before = sandbox.counters();
    let (first, wall) = sync(&connection, &resource, &mut memory).await;
    let after = sandbox.counters();
    let (kinds, throttled) = graph_delta(&before, &after);
    let load = PolicyLoad {
        named: 1,
        users,
        changes: users,
    };
    let floor_first = floor(users, 0, users, load, graph_rate, dialpad_rate);
    println!(
        "| first sync | {:.1} s | {:.1} s | {} | {} | {} | {throttled} | {} numbers and {} policies assigned, {} failed |",
        wall.as_secs_f64(),
        floor_first.as_secs_f64(),
        ratio(wall, floor_first),
        writes(&first),
        kinds_text(&kinds),
        first.execution.assigned,
        first.execution.policies_assigned,
        first.execution.failed,
    );

    let before = sandbox.counters();
    let (steady, wall) = sync(&connection, &resource, &mut memory).await;
    let after = sandbox.counters();
    let (kinds, throttled) = graph_delta(&before, &after);
    let load = PolicyLoad { changes: 0, ..load };
    let floor_steady = floor(users, users, 0, load, graph_rate, dialpad_rate);
    println!(
        "| steady state | {:.1} s | {:.1} s | {} | {} | {} | {throttled} | {} failed |",
        wall.as_secs_f64(),
        floor_steady.as_secs_f64(),
        ratio(wall, floor_steady),
        writes(&steady),
        kinds_text(&kinds),
        steady.execution.failed,
    );
}
