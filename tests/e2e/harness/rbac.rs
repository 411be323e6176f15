//! The operator's identity in a scenario: a ServiceAccount holding exactly the RBAC the Helm
//! chart renders (`deploy/`, checked against a fresh render by CI), in the chart's watchNamespaces
//! mode (Roles in the watched namespaces, optionally less one verb) or its cluster-wide mode, and a
//! kubeconfig with a token the apiserver minted for it (TokenRequest), as a pod would have.

use std::path::{Path, PathBuf};

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::{Value, json};

use crate::common::rbac::{CLUSTER_WIDE, NAMESPACED, chart_rbac};

use super::{Env, MANAGER};

/// The ServiceAccount the operator runs as, in the test's first namespace.
pub const SERVICE_ACCOUNT: &str = "operator";

/// The chart's Role in the operator's own namespace (the test's first namespace here).
const OWN_NAMESPACE_ROLE: &str = "dialpad-teams-operator-own-namespace";

/// Label on the cluster-scoped objects a test makes, so that cleanup finds them.
const OWNER_LABEL: &str = "dto-e2e-namespace";

/// The chart's watchNamespaces mode: its Role in each of `watched`, its Role in the test's
/// namespace (the operator's own), and its cluster-wide grant that outlives a deleted namespace's
/// RoleBinding; `without` = `(resource, verb)` is left out of all of them. Returns a kubeconfig
/// that authenticates as the account.
pub async fn operator_identity(env: &Env, watched: &[String], without: Option<(&str, &str)>) -> PathBuf {
    let rbac = chart_rbac(NAMESPACED);
    let (rules, cluster_extra) = match without {
        Some((resource, verb)) => (
            leave_out(&rbac.watched, resource, verb),
            leave_out(&rbac.cluster_extra, resource, verb),
        ),
        None => (rbac.watched.clone(), rbac.cluster_extra.clone()),
    };
    service_account(env).await;
    for namespace in watched {
        bind_role(env, namespace, "dialpad-teams-operator", &rules).await;
    }
    bind_role(env, &env.namespace, OWN_NAMESPACE_ROLE, &rbac.own_namespace).await;
    bind_cluster_role(env, "finalizers", &cluster_extra).await;
    mint_kubeconfig(env).await
}

/// `rules` without `verb` on `resource`; every other resource keeps every verb.
fn leave_out(rules: &[PolicyRule], resource: &str, verb: &str) -> Vec<PolicyRule> {
    let mut kept = Vec::new();
    for rule in rules {
        let resources = rule.resources.clone().unwrap_or_default();
        if !resources.iter().any(|r| r == resource) {
            kept.push(rule.clone());
            continue;
        }
        let others: Vec<String> = resources.into_iter().filter(|r| r != resource).collect();
        if !others.is_empty() {
            kept.push(PolicyRule {
                resources: Some(others),
                ..rule.clone()
            });
        }
        let verbs: Vec<String> = rule.verbs.iter().filter(|v| *v != verb).cloned().collect();
        if !verbs.is_empty() {
            kept.push(PolicyRule {
                resources: Some(vec![resource.to_owned()]),
                verbs,
                ..rule.clone()
            });
        }
    }
    kept
}

/// The chart's cluster-wide mode: its ClusterRole bound by a ClusterRoleBinding (which, unlike a
/// RoleBinding inside a watched namespace, outlives the namespace's deletion), and its Role in the
/// test's namespace.
pub async fn cluster_wide_operator_identity(env: &Env) -> PathBuf {
    let rbac = chart_rbac(CLUSTER_WIDE);
    service_account(env).await;
    bind_cluster_role(env, "watched", &rbac.watched).await;
    bind_role(env, &env.namespace, OWN_NAMESPACE_ROLE, &rbac.own_namespace).await;
    mint_kubeconfig(env).await
}

async fn service_account(env: &Env) {
    let accounts: Api<ServiceAccount> = Api::namespaced(env.client.clone(), &env.namespace);
    let account =
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": SERVICE_ACCOUNT}});
    accounts
        .patch(
            SERVICE_ACCOUNT,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(account),
        )
        .await
        .expect("the ServiceAccount is created");
}

