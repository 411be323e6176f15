//! The cluster side of every scenario: the kubeconfig, the CRD, and a fresh namespace per test
//! that is cleaned up whether or not the test passed.

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dialpad_teams_operator::api::TeamsTenantSync;
use futures::FutureExt;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::{Api, Client, CustomResourceExt, ResourceExt};
use serde_json::json;

use super::{Env, MANAGER, POLL, WAIT};

const SKIP: &str = "skipping e2e: set E2E_KUBECONFIG to a kubeconfig of a disposable cluster (kind, k3d, or ../shared/k8s/up.sh)";
const CRD_NAME: &str = "teamstenantsyncs.teamssync.io";

/// The kubeconfig of the cluster under test. `None` skips the suite, except in CI (`CI` set),
/// where a missing cluster is a failure: CI must run these tests, not skip them.
pub fn kubeconfig() -> Option<PathBuf> {
    let path = std::env::var_os("E2E_KUBECONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    if path.is_none() && std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!(
            "CI is set but E2E_KUBECONFIG is not: in CI the e2e suite must run against a real apiserver (.ci/run starts one)"
        );
    }
    path
}

/// A client with the kubeconfig's (cluster-admin) identity.
pub async fn admin_client(path: &PathBuf) -> Client {
    dialpad_teams_operator::tls::ensure_crypto_provider();
    let kubeconfig = kube::config::Kubeconfig::read_from(path)
        .unwrap_or_else(|e| panic!("cannot read E2E_KUBECONFIG={}: {e}", path.display()));
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap_or_else(|e| panic!("E2E_KUBECONFIG={} is not usable: {e}", path.display()));
    Client::try_from(config).expect("a Kubernetes client")
}

/// Runs `body` with fresh namespaces (`count` of them; the first is `Env::namespace`), then strips
/// leftover finalizers and deletes them whether or not `body` panicked. Skips without a cluster.
/// Whatever operator `body` starts must be stopped when it returns (or unwinds).
pub async fn with_namespaces<F, Fut>(test: &str, count: usize, body: F)
where
    F: FnOnce(Env, Vec<String>) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(path) = kubeconfig() else {
        eprintln!("{SKIP}");
        return;
    };
    super::logs::install();
    let client = admin_client(&path).await;
    install_crd(&client).await;
    let base = format!("dto-e2e-{:08x}", rand::random::<u32>());
    let names: Vec<String> = (0..count.max(1))
        .map(|i| {
            if i == 0 {
                base.clone()
            } else {
                format!("{base}-{i}")
            }
        })
        .collect();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    for name in &names {
        let meta = ObjectMeta {
            name: Some(name.clone()),
            labels: Some(BTreeMap::from([("dto-e2e".to_owned(), "true".to_owned())])),
            ..Default::default()
        };
        namespaces
            .create(
                &PostParams::default(),
                &Namespace {
                    metadata: meta,
                    ..Default::default()
                },
            )
            .await
            .unwrap_or_else(|e| panic!("cannot create namespace {name}: {e}"));
    }
    eprintln!("{test}: namespaces {names:?}");
    let env = Env {
        client: client.clone(),
        namespace: base.clone(),
        kubeconfig: path.clone(),
        operator_exit: Arc::new(Mutex::new(None)),
        sandboxes: Arc::new(super::fixtures::SandboxSlots::reserve()),
    };
    let started = Instant::now();
    let outcome = AssertUnwindSafe(body(env, names.clone())).catch_unwind().await;
    cleanup(&client, &names).await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    // Counted by .ci/run: every scenario must print this line, or CI fails.
    eprintln!("e2e-passed: {test} in {:.1}s", started.elapsed().as_secs_f64());
}

/// Strips finalizers left by a failed test and deletes the namespaces and the cluster-scoped RBAC
/// objects a test made for them (best effort).
async fn cleanup(client: &Client, names: &[String]) {
    for namespace in names {
        let resources: Api<TeamsTenantSync> = Api::namespaced(client.clone(), namespace);
        if let Ok(list) = resources.list(&ListParams::default()).await {
            for resource in list.items.iter().filter(|r| !r.finalizers().is_empty()) {
                let strip = Patch::Merge(json!({"metadata": {"finalizers": null}}));
                if let Err(e) = resources
                    .patch(&resource.name_any(), &PatchParams::default(), &strip)
                    .await
                {
                    eprintln!(
                        "cleanup: cannot remove the finalizer of {}: {e}",
                        resource.name_any()
                    );
                }
            }
        }
        let namespaces: Api<Namespace> = Api::all(client.clone());
        // A scenario may have deleted it already.
        let deleted = namespaces.delete(namespace, &DeleteParams::background()).await;
        if let Err(e) = deleted.map(drop).or_else(|e| match e {
            kube::Error::Api(status) if status.is_not_found() => Ok(()),
            other => Err(other),
        }) {
            eprintln!(
                "cleanup: cannot delete namespace {namespace}: {e}; delete it with kubectl delete ns -l dto-e2e=true"
            );
        }
    }
    super::rbac::delete_cluster_roles(client, &names[0]).await;
}

/// Applies the CRD by server-side apply and waits until the apiserver serves it.
async fn install_crd(client: &Client) {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let started = Instant::now();
    // Tests apply it concurrently: a create racing another create gets a conflict, so retry.
    while let Err(e) = crds
        .patch(
            CRD_NAME,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(&TeamsTenantSync::crd()),
        )
        .await
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "cannot apply the CRD {CRD_NAME} (is the kubeconfig cluster-admin?): {e}"
        );
        tokio::time::sleep(POLL).await;
    }
    loop {
        let crd = crds.get(CRD_NAME).await;
        let conditions = crd
            .as_ref()
            .ok()
            .and_then(|c| c.status.as_ref()?.conditions.clone())
            .unwrap_or_default();
        if conditions
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True")
        {
            return;
        }
        let seen = match &crd {
            Ok(_) => format!("{conditions:?}"),
            Err(e) => e.to_string(),
        };
        assert!(
            started.elapsed() < WAIT,
            "timed out after {WAIT:?} waiting for CRD {CRD_NAME} to be Established; last seen: {seen}"
        );
        tokio::time::sleep(POLL).await;
    }
}
