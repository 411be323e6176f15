//! The planner within a targeted re-sync's scope: it decides only the scope's users, reads a
//! departure only on Teams users whose numbers were all read, and agrees with the full plan on
//! everything it decides.

use std::collections::HashSet;

use super::*;
use crate::sync::targets::PlanScope;

/// Ada (t1) and Bob (t2) desired, each to be assigned their number; Dennis (t9) gone, holding a
/// number this resource assigned, past a grace period of zero.
fn three() -> Case {
    let mut case = Case::new()
        .with_ada("E5", true)
        .dialpad("2", Some("b@c.com"), Some("+14155550101"))
        .teams("t2", "b@c.com", "E5", true)
        .with_dennis()
        .recorded("+14155550120", "t9");
    case.policy.grace_period = Duration::ZERO;
    case
}

fn scope(users: &[&str], holders: &[&str]) -> PlanScope {
    PlanScope {
        users: users.iter().map(|id| UserKey::Dialpad((*id).into())).collect(),
        holders: holders.iter().map(|h| (*h).to_owned()).collect(),
    }
}

#[test]
fn a_targeted_plan_decides_only_its_users_and_reads_no_departure_outside_its_holders() {
    let case = three();
    let planned = case.run_within(Some(&scope(&["1"], &["t1"])));
    let keys: Vec<&UserKey> = planned.outcomes.iter().map(|o| &o.key).collect();
    assert_eq!(
        keys,
        [&UserKey::Dialpad("1".into())],
        "Bob is out of scope, Dennis not read"
    );
    assert_eq!(planned.actions, [assign(0, "+14155550100", "t1")]);
    let with_dennis = case.run_within(Some(&scope(&["1"], &["t1", "t9"])));
    let departed: Vec<Reason> = with_dennis
        .outcomes
        .iter()
        .filter(|o| !o.desired)
        .map(|o| o.reason)
        .collect();
    assert_eq!(departed, [Reason::RemovalPending]);
    assert!(
        with_dennis
            .actions
            .iter()
            .any(|a| matches!(&a.kind, ActionKind::Unassign { number } if number == "+14155550120"))
    );
}

#[test]
fn a_targeted_plan_agrees_with_the_full_plan_on_everything_it_decides() {
    let case = three();
    let full = case.run();
    for (users, holders) in [
        (vec!["1"], vec!["t1"]),
        (vec!["2"], vec!["t2", "t9"]),
        (vec!["1", "2"], vec!["t1", "t2", "t9"]),
    ] {
        let within = scope(&users, &holders);
        let targeted = case.run_within(Some(&within));
        let expected: Vec<&UserOutcome> = full.outcomes.iter().filter(|o| within.decides(o)).collect();
        let got: Vec<&UserOutcome> = targeted.outcomes.iter().collect();
        assert_eq!(got, expected, "{users:?} {holders:?}");
        let kinds = |plan: &Plan, keep: &dyn Fn(&UserOutcome) -> bool| -> HashSet<String> {
            plan.actions
                .iter()
                .filter(|a| keep(&plan.outcomes[a.outcome]))
                .map(|a| format!("{:?}", a.kind))
                .collect()
        };
        assert_eq!(
            kinds(&targeted, &|_| true),
            kinds(&full, &|o| within.decides(o)),
            "{users:?}"
        );
    }
}

#[test]
fn a_holder_matched_by_a_user_outside_the_scope_is_no_departure() {
    // Bob is out of scope but his Teams account (read, in the holders) answers to his email: the
    // number it holds is his, not a departed user's.
    let case = three()
        .holds("t2", "+14155550101", false)
        .recorded("+14155550101", "t2");
    let planned = case.run_within(Some(&scope(&["1"], &["t1", "t2"])));
    assert!(
        planned.outcomes.iter().all(|o| o.desired),
        "{:?}",
        planned.outcomes
    );
    assert!(
        planned
            .actions
            .iter()
            .all(|a| matches!(a.kind, ActionKind::Assign { .. }))
    );
}
