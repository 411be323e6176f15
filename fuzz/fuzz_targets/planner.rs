//! The planner on arbitrary snapshots: desired users, Teams users and numbers, the source's
//! inventory, the ownership record, earlier outcomes, retries and policies, all drawn from small
//! alphabets so that emails, ids and numbers collide. It never panics, plans the same twice, and
//! plans only what its rules allow; above all, it unassigns only a number of the source's
//! inventory that the ownership record holds for the user Teams shows it on, it replaces a
//! number on a user only when overwriting is allowed or the number is the inventory's and the
//! record holds it for that user (or adoption takes it over), and the numbers it takes off users
//! in one sync never exceed the limit. A targeted re-sync's plan over a scope of the same
//! snapshot obeys the same rules and agrees with the full plan on what it decides.

#![no_main]

use dialpad_teams_operator::api::{Reason, RemovalPolicy, SyncMode};
use dialpad_teams_operator::sync::input::PlanInput;
use dialpad_teams_operator::sync::model::{ActionKind, Plan, UserKey, UserOutcome};
use dialpad_teams_operator::sync::numbers::normalise;
use dialpad_teams_operator::sync::plan::plan;
use dialpad_teams_operator::sync::policies::{PolicyChange, PolicySource};
use dialpad_teams_operator::sync::targets::PlanScope;
use dialpad_teams_operator_fuzz::Snapshot;
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: dialpad_teams_operator_fuzz::warm_up(), |data: &[u8]| {
    let mut input = arbitrary::Unstructured::new(data);
    let Ok(snapshot) = Snapshot::build(&mut input) else {
        return;
    };
    let input = snapshot.input();
    let planned = plan(&input);
    assert_eq!(planned, plan(&input), "the same snapshot planned twice differs");
    check_outcomes(&input, &planned);
    for action in &planned.actions {
        match &action.kind {
            ActionKind::Unassign { number } => check_unassignment(&input, &planned, action.outcome, number),
            ActionKind::Assign { number, user_id, .. } => {
                check_assignment(&input, &planned, action.outcome, number, user_id)
            }
        }
    }
    check_policies(&input, &planned);
    check_targeted(&input, &planned);
});

/// A targeted re-sync's plan over the same snapshot, deciding every other desired user and
/// reading the numbers of every other Teams user: its changes obey the same rules, and it
/// decides exactly what the full plan decides for them, as long as neither is over the safety
/// limit (a scope counts only its own users toward it) and no policies are named (a targeted
/// re-sync runs only then).
fn check_targeted(input: &PlanInput, full: &Plan) {
    let scope = PlanScope {
        users: input.desired.users.iter().step_by(2).map(|u| u.key()).collect(),
        holders: input
            .teams
            .users
            .iter()
            .step_by(2)
            .map(|u| u.id.clone())
            .collect(),
    };
    let within = PlanInput {
        scope: Some(&scope),
        ..input.clone()
    };
    let targeted = plan(&within);
    if input.teams.policies.kinds.is_empty() {
        assert!(
            targeted.policy_changes.is_empty(),
            "no policies named, none planned"
        );
    }
    assert!(
        targeted.outcomes.iter().all(|o| scope.decides(o)),
        "it decides only its scope"
    );
    for action in &targeted.actions {
        match &action.kind {
            ActionKind::Unassign { number } => {
                check_unassignment(input, &targeted, action.outcome, number);
                // Nor did a desired user outside the scope match the holder.
                let holder = targeted.outcomes[action.outcome].teams_user_id.as_deref();
                assert!(
                    full.outcomes
                        .iter()
                        .filter(|o| o.desired)
                        .all(|o| o.teams_user_id.as_deref() != holder),
                    "{number} is unassigned from {holder:?}, whom a desired user outside the scope matched"
                );
            }
            ActionKind::Assign { number, user_id, .. } => {
                check_assignment(input, &targeted, action.outcome, number, user_id)
            }
        }
    }
    let blocked = |plan: &Plan| {
        plan.outcomes
            .iter()
            .any(|o| o.reason == Reason::BlockedBySafetyLimit)
    };
    if !input.teams.policies.kinds.is_empty() || blocked(full) || blocked(&targeted) {
        return;
    }
    let expected: Vec<_> = full.outcomes.iter().filter(|o| scope.decides(o)).collect();
    let got: Vec<_> = targeted.outcomes.iter().collect();
    assert_eq!(
        got, expected,
        "the targeted plan decides its users as the full plan does"
    );
    let kinds = |plan: &Plan, keep: &dyn Fn(&UserOutcome) -> bool| -> Vec<String> {
        let mut kinds: Vec<String> = plan
            .actions
            .iter()
            .filter(|a| keep(&plan.outcomes[a.outcome]))
            .map(|a| format!("{:?}", a.kind))
            .collect();
        kinds.sort();
        kinds
    };
    assert_eq!(kinds(&targeted, &|_| true), kinds(full, &|o| scope.decides(o)));
}

