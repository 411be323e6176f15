//! The operator's identity in a scenario: a ServiceAccount holding exactly the rules of
//! `deploy/rbac.yaml` (optionally less one), bound in the namespaces it watches, and a kubeconfig
//! with a token the apiserver minted for it (TokenRequest), as a pod would have.

use std::path::{Path, PathBuf};

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::{Value, json};

use crate::common::rbac::declared_rules;

use super::{Env, MANAGER};

/// The ServiceAccount the operator runs as, in the test's first namespace.
pub const SERVICE_ACCOUNT: &str = "operator";
/// Label on the cluster-scoped objects a test makes, so that cleanup finds them.
const OWNER_LABEL: &str = "dto-e2e-namespace";

/// Grants the ServiceAccount the declared rules in `watched` (the first is the test's namespace,
/// which also holds the Lease), leaving out the verb `without` = `(resource, verb)` if given, and
/// returns a kubeconfig file that authenticates as it.
pub async fn operator_identity(env: &Env, watched: &[String], without: Option<(&str, &str)>) -> PathBuf {
    let (mut rules, lease_rules) = declared_rules();
    if let Some((resource, verb)) = without {
        for rule in &mut rules {
            if rule
                .resources
                .as_ref()
                .is_some_and(|r| r.iter().any(|x| x == resource))
            {
                rule.verbs.retain(|v| v != verb);
            }
        }
        rules.retain(|rule| !rule.verbs.is_empty());
    }
    let ns = &env.namespace;
    let apply = PatchParams::apply(MANAGER).force();
    let accounts: Api<ServiceAccount> = Api::namespaced(env.client.clone(), ns);
    accounts
        .patch(
            SERVICE_ACCOUNT,
            &apply,
            &Patch::Apply(
                json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": SERVICE_ACCOUNT}}),
            ),
        )
        .await
        .expect("the ServiceAccount is created");
    let role_name = format!("dto-e2e-{ns}");
    let cluster_role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": role_name, "labels": {OWNER_LABEL: ns}},
        "rules": rules,
    });
    Api::<ClusterRole>::all(env.client.clone())
        .patch(&role_name, &apply, &Patch::Apply(cluster_role))
        .await
        .expect("the ClusterRole is created");
    let subject = json!([{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": ns}]);
    for namespace in watched {
        let binding = json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "dialpad-teams-operator", "namespace": namespace},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role_name},
            "subjects": subject,
        });
        Api::<RoleBinding>::namespaced(env.client.clone(), namespace)
            .patch("dialpad-teams-operator", &apply, &Patch::Apply(binding))
            .await
            .expect("the RoleBinding is created");
    }
    let lease_role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "leader-election", "namespace": ns}, "rules": lease_rules,
    });
    Api::<Role>::namespaced(env.client.clone(), ns)
        .patch("leader-election", &apply, &Patch::Apply(lease_role))
        .await
        .expect("the leader-election Role is created");
    let lease_binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "leader-election", "namespace": ns},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "leader-election"},
        "subjects": subject,
    });
    Api::<RoleBinding>::namespaced(env.client.clone(), ns)
        .patch("leader-election", &apply, &Patch::Apply(lease_binding))
        .await
        .expect("the leader-election RoleBinding is created");
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
    token_kubeconfig(&env.kubeconfig, ns, &token)
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

/// The declared rules bound cluster-wide (a ClusterRoleBinding), as `deploy/rbac.yaml` is
/// written: bindings inside a watched namespace go when it is deleted, and with them the right to
/// remove the finalizer there. Returns a kubeconfig that authenticates as the ServiceAccount.
pub async fn cluster_wide_operator_identity(env: &Env) -> PathBuf {
    let kubeconfig = operator_identity(env, &[], None).await;
    let ns = &env.namespace;
    let role_name = format!("dto-e2e-{ns}");
    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": role_name, "labels": {OWNER_LABEL: ns}},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role_name},
        "subjects": [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": ns}],
    });
    Api::<ClusterRoleBinding>::all(env.client.clone())
        .patch(
            &role_name,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(binding),
        )
        .await
        .expect("the ClusterRoleBinding is created");
    kubeconfig
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