fn subjects(env: &Env) -> Value {
    json!([{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": env.namespace}])
}

/// A Role `name` with `rules` in `namespace`, bound to the account.
async fn bind_role(env: &Env, namespace: &str, name: &str, rules: &[PolicyRule]) {
    let apply = PatchParams::apply(MANAGER).force();
    let role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": name, "namespace": namespace}, "rules": rules,
    });
    Api::<Role>::namespaced(env.client.clone(), namespace)
        .patch(name, &apply, &Patch::Apply(role))
        .await
        .unwrap_or_else(|e| panic!("the Role {namespace}/{name} is created: {e}"));
    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": subjects(env),
    });
    Api::<RoleBinding>::namespaced(env.client.clone(), namespace)
        .patch(name, &apply, &Patch::Apply(binding))
        .await
        .unwrap_or_else(|e| panic!("the RoleBinding {namespace}/{name} is created: {e}"));
}

/// A ClusterRole with `rules`, bound cluster-wide to the account; labelled for cleanup.
async fn bind_cluster_role(env: &Env, suffix: &str, rules: &[PolicyRule]) {
    let apply = PatchParams::apply(MANAGER).force();
    let name = format!("dto-e2e-{}-{suffix}", env.namespace);
    let labels = json!({OWNER_LABEL: env.namespace});
    let role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": name, "labels": labels}, "rules": rules,
    });
    Api::<ClusterRole>::all(env.client.clone())
        .patch(&name, &apply, &Patch::Apply(role))
        .await
        .expect("the ClusterRole is created");
    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": name, "labels": labels},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": subjects(env),
    });
    Api::<ClusterRoleBinding>::all(env.client.clone())
        .patch(&name, &apply, &Patch::Apply(binding))
        .await
        .expect("the ClusterRoleBinding is created");
}

/// A token the apiserver mints for the account, in a kubeconfig.
async fn mint_kubeconfig(env: &Env) -> PathBuf {
    let accounts: Api<ServiceAccount> = Api::namespaced(env.client.clone(), &env.namespace);
    let request = TokenRequest {
        spec: TokenRequestSpec {
            audiences: Vec::new(),
            expiration_seconds: Some(3600),
            ..Default::default()
        },
        ..Default::default()
    };
    let minted: TokenRequest = accounts
        .create_subresource("token", SERVICE_ACCOUNT, &PostParams::default(), &request)
        .await
        .expect("the apiserver mints a ServiceAccount token");
    let token = minted.status.expect("a token").token;
    token_kubeconfig(&env.kubeconfig, &env.namespace, &token)
}

/// The admin kubeconfig's cluster with `token` as the user, written next to the test's logs.
fn token_kubeconfig(admin: &Path, namespace: &str, token: &str) -> PathBuf {
    let text = std::fs::read_to_string(admin).expect("the admin kubeconfig is readable");
    let mut config: Value = serde_yaml::from_str(&text).expect("the admin kubeconfig is YAML");
    let current = config["current-context"].as_str().unwrap_or_default().to_owned();
    let context = config["contexts"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == current.as_str()))
        .cloned()
        .expect("the admin kubeconfig has its current context");
    let cluster_name = context["context"]["cluster"].clone();
    let cluster = config["clusters"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == cluster_name))
        .cloned()
        .expect("the admin kubeconfig has the context's cluster");
    config = json!({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [cluster],
        "users": [{"name": "operator", "user": {"token": token}}],
        "contexts": [{"name": "operator", "context": {"cluster": cluster_name, "user": "operator", "namespace": namespace}}],
        "current-context": "operator",
    });
    let path = super::process::log_dir().join(format!("{namespace}.kubeconfig"));
    std::fs::write(&path, serde_yaml::to_string(&config).unwrap()).expect("the kubeconfig is written");
    path
}

/// Deletes the cluster-scoped objects made for the test whose first namespace is `namespace`.
pub async fn delete_cluster_roles(client: &Client, namespace: &str) {
    let selector = ListParams::default().labels(&format!("{OWNER_LABEL}={namespace}"));
    let bindings: Api<ClusterRoleBinding> = Api::all(client.clone());
    if let Err(e) = bindings
        .delete_collection(&DeleteParams::default(), &selector)
        .await
    {
        eprintln!("cleanup: cannot delete the ClusterRoleBinding of {namespace}: {e}");
    }
    let roles: Api<ClusterRole> = Api::all(client.clone());
    if let Err(e) = roles.delete_collection(&DeleteParams::default(), &selector).await {
        eprintln!("cleanup: cannot delete the ClusterRole of {namespace}: {e}");
    }
}
