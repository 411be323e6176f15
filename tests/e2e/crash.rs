//! `kill -9` of the operator binary in the middle of a sync, on a real apiserver: a new process
//! with empty memory finishes the job from what the apiserver kept (the status and the ownership
//! record), assigns no number twice, keeps the pending removal of a departed user with its
//! original deadline, and unassigns it when the grace period ends. Nothing it handled, Secrets
//! or tokens, appears in its logs, metrics, status or Events.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use dialpad_teams_operator::api::TeamsTenantSync;
use dialpad_teams_sandbox::generator::Case;
use dialpad_teams_sandbox::world::OperationKind;
use dialpad_teams_sandbox::{Endpoint, Sandbox};

use crate::harness::cluster::with_namespaces;
use crate::harness::fixtures::*;
use crate::harness::process::OperatorProcess;
use crate::harness::rbac::operator_identity;
use crate::harness::*;

const USERS: u32 = 240;
const DEPARTING: usize = 5;

/// How many times the sandbox carried out an assignment or unassignment of each number.
fn operations_per_number(sandbox: &Sandbox) -> BTreeMap<(&'static str, String), usize> {
    sandbox.with_world(|world| {
        let mut counts = BTreeMap::new();
        for operation in world.operations.values() {
            let key = match &operation.kind {
                OperationKind::Assign { telephone_number, .. } => ("assign", telephone_number.clone()),
                OperationKind::Unassign { telephone_number } => ("unassign", telephone_number.clone()),
            };
            *counts.entry(key).or_default() += 1;
        }
        counts
    })
}

fn in_sync(resource: Option<&TeamsTenantSync>) -> i32 {
    resource
        .and_then(|r| r.status.as_ref()?.summary.as_ref())
        .map_or(0, |s| s.in_sync)
}

/// The `lastTransitionTime` of every RemovalPending user's `Synced` condition: when its grace
/// period started.
fn removal_started(resource: &TeamsTenantSync) -> Vec<String> {
    let mut started: Vec<String> = status(resource)
        .users
        .iter()
        .flat_map(|u| &u.conditions)
        .filter(|c| c.reason == "RemovalPending")
        .map(|c| c.last_transition_time.0.to_string())
        .collect();
    started.sort();
    started
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_killed_mid_sync_finishes_from_what_the_apiserver_kept() {
    with_namespaces("crash-kill-9", 1, |env, names| async move {
        let (password, api_key) = (secret_value(), secret_value());
        let mut org = org(
            USERS as usize,
            31,
            vec![(Case::NeedsAssignment, USERS)],
            &password,
            &api_key,
        );
        // Slow writes, so that the kill lands in the middle of them.
        org.fixture.behaviour.graph_requests_per_second = 60;
        let sandbox = env.start_sandbox(&org).await;
        env.put_credentials(&password, &api_key).await;
        let kubeconfig = operator_identity(&env, &names, None).await;
        let mut first = OperatorProcess::start_for_as(&env, "first", &kubeconfig, &names, &[]);
        first.wait_ready().await;

        let name = "contoso";
        let mut resource = resource(&env, name, sandbox.base_url(), "Unassign");
        resource.spec.removal.grace_period = "20s".into();
        env.apply(&resource).await.expect("accepted");
        let writes = || sandbox.counters().write_requests();
        let started = Instant::now();
        while writes() < u64::from(USERS) / 3 {
            assert!(started.elapsed() < WAIT, "no writes after {WAIT:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        first.kill();
        let at_kill = writes();
        eprintln!("kill -9 after {at_kill} of {USERS} assignments");
        assert!(at_kill < u64::from(USERS), "killed in the middle of the writes");

        let mut second = OperatorProcess::start_for_as(&env, "second", &kubeconfig, &names, &[]);
        second.wait_ready().await;
        // The restart's own sync assigns the rest; a sync-now then sees them all activated.
        env.wait(name, "a status counting every user", |r| {
            r.and_then(|r| r.status.as_ref()?.summary.as_ref())
                .is_some_and(|s| s.desired == USERS as i32 && s.failed == 0)
        })
        .await;
        let value = env.sync_now(name).await;
        let converged = env.wait_handled(name, &value).await;
        assert_eq!(
            in_sync(Some(&converged)),
            USERS as i32,
            "{}",
            describe(&converged)
        );
        assert_eq!(
            status(&converged).summary.as_ref().map(|s| s.owned),
            Some(USERS as i32)
        );
        let done = operations_per_number(&sandbox);
        assert_eq!(done.len(), USERS as usize, "{done:?}");
        assert!(
            done.values().all(|times| *times == 1),
            "a number was assigned twice: {done:?}"
        );

        // Users leave; their removal is pending when the operator dies again.
        sandbox.with_world(|world| {
            for user in world.dialpad.users.iter_mut().take(DEPARTING) {
                user.state = "deleted".into();
            }
        });
        let value = env.sync_now(name).await;
        let pending = env.wait_handled(name, &value).await;
        let grace_started = removal_started(&pending);
        assert_eq!(grace_started.len(), DEPARTING, "{}", describe(&pending));
        second.kill();
        let mut third = OperatorProcess::start_for_as(&env, "third", &kubeconfig, &names, &[]);
        third.wait_ready().await;
        let value = env.sync_now(name).await;
        let still = env.wait_handled(name, &value).await;
        assert_eq!(
            removal_started(&still),
            grace_started,
            "the restart did not restart the grace period"
        );

        // Once the grace period is over, exactly the departed users' numbers go.
        tokio::time::sleep(Duration::from_secs(21)).await;
        let value = env.sync_now(name).await;
        env.wait_handled(name, &value).await;
        let unassigns = sandbox
            .counters()
            .requests_to(Endpoint::GraphUnassignNumber, "POST");
        assert_eq!(unassigns, DEPARTING as u64);
        assert_eq!(
            held(&sandbox).len(),
            USERS as usize - DEPARTING + 1,
            "+ the unmanaged number"
        );

        let secrets = secrets_of(&sandbox, &[&password, &api_key]);
        assert_no_secret_anywhere(&env, &[&first, &second, &third], &secrets).await;
    })
    .await;
}
