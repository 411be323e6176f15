//! The operator's controller loop in this test process (`run_until`, as `run` calls it) against
//! the real apiserver: a tenant with Calling Plan users (reasons, sync-now, Secret rotation,
//! `Unassign` on delete) and a tenant without failures (Ready, admission, `Retain` on delete).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dialpad_teams_operator::api::conditions::find_condition;
use dialpad_teams_operator::connect::ConnectOptions;
use dialpad_teams_operator::controller::{ControllerConfig, OperatorSettings, run_until};
use dialpad_teams_operator::telemetry::Metrics;
use dialpad_teams_operator::telemetry::server::Readiness;
use dialpad_teams_operator::upstream::{NotRecorded, RetryPolicy, http_client};
use dialpad_teams_sandbox::Endpoint;
use dialpad_teams_sandbox::generator::Case;

use crate::harness::cluster::with_namespaces;
use crate::harness::fixtures::*;
use crate::harness::*;

/// Runs `body` with the controller running in this process and watching the test's namespace;
/// stops it afterwards (also when `body` panicked) and fails if it does not stop in time.
async fn with_operator<F, Fut>(test: &str, body: F)
where
    F: FnOnce(Env) -> Fut,
    Fut: Future<Output = ()>,
{
    with_namespaces(test, 1, |env, _| async move {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let readiness = Readiness::new();
        let config = ControllerConfig {
            namespaces: vec![env.namespace.clone()],
            leader_election: None,
            connect: ConnectOptions {
                http: http_client(&[]).expect("an HTTP client"),
                retry: RetryPolicy {
                    max_attempts: 3,
                    base: Duration::from_millis(50),
                    cap: Duration::from_secs(1),
                    ..Default::default()
                },
                graph_requests_per_second: None,
                dialpad_requests_per_second: None,
                allowed_endpoints: env.allowed_sandboxes(),
                upstream_calls: Arc::new(NotRecorded),
                policy_types: Default::default(),
            },
            settings: OperatorSettings {
                operator_namespace: env.namespace.clone(),
                ..Default::default()
            },
            readiness: readiness.clone(),
            metrics: Arc::new(Metrics::new()),
        };
        let mut operator = tokio::spawn({
            let (client, exit) = (env.client.clone(), env.operator_exit.clone());
            async move {
                let result = run_until(client, config, async move {
                    let _ = stopped.await;
                })
                .await;
                *exit.lock().expect("exit lock") = Some(format!("{result:?}"));
                result
            }
        });
        let started = Instant::now();
        while !readiness.is_ready() {
            env.check_operator("the operator to report ready");
            assert!(
                started.elapsed() < WAIT,
                "timed out after {WAIT:?} waiting for the operator to report ready"
            );
            tokio::time::sleep(POLL).await;
        }
        let outcome = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(body(env))).await;
        let _ = stop.send(());
        let shutdown = tokio::time::timeout(Duration::from_secs(10), &mut operator).await;
        if let Err(panic) = outcome {
            operator.abort();
            std::panic::resume_unwind(panic);
        }
        match shutdown {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => panic!("the operator returned an error: {e}"),
            Ok(Err(e)) => panic!("the operator task failed: {e}"),
            Err(_) => {
                operator.abort();
                panic!("the operator did not stop within 10s of the shutdown signal");
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_with_calling_plan_users_syncs_reports_rotates_secrets_and_unassigns_on_delete() {
    with_operator("calling-plan", |env| async move {
        let (password, wrong_password, api_key) = (secret_value(), secret_value(), secret_value());
        let mix = vec![
            (Case::InSync, 10),
            (Case::NeedsAssignment, 8),
            (Case::CallingPlanAssigned, 2),
        ];
        let org = org(20, 7, mix, &password, &api_key);
        let numbers = numbers_by_case(&org);
        let sandbox = env.start_sandbox(&org).await;
        env.put_credentials(&password, &api_key).await;
        let name = "contoso";
        env.apply(&resource(&env, name, sandbox.base_url(), "Unassign"))
            .await
            .expect("the resource is accepted");

        // 1. The first sync: finalizer, all 20 desired users, each with its reason.
        let first = env.wait_first_status(name, 20).await;
        let users = &status(&first).users;
        assert_eq!(
            (users.len(), status(&first).users_omitted),
            (10, 0),
            "the 10 users not in sync listed, the 10 in sync only counted: {}",
            describe(&first)
        );
        for user in users {
            let synced = find_condition(&user.conditions, "Synced").expect("every user has Synced");
            let case = user.dialpad_user_id.as_ref().map(|id| org.truth[id]);
            match synced.reason.as_str() {
                "CallingPlanAssigned" => {
                    assert_eq!(synced.status, "False", "{user:?}");
                    assert_eq!(case, Some(Case::CallingPlanAssigned), "{user:?}");
                }
                "InSync" => assert_eq!(synced.status, "True", "{user:?}"),
                "AssignmentPending" => assert_eq!(case, Some(Case::NeedsAssignment), "{user:?}"),
                other => panic!("unexpected reason {other} for {user:?}"),
            }
        }
        assert_eq!(
            by_reason(&first).get("CallingPlanAssigned"),
            Some(&2),
            "{}",
            describe(&first)
        );

        // 2. A sync asked for with the annotation converges: 18 in sync, 2 Calling Plans.
        let reads = sandbox.counters().requests_to(Endpoint::DialpadUsers, "GET");
        env.sync_now(name).await;
        let expected = BTreeMap::from([("InSync".to_owned(), 18), ("CallingPlanAssigned".to_owned(), 2)]);
        let converged = env
            .wait(
                name,
                "a sync after the sync-now annotation with 18 users InSync and 2 CallingPlanAssigned",
                |r| {
                    r.is_some_and(|r| by_reason(r) == expected && observed(r))
                        && sandbox.counters().requests_to(Endpoint::DialpadUsers, "GET") > reads
                },
            )
            .await
            .expect("exists");
        let summary = status(&converged).summary.clone().expect("summary");
        assert_eq!(
            (summary.desired, summary.in_sync, summary.pending, summary.failed),
            (20, 18, 0, 2)
        );
        let users_synced =
            find_condition(&status(&converged).conditions, "UsersSynced").expect("UsersSynced");
        assert_eq!(
            (users_synced.status.as_str(), users_synced.reason.as_str()),
            ("False", "UsersNotInSync")
        );
        assert!(
            users_synced
                .message
                .starts_with("18 of 20 users in sync; 2 failed (CallingPlanAssigned: 2)"),
            "{}",
            users_synced.message
        );
        for type_ in ["AdminConnected", "AdminAuthorized", "SourceConnected"] {
            assert_eq!(
                condition(&converged, type_).0,
                "True",
                "{type_}: {}",
                describe(&converged)
            );
        }
        assert_eq!(
            condition(&converged, "Ready"),
            ("False".into(), "UsersNotInSync".into())
        );
        let held_before = held(&sandbox);
        for (number, case) in &numbers {
            let holds = held_before.contains_key(number);
            assert_eq!(
                holds,
                *case != Case::CallingPlanAssigned,
                "{number} ({case:?}) held: {holds}"
            );
        }
        env.wait_event(name, "Normal", "NumbersAssigned").await;

        // 3. A wrong password (the Secret watch triggers the sync), then the right one again.
        env.rotate("teams-admin", "password", &wrong_password).await;
        env.wait(
            name,
            "AdminConnected=False with reason CredentialsInvalid after the rotation",
            |r| {
                r.is_some_and(|r| {
                    condition(r, "AdminConnected") == ("False".into(), "CredentialsInvalid".into())
                })
            },
        )
        .await;
        let warning = env.wait_event(name, "Warning", "CredentialsInvalid").await;
        assert!(
            warning.note.as_deref().is_some_and(|n| !n.is_empty()),
            "{warning:?}"
        );
        env.rotate("teams-admin", "password", &password).await;
        let recovered = env
            .wait(
                name,
                "AdminConnected=True after rotating the password back",
                |r| r.is_some_and(|r| condition(r, "AdminConnected").0 == "True"),
            )
            .await
            .expect("exists");
        // In process, the operator logs to this test's output, which CI keeps; its status,
        // Events and the tokens it was given are scanned here.
        let secrets = secrets_of(&sandbox, &[&password, &wrong_password, &api_key]);
        assert_no_secret_anywhere(&env, &[], &secrets).await;

        // 4. Delete: the finalizer unassigns the 8 numbers it assigned; the 10 that were assigned
        //    before it ran (in sync, but not its own) stay, and so does the unmanaged one.
        assert_eq!(status(&recovered).summary.as_ref().map(|s| s.owned), Some(8));
        env.delete_and_wait_gone(name).await;
        let held_after = held(&sandbox);
        for (number, case) in &numbers {
            let holds = held_after.contains_key(number);
            assert_eq!(
                holds,
                *case == Case::InSync,
                "{number} ({case:?}) held after delete: {holds}"
            );
        }
        assert_eq!(
            held_after.get(UNMANAGED_NUMBER).map(String::as_str),
            Some(UNMANAGED_UPN),
            "{held_after:?}"
        );
        let unassigned = env.wait_event(name, "Normal", "NumbersUnassigned").await;
        assert!(
            unassigned
                .note
                .as_deref()
                .is_some_and(|n| n.contains("Unassigned 8 number")),
            "{unassigned:?}"
        );
        let events =
            serde_json::to_string(&env.events().await.expect("listing Events")).expect("Events serialize");
        for value in [&password, &wrong_password, &api_key] {
            assert!(
                !events.contains(value.as_str()),
                "a Secret value appears in an Event: {events}"
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_without_failures_becomes_ready_and_retain_keeps_numbers_on_delete() {
    with_operator("ready", |env| async move {
        let (password, api_key) = (secret_value(), secret_value());
        let org = org(
            10,
            8,
            vec![(Case::InSync, 6), (Case::NeedsAssignment, 4)],
            &password,
            &api_key,
        );
        let numbers = numbers_by_case(&org);
        let sandbox = env.start_sandbox(&org).await;
        env.put_credentials(&password, &api_key).await;
        let name = "fabrikam";
        let resource = resource(&env, name, sandbox.base_url(), "Retain");

        // The apiserver, not the operator, rejects a malformed spec (CEL rule on syncInterval).
        let mut invalid = resource.clone();
        invalid.spec.sync_interval = "30s".into();
        match env.apply(&invalid).await {
            Err(kube::Error::Api(status)) => {
                assert_eq!(status.code, 422, "{status:?}");
                assert!(
                    status.message.contains("must be at least 1m"),
                    "{}",
                    status.message
                );
            }
            other => panic!("a 30s syncInterval was not rejected at admission: {other:?}"),
        }

        // kstatus: while Teams activates the 4 assignments the first sync made, the operator is
        // doing its job (Ready True) and the tenant converges (Reconciling True, so kstatus says
        // InProgress); UsersSynced, what `kubectl wait --for=condition=UsersSynced` waits for,
        // is False until they are active.
        env.apply(&resource).await.expect("the resource is accepted");
        let first = env.wait_first_status(name, 10).await;
        assert_eq!(
            condition(&first, "Ready"),
            ("True".into(), "Synced".into()),
            "{}",
            describe(&first)
        );
        assert_eq!(condition(&first, "Reconciling").0, "True", "{}", describe(&first));
        assert_eq!(
            condition(&first, "UsersSynced").0,
            "False",
            "{}",
            describe(&first)
        );
        // The next sync (asked for here; it would come by itself 30 s later) sees them active.
        env.sync_now(name).await;
        let ready = env
            .wait(
                name,
                "condition UsersSynced=True for the current generation",
                |r| r.is_some_and(|r| condition(r, "UsersSynced").0 == "True" && observed(r)),
            )
            .await
            .expect("exists");
        let summary = status(&ready).summary.clone().expect("summary");
        assert_eq!(
            (summary.desired, summary.in_sync, summary.failed),
            (10, 10, 0),
            "UsersSynced means every user is in sync: {}",
            describe(&ready)
        );
        assert_eq!(
            condition(&ready, "UsersSynced"),
            ("True".into(), "AllUsersInSync".into())
        );
        assert_eq!(condition(&ready, "Reconciling"), (String::new(), String::new()));
        let held_before = held(&sandbox);
        assert!(
            numbers.keys().all(|n| held_before.contains_key(n)),
            "every number assigned: {held_before:?}"
        );
        assert_no_secret_anywhere(&env, &[], &secrets_of(&sandbox, &[&password, &api_key])).await;

        // Delete with removal policy Retain: the finalizer goes, Teams keeps every number.
        let writes = sandbox.counters().write_requests();
        env.delete_and_wait_gone(name).await;
        assert_eq!(held(&sandbox), held_before, "Retain leaves Teams as it was");
        assert_eq!(
            sandbox.counters().write_requests(),
            writes,
            "no write call on delete with Retain"
        );
    })
    .await;
}
