//! Sending a plan's Teams policy changes: in list requests (Teams' assign and unassign actions
//! take many users at once), after the numbers, each result folded into its user's outcome. A
//! refused or failed request fails each of its users (`PolicyAssignmentFailed`, or
//! `TransientError` for one worth retrying), who are retried later as for numbers.

use std::collections::{HashMap, HashSet};

use k8s_openapi::jiff::Timestamp;

use super::execute::remember_failure;
use super::model::{Cause, Plan, RetryState, UserKey};
use super::policies::{PolicyChange, PolicyKind, PolicyNote, requests};
use super::ports::ChangeSender;
use super::sent::ExecutionSummary;
use super::trail;
use crate::api::{Reason, Severity};

/// Sends `plan.policy_changes` in requests of the writer's size, skipping users whose number
/// change failed in this sync (their policies wait for the retry), and records in `summary` what
/// was changed and what failed. Returns the changes made, by user and kind.
pub async fn execute_policies<W: ChangeSender>(
    writer: &W,
    plan: &mut Plan,
    retries: &mut HashMap<UserKey, RetryState>,
    now: Timestamp,
    summary: &mut ExecutionSummary,
) -> HashSet<(String, PolicyKind)> {
    let mut done = HashSet::new();
    let changes: Vec<(usize, PolicyChange)> = std::mem::take(&mut plan.policy_changes)
        .into_iter()
        .filter(|(index, _)| plan.outcomes[*index].reason.severity() != Severity::Failed)
        .collect();
    if changes.is_empty() {
        return done;
    }
    let users: HashMap<(String, PolicyKind), usize> = changes
        .iter()
        .map(|(index, change)| (change.owned_target(), *index))
        .collect();
    let only: Vec<PolicyChange> = changes.into_iter().map(|(_, change)| change).collect();
    for request in requests(&only, writer.policy_changes_per_request()) {
        let reason_of = |change: &PolicyChange, desired: bool| match (change, desired) {
            (PolicyChange::Assign { .. }, _) => "policy_differs",
            (PolicyChange::Unassign { .. }, true) => "policy_no_longer_wanted",
            (PolicyChange::Unassign { .. }, false) => Cause::DepartedAfterGrace.as_str(),
        };
        for change in &request {
            let desired = plan.outcomes[users[&change.owned_target()]].desired;
            trail::policy_sent(change, reason_of(change, desired));
        }
        let result = writer.submit_policy_changes(&request).await;
        for change in request {
            let index = users[&change.owned_target()];
            let outcome = &mut plan.outcomes[index];
            trail::policy_confirmed(&change, reason_of(&change, outcome.desired), &result);
            match &result {
                Ok(()) => {
                    retries.remove(&outcome.key);
                    done.insert(change.owned_target());
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
    done
}

/// Folds the plan's policy notes into its outcomes once the changes are made: an assignment
/// `done` reads "assigned", one in a dry run "would assign" (and makes the user's reason
/// `DryRun`), and a problem becomes the user's reason unless their number already failed.
pub fn settle_notes(plan: &mut Plan, done: &HashSet<(String, PolicyKind)>, dry_run: bool) {
    for (index, note) in std::mem::take(&mut plan.policy_notes) {
        let Some(outcome) = plan.outcomes.get_mut(index) else {
            continue;
        };
        let failed = outcome.reason.severity() == Severity::Failed;
        match note {
            PolicyNote::Assigning { user_id, kind, name } => {
                let field = kind.field();
                if dry_run && !failed {
                    if outcome.reason != Reason::DryRun {
                        outcome.reason = Reason::DryRun;
                        outcome.message =
                            format!("{}; spec.mode is DryRun, so nothing was changed", outcome.message);
                    }
                    outcome.message = format!("{}; would assign {field} '{name}'", outcome.message);
                } else if done.contains(&(user_id, kind)) {
                    outcome.message = format!("{}; assigned {field} '{name}'", outcome.message);
                }
            }
            PolicyNote::Info(text) => outcome.message = format!("{}; {text}", outcome.message),
            PolicyNote::Problem { reason, text } => {
                if !failed {
                    outcome.reason = reason;
                }
                outcome.message = format!("{}; {text}", outcome.message);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::sync::change::{Submission, WriteError};
    use crate::sync::model::UserOutcome;
    use crate::sync::policies::PolicyKind;
    use crate::sync::testing::DecidedWhenSent;

    /// Records each request of policy changes and answers all of them with `answer`.
    struct Recording {
        answer: Result<(), WriteError>,
        requests: Mutex<Vec<Vec<PolicyChange>>>,
    }

    impl Recording {
        fn answering(answer: Result<(), WriteError>) -> Self {
            Self {
                answer,
                requests: Mutex::new(Vec::new()),
            }
        }
    }

    impl ChangeSender for Recording {
        async fn submit_assign(
            &self,
            _: &str,
            _: &str,
            _: &str,
            _: Option<&str>,
        ) -> Result<Submission, WriteError> {
            unreachable!("no number change in these tests")
        }

        async fn submit_unassign(&self, _: &str, _: &str) -> Result<Submission, WriteError> {
            unreachable!("no number change in these tests")
        }

        async fn submit_policy_changes(&self, changes: &[PolicyChange]) -> Result<(), WriteError> {
            self.requests.lock().unwrap().push(changes.to_vec());
            self.answer.clone()
        }

        fn policy_changes_per_request(&self) -> usize {
            2
        }

        fn requests_per_second(&self) -> Option<u32> {
            None
        }
    }

    impl DecidedWhenSent for Recording {}

    fn user(id: &str, reason: Reason) -> UserOutcome {
        UserOutcome {
            key: UserKey::Dialpad(id.into()),
            email: Some(format!("{id}@c.com")),
            phone_number: Some("+14155550100".into()),
            dialpad_user_id: Some(id.into()),
            teams_user_id: Some(format!("t{id}")),
            reason,
            message: "+14155550100 is assigned".into(),
            desired: true,
        }
    }

    fn plan_for(reasons: &[Reason]) -> Plan {
        let outcomes: Vec<UserOutcome> = reasons
            .iter()
            .enumerate()
            .map(|(i, reason)| user(&i.to_string(), *reason))
            .collect();
        let policy_changes = (0..reasons.len())
            .map(|i| {
                (
                    i,
                    PolicyChange::Assign {
                        user_id: format!("t{i}"),
                        kind: PolicyKind::VoiceRouting,
                        policy_id: "p-berlin".into(),
                    },
                )
            })
            .collect();
        Plan {
            outcomes,
            policy_changes,
            ..Plan::default()
        }
    }

    async fn run(
        writer: &Recording,
        plan: &mut Plan,
        retries: &mut HashMap<UserKey, RetryState>,
    ) -> ExecutionSummary {
        let mut summary = ExecutionSummary::default();
        execute_policies(writer, plan, retries, Timestamp::now(), &mut summary).await;
        summary
    }

    #[tokio::test]
    async fn changes_go_in_requests_of_the_senders_size() {
        let writer = Recording::answering(Ok(()));
        let mut plan = plan_for(&[Reason::InSync, Reason::InSync, Reason::AssignmentPending]);
        let summary = run(&writer, &mut plan, &mut HashMap::new()).await;
        let sizes: Vec<usize> = writer.requests.lock().unwrap().iter().map(Vec::len).collect();
        assert_eq!(sizes, [2, 1]);
        assert_eq!(summary.policies_assigned, 3);
    }

    #[tokio::test]
    async fn a_refused_request_fails_each_of_its_users_who_are_retried_later() {
        let refused = WriteError {
            message: "403 Forbidden: missing TeamsPolicyUserAssign.ReadWrite.All".into(),
            transient: false,
        };
        let writer = Recording::answering(Err(refused));
        let mut plan = plan_for(&[Reason::InSync, Reason::InSync]);
        let mut retries = HashMap::new();
        let summary = run(&writer, &mut plan, &mut retries).await;
        assert_eq!(summary.failed, 2);
        assert_eq!(summary.refused_policies.len(), 2);
        for outcome in &plan.outcomes {
            assert_eq!(outcome.reason, Reason::PolicyAssignmentFailed);
            assert!(outcome.message.contains("403 Forbidden"), "{}", outcome.message);
        }
        assert_eq!(retries.len(), 2);
    }

    #[tokio::test]
    async fn a_transient_failure_keeps_the_policy_recorded_and_is_a_transient_error() {
        let writer = Recording::answering(Err(WriteError {
            message: "503".into(),
            transient: true,
        }));
        let mut plan = plan_for(&[Reason::InSync]);
        let summary = run(&writer, &mut plan, &mut HashMap::new()).await;
        assert!(summary.refused_policies.is_empty());
        assert_eq!(plan.outcomes[0].reason, Reason::TransientError);
    }

    #[test]
    fn notes_say_assigned_only_for_changes_made_and_problems_never_hide_a_failed_number() {
        let mut plan = plan_for(&[Reason::InSync, Reason::InSync, Reason::NumberConflict]);
        plan.policy_notes = vec![
            (
                0,
                PolicyNote::Assigning {
                    user_id: "t0".into(),
                    kind: PolicyKind::VoiceRouting,
                    name: "Berlin-Routes".into(),
                },
            ),
            (
                1,
                PolicyNote::Assigning {
                    user_id: "t1".into(),
                    kind: PolicyKind::VoiceRouting,
                    name: "Berlin-Routes".into(),
                },
            ),
            (
                2,
                PolicyNote::Problem {
                    reason: Reason::PolicyNotFound,
                    text: "the tenant has no dialPlan named 'DE'".into(),
                },
            ),
        ];
        let done = HashSet::from([("t0".to_owned(), PolicyKind::VoiceRouting)]);
        settle_notes(&mut plan, &done, false);
        assert!(
            plan.outcomes[0]
                .message
                .ends_with("; assigned voiceRoutingPolicy 'Berlin-Routes'")
        );
        assert_eq!(
            plan.outcomes[1].message, "+14155550100 is assigned",
            "not made: not said"
        );
        assert_eq!(plan.outcomes[2].reason, Reason::NumberConflict);
        assert!(
            plan.outcomes[2]
                .message
                .ends_with("; the tenant has no dialPlan named 'DE'")
        );
        assert!(plan.policy_notes.is_empty());
    }

    #[tokio::test]
    async fn a_user_whose_number_change_failed_gets_no_policy_change() {
        let writer = Recording::answering(Ok(()));
        let mut plan = plan_for(&[Reason::NumberConflict, Reason::InSync]);
        let summary = run(&writer, &mut plan, &mut HashMap::new()).await;
        assert_eq!(summary.policies_assigned, 1);
        let sent = writer.requests.lock().unwrap().concat();
        assert_eq!(sent.len(), 1);
        assert!(matches!(&sent[0], PolicyChange::Assign { user_id, .. } if user_id == "t1"));
    }
}
