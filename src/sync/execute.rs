//! Applying a plan: changes are sent within the tenant's request budget and confirmed in bulk,
//! each result folds back into its user's outcome, and users whose action failed transiently are
//! retried on later syncs with a growing delay, without holding up anyone else.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::jiff::Timestamp;

use super::change::{ChangeOutcome, Refusal, Submission};
use super::confirm::{FIRST_LOOK, PendingChange, Verdict, concurrency_for, confirm};
use super::early::settle_unplanned;
use super::model::{ActionKind, Cause, Plan, Policy, RetryState, UserKey};
use super::policy_execute::{execute_policies, settle_notes};
use super::ports::{ChangeConfirmer, ChangeSender};
use super::sent::{ExecutionSummary, SentChange, SentEarly, note_example, send};
use super::trail::{self, Subject};
use crate::api::{Reason, SyncMode};

/// The first retry delay of a user whose action failed transiently; it doubles per attempt.
pub const RETRY_BASE: Duration = Duration::from_secs(60);
/// The longest a failing user waits between attempts.
pub const RETRY_CAP: Duration = Duration::from_secs(3600);

/// Runs the plan's actions and folds the results into its outcomes. Departed users whose number
/// was unassigned are removed from the outcomes: they are done. `progress(done, total)` is called
/// after each change is sent.
///
/// Changes are sent first, as fast as the writer's request budget allows (as many in flight as
/// the budget and the observed latency need), and confirmed afterwards in bulk (see
/// [`confirm`](super::confirm)), so that the budget goes to writes rather than to polling.
/// Changes in `early`, sent before the plan was made, are confirmed and folded in with the plan's
/// own (`SentEarly::default()` when there are none).
pub async fn execute<W: ChangeSender + ChangeConfirmer>(
    writer: &W,
    plan: &mut Plan,
    policy: &Policy,
    retries: &mut HashMap<UserKey, RetryState>,
    now: Timestamp,
    progress: &(dyn Fn(usize, usize) + Sync),
    early: SentEarly,
) -> ExecutionSummary {
    let actions = std::mem::take(&mut plan.actions);
    // Progress counts the changes sent early too, so that it does not start again from zero.
    let already = early.planned.len() + early.unplanned.len();
    let total = actions.len();
    let progress = |done: usize, total: usize| progress(already + done, already + total);
    let mut actions = actions.into_iter();
    let mut submitted = Vec::with_capacity(total + early.planned.len() + early.unplanned.len());
    // The first change alone measures the latency the concurrency is sized from, unless an
    // early change already has.
    let mut latency = early.planned.first().map(|change| change.took);
    if latency.is_none()
        && let Some(first) = actions.next()
    {
        let subject = Subject::of(&plan.outcomes[first.outcome]);
        let change = send(writer, policy, first, &subject).await;
        latency = Some(change.took);
        submitted.push(change);
        progress(1, total);
    }
    let concurrency = concurrency_for(writer.requests_per_second(), latency.unwrap_or_default());
    let mut done = submitted.len();
    let rest: Vec<_> = futures::stream::iter(actions)
        .map(|action| {
            let subject = Subject::of(&plan.outcomes[action.outcome]);
            async move { send(writer, policy, action, &subject).await }
        })
        .buffer_unordered(concurrency)
        .inspect(|_| {
            done += 1;
            progress(done, total);
        })
        .collect()
        .await;
    submitted.extend(rest);
    submitted.extend(early.planned);
    // Unplanned changes are confirmed under indexes past the plan's outcomes.
    let planned_count = plan.outcomes.len();
    let mut unplanned_users = Vec::with_capacity(early.unplanned.len());
    for (offset, (user, mut change)) in early.unplanned.into_iter().enumerate() {
        change.action.outcome = planned_count + offset;
        unplanned_users.push(user);
        submitted.push(change);
    }

    let mut results: Vec<Verdict> = Vec::with_capacity(submitted.len());
    let mut pending = Vec::new();
    let mut first_wait = FIRST_LOOK;
    // Why each change was planned, by its index (one change each), for its verdict's line.
    let mut causes: HashMap<usize, Cause> = HashMap::with_capacity(submitted.len());
    for SentChange { action, result, .. } in submitted {
        causes.insert(action.outcome, action.cause);
        match result {
            Ok(Submission::Done(outcome)) => results.push((action.outcome, action.kind, Ok(outcome))),
            Ok(Submission::Running { url, retry_after }) => {
                if let Some(asked) = retry_after {
                    first_wait = first_wait.max(asked);
                }
                pending.push(PendingChange {
                    outcome: action.outcome,
                    kind: action.kind,
                    url,
                });
            }
            Err(error) => results.push((action.outcome, action.kind, Err(error))),
        }
    }
    results.extend(confirm(writer, pending, first_wait).await);
    let mut summary = ExecutionSummary::default();
    let mut finished = Vec::new();
    let mut unplanned = Vec::new();
    for (index, kind, result) in results {
        // Every verdict is of a change sent above; an early assignment is always a new user's.
        let cause = causes.remove(&index).unwrap_or(Cause::NewUser);
        let user = match index.checked_sub(planned_count) {
            Some(offset) => unplanned_users[offset],
            None => Some(index),
        };
        let subject = match (user, &kind) {
            (Some(user), _) => Subject::of(&plan.outcomes[user]),
            // An early assignment without a complete read: only its Teams user is known here.
            (None, ActionKind::Assign { user_id, .. }) => Subject {
                teams_user_id: user_id.clone(),
                ..Subject::default()
            },
            (None, ActionKind::Unassign { .. }) => Subject::default(),
        };
        trail::confirmed(&subject, &kind, &cause, &result);
        if index >= planned_count {
            unplanned.push((user, subject, kind, result));
            continue;
        }
        let outcome = &mut plan.outcomes[index];
        let drift = outcome.message.contains("drift corrected");
        match result {
            Ok(ChangeOutcome::Succeeded) => {
                retries.remove(&outcome.key);
                match kind {
                    ActionKind::Assign { number, .. } => {
                        summary.assigned += 1;
                        summary.drift_corrected += usize::from(drift);
                        let who = subject.label();
                        note_example(&mut summary.assigned_users, || format!("{who} ({number})"));
                        if let Cause::DriftCorrected { replaced } = &cause {
                            note_example(&mut summary.drift_corrected_users, || {
                                format!("{who} ({number}, replacing {})", replaced.join(" and "))
                            });
                        }
                        outcome.reason = Reason::AssignmentPending;
                        outcome.message = if drift {
                            format!(
                                "{} and assigned {number}; Teams is activating it",
                                outcome.message
                            )
                        } else {
                            format!(
                                "assigned {number}; Teams is activating it, which can take minutes to hours"
                            )
                        };
                    }
                    ActionKind::Unassign { number } => {
                        summary.unassigned += 1;
                        let who = subject.label();
                        note_example(&mut summary.unassigned_users, || format!("{who} ({number})"));
                        summary.unassigned_numbers.push(number);
                        finished.push(index);
                    }
                }
            }
            Ok(ChangeOutcome::StillRunning) => {
                retries.remove(&outcome.key);
                outcome.reason = Reason::AssignmentPending;
                outcome.message = format!(
                    "{}: Teams accepted the change and is still processing it",
                    outcome.message
                );
            }
            Ok(ChangeOutcome::Refused(failure)) => {
                summary.failed += 1;
                if let ActionKind::Assign { number, .. } = kind {
                    summary.refused_numbers.push(number);
                }
                let (reason, advice) = match &failure {
                    Refusal::Licence(detail) => (
                        Reason::PhoneSystemLicenseMissing,
                        format!("Teams refused: {detail} Assign a Teams Phone licence to the user."),
                    ),
                    Refusal::Conflict(detail) => (
                        Reason::NumberConflict,
                        format!("Teams refused: {detail}. Unassign it from the other user first."),
                    ),
                    Refusal::UserNotFound(detail) => (
                        Reason::TeamsUserNotFound,
                        format!(
                            "Teams refused: {detail} The user may not be provisioned in Teams yet (up to 24 hours after licensing)."
                        ),
                    ),
                    Refusal::NumberNotInTenant(detail) => (
                        Reason::NumberNotInTenant,
                        format!(
                            "Teams refused: {detail}. Check spec.assignment.numberType (Dialpad's numbers are DirectRouting); a Calling Plan or Operator Connect number must be in the tenant's number inventory."
                        ),
                    ),
                    Refusal::LocationNotFound(detail) => (
                        Reason::EmergencyLocationNotFound,
                        format!(
                            "Teams refused: {detail} Create the emergency location in the Teams admin center, or correct the emergencyLocationId of spec.assignment or of the user's office."
                        ),
                    ),
                    Refusal::Other(detail) => (Reason::UnknownError, format!("Teams refused: {detail}")),
                };
                outcome.reason = reason;
                outcome.message = advice;
                remember_failure(retries, outcome, now);
            }
            Err(error) => {
                summary.failed += 1;
                outcome.reason = if error.is_transient() {
                    Reason::TransientError
                } else {
                    Reason::UnknownError
                };
                outcome.message = error.to_string();
                remember_failure(retries, outcome, now);
            }
        }
    }
    settle_unplanned(writer, policy, plan, &mut summary, unplanned).await;
    // Before the departed users who are done leave the outcomes, which policy changes index.
    let done = execute_policies(writer, plan, retries, now, &mut summary).await;
    settle_notes(plan, &done, policy.mode == SyncMode::DryRun);
    finished.sort_unstable();
    for index in finished.into_iter().rev() {
        plan.outcomes.remove(index);
    }
    summary
}

