//! The chart's RBAC grants exactly the API requests the code lists in
//! `controller::permissions::API_REQUESTS`, in both configurations (cluster-wide, and
//! watchNamespaces), without a cluster: every request is granted where it goes, and every granted
//! verb is one the code uses. (The e2e suite runs the binary under these rules on a real apiserver
//! and fails on any `forbidden`.)

mod common;

use std::collections::BTreeSet;

use common::rbac::{CLUSTER_WIDE, ChartRbac, NAMESPACED, chart_rbac};
use dialpad_teams_operator::controller::permissions::{API_REQUESTS, GrantScope};
use k8s_openapi::api::rbac::v1::PolicyRule;

fn grants(rules: &[PolicyRule], group: &str, resource: &str, verb: &str) -> bool {
    let has = |list: &Option<Vec<String>>, item: &str| {
        list.as_ref()
            .is_some_and(|l| l.iter().any(|x| x == item || x == "*"))
    };
    rules.iter().any(|rule| {
        has(&rule.api_groups, group) && has(&rule.resources, resource) && rule.verbs.iter().any(|v| v == verb)
    })
}

/// Every `(group, resource, verb)` the rules grant.
fn granted(rules: &[PolicyRule]) -> BTreeSet<(String, String, String)> {
    let mut set = BTreeSet::new();
    for rule in rules {
        for group in rule.api_groups.iter().flatten() {
            for resource in rule.resources.iter().flatten() {
                for verb in &rule.verbs {
                    set.insert((group.clone(), resource.clone(), verb.clone()));
                }
            }
        }
    }
    set
}

fn needed(scope: GrantScope) -> BTreeSet<(String, String, String)> {
    API_REQUESTS
        .iter()
        .filter(|r| r.scope == scope)
        .map(|r| (r.group.to_owned(), r.resource.to_owned(), r.verb.to_owned()))
        .collect()
}

fn check_every_request_is_granted(path: &str, rbac: &ChartRbac) {
    for request in API_REQUESTS {
        let rules = match request.scope {
            GrantScope::Watched => &rbac.watched,
            GrantScope::OwnNamespace => &rbac.own_namespace,
        };
        assert!(
            grants(rules, request.group, request.resource, request.verb),
            "{path} does not grant {} on {} ({:?}) in the {:?} scope, needed for {}",
            request.verb,
            request.resource,
            request.group,
            request.scope,
            request.why
        );
    }
}

fn check_nothing_else_is_granted(path: &str, rbac: &ChartRbac) {
    for (rules, scope, what) in [
        (&rbac.watched, GrantScope::Watched, "the watched namespaces"),
        (
            &rbac.own_namespace,
            GrantScope::OwnNamespace,
            "the operator's namespace",
        ),
        (&rbac.cluster_extra, GrantScope::Watched, "cluster-wide"),
    ] {
        let extra: Vec<_> = granted(rules).difference(&needed(scope)).cloned().collect();
        assert!(
            extra.is_empty(),
            "{path} grants in {what} what no request of controller::permissions needs: {extra:?}"
        );
    }
}

#[test]
fn the_cluster_wide_chart_grants_every_request_the_operator_makes_and_nothing_else() {
    let rbac = chart_rbac(CLUSTER_WIDE);
    assert!(rbac.cluster_wide, "default values render a ClusterRole");
    check_every_request_is_granted(CLUSTER_WIDE, &rbac);
    check_nothing_else_is_granted(CLUSTER_WIDE, &rbac);
}

#[test]
fn the_namespaced_chart_grants_every_request_the_operator_makes_and_nothing_else() {
    let rbac = chart_rbac(NAMESPACED);
    assert!(!rbac.cluster_wide, "watchNamespaces renders Roles");
    check_every_request_is_granted(NAMESPACED, &rbac);
    check_nothing_else_is_granted(NAMESPACED, &rbac);
    assert_eq!(
        granted(&rbac.cluster_extra),
        BTreeSet::from([
            (
                "teamssync.io".to_owned(),
                "teamstenantsyncs".to_owned(),
                "patch".to_owned()
            ),
            (
                "teamssync.io".to_owned(),
                "teamstenantsyncs/status".to_owned(),
                "patch".to_owned()
            ),
        ]),
        "cluster-wide, only the finalizer and status patches that outlive a deleted namespace's RoleBinding"
    );
}
