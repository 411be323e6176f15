//! Numbers a sync takes off users: departed users' unassignments (after the grace period, and only
//! what the ownership record holds for them), and the safety limit, which counts those together
//! with replacements (a synced user's other numbers, taken off by assigning the right one). Over
//! the limit, none of them happens and each such user says why; plain assignments go ahead.

use std::collections::{HashMap, HashSet};

use k8s_openapi::jiff::Timestamp;

use super::input::PlanInput;
use super::lookup::{Lookup, retry_gate};
use super::model::{Action, ActionKind, Cause, HeldNumber, Plan, UserKey, UserOutcome};
use super::numbers::normalise;
use super::policies::PolicyChange;
use super::policy_plan::departed_policies;
use crate::api::{Reason, RemovalPolicy};

/// A planned change that takes numbers or policies off a user, held to the safety limit.
pub(super) struct TakenOff {
    /// Its user's outcome in the plan.
    outcome: usize,
    /// The numbers it takes off.
    numbers: Vec<String>,
    /// The Teams policies it takes off (unassignments), sent when the limit allows.
    policies: Vec<PolicyChange>,
    /// What the user keeps when the limit blocks it, for the message.
    kept: String,
    /// What it is.
    change: Change,
}

/// What a [`TakenOff`] is.
enum Change {
    /// A departed user's number, unassigned when the limit allows.
    Unassign(String),
    /// A replacement, whose assignment is among the plan's actions already; when the limit
    /// allows, the numbers it adopts (number, Teams user id) are recorded before the change.
    Replace { adopt: Vec<(String, String)> },
    /// Only policies: a synced user's policies this resource assigned and no longer wants.
    Policies,
}

impl TakenOff {
    /// The replacement of `numbers` on `upn` by `wanted`, whose assignment is the action of
    /// outcome `outcome`.
    pub(super) fn replacement(
        outcome: usize,
        numbers: Vec<String>,
        upn: &str,
        wanted: &str,
        adopt: Vec<(String, String)>,
    ) -> Self {
        let verb = if numbers.len() == 1 { "stays" } else { "stay" };
        let kept = format!("{} {verb} on {upn} instead of {wanted}", numbers.join(" and "));
        Self {
            outcome,
            numbers,
            policies: Vec::new(),
            kept,
            change: Change::Replace { adopt },
        }
    }

    /// The unassignment of `policies` from the synced user of outcome `outcome`; `kept` says
    /// what stays on them when the limit blocks it.
    pub(super) fn policies(outcome: usize, policies: Vec<PolicyChange>, kept: String) -> Self {
        Self {
            outcome,
            numbers: Vec::new(),
            policies,
            kept,
            change: Change::Policies,
        }
    }
}

/// Applies the safety limit to everything `taken` would take off users: within `limit` numbers,
/// departed users' unassignments join the plan's actions and replacements' adoptions its record
/// of adoptions; beyond it, none of them happens (replacements leave the actions too) and each
/// such user is `BlockedBySafetyLimit`, with the total and the limit.
pub(super) fn hold_to_limit(plan: &mut Plan, limit: usize, taken: Vec<TakenOff>) {
    let policies: usize = taken.iter().map(|t| t.policies.len()).sum();
    let total: usize = taken.iter().map(|t| t.numbers.len()).sum::<usize>() + policies;
    let replaced: usize = taken
        .iter()
        .filter(|t| matches!(t.change, Change::Replace { .. }))
        .map(|t| t.numbers.len())
        .sum();
    if total <= limit {
        plan.drift_corrections = taken
            .iter()
            .filter(|t| matches!(t.change, Change::Replace { .. }))
            .count();
        for t in taken {
            let outcome = t.outcome;
            plan.policy_changes
                .extend(t.policies.into_iter().map(|change| (outcome, change)));
            match t.change {
                Change::Unassign(number) => plan.actions.push(Action {
                    outcome,
                    kind: ActionKind::Unassign { number },
                    cause: Cause::DepartedAfterGrace,
                }),
                Change::Replace { adopt } => plan.adoptions.extend(adopt),
                Change::Policies => {}
            }
        }
        return;
    }
    let blocked: HashSet<usize> = taken.iter().map(|t| t.outcome).collect();
    plan.actions.retain(|action| !blocked.contains(&action.outcome));
    plan.policy_changes
        .retain(|(outcome, _)| !blocked.contains(outcome));
    plan.drift_corrections = 0;
    let unassigned = total - replaced - policies;
    let counted = if policies == 0 {
        format!(
            "{total} numbers are due to be taken off users in this sync ({unassigned} by unassignment, {replaced} by replacement)"
        )
    } else {
        format!(
            "{total} numbers and policies are due to be taken off users in this sync ({unassigned} numbers by unassignment, {replaced} by replacement, {policies} policies by unassignment)"
        )
    };
    for t in taken {
        let outcome = &mut plan.outcomes[t.outcome];
        outcome.reason = Reason::BlockedBySafetyLimit;
        outcome.message = format!(
            "{}: {counted} but spec.safety.maxUnassignmentsPerSync is {limit}, so none was; check them and raise the limit to approve them",
            t.kept
        );
    }
}

