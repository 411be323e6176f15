//! Fifty TeamsTenantSyncs in five namespaces, one binary watching the five, one sandboxed tenant
//! each (one resource per Microsoft tenant): all are reconciled, and a tenant whose sign-in hangs
//! (an endpoint that accepts and never answers) does not hold up the other forty-nine. A tenant of
//! 10,000 users with 1% failing reads as a few hundred lines.

use std::time::Instant;

use dialpad_teams_sandbox::generator::Case;
use tokio::net::TcpListener;

use crate::harness::cluster::with_namespaces;
use crate::harness::fixtures::*;
use crate::harness::process::OperatorProcess;
use crate::harness::rbac::operator_identity;
use crate::harness::*;

const NAMESPACES: usize = 5;
const PER_NAMESPACE: usize = 10;

/// A sign-in endpoint that accepts connections and never answers; returns its base URL.
async fn hanging_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://{address}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_resources_in_five_namespaces_sync_and_a_hanging_tenant_delays_none() {
    with_namespaces("scale", NAMESPACES, |env, names| async move {
        let (password, api_key) = (secret_value(), secret_value());
        let org = org(
            5,
            14,
            vec![(Case::InSync, 3), (Case::NeedsAssignment, 2)],
            &password,
            &api_key,
        );
        // A tenant of its own for each resource, with a distinct id; the operator allows them
        // all and the hanging sign-in endpoint, as a platform admin allows local sandboxes.
        let mut sandboxes = Vec::new();
        for index in 0..NAMESPACES * PER_NAMESPACE {
            let mut tenant = org.clone();
            tenant.fixture.tenant.id = format!("00000000-0000-4000-8000-{index:012}");
            let sandbox = dialpad_teams_sandbox::Sandbox::start(&tenant.fixture, Default::default())
                .await
                .expect("the sandbox starts");
            sandboxes.push((tenant.fixture.tenant.id.clone(), sandbox));
        }
        let hanging = hanging_endpoint().await;
        let mut allowed: Vec<String> = sandboxes.iter().map(|(_, s)| s.base_url().to_owned()).collect();
        allowed.push(hanging.clone());
        let allowed = allowed.join(",");
        let kubeconfig = operator_identity(&env, &names, None).await;
        let mut operator =
            OperatorProcess::start_for(&env, &kubeconfig, &names, &["--allowed-endpoint", &allowed]);
        operator.wait_ready().await;

        let started = Instant::now();
        let mut healthy = Vec::new();
        let mut tenants = sandboxes.iter();
        for namespace in &names {
            let ns_env = env.in_namespace(namespace);
            ns_env.put_credentials(&password, &api_key).await;
            for i in 0..PER_NAMESPACE {
                let name = format!("tenant-{i}");
                let (tenant_id, sandbox) = tenants.next().expect("a tenant for every resource");
                let mut resource = resource(&ns_env, &name, sandbox.base_url(), "Retain");
                resource.spec.tenant.tenant_id = tenant_id.clone();
                if namespace == &env.namespace && i == 0 {
                    if let Some(endpoints) = resource.spec.endpoints.as_mut() {
                        endpoints.login = hanging.clone();
                    }
                } else {
                    healthy.push((namespace.clone(), name));
                }
                ns_env.apply(&resource).await.expect("the resource is accepted");
            }
        }
        assert_eq!(healthy.len(), NAMESPACES * PER_NAMESPACE - 1);
        for (namespace, name) in &healthy {
            env.in_namespace(namespace)
                .wait(name, "a full status (5 desired, no failure)", |r| {
                    r.is_some_and(|r| {
                        observed(r)
                            && r.status
                                .as_ref()
                                .and_then(|s| s.summary.as_ref())
                                .is_some_and(|s| s.desired == 5 && s.failed == 0)
                    })
                })
                .await;
        }
        let all = started.elapsed();
        eprintln!(
            "{} resources reconciled {all:?} after the first apply",
            healthy.len()
        );
        assert_eq!(
            operator.syncs_of(&env.namespace, "tenant-0").await,
            0,
            "the hanging tenant is still signing in: the others did not wait for it"
        );
        operator.assert_running();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_users_with_one_percent_failing_describe_in_a_few_hundred_lines() {
    with_namespaces("describe-10k", 1, |env, names| async move {
        let (password, api_key) = (secret_value(), secret_value());
        let mix = vec![
            (Case::InSync, 396),
            (Case::CallingPlanAssigned, 2),
            (Case::TeamsUserNotFound, 1),
            (Case::PhoneSystemLicenseMissing, 1),
        ];
        let org = org(10_000, 31, mix, &password, &api_key);
        let sandbox = env.start_sandbox(&org).await;
        env.put_credentials(&password, &api_key).await;
        let kubeconfig = operator_identity(&env, &names, None).await;
        let mut operator = OperatorProcess::start_for(&env, &kubeconfig, &names, &[]);
        operator.wait_ready().await;
        let name = "contoso";
        env.apply(&resource(&env, name, sandbox.base_url(), "Retain"))
            .await
            .expect("the resource is accepted");
        let synced = env.wait_first_status(name, 10_000).await;
        let summary = status(&synced).summary.clone().expect("summary");
        let failing = summary.failed as usize;
        assert!((50..=150).contains(&failing), "about 1% failing: {failing}");
        let users = &status(&synced).users;
        assert!(users.len() <= 25, "{} users listed", users.len());
        assert_eq!(
            users.len() + status(&synced).users_omitted as usize,
            failing,
            "the failing users are listed or counted; the {} in sync are counted",
            summary.in_sync
        );
        // What `kubectl get -o yaml` shows (it hides managedFields, and so does describe).
        let mut shown = synced.clone();
        shown.metadata.managed_fields = None;
        let yaml = serde_yaml::to_string(&shown).expect("YAML");
        let lines = yaml.lines().count();
        eprintln!("the resource is {lines} lines of YAML");
        assert!(lines < 400, "{lines} lines:\n{yaml}");
        // Where kubectl is installed, the real thing too.
        let describe = std::process::Command::new("kubectl")
            .args([
                "describe",
                "teamstenantsync",
                name,
                "--namespace",
                env.namespace.as_str(),
            ])
            .env("KUBECONFIG", &env.kubeconfig)
            .output();
        if let Some(output) = describe.ok().filter(|o| o.status.success()) {
            let lines = String::from_utf8_lossy(&output.stdout).lines().count();
            eprintln!("kubectl describe prints {lines} lines");
            assert!(lines < 400, "{lines} lines");
        }
        operator.terminate().await;
    })
    .await;
}
