//! `dialpad-teams-operator run`, the binary a platform team starts, as a child process under a
//! ServiceAccount that holds exactly the RBAC the chart renders: a full sync with status and
//! Events and no `forbidden` anywhere; each trigger (sync-now, Secret rotation, suspend/resume, a
//! new generation) causes exactly one sync; every number it assigns has its line on the change
//! trail; SIGTERM exits 0 within 10 s; and without one rule it says which permission is missing
//! instead of hanging.

use std::time::{Duration, Instant};

use dialpad_teams_sandbox::generator::Case;
use serde_json::json;

use crate::harness::cluster::with_namespaces;
use crate::harness::fixtures::*;
use crate::harness::process::OperatorProcess;
use crate::harness::rbac::operator_identity;
use crate::harness::*;

/// How long a scenario watches for a sync that should not happen.
const QUIET: Duration = Duration::from_secs(3);

/// Waits until the operator has completed `expected` syncs of `name`, then checks that no other
/// follows within [`QUIET`]: "exactly one sync" per trigger.
pub async fn expect_syncs(operator: &mut OperatorProcess, env: &Env, name: &str, expected: u64, after: &str) {
    let started = Instant::now();
    loop {
        operator.assert_running();
        let seen = operator.syncs_of(&env.namespace, name).await;
        if seen == expected {
            break;
        }
        assert!(
            seen < expected && started.elapsed() < WAIT,
            "{after}: expected {expected} syncs of {name} in all, saw {seen}"
        );
        tokio::time::sleep(POLL).await;
    }
    tokio::time::sleep(QUIET).await;
    let seen = operator.syncs_of(&env.namespace, name).await;
    assert_eq!(seen, expected, "{after}: one more sync than asked for");
}