/// Policy changes: none in a dry run or when the tenant checks failed; an assignment gives a
/// policy the resource wants and the tenant has, never over a group's unless overriding is on;
/// an unassignment takes off only a policy the record holds for the user that Teams applies to
/// them directly; and together with the numbers they stay within the limit.
fn check_policies(input: &PlanInput, planned: &Plan) {
    let checks_failed = input.checks.connected.is_err() || input.checks.authorized.is_err();
    if checks_failed || input.policy.mode == SyncMode::DryRun {
        assert!(planned.policy_changes.is_empty(), "{:#?}", planned.policy_changes);
    }
    let state = &input.teams.policies;
    let mut unassigned = 0;
    for (index, change) in &planned.policy_changes {
        assert!(*index < planned.outcomes.len());
        match change {
            PolicyChange::Assign {
                user_id,
                kind,
                policy_id,
            } => {
                let resolved: Vec<&String> = state.ids.values().filter_map(|id| id.as_ref().ok()).collect();
                assert!(
                    resolved.contains(&policy_id),
                    "{policy_id} is not a policy of the tenant"
                );
                if let Some(effective) = state.effective(user_id, *kind) {
                    assert!(
                        effective.source == PolicySource::Direct
                            || input.policy.assignment.override_group_policies,
                        "a group's policy was overridden: {effective:?}"
                    );
                    assert_ne!(
                        &effective.policy_id, policy_id,
                        "assigning what Teams already applies"
                    );
                }
            }
            PolicyChange::Unassign { user_id, kind } => {
                unassigned += 1;
                let owned = input
                    .owned
                    .policy(user_id, *kind)
                    .expect("only recorded policies are taken off");
                let effective = state.effective(user_id, *kind).expect("Teams applies it");
                assert_eq!(
                    (effective.policy_id.as_str(), &effective.source),
                    (owned, &PolicySource::Direct)
                );
            }
        }
    }
    let numbers = planned
        .actions
        .iter()
        .filter(|a| matches!(a.kind, ActionKind::Unassign { .. }))
        .count()
        + planned
            .actions
            .iter()
            .filter_map(|a| match &a.kind {
                ActionKind::Assign { user_id, .. } => Some(held_by(input, user_id).count()),
                ActionKind::Unassign { .. } => None,
            })
            .sum::<usize>();
    assert!(
        numbers + unassigned <= input.policy.max_unassignments,
        "{numbers} numbers and {unassigned} policies leave users, the limit is {}",
        input.policy.max_unassignments
    );
}

/// One outcome per desired user, in source order, then departed users only; actions point at
/// outcomes, and none is planned when the tenant checks failed or in DryRun.
fn check_outcomes(input: &PlanInput, planned: &Plan) {
    let users = &input.desired.users;
    assert!(planned.outcomes.len() >= users.len());
    for (user, outcome) in users.iter().zip(&planned.outcomes) {
        assert!(outcome.desired);
        assert_eq!(outcome.key, user.key());
    }
    assert!(planned.outcomes[users.len()..].iter().all(|o| !o.desired));
    assert!(planned.actions.iter().all(|a| a.outcome < planned.outcomes.len()));
    let checks_failed = input.checks.connected.is_err() || input.checks.authorized.is_err();
    if checks_failed || input.policy.mode == SyncMode::DryRun {
        assert!(planned.actions.is_empty(), "{:#?}", planned.actions);
    }
    let assignments = planned
        .actions
        .iter()
        .filter(|a| matches!(a.kind, ActionKind::Assign { .. }))
        .count();
    assert!(planned.drift_corrections <= assignments);
    let unassignments = planned.actions.len() - assignments;
    if unassignments > 0 {
        assert_eq!(input.policy.removal, RemovalPolicy::Unassign);
    }
    // Every number Teams shows on a user an assignment targets may leave that user.
    let replaced: Vec<usize> = planned
        .actions
        .iter()
        .filter_map(|a| match &a.kind {
            ActionKind::Assign { user_id, .. } => Some(held_by(input, user_id).count()),
            ActionKind::Unassign { .. } => None,
        })
        .filter(|held| *held > 0)
        .collect();
    assert_eq!(planned.drift_corrections, replaced.len());
    let taken_off = unassignments + replaced.iter().sum::<usize>();
    assert!(
        taken_off <= input.policy.max_unassignments,
        "{taken_off} numbers leave users, the limit is {}",
        input.policy.max_unassignments
    );
    for (number, user_id) in &planned.adoptions {
        assert!(input.policy.adopt_existing && input.desired.owned_numbers.contains(number));
        assert!(!input.owned.owns(number, user_id), "{number} is recorded already");
        assert!(held_by(input, user_id).any(|held| held == number));
        assert!(
            planned
                .actions
                .iter()
                .any(|a| matches!(&a.kind, ActionKind::Assign { user_id: to, .. } if to == user_id)),
            "{number} is adopted from {user_id} without a replacement"
        );
    }
}

