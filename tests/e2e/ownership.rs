//! Ownership on a real apiserver, with the binary under the chart's RBAC: one resource per
//! tenant (a second is refused, names the first, and takes over when it goes), and deleting a
//! namespace with a resource inside: it completes within a minute, unassigning only what the
//! resource assigned, with the last sync's sign-in after the Secrets are gone; and when nothing
//! can sign in any more, it still completes after the cleanup timeout and leaves a record in the
//! operator's namespace.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use dialpad_teams_operator::controller::claim::{OPERATOR_ANNOTATION, lease_name};
use dialpad_teams_operator::controller::record_store::{LEFT_ANNOTATION, OWNER_UID_LABEL};
use dialpad_teams_sandbox::Endpoint;
use dialpad_teams_sandbox::generator::{Case, TENANT_ID};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::api::events::v1::Event;
use kube::api::{DeleteParams, ListParams};
use kube::{Api, ResourceExt};

use crate::harness::cluster::with_namespaces;
use crate::harness::fixtures::*;
use crate::harness::process::OperatorProcess;
use crate::harness::rbac::{cluster_wide_operator_identity, operator_identity};
use crate::harness::*;

/// The numbers of the org's Dialpad users that had no assignment: the ones the operator assigns.
fn assigned_by_operator(org: &dialpad_teams_sandbox::generator::GeneratedOrg) -> Vec<String> {
    numbers_by_case(org)
        .into_iter()
        .filter(|(_, case)| *case == Case::NeedsAssignment)
        .map(|(number, _)| number)
        .collect()
}