/// Adds an outcome for each departed user holding a number this resource owns (one that Teams
/// shows on a user no desired user `matched`, that the source owns and does not protect, and that
/// the ownership record holds for that user); returns the unassignments that are due, for
/// [`hold_to_limit`].
pub(super) fn plan_removals(
    input: &PlanInput,
    teams: &Lookup,
    matched: &HashSet<&str>,
    plan: &mut Plan,
) -> Vec<TakenOff> {
    if input.policy.removal == RemovalPolicy::Retain {
        return Vec::new();
    }
    let mut candidates: Vec<&HeldNumber> = input
        .teams
        .numbers
        .iter()
        .filter(|held| !matched.contains(held.holder.as_str()))
        // A targeted plan read only some users' numbers completely: no other can be a departure.
        .filter(|held| {
            input
                .scope
                .is_none_or(|scope| scope.holders.contains(&held.holder))
        })
        .filter(|held| input.desired.owned_numbers.contains(&held.number))
        .filter(|held| !input.desired.protected_numbers.contains(&held.number))
        // Only what this resource assigned (or adopted) and Teams still shows on that user.
        .filter(|held| input.owned.owns(&held.number, &held.holder))
        .collect();
    candidates.sort_by(|a, b| (&a.holder, &a.number).cmp(&(&b.holder, &b.number)));
    let grace = input.policy.grace_period;
    // Numbers of desired users, for messages about who should have a number instead: read from
    // the desired state, not the plan's outcomes, which a targeted plan has for its scope only.
    let wanted_by: HashMap<String, String> = if candidates.is_empty() {
        HashMap::new()
    } else {
        input
            .desired
            .users
            .iter()
            .filter_map(|user| {
                let raw = user.phone_number.as_deref()?;
                let number = normalise(raw).unwrap_or_else(|| raw.to_owned());
                Some((number, user.email.clone()?))
            })
            .collect()
    };
    let mut due = Vec::new();
    let mut policies_taken: HashSet<&str> = HashSet::new();
    for held in candidates {
        let key = UserKey::Departed {
            teams_user_id: held.holder.clone(),
            number: held.number.clone(),
        };
        let since = input
            .previous
            .get(&key)
            .filter(|p| matches!(p.reason, Reason::RemovalPending | Reason::BlockedBySafetyLimit))
            .map(|p| p.since)
            .unwrap_or(input.now);
        // The schema admits any Go duration: a grace period that ends beyond the calendar never
        // ends.
        let deadline = since.checked_add(grace).unwrap_or(Timestamp::MAX);
        let upn = teams.upn(&held.holder);
        let why = match wanted_by.get(&held.number) {
            Some(other) => format!("which the source assigns to {other}"),
            None => match input.desired.number_owners.get(&held.number) {
                Some(id) => format!("which belonged to Dialpad user {id}, who is no longer active"),
                None => "which the source owns but assigns to nobody".to_owned(),
            },
        };
        let mut outcome = UserOutcome {
            key: key.clone(),
            email: teams
                .users_by_id
                .get(held.holder.as_str())
                .map(|u| u.mail.clone().unwrap_or_else(|| u.user_principal_name.clone())),
            phone_number: Some(held.number.clone()),
            // The owner is named in the message only: a Dialpad id here would read back as that
            // Dialpad user's key on the next sync.
            dialpad_user_id: None,
            teams_user_id: Some(held.holder.clone()),
            reason: Reason::RemovalPending,
            message: format!(
                "{upn} holds {}, {why}; it is unassigned from {upn} after the grace period, at {}",
                held.number,
                super::model::display_time(deadline)
            ),
            desired: false,
        };
        // A departed user with retry state had its unassignment attempted, so its grace period
        // passed already, even though its last status entry no longer says RemovalPending.
        if input.now >= deadline || input.retries.contains_key(&key) {
            if let Some((reason, waiting)) = retry_gate(input, &key) {
                outcome.reason = reason;
                outcome.message = waiting;
            } else {
                outcome.message = format!(
                    "unassigning {} from {upn}: the user left the source and the grace period has passed",
                    held.number
                );
                // The user's policies go with their first number.
                let policies = if policies_taken.insert(held.holder.as_str()) {
                    departed_policies(input, &held.holder)
                } else {
                    Vec::new()
                };
                due.push(TakenOff {
                    outcome: plan.outcomes.len(),
                    numbers: vec![held.number.clone()],
                    policies,
                    kept: format!("{} stays on {upn}", held.number),
                    change: Change::Unassign(held.number.clone()),
                });
            }
        }
        plan.outcomes.push(outcome);
    }
    due
}
