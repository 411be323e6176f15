//! `deploy/rbac.yaml` grants every request the operator makes, without a cluster. (The e2e suite
//! runs the binary under exactly these rules against a real apiserver and fails on any
//! `forbidden`; this test names the request when a rule goes missing.)

mod common;

use common::rbac::declared_rules;
use k8s_openapi::api::rbac::v1::PolicyRule;

/// `(API group, resource, verb, what makes the request)`.
const CLUSTER_REQUESTS: &[(&str, &str, &str, &str)] = &[
    (
        "teamssync.io",
        "teamstenantsyncs",
        "get",
        "a refused resource reads the one that claimed its tenant",
    ),
    (
        "teamssync.io",
        "teamstenantsyncs",
        "list",
        "the controller's watcher (initial list)",
    ),
    (
        "teamssync.io",
        "teamstenantsyncs",
        "watch",
        "the controller's watcher",
    ),
    (
        "teamssync.io",
        "teamstenantsyncs",
        "patch",
        "the finalizer, added and removed by JSON patch",
    ),
    (
        "teamssync.io",
        "teamstenantsyncs/status",
        "patch",
        "the status, by server-side apply",
    ),
    ("", "secrets", "list", "the Secret cache (initial list)"),
    ("", "secrets", "watch", "the Secret cache"),
    ("events.k8s.io", "events", "create", "a new Event"),
    (
        "events.k8s.io",
        "events",
        "patch",
        "a repeated Event, counted as a series",
    ),
];

const LEASE_REQUESTS: &[(&str, &str, &str, &str)] = &[
    (
        "coordination.k8s.io",
        "leases",
        "get",
        "kube-lease-manager reads the Lease",
    ),
    (
        "coordination.k8s.io",
        "leases",
        "create",
        "kube-lease-manager creates it when missing",
    ),
    (
        "coordination.k8s.io",
        "leases",
        "patch",
        "locking, renewing and releasing",
    ),
    (
        "coordination.k8s.io",
        "leases",
        "list",
        "a standby's watch of the Lease (initial list)",
    ),
    (
        "coordination.k8s.io",
        "leases",
        "watch",
        "a standby's watch, to take over on release",
    ),
    (
        "coordination.k8s.io",
        "leases",
        "update",
        "a tenant claim taken over from a deleted resource, at the version read",
    ),
    (
        "coordination.k8s.io",
        "leases",
        "delete",
        "a tenant claim released on delete",
    ),
    ("", "configmaps", "list", "the ownership record, by owner label"),
    (
        "",
        "configmaps",
        "create",
        "a new shard of the ownership record (server-side apply)",
    ),
    (
        "",
        "configmaps",
        "patch",
        "the ownership record written, or marked as left",
    ),
    (
        "",
        "configmaps",
        "delete",
        "the ownership record of a deleted resource",
    ),
];

fn grants(rules: &[PolicyRule], group: &str, resource: &str, verb: &str) -> bool {
    let has = |list: &Option<Vec<String>>, item: &str| {
        list.as_ref()
            .is_some_and(|l| l.iter().any(|x| x == item || x == "*"))
    };
    rules.iter().any(|rule| {
        has(&rule.api_groups, group) && has(&rule.resources, resource) && rule.verbs.iter().any(|v| v == verb)
    })
}

#[test]
fn deploy_rbac_grants_every_request_the_operator_makes() {
    let (cluster, lease) = declared_rules();
    for (rules, requests) in [(&cluster, CLUSTER_REQUESTS), (&lease, LEASE_REQUESTS)] {
        for (group, resource, verb, why) in requests {
            assert!(
                grants(rules, group, resource, verb),
                "deploy/rbac.yaml does not grant {verb} on {resource} ({group:?}), needed for {why}"
            );
        }
    }
}

#[test]
fn deploy_rbac_grants_nothing_else() {
    let (cluster, lease) = declared_rules();
    for (rules, requests) in [(&cluster, CLUSTER_REQUESTS), (&lease, LEASE_REQUESTS)] {
        for rule in rules {
            for group in rule.api_groups.iter().flatten() {
                for resource in rule.resources.iter().flatten() {
                    for verb in &rule.verbs {
                        let needed = requests
                            .iter()
                            .any(|(g, r, v, _)| g == group && r == resource && v == verb);
                        assert!(
                            needed,
                            "deploy/rbac.yaml grants {verb} on {resource} ({group:?}) that no request needs"
                        );
                    }
                }
            }
        }
    }
}
