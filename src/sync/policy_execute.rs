//! Sending a plan's Teams policy changes: in list requests (Teams' assign and unassign actions
//! take many users at once), after the numbers, each result folded into its user's outcome. A
//! refused or failed request fails each of its users (`PolicyAssignmentFailed`, or
//! `TransientError` for one worth retrying), who are retried later as for numbers.

use std::collections::HashMap;

use k8s_openapi::jiff::Timestamp;

use super::execute::remember_failure;
use super::model::{Plan, RetryState, UserKey};
use super::policies::{PolicyChange, requests};
use super::ports::ChangeSender;
use super::sent::ExecutionSummary;
use crate::api::{Reason, Severity};

/// Sends `plan.policy_changes` in requests of the writer's size, skipping users whose number
/// change failed in this sync (their policies wait for the retry), and records in `summary` what
/// was changed and what failed.
pub async fn execute_policies<W: ChangeSender>(
    writer: &W,
    plan: &mut Plan,
    retries: &mut HashMap<UserKey, RetryState>,
    now: Timestamp,
    summary: &mut ExecutionSummary,
) {
    let changes: Vec<(usize, PolicyChange)> = std::mem::take(&mut plan.policy_changes)
        .into_iter()
        .filter(|(index, _)| plan.outcomes[*index].reason.severity() != Severity::Failed)
        .collect();
    if changes.is_empty() {
        return;
    }
    let users: HashMap<(String, String), usize> = changes
        .iter()
        .map(|(index, change)| (key_of(change), *index))
        .collect();
    let only: Vec<PolicyChange> = changes.into_iter().map(|(_, change)| change).collect();
    for request in requests(&only, writer.policy_changes_per_request()) {
        let result = writer.submit_policy_changes(&request).await;
        for change in request {
            let index = users[&key_of(&change)];
            let outcome = &mut plan.outcomes[index];
            match &result {
                Ok(()) => {
                    retries.remove(&outcome.key);
                    outcome.message = outcome.message.replace("; assigning ", "; assigned ");
                    match change {
                        PolicyChange::Assign { .. } => summary.policies_assigned += 1,
                        PolicyChange::Unassign { .. } => {
                            summary.policies_unassigned += 1;
                            summary.unassigned_policies.push(change);
                        }
                    }
                }
                Err(error) => {
                    summary.failed += 1;
                    // Refused for good: not Teams' to hold. After a transient failure Teams may
                    // still have applied it, so it stays recorded until a read shows otherwise.
                    if matches!(change, PolicyChange::Assign { .. }) && !error.is_transient() {
                        summary.refused_policies.push(change);
                    }
                    outcome.reason = if error.is_transient() {
                        Reason::TransientError
                    } else {
                        Reason::PolicyAssignmentFailed
                    };
                    outcome.message = format!("a Teams policy change failed: {error}");
                    remember_failure(retries, outcome, now);
                }
            }
        }
    }
}

/// A change's user and kind, which identify it within one plan.
fn key_of(change: &PolicyChange) -> (String, String) {
    match change {
        PolicyChange::Assign { user_id, kind, .. } | PolicyChange::Unassign { user_id, kind } => {
            (user_id.clone(), kind.field().to_owned())
        }
    }
}
