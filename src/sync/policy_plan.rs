//! The Teams policies of a plan. For every desired user whose number is in place or on its way,
//! each kind of policy the spec names for them (resource-wide or for their office) is decided with
//! [`decide`]: assignments join the plan, problems become the user's reason, and a policy this
//! resource assigned but no longer wants for the user is taken back within the safety limit, as a
//! number would be. A departed user's policies go with their number (see `removals`).

use super::input::PlanInput;
use super::lookup::retry_gate;
use super::model::{DesiredUser, Plan};
use super::offices::user_assignment;
use super::policies::{
    PolicyChange, PolicyDecision, PolicyKind, PolicyNote, PolicySource, Unresolved, decide,
};
use super::removals::TakenOff;
use crate::api::Reason;

/// Decides the policies of the desired users, whose outcomes are the first of `plan`'s, in the
/// order of `input.desired.users`. Returns the policy unassignments, for the safety limit.
pub(super) fn plan_policies(input: &PlanInput, plan: &mut Plan) -> Vec<TakenOff> {
    let mut taken = Vec::new();
    for (index, user) in input.desired.users.iter().enumerate() {
        let outcome = &plan.outcomes[index];
        let number_in_place = matches!(outcome.reason, Reason::InSync | Reason::AssignmentPending);
        let Some(user_id) = outcome.teams_user_id.clone().filter(|_| number_in_place) else {
            continue;
        };
        if retry_gate(input, &outcome.key).is_some() {
            continue;
        }
        let verdicts = user_verdicts(input, user, &user_id);
        let mut unassigned = Vec::new();
        for verdict in verdicts {
            let Verdict { kind, name, decision } = verdict;
            let field = kind.field();
            let problem = |reason: Reason, text: String| (index, PolicyNote::Problem { reason, text });
            match decision {
                PolicyDecision::InSync => {
                    if let Some(PolicySource::Group { group_id }) =
                        input.teams.policies.effective(&user_id, kind).map(|e| &e.source)
                        && !name.is_empty()
                    {
                        let group = group_id.as_deref().map_or_else(|| "a group".to_owned(), |id| format!("group {id}"));
                        plan.policy_notes.push((
                            index,
                            PolicyNote::Info(format!("{field} {} comes from {group}", quoted(&name))),
                        ));
                    }
                }
                PolicyDecision::Assign { policy_id } => {
                    plan.policy_changes.push((
                        index,
                        PolicyChange::Assign {
                            user_id: user_id.clone(),
                            kind,
                            policy_id,
                        },
                    ));
                    plan.policy_notes.push((
                        index,
                        PolicyNote::Assigning {
                            user_id: user_id.clone(),
                            kind,
                            name,
                        },
                    ));
                }
                PolicyDecision::Unassign { policy_id } => {
                    unassigned.push((
                        PolicyChange::Unassign {
                            user_id: user_id.clone(),
                            kind,
                        },
                        format!("{field} {policy_id}"),
                    ));
                }
                PolicyDecision::HeldByGroup { group_id, policy_id } => {
                    let group = group_id.map_or_else(|| "a group".to_owned(), |id| format!("group {id}"));
                    plan.policy_notes.push(problem(
                        Reason::PolicyHeldByGroup,
                        format!(
                            "the user's {field} comes from {group} (policy {policy_id}), not {}; this resource leaves group assignments alone unless spec.assignment.overrideGroupPolicies is set",
                            quoted(&name)
                        ),
                    ));
                }
                PolicyDecision::Unresolved(Unresolved::NotFound) => plan.policy_notes.push(problem(
                    Reason::PolicyNotFound,
                    format!(
                        "the tenant has no {field} named {}; create it in the Teams admin center or correct the name",
                        quoted(&name)
                    ),
                )),
                PolicyDecision::Unresolved(Unresolved::TypeUnsupported) => plan.policy_notes.push(problem(
                    Reason::PolicyTypeUnsupported,
                    format!(
                        "Teams does not accept the policy type used for {field}, so {} cannot be assigned; see --policy-type",
                        quoted(&name)
                    ),
                )),
            }
        }
        if !unassigned.is_empty() {
            let what: Vec<String> = unassigned.iter().map(|(_, what)| what.clone()).collect();
            let kept = format!("{} stays on the user", what.join(" and "));
            taken.push(TakenOff::policies(
                index,
                unassigned.into_iter().map(|(change, _)| change).collect(),
                kept,
            ));
        }
    }
    taken
}

/// One kind's decision for one user.
struct Verdict {
    kind: PolicyKind,
    /// The wanted policy's name (empty when none is wanted).
    name: String,
    decision: PolicyDecision,
}

/// The decisions for `user` (Teams user `user_id`), one per kind that is wanted or owned.
fn user_verdicts(input: &PlanInput, user: &DesiredUser, user_id: &str) -> Vec<Verdict> {
    let assignment = user_assignment(&input.policy.assignment, &user.office);
    let state = &input.teams.policies;
    PolicyKind::ALL
        .into_iter()
        .filter(|kind| state.kinds.contains(kind))
        .map(|kind| {
            let name = assignment.policies.get(&kind).cloned();
            let wanted = name.as_deref().map(|name| state.wanted(kind, name));
            let decision = decide(
                wanted.as_ref(),
                state.effective(user_id, kind),
                input.owned.policy(user_id, kind),
                input.policy.assignment.override_group_policies,
            );
            Verdict {
                kind,
                name: name.unwrap_or_default(),
                decision,
            }
        })
        .collect()
}

/// The policy unassignments due with a departed user's number: every policy this resource
/// assigned to `user_id` that Teams still applies to them directly.
pub(super) fn departed_policies(input: &PlanInput, user_id: &str) -> Vec<PolicyChange> {
    let state = &input.teams.policies;
    PolicyKind::ALL
        .into_iter()
        .filter(|kind| state.kinds.contains(kind))
        .filter(|kind| {
            matches!(
                decide(
                    None,
                    state.effective(user_id, *kind),
                    input.owned.policy(user_id, *kind),
                    false
                ),
                PolicyDecision::Unassign { .. }
            )
        })
        .map(|kind| PolicyChange::Unassign {
            user_id: user_id.to_owned(),
            kind,
        })
        .collect()
}

/// A policy name in messages: quoted, cut to 80 characters (it comes from the spec).
fn quoted(name: &str) -> String {
    let cut: String = name.chars().take(80).collect();
    format!("'{cut}'")
}

#[cfg(test)]
#[path = "policy_plan_tests.rs"]
mod tests;