/// Records a failed change so the user is retried later, less and less often, keeping its reason.
pub(super) fn remember_failure(
    retries: &mut HashMap<UserKey, RetryState>,
    outcome: &mut super::model::UserOutcome,
    now: Timestamp,
) {
    let attempts = retries.get(&outcome.key).map_or(0, |r| r.attempts) + 1;
    let next = now + retry_delay(attempts);
    retries.insert(
        outcome.key.clone(),
        RetryState {
            attempts,
            next_attempt: Some(next),
            reason: outcome.reason,
            message: outcome.message.clone(),
        },
    );
    outcome.message = format!(
        "{} (attempt {attempts}; next retry at {})",
        outcome.message,
        super::model::display_time(next)
    );
}

/// The delay before attempt `attempts + 1`: doubling from [`RETRY_BASE`] up to [`RETRY_CAP`],
/// with up to 20% jitter so that many failing users do not retry in lockstep.
pub fn retry_delay(attempts: u32) -> Duration {
    let exponent = attempts.saturating_sub(1).min(16);
    let base = RETRY_BASE.saturating_mul(1 << exponent).min(RETRY_CAP);
    let jitter: f64 = rand::random::<f64>() * 0.2;
    base.mul_f64(1.0 + jitter).min(RETRY_CAP.mul_f64(1.2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::change::WriteError;
    use crate::sync::model::{Action, UserOutcome};
    use crate::sync::policies::PolicyChange;
    use crate::sync::testing::DecidedWhenSent;

    /// Refuses every assignment with `refusal`, as Teams' operation would.
    struct Refusing(Refusal);

    impl ChangeSender for Refusing {
        async fn submit_assign(
            &self,
            _: &str,
            _: &str,
            _: &str,
            _: Option<&str>,
        ) -> Result<Submission, WriteError> {
            Ok(Submission::Done(ChangeOutcome::Refused(self.0.clone())))
        }

        async fn submit_unassign(&self, _: &str, _: &str) -> Result<Submission, WriteError> {
            Ok(Submission::Done(ChangeOutcome::Succeeded))
        }

        async fn submit_policy_changes(&self, _: &[PolicyChange]) -> Result<(), WriteError> {
            Ok(())
        }

        fn requests_per_second(&self) -> Option<u32> {
            None
        }
    }

    impl DecidedWhenSent for Refusing {}

    fn one_assignment() -> Plan {
        Plan {
            outcomes: vec![UserOutcome {
                key: UserKey::Dialpad("1".into()),
                email: Some("ada@contoso.com".into()),
                phone_number: Some("+14155550100".into()),
                dialpad_user_id: Some("1".into()),
                teams_user_id: Some("t1".into()),
                reason: Reason::AssignmentPending,
                message: "assigning +14155550100 to ada@contoso.com".into(),
                desired: true,
            }],
            actions: vec![Action {
                outcome: 0,
                kind: ActionKind::Assign {
                    number: "+14155550100".into(),
                    user_id: "t1".into(),
                    location_id: None,
                },
                cause: crate::sync::model::Cause::NewUser,
            }],
            ..Plan::default()
        }
    }

    #[tokio::test]
    async fn a_number_refused_for_its_emergency_location_names_the_location_to_fix() {
        let refusing = Refusing(Refusal::LocationNotFound(
            "Emergency location '3f5b8a2e' was not found in the tenant.".into(),
        ));
        let mut plan = one_assignment();
        let mut retries = HashMap::new();
        execute(
            &refusing,
            &mut plan,
            &Policy::default(),
            &mut retries,
            Timestamp::now(),
            &|_, _| {},
            SentEarly::default(),
        )
        .await;
        let outcome = &plan.outcomes[0];
        assert_eq!(outcome.reason, Reason::EmergencyLocationNotFound);
        assert!(
            outcome.message.contains("emergencyLocationId"),
            "{}",
            outcome.message
        );
        assert!(
            retries.contains_key(&outcome.key),
            "retried later, as any refusal"
        );
    }

    #[tokio::test]
    async fn a_number_teams_does_not_know_in_the_tenant_is_a_number_reason_not_a_missing_user() {
        let refusing = Refusing(Refusal::NumberNotInTenant(
            "Telephone Number '+14155550100' is not found from tenant 'contoso'".into(),
        ));
        let mut plan = one_assignment();
        let policy = Policy {
            grace_period: Duration::from_secs(0),
            max_unassignments: 10,
            number_type: "operatorConnect",
            ..Policy::default()
        };
        let mut retries = HashMap::new();
        let now = Timestamp::now();
        let summary = execute(
            &refusing,
            &mut plan,
            &policy,
            &mut retries,
            now,
            &|_, _| {},
            SentEarly::default(),
        )
        .await;
        assert_eq!(summary.refused_numbers, ["+14155550100"]);
        let outcome = &plan.outcomes[0];
        assert_eq!(outcome.reason, Reason::NumberNotInTenant);
        assert!(
            outcome.message.contains("spec.assignment.numberType"),
            "{}",
            outcome.message
        );
    }
}
