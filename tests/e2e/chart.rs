//! The chart's rendered manifests (`deploy/` and `tests/chart/all-on.yaml`, equal to a fresh
//! render: CI checks) against the real apiserver: every object of the three configurations is
//! accepted by a server-side dry-run apply (the Prometheus Operator's kinds under stand-in CRDs
//! that accept any spec, since its real CRDs cannot be fetched here), and
//! the operator's pod passes the `restricted` Pod Security Standard (a namespace enforcing it admits
//! the pod, and refuses the same pod without its security context, which shows the check is on).

use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use kube::discovery::{Scope, pinned_kind};
use serde_json::{Value, json};

use crate::common::rbac::{CLUSTER_WIDE, NAMESPACED};
use crate::harness::cluster::with_namespaces;
use crate::harness::*;

/// The objects of a render, with the release namespace and the example watched namespaces moved
/// to the test's namespaces.
fn rendered(path: &str, namespaces: &[String]) -> Vec<Value> {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    let text = text
        .replace(
            "namespace: dialpad-teams-operator",
            &format!("namespace: {}", namespaces[0]),
        )
        .replace("telephony-a", &namespaces[1])
        .replace("telephony-b", &namespaces[2])
        .replace("namespace: monitoring", &format!("namespace: {}", namespaces[0]));
    serde_yaml::Deserializer::from_str(&text)
        .map(|document| serde::Deserialize::deserialize(document).expect("YAML"))
        .filter(|value: &Value| !value.is_null())
        .collect()
}

/// The chart rendered with every option on.
const ALL_ON: &str = "tests/chart/all-on.yaml";

/// CRDs for ServiceMonitor and PrometheusRule that accept any spec: enough for the apiserver to
/// check everything but the Prometheus Operator's own schema. Left installed, like ours.
async fn install_monitoring_crds(env: &Env) {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    let crds: Api<CustomResourceDefinition> = Api::all(env.client.clone());
    for (plural, kind) in [
        ("servicemonitors", "ServiceMonitor"),
        ("prometheusrules", "PrometheusRule"),
    ] {
        let name = format!("{plural}.monitoring.coreos.com");
        let crd = json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": name},
            "spec": {
                "group": "monitoring.coreos.com", "scope": "Namespaced",
                "names": {"plural": plural, "kind": kind, "singular": kind.to_lowercase()},
                "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                    "type": "object", "x-kubernetes-preserve-unknown-fields": true}}}],
            },
        });
        crds.patch(
            &name,
            &PatchParams::apply("dto-e2e-chart").force(),
            &Patch::Apply(crd),
        )
        .await
        .unwrap_or_else(|e| panic!("the stand-in CRD {name} is installed: {e}"));
        let established = kube::runtime::wait::await_condition(
            crds.clone(),
            &name,
            kube::runtime::wait::conditions::is_crd_established(),
        );
        tokio::time::timeout(std::time::Duration::from_secs(30), established)
            .await
            .unwrap_or_else(|_| panic!("{name} is not established after 30 s"))
            .expect("watching the CRD");
    }
}

async fn dry_run_apply(env: &Env, object: &Value) {
    let (group, version) = match object["apiVersion"].as_str().unwrap().split_once('/') {
        Some((group, version)) => (group.to_owned(), version.to_owned()),
        None => (String::new(), object["apiVersion"].as_str().unwrap().to_owned()),
    };
    let kind = object["kind"].as_str().unwrap();
    let name = object["metadata"]["name"].as_str().unwrap();
    let gvk = GroupVersionKind::gvk(&group, &version, kind);
    let (resource, capabilities) = pinned_kind(&env.client, &gvk)
        .await
        .unwrap_or_else(|e| panic!("the apiserver serves {kind} {group}/{version}: {e}"));
    let api: Api<DynamicObject> = match capabilities.scope {
        Scope::Namespaced => {
            let namespace = object["metadata"]["namespace"].as_str().unwrap();
            Api::namespaced_with(env.client.clone(), namespace, &resource)
        }
        Scope::Cluster => Api::all_with(env.client.clone(), &resource),
    };
    let params = PatchParams::apply("dto-e2e-chart").force().dry_run();
    api.patch(name, &params, &Patch::Apply(object))
        .await
        .unwrap_or_else(|e| panic!("the apiserver refused {kind} {name} (dry run): {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rendered_chart_is_accepted_by_the_apiserver_and_its_pod_is_restricted() {
    with_namespaces("chart", 3, |env, names| async move {
        install_monitoring_crds(&env).await;
        let mut kinds = Vec::new();
        for path in [CLUSTER_WIDE, NAMESPACED, ALL_ON] {
            for object in rendered(path, &names) {
                dry_run_apply(&env, &object).await;
                kinds.push(format!(
                    "{}/{}",
                    object["kind"].as_str().unwrap(),
                    object["metadata"]["name"]
                ));
            }
        }
        eprintln!("accepted (dry run): {kinds:?}");
        assert!(kinds.len() >= 36, "{kinds:?}");
        for kind in ["ServiceMonitor", "PrometheusRule", "NetworkPolicy", "ConfigMap"] {
            assert!(
                kinds.iter().any(|k| k.starts_with(&format!("{kind}/"))),
                "{kind} missing: {kinds:?}"
            );
        }

        // The restricted Pod Security Standard, enforced on the test's namespace.
        let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(env.client.clone());
        let label = json!({"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "restricted"}}});
        namespaces
            .patch(&names[0], &PatchParams::default(), &Patch::Merge(&label))
            .await
            .expect("the namespace is labelled");
        let objects = rendered(CLUSTER_WIDE, &names);
        // The pod runs as the chart's ServiceAccount, which admission looks up: create it for real.
        let account = objects
            .iter()
            .find(|o| o["kind"] == "ServiceAccount")
            .expect("a ServiceAccount");
        Api::<k8s_openapi::api::core::v1::ServiceAccount>::namespaced(env.client.clone(), &names[0])
            .create(
                &PostParams::default(),
                &serde_json::from_value(account.clone()).unwrap(),
            )
            .await
            .expect("the ServiceAccount is created");
        let deployment = objects
            .into_iter()
            .find(|o| o["kind"] == "Deployment")
            .expect("a Deployment");
        let template = &deployment["spec"]["template"];
        let pod = |spec: Value| -> k8s_openapi::api::core::v1::Pod {
            serde_json::from_value(json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "operator-pss", "labels": template["metadata"]["labels"]},
                "spec": spec,
            }))
            .expect("a Pod")
        };
        let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(env.client.clone(), &names[0]);
        let dry_run = PostParams {
            dry_run: true,
            ..Default::default()
        };
        pods.create(&dry_run, &pod(template["spec"].clone()))
            .await
            .unwrap_or_else(|e| panic!("the operator's pod does not pass the restricted standard: {e}"));
        let mut loose = template["spec"].clone();
        loose["securityContext"] = json!({});
        loose["containers"][0]["securityContext"] = json!({});
        let refused = pods.create(&dry_run, &pod(loose)).await;
        assert!(
            matches!(&refused, Err(kube::Error::Api(status)) if status.is_forbidden()),
            "the restricted standard is not enforced here, so the check above proves nothing: {refused:?}"
        );
    })
    .await;
}