async fn wait_until(what: &str, limit: Duration, mut done: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !done().await {
        assert!(
            started.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(POLL).await;
    }
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_resource_for_a_tenant_is_refused_and_takes_over_when_the_first_is_deleted() {
    with_namespaces("one-owner-per-tenant", 1, |env, names| async move {
        let (password, api_key) = (secret_value(), secret_value());
        let org = org(
            10,
            21,
            vec![(Case::InSync, 5), (Case::NeedsAssignment, 5)],
            &password,
            &api_key,
        );
        let mine = assigned_by_operator(&org);
        let sandbox = env.start_sandbox(&org).await;
        env.put_credentials(&password, &api_key).await;
        let kubeconfig = operator_identity(&env, &names, None).await;
        let mut operator = OperatorProcess::start_for(&env, &kubeconfig, &names, &[]);
        operator.wait_ready().await;

        env.apply(&resource(&env, "first", sandbox.base_url(), "Unassign"))
            .await
            .expect("accepted");
        let first = env.wait_first_status("first", 10).await;
        assert_eq!(
            status(&first).summary.as_ref().map(|s| s.owned),
            Some(5),
            "{}",
            describe(&first)
        );
        // The same tenant by one of its verified domains instead of its GUID: still one tenant.
        let by_domain = |policy: &str| {
            let mut second = resource(&env, "second", sandbox.base_url(), policy);
            second.spec.tenant.tenant_id = "contoso.onmicrosoft.com".into();
            second
        };
        env.apply(&by_domain("Unassign")).await.expect("accepted");
        let refused = env
            .wait("second", "Ready=False (DuplicateTenant)", |r| {
                r.is_some_and(|r| condition(r, "Ready") == ("False".into(), "DuplicateTenant".into()))
            })
            .await
            .expect("exists");
        let ready =
            dialpad_teams_operator::api::conditions::find_condition(&status(&refused).conditions, "Ready")
                .expect("Ready")
                .message
                .clone();
        assert!(
            ready.contains(&format!("{}/first", env.namespace)) && ready.contains(TENANT_ID),
            "names the owner and the tenant's GUID: {ready}"
        );
        assert_eq!(condition(&refused, "Stalled").0, "True", "{}", describe(&refused));
        env.wait_event("second", "Warning", "DuplicateTenant").await;
        assert_eq!(
            sandbox.counters().write_requests(),
            5,
            "only the owner wrote: five assignments, not ten"
        );

        // Deleting the refused one unassigns nothing (it owns nothing) and leaves the claim.
        env.delete_and_wait_gone("second").await;
        assert_eq!(
            sandbox.counters().write_requests(),
            5,
            "no write on deleting the refused one"
        );
        let leases: Api<Lease> = Api::namespaced(env.client.clone(), &env.namespace);
        let claim = lease_name(TENANT_ID);
        let holder = |lease: Lease| lease.spec.and_then(|s| s.holder_identity);
        let first_claim = leases.get(&claim).await.expect("the claim");
        assert_eq!(
            first_claim
                .annotations()
                .get(OPERATOR_ANNOTATION)
                .map(String::as_str),
            Some("operator"),
            "the claim names the operator replica that writes for its holder"
        );
        assert_eq!(holder(first_claim), Some(format!("{}/first", env.namespace)));

        // The second again, then delete the first: it unassigns exactly its five; the second takes
        // over, assigns them again and becomes the owner.
        env.apply(&by_domain("Retain")).await.expect("accepted");
        env.wait("second", "Ready=False (DuplicateTenant)", |r| {
            r.is_some_and(|r| condition(r, "Ready").1 == "DuplicateTenant")
        })
        .await;
        let unassigns_before = sandbox
            .counters()
            .requests_to(Endpoint::GraphUnassignNumber, "POST");
        env.delete_and_wait_gone("first").await;
        assert_eq!(
            sandbox
                .counters()
                .requests_to(Endpoint::GraphUnassignNumber, "POST")
                - unassigns_before,
            5,
            "the first unassigns the five it assigned and not the five that were there before"
        );
        let taken = env
            .wait("second", "the second to sync as the owner", |r| {
                r.is_some_and(|r| {
                    condition(r, "Ready").1 != "DuplicateTenant"
                        && r.status
                            .as_ref()
                            .and_then(|s| s.summary.as_ref())
                            .is_some_and(|s| s.owned == 5)
                })
            })
            .await
            .expect("exists");
        assert_ne!(condition(&taken, "Stalled").0, "True", "{}", describe(&taken));
        assert_eq!(
            holder(leases.get(&claim).await.expect("the claim")),
            Some(format!("{}/second", env.namespace))
        );
        let now_held = held(&sandbox);
        assert!(mine.iter().all(|n| now_held.contains_key(n)), "{now_held:?}");
        assert_no_refusal(&operator, None);
        operator.terminate().await;
    })
    .await;
}

/// Deletes `namespace` and waits until it is gone; returns how long that took.
async fn delete_namespace(env: &Env, namespace: &str, limit: Duration) -> Duration {
    let namespaces: Api<Namespace> = Api::all(env.client.clone());
    namespaces
        .delete(namespace, &DeleteParams::default())
        .await
        .expect("the namespace deletion is accepted");
    wait_until(&format!("namespace {namespace} to be gone"), limit, async || {
        matches!(namespaces.get_opt(namespace).await, Ok(None))
    })
    .await
}

async fn records(env: &Env) -> Vec<ConfigMap> {
    let maps: Api<ConfigMap> = Api::namespaced(env.client.clone(), &env.namespace);
    maps.list(&ListParams::default().labels(OWNER_UID_LABEL))
        .await
        .expect("listing records")
        .items
}

/// A tenant namespace (`names[1]`) with an `Unassign` resource synced by the binary, which keeps
/// its own objects in `names[0]`, under the chart's cluster-wide RBAC or its watchNamespaces RBAC
/// (whose cluster-wide finalizer grant outlives the RoleBinding deleted with the namespace).
struct SyncedNamespace {
    sandbox: dialpad_teams_sandbox::Sandbox,
    tenant: Env,
    kubeconfig: std::path::PathBuf,
    operator: OperatorProcess,
    /// The numbers the resource assigned.
    mine: Vec<String>,
}

async fn synced_namespace(
    env: &Env,
    names: &[String],
    half: u32,
    seed: u64,
    cluster_wide: bool,
) -> SyncedNamespace {
    let (password, api_key) = (secret_value(), secret_value());
    let mix = vec![(Case::InSync, half), (Case::NeedsAssignment, half)];
    let org = org(2 * half as usize, seed, mix, &password, &api_key);
    let sandbox = env.start_sandbox(&org).await;
    let tenant = env.in_namespace(&names[1]);
    tenant.put_credentials(&password, &api_key).await;
    let kubeconfig = if cluster_wide {
        cluster_wide_operator_identity(env).await
    } else {
        operator_identity(env, &names[1..], None).await
    };
    let mut operator = OperatorProcess::start_for(env, &kubeconfig, &names[1..], &[]);
    operator.wait_ready().await;
    tenant
        .apply(&resource(&tenant, "contoso", sandbox.base_url(), "Unassign"))
        .await
        .expect("accepted");
    tenant.wait_first_status("contoso", 2 * half as i32).await;
    let mine = assigned_by_operator(&org);
    let now_held = held(&sandbox);
    assert!(mine.iter().all(|n| now_held.contains_key(n)), "{now_held:?}");
    SyncedNamespace {
        sandbox,
        tenant,
        kubeconfig,
        operator,
        mine,
    }
}

/// No request was refused under the chart's RBAC, except Events in `deleted`: a namespace being
/// deleted loses its RoleBinding (and refuses new objects) while its resources are cleaned up.
fn assert_no_refusal(operator: &OperatorProcess, deleted: Option<&str>) {
    let log = operator.log();
    let refused: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("is forbidden: User"))
        .filter(|line| {
            !deleted.is_some_and(|ns| {
                line.contains("cannot create resource \"events\"")
                    && line.contains(&format!("in the namespace \"{ns}\""))
            })
        })
        .collect();
    assert!(
        refused.is_empty(),
        "a request was refused under the chart's RBAC:\n{log}"
    );
}

/// The Events in the operator's namespace (the test's first), reason -> note.
async fn operator_namespace_events(env: &Env) -> BTreeMap<String, String> {
    let events: Api<Event> = Api::namespaced(env.client.clone(), &env.namespace);
    events
        .list(&ListParams::default())
        .await
        .expect("Events")
        .items
        .into_iter()
        .map(|e| (e.reason.unwrap_or_default(), e.note.unwrap_or_default()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_namespace_unassigns_what_its_resource_assigned_within_a_minute() {
    with_namespaces("namespace-delete", 2, |env, names| async move {
        let SyncedNamespace {
            sandbox,
            mut operator,
            mine,
            ..
        } = synced_namespace(&env, &names, 4, 22, true).await;
        assert_eq!(
            records(&env).await.len(),
            1,
            "the ownership record is in the operator's namespace"
        );
        let before = held(&sandbox);

        let took = delete_namespace(&env, &names[1], Duration::from_secs(60)).await;
        eprintln!("namespace deleted in {took:?}");
        let after = held(&sandbox);
        let still: Vec<&String> = mine.iter().filter(|n| after.contains_key(*n)).collect();
        assert!(still.is_empty(), "numbers it assigned still held: {still:?}");
        assert_eq!(
            after.len(),
            before.len() - mine.len(),
            "only its own numbers went: {after:?}"
        );
        assert!(records(&env).await.is_empty(), "the record goes with the numbers");
        // The resource's namespace refuses new Events while it terminates: the outcome is told in
        // the operator's namespace instead.
        let reasons = operator_namespace_events(&env).await;
        let note = reasons
            .get("NumbersUnassigned")
            .unwrap_or_else(|| panic!("no NumbersUnassigned Event in the operator's namespace: {reasons:?}"));
        assert!(
            note.contains(&format!("Unassigned {} number(s)", mine.len())),
            "{note}"
        );
        let leases: Api<Lease> = Api::namespaced(env.client.clone(), &env.namespace);
        assert!(
            leases
                .get_opt(&lease_name(TENANT_ID))
                .await
                .expect("reading")
                .is_none(),
            "the claim is released"
        );
        assert_no_refusal(&operator, Some(&names[1]));
        operator.terminate().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespace_whose_resource_cannot_sign_in_any_more_is_deleted_and_a_record_is_left() {
    with_namespaces("namespace-delete-left", 2, |env, names| async move {
        let SyncedNamespace {
            sandbox,
            tenant,
            kubeconfig,
            mut operator,
            mine,
        } = synced_namespace(&env, &names, 3, 23, false).await;
        operator.terminate().await;

        // The Secrets go while no operator runs, and the next one has never signed in.
        for secret in ["teams-admin", "dialpad"] {
            tenant
                .secrets()
                .delete(secret, &DeleteParams::default())
                .await
                .expect("Secret deleted");
        }
        let mut operator =
            OperatorProcess::start_for(&env, &kubeconfig, &names[1..], &["--cleanup-timeout", "10s"]);
        operator.wait_ready().await;
        tenant
            .wait("contoso", "SecretInvalid after the Secrets went", |r| {
                r.is_some_and(|r| condition(r, "Ready").1 == "SecretInvalid")
            })
            .await;

        let took = delete_namespace(&env, &names[1], Duration::from_secs(60)).await;
        eprintln!("namespace deleted in {took:?}");
        assert!(
            took >= Duration::from_secs(5),
            "it tried before giving up: {took:?}"
        );
        let after = held(&sandbox);
        assert!(
            mine.iter().all(|n| after.contains_key(n)),
            "nothing could be unassigned: {after:?}"
        );
        let left = records(&env).await;
        assert_eq!(left.len(), 1, "the record stays in the operator's namespace");
        let record = &left[0];
        assert!(record.annotations().contains_key(LEFT_ANNOTATION), "{record:?}");
        let listed = record
            .data
            .as_ref()
            .and_then(|d| d.get("numbers"))
            .cloned()
            .unwrap_or_default();
        assert!(mine.iter().all(|n| listed.contains(n.as_str())), "{listed}");
        let reasons = operator_namespace_events(&env).await;
        let note = reasons
            .get("NumbersLeftAssigned")
            .unwrap_or_else(|| panic!("{reasons:?}"));
        assert!(note.contains("leaving 3 number(s)"), "{note}");
        let metrics = operator.metrics().await;
        assert!(
            metrics
                .lines()
                .any(|l| l.starts_with("dialpad_teams_numbers_left_on_delete_total{") && l.ends_with(" 3")),
            "{metrics}"
        );
        assert_no_refusal(&operator, Some(&names[1]));
        operator.terminate().await;
    })
    .await;
}
