//! The RBAC the Helm chart grants, read from its committed renders in `deploy/` (which CI checks
//! against a fresh render), for the tests that compare it with the code and the e2e suite that runs
//! the operator under it.

use k8s_openapi::api::rbac::v1::PolicyRule;
use serde_json::Value;

/// The RBAC of one chart configuration, by where it applies.
#[derive(Clone, Debug, Default)]
pub struct ChartRbac {
    /// Rules for the watched namespaces: the ClusterRole (cluster-wide mode) or the Role rendered
    /// in each watched namespace (watchNamespaces mode).
    pub watched: Vec<PolicyRule>,
    /// Rules of the Role in the operator's own namespace.
    pub own_namespace: Vec<PolicyRule>,
    /// Rules granted cluster-wide besides `watched` (the finalizer patch in watchNamespaces mode).
    pub cluster_extra: Vec<PolicyRule>,
    /// Whether `watched` is a ClusterRole.
    pub cluster_wide: bool,
}

/// The chart rendered with default values: cluster-wide.
pub const CLUSTER_WIDE: &str = "deploy/dialpad-teams-operator.yaml";
/// The chart rendered with `watchNamespaces: [telephony-a, telephony-b]`.
pub const NAMESPACED: &str = "deploy/dialpad-teams-operator-namespaced.yaml";

/// The operator container's arguments in the render at `path`, after `run`, without
/// `--metrics-addr` (each test process gets a port of its own).
pub fn chart_args(path: &str) -> Vec<String> {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    for document in serde_yaml::Deserializer::from_str(&text) {
        let value: Value =
            serde::Deserialize::deserialize(document).unwrap_or_else(|e| panic!("{path}: {e}"));
        if value["kind"] != "Deployment" {
            continue;
        }
        let args = &value["spec"]["template"]["spec"]["containers"][0]["args"];
        let args: Vec<String> = serde_json::from_value(args.clone()).expect("the container's args");
        return args
            .into_iter()
            .skip_while(|arg| arg == "run")
            .filter(|arg| !arg.starts_with("--metrics-addr"))
            .collect();
    }
    panic!("{path} has no Deployment")
}

/// The RBAC in the render at `path` (relative to the repository).
pub fn chart_rbac(path: &str) -> ChartRbac {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    let mut rbac = ChartRbac::default();
    for document in serde_yaml::Deserializer::from_str(&text) {
        let value: Value =
            serde::Deserialize::deserialize(document).unwrap_or_else(|e| panic!("{path}: {e}"));
        let name = value["metadata"]["name"].as_str().unwrap_or_default().to_owned();
        let rules = || serde_json::from_value::<Vec<PolicyRule>>(value["rules"].clone()).expect("rules");
        match value["kind"].as_str() {
            Some("ClusterRole") if name.ends_with("-finalizers") => rbac.cluster_extra = rules(),
            Some("ClusterRole") => {
                rbac.watched = rules();
                rbac.cluster_wide = true;
            }
            Some("Role") if name.ends_with("-own-namespace") => rbac.own_namespace = rules(),
            // The same Role in every watched namespace.
            Some("Role") => rbac.watched = rules(),
            _ => {}
        }
    }
    assert!(
        !rbac.watched.is_empty(),
        "{path} grants nothing in the watched namespaces"
    );
    assert!(
        !rbac.own_namespace.is_empty(),
        "{path} has no Role in the operator's namespace"
    );
    rbac
}