/// The numbers Teams shows on `user_id`.
fn held_by<'a>(input: &'a PlanInput, user_id: &'a str) -> impl Iterator<Item = &'a str> {
    input
        .teams
        .numbers
        .iter()
        .filter(move |h| h.holder == user_id)
        .map(|h| h.number.as_str())
}

/// An unassignment is of a number the source owns and does not protect, that Teams shows on a
/// user no desired user matched, recorded as assigned to that user by this resource, whose grace
/// period has passed (or whose removal was attempted before) and whose retry is due.
fn check_unassignment(input: &PlanInput, planned: &Plan, index: usize, number: &str) {
    let outcome = &planned.outcomes[index];
    assert!(!outcome.desired && outcome.reason == Reason::RemovalPending);
    let holder = outcome
        .teams_user_id
        .as_deref()
        .expect("a departed outcome names its holder");
    assert!(
        input.desired.owned_numbers.contains(number),
        "{number} is unassigned but is not in the source's inventory"
    );
    assert!(!input.desired.protected_numbers.contains(number));
    assert!(
        input.owned.owns(number, holder),
        "{number} is unassigned from {holder} but the ownership record does not hold it for {holder}"
    );
    assert!(
        input
            .teams
            .numbers
            .iter()
            .any(|h| h.number == number && h.holder == holder)
    );
    assert!(
        planned
            .outcomes
            .iter()
            .filter(|o| o.desired)
            .all(|o| o.teams_user_id.as_deref() != Some(holder)),
        "{number} is unassigned from {holder}, whom a desired user matched"
    );
    let key = UserKey::Departed {
        teams_user_id: holder.to_owned(),
        number: number.to_owned(),
    };
    let since = input
        .previous
        .get(&key)
        .filter(|p| matches!(p.reason, Reason::RemovalPending | Reason::BlockedBySafetyLimit))
        .map_or(input.now, |p| p.since);
    let grace_passed = since
        .checked_add(input.policy.grace_period)
        .is_ok_and(|deadline| input.now >= deadline);
    assert!(
        grace_passed || input.retries.contains_key(&key),
        "{number} is unassigned before its grace period has passed"
    );
    let retry_due = input
        .retries
        .get(&key)
        .and_then(|r| r.next_attempt)
        .is_none_or(|next| next <= input.now);
    assert!(retry_due, "{number} is unassigned before its retry is due");
}

/// An assignment is of the desired user's number, normalised, to an enabled Teams user with Phone
/// System and no Calling Plan, and of a number Teams shows on nobody; every number it may take off
/// that user is one of the source's inventory recorded for them or adopted (with adoptExisting,
/// recorded first), or overwriting is allowed.
fn check_assignment(input: &PlanInput, planned: &Plan, index: usize, number: &str, user_id: &str) {
    let outcome = &planned.outcomes[index];
    assert!(outcome.desired && outcome.reason == Reason::AssignmentPending);
    assert_eq!(outcome.teams_user_id.as_deref(), Some(user_id));
    // A full plan's desired outcomes follow the desired users; a targeted plan's are some of
    // them, found by key.
    let wanted = |user: &&dialpad_teams_operator::sync::model::DesiredUser| {
        let raw = user.phone_number.as_deref().map(str::trim).unwrap_or_default();
        user.key() == outcome.key && normalise(raw).as_deref() == Some(number)
    };
    assert!(
        input.desired.users.iter().any(|user| wanted(&user)),
        "{number} is no number of {:?}",
        outcome.key
    );
    assert!(
        input.teams.users.iter().any(|u| u.id == user_id
            && u.enabled
            && u.licence.phone_system.is_some()
            && u.licence.calling_plans.is_empty()),
        "{number} is assigned to {user_id}, who cannot have it"
    );
    assert!(
        input.teams.numbers.iter().all(|h| h.number != number),
        "{number} is assigned to {user_id} while Teams shows it on someone"
    );
    for held in held_by(input, user_id) {
        let source_owns = input.desired.owned_numbers.contains(held);
        let recorded = source_owns && input.owned.owns(held, user_id);
        let adopted = source_owns && input.policy.adopt_existing;
        assert!(
            recorded || adopted || input.policy.overwrite_foreign_numbers,
            "{held} is replaced on {user_id} without the record, adoption or overwrite"
        );
        assert!(
            recorded || !adopted || planned.adoptions.iter().any(|(n, u)| n == held && u == user_id),
            "{held} is replaced on {user_id} by adoption but not adopted first"
        );
    }
}
