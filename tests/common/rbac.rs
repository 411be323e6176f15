//! The rules of `deploy/rbac.yaml`, for the tests that check them and the e2e suite that runs the
//! operator under them.

use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule, Role};
use serde_json::Value;

/// `(ClusterRole rules, leader-election Role rules)` of `deploy/rbac.yaml`.
pub fn declared_rules() -> (Vec<PolicyRule>, Vec<PolicyRule>) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/rbac.yaml");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (mut cluster, mut lease) = (None, None);
    for document in serde_yaml::Deserializer::from_str(&text) {
        let value: Value = serde::Deserialize::deserialize(document).expect("deploy/rbac.yaml is YAML");
        match value["kind"].as_str() {
            Some("ClusterRole") => cluster = serde_json::from_value::<ClusterRole>(value).unwrap().rules,
            Some("Role") => lease = serde_json::from_value::<Role>(value).unwrap().rules,
            _ => {}
        }
    }
    (
        cluster.expect("deploy/rbac.yaml has a ClusterRole with rules"),
        lease.expect("deploy/rbac.yaml has a leader-election Role with rules"),
    )
}
