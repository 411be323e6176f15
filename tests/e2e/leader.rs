//! Two replicas of the binary started with the chart's default arguments (one replica's, as a
//! rolling update starts the new pod beside the old): only the Lease holder syncs, so one resource
//! gets one set of writes; `kill -9` of the leader hands over within the lease duration and syncs
//! go on; a restarted replica stands by and never assigns a number twice; SIGTERM of the leader
//! releases the Lease, so the other takes over at once.

use std::time::{Duration, Instant};

use dialpad_teams_sandbox::Endpoint;
use dialpad_teams_sandbox::generator::Case;
use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;

use crate::common::rbac::{CLUSTER_WIDE, chart_args};
use crate::harness::cluster::with_namespaces;
use crate::harness::fixtures::*;
use crate::harness::process::OperatorProcess;
use crate::harness::rbac::operator_identity;
use crate::harness::*;

const LEASE: &str = "dialpad-teams-operator";
const LEASE_DURATION: Duration = Duration::from_secs(15);

async fn holder(env: &Env) -> Option<String> {
    let leases: Api<Lease> = Api::namespaced(env.client.clone(), &env.namespace);
    leases.get_opt(LEASE).await.ok()??.spec?.holder_identity
}

/// Waits until `identity` holds the Lease; returns how long that took.
async fn wait_holder(env: &Env, identity: &str) -> Duration {
    let started = Instant::now();
    loop {
        let seen = holder(env).await;
        if seen.as_deref() == Some(identity) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < WAIT,
            "{identity} never held the Lease; holder: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_leader_syncs_and_a_killed_or_stopped_leader_is_replaced() {
    with_namespaces("leader-election", 1, |env, names| async move {
        let (password, api_key) = (secret_value(), secret_value());
        let org = org(
            10,
            13,
            vec![(Case::InSync, 5), (Case::NeedsAssignment, 5)],
            &password,
            &api_key,
        );
        let sandbox = env.start_sandbox(&org).await;
        env.put_credentials(&password, &api_key).await;
        let kubeconfig = operator_identity(&env, &names, None).await;
        let ns = env.namespace.clone();
        // What the chart's Deployment runs with default values (leader election included), plus
        // what it takes from the pod (POD_NAMESPACE, POD_NAME) and the test's scope and sandbox.
        let chart = chart_args(CLUSTER_WIDE);
        assert!(chart.contains(&"--leader-election=true".to_owned()), "{chart:?}");
        let replica = |identity: &str| {
            let mut args: Vec<&str> = chart.iter().map(String::as_str).collect();
            args.extend([
                "--namespace",
                &ns,
                "--operator-namespace",
                &ns,
                "--identity",
                identity,
                "--allowed-endpoint",
                sandbox.base_url(),
            ]);
            OperatorProcess::start(&format!("{ns}-{identity}"), &kubeconfig, &args)
        };
        let mut a = replica("a");
        a.wait_ready().await;
        wait_holder(&env, "a").await;
        let mut b = replica("b");
        let standby_ready = b.wait_ready().await;
        eprintln!("standby b ready after {standby_ready:?}");

        let name = "contoso";
        env.apply(&resource(&env, name, sandbox.base_url(), "Retain"))
            .await
            .expect("the resource is accepted");
        let value = env.sync_now(name).await;
        env.wait_handled(name, &value).await;
        assert!(a.syncs_of(&ns, name).await >= 1, "the leader syncs");
        assert!(
            b.syncs().await.is_empty(),
            "the standby never syncs: {:?}",
            b.syncs().await
        );
        assert_eq!(
            sandbox.counters().write_requests(),
            5,
            "one set of writes for the one resource: the five numbers, once"
        );

        // kill -9: no release; b takes over when the Lease expires.
        a.kill();
        let failover = wait_holder(&env, "b").await;
        eprintln!("failover after kill -9: {failover:?}");
        assert!(
            failover <= LEASE_DURATION + Duration::from_secs(3),
            "{failover:?}"
        );
        let value = env.sync_now(name).await;
        env.wait_handled(name, &value).await;
        assert!(b.syncs_of(&ns, name).await >= 1, "the new leader syncs");

        // The killed replica comes back as a standby and changes nothing.
        let mut a = replica("a");
        a.wait_ready().await;
        let value = env.sync_now(name).await;
        env.wait_handled(name, &value).await;
        assert!(
            a.syncs().await.is_empty(),
            "a restarted replica stands by: {:?}",
            a.syncs().await
        );
        let assignments = sandbox
            .counters()
            .requests_to(Endpoint::GraphAssignNumber, "POST");
        assert_eq!(assignments, 5, "each of the 5 numbers assigned once, none twice");

        // SIGTERM: b releases the Lease and a takes over at once.
        let (took, exit) = b.terminate().await;
        assert!(
            exit.success() && took < Duration::from_secs(10),
            "{exit} after {took:?}"
        );
        let handover = wait_holder(&env, "a").await;
        eprintln!("SIGTERM of the leader: exited after {took:?}, handover {handover:?} later");
        assert!(
            handover < Duration::from_secs(5),
            "the Lease was not released: {handover:?}"
        );
        let value = env.sync_now(name).await;
        env.wait_handled(name, &value).await;
        assert!(
            a.syncs_of(&ns, name).await >= 1,
            "the replica that took over syncs"
        );
        a.assert_running();
        let secrets = secrets_of(&sandbox, &[&password, &api_key]);
        assert_no_secret_anywhere(&env, &[&a, &b], &secrets).await;
    })
    .await;
}