/// The change trail of the first sync in the binary's JSON log, as `jq` reads it (docs/manual.md,
/// "Who changed a number, and when"): each of the four users who needed a number has one line
/// saying Teams assigned it, naming the resource, the user and the reason, for a number the sandbox
/// now shows on that user.
fn assert_change_trail(log: &str, resource: &str, sandbox: &dialpad_teams_sandbox::Sandbox) {
    let confirmed: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line["span"]["resource"] == resource && line["fields"]["change"] == "confirmed")
        .collect();
    assert_eq!(confirmed.len(), 4, "one verdict per assignment:\n{log}");
    let held = sandbox.assignments();
    for line in confirmed {
        let field = |name: &str| line["fields"][name].as_str().unwrap_or_default().to_owned();
        assert_eq!(
            (field("action"), field("reason"), field("verdict")),
            ("assign".into(), "new_user".into(), "succeeded".into()),
            "{line}"
        );
        assert!(field("email").contains('@'), "{line}");
        let (number, user) = (field("number"), field("teams_user_id"));
        assert!(
            held.iter()
                .any(|a| a.telephone_number == number
                    && a.assignment_target_id.as_deref() == Some(user.as_str())),
            "the line names a number Teams shows on its user: {line}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_under_the_declared_rbac_syncs_and_each_trigger_causes_exactly_one_sync() {
    with_namespaces("binary-rbac-triggers", 1, |env, names| async move {
        let (password, wrong_password, api_key) = (secret_value(), secret_value(), secret_value());
        let mix = vec![
            (Case::InSync, 6),
            (Case::NeedsAssignment, 4),
            (Case::CallingPlanAssigned, 2),
        ];
        let org = org(12, 11, mix, &password, &api_key);
        let sandbox = env.start_sandbox(&org).await;
        env.put_credentials(&password, &api_key).await;
        let kubeconfig = operator_identity(&env, &names, None).await;
        // JSON, as the chart runs it, for the change trail below.
        let json = ["--log-format", "json"];
        let mut operator = OperatorProcess::start_for(&env, &kubeconfig, &names, &json);
        let ready_after = operator.wait_ready().await;
        eprintln!("ready {ready_after:?} after start");

        let name = "contoso";
        let applied = Instant::now();
        env.apply(&resource(&env, name, sandbox.base_url(), "Retain"))
            .await
            .expect("the resource is accepted");
        let first = env.wait_first_status(name, 12).await;
        eprintln!("first status {:?} after apply", applied.elapsed());
        assert_eq!(
            by_reason(&first).get("CallingPlanAssigned"),
            Some(&2),
            "{}",
            describe(&first)
        );
        env.wait_event(name, "Normal", "NumbersAssigned").await;
        expect_syncs(&mut operator, &env, name, 1, "the first sync").await;
        assert_change_trail(&operator.log(), &format!("{}/{name}", env.namespace), &sandbox);

        // sync-now: one sync, acknowledged in the status, with a new lastSyncTime.
        let value = env.sync_now(name).await;
        let handled = env.wait_handled(name, &value).await;
        assert_ne!(
            status(&handled).last_sync_time,
            status(&first).last_sync_time,
            "lastSyncTime is the time of the last sync"
        );
        expect_syncs(&mut operator, &env, name, 2, "sync-now").await;

        // Secret rotation: a wrong password, then the right one, twice (the second warning repeats
        // the first, which the Event recorder patches into a series).
        let mut syncs = 2;
        for round in 0..2 {
            env.rotate("teams-admin", "password", &wrong_password).await;
            env.wait(name, "AdminConnected=False (CredentialsInvalid)", |r| {
                r.is_some_and(|r| {
                    condition(r, "AdminConnected") == ("False".into(), "CredentialsInvalid".into())
                })
            })
            .await;
            syncs += 1;
            expect_syncs(
                &mut operator,
                &env,
                name,
                syncs,
                &format!("rotation {round} to a wrong password"),
            )
            .await;
            env.wait_event(name, "Warning", "CredentialsInvalid").await;
            env.rotate("teams-admin", "password", &password).await;
            env.wait(name, "AdminConnected=True", |r| {
                r.is_some_and(|r| condition(r, "AdminConnected").0 == "True")
            })
            .await;
            syncs += 1;
            expect_syncs(
                &mut operator,
                &env,
                name,
                syncs,
                &format!("rotation {round} back"),
            )
            .await;
        }

        // Suspend: no sync; resume: one.
        env.patch_spec(name, json!({"suspend": true})).await;
        env.wait(name, "Ready=True (Suspended)", |r| {
            r.is_some_and(|r| condition(r, "Ready") == ("True".into(), "Suspended".into()))
        })
        .await;
        expect_syncs(&mut operator, &env, name, syncs, "suspend").await;
        env.patch_spec(name, json!({"suspend": false})).await;
        syncs += 1;
        expect_syncs(&mut operator, &env, name, syncs, "resume").await;

        // A new generation: one sync, observed.
        env.patch_spec(name, json!({"safety": {"maxUnassignmentsPerSync": 50}}))
            .await;
        syncs += 1;
        expect_syncs(&mut operator, &env, name, syncs, "a spec change").await;
        env.wait(name, "observedGeneration == generation", |r| {
            r.is_some_and(observed)
        })
        .await;

        let log = operator.log();
        assert!(
            !log.contains("forbidden"),
            "a request was forbidden under the chart's RBAC:\n{log}"
        );
        assert!(
            log.lines()
                .any(|l| l.contains("synced") && l.contains(&format!("{}/{name}", env.namespace))),
            "one info line per sync:\n{log}"
        );
        let metrics = operator.metrics().await;
        assert!(
            metrics.contains("# TYPE"),
            "the operator serves its metrics:\n{metrics}"
        );
        let secrets = secrets_of(&sandbox, &[&password, &wrong_password, &api_key]);
        assert_no_secret_anywhere(&env, &[&operator], &secrets).await;

        let (took, exit) = operator.terminate().await;
        eprintln!("SIGTERM: exited {exit} after {took:?}");
        assert!(exit.success(), "exit status after SIGTERM: {exit}");
        assert!(took < Duration::from_secs(10), "SIGTERM took {took:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_status_permission_the_log_names_it_and_the_operator_keeps_running() {
    with_namespaces("binary-missing-rule", 1, |env, names| async move {
        let (password, api_key) = (secret_value(), secret_value());
        let org = org(4, 12, vec![(Case::InSync, 4)], &password, &api_key);
        let sandbox = env.start_sandbox(&org).await;
        env.put_credentials(&password, &api_key).await;
        let kubeconfig = operator_identity(&env, &names, Some(("teamstenantsyncs/status", "patch"))).await;
        let mut operator = OperatorProcess::start_for(&env, &kubeconfig, &names, &[]);
        operator.wait_ready().await;
        env.apply(&resource(&env, "contoso", sandbox.base_url(), "Retain"))
            .await
            .expect("the resource is accepted");
        let started = Instant::now();
        let expected = "cannot patch resource \"teamstenantsyncs/status\"";
        while !operator.log().contains(expected) {
            operator.assert_running();
            assert!(
                started.elapsed() < WAIT,
                "the log never named the missing permission:\n{}",
                operator.log()
            );
            tokio::time::sleep(POLL).await;
        }
        let log = operator.log();
        let line = log.lines().find(|l| l.contains(expected)).expect("the line");
        assert!(line.contains("lacks a permission"), "{line}");
        operator.assert_running();
        let (took, exit) = operator.terminate().await;
        assert!(
            exit.success() && took < Duration::from_secs(10),
            "{exit} after {took:?}"
        );
    })
    .await;
}
